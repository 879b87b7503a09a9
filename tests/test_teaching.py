"""The teaching modules: drawings (gradelib.draw), the explorer widget (gradelib.explore), training (gradelib.train)."""
import base64
import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gradelib  # noqa: E402
from gradelib.draw import draw_network, tex  # noqa: E402
from gradelib.exercises import NETWORKS  # noqa: E402
from gradelib.explore import explorer  # noqa: E402
from gradelib.train import (initial_params, mean_loss, plot_decision_regions, plot_losses,  # noqa: E402
                            regression_data, three_class_data, train)

SOFTMAX_PARAMS = dict(W13=0.6, W23=-0.3, W14=-0.4, W24=-0.7, b3=0.1, b4=0.1, W35=0.4, W45=-0.5,
                      W36=-0.3, W46=0.8, W37=0.2, W47=0.1, b5=0.0, b6=0.1, b7=-0.1)


def texts(fig, prefix):
    """gid -> text of every Text artist in fig whose gid starts with prefix."""
    return {t.get_gid(): t.get_text() for t in fig.findobj(matplotlib.text.Text)
            if t.get_gid() and t.get_gid().startswith(prefix)}


def numerical_update(network):
    """A correct update built from gradelib's oracle: p ← p − η·dLoss/dp."""
    def update(x, params, target, eta):
        g = gradelib.numerical_gradient(network, x, params, target)
        return {k: params[k] - eta * g[k] for k in params}
    update.__name__ = f"{network}_update"
    return update


def single_neuron_gradients(x, params, target):
    """The notes' result: dLoss/dw_i = −Err·ReLU'(z)·x_i, dLoss/db = −Err·ReLU'(z)."""
    z = params["w1"] * x[0] + params["w2"] * x[1] + params["b"]
    delta = (target - max(z, 0.0)) * (1.0 if z > 0 else 0.0)
    return {"w1": -delta * x[0], "w2": -delta * x[1], "b": -delta}


# ---------------------------------------------------------------- draw

@pytest.mark.parametrize("name", list(NETWORKS))
def test_drawing_names_every_node_and_edge(name):
    net = NETWORKS[name]
    open_before = plt.get_fignums()
    fig = draw_network(name)
    edges = texts(fig, "edge:")
    assert edges == {f"edge:{p}": tex(p) for p in net.edges}
    outputs = [f"Y{k}" for k in net.classes]
    assert set(texts(fig, "node:")) == {f"node:{n}" for n in (*net.inputs, *net.relus, *outputs)}
    assert list(texts(fig, "loss").values()) == ["Loss"]
    assert plt.get_fignums() == open_before, "the drawing must be closed in pyplot, so a cell shows it once"


def test_drawing_with_values_shows_the_forward_pass():
    x, target = (0.5, -0.4), 6
    fig = draw_network("softmax_223", x, SOFTMAX_PARAMS, target, title="forward")
    state = gradelib.softmax_223(x, SOFTMAX_PARAMS, target)
    edges = texts(fig, "edge:")
    assert edges["edge:W35"] == "$W_{35}$ = 0.40"
    assert edges["edge:b7"] == "$b_{7}$ = -0.10"
    nodes = texts(fig, "node:")
    assert nodes["node:Y3"] == f"$z_{{3}}$ = {state['z3']:.3f}\n$Y_{{3}}$ = {state['Y3']:.3f}"
    assert nodes["node:Y6"] == f"$Y_{{6}}$ = {state['Y6']:.3f}\n$P_{{6}}$ = {state['P6']:.3f}"
    assert nodes[f"node:{NETWORKS['softmax_223'].inputs[0]}"].endswith("= 0.500")
    assert texts(fig, "loss")["loss"] == f"Loss = {state['Loss']:.3f}"
    assert texts(fig, "target")["target"] == "target = node 6"
    assert "(target)" in texts(fig, "caption:")["caption:Y6"]


def test_drawing_is_deterministic_and_refuses_bad_input():
    a = draw_network("relu_chain", (1.0,), dict(w11=0.5, b1=0.1, w12=0.9, b2=0.1), 1.0)
    b = draw_network("relu_chain", (1.0,), dict(w11=0.5, b1=0.1, w12=0.9, b2=0.1), 1.0)
    where = lambda fig: [(t.get_gid(), t.get_text(), t.get_position()) for t in fig.findobj(matplotlib.text.Text)]
    assert where(a) == where(b)
    with pytest.raises(ValueError, match="knows the networks"):
        draw_network("perceptron")
    with pytest.raises(ValueError, match="missing"):
        draw_network("relu_chain", (1.0,), dict(w11=0.5), 1.0)
    with pytest.raises(ValueError, match="target"):
        draw_network("softmax_223", (0.5, -0.4), SOFTMAX_PARAMS, 4)


def test_drawing_into_a_given_axes():
    fig, ax = plt.subplots()
    try:
        assert draw_network("single_neuron", ax=ax) is fig
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- explore

