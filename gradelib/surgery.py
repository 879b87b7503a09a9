"""Mistakes as modified networks: the same forward values, one local derivative changed.

A typical hand-derivation mistake keeps the forward pass and gets one factor of
the chain rule wrong: ReLU'(z) left out, δ sent back through the wrong weight,
only one parent summed.  Differentiating, numerically, a network whose value
at the test point is unchanged but whose local derivative is replaced gives
exactly the gradient such a student computes, with no formula written out:

    ReLU node with slope s:   Y = ReLU(z_base) + s·(z − z_base)
    edge with back-weight v:  w·y ≈ w·y_base + v·(y − y_base)

so dY/dz = s and d(w·y)/dy = v, while d(w·y)/dw = y_base stays right.

The builders below return the ``ops`` of such a network for each kind of
mistake; gradelib.diagnose differentiates them with the oracle.
"""
import numpy as np

from .networks import Plain


class Recorder(Plain):
    """A plain forward pass that remembers every pre-activation and every edge's input."""

    def __init__(self):
        self.z, self.y = {}, {}

    def relu(self, node, z):
        self.z[node] = z
        return super().relu(node, z)

    def edge(self, weight, w, y):
        self.y[weight] = y
        return super().edge(weight, w, y)


class Surgery(Plain):
    """Forward values as recorded at the base point; chosen local derivatives replaced."""

    def __init__(self, base, slope=None, back=None):
        self.base, self.slope, self.back = base, slope or {}, back or {}

    def relu(self, node, z):
        if node not in self.slope:
            return super().relu(node, z)
        zb = self.base.z[node]
        return np.maximum(zb, 0.0) + self.slope[node] * (z - zb)

    def edge(self, weight, w, y):
        if weight not in self.back:
            return super().edge(weight, w, y)
        yb = self.base.y[weight]
        return w * yb + self.back[weight] * (y - yb)


def record(net, X, P, T):
    """The base point's forward pass, as arrays (n, 1) that broadcast over the perturbed copies."""
    rec = Recorder()
    state = net.forward(tuple(np.asarray(x, float)[:, None] for x in X),
                        {k: np.asarray(P[k], float)[:, None] for k in net.params},
                        np.asarray(T)[:, None], rec)
    return rec, state


def column(values):
    """An array (n,) as (n, 1), to broadcast over the oracle's perturbed copies."""
    return np.asarray(values, float)[:, None]


def relu_slope(base, node, slope):
    """The network whose ReLU at node has the local derivative slope (n, 1) in place of ReLU'(z)."""
    return Surgery(base, slope={node: slope})


def back_weights(base, back):
    """The network whose edges send the error back through back[edge] (n, 1) instead of their own weight."""
    return Surgery(base, back=back)
