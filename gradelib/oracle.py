"""The numerical oracle: dLoss/dp by central differences in float64.

    dLoss/dp ≈ (Loss(p + h) − Loss(p − h)) / (2h),   h = 1e-5 · max(1, |p|)

Why this h: the rounding error of the quotient is about eps·|Loss|/h and the
truncation error about h²·|Loss'''|/6; with eps = 2.2e-16 and the losses of
these networks, h ≈ eps^(1/3) ≈ 1e-5 makes both below 1e-9.  Where a ReLU's
pre-activation lies within h of 0 the central quotient would straddle the kink;
then the one-sided quotient on the side where no ReLU switched is used.

The checker never needs that fallback (its test points keep every |z| ≥ 0.1),
but ``numerical_gradient`` may be called anywhere by a curious learner.

The oracle guards itself, so that no caller has to: inside ``refused()`` (a
student's function is running) it raises OracleRefused and notes that it was
asked; after ``withdraw()`` (the grader's harness) it answers NaN.  Both are
decided here, in the functions themselves, so a ``from gradelib.oracle import
loss_gradients`` anywhere cannot escape them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .exercises import EXERCISES, NETWORKS
from .networks import PLAIN

H = 1e-5


class OracleRefused(RuntimeError):
    """Raised when a function under check asks gradelib for the answer."""


class _Guard:
    """The oracle's state: how deep we are inside a student's function, whether it asked, whether it is withdrawn."""

    depth = 0
    asked = False
    withdrawn = False


GUARD = _Guard()


@contextlib.contextmanager
def refused() -> Iterator[None]:
    """The block runs a student's function: the oracle (and check()) refuse to answer inside it."""
    GUARD.depth += 1
    try:
        yield
    finally:
        GUARD.depth -= 1


@contextlib.contextmanager
def watch() -> Iterator[None]:
    """A check of one student function: whether it asked the oracle (see asked()) is forgotten on entry and exit."""
    GUARD.asked = False
    try:
        yield
    finally:
        GUARD.asked = False


def asked() -> bool:
    """Whether a student's function has asked the oracle since watch() began."""
    return GUARD.asked


def refuse_inside_student_code() -> None:
    """Raise OracleRefused, noting that the oracle was asked, if a student's function is running."""
    if GUARD.depth:
        GUARD.asked = True
        raise OracleRefused(
            "gradelib's numerical gradient and check() cannot be used inside the function "
            "being checked: derive the gradient yourself."
        )


def withdraw() -> None:
    """From now on, in this process, the oracle answers NaN and check() says it is not available.

    For the grader's harness, where a notebook's cells run outside the kernel:
    a function that borrows the oracle gets NaN, while a cell that calls
    gradelib.check at top level still runs to its end.
    """
    GUARD.withdrawn = True


def withdrawn() -> bool:
    return GUARD.withdrawn


def perturbed(net: Any, P: dict[str, Any]) -> Any:
    """Each parameter array (n,) becomes (n, 2m + 1): columns 2j, 2j+1 move parameter j by ±h, the last is the base."""
    m = len(net.params)
    h = {k: H * np.maximum(1.0, np.abs(P[k])) for k in net.params}
    out = {}
    for j, k in enumerate(net.params):
        a = np.repeat(np.asarray(P[k], float)[:, None], 2 * m + 1, axis=1)
        a[:, 2 * j] += h[k]
        a[:, 2 * j + 1] -= h[k]
        out[k] = a
    return out, h


def loss_gradients(net: Any, X: Any, P: Any, T: Any, ops: Any = PLAIN) -> dict[str, Any]:
    """dLoss/dp for every parameter at n points at once.

    X: tuple of arrays (n,); P: dict of arrays (n,); T: array (n,).
    Returns a dict of arrays (n,).  ``ops`` may replace local derivatives
    (see gradelib.surgery); with the default it is the plain network.
    """
    if GUARD.withdrawn:
        return {k: np.full(np.shape(P[k]), np.nan) for k in net.params}
    refuse_inside_student_code()
    Pp, h = perturbed(net, P)
    Xc = tuple(np.asarray(x, float)[:, None] for x in X)
    state = net.forward(Xc, Pp, np.asarray(T)[:, None], ops)
    L = state["Loss"]
    on = [state[relu.pre] > 0 for relu in net.relus.values()]
    g = quotients(L, on, np.stack([h[k] for k in net.params], axis=1))
    return {k: g[:, j].copy() for j, k in enumerate(net.params)}


def quotient(L: Any, on: Any, j: Any, h: Any) -> Any:
    """The difference quotient of the loss along columns 2j (+h) and 2j+1 (−h), the last column the base
    (see quotients); h a number or one per point (n,)."""
    cols = np.concatenate([L[:, 2 * j : 2 * j + 2], L[:, -1:]], axis=1)
    switched = [np.concatenate([s[:, 2 * j : 2 * j + 2], s[:, -1:]], axis=1) for s in on]
    return quotients(cols, switched, np.reshape(h, (-1, 1)))[:, 0].copy()


def quotients(L: Any, on: Any, h: Any) -> Any:
    """The difference quotients of the loss along every pair of columns 2j (+h_j), 2j+1 (−h_j), the last column the
    base: an array (n, m).

    L: losses (n, 2m + 1); on: for each ReLU, whether it is on (n, 2m + 1); h: the steps (n, m) (or (1, 1)).
    Central, (L+ − L−)/2h, except where the move to one side switched a ReLU and the other did not: then the
    one-sided quotient on the side where none switched.
    """
    plus, minus, base = L[:, 0:-1:2], L[:, 1:-1:2], L[:, -1:]
    moved_plus = np.any([s[:, 0:-1:2] != s[:, -1:] for s in on], axis=0)
    moved_minus = np.any([s[:, 1:-1:2] != s[:, -1:] for s in on], axis=0)
    g = (plus - minus) / (2 * h)
    g = np.where(moved_plus & ~moved_minus, (base - minus) / h, g)
    return np.where(moved_minus & ~moved_plus, (plus - base) / h, g)


def numerical_gradient(exercise: Any, x: Any, params: Any, target: Any) -> dict[str, float]:
    """dLoss/dp for every p in params, by central differences (see the module docstring).

    exercise: "single_neuron", "relu_chain" or "softmax_223" (an exercise name
    such as "relu_chain_update" names its network too).
    Returns a dict keyed like params, with Python floats.
    """
    if GUARD.withdrawn:
        return {k: math.nan for k in params}
    refuse_inside_student_code()
    net = NETWORKS.get(exercise) or getattr(EXERCISES.get(exercise), "network", None)
    if net is None:
        raise ValueError(
            f"numerical_gradient knows the networks {', '.join(NETWORKS)}; {exercise!r} is not one of them."
        )
    net.validate(x, params, target)
    X = tuple(np.array([float(v)]) for v in x)
    P = {k: np.array([float(params[k])]) for k in net.params}
    g = loss_gradients(net, X, P, np.array([target]))
    return {k: float(g[k][0]) for k in params if k in g}
