"""The steps of each network's hand calculation, in the notes' order, each computed from the EARLIER steps.

A Step's rule reads a Values mapping: the problem's own numbers (x1, w1,
O_b, eta, ...) and the values of the steps before it.  Marking calls the
rule on the student's own earlier values (error carried forward), so the
rules never reach back past what the student wrote: Y = ReLU(z) reads the
student's z, δ = Err·ReLU'(z) the student's Err and z, new w1 = w1 − η·dLoss/dw1
the student's gradient.

Each step also lists its Slips: a wrong rule a student is known to follow,
with the words that name it ("your δ1 uses ReLU'(z2) where neuron 1's own
ReLU'(z1) belongs").  A slip is computed from the same earlier values, so it
is recognised on the student's own numbers too.

The keys are the names the notebooks use in code (z1, Y1, Err2, delta2,
dLoss/dw12, new w12); marking also accepts the notes' symbols and small
variations of spelling (δ2, "dL/dw12", "new_w12", "Err" for the chain's Err2).

The notes' conventions, kept here on purpose:
  * δ (notes 000) is the NEGATIVE gradient with respect to z: δ = Err·ReLU'(z),
    dLoss/dw1 = −δ·x1, and the notes' update w1 + η·δ·x1 is gradient descent.
  * Every "new p" is gradient descent, p − η·dLoss/dp.  For the 2-2-3 net the
    notes' hidden-layer "+" is a slip (see the seeds' README); it is one of
    the slips recognised here.
  * ReLU'(z) = 1 for z > 0 and 0 for z < 0; personal problems keep |z| away
    from 0, and a student's own z of exactly 0 counts as off, as in the notebooks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..exercises import find_network


class Values(dict):
    """The numbers a rule may read: the problem's own and the earlier steps', by the notes' names.

    ``read`` collects the names a rule looked at, so marking can say what a
    step was computed from without a second list to keep in step with the rule.
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.read = []

    def __getitem__(self, key):
        if key not in self.read:
            self.read.append(key)
        return dict.__getitem__(self, key)

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def gate(z: float) -> float:
    """ReLU'(z): 1 when the neuron is on (z > 0), 0 when it is off."""
    return 1.0 if z > 0 else 0.0


def relu(z: float) -> float:
    return z if z > 0 else 0.0


class Slip(NamedTuple):
    """A wrong rule a student is known to follow at a step, and the words that name it."""

    name: str  # a short name, e.g. "delta1_gate_of_neuron_2"
    rule: Callable  # Values -> float: what the slip gives from the same earlier values
    sentence: str  # what the student did, in the notes' symbols, for the student
    holds: Callable | None = None  # Values -> bool: what the sentence states besides the slip ("node 3 is
    # off"), when the slip's value alone does not imply it; None if it does


def node_off(z: str) -> Any:
    """A Slip.holds for a sentence that says the node whose sum is z is off."""
    return lambda v: v[z] <= 0


@dataclass(frozen=True)
class Step:
    """One box of the hand calculation."""

    key: str  # what the student types as the dict key: plain ASCII ("delta2", "dLoss/dw12")
    name: str  # the notes' symbol in plain text, for sentences ("δ2", "dLoss/dw12", "new w12")
    symbol: str  # the notes' symbol in LaTeX
    words: str  # what it is, short
    formula: str  # how it is computed from earlier steps, in the notes' symbols (plain text)
    rule: Callable = field(repr=False, compare=False)  # Values -> float, the formula itself
    slips: tuple = field(default=(), repr=False, compare=False)


def _tex_name(name):
    """'w12' -> 'w_{12}', 'W35' -> 'W_{35}', 'O_b2' -> 'O_{b2}', 'b' -> 'b'."""
    head = name.rstrip("0123456789")
    digits = name[len(head) :]
    if "_" in name:
        head, _, sub = name.partition("_")
        return f"{head}_{{{sub}}}"
    return f"{head}_{{{digits}}}" if digits else head


def _grad_tex(p):
    return rf"\frac{{d\text{{Loss}}}}{{d{_tex_name(p)}}}"


def _update_steps(params, gradient_key):
    """The steps 'new p' = p − η·dLoss/dp for each parameter, with the update slips."""
    out = []
    for p in params:
        g = gradient_key(p)

        def rule(v, p=p, g=g):
            return v[p] - v.eta * v[g]

        out.append(
            Step(
                f"new {p}",
                f"new {p}",
                rf"{_tex_name(p)}^{{\text{{new}}}}",
                f"{p} after one step of gradient descent",
                f"new {p} = {p} − η·dLoss/d{p}",
                rule,
                (
                    Slip(
                        "update_plus",
                        lambda v, p=p, g=g: v[p] + v.eta * v[g],
                        f"your new {p} adds η·dLoss/d{p}, which climbs the loss: gradient descent subtracts the "
                        f'gradient, new {p} = {p} − η·dLoss/d{p} (the notes\' "+" belongs with δ, which is minus '
                        "the gradient, never with the gradient itself)",
                    ),
                    Slip(
                        "update_no_eta",
                        lambda v, p=p, g=g: v[p] - v[g],
                        f"your new {p} subtracts the whole gradient: the step is η times it, {p} − η·dLoss/d{p}",
                    ),
                    Slip(
                        "update_no_old_value",
                        lambda v, g=g: -v.eta * v[g],
                        f"your new {p} is only the step −η·dLoss/d{p}: add it to the old {p}",
                    ),
                    Slip(
                        "update_step_only_plus",
                        lambda v, g=g: v.eta * v[g],
                        f"your new {p} is only η·dLoss/d{p}: new {p} = {p} − η·dLoss/d{p}",
                    ),
                ),
            )
        )
    return out


