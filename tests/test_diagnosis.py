"""The diagnosis names the slip students make: a catalogue of slips, built from principles, per exercise.

Each slip is one knob turned on a hand derivation written here (the package has
no answer key): a different error at the outputs, a local derivative replaced,
a term dropped, a global factor, the wrong value on an edge, the error routed
through the wrong weight, an update rule gone wrong.  Every slip must fail with
its cause in words (the mistake names it may get are listed with it), in at
most three bullets, and with no other cause named.

    python tests/test_diagnosis.py     prints the share of each exercise's slips named specifically
"""
import math
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gradelib  # noqa: E402

SEEDS = range(4)
GENERIC = {"wrong_value", "constant_factor", "nonzero_where_off"}


def relu(z):
    return max(z, 0.0)


def step(z):
    return 1.0 if z > 0 else 0.0


# the local derivative a student writes for ReLU at a node, given its z and the other ReLU node's z
SLOPES = {
    "right": lambda z, other: step(z),
    "one": lambda z, other: 1.0,                # ReLU' left out
    "relu": lambda z, other: relu(z),           # ReLU(z) where ReLU'(z) belongs
    "z": lambda z, other: z,                    # z itself
    "other": lambda z, other: step(other),      # the other node's ReLU'
}


# ------------------------------------------------------------------ single neuron: Y = ReLU(w1·x1 + w2·x2 + b)

def single_neuron(x, p, t, *, err="right", slope="right", scale=1.0, flip=(), carry=None, bias_by=None):
    x1, x2 = x
    z = p["w1"] * x1 + p["w2"] * x2 + p["b"]
    Y = relu(z)
    e = {"right": Y - t, "flipped": t - Y, "no_target": Y, "loss": 0.5 * (t - Y) ** 2, "square": (t - Y) ** 2,
         "no_prediction": -t}[err]
    d = e * SLOPES[slope](z, z)
    carried = {"w1": x1, "w2": x2}
    if carry:
        carried = {k: {"weight": p[k], "one": 1.0, "output": Y, "swap": x2 if k == "w1" else x1,
                       "x1": x1, "x2": x2}[carry[k]] if k in carry else v for k, v in carried.items()}
    g = {"w1": d * carried["w1"], "w2": d * carried["w2"], "b": d * ({"x1": x1, "x2": x2}[bias_by] if bias_by else 1.0)}
    for k in flip:
        g[k] = -g[k]
    return {k: v * scale for k, v in g.items()}


# ------------------------------------------------------------------ chain: Y1 = ReLU(w11·x1 + b1), Y2 = ReLU(w12·Y1 + b2)

def relu_chain(x, p, t, *, err="right", slope1="right", slope2="right", scale=1.0, hidden_sign=1.0, back="w12",
               carry12=None, carry11=None, bias_by=None, flip=(), err_back=None, slope2_back=None):
    (x1,) = x
    z1 = p["w11"] * x1 + p["b1"]
    Y1 = relu(z1)
    z2 = p["w12"] * Y1 + p["b2"]
    Y2 = relu(z2)
    e = {"right": Y2 - t, "flipped": t - Y2, "no_target": Y2, "loss": 0.5 * (t - Y2) ** 2, "no_prediction": -t}[err]
    d2 = e * SLOPES[slope2](z2, z1)
    w_back = {"w12": p["w12"], "one": 1.0, "w11": p["w11"]}[back] if isinstance(back, str) else back
    e_back = e if err_back is None else {"no_target": Y2, "loss": 0.5 * (t - Y2) ** 2}[err_back]
    d2_back = e_back * SLOPES[slope2_back or slope2](z2, z1)
    d1 = hidden_sign * d2_back * w_back * SLOPES[slope1](z1, z2)
    c12 = {None: Y1, "x1": x1, "weight": p["w12"], "z": z1, "one": 1.0, "output": Y2}[carry12]
    c11 = {None: x1, "weight": p["w11"], "one": 1.0, "output": Y1}[carry11]
    g = {"w11": d1 * c11, "b1": d1, "w12": d2 * c12, "b2": d2}
    if bias_by == "b2":
        g["b2"] *= Y1
    if bias_by == "b1":
        g["b1"] *= x1
    for k in flip:
        g[k] = -g[k]
    return {k: v * scale for k, v in g.items()}


