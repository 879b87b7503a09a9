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
(a weight, a ReLU gate): "δ1 without ReLU'(z1)" is −dLoss/dY1 itself.
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

    def gate(self, z: str) -> Any:
        """ReLU'(z) at the points: 1.0 where on, 0.0 where off."""
        return (self.state[z] > 0) * 1.0

    def is_target(self, k: str) -> Any:
        """[k is the target] for output node Y_k, as 1.0 or 0.0 at each point."""
        return (self.T == int(k[1:])) * 1.0


class Slip(NamedTuple):
    """A named mistake of one piece: the numbers it gives for the keys it touches, and its words."""

    mistake: str  # a short label, as in gradelib.diagnose
    value: Callable[[Truth], dict]  # key -> array (n,): what a student with this slip returns
    sentence: str  # what is wrong, in the notes' symbols
    inherited: tuple = ()  # keys computed from the slipped one: wrong the same way, or right if
    # the student computed them on their own


OUTPUTS = ("Y5", "Y6", "Y7")  # the 2-2-3 net's output nodes, the parents of nodes 3 and 4


SLIPS = {
    "relu_chain_deltas": [
        Slip(
            "delta_sign",
            lambda t: {"delta2": t.G["z2"], "delta1": t.G["z1"]},
            "Your δ's have the wrong sign. δ is minus the gradient: δ2 = Err2·ReLU'(z2) = −dLoss/dz2, "
            "with Err2 = O_b2 − Y2 (not Y2 − O_b2).",
        ),
        Slip(
            "delta2_no_relu_prime",
            lambda t: {"delta2": -t.G["Y2"], "delta1": -t.G["Y2"] * t.P["w12"] * t.gate("z1")},
            "Your δ2 leaves out ReLU'(z2): δ2 = Err2·ReLU'(w12·Y1 + b2), which is 0 where neuron 2 is off.",
            inherited=("delta1",),
        ),
        Slip(
            "delta1_err_not_delta2",
            lambda t: {"delta1": -t.G["Y2"] * t.P["w12"] * t.gate("z1")},
            "Your δ1 starts from Err2 instead of δ2: δ1 = δ2·w12·ReLU'(z1), and δ2 = Err2·ReLU'(z2) carries "
            "neuron 2's gate, so where neuron 2 is off nothing reaches neuron 1.",
        ),
        Slip(
            "delta1_no_w12",
            lambda t: {"delta1": -t.G["z2"] * t.gate("z1")},
            "Your δ1 leaves out w12: the error reaches neuron 1 through the edge w12, so δ1 = δ2·w12·ReLU'(z1).",
        ),
        Slip(
            "delta1_wrong_gate",
            lambda t: {"delta1": -t.G["Y1"]},
            "Your δ1 has no ReLU'(z1), neuron 1's own gate: δ1 = δ2·w12·ReLU'(w11·x1 + b1). (A ReLU'(z2) "
            "there changes nothing: that gate is already inside δ2.) Where neuron 1 is off, δ1 is 0.",
        ),
        Slip(
            "delta1_times_Y1",
            lambda t: {"delta1": -t.G["Y1"] * t.state["Y1"]},
            "Your δ1 multiplies by Y1 = ReLU(z1) where the gate ReLU'(z1) belongs: "
            "δ1 = δ2·w12·ReLU'(z1), and ReLU'(z1) is 1 or 0.",
        ),
    ],
    "softmax_223_output_errors": [
        Slip(
            "output_error_sign",
            lambda t: {k: -t.G[k] for k in OUTPUTS},
            "Your output errors have the wrong sign: dLoss/dY_k = P_k − [k is the target], prediction minus truth.",
        ),
        Slip(
            "output_error_no_minus_one",
            lambda t: {k: t.G[k] + t.is_target(k) for k in OUTPUTS},
            "Your output errors have no −1 at the target: dLoss/dY_k = P_k − [k is the target], so it is "
            "P_k − 1 at the target node and P_k at the others.",
        ),
        Slip(
            "output_error_target_only",
            lambda t: {k: t.G[k] * t.is_target(k) for k in OUTPUTS},
            "Your output errors are 0 away from the target. The loss is −log P_target, but P_target shares "
            "its denominator with every output, so dLoss/dY_k = P_k at the other nodes.",
        ),
        Slip(
            "output_error_minus_one_everywhere",
            lambda t: {k: t.G[k] - 1 + t.is_target(k) for k in OUTPUTS},
            "Your output errors subtract 1 at every node: the 1 belongs to the target only, "
            "dLoss/dY_k = P_k − [k is the target].",
        ),
    ],
    "softmax_223_hidden_errors": [
        Slip(
            "hidden_error_sign",
            lambda t: {"Y3": -t.G["Y3"], "Y4": -t.G["Y4"]},
            "Your hidden errors have the wrong sign: dLoss/dY3 = (P5 − [5 is the target])·W35 + ... , "
            "built from the output errors P_k − [k is the target].",
        ),
        Slip(
            "hidden_error_target_only",
            lambda t: {h: sum(t.G[k] * t.is_target(k) * t.P[f"W{h[1]}{k[1]}"] for k in OUTPUTS) for h in ("Y3", "Y4")},
            "Your hidden errors take only the target's path. Node 3 feeds nodes 5, 6 and 7, its parents, and "
            "each path counts: dLoss/dY3 = dLoss/dY5·W35 + dLoss/dY6·W36 + dLoss/dY7·W37, and the same for "
            "node 4 with W45, W46, W47.",
        ),
        Slip(
            "hidden_error_no_minus_one",
            lambda t: {h: t.G[h] + sum(t.is_target(k) * t.P[f"W{h[1]}{k[1]}"] for k in OUTPUTS) for h in ("Y3", "Y4")},
            "Your hidden errors are built from output errors without the −1: dLoss/dY_k = P_k − [k is the "
            "target], then dLoss/dY3 = dLoss/dY5·W35 + dLoss/dY6·W36 + dLoss/dY7·W37.",
        ),
        Slip(
            "hidden_error_swapped_weights",
            lambda t: {h: sum(t.G[k] * t.P[f"W{o}{k[1]}"] for k in OUTPUTS) for h, o in (("Y3", "4"), ("Y4", "3"))},
            "Your hidden errors use the other node's weights: W_ij goes from node i to node j, so node 3 "
            "reaches the outputs through W35, W36, W37, and node 4 through W45, W46, W47.",
        ),
        Slip(
            "hidden_error_through_relu",
            lambda t: {"Y3": t.G["z3"], "Y4": t.G["z4"]},
            "Your hidden errors are already multiplied by ReLU'(z): that is dLoss/dz3, the next piece. "
            "dLoss/dY3 is the sum over the parents alone, and it is not 0 where node 3 is off.",
        ),
    ],
    "softmax_223_hidden_deltas": [
        Slip(
            "hidden_delta_sign",
            lambda t: {"z3": -t.G["z3"], "z4": -t.G["z4"]},
            "Your hidden deltas have the wrong sign: they are the −dLoss/dz of notes 000's δ. Here the "
            "piece is dLoss/dz3 = dLoss/dY3·ReLU'(z3) itself, which is what the updates subtract.",
        ),
        Slip(
            "hidden_delta_no_relu_prime",
            lambda t: {"z3": t.G["Y3"], "z4": t.G["Y4"]},
            "Your hidden deltas leave out ReLU'(z): dLoss/dz3 = dLoss/dY3·ReLU'(z3), which is 0 where node 3 is off.",
        ),
        Slip(
            "hidden_delta_swapped_gate",
            lambda t: {"z3": t.G["Y3"] * t.gate("z4"), "z4": t.G["Y4"] * t.gate("z3")},
            "Your hidden deltas use the other node's gate: dLoss/dz3 = dLoss/dY3·ReLU'(z3) and "
            "dLoss/dz4 = dLoss/dY4·ReLU'(z4), each node with its own z.",
        ),
        Slip(
            "hidden_delta_times_Y",
            lambda t: {"z3": t.G["Y3"] * t.state["Y3"], "z4": t.G["Y4"] * t.state["Y4"]},
            "Your hidden deltas multiply by Y = ReLU(z) where the gate ReLU'(z) belongs: "
            "dLoss/dz3 = dLoss/dY3·ReLU'(z3), and ReLU'(z3) is 1 or 0.",
        ),
        Slip(
            "hidden_delta_target_only",
            lambda t: {
                f"z{h[1]}": t.gate(f"z{h[1]}") * sum(t.G[k] * t.is_target(k) * t.P[f"W{h[1]}{k[1]}"] for k in OUTPUTS)
                for h in ("Y3", "Y4")
            },
            "Your hidden deltas take only the target's path: dLoss/dY3 sums over all three parents, "
            "dLoss/dY5·W35 + dLoss/dY6·W36 + dLoss/dY7·W37, before the gate ReLU'(z3).",
        ),
    ],
}


