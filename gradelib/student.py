"""Calling a student's function, and reading what it returns, without trusting either.

The function may loop forever, raise, print, warn, exit, change numpy's error
settings, ask gradelib for the answer, or return objects whose ``__eq__``,
``__float__`` or ``__sub__`` lie.  Whatever it does, the checker gets back
plain Python floats or a sentence saying what went wrong; nothing reaches
stderr.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import oracle
from .text import clip, join_or

CALL_SECONDS = 2.0  # one call of a student's function; the points take microseconds each
OVERDUE = 0.001  # an outer time limit that ran out during a call rings this soon after it

# Python 3.10 skips its check for signals and thread switches whenever the next instruction opens a try block,
# so in `while True: try: pass / except Exception: pass` the alarm never lands, and no other thread ever runs.
# A trace function is our own Python code, run at every line: the alarm is delivered inside it.  From 3.11 on
# every backward jump checks, and no trace is needed.
NEEDS_TRACE = sys.version_info < (3, 11)

_NUMPY_REALS = (
    np.float16,
    np.float32,
    np.float64,
    np.longdouble,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
)


class Problem(Exception):
    """What is wrong with a student's function or its answer, as a sentence for the student."""

    def __init__(self, mistake, sentence):
        super().__init__(sentence)
        self.mistake, self.sentence = mistake, sentence


class _TooSlow(BaseException):
    """BaseException, so that a student's ``except Exception`` cannot swallow it."""


def _every_line(frame, event, arg):
    return _every_line


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """A block whose endless loops a time limit can stop on every Python we support (see NEEDS_TRACE).

    A trace function already set (a debugger, coverage) serves as well, so it is left in place.
    """
    if not NEEDS_TRACE or sys.gettrace() is not None:
        yield
        return
    sys.settrace(_every_line)
    try:
        yield
    finally:
        sys.settrace(None)


@contextlib.contextmanager
def _time_limit(seconds):
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield  # signals only reach the main thread; call() falls back to a watcher thread
        return

    def ring(signum, frame):
        raise _TooSlow()

    # an outer limit already running (the grader's harness times whole cells, and a cell may train) goes on after
    outer, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    began = time.monotonic()
    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            left = outer - (time.monotonic() - began)
            signal.setitimer(signal.ITIMER_REAL, max(left, OVERDUE), outer_interval)


@dataclass
class Call:
    """The outcome of one call: .value, or .problem; plus what the function printed and warned."""

    value: object = None
    problem: Problem | None = None
    printed: str = ""
    warned: list = field(default_factory=list)


def call(fn: Any, args: Sequence[Any], name: str, *, refuse_oracle: bool = True) -> Call:
    """fn(*args) with a time limit, its output and warnings captured, numpy's settings restored after.

    refuse_oracle: whether gradelib's oracle refuses to answer inside fn (see oracle.refused); training
    lets a learner's update lean on it, checking never does.
    """
    out = Call()
    buffer = io.StringIO()
    refusal = oracle.refused() if refuse_oracle else contextlib.nullcontext()
    # numpy's default error settings while the student's code runs: it warns, as it would for them alone
    with (
        warnings.catch_warnings(record=True) as caught,
        np.errstate(all="warn", under="ignore"),
        contextlib.redirect_stdout(buffer),
        contextlib.redirect_stderr(buffer),
        refusal,
    ):
        warnings.simplefilter("always")
        try:
            if threading.current_thread() is threading.main_thread():
                with _time_limit(CALL_SECONDS), interruptible():
                    out.value = fn(*args)
            else:
                out.value = _call_in_thread(fn, args)
        except KeyboardInterrupt:
            raise  # the learner pressed stop: respect it
        except BaseException as exc:  # noqa: BLE001  a student's error is feedback, never a crash of the checker
            out.problem = _problem(exc, name)
    out.printed = buffer.getvalue()
    out.warned = [f"{w.category.__name__}: {_short(w.message)}" for w in caught]
    return out


