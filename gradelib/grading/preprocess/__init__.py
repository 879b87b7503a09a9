"""The course's nbgrader preprocessors, in the order autograde runs them (course.configure puts them there).

  sanitize    RepairCells: DeduplicateIds that survives edited or duplicated cells
  overwrite   OverwriteReleasedCells: OverwriteCells, silent about the hidden tests it puts back
  execute     RobustExecute: Execute that survives a dying or stuck kernel, in the sandbox
  verify      VerifyGradelib: re-checking the gradelib tests outside the kernel, in a fresh process in the sandbox;
              its work is in probes (what to ask that process), integrity (deleted tests, edited locked cells,
              the tamper scan) and conclude (judging what came back into its Report)
  flag        FlagForReview: a manual look where VerifyGradelib found a reason
  record      RecordVerdicts: the verifier's verdicts into the store beside the gradebook (report.store)
  instructor  the instructor's cells, as the gradebook keeps them (sanitize and verify read them)

Nothing is imported here: each of these modules imports nbgrader, and importing this package must not.
"""
