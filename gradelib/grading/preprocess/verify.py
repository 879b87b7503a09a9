"""VerifyGradelib: the nbgrader preprocessor that re-checks gradelib tests outside the kernel.

In ``Autograde.autograde_preprocessors`` it goes after Execute and before
SaveAutoGrades (FlagForReview, flag.py, right after SaveAutoGrades):

1. What the instructor wrote decides everything: which cells are tests, which
   are given code and which exercise a test grades all come from nbgrader's
   gradebook (instructor.py), matched by grade_id (RepairCells has already made
   the submitted metadata match it); a deleted test cell is put back, failed,
   with the reason.
2. For every test cell that calls ``gradelib.grade("<exercise>", <function>, ...)``
   and that the kernel scored as passed, the student's cells are run again in a
   fresh process (isolate.py, in the grading sandbox), the function is called
   there at the test's own points and at points drawn from a seed the student
   cannot know, and the plain numbers that come back are judged here
   (verdict.py).  If they are wrong, or cannot be obtained, the test cell gets
   an error output saying why, so SaveAutoGrades scores it 0.
   The test cells the kernel failed are judged in the same process too, at the
   cell's own points, only to name the mistake: their score stays the
   kernel's 0.  Every graded function thus gets a verdict the grader can trust
   (passed or not, gradelib's mistake labels and the parameters concerned),
   kept in the Report for the store of verdicts (verdicts.py) and the class's
   misconception report (report.py).
3. Student cells are scanned for tampering (tamper.py); the test cells after a
   finding are marked for a manual look by FlagForReview.  So is a submission
   whose locked cells could not be compared with the released copy.

The work is in three modules beside this one: probes.py plans what to ask
(the cells' roles, the probes, the harness's steps), integrity.py finds what a
submission did to the notebook itself, conclude.py judges what came back into
the Report.  The report (conclude.Report) goes to the grading log and to the autograded
notebook's metadata under "gradelib", which the class grading command reads;
students never see it.  Whatever the submitted notebook carried under that key
is dropped first: only the verifier writes it.
"""

import os
from dataclasses import asdict

import nbformat
from nbformat.reader import NotJSONError
from nbgrader.api import MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from ..sandbox import isolate
from ..sandbox.box import Sandbox
from . import integrity, probes
from .conclude import Recorder, Report
from .instructor import instructor_cells

# what reading a notebook file can raise: it is missing or unreadable, not JSON, or not a valid notebook
UNREADABLE = (OSError, NotJSONError, ValueError, nbformat.ValidationError)


