"""A small nbgrader gradebook for the LMS tests (tests/test_export.py, tests/test_lti.py), made with nbgrader's
Gradebook API: the scores are set per grade cell here, and what the LMS must get is computed from them (total)."""
from __future__ import annotations

from pathlib import Path

# assignment -> its grade cells and their maximum scores
CELLS = {"01_first": {"c1": 4.0, "c2": 6.0}, "02_second": {"c1": 5.0}}
# student -> (first, last, email, LMS user id); dave's id is one the loopback LMS does not know
STUDENTS = {"alice": ("Alice", "Zed", "alice@uni.example", "1001"),
            "bob": ("Bob", "Young", "bob@uni.example", ""),
            "carol": ("Carol", "Xu, Jr.", "carol@uni.example", "1003"),
            "dave": ("Dave", "Wu", "dave@uni.example", "1004")}
# the scores each handed in, per assignment and grade cell (an assignment not named: nothing handed in)
SCORES = {"alice": {"01_first": {"c1": 3.5, "c2": 6.0}, "02_second": {"c1": 5.0}},
          "bob": {"01_first": {"c1": 2.0, "c2": 0.25}},
          "carol": {},
          "dave": {"01_first": {"c1": 1.0, "c2": 1.0}}}


def total(student: str, assignment: str) -> float | None:
    """The student's score in the assignment, as nbgrader must compute it; None when nothing was handed in."""
    handed = SCORES[student].get(assignment)
    return None if handed is None else sum(handed.values())


def make_gradebook(path: Path) -> str:
    """The gradebook at path, made with nbgrader's API; its URL."""
    from nbgrader.api import Gradebook

    from gradelib.grading.commands import quiet_nbgrader_warnings, tools_on_path
    tools_on_path()             # nbgrader stamps a new gradebook with the venv's alembic, found on PATH
    quiet_nbgrader_warnings()   # nbgrader's own autoflush warning on every new submission
    url = f"sqlite:///{path}"
    with Gradebook(url) as gb:
        for assignment, cells in CELLS.items():
            gb.add_assignment(assignment)
            gb.add_notebook("nb", assignment)
            for cell, points in cells.items():
                gb.add_grade_cell(cell, "nb", assignment, max_score=points, cell_type="code")
        for student, (first, last, email, lms) in STUDENTS.items():
            gb.add_student(student, first_name=first, last_name=last, email=email, lms_user_id=lms or None)
            for assignment, cells in SCORES[student].items():
                gb.add_submission(assignment, student)
                for cell, score in cells.items():
                    gb.find_grade(cell, "nb", assignment, student).manual_score = score
        gb.db.commit()
    return url
