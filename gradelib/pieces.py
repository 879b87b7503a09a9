"""Staged local gradients: the pieces of a backward pass, each checked on its own before the whole.

A piece is a dict of derivatives of the loss with respect to NODES of the
forward pass (the notes' δ2 and δ1; the output errors dLoss/dY5..dY7; the
hidden errors dLoss/dY3, dLoss/dY4; the hidden deltas dLoss/dz3, dLoss/dz4).
What a piece should be comes from the loss alone, by central differences in
the node's value:

    dLoss/d(node) ≈ (Loss(node + h) − Loss(node − h)) / (2h)

The node is moved inside gradelib's own forward pass: a ReLU node's z or Y
through the network's ``ops`` (see gradelib.networks), a linear output node Y_k
through its bias b_k, which enters Y_k with factor 1 and nowhere else.  So,
like gradelib.oracle, no gradient formula is written down here.

A piece's mistakes are named by comparing the student's numbers with what a
slip would give, built from the same node derivatives and a local factor
(a weight, a ReLU gate): "δ1 without ReLU'(z1)" is −dLoss/dY1 itself.  The
slips are gradelib.slips.Slip records, tried by priority; a hidden piece also
names the slips it inherits from the output errors (the logits for P, no −1).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import oracle
from .diagnose import agree, close
from .exercises import EXERCISES, Exercise
from .networks import Plain
from .points import Points
from .result import Mistake, Result
from .slips import Slip, by_priority
from .text import full_stop, join_and

H = oracle.H


class Nudged(Plain):
    """The plain forward pass with chosen ReLU nodes moved: pre[node] added to its z, post[node] to its Y."""

    def __init__(self, pre=None, post=None):
        self.pre, self.post = pre or {}, post or {}

    def relu(self, node: str, z: Any) -> Any:
        return np.maximum(z + self.pre.get(node, 0.0), 0.0) + self.post.get(node, 0.0)


def _handle(net, node):
    """How to move node's value: ("pre", ReLU node), ("post", ReLU node) or ("bias", its bias parameter)."""
    for u, relu in net.relus.items():
        if node == relu.pre:
            return "pre", u
    if node in net.relus:
        return "post", node
    biases = [p for p, (src, dst) in net.edges.items() if src is None and dst == node]
    if node in net.output_nodes and biases:
        return "bias", biases[0]
    raise ValueError(f"gradelib cannot differentiate {net.name} with respect to {node!r}.")


def node_gradients(net: Any, X: Any, P: Any, T: Any, nodes: Sequence[str]) -> dict[str, Any]:
    """dLoss/d(node) for every node at n points at once, by central differences in the node's value.

    X: tuple of arrays (n,); P: dict of arrays (n,); T: array (n,); nodes: keys of
    the forward pass ("z1", "Y3", "Y5").  Returns {node: array (n,)}.  As in
    gradelib.oracle, where a move of ±h switches a ReLU, the one-sided quotient
    on the side where none switched is used; like the oracle, it refuses inside
    a student's function and answers NaN once withdrawn.
    """
    if oracle.withdrawn():
        return {node: np.full(np.shape(T), np.nan) for node in nodes}
    oracle.refuse_inside_student_code()
    cols = 2 * len(nodes) + 1  # columns 2j, 2j+1 move node j by ±h; the last is the base point
    Xc = tuple(np.asarray(x, float)[:, None] for x in X)
    Pc = {k: np.repeat(np.asarray(P[k], float)[:, None], cols, axis=1) for k in net.params}
    pre: dict[str, np.ndarray] = {}
    post: dict[str, np.ndarray] = {}
    for j, node in enumerate(nodes):
        move = np.zeros(cols)
        move[2 * j], move[2 * j + 1] = H, -H
        kind, where = _handle(net, node)
        if kind == "bias":
            Pc[where] = Pc[where] + move
        else:
            bucket = pre if kind == "pre" else post
            bucket[where] = bucket.get(where, 0.0) + move
    state = net.forward(Xc, Pc, np.asarray(T)[:, None], Nudged(pre, post))
    L = state["Loss"]
    on = [state[relu.pre] + pre.get(u, 0.0) > 0 for u, relu in net.relus.items()]
    return {node: oracle.quotient(L, on, j, H) for j, node in enumerate(nodes)}


