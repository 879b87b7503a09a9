"""Your own gradient check: a learner's central difference and relative error, and a planted bug to find.

    central_difference(f, x)  ≈ f'(x) = (f(x + h) − f(x − h)) / 2h
    relative_error(a, b)      = |a − b| / max(|a|, |b|),   0 when a = b = 0   (CS231n's convention)

How gradelib tells what a learner's central_difference does without reading it: it calls it only on
polynomials, whose difference quotients are known exactly.  At x = 0 a quotient with step h gives

    f(t) = t  :  1 for a difference divided by its own width (2h/2h, or h/h one-sided); 2 if a central
                 difference is divided by h; h² for the slip (f(x+h) − f(x−h))/2*h; 2h without a division
    f(t) = t² :  0 for a central difference ((h² − h²)/2h); +h forward (h²/h); −h backward
    f(t) = t³ :  h² for central (2h³/2h) and one-sided (h³/h) alike, times the first number's factor

so these three numbers (the Scheme record) reveal the scheme, its normalisation and its step h.  A slip
(DIFFERENCE_SLIPS) is a wrong quotient a learner may write, evaluated with the step its answers at these
polynomials imply (read_step): it is the learner's when it gives their numbers at every case.  And
the step is judged against the two errors it trades: truncation ≈ h²·|f'''|/6, which grows with h,
and round-off ≈ eps·|f|/h, which grows as h shrinks.  At H_MAX = 1e-3 the first is about 1.7e-7
(f''' ~ 1), at H_MIN = 1e-8 the second about 2e-8 (|f| ~ 1); outside these a gradient check loses the
digits that tell a rounding error (1e-7) from a bug (1e-2).  Random cubics at random points then
check the value itself.

The planted bug: classmate_gradients below is exercise 1 written by a classmate, with one formula
wrong.  Which one is not stored anywhere: the judge finds it with the oracle at the test points,
as the learner does with their own checker.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import oracle, points
from .exercises import SINGLE_NEURON, Exercise
from .result import Mistake, Result
from .slips import Slip, by_priority
from .student import Problem
from .text import clip, full_stop, join_or

H_MIN, H_MAX = 1e-8, 1e-3  # the range of steps a central difference may take (see the module docstring)
TOLERANCE = 1e-5  # |yours − f'(x)| ≤ TOLERANCE·max(1, |f'(x)|) on the random cubics
SALT = 5521  # mixed into the seed: these cubics differ from any other draw made from it
EPS = np.finfo(float).eps

# the three polynomials read at x = 0 (coefficients from the constant term up), then the random ones
DECODING = [([0.0, 1.0], 0.0), ([0.0, 0.0, 1.0], 0.0), ([0.0, 0.0, 0.0, 1.0], 0.0)]
CUBICS = 6


# ---------------------------------------------------------------- the learner's f: a polynomial


def polynomial(coefficients: Sequence[float]) -> Callable[[Any], Any]:
    """f(t) = c0 + c1·t + c2·t² + ... (Horner), for plain floats or NumPy arrays alike."""
    cs = [float(c) for c in coefficients]

    def f(t):
        value = 0.0
        for c in reversed(cs):
            value = value * t + c
        return value

    return f


def derivative(coefficients: Sequence[float], x: float) -> float:
    """f'(x) of the polynomial with these coefficients, exactly (up to one rounding per term)."""
    return sum(k * c * x ** (k - 1) for k, c in enumerate(coefficients) if k)


def show_polynomial(coefficients: Sequence[float]) -> str:
    """The polynomial as the feedback writes it: "t³", "0.5 + t² − 0.3t"."""
    terms = []
    for k, c in enumerate(coefficients):
        if c == 0:
            continue
        power = "" if k == 0 else "t" if k == 1 else "t" + "⁰¹²³⁴⁵⁶⁷⁸⁹"[k]
        size = f"{abs(c):g}" if (abs(c) != 1 or k == 0) else ""
        terms.append(("−" if c < 0 else "+", size + power))
    text = " ".join(f"{s} {t}" for s, t in terms).lstrip("+ ")
    return text if not text.startswith("−") else "−" + text[2:]


