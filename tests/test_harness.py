"""gradelib/grading/sandbox/harness.py on its own: the job it reads, the records it writes, the oracle it withdraws.

Each test runs the harness as the grader does, ``python -I harness.py`` with a JSON job on stdin, but without the
sandbox or isolate's bookkeeping, so that a failure names the harness.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradelib.grading.sandbox import harness
from gradelib.grading.judge import verdict

HARNESS = Path(harness.__file__)


def run_harness(steps, cell_seconds=10.0, timeout=60):
    job = {"steps": steps, "limits": {"cell_seconds": cell_seconds}}
    done = subprocess.run([sys.executable, "-I", str(HARNESS)], input=json.dumps(job), capture_output=True,
                          text=True, timeout=timeout)
    return [json.loads(line) for line in done.stdout.splitlines()]


def probe(exercise, function, seed=0, name="p"):
    return dict(verdict.questions(exercise, seed), probe=name, function=function)


SN_RIGHT = '''
def single_neuron_gradients(x, params, target):
    z = params["w1"] * x[0] + params["w2"] * x[1] + params["b"]
    d = -(target - max(z, 0.0)) * (1.0 if z > 0 else 0.0)
    return {"w1": d * x[0], "w2": d * x[1], "b": d}
'''


def test_a_probe_sends_back_plain_numbers_and_the_run_ends_with_done():
    records = run_harness([{"cell": 0, "source": SN_RIGHT}, probe("single_neuron", "single_neuron_gradients")])
    assert records[-1] == {"done": True}
    answer = records[0]
    assert answer["probe"] == "p" and answer["asked"] is False
    assert all(len(c["values"]) == 3 and all(type(v) is float for v in c["values"]) for c in answer["calls"])


def test_a_function_that_is_not_defined_is_named():
    records = run_harness([probe("single_neuron", "single_neuron_gradients")])
    assert records[0] == {"probe": "p", "missing": "single_neuron_gradients is not defined at this test cell"}


def test_the_withdrawn_oracle_answers_nan_even_with_the_refusal_switched_off():
    borrow = '''
import gradelib
def single_neuron_gradients(x, params, target):
    gradelib.oracle.GUARD.depth = 0
    from gradelib.oracle import numerical_gradient
    return numerical_gradient("single_neuron", x, params, target)
'''
    records = run_harness([{"cell": 0, "source": borrow}, probe("single_neuron", "single_neuron_gradients")])
    values = [v for c in records[0]["calls"] for v in c["values"]]
    assert values and all(v != v for v in values)  # NaN


def test_a_softmax_built_on_gradelibs_own_counts_as_asking():
    borrow = "import gradelib\ndef softmax(logits):\n    return gradelib.softmax(list(logits))\n"
    records = run_harness([{"cell": 0, "source": borrow}, probe("softmax", "softmax")])
    assert records[0]["asked"] is True


def test_a_cell_that_trains_keeps_its_own_time_limit():
    # train() calls the update under a 2 s limit of its own; the cell's limit must still stop the loop after it
    cell = '''
from gradelib.train import initial_params, regression_data, train
def update(x, params, target, eta):
    return dict(params)
train("single_neuron", update, initial_params("single_neuron"), regression_data("single_neuron", n=3), 0.1, 1)
while True:
    pass
'''
    records = run_harness([{"cell": 0, "source": cell}, {"cell": 1, "source": SN_RIGHT},
                           probe("single_neuron", "single_neuron_gradients")], cell_seconds=3.0, timeout=30)
    assert records[-1] == {"done": True} and "calls" in records[0]


def test_a_failing_cell_is_named_in_the_next_probes_record_and_the_probes_still_run():
    records = run_harness([{"cell": 0, "source": "1 / 0"}, {"cell": 1, "source": SN_RIGHT},
                           probe("single_neuron", "single_neuron_gradients", name="p"),
                           probe("single_neuron", "single_neuron_gradients", name="q")])
    assert records[0]["probe"] == "p" and records[0]["cells_failed"] == [[0, "ZeroDivisionError"]]
    assert "calls" in records[0] and "cells_failed" not in records[1] and records[-1] == {"done": True}


@pytest.mark.parametrize("step", [
    {"probe": "p", "function": "f", "kind": "softmax", "calls": [[[0.0, 0.0, 0.0]]], "tolerate": [0]},
    {"probe": "p", "function": "f", "kind": "network", "calls": [], "keys": ["w1"], "what": "gradients",
     "tolerate": []},
], ids=["softmax", "network"])
def test_the_job_reads_the_json_the_grader_sends(step):
    job = harness.Job.from_json({"steps": [{"cell": 3, "source": "x = 1"}, step], "job_file": "/tmp/j"})
    cell, read = job.steps
    assert cell == harness.Cell(3, "x = 1") and read.id == "p" and read.kind == step["kind"]
    assert read.tolerate == frozenset(step["tolerate"]) and job.cell_seconds == harness.CELL_SECONDS


def test_the_learners_checker_is_called_on_polynomials_built_from_their_coefficients():
    """The "difference" probe sends coefficients; the harness builds f, calls central_difference, sends floats."""
    forward = "def central_difference(f, x):\n    return (f(x + 1e-6) - f(x)) / 1e-6\n"
    records = run_harness([{"cell": 0, "source": forward}, probe("central_difference", "central_difference")])
    values = [c["values"][0] for c in records[0]["calls"]]
    cases = verdict.questions("central_difference", 0)["calls"]
    assert len(values) == len(cases) and values[1] == pytest.approx(1e-6)   # f(t) = t² at 0: forward gives h
    assert not verdict.judge("central_difference", 0, records[0], "f()").passed