def all_nodes(net: Any) -> list[str]:
    """Every node a piece may ask about: each ReLU's z and Y, and the output nodes."""
    found = []
    for u, relu in net.relus.items():
        found += [relu.pre, u]
    return found + [o for o in net.output_nodes if o not in found]


def at_point(net: Any, x: Any, params: Any, target: Any) -> dict[str, float]:
    """dLoss/d(node) for every node of all_nodes(net) at one point, as Python floats (for drawings and tables)."""
    net.validate(x, params, target)
    X = tuple(np.array([float(v)]) for v in x)
    P = {k: np.array([float(params[k])]) for k in net.params}
    g = node_gradients(net, X, P, np.array([target]), all_nodes(net))
    return {node: float(v[0]) for node, v in g.items()}


# ------------------------------------------------------------------ the truth at the test points, and the slips


class Truth(NamedTuple):
    """What the slips are built from, at the n test points."""

    G: dict  # node -> dLoss/d(node), arrays (n,), from node_gradients
    state: dict  # the forward pass at the points
    P: dict  # the parameters, arrays (n,)
    T: np.ndarray  # the targets
    X: tuple = ()  # the inputs, one array (n,) per input node

    def gate(self, z: str) -> Any:
        """ReLU'(z) at the points: 1.0 where on, 0.0 where off."""
        return (self.state[z] > 0) * 1.0

    def is_target(self, k: str) -> Any:
        """[k is the target] for output node Y_k, as 1.0 or 0.0 at each point."""
        return (self.T == int(k[1:])) * 1.0


OUTPUTS = ("Y5", "Y6", "Y7")  # the 2-2-3 net's output nodes, the parents of nodes 3 and 4
HIDDEN = ("Y3", "Y4")
Errors = Callable[[Truth], dict]  # output node -> what a learner takes as dLoss/dY_k, arrays (n,)


def back(t: Truth, e: dict, parents: Sequence[str] = OUTPUTS, weight: Callable | None = None) -> dict:
    """{Y3, Y4}: each hidden node's sum over its parents of e_k·W_hk (weight(h, k) in place of W_hk if given)."""
    w = weight or (lambda h, k: t.P[f"W{h[1]}{k[1]}"])
    return {h: sum(e[k] * w(h, k) for k in parents) for h in HIDDEN}


def gated(t: Truth, d: dict) -> dict:
    """{z3, z4}: the hidden errors through each node's own ReLU'."""
    return {f"z{h[1]}": d[h] * t.gate(f"z{h[1]}") for h in HIDDEN}


# what a learner may take for the output errors: the rule P_k − [k is the target] with one thing changed
ERRORS: dict[str, Errors] = {
    "no_minus_one": lambda t: {k: t.G[k] + t.is_target(k) for k in OUTPUTS},
    "logits": lambda t: {k: t.state[k] - t.is_target(k) for k in OUTPUTS},
    "unnormalised": lambda t: {k: np.exp(t.state[k]) - t.is_target(k) for k in OUTPUTS},
    "target_only": lambda t: {k: t.G[k] * t.is_target(k) for k in OUTPUTS},
    "minus_one_everywhere": lambda t: {k: t.G[k] - 1 + t.is_target(k) for k in OUTPUTS},
}
PARENTS = "; ".join(f"dLoss/dY{h} = " + " + ".join(f"dLoss/dY{k}·W{h}{k}" for k in (5, 6, 7)) for h in (3, 4))
LOGITS = "P_k = softmax(Y)_k, not the logit Y_k itself: e^{Y_k} / (e^{Y5} + e^{Y6} + e^{Y7})"
UNNORMALISED = "P_k = e^{Y_k} divided by e^{Y5} + e^{Y6} + e^{Y7}: without the division they do not sum to 1"


def _sign_words(wrong: list[str]) -> str:
    """The sentence for δ's of the wrong sign, both of them or one alone (wrong: their symbols)."""
    if wrong == ["δ1"]:
        return "Your δ1 has the wrong sign. δ is minus the gradient: δ1 = δ2·w12·ReLU'(z1) = −dLoss/dz1."
    return (
        ("Your δ's have" if len(wrong) > 1 else f"Your {wrong[0]} has") + " the wrong sign. δ is minus the gradient: "
        "δ2 = Err2·ReLU'(z2) = −dLoss/dz2, with Err2 = O_b2 − Y2 (not Y2 − O_b2)."
    )


