"""Grade a whole class with nbgrader, one worker per core, into the course's one gradebook.

    python -m gradelib.grading.classgrade ASSIGNMENT [--jobs N] [--student ID ...]

Run it in the course folder (the one with nbgrader_config.py), as
``nbgrader autograde ASSIGNMENT --force`` would be.  Each worker runs nbgrader's
own Autograde converter (the course's config, so the same preprocessors and
the same scores) for one student at a time, into a private copy of the
gradebook; this process alone writes the course's gradebook, one student per
transaction, as each result arrives.  SQLite never sees two writers, and an
interrupted run leaves every student either fully merged or untouched.

Every submission ends up in the gradebook: one nbgrader cannot grade (a
notebook that is not JSON, damaged metadata, a missing notebook, a kernel that
took the worker down) is recorded with 0 and needs_manual_grade, and the reason
is written into the notebook's comments, where the formgrader shows it.  A
progress bar runs while grading and a summary table is printed at the end
(``--json FILE`` writes it for a program too).  Running it again gives the
same gradebook.

The verdicts of every graded function (for the misconception report, the report package)
go the same way: workers keep theirs in private copies of the store of
verdicts, and hand them back in the verifier's Report; this process alone
writes the course's store (report/store.py), replacing each student's records.
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import glob
import json
import multiprocessing
import os
import queue
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TextIO

from . import collect_record
from .autograde import Outcome, grade_one
from .course import check_before_grading, prove_grader
from .gradebook import Damaged, sqlite_path
from .gradebook import copy as copy_db
from .preprocess.conclude import Report
from .proof import GraderBroken
from .report.store import WHOLE, NotebookRecord, StoreError, replace, store_path
from .sandbox.box import Sandbox, Unavailable, home_seed

WORKER_LOST = "the grading worker stopped while grading this submission (its process died)"
UNSANDBOXED = (
    "WARNING: graded WITHOUT the sandbox (c.Sandbox.enabled = False): the students' code ran with your "
    "rights, and could read the solutions and change the gradebook."
)


class Row(NamedTuple):
    """A line of the summary table."""

    student: str
    score: float
    max_score: float | None
    notes: list[str]


@dataclass
class ClassRun:
    """What every worker of one class run needs to know."""

    root: str  # the course folder
    config: Any  # nbgrader's configuration of the course
    main_db: str  # the course's gradebook file (only the main process writes it)
    db_url: str
    assignment: str
    logdir: str  # workers' logs and private gradebooks


# ---------------------------------------------------------------- the workers
def load_config(root: str) -> Any:
    """The course's nbgrader configuration, read the way the nbgrader commands read it."""
    from nbgrader.apps.baseapp import NbGrader

    cwd = os.getcwd()
    os.chdir(root)
    try:
        app = NbGrader()
        app.load_config_file()
        return app.config
    finally:
        os.chdir(cwd)


def course_directory(root: str, error: type[Exception], instead: str) -> Any:
    """nbgrader's CourseDirectory of the course folder root, configured as the nbgrader commands read it there.
    A folder without nbgrader_config.py raises error (the caller's own), saying so and what to do instead."""
    if not os.path.exists(os.path.join(root, "nbgrader_config.py")):
        raise error(f"{root} is not a course folder (it has no nbgrader_config.py); {instead}")
    from nbgrader.coursedir import CourseDirectory

    config = load_config(root)
    config.CourseDirectory.root = os.path.abspath(root)
    return CourseDirectory(config=config)


def worker(number: int, run: ClassRun, tasks: Any, results: Any) -> None:
    """Grade the students from tasks, one at a time, into a private copy of the gradebook."""
    log_path = os.path.join(run.logdir, f"worker{number}.log")
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)  # the kernels' chatter goes to this worker's log, not to the progress bar
    os.chdir(run.root)
    db = os.path.join(run.logdir, f"worker{number}.db")
    copy_db(run.main_db, db)
    config, assignment = run.config, run.assignment
    config.CourseDirectory.db_url = "sqlite:///" + db
    config.CourseDirectory.root = run.root
    config.Autograde.pre_convert_hook = None  # its checks and backup ran once, in the main process
    # the course's store of verdicts is the main process's; RecordVerdicts writes a private one here
    config.RecordVerdicts.store = os.path.join(run.logdir, f"worker{number}-verdicts.db")
    while True:
        student = tasks.get()
        if student is None:
            return
        results.put(("start", number, student, None))
        start = time.monotonic()
        try:
            outcome = grade_one(config, assignment, student)
        except BaseException as err:  # noqa: BLE001  never lose the worker over one submission
            outcome = Outcome("failed", f"grading raised {type(err).__name__}: {err}")
        outcome.seconds = round(time.monotonic() - start, 3)
        results.put(("done", number, student, outcome))


