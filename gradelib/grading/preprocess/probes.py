"""What VerifyGradelib asks the verifier's process: the test cells to re-check, their probes, the harness's steps.

The roles of a notebook's cells (test, given code, the student's) come from the
instructor's cells in the gradebook (instructor.py), never from the submission.
A test cell the kernel passed is probed at its own points and at points drawn
from a seed the student cannot know; one the kernel failed only at its own
points, to name the mistake; a by-hand cell is marked whatever the kernel said.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from nbgrader import utils

from ..judge import verdict
from ..judge.cells import GradeCall, HandCall, grade_calls, hand_calls, slice_given, to_python
from ..judge.outputs import error_output
from ..report.store import Verdict
from .instructor import InstructorCell

SECRET_SEED_BASE = 1_000_000  # grader-drawn seeds are far from the small seeds that notebooks use
NOT_JUDGED = "failed in the kernel; not judged outside it (VerifyGradelib.judge_failed is off)"


@dataclass(frozen=True)
class CellRoles:
    """A notebook's cells as the instructor's gradebook sees them: tests, given code, the student's answers."""

    cells: dict[str, InstructorCell]  # grade_id -> the instructor's cell

    def known(self, cell: Any) -> InstructorCell | None:
        return self.cells.get(cell.metadata.get("nbgrader", {}).get("grade_id"))

    def role(self, cell: Any) -> str | None:
        """'test', 'given', 'student' or None (not code), decided by the gradebook."""
        if cell.cell_type != "code":
            return None
        known = self.known(cell)
        if known is None or known.cell_type != "code":
            return "student"
        if known.is_test:
            return "test"
        return "given" if known.is_given else "student"

    def source_of(self, cell: Any) -> str:
        """The code to run: the instructor's own text for given and test cells, the student's otherwise."""
        known = self.known(cell)
        return known.source if known is not None and known.is_given else cell.source


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
    def hand_probe(self) -> str:
        """The id under which a by-hand task's values come back."""
        return f"{self.grade_id}#hand"


@dataclass(frozen=True)
class Planning:
    """How VerifyGradelib plans one notebook: what the course's settings and the student decide."""

    roles: CellRoles  # which cells are tests
    seed_of: Callable[[str, GradeCall], int]  # (grade_id, call) -> the grader's secret seed for it
    judge_failed: bool  # whether the cells the kernel failed are judged too (VerifyGradelib.judge_failed)
    log: Any  # the grading log (nbgrader's reading of a partial score warns in it too)
    where: str  # "student/assignment/notebook", for the log's lines


def plan(nb: Any, how: Planning) -> tuple[list[Planned], list[Verdict]]:
    """The test cells that call gradelib.grade (or mark a by-hand task), each with its probes; and the verdicts
    of the failed cells left unjudged (judge_failed off)."""
    planned, unjudged = [], []
    for i, cell in enumerate(nb.cells):
        if how.roles.role(cell) != "test":
            continue
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        hand = hand_calls(how.roles.cells[grade_id].source)
        if hand:  # marked step by step on the student's own numbers, whatever the kernel scored
            planned.append(Planned(i, grade_id, [], False, hand=hand[0]))
            continue
        calls = grade_calls(how.roles.cells[grade_id].source)
        if not calls:
            continue
        _tidy_tracebacks(cell, {c.exercise for c in calls})
        passed = _kernel_passed(cell, how)
        if not passed and not how.judge_failed:
            for exercise, function in dict.fromkeys((c.exercise, c.function) for c in calls):
                unjudged.append(Verdict(grade_id, exercise, function, False, False, judged=False, reason=NOT_JUDGED))
            continue
        planned.append(Planned(i, grade_id, _probes(grade_id, calls, passed, how.seed_of), passed))
    return planned, unjudged


def _probes(grade_id: str, calls: list[GradeCall], passed: bool, seed_of: Callable) -> list[Probe]:
    """A passed cell's calls at their own points and at the grader's; a failed cell's first call of each
    function at its own points only (it is judged only to name the mistake)."""
    probes: list[Probe] = []
    seen: set[tuple[str, str, int]] = set()
    seeds: tuple[tuple[int, bool], ...]
    for call in calls:
        if passed:
            seeds = ((call.seed, call.reveal), (seed_of(grade_id, call), False))
        elif (call.exercise, call.function) in {(e, f) for e, f, _ in seen}:
            continue
        else:
            seeds = ((call.seed, False),)
        for seed, reveal in seeds:
            if (call.exercise, call.function, seed) not in seen:
                seen.add((call.exercise, call.function, seed))
                probes.append(Probe(f"{grade_id}#{len(probes)}", call, seed, reveal))
    return probes


def _kernel_passed(cell: Any, how: Planning) -> bool:
    try:
        score, _ = utils.determine_grade(cell, how.log)
    except ValueError as err:  # not a gradable cell after all: nothing passed to verify
        how.log.warning("%s: cannot read the kernel's result of a test cell: %s", how.where, err)
        return False
    return bool(score)


def seed_key(secret: str, cells: dict[str, InstructorCell]) -> bytes:
    """The key of the grader's seeds: the course's secret, or a hash of the instructor's cells, which students
    never see (they include the solutions and hidden tests)."""
    if secret:
        return secret.encode()
    h = hashlib.sha256()
    for name in sorted(cells):
        h.update(name.encode() + b"\0" + cells[name].source.encode() + b"\0")
    return h.digest()


def secret_seed(key: bytes, info: dict, grade_id: str, call: GradeCall) -> int:
    """The grader's seed for one call of one student's test cell: the same each time it is graded."""
    text = "\0".join([info["student"], info["assignment"], info["notebook"], grade_id, call.exercise, call.function])
    digest = hashlib.sha256(key + b"\0" + text.encode()).digest()
    return SECRET_SEED_BASE + int.from_bytes(digest[:4], "big")


def harness_steps(nb: Any, planned: list[Planned], roles: CellRoles) -> list[dict]:
    """The harness's job: the student's cells, the given code they need, and the probes, in order."""
    last = planned[-1].index
    student, given = [], []
    for i, cell in enumerate(nb.cells[:last]):
        role = roles.role(cell)
        if role == "student":
            student.append((i, to_python(cell.source)))
        elif role == "given":
            given.append((i, to_python(roles.source_of(cell))))
    functions = {probe.call.function for p in planned for probe in p.probes}
    functions |= {p.hand.function for p in planned if p.hand is not None}
    chosen = slice_given([src for _, src in student], given, functions)
    cells = sorted(student + list(chosen.items()))
    at = {p.index: p for p in planned}
    steps, k = [], 0
    for i in range(last + 1):
        while k < len(cells) and cells[k][0] == i:
            steps.append({"cell": i, "source": cells[k][1]})
            k += 1
        if i in at:
            steps += _questions(at[i])
    return steps


def _questions(p: Planned) -> list[dict]:
    """The harness's steps that ask one test cell's questions: each probe's calls, or the by-hand task's."""
    steps = [
        dict(verdict.questions(probe.call.exercise, probe.seed), probe=probe.id, function=probe.call.function)
        for probe in p.probes
    ]
    if p.hand is not None:
        steps.append({"probe": p.hand_probe, "function": p.hand.function, "kind": "by_hand", "calls": [[]]})
    return steps


def _tidy_tracebacks(cell: Any, exercises: set[str]) -> None:
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
