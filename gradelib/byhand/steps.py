"""The steps of each network's hand calculation, in the notes' order, each computed from the EARLIER steps.

A Step's rule reads a Values mapping: the problem's own numbers (x1, w1,
O_b, eta, ...) and the values of the steps before it.  Marking calls the
rule on the student's own earlier values (error carried forward), so the
rules never reach back past what the student wrote: Y = ReLU(z) reads the
student's z, δ = Err·ReLU'(z) the student's Err and z, new w1 = w1 − η·dLoss/dw1
the student's gradient.

Each step's formula is written once, as an expression (gradelib.byhand.expr)
that gives both the formula the sheet and the feedback print and the rule
marking computes; the steps are built from the network's topology
(gradelib.networks: which edges go into a node, which nodes feed it).

Each step also lists its slips (gradelib.slips.Slip, the record the whole
library shares): a wrong rule a student is known to follow, with the words
that name it ("your δ1 uses ReLU'(z2) where neuron 1's own ReLU'(z1)
belongs"), and a priority that says which slip names the mistake when two give
the same number.  A slip is computed from the same earlier values, so it is
recognised on the student's own numbers too.

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
from typing import Any

from ..networks import SOFTMAX_223, Network, find_network
from ..slips import Slip, by_priority
from .expr import HALF, ONE, Expr, Num, ReLU, Sym, absolute, exp, gate, gate_value, log, log10, note, square, total

gate_of = gate_value  # ReLU'(z) of a number, for the rules written as functions below
OUTPUTS = SOFTMAX_223.classes
# What a 2-2-3 step is, the same words for every target: the target node is drawn per id, and the words appear
# where no id is known (the notebook's template) as well as on a sheet, so they never name it.
OUTPUT_ERROR_WORDS = "the error at output node {k}"
SHOWN = {"delta": "δ", "delta1": "δ1", "delta2": "δ2", "eta": "η"}  # the notes' symbols that are not the keys


class Values(dict):
    """The numbers a rule may read: the problem's own and the earlier steps', by the notes' names.

    ``read`` collects the names a rule looked at, so marking can say what a
    step was computed from without a second list to keep in step with the rule.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.read: list[str] = []

    def __getitem__(self, key: str) -> Any:
        if key not in self.read:
            self.read.append(key)
        return dict.__getitem__(self, key)

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def node_off(z: str) -> Callable[[Values], bool]:
    """A slip's ``when`` for a sentence that says the node whose sum is z is off."""
    return lambda v: v[z] <= 0


@dataclass(frozen=True)
class Step:
    """One box of the hand calculation: its formula written once, as an expression that prints and computes."""

    key: str  # what the student types as the dict key: plain ASCII ("delta2", "dLoss/dw12")
    name: str  # the notes' symbol in plain text, for sentences ("δ2", "dLoss/dw12", "new w12")
    symbol: str  # the notes' symbol in LaTeX
    words: str  # what it is, short
    expr: Expr = field(repr=False, compare=False)  # how it is computed from earlier steps (gradelib.byhand.expr)
    slips: tuple[Slip[Values], ...] = field(default=(), repr=False, compare=False)  # by priority

    @property
    def formula(self) -> str:
        """How it is computed, in the notes' symbols: "δ1 = δ2·w12·ReLU'(z1)"."""
        return f"{self.name} = {self.expr.text()}"

    def rule(self, v: Any) -> float:
        """Its value from the earlier values in v (a Values, or any mapping by the notes' names)."""
        return self.expr.value(v)


def sym(key: str) -> Sym:
    """An earlier value or a given number, printed in the notes' symbol."""
    return Sym(key, SHOWN.get(key, ""))


def step(key: str, symbol: str, words: str, expr: Expr, slips: list[Any]) -> Step:
    """A Step; slips are rows (priority, name, what it gives: an Expr or a function of the Values, words[, when])."""
    made = [Slip(name, g.value if isinstance(g, Expr) else g, w, pri, *when) for pri, name, g, w, *when in slips]
    return Step(key, SHOWN.get(key, key), symbol, words, expr, tuple(by_priority(made)))


def _tex_name(name: str) -> str:
    """'w12' -> 'w_{12}', 'W35' -> 'W_{35}', 'O_b2' -> 'O_{b2}', 'b' -> 'b'."""
    head = name.rstrip("0123456789")
    digits = name[len(head) :]
    if "_" in name:
        head, _, sub = name.partition("_")
        return f"{head}_{{{sub}}}"
    return f"{head}_{{{digits}}}" if digits else head


