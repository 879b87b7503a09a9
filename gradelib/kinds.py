"""Every exercise kind, one record each: how to question a learner's function, and how to judge what it returns.

An exercise's ``kind`` (gradelib.exercises) is a key of KINDS.  Its Kind record says

    cases      which calls to make for a seed: plain JSON values, so that the grader can send them to its harness
    arguments  how one case becomes fresh Python arguments
    read       how the returned value becomes plain floats (or raises the student.Problem saying what is wrong)
    describe   where a case is, for the sentence of a problem there
    tolerates  which cases may raise without ending the questioning (the raise is then judged, as nan)
    judge      the verdict on the plain answers

and everything else is shared by every kind: ``ask`` calls the function at the cases (in the kernel for
gradelib.check, in a fresh process for the grader's harness, gradelib/grading/sandbox/harness.py) and ``conclude``
turns the plain outcomes into a Result in the same words in both places (gradelib.grading.judge.verdict).

    "gradient"        fn(x, params, target) -> {param: dLoss/dparam}
    "update"          fn(x, params, target, eta) -> {param: new value}
    "piece"           fn(x, params, target) -> {node key: a local gradient}   (gradelib.pieces)
    "softmax"         fn(logits) -> probabilities
    "difference"      central_difference(f, x) -> float       f: a polynomial built from its coefficients
    "relative_error"  relative_error(a, b) -> float
    "answer"          which_gradient_is_wrong() -> "w1", "w2" or "b"
    "batch"           single_neuron_batch_gradients(X, params, targets) -> {"w1": ..., "w2": ..., "b": ...}
    "by_hand"         the by-hand values, {step: value}: only asked here, marked by gradelib.grading.judge.hand
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import batch, gradcheck, networks, oracle, pieces, points
from .borrowing import watched
from .diagnose import close, diagnose
from .exercises import NETWORKS, SINGLE_NEURON, Exercise, Network
from .result import Mistake, Result
from .student import Call, Problem, Unusual, call, read_answers, read_dict, read_vector, to_number
from .text import clip

Case = Any  # one call's case: plain JSON values (a list, mostly), the same in the kernel and in the grader
NOTE_CHARACTERS = 300  # what a student's function printed is shown up to this length


class Malformed(ValueError):
    """Answers that came back (from the grader's harness) not in the form the kind's cases ask for."""


class Shape(NamedTuple):
    """What a dict answer holds, as the grader's probe tells the harness: its keys, and what they are."""

    keys: tuple[str, ...] = ()  # the dict's keys, in the order its floats go back
    what: str = ""  # what the dict holds, for a problem's sentence: "gradients", "new parameters", "deltas"


class Outcome(NamedTuple):
    """One call's outcome as plain values: its answer, or the problem with it."""

    value: Any = None  # the answer as read() gives it: plain floats (for "by_hand", a dict of JSON values)
    mistake: str | None = None  # the Problem's short name, when the call raised or returned junk
    sentence: str = ""  # the Problem's sentence for the learner


@dataclass
class Asked:
    """Everything calling a learner's function at the cases gave: the plain outcomes, and how it behaved."""

    outcomes: list[Outcome]  # one per call made; the questioning stops at a problem not tolerated
    calls: list[Call] = field(default_factory=list)  # the calls themselves (in the kernel): what it printed, warned
    asked: bool = False  # it asked gradelib's oracle for the answer
    changed: bool = False  # it changed the params dict it was given (kinds that pass one)


@dataclass(frozen=True)
class Answers:
    """What a judge is given: the plain answers at every case, in the kernel or in the grader alike."""

    ex: Exercise
    seed: int
    cases: list[Case]  # the cases called
    values: list[list[float]]  # one answer per case, read() floats; nan where a tolerated call raised
    problems: list[str | None]  # per case: the sentence of the tolerated raise, or None
    reveal: bool  # whether the feedback may show the expected value at a failing case
    notes: list[str]  # asides for the feedback
    function: str  # how the feedback names the learner's function: "relu_chain_gradients()"


def _never(case: Case) -> bool:
    return False


def _no_shape(ex: Exercise) -> Shape:
    return Shape()


@dataclass(frozen=True)
class Kind:
    """One exercise kind's questions and verdict (see the module docstring)."""

    cases: Callable[[Exercise, int], list[Case]]  # (exercise, seed) -> check()'s cases, plain JSON values
    arguments: Callable[[Case], tuple]  # case -> the call's arguments, fresh Python objects
    read: Callable[[object, str, Case, Shape], Any]  # (returned, function's name, case, shape) -> floats, or Problem
    describe: Callable[[Exercise, int, int, Case], str]  # (exercise, seed, index, case) -> where; "" for nowhere
    judge: Callable[[Answers], Result] | None  # None: judged elsewhere ("by_hand": grading/marking.py)
    width: Callable[[Exercise, Case], int] = lambda ex, case: 1  # how many floats read() gives per call
    tolerates: Callable[[Case], bool] = _never  # whether a call that raises here is judged (nan) rather than the end
    # the grader's cases, where they differ from check()'s: the grader adds cases a learner cannot have seen
    grader_cases: Callable[[Exercise, int], list[Case]] | None = None
    shape: Callable[[Exercise], Shape] = _no_shape  # a dict answer's keys, sent to the harness with the cases
    watched: bool = False  # gradelib's own softmax or forward pass inside the function counts as asking
    keeps_params: bool = False  # its second argument is a params dict: a note says so when the function changes it
    blames_pieces: bool = False  # check() names a wrong piece the gradient is built on (pieces.blame)
    unit: str = "cases"  # what a case is, for the grader's reasons: "test points", "logit vectors"
    answer_field: str = "values"  # the harness's record key for an answer ("by_hand": "answers")


# ---------------------------------------------------------------- the shared loop


def ask(
    kind: Kind,
    fn: Callable,
    cases: Sequence[Case],
    shown: str,
    shape: Shape,
    carries_on: Callable[[int, Outcome], bool],
) -> Asked:
    """Call fn at every case, reading each answer into plain values before anything else is computed.

    shown: how a problem's sentence names fn; carries_on(index, outcome): whether a problem there lets the
    questioning go on.  Stops after a call that asked gradelib's oracle.  The caller holds oracle.watch().
    """
    fn = watched(fn) if kind.watched else fn
    done = Asked([])
    for i, case in enumerate(cases):
        args = kind.arguments(case)
        given = dict(args[1]) if kind.keeps_params else None
        c = call(fn, args, shown)
        done.calls.append(c)
        try:
            if c.problem:
                raise c.problem
            done.outcomes.append(Outcome(kind.read(c.value, shown, case, shape)))
        except Problem as p:
            done.outcomes.append(Outcome(None, p.mistake, p.sentence))
        if given is not None and _changed(args[1], given):
            done.changed = True
        if oracle.asked():
            done.asked = True
            break
        if done.outcomes[-1].mistake is not None and not carries_on(i, done.outcomes[-1]):
            break
    return done


def in_kernel(kind: Kind, cases: Sequence[Case]) -> Callable[[int, Outcome], bool]:
    """check()'s rule: only a raise where the kind tolerates one lets the questioning go on."""
    return lambda i, outcome: outcome.mistake == "exception" and kind.tolerates(cases[i])


def conclude(
    ex: Exercise, seed: int, cases: Sequence[Case], asked: Asked, reveal: bool = False, function: str = ""
) -> Result:
    """The verdict on what asking the function at cases gave, in the kernel or in the grader alike.

    A call that raised, where the kind tolerates it, is judged as a nan answer (its sentence kept for the
    judge); any other problem (not written yet, None, a string, an endless loop) is the verdict itself.
    Raises Malformed when the outcomes do not answer every case in the kind's form (the grader's
    verifier then has no verdict).
    """
    kind = KINDS[ex.kind]
    function = function or f"{ex.notebook_function}()"
    notes = _notes(asked.calls)
    if asked.asked:
        return borrowed(ex, function, notes)
    values: list[list[float]] = []
    problems: list[str | None] = []
    for i, (case, outcome) in enumerate(zip(cases, asked.outcomes)):
        width = kind.width(ex, case)
        if outcome.mistake is None:
            if len(outcome.value) != width:
                raise Malformed(f"an answer has {len(outcome.value)} numbers, not {width}")
            values.append(outcome.value)
            problems.append(None)
        elif outcome.mistake == "exception" and kind.tolerates(case):
            values.append([math.nan] * width)
            problems.append(outcome.sentence)
        else:
            where = kind.describe(ex, seed, i, case)
            suffix = f" ({where})" if where and outcome.mistake != "not_implemented" else ""
            return Result.wrong(ex.name, outcome.mistake, outcome.sentence + suffix, notes)
    if len(values) != len(cases):
        raise Malformed(f"answers are missing for some {kind.unit}")
    if problems and all(p is not None for p in problems):  # it raised every time: say what
        where = kind.describe(ex, seed, 0, cases[0])
        return Result.wrong(ex.name, "exception", f"{problems[0]} ({where})", notes)
    if asked.changed:
        notes.insert(0, f"{function} changed the params dict it was given; it is safer to build a new dict.")
    if kind.judge is None:
        raise Malformed(f"gradelib does not judge {ex.kind!r} answers here")
    return kind.judge(Answers(ex, seed, list(cases), values, problems, reveal, notes, function))


def borrowed(ex: Exercise, name: str, notes: Sequence[str] = ()) -> Result:
    """The verdict on a function that asked gradelib's oracle for the answer (here or in the verifier)."""
    return Result.wrong(
        ex.name,
        "oracle_borrowed",
        f"{name} asked gradelib for the answer (numerical_gradient or check). The point is to derive it "
        "yourself: write the chain rule out.",
        notes,
    )


def _notes(calls: Sequence[Call]) -> list[str]:
    notes = []
    printed = "".join(c.printed for c in calls)
    if printed.strip():
        text = printed.strip()
        notes.append("Your function printed: " + clip(text, NOTE_CHARACTERS))
    warned = list(dict.fromkeys(w for c in calls for w in c.warned))
    if warned:
        notes.append("Your function raised warnings: " + "; ".join(warned[:3]))
    return notes


def _changed(now: object, before: dict) -> bool:
    try:
        return (
            type(now) is not dict
            or list(dict.keys(now)) != list(before)
            or any(
                type(dict.__getitem__(now, k)) is not float or dict.__getitem__(now, k) != v for k, v in before.items()
            )
        )
    except Exception:  # noqa: BLE001  (a key the student added whose __eq__ raises: the dict was certainly changed)
        return True


# ---------------------------------------------------------------- gradients, updates and pieces at test points


@functools.lru_cache(maxsize=64)
def _chosen(network: str, seed: int) -> points.Points:
    return points.choose(NETWORKS[network], seed)


def points_at(net: Network, seed: int) -> points.Points:
    """points.choose(net, seed), drawn once per network and seed (the cases, a problem's place and the judge all
    need them; drawing the 2-2-3 network's takes milliseconds); a fresh copy each time, so no caller shares arrays."""
    pts = _chosen(net.name, seed)
    return points.Points(
        pts.net,
        tuple(x.copy() for x in pts.X),
        {k: v.copy() for k, v in pts.P.items()},
        pts.T.copy(),
        pts.E.copy(),
        {k: v.copy() for k, v in pts.state.items()},
    )


def _point_cases(update: bool) -> Callable[[Exercise, int], list[Case]]:
    def cases(ex: Exercise, seed: int) -> list[Case]:
        pts = points_at(ex.the_network, seed)
        out = []
        for i in range(len(pts)):
            x, params, *rest = pts.call_args(i, update)
            out.append([list(x), params] + rest)
        return out

    return cases


def _point_arguments(case: Case) -> tuple:
    return (tuple(case[0]), dict(case[1])) + tuple(case[2:])


def _read_keys(value: object, shown: str, case: Case, shape: Shape) -> list[float]:
    answer = read_dict(value, shape.keys, shown, shape.what)
    return [answer[k] for k in shape.keys]


def _point_where(update: bool) -> Callable[[Exercise, int, int, Case], str]:
    return lambda ex, seed, i, case: "test point: " + points_at(ex.the_network, seed).describe(i, update)


def _network_judge(update: bool) -> Callable[[Answers], Result]:
    """The judge of a network's answers: gradients, or new parameters (update)."""

    def judge(a: Answers) -> Result:
        answers = [dict(zip(a.ex.the_network.params, v)) for v in a.values]
        return judge_network(a.ex, points_at(a.ex.the_network, a.seed), answers, a.reveal, a.notes, update)

    return judge


def _judge_piece(a: Answers) -> Result:
    answers = [dict(zip(a.ex.the_piece.keys, v)) for v in a.values]
    return pieces.judge_piece(a.ex, points_at(a.ex.the_network, a.seed), answers, a.reveal, a.notes)


def _network(update: bool) -> Kind:
    """A gradient (update False) or an update of a network's parameters, a dict of floats per test point."""
    what = "new parameters" if update else "gradients"
    return Kind(
        cases=_point_cases(update),
        arguments=_point_arguments,
        read=_read_keys,
        describe=_point_where(update),
        judge=_network_judge(update),
        width=lambda ex, case: len(ex.the_network.params),
        shape=lambda ex: Shape(tuple(ex.the_network.params), what),
        keeps_params=True,
        blames_pieces=not update,  # a wrong gradient may inherit the mistake of a piece it is built on
        unit="test points",
    )


def judge_network(
    ex: Exercise, pts: points.Points, answers: list[dict], reveal: bool, notes: Sequence[str] = (), update: bool = False
) -> Result:
    """The verdict on plain answers, one {param: float} per test point of pts (update: they are new parameters)."""
    net = ex.the_network
    notes = list(notes)
    S = {k: np.array([a[k] for a in answers]) for k in net.params}
    for k in net.params:
        bad = ~np.isfinite(S[k])
        if bad.any():
            i = int(np.argmax(bad))
            label = k if update else f"dLoss/d{k}"
            return Result.wrong(
                ex.name,
                "not_finite",
                f"{label} is {S[k][i]} at the test point {pts.describe(i, update)}; "
                "a gradient here is always a finite number.",
                notes,
            )
    G = oracle.loss_gradients(net, pts.X, pts.P, pts.T)
    if update:
        S = {k: (pts.P[k] - S[k]) / pts.E for k in net.params}  # the gradient the update implies
    if all(close(S[k], G[k]) for k in net.params):
        return Result.praise(ex.name, _praise(ex, pts, update), notes)
    found = []
    for mistake, ks, sentence, i in diagnose(ex, pts, S, G, update=update):
        if reveal:
            k = ks[0]
            if update:
                expected = pts.P[k][i] - pts.E[i] * G[k][i]
                got = pts.P[k][i] - pts.E[i] * S[k][i]
                sentence += (
                    f" For example at {pts.example(i, True)}: new {k} should be {expected:.6g}, yours is {got:.6g}."
                )
            else:
                sentence += f" For example at {pts.example(i)}: dLoss/d{k} = {G[k][i]:.6g}, yours is {S[k][i]:.6g}."
        found.append(Mistake(mistake, sentence, tuple(ks)))
    return Result(ex.name, False, found, notes)


def _praise(ex: Exercise, pts: points.Points, update: bool) -> str:
    net = ex.the_network
    patterns = []
    for u, relu in net.relus.items():
        on = int(pts.on(u).sum())
        patterns.append(f"{relu.label} on at {on} and off at {len(pts) - on}")
    if update:
        lead = f"All {len(net.params)} new parameters agree with p − η·dLoss/dp"
    else:
        lead = f"All {len(net.params)} gradients agree with the numerical gradient"
    return f"{lead} at {len(pts)} test points ({'; '.join(patterns)})."


PIECE = Kind(  # a staged local gradient (gradelib.pieces): the calls of a gradient, its own keys
    cases=_point_cases(False),
    arguments=_point_arguments,
    read=_read_keys,
    describe=_point_where(False),
    judge=_judge_piece,
    width=lambda ex, case: len(ex.the_piece.keys),
    shape=lambda ex: Shape(tuple(ex.the_piece.keys), ex.the_piece.what),
    unit="test points",
)


# ---------------------------------------------------------------- softmax

# Splits SOFTMAX_CASES into ordinary ones (|logit| ≤ 2.5) and huge ones (|logit| ≥ 1000, where a naive exp()
# overflows past exp(709)); any cutoff in between would do, and 100 is far from both.
EXTREME_LOGIT = 100
EXTRA_SOFTMAX = 3  # random ordinary logit vectors the grader adds to the checker's fixed ones
SOFTMAX_SALT = 9913  # mixed into the seed, so that these vectors differ from any other draw made from it

SOFTMAX_CASES = [
    # ordinary logits: a naive exp() handles these
    [0.5, -1.2, 2.0],
    [1.0, 1.0, 1.0],
    [-0.3, 0.8, 0.1],
    [2.5, -0.7, -2.2],
    # then the ones that overflow or underflow a naive exp()
    [1000.0, 1001.0, 1002.0],
    [-1000.0, 0.0, 1000.0],
    [-1000.0, -1001.0, -1002.0],
]


def is_extreme(logits: Sequence[float]) -> bool:
    """Logits whose exp() overflows or underflows in float64 unless the maximum is subtracted first."""
    return max(abs(v) for v in logits) >= EXTREME_LOGIT


def softmax_cases(seed: int) -> list[list[float]]:
    """The grader's logit vectors: the checker's, then EXTRA_SOFTMAX more drawn from the seed."""
    rng = np.random.default_rng([seed, SOFTMAX_SALT])
    extra = [[float(v) for v in np.round(rng.uniform(-3, 3, 3), 2)] for _ in range(EXTRA_SOFTMAX)]
    return [list(c) for c in SOFTMAX_CASES] + extra


def judge_softmax(
    ex: Exercise, cases: Sequence[list[float]], rows: Sequence[Sequence[float]], reveal: bool, notes: Sequence[str] = ()
) -> Result:
    """The verdict on plain probabilities, one row per logit vector (nan where the function crashed)."""
    notes = list(notes)
    ref = [networks.softmax(logits) for logits in cases]
    ok = [bool(np.all(np.isfinite(r))) and close(r, e) for r, e in zip(rows, ref)]
    if all(ok):
        return Result.praise(
            ex.name,
            f"Your softmax agrees with the stable reference on {len(ok)} logit vectors, "
            "including [1000, 1001, 1002] and [-1000, 0, 1000].",
            notes,
        )
    if all(good for logits, good in zip(cases, ok) if not is_extreme(logits)):
        bad = [logits for logits, good in zip(cases, ok) if not good]
        return Result.wrong(
            ex.name,
            "softmax_overflow",
            f"Your softmax is right for ordinary logits but fails for {bad[0]}: exp(1000) overflows to inf "
            "(and exp(-1000) underflows to 0), giving inf/inf or 0/0 = nan. Subtract the largest logit first: "
            "softmax(Y) = softmax(Y − max(Y)), so every exp() is at most 1.",
            notes,
        )
    i = ok.index(False)
    logits, r, e = cases[i], np.array(rows[i]), np.array(ref[i])
    for mistake, slip, text in SOFTMAX_SLIPS:
        with np.errstate(all="ignore"):  # the verifier calls this too, outside check()'s own errstate
            expected = slip(np.array(logits, float))
        if np.all(np.isfinite(r)) and close(r, expected):
            return Result.wrong(ex.name, mistake, text, notes)
    if np.all(np.isfinite(r)) and abs(r.sum() - 1) > 1e-6 and r.sum() != 0 and np.allclose(r / r.sum(), e):
        mistake, text = (
            "softmax_not_normalized",
            (
                f"Your probabilities for logits {logits} sum to {r.sum():.6g}, "
                "not 1: divide every exp(Y_k) by the sum Σ_j exp(Y_j)."
            ),
        )
    else:
        mistake, text = "wrong_value", f"For logits {logits} your softmax does not give P_k = exp(Y_k) / Σ_j exp(Y_j)."
        if reveal:
            text += f" It gives {[round(float(v), 6) for v in r]}, but P = {[round(float(v), 6) for v in e]}."
    return Result.wrong(ex.name, mistake, text, notes)


# A wrong softmax as the vector it gives for ordinary logits Y, with its words: tried in this order.
def _logits_over_their_sum(Y: np.ndarray) -> np.ndarray:
    return Y / np.sum(Y)


def _exp_over_logit_sum(Y: np.ndarray) -> np.ndarray:
    return np.exp(Y) / np.sum(Y)


def _log_probabilities(Y: np.ndarray) -> np.ndarray:
    return np.log(networks.softmax(list(Y)))


def _negated_logits(Y: np.ndarray) -> np.ndarray:
    return np.array(networks.softmax(list(-Y)))


SOFTMAX_SLIPS: list[tuple[str, Callable[[np.ndarray], np.ndarray], str]] = [
    (
        "softmax_no_exp",
        _logits_over_their_sum,
        "Your softmax divides the logits by their sum; it needs exp(Y_k) / Σ_j exp(Y_j).",
    ),
    (
        "softmax_denominator",
        _exp_over_logit_sum,
        "Your softmax divides exp(Y_k) by the sum of the logits, Σ_j Y_j; the denominator is the sum of the "
        "exponentials, Σ_j exp(Y_j), which is what makes the P_k add up to 1.",
    ),
    (
        "softmax_log",
        _log_probabilities,
        "Your softmax returns log P_k, the log-probabilities: P_k = exp(Y_k) / Σ_j exp(Y_j) is their exp().",
    ),
    (
        "softmax_negated",
        _negated_logits,
        "Your softmax uses exp(−Y_k): the largest logit must get the largest probability, "
        "P_k = exp(Y_k) / Σ_j exp(Y_j).",
    ),
]

# A softmax case is its call's argument list, [logits]: so the grader sends it as it is.
SOFTMAX = Kind(
    cases=lambda ex, seed: [[list(c)] for c in SOFTMAX_CASES],
    arguments=lambda case: (np.array(case[0], dtype=float),),
    read=lambda value, shown, case, shape: read_vector(value, len(case[0]), shown),
    describe=lambda ex, seed, i, case: f"logits = {case[0]}",
    judge=lambda a: judge_softmax(a.ex, [c[0] for c in a.cases], a.values, a.reveal, a.notes),
    width=lambda ex, case: len(case[0]),
    tolerates=lambda case: is_extreme(case[0]),  # a crash only on huge logits is an overflow: judged as nan
    grader_cases=lambda ex, seed: [[c] for c in softmax_cases(seed)],
    watched=True,  # gradelib's softmax or forward pass, called inside, counts as asking
    unit="logit vectors",
)


# ---------------------------------------------------------------- the learner's gradient check and a mini-batch


def _read_number(value: object, shown: str, case: Case, shape: Shape) -> list[float]:
    return [to_number(value, f"what {shown} returns")]


def _judge_difference(a: Answers) -> Result:
    cases = gradcheck.difference_cases(a.seed)
    return gradcheck.judge_difference(a.ex, cases, [v[0] for v in a.values], a.problems, a.notes, a.function)


def _judge_relative(a: Answers) -> Result:
    cases = gradcheck.relative_cases(a.seed)
    return gradcheck.judge_relative_error(a.ex, cases, [v[0] for v in a.values], a.problems, a.notes, a.function)


def _read_name(value: object, shown: str, case: Case, shape: Shape) -> list[float]:
    """The named parameter as its index in the network's parameters: the grader's channel carries only numbers."""
    return [float(SINGLE_NEURON.params.index(gradcheck.read_name(value, shown)))]


def _judge_answer(a: Answers) -> Result:
    index = a.values[0][0]
    if not (index.is_integer() and 0 <= index < len(SINGLE_NEURON.params)):
        raise Malformed(f"no parameter has the index {index}")
    return gradcheck.judge_wrong_parameter(a.ex, SINGLE_NEURON.params[int(index)], 0, a.notes, a.function)


def _batch_case(b: batch.Batch) -> Case:
    return [[list(x) for x in b.X], dict(b.params), list(b.targets)]


def _batch_where(ex: Exercise, seed: int, i: int, case: Case) -> str:
    return batch.Batch([tuple(x) for x in case[0]], case[1], case[2]).describe()


def _judge_batch(a: Answers) -> Result:
    answers = [dict(zip(SINGLE_NEURON.params, v)) for v in a.values]
    return batch.judge_batch(a.ex, batch.batches(a.seed), answers, a.reveal, a.notes)


def _read_hand(value: object, shown: str, case: Case, shape: Shape) -> dict:
    """The by-hand values as JSON values; what is neither number nor text travels as its description."""
    return {
        k: ({"unusual": v.description} if isinstance(v, Unusual) else v) for k, v in read_answers(value, shown).items()
    }


# ---------------------------------------------------------------- the registry

KINDS: dict[str, Kind] = {
    "gradient": _network(update=False),
    "update": _network(update=True),
    "piece": PIECE,
    "softmax": SOFTMAX,
    "difference": Kind(
        cases=lambda ex, seed: [[cs, x] for cs, x in gradcheck.difference_cases(seed)],
        arguments=lambda case: (gradcheck.polynomial(case[0]), float(case[1])),
        read=_read_number,
        describe=lambda ex, seed, i, case: f"f(t) = {gradcheck.show_polynomial(case[0])} at x = {case[1]:g}",
        judge=_judge_difference,
        tolerates=lambda case: True,
    ),
    "relative_error": Kind(
        cases=lambda ex, seed: [list(pair) for pair in gradcheck.relative_cases(seed)],
        arguments=lambda case: (float(case[0]), float(case[1])),
        read=_read_number,
        describe=lambda ex, seed, i, case: f"a = {case[0]:g}, b = {case[1]:g}",
        judge=_judge_relative,
        tolerates=lambda case: True,
    ),
    "answer": Kind(
        cases=lambda ex, seed: [[]],
        arguments=lambda case: (),
        read=_read_name,
        describe=lambda ex, seed, i, case: "",
        judge=_judge_answer,
    ),
    "batch": Kind(
        cases=lambda ex, seed: [_batch_case(b) for b in batch.batches(seed)],
        arguments=lambda case: ([tuple(x) for x in case[0]], dict(case[1]), list(case[2])),
        read=lambda value, shown, case, shape: list(
            read_dict(value, SINGLE_NEURON.params, shown, "gradients").values()
        ),
        describe=_batch_where,
        judge=_judge_batch,
        width=lambda ex, case: len(SINGLE_NEURON.params),
    ),
    "by_hand": Kind(  # only the harness asks: grading/preprocess/probes.py probes, grading/judge/hand.py marks
        cases=lambda ex, seed: [[]],
        arguments=lambda case: (),
        read=_read_hand,
        describe=lambda ex, seed, i, case: "",
        judge=None,
        answer_field="answers",
    ),
}


def questions(ex: Exercise, seed: int) -> dict:
    """The grader's probe for one exercise and seed: what the harness needs to call the function (plain JSON)."""
    kind = KINDS[ex.kind]
    cases = (kind.grader_cases or kind.cases)(ex, seed)
    probe = {"kind": ex.kind, "calls": cases, "tolerate": [i for i, case in enumerate(cases) if kind.tolerates(case)]}
    shape = kind.shape(ex)
    if shape.keys:
        probe.update(keys=list(shape.keys), what=shape.what)
    return probe


def grader_cases(ex: Exercise, seed: int) -> list[Case]:
    """The cases the grader asks at (see Kind.grader_cases)."""
    kind = KINDS[ex.kind]
    return (kind.grader_cases or kind.cases)(ex, seed)
