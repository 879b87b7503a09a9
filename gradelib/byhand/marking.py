"""Marking a hand calculation step by step, with error carried forward, as a human marker does.

    m = mark(problem("relu_chain", "ada"), {"z1": 0.8, "Y1": 0.8, ...})
    m.first_wrong, m.right, m.total, m.messages, str(m)

How a step is judged.  Its expected value is computed by the step's rule
(gradelib.byhand.steps) from the student's OWN earlier values, and the step is
right if the student's value agrees with it, or with the value the right
earlier values give (reading.tolerance says how close, and why).  So one slip
costs one step: the steps after it are judged on the student's numbers.  An
earlier value that is missing or cannot be read is replaced by its right value
for the steps after it, and the feedback says so.

What was taken from the maths e-assessment systems that do this:
  * Numbas's adaptive marking replaces a question variable by the student's
    answer to an earlier part and re-marks; its "try without replacements
    first" strategy keeps the better of the two marks.  Here both are tried
    at every step: right from the student's numbers, or right outright.
  * Numbas users reported what goes wrong: a replaced value of the wrong kind
    (a list where a number belonged) made the dependent marking fail with the
    error only in the console, so the answer just looked wrong (numbas/Numbas
    #826); an unanswered "must be answered" earlier part gave no visible
    message (#969, #1068); the feedback stopped saying that an earlier answer
    had been used (#1155); variables that depend on a replaced one were not
    re-evaluated (#1075).  So here: a value is read once, into a float or a
    sentence, before any rule sees it, and no rule ever receives anything but
    floats; every missing or unreadable earlier value is named with what was
    used in its place; the feedback counts the steps judged on the student's
    own numbers; and every later step is recomputed from the values as
    carried, never from a stale copy.
  * STACK (Moodle) lets a potential response tree test an input against an
    expression of other inputs (follow-through marking), and runs a tree only
    once its inputs are valid; here a step whose earlier values are unreadable
    is still marked, from the right values, because a student on paper should
    lose the unreadable step only.
  * Numbas offers an optional penalty when adaptive marking was used; a page
    that carries a slip forward is not penalised here beyond the slipped step,
    as the issue asks, with one exception: a page on which most of the steps
    that read the problem's own numbers (x, the parameters, the target, η)
    disagree with them is not this student's problem (a classmate's numbers,
    or the wrong id), and error carried forward would credit the copied
    arithmetic; such a page is marked against the right values only, and the
    feedback says why.

Guarding the answers: marking knows every right value, so mark() refuses to
run inside a student's function under check (oracle.refuse_inside_student_code
raises, as check() does), and in the grader's harness, after oracle.withdraw(),
it answers that the checker is not available instead of marking.  The right
numbers themselves appear in a Marking only with reveal=True (the grader's and
the tests' choice); a student's self-check shows which step is wrong and why,
never the number it should be.
"""

from __future__ import annotations

import difflib
import html
import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from .. import oracle
from ..check import NOT_AVAILABLE
from ..exercises import find_network
from ..student import Problem, describe_type, read_answers
from ..text import clip, full_stop, join_and, join_or
from . import personal
from . import steps as steps_module
from .personal import symbol_html
from .reading import SLACK, Reading, agrees, answers_of, read_value, tolerance

LISTED = 12  # keys listed when a key is unknown; the 2-2-3 net has 46
EXPLAINED = 3  # later wrong steps explained in the messages; the rest are named (every StepMark says why)
UNKNOWN_NAMED = 5  # keys that name no step are quoted up to this many
SHOWN_KEY = 40  # characters of such a key quoted back
CLOSE = 0.5  # difflib's similarity for "did you mean": 'z5' is 0.5 like 'z3', one character of two
FOREIGN_LEAST = 3  # a page is another problem's only if at least this many problem-reading steps are wrong
REPLACED = "; the steps after it were marked with its right value"  # said of a missing or unreadable value
STATUS_MARK = {"right": "✔", "wrong": "✘", "missing": "–", "unreadable": "?"}
STATUS_COLOUR = {"right": "#1b7f3b", "wrong": "#b3261e", "missing": "#6b6b6b", "unreadable": "#b35a00"}


