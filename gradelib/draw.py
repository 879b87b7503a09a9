"""Drawings of the three networks of the notes, with the notes' names and, after a forward pass, the values.

    fig = draw_network("softmax_223")                          # names only: x1, W13, b3, Y3, ...
    fig = draw_network("softmax_223", x, params, target)       # W35 = 0.40 on the edges, Y5 and P5 in the nodes
    fig = draw_backward("softmax_223", x, params, target)      # after a backward pass: upstream × local on each edge

The figure is made through pyplot (so that JupyterLab knows how to show a
Figure) and closed at once, so a cell that ends with it shows it exactly once.
Every text carries a gid ("node:Y3", "edge:W35", "loss", "target") so tests
can find it.  The values come from gradelib's own forward pass, and the
backward drawing's derivatives from numerical differentiation with respect to
each node (gradelib.pieces), never from a learner's function.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import transforms
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.path import Path

from . import pieces
from .alt import DescribedFigure, plain, set_alt
from .exercises import Network, find_network
from .text import fixed

NODE_STYLE = dict(boxstyle="round,pad=0.45", facecolor="#eef3fb", edgecolor="#3b5b92", linewidth=1.4)
INPUT_STYLE = dict(NODE_STYLE, facecolor="#f4f4f4", edgecolor="#555555")
LOSS_STYLE = dict(NODE_STYLE, facecolor="#fdf0e6", edgecolor="#b35a00")
EDGE_LABEL_STYLE = dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.9)

# Where each node sits, what is written above it (below it for the lower inputs and the
# captions_below nodes, so that a caption never sits on an edge), and the figure size; by hand, so the
# drawing never moves between runs.  For each edge, how far along it (from its source)
# its label sits: near the source, so that crossing edges keep their labels apart.
LAYOUTS: dict[str, dict[str, Any]] = {
    "single_neuron": dict(
        size=(8.0, 3.6),
        xlim=(-0.6, 4.0),
        ylim=(-1.7, 1.4),
        inputs=[(0.0, 0.8), (0.0, -0.8)],
        nodes={"Y": (1.7, 0.0)},
        loss=(3.4, 0.0),
        target=(3.4, -1.2),
        captions={"Y": "ReLU neuron"},
        input_captions=["input", "input"],
        captions_below=(),
        label_at={"w1": 0.5, "w2": 0.5},
        bias_from={"b": (0.0, -1.0)},
        loss_caption=r"$\frac{1}{2}(O_b - Y)^2$",
    ),
    "relu_chain": dict(
        size=(9.0, 3.0),
        xlim=(-0.6, 5.3),
        ylim=(-1.6, 0.9),
        inputs=[(0.0, 0.0)],
        nodes={"Y1": (1.5, 0.0), "Y2": (3.0, 0.0)},
        loss=(4.6, 0.0),
        target=(4.6, -1.1),
        captions={"Y1": "neuron 1 (ReLU)", "Y2": "neuron 2 (ReLU)"},
        input_captions=["input"],
        captions_below=(),
        label_at={"w11": 0.5, "w12": 0.5},
        bias_from={"b1": (0.0, -1.0), "b2": (0.0, -1.0)},
        loss_caption=r"$\frac{1}{2}(O_{b2} - Y_2)^2$",
    ),
    "softmax_223": dict(
        size=(11.0, 5.8),
        xlim=(-0.7, 6.4),
        ylim=(-2.9, 2.9),
        inputs=[(0.0, 1.2), (0.0, -1.2)],
        nodes={"Y3": (1.9, 1.2), "Y4": (1.9, -1.2), "Y5": (3.9, 2.0), "Y6": (3.9, 0.0), "Y7": (3.9, -2.0)},
        loss=(5.7, 0.0),
        target=(5.7, -1.3),
        input_captions=["node 1", "node 2"],
        captions={"Y3": "node 3 (ReLU)", "Y4": "node 4 (ReLU)", "Y5": "node 5", "Y6": "node 6", "Y7": "node 7"},
        captions_below=("Y4", "Y7"),  # the lower nodes, whose bias enters from below
        # the crossing edges X1→Y4, X2→Y3 (and Y3→Y7, Y4→Y5) cross at their middles: label them before
        label_at={
            "W13": 0.5,
            "W24": 0.5,
            "W14": 0.3,
            "W23": 0.3,
            "W35": 0.45,
            "W36": 0.4,
            "W37": 0.3,
            "W45": 0.3,
            "W46": 0.4,
            "W47": 0.45,
        },
        bias_from={"b3": (0.0, 0.8), "b4": (0.0, -0.8), "b5": (0.0, 0.7), "b6": (0.35, -0.7), "b7": (0.0, -0.7)},
        loss_caption=r"$-\log P_{\mathrm{target}}$",
    ),
}


def new_figure(figsize: tuple[float, float]) -> Any:
    """A Figure made through pyplot and closed at once.

    pyplot loads JupyterLab's inline backend, which teaches IPython to show a
    Figure; closing it stops that backend from showing it a second time at the
    end of the cell.  So a cell that ends with the figure shows it exactly once,
    with its text alternative (gradelib.alt.DescribedFigure).
    """
    fig = plt.figure(figsize=figsize, FigureClass=DescribedFigure)
    plt.close(fig)
    return fig


def tex(name: str) -> str:
    """'W35' -> '$W_{35}$', 'x1' -> '$x_{1}$', 'Y' -> '$Y$', 'O_b2' -> '$O_{b2}$': the notes' symbol in mathtext."""
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
    if m:
        return f"${m.group(1)}_{{{m.group(2)}}}$"
    head, _, sub = name.partition("_")
    return f"${head}_{{{sub}}}$" if len(sub) > 1 else f"${name}$"


