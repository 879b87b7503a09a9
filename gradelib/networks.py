"""The three networks of the lecture notes: each one's topology, written once, and its forward pass and loss.

Names follow the notes: notes 000 for ``single_neuron`` and ``relu_chain``,
notes 002 for ``softmax_223`` (W_ij is the weight from node i to node j).

The topology (the Network records at the end: which weight joins which nodes,
which nodes are ReLUs, what the loss compares) is written here and nowhere
else; gradelib.exercises, gradelib.draw, the diagnosis and the by-hand steps
(gradelib.byhand.steps) all read it.  The forward functions spell their
arithmetic out by hand on purpose: they are the oracle's hot path, and a loop
over the edges would cost a dict lookup per edge on every call.

Every function takes ``x`` (a tuple), ``params`` (a dict keyed by the notes'
names) and ``target``, and returns a dict of every intermediate value, ending
with ``Loss``.  The arithmetic broadcasts, so the oracle can push many
perturbed copies of the parameters through one call; ``ops`` lets the
diagnosis swap a local derivative (see ``gradelib.surgery``) without a second
copy of each network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np


class Plain:
    """The ordinary arithmetic: ReLU(z) = max(z, 0) and an edge carries w·y."""

    def relu(self, node: str, z: Any) -> Any:
        return np.maximum(z, 0.0)

    def edge(self, weight: str, w: Any, y: Any) -> Any:
        return w * y


PLAIN = Plain()


def single_neuron(x: Any, params: Any, target: Any, ops: Any = PLAIN) -> dict[str, Any]:
    """Y = ReLU(w1·x1 + w2·x2 + b),  Err = O_b − Y,  Loss = ½·Err²."""
    x1, x2 = x
    z = ops.edge("w1", params["w1"], x1) + ops.edge("w2", params["w2"], x2) + params["b"]
    Y = ops.relu("Y", z)
    Err = target - Y
    return {"z": z, "Y": Y, "Err": Err, "Loss": 0.5 * Err**2}


def relu_chain(x: Any, params: Any, target: Any, ops: Any = PLAIN) -> dict[str, Any]:
    """Y1 = ReLU(w11·x1 + b1),  Y2 = ReLU(w12·Y1 + b2),  Loss = ½·(O_b2 − Y2)²."""
    (x1,) = x
    z1 = ops.edge("w11", params["w11"], x1) + params["b1"]
    Y1 = ops.relu("Y1", z1)
    z2 = ops.edge("w12", params["w12"], Y1) + params["b2"]
    Y2 = ops.relu("Y2", z2)
    Err2 = target - Y2
    return {"z1": z1, "Y1": Y1, "z2": z2, "Y2": Y2, "Err2": Err2, "Loss": 0.5 * Err2**2}


def log_softmax(logits: Any) -> Any:
    """log P_k = Y_k − m − log Σ_j exp(Y_j − m), with m = max_j Y_j.

    Subtracting the maximum keeps every exp() in [0, 1], so logits such as
    [1000, 1001, 1002] neither overflow nor lose the answer.
    """
    m = logits[0]
    for Y in logits[1:]:
        m = np.maximum(m, Y)
    total = sum(np.exp(Y - m) for Y in logits)
    return [Y - m - np.log(total) for Y in logits]


def softmax(logits: Any) -> Any:
    """P_k = exp(Y_k) / Σ_j exp(Y_j), computed through the stable log_softmax."""
    return [np.exp(logP) for logP in log_softmax(logits)]


def softmax_223(x: Any, params: Any, target: Any, ops: Any = PLAIN) -> dict[str, Any]:
    """The 2-2-3 network of notes 002 with Loss = −log P_target, target ∈ {5, 6, 7}.

    Y3 = ReLU(W13·X1 + W23·X2 + b3),  Y4 = ReLU(W14·X1 + W24·X2 + b4),
    Y5..Y7 = W3k·Y3 + W4k·Y4 + bk (linear),  P = softmax(Y5, Y6, Y7).
    """
    x1, x2 = x
    p, e = params, ops.edge
    z3 = e("W13", p["W13"], x1) + e("W23", p["W23"], x2) + p["b3"]
    z4 = e("W14", p["W14"], x1) + e("W24", p["W24"], x2) + p["b4"]
    Y3, Y4 = ops.relu("Y3", z3), ops.relu("Y4", z4)
    Y5 = e("W35", p["W35"], Y3) + e("W45", p["W45"], Y4) + p["b5"]
    Y6 = e("W36", p["W36"], Y3) + e("W46", p["W46"], Y4) + p["b6"]
    Y7 = e("W37", p["W37"], Y3) + e("W47", p["W47"], Y4) + p["b7"]
    logP5, logP6, logP7 = log_softmax([Y5, Y6, Y7])
    target = np.asarray(target)
    Loss = -np.where(target == 5, logP5, np.where(target == 6, logP6, logP7))
    return {
        "z3": z3,
        "z4": z4,
        "Y3": Y3,
        "Y4": Y4,
        "Y5": Y5,
        "Y6": Y6,
        "Y7": Y7,
        "P5": np.exp(logP5),
        "P6": np.exp(logP6),
        "P7": np.exp(logP7),
        "Loss": Loss,
    }


class Edge(NamedTuple):
    """The edge a parameter sits on: a weight from src to dst, or a bias (src None) into dst."""

    src: str | None  # the node it comes from ("x1", "Y3"), or None for a bias
    dst: str  # the node it goes into


class ReLU(NamedTuple):
    """A ReLU node of the notes: Y = ReLU(z).  A tuple, so ``relus[node][1]`` still reads the label."""

    pre: str  # the forward pass's key of its pre-activation z, e.g. "z3"
    label: str  # how the notes call the node, e.g. "node 3"
    formula: str  # its pre-activation in the notes' symbols, e.g. "W13·X1 + W23·X2 + b3" (made from the edges)


@dataclass(frozen=True)
class Network:
    """One network of the notes: its nodes, its edges under the notes' weight names, its ReLUs and its target."""

    name: str  # the network's name, a key of NETWORKS
    forward: Callable[..., dict[str, Any]]  # its forward pass, (x, params, target, ops) -> every value by name
    params: tuple[str, ...]  # the notes' parameter names, in the notes' order (layer by layer, weights first)
    inputs: tuple[str, ...]  # names of the entries of x
    edges: dict[str, Edge]  # parameter -> Edge, node by node: each node's weights, then its bias
    relus: dict[str, ReLU]  # ReLU node -> ReLU record
    classes: tuple[int, ...] = ()  # target nodes of a classifier; () for a regression target
    output: str = ""  # the node a regression target is compared with; "" for a classifier
    target_symbol: str = ""  # the notes' symbol of a regression target: O_b, O_b2

    def sum_text(self, node: str) -> str:
        """Node's sum in the notes' symbols, from its edges: "W13·X1 + W23·X2 + b3"."""
        return " + ".join(f"{p}·{self.edges[p].src}" if self.edges[p].src else p for p in self.in_edges(node))

    @property
    def target_name(self) -> str:
        """How feedback names the target: "target O_b", or plain "target" for a classifier's node."""
        return f"target {self.target_symbol}" if self.target_symbol else "target"

    @property
    def output_nodes(self) -> tuple[str, ...]:
        """The nodes the loss reads: the regression output, or one output node per class (Y5, Y6, Y7)."""
        return tuple(f"Y{k}" for k in self.classes) if self.classes else (self.output,)

    @property
    def probability_keys(self) -> tuple[str, ...]:
        """The forward pass's keys of the class probabilities (P5, P6, P7); () for regression."""
        return tuple(f"P{k}" for k in self.classes)

    @property
    def probability_of(self) -> dict[str, str]:
        """Each output node's probability key: {"Y5": "P5", ...}; {} for regression."""
        return dict(zip(self.output_nodes, self.probability_keys)) if self.classes else {}

    def validate(self, x: Any = None, params: Any = None, target: Any = None) -> None:
        """Raise a ValueError naming what is wrong with whichever of x, params and target is given."""
        if params is not None:
            missing = [k for k in self.params if k not in params]
            if missing:
                raise ValueError(f"params for {self.name} is missing {', '.join(missing)}.")
        if x is not None and len(x) != len(self.inputs):
            raise ValueError(f"{self.name} takes x = ({', '.join(self.inputs)}); got {len(x)} values.")
        if target is not None and self.classes and target not in self.classes:
            raise ValueError(f"the target of {self.name} is one of the nodes {self.classes}; got {target!r}.")

    def out_edges(self, node: str) -> list[str]:
        """The parameters of the edges leaving node, in the notes' order."""
        return [p for p, (src, _) in self.edges.items() if src == node]

    def in_edges(self, node: str) -> list[str]:
        """The parameters of the edges into node, in the notes' order (its weights, then its bias)."""
        return [p for p, (_, dst) in self.edges.items() if dst == node]

    def depth(self, node: str) -> int:
        """How many edges lie between node and the inputs on its longest path: 0 for an input."""
        sources = [self.edges[p].src for p in self.in_edges(node)]
        return max((self.depth(src) + 1 if src else 1 for src in sources), default=0)

    def pre(self, node: str) -> str:
        """The forward pass's key of node's sum: its pre-activation z for a ReLU, the node itself for a linear one."""
        return self.relus[node].pre if node in self.relus else node

    @property
    def hidden_nodes(self) -> list[str]:
        """ReLU nodes that feed another node: δ has to flow back through them."""
        return [u for u in self.relus if self.out_edges(u)]

    @property
    def hidden_params(self) -> list[str]:
        """The parameters of the edges into the hidden nodes."""
        return [p for p, (_, dst) in self.edges.items() if dst in self.hidden_nodes]

    def downstream(self, node: str) -> list[str]:
        """Every node that node feeds, directly or through others."""
        found: list[str] = []
        todo = [node]
        while todo:
            for p in self.out_edges(todo.pop()):
                dst = self.edges[p].dst
                if dst not in found:
                    found.append(dst)
                    todo.append(dst)
        return found

    def units_on_path(self, param: str) -> list[str]:
        """ReLU nodes whose on/off state decides whether dLoss/d(param) can be nonzero."""
        src, dst = self.edges[param]
        nodes = [src, dst] + self.downstream(dst)
        return [u for u in nodes if u in self.relus]


