"""The notebooks as nbgrader sees them: student copies up to date, and scores right through nbgrader itself.

One temporary course (a copy of source/ and nbgrader_config.py) is made per
test run: nbgrader generate_assignment releases every assignment, and nbgrader
autograde grades, for each one, these submissions:

* "released": the student copy, unmodified: it must score 0;
* "solution": the student copy with the instructor's solutions in its solution
  cells, as a student submits it: full marks, every test cell verified outside
  the kernel (the course's config), nothing flagged;
* "wrong_<function>", one per exercise function: the source notebook with that
  one function giving wrong answers: it must lose exactly the points of the
  test cells that grade that function, and keep all the others;
* "tampered": the student copy with every function wrong and an input
  transformer that empties the test cells in the kernel: it must score nothing
  and be flagged.

The source notebooks themselves (stored outputs) are checked by
`pytest --nbval source/`; the timing is in benchmarks/notebooks.py.
"""
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

import classroom
from fixture_class import TRANSFORMER_TESTS_ONLY
from gradelib import EXERCISES, release
from gradelib.exercises import NETWORKS

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = release.source_assignments(ROOT)

# The convention of every autograded test cell: gradelib.grade("<exercise>", <function>, ...), or for the
# by-hand task gradelib.grade_by_hand("<network>", MY_ID, <function>, points=...)
GRADE_CALL = re.compile(r"""gradelib\.grade\(\s*["'](\w+)["']\s*,\s*(\w+)""")
BY_HAND_CALL = re.compile(r"""gradelib\.grade_by_hand\(\s*["'](\w+)["']\s*,\s*\w+\s*,\s*(\w+)""")
BY_HAND = "_by_hand"   # graded_functions' name of a by-hand task: its network's name and this
DEFINES = re.compile(r"^def (\w+)\(", re.M)

# Appended to one solution cell: the function keeps its name but its answers are off,
# a dict of numbers by 0.5 each, a list of probabilities by a factor 2 (they no longer sum to 1).
BREAK = '''

_right_{fn} = {fn}


def {fn}(*args):
    """Deliberately wrong, for tests/test_notebooks.py."""
    answer = _right_{fn}(*args)
    if isinstance(answer, dict):
        return {{k: v + 0.5 for k, v in answer.items()}}
    return [2 * v for v in answer]
'''

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no source assignments yet")


def source_path(name):
    return ROOT / "source" / name / f"{name}.ipynb"


def grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]


def solution_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]


def graded_functions(nb):
    """{grade_id: (exercise, function name, points)} of every autograded test cell."""
    out = {}
    for cell in grade_cells(nb):
        calls = GRADE_CALL.findall(cell.source) or [(net + BY_HAND, fn) for net, fn in BY_HAND_CALL.findall(cell.source)]
        assert calls, f"test cell {cell.metadata.nbgrader.grade_id} has no gradelib.grade(\"<exercise>\", fn) call"
        exercise, fn = calls[0]
        out[cell.metadata.nbgrader.grade_id] = (exercise, fn, float(cell.metadata.nbgrader.points))
    return out


def broken(nb, fn):
    """A copy of nb in which the solution cell defining fn also redefines it to answer wrongly."""
    nb = nbformat.from_dict(nb)
    cell = next(c for c in solution_cells(nb) if fn in DEFINES.findall(c.source))
    cell.source += BREAK.format(fn=fn)
    return nb


# ---------------------------------------------------------------- the student copies

@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A temporary course (source/ and nbgrader_config.py) after nbgrader generate_assignment."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for name in ASSIGNMENTS:
        shutil.copytree(ROOT / "source" / name, course / "source" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    release.run_nbgrader(course, "generate_assignment", "--assignment=*", "--force")
    return course


def released_texts(course):
    return {name: release.student_text(nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4))
            for name in ASSIGNMENTS}


def test_student_copies_match_source(released):
    """notebooks/ is what `python -m gradelib.release` makes from source/ now, byte for byte."""
    problems = release.drift(ROOT, released_texts(released))
    assert not problems, "; ".join(problems) + ". Regenerate with: python -m gradelib.release"


def test_drift_is_named(released, tmp_path):
    """The drift check names a student copy that was edited, one that is missing and one without a source."""
    texts = released_texts(released)
    (tmp_path / "notebooks").mkdir()
    for name, text in texts.items():
        release.target(tmp_path, name).write_text(text, encoding="utf-8")
    assert release.drift(tmp_path, texts) == []
    first, *_ = ASSIGNMENTS
    edited = release.target(tmp_path, first)
    edited.write_text(texts[first].replace("raise NotImplementedError()", "return {}"), encoding="utf-8")
    (tmp_path / "notebooks" / "99_stray.ipynb").write_text(texts[first], encoding="utf-8")
    problems = release.drift(tmp_path, texts)
    assert any(f"{first}.ipynb differs" in p for p in problems), problems
    assert any("99_stray.ipynb has no source" in p for p in problems), problems
    edited.unlink()
    assert any(f"{first}.ipynb is missing" in p for p in release.drift(tmp_path, texts))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_copy_hides_the_answers(name):
    nb = nbformat.read(release.target(ROOT, name), as_version=4)
    text = nbformat.writes(nb)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    for cell in solution_cells(nb):
        assert "raise NotImplementedError()" in cell.source, cell.metadata.nbgrader.grade_id
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    assert "widgets" not in nb.metadata


