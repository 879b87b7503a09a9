"""A catalogue of the new checks' slips (issue 21): what learners really write for central_difference,
relative_error, the mini-batch gradient, the staged pieces and the matrix form, wrong and right.

Each wrong variant is written here as a learner would write it, from the notes' rules with one rule changed;
its expected mistake name is asserted one by one.  A few wrong variants (expected None) are only asserted rejected:
the share named must stay at least 90%.  Every right variant, written in another way than the notebooks'
solutions, must pass.  `.venv/bin/python tests/test_new_check_slips.py` prints the figures (-v: each wrong
variant's verdict, -r: each right variant's).
"""

import math
import sys

import numpy as np
import pytest

import gradelib
from gradelib.matrix import check_matrix

GENERIC = {"wrong_value", "wrong_scale"}  # "gradelib does not recognise the slip" and its kin
SEEDS = (0, 3)
relu = lambda z: max(z, 0.0)  # noqa: E731
step = lambda z: 1.0 if z > 0 else 0.0  # noqa: E731


# ---------------------------------------------------------------- central_difference


def cd(rule, h=1e-5):
    """A central_difference written with one rule, with a fixed step h."""
    return lambda f, x: rule(f, x, h)


def five_point(f, x):
    h = 1e-3
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)


def cd_float32(f, x):
    h = np.float32(1e-4)  # the step in float32, the arithmetic in float64 since f and x are
    return float((f(x + float(h)) - f(x - float(h))) / (2 * float(h)))


def cd_loop(f, x):
    h = 1e-5 * max(1.0, abs(x))
    values = [f(x + s * h) for s in (1, -1)]
    return (values[0] - values[1]) / (2 * h)


CENTRAL = [
    ("cd forward", cd(lambda f, x, h: (f(x + h) - f(x)) / h), "one_sided"),
    ("cd backward", cd(lambda f, x, h: (f(x) - f(x - h)) / h), "one_sided"),
    ("cd forward h=1e-6", cd(lambda f, x, h: (f(x + h) - f(x)) / h, 1e-6), "one_sided"),
    ("cd divide by h", cd(lambda f, x, h: (f(x + h) - f(x - h)) / h), "missing_factor_2"),
    ("cd divide by 4h", cd(lambda f, x, h: (f(x + h) - f(x - h)) / (4 * h)), "wrong_divisor"),
    ("cd points swapped", cd(lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h)), "swapped_points"),
    ("cd points swapped h=1e-4", cd(lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h), 1e-4), "swapped_points"),
    ("cd h too large", cd(lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h), 1e-1), "step_too_large"),
    ("cd h too small", cd(lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h), 1e-12), "step_too_small"),
    ("cd h relative to x", lambda f, x: (f(x + 1e-5 * x) - f(x - 1e-5 * x)) / (2e-5 * x), "step_zero"),
    ("cd returns f(x)", lambda f, x: f(x), "returns_f"),
    ("cd precedence", cd(lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h), "precedence"),
    ("cd no division", cd(lambda f, x, h: f(x + h) - f(x - h)), "no_division"),
    ("cd forward over 2h", cd(lambda f, x, h: (f(x + h) - f(x)) / (2 * h)), "one_sided"),
    ("cd divides by 2 only", cd(lambda f, x, h: (f(x + h) - f(x - h)) / 2), "no_h_division"),
    ("cd sum not difference", cd(lambda f, x, h: (f(x + h) + f(x - h)) / (2 * h)), "sum_of_values"),
    ("cd forgets to call f", cd(lambda f, x, h: ((x + h) - (x - h)) / (2 * h)), "no_call"),
    ("cd swapped forward", cd(lambda f, x, h: (f(x) - f(x + h)) / h), "swapped_points"),
    ("cd swapped over h", cd(lambda f, x, h: (f(x - h) - f(x + h)) / h), "swapped_points"),
    ("cd backward over 2h", cd(lambda f, x, h: (f(x) - f(x - h)) / (2 * h)), "one_sided"),
    ("cd divide by h, h=1e-1", cd(lambda f, x, h: (f(x + h) - f(x - h)) / h, 1e-1), "missing_factor_2"),
]
CENTRAL_RIGHT = [
    ("cd h=1e-4", cd(lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h), 1e-4)),
    ("cd h=1e-6 relative", lambda f, x: (f(x + 1e-6 * (1 + abs(x))) - f(x - 1e-6 * (1 + abs(x)))) / (2e-6 * (1 + abs(x)))),
    ("cd five-point stencil", five_point),
    ("cd float32 step", cd_float32),
    ("cd loop over the two points", cd_loop),
    ("cd sqrt(eps) step", cd(lambda f, x, h: (f(x + h) - f(x - h)) / (h + h), 2e-8)),
    ("cd tiny step grown with |x|", lambda f, x: (f(x + 1e-7 * (abs(x) + 1)) - f(x - 1e-7 * (abs(x) + 1)))
     / (2e-7 * (abs(x) + 1))),
]