def test_explorer_updates_the_loss_when_a_slider_moves(capsys):
    ex = explorer("single_neuron")
    x, params, target, eta = ex.explorer.point()
    assert ex.loss_html.value == f"Loss = {float(gradelib.single_neuron(x, params, target)['Loss']):.6f}"
    before = ex.loss_html.value
    ex.sliders["w1"].value = -1.2
    params["w1"] = -1.2
    assert ex.loss_html.value != before
    assert ex.loss_html.value == f"Loss = {float(gradelib.single_neuron(x, params, target)['Loss']):.6f}"
    assert "gradelib-loss" in ex.loss_html._dom_classes
    picture = re.fullmatch(r'<img alt="([^"]+)" style="max-width:100%" src="data:image/png;base64,(\S+)">',
                           ex.image.value)   # the drawing, with its words
    assert picture and base64.b64decode(picture.group(2))[:4] == b"\x89PNG" and "Loss = " in picture.group(1)
    assert set(ex.sliders) == {"x1", "x2", "target", "eta", "w1", "w2", "b"}
    assert all(s.continuous_update is False for s in ex.sliders.values())
    assert repr(ex) == "explorer for single_neuron (it shows as a widget in JupyterLab)"
    assert "Numerical gradients" in ex.gradient_html.value
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_explorer_survives_a_student_function_that_raises_or_returns_none(capsys):
    def broken_gradients(x, params, target):
        raise ZeroDivisionError("division by zero")

    def forgetful_update(x, params, target, eta):
        params["w1"] = 0.0  # no return

    ex = explorer("single_neuron", broken_gradients, forgetful_update)
    assert "broken_gradients raised ZeroDivisionError" in ex.gradient_html.value
    assert "numerical gradients instead" in ex.gradient_html.value
    assert "forgetful_update returned None" in ex.step_html.value
    ex.sliders["b"].value = 0.5
    assert "Loss = " in ex.loss_html.value and ex.error_html.value == ""
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_explorer_compares_the_students_gradients_and_update():
    ex = explorer("single_neuron", single_neuron_gradients)
    assert "agree with the numerical ones" in ex.gradient_html.value

    def sign_slip(x, params, target):
        return {k: -v for k, v in single_neuron_gradients(x, params, target).items()}

    def climbing_update(x, params, target, eta):  # the "+η·dLoss/dp" slip: it climbs the loss
        g = single_neuron_gradients(x, params, target)
        return {k: params[k] + eta * g[k] for k in params}

    ex = explorer("single_neuron", sign_slip, climbing_update, eta=0.05)
    assert "disagree with the numerical ones for w1, w2, b" in ex.gradient_html.value
    assert "The loss went up" in ex.step_html.value
    junk = explorer("single_neuron", lambda x, p, t: {"w1": float("nan"), "w2": 0.0, "b": 0.0})
    assert "not a finite number" in junk.gradient_html.value


def test_explorer_of_the_softmax_net_has_a_target_dropdown():
    ex = explorer("softmax_223", params=SOFTMAX_PARAMS, x=(0.5, -0.4), target=7)
    assert list(ex.sliders["target"].options) == [("node 5", 5), ("node 6", 6), ("node 7", 7)]
    ex.sliders["target"].value = 5
    loss = float(gradelib.softmax_223((0.5, -0.4), SOFTMAX_PARAMS, 5)["Loss"])
    assert f"Loss = {loss:.6f}" in ex.loss_html.value
    with pytest.raises(ValueError, match="knows the networks"):
        explorer("two_layer")
    with pytest.raises(ValueError, match="missing W13"):
        explorer("softmax_223", params={"W35": 0.4})


# ---------------------------------------------------------------- train

@pytest.mark.parametrize("name", ["single_neuron", "relu_chain"])
def test_training_with_a_correct_update_lowers_the_loss(name, capsys):
    data = regression_data(name, n=20)
    start = initial_params(name)
    params, losses = train(name, numerical_update(name), start, data, eta=0.1, epochs=8)
    assert len(losses) == 8
    assert losses[-1] < 0.2 * mean_loss(name, start, data)
    assert losses[-1] == pytest.approx(mean_loss(name, params, data))
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_training_the_softmax_net_separates_the_three_blobs():
    from gradelib.train import predict
    data = three_class_data(n_per_class=10)
    assert sorted({t for _, t in data}) == [5, 6, 7] and len(data) == 30
    start = initial_params("softmax_223")
    params, losses = train("softmax_223", numerical_update("softmax_223"), start, data, eta=0.1, epochs=6)
    assert losses[-1] < 0.5 * mean_loss("softmax_223", start, data)
    X = np.array([x for x, _ in data])
    right = np.mean(predict(params, X[:, 0], X[:, 1]) == np.array([t for _, t in data]))
    assert right >= 0.9