RELU_CHAIN_SLIPS: list[Slip[Truth]] = [
    Slip(
        "delta_sign",
        lambda t: {"delta2": t.G["z2"], "delta1": t.G["z1"]},
        _sign_words,
        priority=10,
        each_alone=True,  # δ1 = −dLoss/dz1 may be flipped on its own
    ),
    Slip(
        "delta2_no_relu_prime",
        lambda t: {"delta2": -t.G["Y2"], "delta1": -t.G["Y2"] * t.P["w12"] * t.gate("z1")},
        "Your δ2 leaves out ReLU'(z2): δ2 = Err2·ReLU'(w12·Y1 + b2), which is 0 where neuron 2 is off.",
        priority=20,
        carries=("delta1",),
    ),
    Slip(
        "delta2_times_Y2",
        lambda t: {
            "delta2": -t.G["Y2"] * t.state["Y2"],
            "delta1": -t.G["Y2"] * t.state["Y2"] * t.P["w12"] * t.gate("z1"),
        },
        "Your δ2 multiplies by Y2 = ReLU(z2) where the gate ReLU'(z2) belongs: δ2 = Err2·ReLU'(z2), and "
        "ReLU'(z2) is 1 or 0.",
        priority=22,
        carries=("delta1",),
    ),
    Slip(
        "delta2_wrong_gate",
        lambda t: {"delta2": -t.G["Y2"] * t.gate("z1"), "delta1": -t.G["Y2"] * t.P["w12"] * t.gate("z1")},
        "Your δ2 uses ReLU'(z1), neuron 1's gate: δ2 = Err2·ReLU'(z2), with neuron 2's own z2 = w12·Y1 + b2.",
        priority=25,
        carries=("delta1",),
    ),
    Slip(
        "delta1_err_not_delta2",
        lambda t: {"delta1": -t.G["Y2"] * t.P["w12"] * t.gate("z1")},
        "Your δ1 starts from Err2 instead of δ2: δ1 = δ2·w12·ReLU'(z1), and δ2 = Err2·ReLU'(z2) carries "
        "neuron 2's gate, so where neuron 2 is off nothing reaches neuron 1.",
        priority=30,
    ),
    Slip(
        "delta1_no_w12",
        lambda t: {"delta1": -t.G["z2"] * t.gate("z1")},
        "Your δ1 leaves out w12: the error reaches neuron 1 through the edge w12, so δ1 = δ2·w12·ReLU'(z1).",
        priority=40,
    ),
    Slip(
        "delta1_wrong_weight",
        lambda t: {"delta1": -t.G["z2"] * t.P["w11"] * t.gate("z1")},
        "Your δ1 goes back through w11, the edge into neuron 1; the error reaches neuron 1 through the edge "
        "it leaves by, w12 (neuron 1 to neuron 2): δ1 = δ2·w12·ReLU'(z1).",
        priority=45,
    ),
    Slip(
        "delta1_times_x1",
        lambda t: {"delta1": -t.G["z2"] * t.X[0] * t.gate("z1")},
        "Your δ1 multiplies by the input x1 where the weight w12 belongs: δ1 = δ2·w12·ReLU'(z1). x1 comes in "
        "later, in dLoss/dw11 = −δ1·x1.",
        priority=47,
    ),
    Slip(
        "delta1_wrong_gate",
        lambda t: {"delta1": -t.G["Y1"]},
        "Your δ1 has no ReLU'(z1), neuron 1's own gate: δ1 = δ2·w12·ReLU'(w11·x1 + b1). (A ReLU'(z2) "
        "there changes nothing: that gate is already inside δ2.) Where neuron 1 is off, δ1 is 0.",
        priority=50,
    ),
    Slip(
        "delta1_times_Y1",
        lambda t: {"delta1": -t.G["Y1"] * t.state["Y1"]},
        "Your δ1 multiplies by Y1 = ReLU(z1) where the gate ReLU'(z1) belongs: "
        "δ1 = δ2·w12·ReLU'(z1), and ReLU'(z1) is 1 or 0.",
        priority=60,
    ),
    Slip(
        "deltas_swapped",
        lambda t: {"delta2": -t.G["z1"], "delta1": -t.G["z2"]},
        "Your δ2 and δ1 are each other's: the key 'delta2' is neuron 2's δ, Err2·ReLU'(z2), and 'delta1' "
        "neuron 1's, δ2·w12·ReLU'(z1).",
        priority=70,
    ),
]