# ---------------------------------------------------------------- relative_error


def rel(rule, guard_zero=True):
    def relative_error(a, b):
        if guard_zero and a == 0 and b == 0:
            return 0.0
        return rule(a, b)

    return relative_error


def rel_nan(a, b):
    with np.errstate(all="ignore"):
        return float(np.abs(np.float64(a) - b) / np.maximum(abs(a), abs(b)))


RELATIVE = [
    ("re absolute", rel(lambda a, b: abs(a - b)), "absolute_error"),
    ("re no abs", rel(lambda a, b: (a - b) / max(abs(a), abs(b))), "missing_abs"),
    ("re no abs b-a", rel(lambda a, b: (b - a) / max(abs(a), abs(b))), "missing_abs"),
    ("re over |a|", rel(lambda a, b: abs(a - b) / abs(a) if a else math.inf), "one_sided_relative"),
    ("re over |b|", rel(lambda a, b: abs(a - b) / abs(b) if b else math.inf), "one_sided_relative"),
    ("re over |a|+|b|", rel(lambda a, b: abs(a - b) / (abs(a) + abs(b))), "sum_relative"),
    ("re over the mean", rel(lambda a, b: abs(a - b) / ((abs(a) + abs(b)) / 2)), "mean_relative"),
    ("re over max(a, b)", rel(lambda a, b: abs(a - b) / max(a, b) if max(a, b) else math.inf), "max_without_abs"),
    ("re over |max(a, b)|", rel(lambda a, b: abs(a - b) / abs(max(a, b)) if max(a, b) else math.inf), "abs_of_max"),
    ("re over min", rel(lambda a, b: abs(a - b) / min(abs(a), abs(b)) if min(abs(a), abs(b)) else math.inf),
     "min_relative"),
    ("re 0/0 nan", rel_nan, "both_zero"),
    ("re 0/0 returns 1", rel(lambda a, b: abs(a - b) / max(abs(a), abs(b)) if a or b else 1.0, False), "both_zero"),
    ("re guard 1", rel(lambda a, b: abs(a - b) / max(abs(a), abs(b), 1.0)), "floored_relative"),
    ("re guard 1e-3 added", rel(lambda a, b: abs(a - b) / (max(abs(a), abs(b)) + 1e-3)), "guard_too_large"),
    ("re sizes subtracted", rel(lambda a, b: abs(abs(a) - abs(b)) / max(abs(a), abs(b))), "sizes_subtracted"),
    ("re squared", rel(lambda a, b: (a - b) ** 2 / max(abs(a), abs(b)) ** 2), "squared_relative"),
]
RELATIVE_RIGHT = [
    ("re numpy", lambda a, b: float(np.abs(a - b) / max(np.abs(a), np.abs(b), 1e-300))),
    ("re guard 1e-12", lambda a, b: abs(a - b) / (max(abs(a), abs(b)) + 1e-12) if (a or b) else 0.0),
    ("re float32-free max", lambda a, b: 0.0 if a == b else abs(b - a) / max(abs(b), abs(a))),
    ("re guard 1e-8", lambda a, b: abs(a - b) / (max(abs(a), abs(b)) + 1e-8)),
    ("re np.maximum", lambda a, b: 0.0 if max(abs(a), abs(b)) == 0 else float(abs(a - b) / np.maximum(abs(a), abs(b)))),
]


