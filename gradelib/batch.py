"""A mini-batch: the mean loss over a few examples, and its gradient, the mean of the examples' gradients.

    Loss_batch = (1/n)·Σ_i Loss_i = (1/n)·Σ_i ½·(O_b,i − Y_i)²
    dLoss_batch/dp = (1/n)·Σ_i dLoss_i/dp          (the derivative of a sum is the sum of the derivatives)

The oracle here differentiates the mean loss itself, numerically, and never adds up per-example
gradients: so the check tests the sentence above instead of assuming it.  The test batches share
one set of parameters and mix examples where the neuron is on with examples where it is off, so
that "the mean over the examples where the neuron is on" and "the sum" both show as wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import oracle
from .diagnose import close
from .exercises import SINGLE_NEURON, Exercise
from .points import MARGIN
from .result import Result
from .slips import Slip, by_priority

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


class Examples(NamedTuple):
    """What the batch slips are computed from: one test batch, its forward pass and each example's own gradient."""

    batch: Batch  # the test batch
    g: dict  # {p: array (n,)}: each example's gradient, by gradelib's oracle (example_gradients)
    state: dict  # the forward pass of the batch's examples: "z", "Y", arrays (n,)

    def inputs(self) -> dict[str, Any]:
        """Each parameter's input at every example: x1 for w1, x2 for w2, 1 for b."""
        X, _, T = self.batch.arrays()
        return {"w1": X[0], "w2": X[1], "b": np.ones(len(T))}

    def targets(self) -> Any:
        return self.batch.arrays()[2]


def _means(per_example: dict[str, Any]) -> dict[str, float]:
    return {k: float(np.mean(v)) for k, v in per_example.items()}


def _ungated(k: Examples) -> dict[str, float]:
    """The mean of −Err·x: each example's δ = Err·ReLU'(z) without the ReLU'(z)."""
    err = k.targets() - k.state["Y"]
    return _means({p: -err * x for p, x in k.inputs().items()})


def _linear(k: Examples) -> dict[str, float]:
    """The gradient of the mean of ½(O_b − z)²: a neuron with no ReLU at all."""
    err = k.targets() - k.state["z"]
    return _means({p: -err * x for p, x in k.inputs().items()})


def _divided_by(count: Callable[[Examples], int]) -> Callable[[Examples], dict[str, float]]:
    return lambda k: {p: float(v.sum()) / count(k) for p, v in k.g.items()}


BATCH_SLIPS: list[Slip[Examples]] = by_priority(
    [
        Slip(
            "batch_sum",
            _divided_by(lambda k: 1),
            "Your batch gradient is the sum of the examples' gradients. The batch's loss is their mean, "
            "(1/n)·Σ Loss_i, so its gradient is the mean of their gradients: divide the sum by n.",
            priority=10,
        ),
        Slip(
            "batch_mean_over_on",
            _divided_by(lambda k: max(1, int(k.batch.on().sum()))),
            "Your batch gradient divides by the number of examples where the neuron is on. An example where it is "
            "off adds 0 to the sum, but it is still one of the n examples of the mean: divide by n.",
            priority=20,
        ),
        Slip(
            "batch_last_example",
            lambda k: {p: float(v[-1]) for p, v in k.g.items()},
            "Your batch gradient is the last example's gradient alone: each example's gradient must be added to a "
            "running sum (+=, the notes' sum over examples), not replace it, and the sum divided by n.",
            priority=30,
        ),
        Slip(
            "batch_first_example",
            lambda k: {p: float(v[0]) for p, v in k.g.items()},
            "Your batch gradient is the first example's gradient alone: add up every example's gradient and "
            "divide by n.",
            priority=40,
        ),
        Slip(
            "batch_at_mean_example",
            lambda k: _at_mean_example(k.batch),
            "Your batch gradient is the gradient at the average example (mean x1, mean x2, mean O_b). The mean of "
            "the gradients is not the gradient at the mean: ReLU switches on or off example by example, and δ·x1 "
            "is a product. Take each example's gradient, then their mean.",
            priority=50,
        ),
        Slip(
            "batch_sign",
            lambda k: {p: -float(v.mean()) for p, v in k.g.items()},
            "Your batch gradient has the wrong sign (in each gradient that is wrong): dLoss/dw1 = −δ·x1 for each "
            "example, and the batch's is their mean.",
            priority=60,
            each_alone=True,
        ),
        Slip(
            "batch_no_relu_prime",
            _ungated,
            "Your batch gradient leaves out ReLU'(z) (in each gradient that is wrong): each example's "
            "δ = Err·ReLU'(z) = (O_b − Y)·ReLU'(z), which is 0 where the neuron is off, so such an example adds "
            "nothing to the sum (the planted bug of classmate_gradients, in a batch).",
            priority=70,
            each_alone=True,
        ),
        Slip(
            "batch_no_relu",
            _linear,
            "Your batch gradient is that of a neuron without ReLU: Err = O_b − z and no ReLU'(z). Y = ReLU(z), "
            "and each example's δ = (O_b − Y)·ReLU'(z) is 0 where the neuron is off.",
            priority=80,
        ),
        Slip(
            "batch_swapped_inputs",
            lambda k: {"w1": float(k.g["w2"].mean()), "w2": float(k.g["w1"].mean()), "b": float(k.g["b"].mean())},
            "Your dLoss/dw1 and dLoss/dw2 are swapped: w1 multiplies x1, so dLoss/dw1 = −δ·x1, and dLoss/dw2 = "
            "−δ·x2, averaged over the examples.",
            priority=90,
        ),
        Slip(
            "batch_divided_twice",
            _divided_by(lambda k: len(k.batch.X) ** 2),
            "Your batch gradient divides by n twice (n² in all): the mean of the examples' gradients is their sum "
            "divided by n once.",
            priority=100,
        ),
        Slip(
            "batch_divided_by_param_count",
            _divided_by(lambda k: len(SINGLE_NEURON.params)),
            "Your batch gradient divides the sum by 3, the number of parameters (len(params)); the mean is over "
            "the n examples: divide by len(X).",
            priority=110,
        ),
    ]
)


