"""The misconception report: what the class got wrong, from the verdicts kept at grading time.

  store     the store of verdicts beside the gradebook: each student's mistakes, as the verifier judged them
  tally     the store read back and counted: per exercise, the mistakes, the passes, what could not be judged
  page      the tally as one self-contained HTML page and a CSV
  cli       ``python -m gradelib.grading.report [ASSIGNMENT]`` (this package's __main__): the page written
  feedback  the students' feedback files' exporter (nbgrader's GenerateFeedback): maths shown offline

Nothing is imported here: ``python -m gradelib.grading.report`` runs __main__.py, and the grader's other
processes import only the modules they name.
"""