OUTPUT_ERROR_SLIPS: list[Slip[Truth]] = [
    Slip(
        "output_error_sign",
        lambda t: {k: -t.G[k] for k in OUTPUTS},
        "Your output errors have the wrong sign: dLoss/dY_k = P_k − [k is the target], prediction minus truth.",
        priority=10,
    ),
    Slip(
        "output_error_no_minus_one",
        ERRORS["no_minus_one"],
        "Your output errors have no −1 at the target: dLoss/dY_k = P_k − [k is the target], so it is "
        "P_k − 1 at the target node and P_k at the others.",
        priority=20,
    ),
    Slip(
        "output_error_target_only",
        ERRORS["target_only"],
        "Your output errors are 0 away from the target. The loss is −log P_target, but P_target shares "
        "its denominator with every output, so dLoss/dY_k = P_k at the other nodes.",
        priority=30,
    ),
    Slip(
        "output_error_minus_one_everywhere",
        ERRORS["minus_one_everywhere"],
        "Your output errors subtract 1 at every node: the 1 belongs to the target only, "
        "dLoss/dY_k = P_k − [k is the target].",
        priority=40,
    ),
    Slip(
        "output_error_logits",
        ERRORS["logits"],
        f"Your output errors take the logits Y_k for the probabilities: dLoss/dY_k = P_k − [k is the target], "
        f"with {LOGITS}.",
        priority=50,
    ),
    Slip(
        "output_error_unnormalised",
        ERRORS["unnormalised"],
        f"Your output errors use e^(Y_k) for P_k: dLoss/dY_k = P_k − [k is the target], with {UNNORMALISED}.",
        priority=60,
    ),
]


def _one_parent(piece: str, k: str, priority: int, through: Callable[[Truth, dict], dict]) -> Slip[Truth]:
    return Slip(
        f"{piece}_only_{k}",
        lambda t: through(t, back(t, t.G, parents=(k,))),
        f"Your {piece.replace('_', ' ')}s take only the path through node {k[1]}: each hidden node feeds all three "
        f"outputs, its parents, and every path counts: {PARENTS}.",
        priority=priority,
    )


def _inherited(piece: str, through: Callable[[Truth, dict], dict], first: int) -> list[Slip[Truth]]:
    """A hidden piece's slips that come from the output errors or the sum over the parents (shared by both)."""
    what = f"Your {piece.replace('_', ' ')}s"
    return [
        Slip(
            f"{piece}_no_minus_one",
            lambda t: through(t, back(t, ERRORS["no_minus_one"](t))),
            f"{what} are built from output errors without the −1: dLoss/dY_k = P_k − [k is the "
            "target], then dLoss/dY3 = dLoss/dY5·W35 + dLoss/dY6·W36 + dLoss/dY7·W37.",
            priority=first - 2,
        ),
        Slip(
            f"{piece}_swapped_weights",
            lambda t: through(t, back(t, t.G, weight=lambda h, k: t.P[f"W{7 - int(h[1])}{k[1]}"])),
            f"{what} use the other node's weights: W_ij goes from node i to node j, so node 3 "
            "reaches the outputs through W35, W36, W37, and node 4 through W45, W46, W47.",
            priority=first - 1,
        ),
        Slip(
            f"{piece}_logits",
            lambda t: through(t, back(t, ERRORS["logits"](t))),
            f"{what} are built from output errors that take the logits Y_k for the probabilities: dLoss/dY_k = "
            f"P_k − [k is the target], with {LOGITS}; then {PARENTS}.",
            priority=first,
        ),
        Slip(
            f"{piece}_unnormalised",
            lambda t: through(t, back(t, ERRORS["unnormalised"](t))),
            f"{what} are built from output errors with e^(Y_k) for P_k: {UNNORMALISED}.",
            priority=first + 1,
        ),
        Slip(
            f"{piece}_minus_one_everywhere",
            lambda t: through(t, back(t, ERRORS["minus_one_everywhere"](t))),
            f"{what} are built from output errors that subtract 1 at every node: the 1 belongs to the target only, "
            f"dLoss/dY_k = P_k − [k is the target]; then {PARENTS}.",
            priority=first + 2,
        ),
        Slip(
            f"{piece}_no_weights",
            lambda t: through(t, back(t, t.G, weight=lambda h, k: 1.0)),
            f"{what} add up the output errors without their weights: each path to a parent k carries the "
            f"weight W_hk of its edge, {PARENTS}.",
            priority=first + 3,
        ),
    ] + [_one_parent(piece, k, first + 4 + i, through) for i, k in enumerate(OUTPUTS)]