def difference_cases(seed: int) -> list[tuple[Any, float]]:
    """[(coefficients, x)]: DECODING, then CUBICS random cubics (an offset up to 10 makes round-off show)."""
    rng = np.random.default_rng([seed, SALT])
    cases = [(list(c), x) for c, x in DECODING]
    for _ in range(CUBICS):
        cs = [float(np.round(rng.uniform(-10, 10), 2))] + [float(np.round(rng.uniform(-1, 1), 2)) for _ in range(3)]
        cs[3] = cs[3] if abs(cs[3]) >= 0.2 else 0.5  # a cubic term, so the step's truncation error shows
        x = float(np.round(np.sign(rng.uniform(-1, 1)) * rng.uniform(0.3, 1.5), 2))
        cases.append((cs, x))
    return cases


# ---------------------------------------------------------------- judging central_difference


class Scheme(NamedTuple):
    """What a difference quotient does, read from its answers at x = 0 (see the module docstring)."""

    slope: float  # its answer for f(t) = t: 1 when the difference is divided by its width
    bend: float  # for f(t) = t²: 0 when symmetric, ±h·slope when one-sided
    cube: float  # for f(t) = t³: h²·slope

    @property
    def step(self) -> float:
        """The step h the answers imply: √(cube/slope)."""
        return math.sqrt(abs(self.cube / self.slope)) if self.slope else math.nan

    @property
    def one_sided(self) -> int:
        """+1 forward, −1 backward, 0 symmetric: bend = ±h·slope, against 0 (exactly, in float64) for central."""
        h = self.step
        if not (math.isfinite(h) and h > 0):
            return 0
        ratio = self.bend / (self.slope * h)
        return 1 if ratio > 0.5 else -1 if ratio < -0.5 else 0


class Differences(NamedTuple):
    """What the difference slips are computed from: the cases of difference_cases and the learner's answers."""

    cases: list  # [(coefficients, x)]: DECODING first, then the random cubics
    answers: list  # the learner's answer at each case (nan where the call raised)

    @property
    def scheme(self) -> Scheme:
        """The answers at the three DECODING polynomials."""
        return Scheme(*self.answers[: len(DECODING)])


Rule = Callable[[Callable[[Any], Any], float, float], float]  # (f, x, h) -> a quotient, as a learner writes one


def forward(f: Callable[[Any], Any], x: float, h: float) -> float:
    """(f(x + h) − f(x)) / h."""
    return (f(x + h) - f(x)) / h


def backward(f: Callable[[Any], Any], x: float, h: float) -> float:
    """(f(x) − f(x − h)) / h."""
    return (f(x) - f(x - h)) / h


def central(f: Callable[[Any], Any], x: float, h: float) -> float:
    """(f(x + h) − f(x − h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


def read_step(rule: Rule, known: Differences) -> float:
    """The step h for which rule gives the learner's answers at DECODING: rule is c·h^k there, k read at two h."""
    for (cs, x), answer in zip(DECODING, known.answers):
        f = polynomial(cs)
        low, high = rule(f, x, 1e-3), rule(f, x, 1e-2)
        if low == 0 or abs(high - low) <= 1e-9 * abs(low):
            continue  # this polynomial does not show the step under this rule
        if high / low <= 0 or answer / low <= 0:
            return math.nan
        return 1e-3 * (answer / low) ** (1 / math.log10(high / low))
    return 1e-5  # the rule's answers do not depend on h: any step


def quotients(rule_of: Callable[[Differences], Rule | None]) -> Callable[[Differences], list[float]]:
    """A slip's gives: the rule the learner's answers point to, at every case, with the step they imply."""

    def gives(known: Differences) -> list[float]:
        rule = rule_of(known)
        h = read_step(rule, known) if rule else math.nan
        if rule is None or not (math.isfinite(h) and h > 0):
            return [math.nan] * len(known.cases)
        with np.errstate(all="ignore"):
            return [float(rule(polynomial(cs), x, h)) for cs, x in known.cases]

    return gives


def _halved(known):
    return abs(known.scheme.slope - 0.5) <= 1e-6


