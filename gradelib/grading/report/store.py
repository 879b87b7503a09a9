"""The course's store of verdicts: what gradelib found in each graded function, student by student.

Grading keeps scores in nbgrader's gradebook; this store keeps, beside it, what
the misconception report (the report package) needs: for every student and graded
function, passed or not, the mistake labels gradelib named, their sentences,
the parameters concerned, and the flags and faults of the submission.

It is an SQLite file next to the gradebook (``gradelib-verdicts.db``), one row
per (assignment, student, notebook) holding a SubmissionRecord's notebook as
JSON.  Only the grader's own process writes it: the RecordVerdicts preprocessor
under plain ``nbgrader autograde``, the main process of ``classgrade`` (its
workers write private copies).  Writing a student's records replaces what was
there, in one transaction, so a re-grade is never counted twice.

The records come from the verifier's Report (preprocess/conclude.py), which judges every
graded function outside the kernel, in the grader's process, on plain numbers.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..gradebook import read_only

STORE_NAME = "gradelib-verdicts.db"
WHOLE = ""  # the notebook name of a record about the whole submission (it could not be graded)
SCHEMA = """CREATE TABLE IF NOT EXISTS records (
    assignment TEXT NOT NULL, student TEXT NOT NULL, notebook TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (assignment, student, notebook))"""


class StoreError(Exception):
    """The store cannot be read or written (damaged, not SQLite, unreadable); the message is a sentence."""


@dataclass
class Verdict:
    """One graded function of one student, as the grader judged it."""

    grade_id: str  # the test cell
    exercise: str  # gradelib's exercise name
    function: str  # the student's function
    kernel_passed: bool  # the test cell passed in the notebook's kernel
    passed: bool  # it scores: passed in the kernel and held outside it
    judged: bool = True  # a verdict outside the kernel was obtained
    mistakes: list[str] = field(default_factory=list)  # gradelib's labels, in its order
    sentences: list[str] = field(default_factory=list)  # the sentence of each label, in the notes' words
    parameters: dict[str, list[str]] = field(default_factory=dict)  # parameter -> labels concerning it
    reason: str = ""  # why it was not judged, or why it does not score although it held

    @classmethod
    def from_json(cls, data):
        """A Verdict from its JSON form; ValueError if it is not one."""
        if not isinstance(data, dict):
            raise ValueError("a verdict is not an object")
        try:
            v = cls(
                grade_id=str(data["grade_id"]),
                exercise=str(data["exercise"]),
                function=str(data["function"]),
                kernel_passed=bool(data["kernel_passed"]),
                passed=bool(data["passed"]),
                judged=bool(data.get("judged", True)),
                mistakes=[str(m) for m in data.get("mistakes", [])],
                sentences=[str(s) for s in data.get("sentences", [])],
                parameters={str(k): [str(m) for m in v] for k, v in dict(data.get("parameters", {})).items()},
                reason=str(data.get("reason", "")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"a verdict is malformed ({type(err).__name__}: {err})") from None
        return v


@dataclass
class NotebookRecord:
    """One notebook of one submission: its verdicts and the reasons it was flagged for a look."""

    notebook: str
    verdicts: list[Verdict] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # tamper findings, in words
    review: dict[str, list[str]] = field(default_factory=dict)  # grade_id -> reasons for a manual look
    status: str = "graded"  # "graded", or for WHOLE: "failed" (could not be graded) or "missing"
    reason: str = ""  # why it was not graded
    stopped: str = ""  # why the verifier's re-run of the notebook stopped early (its process died,
    #                                ran out of time), in words; its functions with no answer are then not judged

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise ValueError("a record is not an object")
        try:
            return cls(
                notebook=str(data["notebook"]),
                verdicts=[Verdict.from_json(v) for v in data.get("verdicts", [])],
                flags=[str(f) for f in data.get("flags", [])],
                review={str(k): [str(r) for r in v] for k, v in dict(data.get("review", {})).items()},
                status=str(data.get("status", "graded")),
                reason=str(data.get("reason", "")),
                stopped=str(data.get("stopped", "")),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"a record is malformed ({type(err).__name__}: {err})") from None


@dataclass
class SubmissionRecord:
    """Everything the store holds about one student's submission of one assignment."""

    assignment: str
    student: str
    notebooks: list[NotebookRecord] = field(default_factory=list)

    @property
    def status(self) -> str:
        """ "graded", or the status of a submission that could not be graded."""
        whole = [nb for nb in self.notebooks if nb.notebook == WHOLE]
        return whole[0].status if whole else "graded"

    @property
    def reason(self) -> str:
        whole = [nb for nb in self.notebooks if nb.notebook == WHOLE]
        return whole[0].reason if whole else ""


