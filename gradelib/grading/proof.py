"""Before the first student: the instructor's own solution, graded once in the same box with the same config.

Gradescope's "Test Autograder" runs the reference solution before students
submit; Otter's ``otter assign`` runs the tests against the solutions.  Here
every grading run (``nbgrader autograde`` through the course's pre-convert hook,
and ``classgrade``) first grades the solution notebook of ``source/`` as a
student would hand it in (hidden tests removed, solution markers gone), with
the course's whole pipeline: the kernel and the verifier in the sandbox, the
same limits.  It grades in a throw-away copy of the course, with a copy of the
gradebook, so nothing of the course changes.  If the solution does not get
every automatic point, the grader is broken (gradelib cannot be imported in
the box, a limit too tight for the solution, a test that the solution fails),
and the run stops before anyone is graded, with a sentence that says which
cells lost points and why.  It costs one notebook per run.

``c.ProveGrader.enabled = False`` turns it off.
"""

from __future__ import annotations

import copy
import glob
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from traitlets import Bool
from traitlets.config import Configurable

from . import gradebook
from .sandbox import box as sandbox

STUDENT = "gradelib-solution-check"  # the id the solution is graded under, in the copy only
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


class ProveGrader(Configurable):
    """The course's setting (``c.ProveGrader.enabled`` in nbgrader_config.py)."""

    enabled = Bool(
        True,
        help="Before the first student of a run, grade the instructor's solution (source/) in "
        "the same sandbox with the same configuration, and stop the run if it does not "
        "score full marks.",
    ).tag(config=True)


class GraderBroken(Exception):
    """The instructor's solution did not score full marks: the message says which cells and why."""


@dataclass(frozen=True)
class Shortfall:
    """A graded cell of the solution that did not get all its points."""

    cell: str  # its nbgrader grade_id
    score: float  # the automatic score it got
    max_score: float  # the points it is worth
    why: str  # what the cell showed (its error), in one line


@dataclass
class Proof:
    """What grading the instructor's solution gave."""

    assignment: str
    score: float = 0.0  # automatic points of the solution
    max_score: float = 0.0  # all automatic points of the assignment
    shortfalls: list[Shortfall] = field(default_factory=list)
    failure: str = ""  # why it could not be graded at all ("" when it was)
    flags: list[str] = field(default_factory=list)  # reasons for a manual look the solution got (reported only)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failure and not self.shortfalls and self.score == self.max_score


# ---------------------------------------------------------------- the solution as a student hands it in
def solution_notebook(path: str) -> Any:
    """The source notebook at path as a perfect student submits it: hidden tests and solution markers removed."""
    import nbformat
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput

    nb = nbformat.read(path, as_version=4)
    nb, _ = ClearHiddenTests().preprocess(nb, {})
    nb, _ = ClearOutput().preprocess(nb, {})
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "\n".join(line for line in cell.source.splitlines() if line.strip() not in SOLUTION_MARKERS)
    return nb


def _submit_solution(source: str, submitted: str) -> None:
    shutil.copytree(source, submitted)
    import nbformat

    for path in glob.glob(os.path.join(source, "*.ipynb")):
        nbformat.write(solution_notebook(path), os.path.join(submitted, os.path.basename(path)))


# ---------------------------------------------------------------- grading it in a copy of the course
def prove(config: Any, assignment: str) -> Proof:
    """Grade the instructor's solution of assignment with config (nbgrader's), in a throw-away copy of the course."""
    from nbgrader.coursedir import CourseDirectory

    from .autograde import grade_one

    start = time.monotonic()
    proof = Proof(assignment)
    coursedir = CourseDirectory(config=config)
    db = gradebook.sqlite_path(coursedir.db_url)
    source = coursedir.format_path(coursedir.source_directory, ".", assignment)
    if not glob.glob(os.path.join(source, "*.ipynb")):
        proof.failure = f"there is no solution notebook in {source}"
        return proof
    if db is None:
        proof.failure = not_sqlite(coursedir.db_url)
        return proof
    tmp = tempfile.mkdtemp(prefix="gradelib-proof-")
    try:
        course = os.path.join(tmp, "course")
        os.mkdir(course)
        copy_course = copy.deepcopy(config)
        copy_course.CourseDirectory.root = course
        copy_course.CourseDirectory.db_url = "sqlite:///" + os.path.join(course, "gradebook.db")
        copy_course.Autograde.pre_convert_hook = None
        copy_course.RecordVerdicts.store = os.path.join(tmp, "verdicts.db")
        there = CourseDirectory(config=copy_course)
        shutil.copytree(source, there.format_path(there.source_directory, ".", assignment))
        release = coursedir.format_path(coursedir.release_directory, ".", assignment)
        if os.path.isdir(release):
            shutil.copytree(release, there.format_path(there.release_directory, ".", assignment))
        gradebook.copy(db, os.path.join(course, "gradebook.db"))
        _submit_solution(source, there.format_path(there.submitted_directory, STUDENT, assignment))
        outcome = grade_one(copy_course, assignment, STUDENT, log=_quiet_log())
        if outcome.status != "graded":
            proof.failure = outcome.reason or outcome.status
        else:
            _read(
                proof,
                outcome,
                there.format_path(there.autograded_directory, STUDENT, assignment),
                os.path.join(course, "gradebook.db"),
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    proof.seconds = time.monotonic() - start
    return proof


def not_sqlite(db_url: str) -> str:
    """Why a gradebook that is not an SQLite file stops the proof (only the URL's scheme: the rest may hold a
    password)."""
    scheme = db_url.partition(":")[0][:40]
    return (
        f"this course's gradebook is not an SQLite file (c.CourseDirectory.db_url starts with {scheme + ':'!r}), "
        "and the solution is graded in a throw-away copy of the gradebook, which gradelib can make only of an "
        "SQLite file; to grade without this check, set c.ProveGrader.enabled = False in nbgrader_config.py"
    )


def _quiet_log():
    """The copy's nbgrader log: kept for the failure's reason, not shown on the instructor's terminal."""
    log = logging.getLogger("gradelib.proof")
    log.propagate = False
    log.setLevel(logging.INFO)
    return log


def _read(proof: Proof, outcome, autograded: str, db: str) -> None:
    """The score, the cells that lost points and why, and the flags, from the copy's gradebook and notebooks."""
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + db) as gb:
        for notebook in gb.find_submission(proof.assignment, STUDENT).notebooks:
            shown = _cell_errors(os.path.join(autograded, notebook.name + ".ipynb"))
            for grade in notebook.grades:
                if grade.auto_score is None:
                    continue  # graded by hand (a written answer): not the grader's to prove
                proof.max_score += grade.max_score
                proof.score += grade.auto_score
                if grade.auto_score < grade.max_score:
                    proof.shortfalls.append(
                        Shortfall(
                            grade.name, grade.auto_score, grade.max_score, shown.get(grade.name, "it scored no points")
                        )
                    )
    for notebook in outcome.notebooks.values():
        report = notebook.get("report") or {}
        proof.flags += [str(flag) for flag in report.get("flags", [])]


