"""A mini-batch: the mean loss over a few examples, and its gradient, the mean of the examples' gradients.

    Loss_batch = (1/n)·Σ_i Loss_i = (1/n)·Σ_i ½·(O_b,i − Y_i)²
    dLoss_batch/dp = (1/n)·Σ_i dLoss_i/dp          (the derivative of a sum is the sum of the derivatives)

The oracle here differentiates the mean loss itself, numerically, and never adds up per-example
gradients: so the check tests the sentence above instead of assuming it.  The test batches share
one set of parameters and mix examples where the neuron is on with examples where it is off, so
that "the mean over the examples where the neuron is on" and "the sum" both show as wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import oracle
from .diagnose import close
from .exercises import SINGLE_NEURON, Exercise
from .points import MARGIN
from .result import Result

SALT = 6630  # mixed into the seed: these batches differ from any other draw made from it
SHAPES = [(3, 2), (1, 3), (2, 0), (1, 0), (2, 2)]  # (examples with the neuron on, with it off) of each test batch


class Batch(NamedTuple):
    """One test batch of the single neuron: n examples and the parameters they share."""

    X: list  # n inputs (x1, x2), as tuples
    params: dict  # w1, w2, b
    targets: list  # n targets O_b

    def arrays(self) -> tuple[Any, ...]:
        """(X as a tuple of arrays (n,), params, targets as an array (n,)) for a vectorised forward pass."""
        return tuple(np.array(v) for v in zip(*self.X)), self.params, np.array(self.targets)

    def on(self) -> Any:
        X, params, T = self.arrays()
        return SINGLE_NEURON.forward(X, params, T)["z"] > 0

    def describe(self) -> str:
        n, on = len(self.X), int(self.on().sum())
        return f"a batch of {n} example{'s' if n > 1 else ''}, the neuron on at {on} and off at {n - on}"

    def example(self) -> str:
        """The batch with every number a learner needs to redo it on paper: the parameters, then each example."""
        params = ", ".join(f"{k} = {v:g}" for k, v in self.params.items())
        rows = ", ".join(f"({x1:g}, {x2:g}, {t:g})" for (x1, x2), t in zip(self.X, self.targets))
        return f"{self.describe()} ({params}; (x1, x2, O_b) = {rows})"


def _signed(rng, low, high):
    return float(np.round((1 if rng.random() < 0.5 else -1) * rng.uniform(low, high), 2))


def _batch(rng, on, off):
    """A batch with `on` examples where z ≥ MARGIN and `off` where z ≤ −MARGIN, in a shuffled order."""
    net = SINGLE_NEURON
    while True:
        params = {k: _signed(rng, 0.1, 1.5) for k in net.params}
        found: dict[bool, list] = {True: [], False: []}
        for _ in range(200):
            x = (_signed(rng, 0.3, 1.5), _signed(rng, 0.3, 1.5))
            z = params["w1"] * x[0] + params["w2"] * x[1] + params["b"]
            if abs(z) >= MARGIN and len(found[z > 0]) < (on if z > 0 else off):
                target = float(np.round(max(z, 0.0) + _signed(rng, 0.3, 1.0), 2))
                found[z > 0].append((x, target))
            if len(found[True]) == on and len(found[False]) == off:
                examples = found[True] + found[False]
                order = rng.permutation(len(examples))
                return Batch([examples[i][0] for i in order], params, [examples[i][1] for i in order])


def batches(seed: int) -> list[Any]:
    """The test batches for a seed: one per shape in SHAPES."""
    rng = np.random.default_rng([seed, SALT])
    return [_batch(rng, on, off) for on, off in SHAPES]


def mean_loss_gradients(batch: Any) -> dict[str, float]:
    """dLoss_batch/dp by central differences of the mean loss itself (h as gradelib.oracle's); guarded like it."""
    net = SINGLE_NEURON
    if oracle.withdrawn():
        return {k: float("nan") for k in net.params}
    oracle.refuse_inside_student_code()
    X, params, T = batch.arrays()
    grads = {}
    for k in net.params:
        h = oracle.H * max(1.0, abs(params[k]))
        loss = [np.mean(net.forward(X, dict(params, **{k: params[k] + s * h}), T)["Loss"]) for s in (1, -1)]
        grads[k] = float((loss[0] - loss[1]) / (2 * h))
    return grads


def example_gradients(batch: Any) -> dict[str, Any]:
    """Each example's own gradient, by gradelib's oracle: {p: array (n,)}."""
    X, params, T = batch.arrays()
    P = {k: np.full(len(T), params[k]) for k in SINGLE_NEURON.params}
    return oracle.loss_gradients(SINGLE_NEURON, X, P, T)


def _at_mean_example(batch):
    X, params, T = batch.arrays()
    one = (tuple(np.array([x.mean()]) for x in X), {k: np.array([v]) for k, v in params.items()}, np.array([T.mean()]))
    return {k: float(v[0]) for k, v in oracle.loss_gradients(SINGLE_NEURON, *one).items()}


# A wrong batch gradient as what it gives for a batch, with its words; tried in this order.
BATCH_SLIPS = [
    (
        "batch_sum",
        lambda b, g: {k: g[k].sum() for k in g},
        "Your batch gradient is the sum of the examples' gradients. The batch's loss is their mean, "
        "(1/n)·Σ Loss_i, so its gradient is the mean of their gradients: divide the sum by n.",
    ),
    (
        "batch_mean_over_on",
        lambda b, g: {k: g[k].sum() / max(1, int(b.on().sum())) for k in g},
        "Your batch gradient divides by the number of examples where the neuron is on. An example where it is "
        "off adds 0 to the sum, but it is still one of the n examples of the mean: divide by n.",
    ),
    (
        "batch_last_example",
        lambda b, g: {k: g[k][-1] for k in g},
        "Your batch gradient is the last example's gradient alone: each example's gradient must be added to a "
        "running sum (+=, the notes' sum over examples), not replace it, and the sum divided by n.",
    ),
    (
        "batch_first_example",
        lambda b, g: {k: g[k][0] for k in g},
        "Your batch gradient is the first example's gradient alone: add up every example's gradient and divide by n.",
    ),
    (
        "batch_at_mean_example",
        lambda b, g: _at_mean_example(b),
        "Your batch gradient is the gradient at the average example (mean x1, mean x2, mean O_b). The mean of the "
        "gradients is not the gradient at the mean: ReLU switches on or off example by example, and δ·x1 is a "
        "product. Take each example's gradient, then their mean.",
    ),
    (
        "batch_sign",
        lambda b, g: {k: -g[k].mean() for k in g},
        "Your batch gradient has the wrong sign: dLoss/dw1 = −δ·x1 for each example, and the batch's is their mean.",
    ),
]


def judge_batch(
    ex: Exercise, cases: Sequence[Batch], answers: Sequence[dict[str, float]], reveal: bool, notes: Sequence[str] = ()
) -> Result:
    """The verdict on plain answers, one {param: float} per test batch in cases; shared with the grader's verifier."""
    notes = list(notes)
    params = SINGLE_NEURON.params
    for b, a in zip(cases, answers):
        bad = [k for k in params if not np.isfinite(a[k])]
        if bad:
            return Result.wrong(
                ex.name,
                "not_finite",
                f"dLoss/d{bad[0]} is {a[bad[0]]} for {b.describe()}; a gradient here is always a finite number.",
                notes,
            )
    G = [mean_loss_gradients(b) for b in cases]
    wrong = [(i, k) for i in range(len(cases)) for k in params if not close(answers[i][k], G[i][k])]
    if not wrong:
        return Result.praise(
            ex.name,
            f"All 3 gradients of the mean loss agree with the numerical gradient on {len(cases)} batches of 1 to "
            f"{max(len(b.X) for b in cases)} examples, with the neuron on at some examples and off at others.",
            notes,
        )
    g = [example_gradients(b) for b in cases]
    for mistake, slip, sentence in BATCH_SLIPS:
        if all(close(answers[i][k], slip(cases[i], g[i])[k]) for i in range(len(cases)) for k in params):
            return Result.wrong(ex.name, mistake, sentence, notes)
    i, k = wrong[0]
    keys = sorted({k for _, k in wrong}, key=params.index)
    sentence = (
        f"dLoss/d{', dLoss/d'.join(keys)} of the mean loss {'is' if len(keys) == 1 else 'are'} not right: "
        "for each example compute its gradient as in exercise 1, with that example's own x and O_b (and "
        "its own ReLU'(z)), then take the mean over the n examples."
    )
    if reveal:
        sentence += f" For example for {cases[i].example()}: dLoss/d{k} = {G[i][k]:.6g}, yours is {answers[i][k]:.6g}."
    return Result.wrong(ex.name, "wrong_value", sentence, notes, keys)