def _one_sided(known):
    """The one-sided rule the answers show (forward or backward, over h or 2h); None when they are symmetric."""
    side = known.scheme.one_sided if known.scheme.slope > 0 else 0
    rule = forward if side > 0 else backward
    if not side:
        return None
    return (lambda f, x, h: rule(f, x, h) / 2) if _halved(known) else rule


def _one_sided_words(function, known):
    s = known.scheme
    which = "forward, (f(x + h) − f(x))/h" if s.one_sided > 0 else "backward, (f(x) − f(x − h))/h"
    if _halved(known):
        top = "f(x + h) − f(x)" if s.one_sided > 0 else "f(x) − f(x − h)"
        return (
            _said(function, known) + f": it divides a one-sided difference {top} by 2h. Use the central "
            "difference (f(x + h) − f(x − h)) / (2·h)."
        )
    return (
        f"{function} is a one-sided difference ({which}): for f(t) = t² at x = 0 it returns "
        f"{s.bend:.3g} instead of 0, an error of h·f''/2. The central difference "
        "(f(x + h) − f(x − h))/2h cancels that term, leaving an error of only h²·f'''/6."
    )


def _said(function, known):
    return f"For f(t) = t, whose derivative is 1 everywhere, {function} returns {known.scheme.slope:.6g} at x = 0"


def _flipped(known):
    """The side (0 central, ±1 one-sided) and the divisor, in h, of the quotient the answers are minus of."""
    side = Scheme(-known.scheme.slope, -known.scheme.bend, -known.scheme.cube).one_sided
    return side, (1 if side else 2) / abs(known.scheme.slope) if known.scheme.slope else math.nan


def _swapped(known):
    """Minus the right-way-round rule: central or one-sided (as f(t) = t² shows), over the width f(t) = t shows."""
    side, width = _flipped(known)
    rule = central if not side else forward if side > 0 else backward
    scale = (2 if not side else 1) / width
    return (lambda f, x, h: -scale * rule(f, x, h)) if math.isfinite(scale) else None


def _swapped_words(function, known):
    side, width = _flipped(known)
    what = "f(x) − f(x + h)" if side > 0 else "f(x − h) − f(x)" if side < 0 else "f(x − h) − f(x + h)"
    also = ", and one-sided" if side else ""
    over = f", over {width:.3g}·h" if abs(width - 2) > 1e-6 else ""
    return (
        _said(function, known) + f": that is −f'(x). It takes {what}, the earlier point minus the later{also}{over}; "
        "the central difference is (f(x + h) − f(x − h)) / (2·h), the later point first."
    )


def _divisor(known):
    """A central difference over c·h, c read from f(t) = t (None when that reads as no positive c)."""
    c = 2 / known.scheme.slope if known.scheme.slope > 0 else math.nan
    return (lambda f, x, h: (f(x + h) - f(x - h)) / (c * h)) if math.isfinite(c) else None


def _fixed(rule: Rule) -> Callable[[Differences], list[float]]:
    return quotients(lambda known: rule)