def _cell_errors(path: str) -> dict:
    """{grade_id: the last line of the error (or of the output) the cell showed} of an autograded notebook."""
    try:
        with open(path) as f:
            cells = json.load(f).get("cells", [])
    except (OSError, ValueError):
        return {}
    shown = {}
    for cell in cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        lines = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                lines.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}")
            elif out.get("output_type") == "stream":
                lines += [line for line in "".join(out.get("text", "")).splitlines() if line.strip()]
        if grade_id and lines:
            shown[grade_id] = lines[-1].strip()[:300]
    return shown


# ---------------------------------------------------------------- why, in words
def gradelib_in_the_box(settings: Any) -> str | None:
    """None if a box imports gradelib; otherwise a sentence saying where this environment's gradelib lives."""
    if not settings.enabled:
        return None
    box = sandbox.Box(sandbox.Limits(), settings.bwrap_path(), settings.user, seeded=False)
    # a module of gradelib, not the bare name: an empty folder called gradelib imports as a namespace package
    argv = sandbox.command([sys.executable, "-c", "import gradelib.check"], box)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"inside the sandbox Python could not be started ({err})"
    if done.returncode == 0:
        return None
    said = (done.stderr.strip().splitlines() or ["no message"])[-1]
    return (
        f"inside the sandbox `import gradelib` fails ({said}): this environment ({sys.prefix}) has gradelib "
        f"installed from {_installed_from()}, which the box does not show; run `{sys.executable} -m pip "
        "install -e .` in this course's folder"
    )


def _installed_from() -> str:
    """Where this environment's installed gradelib points (site-packages only: a course folder on sys.path has
    gradelib.egg-info of its own)."""
    import sysconfig
    from importlib import metadata

    for dist in metadata.distributions(name="gradelib", path=[sysconfig.get_paths()["purelib"]]):
        try:
            url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
        except ValueError:
            url = ""
        return url[len("file://") :] if url.startswith("file://") else (url or "the package index")
    return "nowhere (it is not installed)"


def sentence(proof: Proof, settings: Any = None) -> str:
    """Why the run stopped, for the instructor."""
    head = (
        f"Grading stopped before anyone was graded: your own solution of {proof.assignment} "
        f"(source/{proof.assignment}), graded in the same sandbox with this course's configuration, "
    )
    if proof.failure:
        body = f"could not be graded: {proof.failure}"
    else:
        cells = "; ".join(f"{s.cell} {s.score:g} of {s.max_score:g} ({s.why})" for s in proof.shortfalls)
        body = f"scored {proof.score:g} of {proof.max_score:g}: {cells}"
    cause = gradelib_in_the_box(settings) if settings is not None else None
    tail = (
        f". So {cause}."
        if cause
        else ". Nothing was graded and the gradebook is untouched; fix what the cells say (or the solution), "
        "then grade again. To grade anyway, set c.ProveGrader.enabled = False in nbgrader_config.py."
    )
    return head + body + tail


def require_proof(config: Any, assignment: str, settings: Any, log: Callable[[str], Any] | None = None) -> Proof:
    """Grade the solution; raise GraderBroken (with the sentence) unless it scores full marks."""
    proof = prove(config, assignment)
    if not proof.passed:
        raise GraderBroken(sentence(proof, settings))
    if log is not None:
        log(
            f"your solution of {assignment} scored {proof.score:g} of {proof.max_score:g} in the sandbox "
            f"({proof.seconds:.1f} s): the grader works"
        )
        if proof.flags:
            log(f"it was also flagged for a manual look, which students' work will be too: {'; '.join(proof.flags)}")
    return proof
