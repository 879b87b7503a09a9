"""The learner's own gradient check (gradelib.gradcheck): central_difference, relative_error, the planted bug.

Every scheme below is written for a step h drawn at random, so a verdict that only matched one h (or one
example) would fail here; the names must follow from what the scheme does, as gradcheck's docstring says.
"""
import math

import numpy as np
import pytest

import gradelib
from gradelib import gradcheck, oracle, points
from gradelib.exercises import SINGLE_NEURON

RNG = np.random.default_rng(2026)


def steps(low, high, n=3):
    """n steps h drawn log-uniformly from [low, high]."""
    return [float(10 ** RNG.uniform(math.log10(low), math.log10(high))) for _ in range(n)]


def central(h):
    return lambda f, x: (f(x + h) - f(x - h)) / (2 * h)


def forward(h):
    return lambda f, x: (f(x + h) - f(x)) / h


def backward(h):
    return lambda f, x: (f(x) - f(x - h)) / h


def mistakes(fn, seed=0):
    return gradelib.check("central_difference", fn, seed=seed).mistakes


@pytest.mark.parametrize("h", steps(2e-8, 5e-4))
def test_a_central_difference_with_a_sensible_step_passes(h):
    for seed in (0, int(RNG.integers(1, 10 ** 6))):
        result = gradelib.check("central_difference", central(h), seed=seed)
        assert result.passed, result


def test_a_step_relative_to_x_that_never_vanishes_passes_and_one_that_does_is_named():
    assert gradelib.check("central_difference", lambda f, x: central(1e-5 * max(1.0, abs(x)))(f, x)).passed
    assert mistakes(lambda f, x: central(1e-5 * abs(x))(f, x)) == ["step_zero"]


@pytest.mark.parametrize("h", steps(1e-7, 1e-4))
def test_a_one_sided_difference_is_named_with_its_direction_even_when_accurate(h):
    assert mistakes(forward(h)) == ["one_sided"]
    assert mistakes(backward(h)) == ["one_sided"]
    assert "forward" in gradelib.check("central_difference", forward(h)).messages[0]
    assert "backward" in gradelib.check("central_difference", backward(h)).messages[0]


@pytest.mark.parametrize("h", steps(3e-3, 1e-1))
def test_a_step_too_large_is_named_and_the_step_read_back(h):
    result = gradelib.check("central_difference", central(h))
    assert result.mistakes == ["step_too_large"]
    assert f"{h:.2g}" in result.messages[0]
    assert set(mistakes(forward(h))) == {"one_sided", "step_too_large"}


@pytest.mark.parametrize("h", steps(1e-14, 3e-9))
def test_a_step_too_small_is_named(h):
    assert mistakes(central(h)) == ["step_too_small"]


@pytest.mark.parametrize("h", steps(1e-6, 1e-4))
def test_each_slip_in_the_division_is_named(h):
    assert mistakes(lambda f, x: (f(x + h) - f(x - h)) / h) == ["missing_factor_2"]
    assert mistakes(lambda f, x: (f(x + h) - f(x - h)) / 2 * h) == ["precedence"]
    assert mistakes(lambda f, x: f(x + h) - f(x - h)) == ["no_division"]
    assert mistakes(lambda f, x: (f(x + h) - f(x)) / (2 * h)) == ["one_sided"]


def test_a_higher_order_symmetric_scheme_passes():
    h = 1e-3
    five = lambda f, x: (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)  # noqa: E731
    assert gradelib.check("central_difference", five).passed


def test_a_wrong_value_names_the_polynomial_and_the_point():
    result = gradelib.check("central_difference", lambda f, x: central(1e-5)(f, x) + 0.1 * x)
    assert result.mistakes == ["wrong_value"] and "f(t) = " in result.messages[0]


@pytest.mark.parametrize("junk, mistake", [(None, "none"), ("0.5", "wrong_type"), ([1.0], "wrong_shape")])
def test_junk_gets_a_sentence(junk, mistake):
    result = gradelib.check("central_difference", lambda f, x: junk)
    assert result.mistakes == [mistake] and "f(t) = " in result.messages[0]


