"""check(exercise, fn): run the student's function at chosen points and say what is wrong.

The order matters for honesty: every call of the student's function happens,
and its answers are turned into plain floats, before the oracle computes
anything, so no object or frame the student can reach holds the answer.
"""

import types
import warnings

import numpy as np

from . import networks, oracle, pieces, points
from .borrowing import watched
from .contract import CONTRACTS, Outcome, conclude
from .diagnose import close, diagnose
from .exercises import lookup
from .result import Mistake, Result
from .student import Problem, call, read_dict, read_vector
from .text import clip

# Splits SOFTMAX_CASES into ordinary ones (|logit| ≤ 2.5) and huge ones (|logit| ≥ 1000, where a naive exp()
# overflows past exp(709)); any cutoff in between would do, and 100 is far from both.
EXTREME_LOGIT = 100
NOTE_CHARACTERS = 300  # what a student's function printed is shown up to this length
NOT_AVAILABLE = "gradelib's checker is not available while grading."  # after oracle.withdraw(), in the harness

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


def _function_name(fn, exercise):
    if isinstance(fn, types.FunctionType):
        return f"{fn.__name__}()"
    return f"your {exercise.notebook_function}()"


def _notes(calls):
    notes = []
    printed = "".join(c.printed for c in calls)
    if printed.strip():
        text = printed.strip()
        notes.append("Your function printed: " + clip(text, NOTE_CHARACTERS))
    warned = list(dict.fromkeys(w for c in calls for w in c.warned))
    if warned:
        notes.append("Your function raised warnings: " + "; ".join(warned[:3]))
    return notes


