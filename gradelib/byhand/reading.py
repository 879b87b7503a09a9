"""Reading one value a student typed for a step: a plain float, or a sentence saying why it cannot be read.

What a student types into a box (or into a dict) is trusted no more than
what a student's function returns (see gradelib.student): a value is read
only when it is a plain real number of an exact type, or a string holding
one.  Everything else gets a sentence a student understands, and the step is
marked "unreadable"; nothing raises and nothing reaches stderr.

Strings: a plain decimal number ("0.25", " -1.5 ", ".5", "1e-3") is read as
it stands; the minus sign "−" (U+2212) copied from the notes counts as "-".
Three things students write on paper get a sentence of their own instead of
a guess, because guessing could mark a wrong intention right:
"3/4" (a fraction: write it as a decimal, 0.75), "0,25" (a decimal comma:
write 0.25) and "25%" (write 0.25).  A calculation ("0.5*2") is refused too:
the box wants the number the step comes to.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

from ..student import Problem, call, describe_type, read_answers, to_number
from ..text import clip

SHOWN = 30  # a typed text is quoted back up to this many characters

PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
FRACTION = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*/\s*([+-]?\d+(?:\.\d+)?)")
DECIMAL_COMMA = re.compile(r"([+-]?\d*),(\d+)")
PERCENT = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))\s*%")
CALCULATION = re.compile(r"[\d.)\s][*×·+\-/^(]|\*\*|[()]")


class Reading(NamedTuple):
    """One typed value, read."""

    value: object  # the float read, or None when nothing could be read
    status: str  # "ok", "missing" (no value given) or "unreadable"
    sentence: str  # "" when ok; otherwise why the value cannot be read, for the student


def _quoted(text):
    return repr(clip(text, SHOWN))


def _decimal(number):
    """A number as a student would write it: 0.75, not 0.7500000000000001."""
    return f"{number:.6g}"


def read_string(text: str) -> Reading:
    """The Reading of a typed string (see the module docstring for what is accepted and why)."""
    plain = text.strip().replace("\u2212", "-")
    if plain == "":
        return Reading(None, "unreadable", "the box is empty: write the number the step comes to")
    if PLAIN.fullmatch(plain):
        try:
            value = float(plain)
        except (OverflowError, ValueError):  # "1e999" reads as inf; nothing else here can fail
            value = math.inf
        if math.isfinite(value):
            return Reading(value, "ok", "")
        return Reading(None, "unreadable", f"{_quoted(text)} is too large to be a step of this network")
    fraction = FRACTION.fullmatch(plain)
    if fraction:
        top, bottom = float(fraction.group(1)), float(fraction.group(2))
        if bottom != 0:
            return Reading(
                None,
                "unreadable",
                f"{_quoted(text)} is a fraction: write fractions as decimals: {_decimal(top / bottom)}",
            )
        return Reading(None, "unreadable", f"{_quoted(text)} divides by 0: write the number the step comes to")
    comma = DECIMAL_COMMA.fullmatch(plain)
    if comma:
        point = f"{comma.group(1) or '0'}.{comma.group(2)}".replace("-.", "-0.").replace("+", "")
        return Reading(
            None, "unreadable", f"{_quoted(text)} has a decimal comma: use a point as the decimal separator: {point}"
        )
    percent = PERCENT.fullmatch(plain)
    if percent:
        return Reading(
            None,
            "unreadable",
            f"{_quoted(text)} is a percentage: write it as a decimal: {_decimal(float(percent.group(1)) / 100)}",
        )
    if plain.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return Reading(
            None, "unreadable", f"{_quoted(text)} is not a number a step can take: every step here is a finite number"
        )
    if any(c.isdigit() for c in plain) and CALCULATION.search(plain):
        return Reading(None, "unreadable", f"{_quoted(text)} is a calculation: write the number it comes to")
    return Reading(
        None,
        "unreadable",
        f"{_quoted(text)} is not a number: write the step's value with a decimal point, e.g. 0.25 or -1.5",
    )


def read_value(value: Any) -> Reading:
    """The Reading of whatever a student gave for one step: never raises.

    float, int and NumPy real scalars are read as they are (through
    gradelib.student.to_number, which refuses subclasses that could lie);
    strings through read_string; None, NaN, inf, truth values, lists and any
    other object get a sentence.
    """
    if type(value) is str:
        return read_string(value)
    if value is None or value is Ellipsis:
        shown = "..." if value is Ellipsis else "None"
        return Reading(None, "unreadable", f"the value is {shown}, not filled in: write the number the step comes to")
    kind = type(value)
    if kind.__module__ == "gradelib.student" and kind.__name__ == "Unusual":
        # what the grader's harness sends back for an answer that is neither a number nor text (student.read_answers)
        return Reading(None, "unreadable", f"the value is {value.description}, not a number")
    try:
        number = to_number(value, "the value")
    except Problem as problem:
        sentence = problem.sentence.replace("return the number itself, not text", "write the number itself")
        sentence = sentence.replace("return a plain number", "write a plain number")
        return Reading(None, "unreadable", sentence.rstrip("."))
    except Exception:  # noqa: BLE001  an exotic object whose conversion fails in its own way: say what it is, never crash
        return Reading(None, "unreadable", f"the value is {describe_type(value)}, not a number")
    if not math.isfinite(number):
        return Reading(None, "unreadable", f"the value is {number}: every step here is a finite number")
    return Reading(number, "ok", "")


# How close a written value must be to the value expected from the student's own earlier numbers.
# ABSOLUTE: half a unit in the second decimal, so a value rounded to two decimals, as on paper, is accepted.
# RELATIVE: 1%, so a value kept to three significant figures (at most 0.5% off) is accepted where the value is
# large.  The personal problems keep every slip at least personal.SEPARATION tolerances from the right value, so
# this never lets a slip through.  SLACK absorbs the binary rounding of a value that lies exactly half a unit off.
ABSOLUTE = 0.005
RELATIVE = 0.01
SLACK = 1e-9


def tolerance(expected: float) -> float:
    """How far a written value may be from expected and still count as it: max(0.005, 1% of |expected|)."""
    return max(ABSOLUTE, RELATIVE * abs(expected)) if math.isfinite(expected) else ABSOLUTE


def agrees(given: float, expected: Any) -> bool:
    """Whether the written value given counts as expected (see tolerance); never for a non-finite expected."""
    return math.isfinite(expected) and math.isfinite(given) and abs(given - expected) <= tolerance(expected) + SLACK


def not_written_sentence(mistake: str, sentence: str, shown: str) -> str:
    """The sentence for a by-hand function's problem: its template sits below raise NotImplementedError(), so
    "not written yet" would puzzle a student who filled in every value; say which line to delete."""
    if mistake != "not_implemented":
        return sentence
    return (
        f"{shown} still raises NotImplementedError: delete the line raise NotImplementedError() at its top. "
        "While that line is there, the values you wrote below it are never read."
    )


def answers_of(fn: Any, name: str) -> dict[str, Any]:
    """The student's values, read as plain data (gradelib.student.read_answers); a Problem if there are none."""
    if not callable(fn):
        raise Problem(
            "not_callable", f"grade_by_hand needs your function itself, e.g. {name}; it got {type(fn).__name__}."
        )
    shown = f"{getattr(fn, '__name__', name)}()"
    c = call(fn, (), shown)
    if c.problem:
        raise Problem(c.problem.mistake, not_written_sentence(c.problem.mistake, c.problem.sentence, shown))
    return read_answers(c.value, shown)