class StepMark(NamedTuple):
    """The verdict on one step."""

    key: str  # the step's key, e.g. "delta1"
    given: object  # the student's value as a float, or None if it was missing or could not be read
    status: str  # "right", "wrong", "missing" or "unreadable"
    expected: object  # the value expected from the student's own earlier numbers: a float when the step is
    # right or reveal=True, else None (a self-check never gives the number away)
    sentence: str  # what is right or wrong about it, for the student
    name: str = ""  # the notes' symbol in plain text, e.g. "δ1"
    carried: bool = False  # whether the student's own earlier numbers changed what this step should be
    followed: bool = False  # the value follows from the student's own earlier numbers, credited or not
    # (not when it only carries a slipped 0: see _carries_a_zero)


class Marking:
    """The marking of one hand calculation.

    .steps (StepMark per step, in order), .first_wrong (key of the first step
    that is not right, or None), .right, .total, .fraction, .messages
    (sentences for the student), .available (False when gradelib could not
    mark, e.g. in the grader's harness).  str() is plain text without
    addresses; _repr_html_ a coloured box.
    """

    def __init__(self, network, student_id, steps=(), messages=(), available=True, total=None):
        self.network = network
        self.student_id = student_id
        self.steps = list(steps)
        self.messages = list(messages)
        self.available = available
        self.right = sum(s.status == "right" for s in self.steps)
        self.total = len(self.steps) if total is None else total
        self.first_wrong = next((s.key for s in self.steps if s.status != "right"), None)

    @property
    def fraction(self) -> float:
        return self.right / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        return self.available and self.total > 0 and self.right == self.total

    def __bool__(self):
        return self.passed

    def _head(self):
        who = f"{self.network} by hand (student {self.student_id!r})" if self.student_id else f"{self.network} by hand"
        if not self.available:
            return f"{who}: not marked"
        return f"{who}: {self.right} of {self.total} steps right"

    def __str__(self):
        lines = [self._head()] + [f"- {m}" for m in self.messages]
        width = max((len(s.key) for s in self.steps), default=0)
        for s in self.steps:
            given = "" if s.given is None else f" = {_shown(s.given)}"
            lines.append(f"  {STATUS_MARK[s.status]} {s.key.ljust(width)}{given}  ({s.status})")
        return "\n".join(lines)

    __repr__ = __str__  # a notebook cell's text output: no addresses, so nbval can compare it

    def _repr_html_(self):
        colour = "#1b7f3b" if self.passed else "#b3261e"
        items = "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
        rows = "".join(
            f'<tr><td style="color:{STATUS_COLOUR[s.status]};padding:0 6px">{STATUS_MARK[s.status]}</td>'
            f'<td style="padding:0 6px">{symbol_html(s.name or s.key)}</td>'
            f'<td style="padding:0 6px;text-align:right">{"" if s.given is None else html.escape(_shown(s.given))}</td>'
            f'<td style="padding:0 6px;color:#444">{html.escape(s.sentence)}</td></tr>'
            for s in self.steps
        )
        table = f'<table style="border-collapse:collapse;margin:4px 0">{rows}</table>' if rows else ""
        return (
            f'<div class="gradelib-byhand-marking" style="border-left:4px solid {colour};padding:4px 10px">'
            f'<b style="color:{colour}">{html.escape(self._head())}</b>'
            f'<ul style="margin:4px 0">{items}</ul>{table}</div>'
        )


def _shown(value):
    """A student's value as they would recognise it: 6 significant digits, and 0 never written "-0"."""
    return "0" if value == 0 else f"{value:.6g}"


def _normal(key):
    """A key as compared: no case, spaces, underscores or braces; δ spelt delta, ∂ spelt d, dL/d spelt dLoss/d."""
    text = "".join(c for c in key.lower() if not c.isspace() and c not in "_{}")
    text = text.replace("δ", "delta").replace("∂", "d")
    return text.replace("dl/d", "dloss/d")