def _grad_tex(p: str) -> str:
    return rf"\frac{{d\text{{Loss}}}}{{d{_tex_name(p)}}}"


def grad(p: str) -> Sym:
    """The step dLoss/dp."""
    return Sym(f"dLoss/d{p}")


def weighted_sum(net: Network, node: str, **change: Any) -> Expr:
    """node's sum from its edges, w·y + ... + b, or a slip's version of it.

    change: use={name: Expr} (a weight, a source or the bias replaced), drop={weights or bias left out},
    minus={the weights or bias whose term is subtracted}.
    """
    use, drop, minus = change.get("use", {}), change.get("drop", ()), change.get("minus", ())
    out: Expr | None = None
    for p in net.in_edges(node):
        if p in drop:
            continue
        src = net.edges[p].src
        term = use.get(p, sym(p)) if src is None else use.get(p, sym(p)) * use.get(src, sym(src))
        if out is None:
            out = -term if p in minus else term
        else:
            out = out - term if p in minus else out + term
    assert out is not None, node
    return out


def weights_into(net: Network, node: str) -> list[tuple[str, str]]:
    """(weight, the node it comes from) for each weighted edge into node, in the notes' order."""
    return [(p, src) for p in net.in_edges(node) for src in [net.edges[p].src] if src is not None]


def sum_step(net: Network, node: str, words: str, slips: list[Any]) -> Step:
    """The sum into node from its edges: z3 = W13·X1 + W23·X2 + b3, or a linear node's Y5 = W35·Y3 + W45·Y4 + b5."""
    key = net.pre(node)
    return step(key, f"{key[0]}_{key[1:]}" if key[1:] else key, words, weighted_sum(net, node), slips)


def bias_slips(net: Network, node: str) -> list[Any]:
    """The slips with the bias that every ReLU's sum is checked for: left out, or subtracted."""
    key, (bias,) = net.pre(node), [p for p in net.in_edges(node) if net.edges[p].src is None]
    return [
        (10, "z_no_bias", weighted_sum(net, node, drop={bias}), f"your {key} leaves out the bias {bias}"),
        (20, "z_bias_subtracted", weighted_sum(net, node, minus={bias}),
         f"your {key} subtracts the bias: {key} = {weighted_sum(net, node).text()}"),
    ]  # fmt: skip


def relu_step(net: Network, node: str) -> Step:
    """Y = ReLU(z) for a ReLU node of net."""
    z, label = net.relus[node].pre, net.relus[node].label
    return step(node, _tex_name(node), f"the output of {label}", ReLU(sym(z)), [
        (10, "relu_forgotten", sym(z), f"your {node} is {z} itself, but {z} < 0: {label} is off and "
         f"{node} = ReLU({z}) = 0"),
        (20, "relu_off_when_on", Num(0.0, "0"), f"your {node} is 0, but {z} > 0: {label} is on and "
         f"{node} = ReLU({z}) = {z}"),
        (30, "relu_negated", lambda v: max(-v[z], 0.0), f"your {node} is ReLU(−{z}): ReLU passes a positive {z} "
         f"unchanged and turns a negative one into 0"),
    ])  # fmt: skip


def half_square_loss(err: str) -> Step:
    """Loss = ½·Err²."""
    e = sym(err)
    return step("Loss", r"\text{Loss}", "the loss", HALF * square(e), [
        (10, "loss_no_half", square(e), f"your Loss is {err}² without the ½: Loss = ½·{err}²"),
        (20, "loss_not_squared", HALF * e, f"your Loss is ½·{err}, not squared: Loss = ½·{err}²"),
        (30, "loss_abs", absolute(e), f"your Loss is |{err}|: Loss = ½·{err}²"),
    ])  # fmt: skip


