"""gradelib.pieces: the staged local gradients (δ's, output errors, hidden errors, hidden deltas).

The pieces below are written here from the notes, in plain Python, with knobs
that put in one slip each; gradelib's verdict must pass the right ones and name
each slip, in the kernel (check) and in the grader's verifier (harness + verdict).
"""
import json
import subprocess
import sys
import types
from functools import partial

import numpy as np
import pytest

import gradelib
from gradelib import oracle, pieces, points
from gradelib.exercises import EXERCISES, NETWORKS
from gradelib.grading.sandbox import harness
from gradelib.grading.judge import verdict

SEEDS = (0, 5, 17)
relu = partial(max, 0.0)


def gate(z):
    return 1.0 if z > 0 else 0.0


# ---------------------------------------------------------------- the chain's δ's, from notes 000

def chain_deltas(x, params, target, *, sign=1.0, gate2=True, own_gate=True, through_w12=True, from_err=False):
    (x1,) = x
    z1 = params["w11"] * x1 + params["b1"]
    Y1 = relu(z1)
    z2 = params["w12"] * Y1 + params["b2"]
    Err2 = target - relu(z2)
    delta2 = sign * Err2 * (gate(z2) if gate2 else 1.0)
    delta1 = (sign * Err2 if from_err else delta2) * (params["w12"] if through_w12 else 1.0) \
        * (gate(z1) if own_gate else gate(z2))
    return {"delta2": delta2, "delta1": delta1}


# ---------------------------------------------------------------- the 2-2-3 pieces, from notes 002

def forward(x, p):
    X1, X2 = x
    z = {3: p["W13"] * X1 + p["W23"] * X2 + p["b3"], 4: p["W14"] * X1 + p["W24"] * X2 + p["b4"]}
    Y = {h: relu(z[h]) for h in (3, 4)}
    out = {k: p[f"W3{k}"] * Y[3] + p[f"W4{k}"] * Y[4] + p[f"b{k}"] for k in (5, 6, 7)}
    m = max(out.values())
    S = sum(np.exp(v - m) for v in out.values())
    P = {k: float(np.exp(out[k] - m) / S) for k in (5, 6, 7)}
    return z, Y, P


def output_errors(x, p, target, *, minus_one="target", sign=1.0, only_target=False):
    _, _, P = forward(x, p)
    one = {"target": lambda k: float(k == target), "none": lambda k: 0.0, "all": lambda k: 1.0}[minus_one]
    e = {k: sign * (P[k] - one(k)) for k in (5, 6, 7)}
    if only_target:
        e = {k: e[k] if k == target else 0.0 for k in e}
    return e


def hidden_errors(x, p, target, *, swap=False, gated=False, **slip):
    z, _, _ = forward(x, p)
    e = output_errors(x, p, target, **slip)
    d = {h: sum(e[k] * p[f"W{(7 - h) if swap else h}{k}"] for k in (5, 6, 7)) for h in (3, 4)}
    return {h: d[h] * (gate(z[h]) if gated else 1.0) for h in (3, 4)}


def hidden_deltas(x, p, target, *, local="gate", sign=1.0, **slip):
    z, Y, _ = forward(x, p)
    d = hidden_errors(x, p, target, **slip)
    factor = {"gate": lambda h: gate(z[h]), "none": lambda h: 1.0, "other": lambda h: gate(z[7 - h]),
              "Y": lambda h: Y[h]}[local]
    return {h: sign * d[h] * factor(h) for h in (3, 4)}


def as_piece(fn, prefix):
    return lambda x, p, t: {f"{prefix}{k}": v for k, v in fn(x, p, t).items()}


RIGHT = {"relu_chain_deltas": chain_deltas,
         "softmax_223_output_errors": as_piece(output_errors, "Y"),
         "softmax_223_hidden_errors": as_piece(hidden_errors, "Y"),
         "softmax_223_hidden_deltas": as_piece(hidden_deltas, "z")}