def _node_text(net, node, state, x):
    """What is written inside a node: its name, or its forward values with 3 decimals."""
    if node in net.inputs:
        i = net.inputs.index(node)
        return tex(node) if x is None else f"{tex(node)} = {fixed(x[i], 3)}"
    if node in net.relus:
        zkey = net.relus[node].pre
        if state is None:
            return f"{tex(node)} = ReLU({tex(zkey)})"
        return f"{tex(zkey)} = {fixed(state[zkey], 3)}\n{tex(node)} = {fixed(state[node], 3)}"
    pkey = net.probability_keys[net.output_nodes.index(node)]  # an output node k of the softmax net: Y_k, P_k
    if state is None:
        return f"{tex(node)} → {tex(pkey)}"
    return f"{tex(node)} = {fixed(state[node], 3)}\n{tex(pkey)} = {fixed(state[pkey], 3)}"


def _target_text(net, target):
    if net.classes:
        return "target node" if target is None else f"target = node {int(target)}"
    symbol = tex(net.target_symbol)
    return symbol if target is None else f"{symbol} = {fixed(target, 3)}"


def _validate(net, x, params, target):
    net.validate(params=params)
    given = [v is not None for v in (x, params, target)]
    if any(given[i] and not given[1] for i in (0, 2)):
        raise ValueError("to show the forward values, give x, params and target together.")
    net.validate(x=x, target=target)


LINE_STYLE = dict(color="#7a8699", linewidth=1.3, zorder=1)
CAPTION_COLOUR = "#555555"
CAPTION_STYLE = dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none")
TARGET_STYLE = dict(INPUT_STYLE, boxstyle="round,pad=0.3")
CAPTION_OFFSET = 0.42  # how far a caption sits above (or below) its node's centre
VALUES_TALLER = 1.25  # a node showing two lines of values is taller: its caption moves this much further out


class Drawing(NamedTuple):
    """What every part of a drawing needs: the axes, the network, its layout and where each node sits."""

    ax: object
    net: Network
    lay: dict
    pos: dict  # node -> (x, y); the inputs take their names from the network (x1, x2 or the notes' X1, X2)


def _canvas(ax, lay, title, bottom, height):
    """The axes a drawing goes on: the given ones, or a new figure's (this much of it from bottom up), set to the
    layout."""
    if ax is None:
        ax = new_figure(lay["size"]).add_axes((0, bottom, 1, height))
    ax.set_xlim(*lay["xlim"])
    ax.set_ylim(*lay["ylim"])
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=12)
    return ax


def _text(ax, xy, s, gid, size=11, **kw):
    """A centred text over the edges (zorder 3), with the gid the tests look it up by."""
    return ax.text(*xy, s, fontsize=size, gid=gid, **{"ha": "center", "va": "center", "zorder": 3, **kw})


def _forward(net, x, params, target):
    """The forward pass at the point, or None unless x, params and target are all given."""
    if x is None or params is None or target is None:
        return None
    with np.errstate(all="ignore"):  # a wild slider value may overflow; the drawing shows inf, not a warning
        return net.forward(tuple(float(v) for v in x), {k: float(params[k]) for k in net.params}, target)