# ------------------------------------------------------------------ the 2-2-3 net of notes 002

OUT = (5, 6, 7)


def softmax_list(Y):
    m = max(Y)
    e = [math.exp(v - m) for v in Y]
    return [v / sum(e) for v in e]


OUTPUT_ERRORS = {
    "right": lambda P, Y, t, Pt: P - t,
    "flipped": lambda P, Y, t, Pt: t - P,
    "probabilities": lambda P, Y, t, Pt: P,                 # the −1 at the target forgotten
    "logits_minus_target": lambda P, Y, t, Pt: Y - t,       # Y_k where P_k belongs
    "logits": lambda P, Y, t, Pt: Y,
    "minus_one_everywhere": lambda P, Y, t, Pt: P - 1,
    "target_only": lambda P, Y, t, Pt: (P - 1) * t,         # the other outputs' errors forgotten
    "stopped_at_dP": lambda P, Y, t, Pt: -t / Pt,           # dLoss/dP_target, and no further
    "no_dLoss_dP": lambda P, Y, t, Pt: Pt * (P - t),        # −dP_target/dY_k
    "target_flipped": lambda P, Y, t, Pt: P - t if not t else 1 - P,   # 1 − P_target at the target
}


def softmax_223(x, p, t, *, err="right", scale=1.0, out_sign=1.0, hidden_sign=1.0, slope3="right", slope4="right",
                parents="all", back="own", carry_out=None, carry_in=None, bias_by=None, swap=None, target=None,
                flip=(), err_back=None, out_bias_err=None):
    x1, x2 = x
    z3 = p["W13"] * x1 + p["W23"] * x2 + p["b3"]
    z4 = p["W14"] * x1 + p["W24"] * x2 + p["b4"]
    Y3, Y4 = relu(z3), relu(z4)
    Y = {k: p[f"W3{k}"] * Y3 + p[f"W4{k}"] * Y4 + p[f"b{k}"] for k in OUT}
    P = dict(zip(OUT, softmax_list([Y[k] for k in OUT])))
    tt = t if target is None else target(t)
    Pt = P[tt]
    e = {k: out_sign * OUTPUT_ERRORS[err](P[k], Y[k], float(k == tt), Pt) for k in OUT}
    e_back = e if err_back is None else {k: OUTPUT_ERRORS[err_back](P[k], Y[k], float(k == tt), Pt) for k in OUT}
    W = dict(p)
    if back == "ones":
        W.update({f"W{j}{k}": 1.0 for j in (3, 4) for k in OUT})
    elif back == "swapped":
        W.update({f"W3{k}": p[f"W4{k}"] for k in OUT})
        W.update({f"W4{k}": p[f"W3{k}"] for k in OUT})
    elif isinstance(back, dict):
        W.update(back)
    if parents == "all":
        via = OUT
    elif parents == "target":
        via = (t,)
    elif isinstance(parents, int):
        via = (parents,)
    else:  # ("drop", k)
        via = tuple(k for k in OUT if k != parents[1])
    dY3 = hidden_sign * sum(e_back[k] * W[f"W3{k}"] for k in via)
    dY4 = hidden_sign * sum(e_back[k] * W[f"W4{k}"] for k in via)
    d3, d4 = dY3 * SLOPES[slope3](z3, z4), dY4 * SLOPES[slope4](z4, z3)
    carried = {"W13": x1, "W23": x2, "W14": x1, "W24": x2}
    carried.update({f"W3{k}": Y3 for k in OUT})
    carried.update({f"W4{k}": Y4 for k in OUT})
    if carry_out:  # the value on the output layer's edges
        for k in OUT:
            for j, (own, other, z) in ((3, (Y3, Y4, z3)), (4, (Y4, Y3, z4))):
                carried[f"W{j}{k}"] = {"weight": p[f"W{j}{k}"], "one": 1.0, "z": z, "output": Y[k],
                                       "swap": other, "X1": x1}[carry_out]
    if carry_in:  # the value on the hidden layer's edges
        for k in ("W13", "W23", "W14", "W24"):
            carried[k] = {"weight": p[k], "one": 1.0, "swap": x2 if k[1] == "1" else x1,
                          "output": Y3 if k[2] == "3" else Y4}[carry_in]
    g = {"W13": d3 * carried["W13"], "W23": d3 * carried["W23"], "W14": d4 * carried["W14"],
         "W24": d4 * carried["W24"], "b3": d3, "b4": d4}
    for k in OUT:
        g[f"W3{k}"], g[f"W4{k}"], g[f"b{k}"] = e[k] * carried[f"W3{k}"], e[k] * carried[f"W4{k}"], e[k]
    if out_bias_err:  # the output biases written apart, with another error
        for k in OUT:
            g[f"b{k}"] = OUTPUT_ERRORS[out_bias_err](P[k], Y[k], float(k == tt), Pt)
    if bias_by:
        g[bias_by[0]] *= {"X1": x1, "X2": x2, "Y3": Y3}[bias_by[1]]
    if swap:
        a, b = swap
        g[a], g[b] = g[b], g[a]
    for k in flip:
        g[k] = -g[k]
    return {k: v * scale for k, v in g.items()}


