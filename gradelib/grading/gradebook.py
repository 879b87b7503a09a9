"""Keeping the course's gradebook: a check that it is whole, and a copy before every grading run.

nbgrader keeps every grade of every assignment in one SQLite file.  Before a
grading run, ``before_grading`` checks that file (SQLite's own integrity check,
and nbgrader's tables present) and copies it with SQLite's backup API into
``gradebook-backups/`` beside it, keeping the last ``KEEP`` copies.  A damaged
gradebook stops the run with a sentence saying how to restore a copy, instead
of grading into it.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

KEEP = 5
BACKUPS = "gradebook-backups"
# tables nbgrader's gradebook has from its first schema on
NBGRADER_TABLES = {"assignment", "notebook", "student", "submitted_assignment", "submitted_notebook", "grade"}


class Damaged(Exception):
    """The gradebook cannot be trusted; the message says why and how to restore it."""


def sqlite_path(db_url: str) -> str | None:
    """The file of an ``sqlite:///`` URL, or None for another database (which this module leaves alone)."""
    return db_url[len("sqlite:///") :] if db_url.startswith("sqlite:///") else None


def read_only(path: str, timeout: float = 5.0) -> sqlite3.Connection:
    """An SQLite connection that cannot change the file (Path.as_uri() quotes any '?', '#' or '%' in it)."""
    return sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True, timeout=timeout)


def copy(src: str, dst: str) -> None:
    """A consistent copy of the SQLite file src at dst (SQLite's backup API), even while others read src."""
    a, b = read_only(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def problem(path: str) -> str | None:
    """None if the gradebook at path is a whole nbgrader gradebook; otherwise what is wrong with it."""
    try:
        with open(path, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                return "it is not an SQLite database any more (its first bytes were overwritten)"
        con = read_only(path)
        try:
            verdict = con.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except (OSError, sqlite3.Error) as err:
        return f"SQLite cannot read it ({err})"
    if verdict != "ok":
        return f"SQLite's integrity check fails ({verdict})"
    missing = NBGRADER_TABLES - tables
    if missing:
        return f"nbgrader's tables {', '.join(sorted(missing))} are missing"
    return None


def backup(path: str, keep: int = KEEP) -> str:
    """A consistent copy of the gradebook in gradebook-backups/ beside it; the oldest beyond keep removed."""
    folder = os.path.join(os.path.dirname(os.path.abspath(path)), BACKUPS)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    name = os.path.join(folder, datetime.now().strftime("gradebook-%Y%m%d-%H%M%S-%f.db"))  # sorts by time
    copy(path, name)
    copies = sorted(f for f in os.listdir(folder) if f.startswith("gradebook-") and f.endswith(".db"))
    for old in copies[:-keep] if keep > 0 else []:
        os.remove(os.path.join(folder, old))
    return name


def before_grading(db_url: str, keep: int = KEEP) -> str | None:
    """Check the gradebook and back it up; raise Damaged if it is not whole. Returns the copy's path."""
    path = sqlite_path(db_url)
    if path is None or not os.path.exists(path):
        return None
    why = problem(path)
    if why:
        folder = os.path.join(os.path.dirname(os.path.abspath(path)), BACKUPS)
        raise Damaged(
            f"Grading stopped before anyone was graded: the gradebook {path} is damaged: {why}. "
            f"Nothing was written to it. Restore the latest good copy from {folder}/ "
            f"(cp {folder}/gradebook-<date>.db {path}), then grade again."
        )
    return backup(path, keep)