DIFFERENCE_SLIPS: list[Slip[Differences]] = by_priority(
    [
        Slip("one_sided", quotients(_one_sided), _one_sided_words, priority=10),
        Slip(
            "missing_factor_2",
            _fixed(lambda f, x, h: (f(x + h) - f(x - h)) / h),
            lambda function, known: (
                _said(function, known)
                + ": it divides f(x + h) − f(x − h) by h, but the two points are 2h apart, so divide by 2·h."
            ),
            priority=20,
        ),
        Slip(
            "precedence",
            _fixed(lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h),
            lambda function, known: (
                _said(function, known)
                + f" (that is h² with h = {math.sqrt(known.scheme.slope):.2g}): `... / 2*h` divides by 2 and "
                "then multiplies by h. Write `/ (2*h)`."
            ),
            priority=30,
        ),
        Slip(
            "no_division",
            _fixed(lambda f, x, h: f(x + h) - f(x - h)),
            lambda function, known: (
                _said(function, known)
                + ": the difference f(x + h) − f(x − h) is not divided by the distance 2h between the two points."
            ),
            priority=40,
        ),
        Slip(
            "no_h_division",
            _fixed(lambda f, x, h: (f(x + h) - f(x - h)) / 2),
            lambda function, known: (
                _said(function, known)
                + ": it divides f(x + h) − f(x − h) by 2 but not by h. Divide by the distance between the two "
                "points, 2·h."
            ),
            priority=45,
        ),
        Slip(
            "swapped_points",
            quotients(_swapped),
            _swapped_words,
            priority=50,
            when=lambda known: known.scheme.slope < 0,  # minus a quotient: the sentence says −f'(x)
        ),
        Slip(
            "wrong_divisor",
            quotients(_divisor),
            lambda function, known: (
                _said(function, known) + f": it divides f(x + h) − f(x − h) by "
                f"{2 / known.scheme.slope:.3g}·h, but the two points are 2h apart, so divide by 2·h."
            ),
            priority=60,
            when=lambda known: abs(known.scheme.slope - 1) > 1e-6,  # 2h itself is the right divisor
        ),
        Slip(
            "sum_of_values",
            _fixed(lambda f, x, h: (f(x + h) + f(x - h)) / (2 * h)),
            lambda function, known: (
                f"{function} adds f(x + h) and f(x − h): for f(t) = t, whose derivative is 1, "
                "it returns 0 at x = 0. The slope is their difference, (f(x + h) − f(x − h)) / (2·h)."
            ),
            priority=70,
        ),
        Slip(
            "returns_f",
            _fixed(lambda f, x, h: f(x)),
            lambda function, known: (
                f"{function} returns f(x) itself, not its slope: for f(t) = t at x = 0 it "
                "returns 0, while f'(0) = 1. Return (f(x + h) − f(x − h)) / (2·h)."
            ),
            priority=80,
        ),
        Slip(
            "no_call",
            _fixed(lambda f, x, h: ((x + h) - (x - h)) / (2 * h)),
            lambda function, known: (
                f"{function} returns 1 whatever f is: it subtracts the points x + h and "
                "x − h themselves. Call f at them: (f(x + h) − f(x − h)) / (2·h)."
            ),
            priority=90,
        ),
    ]
)


def _agrees(answers, gives, decoding):
    """The slip's numbers: exactly at the DECODING polynomials, to within TOLERANCE (its round-off) at the cubics."""
    a, g = np.array(answers, float), np.array(gives, float)
    with np.errstate(all="ignore"):
        tight = np.isclose(a[:decoding], g[:decoding], rtol=1e-6, atol=0.0)
        loose = np.abs(a[decoding:] - g[decoding:]) <= TOLERANCE * np.maximum(1.0, np.abs(g[decoding:]))
    return bool(np.all(np.isfinite(a)) and np.all(tight) and np.all(loose))


def _difference_slip(known: Differences) -> Slip[Differences] | None:
    """The first slip by priority whose numbers are the learner's."""
    return next(
        (s for s in DIFFERENCE_SLIPS if s.applies(known) and _agrees(known.answers, s.gives(known), len(DECODING))),
        None,
    )


def _step_findings(scheme: Scheme, wrong: bool) -> list[tuple[str, str]]:
    """The finding on a step outside [H_MIN, H_MAX], for a quotient divided by its width (slope 1)."""
    h = scheme.step
    if h > H_MAX:
        return [
            (
                "step_too_large",
                f"Your step h is about {h:.2g}: too large. The truncation error of the central "
                f"difference is h²·f'''/6 (for f(t) = t³ at 0 you return {scheme.cube:.3g}, which is "
                f"h², instead of 0); take h between {H_MIN:g} and {H_MAX:g}, e.g. 1e-5.",
            )
        ]
    if (scheme.cube == 0 and not wrong) or not h < H_MIN:
        return []  # a symmetric scheme exact for cubics (a five-point stencil, say) is at least as good
    return [
        (
            "step_too_small",
            f"Your step h is about {h:.2g}: too small. f(x + h) and f(x − h) then agree in "
            f"almost all their digits, and the round-off error of the quotient grows like "
            f"eps·|f|/h (eps = {EPS:.2g}); take h between {H_MIN:g} and {H_MAX:g}, e.g. 1e-5.",
        )
    ]


