"""gradelib.draw.draw_backward: the computational graph after a backward pass, upstream × local on every edge."""
import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.path import Path  # noqa: E402

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


# ---------------------------------------------------------------- readable at notebook width (issue 21, item 10)

SHOWN_WIDTH = 900   # px: JupyterLab's notebook column; nbconvert's and JupyterLab's <img> never scale a picture up
SMALLEST_LABEL = 11   # px


def random_point(name, seed, scale):
    """A random point: parameters and inputs of either sign, drawn at this scale (at 5, numbers like -12.345)."""
    net = NETWORKS[name]
    rng = np.random.default_rng(seed)
    x = tuple(float(v) for v in np.round(rng.normal(0, scale, len(net.inputs)), 2))
    params = {p: float(v) for p, v in zip(net.params, np.round(rng.normal(0, scale, len(net.params)), 2))}
    target = int(rng.choice(net.classes)) if net.classes else float(np.round(rng.normal(0, scale), 2))
    return x, params, target


POINTS = [(name, "test point", seed) for name in NETWORKS for seed in (0, 3, 5)] + [
    (name, "random", (seed, scale)) for name in NETWORKS for seed, scale in ((1, 1.0), (2, 5.0), (6, 20.0))]


def drawing(name, kind, seed):
    return draw_backward(name, *(a_point(name, seed) if kind == "test point" else random_point(name, *seed)))


class Rendered:
    """A backward drawing rendered as a notebook shows it: its PNG's width, its labels and lines on the page."""

    def __init__(self, fig):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        png = io.BytesIO()
        fig.savefig(png, format="png", bbox_inches="tight")   # as IPython's inline backend makes it
        self.png_width = int.from_bytes(png.getvalue()[16:20], "big")
        canvas = FigureCanvasAgg(fig)   # then drawn in place, not cropped: the boxes and lines on one page
        canvas.draw()
        self.fig, self.renderer = fig, canvas.get_renderer()
        shown = [t for t in fig.findobj(matplotlib.text.Text) if t.get_gid() and t.get_text()]
        self.labels = [t for t in shown if t.get_gid().split(":")[0] in ("edge", "share")]
        self.others = [t for t in shown if t.get_gid().split(":")[0] in ("node", "value", "loss", "target", "caption")]
        self.lines = [line for line in fig.findobj(Line2D) if line.get_gid()]

    def box(self, text):
        """The text's box on the page, turned as the text is."""
        patch = text.get_bbox_patch()
        if patch is None:
            return Path(text.get_window_extent(self.renderer).corners()[[0, 1, 3, 2]])
        return patch.get_path().transformed(patch.get_transform())

    def path(self, line):
        return Path(line.get_transform().transform(line.get_xydata()))

    def px(self, text):
        """The text's size in px when the figure is shown at most SHOWN_WIDTH px wide."""
        return text.get_fontsize() / 72 * self.fig.dpi * min(1.0, SHOWN_WIDTH / self.png_width)


def own(label):
    return label.get_gid().split(":")[1]


def distance(point, segment):
    (a, b), p = np.asarray(segment[[0, -1]], float), np.asarray(point, float)
    t = np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0, 1)
    return float(np.linalg.norm(a + t * (b - a) - p))


@pytest.fixture(scope="module", params=POINTS, ids=lambda p: f"{p[0]}-{p[1]}-{p[2]}")
def rendered(request):
    return Rendered(drawing(*request.param)), request.param[0]


def test_every_text_is_at_least_11_px_at_notebook_width(rendered):
    """The 2-2-3 drawing was a 1520 px PNG with 8-point labels: 6.5 px at 900 px wide."""
    r, _ = rendered
    small = [(t.get_gid(), round(r.px(t), 1)) for t in r.labels + r.others if r.px(t) < SMALLEST_LABEL]
    assert r.labels and not small, (r.png_width, small)


def test_every_edge_has_one_gradient_label_and_each_edge_out_of_a_hidden_node_its_share(rendered):
    r, name = rendered
    net = NETWORKS[name]
    gids = [t.get_gid() for t in r.labels]
    assert sorted(gids) == sorted([f"edge:{p}" for p in net.params] + [f"share:{p}" for p in net.params
                                                                      if net.edges[p][0] in net.hidden_nodes])
    assert sorted(line.get_gid() for line in r.lines if line.get_gid()[5:] in net.params) == sorted(
        f"line:{p}" for p in net.params)


def test_no_two_labels_overlap(rendered):
    r, _ = rendered
    boxes = [(t.get_gid(), r.box(t)) for t in r.labels]
    overlaps = [(a, b) for i, (a, box) in enumerate(boxes) for b, other in boxes[i + 1:]
                if box.intersects_path(other, filled=True)]
    assert not overlaps, overlaps


def test_no_label_touches_a_node_a_caption_or_a_line_but_its_own_edges(rendered):
    """The 2-2-3 labels sat where edges cross, on other edges' lines."""
    r, _ = rendered
    clashes = [(t.get_gid(), o.get_gid()) for t in r.labels for o in r.others
               if r.box(t).intersects_path(r.box(o), filled=True)]
    clashes += [(t.get_gid(), line.get_gid()) for t in r.labels for line in r.lines
                if line.get_gid() != f"line:{own(t)}" and r.box(t).intersects_path(r.path(line), filled=True)]
    assert not clashes, clashes


def test_each_label_lies_along_its_own_edge_and_nearer_to_it_than_to_any_other(rendered):
    """A weight's labels are turned as its line is and sit beside it, away from its ends; a bias's sits at its stub's
    free end: the line nearest each label is its own edge's."""
    r, name = rendered
    lines = {line.get_gid(): r.path(line).vertices for line in r.lines}
    for t in r.labels:
        start, end = lines[f"line:{own(t)}"][[0, -1]]
        centre = r.box(t).get_extents().get_points().mean(axis=0)
        nearest = min(lines, key=lambda gid: distance(centre, lines[gid]))
        assert nearest == f"line:{own(t)}", (t.get_gid(), nearest)
        if NETWORKS[name].edges[own(t)][0] is None:   # a bias: its stub starts inside its label
            assert r.box(t).contains_point(start), t.get_gid()
            continue
        angle = np.degrees(np.arctan2(end[1] - start[1], end[0] - start[0]))
        assert abs((t.get_rotation() - angle + 90) % 180 - 90) < 0.5, (t.get_gid(), t.get_rotation(), angle)
        along = np.dot(centre - start, end - start) / np.dot(end - start, end - start)
        assert 0.1 < along < 0.9, (t.get_gid(), along)


def test_the_single_neurons_note_speaks_only_of_what_it_has():
    """Its note explained "to Y" shares and sums over parents, which one neuron does not have."""
    note = texts(draw_backward("single_neuron", *a_point("single_neuron", 0)), "caption:backward")
    text = " ".join(note["caption:backward"].split())
    assert "to Y" not in text and "parents" not in text and "ReLU'(z)" in text
    chain = " ".join(texts(draw_backward("relu_chain", *a_point("relu_chain", 0)), "caption:")[
        "caption:backward"].split())
    assert "parents" not in chain and '"to Y1"' in chain
