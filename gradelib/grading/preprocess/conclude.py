"""What VerifyGradelib concludes about one notebook from what came back: the Report, each test cell's verdicts,
and the error output of a cell that passed in the kernel only.

A wrong answer at any probe decides a function's verdict (its labels are the
mistakes); else a probe without an answer (the function is then not judged,
with the reason); else it held at every probe.  A cell the kernel failed keeps
its 0: its verdict only names the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...result import Result
from ..judge import verdict
from ..judge.cells import GradeCall
from ..judge.hand import mark_hand_cell
from ..judge.labels import title
from ..judge.outputs import error_output, fail_cell
from ..report.store import Verdict
from ..sandbox import isolate
from .probes import Planned

# what judging a failed cell's numbers may raise if gradelib's diagnosis meets a case it does not handle
NAMING_FAULTS = (ArithmeticError, ValueError, TypeError, IndexError, KeyError)
KERNEL_ONLY = (
    "the test failed in the notebook's kernel, although the function's answers were right when "
    "re-checked outside it (an error elsewhere in the test cell, or a time limit?)"
)


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
    def from_json(cls, data: Any) -> Report:
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


@dataclass
class Recorder:
    """Where the verifier writes what it concludes about one notebook: its Report and the grading log."""

    report: Report  # goes into the notebook's metadata, read by the class grading command
    where: str  # "student/assignment/notebook", for the log's lines
    log: Any  # nbgrader's logger

    def review(self, grade_id: str, reason: str) -> None:
        self.report.review.setdefault(grade_id, []).append(reason)

    def flag(self, findings: list, tests: list[tuple[int, str]]) -> None:
        """Each tamper finding (in cell f.cell) a flag, and a reason for a look at every test cell (index,
        grade_id) after it: a kernel trick changes what every later test sees (the last test when none is)."""
        for f in findings:
            self.log.warning("%s: a reason for a manual look in %s", self.where, f)
            self.report.flags.append(str(f))
            for _, grade_id in [t for t in tests if t[0] >= f.cell] or tests[-1:]:
                self.review(grade_id, str(f))

    def conclude(self, cell: Any, planned: Planned, run: isolate.Run) -> None:
        """A test cell's verdicts into the report; a cell the kernel passed that does not hold outside it fails,
        with an error output that says why."""
        if not planned.kernel_passed:
            self._name_only(planned, run)
            return
        self.report.verdicts += verdicts_of(planned, run)
        failure = _first_failure(planned, run)
        if failure is None:
            self.report.verified.append(planned.grade_id)
            return
        call, detail = failure
        if isinstance(detail, Result):  # wrong: the verdict; unverifiable: why not, in words
            message = self._wrong(planned.grade_id, call, detail)
        else:
            message = self._unverifiable(planned.grade_id, call, detail)
        fail_cell(cell, error_output("VerificationFailed", message))

    def _name_only(self, planned: Planned, run: isolate.Run) -> None:
        # the kernel's 0 stands; the verdict only names the mistake, so a fault in naming it must not
        # cost the student the grading of the cells that passed
        try:
            self.report.verdicts += verdicts_of(planned, run)
        except NAMING_FAULTS as err:
            self.log.error(
                "%s: %s: the mistake could not be named (%s: %s)", self.where, planned.grade_id, type(err).__name__, err
            )
            why = f"gradelib could not name the mistake ({type(err).__name__})"
            for exercise, function in dict.fromkeys((p.call.exercise, p.call.function) for p in planned.probes):
                self.report.verdicts.append(
                    Verdict(planned.grade_id, exercise, function, False, False, judged=False, reason=why)
                )

    def _wrong(self, grade_id: str, call: GradeCall, detail: Result) -> str:
        self.report.failed.append(grade_id)
        self.review(
            grade_id,
            "passed in the kernel but not when re-checked outside it: "
            + ", ".join(title(m, call.exercise) for m in detail.mistakes),  # the report's words for them
        )
        self.log.warning(
            "%s: %s passed in the kernel but not in the verifier: %s", self.where, grade_id, "; ".join(detail.mistakes)
        )
        return (
            f"The test passed inside the notebook's kernel, but gradelib re-ran your cells in a "
            f"separate, fresh Python process and called {call.function}() there, at test points "
            f"chosen by the grader. There it is not right:\n{detail}\n"
            "Only what your function returns counts: nothing else in the notebook can change this check."
        )

    def _unverifiable(self, grade_id: str, call: GradeCall, detail: str) -> str:
        self.report.unverifiable.append(grade_id)
        self.review(grade_id, f"could not be verified: {detail}")
        self.log.warning("%s: %s could not be verified outside the kernel: %s", self.where, grade_id, detail)
        return (
            f"gradelib could not re-check {call.function}() outside the notebook's kernel: {detail}. "
            "A result that holds only inside the kernel cannot be trusted, so this test scores 0 "
            "until an instructor has looked at it."
        )

    def conclude_by_hand(self, cell: Any, planned: Planned, run: isolate.Run, student: str, points: float) -> None:
        """The by-hand cell's score and feedback, from the values that came back and the numbers of the
        student being graded (regenerated here, never read from the notebook)."""
        outcome = mark_hand_cell(planned.hand, student, run.probes.get(planned.hand_probe), run.reason, points)
        cell.outputs = outcome.outputs
        (self.report.verified if outcome.marked else self.report.unverifiable).append(planned.grade_id)
        if not outcome.marked:
            self.review(planned.grade_id, f"could not be marked: {outcome.reason}")
            self.log.warning("%s: %s could not be marked: %s", self.where, planned.grade_id, outcome.reason)
        self.report.verdicts.append(outcome.verdict(planned.grade_id))


def _first_failure(planned: Planned, run: isolate.Run) -> tuple[GradeCall, Result | str] | None:
    """Why a cell the kernel passed does not hold outside it: the first wrong answer (its Result), else the first
    probe without one (why, in words); None when every probe held."""
    failure: tuple[GradeCall, Result | str] | None = None
    for probe in planned.probes:
        call = probe.call
        try:
            result = verdict.judge(
                call.exercise, probe.seed, run.probes.get(probe.id), f"{call.function}()", probe.reveal
            )
        except verdict.Unverifiable as why:
            failure = failure or (call, run.reason or str(why))
            continue
        if not result.passed and (failure is None or isinstance(failure[1], str)):
            failure = (call, result)
    return failure


def verdicts_of(planned: Planned, run: isolate.Run) -> list[Verdict]:
    """One Verdict per function the test cell grades, with the preference of the module's docstring."""
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
            v.mistakes, v.sentences = list(wrong[0].mistakes), sentences(wrong[0])
            v.parameters = {k: list(labels) for k, labels in wrong[0].per_parameter.items()}
        elif missing:
            v.judged, v.reason = False, missing[0]
        else:
            v.passed = planned.kernel_passed
            if not planned.kernel_passed:
                v.reason = KERNEL_ONLY
        out.append(v)
    return out


def sentences(result: Result) -> list[str]:
    """The sentence of each of result's mistakes (result.mistakes: their names, each once), in the same order.

    Each Mistake record carries its own sentence; two findings with the same name give that name both sentences.
    """
    return [" ".join(m.sentence for m in result.found if m.name == name) for name in result.mistakes]
