"""Grading a class with nbgrader so that it cannot be fooled and never loses a submission.

The modules, one idea each:
  course        configure(c): the course's nbgrader pipeline, and the checks before a run
  sandbox       the bubblewrap box that every process running student code is started in
  kernel        a Jupyter kernel inside the box, talking to the grader through files
  gradebook     checking the gradebook and backing it up before a run
  sanitize      RepairCells (preprocessor): DeduplicateIds that survives edited or duplicated cells
  overwrite     OverwriteReleasedCells (preprocessor): OverwriteCells, silent about the hidden tests it puts back
  execute       RobustExecute (preprocessor): Execute that survives a dying or stuck kernel, in the box
  verify        VerifyGradelib (preprocessor): re-checking gradelib tests outside the kernel
  flag          FlagForReview (preprocessor): a manual look where VerifyGradelib found a reason
  verdicts      the store of verdicts beside the gradebook: each student's mistakes, for the report
  record        RecordVerdicts (preprocessor): the verifier's verdicts into that store
  report        ``python -m gradelib.grading.report [ASSIGNMENT]``: what the class got wrong, as HTML and CSV
  instructor    the instructor's cells, as the gradebook keeps them
  cells         reading cells as code: grade calls, names, the given code a function needs
  outputs       error outputs that nbgrader scores as failed
  isolate       running the student's cells in a fresh, limited process (harness.py runs there)
  verdict       judging the plain numbers that came back, in the grader's process
  tamper        a static scan of the student's cells for kernel tricks
  classgrade    ``python -m gradelib.grading.classgrade ASSIGNMENT``: the whole class, on all cores
  proof         before the first student: the instructor's solution graded in the same box, or the run stops
  commands      what nbgrader's commands need from the process: the venv's tools, a stamped gradebook, no noise
  exchange      the course's collect and release_feedback (nbgrader exchange plugins): only a student's own
                submission is collected, feedback is released only under its owner's secret
  collect_record  what collect refused, kept beside the gradebook for the summary and the report

Names are imported lazily, so that the verifier's process (which imports
nothing of nbgrader) starts fast.
"""

_LAZY = {
    "VerifyGradelib": "verify",
    "FlagForReview": "flag",
    "RobustExecute": "execute",
    "RepairCells": "sanitize",
    "RecordVerdicts": "record",
    "OverwriteReleasedCells": "overwrite",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
