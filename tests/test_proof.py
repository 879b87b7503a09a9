"""Before the first student, the instructor's own solution is graded in the same box with the same config.

A grader that cannot grade (gradelib missing in the box, a solution its own
tests fail) must stop the run before anyone is graded, with a sentence that
says what failed, and leave the gradebook as it was; a working grader says so in
one line and grades the class.  Through plain ``nbgrader autograde`` (the
course's pre-convert hook) and ``classgrade`` alike.
"""
import hashlib
import os
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import classroom

import gradelib
from gradelib.grading import proof
from gradelib.grading.sandbox import box as sandbox

ASSIGNMENT = "fixture"
HOW = ["nbgrader", "classgrade"]
WHY_NOT = sandbox.problem(sandbox.find_bwrap())
needs_sandbox = pytest.mark.skipif(WHY_NOT is not None, reason=f"no sandbox on this machine: {WHY_NOT}")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return classroom.make_course(tmp_path_factory.mktemp("proof") / "course", prove=True)


def a_class(template, dest, **config):
    course = classroom.copy_course(template, dest, prove=True, **config)
    right = classroom.source_solutions(course, ASSIGNMENT)
    classroom.submit(course, "ada", ASSIGNMENT, solutions=right)
    classroom.submit(course, "bo", ASSIGNMENT, solutions={k: classroom.wrong(v) for k, v in right.items()})
    return course


def grade(course, how, *extra):
    args = (classroom.nbgrader("autograde", ASSIGNMENT, *extra) if how == "nbgrader"
            else [sys.executable, "-m", "gradelib.grading.classgrade", ASSIGNMENT, *extra])
    proc = classroom.run(args, course, check=False)
    return proc, proc.stdout + proc.stderr


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def break_the_solution(course):
    """The instructor's solution of the first exercise made wrong, after the assignment was generated."""
    (path,) = (course / "source" / ASSIGNMENT).glob("*.ipynb")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "single_neuron_gradients":
            cell.source = classroom.wrong(cell.source)
    nbformat.write(nb, path)


def test_the_solution_as_submitted_is_the_released_notebook_with_the_answers(template):
    """Its locked cells are the released ones (else the tamper check would flag it), its answers the source's."""
    (source,) = (template / "source" / ASSIGNMENT).glob("*.ipynb")
    _, released = classroom.release(template, ASSIGNMENT)
    solution = proof.solution_notebook(str(source))
    answers = classroom.source_solutions(template, ASSIGNMENT)
    mine = {c.metadata.nbgrader["grade_id"]: c for c in solution.cells if "nbgrader" in c.metadata}
    theirs = {c.metadata.nbgrader["grade_id"]: c for c in released.cells if "nbgrader" in c.metadata}
    assert mine.keys() == theirs.keys()
    for grade_id, cell in mine.items():
        if grade_id in answers:
            assert cell.source == answers[grade_id]
        else:
            assert cell.source == theirs[grade_id].source, grade_id
    assert not any("HIDDEN TESTS" in c.source or "BEGIN SOLUTION" in c.source for c in solution.cells)
    assert all(not c.get("outputs") for c in solution.cells if c.cell_type == "code")


@needs_sandbox
@pytest.mark.parametrize("how", HOW)
def test_a_working_grader_says_so_and_grades_the_class(template, tmp_path, how):
    course = a_class(template, tmp_path / "course")
    proc, said = grade(course, how)
    assert proc.returncode == 0, said[-3000:]
    assert f"your solution of {ASSIGNMENT} scored 3 of 3 in the sandbox" in said, said[-3000:]
    book = classroom.gradebook(course, ASSIGNMENT)
    assert set(book) == {"ada", "bo"}   # the solution is graded in a copy, never in the course's gradebook
    assert sum(book["ada"]["scores"].values()) == 3 and sum(book["bo"]["scores"].values()) == 0
    assert not (course / "submitted" / proof.STUDENT).exists()


@needs_sandbox
@pytest.mark.parametrize("how", HOW)
def test_a_solution_that_loses_points_stops_the_run_before_anyone_is_graded(template, tmp_path, how):
    course = a_class(template, tmp_path / "course")
    break_the_solution(course)
    before = digest(course / "gradebook.db")
    proc, said = grade(course, how)
    assert proc.returncode != 0
    assert "Grading stopped before anyone was graded: your own solution of fixture" in said, said[-3000:]
    assert "scored 1 of 3: test_single_neuron 0 of 2" in said, said[-3000:]
    assert "Traceback" not in said
    assert digest(course / "gradebook.db") == before
    assert classroom.gradebook(course, ASSIGNMENT) == {}
    assert not (course / "autograded").exists()


@needs_sandbox
@pytest.mark.parametrize("how", HOW)
def test_a_box_without_gradelib_stops_the_run_and_says_how_to_fix_it(template, tmp_path, how):
    """The box hides gradelib (as when the venv's gradelib is a folder the box does not show)."""
    real = sandbox.find_bwrap()
    hidden = os.path.dirname(os.path.abspath(gradelib.__file__))   # the gradelib folder
    wrapper = tmp_path / "bwrap"
    wrapper.write_text(f"""#!{sys.executable}
import os, sys
args = sys.argv[1:]
if "--" in args:   # a tmpfs over gradelib, after every mount the grader asked for
    args[args.index("--"):args.index("--")] = ["--tmpfs", {hidden!r}]
os.execv({real!r}, [{real!r}] + args)
""")
    wrapper.chmod(0o755)
    course = a_class(template, tmp_path / "course")
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"c.Sandbox.bwrap = {str(wrapper)!r}\n")
    before = digest(course / "gradebook.db")
    proc, said = grade(course, how)
    assert proc.returncode != 0
    assert "Grading stopped before anyone was graded" in said, said[-3000:]
    assert "inside the sandbox `import gradelib` fails" in said and "pip install -e ." in said, said[-3000:]
    assert digest(course / "gradebook.db") == before
    assert classroom.gradebook(course, ASSIGNMENT) == {}


@needs_sandbox
def test_the_switch_grades_without_the_proof(template, tmp_path):
    course = a_class(template, tmp_path / "course")
    break_the_solution(course)
    with open(course / "nbgrader_config.py", "a") as f:
        f.write("c.ProveGrader.enabled = False\n")
    proc, said = grade(course, "classgrade")
    assert proc.returncode == 0, said[-3000:]
    assert "your solution" not in said
    assert set(classroom.gradebook(course, ASSIGNMENT)) == {"ada", "bo"}


def test_a_gradebook_that_is_not_sqlite_stops_the_proof_with_a_sentence_and_no_password(template, tmp_path):
    """The proof grades in a copy of the gradebook, which only an SQLite file gives: another database is refused
    in words that say how to grade anyway, and the URL's password is not repeated."""
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(template)
    config.CourseDirectory.db_url = "postgresql://grader:s3cret@db.example/course"
    found = proof.prove(config, ASSIGNMENT)
    assert not found.passed
    said = proof.sentence(found)
    assert "not an SQLite file" in said and "'postgresql:'" in said, said
    assert "c.ProveGrader.enabled = False" in said
    assert "s3cret" not in said and "db.example" not in said
    assert not (template / "submitted" / proof.STUDENT).exists()