def update_steps(params: list[str]) -> list[Step]:
    """The steps 'new p' = p − η·dLoss/dp for each parameter, with the update slips."""
    eta = sym("eta")
    return [
        step(f"new {p}", rf"{_tex_name(p)}^{{\text{{new}}}}", f"{p} after one step of gradient descent",
             sym(p) - eta * grad(p), [
            (10, "update_plus", sym(p) + eta * grad(p), f"your new {p} adds η·dLoss/d{p}, which climbs the loss: "
             f"gradient descent subtracts the gradient, new {p} = {p} − η·dLoss/d{p} (the notes' \"+\" belongs "
             "with δ, which is minus the gradient, never with the gradient itself)"),
            (20, "update_no_eta", sym(p) - grad(p), f"your new {p} subtracts the whole gradient: the step is η "
             f"times it, {p} − η·dLoss/d{p}"),
            (30, "update_no_old_value", -eta * grad(p), f"your new {p} is only the step −η·dLoss/d{p}: add it to "
             f"the old {p}"),
            (40, "update_step_only_plus", eta * grad(p), f"your new {p} is only η·dLoss/d{p}: new {p} = {p} − "
             f"η·dLoss/d{p}"),
        ])
        for p in params
    ]  # fmt: skip


def backward_order(net: Network) -> list[str]:
    """The parameters in the order the notes take their gradients: the last layer's first, each in the notes' order."""
    return sorted(net.params, key=lambda p: -net.depth(net.edges[p].dst))


def grad_step(p: str, expr: Expr, slips: list[Any]) -> Step:
    """The step dLoss/dp."""
    return step(f"dLoss/d{p}", _grad_tex(p), f"the gradient of the loss with respect to {p}", expr, slips)


def _single_neuron() -> tuple[Step, ...]:
    """Notes 000's single neuron: z, Y, Err, Loss, δ, its gradients, the updates."""
    net = find_network("single_neuron", "byhand.steps")
    (w1, x1), (w2, x2) = weights_into(net, "Y")
    z, Y, target, Err, delta = sym("z"), sym("Y"), sym(net.target_symbol), sym("Err"), sym("delta")
    steps = [
        sum_step(net, "Y", "the sum inside the ReLU", bias_slips(net, "Y") + [
            (30, "z_no_w1_term", weighted_sum(net, "Y", drop={w1}), f"your z leaves out the term {w1}·{x1}"),
            (40, "z_no_w2_term", weighted_sum(net, "Y", drop={w2}), f"your z leaves out the term {w2}·{x2}"),
            (50, "z_w1_term_sign", weighted_sum(net, "Y", minus={w1}), f"your z has the wrong sign for the term "
             f"{w1}·{x1}: mind the signs of {w1} and {x1}"),
            (60, "z_w2_term_sign", weighted_sum(net, "Y", minus={w2}), f"your z has the wrong sign for the term "
             f"{w2}·{x2}: mind the signs of {w2} and {x2}"),
            (70, "z_inputs_swapped", weighted_sum(net, "Y", use={x1: sym(x2), x2: sym(x1)}), f"your z pairs {w1} "
             f"with {x2} and {w2} with {x1}: {w1} multiplies {x1}, {w2} multiplies {x2}"),
        ]),
        relu_step(net, "Y"),
        step("Err", r"\text{Err}", "the error", target - Y, [
            (10, "err_reversed", Y - target, "your Err is Y − O_b; the notes' error is the target minus the "
             "prediction, Err = O_b − Y"),
            (20, "err_uses_z", target - z, "your Err uses z where the prediction Y = ReLU(z) belongs"),
        ]),
        half_square_loss("Err"),
        step("delta", r"\delta", "the error let through the gate (minus dLoss/dz)", Err * gate(z), [
            (10, "delta_sign", -Err * gate(z), "your δ has the sign of dLoss/dz = −Err·ReLU'(z); the notes' "
             "δ = Err·ReLU'(z) is minus it"),
            (20, "delta_no_gate", Err, "your δ leaves out ReLU'(z): the neuron is off (z < 0), so ReLU'(z) = 0 and "
             "δ = 0"),
            (30, "delta_times_z", Err * z, "your δ multiplies Err by z where ReLU'(z) belongs"),
            (40, "delta_times_Y", Err * Y, "your δ multiplies Err by Y where ReLU'(z) belongs"),
        ]),
    ]  # fmt: skip
    for p, x, other in ((w1, x1, x2), (w2, x2, x1)):
        steps.append(grad_step(p, -delta * sym(x), [
            (10, "grad_sign", delta * sym(x), f"your dLoss/d{p} is +δ·{x}: δ is minus the gradient with respect "
             f"to z, so dLoss/d{p} = −δ·{x}"),
            (20, "grad_no_input", -delta, f"your dLoss/d{p} leaves out {x}, what {p} multiplies in z"),
            (30, "grad_other_input", -delta * sym(other), f"your dLoss/d{p} uses {other}; {p} multiplies {x} in z, "
             f"so dLoss/d{p} = −δ·{x}"),
            (40, "grad_weight_for_input", -delta * sym(p), f"your dLoss/d{p} multiplies δ by the weight {p} where "
             f"its input {x} belongs"),
        ]))  # fmt: skip
    steps.append(grad_step("b", -delta, [
        (10, "grad_sign", delta, "your dLoss/db is +δ: δ is minus the gradient with respect to z, so dLoss/db = −δ"),
        (20, "grad_bias_times_input", -delta * sym(x1), "your dLoss/db multiplies by x1: the bias enters z with "
         "factor 1, so dLoss/db = −δ"),
    ]))  # fmt: skip
    return tuple(steps + update_steps(backward_order(net)))