# ---------------------------------------------------------------- the mini-batch


def batch(rule="right", reduce="mean", only=None, skip_gate=(), sign=1.0):
    """single_neuron_batch_gradients with one changed rule; only: "first" / "last" example."""

    def single_neuron_batch_gradients(X, params, targets):
        rows = list(zip(X, targets))
        if only == "first":
            rows = rows[:1]
        if only == "last":
            rows = rows[-1:]
        total = {"w1": 0.0, "w2": 0.0, "b": 0.0}
        for (x1, x2), t in rows:
            z = params["w1"] * x1 + params["w2"] * x2 + params["b"]
            Y = z if rule == "linear" else relu(z)
            err = t - Y
            d = {k: err * (1.0 if k in skip_gate else step(z)) for k in total}
            if rule == "swapped_x":
                x1, x2 = x2, x1
            total["w1"] += -sign * d["w1"] * x1
            total["w2"] += -sign * d["w2"] * x2
            total["b"] += -sign * d["b"]
        n = {"mean": len(rows), "sum": 1, "params": len(params), "twice": len(rows) ** 2,
             "on": max(1, sum(1 for (x1, x2) in X if params["w1"] * x1 + params["w2"] * x2 + params["b"] > 0)),
             "n-1": max(1, len(rows) - 1)}[reduce]
        return {k: v / n for k, v in total.items()}

    return single_neuron_batch_gradients


def batch_numpy(X, params, targets):
    X, T = np.asarray(X, dtype=np.float32), np.asarray(targets, dtype=np.float32)
    w = np.array([params["w1"], params["w2"]])
    z = X @ w + params["b"]
    delta = (T - np.maximum(z, 0)) * (z > 0)
    return {"w1": float(np.mean(-delta * X[:, 0])), "w2": float(np.mean(-delta * X[:, 1])), "b": float(np.mean(-delta))}


BATCH = [
    ("mb sum", batch(reduce="sum"), "batch_sum"),
    ("mb first example", batch(only="first"), "batch_first_example"),
    ("mb last example", batch(only="last", reduce="sum"), "batch_last_example"),
    ("mb ReLU' missing", batch(skip_gate=("w1", "w2", "b")), "batch_no_relu_prime"),
    ("mb ReLU' missing in w2 (the planted bug)", batch(skip_gate=("w2",)), "batch_no_relu_prime"),
    ("mb ReLU' missing in b", batch(skip_gate=("b",)), "batch_no_relu_prime"),
    ("mb sign", batch(sign=-1.0), "batch_sign"),
    ("mb divides by on", batch(reduce="on"), "batch_mean_over_on"),
    ("mb divides by len(params)", batch(reduce="params"), "batch_divided_by_param_count"),
    ("mb divides twice", batch(reduce="twice"), "batch_divided_twice"),
    ("mb ReLU' missing in w1 and b", batch(skip_gate=("w1", "b")), "batch_no_relu_prime"),
    ("mb linear neuron, no gate", batch(rule="linear", skip_gate=("w1", "w2", "b")), "batch_no_relu"),
    ("mb inputs swapped", batch(rule="swapped_x"), "batch_swapped_inputs"),
    ("mb sign in w1 only", lambda X, p, T: dict(batch()(X, p, T), w1=-batch()(X, p, T)["w1"]), "batch_sign"),
    ("mb sum without ReLU'", batch(reduce="sum", skip_gate=("w1", "w2", "b")), None),
]
BATCH_RIGHT = [
    ("mb numpy float32", batch_numpy),
    ("mb loop", batch()),
    ("mb mean of per-example dicts", lambda X, p, T: {
        k: float(np.mean([batch()([x], p, [t])[k] for x, t in zip(X, T)])) for k in ("w1", "w2", "b")}),
]


# ---------------------------------------------------------------- the staged pieces


