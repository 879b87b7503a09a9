"""Mistakes as modified networks: the same forward values, one local derivative changed.

A typical hand-derivation mistake keeps the forward pass and gets one factor of
the chain rule wrong: ReLU'(z) left out, δ sent back through the wrong weight,
only one parent summed.  Differentiating, numerically, a network whose value
at the test point is unchanged but whose local derivative is replaced gives
exactly the gradient such a student computes, with no formula written out:

    ReLU node with slope s:   Y = ReLU(z_base) + s·(z − z_base)
    edge with back-weight v:  w·y ≈ w·y_base + v·(y − y_base)

so dY/dz = s and d(w·y)/dy = v, while d(w·y)/dw = y_base stays right.

gradelib.diagnose asks for many such networks at once; ``stack`` puts them
side by side, so that one call of the oracle differentiates them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .networks import Plain


class Recorder(Plain):
    """A plain forward pass that remembers every pre-activation and every edge's input."""

    def __init__(self):
        self.z, self.y = {}, {}

    def relu(self, node: str, z: Any) -> Any:
        self.z[node] = z
        return super().relu(node, z)

    def edge(self, weight: str, w: Any, y: Any) -> Any:
        self.y[weight] = y
        return super().edge(weight, w, y)


class Surgery(Plain):
    """Forward values as recorded at the base point; chosen local derivatives replaced."""

    def __init__(self, base, slope=None, back=None):
        self.base, self.slope, self.back = base, slope or {}, back or {}

    def relu(self, node: str, z: Any) -> Any:
        if node not in self.slope:
            return super().relu(node, z)
        zb = self.base.z[node]
        return np.maximum(zb, 0.0) + self.slope[node] * (z - zb)

    def edge(self, weight: str, w: Any, y: Any) -> Any:
        if weight not in self.back:
            return super().edge(weight, w, y)
        yb = self.base.y[weight]
        return w * yb + self.back[weight] * (y - yb)


def record(net: Any, X: Any, P: Any, T: Any) -> Any:
    """The base point's forward pass, as arrays (n, 1) that broadcast over the perturbed copies."""
    rec = Recorder()
    state = net.forward(
        tuple(np.asarray(x, float)[:, None] for x in X),
        {k: np.asarray(P[k], float)[:, None] for k in net.params},
        np.asarray(T)[:, None],
        rec,
    )
    return rec, state


def stack(net: Any, X: Any, blocks: Sequence[Any], nodes: Sequence[str] = (), edges: Sequence[str] = ()) -> Any:
    """Many changed networks differentiated in one oracle call: the points repeated once per block.

    blocks: [(P, T, slopes, back)], P a dict of arrays (n,), T (n,), slopes and back
    {node or edge: scalar or (n, 1)}.  Returns (X, P, T, ops) over n·len(blocks)
    rows.  A node or edge a block leaves alone keeps its own local derivative
    (ReLU'(z) at its base z, its own weight): the same gradient as the plain network,
    computed the way a changed one is where any block changes it, or it is among
    nodes and edges (so that a block's numbers do not depend on the other blocks).
    """
    n = len(blocks[0][1])
    Xs = tuple(np.tile(np.asarray(x, float), len(blocks)) for x in X)
    tables = {id(b[0]): np.array([b[0][k] for k in net.params], float) for b in blocks}  # most blocks share one P
    P = np.stack([tables[id(b[0])] for b in blocks], axis=1).reshape(len(net.params), -1)
    Ps = dict(zip(net.params, P))
    Ts = np.concatenate([np.asarray(b[1]) for b in blocks])
    base, _ = record(net, Xs, Ps, Ts)
    # a block's own rows where it changes the node or edge; elsewhere the plain network's ReLU'(z) and weight
    slope = {u: (base.z[u] > 0) * 1.0 for u in dict.fromkeys([*nodes, *(u for b in blocks for u in b[2])])}
    back = {e: column(Ps[e]).copy() for e in dict.fromkeys([*edges, *(e for b in blocks for e in b[3])])}
    for i, b in enumerate(blocks):
        for changed, values in ((slope, b[2]), (back, b[3])):
            for key, value in values.items():
                changed[key][i * n : (i + 1) * n] = value
    return Xs, Ps, Ts, Surgery(base, slope=slope, back=back)


def column(values: Any) -> Any:
    """An array (n,) as (n, 1), to broadcast over the oracle's perturbed copies."""
    return np.asarray(values, float)[:, None]