def _relu_chain() -> tuple[Step, ...]:
    """Notes 000's chain of two ReLU neurons: z1, Y1, z2, Y2, Err2, Loss, δ2, δ1, the gradients, the updates."""
    net = find_network("relu_chain", "byhand.steps")
    target, Err2 = sym(net.target_symbol), sym("Err2")
    (w11, b1), (w12, b2) = net.in_edges("Y1"), net.in_edges("Y2")
    z1, z2, Y1, Y2, x1 = sym("z1"), sym("z2"), sym("Y1"), sym("Y2"), sym("x1")
    steps = [
        sum_step(net, "Y1", "the sum inside neuron 1", bias_slips(net, "Y1") + [
            (30, "z_wrong_bias", weighted_sum(net, "Y1", use={b1: sym(b2)}), "your z1 uses b2: neuron 1's own bias "
             "is b1"),
            (40, "z_wrong_weight", weighted_sum(net, "Y1", use={w11: sym(w12)}), "your z1 uses w12: the weight from "
             "x1 into neuron 1 is w11"),
        ]),
        relu_step(net, "Y1"),
        sum_step(net, "Y2", "the sum inside neuron 2", bias_slips(net, "Y2") + [
            (30, "z_wrong_bias", weighted_sum(net, "Y2", use={b2: sym(b1)}), "your z2 uses b1: neuron 2's own bias "
             "is b2 (one line of the notes has this slip)"),
            (40, "z_input_for_Y1", weighted_sum(net, "Y2", use={"Y1": x1}), "your z2 uses x1: neuron 2's input is "
             "Y1, the output of neuron 1"),
            (50, "z_uses_z1", weighted_sum(net, "Y2", use={"Y1": z1}), "your z2 uses z1 where Y1 = ReLU(z1) "
             "belongs: neuron 1 is off, so Y1 = 0", node_off("z1")),
            (60, "z_wrong_weight", weighted_sum(net, "Y2", use={w12: sym(w11)}), "your z2 uses w11: the weight from "
             "neuron 1 into neuron 2 is w12"),
        ]),
        relu_step(net, "Y2"),
        step("Err2", r"\text{Err}_2", "the error at the output", target - Y2, [
            (10, "err_reversed", Y2 - target, "your Err2 is Y2 − O_b2; the error is the target minus the prediction, "
             "Err2 = O_b2 − Y2"),
            (20, "err_wrong_output", target - Y1, "your Err2 uses Y1: the prediction is neuron 2's output Y2"),
            (30, "err_uses_z", target - z2, "your Err2 uses z2 where Y2 = ReLU(z2) belongs"),
        ]),
        half_square_loss("Err2"),
        step("delta2", r"\delta_2", "neuron 2's error let through its gate (minus dLoss/dz2)", Err2 * gate(z2), [
            (10, "delta_sign", -Err2 * gate(z2), "your δ2 has the sign of dLoss/dz2; the notes' δ2 = Err2·ReLU'(z2) "
             "is minus it"),
            (20, "delta_gate_of_other_node", Err2 * gate(z1), "your δ2 uses ReLU'(z1) where neuron 2's own "
             "ReLU'(z2) belongs"),
            (30, "delta_no_gate", Err2, "your δ2 leaves out ReLU'(z2): neuron 2 is off (z2 < 0), so ReLU'(z2) = 0 "
             "and δ2 = 0"),
        ]),
        _delta1(net),
    ]  # fmt: skip
    for p in backward_order(net):
        steps.append(_chain_gradient(net, p))
    return tuple(steps + update_steps(backward_order(net)))


