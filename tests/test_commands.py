"""nbgrader's commands as the README prints them, without an activated venv (gradelib.grading.commands).

nbgrader runs ``alembic`` from PATH to stamp a new gradebook.  The course's
config puts the venv's bin folder first on PATH, so that
``.venv/bin/nbgrader generate_assignment`` works on a fresh course with a PATH
that has no alembic; and a gradebook that such a failed run left without
``alembic_version`` is stamped the next time the config is loaded, unless its
tables are not this nbgrader's.
"""
import logging
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from traitlets.config import Config

import classroom
from gradelib.grading import commands
from gradelib.grading.course import configure

A = "fixture"


def fresh_course(tmp_path):
    """A course with source/ and the course's config, never generated: no gradebook yet."""
    course = tmp_path / "course"
    shutil.copytree(classroom.FIXTURE_SOURCE / A, course / "source" / A)
    (course / "nbgrader_config.py").write_text(classroom.course_config())
    return course


@pytest.fixture
def bare_path(tmp_path):
    """A PATH on which no alembic (nor anything else) is found, as for `.venv/bin/nbgrader` unactivated."""
    folder = tmp_path / "bare-bin"
    folder.mkdir()
    return str(folder)


def nbgrader(course, path, *args):
    return subprocess.run([str(classroom.BIN / "nbgrader"), *args], cwd=course, env=dict(os.environ, PATH=path),
                          capture_output=True, text=True, timeout=600)


def stamp(gradebook):
    """The gradebook's alembic version, or None."""
    con = sqlite3.connect(gradebook)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone():
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        con.close()


@pytest.fixture(scope="module")
def head():
    """nbgrader's head as nbgrader itself finds it: the `alembic heads` command, from the venv's bin folder."""
    from nbgrader.api import get_alembic_version
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{classroom.BIN}{os.pathsep}{before}"
    try:
        return get_alembic_version()
    finally:
        os.environ["PATH"] = before


def test_configure_puts_the_interpreters_own_bin_folder_first_on_path(tmp_path, monkeypatch):
    # a venv's python is a symlink to the base interpreter, whose folder has none of the venv's tools
    base, venv = tmp_path / "base" / "bin", tmp_path / "venv" / "bin"
    base.mkdir(parents=True)
    venv.mkdir(parents=True)
    (base / "python3").write_text("")
    (venv / "python").symlink_to(base / "python3")
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    monkeypatch.setenv("PATH", f"/usr/bin{os.pathsep}/bin")
    c = Config()
    c.CourseDirectory.root = str(tmp_path)
    configure(c)
    configure(c)   # a config loaded twice (nbgrader's apps do) puts it there once
    assert os.environ["PATH"].split(os.pathsep) == [str(venv), "/usr/bin", "/bin"]


def test_generate_assignment_needs_no_activated_venv_and_stamps_the_new_gradebook(tmp_path, bare_path, head):
    course = fresh_course(tmp_path)
    proc = nbgrader(course, bare_path, "generate_assignment", A)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert (course / "release" / A / f"{A}.ipynb").is_file()
    assert stamp(course / "gradebook.db") == head


def test_a_gradebook_a_failed_run_left_unstamped_is_stamped_when_the_config_is_next_loaded(tmp_path, bare_path,
                                                                                          head):
    course = fresh_course(tmp_path)
    # the failed first run of before the fix: nbgrader's tables made, then `alembic` not found
    failed = subprocess.run([sys.executable, "-c", "from nbgrader.api import Gradebook\n"
                                                   "Gradebook('sqlite:///gradebook.db')"],
                            cwd=course, env=dict(os.environ, PATH=bare_path), capture_output=True, text=True)
    assert "FileNotFoundError" in failed.stderr and "alembic" in failed.stderr, failed.stderr[-2000:]
    assert stamp(course / "gradebook.db") is None
    proc = nbgrader(course, bare_path, "generate_assignment", A)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert stamp(course / "gradebook.db") == head
    said = [line for line in proc.stderr.splitlines() if "had no alembic version" in line]
    assert len(said) == 1 and "| INFO]" in said[0] and head in said[0], proc.stderr[-3000:]


def unstamped_gradebook(path, drop_column=None):
    """A gradebook with this nbgrader's tables (one column dropped, for an older schema) and no alembic version."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    if drop_column:
        con = sqlite3.connect(path)
        con.execute(f"ALTER TABLE {drop_column[0]} DROP COLUMN {drop_column[1]}")
        con.commit()
        con.close()
    return f"sqlite:///{path}"


def test_stamping_leaves_alone_what_it_cannot_vouch_for(tmp_path, caplog, head):
    caplog.set_level(logging.INFO, logger=commands.__name__)
    older = unstamped_gradebook(tmp_path / "older.db", drop_column=("comment", "manual_comment"))
    assert commands.stamp_unstamped(older) is None and stamp(tmp_path / "older.db") is None
    assert "comment.manual_comment" in caplog.text and "left as it is" in caplog.text
    assert commands.stamp_unstamped(f"sqlite:///{tmp_path / 'none.db'}") is None
    assert not (tmp_path / "none.db").exists()
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert commands.stamp_unstamped(f"sqlite:///{other}") is None and stamp(other) is None
    (tmp_path / "junk.db").write_bytes(b"not a database at all")
    assert commands.stamp_unstamped(f"sqlite:///{tmp_path / 'junk.db'}") is None
    current = unstamped_gradebook(tmp_path / "current.db")
    assert commands.stamp_unstamped(current) == head == stamp(tmp_path / "current.db")
    assert commands.stamp_unstamped(current) is None   # stamped once