def _relu_step(key, zkey, label):
    """Y = ReLU(z) for the node called label ("the neuron", "neuron 1", "node 3")."""
    return Step(
        key,
        key,
        _tex_name(key),
        f"the output of {label}",
        f"{key} = ReLU({zkey})",
        lambda v: relu(v[zkey]),
        (
            Slip(
                "relu_forgotten",
                lambda v: v[zkey],
                f"your {key} is {zkey} itself, but {zkey} < 0: {label} is off and {key} = ReLU({zkey}) = 0",
            ),
            Slip(
                "relu_off_when_on",
                lambda v: 0.0,
                f"your {key} is 0, but {zkey} > 0: {label} is on and {key} = ReLU({zkey}) = {zkey}",
            ),
            Slip(
                "relu_negated",
                lambda v: max(-v[zkey], 0.0),
                f"your {key} is ReLU(−{zkey}): ReLU passes a positive {zkey} unchanged and turns a negative one into 0",
            ),
        ),
    )


def _half_square_loss(err):
    return Step(
        "Loss",
        "Loss",
        r"\text{Loss}",
        "the loss",
        f"Loss = ½·{err}²",
        lambda v: 0.5 * v[err] ** 2,
        (
            Slip("loss_no_half", lambda v: v[err] ** 2, f"your Loss is {err}² without the ½: Loss = ½·{err}²"),
            Slip("loss_not_squared", lambda v: 0.5 * v[err], f"your Loss is ½·{err}, not squared: Loss = ½·{err}²"),
            Slip("loss_abs", lambda v: abs(v[err]), f"your Loss is |{err}|: Loss = ½·{err}²"),
        ),
    )


def _single_neuron():
    err_slips = (
        Slip(
            "err_reversed",
            lambda v: v.Y - v.O_b,
            "your Err is Y − O_b; the notes' error is the target minus the prediction, Err = O_b − Y",
        ),
        Slip("err_uses_z", lambda v: v.O_b - v.z, "your Err uses z where the prediction Y = ReLU(z) belongs"),
    )
    steps = [
        Step(
            "z",
            "z",
            "z",
            "the sum inside the ReLU",
            "z = w1·x1 + w2·x2 + b",
            lambda v: v.w1 * v.x1 + v.w2 * v.x2 + v.b,
            (
                Slip("z_no_bias", lambda v: v.w1 * v.x1 + v.w2 * v.x2, "your z leaves out the bias b"),
                Slip(
                    "z_bias_subtracted",
                    lambda v: v.w1 * v.x1 + v.w2 * v.x2 - v.b,
                    "your z subtracts the bias: z = w1·x1 + w2·x2 + b",
                ),
                Slip("z_no_w1_term", lambda v: v.w2 * v.x2 + v.b, "your z leaves out the term w1·x1"),
                Slip("z_no_w2_term", lambda v: v.w1 * v.x1 + v.b, "your z leaves out the term w2·x2"),
                Slip(
                    "z_w1_term_sign",
                    lambda v: -v.w1 * v.x1 + v.w2 * v.x2 + v.b,
                    "your z has the wrong sign for the term w1·x1: mind the signs of w1 and x1",
                ),
                Slip(
                    "z_w2_term_sign",
                    lambda v: v.w1 * v.x1 - v.w2 * v.x2 + v.b,
                    "your z has the wrong sign for the term w2·x2: mind the signs of w2 and x2",
                ),
                Slip(
                    "z_inputs_swapped",
                    lambda v: v.w1 * v.x2 + v.w2 * v.x1 + v.b,
                    "your z pairs w1 with x2 and w2 with x1: w1 multiplies x1, w2 multiplies x2",
                ),
            ),
        ),
        _relu_step("Y", "z", "the neuron"),
        Step("Err", "Err", r"\text{Err}", "the error", "Err = O_b − Y", lambda v: v.O_b - v.Y, err_slips),
        _half_square_loss("Err"),
        Step(
            "delta",
            "δ",
            r"\delta",
            "the error let through the gate (minus dLoss/dz)",
            "δ = Err·ReLU'(z)",
            lambda v: v.Err * gate(v.z),
            (
                Slip(
                    "delta_sign",
                    lambda v: -v.Err * gate(v.z),
                    "your δ has the sign of dLoss/dz = −Err·ReLU'(z); the notes' δ = Err·ReLU'(z) is minus it",
                ),
                Slip(
                    "delta_no_gate",
                    lambda v: v.Err,
                    "your δ leaves out ReLU'(z): the neuron is off (z < 0), so ReLU'(z) = 0 and δ = 0",
                ),
                Slip("delta_times_z", lambda v: v.Err * v.z, "your δ multiplies Err by z where ReLU'(z) belongs"),
                Slip("delta_times_Y", lambda v: v.Err * v.Y, "your δ multiplies Err by Y where ReLU'(z) belongs"),
            ),
        ),
    ]
    for p, factor, other in (("w1", "x1", "x2"), ("w2", "x2", "x1")):
        steps.append(
            Step(
                f"dLoss/d{p}",
                f"dLoss/d{p}",
                _grad_tex(p),
                f"the gradient of the loss with respect to {p}",
                f"dLoss/d{p} = −δ·{factor}",
                lambda v, f=factor: -v.delta * v[f],
                (
                    Slip(
                        "grad_sign",
                        lambda v, f=factor: v.delta * v[f],
                        f"your dLoss/d{p} is +δ·{factor}: δ is minus the gradient with respect to z, so "
                        f"dLoss/d{p} = −δ·{factor}",
                    ),
                    Slip(
                        "grad_no_input",
                        lambda v: -v.delta,
                        f"your dLoss/d{p} leaves out {factor}, what {p} multiplies in z",
                    ),
                    Slip(
                        "grad_other_input",
                        lambda v, o=other: -v.delta * v[o],
                        f"your dLoss/d{p} uses {other}; {p} multiplies {factor} in z, so dLoss/d{p} = −δ·{factor}",
                    ),
                    Slip(
                        "grad_weight_for_input",
                        lambda v, p=p: -v.delta * v[p],
                        f"your dLoss/d{p} multiplies δ by the weight {p} where its input {factor} belongs",
                    ),
                ),
            )
        )
    steps.append(
        Step(
            "dLoss/db",
            "dLoss/db",
            _grad_tex("b"),
            "the gradient of the loss with respect to b",
            "dLoss/db = −δ",
            lambda v: -v.delta,
            (
                Slip(
                    "grad_sign",
                    lambda v: v.delta,
                    "your dLoss/db is +δ: δ is minus the gradient with respect to z, so dLoss/db = −δ",
                ),
                Slip(
                    "grad_bias_times_input",
                    lambda v: -v.delta * v.x1,
                    "your dLoss/db multiplies by x1: the bias enters z with factor 1, so dLoss/db = −δ",
                ),
            ),
        )
    )
    return tuple(steps + _update_steps(("w1", "w2", "b"), lambda p: f"dLoss/d{p}"))