def _delta1(net: Network) -> Step:
    """δ1 = δ2·w12·ReLU'(z1): neuron 2's δ sent back along the edge out of neuron 1, through neuron 1's gate."""
    ((w12, _),) = [(p, net.edges[p].dst) for p in net.out_edges("Y1")]
    d2, z1, z2, w = sym("delta2"), sym("z1"), sym("z2"), sym(w12)
    return step("delta1", r"\delta_1", "the error sent back to neuron 1 (minus dLoss/dz1)", d2 * w * gate(z1), [
        (10, "delta1_no_weight", d2 * gate(z1), "your δ1 leaves out w12: the error reaches neuron 1 through the edge "
         "w12, δ1 = δ2·w12·ReLU'(z1)"),
        (20, "delta1_gate_of_neuron_2", d2 * w * gate(z2), "your δ1 uses ReLU'(z2) where neuron 1's own ReLU'(z1) "
         "belongs"),
        (30, "delta_no_gate", d2 * w, "your δ1 leaves out ReLU'(z1): neuron 1 is off (z1 < 0), so ReLU'(z1) = 0 "
         "and δ1 = 0"),
        (40, "delta1_wrong_weight", d2 * sym("w11") * gate(z1), "your δ1 uses w11: the error comes back through "
         "the edge it went forward on, w12"),
        (50, "delta1_value_for_weight", d2 * sym("Y1") * gate(z1), "your δ1 multiplies by Y1 where the weight w12 "
         "belongs"),
        (60, "delta_sign", -d2 * w * gate(z1), "your δ1 has the wrong sign: δ1 = δ2·w12·ReLU'(z1), no minus sign"),
        (70, "delta1_from_err", sym("Err2") * w * gate(z1), "your δ1 starts from Err2 where δ2 = Err2·ReLU'(z2) "
         "belongs: neuron 2's gate counts too"),
    ])  # fmt: skip


def _chain_gradient(net: Network, p: str) -> Step:
    """dLoss/dp = −δ·(what p multiplies): δ of the neuron p leads into, as notes 000 write it."""
    node, src = net.edges[p].dst, net.edges[p].src
    other = next(u for u in net.relus if u != node)
    d, od = sym(f"delta{node[1:]}"), sym(f"delta{other[1:]}")
    times = f"·{src}" if src else ""
    rows = [
        (10, "grad_sign", d * sym(src) if src else d, f"your dLoss/d{p} is +{d.text()}{times}: δ is minus the "
         f"gradient with respect to z, so dLoss/d{p} = −{d.text()}{times}"),
        (20, "grad_other_delta", -od * sym(src) if src else -od, f"your dLoss/d{p} uses {od.text()} where "
         f"{d.text()} belongs: {p} sits on {net.relus[node].label}"),
    ]  # fmt: skip
    if src:
        ((_, wrong),) = weights_into(net, other)
        rows += [
            (30, "grad_no_input", -d, f"your dLoss/d{p} leaves out {src}, the input of the edge {p}"),
            (40, "grad_other_input", -d * sym(wrong), f"your dLoss/d{p} uses {wrong}; the input of the edge {p} is "
             f"{src}"),
            (50, "grad_weight_for_input", -d * sym(p), f"your dLoss/d{p} multiplies by the weight {p} where its "
             f"input {src} belongs"),
        ]  # fmt: skip
    return grad_step(p, -d * sym(src) if src else -d, rows)


def times(e: Expr, src: str | None) -> Expr:
    """e·src for a weight's edge, e alone for a bias's (it enters its sum with factor 1)."""
    return e * sym(src) if src else e


def _softmax_223(t: int) -> tuple[Step, ...]:
    """The 2-2-3 net's steps for this target node (5, 6 or 7): the output errors depend on it.

    In notes 002's order (forward pass, output errors, output-layer gradients, hidden errors, hidden-layer
    gradients), except that every update comes after every gradient: notes 002 update the output layer before
    sending the error back, and dLoss/dY3, dLoss/dY4 need its weights from before the update.
    """
    net = SOFTMAX_223
    order = backward_order(net)
    out_params = [p for p in order if net.edges[p].dst in net.output_nodes]
    return tuple(
        [_hidden_sum(net, u) for u in net.hidden_nodes]
        + [relu_step(net, u) for u in net.hidden_nodes]
        + [_logit(net, node) for node in net.output_nodes]
        + [_probability(net, node) for node in net.output_nodes]
        + [_cross_entropy(net, t)]
        + [_output_error(net, node, t) for node in net.output_nodes]
        + [_output_gradient(net, p, t) for p in out_params]
        + [_hidden_error(net, u, t) for u in net.hidden_nodes]
        + [_hidden_gradient(net, p) for p in order if p not in out_params]
        + update_steps(order)
    )


