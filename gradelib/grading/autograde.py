"""One student's submission through nbgrader's own Autograde, in this process, and what it wrote as plain data.

The class run (classgrade.py) calls it in each worker; the proof (proof.py) calls it on the instructor's solution.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """One student's grading, as a worker sends it to the main process (which alone writes the gradebook)."""

    status: str  # "graded", "failed" (nbgrader could not grade it) or "missing"
    reason: str = ""  # why not graded, for the instructor
    notebooks: dict = field(default_factory=dict)  # notebook name -> what nbgrader wrote (see grade_one)
    timestamp: str | None = None  # the submission's time, ISO 8601
    files: list[str] = field(default_factory=list)  # the notebooks that were submitted
    seconds: float | None = None  # the worker's time for this student


def grade_one(config: Any, assignment: str, student: str, log: Any = None) -> Outcome:
    """nbgrader's Autograde for one student, then what it wrote, as plain data (log: where nbgrader logs)."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    coursedir = CourseDirectory(config=config)
    submitted = coursedir.format_path(coursedir.submitted_directory, student, assignment)
    if not glob.glob(os.path.join(submitted, "*.ipynb")):
        return Outcome("missing", "no notebook was submitted")
    coursedir.assignment_id, coursedir.student_id = assignment, student
    app = Autograde(coursedir=coursedir, config=config, **({"log": log} if log is not None else {}))
    app.force = True
    app.create_student = True
    result = capture_log(app)
    with Gradebook(config.CourseDirectory.db_url) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return Outcome("failed", _reason(result))
        data = Outcome(
            "graded",
            timestamp=sub.timestamp.isoformat() if sub.timestamp else None,
            files=sorted(os.path.basename(p) for p in glob.glob(os.path.join(submitted, "*.ipynb"))),
        )
        autograded = coursedir.format_path(coursedir.autograded_directory, student, assignment)
        complete = True
        for nb in sub.notebooks:
            path = os.path.join(autograded, nb.name + ".ipynb")
            graded = result.get("success", False) and os.path.exists(path)
            sent = os.path.exists(os.path.join(submitted, nb.name + ".ipynb"))
            complete = complete and (graded or not sent)
            data.notebooks[nb.name] = {
                "graded": graded,
                "sent": sent,
                "grades": {g.name: [g.auto_score, g.needs_manual_grade] for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
                "flagged": bool(nb.flagged),
                "late_penalty": nb.late_submission_penalty,
                "report": _report(path) if graded else None,
            }
    if not any(nb["sent"] for nb in data.notebooks.values()):
        names = ", ".join(f"{name}.ipynb" for name in data.notebooks)
        data.status = "missing"
        data.reason = f"no notebook named {names} was submitted (the folder has {', '.join(data.files)})"
    elif not complete:
        data.status, data.reason = "failed", _reason(result)
    return data


def _report(path):
    try:
        with open(path) as f:
            return json.load(f).get("metadata", {}).get("gradelib")
    except (OSError, ValueError):
        return None


KNOWN = [
    ("NotJSONError", "the submitted notebook is not valid JSON (damaged, or not a notebook)"),
    ("JSONDecodeError", "the submitted notebook is not valid JSON (damaged, or not a notebook)"),
    ("ValidationError", "the notebook's nbgrader cell metadata is damaged, so its cells cannot be matched"),
    ("DeadKernelError", "the Python kernel died while running the notebook"),
    ("CellTimeoutError", "a cell ran too long and the kernel could not be stopped"),
    ("No notebooks found", "no notebook with the assignment's name was submitted"),
]


def _reason(result):
    """A sentence for the instructor from nbgrader's log and traceback."""
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    for key, sentence in KNOWN:
        if key in text:
            return sentence
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    last = (errors or lines or ["nbgrader could not grade it (no log)"])[-1]
    return "nbgrader could not grade it: " + last[:300]