def chain(delta2_rule="right", delta1_rule="right", sign=1.0):
    def relu_chain_deltas(x, params, target):
        (x1,) = x
        z1 = params["w11"] * x1 + params["b1"]
        Y1 = relu(z1)
        z2 = params["w12"] * Y1 + params["b2"]
        Y2 = relu(z2)
        err2 = target - Y2
        delta2 = {"right": err2 * step(z2), "no_gate": err2, "times_Y": err2 * Y2, "gate1": err2 * step(z1)}[delta2_rule]
        delta1 = {
            "right": delta2 * params["w12"] * step(z1),
            "w11": delta2 * params["w11"] * step(z1),
            "x1": delta2 * x1 * step(z1),
            "no_w": delta2 * step(z1),
            "no_gate": delta2 * params["w12"],
            "times_Y": delta2 * params["w12"] * Y1,
            "err": err2 * params["w12"] * step(z1),
        }[delta1_rule]
        return {"delta2": sign * delta2, "delta1": sign * delta1}

    return relu_chain_deltas


def forward_223(x, p, logits_for_p=False, unnormalised=False):
    X1, X2 = x
    z = {3: p["W13"] * X1 + p["W23"] * X2 + p["b3"], 4: p["W14"] * X1 + p["W24"] * X2 + p["b4"]}
    Y = {h: relu(z[h]) for h in (3, 4)}
    out = {k: p[f"W3{k}"] * Y[3] + p[f"W4{k}"] * Y[4] + p[f"b{k}"] for k in (5, 6, 7)}
    S = 1.0 if unnormalised else sum(math.exp(v) for v in out.values())
    P = out if logits_for_p else {k: math.exp(out[k]) / S for k in (5, 6, 7)}
    return z, Y, P


def errors(x, p, target, minus_one="target", logits=False, unnormalised=False, sign=1.0):
    _, _, P = forward_223(x, p, logits, unnormalised)
    one = {"target": lambda k: float(k == target), "none": lambda k: 0.0, "all": lambda k: 1.0,
           "index": lambda k: float(k - 5 == target)}[minus_one]
    return {k: sign * (P[k] - one(k)) for k in (5, 6, 7)}


def out_errors(**rule):
    def softmax_223_output_errors(x, params, target):
        return {f"Y{k}": v for k, v in errors(x, params, target, **rule).items()}

    return softmax_223_output_errors


def hidden(weights="right", parents=(5, 6, 7), **rule):
    def dY_hidden(x, p, target):
        e = errors(x, p, target, **rule)
        w = {"right": lambda j, k: p[f"W{j}{k}"], "other": lambda j, k: p[f"W{7 - j}{k}"],
             "none": lambda j, k: 1.0, "first_layer": lambda j, k: p[f"W{1 if k == 5 else 2}{j}"] if k < 7 else 0.0}
        return {j: sum(e[k] * w[weights](j, k) for k in parents) for j in (3, 4)}

    return dY_hidden


def hid_errors(gate=False, **rule):
    def softmax_223_hidden_errors(x, params, target):
        z, _, _ = forward_223(x, params)
        d = hidden(**rule)(x, params, target)
        return {f"Y{j}": d[j] * (step(z[j]) if gate else 1.0) for j in (3, 4)}

    return softmax_223_hidden_errors


def hid_deltas(local="gate", sign=1.0, **rule):
    def softmax_223_hidden_deltas(x, params, target):
        z, Y, _ = forward_223(x, params)
        d = hidden(**rule)(x, params, target)
        f = {"gate": lambda j: step(z[j]), "none": lambda j: 1.0, "other": lambda j: step(z[7 - j]),
             "Y": lambda j: Y[j]}[local]
        return {f"z{j}": sign * d[j] * f(j) for j in (3, 4)}

    return softmax_223_hidden_deltas


