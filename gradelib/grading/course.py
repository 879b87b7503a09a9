"""The course's nbgrader configuration, in one place: ``configure(c)`` in nbgrader_config.py.

It sets what plain nbgrader autograde needs to grade safely:
- the preprocessors (see gradelib.grading): RepairCells, RobustExecute (the
  kernel in the sandbox), VerifyGradelib (the verifier, in a sandbox too),
  FlagForReview, RecordVerdicts (the verdicts into the store beside the
  gradebook, for the misconception report);
- a pre-convert hook that runs before the first student is graded: it stops the
  run, with a sentence, if the sandbox cannot be made here (unless
  ``c.Sandbox.enabled = False``) or if the gradebook is damaged, and otherwise
  backs the gradebook up (gradebook.py); then, before the first student of each
  assignment, it grades the instructor's own solution in the same box and stops
  the run unless it scores full marks (proof.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from .gradebook import Damaged, before_grading
from .proof import GraderBroken, Proof, ProveGrader, require_proof
from .sandbox.box import Sandbox, Unavailable, require

# what the hook has checked in this process (nbgrader calls it once per student): the machine and the
# gradebook once, the grader once per assignment
_checked = False
_proved: set[str] = set()


def configure(c: Any) -> None:
    """Set the course's grading pipeline on nbgrader's config object c."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearOutput,
        IgnorePattern,
        LimitOutput,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    from .commands import prepare
    from .preprocess.execute import RobustExecute
    from .preprocess.flag import FlagForReview
    from .preprocess.overwrite import OverwriteReleasedCells
    from .preprocess.record import RecordVerdicts
    from .preprocess.sanitize import RepairCells
    from .preprocess.verify import VerifyGradelib

    prepare(c)  # the README's commands, venv not activated: nbgrader's tools on PATH, its gradebook stamped

    c.Autograde.sanitize_preprocessors = [
        ClearOutput,
        RepairCells,
        OverwriteKernelspec,
        OverwriteReleasedCells,
        CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        RobustExecute,
        VerifyGradelib,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        FlagForReview,
        AssignLatePenalties,
        CheckCellMetadata,
        RecordVerdicts,
    ]
    c.Autograde.pre_convert_hook = before_first_student
    from .report.feedback import FeedbackExporter

    c.GenerateFeedback.exporter_class = FeedbackExporter  # feedback shows its maths offline (MathJax inline)
    from .exchange import configure_exchange

    configure_exchange(c)  # collect only a student's own submission; feedback only to its owner (exchange.py)


def before_first_student(assignment: str = "", notebooks: Sequence[str] = (), **_: Any) -> None:
    """nbgrader's pre_convert_hook for autograde: the checks of ``check_before_grading``, once per run.

    nbgrader catches an Exception from a hook and goes on; SystemExit is not
    one, so the run ends here, before anything is written to the gradebook.
    """
    global _checked
    # nbgrader passes the assignment as typed (maybe a pattern); the submitted notebooks' folder names it
    assignment = os.path.basename(os.path.dirname(os.path.abspath(notebooks[0]))) if notebooks else assignment
    if _checked and assignment in _proved:
        return
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Application, Config

    app = Application.instance() if Application.initialized() else None
    config = app.config if app else Config()
    log = app.log.info if app else None
    try:
        if not _checked:
            check_before_grading(CourseDirectory(config=config).db_url, Sandbox(config=config), log=log)
            _checked = True
        if assignment not in _proved:
            prove_grader(config, assignment, log=log)
            _proved.add(assignment)
    except (Unavailable, Damaged, GraderBroken) as why:
        raise SystemExit(f"\n{why}\n") from None


def check_before_grading(db_url: str, settings: Sandbox, log: Callable[[str], Any] | None = None) -> str | None:
    """Before anyone is graded: a sandbox can be made (if enabled), the gradebook is whole; then back it up."""
    require(settings)
    copy = before_grading(db_url)
    if log is not None and copy:
        log(f"gradebook backed up to {copy}")
    return copy


def prove_grader(config: Any, assignment: str, log: Callable[[str], Any] | None = None) -> Proof | None:
    """Before the first student of assignment: the instructor's solution scores full marks (unless switched off)."""
    if not ProveGrader(config=config).enabled:
        return None
    return require_proof(config, assignment, Sandbox(config=config), log=log)