def _weight_label(params):
    """An edge's label in draw_network: its name, and its value when params are given."""
    return lambda p: tex(p) if params is None else f"{tex(p)} = {fixed(params[p], 2)}"


def _draw_edges(d, params, label=None, size=10):
    """Every weight and bias as a line with its label; first, so that the opaque node boxes lie over them.

    label(p) is the text on parameter p's edge (by default its name and value).
    """
    label = label or _weight_label(params)
    ax, net, lay, pos = d
    for p, (src, dst) in net.edges.items():
        x1, y1 = pos[dst]
        if src is None:  # a bias: a short stub into the node, labelled at its free end
            dx, dy = lay["bias_from"][p]
            x0, y0 = x1 + dx, y1 + dy
            t = 0.0
        else:
            x0, y0 = pos[src]
            t = lay["label_at"][p]
        ax.plot([x0, x1], [y0, y1], **LINE_STYLE)
        _text(
            ax,
            (x0 + t * (x1 - x0), y0 + t * (y1 - y0)),
            label(p),
            f"edge:{p}",
            size=size,
            bbox=EDGE_LABEL_STYLE,
            color="#1f2d4d",
        )
    for out in net.output_nodes:
        ax.plot([pos[out][0], lay["loss"][0]], [pos[out][1], lay["loss"][1]], **LINE_STYLE)
    ax.plot([lay["target"][0]] * 2, [lay["target"][1], lay["loss"][1]], **LINE_STYLE)


def _draw_nodes(d, x, state, target):
    """Every node in its box, with its caption; a classifier's target node is outlined."""
    ax, net, lay, pos = d
    captions = dict(zip(net.inputs, lay["input_captions"]), **lay["captions"])
    target_node = net.output_nodes[net.classes.index(target)] if net.classes and target is not None else None
    for node, xy in pos.items():
        style = dict(INPUT_STYLE if node in net.inputs else NODE_STYLE)
        caption = captions[node]
        if node == target_node:
            style.update(edgecolor="#b35a00", linewidth=2.6)
            caption += " (target)"
        _text(ax, xy, _node_text(net, node, state, x), f"node:{node}", bbox=style)
        below = xy[1] < 0 and (node in net.inputs or node in lay["captions_below"])
        offset = (-CAPTION_OFFSET if below else CAPTION_OFFSET) * (VALUES_TALLER if state is not None else 1.0)
        _text(ax, (xy[0], xy[1] + offset), caption, f"caption:{node}", size=9, color=CAPTION_COLOUR, bbox=CAPTION_STYLE)


def _draw_loss_and_target(d, state, target):
    """The loss box and the target feeding it, each with its caption."""
    ax, net, lay, _ = d
    loss = "Loss" if state is None else f"Loss = {fixed(state['Loss'], 3)}"
    _text(ax, lay["loss"], loss, "loss", bbox=LOSS_STYLE)
    _text(
        ax, (lay["loss"][0], lay["loss"][1] + 0.5), lay["loss_caption"], "caption:loss", size=10, color=CAPTION_COLOUR
    )
    _text(ax, lay["target"], _target_text(net, target), "target", size=10, bbox=TARGET_STYLE)
    if not net.classes:  # "O_b" alone does not say what it is
        _text(ax, (lay["target"][0], lay["target"][1] - 0.35), "target", "caption:target", size=9, color=CAPTION_COLOUR)


def _drawing_alt(d, what):
    """The drawing in words, from the very texts drawn on it (their gids say which part each is): what it is, each
    node with its caption, each edge's label (and the share it sends back), the loss and the target where they are
    drawn, the note under it."""
    ax, net, lay, pos = d
    texts = {t.get_gid(): plain(t.get_text().replace("\n", "; ")) for t in ax.texts if t.get_gid()}
    nodes = [f"{texts[f'caption:{n}']}: {texts.get(f'node:{n}') or texts[f'value:{n}']}" for n in pos]
    shown = lay.get("edges", net.edges)
    edges = [texts[f"edge:{p}"] + (f" ({texts[f'share:{p}']})" if f"share:{p}" in texts else "") for p in shown]
    parts = [
        what,
        ("Nodes, inputs first: " if set(net.inputs) & set(pos) else "Nodes: ") + ". ".join(nodes),
        "Edges: " + ". ".join(edges),
    ]
    if "loss" in texts:
        parts.append(f"{texts['loss']} ({texts['caption:loss']}), with {texts['target']}")
    note = [t.get_text() for t in ax.texts if t.get_gid() == "caption:backward"]
    return ". ".join(parts + [" ".join(n.split()).rstrip(".") for n in note])


