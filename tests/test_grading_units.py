"""The pieces of gradelib.grading, fast and without nbgrader: reading cells, the tamper scan, the verifier's
process and the verdict on what it sends back, the gradebook's checks.
"""
import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import classroom  # noqa: E402
from fixture_class import ATTACKS, SM_NAIVE, SM_OK, SN_OK, SN_SIGN, SN_ZERO  # noqa: E402

from gradelib import points  # noqa: E402
from gradelib.exercises import EXERCISES  # noqa: E402
from gradelib.grading.judge import cells, tamper, verdict  # noqa: E402
from gradelib.grading.sandbox import isolate  # noqa: E402
from gradelib.grading.judge.cells import grade_calls, names, slice_given, to_python  # noqa: E402
from gradelib.grading.preprocess.conclude import Report  # noqa: E402
from gradelib.grading.preprocess.integrity import checksum  # noqa: E402


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
    # NaN is JSON for Python, and a NaN answer is an answer, judged wrong, not dropped
    nan = isolate.parse(b'{"probe": "p", "calls": [{"values": [NaN, 1.0]}], "asked": false}').probes["p"]
    assert nan["calls"][0]["values"][1] == 1.0 and nan["calls"][0]["values"][0] != nan["calls"][0]["values"][0]


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


# ------------------------------------------------------------------ where a step cannot run, it says so
def test_a_cell_ipython_cannot_transform_is_read_as_written(monkeypatch):
    import tokenize
    assert to_python("%time x = 1").startswith("get_ipython()")
    monkeypatch.setattr(cells, "_TRANSFORMER", type("Broken", (), {
        "transform_cell": lambda self, source: (_ for _ in ()).throw(tokenize.TokenError("EOF in statement"))})())
    assert to_python("%time x = (") == "%time x = ("
    assert grade_calls("%time x = (") == []   # and then it is not Python: no grade call is read from it


def test_a_damaged_cell_has_no_checksum_and_so_counts_as_changed():
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["nbgrader"] = ["not", "a", "dict"]
    assert checksum(cell) is None
    good = nbformat.v4.new_code_cell("x = 1")
    good.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True, "grade_id": "g",
                                 "schema_version": 3}
    assert isinstance(checksum(good), str)


def test_a_report_is_read_back_only_in_the_shape_it_was_written():
    assert Report.from_json(None) == Report()
    assert Report.from_json({"failed": "everything", "verified": ["t1"]}) == Report(verified=["t1"])
    written = Report(verified=["a"], failed=["b"], unverifiable=["c"], flags=["cell 2, line 1: x"],
                     review={"b": ["why"]})
    assert Report.from_json(json.loads(json.dumps(written.__dict__))) == written


def test_the_learners_gradient_check_and_batch_gradient_are_judged_here_as_in_the_kernel():
    """Out of the kernel each new kind reaches the same verdict and mistakes as gradelib.check."""
    import gradelib
    sources = {
        "central_difference": "def central_difference(f, x):\n    h = 1e-2\n    return (f(x + h) - f(x - h)) / (2 * h)",
        "relative_error": "def relative_error(a, b):\n    return abs(a - b) / max(abs(a), abs(b))",
        "wrong_gradient": "def which_gradient_is_wrong():\n    return 'b'",
        "single_neuron_batch": ("def single_neuron_batch_gradients(X, params, targets):\n"
                                "    return {k: 0.0 for k in params}"),
    }
    seed = int(np.random.default_rng().integers(10 ** 6))
    steps = [{"cell": i, "source": src} for i, src in enumerate(sources.values())]
    for ex in sources:
        steps.append(dict(verdict.questions(ex, seed), probe=ex, function=EXERCISES[ex].notebook_function))
    run = isolate.run(steps, isolate.Limits(cell_seconds=5, total_seconds=60))
    assert run.finished, run.reason
    for ex, src in sources.items():
        ns = {}
        exec(src, ns)
        kernel = gradelib.check(ex, ns[EXERCISES[ex].notebook_function], seed=seed, reveal=False)
        outside = verdict.judge(ex, seed, run.probes[ex], f"{EXERCISES[ex].notebook_function}()")
        assert not outside.passed and outside.mistakes == kernel.mistakes, (ex, outside, kernel)
        assert outside.messages == kernel.messages
