"""The mini-batch (gradelib.batch and train.train_minibatch): the gradient of the mean loss, its slips, training."""
import numpy as np
import pytest

import gradelib
from gradelib import batch
from gradelib.train import initial_params, mean_loss, plot_loss_runs, regression_data, train, train_minibatch

RNG = np.random.default_rng(11)


def example_gradient(x, params, target):
    z = params["w1"] * x[0] + params["w2"] * x[1] + params["b"]
    delta = (target - max(z, 0.0)) * (1.0 if z > 0 else 0.0)
    return {"w1": -delta * x[0], "w2": -delta * x[1], "b": -delta}


def mean_gradient(X, params, targets):
    grads = [example_gradient(x, params, t) for x, t in zip(X, targets)]
    return {k: sum(g[k] for g in grads) / len(grads) for k in params}


def test_the_gradient_of_the_mean_loss_is_the_mean_of_the_gradients():
    """The oracle differentiates the mean loss itself; the sentence of the notebook is tested, not assumed."""
    for b in batch.batches(int(RNG.integers(10 ** 6))):
        G, g = batch.mean_loss_gradients(b), batch.example_gradients(b)
        for k in G:
            assert abs(G[k] - g[k].mean()) < 1e-8


def test_the_test_batches_mix_on_and_off_examples_away_from_the_kink():
    for b in batch.batches(int(RNG.integers(10 ** 6))):
        X, params, T = b.arrays()
        z = gradelib.single_neuron(X, params, T)["z"]
        assert np.all(np.abs(z) >= 0.1)
        assert b.describe().startswith(f"a batch of {len(b.X)} example")
    shapes = [(int(b.on().sum()), int((~b.on()).sum())) for b in batch.batches(0)]
    assert shapes == batch.SHAPES


def test_the_mean_of_the_gradients_passes():
    for seed in (0, int(RNG.integers(10 ** 6))):
        result = gradelib.check("single_neuron_batch", mean_gradient, seed=seed)
        assert result.passed, result


def _on_count(X, params):
    return sum(1 for x in X if params["w1"] * x[0] + params["w2"] * x[1] + params["b"] > 0)


@pytest.mark.parametrize("fn, mistake", [
    (lambda X, p, T: {k: v * len(X) for k, v in mean_gradient(X, p, T).items()}, "batch_sum"),
    (lambda X, p, T: {k: v * len(X) / max(1, _on_count(X, p)) for k, v in mean_gradient(X, p, T).items()},
     "batch_mean_over_on"),
    (lambda X, p, T: example_gradient(X[-1], p, T[-1]), "batch_last_example"),
    (lambda X, p, T: example_gradient(X[0], p, T[0]), "batch_first_example"),
    (lambda X, p, T: example_gradient(tuple(np.mean(X, axis=0)), p, float(np.mean(T))), "batch_at_mean_example"),
    (lambda X, p, T: {k: -v for k, v in mean_gradient(X, p, T).items()}, "batch_sign"),
])
def test_each_slip_of_the_batch_gradient_is_named(fn, mistake):
    for seed in (0, int(RNG.integers(10 ** 6))):
        assert gradelib.check("single_neuron_batch", fn, seed=seed).mistakes == [mistake]


def test_a_wrong_parameter_is_named_and_shown_only_when_revealed():
    fn = lambda X, p, T: dict(mean_gradient(X, p, T), b=0.25)  # noqa: E731
    shown = gradelib.check("single_neuron_batch", fn)
    hidden = gradelib.check("single_neuron_batch", fn, reveal=False)
    assert shown.mistakes == hidden.mistakes == ["wrong_value"] and "dLoss/db" in shown.messages[0]
    assert "yours is 0.25" in shown.messages[0] and "yours is" not in hidden.messages[0]


def test_borrowing_the_oracle_and_junk_get_sentences():
    borrow = lambda X, p, T: gradelib.numerical_gradient("single_neuron", X[0], p, T[0])  # noqa: E731
    assert gradelib.check("single_neuron_batch", borrow).mistakes == ["oracle_borrowed"]
    assert gradelib.check("single_neuron_batch", lambda X, p, T: None).mistakes == ["none"]
    assert gradelib.check("single_neuron_batch", lambda X, p, T: {"w1": 0.0}).mistakes == ["missing_key"]


def test_minibatch_training_lowers_the_loss_and_one_example_batches_are_sgd(capsys):
    data = regression_data("single_neuron", n=int(RNG.integers(20, 50)), seed=int(RNG.integers(100)))
    start = initial_params("single_neuron")
    trained, losses = train_minibatch("single_neuron", mean_gradient, start, data, eta=0.3, epochs=20, batch_size=8)
    assert len(losses) == 20 and losses[-1] < 0.1 * mean_loss("single_neuron", start, data)

    def update(x, params, target, eta):
        g = example_gradient(x, params, target)
        return {k: params[k] - eta * g[k] for k in params}
    sgd, sgd_losses = train("single_neuron", update, start, data, eta=0.05, epochs=5, seed=3)
    one, one_losses = train_minibatch("single_neuron", mean_gradient, start, data, eta=0.05, epochs=5,
                                      batch_size=1, seed=3)
    assert np.allclose(sgd_losses, one_losses) and all(abs(sgd[k] - one[k]) < 1e-12 for k in sgd)
    assert capsys.readouterr().out == ""


def test_minibatch_training_stops_with_one_sentence(capsys):
    data = regression_data("single_neuron")
    start = initial_params("single_neuron")

    def not_written(X, params, targets):
        raise NotImplementedError()
    _, losses = train_minibatch("single_neuron", not_written, start, data, eta=0.1, epochs=3, batch_size=8)
    assert losses == [] and "NotImplementedError" in capsys.readouterr().out
    _, losses = train_minibatch("single_neuron", lambda X, p, T: {k: 1e300 for k in p}, start, data, eta=1e10,
                                epochs=3, batch_size=8)
    out = capsys.readouterr().out
    assert losses == [] and out.count("\n") == 1 and "smaller η" in out


def test_the_overlaid_plot_has_one_line_per_run():
    fig = plot_loss_runs({"one example at a time": [0.3, 0.1, 0.05], "mini-batches": [0.4, 0.2, 0.1],
                          "stopped": []})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[:2] == ["one example at a time", "mini-batches"] and "stopped before" in labels[2]


def test_the_overlaid_plot_on_a_log_axis_survives_runs_that_did_not_train():
    import matplotlib.pyplot as plt
    fig = plot_loss_runs({"a": [], "b": []}, log=True)
    assert fig.axes[0].get_yscale() == "linear" and "No loss to plot" in fig.axes[0].texts[0].get_text()
    fig.canvas.draw()
    fig = plot_loss_runs({"a": [0.5, 0.0, 1e-3], "b": []}, log=True)
    assert fig.axes[0].get_yscale() == "log"
    fig.canvas.draw()
    plt.close("all")
