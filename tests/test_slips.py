"""gradelib.slips: the one record of a known mistake, and the order in which slips name one."""

import pytest

from gradelib.slips import Slip, by_priority


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