def _other(net: Network, u: str) -> str:
    """The other hidden node of the 2-2-3 net."""
    (o,) = [h for h in net.hidden_nodes if h != u]
    return o


def _hidden_sum(net: Network, u: str) -> Step:
    """z3 = W13·X1 + W23·X2 + b3."""
    j, o = u[1:], _other(net, u)[1:]
    (wa, xa), (wb, xb) = weights_into(net, u)
    (oa, _), (ob, _) = weights_into(net, _other(net, u))
    return sum_step(net, u, f"the sum inside {net.relus[u].label}", bias_slips(net, u) + [
        (30, "z_inputs_swapped", weighted_sum(net, u, use={xa: sym(xb), xb: sym(xa)}), f"your z{j} pairs {wa} with "
         f"{xb} and {wb} with {xa}: W_ij is the weight from node i, so {wa} multiplies {xa}"),
        (40, "z_weights_of_other_node", weighted_sum(net, u, use={wa: sym(oa), wb: sym(ob)}), f"your z{j} uses {oa} "
         f"and {ob}, the weights into node {o}: node {j}'s are {wa} and {wb}"),
        (50, "z_no_first_term", weighted_sum(net, u, drop={wa}), f"your z{j} leaves out the term {wa}·{xa}"),
        (60, "z_no_second_term", weighted_sum(net, u, drop={wb}), f"your z{j} leaves out the term {wb}·{xb}"),
    ])  # fmt: skip


def _logit(net: Network, node: str) -> Step:
    """Y5 = W35·Y3 + W45·Y4 + b5: an output node is linear."""
    k, (wa, wb, b) = node[1:], net.in_edges(node)
    rows = [
        (10 * i, f"logit_uses_{r.pre}", weighted_sum(net, node, use={u: sym(r.pre)}), f"your {node} uses {r.pre} "
         f"where {u} = ReLU({r.pre}) belongs: {r.label} is off, so {u} = 0", node_off(r.pre))
        for i, (u, r) in enumerate(net.relus.items(), 1)
    ]  # fmt: skip
    return sum_step(net, node, f"the output (logit) of node {k}", rows + [
        (30, "logit_no_bias", weighted_sum(net, node, drop={b}), f"your {node} leaves out the bias {b}"),
        (40, "logit_relu", ReLU(weighted_sum(net, node)), f"your {node} went through a ReLU: the output nodes are "
         f"linear, {node} = {weighted_sum(net, node).text()}, negative or not"),
        (50, "logit_weights_swapped", weighted_sum(net, node, use={wa: sym(wb), wb: sym(wa)}), f"your {node} pairs "
         f"{wa} with Y4: {wa} is the weight from node 3, so it multiplies Y3"),
    ])  # fmt: skip


def _softmax_negated(k: int) -> Callable[[Values], float]:
    """e^(−Yk) / Σ e^(−Ym): computed without the clamp of e^Y, so a huge −Y is no slip anybody made."""
    return lambda v: math.exp(-v[f"Y{k}"]) / sum(math.exp(-v[f"Y{m}"]) for m in OUTPUTS)


def _probability(net: Network, node: str) -> Step:
    """P5 = e^Y5 / (e^Y5 + e^Y6 + e^Y7)."""
    k, ys = int(node[1:]), [sym(y) for y in net.output_nodes]
    exps = " + ".join(f"e^{y}" for y in net.output_nodes)
    return step(f"P{k}", f"P_{k}", f"the probability of class {k} (softmax)", exp(sym(node)) / total(
        [exp(y) for y in ys]), [
        (10, "softmax_not_divided", exp(sym(node)), f"your P{k} is e^{node} alone: divide by the sum {exps}, so that "
         "the three add up to 1"),
        (20, "softmax_no_exp", sym(node) / total(ys), f"your P{k} divides the logit {node} by "
         f"{total(ys).text()}: softmax divides e^{node} by {exps}"),
        (30, "softmax_negated", _softmax_negated(k), f"your P{k} uses e^(−{node}): the largest logit must get the "
         "largest probability"),
    ])  # fmt: skip


