"""Counting the class's mistakes from the store of verdicts: the figures of the misconception report.

``tally(records, submitted)`` turns the SubmissionRecords of report/store.py into
typed figures that page.py draws: per exercise, how many passed and each
mistake label with its sentence and share, and apart from them, how many did
not answer or were not judged; the mistakes that travel together (the same
students make both, in different exercises); and the submissions an
instructor must look at (refused at collect, not graded, not judged, flagged,
or with no verdicts kept), each submission once.

Shares are of the graded submissions of an assignment: those with a verdict
for the exercise.  A submission that could not be graded, or whose re-run by
the verifier stopped (its process died), is listed, not counted as a mistake.
Everything is sorted, so the same store gives the same page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from ..collect_record import KIND_TEXT, REFUSED, Finding
from ..judge.labels import title
from .store import SubmissionRecord

# labels that say the function was not attempted: shown apart from the mistakes, and two of them together teach nothing
NOT_ATTEMPTED = frozenset({"not_implemented", "not_defined"})
MIN_TOGETHER = 2  # students who must share two mistakes before they are said to travel together
NOT_JUDGED = "not_judged"  # the pseudo-label of a failed function whose answers could not be obtained
UNNAMED = "unnamed"  # the pseudo-label of a failed function in which gradelib named no mistake
GAPS = NOT_ATTEMPTED | {NOT_JUDGED, UNNAMED}  # shown apart from the mistakes, never ranked with them
NO_RECORD = (
    "no verdicts were kept for this submission: it was not graded yet with the course's configuration, "
    "or nbgrader could not grade it (see its log)"
)


@dataclass
class Mistake:
    """One mistake label in one exercise (or, among an exercise's gaps, one reason it has no mistake named)."""

    label: str
    title: str  # the label in words a teacher reads (labels.py)
    sentence: str  # the sentence most of these students got, in the notes' words
    students: list[str]  # who made it (shown only with --names)
    share: float  # of the exercise's graded submissions
    parameters: dict[str, int] = field(default_factory=dict)  # parameter -> students it concerned


@dataclass
class Exercise:
    """One graded exercise of one assignment.  Every graded student is in exactly one of passed, mistaken,
    unanswered and unjudged, so the four add up to graded."""

    assignment: str
    exercise: str
    functions: list[str]
    graded: list[str]  # students with a verdict for it
    passed: list[str]
    mistakes: list[Mistake]  # the misconceptions gradelib named, largest first
    gaps: list[Mistake] = field(default_factory=list)  # not answered, not judged, none named: apart, never ranked
    mistaken: list[str] = field(default_factory=list)  # at least one mistake named
    unanswered: list[str] = field(default_factory=list)  # no mistake named, and a function not written or defined
    unjudged: list[str] = field(default_factory=list)  # the rest: failed, with no mistake named

    @property
    def key(self) -> tuple[str, str]:
        return (self.assignment, self.exercise)


@dataclass
class Together:
    """Two mistakes, in different exercises, made by the same students."""

    first: tuple[str, str, str]  # (assignment, exercise, label)
    second: tuple[str, str, str]
    students: list[str]  # made both
    first_count: int  # made the first (so: students / first_count of them made the second too)
    second_count: int


REFUSED_AT_COLLECT = "refused at collect"  # Attention kinds of the exchange's findings (collect_record.py)
CORRECTED_AT_COLLECT = "re-dated at collect"
NOT_GRADED, NOT_JUDGED_KIND, FLAGGED, NO_VERDICTS = "not graded", "graded but not judged", "flagged", "no verdicts"
KINDS = (REFUSED_AT_COLLECT, NOT_GRADED, NOT_JUDGED_KIND, FLAGGED, NO_VERDICTS, CORRECTED_AT_COLLECT)  # by weight


@dataclass
class Attention:
    """Submissions an instructor should look at, grouped by their reasons: each submission is in one only."""

    assignment: str
    kind: str  # the weightiest of its reasons' kinds (KINDS)
    reasons: list[str]  # in words that name no student, for the instructor
    students: list[str]
    who: list[str] = field(default_factory=list)  # with --names, in place of students: "eve in ada's name"

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class Uncounted:
    """Submissions of an assignment that no exercise counts, and why."""

    why: str  # short words: "could not be graded"
    students: list[str]


@dataclass
class Tally:
    assignments: list[str]
    submissions: dict[str, int]  # assignment -> submissions (graded or not)
    exercises: list[Exercise]
    together: list[Together]
    attention: list[Attention]
    skipped: list[str] = field(default_factory=list)  # rows of the store that could not be read
    counted: dict[str, list[str]] = field(default_factory=dict)  # assignment -> submissions its exercises count
    uncounted: dict[str, list[Uncounted]] = field(default_factory=dict)  # assignment -> the others, by why


def tally(
    records: Sequence[SubmissionRecord],
    submitted: dict[str, Any] | None = None,
    skipped: Sequence[Any] = (),
    collect_findings: Sequence[Finding] = (),
) -> Tally:
    """The figures of the report from SubmissionRecords; submitted: {assignment: [students who handed in]};
    collect_findings: what the course's collect refused or re-dated (collect_record.py), to look at too."""
    submitted = submitted or {}
    assignments = sorted({r.assignment for r in records} | set(submitted))
    exercises, made = _exercises(records)
    everyone = {a: set(submitted.get(a, ())) | {r.student for r in records if r.assignment == a} for a in assignments}
    counted = {a: sorted({s for e in exercises if e.assignment == a for s in e.graded}) for a in assignments}
    return Tally(
        assignments,
        {a: len(everyone[a]) for a in assignments},
        exercises,
        _together(made),
        _attention(records, submitted, collect_findings),
        list(skipped),
        counted,
        {a: _uncounted(records, a, everyone[a] - set(counted[a])) for a in assignments},
    )


def _counted_verdicts(nb):
    """The verdicts the exercises count: all but those a stopped re-run left without an answer."""
    return [v for v in nb.verdicts if v.judged or not nb.stopped]


def _labels(v):
    """(labels, sentences) of a failed verdict: gradelib's mistakes, or the pseudo-label saying why there are none."""
    if not v.judged:
        return [NOT_JUDGED], [v.reason]
    if not v.mistakes:
        return [UNNAMED], [v.reason or "it failed, and gradelib named no mistake"]
    return list(v.mistakes), list(v.sentences)


@dataclass
class _Counts:
    """What _exercises counts over the records, each keyed by (assignment, exercise), or by ((a, exercise), label)
    for a label."""

    order: list[Any] = field(default_factory=list)  # the keys, in the order they come in their notebooks
    functions: dict[Any, list[str]] = field(default_factory=dict)  # key -> the functions graded, in order
    graded: dict[Any, set[str]] = field(default_factory=dict)  # key -> students with a verdict
    passed: dict[Any, set[str]] = field(default_factory=dict)  # key -> students whose every verdict passed
    labels: dict[Any, set[str]] = field(default_factory=dict)  # (key, label) -> students
    sentences: dict[Any, Counter] = field(default_factory=dict)  # (key, label) -> how often each sentence was said
    parameters: dict[Any, dict[str, set[str]]] = field(default_factory=dict)  # (key, label) -> parameter -> students
    made: dict[str, set[Any]] = field(default_factory=dict)  # student -> {(a, exercise, label)}


def _exercises(records):
    """The Exercises, in the order they come in their notebooks, and {student: {(a, exercise, label)}}."""
    counts = _Counts()
    for r in records:
        for nb in r.notebooks:
            by_exercise: dict[Any, Any] = {}
            for v in _counted_verdicts(nb):
                key = (r.assignment, v.exercise)
                if key not in counts.functions:
                    counts.order.append(key)
                    counts.functions[key] = []
                if v.function not in counts.functions[key]:
                    counts.functions[key].append(v.function)
                by_exercise.setdefault(key, []).append(v)
            for key, verdicts in by_exercise.items():
                counts.graded.setdefault(key, set()).add(r.student)
                if all(v.passed for v in verdicts):
                    counts.passed.setdefault(key, set()).add(r.student)
                else:
                    _count_failed(counts, key, r.student, [v for v in verdicts if not v.passed])
    return [_exercise(counts, key) for key in counts.order], counts.made


def _count_failed(counts: _Counts, key: Any, student: str, failed: list[Any]) -> None:
    """One student's failed verdicts of one exercise: each label (a mistake or a gap) with its sentence and the
    parameters it concerned."""
    for v in failed:
        found, words = _labels(v)
        for i, label in enumerate(found):
            counts.labels.setdefault((key, label), set()).add(student)
            sentence = words[i] if i < len(words) else ""
            counts.sentences.setdefault((key, label), Counter())[sentence] += 1
            for p, concerned in v.parameters.items():
                if label in concerned:
                    counts.parameters.setdefault((key, label), {}).setdefault(p, set()).add(student)
            counts.made.setdefault(student, set()).add(key + (label,))


def _exercise(counts: _Counts, key: Any) -> Exercise:
    """The Exercise of key from the counts: its mistakes largest first, its gaps apart, each student placed."""
    n = len(counts.graded.get(key, ()))
    found = [
        Mistake(
            label,
            title(label, key[1]),
            _most_common(counts.sentences[(k, label)]),
            sorted(students),
            len(students) / n if n else 0.0,
            {p: len(s) for p, s in counts.parameters.get((k, label), {}).items()},
        )
        for (k, label), students in counts.labels.items()
        if k == key
    ]
    found.sort(key=lambda m: (-len(m.students), m.title, m.label))
    ex = Exercise(
        key[0],
        key[1],
        counts.functions[key],
        sorted(counts.graded.get(key, ())),
        sorted(counts.passed.get(key, ())),
        [m for m in found if m.label not in GAPS],
        [m for m in found if m.label in GAPS],
    )
    _outcomes(ex)
    return ex


def _outcomes(ex):
    """Put each graded student who did not pass in one of mistaken, unanswered and unjudged."""
    mistaken = {s for m in ex.mistakes for s in m.students}
    unanswered = {s for m in ex.gaps if m.label in NOT_ATTEMPTED for s in m.students} - mistaken
    ex.mistaken, ex.unanswered = sorted(mistaken), sorted(unanswered)
    ex.unjudged = sorted(set(ex.graded) - set(ex.passed) - mistaken - unanswered)


def _most_common(counter):
    """The sentence most students got; of equals, the first in alphabetical order (the page is deterministic)."""
    return min(counter.items(), key=lambda item: (-item[1], item[0]))[0] if counter else ""


def _together(made):
    """Pairs of mistakes in different exercises that at least MIN_TOGETHER students made both of.

    Unanswered and unjudged functions are left out: two of them together say nothing about a misconception.
    """
    pairs: dict[Any, Any] = {}
    single: Counter[Any] = Counter()
    for student, keys in made.items():
        keys = sorted(k for k in keys if k[2] not in GAPS)
        single.update(keys)
        for a, b in combinations(keys, 2):
            if a[:2] != b[:2]:
                pairs.setdefault((a, b), []).append(student)
    found = [Together(a, b, sorted(s), single[a], single[b]) for (a, b), s in pairs.items() if len(s) >= MIN_TOGETHER]
    found.sort(key=lambda t: (-len(t.students), t.first, t.second))
    return found


def stopped_reason(nb: Any) -> str:
    """What the instructor is told of a notebook whose re-run stopped: what happened, and what it cost."""
    left = [v for v in nb.verdicts if not v.judged]
    cost = (
        "None of its functions could be judged"
        if len(left) == len(nb.verdicts)
        else f"{len(left)} of its {len(nb.verdicts)} graded functions could not be judged"
    )
    return f"{cost} (they are not counted in the exercises). When gradelib re-ran the notebook, {nb.stopped}"


def _reasons(r):
    """[(kind, reason)] of one submission's record, in the instructor's words."""
    found = []
    for nb in r.notebooks:
        if nb.status != "graded":
            found.append((NOT_GRADED, nb.reason or nb.status))
        if nb.stopped:
            found.append((NOT_JUDGED_KIND, stopped_reason(nb)))
        reasons = [reason for rs in nb.review.values() for reason in rs] + list(nb.flags)
        # a stopped re-run also left a note on each cell it could not answer (addressed to the student, and
        # saying the same): the one reason above replaces them
        found += [(FLAGGED, reason) for reason in reasons if not (nb.stopped and nb.stopped in reason)]
    return list(dict.fromkeys(found))


def _attention(records, submitted, collect_findings=()):
    """Refused at collect, not graded, not judged, flagged, handed in without any verdict kept, re-dated at
    collect: one entry per submission, submissions with the same reasons together, sorted."""
    groups: dict[Any, Any] = {}
    who: dict[Any, Any] = {}
    seen: dict[Any, Any] = {}
    for r in records:
        seen.setdefault(r.assignment, set()).add(r.student)
        found = _reasons(r)
        if found:
            groups.setdefault((r.assignment, tuple(found)), set()).add(r.student)
    for a, students in submitted.items():
        for s in students:
            if s not in seen.get(a, set()):
                groups.setdefault((a, ((NO_VERDICTS, NO_RECORD),)), set()).add(s)
    for f in collect_findings:
        # a forgery first: the student it names may have been graded on someone else's work before
        key = (
            f.assignment,
            ((REFUSED_AT_COLLECT if f.action == REFUSED else CORRECTED_AT_COLLECT, KIND_TEXT[f.kind]),),
        )
        groups.setdefault(key, set()).add(f.named or f.owner)
        who.setdefault(key, set()).add(f.who)
    out = []
    for key, s in groups.items():
        found = sorted(key[1], key=lambda kr: KINDS.index(kr[0]))  # the weightiest first; else in their order
        out.append(Attention(key[0], found[0][0], [reason for _, reason in found], sorted(s), sorted(who.get(key, ()))))
    out.sort(key=lambda x: (x.assignment, KINDS.index(x.kind), -len(x.students), x.reasons))
    return out


def _uncounted(records, assignment, students):
    """The submissions of assignment that no exercise counts, grouped by why."""
    records = {r.student: r for r in records if r.assignment == assignment}
    groups: dict[Any, Any] = {}
    for s in students:
        r = records.get(s)
        if r is None:
            why = "had no verdicts kept"
        elif r.status != "graded":
            why = "could not be graded" if r.status == "failed" else "handed in no notebook"
        elif any(nb.stopped for nb in r.notebooks):
            why = "could not be judged (gradelib's re-run of the notebook stopped)"
        else:
            why = "had no graded function with a verdict"
        groups.setdefault(why, []).append(s)
    return [Uncounted(why, sorted(s)) for why, s in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))]


def find(t: Tally, assignment: str, exercise: str) -> Exercise | None:
    """The Exercise of that name, or None."""
    return next((e for e in t.exercises if e.key == (assignment, exercise)), None)