SLIPS = [
    ("relu_chain_deltas", partial(chain_deltas, sign=-1.0), "delta_sign"),
    ("relu_chain_deltas", partial(chain_deltas, gate2=False), "delta2_no_relu_prime"),
    ("relu_chain_deltas", partial(chain_deltas, from_err=True, gate2=True), "delta1_err_not_delta2"),
    ("relu_chain_deltas", partial(chain_deltas, through_w12=False), "delta1_no_w12"),
    ("relu_chain_deltas", partial(chain_deltas, own_gate=False), "delta1_wrong_gate"),
    ("softmax_223_output_errors", as_piece(partial(output_errors, minus_one="none"), "Y"), "output_error_no_minus_one"),
    ("softmax_223_output_errors", as_piece(partial(output_errors, minus_one="all"), "Y"),
     "output_error_minus_one_everywhere"),
    ("softmax_223_output_errors", as_piece(partial(output_errors, sign=-1.0), "Y"), "output_error_sign"),
    ("softmax_223_output_errors", as_piece(partial(output_errors, only_target=True), "Y"), "output_error_target_only"),
    ("softmax_223_hidden_errors", as_piece(partial(hidden_errors, only_target=True), "Y"), "hidden_error_target_only"),
    ("softmax_223_hidden_errors", as_piece(partial(hidden_errors, swap=True), "Y"), "hidden_error_swapped_weights"),
    ("softmax_223_hidden_errors", as_piece(partial(hidden_errors, gated=True), "Y"), "hidden_error_through_relu"),
    ("softmax_223_hidden_errors", as_piece(partial(hidden_errors, minus_one="none"), "Y"), "hidden_error_no_minus_one"),
    ("softmax_223_hidden_errors", as_piece(partial(hidden_errors, sign=-1.0), "Y"), "hidden_error_sign"),
    ("softmax_223_hidden_deltas", as_piece(partial(hidden_deltas, local="none"), "z"), "hidden_delta_no_relu_prime"),
    ("softmax_223_hidden_deltas", as_piece(partial(hidden_deltas, local="other"), "z"), "hidden_delta_swapped_gate"),
    ("softmax_223_hidden_deltas", as_piece(partial(hidden_deltas, local="Y"), "z"), "hidden_delta_times_Y"),
    ("softmax_223_hidden_deltas", as_piece(partial(hidden_deltas, sign=-1.0), "z"), "hidden_delta_sign"),
    ("softmax_223_hidden_deltas", as_piece(partial(hidden_deltas, only_target=True), "z"), "hidden_delta_target_only"),
]


@pytest.mark.parametrize("exercise", list(RIGHT))
def test_the_right_pieces_pass_at_every_seed(exercise):
    for seed in SEEDS:
        r = gradelib.check(exercise, RIGHT[exercise], seed=seed)
        assert r.passed, (seed, str(r))


@pytest.mark.parametrize("exercise,fn,mistake", SLIPS, ids=[s[2] for s in SLIPS])
def test_each_slip_of_a_piece_is_named_alone(exercise, fn, mistake):
    for seed in SEEDS:
        r = gradelib.check(exercise, fn, seed=seed, reveal=True)
        assert not r.passed and r.mistakes == [mistake], (seed, str(r))
        assert "yours is" in r.messages[0]


def test_an_unknown_slip_gets_the_pieces_meaning_and_every_wrong_key():
    r = gradelib.check("softmax_223_hidden_errors", lambda x, p, t: {"Y3": 0.5, "Y4": -0.25})
    assert r.mistakes == ["wrong_value"] and set(r.per_parameter) == {"Y3", "Y4"}
    assert "dLoss/dY3 and dLoss/dY4 are not right" in r.messages[0]
    r = gradelib.check("relu_chain_deltas", lambda x, p, t: dict(chain_deltas(x, p, t), delta1=3.0))
    assert set(r.per_parameter) == {"delta1"} and "δ1 = −dLoss/dz1" in r.messages[0]


# ---------------------------------------------------------------- the node oracle is the loss's, not a formula

@pytest.mark.parametrize("name", ["relu_chain", "softmax_223"])
def test_node_derivatives_agree_with_the_parameter_oracle(name):
    """A bias enters its node's z (or a linear output's Y) with factor 1: dLoss/dz_j = dLoss/db_j."""
    net = NETWORKS[name]
    pts = points.choose(net, 3)
    G = pieces.node_gradients(net, pts.X, pts.P, pts.T, pieces.all_nodes(net))
    B = oracle.loss_gradients(net, pts.X, pts.P, pts.T)
    for p, (src, dst) in net.edges.items():
        if src is None:
            node = net.relus[dst].pre if dst in net.relus else dst
            assert np.allclose(G[node], B[p], atol=1e-8), (p, node)
        elif src in net.relus:   # dLoss/dW_ij = dLoss/dz_j · Y_i, so dLoss/dz_j is the weight's gradient per Y_i
            node = net.relus[dst].pre if dst in net.relus else dst
            assert np.allclose(G[node] * pts.state[src], B[p], atol=1e-8), (p, node)