PIECES = [
    ("relu_chain_deltas", "ch sign", chain(sign=-1.0), "delta_sign"),
    ("relu_chain_deltas", "ch delta2 no ReLU'", chain(delta2_rule="no_gate"), "delta2_no_relu_prime"),
    ("relu_chain_deltas", "ch delta2 times Y2", chain(delta2_rule="times_Y"), "delta2_times_Y2"),
    ("relu_chain_deltas", "ch delta2 with neuron 1's gate", chain(delta2_rule="gate1"), "delta2_wrong_gate"),
    ("relu_chain_deltas", "ch delta1 through w11", chain(delta1_rule="w11"), "delta1_wrong_weight"),
    ("relu_chain_deltas", "ch delta1 times x1", chain(delta1_rule="x1"), "delta1_times_x1"),
    ("relu_chain_deltas", "ch delta1 no w12", chain(delta1_rule="no_w"), "delta1_no_w12"),
    ("relu_chain_deltas", "ch delta1 no ReLU'", chain(delta1_rule="no_gate"), "delta1_wrong_gate"),
    ("relu_chain_deltas", "ch delta1 times Y1", chain(delta1_rule="times_Y"), "delta1_times_Y1"),
    ("relu_chain_deltas", "ch delta1 from Err2", chain(delta1_rule="err"), "delta1_err_not_delta2"),
    ("relu_chain_deltas", "ch sign of delta1 only",
     lambda x, p, t: dict(chain()(x, p, t), delta1=-chain()(x, p, t)["delta1"]), "delta_sign"),
    ("relu_chain_deltas", "ch swapped keys", lambda x, p, t: dict(zip(("delta1", "delta2"), chain()(x, p, t).values())),
     "deltas_swapped"),
    ("softmax_223_output_errors", "oe logits for P", out_errors(logits=True), "output_error_logits"),
    ("softmax_223_output_errors", "oe no -1", out_errors(minus_one="none"), "output_error_no_minus_one"),
    ("softmax_223_output_errors", "oe onehot by index", out_errors(minus_one="index"), "output_error_no_minus_one"),
    ("softmax_223_output_errors", "oe -1 everywhere", out_errors(minus_one="all"), "output_error_minus_one_everywhere"),
    ("softmax_223_output_errors", "oe sign", out_errors(sign=-1.0), "output_error_sign"),
    ("softmax_223_output_errors", "oe exp without sum", out_errors(unnormalised=True), "output_error_unnormalised"),
    ("softmax_223_output_errors", "oe target only",
     lambda x, p, t: {k: v if k == f"Y{t}" else 0.0 for k, v in out_errors()(x, p, t).items()},
     "output_error_target_only"),
    ("softmax_223_hidden_errors", "he logits for P", hid_errors(logits=True), "hidden_error_logits"),
    ("softmax_223_hidden_errors", "he no -1", hid_errors(minus_one="none"), "hidden_error_no_minus_one"),
    ("softmax_223_hidden_errors", "he sign", hid_errors(sign=-1.0), "hidden_error_sign"),
    ("softmax_223_hidden_errors", "he other node's weights", hid_errors(weights="other"),
     "hidden_error_swapped_weights"),
    ("softmax_223_hidden_errors", "he no weights", hid_errors(weights="none"), "hidden_error_no_weights"),
    ("softmax_223_hidden_errors", "he through ReLU'", hid_errors(gate=True), "hidden_error_through_relu"),
    ("softmax_223_hidden_errors", "he only parent 5", hid_errors(parents=(5,)), "hidden_error_only_Y5"),
    ("softmax_223_hidden_errors", "he only parent 7", hid_errors(parents=(7,)), "hidden_error_only_Y7"),
    ("softmax_223_hidden_errors", "he -1 everywhere", hid_errors(minus_one="all"), "hidden_error_minus_one_everywhere"),
    ("softmax_223_hidden_errors", "he first-layer weights", hid_errors(weights="first_layer"), None),
    ("softmax_223_hidden_deltas", "hd no ReLU'", hid_deltas(local="none"), "hidden_delta_no_relu_prime"),
    ("softmax_223_hidden_deltas", "hd other gate", hid_deltas(local="other"), "hidden_delta_swapped_gate"),
    ("softmax_223_hidden_deltas", "hd times Y", hid_deltas(local="Y"), "hidden_delta_times_Y"),
    ("softmax_223_hidden_deltas", "hd sign", hid_deltas(sign=-1.0), "hidden_delta_sign"),
    ("softmax_223_hidden_deltas", "hd logits for P", hid_deltas(logits=True), "hidden_delta_logits"),
    ("softmax_223_hidden_deltas", "hd no -1", hid_deltas(minus_one="none"), "hidden_delta_no_minus_one"),
    ("softmax_223_hidden_deltas", "hd other node's weights", hid_deltas(weights="other"),
     "hidden_delta_swapped_weights"),
    ("softmax_223_hidden_deltas", "hd exp without sum", hid_deltas(unnormalised=True), "hidden_delta_unnormalised"),
    ("softmax_223_hidden_deltas", "hd no weights", hid_deltas(weights="none"), "hidden_delta_no_weights"),
    ("softmax_223_hidden_deltas", "hd only parent 6", hid_deltas(parents=(6,)), "hidden_delta_only_Y6"),
]
PIECES_RIGHT = [
    ("relu_chain_deltas", "ch Err from z2 (gated anyway)", lambda x, p, t: {
        "delta2": (t - (p["w12"] * relu(p["w11"] * x[0] + p["b1"]) + p["b2"])) * step(
            p["w12"] * relu(p["w11"] * x[0] + p["b1"]) + p["b2"]),
        "delta1": chain()(x, p, t)["delta1"]}),
    ("relu_chain_deltas", "ch numpy", lambda x, p, t: {k: float(np.float64(v)) for k, v in chain()(x, p, t).items()}),
    ("softmax_223_output_errors", "oe stable softmax", lambda x, p, t: {
        f"Y{k}": v for k, v in zip((5, 6, 7), _stable(x, p) - (np.arange(5, 8) == t))}),
    ("softmax_223_hidden_errors", "he loops", hid_errors()),
    ("softmax_223_hidden_deltas", "hd gate from Y > 0", lambda x, p, t: {
        f"z{j}": hidden()(x, p, t)[j] * (forward_223(x, p)[1][j] > 0) for j in (3, 4)}),
]