def _cross_entropy(net: Network, t: int) -> Step:
    """Loss = −log P_t, the natural log."""
    P = sym(f"P{t}")
    others = [(30 + i, f"loss_other_class_{m}", -log(sym(f"P{m}")), f"your Loss is −log P{m}: the target is node "
               f"{t}, so Loss = −log P{t}") for i, m in enumerate(k for k in net.classes if k != t)]  # fmt: skip
    return step("Loss", r"\text{Loss}", "the loss, −log of the target node's probability", note(
        -log(P), "(natural log)"), [
        (10, "loss_sign", log(P), f"your Loss is log P{t}: the loss is minus it, Loss = −log P{t}, a positive number"),
        (20, "loss_log10", -log10(P), f"your Loss uses log base 10: the notes' log is the natural log, "
         f"Loss = −ln P{t}"),
        *others,
        (50, "loss_one_minus", ONE - P, f"your Loss is 1 − P{t}: the loss is Loss = −log P{t}"),
    ])  # fmt: skip


def _output_error(net: Network, node: str, t: int) -> Step:
    """dLoss/dY_k = P_k − 1 at the target node, P_k at the others."""
    k = int(node[1:])
    P, symbol, words = sym(f"P{k}"), rf"\frac{{d\text{{Loss}}}}{{dY_{k}}}", OUTPUT_ERROR_WORDS.format(k=k)
    if k == t:
        return step(f"dLoss/dY{k}", symbol, words, P - ONE, [
            (10, "target_error_no_one", P, f"your dLoss/dY{k} is P{k}, where P{k} − 1 belongs: node {k} is the "
             f"target, so its error is P{k} − 1"),
            (20, "error_sign", ONE - P, f"your dLoss/dY{k} is 1 − P{k}: the error is what the net predicted minus "
             f"what it should, P{k} − 1"),
        ])  # fmt: skip
    return step(f"dLoss/dY{k}", symbol, words, P, [
        (10, "other_error_minus_one", P - ONE, f"your dLoss/dY{k} is P{k} − 1: only the target node {t} has the −1, "
         f"so dLoss/dY{k} = P{k}"),
        (20, "error_sign", -P, f"your dLoss/dY{k} is −P{k}: raising Y{k} raises P{k} and with it the loss, "
         f"dLoss/dY{k} = P{k}"),
        (30, "other_error_zero", Num(0.0, "0"), f"your dLoss/dY{k} is 0: node {k} is not the target, but through "
         f"the softmax's shared denominator Y{k} still moves P{t}; dLoss/dY{k} = P{k}"),
    ])  # fmt: skip


def _output_gradient(net: Network, p: str, t: int) -> Step:
    """dLoss/dW35 = dLoss/dY5·Y3, dLoss/db5 = dLoss/dY5: the output error times what the edge carries."""
    node, y = net.edges[p].dst, net.edges[p].src
    k, err = int(node[1:]), sym(f"dLoss/d{node}")
    formula = f"dLoss/d{p} = {times(err, y).text()}"
    rows: list[Any] = [(10, "grad_sign", times(-err, y), f"your dLoss/d{p} has the wrong sign: {formula}")]
    if k == t:
        rows.append((20, "grad_probability_for_error", times(sym(f"P{k}"), y), f"your dLoss/d{p} uses P{k} where "
                     f"the target's error P{k} − 1 belongs"))  # fmt: skip
    if y is None:
        first = net.hidden_nodes[0]
        return grad_step(p, err, rows + [(30, "grad_bias_times_value", err * sym(first), f"your dLoss/d{p} "
                                          f"multiplies by {first}: a bias enters {node} with factor 1")])  # fmt: skip
    j, o, z = y[1:], _other(net, y), net.relus[y].pre
    return grad_step(p, err * sym(y), rows + [
        (30, "grad_no_input", err, f"your dLoss/d{p} leaves out {y}, the value the edge {p} carries"),
        (40, "grad_other_hidden_value", err * sym(o), f"your dLoss/d{p} uses {o}: the edge {p} comes from node {j}, "
         f"so it carries {y}"),
        (50, "grad_z_for_value", err * sym(z), f"your dLoss/d{p} uses {z} where {y} = ReLU({z}) belongs: node {j} "
         f"is off, so {y} = 0", node_off(z)),
        (60, "grad_weight_for_input", err * sym(p), f"your dLoss/d{p} multiplies by the weight {p} where the value "
         f"it carries, {y}, belongs"),
    ])  # fmt: skip