def _relu_chain():
    steps = [
        Step(
            "z1",
            "z1",
            "z_1",
            "the sum inside neuron 1",
            "z1 = w11·x1 + b1",
            lambda v: v.w11 * v.x1 + v.b1,
            (
                Slip("z_no_bias", lambda v: v.w11 * v.x1, "your z1 leaves out the bias b1"),
                Slip(
                    "z_bias_subtracted", lambda v: v.w11 * v.x1 - v.b1, "your z1 subtracts the bias: z1 = w11·x1 + b1"
                ),
                Slip("z_wrong_bias", lambda v: v.w11 * v.x1 + v.b2, "your z1 uses b2: neuron 1's own bias is b1"),
                Slip(
                    "z_wrong_weight",
                    lambda v: v.w12 * v.x1 + v.b1,
                    "your z1 uses w12: the weight from x1 into neuron 1 is w11",
                ),
            ),
        ),
        _relu_step("Y1", "z1", "neuron 1"),
        Step(
            "z2",
            "z2",
            "z_2",
            "the sum inside neuron 2",
            "z2 = w12·Y1 + b2",
            lambda v: v.w12 * v.Y1 + v.b2,
            (
                Slip("z_no_bias", lambda v: v.w12 * v.Y1, "your z2 leaves out the bias b2"),
                Slip(
                    "z_bias_subtracted", lambda v: v.w12 * v.Y1 - v.b2, "your z2 subtracts the bias: z2 = w12·Y1 + b2"
                ),
                Slip(
                    "z_wrong_bias",
                    lambda v: v.w12 * v.Y1 + v.b1,
                    "your z2 uses b1: neuron 2's own bias is b2 (one line of the notes has this slip)",
                ),
                Slip(
                    "z_input_for_Y1",
                    lambda v: v.w12 * v.x1 + v.b2,
                    "your z2 uses x1: neuron 2's input is Y1, the output of neuron 1",
                ),
                Slip(
                    "z_uses_z1",
                    lambda v: v.w12 * v.z1 + v.b2,
                    "your z2 uses z1 where Y1 = ReLU(z1) belongs: neuron 1 is off, so Y1 = 0",
                    node_off("z1"),
                ),
                Slip(
                    "z_wrong_weight",
                    lambda v: v.w11 * v.Y1 + v.b2,
                    "your z2 uses w11: the weight from neuron 1 into neuron 2 is w12",
                ),
            ),
        ),
        _relu_step("Y2", "z2", "neuron 2"),
        Step(
            "Err2",
            "Err2",
            r"\text{Err}_2",
            "the error at the output",
            "Err2 = O_b2 − Y2",
            lambda v: v.O_b2 - v.Y2,
            (
                Slip(
                    "err_reversed",
                    lambda v: v.Y2 - v.O_b2,
                    "your Err2 is Y2 − O_b2; the error is the target minus the prediction, Err2 = O_b2 − Y2",
                ),
                Slip(
                    "err_wrong_output",
                    lambda v: v.O_b2 - v.Y1,
                    "your Err2 uses Y1: the prediction is neuron 2's output Y2",
                ),
                Slip("err_uses_z", lambda v: v.O_b2 - v.z2, "your Err2 uses z2 where Y2 = ReLU(z2) belongs"),
            ),
        ),
        _half_square_loss("Err2"),
        Step(
            "delta2",
            "δ2",
            r"\delta_2",
            "neuron 2's error let through its gate (minus dLoss/dz2)",
            "δ2 = Err2·ReLU'(z2)",
            lambda v: v.Err2 * gate(v.z2),
            (
                Slip(
                    "delta_sign",
                    lambda v: -v.Err2 * gate(v.z2),
                    "your δ2 has the sign of dLoss/dz2; the notes' δ2 = Err2·ReLU'(z2) is minus it",
                ),
                Slip(
                    "delta_gate_of_other_node",
                    lambda v: v.Err2 * gate(v.z1),
                    "your δ2 uses ReLU'(z1) where neuron 2's own ReLU'(z2) belongs",
                ),
                Slip(
                    "delta_no_gate",
                    lambda v: v.Err2,
                    "your δ2 leaves out ReLU'(z2): neuron 2 is off (z2 < 0), so ReLU'(z2) = 0 and δ2 = 0",
                ),
            ),
        ),
        Step(
            "delta1",
            "δ1",
            r"\delta_1",
            "the error sent back to neuron 1 (minus dLoss/dz1)",
            "δ1 = δ2·w12·ReLU'(z1)",
            lambda v: v.delta2 * v.w12 * gate(v.z1),
            (
                Slip(
                    "delta1_no_weight",
                    lambda v: v.delta2 * gate(v.z1),
                    "your δ1 leaves out w12: the error reaches neuron 1 through the edge w12, δ1 = δ2·w12·ReLU'(z1)",
                ),
                Slip(
                    "delta1_gate_of_neuron_2",
                    lambda v: v.delta2 * v.w12 * gate(v.z2),
                    "your δ1 uses ReLU'(z2) where neuron 1's own ReLU'(z1) belongs",
                ),
                Slip(
                    "delta_no_gate",
                    lambda v: v.delta2 * v.w12,
                    "your δ1 leaves out ReLU'(z1): neuron 1 is off (z1 < 0), so ReLU'(z1) = 0 and δ1 = 0",
                ),
                Slip(
                    "delta1_wrong_weight",
                    lambda v: v.delta2 * v.w11 * gate(v.z1),
                    "your δ1 uses w11: the error comes back through the edge it went forward on, w12",
                ),
                Slip(
                    "delta1_value_for_weight",
                    lambda v: v.delta2 * v.Y1 * gate(v.z1),
                    "your δ1 multiplies by Y1 where the weight w12 belongs",
                ),
                Slip(
                    "delta_sign",
                    lambda v: -v.delta2 * v.w12 * gate(v.z1),
                    "your δ1 has the wrong sign: δ1 = δ2·w12·ReLU'(z1), no minus sign",
                ),
                Slip(
                    "delta1_from_err",
                    lambda v: v.Err2 * v.w12 * gate(v.z1),
                    "your δ1 starts from Err2 where δ2 = Err2·ReLU'(z2) belongs: neuron 2's gate counts too",
                ),
            ),
        ),
    ]
    for p, delta, factor, other_delta, wrong_factor in (
        ("w12", "delta2", "Y1", "delta1", "x1"),
        ("b2", "delta2", None, "delta1", None),
        ("w11", "delta1", "x1", "delta2", "Y1"),
        ("b1", "delta1", None, "delta2", None),
    ):
        d, od = ("δ2", "δ1") if delta == "delta2" else ("δ1", "δ2")
        neuron = "neuron 2" if delta == "delta2" else "neuron 1"
        times = f"·{factor}" if factor else ""

        def rule(v, delta=delta, factor=factor):
            return -v[delta] * (v[factor] if factor else 1.0)

        slips = [
            Slip(
                "grad_sign",
                lambda v, delta=delta, factor=factor: v[delta] * (v[factor] if factor else 1.0),
                f"your dLoss/d{p} is +{d}{times}: δ is minus the gradient with respect to z, so "
                f"dLoss/d{p} = −{d}{times}",
            ),
            Slip(
                "grad_other_delta",
                lambda v, od=other_delta, factor=factor: -v[od] * (v[factor] if factor else 1.0),
                f"your dLoss/d{p} uses {od} where {d} belongs: {p} sits on {neuron}",
            ),
        ]
        if factor:
            slips += [
                Slip(
                    "grad_no_input",
                    lambda v, delta=delta: -v[delta],
                    f"your dLoss/d{p} leaves out {factor}, the input of the edge {p}",
                ),
                Slip(
                    "grad_other_input",
                    lambda v, delta=delta, w=wrong_factor: -v[delta] * v[w],
                    f"your dLoss/d{p} uses {wrong_factor}; the input of the edge {p} is {factor}",
                ),
                Slip(
                    "grad_weight_for_input",
                    lambda v, delta=delta, p=p: -v[delta] * v[p],
                    f"your dLoss/d{p} multiplies by the weight {p} where its input {factor} belongs",
                ),
            ]
        steps.append(
            Step(
                f"dLoss/d{p}",
                f"dLoss/d{p}",
                _grad_tex(p),
                f"the gradient of the loss with respect to {p}",
                f"dLoss/d{p} = −{d}{times}",
                rule,
                tuple(slips),
            )
        )
    return tuple(steps + _update_steps(("w12", "b2", "w11", "b1"), lambda p: f"dLoss/d{p}"))


