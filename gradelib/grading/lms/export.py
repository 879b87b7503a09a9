"""The course's grades for the LMS: a CSV its gradebook imports, or (``--send``) LTI AGS scores.

    python -m gradelib.grading.lms.export canvas [ASSIGNMENT ...] [-o grades.csv] [--missing zero]
    python -m gradelib.grading.lms.export moodle [ASSIGNMENT ...]
    python -m gradelib.grading.lms.export canvas --send --lti lti-tool.json [ASSIGNMENT ...]   (ags.py)

Run in the course folder (or give ``--course DIR``; ``--db URL`` names a gradebook directly).  Every student of
nbgrader's gradebook gets a row, and every assignment a column (all of them unless some are named); a student
who handed nothing in has an empty cell, so that the LMS shows "no grade" rather than a zero nobody gave, unless
``--missing zero`` asks for zeros.

The formats, as each LMS documents its gradebook import:

- Canvas imports the CSV its gradebook exports: the columns ``Student`` ("Last, First"), ``ID`` (Canvas's own
  user id), ``SIS User ID``, ``SIS Login ID`` and ``Section``, then one column per assignment, and under the header
  an optional ``Points Possible`` row.  A row is matched to a student by ID, SIS User ID or SIS Login ID: here ID is
  the student's ``lms_user_id`` in nbgrader's gradebook (empty when unknown) and SIS Login ID the nbgrader student
  id, which is the hub's user name (the LMS login the course chose, see course_hub/README.md).
- Moodle imports a CSV whose columns the instructor maps on its preview page ("Map from" a column, "Map to" a user
  field: useremail, username, userid...; each grade column to a grade item).  The columns: ``First name``,
  ``Last name`` and ``Email address`` as Moodle's own export names them (map "Email address" to useremail, as
  Moodle's documentation advises), ``Username`` (the nbgrader id, for a hub whose user names are the Moodle
  logins), ``User ID`` (the gradebook's lms_user_id: Moodle's user id, the ``sub`` of a launch from Moodle), and one
  ``<assignment> (Real)`` column per assignment, named as Moodle's export names a grade item.  Moodle has no points
  row: the grade item's maximum is set in Moodle.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections.abc import Callable, Sequence

from .grades import CannotExport, Grades, number, read_grades, said

FORMATS = ("canvas", "moodle")
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_FIXED = ["First name", "Last name", "Email address", "Username", "User ID"]


def canvas_rows(grades: Grades, missing: str) -> list[list[str]]:
    """Canvas's gradebook CSV: header, Points Possible, a row per student."""
    rows = [
        CANVAS_FIXED + [a.name for a in grades.assignments],
        ["Points Possible", "", "", "", ""] + [number(a.points, "") for a in grades.assignments],
    ]
    for s in grades.students:
        name = ", ".join(part for part in (s.last_name, s.first_name) if part) or s.id
        rows.append(
            [name, s.lms_user_id, "", s.id, ""] + [number(s.scores[a.name], missing) for a in grades.assignments]
        )
    return rows


def moodle_rows(grades: Grades, missing: str) -> list[list[str]]:
    """Moodle's grade-import CSV: header and a row per student."""
    rows = [MOODLE_FIXED + [f"{a.name} (Real)" for a in grades.assignments]]
    for s in grades.students:
        rows.append(
            [s.first_name, s.last_name, s.email, s.id, s.lms_user_id]
            + [number(s.scores[a.name], missing) for a in grades.assignments]
        )
    return rows


WRITERS: dict[str, Callable[[Grades, str], list[list[str]]]] = {"canvas": canvas_rows, "moodle": moodle_rows}


def to_csv(grades: Grades, lms: str, missing_zero: bool = False) -> str:
    """The CSV text for lms ("canvas" or "moodle"); RFC 4180 quoting, CRLF line ends, UTF-8 when written."""
    out = io.StringIO()
    csv.writer(out).writerows(WRITERS[lms](grades, "0" if missing_zero else ""))
    return out.getvalue()


def course_db_url(course: str) -> str:
    """The gradebook of the course folder, as the course's nbgrader configuration names it."""
    from ..classgrade import course_directory

    instead = "run this in the course folder, or give --course DIR or --db URL"
    return course_directory(course, CannotExport, instead).db_url


def gradebook_url(options: argparse.Namespace) -> str:
    """The gradebook to read: --db, or the course folder's; a missing SQLite file is said, not made."""
    url = options.db or course_db_url(options.course)
    if url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///") :]):
        raise CannotExport(
            f"there is no gradebook at {url[len('sqlite:///') :]}: generate an assignment and grade "
            "its submissions first"
        )
    return url


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gradelib.grading.lms.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("lms", choices=FORMATS, help="whose import format the CSV follows")
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="the columns (default: every one)")
    parser.add_argument("--course", default=".", help="the course folder (default: here)")
    parser.add_argument("--db", help="the gradebook's URL (sqlite:///path), instead of the course's")
    parser.add_argument("-o", "--output", help="the CSV file to write (default: standard output)")
    parser.add_argument(
        "--missing",
        choices=("empty", "zero"),
        default="empty",
        help="the cell of a student who handed nothing in (default: empty)",
    )
    parser.add_argument("--send", action="store_true", help="send the scores to the LMS by LTI AGS instead")
    parser.add_argument("--lti", help="with --send: the tool's LTI settings, a JSON file (README)")
    parser.add_argument("--record", help="with --send: the CSV record of what was sent (default: beside --lti)")
    return parser.parse_args(argv)


def write(text: str, output: str | None) -> None:
    """The CSV to the file named (UTF-8), or to standard output."""
    if output is None:
        sys.stdout.write(text)
        return
    with open(output, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def export(options: argparse.Namespace) -> int:
    """The CSV written, or (--send) the scores sent; the exit status."""
    grades = read_grades(gradebook_url(options), options.assignments)
    if options.send:
        from .ags import send_from_options

        return send_from_options(grades, options)
    write(to_csv(grades, options.lms, options.missing == "zero"), options.output)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    return said("export", lambda: export(options))


if __name__ == "__main__":
    sys.exit(main())