# ------------------------------------------------------------------ the verdict


def expected(ex: Any, t: Any) -> dict[str, Any]:
    """What the piece's dict should hold at the points: sign·dLoss/d(node) for each key."""
    return {k: ex.piece.sign * t.G[node] for k, node in zip(ex.piece.keys, ex.piece.nodes)}


def truth(ex: Any, pts: Any) -> Any:
    """The node derivatives of every node, and the forward pass, at the test points pts."""
    net = ex.network
    return Truth(node_gradients(net, pts.X, pts.P, pts.T, all_nodes(net)), pts.state, pts.P, np.asarray(pts.T))


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
    for k in piece.keys:
        bad = ~np.isfinite(S[k])
        if bad.any():
            i = int(np.argmax(bad))
            return Result.wrong(
                ex.name,
                "not_finite",
                f"{symbol[k]} is {S[k][i]} at the test point {pts.describe(i)}; it is always a finite number here.",
                notes,
            )
    t = truth(ex, pts)
    E = expected(ex, t)
    wrong = [k for k in piece.keys if not close(S[k], E[k])]
    if not wrong:
        return Result.praise(ex.name, _praise(ex, pts), notes)
    found: list[Mistake] = []
    per_key: dict[str, str] = {}  # a wrong key -> the mistake that explains it
    for slip in SLIPS.get(ex.name, ()):
        left = [k for k in wrong if k not in per_key]
        if not left:
            break
        value = slip.value(t)
        own = [k for k in value if k not in slip.inherited]
        # the slip is yours if all its own keys are its numbers, one of them wrong; an inherited key is its
        # number (then the slip explains it too) or the right one
        matches = (
            all(close(S[k], value[k]) for k in own)
            and any(k in left for k in own)
            and all(close(S[k], value[k]) or close(S[k], E[k]) for k in slip.inherited)
        )
        explained = [k for k in left if k in value and close(S[k], value[k])]
        if matches and explained:
            found.append(
                Mistake(
                    slip.mistake,
                    _with_example(slip.sentence, explained[0], S, E, pts, symbol, reveal),
                    tuple(explained),
                )
            )
            for k in explained:
                per_key[k] = slip.mistake
    unexplained = [k for k in wrong if k not in per_key]
    if unexplained:
        k = unexplained[0]
        node = dict(zip(piece.keys, piece.nodes))[k]
        meaning = f"dLoss/d{node}" if piece.sign > 0 else f"−dLoss/d{node}"
        definition = meaning if symbol[k] == meaning else f"{symbol[k]} = {meaning}"
        sentence = (
            f"Your {join_and(symbol[u] for u in unexplained)} {'is' if len(unexplained) == 1 else 'are'} "
            f"not right, and gradelib does not recognise the slip: {definition} is how fast the loss "
            f"changes as {node} changes{', with the sign flipped' if piece.sign < 0 else ''}."
        )
        found.append(Mistake("wrong_value", _with_example(sentence, k, S, E, pts, symbol, reveal), tuple(unexplained)))
    return Result(ex.name, False, found, notes)


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
