"""Grading that cannot be fooled and never loses a submission (gradelib.grading), through real nbgrader.

One class of submissions to the fixture assignment (tests/fixtures/course:
single_neuron_gradients for 2 points, softmax for 1) holds honest answers,
every attack of the issue and more, and every fault.  It is graded once by
the parallel class command and once by serial ``nbgrader autograde`` (both
with the verifier), and the honest answers also by plain nbgrader.  The class
is in tests/fixtures/fixture_class.py; the fast tests of the pieces are in
tests/test_grading_units.py.  The course's own notebooks, right, unanswered and
tampered, are graded with the verifier in tests/test_notebooks.py.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import classroom  # noqa: E402

from fixture_class import A, ATTACKS, FAULTS, HONEST, SM, SN  # noqa: E402

def build_class(course):
    for student, (solutions, _) in HONEST.items():
        classroom.submit(course, student, A, solutions=solutions)
    for student, (solutions, edit, _) in ATTACKS.items():
        classroom.submit(course, student, A, solutions=solutions, edit=edit)
    for student, (how, _, _) in FAULTS.items():
        classroom.submit(course, student, A, **how)
    (Path(course) / "submitted" / "fault_empty_folder" / A).mkdir(parents=True)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A course with the whole class submitted, not yet graded."""
    course = classroom.make_course(tmp_path_factory.mktemp("base") / "course", timeout=3, total_timeout=10)
    build_class(course)
    return course


@pytest.fixture(scope="module")
def parallel(base, tmp_path_factory):
    """The class graded by the parallel command: (course, its output, the gradebook)."""
    course = classroom.copy_course(base, tmp_path_factory.mktemp("parallel") / "course", timeout=3, total_timeout=10)
    proc = classroom.run([sys.executable, "-m", "gradelib.grading.classgrade", A, "--jobs", "2"], course)
    return course, proc.stdout, classroom.gradebook(course, A)


@pytest.fixture(scope="module")
def serial(base, tmp_path_factory):
    """The class graded by serial `nbgrader autograde` with the verifier."""
    course = classroom.copy_course(base, tmp_path_factory.mktemp("serial") / "course", timeout=3, total_timeout=10)
    proc = classroom.run(classroom.nbgrader("autograde", A, "--force"), course, check=False)
    return course, proc, classroom.gradebook(course, A)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The honest submissions graded by plain nbgrader (no verifier, nbgrader's own Execute)."""
    course = classroom.make_course(tmp_path_factory.mktemp("plain") / "course", verify=False, timeout=3)
    for student, (solutions, _) in HONEST.items():
        classroom.submit(course, student, A, solutions=solutions)
    classroom.run(classroom.nbgrader("autograde", A, "--force"), course)
    return classroom.gradebook(course, A)


def scores(book, student):
    return {k: v for k, v in book[student]["scores"].items()}


def flagged(book, student):
    return book[student]["flagged"] and any(book[student]["needs_manual"].values())


# ------------------------------------------------------------------ through nbgrader
@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_submissions_score_the_same_with_and_without_the_verifier(parallel, plain, student):
    _, _, book = parallel
    assert scores(book, student) == HONEST[student][1]
    assert scores(plain, student) == HONEST[student][1]
    assert not book[student]["flagged"]
    assert not any(book[student]["needs_manual"].values())


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_every_attack_earns_nothing_for_what_it_attacks_and_is_flagged(parallel, student):
    course, _, book = parallel
    assert scores(book, student) == ATTACKS[student][2]
    assert flagged(book, student), book[student]


def test_the_flag_says_why_in_the_report(parallel):
    course, _, _ = parallel
    report = classroom.autograded(course, "attack_allclose", A).metadata["gradelib"]
    assert "cell 3, line 2: assigns math.isclose" in report["flags"]
    assert "assigns numpy.allclose" in " ".join(report["flags"])
    report = classroom.autograded(course, "attack_transformer_tests", A).metadata["gradelib"]
    assert any("input_transformers_cleanup" in f for f in report["flags"])
    assert report["failed"] == [SN, SM]
    report = classroom.autograded(course, "attack_verifier_stall", A).metadata["gradelib"]
    assert report["unverifiable"] == [SN, SM]


@pytest.mark.parametrize("student", sorted(FAULTS) + ["fault_empty_folder"])
def test_every_fault_is_recorded_with_zero_for_what_could_not_be_graded(parallel, student):
    _, _, book = parallel
    expected, reason = (FAULTS[student][1], FAULTS[student][2]) if student in FAULTS else ({SN: 0.0, SM: 0.0},
                                                                                           "no notebook was submitted")
    assert scores(book, student) == expected
    if reason:
        assert reason in book[student]["comments"]["single_neuron_gradients"]


def test_the_kernel_faults_are_explained_in_the_autograded_notebook(parallel):
    course, _, _ = parallel
    for student, words in [("attack_os_exit", "kernel died"), ("attack_stuck_kernel", "did not stop"),
                           ("fault_deleted_test_cell", "missing from the submitted notebook")]:
        nb = classroom.autograded(course, student, A)
        test = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == SM][0]
        text = " ".join(o.get("evalue", "") for o in test.outputs if o.output_type == "error")
        text += " ".join(o.get("evalue", "") for c in nb.cells if c.cell_type == "code"
                         for o in c.get("outputs", []) if o.output_type == "error")
        assert words in text, (student, text)


