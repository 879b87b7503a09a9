"""Mistakes as modified networks: the same forward values, one local derivative changed.

A typical hand-derivation mistake keeps the forward pass and gets one factor of
the chain rule wrong: ReLU'(z) left out, δ sent back through the wrong weight,
only one parent summed.  Differentiating, numerically, a network whose value
at the test point is unchanged but whose local derivative is replaced gives
exactly the gradient such a student computes, with no formula written out:

    ReLU node with slope s:   Y = ReLU(z_base) + s·(z − z_base)
    edge with back-weight v:  w·y ≈ w·y_base + v·(y − y_base)

so dY/dz = s and d(w·y)/dy = v, while d(w·y)/dw = y_base stays right.
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


def variants(net, base, P, G=None, E=None):
    """(name, detail, ops) for every single-factor mistake this network's shape allows.

    P are the parameters (n,), G the correct gradients and E the learning
    rates (n,) when the exercise is an update (for the sequential-update bug).
    """
    col = {k: np.asarray(v, float)[:, None] for k, v in P.items()}
    out = []
    for u in net.relus:
        out.append(("missing_relu_derivative", u, Surgery(base, slope={u: 1.0})))
        out.append(("relu_instead_of_derivative", u,
                    Surgery(base, slope={u: np.maximum(base.z[u], 0.0)})))
    hidden = net.hidden_nodes
    for h in hidden:
        edges = net.out_edges(h)
        if len(edges) > 1:
            for keep in edges:
                out.append(("one_parent_only", (h, keep),
                            Surgery(base, back={e: 0.0 for e in edges if e != keep})))
        out.append(("missing_backprop_weight", h, Surgery(base, back={e: 1.0 for e in edges})))
        for other in hidden:
            if other == h:
                continue
            by_target = {net.edges[e][1]: e for e in net.out_edges(other)}
            back = {e: col[by_target[net.edges[e][1]]] for e in edges if net.edges[e][1] in by_target}
            out.append(("swapped_backprop_weights", (h, other), Surgery(base, back=back)))
    if G is not None and E is not None and hidden:
        eta = np.asarray(E, float)[:, None]
        back = {e: col[e] - eta * np.asarray(G[e], float)[:, None]
                for h in hidden for e in net.out_edges(h)}
        out.append(("sequential_update", None, Surgery(base, back=back)))
    return out