# ------------------------------------------------------------------ updates

HIDDEN = {"single_neuron": (), "relu_chain": ("w11", "b1"), "softmax_223": ("W13", "W23", "W14", "W24", "b3", "b4")}
GRADIENT = {"single_neuron": single_neuron, "relu_chain": relu_chain, "softmax_223": softmax_223}

RULES = {
    "ascent": lambda p, g, eta: p + eta * g,
    "no_eta": lambda p, g, eta: p - g,
    "ascent_no_eta": lambda p, g, eta: p + g,
    "gradient": lambda p, g, eta: g,
    "step": lambda p, g, eta: eta * g,
    "change": lambda p, g, eta: -eta * g,
    "eta_squared": lambda p, g, eta: p - eta * eta * g,
    "divided_by_eta": lambda p, g, eta: p - g / eta,
    "unchanged": lambda p, g, eta: p,
    "half_step": lambda p, g, eta: p - 0.5 * eta * g,
}


def update(net, rule="right", only=None, **knobs):
    """p − η·g from the hand gradient of net (with knobs), with rule in place of descent for `only` (or all)."""
    grad = GRADIENT[net]

    def fn(x, p, t, eta):
        g = grad(x, p, t, **knobs)
        step_ = RULES.get(rule, lambda p, g, eta: p - eta * g)
        return {k: (step_(p[k], g[k], eta) if only is None or k in only else p[k] - eta * g[k]) for k in p}
    return fn


def sequential(net, redo):
    """Output layer updated first; the hidden gradients then taken through the new output weights (redo: and new forward pass)."""
    grad = GRADIENT[net]
    hidden = HIDDEN[net]

    def fn(x, p, t, eta):
        g = grad(x, p, t)
        new = {k: p[k] - eta * g[k] for k in p if k not in hidden}
        if redo:
            g1 = grad(x, {**p, **new}, t)
        elif net == "relu_chain":
            g1 = grad(x, p, t, back=new["w12"])
        else:
            g1 = grad(x, p, t, back={k: v for k, v in new.items() if k[0] == "W"})
        new.update({k: p[k] - eta * g1[k] for k in hidden})
        return new
    return fn


# ------------------------------------------------------------------ the catalogue: (exercise, slip, function, allowed mistake names)

SN, CH, NN = single_neuron, relu_chain, softmax_223
SIGN = {"sign_flip"}

