"""The by-hand task graded through real nbgrader: partial credit per step, on the numbers of the student graded.

A one-task assignment (made here: a single-neuron by-hand cell for 4 points)
is submitted by a small class and graded by ``nbgrader autograde`` with the
course's pipeline (sandbox and verifier).  Every expected score follows from
the rule "points · right steps / all steps" and from how each submission was
made; the grader regenerates each student's numbers from their nbgrader id.
"""
import json
import math
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import classroom  # noqa: E402

from gradelib import byhand  # noqa: E402
from gradelib.byhand import personal  # noqa: E402

A = "byhand"
TEST = "test_single_neuron_by_hand"
POINTS = 4
NETWORK = "single_neuron"
STEPS = [s.key for s in byhand.steps(NETWORK)]


def source_notebook():
    """The instructor's notebook: the id cell, the student's function, its test cell."""
    def meta(grade_id, **kw):
        return {"nbgrader": dict({"grade_id": grade_id, "grade": False, "solution": False, "locked": True,
                                  "schema_version": 3}, **kw)}
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("import gradelib\nfrom gradelib import byhand", metadata=meta("imports")),
        nbformat.v4.new_code_cell('MY_ID = byhand.my_id("instructor")'),
        nbformat.v4.new_code_cell(
            "def single_neuron_by_hand():\n    ### BEGIN SOLUTION\n    return {}\n    ### END SOLUTION",
            metadata=meta("single_neuron_by_hand", solution=True, locked=False)),
        nbformat.v4.new_code_cell(
            f'gradelib.grade_by_hand("{NETWORK}", MY_ID, single_neuron_by_hand, points={POINTS})',
            metadata=meta(TEST, grade=True, points=POINTS)),
    ]
    return nb


def right(student_id, decimals=3):
    """The right value of every step for this student's numbers, rounded as on paper."""
    return {k: round(v, decimals) for k, v in personal.right_values(byhand.problem(NETWORK, student_id)).items()}


def slipped(student_id, key, by):
    """The page of a student who slipped at one step (its value changed by `by`) and carried the slip forward."""
    p = byhand.problem(NETWORK, student_id)
    v, page = p.givens(), {}
    for step in byhand.steps(NETWORK):
        value = float(step.rule(v)) + (by if step.key == key else 0.0)
        v[step.key] = page[step.key] = value
    return {k: round(x, 4) for k, x in page.items()}


def function(values, before=""):
    """A solution cell returning these values, written out as a student would type them."""
    def literal(v):
        return "float('nan')" if isinstance(v, float) and math.isnan(v) else repr(v)
    lines = ",\n".join(f"        {k!r}: {literal(v)}" for k, v in values.items())
    return f"{before}def single_neuron_by_hand():\n    return {{\n{lines}\n    }}\n"


SLIP_AT = "delta"
BAD = {"z": "3/4", "Y": "0,5", "Err": float("nan"), "Loss": None, "nonsense step": 1.0, "delta": [1, 2]}

CLASS = {   # student: (solution cell, or None for the released stub; an edit of the id cell, or None)
    "st_right": (function(right("st_right")), None),
    "st_copy": (function(right("st_right")), None),
    "st_slip": (function(slipped("st_slip", SLIP_AT, 0.5)), None),
    "st_bad": (function(BAD), None),
    "st_unanswered": (None, None),
    "st_trick": (function(right("st_right"), before="gradelib.grade_by_hand = lambda *a, **k: 4.0\n"), None),
    "st_wrong_id": (function(right("someone_else")), 'MY_ID = "someone_else"'),
    "st_own_code": ("def single_neuron_by_hand():\n"
                    "    return byhand.personal.right_values(byhand.problem('single_neuron', MY_ID))\n", None),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded by serial nbgrader autograde: (course, gradebook, {student: autograded test cell})."""
    source = tmp_path_factory.mktemp("byhand-source")
    (source / A).mkdir()
    nbformat.write(source_notebook(), source / A / f"{A}.ipynb")
    course = classroom.make_course(tmp_path_factory.mktemp("byhand") / "course", assignments=(A,), source=source,
                                   timeout=5, total_timeout=30)
    for student, (solution, id_cell) in CLASS.items():
        def edit(nb, id_cell=id_cell):
            if id_cell:
                nb.cells[1].source = id_cell
        classroom.submit(course, student, A, solutions={"single_neuron_by_hand": solution} if solution else None,
                         edit=edit)
    proc = classroom.run(classroom.nbgrader("autograde", A, "--force"), course, check=False)
    book = classroom.gradebook(course, A)
    cells = {}
    for student in CLASS:
        nb = classroom.autograded(course, student, A)
        cells[student] = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == TEST)
    return course, proc, book, cells


def score(book, student):
    return book[student]["scores"][TEST]


def text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def test_right_values_for_ones_own_id_score_every_point(graded):
    _, _, book, cells = graded
    assert score(book, "st_right") == POINTS
    assert f"{len(STEPS)} of {len(STEPS)} steps right" in text(cells["st_right"])


def test_one_slip_carried_forward_costs_one_step(graded):
    _, _, book, cells = graded
    assert score(book, "st_slip") == pytest.approx(round(POINTS * (len(STEPS) - 1) / len(STEPS), 2))
    assert "δ" in text(cells["st_slip"]).split("\n")[2]     # the first wrong step is named first


def test_a_classmates_numbers_do_not_score(graded):
    _, _, book, cells = graded
    for student in ("st_copy", "st_trick", "st_wrong_id"):
        assert score(book, student) < POINTS / 2, student
    assert "'st_wrong_id'" in text(cells["st_wrong_id"])    # marked on the numbers of the student graded


def test_a_trick_in_the_kernel_does_not_change_the_graders_score(graded):
    _, _, book, cells = graded
    values = [o["data"]["text/plain"] for o in cells["st_trick"].outputs if o.get("output_type") == "execute_result"]
    assert values == [f"{score(book, 'st_trick'):g}"] and score(book, "st_trick") < POINTS


def test_code_that_works_out_the_numbers_from_the_id_sees_the_graded_students_id(graded):
    # my_id() finds the id of the student graded, in the kernel and in the verifier's process; so a solution
    # computing the page from MY_ID would be right for the student graded, but gradelib's own answers are
    # withheld in the verifier's process, so borrowing them scores nothing
    _, _, book, _ = graded
    assert score(book, "st_own_code") == 0


def test_bad_input_gets_sentences_and_no_traceback(graded):
    _, _, book, cells = graded
    out = text(cells["st_bad"])
    assert "0.75" in out and "decimal" in out and "nonsense step" in out
    assert "Traceback" not in out and not any(o.get("output_type") == "error" for o in cells["st_bad"].outputs)
    assert not any(o.get("name") == "stderr" for c in cells.values() for o in c.outputs)
    assert 0 <= score(book, "st_bad") < POINTS


def test_an_unanswered_task_scores_zero_with_the_reason(graded):
    _, _, book, cells = graded
    assert score(book, "st_unanswered") == 0
    assert "NotImplementedError" in text(cells["st_unanswered"])


def test_every_student_is_in_the_gradebook(graded):
    _, proc, book, _ = graded
    assert set(book) == set(CLASS), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert all(not math.isnan(score(book, s)) for s in CLASS)
    json.dumps(book)
