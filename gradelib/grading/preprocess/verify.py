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

The report (Report below) goes to the grading log and to the autograded
notebook's metadata under "gradelib", which the class grading command reads;
students never see it.  Whatever the submitted notebook carried under that key
is dropped first: only the verifier writes it.
"""

import hashlib
import os
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import nbformat
from nbformat.reader import NotJSONError
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from ...result import Result
from ..judge import tamper, verdict
from ..judge.cells import GradeCall, HandCall, grade_calls, hand_calls, slice_given, to_python
from ..judge.hand import mark_hand_cell
from ..judge.labels import title
from ..judge.outputs import error_output, fail_cell
from ..report.store import Verdict
from ..sandbox import isolate
from ..sandbox.box import Sandbox
from .instructor import instructor_cells

SECRET_SEED_BASE = 1_000_000  # grader-drawn seeds are far from the small seeds that notebooks use
# what reading a notebook file can raise: it is missing or unreadable, not JSON, or not a valid notebook
UNREADABLE = (OSError, NotJSONError, ValueError, nbformat.ValidationError)


@dataclass
class Report:
    """What the verifier found in one notebook; stored in its metadata as JSON under "gradelib"."""

    verified: list[str] = field(default_factory=list)  # grade_ids whose result held outside the kernel
    failed: list[str] = field(default_factory=list)  # grade_ids that passed in the kernel only
    unverifiable: list[str] = field(default_factory=list)  # grade_ids whose function gave no answer outside
    flags: list[str] = field(default_factory=list)  # tamper findings and unchecked locked cells, in words
    review: dict = field(default_factory=dict)  # grade_id -> reasons for a manual look
    verdicts: list[Verdict] = field(default_factory=list)  # every graded function, passed or failed
    stopped: str = ""  # why the verifier's process did not finish (it died, ran out of time); "" if it did

    @classmethod
    def from_json(cls, data):
        """A Report from the notebook metadata written by this class; empty fields where it is not one."""
        data = data if isinstance(data, dict) else {}
        report = cls(
            **{
                k: data[k]
                for k in ("verified", "failed", "unverifiable", "flags", "review")
                if isinstance(data.get(k), (list, dict))
            }
        )
        report.stopped = str(data.get("stopped") or "")
        for v in data.get("verdicts") or []:
            try:
                report.verdicts.append(Verdict.from_json(v))
            except ValueError:  # written by this class, so only a damaged file gets here: leave it out
                continue
        return report


class Probe(NamedTuple):
    """One set of calls of a student's function in the verifier's process."""

    id: str  # the answers come back under this id
    call: GradeCall  # the test cell's gradelib.grade call
    seed: int  # the test points' seed: the cell's own, or one the grader drew
    reveal: bool  # whether the feedback may show expected values


@dataclass(frozen=True)
class Planned:
    """A test cell to verify (the kernel passed it) or only to judge (the kernel failed it)."""

    index: int  # its position in the notebook
    grade_id: str
    probes: list[Probe]
    kernel_passed: bool
    hand: HandCall | None = None  # for a by-hand task: its call; the grader marks it whatever the kernel said

    @property
    def hand_probe(self):
        """The id under which a by-hand task's values come back."""
        return f"{self.grade_id}#hand"