def _plain(t: Truth, d: dict) -> dict:
    return d


HIDDEN_ERROR_SLIPS: list[Slip[Truth]] = [
    Slip(
        "hidden_error_sign",
        lambda t: {"Y3": -t.G["Y3"], "Y4": -t.G["Y4"]},
        "Your hidden errors have the wrong sign: dLoss/dY3 = (P5 − [5 is the target])·W35 + ... , "
        "built from the output errors P_k − [k is the target].",
        priority=10,
    ),
    Slip(
        "hidden_error_target_only",
        lambda t: back(t, ERRORS["target_only"](t)),
        "Your hidden errors take only the target's path. Node 3 feeds nodes 5, 6 and 7, its parents, and "
        "each path counts: dLoss/dY3 = dLoss/dY5·W35 + dLoss/dY6·W36 + dLoss/dY7·W37, and the same for "
        "node 4 with W45, W46, W47.",
        priority=20,
    ),
    Slip(
        "hidden_error_through_relu",
        lambda t: {"Y3": t.G["z3"], "Y4": t.G["z4"]},
        "Your hidden errors are already multiplied by ReLU'(z): that is dLoss/dz3, the next piece. "
        "dLoss/dY3 is the sum over the parents alone, and it is not 0 where node 3 is off.",
        priority=50,
    ),
] + _inherited("hidden_error", _plain, 60)


HIDDEN_DELTA_SLIPS: list[Slip[Truth]] = [
    Slip(
        "hidden_delta_sign",
        lambda t: {"z3": -t.G["z3"], "z4": -t.G["z4"]},
        "Your hidden deltas have the wrong sign: they are the −dLoss/dz of notes 000's δ. Here the "
        "piece is dLoss/dz3 = dLoss/dY3·ReLU'(z3) itself, which is what the updates subtract.",
        priority=10,
    ),
    Slip(
        "hidden_delta_no_relu_prime",
        lambda t: {"z3": t.G["Y3"], "z4": t.G["Y4"]},
        "Your hidden deltas leave out ReLU'(z): dLoss/dz3 = dLoss/dY3·ReLU'(z3), which is 0 where node 3 is off.",
        priority=20,
    ),
    Slip(
        "hidden_delta_swapped_gate",
        lambda t: {"z3": t.G["Y3"] * t.gate("z4"), "z4": t.G["Y4"] * t.gate("z3")},
        "Your hidden deltas use the other node's gate: dLoss/dz3 = dLoss/dY3·ReLU'(z3) and "
        "dLoss/dz4 = dLoss/dY4·ReLU'(z4), each node with its own z.",
        priority=30,
    ),
    Slip(
        "hidden_delta_times_Y",
        lambda t: {"z3": t.G["Y3"] * t.state["Y3"], "z4": t.G["Y4"] * t.state["Y4"]},
        "Your hidden deltas multiply by Y = ReLU(z) where the gate ReLU'(z) belongs: "
        "dLoss/dz3 = dLoss/dY3·ReLU'(z3), and ReLU'(z3) is 1 or 0.",
        priority=40,
    ),
    Slip(
        "hidden_delta_target_only",
        lambda t: gated(t, back(t, ERRORS["target_only"](t))),
        "Your hidden deltas take only the target's path: dLoss/dY3 sums over all three parents, "
        "dLoss/dY5·W35 + dLoss/dY6·W36 + dLoss/dY7·W37, before the gate ReLU'(z3).",
        priority=50,
    ),
] + _inherited("hidden_delta", gated, 60)


SLIPS: dict[str, list[Slip[Truth]]] = {
    "relu_chain_deltas": by_priority(RELU_CHAIN_SLIPS),
    "softmax_223_output_errors": by_priority(OUTPUT_ERROR_SLIPS),
    "softmax_223_hidden_errors": by_priority(HIDDEN_ERROR_SLIPS),
    "softmax_223_hidden_deltas": by_priority(HIDDEN_DELTA_SLIPS),
}