def _difference_findings(known: Differences, wrong: bool, function: str) -> list[tuple[str, str]]:
    """(mistake, sentence) for what the answers show: a slip, a bad step, or no number at x = 0."""
    if not all(math.isfinite(v) for v in known.answers[: len(DECODING)]):
        if wrong:
            return []
        return [
            (
                "step_zero",
                f"At x = 0 {function} gives no number (a division by zero?), although it works "
                "elsewhere: a step proportional to x, like h = 1e-5·x, is 0 there. Use a step that "
                "never vanishes, e.g. h = 1e-5·max(1, |x|).",
            )
        ]
    slip = _difference_slip(known)
    found = [(slip.name, slip.sentence(function, known))] if slip else []
    if abs(known.scheme.slope - 1) <= 1e-6 and (slip is None or slip.name == "one_sided"):
        return found + _step_findings(known.scheme, wrong)  # the quotient is divided by its width: h is its step
    return found


def judge_difference(
    ex: Exercise,
    cases: Sequence[tuple[list[float], float]],
    answers: Sequence[float],
    problems: Sequence[str | None] | None = None,
    notes: Sequence[str] = (),
    function: str = "central_difference()",
) -> Result:
    """The verdict on plain answers (nan where the call raised), one per case of difference_cases.

    problems: the sentence of each call that raised (None where it answered).  Shared by check() and the
    grader's verifier.
    """
    problems = problems or [None] * len(answers)
    known = Differences(list(cases), list(answers))
    random = list(zip(cases[len(DECODING) :], answers[len(DECODING) :], problems[len(DECODING) :]))
    wrong = [
        (cs, x, a, p)
        for (cs, x), a, p in random
        if not (math.isfinite(a) and abs(a - derivative(cs, x)) <= TOLERANCE * max(1.0, abs(derivative(cs, x))))
    ]
    findings = _difference_findings(known, bool(wrong), function)
    if wrong and not findings:
        findings.append(_wrong_value(wrong[0], function))
    if findings:
        return Result(ex.name, False, [Mistake(m, s) for m, s in findings], notes)
    how = (
        f"has step h ≈ {known.scheme.step:.2g}"
        if known.scheme.cube
        else "is symmetric and exact for cubics (a higher-order scheme)"
    )
    return Result.praise(
        ex.name,
        f"Your central difference {how}, and it agrees with the exact derivative of "
        f"{len(random)} cubics to within {TOLERANCE:g}.",
        notes,
    )


def _wrong_value(first, function):
    """The finding for a quotient no slip explains: the first cubic it gets wrong, and the right rule."""
    cs, x, a, problem = first
    said = f"{function} returns {a:.6g}" if problem is None else problem
    return (
        "wrong_value",
        f"For f(t) = {show_polynomial(cs)} at x = {x:g} {said}, but f'(x) = "
        f"{derivative(cs, x):.6g}: return (f(x + h) − f(x − h)) / (2·h), calling f at the two "
        "points around x.",
    )


# ---------------------------------------------------------------- judging relative_error

# (a, b) pairs, each there to tell one slip from the right formula (see RELATIVE_SLIPS)
RELATIVE_CASES = [
    (1.0, 1.0),
    (0.0, 0.0),
    (1000.0, 1001.0),
    (1e-4, 2e-4),
    (2.0, 1.0),
    (1.0, 2.0),
    (0.3, -0.3),
    (-2.0, -1.0),
    (0.0, 0.5),
    (-0.6, 0.2),
]
EXTRA_PAIRS = 3


def relative_cases(seed: int) -> list[tuple[float, float]]:
    """RELATIVE_CASES, then EXTRA_PAIRS pairs drawn from the seed (one a small relative difference)."""
    rng = np.random.default_rng([seed, SALT, 2])
    extra = []
    for _ in range(EXTRA_PAIRS):
        a = float(np.round(rng.uniform(-5, 5), 3)) or 1.0
        extra.append((a, float(a * (1 + rng.uniform(-0.1, 0.1)))))
    return RELATIVE_CASES + extra