OUTPUTS = (5, 6, 7)
# What a 2-2-3 step is, the same words for every target: the target node is drawn per id, and the words appear
# where no id is known (the notebook's template) as well as on a sheet, so they never name it.
OUTPUT_ERROR_WORDS = "the error at output node {k}"
HIDDEN = (3, 4)
INPUTS = (1, 2)


def _softmax_223(target):
    """The 2-2-3 net's steps for this target node (5, 6 or 7): the output errors depend on it.

    In notes 002's order (forward pass, output errors, output-layer gradients, hidden errors, hidden-layer
    gradients), except that every update comes after every gradient: notes 002 update the output layer before
    sending the error back, and dLoss/dY3, dLoss/dY4 need its weights from before the update.
    """
    other_h = {3: 4, 4: 3}
    steps = []
    for j in HIDDEN:
        o = other_h[j]
        steps.append(
            Step(
                f"z{j}",
                f"z{j}",
                f"z_{j}",
                f"the sum inside node {j}",
                f"z{j} = W1{j}·X1 + W2{j}·X2 + b{j}",
                lambda v, j=j: v[f"W1{j}"] * v.X1 + v[f"W2{j}"] * v.X2 + v[f"b{j}"],
                (
                    Slip(
                        "z_no_bias",
                        lambda v, j=j: v[f"W1{j}"] * v.X1 + v[f"W2{j}"] * v.X2,
                        f"your z{j} leaves out the bias b{j}",
                    ),
                    Slip(
                        "z_bias_subtracted",
                        lambda v, j=j: v[f"W1{j}"] * v.X1 + v[f"W2{j}"] * v.X2 - v[f"b{j}"],
                        f"your z{j} subtracts the bias: z{j} = W1{j}·X1 + W2{j}·X2 + b{j}",
                    ),
                    Slip(
                        "z_inputs_swapped",
                        lambda v, j=j: v[f"W1{j}"] * v.X2 + v[f"W2{j}"] * v.X1 + v[f"b{j}"],
                        f"your z{j} pairs W1{j} with X2 and W2{j} with X1: W_ij is the weight from node i, so "
                        f"W1{j} multiplies X1",
                    ),
                    Slip(
                        "z_weights_of_other_node",
                        lambda v, j=j, o=o: v[f"W1{o}"] * v.X1 + v[f"W2{o}"] * v.X2 + v[f"b{j}"],
                        f"your z{j} uses W1{o} and W2{o}, the weights into node {o}: node {j}'s are W1{j} and W2{j}",
                    ),
                    Slip(
                        "z_no_first_term",
                        lambda v, j=j: v[f"W2{j}"] * v.X2 + v[f"b{j}"],
                        f"your z{j} leaves out the term W1{j}·X1",
                    ),
                    Slip(
                        "z_no_second_term",
                        lambda v, j=j: v[f"W1{j}"] * v.X1 + v[f"b{j}"],
                        f"your z{j} leaves out the term W2{j}·X2",
                    ),
                ),
            )
        )
    steps += [_relu_step(f"Y{j}", f"z{j}", f"node {j}") for j in HIDDEN]
    for k in OUTPUTS:
        steps.append(
            Step(
                f"Y{k}",
                f"Y{k}",
                f"Y_{k}",
                f"the output (logit) of node {k}",
                f"Y{k} = W3{k}·Y3 + W4{k}·Y4 + b{k}",
                lambda v, k=k: v[f"W3{k}"] * v.Y3 + v[f"W4{k}"] * v.Y4 + v[f"b{k}"],
                (
                    Slip(
                        "logit_uses_z3",
                        lambda v, k=k: v[f"W3{k}"] * v.z3 + v[f"W4{k}"] * v.Y4 + v[f"b{k}"],
                        f"your Y{k} uses z3 where Y3 = ReLU(z3) belongs: node 3 is off, so Y3 = 0",
                        node_off("z3"),
                    ),
                    Slip(
                        "logit_uses_z4",
                        lambda v, k=k: v[f"W3{k}"] * v.Y3 + v[f"W4{k}"] * v.z4 + v[f"b{k}"],
                        f"your Y{k} uses z4 where Y4 = ReLU(z4) belongs: node 4 is off, so Y4 = 0",
                        node_off("z4"),
                    ),
                    Slip(
                        "logit_no_bias",
                        lambda v, k=k: v[f"W3{k}"] * v.Y3 + v[f"W4{k}"] * v.Y4,
                        f"your Y{k} leaves out the bias b{k}",
                    ),
                    Slip(
                        "logit_relu",
                        lambda v, k=k: relu(v[f"W3{k}"] * v.Y3 + v[f"W4{k}"] * v.Y4 + v[f"b{k}"]),
                        f"your Y{k} went through a ReLU: the output nodes are linear, "
                        f"Y{k} = W3{k}·Y3 + W4{k}·Y4 + b{k}, "
                        "negative or not",
                    ),
                    Slip(
                        "logit_weights_swapped",
                        lambda v, k=k: v[f"W4{k}"] * v.Y3 + v[f"W3{k}"] * v.Y4 + v[f"b{k}"],
                        f"your Y{k} pairs W3{k} with Y4: W3{k} is the weight from node 3, so it multiplies Y3",
                    ),
                ),
            )
        )

    def exp_sum(v):
        return sum(math.exp(min(v[f"Y{k}"], 700.0)) for k in OUTPUTS)

    for k in OUTPUTS:
        steps.append(
            Step(
                f"P{k}",
                f"P{k}",
                f"P_{k}",
                f"the probability of class {k} (softmax)",
                f"P{k} = e^Y{k} / (e^Y5 + e^Y6 + e^Y7)",
                lambda v, k=k: math.exp(min(v[f"Y{k}"], 700.0)) / exp_sum(v),
                (
                    Slip(
                        "softmax_not_divided",
                        lambda v, k=k: math.exp(min(v[f"Y{k}"], 700.0)),
                        f"your P{k} is e^Y{k} alone: divide by the sum e^Y5 + e^Y6 + e^Y7, "
                        "so that the three add up to 1",
                    ),
                    Slip(
                        "softmax_no_exp",
                        lambda v, k=k: v[f"Y{k}"] / (v.Y5 + v.Y6 + v.Y7 or math.nan),
                        f"your P{k} divides the logit Y{k} by Y5 + Y6 + Y7: "
                        f"softmax divides e^Y{k} by e^Y5 + e^Y6 + e^Y7",
                    ),
                    Slip(
                        "softmax_negated",
                        lambda v, k=k: math.exp(-v[f"Y{k}"]) / sum(math.exp(-v[f"Y{m}"]) for m in OUTPUTS),
                        f"your P{k} uses e^(−Y{k}): the largest logit must get the largest probability",
                    ),
                ),
            )
        )
    t = target
    others = [k for k in OUTPUTS if k != t]
    steps.append(
        Step(
            "Loss",
            "Loss",
            r"\text{Loss}",
            "the loss, −log of the target node's probability",
            f"Loss = −log P{t} (natural log)",
            lambda v: -math.log(v[f"P{t}"]) if v[f"P{t}"] > 0 else math.nan,
            (
                Slip(
                    "loss_sign",
                    lambda v: math.log(v[f"P{t}"]) if v[f"P{t}"] > 0 else math.nan,
                    f"your Loss is log P{t}: the loss is minus it, Loss = −log P{t}, a positive number",
                ),
                Slip(
                    "loss_log10",
                    lambda v: -math.log10(v[f"P{t}"]) if v[f"P{t}"] > 0 else math.nan,
                    f"your Loss uses log base 10: the notes' log is the natural log, Loss = −ln P{t}",
                ),
                *(
                    Slip(
                        "loss_other_class",
                        lambda v, m=m: -math.log(v[f"P{m}"]) if v[f"P{m}"] > 0 else math.nan,
                        f"your Loss is −log P{m}: the target is node {t}, so Loss = −log P{t}",
                    )
                    for m in others
                ),
                Slip(
                    "loss_one_minus", lambda v: 1.0 - v[f"P{t}"], f"your Loss is 1 − P{t}: the loss is Loss = −log P{t}"
                ),
            ),
        )
    )
    for k in OUTPUTS:
        if k == t:
            steps.append(
                Step(
                    f"dLoss/dY{k}",
                    f"dLoss/dY{k}",
                    rf"\frac{{d\text{{Loss}}}}{{dY_{k}}}",
                    OUTPUT_ERROR_WORDS.format(k=k),
                    f"dLoss/dY{k} = P{k} − 1",
                    lambda v, k=k: v[f"P{k}"] - 1.0,
                    (
                        Slip(
                            "target_error_no_one",
                            lambda v, k=k: v[f"P{k}"],
                            f"your dLoss/dY{k} is P{k}, where P{k} − 1 belongs: node {k} is the target, "
                            f"so its error is P{k} − 1",
                        ),
                        Slip(
                            "error_sign",
                            lambda v, k=k: 1.0 - v[f"P{k}"],
                            f"your dLoss/dY{k} is 1 − P{k}: the error is what the net predicted minus what it should, "
                            f"P{k} − 1",
                        ),
                    ),
                )
            )
        else:
            steps.append(
                Step(
                    f"dLoss/dY{k}",
                    f"dLoss/dY{k}",
                    rf"\frac{{d\text{{Loss}}}}{{dY_{k}}}",
                    OUTPUT_ERROR_WORDS.format(k=k),
                    f"dLoss/dY{k} = P{k}",
                    lambda v, k=k: v[f"P{k}"],
                    (
                        Slip(
                            "other_error_minus_one",
                            lambda v, k=k: v[f"P{k}"] - 1.0,
                            f"your dLoss/dY{k} is P{k} − 1: only the target node {t} has the −1, so dLoss/dY{k} = P{k}",
                        ),
                        Slip(
                            "error_sign",
                            lambda v, k=k: -v[f"P{k}"],
                            f"your dLoss/dY{k} is −P{k}: raising Y{k} raises P{k} and with it the loss, "
                            f"dLoss/dY{k} = P{k}",
                        ),
                        Slip(
                            "other_error_zero",
                            lambda v: 0.0,
                            f"your dLoss/dY{k} is 0: node {k} is not the target, but through the softmax's shared "
                            f"denominator Y{k} still moves P{t}; dLoss/dY{k} = P{k}",
                        ),
                    ),
                )
            )

    def err(v, k):
        return v[f"dLoss/dY{k}"]

    # notes 002's order: the output layer's gradients, then the errors sent back to the hidden nodes
    output_params = [(f"W{j}{k}", k, f"Y{j}") for k in OUTPUTS for j in HIDDEN] + [(f"b{k}", k, None) for k in OUTPUTS]
    for p, k, y in output_params:
        times = f"·{y}" if y else ""
        slips = [
            Slip(
                "grad_sign",
                lambda v, k=k, y=y: -err(v, k) * (v[y] if y else 1.0),
                f"your dLoss/d{p} has the wrong sign: dLoss/d{p} = dLoss/dY{k}{times}",
            )
        ]
        if k == t:
            slips.append(
                Slip(
                    "grad_probability_for_error",
                    lambda v, k=k, y=y: v[f"P{k}"] * (v[y] if y else 1.0),
                    f"your dLoss/d{p} uses P{k} where the target's error P{k} − 1 belongs",
                )
            )
        if y:
            j = int(y[1])
            o = other_h[j]
            slips += [
                Slip(
                    "grad_no_input",
                    lambda v, k=k: err(v, k),
                    f"your dLoss/d{p} leaves out {y}, the value the edge {p} carries",
                ),
                Slip(
                    "grad_other_hidden_value",
                    lambda v, k=k, o=o: err(v, k) * v[f"Y{o}"],
                    f"your dLoss/d{p} uses Y{o}: the edge {p} comes from node {j}, so it carries Y{j}",
                ),
                Slip(
                    "grad_z_for_value",
                    lambda v, k=k, j=j: err(v, k) * v[f"z{j}"],
                    f"your dLoss/d{p} uses z{j} where Y{j} = ReLU(z{j}) belongs: node {j} is off, so Y{j} = 0",
                    node_off(f"z{j}"),
                ),
                Slip(
                    "grad_weight_for_input",
                    lambda v, k=k, p=p: err(v, k) * v[p],
                    f"your dLoss/d{p} multiplies by the weight {p} where the value it carries, {y}, belongs",
                ),
            ]
        else:
            slips.append(
                Slip(
                    "grad_bias_times_value",
                    lambda v, k=k: err(v, k) * v.Y3,
                    f"your dLoss/d{p} multiplies by Y3: a bias enters Y{k} with factor 1",
                )
            )
        steps.append(
            Step(
                f"dLoss/d{p}",
                f"dLoss/d{p}",
                _grad_tex(p),
                f"the gradient of the loss with respect to {p}",
                f"dLoss/d{p} = dLoss/dY{k}{times}",
                lambda v, k=k, y=y: err(v, k) * (v[y] if y else 1.0),
                tuple(slips),
            )
        )
    for j in HIDDEN:
        o = other_h[j]
        sum_text = " + ".join(f"dLoss/dY{k}·W{j}{k}" for k in OUTPUTS)
        steps.append(
            Step(
                f"dLoss/dY{j}",
                f"dLoss/dY{j}",
                rf"\frac{{d\text{{Loss}}}}{{dY_{j}}}",
                f"the error at hidden node {j}, summed over its parents",
                f"dLoss/dY{j} = {sum_text}",
                lambda v, j=j: sum(err(v, k) * v[f"W{j}{k}"] for k in OUTPUTS),
                (
                    Slip(
                        "hidden_target_path_only",
                        lambda v, j=j: err(v, t) * v[f"W{j}{t}"],
                        f"your dLoss/dY{j} keeps only the path through the target node {t}: node {j} feeds all three "
                        f"outputs, so dLoss/dY{j} = {sum_text}",
                    ),
                    Slip(
                        "hidden_weights_of_other_node",
                        lambda v, o=o: sum(err(v, k) * v[f"W{o}{k}"] for k in OUTPUTS),
                        f"your dLoss/dY{j} uses W{o}5, W{o}6, W{o}7, the weights out of node {o}: node {j}'s are "
                        f"W{j}5, W{j}6, W{j}7",
                    ),
                    Slip(
                        "hidden_probabilities",
                        lambda v, j=j: sum(v[f"P{k}"] * v[f"W{j}{k}"] for k in OUTPUTS),
                        f"your dLoss/dY{j} uses P{t} where the target's error P{t} − 1 belongs",
                    ),
                    Slip(
                        "hidden_gated",
                        lambda v, j=j: gate(v[f"z{j}"]) * sum(err(v, k) * v[f"W{j}{k}"] for k in OUTPUTS),
                        f"your dLoss/dY{j} is 0 because node {j} is off; but dLoss/dY{j} comes before the gate: "
                        f"ReLU'(z{j}) enters node {j}'s gradients, not dLoss/dY{j}",
                    ),
                    Slip(
                        "hidden_error_sign",
                        lambda v, j=j: -sum(err(v, k) * v[f"W{j}{k}"] for k in OUTPUTS),
                        f"your dLoss/dY{j} has the wrong sign: dLoss/dY{j} = {sum_text}, no minus sign",
                    ),
                ),
            )
        )
    hidden_params = [(f"W{i}{j}", j, f"X{i}") for j in HIDDEN for i in INPUTS] + [(f"b{j}", j, None) for j in HIDDEN]
    for p, j, x in hidden_params:
        o = other_h[j]
        times = f"·{x}" if x else ""

        def rule(v, j=j, x=x):
            return v[f"dLoss/dY{j}"] * gate(v[f"z{j}"]) * (v[x] if x else 1.0)

        slips = [
            Slip(
                "grad_no_gate",
                lambda v, j=j, x=x: v[f"dLoss/dY{j}"] * (v[x] if x else 1.0),
                f"your dLoss/d{p} leaves out ReLU'(z{j}): node {j} is off (z{j} < 0), so ReLU'(z{j}) = 0 stops "
                f"the flow and dLoss/d{p} = 0",
            ),
            Slip(
                "grad_sign",
                lambda v, j=j, x=x: -v[f"dLoss/dY{j}"] * gate(v[f"z{j}"]) * (v[x] if x else 1.0),
                f"your dLoss/d{p} has the wrong sign: dLoss/d{p} = dLoss/dY{j}·ReLU'(z{j}){times}",
            ),
            Slip(
                "grad_other_hidden_error",
                lambda v, j=j, o=o, x=x: v[f"dLoss/dY{o}"] * gate(v[f"z{j}"]) * (v[x] if x else 1.0),
                f"your dLoss/d{p} uses dLoss/dY{o}: {p} leads into node {j}, so it takes dLoss/dY{j}",
            ),
            Slip(
                "grad_gate_of_other_node",
                lambda v, j=j, o=o, x=x: v[f"dLoss/dY{j}"] * gate(v[f"z{o}"]) * (v[x] if x else 1.0),
                f"your dLoss/d{p} uses ReLU'(z{o}) where node {j}'s own ReLU'(z{j}) belongs",
            ),
        ]
        if x:
            other_x = "X2" if x == "X1" else "X1"
            slips += [
                Slip(
                    "grad_no_input",
                    lambda v, j=j: v[f"dLoss/dY{j}"] * gate(v[f"z{j}"]),
                    f"your dLoss/d{p} leaves out {x}, the input of the edge {p}",
                ),
                Slip(
                    "grad_other_input",
                    lambda v, j=j, ox=other_x: v[f"dLoss/dY{j}"] * gate(v[f"z{j}"]) * v[ox],
                    f"your dLoss/d{p} uses {other_x}: the edge {p} comes from node {x[1]}, so it carries {x}",
                ),
            ]
        steps.append(
            Step(
                f"dLoss/d{p}",
                f"dLoss/d{p}",
                _grad_tex(p),
                f"the gradient of the loss with respect to {p}",
                f"dLoss/d{p} = dLoss/dY{j}·ReLU'(z{j}){times}",
                rule,
                tuple(slips),
            )
        )
    order = [p for p, _, _ in output_params] + [p for p, _, _ in hidden_params]
    return tuple(steps + _update_steps(order, lambda p: f"dLoss/d{p}"))