# ---------------------------------------------------------------- the course's gradebook
def merge(gb: Any, assignment: str, student: str, outcome: Outcome) -> None:
    """Write one student's outcome into the course's gradebook, in one transaction."""
    from datetime import datetime

    try:
        gb.update_or_create_student(student)
        if outcome.timestamp:
            sub = gb.update_or_create_submission(
                assignment, student, timestamp=datetime.fromisoformat(outcome.timestamp)
            )
        else:
            sub = gb.update_or_create_submission(assignment, student)
        status, reason = outcome.status, outcome.reason
        for nb in sub.notebooks:
            got = outcome.notebooks.get(nb.name)
            if got and got["graded"]:
                for g in nb.grades:
                    if g.name in got["grades"]:
                        g.auto_score, g.needs_manual_grade = got["grades"][g.name]
                for c in nb.comments:
                    if c.name in got["comments"]:
                        c.auto_comment = got["comments"][c.name]
                nb.flagged = got["flagged"]
                nb.late_submission_penalty = got["late_penalty"]
                continue
            # not graded: 0 for everything, a look by the instructor, and the reason where they see it;
            # a notebook that was not sent is 0 without a look, as nbgrader does it
            missing = status == "missing" or (got is not None and not got["sent"])
            why = reason
            if got is not None and not got["sent"]:
                files = outcome.files
                why = f"no notebook named {nb.name}.ipynb was submitted" + (
                    f" (the folder has {', '.join(files)})" if files else ""
                )
            for g in nb.grades:
                g.auto_score = 0.0
                g.needs_manual_grade = not missing
            for c in nb.comments:
                c.auto_comment = f"Not graded automatically: {why}."
            nb.flagged = not missing
        gb.db.commit()
    except BaseException:
        gb.db.rollback()  # all of this student or nothing
        raise


def assignment_notebooks(gb: Any, assignment: str) -> list[str]:
    return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)


# ---------------------------------------------------------------- progress and summary
class Progress:
    """A one-line progress bar on a terminal; one line per submission otherwise."""

    def __init__(self, total, stream=sys.stdout):
        self.total, self.done, self.stream = total, 0, stream
        self.start = time.monotonic()
        self.tty = stream.isatty()

    def step(self, student: str, note: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            eta = elapsed / self.done * (self.total - self.done)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{elapsed:5.0f}s elapsed, ~{eta:4.0f}s left  "
            )
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {student}: {note} ({elapsed:.1f}s)\n")
        self.stream.flush()


def summary_rows(gb: Any, assignment: str, students: Sequence[str], outcomes: dict[str, Outcome]) -> list[Row]:
    from nbgrader.api import MissingEntry

    rows = []
    for student in students:
        outcome = outcomes.get(student, Outcome("failed", "not graded"))
        try:
            sub = gb.find_submission(assignment, student)
            score, max_score = sub.score, sub.max_score
        except MissingEntry:
            score, max_score = 0.0, None
        notes = []
        if outcome.status == "missing":
            notes.append("MISSING: " + outcome.reason)
        elif outcome.status == "failed":
            notes.append("FAILED: " + outcome.reason)
        for _name, nb in sorted(outcome.notebooks.items()):
            report = Report.from_json(nb.get("report"))
            notes += [f"{grade_id}: wrong outside the kernel" for grade_id in report.failed]
            notes += [f"{grade_id}: could not be verified" for grade_id in report.unverifiable]
            if report.flags:
                notes.append(
                    f"FLAGGED ({len(report.flags)}): "
                    + "; ".join(report.flags[:3])
                    + (" …" if len(report.flags) > 3 else "")
                )
        rows.append(Row(student, score, max_score, notes))
    return rows


def print_summary(
    rows: Sequence[Row], assignment: str, seconds: float, jobs: int, stream: TextIO = sys.stdout, sandboxed: bool = True
) -> None:
    width = max([len("student")] + [len(r.student) for r in rows])
    stream.write(f"\n{assignment}: {len(rows)} submissions graded in {seconds:.1f} s with {jobs} worker(s)\n")
    stream.write(f"{'student':<{width}}  {'score':>6}  {'max':>5}  notes\n")
    stream.write(f"{'-' * width}  {'-' * 6}  {'-' * 5}  {'-' * 5}\n")
    for r in rows:
        m = "" if r.max_score is None else f"{r.max_score:g}"
        stream.write(f"{r.student:<{width}}  {r.score:>6g}  {m:>5}  {' | '.join(r.notes)}\n")
    failed = sum(1 for r in rows if any(n.startswith(("FAILED", "MISSING")) for n in r.notes))
    flagged = sum(
        1
        for r in rows
        if any(n.startswith("FLAGGED") or "outside the kernel" in n or "could not be verified" in n for n in r.notes)
    )
    stream.write(f"{len(rows) - failed} graded, {failed} not gradable (recorded as 0), {flagged} for a manual look\n")
    if not sandboxed:
        stream.write(UNSANDBOXED + "\n")
    stream.flush()


