"""By hand: a pencil-and-paper companion that checks a hand calculation step by step (issue 14).

    from gradelib import byhand
    p = byhand.problem("relu_chain", "ada")         # numbers of one's own, the same every time for the same id
    byhand.steps("relu_chain")                       # the steps in the notes' order: z1, Y1, z2, Y2, Err2, ...
    byhand.graded_steps("softmax_223")               # the keys graded by default (25 of 46); steps= chooses others
    byhand.sheet("relu_chain", "ada").save("sheet.html")   # a printable sheet with a box per step
    byhand.check_by_hand("relu_chain", "ada", {"z1": 0.8, "Y1": 0.8})   # which step is wrong first, and why
    byhand.form("relu_chain", "ada")                 # the same as a form with a Check button
    byhand.tolerance(1.548)                          # how close a written value must be: max(0.005, 1%)

The modules, one idea each: personal (the problem made from an id), steps
(each network's steps and how each follows from the earlier ones, built from
gradelib.networks' topology), expr (a step's formula written once: it prints
and it computes), reading
(one typed value, and how close it must be), marking (error carried forward
and the words for the first wrong step), sheet (the printable HTML page),
form (the ipywidgets form), graded (the nbgrader task: my_id, grade_by_hand).
"""

from .form import form
from .graded import grade_by_hand, my_id
from .marking import Marking, StepMark, check_by_hand, mark
from .personal import PersonalProblem, problem
from .reading import tolerance
from .sheet import sheet
from .steps import DEFAULT_GRADED, Step, graded_steps, steps

__all__ = [
    "problem",
    "PersonalProblem",
    "steps",
    "Step",
    "mark",
    "Marking",
    "StepMark",
    "check_by_hand",
    "sheet",
    "form",
    "my_id",
    "grade_by_hand",
    "tolerance",
    "graded_steps",
    "DEFAULT_GRADED",
]
