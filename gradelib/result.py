"""What check() returns: a verdict, the mistakes found (each a name with its sentence), and the feedback in words."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """One mistake a judge found: its name, the sentence that explains it, and the parameters it concerns.

    Kept together from the judge to the verdict store, so that nothing has to pair a sentence with its name later.
    """

    name: str  # the short label the report counts: "missing_relu_derivative", "wrong_value", "exception"
    sentence: str  # what the learner reads about it (with an example point when the feedback may reveal one)
    parameters: tuple[str, ...] = ()  # the parameters (or a piece's keys) it explains; () when it names none


class Result:
    """.passed, .found (the Mistake records), .remarks (sentences naming no mistake), .notes (asides).

    .messages, .mistakes and .per_parameter are read from .found (and .remarks).
    str() is plain text, _repr_html_ a coloured box for JupyterLab, and
    assert_passed() raises AssertionError with the same text, for nbgrader.
    """

    def __init__(
        self,
        exercise: str,
        passed: bool,
        found: Iterable[Mistake] = (),
        notes: Iterable[str] = (),
        remarks: Iterable[str] = (),
    ) -> None:
        self.exercise = exercise
        self.passed = bool(passed)
        self.found = tuple(found)
        self.notes = list(notes)
        # the praise of a pass, why nothing was checked, or what a failing gradient inherits: said before the mistakes
        self.remarks = tuple(remarks)

    @classmethod
    def praise(cls, exercise: str, sentence: str, notes: Iterable[str] = ()) -> Result:
        """A pass, in one sentence."""
        return cls(exercise, True, (), notes, (sentence,))

    @classmethod
    def wrong(
        cls, exercise: str, name: str, sentence: str, notes: Iterable[str] = (), parameters: Iterable[str] = ()
    ) -> Result:
        """A failure with one mistake."""
        return cls(exercise, False, (Mistake(name, sentence, tuple(parameters)),), notes)

    @property
    def messages(self) -> list[str]:
        """The sentences for the learner, in order: the remarks, then one per mistake found."""
        return list(self.remarks) + [m.sentence for m in self.found]

    @property
    def mistakes(self) -> list[str]:
        """The mistakes' names, each once, in the order found."""
        return list(dict.fromkeys(m.name for m in self.found))

    @property
    def per_parameter(self) -> dict[str, list[str]]:
        """parameter -> the names of the mistakes that concern it, in the order found."""
        out: dict[str, list[str]] = {}
        for m in self.found:
            for k in m.parameters:
                out.setdefault(k, []).append(m.name)
        return out

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"{self.exercise}: " + ("passed" if self.passed else "not yet right")
        lines = [head] + [f"- {m}" for m in self.messages] + [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__  # the text output of a self-check cell: no addresses, so nbval can compare it

    def _repr_html_(self) -> str:
        colour, mark = ("#1b7f3b", "&#10004;") if self.passed else ("#b3261e", "&#10008;")
        items = "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
        notes = "".join(f"<li><i>{html.escape(n)}</i></li>" for n in self.notes)
        verdict = "passed" if self.passed else "not yet right"
        return (
            f'<div class="gradelib-result" style="border-left:4px solid {colour};padding:4px 10px">'
            f'<b style="color:{colour}">{mark} {html.escape(self.exercise)}: {verdict}</b>'
            f'<ul style="margin:4px 0">{items}{notes}</ul></div>'
        )

    def assert_passed(self) -> Result:
        """Raise AssertionError carrying the feedback unless the check passed; return self if it did."""
        if not self.passed:
            raise AssertionError(str(self))
        return self
