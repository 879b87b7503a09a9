"""What did the class get wrong?  The misconception report, from the verdicts kept at grading time.

    python -m gradelib.grading.report [ASSIGNMENT] [--names] [--course DIR] [--out DIR]

Run it in the course folder after grading (``classgrade`` or ``nbgrader
autograde`` with the course's configuration).  It writes one self-contained
HTML page and a CSV beside it (by default reports/<ASSIGNMENT>.html and .csv,
or reports/course.html for every graded assignment): per assignment, how many
submissions its exercises count and why not the others; per exercise, how
many passed, and the mistakes gradelib named, in words, largest first, each
with its sentence and its share of the class, with the functions not answered
or not judged apart from them; the mistakes that travel together; and the
submissions that could not be graded or judged, were flagged, or that the
course's collect refused (submitted in another student's name), each once with
its reasons.  No student names unless --names.  Bad input (no course, no gradebook, nothing
graded yet, a damaged store) gets a sentence and exit status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import collect_record
from .page import csv_text, html_page
from .store import StoreError, load, store_path
from .tally import tally


class CannotReport(Exception):
    """The report cannot be made; the message says why, in a sentence."""


@dataclass
class Written:
    html: str
    csv: str
    assignments: list[str]


@dataclass
class Inputs:
    """Where the report's figures come from, in the course at root."""

    store: str  # the store of verdicts (report/store.py)
    submitted: dict[str, list[str]]  # assignment -> the students who handed it in
    collect_record: str  # what the course's collect refused or re-dated (collect_record.py)


def course_inputs(root: str) -> Inputs:
    """The store, the submissions and the collect record of the course at root; CannotReport if it is none."""
    from ..classgrade import course_directory, find_students

    coursedir = course_directory(root, CannotReport, "run this in the course folder or give --course DIR")
    db_url = coursedir.db_url
    path = store_path(db_url)
    if path is None:
        raise CannotReport(
            f"the gradebook is not an SQLite file ({db_url}); the report reads the store of "
            "verdicts kept beside an SQLite gradebook"
        )
    gradebook = db_url[len("sqlite:///") :]
    if not os.path.exists(gradebook):
        raise CannotReport(
            f"there is no gradebook at {gradebook}: generate the assignment, collect and grade the submissions first"
        )
    submitted = {}
    folder = coursedir.format_path(coursedir.submitted_directory, ".", ".")
    if os.path.isdir(folder):
        assignments = {
            a
            for s in os.listdir(folder)
            if os.path.isdir(os.path.join(folder, s))
            for a in os.listdir(os.path.join(folder, s))
            if os.path.isdir(os.path.join(folder, s, a))
        }
        submitted = {a: find_students(root, coursedir, a) for a in sorted(assignments)}
    return Inputs(path, submitted, collect_record.record_path(db_url, root))


def make(root: str = ".", assignment: str | None = None, names: bool = False, out: str | None = None) -> Any:
    """Write the page and the CSV; return what was written.  CannotReport says why not."""
    root = os.path.abspath(root)
    inputs = course_inputs(root)
    submitted = inputs.submitted
    try:
        loaded = load(inputs.store, assignment)
    except StoreError as err:
        raise CannotReport(str(err)) from None
    skipped = list(loaded.skipped)
    try:
        findings = collect_record.load(inputs.collect_record, assignment)
    except collect_record.RecordError as err:
        findings = []
        skipped.append(str(err))  # the verdicts can still be shown; the page says what was left out
    if assignment:
        if not loaded.records:
            raise CannotReport(
                f"no verdicts of {assignment} are kept: it has not been graded with the course's "
                f"configuration yet (python -m gradelib.grading.classgrade {assignment})"
            )
        submitted = {assignment: submitted.get(assignment, [])}
    elif not loaded.records:
        raise CannotReport(
            "no verdicts are kept yet: grade an assignment first (python -m gradelib.grading.classgrade ASSIGNMENT)"
        )
    else:
        graded = {r.assignment for r in loaded.records}
        submitted = {a: s for a, s in submitted.items() if a in graded}
        findings = [f for f in findings if f.assignment in graded]
    figures = tally(loaded.records, submitted, skipped, findings)
    out = os.path.abspath(out or os.path.join(root, "reports"))
    stem = assignment or "course"
    title = f"What the class got wrong: {assignment}" if assignment else "What the class got wrong: the course"
    try:
        os.makedirs(out, exist_ok=True)
        html_path, csv_path = os.path.join(out, stem + ".html"), os.path.join(out, stem + ".csv")
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(html_page(figures, title, names))
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            f.write(csv_text(figures, names))
    except OSError as err:
        raise CannotReport(f"the report cannot be written in {out}: {err.strerror or err}") from None
    return Written(html_path, csv_path, figures.assignments)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradelib.grading.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="?", help="one assignment (default: every graded assignment)")
    parser.add_argument("--names", action="store_true", help="show student names (not for a lecture)")
    parser.add_argument("--course", default=".", help="the course folder (default: here)")
    parser.add_argument("--out", help="the folder for the page and the CSV (default: reports/ in the course)")
    args = parser.parse_args(argv)
    try:
        written = make(args.course, args.assignment, args.names, args.out)
    except CannotReport as why:
        sys.stderr.write(f"report: {why}\n")
        return 1
    print(f"wrote {written.html}\nwrote {written.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