def dense(sources: dict[int, str], targets: dict[int, str]) -> dict[str, tuple[str | None, str]]:
    """A layer of notes 002, target by target: W_ij from node i (named sources[i]) into node j, then its bias b_j."""
    edges: dict[str, tuple[str | None, str]] = {}
    for j, dst in targets.items():
        edges.update({f"W{i}{j}": (src, dst) for i, src in sources.items()})
        edges[f"b{j}"] = (None, dst)
    return edges


def network(
    name: str,
    forward: Callable[..., dict[str, Any]],
    inputs: tuple[str, ...],
    edges: dict[str, tuple[str | None, str]],
    relus: dict[str, tuple[str, str]],
    **target: Any,
) -> Network:
    """A Network from plain (src, dst) edges and (pre, label) ReLUs; each ReLU's formula is made from its edges.

    target: classes=, or output= and target_symbol=, as the Network record takes them.
    """
    net = Network(name, forward, (), inputs, {p: Edge(*e) for p, e in edges.items()}, {}, **target)
    params = sorted(edges, key=lambda p: (net.depth(edges[p][1]), edges[p][0] is None))  # layer by layer, stable
    relus_made = {u: ReLU(pre, label, net.sum_text(u)) for u, (pre, label) in relus.items()}
    return replace(net, params=tuple(params), relus=relus_made)