class VerifyGradelib(NbGraderPreprocessor):
    """Re-check, outside the kernel, every gradelib test cell the kernel passed (see the module docstring)."""

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
        self._put_back_deleted_tests(nb, info)
        self._scan(nb, self._edited_locked(nb, info))
        self._verify(nb, info)
        nb.metadata["gradelib"] = asdict(self.report)
        resources.setdefault("gradelib", {})["review"] = self.report.review
        return nb, resources

    # ---- cells and their roles, from the instructor's side
    def known(self, cell):
        return self.cells.get(cell.metadata.get("nbgrader", {}).get("grade_id"))

    def role(self, cell):
        """'test', 'given', 'student' or None (not code), decided by the gradebook."""
        if cell.cell_type != "code":
            return None
        known = self.known(cell)
        if known is None or known.cell_type != "code":
            return "student"
        if known.is_test:
            return "test"
        return "given" if known.is_given else "student"

    def source_of(self, cell):
        """The code to run: the instructor's own text for given and test cells, the student's otherwise."""
        known = self.known(cell)
        return known.source if known is not None and known.is_given else cell.source

    def _notebook(self, directory, student, info):
        path = os.path.join(
            self.coursedir.format_path(directory, student, info["assignment"]), info["notebook"] + ".ipynb"
        )
        return nbformat.read(path, as_version=4)

    # ---- deleted test cells
    def _put_back_deleted_tests(self, nb, info):
        present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        missing = [known for name, known in self.cells.items() if known.is_test and name not in present]
        if not missing:
            return
        try:
            order = [
                c.metadata.get("nbgrader", {}).get("grade_id")
                for c in self._notebook(self.coursedir.source_directory, ".", info).cells
            ]
        except UNREADABLE as err:
            self.log.warning(
                "%s: the source notebook cannot be read (%s); deleted tests go at the end", self.where, err
            )
            order = []
        for known in missing:
            self._put_back(nb, known, order)
            self.log.warning("%s: %s: deleted test cell put back, scored 0", self.where, known.name)

    def _put_back(self, nb, known, order):
        cell = nbformat.v4.new_code_cell(known.source)
        cell.metadata["nbgrader"] = {
            "grade": True,
            "solution": False,
            "locked": True,
            "grade_id": known.name,
            "points": known.points,
            "schema_version": 3,
        }
        cell.metadata["editable"] = False
        cell.metadata["deletable"] = False
        cell.outputs = [
            error_output(
                "MissingCell",
                "This test cell was missing from the submitted notebook "
                "(deleted?), so its tests could not run: 0 points.",
            )
        ]
        position = len(nb.cells)
        if known.name in order:
            ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
            for name in reversed(order[: order.index(known.name)]):
                if name in ids:
                    position = ids.index(name) + 1
                    break
        nb.cells.insert(position, cell)

    # ---- tampering
    def _edited_locked(self, nb, info):
        """Findings for locked cells whose submitted text or nbgrader metadata differ from the released copy.

        nbgrader silently restores such cells; an honest student cannot edit them
        in the notebook interface, so a difference is worth a look.  Where the
        comparison cannot be made, that is a reason for a look too.
        """
        try:
            released = self._notebook(self.coursedir.release_directory, ".", info)
            submitted = self._notebook(self.coursedir.submitted_directory, info["student"], info)
        except UNREADABLE as err:
            self.log.warning("%s: locked cells not compared with the released copy: %s", self.where, err)
            return [
                tamper.Finding(
                    0, 0, f"the locked cells could not be compared with the released copy ({type(err).__name__})"
                )
            ]
        handed_out = {}
        for cell in released.cells:
            known = self.known(cell)
            if known is not None and known.is_given:
                handed_out[known.name] = _checksum(cell)
        edited = []
        for cell in submitted.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in handed_out and _checksum(cell) != handed_out[grade_id] and grade_id not in edited:
                edited.append(grade_id)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        return [
            tamper.Finding(
                ids.index(g) if g in ids else len(ids),
                0,
                f"changed the locked cell {g!r} (nbgrader put the original back)",
            )
            for g in edited
        ]

    def _scan(self, nb, edited=()):
        code = [(i, to_python(self.source_of(c))) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        aliases = tamper.module_aliases(src for _, src in code)
        student = [(i, src) for i, src in code if self.role(nb.cells[i]) == "student"]
        findings = tamper.scan(student, aliases) + list(edited)
        tests = [i for i, c in enumerate(nb.cells) if self.role(c) == "test"]
        for f in findings:
            self.log.warning("%s: a reason for a manual look in %s", self.where, f)
            self.report.flags.append(str(f))
            # a kernel trick changes what every later test sees, so each of them gets a look
            for i in [i for i in tests if i >= f.cell] or tests[-1:]:
                grade_id = nb.cells[i].metadata["nbgrader"]["grade_id"]
                self.report.review.setdefault(grade_id, []).append(str(f))

    # ---- verification
    def _verify(self, nb, info):
        plan = self._plan(nb, info)
        if not plan:
            return
        run = isolate.run(
            self._steps(nb, plan),
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
                self._conclude_by_hand(nb.cells[planned.index], planned, run)
            else:
                self._conclude(nb.cells[planned.index], planned, run)

    def _plan(self, nb, info):
        """The test cells the kernel passed that call gradelib.grade, each with its probes."""
        plan, key = [], self._key()
        for i, cell in enumerate(nb.cells):
            if self.role(cell) != "test":
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            hand = hand_calls(self.cells[grade_id].source)
            if hand:  # marked step by step on the student's own numbers, whatever the kernel scored
                plan.append(Planned(i, grade_id, [], False, hand=hand[0]))
                continue
            calls = grade_calls(self.cells[grade_id].source)
            if calls:
                _tidy_tracebacks(cell, {c.exercise for c in calls})
            if not calls:
                continue
            passed = self._kernel_passed(cell)
            if not passed and not self.judge_failed:
                for exercise, function in dict.fromkeys((c.exercise, c.function) for c in calls):
                    self.report.verdicts.append(
                        Verdict(grade_id, exercise, function, False, False, judged=False, reason=NOT_JUDGED)
                    )
                continue
            probes: list[Probe] = []
            seen: set[tuple[str, str, int]] = set()
            seeds: tuple[tuple[int, bool], ...]
            for call in calls:
                if passed:
                    seeds = ((call.seed, call.reveal), (self._secret_seed(key, info, grade_id, call), False))
                elif (call.exercise, call.function) in {(e, f) for e, f, _ in seen}:
                    continue  # a failed cell is judged only to name the mistake: its first call's points do
                else:
                    seeds = ((call.seed, False),)
                for seed, reveal in seeds:
                    if (call.exercise, call.function, seed) not in seen:
                        seen.add((call.exercise, call.function, seed))
                        probes.append(Probe(f"{grade_id}#{len(probes)}", call, seed, reveal))
            plan.append(Planned(i, grade_id, probes, passed))
        return plan

    def _conclude_by_hand(self, cell, planned, run):
        """The by-hand cell's score and feedback, from the values that came back and the numbers of the
        student being graded (regenerated here, never read from the notebook)."""
        points = float(self.cells[planned.grade_id].points or 0)
        outcome = mark_hand_cell(planned.hand, self.student, run.probes.get(planned.hand_probe), run.reason, points)
        cell.outputs = outcome.outputs
        (self.report.verified if outcome.marked else self.report.unverifiable).append(planned.grade_id)
        if not outcome.marked:
            self.report.review.setdefault(planned.grade_id, []).append(f"could not be marked: {outcome.reason}")
            self.log.warning("%s: %s could not be marked: %s", self.where, planned.grade_id, outcome.reason)
        self.report.verdicts.append(outcome.verdict(planned.grade_id))

    def _kernel_passed(self, cell):
        try:
            score, _ = utils.determine_grade(cell, self.log)
        except ValueError as err:  # not a gradable cell after all: nothing passed to verify
            self.log.warning("%s: cannot read the kernel's result of a test cell: %s", self.where, err)
            return False
        return bool(score)

    def _steps(self, nb, plan):
        """The harness's job: the student's cells, the given code they need, and the probes, in order."""
        last = plan[-1].index
        at = {p.index: p.probes for p in plan}
        hands = {p.index: p for p in plan if p.hand is not None}
        student, given = [], []
        for i, cell in enumerate(nb.cells[:last]):
            role = self.role(cell)
            if role == "student":
                student.append((i, to_python(cell.source)))
            elif role == "given":
                given.append((i, to_python(self.source_of(cell))))
        functions = {probe.call.function for p in plan for probe in p.probes}
        functions |= {p.hand.function for p in plan if p.hand is not None}
        chosen = slice_given([src for _, src in student], given, functions)
        cells = sorted(student + list(chosen.items()))
        steps, k = [], 0
        for i in range(last + 1):
            while k < len(cells) and cells[k][0] == i:
                steps.append({"cell": i, "source": cells[k][1]})
                k += 1
            for probe in at.get(i, ()):
                steps.append(
                    dict(
                        verdict.questions(probe.call.exercise, probe.seed), probe=probe.id, function=probe.call.function
                    )
                )
            if i in hands:
                steps.append(
                    {"probe": hands[i].hand_probe, "function": hands[i].hand.function, "kind": "by_hand", "calls": [[]]}
                )
        return steps

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

    def _key(self):
        if self.seed_key:
            return self.seed_key.encode()
        h = hashlib.sha256()
        for name in sorted(self.cells):
            h.update(name.encode() + b"\0" + self.cells[name].source.encode() + b"\0")
        return h.digest()

    @staticmethod
    def _secret_seed(key, info, grade_id, call):
        text = "\0".join(
            [info["student"], info["assignment"], info["notebook"], grade_id, call.exercise, call.function]
        ).encode()
        digest = hashlib.sha256(key + b"\0" + text).digest()
        return SECRET_SEED_BASE + int.from_bytes(digest[:4], "big")

    def _conclude(self, cell, planned, run):
        if not planned.kernel_passed:
            # the kernel's 0 stands; the verdict only names the mistake, so a fault in naming it must not
            # cost the student the grading of the cells that passed
            try:
                self.report.verdicts += _verdicts(planned, run)
            except NAMING_FAULTS as err:
                self.log.error(
                    "%s: %s: the mistake could not be named (%s: %s)",
                    self.where,
                    planned.grade_id,
                    type(err).__name__,
                    err,
                )
                for exercise, function in dict.fromkeys((p.call.exercise, p.call.function) for p in planned.probes):
                    self.report.verdicts.append(
                        Verdict(
                            planned.grade_id,
                            exercise,
                            function,
                            False,
                            False,
                            judged=False,
                            reason=f"gradelib could not name the mistake ({type(err).__name__})",
                        )
                    )
            return
        self.report.verdicts += _verdicts(planned, run)
        failure = None
        for probe in planned.probes:
            call = probe.call
            try:
                result = verdict.judge(
                    call.exercise, probe.seed, run.probes.get(probe.id), f"{call.function}()", probe.reveal
                )
            except verdict.Unverifiable as why:
                failure = failure or ("unverifiable", call, run.reason or str(why))
                continue
            if not result.passed and (failure is None or failure[0] == "unverifiable"):
                failure = ("wrong", call, result)
        grade_id = planned.grade_id
        if failure is None:
            self.report.verified.append(grade_id)
            return
        _, call, detail = failure
        if isinstance(detail, Result):  # "wrong": the verdict; "unverifiable": why not, in words
            self.report.failed.append(grade_id)
            self.report.review.setdefault(grade_id, []).append(
                "passed in the kernel but not when re-checked outside it: "
                + ", ".join(title(m, call.exercise) for m in detail.mistakes)
            )  # the report's words for them
            self.log.warning(
                "%s: %s passed in the kernel but not in the verifier: %s",
                self.where,
                grade_id,
                "; ".join(detail.mistakes),
            )
            message = (
                f"The test passed inside the notebook's kernel, but gradelib re-ran your cells in a "
                f"separate, fresh Python process and called {call.function}() there, at test points "
                f"chosen by the grader. There it is not right:\n{detail}\n"
                "Only what your function returns counts: nothing else in the notebook can change this check."
            )
        else:
            self.report.unverifiable.append(grade_id)
            self.report.review.setdefault(grade_id, []).append(f"could not be verified: {detail}")
            self.log.warning("%s: %s could not be verified outside the kernel: %s", self.where, grade_id, detail)
            message = (
                f"gradelib could not re-check {call.function}() outside the notebook's kernel: {detail}. "
                "A result that holds only inside the kernel cannot be trusted, so this test scores 0 "
                "until an instructor has looked at it."
            )
        fail_cell(cell, error_output("VerificationFailed", message))


# what judging a failed cell's numbers may raise if gradelib's diagnosis meets a case it does not handle
NAMING_FAULTS = (ArithmeticError, ValueError, TypeError, IndexError, KeyError)
NOT_JUDGED = "failed in the kernel; not judged outside it (VerifyGradelib.judge_failed is off)"
KERNEL_ONLY = (
    "the test failed in the notebook's kernel, although the function's answers were right when "
    "re-checked outside it (an error elsewhere in the test cell, or a time limit?)"
)


def _verdicts(planned, run):
    """One Verdict per function the test cell grades, with the preference of _conclude.

    A wrong answer at any probe decides it (its labels are the mistakes); else
    a probe without a verdict (it is then not judged, with the reason); else it
    held at every probe.
    """
    outcomes: dict[tuple[str, str], list[Result | str]] = {}  # a Result, or why there is none
    for probe in planned.probes:
        call = probe.call
        result: Result | str
        try:
            result = verdict.judge(call.exercise, probe.seed, run.probes.get(probe.id), f"{call.function}()")
        except verdict.Unverifiable as why:
            result = run.reason or str(why)
        outcomes.setdefault((call.exercise, call.function), []).append(result)
    out = []
    for (exercise, function), results in outcomes.items():
        wrong = [r for r in results if not isinstance(r, str) and not r.passed]
        missing = [r for r in results if isinstance(r, str)]
        v = Verdict(planned.grade_id, exercise, function, kernel_passed=planned.kernel_passed, passed=False)
        if wrong:
            v.mistakes, v.sentences = list(wrong[0].mistakes), _sentences(wrong[0])
            v.parameters = {k: list(labels) for k, labels in wrong[0].per_parameter.items()}
        elif missing:
            v.judged, v.reason = False, missing[0]
        else:
            v.passed = planned.kernel_passed
            if not planned.kernel_passed:
                v.reason = KERNEL_ONLY
        out.append(v)
    return out


def _sentences(result: Result) -> list[str]:
    """The sentence of each of result's mistakes (result.mistakes: their names, each once), in the same order.

    Each Mistake record carries its own sentence; two findings with the same name give that name both sentences.
    """
    return [" ".join(m.sentence for m in result.found if m.name == name) for name in result.mistakes]


def _tidy_tracebacks(cell, exercises):
    """gradelib's AssertionError in a test cell, shown as its feedback alone, without gradelib's frames.

    The feedback is the point; the frames inside gradelib only push it out of view.
    """
    for out in cell.get("outputs", []):
        text = str(out.get("evalue", ""))
        if (
            out.get("output_type") == "error"
            and out.get("ename") == "AssertionError"
            and text.split(":")[0] in exercises
        ):
            out["traceback"] = error_output("AssertionError", text)["traceback"]


def _checksum(cell):
    """nbgrader's checksum of a cell, or None for a cell too damaged to have one (it then counts as changed)."""
    try:
        return utils.compute_checksum(cell)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