# ------------------------------------------------------------------ the verdict


def expected(ex: Any, t: Any) -> dict[str, Any]:
    """What the piece's dict should hold at the points: sign·dLoss/d(node) for each key."""
    return {k: ex.piece.sign * t.G[node] for k, node in zip(ex.piece.keys, ex.piece.nodes)}


def truth(ex: Any, pts: Any) -> Any:
    """The node derivatives of every node, and the forward pass, at the test points pts."""
    net = ex.network
    G = node_gradients(net, pts.X, pts.P, pts.T, all_nodes(net))
    return Truth(G, pts.state, pts.P, np.asarray(pts.T), tuple(np.asarray(x, float) for x in pts.X))


def _not_finite(ex: Exercise, pts: Points, S: dict, notes: list) -> Result | None:
    """The verdict on a key that is not a finite number at some point, or None."""
    symbol = dict(zip(ex.the_piece.keys, ex.the_piece.symbols))
    for k in ex.the_piece.keys:
        bad = ~np.isfinite(S[k])
        if bad.any():
            i = int(np.argmax(bad))
            return Result.wrong(
                ex.name,
                "not_finite",
                f"{symbol[k]} is {S[k][i]} at the test point {pts.describe(i)}; it is always a finite number here.",
                notes,
            )
    return None


def _explains(slip: Slip[Truth], value: dict, S: dict, E: dict, left: list) -> list[str]:
    """The wrong keys left that slip explains: all its own keys are its numbers, one of them wrong, and a key
    it carries is its number (then explained too) or the right one; [] when the slip is not the learner's."""
    own = [k for k in value if k not in slip.carries]
    matches = (
        all(close(S[k], value[k]) or (slip.each_alone and close(S[k], E[k])) for k in own)
        and any(k in left for k in own)
        and all(close(S[k], value[k]) or close(S[k], E[k]) for k in slip.carries)
    )
    return [k for k in left if k in value and close(S[k], value[k])] if matches else []


def _slips_found(ex, t, S, E, wrong):
    """(slip, keys it explains) for the wrong keys, by priority; each key explained once."""
    found, left = [], list(wrong)
    for slip in SLIPS.get(ex.name, ()):
        if not left:
            break
        explained = _explains(slip, slip.gives(t), S, E, left) if slip.applies(t) else []
        if explained:
            found.append((slip, explained))
            left = [k for k in left if k not in explained]
    return found, left


def judge_piece(
    ex: Exercise, pts: Points, answers: Sequence[dict[str, float]], reveal: bool, notes: Sequence[str] = ()
) -> Result:
    """The verdict on plain answers, one {key: float} per test point of pts.

    Shared by check() and by the grader's verifier outside the kernel, so that
    both reach the same verdict in the same words.
    """
    piece, notes = ex.the_piece, list(notes)
    symbol = dict(zip(piece.keys, piece.symbols))
    S = {k: np.array([a[k] for a in answers]) for k in piece.keys}
    bad = _not_finite(ex, pts, S, notes)
    if bad is not None:
        return bad
    t = truth(ex, pts)
    E = expected(ex, t)
    wrong = [k for k in piece.keys if not close(S[k], E[k])]
    if not wrong:
        return Result.praise(ex.name, _praise(ex, pts), notes)
    slips, unexplained = _slips_found(ex, t, S, E, wrong)
    found = [
        Mistake(
            slip.name,
            _with_example(slip.sentence([symbol[k] for k in keys]), keys[0], S, E, pts, symbol, reveal),
            tuple(keys),
        )
        for slip, keys in slips
    ]
    if unexplained:
        found.append(_unrecognised(piece, unexplained, S, E, pts, symbol, reveal))
    return Result(ex.name, False, found, notes)


def _unrecognised(piece, unexplained, S, E, pts, symbol, reveal):
    k = unexplained[0]
    node = dict(zip(piece.keys, piece.nodes))[k]
    meaning = f"dLoss/d{node}" if piece.sign > 0 else f"−dLoss/d{node}"
    definition = meaning if symbol[k] == meaning else f"{symbol[k]} = {meaning}"
    sentence = (
        f"Your {join_and(symbol[u] for u in unexplained)} {'is' if len(unexplained) == 1 else 'are'} "
        f"not right, and gradelib does not recognise the slip: {definition} is how fast the loss "
        f"changes as {node} changes{', with the sign flipped' if piece.sign < 0 else ''}."
    )
    return Mistake("wrong_value", _with_example(sentence, k, S, E, pts, symbol, reveal), tuple(unexplained))