def _aliases(steps):
    """Every spelling accepted for each step's key (see _normal), plus the plain "Err" of the chain's Err2."""
    table: dict[str, Any] = {}
    for step in steps:
        names = {step.key, step.name}
        if step.key.startswith("new "):
            p = step.key[4:]
            names |= {f"{p} new", f"{p}'"}
        if step.key == "Err2":
            names.add("Err")
        for n in names:
            table.setdefault(_normal(n), step.key)
    return table


class _Page(NamedTuple):
    """What the student gave, read: a Reading per step key, and sentences about the keys themselves."""

    readings: dict
    notes: list


def _read_page(steps, answers, network):
    """The student's answers read into a Reading per step, with a sentence for every key that names no step."""
    if answers is None:
        return _Page({}, ["No answers were given: pass a dict such as {'z': 0.9, 'Y': 0.9}."])
    if not isinstance(answers, dict):
        return _Page(
            {}, [f"The answers should be a dict such as {{'{steps[0].key}': ...}}; got {type(answers).__name__}."]
        )
    aliases = _aliases(steps)
    keys = [s.key for s in steps]
    readings: dict[str, Any] = {}
    by: dict[str, Any] = {}
    notes: list[Any] = []
    unknown: list[Any] = []
    for key, value in list(dict.items(answers)):  # dict's own items: a subclass's overrides are not asked
        if type(key) is not str:
            notes.append(
                f"The key {_short_repr(key)} is not a step's name: the keys are names in quotes, such as '{keys[0]}'."
            )
            continue
        step_key = aliases.get(_normal(key))
        if step_key is None:
            unknown.append(key)
            continue
        if step_key in by:
            kept = key if key == step_key else by[step_key]
            notes.append(
                f"{by[step_key]!r} and {key!r} both name the step {step_key}; the value of {kept!r} was marked."
            )
            if kept != key:
                continue
        by[step_key] = key
        readings[step_key] = read_value(value)
    if unknown:
        notes.append(_unknown_keys(unknown, keys, aliases, network))
    return _Page(readings, notes)


def _unknown_keys(unknown, keys, aliases, network):
    """One sentence for the keys that name no step: each with a close match if there is one, then the steps."""
    named = []
    for key in unknown[:UNKNOWN_NAMED]:
        text = key[:SHOWN_KEY]  # difflib's time grows with the product of the lengths: a long key is cut first
        close = difflib.get_close_matches(text, keys, n=1, cutoff=CLOSE) or difflib.get_close_matches(
            _normal(text), list(aliases), n=1, cutoff=CLOSE
        )
        hint = f" (did you mean '{close[0] if close[0] in keys else aliases[close[0]]}'?)" if close else ""
        named.append(f"{clip(key, SHOWN_KEY)!r}{hint}")
    if len(unknown) > UNKNOWN_NAMED:
        named.append(f"{len(unknown) - UNKNOWN_NAMED} more")
    shown = keys if len(keys) <= LISTED else keys[:LISTED] + [f"{len(keys) - LISTED} more"]
    one = len(unknown) == 1
    return (
        f"There is no step {join_or(named)} in {network}; the steps are {', '.join(shown)}. "
        f"{'It was' if one else 'They were'} not marked and cost{'s' if one else ''} nothing."
    )


def _short_repr(value):
    try:
        return repr(value)[:40] if type(value) in (int, float, bool, type(None), tuple) else type(value).__name__
    except Exception:  # noqa: BLE001  an int too long to print, or a tuple holding an object whose repr raises
        return type(value).__name__