GRADIENT_SLIPS = {
    "single_neuron": [
        ("error flipped", dict(err="flipped"), SIGN),
        ("target left out of the error", dict(err="no_target"), {"output_error_without_target"}),
        ("loss as the error", dict(err="loss"), {"loss_as_error"}),
        ("the square as the error", dict(err="square"), {"loss_as_error"}),
        ("prediction left out of the error", dict(err="no_prediction"), {"output_error_without_prediction"}),
        ("ReLU' left out", dict(slope="one"), {"missing_relu_derivative"}),
        ("ReLU(z) for ReLU'", dict(slope="relu"), {"relu_instead_of_derivative"}),
        ("z for ReLU'", dict(slope="z"), {"z_instead_of_derivative"}),
        ("doubled", dict(scale=2.0), {"factor_2"}),
        ("halved", dict(scale=0.5), {"factor_half"}),
        ("times 3", dict(scale=3.0), {"factor_3"}),
        ("one gradient flipped", dict(flip=("w2",)), {"sign_flip_param"}),
        ("inputs swapped", dict(carry={"w1": "swap", "w2": "swap"}), {"swapped_inputs"}),
        ("x1 on both edges", dict(carry={"w2": "x1"}), {"swapped_inputs"}),
        ("weight for input", dict(carry={"w1": "weight", "w2": "weight"}), {"weight_for_input"}),
        ("input left out of w1", dict(carry={"w1": "one"}), {"input_left_out"}),
        ("output for input", dict(carry={"w1": "output", "w2": "output"}), {"output_for_input"}),
        ("bias times x1", dict(bias_by="x1"), {"bias_times_input"}),
        ("bias times x2", dict(bias_by="x2"), {"bias_times_input"}),
    ],
    "relu_chain": [
        ("error flipped", dict(err="flipped"), SIGN),
        ("target left out of the error", dict(err="no_target"), {"output_error_without_target"}),
        ("loss as the error", dict(err="loss"), {"loss_as_error"}),
        ("hidden sign flipped", dict(hidden_sign=-1.0), {"sign_flip_hidden"}),
        ("ReLU' of neuron 1 left out", dict(slope1="one"), {"missing_relu_derivative"}),
        ("ReLU' of neuron 2 left out", dict(slope2="one"), {"missing_relu_derivative"}),
        ("both ReLU' left out", dict(slope1="one", slope2="one"), {"missing_relu_derivative"}),
        ("ReLU'(z2) left out of the error sent back", dict(slope2_back="one"), {"missing_relu_derivative"}),
        ("target left out of the error sent back", dict(err_back="no_target"), {"output_error_without_target"}),
        ("ReLU(z1) for ReLU'", dict(slope1="relu"), {"relu_instead_of_derivative"}),
        ("z2 for ReLU'", dict(slope2="z"), {"z_instead_of_derivative"}),
        ("neuron 2's ReLU' at neuron 1", dict(slope1="other"), {"wrong_relu_derivative", "missing_relu_derivative"}),
        # (δ2 already carries ReLU'(z2), so a second one changes nothing: it is ReLU'(z1) left out),
        ("back weight left out", dict(back="one"), {"missing_backprop_weight"}),
        ("back through w11", dict(back="w11"), {"wrong_backprop_weight"}),
        ("doubled", dict(scale=2.0), {"factor_2"}),
        ("halved", dict(scale=0.5), {"factor_half"}),
        ("x1 in place of Y1 for w12", dict(carry12="x1"), {"wrong_input"}),
        ("weight for input on w12", dict(carry12="weight"), {"weight_for_input"}),
        ("z1 in place of Y1 for w12", dict(carry12="z"), {"z_for_input"}),
        ("input left out of w12", dict(carry12="one"), {"input_left_out"}),
        ("output Y2 for Y1 on w12", dict(carry12="output"), {"output_for_input"}),
        ("weight for input on w11", dict(carry11="weight"), {"weight_for_input"}),
        ("b2 times Y1", dict(bias_by="b2"), {"bias_times_input"}),
        ("b1 times x1", dict(bias_by="b1"), {"bias_times_input"}),
        ("w12 flipped", dict(flip=("w12",)), {"sign_flip_param"}),
    ],
    "softmax_223": [
        ("error flipped", dict(err="flipped"), SIGN),
        ("the −1 at the target forgotten", dict(err="probabilities"), {"output_error_without_target"}),
        ("logits for probabilities", dict(err="logits_minus_target"), {"logits_for_probabilities"}),
        ("logits as the error", dict(err="logits"), {"logits_for_probabilities"}),
        ("−1 at every output", dict(err="minus_one_everywhere"), {"output_error_minus_one_everywhere"}),
        ("only the target's error", dict(err="target_only"), {"output_error_target_only"}),
        ("stopped at dLoss/dP", dict(err="stopped_at_dP"), {"output_error_stopped_at_dP"}),
        ("−dP/dY as the error", dict(err="no_dLoss_dP"), {"output_error_without_dLoss_dP"}),
        ("1 − P at the target", dict(err="target_flipped"), {"output_error_target_sign"}),
        ("the −1 forgotten in the error sent back", dict(err_back="probabilities"), {"output_error_without_target"}),
        ("logits in the error sent back", dict(err_back="logits_minus_target"), {"logits_for_probabilities"}),
        ("target fixed at node 5", dict(target=lambda t: 5), {"wrong_target"}),
        ("target one node on", dict(target=lambda t: 5 + (t - 4) % 3), {"wrong_target"}),
        ("mean over the outputs", dict(scale=1 / 3), {"factor_third"}),
        ("doubled", dict(scale=2.0), {"factor_2"}),
        ("halved", dict(scale=0.5), {"factor_half"}),
        ("hidden sign flipped", dict(hidden_sign=-1.0), {"sign_flip_hidden"}),
        ("output sign flipped", dict(out_sign=-1.0, hidden_sign=-1.0), {"sign_flip_param"}),
        ("ReLU' of node 3 left out", dict(slope3="one"), {"missing_relu_derivative"}),
        ("both ReLU' left out", dict(slope3="one", slope4="one"), {"missing_relu_derivative"}),
        ("ReLU(z) for ReLU'", dict(slope3="relu", slope4="relu"), {"relu_instead_of_derivative"}),
        ("z for ReLU'", dict(slope4="z"), {"z_instead_of_derivative"}),
        ("node 4's ReLU' at node 3", dict(slope3="other"), {"wrong_relu_derivative"}),
        ("only through the target's node", dict(parents="target"), {"one_parent_only"}),
        ("only through node 5", dict(parents=5), {"one_parent_only"}),
        ("only through node 7", dict(parents=7), {"one_parent_only"}),
        ("node 6 left out of the sum", dict(parents=("drop", 6)), {"parent_left_out"}),
        ("back weights left out", dict(back="ones"), {"missing_backprop_weight", "zero_gradient"}),
        # (the output errors sum to 0, so without the weights the hidden gradients are 0),
        ("back through the other node's weights", dict(back="swapped"), {"swapped_indices"}),
        ("X1 in place of Y3, Y4 on the output edges", dict(carry_out="X1"), {"wrong_input"}),
        ("Y3 and Y4 exchanged on the output edges", dict(carry_out="swap"), {"swapped_inputs", "wrong_input"}),
        ("z in place of Y on the output edges", dict(carry_out="z"), {"z_for_input"}),
        ("weight for input on the output edges", dict(carry_out="weight"), {"weight_for_input"}),
        ("input left out on the output edges", dict(carry_out="one"), {"input_left_out"}),
        ("output for input on the output edges", dict(carry_out="output"), {"output_for_input"}),
        ("X1 and X2 exchanged on the hidden edges", dict(carry_in="swap"), {"swapped_inputs"}),
        ("weight for input on the hidden edges", dict(carry_in="weight"), {"weight_for_input"}),
        ("b3 times X1", dict(bias_by=("b3", "X1")), {"bias_times_input"}),
        ("b5 times Y3", dict(bias_by=("b5", "Y3")), {"bias_times_input"}),
        ("W14 and W23 transposed", dict(swap=("W14", "W23")), {"swapped_indices"}),
        ("W35 flipped", dict(flip=("W35",)), {"sign_flip_param"}),
        ("the −1 forgotten in the output biases only", dict(out_bias_err="probabilities"),
         {"output_error_without_target"}),
    ],
}