def test_the_polynomials_and_their_derivatives_agree():
    for cs, x in gradcheck.difference_cases(int(RNG.integers(10 ** 6))):
        f = gradcheck.polynomial(cs)
        h = 1e-6
        assert abs((f(x + h) - f(x - h)) / (2 * h) - gradcheck.derivative(cs, x)) < 1e-6
        assert f(np.array([x, x]))[0] == f(x)


# ---------------------------------------------------------------- relative_error

def right(a, b):
    m = max(abs(a), abs(b))
    return abs(a - b) / m if m else 0.0


@pytest.mark.parametrize("fn, mistake", [
    (lambda a, b: abs(a - b), "absolute_error"),
    (lambda a, b: (a - b) / max(abs(a), abs(b)) if a or b else 0.0, "missing_abs"),
    (lambda a, b: abs(a - b) / max(a, b) if a or b else 0.0, "max_without_abs"),
    (lambda a, b: abs(a - b) / abs(b) if b else 0.0, "one_sided_relative"),
    (lambda a, b: abs(a - b) / (abs(a) + abs(b)) if a or b else 0.0, "sum_relative"),
])
def test_each_slip_of_the_relative_error_is_named(fn, mistake):
    for seed in (0, int(RNG.integers(10 ** 6))):
        assert gradelib.check("relative_error", fn, seed=seed).mistakes == [mistake]


def test_the_relative_error_passes_and_names_the_case_of_two_zeros():
    assert gradelib.check("relative_error", right).passed
    guarded = lambda a, b: abs(a - b) / (max(abs(a), abs(b)) + 1e-10)  # noqa: E731  (a tiny ε instead of the 0 case)
    assert gradelib.check("relative_error", guarded).passed
    assert gradelib.check("relative_error", lambda a, b: float(np.abs(a - b) / np.maximum(abs(a), abs(b))
                                                              if a or b else np.float64(0))).passed
    crash = gradelib.check("relative_error", lambda a, b: abs(a - b) / max(abs(a), abs(b)))
    assert crash.mistakes == ["both_zero"] and "ZeroDivisionError" in crash.messages[0]
    nan = gradelib.check("relative_error", lambda a, b: float(np.abs(a - b) / np.maximum(abs(a), abs(b))))
    assert nan.mistakes == ["both_zero"]


def test_the_reference_is_symmetric_and_scale_free():
    for _ in range(20):
        a, b, s = RNG.normal(), RNG.normal(), 10 ** RNG.uniform(-6, 6)
        assert gradcheck.reference_relative_error(a, b) == gradcheck.reference_relative_error(b, a)
        assert math.isclose(gradcheck.reference_relative_error(s * a, s * b), gradcheck.reference_relative_error(a, b))


# ---------------------------------------------------------------- the planted bug

def test_exactly_one_gradient_of_the_classmate_is_wrong_and_only_where_the_neuron_is_off():
    seed = int(RNG.integers(10 ** 6))
    wrong = gradcheck.planted_wrong(seed)
    assert len(wrong) == 1
    pts = points.choose(SINGLE_NEURON, seed)
    G = oracle.loss_gradients(SINGLE_NEURON, pts.X, pts.P, pts.T)
    for i in range(len(pts)):
        got = gradcheck.classmate_gradients(*pts.call_args(i, False))[wrong[0]]
        assert math.isclose(got, G[wrong[0]][i], abs_tol=1e-7) == bool(pts.on("Y")[i])


def test_the_answer_is_read_in_the_notes_words_and_judged():
    wrong = gradcheck.planted_wrong(0)[0]
    for answer in (wrong, wrong.upper(), f" dLoss/d{wrong} "):
        assert gradelib.check("wrong_gradient", lambda: answer).passed
    other = next(p for p in SINGLE_NEURON.params if p != wrong)
    assert gradelib.check("wrong_gradient", lambda: other).mistakes == ["wrong_parameter"]
    assert gradelib.check("wrong_gradient", lambda: "x1").mistakes == ["not_a_parameter"]
    assert gradelib.check("wrong_gradient", lambda: 2).mistakes == ["wrong_type"]