def _with_example(sentence, k, S, E, pts, symbol, reveal):
    if not reveal:
        return sentence
    i = int(np.argmax(~agree(S[k], E[k])))
    return (
        full_stop(sentence)
        + f" For example at {pts.example(i)}: {symbol[k]} = {E[k][i] + 0.0:.6g}, yours is {S[k][i] + 0.0:.6g}."
    )


def _praise(ex, pts):
    net, piece = ex.network, ex.piece
    patterns = [
        f"{relu.label} on at {int(pts.on(u).sum())} and off at {len(pts) - int(pts.on(u).sum())}"
        for u, relu in net.relus.items()
    ]
    signed = "minus the numerical derivative" if piece.sign < 0 else "the numerical derivative"
    return (
        f"Your {join_and(piece.symbols)} agree with {signed} of the loss with respect to "
        f"{join_and(piece.nodes)} at {len(pts)} test points ({'; '.join(patterns)})."
    )


# ------------------------------------------------------------------ which piece a failing gradient inherits from


def pieces_of(ex: Exercise) -> list[Exercise]:
    """The piece exercises of ex's network, upstream first (the order of EXERCISES)."""
    return [p for p in EXERCISES.values() if p.piece is not None and p.network is ex.network]  # only pieces have one


def _global(fn, name):
    """fn's global called name if it is a plain Python function, else None; no object of the student's is asked.

    The globals' own keys are compared as exact str only: a key object with a
    hash equal to name's and a lying __eq__ could otherwise run during a lookup.
    """
    g = fn.__globals__
    if type(g) is not dict:
        return None
    for key, value in dict.items(g):
        if type(key) is str and str.__eq__(key, name):
            return value if type(value) is types.FunctionType and value is not fn else None
    return None


def _names_used(code):
    """Every global name code reads, nested functions and comprehensions included."""
    found, todo = set(), [code]
    while todo:
        c = todo.pop()
        found |= set(c.co_names)
        todo += [k for k in c.co_consts if isinstance(k, types.CodeType)]
    return found


def blame(ex: Exercise, fn: Callable, result: Result, check_piece: Callable[[str, Callable], Result]) -> Result:
    """result with a first sentence naming the learner's wrong pieces, when ex's check failed.

    ex: a "gradient" exercise; fn: the learner's full gradient function;
    check_piece(exercise, function) -> Result checks one piece (gradelib.check).
    The pieces are looked up by their notebook names among fn's globals, and
    checked when fn calls them or when fn is the learner's own gradient function
    (by its notebook name): a classmate's function in a "spot the mistake" cell
    shares the notebook's globals, but not the learner's pieces.
    """
    skip = {"oracle_borrowed", "not_implemented", "not_callable", "unknown_exercise"}
    if result.passed or set(result.mistakes) & skip or type(fn) is not types.FunctionType:
        return result
    used = _names_used(fn.__code__)
    own = fn.__name__ == ex.notebook_function
    sentences = []
    for piece in pieces_of(ex):
        candidate = _global(fn, piece.notebook_function)
        if candidate is None or not (own or piece.notebook_function in used):
            continue
        r = check_piece(piece.name, candidate)
        if r.passed or "not_implemented" in r.mistakes:
            continue
        name = f"{piece.notebook_function}()"
        symbol = dict(zip(piece.the_piece.keys, piece.the_piece.symbols))
        keys = [symbol[k] for k in piece.the_piece.keys if k in r.per_parameter]
        what = f"gets {join_and(keys)} wrong" if keys else "is not right yet"
        if piece.notebook_function in used:
            sentences.append(
                f"Your {name} {what}, and the gradients built on it inherit the mistake: "
                f"fix it first (its own check says what is wrong)."
            )
        else:
            sentences.append(
                f"Your {name} {what} too: the same slip may be in these gradients (its own check says what is wrong)."
            )
    if not sentences:
        return result
    # the pieces are said first, as remarks: the mistakes found (and their names) stay the gradient's own
    return Result(result.exercise, False, result.found, result.notes, sentences + list(result.remarks))