def _matches(slip: Slip[Examples], known: list[Examples], answers: Sequence[dict], right: list[dict]) -> bool:
    """Whether the answers are slip's: in every parameter, or (each_alone) in some, the others right."""
    params = SINGLE_NEURON.params
    if not all(slip.applies(k) for k in known):
        return False
    gives = [slip.gives(k) for k in known]
    slipped = {p: all(close(a[p], s[p]) for a, s in zip(answers, gives)) for p in params}
    fine = {p: all(close(a[p], r[p]) for a, r in zip(answers, right)) for p in params}
    if not slip.each_alone:
        return all(slipped.values())
    return all(slipped[p] or fine[p] for p in params) and any(slipped[p] and not fine[p] for p in params)


def _batch_slip(cases: Sequence[Batch], answers: Sequence[dict], right: list[dict]) -> Slip[Examples] | None:
    """The first slip by priority whose numbers are the learner's on every test batch."""
    known = [Examples(b, example_gradients(b), SINGLE_NEURON.forward(*b.arrays())) for b in cases]
    return next((s for s in BATCH_SLIPS if _matches(s, known, answers, right)), None)


def _wrong_batch(cases, answers, G, reveal):
    """The sentence for a wrong batch gradient no slip explains: what is wrong, and the rule."""
    params = SINGLE_NEURON.params
    wrong = [(i, k) for i in range(len(cases)) for k in params if not close(answers[i][k], G[i][k])]
    i, k = wrong[0]
    keys = sorted({k for _, k in wrong}, key=params.index)
    sentence = (
        f"dLoss/d{', dLoss/d'.join(keys)} of the mean loss {'is' if len(keys) == 1 else 'are'} not right: "
        "for each example compute its gradient as in exercise 1, with that example's own x and O_b (and "
        "its own ReLU'(z)), then take the mean over the n examples."
    )
    if reveal:
        sentence += f" For example for {cases[i].example()}: dLoss/d{k} = {G[i][k]:.6g}, yours is {answers[i][k]:.6g}."
    return sentence, keys


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
    if all(close(answers[i][k], G[i][k]) for i in range(len(cases)) for k in params):
        return Result.praise(
            ex.name,
            f"All 3 gradients of the mean loss agree with the numerical gradient on {len(cases)} batches of 1 to "
            f"{max(len(b.X) for b in cases)} examples, with the neuron on at some examples and off at others.",
            notes,
        )
    slip = _batch_slip(cases, answers, G)
    if slip:
        return Result.wrong(ex.name, slip.name, slip.sentence(), notes)
    sentence, keys = _wrong_batch(cases, answers, G, reveal)
    return Result.wrong(ex.name, "wrong_value", sentence, notes, keys)