def draw_network(
    network: str, x: Any = None, params: Any = None, target: Any = None, *, ax: Any = None, title: str | None = None
) -> Any:
    """Draw network ("single_neuron", "relu_chain" or "softmax_223") with the notes' names.

    With params, each edge shows its weight ("W35 = 0.40") and each bias its value;
    with x, params and target, each node shows its forward values (inputs; z and Y of
    a ReLU node; Y_k and P_k of an output), and the loss box the Loss, to 3 decimals.
    Returns the Figure (ax.figure if ax is given).
    """
    net = find_network(network, "draw_network")
    _validate(net, x, params, target)
    lay = LAYOUTS[net.name]
    state = _forward(net, x, params, target)
    ax = _canvas(ax, lay, title, bottom=0.0, height=0.92 if title else 1)
    d = Drawing(ax, net, lay, dict(zip(net.inputs, lay["inputs"]), **lay["nodes"]))
    _draw_edges(d, params)
    _draw_nodes(d, x, state, target)
    _draw_loss_and_target(d, state, target)
    what = "A drawing" if state is None else "A drawing after the forward pass"
    set_alt(ax, _drawing_alt(d, f"{what} of the network {net.name}"))
    return ax.figure


# ---------------------------------------------------------------- the backward pass

# The backward drawing's labels are long ("dW35: -0.688 × 0.400 = -0.275"), and a notebook shows a figure at most
# about 900 px wide: each drawing is BACKWARD_WIDTH inches wide (900 px at matplotlib's 100 dpi, so it is shown
# unscaled) and written at BACKWARD_LABEL_SIZE points (12.5 px), and a network with two layers is drawn in two panels
# stacked one under the other, one layer each, in the order the backward pass goes.  In each panel the data
# coordinates are inches from its lower left corner.
BACKWARD_WIDTH = 9.0
BACKWARD_LABEL_SIZE = 9
PANEL_GAP = 0.25  # inches between two panels
TITLE_SPACE = 0.45  # inches above the first panel for a title
NOTE_LINE = 0.18  # inches per line of the note under the drawing, at its font size 9
NOTE_CHARACTERS_PER_INCH = 13  # where that note wraps
LABEL_GAP = 2.0  # points between a label beside its edge and the edge
SIDE_LABEL_STYLE = dict(EDGE_LABEL_STYLE, boxstyle="round,pad=0.05")
LABEL_COLOUR, SHARE_COLOUR, HEADING_COLOUR = "#1f2d4d", "#7a3d00", "#1f2d4d"  # on white: 13:1, 8.6:1, 13:1
CAPTION_BASE, CAPTION_PER_LINE = 0.15, 0.08  # inches from a node's centre to its caption's: node boxes grow by line
# Where along its edge a label may sit (the fraction of the way from the edge's source), in the order tried: the
# first spot where it touches no other edge's line, no node, no caption and no label already placed is taken.
PLACING_TRIES = 4
SPOTS = tuple(sorted(np.arange(0.15, 0.86, 0.025), key=lambda t: (abs(t - 0.5), t)))


class Panel(NamedTuple):
    """One panel of a backward drawing: one layer's edges and the nodes they join, placed by hand (in inches from
    the panel's lower left corner), so that the drawing never moves between runs."""

    name: str  # what its heading calls the layer ("the output layer"); "" in a drawing of one panel
    into: tuple  # the nodes whose incoming edges (weights and biases) the panel draws
    height: float  # inches
    pos: dict  # node -> (x, y): those nodes and the sources of their edges
    bias_from: dict  # bias -> (dx, dy): where its stub starts, from the node it enters
    loss: tuple | None = None  # where the loss box sits, in the panel of the output nodes; None in the others
    target: tuple | None = None  # where the target box sits, under the loss
    captions_below: tuple = ()  # the nodes whose caption sits below them, away from the edges


