"""The by-hand task as nbgrader grades it: one test cell, partial credit per step.

    MY_ID = byhand.my_id("your name")                                      # the id the numbers are made from
    gradelib.grade_by_hand("single_neuron", MY_ID, single_neuron_by_hand, points=4)
    gradelib.grade_by_hand("softmax_223", MY_ID, softmax_223_by_hand, points=5, steps="all")  # all 46 steps

The student's function returns their values from paper, ``{"z": 0.93, ...}``.
The test cell prints the marking and ends with the score, points · right/all
steps, as the cell's value: nbgrader reads a test cell's number as its partial
credit.  In the kernel the numbers come from the id the notebook names; when
the grader marks the cell (gradelib.grading.judge.hand) it regenerates them from
the id of the student it grades and replaces this cell's output, so neither a
classmate's answers nor a changed id can score.
"""

from __future__ import annotations

import os
from typing import Any

from .. import oracle
from ..student import Problem
from .marking import mark
from .personal import problem
from .reading import answers_of

# Set by the grader's harness to the student it grades (gradelib.grading.sandbox.harness.STUDENT_VARIABLE); on a
# JupyterHub a student's login is their nbgrader id, so my_id() finds it there too.
ID_VARIABLES = ("GRADELIB_STUDENT_ID", "JUPYTERHUB_USER")
POINT_DECIMALS = 2  # a partial score as nbgrader stores and shows it


def my_id(default: str) -> str:
    """The id whose numbers are yours: the graded student's, your hub login, else default (self-study)."""
    for name in ID_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return default


def score(marking: Any, points: float) -> float:
    """points · right/total steps, rounded as nbgrader shows a score."""
    return round(points * marking.right / marking.total, POINT_DECIMALS) if marking.total else 0.0


def headline(marking: Any, points: float) -> str:
    """The score in one sentence: the points, and the share of steps right that gives them."""
    return f"Score: {score(marking, points):g} of {points:g} points ({marking.right} of {marking.total} steps right)."


def unmarked(sentence: str, points: float, student_id: str) -> str:
    """The text of a by-hand cell whose values could not be read at all: no step is right."""
    return (
        f"By hand, on the numbers made for {student_id!r}: no step could be marked, "
        f"0 of {points:g} points.\n- {sentence}"
    )


class Score(float):
    """The cell's value: a plain number for nbgrader, shown as that number and nothing else."""

    def __repr__(self):
        return f"{float(self):g}"


def grade_by_hand(network: str, student_id: str, fn: Any, *, points: float, steps: Any = None) -> Score:
    """Print the step-by-step marking of fn()'s values and return the score (see the module docstring).

    steps: which steps are graded, the instructor's choice: a list of step keys, "all", or None for the
    network's default (gradelib.byhand.steps.DEFAULT_GRADED: 25 of the 2-2-3 net's 46, every step of the
    others).  The score is points · right / graded steps.  The grader reads this keyword from the test cell as
    written (a literal), so the sheet, the form and check_by_hand must be given the same choice.
    """
    if oracle.withdrawn():  # in the grader's harness the grader marks, not the cell
        return Score(0.0)
    try:
        personal = problem(network, student_id)
    except ValueError as err:
        print(unmarked(str(err), points, student_id))
        return Score(0.0)
    try:
        answers = answers_of(fn, "your_by_hand_function")
    except Problem as p:
        print(unmarked(p.sentence, points, student_id))
        return Score(0.0)
    marking = mark(personal, answers, steps=steps)
    if not marking.available:  # an instructor's steps= that names no step: said, and nothing scored
        print(unmarked(" ".join(marking.messages), points, student_id))
        return Score(0.0)
    print(headline(marking, points))
    print(marking)
    return Score(score(marking, points))