SINGLE_NEURON = network(
    name="single_neuron",
    forward=single_neuron,
    inputs=("x1", "x2"),
    edges={"w1": ("x1", "Y"), "w2": ("x2", "Y"), "b": (None, "Y")},
    relus={"Y": ("z", "the neuron")},
    output="Y",
    target_symbol="O_b",
)

RELU_CHAIN = network(
    name="relu_chain",
    forward=relu_chain,
    inputs=("x1",),
    edges={"w11": ("x1", "Y1"), "b1": (None, "Y1"), "w12": ("Y1", "Y2"), "b2": (None, "Y2")},
    relus={"Y1": ("z1", "neuron 1"), "Y2": ("z2", "neuron 2")},
    output="Y2",
    target_symbol="O_b2",
)

SOFTMAX_223 = network(
    name="softmax_223",
    forward=softmax_223,
    inputs=("X1", "X2"),
    edges={
        **dense({1: "X1", 2: "X2"}, {3: "Y3", 4: "Y4"}),
        **dense({3: "Y3", 4: "Y4"}, {5: "Y5", 6: "Y6", 7: "Y7"}),
    },
    relus={"Y3": ("z3", "node 3"), "Y4": ("z4", "node 4")},
    classes=(5, 6, 7),
)

NETWORKS = {net.name: net for net in (SINGLE_NEURON, RELU_CHAIN, SOFTMAX_223)}


def find_network(name: str, who: str) -> Network:
    """The Network called name, or a ValueError in which who (the asking function) lists the networks it knows."""
    if isinstance(name, str) and name in NETWORKS:
        return NETWORKS[name]
    raise ValueError(f"{who} knows the networks {', '.join(map(repr, NETWORKS))}; got {name!r}.")