def test_initial_params_keep_every_relu_alive():
    for name in NETWORKS:
        net = NETWORKS[name]
        data = three_class_data() if net.classes else regression_data(name)
        params = initial_params(name)
        assert list(params) == list(net.params)
        X = tuple(np.array([x[i] for x, _ in data]) for i in range(len(net.inputs)))
        state = net.forward(X, params, np.array([t for _, t in data]))
        for relu in net.relus.values():
            assert np.mean(state[relu.pre] > 0) >= 0.7


def test_training_stops_politely_when_the_update_is_not_written(capsys):
    def single_neuron_update(x, params, target, eta):
        raise NotImplementedError

    start = initial_params("single_neuron")
    params, losses = train("single_neuron", single_neuron_update, start, regression_data("single_neuron"), 0.1, 5)
    assert params == start and losses == []
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.count("\n") == 1 and "single_neuron_update still raises NotImplementedError" in out.out


@pytest.mark.parametrize("update, words", [
    (lambda x, p, t, eta: None, "returned None"),
    (lambda x, p, t, eta: {"w1": 1.0}, "it has no 'w2' or 'b'"),
    (lambda x, p, t, eta: {k: v * 1e300 for k, v in p.items()}, "blew up"),
    (lambda x, p, t, eta: 1 / 0, "raised ZeroDivisionError"),
], ids=["none", "missing-keys", "overflow", "raises"])
def test_training_stops_with_one_sentence_on_junk(update, words, capsys):
    params, losses = train("single_neuron", update, initial_params("single_neuron"),
                           regression_data("single_neuron"), 0.1, 3)
    out = capsys.readouterr()
    assert out.err == "" and out.out.count("\n") == 1 and words in out.out
    assert all(math.isfinite(v) for v in params.values())


def test_training_stops_an_endless_update(monkeypatch, capsys):
    from gradelib import student
    monkeypatch.setattr(student, "CALL_SECONDS", 0.2)

    def single_neuron_update(x, params, target, eta):
        while True:
            try:
                pass
            except Exception:
                pass
    start = initial_params("single_neuron")
    params, losses = train("single_neuron", single_neuron_update, start, regression_data("single_neuron"), 0.1, 3)
    out = capsys.readouterr().out
    assert params == start and losses == []
    assert out.count("\n") == 1 and "did not return within 0.2 seconds" in out and out.startswith("Training stopped")


def test_what_the_update_prints_stays_in_the_cell(capsys):
    def chatty(x, params, target, eta):
        print("step")
        return numerical_update("single_neuron")(x, params, target, eta)
    train("single_neuron", chatty, initial_params("single_neuron"), regression_data("single_neuron", n=3), 0.1, 1)
    assert capsys.readouterr().out == "step\n" * 3


def test_the_summary_of_training_that_did_not_run_says_so():
    from gradelib.train import summary
    data = regression_data("single_neuron")
    start = initial_params("single_neuron")
    text = summary("single_neuron", start, start, [], data)
    assert text.splitlines()[1] == "trained: none: training did not run to the end of an epoch (see above)."
    assert text.startswith(f"start:   {start}  mean loss {mean_loss('single_neuron', start, data):.4f}")


def test_the_summary_of_training_shows_the_trained_parameters():
    from gradelib.train import summary
    data = regression_data("single_neuron", n=10)
    start = initial_params("single_neuron")
    trained, losses = train("single_neuron", numerical_update("single_neuron"), start, data, 0.1, 2)
    line = summary("single_neuron", start, trained, losses, data).splitlines()[1]
    assert line.startswith("trained: {'w1': ") and line.endswith(f"  mean loss {losses[-1]:.4f}")


def test_data_and_training_are_deterministic():
    assert regression_data("relu_chain") == regression_data("relu_chain")
    assert regression_data("relu_chain", seed=1) != regression_data("relu_chain")
    assert three_class_data() == three_class_data()
    runs = [train("single_neuron", numerical_update("single_neuron"), initial_params("single_neuron"),
                  regression_data("single_neuron", n=10), 0.1, 3) for _ in range(2)]
    assert runs[0] == runs[1]
    other = train("single_neuron", numerical_update("single_neuron"), initial_params("single_neuron"),
                  regression_data("single_neuron", n=10), 0.1, 3, seed=1)
    assert other[1] != runs[0][1]  # the seed decides the order of the examples


def test_loss_plot():
    fig = plot_losses([0.5, 0.25, 0.125])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch" and "loss" in ax.get_ylabel()
    assert list(ax.lines[0].get_ydata()) == [0.5, 0.25, 0.125]


def test_an_empty_loss_plot_says_training_stopped():
    empty = plot_losses([])
    assert "training stopped" in empty.axes[0].texts[0].get_text()


def test_decision_region_plot():
    open_before = plt.get_fignums()
    data = three_class_data(n_per_class=5)
    fig = plot_decision_regions(initial_params("softmax_223"), data)
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["node 5", "node 6", "node 7"]
    assert "of 15 points right" in fig.axes[0].get_title()
    assert plt.get_fignums() == open_before
