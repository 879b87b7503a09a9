"""gradelib.text: the small helpers every sentence of feedback goes through."""
import pytest

from gradelib.text import clip, fixed, full_stop, join_and, join_or


@pytest.mark.parametrize("sentence, expected", [("It raised", "It raised."), ("Why?", "Why?"), ("Done. ", "Done. "),
                                                ("trailing  ", "trailing.")])
def test_full_stop_ends_a_sentence_once(sentence, expected):
    assert full_stop(sentence) == expected


def test_fixed_never_shows_minus_zero():
    assert fixed(-0.0001, 3) == "0.000" and fixed(-0.0006, 3) == "-0.001" and fixed(2, 2) == "2.00"


def test_clip_marks_a_cut_with_an_ellipsis():
    assert clip("abc", 3) == "abc" and clip("abcd", 3) == "abc…"


def test_joins_read_as_english():
    assert join_or(["'a'"]) == "'a'" and join_or(["'a'", "'b'", "'c'"]) == "'a', 'b' or 'c'"
    assert join_and(["x", "y"]) == "x and y"