def test_a_hidden_nodes_derivative_sums_over_its_parents():
    net = NETWORKS["softmax_223"]
    pts = points.choose(net, 8)
    G = pieces.node_gradients(net, pts.X, pts.P, pts.T, ["Y3", "Y5", "Y6", "Y7"])
    assert np.allclose(G["Y3"], sum(G[f"Y{k}"] * pts.P[f"W3{k}"] for k in (5, 6, 7)), atol=1e-8)


def test_the_node_oracle_refuses_inside_a_learners_function():
    net = NETWORKS["relu_chain"]

    def sneaky(x, params, target):
        g = pieces.at_point(net, x, params, target)
        return {"delta2": -g["z2"], "delta1": -g["z1"]}
    r = gradelib.check("relu_chain_deltas", sneaky)
    assert r.mistakes == ["oracle_borrowed"]


# ---------------------------------------------------------------- bad answers: a sentence, never a traceback

@pytest.mark.parametrize("answer,mistake", [
    (None, "none"), ("0.5", "wrong_type"), ({"delta2": 1.0}, "missing_key"),
    ({"delta2": float("nan"), "delta1": 0.0}, "not_finite"), ({"delta2": "x", "delta1": 0.0}, "wrong_type"),
    ({"delta2": np.zeros(2), "delta1": 0.0}, "wrong_shape")])
def test_a_bad_answer_is_named(answer, mistake, capfd):
    r = gradelib.check("relu_chain_deltas", lambda x, p, t: answer)
    assert r.mistakes == [mistake], str(r)
    assert capfd.readouterr().err == ""


def test_an_exception_and_an_endless_loop_are_named(capfd):
    def boom(x, p, t):
        raise ZeroDivisionError("no")

    def forever(x, p, t):
        while True:
            pass
    assert gradelib.check("softmax_223_output_errors", boom).mistakes == ["exception"]
    assert gradelib.check("softmax_223_output_errors", forever).mistakes == ["timeout"]
    assert capfd.readouterr().err == ""


# ---------------------------------------------------------------- the full gradient names the piece it inherits from

NOTEBOOK = '''
import gradelib

def relu_chain_deltas(x, params, target):
    return CHAIN(x, params, target)

def relu_chain_gradients(x, params, target):
    d = relu_chain_deltas(x, params, target)
    (x1,) = x
    Y1 = max(params["w11"] * x1 + params["b1"], 0.0)
    return {"w11": -d["delta1"] * x1, "b1": -d["delta1"], "w12": -d["delta2"] * Y1, "b2": -d["delta2"]}

def independent_gradients(x, params, target):
    d = REFERENCE(x, params, target)
    (x1,) = x
    Y1 = max(params["w11"] * x1 + params["b1"], 0.0)
    return {"w11": -d["delta1"] * x1 * 2, "b1": -d["delta1"], "w12": -d["delta2"] * Y1, "b2": -d["delta2"]}
'''


def notebook(chain, **extra):
    ns = {"CHAIN": chain, "REFERENCE": chain_deltas, **extra}
    exec(compile(NOTEBOOK, "<notebook>", "exec"), ns)
    return ns


def test_a_full_gradient_built_on_a_wrong_piece_names_the_piece():
    ns = notebook(partial(chain_deltas, through_w12=False))
    r = gradelib.check("relu_chain", ns["relu_chain_gradients"])
    assert not r.passed
    assert r.messages[0].startswith("Your relu_chain_deltas() gets δ1 wrong, and the gradients built on it inherit")
    assert "δ2" not in r.messages[0]


def test_a_right_piece_or_none_adds_nothing():
    ns = notebook(chain_deltas)
    wrong = gradelib.check("relu_chain", ns["independent_gradients"])
    assert not wrong.passed and "relu_chain_deltas" not in str(wrong)
    assert gradelib.check("relu_chain", ns["relu_chain_gradients"]).passed
    del ns["relu_chain_deltas"]
    assert "relu_chain_deltas" not in str(gradelib.check("relu_chain", ns["independent_gradients"]))


def test_a_wrong_piece_the_learners_own_gradients_do_not_use_is_mentioned_as_such():
    ns = notebook(partial(chain_deltas, sign=-1.0))
    classmate = ns["independent_gradients"]     # another function of the same notebook: not the learner's own
    assert "relu_chain_deltas" not in str(gradelib.check("relu_chain", classmate))
    own = types.FunctionType(classmate.__code__, ns, "relu_chain_gradients")
    r = gradelib.check("relu_chain", own)
    assert r.messages[0].startswith("Your relu_chain_deltas() gets δ2 and δ1 wrong too")