class VerifyGradelib(NbGraderPreprocessor):
    """Re-check, outside the kernel, every gradelib test cell the kernel passed (see the module docstring).

    nbgrader's entry point: it reads the course's settings and files, and hands the work to probes.py,
    integrity.py and conclude.py."""

    cell_timeout = Integer(
        None, allow_none=True, help="Seconds per cell in the verifier's process; by default Execute.timeout."
    ).tag(config=True)
    total_timeout = Float(300.0, help="Seconds the verifier's process may run in all.").tag(config=True)
    memory_limit = Integer(2 * 1024**3, help="Bytes of address space for the verifier's process.").tag(config=True)
    judge_failed = Bool(
        True,
        help="Also judge the test cells the kernel failed, to name their mistakes for the misconception "
        "report (their score stays 0); costs one verifier process for a notebook whose tests all "
        "failed.",
    ).tag(config=True)
    seed_key = Unicode(
        "",
        help="Secret for the grader's seeds; by default a hash of the instructor's cells, "
        "which students never see (they include the solutions and hidden tests).",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        self.student = info["student"]
        self.where = f"{info['student']}/{info['assignment']}/{info['notebook']}"
        self.report = Report()
        nb.metadata.pop("gradelib", None)  # the submitted notebook's own "report" is never read
        resources.setdefault("gradelib", {})["report"] = self.report
        try:
            self.cells = instructor_cells(info["db_url"], info["notebook"], info["assignment"])
        except MissingEntry:
            self.log.warning("%s: the notebook is not in the gradebook; nothing to verify", self.where)
            return nb, resources
        self.coursedir = CourseDirectory(parent=self)
        self.roles = probes.CellRoles(self.cells)
        self.recorder = Recorder(self.report, self.where, self.log)
        self._put_back_deleted_tests(nb, info)
        self._scan(nb, info)
        self._verify(nb, info)
        nb.metadata["gradelib"] = asdict(self.report)
        resources.setdefault("gradelib", {})["review"] = self.report.review
        return nb, resources

    def _notebook(self, directory, student, info):
        path = os.path.join(
            self.coursedir.format_path(directory, student, info["assignment"]), info["notebook"] + ".ipynb"
        )
        return nbformat.read(path, as_version=4)

    # ---- what the submission did to the notebook itself
    def _put_back_deleted_tests(self, nb, info):
        missing = integrity.missing_tests(nb, self.cells)
        if not missing:
            return
        try:
            order = integrity.grade_ids(self._notebook(self.coursedir.source_directory, ".", info))
        except UNREADABLE as err:
            self.log.warning(
                "%s: the source notebook cannot be read (%s); deleted tests go at the end", self.where, err
            )
            order = []
        for known in missing:
            integrity.put_back(nb, known, order)
            self.log.warning("%s: %s: deleted test cell put back, scored 0", self.where, known.name)

    def _scan(self, nb, info):
        """Tamper findings and locked cells edited (or not comparable with the released copy): flags, and
        reasons for a look at the test cells after them."""
        try:
            released = self._notebook(self.coursedir.release_directory, ".", info)
            submitted = self._notebook(self.coursedir.submitted_directory, info["student"], info)
        except UNREADABLE as err:
            self.log.warning("%s: locked cells not compared with the released copy: %s", self.where, err)
            edited = [integrity.uncompared(err)]
        else:
            edited = integrity.edited_locked(nb, released, submitted, self.roles)
        tests = [
            (i, c.metadata["nbgrader"]["grade_id"]) for i, c in enumerate(nb.cells) if self.roles.role(c) == "test"
        ]
        self.recorder.flag(integrity.tamper_findings(nb, self.roles) + edited, tests)

    # ---- verification
    def _verify(self, nb, info):
        key = probes.seed_key(self.seed_key, self.cells)
        how = probes.Planning(
            self.roles,
            lambda grade_id, call: probes.secret_seed(key, info, grade_id, call),
            self.judge_failed,
            self.log,
            self.where,
        )
        plan, unjudged = probes.plan(nb, how)
        self.report.verdicts += unjudged
        if not plan:
            return
        run = isolate.run(
            probes.harness_steps(nb, plan, self.roles),
            self._limits(),
            files_from=self._support_dir(info),
            box=Sandbox(parent=self),
            student=self.student,
        )
        if not run.finished:
            self.report.stopped = run.reason  # the report tells the instructor once, not once per function
            self.log.warning(
                "%s: the verifier's process did not finish: %s %s", self.where, run.reason, run.stderr_tail
            )
        for planned in plan:
            if planned.hand is not None:
                points = float(self.cells[planned.grade_id].points or 0)
                self.recorder.conclude_by_hand(nb.cells[planned.index], planned, run, self.student, points)
            else:
                self.recorder.conclude(nb.cells[planned.index], planned, run)

    def _limits(self):
        cell: float | None = self.cell_timeout
        if cell is None:
            cell = getattr(self.config, "Execute", {}).get("timeout") or isolate.Limits.cell_seconds
        return isolate.Limits(
            cell_seconds=float(cell), total_seconds=float(self.total_timeout), memory_bytes=int(self.memory_limit)
        )

    def _support_dir(self, info):
        path = self.coursedir.format_path(self.coursedir.source_directory, ".", info["assignment"])
        return path if os.path.isdir(path) else None
