"""How to question a learner's function of the newer exercise kinds, the same in the kernel and in the grader.

Each kind has a Contract: its cases for a seed (plain JSON values, so that the grader can send them
to its harness), how one case becomes fresh Python arguments, how the returned value is read into
a plain value, and the judge.  gradelib.check calls the function in the kernel, the grader's
harness.py calls it in a fresh process; both hand the plain outcomes (Outcome records) to
``conclude``, which gives the verdict in the same words.

    "difference"      central_difference(f, x) -> float       f: a polynomial built from its coefficients
    "relative_error"  relative_error(a, b) -> float
    "answer"          which_gradient_is_wrong() -> "w1", "w2" or "b"
    "batch"           single_neuron_batch_gradients(X, params, targets) -> {"w1": ..., "w2": ..., "b": ...}
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from . import batch, gradcheck
from .exercises import SINGLE_NEURON
from .result import Result
from .student import read_dict, to_number


class Outcome(NamedTuple):
    """One call's outcome as plain values: its answer, or the problem with it."""

    value: list = None  # the answer as plain floats, as the contract's read() gives it
    mistake: str | None = None  # the Problem's short name, when the call raised or returned junk
    sentence: str = ""  # the Problem's sentence for the learner


@dataclass(frozen=True)
class Contract:
    """One exercise kind's questions and verdict (see the module docstring)."""

    cases: Callable  # seed -> [case]: plain JSON values, one per call
    arguments: Callable  # case -> the call's arguments, fresh Python objects
    read: Callable  # (returned value, the function's name) -> a list of plain floats, or raises a Problem
    describe: Callable  # case -> where the call was, for a problem's sentence
    judge: Callable  # (ex, seed, values, problems, reveal, notes, function) -> Result
    tolerates: bool  # whether a call that raises is an answer to judge (nan) rather than the end
    width: int = 1  # how many floats read() gives per call


# ---------------------------------------------------------------- the four kinds


def _difference_cases(seed):
    return [[cs, x] for cs, x in gradcheck.difference_cases(seed)]


def _judge_difference(ex, seed, values, problems, reveal, notes, function):
    return gradcheck.judge_difference(
        ex, gradcheck.difference_cases(seed), [v[0] for v in values], problems, notes, function
    )


def _judge_relative(ex, seed, values, problems, reveal, notes, function):
    return gradcheck.judge_relative_error(
        ex, gradcheck.relative_cases(seed), [v[0] for v in values], problems, notes, function
    )


def _read_name(value, name):
    """The named parameter as its index in the network's parameters: the grader's channel carries only numbers."""
    return [float(SINGLE_NEURON.params.index(gradcheck.read_name(value, name)))]


def _judge_answer(ex, seed, values, problems, reveal, notes, function):
    index = values[0][0]
    if not (index.is_integer() and 0 <= index < len(SINGLE_NEURON.params)):
        raise ValueError(f"no parameter has the index {index}")
    return gradcheck.judge_wrong_parameter(ex, SINGLE_NEURON.params[int(index)], 0, notes, function)


def _batch_case(b):
    return [[list(x) for x in b.X], dict(b.params), list(b.targets)]


def _judge_batch(ex, seed, values, problems, reveal, notes, function):
    answers = [dict(zip(SINGLE_NEURON.params, v)) for v in values]
    return batch.judge_batch(ex, batch.batches(seed), answers, reveal, notes)


def _batch_where(case):
    return batch.Batch([tuple(x) for x in case[0]], case[1], case[2]).describe()


CONTRACTS = {
    "difference": Contract(
        cases=_difference_cases,
        arguments=lambda case: (gradcheck.polynomial(case[0]), float(case[1])),
        read=lambda value, name: [to_number(value, f"what {name} returns")],
        describe=lambda case: f"f(t) = {gradcheck.show_polynomial(case[0])} at x = {case[1]:g}",
        judge=_judge_difference,
        tolerates=True,
    ),
    "relative_error": Contract(
        cases=lambda seed: [list(pair) for pair in gradcheck.relative_cases(seed)],
        arguments=lambda case: (float(case[0]), float(case[1])),
        read=lambda value, name: [to_number(value, f"what {name} returns")],
        describe=lambda case: f"a = {case[0]:g}, b = {case[1]:g}",
        judge=_judge_relative,
        tolerates=True,
    ),
    "answer": Contract(
        cases=lambda seed: [[]],
        arguments=lambda case: (),
        read=_read_name,
        describe=lambda case: "",
        judge=_judge_answer,
        tolerates=False,
    ),
    "batch": Contract(
        cases=lambda seed: [_batch_case(b) for b in batch.batches(seed)],
        arguments=lambda case: ([tuple(x) for x in case[0]], dict(case[1]), list(case[2])),
        read=lambda value, name: list(read_dict(value, SINGLE_NEURON.params, name, "gradients").values()),
        describe=_batch_where,
        judge=_judge_batch,
        tolerates=False,
        width=len(SINGLE_NEURON.params),
    ),
}


def conclude(ex, seed, outcomes, reveal=False, notes=(), function=""):
    """The verdict on the outcomes of the calls at contract.cases(seed), in the kernel or in the grader alike.

    A call that raised, where the kind tolerates it, is judged as a nan answer (its sentence kept for the
    feedback); any other problem (not written yet, None, a string, an endless loop) is the verdict itself.
    Raises ValueError when the outcomes do not answer every case in the contract's form (the grader's
    verifier then has no verdict).
    """
    contract = CONTRACTS[ex.kind]
    cases = contract.cases(seed)
    function = function or f"{ex.notebook_function}()"
    values, problems = [], []
    for case, outcome in zip(cases, outcomes):
        if outcome.mistake is None:
            if len(outcome.value) != contract.width:
                raise ValueError(f"an answer has {len(outcome.value)} numbers, not {contract.width}")
            values.append(outcome.value)
            problems.append(None)
        elif outcome.mistake == "exception" and contract.tolerates:
            values.append([math.nan])
            problems.append(outcome.sentence)
        else:
            where = contract.describe(case)
            suffix = f" ({where})" if where and outcome.mistake != "not_implemented" else ""
            return Result.wrong(ex.name, outcome.mistake, outcome.sentence + suffix, notes)
    if len(values) != len(cases):
        raise ValueError("answers are missing for some cases")
    if contract.tolerates and all(p is not None for p in problems):  # it raised every time: say what
        return Result.wrong(ex.name, "exception", f"{problems[0]} ({contract.describe(cases[0])})", notes)
    return contract.judge(ex, seed, values, problems, reveal, list(notes), function)
