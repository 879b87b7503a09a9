"""Judging a submission in the grader's process, from the student's cells and what came back from the box.

cells     reading cells as code: grade calls, names, the given code a function needs
tamper    a static scan of the student's cells for kernel tricks
verdict   judging the plain numbers that came back from the harness
hand      marking a by-hand cell (gradelib.byhand's marker, regenerated from the student id)
outputs   error outputs that nbgrader scores as failed
labels    the report's names for exercises and mistakes
"""
