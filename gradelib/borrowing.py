"""Noticing a softmax under check that asks gradelib for the answer.

The oracle refuses by itself inside a student's function (gradelib.oracle).
In the softmax exercise the answer is gradelib's own softmax, its log_softmax,
or the probabilities P5, P6, P7 of a forward pass: functions a student may
call anywhere else (the gradient exercises use the forward pass), so they do
not refuse.  Only while a softmax is being checked is calling them borrowing:
``watched(fn)`` runs fn with a profile hook, set in whichever thread runs it,
that notes any call of them as asking gradelib (the oracle's own flag), so
that check() gives the same verdict as for a borrowed numerical gradient.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from . import networks, oracle

ANSWERS = ("softmax", "log_softmax", "single_neuron", "relu_chain", "softmax_223")


def _answer_codes():
    return {getattr(networks, name).__code__ for name in ANSWERS}


def watched(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn, run so that a call of gradelib's softmax, log_softmax or a forward pass inside it counts as asking."""
    codes = _answer_codes()

    def run(*args):
        previous = sys.getprofile()
        if previous is not None and not callable(previous):
            # a profiler written in C (cProfile) is running: it cannot be handed back once replaced, so it is
            # left alone, and borrowing goes unnoticed while someone profiles
            return fn(*args)

        def hook(frame, event, arg):
            if event == "call" and frame.f_code in codes:
                oracle.GUARD.asked = True
            if previous is not None:  # a profile function of someone else's keeps seeing every event
                previous(frame, event, arg)

        sys.setprofile(hook)
        try:
            return fn(*args)
        finally:
            sys.setprofile(previous)

    return run