def _safe(rule, v):
    """A rule's value, or NaN when the student's numbers make it undefined (log of a negative P, e^1000, ...)."""
    try:
        value = float(rule(v))
    except (ArithmeticError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def _label(name, v):
    """How a sentence names a value a rule read: a step by its symbol (δ2), a given number by the notes' name."""
    return v.step_names.get(name) or {"eta": "η", "target": "the target"}.get(name, name)


def _why(step, given, expected, v, read):
    """Why the value given is wrong at this step, in words, without giving the right number away.

    expected is what the student's own earlier numbers give; NaN when they
    leave the step undefined (the log of a probability they wrote as negative).
    """
    if not math.isfinite(expected):
        return (
            f"{step.formula} cannot be computed from your earlier numbers, so your {step.name} was compared "
            "with the right value only, and it is not that either"
        )
    for slip in step.slips:  # by priority: the first that gives the student's number names the slip
        value = _safe(slip.gives, v)
        if agrees(given, value) and not agrees(value, expected) and slip.applies(v):
            return slip.sentence()
    if expected != 0 and agrees(given, -expected):
        return f"your {step.name} has the wrong sign: {step.formula}"
    if abs(given) <= tolerance(0.0) < abs(expected):
        return f"your {step.name} is 0, but {step.formula} is not 0 here"
    for name in read:
        if name in v and name != step.key and agrees(given, dict.get(v, name)) and not agrees(given, expected):
            return f"your {step.name} is the value of {_label(name, v)}, but {step.formula}"
    earlier = [_label(n, v) for n in v.step_names if n in read]  # in the steps' order
    source = f"from your {join_and(earlier)}" if earlier else "from the problem's numbers"
    return f"{step.formula}: work it out again {source}"


def _carries_a_zero(given, right):
    """Whether a value on the page is 0 where the right value is not.

    Error carried forward credits a step that follows from the student's own
    numbers; but a step that only multiplies by, adds or passes on a 0 that an
    earlier slip made (a z slipped below 0 switches the neuron off, and every
    δ, gradient and update after it becomes 0 or the old parameter) does no
    work, and crediting it would pay 10 steps of 11 for one wrong z.  As mark
    schemes withhold follow-through marks where an error makes the problem
    easier, such a step earns nothing; a step that computes with a slipped 0
    honestly (Y = ReLU(z) from a negative z, ½·Err² from a slipped Err) still does.
    """
    return abs(given) <= SLACK and abs(right) > tolerance(right)


def _lent_zeros(zeroed, read, expected, v):
    """The slipped 0s a step read, when they took its work away: its value is 0, or another value it read.

    Reading a slipped 0 is not enough (e^0 in a softmax is honest work); a step
    that comes to 0, or to a number it was given (z2 = w12·0 + b2 is b2,
    new w = w − η·0 is w), did nothing.
    """
    lent = [n for n in v.step_names if n in zeroed and n in read]
    if not lent:
        return []
    others = [dict.get(v, n) for n in read if n not in zeroed and n in v]
    if abs(expected) <= SLACK or any(agrees(expected, x) for x in others if isinstance(x, float)):
        return lent
    return []


class _Expected(NamedTuple):
    """What one step should be on this page."""

    right: float  # its right value
    value: float  # what the student's own earlier numbers give; the right value when nothing is carried
    read: list  # the names its rule read, in order; [] when nothing is carried (the rule is not asked)
    carried: bool  # whether the student's own earlier numbers changed what it should be


def _judge(p, steps, page, right, carry, reveal, graded):
    """Mark every step in order; carry says whether expected values come from the student's own earlier numbers.

    A step that is not graded (see steps.graded_steps) and not answered takes the value its rule gives from the
    student's own earlier numbers, so that error carried forward goes through it to the graded steps after it.
    """
    v = p.givens()
    v.step_names = {}
    marks, reads = [], []
    zeroed: set[str] = set()  # steps whose value on the page is 0 where the right value is not: see _carries_a_zero
    for step in steps:
        r = right[step.key]
        v.read = []
        expected = _safe(step.rule, v) if carry else r
        e = _Expected(
            r, expected, list(v.read), carry and not agrees(expected, r) if math.isfinite(expected) else carry
        )
        reading = page.readings.get(step.key)
        if step.key not in graded and (reading is None or reading.status != "ok"):
            reading = Reading(expected if math.isfinite(expected) else r, "ok", "")
        status, given, sentence = _verdict(step, reading, e, v, zeroed, p, carry)
        v.step_names[step.key] = step.name
        if given is not None and _carries_a_zero(given, r):
            zeroed.add(step.key)
        shown = expected if math.isfinite(expected) else r
        followed = given is not None and agrees(given, expected)
        revealed = shown if (reveal or status == "right") else None
        marks.append(StepMark(step.key, given, status, revealed, sentence, step.name, bool(e.carried), followed))
        reads.append(set(e.read))
    return _say_what_stood_in(marks, reads)


def _verdict(step, reading, e, v, zeroed, p, carry):
    """(status, the value given or None, the sentence) for one step; puts the value later steps read into v."""
    if reading is None:
        v[step.key] = e.right
        return "missing", None, f"{step.name} is not answered{REPLACED}"
    if reading.status != "ok":
        v[step.key] = e.right
        return "unreadable", None, f"{step.name}: {reading.sentence}{REPLACED}"
    given = v[step.key] = reading.value
    lent = _lent_zeros(zeroed, e.read, e.value, v)
    if agrees(given, e.right) or (agrees(given, e.value) and not lent):
        own = e.carried and not agrees(given, e.right)
        return "right", given, "right, from your own earlier numbers (error carried forward)" if own else "right"
    if agrees(given, e.value):
        return (
            "wrong",
            given,
            (
                f"{step.formula} does give this from your {join_and(_label(n, v) for n in lent)}, "
                f"but {'that is' if len(lent) == 1 else 'those are'} 0 only because of an earlier slip: "
                "a slip that turns a value into 0 takes the work out of the steps after it, so they "
                "earn nothing from it"
            ),
        )
    return "wrong", given, _why(step, given, e.value, v, e.read) if carry else _not_these_numbers(step, p)


def _say_what_stood_in(marks, reads):
    """Each sentence ended; a missing or unreadable value stood in for by its right value is said so only where a
    later step used it."""
    out = []
    for i, m in enumerate(marks):
        later_use = any(m.key in r for r in reads[i + 1 :])
        sentence = m.sentence if later_use else m.sentence.replace(REPLACED, "")
        out.append(m._replace(sentence=full_stop(sentence)))
    return out


def _not_these_numbers(step, p):
    """Why a step is wrong on a page worked on other numbers (see mark): not why a slip was made, which would
    explain the other numbers' value with statements about these ("z1 < 0") that need not hold here."""
    return f"{step.formula} does not come to this on the numbers of student id {p.student_id!r}"


class _Reads(NamedTuple):
    """Which steps read the problem's own numbers: the evidence of whose problem a page was worked on."""

    problem: set  # steps whose rule reads any of the problem's numbers (x, parameters, target, η)
    forward: set  # forward-pass steps reading x, a parameter or a regression target: a classmate's page
    # differs from this problem's in every one of them (a target class, one of three, may agree)


def _reads_problem(p, steps):
    """Which steps read the problem's own numbers, from what each step's expression reads (no rule is computed)."""
    names = set(p.givens())
    distinctive = names - {"eta", "target"}
    forward = set(p.forward())
    reads = _Reads(set(), set())
    for step in steps:
        read = set(step.expr.names())
        if names & read:
            reads.problem.add(step.key)
        if step.key in forward and distinctive & read:
            reads.forward.add(step.key)
    return reads


def _foreign(marks, reads):
    """Whether the page was worked on another problem's numbers: (verdict, wrong, judged) of the problem's steps.

    Another problem's page is wrong at most of the answered forward steps that
    read x, a parameter or the target O_b (at least two of them; a classmate's
    O_b may happen to be the same), and at most of the answered steps that read
    any of the problem's numbers (at least FOREIGN_LEAST).  A student's own
    slips, even several, rarely do both: one slip in z is carried forward, so
    Err is right, and a systematic slip in the updates leaves the forward pass
    right.
    """
    judged = [m for m in marks if m.key in reads.problem and m.status in ("right", "wrong")]
    wrong = sum(m.status == "wrong" and not m.followed for m in judged)
    forward = [m for m in marks if m.key in reads.forward and m.status in ("right", "wrong")]
    forward_wrong = sum(m.status == "wrong" and not m.followed for m in forward)
    foreign = (
        forward_wrong >= 2 and forward_wrong > len(forward) / 2 and wrong >= FOREIGN_LEAST and wrong > len(judged) / 2
    )
    return foreign, wrong, len(judged)


def _carried_count(marks, first):
    """How many steps after the first wrong value were judged on the student's own numbers, and how many are right."""
    slip = next((m for m in marks if m.status == "wrong"), None)
    later = [m for m in marks[marks.index(slip) + 1 :] if m.carried] if slip else []
    if not later or slip is None:  # (later steps there are only after a slip)
        return ""
    good = sum(m.status == "right" for m in later)
    count = f"{len(later)} later step{'s were' if len(later) != 1 else ' was'}"
    if slip is not first:
        count = f"After your {slip.name}, {count}"
    return (
        f"{count} judged on your own numbers (error carried forward): "
        f"{good} of them {'are' if good != 1 else 'is'} right."
    )


def _messages(marks, notes, foreign_note):
    out = [foreign_note] if foreign_note else []  # first: it explains every wrong step after it
    first = next((m for m in marks if m.status != "right"), None)
    if first is None and marks:
        carried = sum(m.carried for m in marks)
        out.append(
            f"All {len(marks)} steps are right."
            if not carried
            else f"All {len(marks)} steps are right, {carried} of them from your own earlier numbers."
        )
    elif first is not None:
        if first.status == "wrong":
            out.append(
                f"The first step that is not right is {first.name} (you wrote {_shown(first.given)}): {first.sentence}"
            )
        elif first.status == "missing":
            out.append(f"The first step that is not right is {first.name}: it is not answered.")
        else:
            out.append(f"The first step that is not right is {first.sentence}")
        carried = _carried_count(marks, first)
        if carried and first.status == "wrong":
            out.append(carried)
        others = [m for m in marks[marks.index(first) + 1 :] if m.status == "wrong"]
        for m in others[:EXPLAINED]:
            out.append(f"Also not right, {m.name} (you wrote {_shown(m.given)}): {m.sentence}")
        if len(others) > EXPLAINED:
            out.append(f"Also not right: {join_and([m.name for m in others[EXPLAINED:]])}.")
        if carried and first.status != "wrong":
            out.append(carried)
        unreadable = [m for m in marks if m.status == "unreadable" and m is not first]
        out += [m.sentence.replace(REPLACED, "") for m in unreadable]
        missing = [m for m in marks if m.status == "missing"]
        if missing and not (len(missing) == 1 and first.status == "missing"):
            names = [m.name for m in missing]
            named = names if len(names) <= LISTED else names[:LISTED] + [f"{len(names) - LISTED} more"]
            stood_in = any(REPLACED.strip("; ") in m.sentence for m in missing)
            out.append(
                f"Not answered: {join_and(named)}"
                + ("; the steps after each were marked with its right value." if stood_in else ".")
            )
    return out + list(notes)


def mark(p: Any, answers: Any, *, reveal: bool = False, steps: Any = None) -> Marking:
    """Mark the student's answers ({step key: value}) to problem p, step by step with error carried forward.

    Never raises for any answers (see reading.read_value), except that inside
    a student's function under check it refuses, as check() does.  After
    oracle.withdraw() (the grader's harness) it marks nothing and says so.
    reveal: whether each StepMark carries the expected value even when the
    step is not right (for the grader and the tests, not for a self-check).
    steps: which steps are graded (steps.graded: a list of keys, "all", or
    None for the network's default); the others are used, not marked.
    """
    if oracle.withdrawn():
        return Marking(
            getattr(p, "network", "byhand"), getattr(p, "student_id", ""), messages=[NOT_AVAILABLE], available=False
        )
    oracle.refuse_inside_student_code()
    if not isinstance(p, personal.PersonalProblem):
        return Marking(
            "byhand",
            "",
            messages=[
                "mark() needs the problem made by byhand.problem(network, student_id) as its first argument; "
                f"got {type(p).__name__}."
            ],
            available=False,
        )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _mark_page(p, answers, reveal, steps)


def _mark_page(p, answers, reveal, steps):
    """mark() once it may: the right values, the page read and judged, and a page of other numbers told apart."""
    try:  # a problem written by hand (the notebook's worked example, say) may hold anything
        find_network(p.network, "byhand.mark").validate(p.x, p.params, p.target)
        right = personal.right_values(p)
    except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as err:
        return Marking(str(p.network)[:40], "", messages=[f"This problem cannot be marked: {err}"], available=False)
    try:
        graded = set(steps_module.graded_steps(p.network, steps))
    except ValueError as err:
        return Marking(p.network, p.student_id, messages=[str(err)], available=False)
    every = steps_module.steps(p.network, p.target)
    page = _read_page(every, answers, p.network)
    marks = [m for m in _judge(p, every, page, right, True, reveal, graded) if m.key in graded]
    foreign, wrong, judged = _foreign(marks, _reads_problem(p, every))
    if not foreign:
        return Marking(p.network, p.student_id, marks, _messages(marks, page.notes, ""))
    marks = [
        _no_evidence(m) if abs(right[m.key]) <= SLACK else m
        for m in _judge(p, every, page, right, False, reveal, graded)
        if m.key in graded
    ]
    note = (
        f"This page looks worked on other numbers than those of student id {p.student_id!r}: "
        f"{wrong} of the {judged} steps that use the problem's own numbers disagree with them. "
        f"Check that you used the numbers of byhand.problem({p.network!r}, {p.student_id!r}) (in the "
        "notebook, the id in MY_ID). Every step was marked against the right values only, without "
        "error carried forward, and a 0 that is right here (a node that is off) earns nothing on such "
        "a page."
    )
    return Marking(p.network, p.student_id, marks, _messages(marks, page.notes, note))


def _no_evidence(m):
    """A step whose right value is 0, on a page worked on other numbers: a 0 there (an off node's output, its
    gradients) is what a page of zeros, a negated or a classmate's page shows too, so it proves nothing."""
    if m.status != "right":
        return m
    return m._replace(
        status="wrong",
        followed=False,
        sentence=full_stop(
            f"{m.name}: 0 is the right value, but this page was worked on other numbers, so it earns nothing here"
        ),
    )


def check_by_hand(network: str, student_id: str, answers: Any, *, steps: Any = None) -> Marking:
    """The learner's self-check: mark answers to this student's problem for network; returns the Marking.

    answers: the learner's function returning {step: value} (called as the
    checker calls a function under check), or that dict itself; either is read
    as plain data (gradelib.student.read_answers) before anything is marked.
    student_id: as byhand.problem reads it: spaces at either end do not count
    (" bob " is "bob"), and an accented letter is the same however it was typed.
    steps: which steps are graded, as mark() takes it (the notebook's graded cell's choice).
    A bad network, id or answer gives a Marking with the sentence, never a traceback.
    """
    if oracle.withdrawn():
        return Marking(str(network), "", messages=[NOT_AVAILABLE], available=False)
    oracle.refuse_inside_student_code()
    try:
        p = personal.problem(network, student_id)
    except ValueError as err:
        return Marking(str(network)[:40], "", messages=[str(err)], available=False)
    if not callable(answers) and not isinstance(answers, dict):
        return Marking(p.network, p.student_id, messages=[_not_a_page(p, answers)], available=False)
    try:
        values = (
            answers_of(answers, f"{p.network}_by_hand") if callable(answers) else read_answers(answers, "your dict")
        )
    except Problem as problem:
        return Marking(p.network, p.student_id, messages=[problem.sentence], available=False)
    return mark(p, values, steps=steps)


def _not_a_page(p, answers):
    """What check_by_hand says when its answers are neither a dict of values nor a function returning one."""
    keys = [s.key for s in steps_module.steps(p.network, p.target)[:2]]  # the first two, graded or not
    example = "{" + ", ".join(f"{k!r}: ..." for k in keys) + ", ...}"
    got = "None" if answers is None else describe_type(answers)
    hint = (
        " (a list or tuple has no step names: each value needs its step's key)"
        if isinstance(answers, (list, tuple))
        else ""
    )
    return (
        f"check_by_hand needs your values as a dict of step and value, such as {example}, or your function "
        f"that returns one ({p.network}_by_hand, without brackets); it got {got}{hint}."
    )