def _stable(x, p):
    _, _, P = forward_223(x, p, logits_for_p=True)
    v = np.array([P[k] for k in (5, 6, 7)])
    e = np.exp(v - v.max())
    return e / e.sum()


# ---------------------------------------------------------------- the matrix form


def mat(swap=False, transpose_dW1=False, gated=True, sign=1.0, e_rule="right", dW2_from="Y", db1_rule="dz",
        dtype=float):
    def softmax_223_matrix_gradients(X, W1, b1, W2, b2, target):
        X, W1, b1, W2, b2 = (np.asarray(a, dtype) for a in (X, W1, b1, W2, b2))
        z = (W1 @ X if swap else X @ W1) + b1
        Yh = np.maximum(z, 0.0)
        Yo = Yh @ W2 + b2
        P = Yo if e_rule == "logits" else np.exp(Yo - Yo.max()) / np.exp(Yo - Yo.max()).sum()
        onehot = (np.arange(3) == target) if e_rule == "index" else (np.arange(5, 8) == target)
        e = sign * (P - onehot)
        dY = W2 @ e
        dz = dY * (z > 0) if gated else dY
        dW1 = np.outer(dz, X) if transpose_dW1 else np.outer(X, dz)
        source = {"Y": Yh, "z": z}[dW2_from]
        return {"W1": dW1, "b1": dz if db1_rule == "dz" else dY, "W2": np.outer(source, e), "b2": e}

    return softmax_223_matrix_gradients


