"""Drawings of the three networks of the notes, with the notes' names and, after a forward pass, the values.

    fig = draw_network("softmax_223")                          # names only: x1, W13, b3, Y3, ...
    fig = draw_network("softmax_223", x, params, target)       # W35 = 0.40 on the edges, Y5 and P5 in the nodes

The figure is made through pyplot (so that JupyterLab knows how to show a
Figure) and closed at once, so a cell that ends with it shows it exactly once.
Every text carries a gid ("node:Y3", "edge:W35", "loss", "target") so tests
can find it.  The values come from gradelib's own forward pass.
"""
import re
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np

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
LAYOUTS = {
    "single_neuron": dict(
        size=(8.0, 3.6), xlim=(-0.6, 4.0), ylim=(-1.7, 1.4),
        inputs=[(0.0, 0.8), (0.0, -0.8)], nodes={"Y": (1.7, 0.0)},
        loss=(3.4, 0.0), target=(3.4, -1.2),
        captions={"Y": "ReLU neuron"}, input_captions=["input", "input"], captions_below=(),
        label_at={"w1": 0.5, "w2": 0.5},
        bias_from={"b": (0.0, -1.0)},
        loss_caption=r"$\frac{1}{2}(O_b - Y)^2$"),
    "relu_chain": dict(
        size=(9.0, 3.0), xlim=(-0.6, 5.3), ylim=(-1.6, 0.9),
        inputs=[(0.0, 0.0)], nodes={"Y1": (1.5, 0.0), "Y2": (3.0, 0.0)},
        loss=(4.6, 0.0), target=(4.6, -1.1),
        captions={"Y1": "neuron 1 (ReLU)", "Y2": "neuron 2 (ReLU)"}, input_captions=["input"], captions_below=(),
        label_at={"w11": 0.5, "w12": 0.5},
        bias_from={"b1": (0.0, -1.0), "b2": (0.0, -1.0)},
        loss_caption=r"$\frac{1}{2}(O_{b2} - Y_2)^2$"),
    "softmax_223": dict(
        size=(11.0, 5.8), xlim=(-0.7, 6.4), ylim=(-2.9, 2.9),
        inputs=[(0.0, 1.2), (0.0, -1.2)], nodes={"Y3": (1.9, 1.2), "Y4": (1.9, -1.2),
                                                 "Y5": (3.9, 2.0), "Y6": (3.9, 0.0), "Y7": (3.9, -2.0)},
        loss=(5.7, 0.0), target=(5.7, -1.3),
        input_captions=["node 1", "node 2"],
        captions={"Y3": "node 3 (ReLU)", "Y4": "node 4 (ReLU)",
                  "Y5": "node 5", "Y6": "node 6", "Y7": "node 7"},
        captions_below=("Y4", "Y7"),   # the lower nodes, whose bias enters from below
        # the crossing edges X1→Y4, X2→Y3 (and Y3→Y7, Y4→Y5) cross at their middles: label them before
        label_at={"W13": 0.5, "W24": 0.5, "W14": 0.3, "W23": 0.3,
                  "W35": 0.45, "W36": 0.4, "W37": 0.3, "W45": 0.3, "W46": 0.4, "W47": 0.45},
        bias_from={"b3": (0.0, 0.8), "b4": (0.0, -0.8), "b5": (0.0, 0.7), "b6": (0.35, -0.7),
                   "b7": (0.0, -0.7)},
        loss_caption=r"$-\log P_{\mathrm{target}}$"),
}


def new_figure(figsize):
    """A Figure made through pyplot and closed at once.

    pyplot loads JupyterLab's inline backend, which teaches IPython to show a
    Figure; closing it stops that backend from showing it a second time at the
    end of the cell.  So a cell that ends with the figure shows it exactly once.
    """
    fig = plt.figure(figsize=figsize)
    plt.close(fig)
    return fig


def tex(name):
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
CAPTION_OFFSET = 0.42     # how far a caption sits above (or below) its node's centre
VALUES_TALLER = 1.25      # a node showing two lines of values is taller: its caption moves this much further out


class Drawing(NamedTuple):
    """What every part of a drawing needs: the axes, the network, its layout and where each node sits."""
    ax: object
    net: Network
    lay: dict
    pos: dict     # node -> (x, y); the inputs take their names from the network (x1, x2 or the notes' X1, X2)


def _text(ax, xy, s, gid, size=11, **kw):
    """A centred text over the edges (zorder 3), with the gid the tests look it up by."""
    return ax.text(*xy, s, ha="center", va="center", fontsize=size, gid=gid, zorder=3, **kw)


def _forward(net, x, params, target):
    """The forward pass at the point, or None unless x, params and target are all given."""
    if x is None or params is None or target is None:
        return None
    with np.errstate(all="ignore"):  # a wild slider value may overflow; the drawing shows inf, not a warning
        return net.forward(tuple(float(v) for v in x), {k: float(params[k]) for k in net.params}, target)


def _draw_edges(d, params):
    """Every weight and bias as a line with its label; first, so that the opaque node boxes lie over them."""
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
        label = tex(p) if params is None else f"{tex(p)} = {fixed(params[p], 2)}"
        _text(ax, (x0 + t * (x1 - x0), y0 + t * (y1 - y0)), label, f"edge:{p}", size=10,
              bbox=EDGE_LABEL_STYLE, color="#1f2d4d")
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
        _text(ax, (xy[0], xy[1] + offset), caption, f"caption:{node}", size=9, color=CAPTION_COLOUR,
              bbox=CAPTION_STYLE)


def _draw_loss_and_target(d, state, target):
    """The loss box and the target feeding it, each with its caption."""
    ax, net, lay, _ = d
    loss = "Loss" if state is None else f"Loss = {fixed(state['Loss'], 3)}"
    _text(ax, lay["loss"], loss, "loss", bbox=LOSS_STYLE)
    _text(ax, (lay["loss"][0], lay["loss"][1] + 0.5), lay["loss_caption"], "caption:loss", size=10,
          color=CAPTION_COLOUR)
    _text(ax, lay["target"], _target_text(net, target), "target", size=10, bbox=TARGET_STYLE)
    if not net.classes:  # "O_b" alone does not say what it is
        _text(ax, (lay["target"][0], lay["target"][1] - 0.35), "target", "caption:target", size=9,
              color=CAPTION_COLOUR)


def draw_network(network, x=None, params=None, target=None, *, ax=None, title=None):
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
    if ax is None:
        ax = new_figure(lay["size"]).add_axes((0, 0, 1, 0.92 if title else 1))
    ax.set_xlim(*lay["xlim"])
    ax.set_ylim(*lay["ylim"])
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=12)
    d = Drawing(ax, net, lay, dict(zip(net.inputs, lay["inputs"]), **lay["nodes"]))
    _draw_edges(d, params)
    _draw_nodes(d, x, state, target)
    _draw_loss_and_target(d, state, target)
    return ax.figure