# ---------------------------------------------------------------- the source assignments' structure

@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_test_cells_follow_the_convention(name):
    """Each test cell grades one exercise of gradelib by a literal name, with hidden tests, and
    the function it grades is defined in a solution cell."""
    nb = nbformat.read(source_path(name), as_version=4)
    defined = [fn for c in solution_cells(nb) for fn in DEFINES.findall(c.source)]
    graded = graded_functions(nb)
    assert graded, f"{name} has no autograded test cell"
    for cell in grade_cells(nb):
        exercise, fn, points = graded[cell.metadata.nbgrader.grade_id]
        assert fn in defined, f"{fn} is graded but no solution cell defines it"
        assert points > 0
        if exercise.endswith(BY_HAND):   # its hidden part is the grader's: each student's own numbers
            assert exercise[:-len(BY_HAND)] in NETWORKS and f"points={points:g}" in cell.source
            continue
        assert exercise in EXERCISES, f"unknown exercise {exercise!r}"
        assert fn == EXERCISES[exercise].notebook_function
        assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_stored_outputs_have_no_errors_or_stderr(name):
    nb = nbformat.read(source_path(name), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "execute the source notebook and store its outputs"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", f"{cell.get('id')}: {out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), f"{cell.get('id')}: {out.text}"


# ---------------------------------------------------------------- nbgrader autograde

@pytest.fixture(scope="module")
def course(released):
    """The released course with, for every assignment, the submissions above autograded."""
    for name in ASSIGNMENTS:
        source = nbformat.read(source_path(name), as_version=4)
        submissions = {"released": nbformat.read(released / "release" / name / f"{name}.ipynb", as_version=4)}
        for _, fn, _ in graded_functions(source).values():
            submissions[f"wrong_{fn}"] = broken(source, fn)
        for student, nb in submissions.items():
            folder = released / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{name}.ipynb")
        # (the source notebook itself would be flagged: its test cells hold the hidden tests, the released don't)
        right = classroom.source_solutions(released, name)
        classroom.submit(released, "solution", name, solutions=right)
        tampered = {grade_id: classroom.wrong(code) for grade_id, code in right.items()}
        tampered[next(iter(right))] += TRANSFORMER_TESTS_ONLY
        classroom.submit(released, "tampered", name, solutions=tampered)
    release.run_nbgrader(released, "autograde", "--assignment=*", "--force")
    return released


def scores(course, name, student):
    """{grade_id: (score, max_score)} of one autograded submission, from nbgrader's gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(name, name, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_unmodified_student_copy_scores_zero(course, name):
    got = scores(course, name, "released")
    assert got and all(max_score > 0 for _, max_score in got.values())
    assert sum(score for score, _ in got.values()) == 0, got


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solutions_score_full_marks(course, name):
    got = scores(course, name, "solution")
    graded = graded_functions(nbformat.read(source_path(name), as_version=4))
    assert set(got) == set(graded)
    assert all(score == max_score == graded[cell][2] for cell, (score, max_score) in got.items()), got


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_one_wrong_function_loses_exactly_its_points(course, name):
    graded = graded_functions(nbformat.read(source_path(name), as_version=4))
    for fn in sorted({fn for _, fn, _ in graded.values()}):
        got = scores(course, name, f"wrong_{fn}")
        lost = {cell for cell, (score, max_score) in got.items() if score != max_score}
        assert lost == {cell for cell, (_, f, _) in graded.items() if f == fn}, (fn, got)
        assert all(got[cell][0] == 0 for cell in lost), (fn, got)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_autograded_solution_run_has_no_stderr(course, name):
    """The solution notebook as nbgrader ran it, hidden tests included: no error and nothing on stderr."""
    nb = nbformat.read(course / "autograded" / "solution" / name / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{cell.get('id')}: {out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), f"{cell.get('id')}: {out.text}"


def review(course, name, student):
    """({grade_id: needs a manual grade}, flagged) of one autograded submission, from nbgrader's gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(name, name, student)
        return {g.name: g.needs_manual_grade for g in nb.grades}, bool(nb.flagged)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_course_notebooks_pass_verification_when_right_and_fail_it_when_tampered(course, name):
    right = scores(course, name, "solution")
    assert right and all(score == max_score for score, max_score in right.values()), right
    manual, flagged = review(course, name, "solution")
    assert not flagged and not any(manual.values()), manual
    assert not any(score for score, _ in scores(course, name, "released").values())
    assert not any(score for score, _ in scores(course, name, "tampered").values())
    manual, flagged = review(course, name, "tampered")
    assert flagged and all(manual.values()), manual
    report = classroom.autograded(course, "solution", name).metadata["gradelib"]
    assert sorted(report["verified"]) == sorted(right) and not report["flags"], report