_SINGLE = _single_neuron()
_CHAIN = _relu_chain()
_SOFTMAX = {t: _softmax_223(t) for t in OUTPUTS}


def steps(network: str, target: Any = None) -> tuple[Step, ...]:
    """The steps of network's hand calculation in the notes' order, a tuple of Step records.

    For "softmax_223" the output errors depend on the target node (P_k − 1 at
    the target, P_k elsewhere); without a target, node 5's steps are given
    (the notes' own case): the keys and the order are the same for every target.
    """
    net = find_network(network, "byhand.steps")
    if net.name == "single_neuron":
        return _SINGLE
    if net.name == "relu_chain":
        return _CHAIN
    return _SOFTMAX[target if target in OUTPUTS else 5]


# Which steps are graded when the instructor does not choose (the steps= option of grade_by_hand, check_by_hand,
# sheet and form).  The 2-2-3 page has 46 steps, 45 to 60 minutes with a calculator, 15 of them bare p − η·g
# updates; its default keeps 25 that still ask for every idea once: the whole forward pass and the loss, the
# three output errors, the errors sent back to both hidden nodes (one of which is off, as the id decides), an
# output-layer weight gradient for each hidden node and a bias gradient, a hidden-layer gradient into each
# hidden node (so one goes through ReLU'(z) = 0), and an update of each kind.  The steps left out are leaves:
# no graded step needs them.  The other networks' pages are short enough to grade whole.
DEFAULT_GRADED = {
    "softmax_223": (
        "z3",
        "z4",
        "Y3",
        "Y4",
        "Y5",
        "Y6",
        "Y7",
        "P5",
        "P6",
        "P7",
        "Loss",
        "dLoss/dY5",
        "dLoss/dY6",
        "dLoss/dY7",
        "dLoss/dW35",
        "dLoss/dW46",
        "dLoss/db5",
        "dLoss/dY3",
        "dLoss/dY4",
        "dLoss/dW13",
        "dLoss/dW24",
        "new W35",
        "new b5",
        "new W13",
        "new W24",
    ),
}
ALL = "all"  # steps=ALL grades every step