UPDATE_SLIPS = [
    ("ascent", dict(rule="ascent"), {"gradient_ascent"}),
    ("η left out", dict(rule="no_eta"), {"missing_eta"}),
    ("ascent without η", dict(rule="ascent_no_eta"), {"gradient_ascent"}),
    ("returns the gradient", dict(rule="gradient"), {"returned_gradient"}),
    ("returns the step", dict(rule="step"), {"returned_step"}),
    ("returns the change", dict(rule="change"), {"returned_step"}),
    ("η twice", dict(rule="eta_squared"), {"eta_twice"}),
    ("divided by η", dict(rule="divided_by_eta"), {"divided_by_eta"}),
    ("not updated", dict(rule="unchanged"), {"not_updated"}),
    ("half a step", dict(rule="half_step"), {"factor_half"}),
]

ASCENT = {"sign_flip": "gradient_ascent", "sign_flip_hidden": "gradient_ascent_hidden",
          "sign_flip_param": "gradient_ascent_param"}
CATALOGUE = []
for _net, _slips in GRADIENT_SLIPS.items():
    for _name, _knobs, _allowed in _slips:
        CATALOGUE.append((_net, _name, partial(GRADIENT[_net], **_knobs), _allowed))
for _net in GRADIENT:
    _ex = f"{_net}_update"
    for _name, _knobs, _allowed in UPDATE_SLIPS:
        CATALOGUE.append((_ex, _name, update(_net, **_knobs), _allowed))
    # a gradient slip carried into the update: the same cause (a flipped gradient is a step uphill)
    for _name, _knobs, _allowed in GRADIENT_SLIPS[_net][:8]:
        _allowed = {ASCENT.get(m, m) for m in _allowed}
        CATALOGUE.append((_ex, "update with: " + _name, update(_net, **_knobs), _allowed))
    if HIDDEN[_net]:
        CATALOGUE.append((_ex, "hidden layer climbs", update(_net, rule="ascent", only=HIDDEN[_net]),
                          {"gradient_ascent_hidden"}))
        CATALOGUE.append((_ex, "output layer not updated",
                          update(_net, rule="unchanged", only=[k for k in gradelib.EXERCISES[_ex].network.params
                                                               if k not in HIDDEN[_net]]), {"not_updated"}))
        CATALOGUE.append((_ex, "through the updated output weights", sequential(_net, redo=False),
                          {"sequential_update"}))
        CATALOGUE.append((_ex, "through the updated output layer, forward pass redone", sequential(_net, redo=True),
                          {"sequential_update"}))


