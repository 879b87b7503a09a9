"""check(exercise, fn): run the student's function at chosen points and say what is wrong.

The order matters for honesty: every call of the student's function happens,
and its answers are turned into plain floats, before the oracle computes
anything, so no object or frame the student can reach holds the answer.
What each exercise kind calls and judges is its record in gradelib.kinds.
"""

import types
import warnings
from collections.abc import Callable

import numpy as np

from . import oracle, pieces
from .exercises import Exercise, lookup
from .kinds import KINDS, ask, conclude, in_kernel
from .result import Result

NOT_AVAILABLE = "gradelib's checker is not available while grading."  # after oracle.withdraw(), in the harness


def _function_name(fn: Callable, exercise: Exercise) -> str:
    if isinstance(fn, types.FunctionType):
        return f"{fn.__name__}()"
    return f"your {exercise.notebook_function}()"


def check(exercise: str | Exercise, fn: Callable, *, seed: int = 0, reveal: bool = True) -> Result:
    """Check a student's function for one exercise of the contract; return a Result.

    exercise: a name in gradelib.EXERCISES, or an Exercise record (a new kind's test questions its
    kind through an exercise made on the spot); fn: the student's function;
    seed: which test points (the same seed, the same points); reveal: whether
    the feedback may show the expected value at a failing point (hidden tests
    pass reveal=False).
    """
    if oracle.withdrawn():
        return Result(str(exercise), False, remarks=[NOT_AVAILABLE])
    oracle.refuse_inside_student_code()
    try:
        ex = exercise if isinstance(exercise, Exercise) else lookup(exercise)
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
    kind = KINDS[ex.kind]
    # the student's numbers may be 1e308: the checker's own arithmetic on them must not warn on stderr
    with oracle.watch(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = kind.cases(ex, seed)
        asked = ask(kind, fn, cases, name, kind.shape(ex), in_kernel(kind, cases))
        result = conclude(ex, seed, cases, asked, reveal, name)
        if kind.blames_pieces:  # a wrong gradient may inherit the mistake of a piece it is built on
            result = pieces.blame(ex, fn, result, lambda piece, f: check(piece, f, seed=seed, reveal=False))
        return result


def grade(exercise: str, fn: Callable, *, seed: int = 0, reveal: bool = False) -> None:
    """check(), for an nbgrader test cell: raises AssertionError with the feedback unless it passed.

    Returns None, so a test cell that passes shows no output: nbgrader would
    try to read a shown value as a partial score.
    """
    result = check(exercise, fn, seed=seed, reveal=reveal)
    if not oracle.withdrawn():  # in the grader's harness a test cell runs on to its end; the grader judges
        result.assert_passed()


def _safe_repr(value: object) -> str:
    try:
        text = repr(value) if type(value) in (str, int, float, type(None)) else ""
    except ValueError:  # an int with more digits than Python will print
        text = ""
    return text[:40]
