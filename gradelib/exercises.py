"""What each exercise is: its network (gradelib.networks) and its student contract.

The network's shape (which weight joins which nodes, which nodes are ReLUs) is
written once, in gradelib.networks, and is all the diagnosis knows about a
network; no gradient formula is written down here.  Every module asks the
Network record for these facts (its ReLU nodes, its output node, its target's
symbol, whether a point is valid) instead of guessing them from a network's
name or from the keys of a forward pass.  The records are re-exported here
under their old names (``from gradelib.exercises import NETWORKS, Network``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .networks import NETWORKS, RELU_CHAIN, SINGLE_NEURON, SOFTMAX_223, Edge, Network, ReLU, find_network

__all__ = [
    "NETWORKS",
    "RELU_CHAIN",
    "SINGLE_NEURON",
    "SOFTMAX_223",
    "Edge",
    "Network",
    "ReLU",
    "find_network",
    "Piece",
    "Exercise",
    "EXERCISES",
    "lookup",
]


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
