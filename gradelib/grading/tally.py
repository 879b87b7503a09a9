"""Counting the class's mistakes from the store of verdicts: the figures of the misconception report.

``tally(records, submitted)`` turns the SubmissionRecords of verdicts.py into
typed figures that page.py draws: per exercise, how many passed and each
mistake label with its sentence and share; the mistakes that travel together
(the same students make both, in different exercises); and the submissions an
instructor must look at (refused at collect, not graded, flagged, or with no
verdicts kept).

Shares are of the graded submissions of an assignment: those with a verdict
for the exercise.  A submission that could not be graded is listed, not
counted as a mistake.  Everything is sorted, so the same store gives the same
page.
"""
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Dict, List, Optional, Sequence, Tuple

from .collect_record import KIND_TEXT, REFUSED, Finding

# labels that say the function was not attempted: shown in the bars, but two of them together teach nothing
NOT_ATTEMPTED = frozenset({"not_implemented", "not_defined"})
MIN_TOGETHER = 2      # students who must share two mistakes before they are said to travel together
NOT_JUDGED = "not_judged"   # the pseudo-label of a failed function whose answers could not be obtained
NO_RECORD = ("no verdicts were kept for this submission: it was not graded yet with the course's configuration, "
             "or nbgrader could not grade it (see its log)")


@dataclass
class Mistake:
    """One mistake label in one exercise."""
    label: str
    sentence: str                  # the sentence most of these students got, in the notes' words
    students: List[str]            # who made it (shown only with --names)
    share: float                   # of the exercise's graded submissions
    parameters: Dict[str, int] = field(default_factory=dict)   # parameter -> students it concerned


@dataclass
class Exercise:
    """One graded exercise of one assignment."""
    assignment: str
    exercise: str
    functions: List[str]
    graded: List[str]              # students with a verdict for it
    passed: List[str]
    mistakes: List[Mistake]        # largest first

    @property
    def key(self):
        return (self.assignment, self.exercise)


@dataclass
class Together:
    """Two mistakes, in different exercises, made by the same students."""
    first: Tuple[str, str, str]    # (assignment, exercise, label)
    second: Tuple[str, str, str]
    students: List[str]            # made both
    first_count: int               # made the first (so: students / first_count of them made the second too)
    second_count: int


REFUSED_AT_COLLECT = "refused at collect"       # Attention kinds of the exchange's findings (collect_record.py)
CORRECTED_AT_COLLECT = "re-dated at collect"


@dataclass
class Attention:
    """Submissions an instructor should look at, grouped by the reason."""
    assignment: str
    kind: str                      # REFUSED_AT_COLLECT, "not graded", "flagged", "no verdicts", CORRECTED_AT_COLLECT
    reason: str                    # in words that name no student
    students: List[str]
    who: List[str] = field(default_factory=list)   # with --names, in place of students: "eve in ada's name"


@dataclass
class Tally:
    assignments: List[str]
    submissions: Dict[str, int]    # assignment -> submissions (graded or not)
    exercises: List[Exercise]
    together: List[Together]
    attention: List[Attention]
    skipped: List[str] = field(default_factory=list)   # rows of the store that could not be read


def tally(records, submitted=None, skipped=(), collect_findings: Sequence[Finding] = ()):
    """The figures of the report from SubmissionRecords; submitted: {assignment: [students who handed in]};
    collect_findings: what the course's collect refused or re-dated (collect_record.py), to look at too."""
    submitted = submitted or {}
    assignments = sorted({r.assignment for r in records} | set(submitted))
    exercises, made = _exercises(records)
    counts = {}
    for r in records:
        counts[r.assignment] = counts.get(r.assignment, 0) + 1
    for a, students in submitted.items():
        counts[a] = len(set(students) | {r.student for r in records if r.assignment == a})
    return Tally(assignments, {a: counts.get(a, 0) for a in assignments}, exercises,
                 _together(made), _attention(records, submitted, collect_findings), list(skipped))


