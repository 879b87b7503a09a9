"""The gradebook's grades as plain data, for the LMS (export.py writes them as CSV, ags.py sends them).

Shared by the export command and the AGS sender: what the gradebook holds, a score as the LMS reads it, and
CannotExport, the one-sentence refusal both commands print.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass


class CannotExport(Exception):
    """The grades cannot be exported as asked; the message is one sentence saying why and what to do."""


@dataclass(frozen=True)
class AssignmentColumn:
    """One assignment of the gradebook, as a column."""

    name: str
    points: float  # its maximum score, from nbgrader's gradebook


@dataclass(frozen=True)
class StudentRow:
    """One student of the gradebook and their score per assignment (None: nothing handed in)."""

    id: str  # nbgrader's student id: the hub's (Unix) user name
    first_name: str
    last_name: str
    email: str
    lms_user_id: str  # the LMS's id for them, where the gradebook has it ("" otherwise)
    scores: dict[str, float | None]


@dataclass(frozen=True)
class Grades:
    """What the gradebook holds for the export: the columns, and every student's row."""

    assignments: list[AssignmentColumn]
    students: list[StudentRow]


def read_grades(db_url: str, wanted: Sequence[str] = ()) -> Grades:
    """Every student's score in the assignments wanted (all when none), read with nbgrader's Gradebook API."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        known = {a.name: a for a in gb.assignments}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise CannotExport(
                f"the gradebook has no assignment {', '.join(unknown)}; it has "
                f"{', '.join(sorted(known)) or 'none yet (generate and grade one first)'}"
            )
        names = list(wanted) or sorted(known, key=lambda n: (known[n].duedate is None, known[n].duedate, n))
        columns = [AssignmentColumn(n, float(known[n].max_score or 0)) for n in names]
        rows = []
        for student in sorted(gb.students, key=lambda s: s.id):
            scores: dict[str, float | None] = {}
            for name in names:
                try:
                    scores[name] = float(gb.find_submission(name, student.id).score)
                except MissingEntry:  # nothing handed in: no score, not a zero
                    scores[name] = None
            rows.append(
                StudentRow(
                    student.id,
                    student.first_name or "",
                    student.last_name or "",
                    student.email or "",
                    student.lms_user_id or "",
                    scores,
                )
            )
    return Grades(columns, rows)


def number(value: float | None, missing: str) -> str:
    """A score as the LMS reads it (at most two decimals, no trailing zeros); missing for no score."""
    if value is None:
        return missing
    return format(round(value, 2), "f").rstrip("0").rstrip(".") or "0"


def said(command: str, action: Callable[[], int]) -> int:
    """action's exit status; for CannotExport, its sentence on standard error and status 2."""
    try:
        return action()
    except CannotExport as why:
        print(f"{command}: {why}", file=sys.stderr)
        return 2
