"""The 2-2-3 net in matrices: the notes' W_ij (from node i to node j) as row i, column j.

    X = [X1, X2]
    W1 (2×2): row i from input node i+1, column j into hidden node j+3:  W1[0, 1] = W14
    W2 (2×3): row i from hidden node i+3, column j into output node j+5: W2[1, 0] = W45
    b1 = [b3, b4],  b2 = [b5, b6, b7]

    z = X @ W1 + b1,   Y_hidden = ReLU(z),   Y_out = Y_hidden @ W2 + b2,   P = softmax(Y_out)

so that, with e = P − onehot(target) (the output errors),

    dW2 = outer(Y_hidden, e),  db2 = e,  dY_hidden = W2 @ e,  dz = dY_hidden ⊙ ReLU'(z),
    dW1 = outer(X, dz),        db1 = dz.

The 15 scalar formulas of notes 002 are these four lines, entry by entry.
``pack`` and ``unpack`` read the row/column mapping from the network's edges
(gradelib.exercises), not from a table written here; ``check_matrix`` checks a
learner's matrix gradients against the scalar oracle (gradelib.oracle) and
names the matrix slips: a transposed result, an outer product in the wrong
order, the mapping read the other way round.  A self-check only: no points.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import oracle, pieces, points
from .diagnose import agree, close
from .exercises import SOFTMAX_223
from .result import Result
from .slips import Slip, by_priority
from .student import Problem, call, describe_type
from .text import join_and

NET = SOFTMAX_223


class Layer(NamedTuple):
    """One layer as a matrix: which node each row comes from and each column goes into."""

    weights: str  # the matrix's name: "W1"
    bias: str  # its bias vector's name: "b1"
    rows: tuple  # the source nodes, one per row: ("X1", "X2")
    cols: tuple  # the target nodes, one per column: ("Y3", "Y4")


LAYERS = (Layer("W1", "b1", ("X1", "X2"), ("Y3", "Y4")), Layer("W2", "b2", ("Y3", "Y4"), ("Y5", "Y6", "Y7")))
KEYS = ("W1", "b1", "W2", "b2")


def _weight(src, dst):
    return next(p for p, e in NET.edges.items() if e == (src, dst))


def _bias(dst):
    return next(p for p, e in NET.edges.items() if e == (None, dst))


def names() -> dict[str, Any]:
    """{"W1": [["W13", "W14"], ["W23", "W24"]], "b1": ["b3", "b4"], ...}: the notes' name of every entry."""
    out = {}
    for layer in LAYERS:
        out[layer.weights] = [[_weight(r, c) for c in layer.cols] for r in layer.rows]
        out[layer.bias] = [_bias(c) for c in layer.cols]
    return out


def pack(params: dict[str, float]) -> dict[str, Any]:
    """The notes' dict (W13, ..., b7) as the arrays {"W1", "b1", "W2", "b2"}: row = from, column = into."""
    return {
        k: np.array([[float(params[p]) for p in row] for row in v])
        if k.startswith("W")
        else np.array([float(params[p]) for p in v])
        for k, v in names().items()
    }


def unpack(arrays: dict[str, Any]) -> dict[str, float]:
    """The arrays {"W1", "b1", "W2", "b2"} back as the notes' dict of 15 floats."""
    out = {}
    for k, v in names().items():
        a = np.asarray(arrays[k], float)
        if k.startswith("W"):
            out.update({p: float(a[i, j]) for i, row in enumerate(v) for j, p in enumerate(row)})
        else:
            out.update({p: float(a[j]) for j, p in enumerate(v)})
    return {p: out[p] for p in NET.params}


SHAPES = {"W1": (2, 2), "b1": (2,), "W2": (2, 3), "b2": (3,)}


def _read(value, name):
    """The learner's dict of four arrays as plain float arrays of the right shapes, or a Problem."""
    if type(value) is not dict:
        raise Problem(
            "wrong_type",
            f"{name} should return a dict {{'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2}} "
            f"of NumPy arrays; it returned {describe_type(value)}.",
        )
    items = {k: v for k, v in dict.items(value) if type(k) is str}
    missing = [k for k in KEYS if k not in items]
    if missing or len(items) != len(dict.keys(value)) or len(items) != len(KEYS):
        raise Problem(
            "missing_key" if missing else "extra_key",
            f"The dict {name} returns should have exactly the keys 'W1', 'b1', 'W2', 'b2'.",
        )
    out = {}
    for k in KEYS:
        a = items[k]
        if type(a) is not np.ndarray or a.dtype.kind not in "iuf":
            raise Problem("wrong_type", f"d{k} should be a NumPy array of numbers; it is {describe_type(a)}.")
        out[k] = np.array(a, dtype=float)
    return out


def expected(X: Any, P: Any, T: Any) -> dict[str, Any]:
    """The right arrays at the points, from the scalar oracle: {key: array (n, *shape)}."""
    G = oracle.loss_gradients(NET, X, P, T)
    return _stack([{p: G[p][i] for p in NET.params} for i in range(len(T))])


