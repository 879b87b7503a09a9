"""A clean grading run prints nothing an instructor cannot act on (OverwriteReleasedCells, commands.prepare).

Through real ``nbgrader autograde`` with the course's config, one student at a
time, in a fresh gradebook (SQLAlchemy's autoflush warning comes with a
student's first submission): an all-right submission prints nothing but
nbgrader's INFO lines, though its test cell had hidden tests removed; a
submission that changed that locked test cell still gets nbgrader's checksum
warning and the flag for a manual look.
"""
import re

import pytest

import classroom
from fixture_class import A, SN, cells

INFO = re.compile(r"\[AutogradeApp \| INFO\] ")


def edit_hidden_test_cell(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == SN:
            assert "BEGIN HIDDEN TESTS" not in cell.source   # the released copy, without them
            cell.source += "\nassert True   # changed by the student"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{student: nbgrader autograde's CompletedProcess}, and the gradebook."""
    course = classroom.make_course(tmp_path_factory.mktemp("quiet") / "course")
    classroom.submit(course, "right", A, solutions=cells())
    classroom.submit(course, "edited", A, solutions=cells(), edit=edit_hidden_test_cell)
    runs = {student: classroom.run(classroom.nbgrader("autograde", A, "--student", student), course)
            for student in ("right", "edited")}
    return runs, classroom.gradebook(course, A)


def test_an_all_right_submission_is_graded_in_silence(graded):
    runs, book = graded
    run = runs["right"]
    assert sum(book["right"]["scores"].values()) == sum(book["right"]["max"].values()) > 0
    assert not book["right"]["flagged"] and not any(book["right"]["needs_manual"].values())
    assert "checksum" not in run.stderr
    noise = [line for line in run.stderr.splitlines() if not INFO.match(line)]
    assert not noise and not run.stdout, "\n".join(noise) + run.stdout


def test_a_changed_locked_cell_is_still_reported_and_flagged(graded):
    runs, book = graded
    assert f"Attribute 'checksum' for cell {SN} has changed!" in runs["edited"].stderr, runs["edited"].stderr[-3000:]
    assert book["edited"]["flagged"] and book["edited"]["needs_manual"][SN], book["edited"]
    assert f"changed the locked cell {SN!r}" in runs["edited"].stderr