BACKWARD_PANELS = {
    "single_neuron": (
        Panel(
            "",
            ("Y",),
            3.0,
            {"x1": (0.6, 2.3), "x2": (0.6, 0.55), "Y": (4.7, 1.45)},
            {"b": (0.0, -0.95)},
            loss=(7.9, 1.45),
            target=(7.9, 0.55),
            captions_below=("x2", "Y"),
        ),
    ),
    "relu_chain": (
        Panel(
            "neuron 2",
            ("Y2",),
            2.5,
            {"Y1": (0.7, 1.4), "Y2": (4.9, 1.4)},
            {"b2": (0.0, -0.95)},
            loss=(7.9, 1.4),
            target=(7.9, 0.5),
        ),
        Panel("neuron 1", ("Y1",), 2.3, {"x1": (0.7, 1.3), "Y1": (4.9, 1.3)}, {"b1": (0.0, -0.95)}),
    ),
    "softmax_223": (
        Panel(
            "the output layer",
            ("Y5", "Y6", "Y7"),
            6.8,
            {"Y3": (0.75, 4.85), "Y4": (0.75, 1.95), "Y5": (5.85, 5.9), "Y6": (5.85, 3.4), "Y7": (5.85, 0.9)},
            {"b5": (0.0, 0.55), "b6": (0.0, -0.7), "b7": (0.0, -0.6)},
            loss=(8.1, 3.4),
            target=(8.1, 2.4),
            captions_below=("Y4", "Y7"),
        ),
        Panel(
            "the hidden layer",
            ("Y3", "Y4"),
            3.7,
            {"X1": (0.6, 2.6), "X2": (0.6, 0.95), "Y3": (7.25, 2.6), "Y4": (7.25, 0.95)},
            {"b3": (0.0, 0.75), "b4": (0.0, -0.7)},
            captions_below=("X2", "Y4"),
        ),
    ),
}
# The note under each drawing says what its labels mean, and only what that network has.
EDGE_NOTE = (
    "On each edge: d{w} = dLoss/d{w} = upstream × local, the upstream dLoss/dz of the node the edge enters "
    "times the value it carries (1 for a bias). "
)
BACKWARD_NOTES = {
    "single_neuron": EDGE_NOTE.format(w="w") + "The neuron's dLoss/dz = dLoss/dY × ReLU'(z): 1 when on, 0 when off.",
    "relu_chain": EDGE_NOTE.format(w="w")
    + (
        'In panel 1, under w12, "to Y1" is the error w12 sends back to neuron 1: upstream × w12; in panel 2, '
        "neuron 1 multiplies it by ReLU'(z1): 1 when on, 0 when off."
    ),
    "softmax_223": EDGE_NOTE.format(w="W")
    + (
        'In panel 1, beside each edge out of node 3 or 4, "to Y3" (or Y4) is the share of the error that edge '
        "sends back: upstream × W. In panel 2, a hidden node sums the shares its three parents send back (the sum "
        "over parents), then multiplies by ReLU'(z): 1 when on, 0 when off."
    ),
}


class Backward(NamedTuple):
    """The numbers of a backward pass at one point, each upstream × local: what draw_backward writes."""

    state: dict  # the forward pass: every node's value
    grads: dict  # node -> dLoss/d(node), from numerical differentiation (gradelib.pieces)
    upstream: dict  # parameter -> dLoss/dz of the node its edge enters (dLoss/dY_k for a linear output)
    local: dict  # parameter -> d(z of that node)/d(parameter): the value its edge carries, 1 for a bias
    shares: dict  # hidden node -> [(weight, upstream × weight)], one share per edge out of it


def backward(net: Any, x: Any, params: Any, target: Any) -> Any:
    """The Backward record of net at a point; every derivative of the loss from gradelib.pieces' oracle."""
    x = tuple(float(v) for v in x)
    params = {k: float(params[k]) for k in net.params}
    state = net.forward(x, params, target)
    grads = pieces.at_point(net, x, params, target)
    value = dict(zip(net.inputs, x), **{n: float(state[n]) for n in (*net.relus, *net.output_nodes)})

    def into(node):  # the derivative at the sum a parameter's edge feeds
        return grads[net.relus[node].pre] if node in net.relus else grads[node]

    upstream = {p: into(dst) for p, (_, dst) in net.edges.items()}
    local = {p: 1.0 if src is None else value[src] for p, (src, _) in net.edges.items()}
    shares = {u: [(p, upstream[p] * params[p]) for p in net.out_edges(u)] for u in net.hidden_nodes}
    return Backward(state, grads, upstream, local, shares)


