"""gradelib.slips: the one record of a known mistake, the order in which slips name one, and the diagnosis's table of them."""

import dataclasses
import random
import sys
from functools import partial
from pathlib import Path

import pytest

import gradelib
from gradelib import diagnose
from gradelib.slips import Slip, by_priority

sys.path.insert(0, str(Path(__file__).resolve().parent))
import handwritten as hw  # noqa: E402


def test_priority_not_list_position_decides_the_order():
    late = Slip("late", lambda k: k, "late words", priority=20)
    early = Slip("early", lambda k: -k, "early words", priority=10)
    assert [s.name for s in by_priority([late, early])] == ["early", "late"]


@pytest.mark.parametrize("field", ["name", "priority"])
def test_a_catalogue_with_a_repeated_name_or_priority_is_refused(field):
    a = Slip("a", lambda k: k, "a", priority=1)
    b = Slip("a" if field == "name" else "b", lambda k: k, "b", priority=1 if field == "priority" else 2)
    with pytest.raises(ValueError, match=field):
        by_priority([a, b])


def test_when_gates_the_slip_and_words_may_quote_numbers():
    off = Slip("off", lambda z: 0.0, lambda z: f"neuron 1 is off (z1 = {z})", priority=1, when=lambda z: z < 0)
    assert off.applies(-0.5) and not off.applies(0.5)
    assert off.sentence(-0.5) == "neuron 1 is off (z1 = -0.5)"
    assert Slip("s", abs, "plain words", priority=2).sentence() == "plain words"


def test_counts_as_names_the_mistake_a_slip_is_counted_under():
    own = Slip("returned_step", abs, "w", priority=1)
    shared = Slip("returned_change", abs, "w", priority=2, counts_as="returned_step")
    where = Slip("sign", abs, lambda layer: f"{layer} flipped", priority=3,
                 counts_as=lambda layer: "sign_flip_hidden" if layer == "hidden" else "sign_flip")
    assert own.counted() == "returned_step" and shared.counted("any") == "returned_step"
    assert where.counted("hidden") == "sign_flip_hidden" and where.counted("all") == "sign_flip"


# ------------------------------------------------------------------ the diagnosis's table of slips

def relu_chain_other_slope(x, p, t):
    """ReLU'(z2) where ReLU'(z1) belongs: since δ2 carries ReLU'(z2) already, it is also ReLU'(z1) left out."""
    (x1,) = x
    z1 = p["w11"] * x1 + p["b1"]
    z2 = p["w12"] * max(z1, 0.0) + p["b2"]
    d2 = (max(z2, 0.0) - t) * (z2 > 0)
    d1 = d2 * p["w12"] * (z2 > 0)
    return {"w11": d1 * x1, "b1": d1, "w12": d2 * max(z1, 0.0), "b2": d2}


WRONG = [  # known wrong functions, each named by a different slip of the table
    ("single_neuron", partial(hw.single_neuron, swap=True)),
    ("single_neuron", partial(hw.single_neuron, err_sign=-1.0)),
    ("relu_chain", partial(hw.relu_chain, back=1.0)),
    ("relu_chain", relu_chain_other_slope),
    ("relu_chain_update", hw.sequential_chain),
    ("softmax_223", partial(hw.softmax_223, parents=(5,))),
    ("softmax_223_update", hw.sequential_223),
]


def verdicts():
    return [[(m.name, m.sentence) for m in gradelib.check(e, fn, seed=seed).found] for e, fn in WRONG for seed in (0, 1)]


def test_every_slip_of_the_diagnosis_has_its_own_name_and_priority():
    names, priorities = [s.name for s in diagnose.SLIPS], [s.priority for s in diagnose.SLIPS]
    assert len(set(names)) == len(names) and len(set(priorities)) == len(priorities)
    assert priorities == sorted(priorities)


def test_the_diagnosis_order_comes_from_the_priorities_not_the_list(monkeypatch):
    before = verdicts()
    shuffled = random.Random(20).sample(diagnose.SLIPS, len(diagnose.SLIPS))
    assert shuffled != diagnose.SLIPS
    monkeypatch.setattr(diagnose, "SLIPS", by_priority(shuffled))
    assert verdicts() == before


def test_a_lower_priority_names_the_mistake_when_two_slips_give_the_same_numbers(monkeypatch):
    def named():
        return {m for seed in (0, 1) for m in gradelib.check("relu_chain", relu_chain_other_slope, seed=seed).mistakes}

    assert named() == {"missing_relu_derivative"}
    left_out, other = (next(s for s in diagnose.SLIPS if s.name == n)
                       for n in ("missing_relu_derivative", "other_relu_derivative"))
    swapped = [dataclasses.replace(s, priority={left_out: other, other: left_out}[s].priority)
               if s in (left_out, other) else s for s in diagnose.SLIPS]
    monkeypatch.setattr(diagnose, "SLIPS", by_priority(swapped))
    assert named() == {"wrong_relu_derivative"}


def test_a_second_slip_through_a_first_ones_factor_may_touch_fewer_parameters():
    """The error sent back without the target (a factor, in the hidden layer only) and, on top, the weight in place
    of x1 in dLoss/dw11: both named.  The second slip gives no dLoss/db1, which once raised a KeyError."""
    def fn(x, p, t):
        (x1,) = x
        z1 = p["w11"] * x1 + p["b1"]
        z2 = p["w12"] * max(z1, 0.0) + p["b2"]
        d2, d2_back = (max(z2, 0.0) - t) * (z2 > 0), max(z2, 0.0) * (z2 > 0)
        d1 = d2_back * p["w12"] * (z1 > 0)
        return {"w11": d1 * p["w11"], "b1": d1, "w12": d2 * max(z1, 0.0), "b2": d2}

    for seed in (0, 1):
        r = gradelib.check("relu_chain", fn, seed=seed)
        assert set(r.mistakes) == {"output_error_without_target", "weight_for_input"}, str(r)