def graded_steps(network: str, chosen: Any = None) -> tuple[str, ...]:
    """The keys of the graded steps, in the steps' order: chosen (a list of keys, or "all"), else the default.

    ValueError with a sentence for a choice that names no step: an instructor's typo must not grade nothing.
    """
    keys = [s.key for s in steps(network)]
    if chosen is None:
        chosen = DEFAULT_GRADED.get(find_network(network, "byhand.graded_steps").name, ALL)
    if chosen == ALL:
        return tuple(keys)
    if not isinstance(chosen, (list, tuple)) or not chosen or not all(isinstance(k, str) for k in chosen):
        raise ValueError(
            f'steps= is "all" or a list of step keys such as [{keys[0]!r}, {keys[1]!r}]; got {chosen!r:.60}.'
        )
    unknown = [k for k in chosen if k not in keys]
    if unknown:
        raise ValueError(
            f"steps= names {unknown[0]!r}, which is no step of {network}; the steps are {', '.join(keys)}."
        )
    return tuple(k for k in keys if k in set(chosen))


def givens(network: str, x: Any, params: Any, target: Any, eta: float) -> Any:
    """The problem's own numbers as the Values every rule starts from, under the notes' names."""
    net = find_network(network, "byhand.givens")
    v = Values()
    for name, value in zip(net.inputs, x):
        v[name] = float(value)
    for p in net.params:
        v[p] = float(params[p])
    if net.classes:
        v["target"] = int(target)
    else:
        v[net.target_symbol] = float(target)
    v["eta"] = float(eta)
    return v