def reference_relative_error(a: float, b: float) -> float:
    """|a − b| / max(|a|, |b|), and 0 when both are 0."""
    m = max(abs(a), abs(b))
    return abs(a - b) / m if m else 0.0


def _ratio(top, bottom):
    with np.errstate(all="ignore"):
        return float(np.float64(top) / np.float64(bottom))


class Relatives(NamedTuple):
    """What the relative-error slips are computed from: the (a, b) cases and the learner's answers."""

    cases: list  # [(a, b)]: RELATIVE_CASES first, then the drawn pairs
    answers: list  # the learner's answer at each case (nan where the call raised)

    def at(self, a: float, b: float) -> float:
        """The learner's answer at the case (a, b) of RELATIVE_CASES."""
        return self.answers[self.cases.index((a, b))]


def formula(rule: Callable[[float, float], float]) -> Callable[[Relatives], list[float]]:
    """A slip's gives: a wrong formula of (a, b) at every case (inf or nan where it divides by 0)."""
    return lambda known: [rule(a, b) for a, b in known.cases]


def _by_a(known):
    """Whether the answers divide by |a| (0.5 at a = 2, b = 1) rather than by |b| (1 there)."""
    return abs(known.at(2.0, 1.0) - 0.5) <= 1e-6


def _guard(known):
    """ε in |a − b| / (max(|a|, |b|) + ε), read at a = 1e-4, b = 2e-4."""
    answer = known.at(1e-4, 2e-4)
    return 1e-4 / answer - 2e-4 if answer > 0 else math.nan


