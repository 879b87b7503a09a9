"""Small text helpers for feedback: a full stop, a fixed-point number, a clipped text, a list of names.

Feedback is read by a learner and stored in notebooks that nbval compares
strictly, so each of these is written once and behaves the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

ELLIPSIS = "…"


def full_stop(sentence: str) -> str:
    """The sentence with a full stop, so that another may follow it."""
    return sentence if sentence.rstrip().endswith((".", "?", "!")) else sentence.rstrip() + "."


def fixed(value: float, decimals: int) -> str:
    """value with this many decimals, and never "-0.000": a learner would wonder what the minus means."""
    text = f"{float(value):.{decimals}f}"
    return "0." + "0" * decimals if text == "-0." + "0" * decimals else text


def clip(text: str, limit: int) -> str:
    """text cut to limit characters, with an ellipsis if anything was cut."""
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def join_or(words: Iterable[str]) -> str:
    """'a', 'a or b', 'a, b or c': the words as the end of a sentence offering a choice."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def join_and(words: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c': the words as the end of a sentence naming them all."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
