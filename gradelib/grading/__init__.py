"""Grading a class with nbgrader so that it cannot be fooled and never loses a submission.

The sub-packages, one part of the grader each (their __init__ lists their modules):
  preprocess  the course's nbgrader preprocessors: RepairCells, OverwriteReleasedCells, RobustExecute,
              VerifyGradelib, FlagForReview, RecordVerdicts (and the instructor's cells they read)
  sandbox     the bubblewrap box, the kernel in it, the verifier's isolated process and its in-box harness
  judge       judging in the grader's process: cells read as code, the tamper scan, the verdict on the numbers
              that came back, the by-hand marking, error outputs, the report's labels
  report      the store of verdicts, its tally, the page, ``python -m gradelib.grading.report [ASSIGNMENT]``,
              and the students' feedback exporter
  lms         the grades for the LMS: ``python -m gradelib.grading.lms.export``, LTI AGS (``lms.ags``)

The orchestration, at this level (what the instructor and nbgrader name):
  course          configure(c) in nbgrader_config.py: the course's pipeline, and the checks before a run
  classgrade      ``python -m gradelib.grading.classgrade ASSIGNMENT``: the whole class, on all cores
  autograde       one submission through nbgrader's Autograde, as plain data (classgrade's workers, the proof)
  proof           before the first student: the instructor's solution graded in the same box, or the run stops
  gradebook       checking the gradebook and backing it up before a run
  commands        what nbgrader's commands need from the process: the venv's tools, a stamped gradebook, no noise
  exchange        the course's collect and release_feedback (nbgrader exchange plugins): only a student's own
                  submission is collected, feedback is released only under its owner's secret
  collect_record  what collect refused, kept beside the gradebook for the summary and the report

Nothing is imported here, so that importing any part (the in-box harness above all) imports nothing of
nbgrader; the preprocessors are named by their modules, e.g. gradelib.grading.preprocess.execute.RobustExecute.
"""
