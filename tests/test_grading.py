"""Grading that cannot be fooled and never loses a submission (gradelib.grading), through real nbgrader.

One class of submissions to the fixture assignment (tests/fixtures/course:
single_neuron_gradients for 2 points, softmax for 1) holds honest answers,
every attack of the issue and more, and every fault.  It is graded once by
the parallel class command and once by serial ``nbgrader autograde`` (both
with the verifier), and the honest answers also by plain nbgrader.  The fast
unit tests of the pieces come first.
"""
import json
import math
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import classroom  # noqa: E402

from gradelib import points  # noqa: E402
from gradelib.exercises import EXERCISES  # noqa: E402
from gradelib.grading import isolate, tamper, verdict  # noqa: E402
from gradelib.grading.cells import grade_calls, names, slice_given  # noqa: E402

A = "fixture"
SN, SM = "test_single_neuron", "test_softmax"          # 2 points and 1 point
FULL = {SN: 2.0, SM: 1.0}

SN_OK = classroom.source_solutions(classroom.HERE / "course", A)["single_neuron_gradients"]
SM_OK = classroom.source_solutions(classroom.HERE / "course", A)["softmax"]
SN_SIGN = '''def single_neuron_gradients(x, params, target):
    x1, x2 = x
    z = params["w1"] * x1 + params["w2"] * x2 + params["b"]
    delta = (target - max(z, 0.0)) * (1.0 if z > 0 else 0.0)
    return {"w1": delta * x1, "w2": delta * x2, "b": delta}      # the sign of δ, not of the gradient
'''
SN_ZERO = '''def single_neuron_gradients(x, params, target):
    return {"w1": 0.0, "w2": 0.0, "b": 0.0}
'''
SM_NAIVE = '''def softmax(logits):
    e = np.exp(logits)                  # overflows for logits near 1000
    return e / e.sum()
'''
SM_NOEXP = '''def softmax(logits):
    return logits / logits.sum()
'''


def cells(**by_id):
    return {"single_neuron_gradients": by_id.get("sn", SN_OK), "softmax": by_id.get("sm", SM_OK)}


# ------------------------------------------------------------------ the class
HONEST = {  # student: (solutions, expected scores)
    "honest_correct": (cells(), FULL),
    "honest_partly": (cells(sm=SM_NAIVE), {SN: 2.0, SM: 0.0}),
    "honest_wrong": (cells(sn=SN_SIGN, sm=SM_NOEXP), {SN: 0.0, SM: 0.0}),
    "honest_unanswered": (None, {SN: 0.0, SM: 0.0}),
    # faults an honest notebook can have; the kernel and the verifier must agree on them
    "fault_loop_after_def": (cells(sn=SN_OK + "\nwhile True:\n    pass\n"), FULL),
    "fault_memory_error": (cells(sn="ballast = bytes(10 ** 13)\n" + SN_OK), {SN: 0.0, SM: 1.0}),
    "fault_memory_growth": (cells(sn=SN_OK + textwrap.dedent('''
        def hog():
            chunks = []
            while True:
                chunks.append(bytes(10 ** 8))
        try:
            hog()
        except MemoryError:
            print("out of memory")
        ''')), FULL),
}