# the softmax exercise: slips in writing P_k = exp(Y_k) / Σ_j exp(Y_j), each as the student would type it
SOFTMAX_SLIPS = [
    ("naive exp overflows", lambda Y: np.exp(Y) / np.exp(Y).sum(), {"softmax_overflow"}),
    ("not normalised", lambda Y: np.exp(Y - Y.max()), {"softmax_not_normalized"}),
    ("no exp", lambda Y: Y / Y.sum(), {"softmax_no_exp"}),
    ("exp over the sum of the logits", lambda Y: np.exp(Y) / Y.sum(), {"softmax_denominator"}),
    ("log-probabilities returned", lambda Y: (Y - Y.max()) - np.log(np.exp(Y - Y.max()).sum()), {"softmax_log"}),
    ("exp(−Y)", lambda Y: np.exp(Y.min() - Y) / np.exp(Y.min() - Y).sum(), {"softmax_negated"}),
]
for _name, _fn, _allowed in SOFTMAX_SLIPS:
    CATALOGUE.append(("softmax", _name, _fn, _allowed))


def verdicts(exercise, fn):
    return [gradelib.check(exercise, fn, seed=seed) for seed in SEEDS]


def named(r, allowed):
    """The slip got its cause: only allowed mistake names, in at most three bullets."""
    return not r.passed and bool(r.mistakes) and set(r.mistakes) <= allowed and len(r.messages) <= 3


@pytest.mark.parametrize("exercise,slip,fn,allowed", CATALOGUE, ids=[f"{e}: {s}" for e, s, _, _ in CATALOGUE])
def test_each_slip_is_named_in_at_most_three_bullets_and_no_other_cause(exercise, slip, fn, allowed):
    for seed, r in zip(SEEDS, verdicts(exercise, fn)):
        assert named(r, allowed), (seed, r.mistakes, str(r))
        assert not set(r.mistakes) & GENERIC


