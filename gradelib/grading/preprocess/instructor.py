"""The instructor's cells of a notebook, as nbgrader saved them in the gradebook at generate_assignment.

What a submission's cells are (test, given code, the student's answer) and what
they must contain is read from here, never from the submitted copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nbgrader.api import Gradebook


@dataclass(frozen=True)
class InstructorCell:
    """One cell of the source notebook."""

    name: str  # nbgrader's grade_id
    cell_type: str  # "code" or "markdown"
    locked: bool  # read-only in the student's copy
    source: str  # the instructor's text (solutions and hidden tests included)
    grade: bool = False  # scored (a test cell, or an answer graded by hand)
    solution: bool = False  # the student writes it
    points: float | None = None
    task: bool = False

    def metadata(self) -> dict[str, Any]:
        """The nbgrader metadata this cell has in a valid submission (schema 3)."""
        meta = {
            "schema_version": 3,
            "grade": self.grade,
            "solution": self.solution,
            "locked": self.locked,
            "grade_id": self.name,
            "cell_type": self.cell_type,
        }
        if self.task:
            meta["task"] = True
        if self.grade:
            meta["points"] = self.points
        return meta

    @property
    def is_test(self) -> bool:
        """An autograded test: a locked code cell with points that is not an answer."""
        return self.grade and not self.solution and self.cell_type == "code"

    @property
    def is_given(self) -> bool:
        """Code the instructor gave, which the student cannot change."""
        return self.locked and not self.solution


def instructor_cells(db_url: str, notebook_id: str, assignment_id: str) -> dict[str, InstructorCell]:
    """{grade_id: InstructorCell} for one notebook of one assignment; MissingEntry if it is not there."""
    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook_id, assignment_id)
        grades = {c.name: c.max_score for c in nb.grade_cells}
        tasks = {c.name: c.max_score for c in nb.task_cells}
        solutions = {c.name for c in nb.solution_cells}
        return {
            c.name: InstructorCell(
                c.name,
                c.cell_type,
                bool(c.locked),
                c.source or "",
                c.name in grades,
                c.name in solutions,
                grades.get(c.name, tasks.get(c.name)),
                c.name in tasks,
            )
            for c in nb.source_cells
        }