MATRIX = [
    ("mx sign", mat(sign=-1.0), "matrix_sign"),
    ("mx dW1 transposed", mat(transpose_dW1=True), "matrix_dW1_transposed"),
    ("mx W1 read the other way", mat(swap=True), "matrix_mapping_swapped"),
    ("mx no ReLU' mask", mat(gated=False), "matrix_no_relu_prime"),
    ("mx dW2 outer the wrong way", lambda *a: dict(mat()(*a), W2=np.outer(mat()(*a)["b2"], np.maximum(
        np.asarray(a[0]) @ a[1] + a[2], 0))), "matrix_outer_order"),
    ("mx onehot by index", mat(e_rule="index"), "matrix_no_minus_one"),
    ("mx logits for P", mat(e_rule="logits"), "matrix_logits"),
    ("mx dW2 from z", mat(dW2_from="z"), "matrix_dW2_from_z"),
    ("mx db1 without mask", mat(db1_rule="dY"), "matrix_no_relu_prime"),
]
MATRIX_RIGHT = [
    ("mx float32", mat(dtype=np.float32)),
    ("mx einsum", lambda *a: dict(mat()(*a), W2=np.einsum("i,j->ij", np.maximum(
        np.asarray(a[0]) @ a[1] + a[2], 0), mat()(*a)["b2"]))),
]


# ---------------------------------------------------------------- the catalogue and its figures

WRONG = (
    [("central_difference", n, f, m) for n, f, m in CENTRAL]
    + [("relative_error", n, f, m) for n, f, m in RELATIVE]
    + [("single_neuron_batch", n, f, m) for n, f, m in BATCH]
    + PIECES
    + [("matrix", n, f, m) for n, f, m in MATRIX]
)
RIGHT = (
    [("central_difference", n, f) for n, f in CENTRAL_RIGHT]
    + [("relative_error", n, f) for n, f in RELATIVE_RIGHT]
    + [("single_neuron_batch", n, f) for n, f in BATCH_RIGHT]
    + PIECES_RIGHT
    + [("matrix", n, f) for n, f in MATRIX_RIGHT]
)


def verdict(exercise, fn, seed):
    if exercise == "matrix":
        return check_matrix(fn, seed=seed)
    return gradelib.check(exercise, fn, seed=seed)


def named(result, expected):
    """The variant is named: its one mistake is the expected one (a name that is not "not recognised")."""
    return expected is not None and expected not in GENERIC and result.mistakes[:1] == [expected]


def figures():
    """(named, rejected, wrong, accepted, right) over the catalogue at every seed."""
    n = r = a = 0
    for exercise, _, fn, expected in WRONG:
        results = [verdict(exercise, fn, s) for s in SEEDS]
        r += all(not x.passed for x in results)
        n += all(named(x, expected) for x in results)
    for exercise, _, fn in RIGHT:
        a += all(verdict(exercise, fn, s).passed for s in SEEDS)
    return n, r, len(WRONG), a, len(RIGHT)


def test_the_catalogue_is_large_enough():
    assert len(WRONG) >= 70 and len(RIGHT) >= 15


@pytest.mark.parametrize("exercise,label,fn,expected", WRONG, ids=[w[1] for w in WRONG])
def test_every_wrong_variant_is_rejected_and_named_as_expected(exercise, label, fn, expected):
    for seed in SEEDS:
        result = verdict(exercise, fn, seed)
        assert not result.passed, (label, seed)
        if expected is not None:
            assert result.mistakes[0] == expected, (label, seed, str(result))


@pytest.mark.parametrize("exercise,label,fn", RIGHT, ids=[r[1] for r in RIGHT])
def test_every_right_variant_is_accepted(exercise, label, fn):
    for seed in SEEDS:
        result = verdict(exercise, fn, seed)
        assert result.passed, (label, seed, str(result))


def test_at_least_nine_in_ten_wrong_variants_are_named_all_rejected_all_right_accepted():
    n, r, w, a, total = figures()
    assert n / w >= 0.9 and r == w and a == total, (n, r, w, a, total)


if __name__ == "__main__":
    n, r, w, a, total = figures()
    print(f"named {n}/{w} ({n / w:.0%}), rejected {r}/{w}, right accepted {a}/{total}")
    if "-v" in sys.argv:
        for exercise, label, fn, expected in WRONG:
            got = [verdict(exercise, fn, s).mistakes for s in SEEDS]
            print(f"{label:45} expected {expected}, got {got}")
    if "-r" in sys.argv:
        for exercise, label, fn in RIGHT:
            print(f"{label:45} {[verdict(exercise, fn, s).passed or str(verdict(exercise, fn, s)) for s in SEEDS]}")