RELATIVE_SLIPS: list[Slip[Relatives]] = by_priority(
    [
        Slip(
            "absolute_error",
            formula(lambda a, b: abs(a - b)),
            "Your relative_error returns the absolute error |a − b|. For a = 1000, b = 1001 that is 1, which looks "
            "like a bug, while the two agree to 3 digits; for a = 1e-4, b = 2e-4 it is 1e-4, which looks fine, "
            "while one is twice the other. Divide by max(|a|, |b|), so the error is measured against the size of "
            "the numbers.",
            priority=10,
        ),
        Slip(
            "missing_abs",
            lambda known: [
                math.copysign(1.0, known.at(2.0, 1.0)) * _ratio(a - b, max(abs(a), abs(b))) for a, b in known.cases
            ],
            "Your relative_error can be negative: take the absolute value, |a − b| / max(|a|, |b|).",
            priority=20,
        ),
        Slip(
            "max_without_abs",
            formula(lambda a, b: _ratio(abs(a - b), max(a, b))),
            "Your relative_error divides by max(a, b); for negative numbers that is not their size. Divide by "
            "max(|a|, |b|).",
            priority=30,
        ),
        Slip(
            "abs_of_max",
            formula(lambda a, b: _ratio(abs(a - b), abs(max(a, b)))),
            "Your relative_error divides by |max(a, b)|, the size of the larger signed number: for a = −2, b = −1 "
            "that is 1, while the larger size is 2. Divide by max(|a|, |b|).",
            priority=35,
        ),
        Slip(
            "one_sided_relative",
            lambda known: [_ratio(abs(a - b), abs(a if _by_a(known) else b)) for a, b in known.cases],
            lambda known: (
                "Your relative_error divides by |{0}| only, so relative_error(a, b) ≠ relative_error(b, a), "
                "and it breaks when {0} = 0 while {1} is not. Divide by the larger of the two, max(|a|, |b|).".format(
                    *("ab" if _by_a(known) else "ba")
                )
            ),
            priority=40,
        ),
        Slip(
            "sum_relative",
            formula(lambda a, b: _ratio(abs(a - b), abs(a) + abs(b))),
            "Your relative_error divides by |a| + |b| (the convention of some courses); here it is max(|a|, |b|), "
            "which can be up to twice as large a result.",
            priority=50,
        ),
        Slip(
            "mean_relative",
            formula(lambda a, b: _ratio(abs(a - b), (abs(a) + abs(b)) / 2)),
            "Your relative_error divides by the mean size (|a| + |b|)/2; here it is the larger one, max(|a|, |b|), "
            "so that the result is never above 1.",
            priority=60,
        ),
        Slip(
            "min_relative",
            formula(lambda a, b: _ratio(abs(a - b), min(abs(a), abs(b)))),
            "Your relative_error divides by the smaller size, min(|a|, |b|): it blows up when one of the two is 0 "
            "or tiny. Divide by the larger, max(|a|, |b|).",
            priority=70,
        ),
        Slip(
            "floored_relative",
            formula(lambda a, b: _ratio(abs(a - b), max(abs(a), abs(b), 1.0))),
            "Your relative_error divides by max(|a|, |b|, 1): below 1 it is the absolute error |a − b|, so for "
            "a = 1e-4, b = 2e-4 it says 1e-4 while one is twice the other. Divide by max(|a|, |b|) alone and "
            "return 0 when both are 0.",
            priority=80,
        ),
        Slip(
            "guard_too_large",
            lambda known: [_ratio(abs(a - b), max(abs(a), abs(b)) + _guard(known)) for a, b in known.cases],
            lambda known: (
                f"Your relative_error adds about {_guard(known):.2g} to max(|a|, |b|) before dividing: "
                "that changes the result for small numbers (a = 1e-4, b = 2e-4). A guard against 0/0 must be tiny "
                "(1e-12 at most), or better, return 0 when both are 0."
            ),
            priority=90,
            when=lambda known: _guard(known) > 1e-9,  # a tinier ε changes no digit the check reads: not a slip
        ),
        Slip(
            "sizes_subtracted",
            formula(lambda a, b: _ratio(abs(abs(a) - abs(b)), max(abs(a), abs(b)))),
            "Your relative_error subtracts the sizes, ||a| − |b||, instead of taking the size of the difference "
            "|a − b|: for a = 0.3, b = −0.3 it says 0, while they differ by 0.6. Use |a − b| / max(|a|, |b|).",
            priority=100,
        ),
        Slip(
            "squared_relative",
            formula(lambda a, b: _ratio(abs(a - b), max(abs(a), abs(b))) ** 2),
            "Your relative_error is squared: (|a − b| / max(|a|, |b|))². A 1% difference then reads as 1e-4; "
            "use |a − b| / max(|a|, |b|) itself.",
            priority=110,
        ),
    ]
)


def _pick(values, indices):
    return [values[i] for i in indices]


def _same(row, expected):
    """Equal to 1e-4 relative; where the formula gives no number (inf, nan), a crash (nan) or no number matches.

    1e-4 lets a learner guard the division with a tiny ε (|a − b| / (max(|a|, |b|) + 1e-10)), while every slip
    in RELATIVE_SLIPS differs from the right formula by a factor on some case.
    """
    r, e = np.array(row, float), np.array(expected, float)
    with np.errstate(all="ignore"):
        equal = np.isclose(r, e, rtol=1e-4, atol=1e-12)
    return bool(np.all(equal | (~np.isfinite(e) & ~np.isfinite(r)) | (np.isnan(r) & ~np.isfinite(e))))


