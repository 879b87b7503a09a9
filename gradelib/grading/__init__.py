"""Grading a class with nbgrader so that it cannot be fooled and never loses a submission.

The modules, one idea each:
  preprocessor  VerifyGradelib and FlagForReview, the nbgrader preprocessors
  execute       RobustExecute: nbgrader's Execute that survives a dying or stuck kernel
  sanitize      RepairCells: nbgrader's DeduplicateIds that survives edited or duplicated cells
  isolate       running the student's cells in a fresh, limited process (harness.py runs there)
  verdict       judging the plain numbers that came back, in the grader's process
  tamper        a static scan of the student's cells for kernel tricks
  classgrade    ``python -m gradelib.grading.classgrade ASSIGNMENT``: the whole class, on all cores

Names are imported lazily, so that the verifier's process (which imports
nothing of nbgrader) starts fast.
"""

_LAZY = {"VerifyGradelib": "preprocessor", "FlagForReview": "preprocessor", "RobustExecute": "execute",
         "RepairCells": "sanitize"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
