"""Naming the mistake: which wrong derivation produces the student's numbers.

Every candidate is one slip made from principles, and is computed from the
numerical oracle, never from a formula for the answer:

* a transform of the right gradient G (−G, c·G, the update's step instead of
  the new value, another parameter's gradient, ...);
* the gradient of a network with one local derivative changed
  (gradelib.surgery): ReLU'(z) replaced, the error sent back through another
  weight or through only some of a node's parents;
* a different error at the outputs: every gradient is a sum over the output
  nodes of (error at the node) × (how the node moves with the parameter), so
  scaling each node's share by e'/e, with e = dLoss/dY_k read off the oracle,
  gives the gradient of a student who used e' there;
* a different local factor on one edge: dLoss/dW_ij = dLoss/dz_j · Y_i, and
  dLoss/dz_j is the oracle's gradient of the bias b_j, so using another value
  in place of Y_i is one product.

A candidate explains a wrong parameter when it matches the student at every
test point and differs from G somewhere.  The table CANDIDATES lists them in
order of preference; each is a small function that yields (detail, values)
and carries its own words.  One cause gets one bullet naming every parameter
it explains: the first candidate that explains every wrong parameter wins;
else the fewest candidates that explain the most (greedy cover).  What no
candidate explains is described, grouped, by the forward-pass state.

Agreement uses the checker's tolerance: |s − g| ≤ ATOL + RTOL·|g|.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .oracle import loss_gradients
from .surgery import column, stack
from .text import join_and

# The oracle's own error is below 1e-9 at the test points (see gradelib.oracle);
# a right answer in float64 or even float32 is well inside these, while every
# real mistake misses by a factor, not by a rounding error.
RTOL = 1e-5
ATOL = 1e-7


def agree(s: Any, g: Any) -> Any:
    """Element-wise |s − g| ≤ ATOL + RTOL·|g|."""
    return np.abs(np.asarray(s) - np.asarray(g)) <= ATOL + RTOL * np.abs(np.asarray(g))


def close(s: Any, g: Any) -> bool:
    return bool(np.all(agree(s, g)))


def _is(ks):
    return "are" if len(ks) > 1 else "is"


# ------------------------------------------------------------------ what every candidate may use


class Case:
    """One diagnosis: the exercise, the test points, the right gradient G and the student's S (as gradients)."""

    def __init__(self, ex, pts, S, G, update: bool):
        self.ex, self.net, self.pts, self.S, self.G = ex, ex.network, pts, S, G
        self.update = update  # S was read from new parameters (the "update" kind, gradelib.kinds._network)
        self.params = list(self.net.params)
        self.wrong = [k for k in self.params if not close(S[k], G[k])]
        self.pending: list[Pending] = []  # gradients asked for and not computed yet (flush)

    # -- the network's shape, in the notes' names (looked up once per diagnosis)
    @cached_property
    def hidden_nodes(self) -> list[str]:
        return list(self.net.hidden_nodes)

    @cached_property
    def hidden_params(self) -> list[str]:
        return list(self.net.hidden_params)

    @cached_property
    def _out_edges(self):
        nodes = set(self.net.inputs) | {dst for _, dst in self.net.edges.values()}
        return {n: self.net.out_edges(n) for n in nodes}

    def out_edges(self, node: str) -> list[str]:
        return self._out_edges.get(node, [])

    @cached_property
    def outputs(self) -> list[str]:
        """The nodes that feed no other node: where the loss reads the network."""
        nodes = list(dict.fromkeys(dst for _, dst in self.net.edges.values()))
        return [n for n in nodes if not self.out_edges(n)]

    def bias(self, node: str) -> str | None:
        return next(p for p, (src, dst) in self.net.edges.items() if src is None and dst == node)

    def weights(self) -> list[str]:
        return [p for p, (src, _) in self.net.edges.items() if src is not None]

    @cached_property
    def output_params(self) -> list[str]:
        return [p for p in self.params if p not in self.hidden_params]

    def value(self, node: str) -> Any:
        """The node's value (an input X_i or a node's output Y_j) at every test point."""
        if node in self.net.inputs:
            return self.pts.X[self.net.inputs.index(node)]
        return self.pts.state[node]

    def z(self, node: str) -> Any:
        return self.pts.state[self.net.relus[node].pre]

    def on(self, node: str) -> Any:
        return self.pts.on(node)

    def delta(self, node: str) -> Any:
        """dLoss/dz at node, from the oracle: a bias enters its node's sum with factor 1."""
        return self.G[self.bias(node)]

    # -- differentiating changed networks with the oracle, all in one call
    def col(self, k: str) -> Any:
        return column(self.pts.P[k])

    def zb(self, node: str) -> Any:
        return column(self.z(node))

    def gradients(self, slopes: Any = None, back: Any = None, P: Any = None, T: Any = None) -> Any:
        """The gradient of the network with these local derivatives (and these P, T): computed when first read."""
        job = Pending(
            self,
            P if P is not None else self.pts.P,
            T if T is not None else self.pts.T,
            dict(slopes or {}),
            dict(back or {}),
        )
        self.pending.append(job)
        return job

    def flush(self) -> None:
        """Differentiate every network asked for so far, in one oracle call."""
        jobs, self.pending = self.pending, []
        if not jobs:
            return
        X, P, T, ops = stack(self.net, self.pts.X, [(j.P, j.T, j.slopes, j.back) for j in jobs])
        V, n = loss_gradients(self.net, X, P, T, ops), len(self.pts)
        for i, job in enumerate(jobs):
            job.values = {k: V[k][i * n : (i + 1) * n] for k in self.params}

    def with_output_errors(self, new: dict[str, Any]) -> Any:
        """The gradient of a student who used new[node] (n,) as dLoss/dY at each output node."""
        ratio = {k: new[k] / self.output_error(k) for k in self.outputs}
        if len(self.outputs) == 1:  # every gradient is (error at the output) × (how the output moves)
            (r,) = ratio.values()
            return Scaled(self.G, r)
        back = {
            e: self.col(e) * column(ratio[self.net.edges[e].dst]) for h in self.hidden_nodes for e in self.out_edges(h)
        }
        V = self.gradients(back=back)
        for p in self.output_params:
            V[p] = self.G[p] * ratio[self.net.edges[p].dst]
        return V

    def both(self, V: Any, W: Any) -> Any:
        """The network with the changes of V and of W at once (two Pending, or Only of them), or None when they
        change the same local derivative or another point."""
        keys = None
        if isinstance(V, Only):
            keys, V = V.keys, V.V
        if isinstance(W, Only):
            keys, W = (W.keys if keys is None else [k for k in keys if k in W.keys]), W.V
        if (
            not (isinstance(V, Pending) and isinstance(W, Pending))
            or V.P is not W.P
            or V.T is not W.T
            or set(V.slopes) & set(W.slopes)
            or set(V.back) & set(W.back)
            or set(V.set) & set(W.set)
        ):
            return None
        job = self.gradients({**V.slopes, **W.slopes}, {**V.back, **W.back})
        job.set = {**V.set, **W.set}
        return job if keys is None else Only(job, keys)

    def output_errors(self, new: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """(scope, gradients) of a student who used new[node] as dLoss/dY at the outputs: everywhere, only in
        the error sent back to the hidden layer (the output layer's own gradients right), or only in some of the
        output layer's gradients."""
        V = self.with_output_errors(new)
        yield "everywhere", V
        if self.hidden_nodes:
            yield "sent back", Only(V, self.hidden_params)
            # and in some output-layer gradients only (a b_k written apart, say): a slip parameter by parameter
            yield "output layer", Only(V, self.output_params, per_param=True)

    def output_error(self, node: str) -> Any:
        """dLoss/dY at an output node: the oracle's bias gradient at a linear output, Y − target at a ReLU one."""
        if node in self.net.relus:
            return -self.pts.state["Err2" if "Err2" in self.pts.state else "Err"]
        return self.delta(node)

    def is_target(self, node: str) -> Any:
        return (self.pts.T == int(node[1:])).astype(float)

    # -- words
    def name(self, k: str) -> str:
        return k if self.update else f"dLoss/d{k}"

    def names(self, ks: Sequence[str]) -> str:
        """'dLoss/dW13 and dLoss/db3 are', or a layer's name when ks is a whole layer."""
        ks = [k for k in self.params if k in ks]
        if len(ks) > 2 and set(ks) == set(self.params):
            return "Every new parameter is" if self.update else "Every gradient is"
        return f"{join_and([self.name(k) for k in ks])} {_is(ks)}"

    def grads(self, ks: Sequence[str]) -> str:
        """The subject of a sentence about the gradients behind ks."""
        ks = [k for k in self.params if k in ks]
        if self.update:
            return f"Your update of {join_and(ks)} uses gradients that are"
        return self.names(ks)

    def node_label(self, node: str) -> str:
        return self.net.relus[node].label if node in self.net.relus else f"node {node[1:]}"

    def back_sum(self, h: str) -> str:
        """dLoss/dh as a sum over h's parents, with ReLU' where a parent is a ReLU node."""
        terms = []
        for e in self.out_edges(h):
            dst = self.net.edges[e].dst
            relu = f"·ReLU'({self.net.relus[dst].formula})" if dst in self.net.relus else ""
            terms.append(f"dLoss/d{dst}{relu}·{e}")
        return " + ".join(terms)

    def hidden_of(self, ks: Sequence[str]) -> list[str]:
        """The hidden nodes whose incoming parameters are among ks."""
        return [h for h in self.hidden_nodes if any(self.net.edges[k].dst == h for k in ks)]

    def squared_loss(self) -> Any:
        out = self.outputs[0]
        t = self.net.target_symbol
        return out, t


class Pending:
    """Gradients of a changed network, read like a dict; the oracle runs (for all pending at once) on first read."""

    def __init__(self, case, P, T, slopes, back):
        self.case, self.P, self.T, self.slopes, self.back = case, P, T, slopes, back
        self.values: dict[str, Any] | None = None  # the oracle's gradients, once flush() has run
        self.set: dict[str, Any] = {}

    def __contains__(self, k):
        return k in self.case.params

    def __getitem__(self, k):
        if k in self.set:
            return self.set[k]
        if self.values is None:
            self.case.flush()
        assert self.values is not None  # flush() computes every pending job, this one too
        return self.values[k]

    def __setitem__(self, k, v):
        self.set[k] = v

    def only(self, keys: Any) -> Any:
        return Only(self, keys)


class Only:
    """Gradients V for these parameters only: the slip leaves the others as they are.

    per_param: the slip may touch any of them alone, so a right one among them does not refute it.
    """

    def __init__(self, V, keys, per_param=False):
        self.V, self.keys, self.per_param = V, list(keys), per_param

    def __contains__(self, k):
        return k in self.keys

    def __getitem__(self, k):
        return self.V[k]


@dataclass(frozen=True)
class Candidate:
    """A slip: values(case) yields (detail, {param: values}); words(case, detail, ks) gives (mistake, sentence)."""

    key: str
    values: Callable[[Case], Iterable[tuple[Any, Any]]]  # case -> (detail, {param: values}) for each way it fits
    words: Callable[[Case, Any, list[str]], tuple[str, str]]  # (case, detail, params) -> (mistake, sentence)
    applies: Callable[[Case], bool] = lambda case: True
    per_param: bool = False  # True: a slip made parameter by parameter; False: one change to the whole network,
    #                           refuted when it would change a parameter the student has right


# ------------------------------------------------------------------ the sign and constant factors


def _sign(c):
    yield None, {k: -c.G[k] for k in c.params}


def _sign_words(c, _, ks):
    all_, hidden = set(ks) == set(c.params), set(ks) == set(c.hidden_params)
    if c.update:
        if all_:
            return (
                "gradient_ascent",
                "Your update moves uphill: it returns p + η·dLoss/dp, which is gradient ascent. "
                "Gradient descent subtracts: p ← p − η·dLoss/dp. (Notes 000 write w + η·δ·x only "
                "because their δ = Err·ReLU'(z) is minus the gradient.)",
            )
        if hidden and c.net.classes:
            return (
                "gradient_ascent_hidden",
                f"Your hidden-layer update ({join_and(ks)}) climbs the loss: it adds η·dLoss/dp. "
                "This is the slip in notes 002, whose hidden updates read W13 = W13 + η·{…}·Relu'(…)·X1: "
                "there {…}·Relu'(…)·X1 is dLoss/dW13 itself, not its negative as δ was in notes 000, "
                "so descent needs W13 − η·{…}·Relu'(…)·X1.",
            )
        if hidden:
            return (
                "gradient_ascent_hidden",
                f"Your update of the hidden layer ({join_and(ks)}) climbs the loss: it adds η·dLoss/dp. "
                "Gradient descent subtracts there too: p ← p − η·dLoss/dp.",
            )
        return (
            "gradient_ascent_param",
            f"Your update of {join_and(ks)} adds η·dLoss/dp (a step uphill); "
            "gradient descent subtracts: p ← p − η·dLoss/dp.",
        )
    if all_:
        return "sign_flip", "Every gradient has the wrong sign. " + _loss_hint(c)
    if hidden:
        return (
            "sign_flip_hidden",
            f"The hidden-layer gradients ({join_and(ks)}) have the wrong sign while the output layer's are right: "
            "the error sent back into the hidden layer has its sign flipped.",
        )
    if set(ks) == set(c.output_params) and c.hidden_nodes:
        return (
            "sign_flip_param",
            f"The output layer's gradients ({join_and(ks)}) have the wrong sign while the hidden layer's are right: "
            + _loss_hint(c),
        )
    return "sign_flip_param", f"{c.names(ks)} the right size but {'have' if len(ks) > 1 else 'has'} the wrong sign."


def _loss_hint(c):
    if c.net.classes:
        return "dLoss/dY_k = P_k − 1 at the target node and P_k at the other outputs (not 1 − P_k and −P_k)."
    out, t = c.squared_loss()
    return (
        f"With Loss = ½({t} − {out})², dLoss/d{out} = −({t} − {out}) = {out} − {t}: check the sign of your error term."
    )


def _factor(c):
    """S = f·G with one f for a group of parameters (f read off the student's numbers, never ±1 or 0)."""
    seen: list[Any] = []
    for k in c.wrong:
        g, s = c.G[k], c.S[k]
        gg = float(np.dot(g, g))
        f = float(np.dot(s, g)) / gg if gg > 0 else np.nan
        if not np.isfinite(f) or min(abs(f - 1), abs(f + 1), abs(f)) < 1e-3:
            continue
        if any(abs(f - q) <= 1e-6 * abs(q) for q in seen):
            continue
        seen.append(f)
        yield f, {p: f * c.G[p] for p in c.params}


def _fraction(f):
    for value, word in ((2, "twice"), (0.5, "half"), (3, "three times"), (1 / 3, "a third of")):
        if abs(f - value) <= 1e-4 * value:
            return word
    return None


# a gradient off by a simple factor: the factor's word -> the mistake's label (the report reads it back as words)
FACTORS = {"twice": "factor_2", "half": "factor_half", "three times": "factor_3", "a third of": "factor_third"}


def _factor_words(c, f, ks):
    word = _fraction(f)
    mistake = FACTORS.get(word, "factor_other")
    size = (
        f"{word} the right value"
        if word in ("twice", "half")
        else (f"{word} the right value" if word else f"{f:.4g} times the right value")
    )
    if c.update:
        step = {"twice": "twice as long as", "half": "half as long as"}.get(word, f"{f:.4g} times")
        return mistake, f"Your update of {join_and(ks)} takes a step {step} η·dLoss/dp."
    if c.net.classes:
        why = {
            "a third of": "Did you take the mean over the three output nodes? Loss = −log P_target is one term, "
            "so dLoss/dY_k = P_k − [k is the target], with no 1/3.",
            "three times": "Did you add the error of all three outputs where one node's error belongs?",
        }.get(
            word,
            "Loss = −log P_target has no square and no ½: a stray factor, such as a mean over the outputs "
            "or over a batch, or a term counted twice?",
        )
        return mistake, f"{c.names(ks)} {size}. {why}"
    out, t = c.squared_loss()
    why = {
        "twice": f"Loss = ½({t} − {out})²: the 2 from differentiating the square cancels the ½, so "
        f"dLoss/d{out} = {out} − {t} with no 2. Did you drop the ½, or count a term twice?",
        "half": "The 2 from differentiating the square cancels the ½ of the loss; is a stray ½ left?",
    }.get(
        word,
        f"The chain rule here multiplies only the error {out} − {t}, ReLU'(z) and the input of each edge: "
        "where does the extra factor come from?",
    )
    return mistake, f"{c.names(ks)} {size}. {why}"


# ------------------------------------------------------------------ the update rule


def _missing_eta(c):
    yield None, {k: c.G[k] / c.pts.E for k in c.params}


def _missing_eta_words(c, _, ks):
    return "missing_eta", (
        f"Your update of {join_and(ks)} leaves out the learning rate: it returns "
        "p − dLoss/dp; gradient descent steps p − η·dLoss/dp."
    )


def _ascent_missing_eta(c):
    yield None, {k: -c.G[k] / c.pts.E for k in c.params}


def _ascent_missing_eta_words(c, _, ks):
    return "gradient_ascent", (
        f"Your update of {join_and(ks)} returns p + dLoss/dp: it climbs the loss "
        "and leaves out η. Gradient descent steps p − η·dLoss/dp."
    )


def _returned_gradient(c):
    yield None, {k: (c.pts.P[k] - c.G[k]) / c.pts.E for k in c.params}


def _returned_gradient_words(c, _, ks):
    return (
        "returned_gradient",
        f"For {join_and(ks)} you returned the gradient dLoss/dp, not the new value p − η·dLoss/dp.",
    )


def _returned_step(c):
    yield None, {k: (c.pts.P[k] - c.pts.E * c.G[k]) / c.pts.E for k in c.params}


def _returned_step_words(c, _, ks):
    return "returned_step", (
        f"For {join_and(ks)} you returned the step η·dLoss/dp, not the new value "
        "p − η·dLoss/dp: subtract the step from p."
    )


def _returned_change(c):
    yield None, {k: (c.pts.P[k] + c.pts.E * c.G[k]) / c.pts.E for k in c.params}


def _returned_change_words(c, _, ks):
    return "returned_step", (
        f"For {join_and(ks)} you returned the change −η·dLoss/dp, not the new value: add it to p, p − η·dLoss/dp."
    )


def _eta_twice(c):
    yield None, {k: c.pts.E * c.G[k] for k in c.params}


def _eta_twice_words(c, _, ks):
    return "eta_twice", f"Your update of {join_and(ks)} multiplies by η twice (p − η²·dLoss/dp); one η is enough."


def _divided_by_eta(c):
    yield None, {k: c.G[k] / c.pts.E**2 for k in c.params}


def _divided_by_eta_words(c, _, ks):
    return "divided_by_eta", f"Your update of {join_and(ks)} divides by η where it should multiply: p − η·dLoss/dp."


def _zero(c):
    yield None, {k: 0 * c.G[k] for k in c.params}


def _zero_words(c, _, ks):
    if c.update:
        return "not_updated", f"Your update leaves {join_and(ks)} unchanged: each p should become p − η·dLoss/dp."
    return "zero_gradient", f"{c.names(ks)} 0 at every test point, but the gradient is not."


def _updates(c):
    return c.update


# ------------------------------------------------------------------ a different error at the outputs


def _softmax(c):
    return bool(c.net.classes)


def _squared(c):
    return not c.net.classes


def _computed(c, scope, ks):
    """The start of a sentence about gradients computed with a different error at the outputs."""
    if scope == "sent back":
        return (
            f"{c.grads(ks)} computed, in the error sent back to the hidden layer only (the output layer's "
            "own gradients are right),"
        )
    return f"{c.grads(ks)} computed"


def _probabilities_as_errors(c):
    yield from c.output_errors({k: c.value(c.net.probability_of[k]) for k in c.outputs})


def _probabilities_as_errors_words(c, scope, ks):
    return "output_error_without_target", (
        f"{_computed(c, scope, ks)} with dLoss/dY_k = P_k at every output node: the −1 at the target is missing. "
        "dLoss/dY_k = P_k − [k is the target]: P_k − 1 at the target node, P_k at the others."
    )


def _logits_as_probabilities(c):
    yield from c.output_errors({k: c.value(k) - c.is_target(k) for k in c.outputs})


def _logits_as_probabilities_words(c, scope, ks):
    return "logits_for_probabilities", (
        f"{_computed(c, scope, ks)} with dLoss/dY_k = Y_k − [k is the target]: the logits Y_k are where the "
        "probabilities P_k belong. dLoss/dY_k = P_k − [k is the target], with P_k = e^Y_k / (e^Y5 + e^Y6 + e^Y7)."
    )


def _logits_as_errors(c):
    yield from c.output_errors({k: c.value(k) for k in c.outputs})


def _logits_as_errors_words(c, scope, ks):
    return "logits_for_probabilities", (
        f"{_computed(c, scope, ks)} with the logits Y_k as the error at the outputs. dLoss/dY_k = "
        "P_k − [k is the target], with P_k = e^Y_k / (e^Y5 + e^Y6 + e^Y7)."
    )


def _target_error_flipped(c):
    yield from c.output_errors(
        {k: c.value(c.net.probability_of[k]) * (1 - 2 * c.is_target(k)) + c.is_target(k) for k in c.outputs}
    )


def _target_error_flipped_words(c, scope, ks):
    return "output_error_target_sign", (
        f"{_computed(c, scope, ks)} with 1 − P_target at the target node: its sign is flipped while the other "
        "outputs' P_k are right. dLoss/dY_k = P_k − [k is the target]: P_target − 1 at the target."
    )


def _minus_one_everywhere(c):
    yield from c.output_errors({k: c.value(c.net.probability_of[k]) - 1 for k in c.outputs})


def _minus_one_everywhere_words(c, scope, ks):
    return "output_error_minus_one_everywhere", (
        f"{_computed(c, scope, ks)} with dLoss/dY_k = P_k − 1 at every output node. The −1 belongs only at the "
        "target node: dLoss/dY_k = P_k − [k is the target]."
    )


def _target_error_only(c):
    yield from c.output_errors({k: (c.value(c.net.probability_of[k]) - 1) * c.is_target(k) for k in c.outputs})


def _target_error_only_words(c, scope, ks):
    return "output_error_target_only", (
        f"{_computed(c, scope, ks)} as if only the target node had an error (P_target − 1) and the others 0. "
        "The other outputs have dLoss/dY_k = P_k: through the softmax's shared denominator they change "
        "P_target too."
    )


def _stopped_at_dP(c):
    P = {k: c.value(c.net.probability_of[k]) for k in c.outputs}
    Pt = sum(P[k] * c.is_target(k) for k in c.outputs)
    yield from c.output_errors({k: -c.is_target(k) / Pt for k in c.outputs})


def _stopped_at_dP_words(c, scope, ks):
    return "output_error_stopped_at_dP", (
        f"{_computed(c, scope, ks)} with dLoss/dP_target = −1/P_target as the error at the target node and 0 at "
        "the others: the chain rule goes on through dP_target/dY_k to every output, which gives "
        "dLoss/dY_k = P_k − [k is the target]."
    )


def _without_dLoss_dP(c):
    P = {k: c.value(c.net.probability_of[k]) for k in c.outputs}
    Pt = sum(P[k] * c.is_target(k) for k in c.outputs)
    yield from c.output_errors({k: Pt * (P[k] - c.is_target(k)) for k in c.outputs})


def _without_dLoss_dP_words(c, scope, ks):
    return "output_error_without_dLoss_dP", (
        f"{_computed(c, scope, ks)} with −dP_target/dY_k = P_target·(P_k − [k is the target]) as the error: the "
        "factor dLoss/dP_target = −1/P_target is missing. Together they give dLoss/dY_k = P_k − [k is the target]."
    )


def _target_left_out(c):
    out = c.outputs[0]
    yield from c.output_errors({out: c.value(out)})


def _target_left_out_words(c, scope, ks):
    out, t = c.squared_loss()
    return "output_error_without_target", (
        f"{_computed(c, scope, ks)} with dLoss/d{out} = {out}: the target is missing from the error. "
        f"With Loss = ½({t} − {out})², dLoss/d{out} = {out} − {t}."
    )


def _loss_as_error(c):
    out = c.outputs[0]
    yield from c.output_errors({out: c.pts.state["Loss"]})


def _loss_as_error_words(c, scope, ks):
    out, t = c.squared_loss()
    return "loss_as_error", (
        f"{_computed(c, scope, ks)} with the loss ½({t} − {out})² itself where its derivative belongs: "
        f"dLoss/d{out} = {out} − {t}."
    )


def _square_as_error(c):
    out = c.outputs[0]
    yield from c.output_errors({out: 2 * c.pts.state["Loss"]})


def _square_as_error_words(c, scope, ks):
    out, t = c.squared_loss()
    return "loss_as_error", (
        f"{_computed(c, scope, ks)} with the square ({t} − {out})² itself where the derivative of "
        f"½({t} − {out})² belongs: dLoss/d{out} = {out} − {t}."
    )


def _prediction_left_out(c):
    out = c.outputs[0]
    yield from c.output_errors({out: -c.pts.T})


def _prediction_left_out_words(c, scope, ks):
    out, t = c.squared_loss()
    return "output_error_without_prediction", (
        f"{_computed(c, scope, ks)} with dLoss/d{out} = −{t}: the prediction {out} is missing from the error "
        f"dLoss/d{out} = {out} − {t}."
    )


def _wrong_target(c):
    classes = np.array(c.net.classes)
    T = c.pts.T
    rules = [(f"node {t} at every point", np.full(len(T), t)) for t in classes]
    rules += [
        ("the node after the real target", classes[(np.searchsorted(classes, T) + 1) % len(classes)]),
        ("the node before the real target", classes[(np.searchsorted(classes, T) - 1) % len(classes)]),
    ]
    for rule, other in rules:
        if np.any(other != T):
            yield rule, c.gradients(T=other)


def _wrong_target_words(c, rule, ks):
    return "wrong_target", (
        f"{c.grads(ks)} computed as if the target were {rule}. "
        "dLoss/dY_k = P_k − 1 only at the target node, and P_k at the others."
    )


# ------------------------------------------------------------------ a wrong local derivative at a ReLU


def _each_relu(c, slope):
    """The network with slope(u) in place of ReLU' at every ReLU node at once, then at each one alone."""
    nodes = list(c.net.relus)
    if len(nodes) > 1:
        yield tuple(nodes), c.gradients(slopes={u: slope(u) for u in nodes})
    for u in nodes:
        yield (u,), c.gradients(slopes={u: slope(u)})


def _prime(expr):
    return f"ReLU'({expr})"


def _relus_words(c, nodes):
    """'neuron 1 is off (w11·x1 + b1 < 0 ...' pieces for each node: (labels, expressions)."""
    relus = [c.net.relus[u] for u in nodes]
    return join_and([r.label for r in relus]), [r.formula for r in relus]


def _missing_relu_derivative(c):
    yield from _each_relu(c, lambda u: 1.0)


def _missing_relu_derivative_words(c, nodes, ks):
    labels, exprs = _relus_words(c, nodes)
    primes = join_and([_prime(e) for e in exprs])
    return "missing_relu_derivative", (
        f"{c.grads(ks)} nonzero at test points where {labels} {_is(nodes)} off "
        f"({', '.join(e + ' < 0' for e in exprs)}, "
        f"so ReLU' = 0 there and nothing flows back): multiply by {primes}."
    )


def _relu_for_derivative(c):
    yield from _each_relu(c, lambda u: np.maximum(c.zb(u), 0.0))


def _relu_for_derivative_words(c, nodes, ks):
    labels, exprs = _relus_words(c, nodes)
    return "relu_instead_of_derivative", (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by {join_and([f'ReLU({e})' for e in exprs])}, the "
        f"output of {labels}, where the derivative {join_and([_prime(e) for e in exprs])} belongs "
        "(1 when on, 0 when off)."
    )


def _z_for_derivative(c):
    yield from _each_relu(c, lambda u: c.zb(u))


def _z_for_derivative_words(c, nodes, ks):
    labels, exprs = _relus_words(c, nodes)
    return "z_instead_of_derivative", (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by {join_and(exprs)} itself, "
        f"the sum going into {labels}, where "
        f"{join_and([_prime(e) for e in exprs])} belongs (1 when on, 0 when off)."
    )


def _other_relu_derivative(c):
    for u in c.net.relus:
        for v in c.net.relus:
            if v != u:
                yield (u, v), c.gradients(slopes={u: (c.zb(v) > 0) * 1.0})


def _other_relu_derivative_words(c, detail, ks):
    u, v = detail
    ru, rv = c.net.relus[u], c.net.relus[v]
    label_u, expr_u, label_v, expr_v = ru.label, ru.formula, rv.label, rv.formula
    return "wrong_relu_derivative", (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by ReLU'({expr_v}), "
        f"the slope of {label_v}, where the slope of "
        f"{label_u}, ReLU'({expr_u}), belongs."
    )


# ------------------------------------------------------------------ the error sent back the wrong way


def _parent_relu_left_out(c):
    """The error sent back from a ReLU parent without its ReLU': the parent's own gradients right, those below not."""
    for u in c.net.relus:
        below = [k for k in c.hidden_params if u in c.net.downstream(c.net.edges[k].dst)]
        if below:
            yield u, Only(c.gradients(slopes={u: 1.0}), below)


def _parent_relu_left_out_words(c, u, ks):
    label, expr = c.net.relus[u].label, c.net.relus[u].formula
    hs = c.hidden_of(ks)
    return "missing_relu_derivative", (
        f"{c.grads(ks)} computed with the error sent back from {label} without its ReLU'({expr}), which "
        f"{label}'s own gradients have: " + "; ".join(f"dLoss/d{h} = {c.back_sum(h)}" for h in hs) + "."
    )


def _fan_out(c):
    return any(len(c.out_edges(h)) > 1 for h in c.hidden_nodes)


def _parents(c):
    """The nodes the hidden layer feeds, in order."""
    return list(dict.fromkeys(c.net.edges[e].dst for h in c.hidden_nodes for e in c.out_edges(h)))


def _keep_back(c, keep):
    """Every hidden node sends its error back only along edges into a parent for which keep(parent) (n,) is 1."""
    back = {e: c.col(e) * column(keep(c.net.edges[e].dst)) for h in c.hidden_nodes for e in c.out_edges(h)}
    return c.gradients(back=back)


def _one_parent_only(c):
    for k in _parents(c):
        yield k, _keep_back(c, lambda dst, k=k: np.full(len(c.pts), float(dst == k)))


def _one_parent_only_words(c, k, ks):
    h = c.hidden_of(ks) or c.hidden_nodes
    return "one_parent_only", (
        f"{c.grads(ks)} computed through only the path through {c.node_label(k)}. "
        + " ".join(_sums_over_parents(c, n) for n in h)
    )


def _sums_over_parents(c, h):
    parents = [c.node_label(c.net.edges[e].dst) for e in c.out_edges(h)]
    return (
        f"{c.node_label(h).capitalize()} feeds {join_and(parents)}, so its gradient sums over all its parents: "
        f"dLoss/d{h} = {c.back_sum(h)}."
    )


def _target_parent_only(c):
    yield None, _keep_back(c, lambda dst: c.is_target(dst))


def _target_parent_only_words(c, _, ks):
    h = c.hidden_of(ks) or c.hidden_nodes
    return "one_parent_only", (
        f"{c.grads(ks)} computed through the target's output node only. The loss is −log P_target, yet the "
        "other outputs count too: through the softmax's shared denominator they change P_target. "
        + " ".join(_sums_over_parents(c, n) for n in h)
    )


def _parent_left_out(c):
    parents = _parents(c)
    if len(parents) > 2:
        for k in parents:
            yield k, _keep_back(c, lambda dst, k=k: np.full(len(c.pts), float(dst != k)))


def _parent_left_out_words(c, k, ks):
    h = c.hidden_of(ks) or c.hidden_nodes
    return "parent_left_out", (
        f"{c.grads(ks)} computed without the path through {c.node_label(k)}. "
        + " ".join(_sums_over_parents(c, n) for n in h)
    )


def _missing_backprop_weight(c):
    hidden = c.hidden_nodes
    groups = ([tuple(hidden)] if len(hidden) > 1 else []) + [(h,) for h in hidden]
    for nodes in groups:
        yield nodes, c.gradients(back={e: 1.0 for h in nodes for e in c.out_edges(h)})


def _missing_backprop_weight_words(c, nodes, ks):
    sums = "; ".join(f"dLoss/d{h} = {c.back_sum(h)}" for h in nodes)
    weights = "the weight" if sum(len(c.out_edges(h)) for h in nodes) == 1 else "the weights"
    return "missing_backprop_weight", (
        f"{c.grads(ks)} computed with the error sent back to {join_and([c.node_label(h) for h in nodes])} without "
        f"{weights} it flows through: {sums}."
    )


def _swapped_backprop_weights(c):
    net = c.net
    for h in net.hidden_nodes:
        for other in net.hidden_nodes:
            if other != h:
                by_target = {net.edges[e].dst: e for e in net.out_edges(other)}
                back = {
                    e: c.col(by_target[net.edges[e].dst]) for e in net.out_edges(h) if net.edges[e].dst in by_target
                }
                yield (h, other), c.gradients(back=back)


def _swapped_backprop_weights_words(c, detail, ks):
    h, other = detail
    net = c.net
    return "swapped_indices", (
        f"{c.grads(ks)} computed with the error sent back to {c.node_label(h)} through {c.node_label(other)}'s "
        f"weights ({join_and(net.out_edges(other))}) instead of its own ({join_and(net.out_edges(h))}): "
        "W_ij runs from node i to node j."
    )


def _back_through_incoming_weight(c):
    """A node with one parent: the error sent back through the weight into the node instead of out of it."""
    for h in c.hidden_nodes:
        (out,) = c.out_edges(h) if len(c.out_edges(h)) == 1 else (None,)
        if out is None:
            continue
        for q, (src, dst) in c.net.edges.items():
            if dst == h and src is not None:
                yield (h, q, out), c.gradients(back={out: c.col(q)})


def _back_through_incoming_weight_words(c, detail, ks):
    h, q, out = detail
    return "wrong_backprop_weight", (
        f"{c.grads(ks)} computed with the error sent back to {c.node_label(h)} through {q}, the weight into "
        f"it, where the weight it flows out through, {out}, belongs: dLoss/d{h} = {c.back_sum(h)}."
    )


def _sequential_update(c):
    """Output weights updated first, the error then sent back through the new ones (the forward pass kept)."""
    eta = column(c.pts.E)
    back = {e: c.col(e) - eta * column(c.G[e]) for h in c.hidden_nodes for e in c.out_edges(h)}
    yield None, c.gradients(back=back)


def _sequential_update_words(c, _, ks):
    outs = [e for h in c.hidden_nodes for e in c.out_edges(h)]
    return "sequential_update", (
        f"The update of {join_and(ks)} sends the error back through {join_and(outs)} after you had already "
        f"updated {'it' if len(outs) == 1 else 'them'}. Compute every gradient at the old parameters "
        "first, then update them all."
    )


def _sequential_with_forward(c):
    """Output layer updated first, the forward pass redone with it, then the hidden gradients taken there."""
    P = {k: (c.pts.P[k] - c.pts.E * c.G[k]) if k in c.output_params else c.pts.P[k] for k in c.params}
    yield None, c.gradients(P=P).only(c.hidden_params)


def _sequential_with_forward_words(c, _, ks):
    outs = [p for p in c.output_params]
    return "sequential_update", (
        f"The update of {join_and(ks)} uses gradients taken after the output layer ({join_and(outs)}) was already "
        "updated and the forward pass redone with it. Every gradient belongs to the old parameters: compute them "
        "all first, then update them all."
    )


def _sequential(c):
    return c.update and bool(c.hidden_nodes)


# ------------------------------------------------------------------ a wrong factor on one edge


def _edge_values(c, value_of):
    """{W_ij: dLoss/dz_j · value_of(W_ij)} for every weight where value_of gives a value (not None)."""
    out = {}
    for w in c.weights():
        v = value_of(w, *c.net.edges[w])
        if v is not None:
            out[w] = c.delta(c.net.edges[w].dst) * v
    return out


def _edge_rule(c, ks):
    """The chain rule's factor on the first weight of ks, in its own symbols: d(w12·Y1)/dw12 = Y1."""
    w = ks[0]
    src = c.net.edges[w].src
    return f"d({w}·{src})/d{w} = {src}"


def _weight_for_input(c):
    yield None, _edge_values(c, lambda w, src, dst: c.pts.P[w])


def _weight_for_input_words(c, _, ks):
    carried = join_and([f"{k} carries {c.net.edges[k].src}" for k in ks])
    return "weight_for_input", (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by the weight itself where the value the edge "
        f"carries belongs ({carried}): {_edge_rule(c, ks)}."
    )


def _one_for_input(c):
    yield None, _edge_values(c, lambda w, src, dst: np.ones(len(c.pts)))


def _one_for_input_words(c, _, ks):
    carried = join_and([f"{k} carries {c.net.edges[k].src}" for k in ks])
    return "input_left_out", (
        f"{c.names(ks)} computed like a bias's gradient, without the value the edge carries ({carried}): "
        f"{_edge_rule(c, ks)}."
    )


def _z_for_input(c):
    yield None, _edge_values(c, lambda w, src, dst: c.z(src) if src in c.net.relus else None)


def _z_for_input_words(c, _, ks):
    srcs = list(dict.fromkeys(c.net.edges[k].src for k in ks))
    sums = join_and([f"{c.net.relus[s].formula} (before the ReLU)" for s in srcs])
    return "z_for_input", (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by {sums} where the node's output "
        f"{join_and(srcs)} = ReLU(…) belongs: where the node is off, the edge carries 0."
    )


def _output_for_input(c):
    yield None, _edge_values(c, lambda w, src, dst: c.value(dst))


def _output_for_input_words(c, _, ks):
    pairs = join_and([f"{c.net.edges[k].dst} for {c.net.edges[k].src} in {k}" for k in ks])
    return "output_for_input", (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by the output of the node the edge leads into "
        f"where the value it carries in belongs ({pairs}): {_edge_rule(c, ks)}."
    )


def _other_value_for_input(c):
    nodes = list(c.net.inputs) + list(c.hidden_nodes)
    for v in nodes:
        yield v, _edge_values(c, lambda w, src, dst, v=v: c.value(v) if src != v and dst != v else None)


def _other_value_for_input_words(c, v, ks):
    own = join_and([f"{c.net.edges[k].src} for {k}" for k in ks])
    swapped = all(c.net.edges[k].src in c.net.inputs for k in ks) and v in c.net.inputs
    mistake = "swapped_inputs" if swapped else "wrong_input"
    return mistake, (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by {v} where the value the edge carries "
        f"belongs ({own}): each weight's gradient multiplies by the value on its own edge, "
        f"{_edge_rule(c, ks)}."
    )


def _bias_times_input(c):
    for b, (src, dst) in c.net.edges.items():
        if src is None:
            for _w, (s, d) in c.net.edges.items():
                if s is not None and d == dst:
                    yield (b, s), {b: c.G[b] * c.value(s)}


def _bias_times_input_words(c, detail, ks):
    b, s = detail
    return "bias_times_input", (
        f"Your {c.name(b)} is multiplied by {s}. A bias is added to the sum, so d(sum)/d{b} = 1 and "
        "no input belongs in its gradient."
    )


# ------------------------------------------------------------------ one parameter's gradient for another


def _pair_swap(c):
    for i, k in enumerate(c.wrong):
        for q in c.wrong[i + 1 :]:
            yield (k, q), {k: c.G[q], q: c.G[k]}


def _swap_reason(c, k, q):
    src_k, dst_k = c.net.edges[k]
    src_q, dst_q = c.net.edges[q]
    if src_k is not None and src_q is not None and dst_k == dst_q:
        return "swapped_inputs", f"{src_k} and {src_q} are exchanged"
    return "swapped_indices", "check the indices (W_ij runs from node i to node j)"


def _pair_swap_words(c, detail, ks):
    k, q = detail
    mistake, why = _swap_reason(c, k, q)
    return mistake, f"Your {c.name(k)} and {c.name(q)} are swapped: {why}."


def _copied(c):
    for q in c.params:
        yield q, {k: c.G[q] for k in c.params if k != q}


def _copied_words(c, q, ks):
    mistake, why = _swap_reason(c, ks[0], q)
    return mistake, f"Your {join_and([c.name(k) for k in ks])} {_is(ks)} the right value for {c.name(q)}: {why}."


# ------------------------------------------------------------------ the table, in order of preference

CANDIDATES = [
    Candidate("sign", _sign, _sign_words, per_param=True),
    Candidate("missing_eta", _missing_eta, _missing_eta_words, _updates, per_param=True),
    Candidate("ascent_missing_eta", _ascent_missing_eta, _ascent_missing_eta_words, _updates, per_param=True),
    Candidate("returned_gradient", _returned_gradient, _returned_gradient_words, _updates, per_param=True),
    Candidate("returned_step", _returned_step, _returned_step_words, _updates, per_param=True),
    Candidate("returned_change", _returned_change, _returned_change_words, _updates, per_param=True),
    Candidate("eta_twice", _eta_twice, _eta_twice_words, _updates, per_param=True),
    Candidate("divided_by_eta", _divided_by_eta, _divided_by_eta_words, _updates, per_param=True),
    Candidate("factor", _factor, _factor_words, per_param=True),
    Candidate("sequential_update", _sequential_update, _sequential_update_words, _sequential),
    Candidate("sequential_with_forward", _sequential_with_forward, _sequential_with_forward_words, _sequential),
    Candidate("target_parent_only", _target_parent_only, _target_parent_only_words, _fan_out),
    Candidate("probabilities_as_errors", _probabilities_as_errors, _probabilities_as_errors_words, _softmax),
    Candidate("logits_as_probabilities", _logits_as_probabilities, _logits_as_probabilities_words, _softmax),
    Candidate("logits_as_errors", _logits_as_errors, _logits_as_errors_words, _softmax),
    Candidate("target_error_flipped", _target_error_flipped, _target_error_flipped_words, _softmax),
    Candidate("minus_one_everywhere", _minus_one_everywhere, _minus_one_everywhere_words, _softmax),
    Candidate("target_error_only", _target_error_only, _target_error_only_words, _softmax),
    Candidate("stopped_at_dP", _stopped_at_dP, _stopped_at_dP_words, _softmax),
    Candidate("without_dLoss_dP", _without_dLoss_dP, _without_dLoss_dP_words, _softmax),
    Candidate("target_left_out", _target_left_out, _target_left_out_words, _squared),
    Candidate("loss_as_error", _loss_as_error, _loss_as_error_words, _squared),
    Candidate("square_as_error", _square_as_error, _square_as_error_words, _squared),
    Candidate("prediction_left_out", _prediction_left_out, _prediction_left_out_words, _squared),
    Candidate("missing_relu_derivative", _missing_relu_derivative, _missing_relu_derivative_words),
    Candidate("relu_for_derivative", _relu_for_derivative, _relu_for_derivative_words),
    Candidate("z_for_derivative", _z_for_derivative, _z_for_derivative_words),
    Candidate("other_relu_derivative", _other_relu_derivative, _other_relu_derivative_words),
    Candidate("parent_relu_left_out", _parent_relu_left_out, _parent_relu_left_out_words),
    Candidate("one_parent_only", _one_parent_only, _one_parent_only_words, _fan_out),
    Candidate("parent_left_out", _parent_left_out, _parent_left_out_words, _fan_out),
    Candidate("missing_backprop_weight", _missing_backprop_weight, _missing_backprop_weight_words),
    Candidate("swapped_backprop_weights", _swapped_backprop_weights, _swapped_backprop_weights_words),
    Candidate("back_through_incoming_weight", _back_through_incoming_weight, _back_through_incoming_weight_words),
    Candidate("wrong_target", _wrong_target, _wrong_target_words, _softmax),
    Candidate("weight_for_input", _weight_for_input, _weight_for_input_words, per_param=True),
    Candidate("one_for_input", _one_for_input, _one_for_input_words, per_param=True),
    Candidate("z_for_input", _z_for_input, _z_for_input_words, per_param=True),
    Candidate("output_for_input", _output_for_input, _output_for_input_words, per_param=True),
    Candidate("other_value_for_input", _other_value_for_input, _other_value_for_input_words, per_param=True),
    Candidate("bias_times_input", _bias_times_input, _bias_times_input_words, per_param=True),
    Candidate("pair_swap", _pair_swap, _pair_swap_words, per_param=True),
    Candidate("copied", _copied, _copied_words, per_param=True),
    Candidate("zero", _zero, _zero_words, per_param=True),
]


# ------------------------------------------------------------------ choosing the causes


def _explains(c, V, wrong=None):
    """The wrong parameters V matches at every point, where V differs from the right gradient somewhere."""
    return [
        k for k in (c.wrong if wrong is None else wrong) if k in V and close(c.S[k], V[k]) and not close(V[k], c.G[k])
    ]


def _refuted(c, V):
    """Whether V changes a parameter the student has right: then it is not what the student did."""
    return any(k in V and not close(V[k], c.G[k]) for k in c.params if k not in c.wrong)


def _asked(c):
    """(candidate, detail, values) of every candidate that applies, in the table's order (nothing computed yet)."""
    return [(cand, detail, V) for cand in CANDIDATES if cand.applies(c) for detail, V in cand.values(c)]


def _explanations(c, asked, wrong=None, refute=True):
    """(candidate, detail, values, explained params) in the table's order; the changed networks differentiated at
    once, on the first read."""
    for cand, detail, V in asked:
        ks = _explains(c, V, wrong)
        if ks and (not refute or cand.per_param or getattr(V, "per_param", False) or not _refuted(c, V)):
            yield cand, detail, V, ks


def _cover(found, wrong):
    """The first entry of found that explains all of wrong, else the fewest that explain the most (greedy)."""
    for f in found:
        if set(f[3]) == set(wrong):
            return [f]
    chosen, left = [], set(wrong)
    while left and found:
        best = max(found, key=lambda f: len(left.intersection(f[3])))  # max keeps the first of equals
        gain = [k for k in best[3] if k in left]
        if not gain:
            break
        chosen.append(best[:3] + (gain,))
        left.difference_update(gain)
    return chosen


def causes(c: Any) -> list[Any]:
    """[(candidate, detail, values, params)]: one entry per cause, together explaining as many wrong parameters as
    they can.  What one slip alone leaves unexplained is tried as a second slip made on top of a first one; the
    first one's bullet then names those parameters too, since they carry both slips."""
    asked = _asked(c)
    found = []
    for f in _explanations(c, asked):
        if len(f[3]) == len(c.wrong):
            return [f]
        found.append(f)
    chosen = _cover(found, c.wrong)
    left = set(c.wrong) - {k for f in chosen for k in f[3]}
    if not (left and chosen):
        return chosen
    seconds = [(i, s) for i, first in enumerate(chosen) for s in list(_second_slips(c, first, asked))]
    while left:
        best, gain = None, list[Any]()
        for i, (cand, detail, W) in seconds:
            ks = _explains_on_top(c, chosen[i][2], W, left)
            if len(ks) > len(gain):
                best, gain = (i, cand, detail, W), ks
        if best is None:
            break
        i, cand, detail, W = best
        first = chosen[i]
        chosen[i] = first[:3] + (list(first[3]) + gain,)
        chosen.append((cand, detail, W, gain))
        left.difference_update(gain)
    return chosen


def _explains_on_top(c, V, W, left):
    """The parameters of left that W (a second slip on top of V) explains, if W matches the student wherever it
    differs from V alone (else none: the second slip would change what the first one explained)."""
    ks = []
    for k in c.wrong:
        if k not in W:
            continue
        alone = V[k] if k in V else c.G[k]
        if close(W[k], alone):
            continue
        if not close(c.S[k], W[k]):
            return []
        if k in left:
            ks.append(k)
    return ks


class Scaled:
    """Gradients V times a factor f (a number, or one per point): a global factor or sign, a different error at
    a single output, or a second slip seen through one of these."""

    def __init__(self, V, f):
        self.V, self.f = V, f

    def __contains__(self, k):
        return k in self.V

    def __getitem__(self, k):
        return self.f * self.V[k]


def _second_slips(c, first, asked):
    """(candidate, detail, values) of each other slip made on top of first: through its factor, or with both
    networks' changes at once."""
    cand, detail, V, _ = first
    keys, base = (V.keys, V.V) if isinstance(V, Only) else (None, V)
    factor = _factor_of(c, cand, detail, base)
    for other, other_detail, W in asked:
        if other is cand:
            continue
        if factor is not None:
            yield other, other_detail, Scaled(W, factor) if keys is None else Only(Scaled(W, factor), keys)
        elif not other.per_param:
            both = c.both(V, W)
            if both is not None:
                yield other, other_detail, both


def _factor_of(c, cand, detail, V):
    """The factor (a number, or one per point) by which a slip scales every gradient it touches, or None."""
    E = c.pts.E
    factors = {
        "sign": -1.0,
        "factor": detail,
        "missing_eta": 1 / E,
        "ascent_missing_eta": -1 / E,
        "eta_twice": E,
        "divided_by_eta": 1 / E**2,
    }
    if cand.key in factors:
        return factors[cand.key]
    return V.f if isinstance(V, Scaled) else None


def diagnose(ex: Any, pts: Any, S: Any, G: Any, *, update: bool) -> list[Any]:
    """[(mistake, [params], sentence, example point index)] for every parameter that is wrong.

    update: the answers were new parameters (the "update" kind), S the gradients they imply.
    """
    c = Case(ex, pts, S, G, update)
    findings = []
    for cand, detail, _, ks in causes(c):
        ks = [k for k in c.params if k in ks]
        mistake, sentence = cand.words(c, detail, ks)
        findings.append((mistake, ks, sentence, _first_bad(S[ks[0]], G[ks[0]])))
    done = {k for f in findings for k in f[1]}
    findings += unexplained(c, [k for k in c.wrong if k not in done])
    return findings


def _first_bad(s, g):
    return int(np.argmax(~agree(s, g)))


# ------------------------------------------------------------------ the last resort: where it is wrong


def unexplained(c: Any, ks: Sequence[str]) -> list[Any]:
    """Findings for parameters no candidate explains, one per kind of description, naming all it fits."""
    groups: dict[Any, list[str]] = {}
    for k in ks:
        key = _where_wrong(c, k)
        groups.setdefault(key, []).append(k)
    findings = []
    for (mistake, template), group in groups.items():
        findings.append(
            (mistake, group, template.format(names=c.names(group)), _first_bad(c.S[group[0]], c.G[group[0]]))
        )
    return findings


def _where_wrong(c, k):
    """(mistake, sentence template with {names}) describing one parameter by the forward-pass state."""
    net, pts = c.net, c.pts
    s, g = c.S[k], c.G[k]
    bad = ~agree(s, g)
    n = len(bad)
    for u in net.units_on_path(k):
        off = ~pts.on(u)
        label, expr = net.relus[u].label, net.relus[u].formula
        if np.all(off[bad]) and np.all(np.abs(g[bad]) <= ATOL):
            own = u == net.edges[k].dst or u in net.downstream(net.edges[k].dst)
            return (
                ("missing_relu_derivative" if own else "nonzero_where_off"),
                f"{{names}} nonzero at test points where {label} is off ({expr} < 0), where it must be 0"
                + (f": multiply by ReLU'({expr})." if own else f" because {u} = ReLU(…) = 0 there."),
            )
        if np.all(~off[bad]) and np.any(off):
            return "wrong_value", f"{{names}} right where {label} is off but wrong where it is on."
    nz = np.abs(g) > ATOL
    if np.any(nz) and np.all(np.abs(s[~nz]) <= ATOL):
        ratio = s[nz] / g[nz]
        if np.allclose(ratio, ratio[0], rtol=1e-6) and abs(ratio[0] - 1) > 1e-3:
            return "constant_factor", f"{{names}} off by a constant factor: {ratio[0]:.4g} times the right value."
    return "wrong_value", f"{{names}} wrong at {int(bad.sum())} of the {n} test points."