def test_the_summary_table_lists_every_student(parallel):
    _, out, book = parallel
    for student in book:
        assert student in out
    assert "FAILED: the submitted notebook is not valid JSON" in out
    assert "FLAGGED" in out


def test_parallel_command_gives_exactly_the_scores_of_serial_nbgrader(parallel, serial):
    _, _, fast = parallel
    _, proc, slow = serial
    for student, entry in fast.items():
        if student in slow:
            assert entry["scores"] == slow[student]["scores"], student
            # what nbgrader graded itself it also flagged the same way
            if entry["auto"] != {k: 0.0 for k in entry["auto"]} or student.startswith(("attack", "honest")):
                assert entry["needs_manual"] == slow[student]["needs_manual"], student
        else:
            # serial nbgrader skips a folder without notebooks; the class command records it as 0
            assert student in ("fault_empty_folder", "fault_missing_notebook") or not any(entry["scores"].values())
            assert not any(entry["scores"].values())


def test_serial_nbgrader_with_the_verifier_also_survives_dying_kernels(serial):
    _, proc, book = serial
    for student in ("attack_os_exit", "attack_segfault", "attack_stuck_kernel"):
        assert scores(book, student) == ATTACKS[student][2]


def test_rerunning_gives_the_same_gradebook(parallel):
    course, _, before = parallel
    again = ["fault_invalid_json", "fault_empty_folder", "attack_os_exit", "attack_hardcoded", "honest_partly"]
    args = [sys.executable, "-m", "gradelib.grading.classgrade", A, "--jobs", "2"]
    for s in again:
        args += ["--student", s]
    classroom.run(args, course)
    after = classroom.gradebook(course, A)
    assert after == before


def test_feedback_names_the_mistake_in_words_and_reveals_no_expected_values(parallel):
    course, _, _ = parallel
    classroom.run(classroom.nbgrader("generate_feedback", A, "--student", "honest_wrong", "--force"), course)
    classroom.run(classroom.nbgrader("generate_feedback", A, "--student", "attack_transformer_tests", "--force"),
                  course)
    honest = (Path(course) / "feedback" / "honest_wrong" / A / f"{A}.html").read_text()
    assert "Every gradient has the wrong sign" in honest
    attack = (Path(course) / "feedback" / "attack_transformer_tests" / A / f"{A}.html").read_text()
    assert "re-ran your cells in a separate, fresh Python process" in attack
    assert "Every gradient has the wrong sign" in attack
    assert "Traceback (most recent call last)" not in honest     # the feedback alone, not gradelib's frames
    for student in ("honest_wrong", "attack_transformer_tests"):
        for cell in classroom.autograded(course, student, A).cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                text = " ".join(o.get("evalue", "") for o in cell.outputs if o.output_type == "error")
                assert text and "For example at" not in text and "yours is" not in text