def check(exercise, fn, *, seed=0, reveal=True):
    """Check a student's function for one exercise of the contract; return a Result.

    exercise: a name in gradelib.EXERCISES; fn: the student's function;
    seed: which test points (the same seed, the same points); reveal: whether
    the feedback may show the expected value at a failing point (hidden tests
    pass reveal=False).
    """
    if oracle.withdrawn():
        return Result(str(exercise), False, remarks=[NOT_AVAILABLE])
    oracle.refuse_inside_student_code()
    try:
        ex = lookup(exercise)
    except ValueError as err:
        return Result.wrong(str(exercise), "unknown_exercise", str(err))
    if not callable(fn):
        return Result.wrong(
            ex.name,
            "not_callable",
            f"check() needs your function itself, e.g. gradelib.check({ex.name!r}, {ex.notebook_function}); "
            f"it got {type(fn).__name__} {_safe_repr(fn)}.",
        )
    name = _function_name(fn, ex)
    # the student's numbers may be 1e308: the checker's own arithmetic on them must not warn on stderr
    with oracle.watch(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ex.kind == "softmax":
            return _check_softmax(ex, fn, name, reveal)
        if ex.kind == "piece":
            return _check_piece(ex, fn, name, seed, reveal)
        if ex.kind in CONTRACTS:
            return _check_contract(ex, fn, name, seed, reveal)
        result = _check_network(ex, fn, name, seed, reveal)
        if ex.kind == "gradient":  # a wrong gradient may inherit the mistake of a piece it is built on
            result = pieces.blame(ex, fn, result, lambda piece, f: check(piece, f, seed=seed, reveal=False))
        return result


def grade(exercise, fn, *, seed=0, reveal=False):
    """check(), for an nbgrader test cell: raises AssertionError with the feedback unless it passed.

    Returns None, so a test cell that passes shows no output: nbgrader would
    try to read a shown value as a partial score.
    """
    result = check(exercise, fn, seed=seed, reveal=reveal)
    if not oracle.withdrawn():  # in the grader's harness a test cell runs on to its end; the grader judges
        result.assert_passed()


def _safe_repr(value):
    try:
        text = repr(value) if type(value) in (str, int, float, type(None)) else ""
    except ValueError:  # an int with more digits than Python will print
        text = ""
    return text[:40]


class _Borrowed(Exception):
    """The function under check asked gradelib's oracle for the answer."""


def _answer(calls, fn, args, name):
    """What fn(*args) returned, its Call kept in calls; raises _Borrowed if it asked the oracle, or its Problem."""
    c = call(fn, args, name)
    calls.append(c)
    if oracle.asked():
        raise _Borrowed()
    if c.problem:
        raise c.problem
    return c.value


def borrowed(ex, name, notes=()):
    """The verdict on a function that asked gradelib's oracle for the answer (here or in the verifier)."""
    return Result.wrong(
        ex.name,
        "oracle_borrowed",
        f"{name} asked gradelib for the answer (numerical_gradient or check). The point is to derive it "
        "yourself: write the chain rule out.",
        notes,
    )


def _check_network(ex, fn, name, seed, reveal):
    net, update = ex.network, ex.kind == "update"
    pts = points.choose(net, seed)
    what = "new parameters" if update else "gradients"
    answers, calls, notes = [], [], []
    for i in range(len(pts)):
        args = pts.call_args(i, update)
        given = dict(args[1])
        try:
            answers.append(read_dict(_answer(calls, fn, args, name), net.params, name, what))
        except _Borrowed:
            return borrowed(ex, name, _notes(calls))
        except Problem as p:
            where = "" if p.mistake == "not_implemented" else f" (test point: {pts.describe(i, update)})"
            return Result.wrong(ex.name, p.mistake, p.sentence + where, _notes(calls))
        if _changed(args[1], given) and not notes:
            notes.append(f"{name} changed the params dict it was given; it is safer to build a new dict.")
    return judge_network(ex, pts, answers, reveal, notes + _notes(calls))


def _check_piece(ex, fn, name, seed, reveal):
    """A staged local gradient (gradelib.pieces): the same calls and problems as _check_network, its own keys."""
    pts = points.choose(ex.network, seed)
    answers, calls = [], []
    for i in range(len(pts)):
        try:
            answers.append(
                read_dict(_answer(calls, fn, pts.call_args(i, False), name), ex.piece.keys, name, ex.piece.what)
            )
        except _Borrowed:
            return borrowed(ex, name, _notes(calls))
        except Problem as p:
            where = "" if p.mistake == "not_implemented" else f" (test point: {pts.describe(i)})"
            return Result.wrong(ex.name, p.mistake, p.sentence + where, _notes(calls))
    return pieces.judge_piece(ex, pts, answers, reveal, _notes(calls))


def _check_contract(ex, fn, name, seed, reveal):
    """An exercise of gradelib.contract: its cases called here, their plain outcomes judged by contract.conclude."""
    contract = CONTRACTS[ex.kind]
    outcomes, calls = [], []
    for case in contract.cases(seed):
        try:
            outcomes.append(Outcome(contract.read(_answer(calls, fn, contract.arguments(case), name), name)))
        except _Borrowed:
            return borrowed(ex, name, _notes(calls))
        except Problem as p:
            outcomes.append(Outcome(None, p.mistake, p.sentence))
            if not (p.mistake == "exception" and contract.tolerates):
                break  # conclude() gives this problem as the verdict
    return conclude(ex, seed, outcomes, reveal, _notes(calls), name)


def judge_network(ex, pts, answers, reveal, notes=()):
    """The verdict on plain answers, one {param: float} per test point of pts.

    Shared by check() and by the grader's verifier outside the kernel, so that
    both reach the same verdict in the same words.
    """
    net, update = ex.network, ex.kind == "update"
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
        return Result.praise(ex.name, _praise(ex, pts), notes)
    found = []
    findings = diagnose(ex, pts, S, G)
    for mistake, ks, sentence, i in findings:
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


def _changed(now, before):
    try:
        return (
            type(now) is not dict
            or list(dict.keys(now)) != list(before)
            or any(
                type(dict.__getitem__(now, k)) is not float or dict.__getitem__(now, k) != v for k, v in before.items()
            )
        )
    except Exception:  # a key the student added whose __eq__ raises: the dict was certainly changed
        return True


def _praise(ex, pts):
    net = ex.network
    patterns = []
    for u, relu in net.relus.items():
        on = int(pts.on(u).sum())
        patterns.append(f"{relu.label} on at {on} and off at {len(pts) - on}")
    if ex.kind == "update":
        lead = f"All {len(net.params)} new parameters agree with p − η·dLoss/dp"
    else:
        lead = f"All {len(net.params)} gradients agree with the numerical gradient"
    return f"{lead} at {len(pts)} test points ({'; '.join(patterns)})."


def is_extreme(logits):
    """Logits whose exp() overflows or underflows in float64 unless the maximum is subtracted first."""
    return max(abs(v) for v in logits) >= EXTREME_LOGIT


def _check_softmax(ex, fn, name, reveal):
    calls, rows = [], []
    for logits in SOFTMAX_CASES:
        try:  # gradelib's softmax or forward pass, called inside, counts as asking
            rows.append(read_vector(_answer(calls, watched(fn), (np.array(logits),), name), len(logits), name))
        except _Borrowed:
            return borrowed(ex, name, _notes(calls))
        except Problem as p:
            if is_extreme(logits) and p.mistake == "exception":
                rows.append([float("nan")] * len(logits))  # a crash only on huge logits is an overflow
                continue
            where = "" if p.mistake == "not_implemented" else f" (logits = {logits})"
            return Result.wrong(ex.name, p.mistake, p.sentence + where, _notes(calls))
    return judge_softmax(ex, SOFTMAX_CASES, rows, reveal, _notes(calls))


def judge_softmax(ex, cases, rows, reveal, notes=()):
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
            text += f" It gives {[round(v, 6) for v in r]}, but P = {[round(float(v), 6) for v in e]}."
    return Result.wrong(ex.name, mistake, text, notes)


# A wrong softmax as the vector it gives for ordinary logits Y, with its words: tried in this order.
def _logits_over_their_sum(Y):
    return Y / np.sum(Y)


def _exp_over_logit_sum(Y):
    return np.exp(Y) / np.sum(Y)


def _log_probabilities(Y):
    return np.log(networks.softmax(list(Y)))


def _negated_logits(Y):
    return np.array(networks.softmax(list(-Y)))


SOFTMAX_SLIPS = [
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