# ---------------------------------------------------------------- the command
def find_students(root: str, coursedir: Any, assignment: str) -> list[str]:
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    found = []
    for path in glob.glob(pattern):
        if os.path.isdir(path):
            rel = os.path.relpath(path, coursedir.format_path(coursedir.submitted_directory, ".", "."))
            found.append(rel.split(os.sep)[0])
    return sorted(set(found))


def grade_class(
    assignment: str,
    root: str = ".",
    jobs: int | None = None,
    students: Sequence[str] | None = None,
    stream: TextIO = sys.stdout,
    timings: dict[str, float] | None = None,
    sandboxed: bool | None = None,
) -> list[Row]:
    """Grade every submission of assignment; return the summary rows (student, score, max, notes).

    timings, a dict, receives the seconds each student's grading took in its worker.
    sandboxed: None for the course's setting (c.Sandbox.enabled), False to grade without the sandbox.
    """
    import nbgrader.converters  # noqa: F401  (imported once here, inherited by every worker)
    from nbgrader.coursedir import CourseDirectory
    from sqlalchemy.exc import SAWarning

    from .preprocess import verify  # noqa: F401  (imported once here, inherited by every worker)

    # nbgrader's own update_or_create_submission trips SQLAlchemy's autoflush warning
    warnings.filterwarnings("ignore", category=SAWarning)
    root = os.path.abspath(root)
    config = load_config(root)
    config.CourseDirectory.root = root
    if sandboxed is not None:
        config.Sandbox.enabled = bool(sandboxed)
    settings = Sandbox(config=config)
    coursedir = CourseDirectory(config=config)
    main_db = _ready_to_grade(config, coursedir, settings, assignment, stream)
    submitted = find_students(root, coursedir, assignment)
    unknown = sorted(set(students or ()) - set(submitted))
    if unknown:
        raise SystemExit(
            f"no submission of {assignment} from {', '.join(unknown)} (no folder "
            f"{coursedir.format_path(coursedir.submitted_directory, unknown[0], assignment)})"
        )
    students = sorted(students) if students else submitted
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(students) or 1))
    start = time.monotonic()
    run = ClassRun(root, config, main_db, coursedir.db_url, assignment, logdir="")
    rows, outcomes = _grade_locked(run, students, jobs, stream)
    if timings is not None:
        timings.update({s: o.seconds for s, o in outcomes.items()})
    print_summary(rows, assignment, time.monotonic() - start, jobs, stream, sandboxed=settings.enabled)
    print_collect_findings(coursedir.db_url, root, assignment, stream)
    return rows


def _ready_to_grade(config: Any, coursedir: Any, settings: Sandbox, assignment: str, stream: TextIO) -> str:
    """The course's gradebook file, once everything a class run needs is checked: an SQLite gradebook with the
    assignment, whole and backed up, the sandbox usable, and the instructor's solution graded in it at full
    marks; otherwise SystemExit with the sentence that says what to do."""
    from nbgrader.api import Gradebook, MissingEntry

    main_db = sqlite_path(coursedir.db_url)
    if main_db is None:
        raise SystemExit(f"classgrade needs an SQLite gradebook; db_url is {coursedir.db_url!r}")
    if not os.path.exists(main_db):
        raise SystemExit(f"no gradebook at {main_db}: run `nbgrader generate_assignment {assignment}` first")

    def log(line: str) -> None:
        if stream is not None:
            stream.write(line + "\n")

    try:
        check_before_grading(coursedir.db_url, settings, log=log)
    except (Unavailable, Damaged) as why:
        raise SystemExit(str(why)) from None
    if settings.enabled:
        home_seed(settings.bwrap_path(), settings.user)  # once, here: the workers inherit it
    with Gradebook(coursedir.db_url) as gb:
        try:
            assignment_notebooks(gb, assignment)
        except MissingEntry:
            raise SystemExit(
                f"the gradebook has no assignment {assignment!r}: run `nbgrader generate_assignment {assignment}` first"
            ) from None
    try:
        prove_grader(config, assignment, log=log)
    except GraderBroken as why:
        raise SystemExit(str(why)) from None
    return main_db