def _problem(exc, name):
    """The sentence for whatever a student's function raised (or the time limit raised inside it)."""
    if isinstance(exc, _TooSlow):
        return Problem("timeout", f"{name} did not return within {CALL_SECONDS:g} seconds: is there an endless loop?")
    if isinstance(exc, NotImplementedError):
        return Problem(
            "not_implemented",
            f"{name} is not written yet: it still raises NotImplementedError. Replace that line with your code.",
        )
    if isinstance(exc, SystemExit):
        return Problem("exception", f"{name} called exit(); return your answer instead.")
    if isinstance(exc, RecursionError):
        return Problem("exception", f"{name} calls itself without end (RecursionError).")
    return Problem("exception", f"{name} raised {type(exc).__name__}: {_short(exc)}")


def _call_in_thread(fn, args):
    box = {}

    def run():
        try:
            with interruptible():
                box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001  handed back to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(CALL_SECONDS)
    if worker.is_alive():
        raise _TooSlow()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _short(exc, limit=200):
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001  an exception whose __str__ raises
        text = "(its message could not be shown)"
    return clip(text, limit)


def describe_type(value: Any) -> str:
    kind = type(value)
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    if kind.__module__ == "builtins":
        return f"a {kind.__name__}"
    return f"a {kind.__module__}.{kind.__name__} object"


def to_number(value: Any, what: str) -> float:
    """A plain float from int, float, a NumPy real scalar or a 0-d real array; else a Problem.

    Only these exact types are read: a subclass could override ``__float__``
    or ``__eq__``, so it is refused rather than asked.
    """
    kind = type(value)
    if value is None:
        raise Problem("none", f"{what} is None: did a `return` go missing?")
    if kind is bool or kind is np.bool_:
        raise Problem("wrong_type", f"{what} is {value}, a truth value, not a number.")
    if kind in (int, float) or kind in _NUMPY_REALS:
        try:
            return float(value)
        except OverflowError:
            raise Problem("not_finite", f"{what} is an integer too large for a float.") from None
    if kind is np.ndarray:
        if value.shape != ():
            raise Problem(
                "wrong_shape",
                f"{what} should be one number, but it is a NumPy array of shape "
                f"{value.shape}; take the number out with float(...) or an index.",
            )
        if value.dtype.kind not in "iuf":
            raise Problem("wrong_type", f"{what} is a 0-d array of {value.dtype}, not of real numbers.")
        return float(value.item())
    if kind is str:
        raise Problem(
            "wrong_type", f"{what} is the string {clip(value, 40)!r}, not a number: return the number itself, not text."
        )
    if kind in (list, tuple):
        raise Problem("wrong_shape", f"{what} should be one number, but it is a {kind.__name__} of {len(value)} items.")
    if kind is complex or kind is np.complex128:
        raise Problem("wrong_type", f"{what} is a complex number; gradients here are real.")
    raise Problem(
        "wrong_type", f"{what} is {describe_type(value)}; return a plain number (a float, an int or a NumPy scalar)."
    )