def _sent_back(net: Network, u: str, factor: Callable[[str], Expr]) -> Expr:
    """Σ over u's out-edges p (into node d) of factor(d)·p: what reaches u from its parents."""
    return total([factor(net.edges[p].dst) * sym(p) for p in net.out_edges(u)])


def _hidden_error(net: Network, u: str, t: int) -> Step:
    """dLoss/dY3 = dLoss/dY5·W35 + dLoss/dY6·W36 + dLoss/dY7·W37: the error summed over node 3's parents."""
    j, o, z = u[1:], _other(net, u), sym(net.relus[u].pre)
    err = _sent_back(net, u, lambda d: grad(d))
    formula = f"dLoss/d{u} = {err.text()}"
    (to_t,) = [p for p in net.out_edges(u) if net.edges[p].dst == f"Y{t}"]
    return step(f"dLoss/d{u}", rf"\frac{{d\text{{Loss}}}}{{dY_{j}}}", f"the error at hidden node {j}, summed over "
                f"its parents", err, [
        (10, "hidden_target_path_only", grad(f"Y{t}") * sym(to_t), f"your dLoss/d{u} keeps only the path through "
         f"the target node {t}: node {j} feeds all three outputs, so {formula}"),
        (20, "hidden_weights_of_other_node", _sent_back(net, o, lambda d: grad(d)), f"your dLoss/d{u} uses "
         f"{', '.join(net.out_edges(o))}, the weights out of node {o[1:]}: node {j}'s are "
         f"{', '.join(net.out_edges(u))}"),
        (30, "hidden_probabilities", _sent_back(net, u, lambda d: sym(net.probability_of[d])), f"your dLoss/d{u} "
         f"uses P{t} where the target's error P{t} − 1 belongs"),
        (40, "hidden_gated", gate(z) * err, f"your dLoss/d{u} is 0 because node {j} is off; but dLoss/d{u} comes "
         f"before the gate: ReLU'({z.text()}) enters node {j}'s gradients, not dLoss/d{u}"),
        (50, "hidden_error_sign", -err, f"your dLoss/d{u} has the wrong sign: {formula}, no minus sign"),
    ])  # fmt: skip


def _hidden_gradient(net: Network, p: str) -> Step:
    """dLoss/dW13 = dLoss/dY3·ReLU'(z3)·X1: the hidden error let through the node's gate, times what p carries."""
    u, x = net.edges[p].dst, net.edges[p].src
    j, o = u[1:], _other(net, u)
    err, z, zo = grad(u), sym(net.relus[u].pre), sym(net.relus[o].pre)
    expr = times(err * gate(z), x)
    formula = f"dLoss/d{p} = {expr.text()}"
    rows: list[Any] = [
        (10, "grad_no_gate", times(err, x), f"your dLoss/d{p} leaves out ReLU'({z.text()}): node {j} is off "
         f"({z.text()} < 0), so ReLU'({z.text()}) = 0 stops the flow and dLoss/d{p} = 0"),
        (20, "grad_sign", times(-err * gate(z), x), f"your dLoss/d{p} has the wrong sign: {formula}"),
        (30, "grad_other_hidden_error", times(grad(o) * gate(z), x), f"your dLoss/d{p} uses dLoss/d{o}: {p} leads "
         f"into node {j}, so it takes dLoss/d{u}"),
        (40, "grad_gate_of_other_node", times(err * gate(zo), x), f"your dLoss/d{p} uses ReLU'({zo.text()}) where "
         f"node {j}'s own ReLU'({z.text()}) belongs"),
    ]  # fmt: skip
    if x:
        (other_x,) = [i for i in net.inputs if i != x]
        rows += [
            (50, "grad_no_input", err * gate(z), f"your dLoss/d{p} leaves out {x}, the input of the edge {p}"),
            (60, "grad_other_input", err * gate(z) * sym(other_x), f"your dLoss/d{p} uses {other_x}: the edge {p} "
             f"comes from node {x[1]}, so it carries {x}"),
        ]  # fmt: skip
    return grad_step(p, expr, rows)


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
