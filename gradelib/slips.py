"""A slip: a known wrong rule, what a learner who follows it computes, and the words that name it.

One record for every catalogue of mistakes: the diagnosis of a whole gradient or update (gradelib.diagnose), the
staged pieces (gradelib.pieces), the checks of the learner's own tools (gradelib.gradcheck, gradelib.batch,
gradelib.matrix) and the by-hand marker (gradelib.byhand).  Catalogues differ only in what a slip is computed from,
the argument of ``gives``: a diagnosis case, the pieces' truth, the earlier values of a by-hand page, the polynomial
of a central difference.  The record is the same.

When several slips give the learner's numbers, the one with the lowest ``priority`` names the mistake: the order is
a field of each slip, never its place in a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Known = TypeVar("Known")  # what a catalogue's slips are computed from


@dataclass(frozen=True)
class Slip(Generic[Known]):
    """One known wrong rule."""

    name: str  # the mistake's short name, the key the class report counts ("delta2_no_relu_prime")
    gives: Callable[[Known], Any]  # what a learner who makes the slip computes, from what the check knows
    words: str | Callable[..., str]  # the sentence for the learner in the notes' symbols; a function of the
    #                                  numbers when it quotes them (its arguments are the catalogue's to choose)
    priority: int  # lower names the mistake first when several slips give the same numbers
    when: Callable[[Known], bool] | None = None  # named only where this holds: where the slip can be made at all
    #                                              (a softmax slip needs a softmax), or what the sentence states
    #                                              besides the numbers ("neuron 1 is off"); None: everywhere
    carries: tuple[str, ...] = ()  # keys computed from the slipped one: wrong the same way, or right if the
    #                                learner recomputed them on their own
    each_alone: bool = False  # the slip may be made in each parameter on its own, so a right parameter does not
    #                           refute it (a sign, a factor); False: one change to the whole computation
    counts_as: str | Callable[..., str] | None = None  # the mistake's name the report counts when it is not ``name``:
    #   one several slips share (two ways of returning the step), or one that depends on where the slip is made (a
    #   sign flipped everywhere, or in the hidden layer only), then a function of the same arguments as ``words``;
    #   None: ``name`` itself

    def applies(self, known: Known) -> bool:
        """Whether the slip may name the mistake here."""
        return self.when is None or bool(self.when(known))

    def sentence(self, *numbers: Any) -> str:
        """The words, with the numbers they quote when they quote any."""
        return self.words(*numbers) if callable(self.words) else self.words

    def counted(self, *numbers: Any) -> str:
        """The mistake's name the report counts, where ``words`` says it with these arguments."""
        if self.counts_as is None:
            return self.name
        return self.counts_as(*numbers) if callable(self.counts_as) else self.counts_as


def by_priority(slips: Iterable[Slip[Known]]) -> list[Slip[Known]]:
    """The slips in the order they name a mistake; a catalogue with two slips of one name or one priority is a bug."""
    ordered = sorted(slips, key=lambda s: s.priority)
    names = [s.name for s in ordered]
    priorities = [s.priority for s in ordered]
    for field, twice in (("name", _twice(names)), ("priority", _twice(priorities))):
        if twice:
            raise ValueError(f"two slips share the {field} {twice[0]!r}")
    return ordered


def _twice(values: list[Any]) -> list[Any]:
    return sorted({v for v in values if values.count(v) > 1}, key=str)