def read_dict(value: Any, keys: Sequence[str], fn_name: str, what: str) -> dict[str, float]:
    """A dict {key: float} with exactly these keys, read from a student's returned dict."""
    if value is None:
        raise Problem("none", f"{fn_name} returned None: did you forget `return {{...}}`?")
    if not isinstance(value, dict):
        raise Problem(
            "wrong_type",
            f"{fn_name} should return a dict like {{{_example(keys)}}} of {what}; it returned {describe_type(value)}.",
        )
    # dict's own methods, not the student's subclass's overrides
    items = list(dict.items(value))
    given = [k for k, _ in items]
    bad_keys = [k for k in given if type(k) is not str]
    if bad_keys:
        raise Problem(
            "wrong_key",
            f"the keys of the dict {fn_name} returns should be the names "
            f"{', '.join(map(repr, keys))}; {bad_keys[0]!r} is not a name.",
        )
    missing = [k for k in keys if k not in given]
    extra = [k for k in given if k not in keys]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"it has no {join_or(map(repr, missing))}")
        if extra:
            hints = []
            for k in extra:
                close = [m for m in missing if m.lower() == k.lower()] or difflib.get_close_matches(
                    k, missing or keys, n=1
                )
                hints.append(f"{k!r} (did you mean {close[0]!r}?)" if close else repr(k))
            parts.append(f"it has extra keys {', '.join(hints)}")
        mistake = "missing_key" if missing else "extra_key"
        raise Problem(
            mistake,
            f"The dict {fn_name} returns should have exactly the keys "
            f"{', '.join(map(repr, keys))}; {' and '.join(parts)}.",
        )
    return {k: to_number(v, f"the value for {k!r}") for k, v in items}


def read_vector(value: Any, length: int, fn_name: str) -> list[float]:
    """A list of `length` floats from a list, tuple or 1-d array a student returned."""
    if value is None:
        raise Problem("none", f"{fn_name} returned None: did you forget `return`?")
    kind = type(value)
    if kind is np.ndarray:
        if value.ndim != 1 or value.shape[0] != length:
            raise Problem(
                "wrong_shape",
                f"{fn_name} should return {length} probabilities, one per logit; "
                f"it returned an array of shape {value.shape}.",
            )
        items = list(value)
    elif kind in (list, tuple):
        if len(value) != length:
            raise Problem(
                "wrong_shape",
                f"{fn_name} should return {length} probabilities, one per logit; it returned {len(value)}.",
            )
        items = list(value)
    else:
        raise Problem(
            "wrong_type",
            f"{fn_name} should return a list or a 1-D NumPy array of probabilities; "
            f"it returned {describe_type(value)}.",
        )
    return [to_number(v, f"probability {i + 1}") for i, v in enumerate(items)]


def _example(keys):
    return ", ".join(f"'{k}': ..." for k in keys[:3]) + (", ..." if len(keys) > 3 else "")


MAX_ANSWERS = 200  # entries read from a dict of hand-worked values; the biggest network has 60 steps
ANSWER_CHARACTERS = 60  # a typed value is kept up to this length: enough for any number written as text


class Unusual(NamedTuple):
    """An answer that is neither a number, nor text, nor empty: only what it is survives, in words."""

    description: str  # e.g. "a list", "a truth value"


def read_answers(value: Any, fn_name: str) -> dict[str, Any]:
    """The hand-worked values a student gave, as {step: float | str | None | Unusual}; else a Problem.

    Nothing is judged here: numbers become floats (NaN included), text stays
    text for the marker to read or to explain, ``None`` and ``...`` (a step not
    filled in) become None, anything else an Unusual.  Only exact types are
    read, through dict's own methods, so a trick object cannot answer for itself.
    """
    if value is None:
        raise Problem("none", f"{fn_name} returned None: did you forget `return {{...}}`?")
    if not isinstance(value, dict):
        raise Problem(
            "wrong_type",
            f"{fn_name} should return a dict of your values, like "
            f"{{'z': 0.9, 'Y': 0.9, ...}}; it returned {describe_type(value)}.",
        )
    answers = {}
    for key, v in list(dict.items(value))[:MAX_ANSWERS]:
        answers[key if type(key) is str else clip(repr(key), ANSWER_CHARACTERS)] = _plain_answer(v)
    return answers


def _plain_answer(v):
    kind = type(v)
    if v is None or v is Ellipsis:
        return None
    if kind is bool or kind is np.bool_:
        return Unusual("a truth value")
    if kind in (int, float) or kind in _NUMPY_REALS:
        try:
            return float(v)
        except OverflowError:
            return Unusual("an integer too large for a float")
    if kind is str:
        return v[:ANSWER_CHARACTERS]
    return Unusual(describe_type(v))