def _stack(dicts):
    """Many notes' dicts as arrays with a leading axis over the points."""
    packed = [pack(d) for d in dicts]
    return {k: np.array([a[k] for a in packed]) for k in KEYS}


def _swapped(P):
    """The parameters with W1 read the other way round (W14 ↔ W23): what z = W1 @ X computes."""
    Q = dict(P)
    Q["W14"], Q["W23"] = P["W23"], P["W14"]
    return Q


class Arrays(NamedTuple):
    """What the matrix slips are computed from: the test points and the right arrays there."""

    pts: Any  # gradelib.points.Points of the 2-2-3 net
    E: dict  # {key: array (n, *shape)}: the right arrays, from the scalar oracle

    def column(self, prefix: str, nodes: tuple) -> Any:
        """The forward pass's values at nodes as an array (n, len(nodes)): column("z", (3, 4)) is z."""
        return np.stack([self.pts.state[f"{prefix}{j}"] for j in nodes], axis=1)

    def onehot(self) -> Any:
        return np.stack([(np.asarray(self.pts.T) == k) * 1.0 for k in NET.classes], axis=1)

    def backward(self, e: Any) -> dict[str, Any]:
        """The four arrays the notes' four lines give from output errors e (n, 3), the forward pass kept."""
        W2 = np.array([pack({p: v[i] for p, v in self.pts.P.items()})["W2"] for i in range(len(self.pts))])
        dz = np.einsum("nij,nj->ni", W2, e) * (self.column("z", (3, 4)) > 0)
        X = np.stack(self.pts.X, axis=1)
        Yh = self.column("Y", (3, 4))
        return {"W1": np.einsum("ni,nj->nij", X, dz), "b1": dz, "W2": np.einsum("ni,nj->nij", Yh, e), "b2": e}


def _mapping_swapped(known: Arrays) -> dict[str, Any]:
    pts = known.pts
    G = oracle.loss_gradients(NET, pts.X, _swapped(pts.P), pts.T)
    return _stack([{p: v[i] for p, v in G.items()} for i in range(len(pts))])


def _ungated(known: Arrays) -> dict[str, Any]:
    pts = known.pts
    G = pieces.node_gradients(NET, pts.X, pts.P, pts.T, ["Y3", "Y4"])
    dY = np.stack([G["Y3"], G["Y4"]], axis=1)
    return dict(known.E, W1=np.einsum("ni,nj->nij", np.stack(pts.X, axis=1), dY), b1=dY)


SLIPS: list[Slip[Arrays]] = by_priority(
    [
        Slip(
            "matrix_sign",
            lambda k: {key: -v for key, v in k.E.items()},
            "Every array has the wrong sign: the output errors are e = P − onehot(target), prediction minus truth.",
            priority=10,
        ),
        Slip(
            "matrix_dW1_transposed",
            lambda k: dict(k.E, W1=np.transpose(k.E["W1"], (0, 2, 1))),
            "Your dW1 is transposed: np.outer(X, dz), not np.outer(dz, X). Row i of W1 is the edge from input "
            "node i and column j the edge into hidden node j, so W1[0, 1] is W14 and dW1[0, 1] = dz4·X1.",
            priority=20,
        ),
        Slip(
            "matrix_mapping_swapped",
            _mapping_swapped,
            "Your forward pass reads W1 the other way round: z = W1 @ X takes W1[i, j] as the edge from node j "
            "to node i. Row i is from input node i, so z = X @ W1 + b1 (z_j = Σ_i X_i·W1[i, j]).",
            priority=30,
        ),
        Slip(
            "matrix_no_relu_prime",
            _ungated,
            "Your gradient leaves out ReLU'(z) where dz belongs: dz = dY_hidden * (z > 0), element by element, and "
            "both db1 = dz and dW1 = np.outer(X, dz) are built from it.",
            priority=40,
            each_alone=True,
        ),
        Slip(
            "matrix_no_minus_one",
            lambda k: k.backward(k.E["b2"] + k.onehot()),
            "Your output errors e have no −1 at the target: e = P − onehot(target), where onehot is 1 at the "
            "column of the target class (np.array([5, 6, 7]) == target), and every array is built from e.",
            priority=50,
        ),
        Slip(
            "matrix_logits",
            lambda k: k.backward(k.column("Y", NET.classes) - k.onehot()),
            "Your output errors take the logits Y_out for the probabilities: e = P − onehot(target) with "
            "P = softmax(Y_out) = np.exp(Y_out) / np.sum(np.exp(Y_out)).",
            priority=60,
        ),
        Slip(
            "matrix_dW2_from_z",
            lambda k: dict(k.E, W2=np.einsum("ni,nj->nij", k.column("z", (3, 4)), k.E["b2"])),
            "Your dW2 uses z, the hidden nodes before ReLU, where their outputs belong: dW2 = np.outer(Y_hidden, e), "
            "with Y_hidden = ReLU(z), which is 0 where a node is off.",
            priority=70,
        ),
    ]
)