def _signed_sum(values):
    """'-0.413 - 0.072 + 0.099': a sum as it is written by hand, each term to 3 decimals."""
    text = fixed(values[0], 3)
    for v in values[1:]:
        text += f" - {fixed(-v, 3)}" if fixed(v, 3).startswith("-") else f" + {fixed(v, 3)}"
    return text


def _backward_node_text(net, node, b, target):
    """dLoss/dY at a node (as the sum of what comes back to it, at a hidden node), then dLoss/dz through ReLU'."""
    d = f"dLoss/d{tex(node)}"
    lines = []
    if node in b.shares:
        shares = [v for _, v in b.shares[node]]
        lines.append(
            f"{d} = {_signed_sum(shares)} = {fixed(sum(shares), 3)}"
            if len(shares) > 1
            else f"{d} = {fixed(shares[0], 3)}"
        )
    elif node in net.output_nodes and net.classes:
        pkey = net.probability_of[node]
        truth = " - 1" if net.output_nodes.index(node) == net.classes.index(target) else ""
        lines.append(f"{d} = {tex(pkey)}{truth} = {fixed(b.grads[node], 3)}")
    else:
        lines.append(f"{d} = {fixed(b.grads[node], 3)}")
    if node in net.relus:
        z = net.relus[node].pre
        on = 1 if b.state[z] > 0 else 0
        lines.append(f"dLoss/d{tex(z)} = {fixed(b.grads[node], 3)} × {on} = {fixed(b.grads[z], 3)}")
    return "\n".join(lines)


def _gradient_text(net, p, b):
    """dLoss/dp = upstream × local."""
    src, _ = net.edges[p]
    return (
        f"d{tex(p)}: {fixed(b.upstream[p], 3)} × {fixed(b.local[p], 3) if src is not None else '1'} = "
        f"{fixed(b.upstream[p] * b.local[p], 3)}"
    )


def _share_text(net, p, b, params):
    """What the edge p out of a hidden node sends back to it: upstream × W."""
    src, _ = net.edges[p]
    return f"to {tex(src)}: {fixed(b.upstream[p], 3)} × {fixed(params[p], 2)} = {fixed(dict(b.shares[src])[p], 3)}"


def _along(ax, a, b, t):
    """The point a fraction t of the way from a to b, and the angle of the line a-b on the page, in degrees."""
    (xa, ya), (xb, yb) = ax.transData.transform([a, b])
    angle = float(np.degrees(np.arctan2(yb - ya, xb - xa)))
    if angle > 90 or angle < -90:  # never upside down
        angle -= 180 if angle > 0 else -180
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])), angle


def _beside(ax, angle, gap):
    """Data coordinates moved gap points off a line at angle degrees (to its left for gap > 0)."""
    rad = np.radians(angle)
    return transforms.offset_copy(
        ax.transData, fig=ax.figure, x=-np.sin(rad) * gap, y=np.cos(rad) * gap, units="points"
    )


def _outline(text, renderer):
    """The text's box on the page (display coordinates), turned as the text is."""
    patch = text.get_bbox_patch()
    if patch is None:
        return Path(text.get_window_extent(renderer).corners()[[0, 1, 3, 2]])
    text.update_bbox_position_size(renderer)
    return patch.get_path().transformed(patch.get_transform())


def _put(ax, texts, start, end, spot):
    """Write the edge's labels along it at this spot, (fraction, side): the first on that side of the line (+1: to
    its left, going from start to end), the second on the other side."""
    t, side = spot
    xy, angle = _along(ax, start, end, t)
    for text, s in zip(texts, (side, -side)):
        text.set_position(xy)
        text.set_verticalalignment("bottom" if s > 0 else "top")
        text.set_transform(_beside(ax, angle, s * LABEL_GAP))