TRANSFORMER_TESTS_ONLY = '''
get_ipython().input_transformers_cleanup.append(
    lambda lines: [] if any("gradelib.grade" in line for line in lines) else lines)
'''
AST_STRIP = '''
import ast
class DropGrade(ast.NodeTransformer):
    def visit_Expr(self, node):
        return None if "grade" in ast.dump(node) else node
get_ipython().ast_transformers.append(DropGrade())
'''
HARDCODED = '''
from gradelib import points
from gradelib.exercises import NETWORKS
TABLE = {}
for seed in range(4):          # the visible seed and the hidden ones a student might guess
    pts = points.choose(NETWORKS["single_neuron"], seed)
    for i in range(len(pts)):
        x, params, target = pts.call_args(i, False)
        TABLE[(x, tuple(params.values()), target)] = gradelib.numerical_gradient("single_neuron", x, params, target)

def single_neuron_gradients(x, params, target):
    return dict(TABLE.get((tuple(x), tuple(params.values()), target), {"w1": 0.0, "w2": 0.0, "b": 0.0}))
'''
ENV_DETECT = '''
import builtins
def single_neuron_gradients(x, params, target):
    x1, x2 = x
    z = params["w1"] * x1 + params["w2"] * x2 + params["b"]
    delta = (target - max(z, 0.0)) * (1.0 if z > 0 else 0.0)
    sign = -1.0 if hasattr(builtins, "__IPYTHON__") else 1.0     # right only inside a kernel
    return {"w1": sign * delta * x1, "w2": sign * delta * x2, "b": sign * delta}
'''
ORACLE = '''
def single_neuron_gradients(x, params, target):
    gradelib.oracle.GUARD.depth = 0          # switch off the refusal, then borrow the answer
    return gradelib.numerical_gradient("single_neuron", x, params, target)
'''
FORGE = SN_OK + '''
import builtins, json, os
if not hasattr(builtins, "__IPYTHON__"):      # only in the verifier's process
    fake = json.dumps({"probe": "test_single_neuron#0", "calls": [], "asked": False}) + "\\n"
    for fd in range(3, 40):
        try:
            os.write(fd, fake.encode())
        except OSError:
            pass
'''
VERIFIER_STALL = SN_OK + '''
import builtins, signal
if not hasattr(builtins, "__IPYTHON__"):      # only in the verifier's process: outlast its clock
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass
'''