def judge_relative_error(
    ex: Exercise,
    cases: Sequence[tuple[float, float]],
    answers: Sequence[float],
    problems: Sequence[str | None],
    notes: Sequence[str] = (),
    function: str = "relative_error()",
) -> Result:
    """The verdict on plain answers (nan where a call raised; problems: the first such sentence per case or None)."""
    notes = list(notes)
    ref = [reference_relative_error(a, b) for a, b in cases]
    both_zero = cases.index((0.0, 0.0))
    rest = [i for i in range(len(cases)) if i != both_zero]
    findings = []
    if not _same([answers[i] for i in rest], [ref[i] for i in rest]):
        known = Relatives(list(cases), list(answers))
        slip = next(
            (
                s
                for s in RELATIVE_SLIPS
                if s.applies(known) and _same([answers[i] for i in rest], _pick(s.gives(known), rest))
            ),
            None,
        )
        if slip:
            findings.append((slip.name, slip.sentence(known)))
        else:
            i = next(i for i in rest if not _same([answers[i]], [ref[i]]))
            a, b = cases[i]
            said = problems[i] or f"it returns {answers[i]:.6g}"
            findings.append(
                ("wrong_value", f"For a = {a:g}, b = {b:g} {function}: {said}; |a − b| / max(|a|, |b|) = {ref[i]:.6g}.")
            )
    if answers[both_zero] != 0.0:
        what = problems[both_zero] or f"it returns {answers[both_zero]}"
        findings.append(
            (
                "both_zero",
                f"relative_error(0.0, 0.0) should be 0 (two equal numbers), but "
                f"{full_stop(what)} max(|a|, |b|) is 0 there, so return 0.0 before dividing.",
            )
        )
    if findings:
        return Result(ex.name, False, [Mistake(m, s) for m, s in findings], notes)
    return Result.praise(
        ex.name,
        f"Your relative error agrees with |a − b| / max(|a|, |b|) on {len(cases)} pairs, "
        "including (0, 0), (1000, 1001) and (1e-4, 2e-4).",
        notes,
    )


# ---------------------------------------------------------------- the planted bug


# Notebook 1 prints this function's source for the learner to read (inspect.getsource): it stays as a classmate
# would write it, one gradient per line and no annotations, whatever the formatter prefers.
# fmt: off
def classmate_gradients(x, params, target):
    """A classmate's exercise 1: dLoss/dp for p in w1, w2, b. One formula is wrong: which?"""
    x1, x2 = x
    z = params["w1"] * x1 + params["w2"] * x2 + params["b"]
    Y = max(z, 0.0)
    Err = target - Y
    relu_slope = 1.0 if z > 0 else 0.0
    delta = Err * relu_slope
    return {"w1": -delta * x1,
            "w2": -Err * x2,
            "b": -delta}
# fmt: on


def planted_wrong(seed: int = 0) -> list[str]:
    """The parameters whose gradient classmate_gradients gets wrong at the test points of this seed, by the oracle."""
    net = SINGLE_NEURON
    pts = points.choose(net, seed)
    G = oracle.loss_gradients(net, pts.X, pts.P, pts.T)
    S = [classmate_gradients(*pts.call_args(i, False)) for i in range(len(pts))]
    return [k for k in net.params if not np.allclose([s[k] for s in S], G[k], rtol=1e-5, atol=1e-7)]


def read_name(value: Any, function: str) -> str:
    """A parameter's name from a learner's answer: "w2", "dLoss/dw2" and " W2 " all read as "w2"; else a Problem."""
    if value is None:
        raise Problem("none", f'{function} returned None: return the name of the parameter, e.g. "b".')
    if type(value) is not str:
        raise Problem("wrong_type", f'{function} should return the parameter\'s name as a string, e.g. "b".')
    name = value.strip().lower().replace(" ", "")
    for prefix in ("dloss/d", "d"):
        if name.startswith(prefix) and name[len(prefix) :] in SINGLE_NEURON.params:
            name = name[len(prefix) :]
    if name not in SINGLE_NEURON.params:
        raise Problem(
            "not_a_parameter",
            f"{function} returns {clip(value, 40)!r}; return one of {join_or(repr(p) for p in SINGLE_NEURON.params)}.",
        )
    return name


def judge_wrong_parameter(
    ex: Exercise, answer: str, seed: int = 0, notes: Sequence[str] = (), function: str = "which_gradient_is_wrong()"
) -> Result:
    """The verdict on the learner's answer: a parameter's name, as read_name gives it."""
    if answer in planted_wrong(seed):
        return Result.praise(
            ex.name, f"Right: classmate_gradients gets dLoss/d{answer} wrong, and only that one.", notes
        )
    return Result.wrong(
        ex.name,
        "wrong_parameter",
        f"classmate_gradients' dLoss/d{answer} agrees with the numerical gradient at every test point, with the "
        "neuron on and off. Compare all three gradients with your central_difference at a point where the "
        "neuron is on and at one where it is off.",
        notes,
    )