@pytest.mark.parametrize("exercise", [n for n, e in gradelib.EXERCISES.items() if e.kind in ("gradient", "update")])
def test_the_right_derivation_written_here_passes(exercise):
    """The knobs at rest are the right answer: otherwise every slip above would be measured against a wrong base."""
    net = exercise.replace("_update", "")
    fn = update(net) if exercise.endswith("_update") else GRADIENT[net]
    assert all(r.passed for r in verdicts(exercise, fn))


def test_one_cause_gets_one_bullet_naming_every_parameter_it_explains():
    r = gradelib.check("softmax_223", partial(softmax_223, err="probabilities"))
    assert len(r.messages) == 1 and "P_k − 1 at the target" in r.messages[0]
    assert set(r.per_parameter) == set(gradelib.EXERCISES["softmax_223"].network.params)


def test_hints_fit_the_loss():
    """The ½ of the loss is spoken of only where there is one."""
    cross = gradelib.check("softmax_223", partial(softmax_223, scale=2.0))
    square = gradelib.check("relu_chain", partial(relu_chain, scale=2.0))
    assert "½" in str(square) and "no square and no ½" in str(cross)
    assert "drop the ½" not in str(cross)
    mean = gradelib.check("softmax_223", partial(softmax_223, scale=1 / 3))
    assert "mean over the three output" in str(mean)


def test_two_independent_slips_get_two_bullets():
    """A forgotten ReLU' at node 3 and a transposed W14/W23: two causes, each named, nothing generic."""
    def two(x, p, t):
        g = softmax_223(x, p, t)
        g.update({k: v for k, v in softmax_223(x, p, t, slope3="one").items() if k in ("W13", "b3")})
        g["W35"], g["W46"] = g["W46"], g["W35"]
        return g
    for r in verdicts("softmax_223", two):
        assert not r.passed and len(r.messages) == 2, str(r)
        assert set(r.mistakes) == {"missing_relu_derivative", "swapped_indices"}, str(r)


TWO_SLIPS = [  # two slips at once, the second on top of the first: each named, in its own bullet
    ("softmax_223", partial(softmax_223, err="probabilities", slope3="one"),
     {"output_error_without_target", "missing_relu_derivative"}),
    ("softmax_223", partial(softmax_223, scale=2.0, slope3="one"), {"factor_2", "missing_relu_derivative"}),
    ("relu_chain", partial(relu_chain, err="no_target", back="one"),
     {"output_error_without_target", "missing_backprop_weight"}),
    ("single_neuron", partial(single_neuron, err="flipped", carry={"w1": "swap", "w2": "swap"}),
     {"sign_flip", "swapped_inputs"}),
    ("softmax_223_update", update("softmax_223", rule="no_eta", parents=5), {"missing_eta", "one_parent_only"}),
]


@pytest.mark.parametrize("exercise,fn,both", TWO_SLIPS, ids=[f"{e}: {'+'.join(sorted(b))}" for e, _, b in TWO_SLIPS])
def test_two_slips_at_once_are_both_named(exercise, fn, both):
    for r in verdicts(exercise, fn):
        assert not r.passed and set(r.mistakes) == both and len(r.messages) == 2, str(r)


def test_an_unexplained_answer_gets_one_grouped_bullet_not_fifteen():
    def noisy(x, p, t):
        g = softmax_223(x, p, t)
        return {k: v + 0.01 * math.sin(7 * x[0] + i) for i, (k, v) in enumerate(g.items())}
    r = gradelib.check("softmax_223", noisy)
    assert not r.passed and len(r.messages) <= 3, str(r)


def share():
    """{exercise: (named specifically, catalogued)} over the catalogue and SEEDS."""
    counts = {}
    for exercise, _, fn, allowed in CATALOGUE:
        ok = all(named(r, allowed) and not set(r.mistakes) & GENERIC for r in verdicts(exercise, fn))
        got = counts.setdefault(exercise, [0, 0])
        got[0] += ok
        got[1] += 1
    return counts


if __name__ == "__main__":
    for exercise, (good, total) in share().items():
        print(f"{exercise:22} {good:3d} of {total:3d} slips named specifically ({100 * good / total:.0f}%)")
