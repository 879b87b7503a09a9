"""Where the checker looks: test points that see every branch of every ReLU.

At a single random point a hidden unit is often off, and then every formula
for what flows through it gives 0 and looks right.  So the points are chosen by
pattern: each ReLU is on at some points and off at others (for two units, every
on/off combination), and every class of the softmax net is the target at a
point where both hidden nodes are on.  Every pre-activation keeps |z| ≥ 0.1,
far from the kink compared with the oracle's h = 1e-5, so the derivative is
defined there and ReLU'(0) never matters.  Values are rounded to two decimals
so that a student can redo a point on paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .exercises import Network

MARGIN = 0.1  # smallest |z| of any ReLU at a test point
MIN_P = 0.02  # smallest softmax probability, so no output's gradient is negligible
APART = 0.1  # smallest difference between values a swapped formula would confuse (|x1|, |x2|; Y3, Y4)
# Mixed into the seed, so that the points' random stream differs from any other stream drawn from the same
# seed (the verifier's, say); the value itself means nothing, but changing it changes every test point.
SALT = 7412

PATTERNS: dict[str, list[tuple[int, ...]]] = {
    "single_neuron": [(1,), (1,), (1,), (0,), (0,)],
    "relu_chain": [(1, 1), (1, 1), (1, 1), (1, 0), (0, 1), (0, 0)],
    "softmax_223": [(1, 1), (1, 1), (1, 1), (1, 0), (0, 1), (0, 0), (1, 1), (1, 0), (0, 1)],
}


@dataclass
class Points:
    net: Network
    X: tuple  # arrays (n,)
    P: dict  # arrays (n,)
    T: np.ndarray
    E: np.ndarray  # a learning rate per point, for the update exercises
    state: dict  # the forward pass at every point

    def __len__(self):
        return len(self.T)

    def on(self, unit: str) -> Any:
        return self.state[self.net.relus[unit].pre] > 0

    def call_args(self, i: int, with_eta: bool) -> tuple[Any, ...]:
        """Fresh Python objects for one call of the student's function."""
        x = tuple(float(v[i]) for v in self.X)
        params = {k: float(self.P[k][i]) for k in self.net.params}
        target = int(self.T[i]) if self.net.classes else float(self.T[i])
        return (x, params, target, float(self.E[i])) if with_eta else (x, params, target)

    def describe(self, i: int, with_eta: bool = False, with_params: bool = False) -> str:
        """Point i in words: inputs, target (and η), with_params its parameters too, then each ReLU on or off.

        An example a learner is to redo on paper needs every parameter (with_params); a sentence that only
        says where something went wrong does not.
        """
        x = ", ".join(f"{name} = {v[i]:g}" for name, v in zip(self.net.inputs, self.X))
        t = f"node {int(self.T[i])}" if self.net.classes else f"{self.T[i]:g}"
        text = f"{x}, {self.net.target_name} = {t}"
        if with_params:
            text += ", " + ", ".join(f"{k} = {self.P[k][i]:g}" for k in self.net.params)
        if with_eta:
            text += f", eta = {self.E[i]:g}"
        states = [f"{relu.label} {'on' if self.on(u)[i] else 'off'}" for u, relu in self.net.relus.items()]
        return f"{text} ({', '.join(states)})"

    def example(self, i: int, with_eta: bool = False) -> str:
        """Point i with every number a learner needs to redo it on paper: the inputs, target, parameters (and η)."""
        return self.describe(i, with_eta, with_params=True)


def _signed(rng, low, high, size):
    return np.round(np.where(rng.random(size) < 0.5, -1.0, 1.0) * rng.uniform(low, high, size), 2)


def _sample_one(net, rng, pattern, target, batch=256):
    """The first of a batch of random points that has this on/off pattern and keeps its distance from every kink."""
    for _ in range(1000):
        X = tuple(_signed(rng, 0.3, 1.5, batch) for _ in net.inputs)
        # |p| ≥ 0.1: a zero weight would hide whatever is sent back through it
        P = {k: _signed(rng, 0.1, 1.5, batch) for k in net.params}
        state = net.forward(X, P, np.full(batch, target if net.classes else 0.0))
        ok = np.ones(batch, bool)
        for relu, on in zip(net.relus.values(), pattern):
            z = state[relu.pre]
            ok &= (np.abs(z) >= MARGIN) & ((z > 0) == bool(on))
        if len(X) == 2:
            ok &= np.abs(np.abs(X[0]) - np.abs(X[1])) >= APART  # else swapping x1 and x2 could look right
        if net.classes:
            ok &= np.min([state[p] for p in net.probability_keys], axis=0) >= MIN_P
            if all(pattern):  # both hidden nodes on: swapping what flows back through them must show
                first, second = (state[u] for u in net.relus)
                ok &= np.abs(first - second) >= APART
        hits = np.flatnonzero(ok)
        if hits.size:
            i = hits[0]
            x, params = tuple(float(v[i]) for v in X), {k: float(P[k][i]) for k in net.params}
            if net.classes:
                return x, params, target
            return x, params, float(_signed(rng, 0.3, 1.0, 1)[0] + np.round(state[net.output][i], 2))
    raise RuntimeError(f"no test point with pattern {pattern} for {net.name}")


def choose(net: Any, seed: int) -> Any:
    """The test points for net at this seed: one per pattern in PATTERNS, in that order."""
    rng = np.random.default_rng([seed, SALT])
    rows = []
    for i, pattern in enumerate(PATTERNS[net.name]):
        # the first points take each class in turn, so that every class is the target somewhere
        target = net.classes[i % len(net.classes)] if net.classes else None
        if net.classes and i >= len(net.classes):
            target = int(rng.choice(net.classes))
        rows.append(_sample_one(net, rng, pattern, target))
    X = tuple(np.array([r[0][j] for r in rows]) for j in range(len(net.inputs)))
    P = {k: np.array([r[1][k] for r in rows]) for k in net.params}
    T = np.array([r[2] for r in rows])
    E = np.round(rng.uniform(0.05, 0.4, len(rows)), 2)
    state = net.forward(X, P, T)
    return Points(net, X, P, T, E, state)
