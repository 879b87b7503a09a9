"""What each exercise is: its network's shape (in the notes' names) and its student contract.

The shape (which weight joins which nodes, which nodes are ReLUs) is all the
diagnosis knows about a network; no gradient formula is written down here.
Every module asks the Network record for these facts (its ReLU nodes, its
output node, its target's symbol, whether a point is valid) instead of
guessing them from a network's name or from the keys of a forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import networks


class Edge(NamedTuple):
    """The edge a parameter sits on: a weight from src to dst, or a bias (src None) into dst."""

    src: object  # the node it comes from ("x1", "Y3"), or None for a bias
    dst: str  # the node it goes into


class ReLU(NamedTuple):
    """A ReLU node of the notes: Y = ReLU(z).  A tuple, so ``relus[node][1]`` still reads the label."""

    pre: str  # the forward pass's key of its pre-activation z, e.g. "z3"
    label: str  # how the notes call the node, e.g. "node 3"
    formula: str  # its pre-activation in the notes' symbols, e.g. "W13·X1 + W23·X2 + b3"


@dataclass(frozen=True)
class Network:
    name: str
    forward: Callable
    params: tuple  # the notes' parameter names, in the notes' order
    inputs: tuple  # names of the entries of x
    edges: dict  # parameter -> Edge(source node or None for a bias, target node)
    relus: dict  # ReLU node -> ReLU record
    classes: tuple = ()  # target nodes of a classifier; () for a regression target
    output: str = ""  # the node a regression target is compared with; "" for a classifier
    target_symbol: str = ""  # the notes' symbol of a regression target: O_b, O_b2

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

    def __post_init__(self):
        # written as plain (src, dst) pairs in the network definitions below; read by name everywhere
        object.__setattr__(self, "edges", {p: Edge(*e) for p, e in self.edges.items()})

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
        return [p for p, (src, _) in self.edges.items() if src == node]

    @property
    def hidden_nodes(self) -> list[str]:
        """ReLU nodes that feed another node: δ has to flow back through them."""
        return [u for u in self.relus if self.out_edges(u)]

    @property
    def hidden_params(self) -> list[str]:
        return [p for p, (_, dst) in self.edges.items() if dst in self.hidden_nodes]

    def downstream(self, node: str) -> list[str]:
        """Every node that node feeds, directly or through others."""
        found, todo = [], [node]
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


SINGLE_NEURON = Network(
    name="single_neuron",
    forward=networks.single_neuron,
    params=("w1", "w2", "b"),
    inputs=("x1", "x2"),
    edges={"w1": ("x1", "Y"), "w2": ("x2", "Y"), "b": (None, "Y")},
    relus={"Y": ReLU("z", "the neuron", "w1·x1 + w2·x2 + b")},
    output="Y",
    target_symbol="O_b",
)

RELU_CHAIN = Network(
    name="relu_chain",
    forward=networks.relu_chain,
    params=("w11", "b1", "w12", "b2"),
    inputs=("x1",),
    edges={"w11": ("x1", "Y1"), "b1": (None, "Y1"), "w12": ("Y1", "Y2"), "b2": (None, "Y2")},
    relus={"Y1": ReLU("z1", "neuron 1", "w11·x1 + b1"), "Y2": ReLU("z2", "neuron 2", "w12·Y1 + b2")},
    output="Y2",
    target_symbol="O_b2",
)


def _dense(sources: tuple[str, ...], nodes: tuple[str, ...]) -> dict[str, tuple[str | None, str]]:
    """A layer in which every source feeds every node, in the notes' names: Wij from node i (Xi or Yi) into Yj,
    then the bias bj, node by node (W13, W23, b3, W14, ...)."""
    edges: dict[str, tuple[str | None, str]] = {}
    for dst in nodes:
        edges |= {f"W{src[1:]}{dst[1:]}": (src, dst) for src in sources}
        edges[f"b{dst[1:]}"] = (None, dst)
    return edges


SOFTMAX_223 = Network(
    name="softmax_223",
    forward=networks.softmax_223,
    params=("W13", "W23", "W14", "W24", "b3", "b4", "W35", "W45", "W36", "W46", "W37", "W47", "b5", "b6", "b7"),
    inputs=("X1", "X2"),
    edges={**_dense(("X1", "X2"), ("Y3", "Y4")), **_dense(("Y3", "Y4"), ("Y5", "Y6", "Y7"))},
    relus={"Y3": ReLU("z3", "node 3", "W13·X1 + W23·X2 + b3"), "Y4": ReLU("z4", "node 4", "W14·X1 + W24·X2 + b4")},
    classes=(5, 6, 7),
)

NETWORKS = {net.name: net for net in (SINGLE_NEURON, RELU_CHAIN, SOFTMAX_223)}


def find_network(name: str, who: str) -> Network:
    """The Network called name, or a ValueError in which who (the asking function) lists the networks it knows."""
    if isinstance(name, str) and name in NETWORKS:
        return NETWORKS[name]
    raise ValueError(f"{who} knows the networks {', '.join(map(repr, NETWORKS))}; got {name!r}.")


class Piece(NamedTuple):
    """A local piece of a backward pass that the student returns as a dict: one derivative per node.

    Each key's value is sign·dLoss/d(node), node a key of the forward pass; so the
    checker differentiates the loss with respect to that node and needs no formula.
    """

    keys: tuple  # the dict's keys, in the order the feedback names them: ("delta2", "delta1")
    nodes: tuple  # the forward pass's node each key is the derivative with respect to: ("z2", "z1")
    sign: float  # +1 for dLoss/d(node); −1 for the notes' δ = −dLoss/dz
    what: str  # what the dict holds, for feedback: "deltas", "output errors"
    symbols: tuple  # how feedback writes each key, in the notes' symbols: ("δ2", "δ1"), ("dLoss/dY5", ...)


@dataclass(frozen=True)
class Exercise:
    name: str
    kind: str  # a key of gradelib.kinds.KINDS: how the exercise is questioned and judged
    network: Network | None = None  # None for the kinds that question no network: softmax, difference, relative_error
    signature: str = ""
    notebook_function: str = ""
    piece: Piece | None = None  # for kind "piece": what its dict holds; None for every other kind

    @property
    def answer_keys(self) -> tuple[str, ...]:
        """The keys of the dict the student's function returns: a piece's keys, else the network's parameters."""
        return self.piece.keys if self.piece else self.the_network.params

    @property
    def the_network(self) -> Network:
        """The network, for the kinds that question one; a ValueError naming the exercise for the others."""
        if self.network is None:
            raise ValueError(f"the exercise {self.name!r} (kind {self.kind!r}) questions no network.")
        return self.network

    @property
    def the_piece(self) -> Piece:
        """What a piece's dict holds, for kind "piece"; a ValueError naming the exercise for the others."""
        if self.piece is None:
            raise ValueError(f"the exercise {self.name!r} (kind {self.kind!r}) is not a piece of a backward pass.")
        return self.piece