def _place_labels(ax, edges):
    """Move each edge's labels (edges: parameter -> (start, end, texts)) to the first of SPOTS, on either side,
    where they touch no other edge's line, no node, no caption and no label already placed.  Edges that find no
    such spot are placed first in the next try (a few tries); if none is clear, each goes where it touches least."""
    fig = ax.figure
    renderer = RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi)
    lines = {line.get_gid(): Path(line.get_transform().transform(line.get_xydata())) for line in ax.get_lines()}
    moving = {id(t) for _, _, texts in edges.values() for t in texts}
    fixed_boxes = [_outline(t, renderer) for t in ax.texts if id(t) not in moving]
    order = list(edges)
    for _ in range(PLACING_TRIES):
        placed, crowded = list(fixed_boxes), []
        for p in order:
            start, end, texts = edges[p]
            others = placed + [path for gid, path in lines.items() if gid != f"line:{p}"]
            touches, boxes = _best_spot(ax, (start, end, texts), others, renderer)
            placed += boxes
            crowded += [p] if touches else []
        if not crowded:
            return
        order = crowded + [p for p in order if p not in crowded]


def _best_spot(ax, edge, others, renderer):
    """Put the edge's labels at the first spot where they touch none of others (or where they touch fewest):
    how many they touch there, and their boxes."""
    start, end, texts = edge
    tried = []
    for spot in [(t, side) for t in SPOTS for side in (1, -1)]:
        _put(ax, texts, start, end, spot)
        boxes = [_outline(t, renderer) for t in texts]
        tried.append((sum(box.intersects_path(o, filled=True) for box in boxes for o in others), spot, boxes))
        if not tried[-1][0]:
            break
    touches, spot, boxes = min(tried, key=lambda s: s[0])  # the first of the fewest
    _put(ax, texts, start, end, spot)
    return touches, boxes


def _draw_backward_edges(d, b, params):
    """Every edge of the panel as a line with its labels: a bias's gradient at its stub's free end; a weight's
    gradient written along it and, out of a hidden node, on the other side of the line, the share it sends back
    (placed by _place_labels)."""
    ax, net, lay, pos = d
    along = {}
    for p in lay["edges"]:
        src, dst = net.edges[p]
        end = pos[dst]
        start = pos[src] if src is not None else (end[0] + lay["bias_from"][p][0], end[1] + lay["bias_from"][p][1])
        ax.plot([start[0], end[0]], [start[1], end[1]], gid=f"line:{p}", **LINE_STYLE)
        if src is None:
            label = _gradient_text(net, p, b)
            _text(ax, start, label, f"edge:{p}", size=BACKWARD_LABEL_SIZE, bbox=EDGE_LABEL_STYLE, color=LABEL_COLOUR)
            continue
        angle = _along(ax, start, end, 0.5)[1]
        turned = dict(fontsize=BACKWARD_LABEL_SIZE, ha="center", zorder=3, bbox=SIDE_LABEL_STYLE, rotation=angle)
        turned.update(rotation_mode="anchor")
        texts = [ax.text(*start, _gradient_text(net, p, b), gid=f"edge:{p}", color=LABEL_COLOUR, **turned)]
        if src in b.shares:
            texts.append(
                ax.text(*start, _share_text(net, p, b, params), gid=f"share:{p}", color=SHARE_COLOUR, **turned)
            )
        along[p] = (start, end, texts)
    if lay["loss"] is not None:
        for out in net.output_nodes:
            ax.plot(*zip(pos[out], lay["loss"]), gid=f"line:{out}->loss", **LINE_STYLE)
        ax.plot([lay["target"][0]] * 2, [lay["target"][1], lay["loss"][1]], gid="line:target", **LINE_STYLE)
    return along


def _draw_backward_nodes(d, x, b, target):
    """Each node with its caption: an input's value; a node the panel's edges enter, its derivatives; a node they
    leave, its value, which those edges carry."""
    ax, net, lay, pos = d
    captions = dict(zip(net.inputs, lay["input_captions"]), **lay["captions"])
    for node, xy in pos.items():
        style = dict(INPUT_STYLE if node in net.inputs else NODE_STYLE)
        if node in net.inputs:
            text, gid = f"{tex(node)} = {fixed(x[net.inputs.index(node)], 3)}", f"node:{node}"
        elif node in lay["into"]:
            text, gid = _backward_node_text(net, node, b, target), f"node:{node}"
        else:
            text, gid = f"{tex(node)} = {fixed(b.state[node], 3)}", f"value:{node}"
        _text(ax, xy, text, gid, size=BACKWARD_LABEL_SIZE, bbox=style)
        offset = CAPTION_BASE + CAPTION_PER_LINE * (text.count("\n") + 1)
        below = node in lay["captions_below"]
        _text(
            ax,
            (xy[0], xy[1] - offset if below else xy[1] + offset),
            captions[node],
            f"caption:{node}",
            size=9,
            color=CAPTION_COLOUR,
            bbox=CAPTION_STYLE,
        )


