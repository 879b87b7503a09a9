"""The grader's marking of a by-hand cell (gradelib.grade_by_hand): step by step, on the student's own numbers.

The values come back from the verifier's process (harness.py, probe kind
"by_hand") as plain data; the personal numbers are made here, from the id of
the student nbgrader grades, never read from the notebook.  The cell's output
is replaced by the marking and its score, which SaveAutoGrades then reads as
the cell's partial credit, whatever the kernel had shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import nbformat

from ... import byhand
from ...byhand.graded import headline, score, unmarked
from ...byhand.reading import not_written_sentence
from ..report.store import Verdict

BY_HAND = "by_hand"  # the mistake label of a by-hand step, "by_hand:<step>", in the store of verdicts


@dataclass
class HandOutcome:
    """What the grader concluded about one by-hand cell."""

    outputs: list  # the cell's new outputs: the feedback (stdout) and the score (its value)
    marked: bool  # the values came back and were marked (else the reason says why not)
    points: float  # the score given
    network: str = ""  # the network of the task
    function: str = ""  # the student's function
    first_wrong: str = ""  # the first step not right, "" if none
    reason: str = ""  # why the values could not be marked
    why: str = ""  # what is wrong with the first wrong step, in words (no names: the report shows it)
    problem: str = ""  # the page gave no values at all: the Problem's label ("not_implemented", ...)

    def verdict(self, grade_id: str) -> Verdict:
        """The store of verdicts' record: passed when every step is right; the first wrong step as the mistake,
        or, for a page that gave no values (blank, or raising), the Problem's own label: a blank page is
        unanswered, not a slip at the first step."""
        mistakes = [self.problem] if self.problem else [f"{BY_HAND}:{self.first_wrong}"] if self.first_wrong else []
        return Verdict(
            grade_id,
            f"{self.network}_{BY_HAND}",
            self.function,
            kernel_passed=False,
            passed=self.marked and not self.first_wrong,
            judged=self.marked,
            mistakes=mistakes,
            sentences=[self.why] if mistakes else [],
            reason=self.reason,
        )


def cell_outputs(text: str, value: float) -> list[Any]:
    """A test cell's outputs: the text as printed, then the score as the cell's value."""
    return [
        nbformat.v4.new_output("stream", name="stdout", text=text + "\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"{value:g}"}, execution_count=None),
    ]


def mark_hand_cell(call: Any, student: str, record: Any, run_reason: str | None, points: float) -> HandOutcome:
    """A HandOutcome for the by-hand cell whose values are in record (isolate's clean form, or None)."""
    personal = byhand.problem(call.network, student)
    shown = f"{call.function}()"
    sentence = _unreadable(record, shown, run_reason)
    if sentence is not None:
        return _zero(call, student, points, sentence)
    answers = record["calls"][0]
    if "problem" in answers:
        # isolate.parse keeps a problem only as [mistake, sentence]
        sentence = not_written_sentence(*cast("tuple[str, str]", answers["problem"]), shown)
        return _zero(call, student, points, sentence, problem=answers["problem"][0])
    marking = byhand.mark(personal, answers["answers"], steps=call.steps)
    if not marking.available:  # the cell's steps= names no step: nothing can be marked, and the cell says why
        return _zero(call, student, points, " ".join(marking.messages))
    given = score(marking, points)
    text = headline(marking, points) + "\n" + str(marking)
    return HandOutcome(
        cell_outputs(text, given),
        marked=True,
        points=given,
        network=call.network,
        function=call.function,
        first_wrong=marking.first_wrong or "",
        why=first_wrong_why(marking),
    )


def _zero(call: Any, student: str, points: float, sentence: str, problem: str = "") -> HandOutcome:
    """A cell scored 0 that says sentence: why its values could not be marked, or, with problem (the Problem's
    label), why the page gave none, which is marked, wrong from its first step."""
    outcome = HandOutcome(
        cell_outputs(unmarked(sentence, points, student), 0.0),
        marked=bool(problem),
        points=0.0,
        network=call.network,
        function=call.function,
    )
    if problem:
        outcome.first_wrong, outcome.why, outcome.problem = byhand.steps(call.network)[0].key, sentence, problem
    else:
        outcome.reason = sentence
    return outcome


def first_wrong_why(marking: Any) -> str:
    """The first wrong step's own sentence ("δ1: your δ1 uses ReLU'(z2) ..."), or "" when every step is right."""
    first = next((m for m in marking.steps if m.key == marking.first_wrong), None)
    return f"{first.name}: {first.sentence}" if first else ""


def _unreadable(record, shown, run_reason):
    """Why no values can be marked, or None when the record holds an answer or a student's problem."""
    if record is None:
        return (
            "gradelib could not re-run your notebook to read your values"
            + (f": {run_reason}" if run_reason else "")
            + "."
        )
    if "invalid" in record:
        return f"the values of {shown} came back in a form gradelib cannot read ({record['invalid']})."
    if "missing" in record:
        return f"{shown} is not defined when this test runs: did you run (and keep) the cell that defines it?"
    if record.get("asked"):
        return f"{shown} asked gradelib for the answers; the values must be your own."
    if len(record.get("calls", ())) != 1:
        return f"{shown} gave no answer."
    return None