def _grade_locked(run: ClassRun, students: list[str], jobs: int, stream: TextIO) -> tuple[list[Row], dict]:
    """The students graded by jobs workers (run's logdir made here, removed after), the summary rows and each
    student's Outcome; under a lock on the gradebook, since two class runs on one gradebook would interleave."""
    from nbgrader.api import Gradebook

    lock = open(run.main_db + ".classgrade.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    run = dataclasses.replace(run, logdir=tempfile.mkdtemp(prefix="classgrade-"))
    try:
        outcomes = _run_workers(run, students, jobs, stream)
        with Gradebook(run.db_url) as gb:
            rows = summary_rows(gb, run.assignment, students, outcomes)
    finally:
        shutil.rmtree(run.logdir, ignore_errors=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    return rows, outcomes


def print_collect_findings(db_url: str, root: str, assignment: str, stream: TextIO = sys.stdout) -> None:
    """Under the summary: the entries collect refused (submitted in another's name, unsafe) or re-dated, kept
    beside the gradebook by the course's exchange (exchange.py, collect_record.py); nothing if there are none."""
    if stream is None:
        return
    path = collect_record.record_path(db_url, root)
    try:
        found = collect_record.lines(collect_record.load(path, assignment))
    except collect_record.RecordError as err:
        found = [str(err)]
    if found:
        stream.write("\n".join(found) + f"\n(kept in {path})\n")
        stream.flush()


def _run_workers(run, students, jobs, stream):
    from nbgrader.api import Gradebook

    ctx = multiprocessing.get_context("fork")  # workers inherit the imports: no 3 s start each
    tasks, results = ctx.Queue(), ctx.Queue()
    for s in students:
        tasks.put(s)

    def spawn(n):
        tasks.put(None)  # one stop sign per worker, after the students
        p = ctx.Process(target=worker, args=(n, run, tasks, results), daemon=True)
        p.start()
        return p

    procs = {n: spawn(n) for n in range(jobs)}
    next_id = jobs
    busy: dict[int, Any] = {}
    outcomes: dict[str, Any] = {}
    progress = Progress(len(students), stream)
    assignment = run.assignment
    store = store_path(run.db_url)
    with Gradebook(run.db_url) as gb:
        while len(outcomes) < len(students):
            try:
                kind, n, student, outcome = results.get(timeout=1.0)
            except queue.Empty:
                for n, p in list(procs.items()):
                    if p.is_alive():
                        continue
                    procs.pop(n)
                    lost = busy.pop(n, None)
                    if lost is not None and lost not in outcomes:
                        _record(gb, assignment, lost, Outcome("failed", WORKER_LOST), outcomes, progress, store)
                    if len(outcomes) + len(busy) < len(students):
                        procs[next_id] = spawn(next_id)
                        next_id += 1
                continue
            if kind == "start":
                busy[n] = student
            else:
                busy.pop(n, None)
                _record(gb, assignment, student, outcome, outcomes, progress, store)
    for p in procs.values():
        p.join(timeout=30)
    return outcomes


def _record(gb, assignment, student, outcome, outcomes, progress, store=None):
    merge(gb, assignment, student, outcome)
    if store is not None:
        keep_verdicts(store, assignment, student, outcome, progress.stream)
    outcomes[student] = outcome
    note = outcome.status if outcome.status == "graded" else f"{outcome.status}: {outcome.reason}"
    progress.step(student, note)


def submission_records(outcome: Outcome) -> list[NotebookRecord]:
    """The store's records of one student's outcome: a record of the failure if any, and each graded notebook."""
    from .preprocess.record import notebook_record

    records = []
    if outcome.status != "graded":
        records.append(NotebookRecord(WHOLE, status=outcome.status, reason=outcome.reason))
    for name, nb in sorted(outcome.notebooks.items()):
        if nb.get("graded"):
            records.append(notebook_record(name, Report.from_json(nb.get("report"))))
    return records


def keep_verdicts(store: str, assignment: str, student: str, outcome: Outcome, stream: TextIO | None = None) -> None:
    """Replace the student's records in the course's store; a store that cannot be written stops no one."""
    try:
        replace(store, assignment, student, submission_records(outcome), whole=True)
    except StoreError as err:
        if stream is not None:
            stream.write(f"{student}: verdicts not kept for the report: {err}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradelib.grading.classgrade", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--jobs", "-j", type=int, default=None, help="workers (default: one per core)")
    parser.add_argument("--student", action="append", help="grade only this student (may repeat)")
    parser.add_argument("--course", default=".", help="the course folder (default: here)")
    parser.add_argument("--json", help="also write the summary (and seconds per student) to this file")
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade without the sandbox, where it cannot be made (student code then runs with "
        "your rights; the summary and the feedback say so)",
    )
    args = parser.parse_args(argv)
    timings: dict[str, float] = {}
    rows = grade_class(
        args.assignment,
        root=args.course,
        jobs=args.jobs,
        students=args.student,
        timings=timings,
        sandboxed=False if args.no_sandbox else None,
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(r._asdict(), seconds=timings.get(r.student)) for r in rows], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
