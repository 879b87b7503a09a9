"""gradelib.draw.draw_backward: the computational graph after a backward pass, upstream × local on every edge."""
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gradelib  # noqa: E402
from gradelib import points  # noqa: E402
from gradelib.draw import draw_backward, draw_network  # noqa: E402
from gradelib.exercises import NETWORKS  # noqa: E402

NUMBER = r"(-?\d+\.\d+)"


def texts(fig, prefix):
    return {t.get_gid(): t.get_text() for t in fig.findobj(matplotlib.text.Text)
            if t.get_gid() and t.get_gid().startswith(prefix)}


def a_point(name, seed):
    """A test point of gradelib.points (every |z| ≥ 0.1), as Python values."""
    pts = points.choose(NETWORKS[name], seed)
    return pts.call_args(seed % len(pts), False)


@pytest.mark.parametrize("name", list(NETWORKS))
@pytest.mark.parametrize("seed", [0, 4])
def test_every_edge_shows_upstream_times_local_equal_to_the_parameters_gradient(name, seed):
    net = NETWORKS[name]
    x, params, target = a_point(name, seed)
    open_before = plt.get_fignums()
    fig = draw_backward(name, x, params, target)
    assert plt.get_fignums() == open_before
    grads = gradelib.numerical_gradient(name, x, params, target)
    edges = texts(fig, "edge:")
    assert set(edges) == {f"edge:{p}" for p in net.params}
    for p in net.params:
        first = edges[f"edge:{p}"]
        product = float(first.rsplit(" = ", 1)[1])
        assert abs(product - grads[p]) <= 6e-4, (p, first, grads[p])
        factors = [float(v) for v in re.findall(NUMBER, first.split(":", 1)[1].rsplit(" = ", 1)[0])]
        assert abs(np.prod(factors) - product) <= 2e-3, first


def test_a_hidden_node_sums_the_shares_its_parents_send_back():
    net = NETWORKS["softmax_223"]
    x, params, target = a_point("softmax_223", 0)    # the first test point has both hidden nodes on
    fig = draw_backward("softmax_223", x, params, target)
    sent, nodes = texts(fig, "share:"), texts(fig, "node:")
    for hidden in net.hidden_nodes:
        shares = [float(sent[f"share:{p}"].rsplit(" = ", 1)[1]) for p in net.out_edges(hidden)]
        first_line = nodes[f"node:{hidden}"].split("\n")[0]
        terms = [float(v) for v in re.findall(NUMBER, first_line.replace(" - ", " -").split(" = ", 1)[1])]
        assert terms[:-1] == shares and abs(sum(shares) - terms[-1]) <= 2e-3, first_line
        on = gradelib.softmax_223(x, params, target)[net.relus[hidden].pre] > 0
        assert f"× {int(on)} =" in nodes[f"node:{hidden}"].split("\n")[1]


def test_the_target_node_alone_has_the_minus_one():
    x, params, _ = a_point("softmax_223", 2)
    for target in (5, 6, 7):
        nodes = texts(draw_backward("softmax_223", x, params, target), "node:")
        minus = [k for k in (5, 6, 7) if f"P_{{{k}}}$ - 1 =" in nodes[f"node:Y{k}"]]
        assert minus == [target]


def test_the_backward_drawing_is_deterministic_and_refuses_bad_input():
    x, params, target = a_point("relu_chain", 1)
    where = lambda fig: [(t.get_gid(), t.get_text(), t.get_position()) for t in fig.findobj(matplotlib.text.Text)]
    assert where(draw_backward("relu_chain", x, params, target)) == where(draw_backward("relu_chain", x, params, target))
    with pytest.raises(ValueError, match="needs a point"):
        draw_backward("relu_chain", x, None, target)
    with pytest.raises(ValueError, match="knows the networks"):
        draw_backward("perceptron", x, params, target)
    with pytest.raises(ValueError, match="target"):
        draw_backward("softmax_223", (0.5, -0.4), dict.fromkeys(NETWORKS["softmax_223"].params, 0.1), 4)


def test_draw_network_keeps_its_labels():
    fig = draw_network("softmax_223", (0.5, -0.4), dict.fromkeys(NETWORKS["softmax_223"].params, 0.25), 6)
    assert texts(fig, "edge:")["edge:W35"] == "$W_{35}$ = 0.25"


def _outline(text, renderer):
    """The label's box on the page, turned as the label is."""
    patch = text.get_bbox_patch()
    return patch.get_path().transformed(patch.get_transform())


@pytest.mark.parametrize("name", list(NETWORKS))
@pytest.mark.parametrize("seed", [0, 3, 5])
def test_every_label_is_clear_of_the_others_and_of_every_edge_but_its_own(name, seed):
    """The 2-2-3 drawing's labels sat where edges cross, on other edges' lines, and overlapped (issue 21): each
    gradient and share label, rendered, touches no other label, no node, no caption and no line but its own edge's,
    along which it is written."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.lines import Line2D
    from matplotlib.path import Path
    fig = draw_backward(name, *a_point(name, seed))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    shown = [t for t in fig.findobj(matplotlib.text.Text) if t.get_gid() and t.get_text()]
    labels = [t for t in shown if t.get_gid().split(":")[0] in ("edge", "share")]
    assert len([t for t in labels if t.get_gid().startswith("edge:")]) == len(NETWORKS[name].params)
    others = [t for t in shown if t.get_gid().split(":")[0] in ("node", "loss", "target", "caption")]
    lines = [line for line in fig.findobj(Line2D) if line.get_gid()]
    clashes = []
    for i, label in enumerate(labels):
        box, own = _outline(label, renderer), label.get_gid().split(":")[1]
        clashes += [(label.get_gid(), o.get_gid()) for o in labels[i + 1:] + others
                    if box.intersects_path(_outline(o, renderer) if o.get_bbox_patch() else
                                           Path(o.get_window_extent(renderer).corners()[[0, 1, 3, 2]]), filled=True)]
        clashes += [(label.get_gid(), line.get_gid()) for line in lines if line.get_gid() != f"line:{own}"
                    and box.intersects_path(Path(line.get_transform().transform(line.get_xydata())), filled=True)]
    assert not clashes, clashes


def test_the_single_neurons_note_speaks_only_of_what_it_has():
    """Its note explained "to Y" shares and sums over parents, which one neuron does not have."""
    note = texts(draw_backward("single_neuron", *a_point("single_neuron", 0)), "caption:backward")
    text = " ".join(note["caption:backward"].split())
    assert "to Y" not in text and "parents" not in text and "ReLU'(z)" in text
    chain = " ".join(texts(draw_backward("relu_chain", *a_point("relu_chain", 0)), "caption:")[
        "caption:backward"].split())
    assert "parents" not in chain and '"to Y1"' in chain