EXERCISES = {
    "single_neuron": Exercise(
        "single_neuron", "gradient", SINGLE_NEURON, "fn(x, params, target)", "single_neuron_gradients"
    ),
    "single_neuron_update": Exercise(
        "single_neuron_update", "update", SINGLE_NEURON, "fn(x, params, target, eta)", "single_neuron_update"
    ),
    "relu_chain": Exercise("relu_chain", "gradient", RELU_CHAIN, "fn(x, params, target)", "relu_chain_gradients"),
    "relu_chain_update": Exercise(
        "relu_chain_update", "update", RELU_CHAIN, "fn(x, params, target, eta)", "relu_chain_update"
    ),
    "softmax": Exercise("softmax", "softmax", None, "fn(logits)", "softmax"),
    "softmax_223": Exercise("softmax_223", "gradient", SOFTMAX_223, "fn(x, params, target)", "softmax_223_gradients"),
    "softmax_223_update": Exercise(
        "softmax_223_update", "update", SOFTMAX_223, "fn(x, params, target, eta)", "softmax_223_update"
    ),
    # the staged local gradients (issue 11): each checked on its own before the whole gradient
    "relu_chain_deltas": Exercise(
        "relu_chain_deltas",
        "piece",
        RELU_CHAIN,
        "fn(x, params, target)",
        "relu_chain_deltas",
        Piece(("delta2", "delta1"), ("z2", "z1"), -1.0, "deltas", ("δ2", "δ1")),
    ),
    "softmax_223_output_errors": Exercise(
        "softmax_223_output_errors",
        "piece",
        SOFTMAX_223,
        "fn(x, params, target)",
        "softmax_223_output_errors",
        Piece(("Y5", "Y6", "Y7"), ("Y5", "Y6", "Y7"), 1.0, "output errors", ("dLoss/dY5", "dLoss/dY6", "dLoss/dY7")),
    ),
    "softmax_223_hidden_errors": Exercise(
        "softmax_223_hidden_errors",
        "piece",
        SOFTMAX_223,
        "fn(x, params, target)",
        "softmax_223_hidden_errors",
        Piece(("Y3", "Y4"), ("Y3", "Y4"), 1.0, "hidden errors", ("dLoss/dY3", "dLoss/dY4")),
    ),
    "softmax_223_hidden_deltas": Exercise(
        "softmax_223_hidden_deltas",
        "piece",
        SOFTMAX_223,
        "fn(x, params, target)",
        "softmax_223_hidden_deltas",
        Piece(("z3", "z4"), ("z3", "z4"), 1.0, "hidden deltas", ("dLoss/dz3", "dLoss/dz4")),
    ),
    # the learner's own gradient check and a mini-batch (issue 11; gradelib.kinds says how each is questioned)
    "central_difference": Exercise("central_difference", "difference", None, "fn(f, x)", "central_difference"),
    "relative_error": Exercise("relative_error", "relative_error", None, "fn(a, b)", "relative_error"),
    "wrong_gradient": Exercise("wrong_gradient", "answer", SINGLE_NEURON, "fn()", "which_gradient_is_wrong"),
    "single_neuron_batch": Exercise(
        "single_neuron_batch", "batch", SINGLE_NEURON, "fn(X, params, targets)", "single_neuron_batch_gradients"
    ),
}


def lookup(name: str) -> Exercise:
    """The Exercise called name, or a ValueError whose message lists the right names."""
    if isinstance(name, str) and name in EXERCISES:
        return EXERCISES[name]
    known = ", ".join(repr(n) for n in EXERCISES)
    raise ValueError(f"There is no exercise called {name!r}. The exercises are: {known}.")