def _backward_axes(ax, panels, title, note):
    """One axes per panel, stacked from the top, as wide as the figure (or as ax) and as tall as the panel, with
    room for the title above and the note below; a new figure BACKWARD_WIDTH inches wide, unless ax is given (its
    place is shared among the panels)."""
    heights = [panel.height for panel in panels]
    top = TITLE_SPACE if title else 0.1
    total = top + sum(heights) + PANEL_GAP * (len(panels) - 1) + NOTE_LINE * (note.count("\n") + 1) + 0.2
    if ax is None:
        ax = new_figure((BACKWARD_WIDTH, total)).add_axes((0, 0, 1, 1))
    x0, y0, width, height = ax.get_position().bounds
    axes, y = [], total - top
    for i, h in enumerate(heights):
        y -= h
        box = (x0, y0 + height * y / total, width, height * h / total)
        axes.append(ax if i == 0 else ax.figure.add_axes(box))
        axes[-1].set_position(box)
        y -= PANEL_GAP
    return axes


def _panel_layout(net, panel):
    """The panel as the layout dict the drawing's helpers read (captions, loss caption, ...: the network's)."""
    edges = [p for p, (_, dst) in net.edges.items() if dst in panel.into]
    return dict(
        LAYOUTS[net.name],
        xlim=(0.0, BACKWARD_WIDTH),
        ylim=(0.0, panel.height),
        edges=edges,
        **{k: getattr(panel, k) for k in ("into", "bias_from", "loss", "target", "captions_below")},
    )


def _heading(ax, panel, number, lay):
    """A panel's heading, top left: its number, its layer and its parameters; its words, for the alt text."""
    words = f"Panel {number}, {panel.name}: " + ", ".join(tex(p) for p in lay["edges"])
    _text(ax, (0.1, panel.height - 0.15), words, "caption:panel", size=10, color=HEADING_COLOUR, ha="left")
    return plain(words)


def draw_backward(network: str, x: Any, params: Any, target: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """Draw network after a backward pass at (x, params, target): upstream × local gradient on every edge.

    Each edge shows, written along it, dLoss/dp = upstream × local (the derivative at
    the sum it enters times the value it carries) on one side and, out of a hidden
    node, the share of the error it sends back, upstream × weight, on the other; each hidden node shows the sum of
    those shares, dLoss/dY (the sum over parents), and dLoss/dz = dLoss/dY × ReLU'(z).  A network of two layers is
    drawn in two panels, one under the other: the output layer, then the layer before it.  The
    derivatives come from gradelib's numerical differentiation with respect to each
    node, so the drawing checks the chain rule rather than assuming it.  Returns the Figure.
    """
    net = find_network(network, "draw_backward")
    if x is None or params is None or target is None:
        raise ValueError("draw_backward needs a point: give x, params and target.")
    net.validate(x, params, target)
    with np.errstate(all="ignore"):
        b = backward(net, x, params, target)
    panels = BACKWARD_PANELS[net.name]
    note = textwrap.fill(BACKWARD_NOTES[net.name], int(BACKWARD_WIDTH * NOTE_CHARACTERS_PER_INCH))
    what = f"A drawing after the backward pass, upstream × local on every edge, of the network {net.name}"
    for i, (axes, panel) in enumerate(zip(_backward_axes(ax, panels, title, note), panels)):
        lay = _panel_layout(net, panel)
        _canvas(axes, lay, title if i == 0 else None, bottom=0.0, height=1.0)
        d = Drawing(axes, net, lay, dict(panel.pos))
        words = _heading(axes, panel, i + 1, lay) if len(panels) > 1 else ""
        if i == 0 and len(panels) > 1:
            words = f"{what}, in {len(panels)} panels, one per layer, in the order the backward pass goes. {words}"
        along = _draw_backward_edges(d, b, params)
        _draw_backward_nodes(d, x, b, target)
        if panel.loss is not None:
            _draw_loss_and_target(d, b.state, target)
        if i == len(panels) - 1:
            _text(axes, (BACKWARD_WIDTH / 2, -0.1), note, "caption:backward", size=9, color=CAPTION_COLOUR, va="top")
        _place_labels(axes, along)
        set_alt(axes, _drawing_alt(d, words or what))
    return axes.figure