def _exercises(records):
    """The Exercises, in the order they come in their notebooks, and {student: {(a, exercise, label)}}."""
    order, functions, graded, passed = [], {}, {}, {}
    labels, sentences, parameters = {}, {}, {}
    made = {}
    for r in records:
        for nb in r.notebooks:
            by_exercise = {}
            for v in nb.verdicts:
                key = (r.assignment, v.exercise)
                if key not in functions:
                    order.append(key)
                    functions[key] = []
                if v.function not in functions[key]:
                    functions[key].append(v.function)
                by_exercise.setdefault(key, []).append(v)
            for key, verdicts in by_exercise.items():
                graded.setdefault(key, set()).add(r.student)
                if all(v.passed for v in verdicts):
                    passed.setdefault(key, set()).add(r.student)
                    continue
                for v in verdicts:
                    found = list(v.mistakes) if v.judged else [NOT_JUDGED]
                    words = list(v.sentences) if v.judged else [v.reason]
                    for i, label in enumerate(found):
                        labels.setdefault((key, label), set()).add(r.student)
                        sentence = words[i] if i < len(words) else ""
                        sentences.setdefault((key, label), Counter())[sentence] += 1
                        for p, concerned in v.parameters.items():
                            if label in concerned:
                                parameters.setdefault((key, label), {}).setdefault(p, set()).add(r.student)
                        made.setdefault(r.student, set()).add(key + (label,))
    out = []
    for key in order:
        n = len(graded.get(key, ()))
        mistakes = []
        for (k, label), students in labels.items():
            if k != key:
                continue
            mistakes.append(Mistake(label, _most_common(sentences[(k, label)]), sorted(students),
                                    len(students) / n if n else 0.0,
                                    {p: len(s) for p, s in parameters.get((k, label), {}).items()}))
        mistakes.sort(key=lambda m: (-len(m.students), m.label))
        out.append(Exercise(key[0], key[1], functions[key], sorted(graded.get(key, ())),
                            sorted(passed.get(key, ())), mistakes))
    return out, made


def _most_common(counter):
    """The sentence most students got; of equals, the first in alphabetical order (the page is deterministic)."""
    return min(counter.items(), key=lambda item: (-item[1], item[0]))[0] if counter else ""


def _together(made):
    """Pairs of mistakes in different exercises that at least MIN_TOGETHER students made both of.

    Unanswered and unjudged functions are left out: two of them together say nothing about a misconception.
    """
    pairs, single = {}, Counter()
    for student, keys in made.items():
        keys = sorted(k for k in keys if k[2] not in NOT_ATTEMPTED and k[2] != NOT_JUDGED)
        single.update(keys)
        for a, b in combinations(keys, 2):
            if a[:2] != b[:2]:
                pairs.setdefault((a, b), []).append(student)
    found = [Together(a, b, sorted(s), single[a], single[b]) for (a, b), s in pairs.items()
             if len(s) >= MIN_TOGETHER]
    found.sort(key=lambda t: (-len(t.students), t.first, t.second))
    return found


def _attention(records, submitted, collect_findings=()):
    """Refused at collect, not graded, flagged, handed in without any verdict kept, and re-dated at collect:
    grouped by reason, sorted."""
    groups = {}
    who = {}

    def add(assignment, kind, reason, student):
        groups.setdefault((assignment, kind, reason), set()).add(student)

    seen = {}
    for r in records:
        seen.setdefault(r.assignment, set()).add(r.student)
        for nb in r.notebooks:
            if nb.status != "graded":
                add(r.assignment, "not graded", nb.reason or nb.status, r.student)
            reasons = [reason for found in nb.review.values() for reason in found] + list(nb.flags)
            for reason in dict.fromkeys(reasons):
                add(r.assignment, "flagged", reason, r.student)
    for a, students in submitted.items():
        for s in students:
            if s not in seen.get(a, set()):
                add(a, "no verdicts", NO_RECORD, s)
    for f in collect_findings:
        # a forgery first: the student it names may have been graded on someone else's work before
        key = (f.assignment, REFUSED_AT_COLLECT if f.action == REFUSED else CORRECTED_AT_COLLECT, KIND_TEXT[f.kind])
        groups.setdefault(key, set()).add(f.named or f.owner)
        who.setdefault(key, set()).add(f.who)
    kinds = {REFUSED_AT_COLLECT: 0, "not graded": 1, "flagged": 2, "no verdicts": 3, CORRECTED_AT_COLLECT: 4}
    out = [Attention(a, kind, reason, sorted(s), sorted(who.get((a, kind, reason), ())))
           for (a, kind, reason), s in groups.items()]
    out.sort(key=lambda x: (x.assignment, kinds[x.kind], -len(x.students), x.reason))
    return out


def find(t: Tally, assignment, exercise) -> Optional[Exercise]:
    """The Exercise of that name, or None."""
    return next((e for e in t.exercises if e.key == (assignment, exercise)), None)