def _slip(pts: Any, S: dict, E: dict) -> Slip[Arrays] | None:
    """The first slip by priority whose arrays are the learner's (each_alone: in some keys, the others right)."""
    known = Arrays(pts, E)
    for slip in SLIPS:
        gives = slip.gives(known)
        slipped = {k: close(S[k], gives[k]) for k in KEYS}
        right = {k: close(S[k], E[k]) for k in KEYS}
        if all(slipped.values()) or (
            slip.each_alone and all(slipped[k] or right[k] for k in KEYS) and any(slipped.values())
        ):
            return slip
    return None


def _shape_problem(k, arrays, E):
    """(mistake, sentence) for d{k} of a wrong shape at some point, naming an outer product in the wrong order."""
    shape = next(a.shape for a in arrays if a.shape != SHAPES[k])
    flipped = SHAPES[k][::-1]
    if len(flipped) == 2 and all(a.shape == flipped for a in arrays) and close(np.array([a.T for a in arrays]), E[k]):
        order = "np.outer(Y_hidden, e)" if k == "W2" else "np.outer(X, dz)"
        return (
            "matrix_outer_order",
            f"Your d{k} has shape {shape}, the shape of {k} transposed: the outer "
            f"product is in the wrong order. Rows belong to the source nodes, so "
            f"d{k} = {order}, of shape {SHAPES[k]} like {k}.",
        )
    return ("wrong_shape", f"Your d{k} has shape {shape}; it should have the shape of {k}, {SHAPES[k]}.")


def check_matrix(fn: Callable, *, seed: int = 0, reveal: bool = True) -> Result:
    """Check fn(X, W1, b1, W2, b2, target) -> {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}; return a Result."""
    exercise = "softmax_223_matrix"
    if oracle.withdrawn():
        return Result(exercise, False, remarks=["gradelib's checker is not available while grading."])
    oracle.refuse_inside_student_code()
    if not callable(fn):
        return Result.wrong(exercise, "not_callable", "check_matrix() needs your function itself.")
    name = (
        f"{getattr(fn, '__name__', 'your function')}()"
        if isinstance(getattr(fn, "__name__", None), str)
        else "your function"
    )
    pts = points.choose(NET, seed)
    with oracle.watch(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answers = []
        for i in range(len(pts)):
            x, params, target = pts.call_args(i, False)
            a = pack(params)
            c = call(fn, (np.array(x), a["W1"], a["b1"], a["W2"], a["b2"], target), name)
            if oracle.asked():
                return Result.wrong(
                    exercise, "oracle_borrowed", f"{name} asked gradelib for the answer: write the four lines yourself."
                )
            try:
                if c.problem:
                    raise c.problem
                answers.append(_read(c.value, name))
            except Problem as p:
                where = "" if p.mistake == "not_implemented" else f" (test point: {pts.describe(i)})"
                return Result.wrong(exercise, p.mistake, p.sentence + where)
        return _judge(exercise, pts, answers, reveal)


def _judge(exercise, pts, answers, reveal):
    E = expected(pts.X, pts.P, pts.T)
    for k in KEYS:
        arrays = [a[k] for a in answers]
        if any(a.shape != SHAPES[k] for a in arrays):
            mistake, sentence = _shape_problem(k, arrays, E)
            return Result.wrong(exercise, mistake, sentence)
        bad = [v for a in arrays for v in a.ravel() if not np.isfinite(v)]
        if bad:
            return Result.wrong(
                exercise, "not_finite", f"Your d{k} holds {bad[0]}; every gradient here is a finite number."
            )
    S = {k: np.array([a[k] for a in answers]) for k in KEYS}
    wrong = [k for k in KEYS if not close(S[k], E[k])]
    if not wrong:
        return Result.praise(
            exercise,
            f"Your dW1, db1, dW2 and db2 agree with the 15 scalar gradients of the "
            f"numerical oracle at {len(pts)} test points, entry by entry "
            "(W1[i, j] is W from node i+1 to node j+3, W2[i, j] from node i+3 to j+5).",
        )
    slip = _slip(pts, S, E)
    if slip is not None:
        return Result.wrong(exercise, slip.name, _example(slip.sentence(), wrong[0], S, E, pts, reveal))
    return Result.wrong(
        exercise,
        "wrong_value",
        _example(
            f"Your {join_and('d' + k for k in wrong)} {'is' if len(wrong) == 1 else 'are'} not right, "
            "and gradelib does not recognise the slip. Compare entry by entry with your scalar "
            "softmax_223_gradients: unpack(...) turns the arrays into the notes' dict.",
            wrong[0],
            S,
            E,
            pts,
            reveal,
        ),
    )


def _example(sentence, k, S, E, pts, reveal):
    if not reveal:
        return sentence
    bad = ~agree(S[k], E[k])
    i = int(np.argmax(bad.reshape(len(pts), -1).any(axis=1)))
    return (
        sentence + f" For example at {pts.example(i)}: d{k} should be {(np.round(E[k][i], 4) + 0.0).tolist()}, "
        f"yours is {(np.round(S[k][i], 4) + 0.0).tolist()}."
    )