class Liar:
    """A trick object among the globals: every question it is asked raises."""

    def __eq__(self, other):
        raise RuntimeError("asked")

    def __hash__(self):
        return hash("relu_chain_deltas")

    def __call__(self, *args):
        raise RuntimeError("called")


def test_a_trick_object_among_the_globals_is_never_asked(capfd):
    ns = notebook(partial(chain_deltas, through_w12=False))
    ns["relu_chain_deltas"] = Liar()      # a callable object, not a function: not a piece to check
    r = gradelib.check("relu_chain", ns["independent_gradients"])
    assert not r.passed and "relu_chain_deltas" not in str(r)
    del ns["relu_chain_deltas"]
    ns[Liar()] = "a key whose hash is the piece's name and whose == raises"
    for name in ("independent_gradients", "relu_chain_gradients"):
        fn = types.FunctionType(ns[name].__code__, ns)
        r = gradelib.check("relu_chain", fn)
        assert not r.passed and not r.messages[0].startswith("Your relu_chain_deltas()"), str(r)
    assert capfd.readouterr().err == ""


def test_the_softmax_gradient_names_each_wrong_piece_upstream_first():
    ns = {"np": np}
    ns["softmax_223_output_errors"] = as_piece(partial(output_errors, minus_one="none"), "Y")
    ns["softmax_223_hidden_errors"] = as_piece(partial(hidden_errors, minus_one="none"), "Y")
    ns["softmax_223_hidden_deltas"] = RIGHT["softmax_223_hidden_deltas"]
    exec("def softmax_223_gradients(x, params, target):\n"
         "    e = softmax_223_output_errors(x, params, target)\n"
         "    return dict.fromkeys(params, e['Y5'])\n", ns)
    r = gradelib.check("softmax_223", ns["softmax_223_gradients"])
    assert "softmax_223_output_errors() gets dLoss/dY5, dLoss/dY6 and dLoss/dY7 wrong, and" in r.messages[0]
    assert "softmax_223_hidden_errors() gets dLoss/dY3 and dLoss/dY4 wrong too" in r.messages[1]
    assert "hidden_deltas" not in str(r)


# ---------------------------------------------------------------- the grader: harness in a fresh process, verdict here

def run_harness(steps):
    job = {"steps": steps, "limits": {"cell_seconds": 10.0}}
    done = subprocess.run([sys.executable, "-I", harness.__file__], input=json.dumps(job), capture_output=True,
                          text=True, timeout=120)
    return [json.loads(line) for line in done.stdout.splitlines()]


CELL = '''
def relu_chain_deltas(x, params, target):
    (x1,) = x
    z1 = params["w11"] * x1 + params["b1"]
    Y1 = max(z1, 0.0)
    z2 = params["w12"] * Y1 + params["b2"]
    delta2 = (target - max(z2, 0.0)) * (1.0 if z2 > 0 else 0.0)
    return {"delta2": delta2, "delta1": delta2 * W12 * (1.0 if z1 > 0 else 0.0)}
'''


def _installed():
    """Whether gradelib is installed, as the grader's `python -I harness.py` needs (CI's scratch venvs run the
    library's tests from the checkout without installing it)."""
    return subprocess.run([sys.executable, "-I", "-c", "import gradelib"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _installed(), reason="gradelib is not installed here, and the harness imports it")
@pytest.mark.parametrize("slip,mistakes", [("params['w12']", []), ("1.0", ["delta1_no_w12"])])
def test_the_verifier_judges_a_piece_outside_the_kernel(slip, mistakes):
    seed = 1_000_003
    source = CELL.replace("W12", slip.replace("'", '"'))
    step = dict(verdict.questions("relu_chain_deltas", seed), probe="p", function="relu_chain_deltas")
    assert step["keys"] == ["delta2", "delta1"] and step["what"] == "deltas"
    records = run_harness([{"cell": 0, "source": source}, step])
    r = verdict.judge("relu_chain_deltas", seed, records[0], "relu_chain_deltas()")
    assert r.passed == (not mistakes) and r.mistakes == mistakes
    ns = {}
    exec(source, ns)
    assert gradelib.check("relu_chain_deltas", ns["relu_chain_deltas"], seed=seed).mistakes == mistakes


def test_every_piece_is_an_exercise_with_its_notebook_name():
    for name in RIGHT:
        ex = EXERCISES[name]
        assert ex.kind == "piece" and ex.notebook_function == name and ex.answer_keys == ex.piece.keys
        assert len(ex.piece.keys) == len(ex.piece.nodes) == len(ex.piece.symbols)