def edit_test_cell(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == SM:
            cell.source = "pass"
            meta["points"] = 100


def delete_cell(grade_id):
    def edit(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return edit


def duplicate_cells(nb):
    out = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in ("single_neuron_gradients", SN):
            twin = nbformat.from_dict(json.loads(json.dumps(cell)))
            twin["id"] = f"{cell.get('id', 'cell')}-copy"      # as JupyterLab's copy and paste does
            if grade_id == "single_neuron_gradients":
                twin.source = SN_SIGN       # an old wrong version above the final answer
            out.append(twin)
        out.append(cell)
    nb.cells = out


def damage_metadata(nb):
    """What plain nbgrader cannot read: a schema from the future and a grade cell it never made."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == SM:
            cell.metadata["nbgrader"]["schema_version"] = 99
    bonus = nbformat.v4.new_code_cell("pass")
    bonus.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "bonus",
                                  "points": 50, "schema_version": 3}
    nb.cells.append(bonus)


# student: (solutions, edit, expected scores, flagged)
ATTACKS = {
    "attack_eq_liar": (cells(sn='''
class Liar(float):
    def __eq__(self, other):
        return True
    __hash__ = float.__hash__
def single_neuron_gradients(x, params, target):
    return {"w1": Liar(0.0), "w2": Liar(0.0), "b": Liar(0.0)}
'''), None, {SN: 0.0, SM: 1.0}),
    "attack_transformer_all": (cells(sn=SN_ZERO + "\nget_ipython().input_transformers_cleanup.append(lambda lines: [])",
                                     sm=SM_NOEXP), None, {SN: 0.0, SM: 0.0}),
    "attack_transformer_tests": (cells(sn=SN_SIGN + TRANSFORMER_TESTS_ONLY, sm=SM_NOEXP), None, {SN: 0.0, SM: 0.0}),
    "attack_ast_transformer": (cells(sn=SN_SIGN + AST_STRIP, sm=SM_NOEXP), None, {SN: 0.0, SM: 0.0}),
    "attack_custom_exc": (cells(sn=SN_SIGN + "\nget_ipython().set_custom_exc((AssertionError,), "
                                             "lambda *args, **kwargs: None)"), None, {SN: 0.0, SM: 1.0}),
    "attack_allclose": (cells(sn="import math\nmath.isclose = lambda *a, **k: True\n" + SN_SIGN,
                              sm="np.allclose = lambda *a, **k: True\n" + SM_NOEXP), None, {SN: 0.0, SM: 0.0}),
    "attack_replace_grade": (cells(sn=SN_SIGN + "\ngradelib.grade = lambda *args, **kwargs: None", sm=SM_NOEXP),
                             None, {SN: 0.0, SM: 0.0}),
    "attack_patch_checker": (cells(sn=SN_SIGN + "\nimport sys\nsys.modules['gradelib.check'].close = "
                                                "lambda *args: True"), None, {SN: 0.0, SM: 1.0}),
    "attack_hardcoded": (cells(sn=HARDCODED), None, {SN: 0.0, SM: 1.0}),
    "attack_env_detect": (cells(sn=ENV_DETECT), None, {SN: 0.0, SM: 1.0}),
    "attack_oracle": (cells(sn=ORACLE), None, {SN: 0.0, SM: 1.0}),
    "attack_forge_answers": (cells(sn=FORGE), None, {SN: 0.0, SM: 1.0}),
    # it stops the verifier itself, so nothing after it can be verified
    "attack_verifier_stall": (cells(sn=VERIFIER_STALL), None, {SN: 0.0, SM: 0.0}),
    "attack_edit_test_cell": (cells(sm=SM_NOEXP), edit_test_cell, {SN: 2.0, SM: 0.0}),
    "attack_os_exit": (cells(sm="import os\nos._exit(0)\n" + SM_OK), None, {SN: 2.0, SM: 0.0}),
    "attack_segfault": (cells(sm="import ctypes\nctypes.string_at(0)\n" + SM_OK), None, {SN: 2.0, SM: 0.0}),
    "attack_stuck_kernel": (cells(sm="import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                     "while True:\n    pass\n" + SM_OK), None, {SN: 2.0, SM: 0.0}),
}

FAULTS = {  # student: (how to submit, expected scores, reason expected in the gradebook comment or None)
    "fault_invalid_json": (dict(raw=b'{"cells": [ this is not json'), {SN: 0.0, SM: 0.0}, "not valid JSON"),
    "fault_missing_notebook": (dict(raw=b"my answers are in my head", name="notes"), {SN: 0.0, SM: 0.0},
                               "no notebook named fixture.ipynb was submitted (the folder has notes.ipynb)"),
    "fault_deleted_test_cell": (dict(solutions=cells(), edit=delete_cell(SM)), {SN: 2.0, SM: 0.0}, None),
    "fault_deleted_solution": (dict(solutions=cells(), edit=delete_cell("single_neuron_gradients")),
                               {SN: 0.0, SM: 1.0}, None),
    "fault_duplicated_cells": (dict(solutions=cells(), edit=duplicate_cells), FULL, None),
    "fault_damaged_metadata": (dict(solutions=cells(), edit=damage_metadata), FULL, None),
}


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


# ------------------------------------------------------------------ the course's own notebooks
COURSE = ("01_single_neuron", "02_relu_chain", "03_softmax_223")


@pytest.fixture(scope="module")
def course_notebooks(tmp_path_factory):
    """The three course assignments, each with a correct, an unanswered and a tampered submission."""
    present = [a for a in COURSE if (classroom.REPO / "source" / a / f"{a}.ipynb").exists()]
    if not present:
        pytest.skip("the course notebooks are not written yet")
    course = classroom.make_course(tmp_path_factory.mktemp("course") / "course", present,
                                   source=classroom.REPO / "source", timeout=60)
    for a in present:
        right = classroom.source_solutions(course, a)
        first = next(iter(right))
        tampered = {k: classroom.wrong(v) for k, v in right.items()}
        tampered[first] += TRANSFORMER_TESTS_ONLY
        classroom.submit(course, "correct", a, solutions=right)
        classroom.submit(course, "unanswered", a)
        classroom.submit(course, "tampered", a, solutions=tampered)
        classroom.run([sys.executable, "-m", "gradelib.grading.classgrade", a, "--jobs", "2"], course)
    return course, {a: classroom.gradebook(course, a) for a in present}


def test_course_notebooks_pass_verification_when_right_and_fail_it_when_tampered(course_notebooks):
    course, books = course_notebooks
    for a, book in books.items():
        assert book["correct"]["scores"] == book["correct"]["max"], a
        assert not book["correct"]["flagged"] and not any(book["correct"]["needs_manual"].values()), a
        assert not any(book["unanswered"]["scores"].values()), a
        assert not any(book["tampered"]["scores"].values()), a
        assert book["tampered"]["flagged"] and all(book["tampered"]["needs_manual"].values()), a
        report = classroom.autograded(course, "correct", a).metadata["gradelib"]
        assert sorted(report["verified"]) == sorted(book["correct"]["scores"]) and not report["flags"], a


# ------------------------------------------------------------------ the pieces, fast
def test_tamper_scan_finds_the_attacks_and_nothing_in_honest_answers():
    aliases = tamper.module_aliases(["import gradelib\nimport numpy as np\nimport math"])
    honest = [(1, SN_OK), (2, SM_OK), (3, SN_SIGN), (4, SM_NAIVE), (5, "print(np.exp(1.0))\nnp.random.seed(0)"),
              (6, "params = {'w1': 1.0}\nparams['w1'] -= 0.1\ngradelib.check('softmax', softmax)")]
    assert tamper.scan(honest, aliases) == []
    for student, (solutions, _, _) in ATTACKS.items():
        if student in ("attack_edit_test_cell", "attack_env_detect", "attack_hardcoded"):
            continue   # caught by the comparison of locked cells and by the verifier, not by the scan
        sources = ["import gradelib\nimport numpy as np"] + list(solutions.values())
        found = tamper.scan(list(enumerate(sources)), tamper.module_aliases(sources))
        assert found, student


def test_honest_solutions_of_the_course_notebooks_raise_no_flag():
    sources = sorted((classroom.REPO / "source").glob("*/*.ipynb"))
    if not sources:
        pytest.skip("the course notebooks are not written yet")
    for path in sources:
        nb = nbformat.read(path, as_version=4)
        code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        aliases = tamper.module_aliases(src for _, src in code)
        student = [(i, src) for i, src in code if nb.cells[i].metadata.get("nbgrader", {}).get("solution")]
        assert tamper.scan(student, aliases) == [], path


def test_grade_calls_are_read_from_the_instructor_source():
    source = ('"""doc"""\ngradelib.grade("relu_chain", relu_chain_gradients)\n### BEGIN HIDDEN TESTS\n'
              'gradelib.grade("relu_chain", relu_chain_gradients, seed=2, reveal=True)\n### END HIDDEN TESTS')
    found = [(c.exercise, c.function, c.seed, c.reveal) for c in grade_calls(source)]
    assert found == [("relu_chain", "relu_chain_gradients", 0, False), ("relu_chain", "relu_chain_gradients", 2, True)]
    assert grade_calls("assert softmax([0.0]) == [1.0]") == []


def test_the_verifier_runs_only_the_given_cells_the_answer_needs():
    used, bound = names("def f(x, params, target):\n    return helper(x) + np.sum(params)")
    assert {"helper", "np"} <= used and "params" not in used and bound == {"f"}
    given = [(1, "import numpy as np\nfrom gradelib.draw import draw_network, new_figure"),
             (2, "def helper(x):\n    return RATE * x"), (3, "RATE = 2\nSCALE = {}\nSCALE['w'] = RATE"),
             (4, "fig = plot(losses)"), (5, "gradelib.check('x', f)"), (6, "CONSTS = {}\nCONSTS['a'] = 1")]
    chosen = slice_given(["def f(x, params, target):\n    return helper(x) + np.sum(params) + SCALE['w']"],
                         given, ["f"])
    assert chosen == {1: "import numpy as np", 2: "def helper(x):\n    return RATE * x",
                      3: "RATE = 2\nSCALE = {}\nSCALE['w'] = RATE"}


def test_answers_come_back_as_plain_numbers_and_are_judged_here():
    steps = [{"cell": 0, "source": "import gradelib\nimport numpy as np"},
             {"cell": 1, "source": SN_OK}, {"cell": 2, "source": SM_NAIVE}]
    for seed in (0, 123456789):
        steps.append(dict(verdict.questions("single_neuron", seed), probe=f"sn{seed}", function="single_neuron_gradients"))
        steps.append(dict(verdict.questions("softmax", seed), probe=f"sm{seed}", function="softmax"))
    run = isolate.run(steps, isolate.Limits(cell_seconds=5, total_seconds=30))
    assert run.finished, run.reason
    for seed in (0, 123456789):
        assert verdict.judge("single_neuron", seed, run.probes[f"sn{seed}"], "f()").passed
        result = verdict.judge("softmax", seed, run.probes[f"sm{seed}"], "softmax()")
        assert not result.passed and result.mistakes == ["softmax_overflow"]


def test_the_verdict_agrees_with_gradelib_check_on_the_same_numbers():
    """judge() on numbers computed in-process gives check()'s verdict and mistakes."""
    import gradelib
    net = EXERCISES["single_neuron"].network
    ns = {"np": np, "gradelib": gradelib}
    for source in (SN_OK, SN_SIGN, SN_ZERO):
        exec(source, ns)
        fn = ns["single_neuron_gradients"]
        pts = points.choose(net, 5)
        calls = [{"values": [fn(*pts.call_args(i, False))[k] for k in net.params]} for i in range(len(pts))]
        mine = verdict.judge("single_neuron", 5, {"calls": calls, "asked": False}, "f()")
        theirs = gradelib.check("single_neuron", fn, seed=5)
        assert (mine.passed, mine.mistakes) == (theirs.passed, theirs.mistakes)


def test_malformed_or_repeated_answers_are_never_trusted():
    good = json.dumps({"probe": "p", "calls": [{"values": [1.0, 2.0]}], "asked": False})
    assert isolate.parse((good + "\n").encode()).probes["p"]["calls"] == [{"values": [1.0, 2.0]}]
    twice = isolate.parse(f"{good}\n{good}\n".encode())
    assert "invalid" in twice.probes["p"]
    for bad in ('{"probe": "p", "calls": [{"values": ["1.0"]}], "asked": false}',
                '{"probe": "p", "calls": [{"values": [true]}], "asked": false}',
                '{"probe": "p", "calls": [{"values": [1], "extra": 1}], "asked": false}',
                '{"probe": "p", "calls": "all right", "asked": false}'):
        assert "invalid" in isolate.parse(bad.encode()).probes["p"]
    with pytest.raises(verdict.Unverifiable):
        verdict.judge("single_neuron", 0, {"invalid": "x"}, "f()")
    assert math.isnan(json.loads('{"v": NaN}')["v"])


def test_the_verifier_process_is_isolated_and_limited():
    probe = ("import os, sys, json, resource\n"
             "seen = {'cwd': os.getcwd(), 'env': sorted(os.environ), 'flags': sys.flags.isolated,\n"
             "        'mem': resource.getrlimit(resource.RLIMIT_AS)[0]}\n"
             "def f(logits):\n    return [seen['flags'], seen['mem'] / 2**20, len(seen['env'])]\n")
    steps = [{"cell": 0, "source": probe},
             {"probe": "p", "function": "f", "kind": "softmax", "calls": [[[0.0, 0.0, 0.0]]], "tolerate": []}]
    run = isolate.run(steps, isolate.Limits(memory_bytes=1024 ** 3))
    isolated, mem_mb, n_env = run.probes["p"]["calls"][0]["values"]
    assert isolated == 1 and mem_mb == 1024 and n_env <= 12