def store_path(db_url: str) -> str | None:
    """The store beside the gradebook of an SQLite db_url; None for another database."""
    if not db_url.startswith("sqlite:///"):
        return None
    return os.path.join(os.path.dirname(os.path.abspath(db_url[len("sqlite:///") :])), STORE_NAME)


def _connect(path):
    try:
        db = sqlite3.connect(path, timeout=30)
        db.execute(SCHEMA)
        return db
    except sqlite3.Error as err:
        raise StoreError(
            f"the store of verdicts {path} cannot be opened ({err}); move it aside and grade again to rebuild it"
        ) from None


def replace(path: str, assignment: str, student: str, notebooks: Sequence[NotebookRecord], whole: bool = True) -> None:
    """Write a student's records of an assignment in one transaction.

    whole=True replaces every record of the student for the assignment (a
    class run grades the whole submission); whole=False replaces only the given
    notebooks and the record of a failed grading (nbgrader autograde grades one
    notebook at a time).
    """
    db = _connect(path)
    try:
        with db:  # one transaction: all of the student or nothing
            if whole:
                db.execute("DELETE FROM records WHERE assignment = ? AND student = ?", (assignment, student))
            else:
                names = [WHOLE] + [nb.notebook for nb in notebooks]
                db.executemany(
                    "DELETE FROM records WHERE assignment = ? AND student = ? AND notebook = ?",
                    [(assignment, student, n) for n in names],
                )
            db.executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?)",
                [(assignment, student, nb.notebook, json.dumps(asdict(nb), sort_keys=True)) for nb in notebooks],
            )
    except sqlite3.Error as err:
        raise StoreError(f"the store of verdicts {path} cannot be written ({err})") from None
    finally:
        db.close()


@dataclass
class Loaded:
    """What load() read: the records, and the rows it had to leave out, in words."""

    records: list[SubmissionRecord]
    skipped: list[str]


def load(path: str, assignment: str | None = None) -> Any:
    """The records of one assignment (or all), sorted by assignment and student; StoreError if unreadable."""
    if not os.path.exists(path):
        raise StoreError(
            f"there is no store of verdicts at {path}: grade the assignment first "
            "(classgrade or nbgrader autograde with the course's configuration)"
        )
    try:
        # read-only, so that reading can never change the grader's data
        db = read_only(path, timeout=30)
    except sqlite3.Error as err:
        raise StoreError(f"the store of verdicts {path} cannot be opened ({err})") from None
    try:
        query = "SELECT assignment, student, notebook, body FROM records"
        rows = db.execute(
            query + (" WHERE assignment = ?" if assignment else "") + " ORDER BY assignment, student, notebook",
            (assignment,) if assignment else (),
        ).fetchall()
    except sqlite3.Error as err:
        raise StoreError(
            f"the store of verdicts {path} is damaged or not a store ({err}); move it aside "
            "and grade again to rebuild it"
        ) from None
    finally:
        db.close()
    records: dict[Any, Any] = {}
    skipped: list[Any] = []
    for a, s, _name, body in rows:
        try:
            nb = NotebookRecord.from_json(json.loads(body))
        except (TypeError, ValueError) as err:  # a body that is not JSON, or not a record
            skipped.append(f"{a}: one record could not be read ({err})")
            continue
        records.setdefault((a, s), SubmissionRecord(a, s)).notebooks.append(nb)
    return Loaded([records[k] for k in sorted(records)], skipped)
