"""Naming the mistake: which wrong derivation produces the student's numbers.

Every slip (a gradelib.slips.Slip) is one wrong rule made from principles, and what it gives is computed from the
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

A slip explains a wrong parameter when it matches the student at every test
point and differs from G somewhere.  The table SLIPS holds them in the order of
their ``priority`` (lower names the mistake first); each gives (detail, Gives)
for every way it can be made and carries its own words beside it.  One cause
gets one bullet naming every parameter it explains: the first slip that
explains every wrong parameter wins; else the fewest that explain the most
(greedy cover).  What no slip explains is described, grouped, by the
forward-pass state.

Speed: every way is a table (parameters × test points), so whether it explains
the student is a few array operations over all of them at once.  The changed
networks are differentiated together, one oracle call per batch (Jobs.run):
none when a slip that needs none already explains every wrong parameter; else
first those that can move every wrong parameter (Job.reach), and the others
only when none of these explains them all (_first_ways).

Agreement uses the checker's tolerance: |s − g| ≤ ATOL + RTOL·|g|.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from .exercises import Network
from .oracle import loss_gradients
from .slips import Slip, by_priority
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


# ------------------------------------------------------------------ the network's shape, in the notes' names


@dataclass(frozen=True)
class Shape:
    """What the slips ask of a network's shape, looked up once per network (Shape.of).  Its masks are shared by
    every diagnosis of the network: never written to."""

    net: Network
    params: tuple[str, ...]  # the parameters in the notes' order: the rows of every table of values here
    index: dict[str, int]  # parameter -> its row
    hidden_nodes: tuple[str, ...]  # the ReLU nodes that feed another node: the error flows back through them
    hidden_params: tuple[str, ...]  # the parameters into a hidden node
    output_params: tuple[str, ...]  # every other parameter: the output layer's
    outputs: tuple[str, ...]  # the nodes that feed no other node: where the loss reads the network
    parents: tuple[str, ...]  # the nodes the hidden layer feeds, in order
    out_edges: dict[str, list[str]]  # node -> the weights leaving it
    weights: tuple[str, ...]  # the parameters on an edge from a node (not a bias)
    biases: dict[str, str]  # node -> its bias
    below: dict[str, list[str]]  # ReLU node -> the hidden parameters whose error flows back through it
    through: dict[str, Any]  # node -> a mask (m,) of the parameters whose error flows back through it (or into it)
    every: Any  # masks (m,) of every parameter, of the hidden ones and of the output layer's
    hidden: Any
    output: Any

    @staticmethod
    def of(net: Network) -> Shape:
        """The network's shape, computed on its first diagnosis."""
        known = _SHAPES.get(id(net))
        if known is None or known.net is not net:
            known = _SHAPES[id(net)] = _shape(net)
        return known

    def row(self, keys: Iterable[str]) -> Any:
        """A mask (m,) of the parameters among keys."""
        keys = set(keys)
        return np.array([k in keys for k in self.params])

    def edges_out_of(self, node: str) -> list[str]:
        return self.out_edges.get(node, [])

    def node_label(self, node: str) -> str:
        return self.net.relus[node].label if node in self.net.relus else f"node {node[1:]}"

    def back_sum(self, h: str) -> str:
        """dLoss/dh as a sum over h's parents, with ReLU' where a parent is a ReLU node."""
        terms = []
        for e in self.edges_out_of(h):
            dst = self.net.edges[e].dst
            relu = f"·ReLU'({self.net.relus[dst].formula})" if dst in self.net.relus else ""
            terms.append(f"dLoss/d{dst}{relu}·{e}")
        return " + ".join(terms)

    def hidden_of(self, ks: Sequence[str]) -> list[str]:
        """The hidden nodes whose incoming parameters are among ks."""
        return [h for h in self.hidden_nodes if any(self.net.edges[k].dst == h for k in ks)]


_SHAPES: dict[int, Shape] = {}


def _shape(net: Network) -> Shape:
    nodes = set(net.inputs) | {dst for _, dst in net.edges.values()}
    out_edges = {n: net.out_edges(n) for n in nodes}
    hidden_nodes, hidden_params = tuple(net.hidden_nodes), tuple(net.hidden_params)
    output_params = tuple(p for p in net.params if p not in hidden_params)
    targets = list(dict.fromkeys(dst for _, dst in net.edges.values()))
    return Shape(
        net=net,
        params=tuple(net.params),
        index={k: i for i, k in enumerate(net.params)},
        hidden_nodes=hidden_nodes,
        hidden_params=hidden_params,
        output_params=output_params,
        outputs=tuple(n for n in targets if not out_edges.get(n)),
        parents=tuple(dict.fromkeys(net.edges[e].dst for h in hidden_nodes for e in out_edges.get(h, []))),
        out_edges=out_edges,
        weights=tuple(p for p, (src, _) in net.edges.items() if src is not None),
        biases={dst: p for p, (src, dst) in net.edges.items() if src is None},
        below={u: [k for k in hidden_params if u in net.downstream(net.edges[k].dst)] for u in net.relus},
        through={u: np.array([u == dst or u in net.downstream(dst) for _, dst in net.edges.values()]) for u in nodes},
        every=np.ones(len(net.params), bool),
        hidden=np.array([k in hidden_params for k in net.params]),
        output=np.array([k in output_params for k in net.params]),
    )


# ------------------------------------------------------------------ changed networks, differentiated all at once


@dataclass
class Job:
    """A network with some local derivatives changed (gradelib.surgery), and its gradient once Jobs.run has run."""

    slopes: dict  # ReLU node -> what stands in for ReLU'(z) there (a number, or one per point as (n, 1))
    back: dict  # weight -> what the error is sent back through in its place
    P: dict | None = None  # the parameters; None: the test points' own
    T: Any = None  # the targets; None: the test points' own
    patch: dict[int, Any] = field(default_factory=dict)  # row -> values set by hand (the output layer's own)
    rows: Any = None  # the gradient, a table (m, n) in the order of the params, once Jobs.run has run
    moves: Any = None  # what reach() found, once asked

    def gradient(self) -> Any:
        if self.rows is None:
            raise RuntimeError("a changed network's gradient was read before Jobs.run")
        return self.rows

    def reach(self, shape: Shape) -> Any:
        """A mask (m,) of the parameters whose gradient the change can move: those whose error flows back through a
        changed node or edge, those set by hand; every one when the point itself moves.  Elsewhere the gradient is
        the plain one, up to the oracle's error (below 1e-9, far inside the checker's tolerance)."""
        if self.moves is None:
            self.moves = shape.every if self.P is not None or self.T is not None else self._reach(shape)
        return self.moves

    def _reach(self, shape: Shape) -> Any:
        reach = np.zeros(len(shape.params), bool)
        for node in [*self.slopes, *(shape.net.edges[e].src for e in self.back)]:
            reach |= shape.through[node]
        reach[list(self.patch)] = True
        return reach


class Jobs:
    """The changed networks asked for and not differentiated yet: run() differentiates them in one oracle call.

    Every job of one batch (those asked until the waiting ones have all run) is differentiated with the local
    derivatives of the whole batch written out (gradelib.surgery), even when only some of them run: so a job's
    numbers, to the last bit, do not depend on which others ran with it.
    """

    def __init__(self, net: Network, pts: Any) -> None:
        self.net, self.pts = net, pts
        self.waiting: list[Job] = []
        self.batch: list[Job] = []  # the jobs asked since the waiting ones last all ran

    def ask(self, slopes: Any = None, back: Any = None, P: Any = None, T: Any = None) -> Job:
        job = Job(dict(slopes or {}), dict(back or {}), P, T)
        self.waiting.append(job)
        self.batch.append(job)
        return job

    def run(self, only: Iterable[Job] | None = None) -> None:
        """Differentiate the waiting jobs, or those of them among only, in one oracle call."""
        chosen = {id(j) for j in (self.waiting if only is None else only)}
        jobs = [j for j in self.waiting if id(j) in chosen]
        self.waiting = [j for j in self.waiting if id(j) not in chosen]
        if not jobs:
            return
        pts, batch = self.pts, self.batch
        if not self.waiting:
            self.batch = []
        blocks = [(pts.P if j.P is None else j.P, pts.T if j.T is None else j.T, j.slopes, j.back) for j in jobs]
        nodes = list(dict.fromkeys(u for j in batch for u in j.slopes))
        edges = list(dict.fromkeys(e for j in batch for e in j.back))
        X, P, T, ops = stack(self.net, pts.X, blocks, nodes, edges)
        V = loss_gradients(self.net, X, P, T, ops)
        table = np.stack([V[k] for k in self.net.params]).reshape(len(self.net.params), len(jobs), len(pts))
        for i, job in enumerate(jobs):
            rows = table[:, i, :]
            if job.patch:
                rows = rows.copy()
                for r, values in job.patch.items():
                    rows[r] = values
            job.rows = rows


@dataclass(frozen=True)
class Gives:
    """What one way of making a slip gives: a table (m, n) of values, a row per parameter in the order of the
    network's params and a column per test point, for the parameters it touches (it leaves the others as they are).
    """

    table: Callable[[], Any]  # the table; one read from a changed network is ready after Jobs.run
    touches: Any  # a mask (m,): the parameters it gives
    each_alone: bool = False  # its parameters may each be slipped alone: a right one among them does not refute it
    factor: Any = None  # the factor (a number, or one per point) it scales every gradient by, through which a
    #                     second slip shows; None when it is no factor
    job: Job | None = None  # the changed network it reads as is, which a second change may join (_both)

    def only(self, mask: Any, each_alone: bool = False) -> Gives:
        """The same values, for the parameters of mask only: the slip leaves the others as they are."""
        return Gives(self.table, self.touches & mask, each_alone, self.factor, self.job)


# ------------------------------------------------------------------ one diagnosis: the student's numbers


class Case:
    """One diagnosis: the exercise, the test points, the right gradient G and the student's S (as gradients)."""

    def __init__(self, ex: Any, pts: Any, S: Any, G: Any, update: bool) -> None:
        self.ex, self.net, self.pts, self.S, self.G = ex, ex.network, pts, S, G
        self.update = update  # S was read from new parameters (the "update" kind, gradelib.kinds._network)
        self.shape = Shape.of(self.net)
        self.params = list(self.shape.params)
        # the same numbers as tables (m, n), so that one array operation judges every parameter at once
        self.St, self.Gt = (np.array([V[k] for k in self.params], float) for V in (S, G))
        self.is_wrong = ~np.all(agree(self.St, self.Gt), axis=1)
        self.wrong = [k for k, bad in zip(self.params, self.is_wrong) if bad]
        self.jobs = Jobs(self.net, pts)
        self.probability_of = self.net.probability_of
        self._targets: dict[str, Any] = {}

    # -- values at the test points
    def value(self, node: str) -> Any:
        """The node's value (an input X_i or a node's output Y_j) at every test point."""
        if node in self.net.inputs:
            return self.pts.X[self.net.inputs.index(node)]
        return self.pts.state[node]

    def z(self, node: str) -> Any:
        return self.pts.state[self.net.relus[node].pre]

    def zb(self, node: str) -> Any:
        return column(self.z(node))

    def col(self, k: str) -> Any:
        return self.pts.P[k][:, None]

    def delta(self, node: str) -> Any:
        """dLoss/dz at node, from the oracle: a bias enters its node's sum with factor 1."""
        return self.G[self.shape.biases[node]]

    def probability(self, node: str) -> Any:
        return self.pts.state[self.probability_of[node]]

    def is_target(self, node: str) -> Any:
        """1 at the points whose target is this output node, else 0."""
        if node not in self._targets:
            self._targets[node] = (self.pts.T == int(node[1:])).astype(float)
        return self._targets[node]

    def output_error(self, node: str) -> Any:
        """dLoss/dY at an output node: the oracle's bias gradient at a linear output, Y − target at a ReLU one."""
        if node in self.net.relus:
            return -self.pts.state["Err2" if "Err2" in self.pts.state else "Err"]
        return self.delta(node)

    # -- what a slip gives
    def given(self, table: Any, factor: Any = None) -> Gives:
        """Values for every parameter."""
        return Gives(lambda: table, self.shape.every, factor=factor)

    def some(self, values: dict[str, Any]) -> Gives:
        """Values for some parameters only (the others' rows hold G, which no comparison reads)."""
        table, touches = self.Gt.copy(), np.zeros(len(self.params), bool)
        for k, v in values.items():
            table[self.shape.index[k]] = v
            touches[self.shape.index[k]] = True
        return Gives(lambda: table, touches)

    def changed(self, slopes: Any = None, back: Any = None, P: Any = None, T: Any = None) -> Gives:
        """The gradient of the network with these local derivatives (and these P, T), once Jobs.run has run."""
        job = self.jobs.ask(slopes, back, P, T)
        return Gives(job.gradient, self.shape.every, job=job)

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

    def squared_loss(self) -> tuple[str, str]:
        """The output node and the target's symbol of Loss = ½(target − output)²."""
        return self.shape.outputs[0], self.net.target_symbol


# ------------------------------------------------------------------ the sign and constant factors


def _sign(c):
    yield None, c.given(-c.Gt, factor=-1.0)


def _layer(c, ks):
    """Which of the network's parameters ks is: "all", "hidden" (the hidden layer's), "output" or "some"."""
    ks = set(ks)
    if ks == set(c.params):
        return "all"
    if ks == set(c.shape.hidden_params):
        return "hidden"
    return "output" if ks == set(c.shape.output_params) and c.shape.hidden_nodes else "some"


def _sign_counts_as(c, _, ks):
    layer = _layer(c, ks)
    if c.update:
        return {"all": "gradient_ascent", "hidden": "gradient_ascent_hidden"}.get(layer, "gradient_ascent_param")
    return {"all": "sign_flip", "hidden": "sign_flip_hidden"}.get(layer, "sign_flip_param")


def _sign_words(c, _, ks):
    layer = _layer(c, ks)
    if c.update:
        return _ascent_words(c, layer, ks)
    if layer == "all":
        return "Every gradient has the wrong sign. " + _loss_hint(c)
    if layer == "hidden":
        return (
            f"The hidden-layer gradients ({join_and(ks)}) have the wrong sign while the output layer's are right: "
            "the error sent back into the hidden layer has its sign flipped."
        )
    if layer == "output":
        return (
            f"The output layer's gradients ({join_and(ks)}) have the wrong sign while the hidden layer's are right: "
            + _loss_hint(c)
        )
    return f"{c.names(ks)} the right size but {'have' if len(ks) > 1 else 'has'} the wrong sign."


def _ascent_words(c, layer, ks):
    if layer == "all":
        return (
            "Your update moves uphill: it returns p + η·dLoss/dp, which is gradient ascent. "
            "Gradient descent subtracts: p ← p − η·dLoss/dp. (Notes 000 write w + η·δ·x only "
            "because their δ = Err·ReLU'(z) is minus the gradient.)"
        )
    if layer == "hidden" and c.net.classes:
        return (
            f"Your hidden-layer update ({join_and(ks)}) climbs the loss: it adds η·dLoss/dp. "
            "This is the slip in notes 002, whose hidden updates read W13 = W13 + η·{…}·Relu'(…)·X1: "
            "there {…}·Relu'(…)·X1 is dLoss/dW13 itself, not its negative as δ was in notes 000, "
            "so descent needs W13 − η·{…}·Relu'(…)·X1."
        )
    if layer == "hidden":
        return (
            f"Your update of the hidden layer ({join_and(ks)}) climbs the loss: it adds η·dLoss/dp. "
            "Gradient descent subtracts there too: p ← p − η·dLoss/dp."
        )
    return (
        f"Your update of {join_and(ks)} adds η·dLoss/dp (a step uphill); "
        "gradient descent subtracts: p ← p − η·dLoss/dp."
    )


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
        yield f, c.given(f * c.Gt, factor=f)


# the simple factors a gradient may be off by: (factor, its word, the mistake's name)
FRACTIONS: tuple[tuple[float, str, str], ...] = (
    (2, "twice", "factor_2"),
    (0.5, "half", "factor_half"),
    (3, "three times", "factor_3"),
    (1 / 3, "a third of", "factor_third"),
)
FACTORS = {word: mistake for _, word, mistake in FRACTIONS}  # word -> mistake (the report reads it back as words)


def _fraction(f):
    for value, word, _ in FRACTIONS:
        if abs(f - value) <= 1e-4 * value:
            return word
    return None


def _factor_counts_as(c, f, ks):
    return FACTORS.get(_fraction(f), "factor_other")


def _factor_words(c, f, ks):
    word = _fraction(f)
    size = f"{word} the right value" if word else f"{f:.4g} times the right value"
    if c.update:
        step = {"twice": "twice as long as", "half": "half as long as"}.get(word, f"{f:.4g} times")
        return f"Your update of {join_and(ks)} takes a step {step} η·dLoss/dp."
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
        return f"{c.names(ks)} {size}. {why}"
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
    return f"{c.names(ks)} {size}. {why}"


def _zero(c):
    yield None, c.given(0 * c.Gt)


def _zero_counts_as(c, _, ks):
    return "not_updated" if c.update else "zero_gradient"


def _zero_words(c, _, ks):
    if c.update:
        return f"Your update leaves {join_and(ks)} unchanged: each p should become p − η·dLoss/dp."
    return f"{c.names(ks)} 0 at every test point, but the gradient is not."


# ------------------------------------------------------------------ the update rule


class Rule(NamedTuple):
    """An update rule gone wrong, seen as the gradient it implies, (p − new p)/η."""

    name: str
    priority: int  # as in Slip
    gives: Callable[[Any, Any, Any], Any]  # (G, P, η) -> the gradient implied, tables (m, n) and η (n,)
    factor: Callable[[Any], Any] | None  # η -> the factor by which it scales G; None when it is no factor
    counts_as: str  # the mistake's name
    words: str  # the sentence, with {ks} for the parameters


RULES = (
    Rule("missing_eta", 20, lambda G, P, E: G / E, lambda E: 1 / E, "missing_eta",
         "Your update of {ks} leaves out the learning rate: it returns p − dLoss/dp; "
         "gradient descent steps p − η·dLoss/dp."),
    Rule("ascent_missing_eta", 30, lambda G, P, E: -G / E, lambda E: -1 / E, "gradient_ascent",
         "Your update of {ks} returns p + dLoss/dp: it climbs the loss and leaves out η. "
         "Gradient descent steps p − η·dLoss/dp."),
    Rule("returned_gradient", 40, lambda G, P, E: (P - G) / E, None, "returned_gradient",
         "For {ks} you returned the gradient dLoss/dp, not the new value p − η·dLoss/dp."),
    Rule("returned_step", 50, lambda G, P, E: (P - E * G) / E, None, "returned_step",
         "For {ks} you returned the step η·dLoss/dp, not the new value p − η·dLoss/dp: subtract the step from p."),
    Rule("returned_change", 60, lambda G, P, E: (P + E * G) / E, None, "returned_step",
         "For {ks} you returned the change −η·dLoss/dp, not the new value: add it to p, p − η·dLoss/dp."),
    Rule("eta_twice", 70, lambda G, P, E: E * G, lambda E: E, "eta_twice",
         "Your update of {ks} multiplies by η twice (p − η²·dLoss/dp); one η is enough."),
    Rule("divided_by_eta", 80, lambda G, P, E: G / E**2, lambda E: 1 / E**2, "divided_by_eta",
         "Your update of {ks} divides by η where it should multiply: p − η·dLoss/dp."),
)  # fmt: skip


def _rule_slip(rule: Rule) -> Slip[Case]:
    def gives(c):
        Pt = np.array([c.pts.P[k] for k in c.params], float)
        yield None, c.given(rule.gives(c.Gt, Pt, c.pts.E), None if rule.factor is None else rule.factor(c.pts.E))

    def words(c, _, ks):
        return rule.words.format(ks=join_and(ks))

    return Slip(rule.name, gives, words, rule.priority, _updates, counts_as=rule.counts_as, each_alone=True)


def _updates(c):
    return c.update


def _sequential_update(c):
    """Output weights updated first, the error then sent back through the new ones (the forward pass kept)."""
    eta = column(c.pts.E)
    back = {e: c.col(e) - eta * column(c.G[e]) for h in c.shape.hidden_nodes for e in c.shape.edges_out_of(h)}
    yield None, c.changed(back=back)


def _sequential_update_words(c, _, ks):
    outs = [e for h in c.shape.hidden_nodes for e in c.shape.edges_out_of(h)]
    return (
        f"The update of {join_and(ks)} sends the error back through {join_and(outs)} after you had already "
        f"updated {'it' if len(outs) == 1 else 'them'}. Compute every gradient at the old parameters "
        "first, then update them all."
    )


def _sequential_with_forward(c):
    """Output layer updated first, the forward pass redone with it, then the hidden gradients taken there."""
    output = c.shape.output_params
    P = {k: (c.pts.P[k] - c.pts.E * c.G[k]) if k in output else c.pts.P[k] for k in c.params}
    yield None, c.changed(P=P).only(c.shape.hidden)


def _sequential_with_forward_words(c, _, ks):
    return (
        f"The update of {join_and(ks)} uses gradients taken after the output layer "
        f"({join_and(c.shape.output_params)}) was already updated and the forward pass redone with it. Every "
        "gradient belongs to the old parameters: compute them all first, then update them all."
    )


def _sequential(c):
    return c.update and bool(c.shape.hidden_nodes)


# ------------------------------------------------------------------ a different error at the outputs


def _with_output_errors(c, new):
    """The gradient of a student who used new[node] (n,) as dLoss/dY at each output node."""
    shape = c.shape
    ratio = {k: new[k] / c.output_error(k) for k in shape.outputs}
    if len(shape.outputs) == 1:  # every gradient is (error at the output) × (how the output moves)
        (r,) = ratio.values()
        return c.given(r * c.Gt, factor=r)
    edges = c.net.edges
    back = {e: c.col(e) * column(ratio[edges[e].dst]) for h in shape.hidden_nodes for e in shape.edges_out_of(h)}
    V = c.changed(back=back)
    assert V.job is not None
    V.job.patch.update({shape.index[p]: c.G[p] * ratio[edges[p].dst] for p in shape.output_params})
    return V


def _output_errors(c, new):
    """(scope, Gives) of a student who used new[node] as dLoss/dY at the outputs: everywhere, only in the error sent
    back to the hidden layer (the output layer's own gradients right), or only in some of the output layer's."""
    V = _with_output_errors(c, new)
    yield "everywhere", V
    if c.shape.hidden_nodes:
        yield "sent back", V.only(c.shape.hidden)
        # and in some output-layer gradients only (a b_k written apart, say): a slip parameter by parameter
        yield "output layer", V.only(c.shape.output, each_alone=True)


def _computed(c, scope, ks):
    """The start of a sentence about gradients computed with a different error at the outputs."""
    if scope == "sent back":
        return (
            f"{c.grads(ks)} computed, in the error sent back to the hidden layer only (the output layer's "
            "own gradients are right),"
        )
    return f"{c.grads(ks)} computed"


def _p_target(c):
    return sum(c.probability(k) * c.is_target(k) for k in c.shape.outputs)


class OutputError(NamedTuple):
    """A different error at the output nodes: what the learner used there, and the words for it."""

    name: str
    priority: int  # as in Slip
    error: Callable[[Any, str], Any]  # (case, output node k) -> the error the learner used at k, at every point
    counts_as: str  # the mistake's name
    words: str  # what follows "… computed" in the sentence; {out} and {t} are the output's and the target's symbols


SOFTMAX_ERRORS = (  # dLoss/dY_k = P_k − [k is the target]
    OutputError("probabilities_as_errors", 130, lambda c, k: c.probability(k), "output_error_without_target",
                "with dLoss/dY_k = P_k at every output node: the −1 at the target is missing. "
                "dLoss/dY_k = P_k − [k is the target]: P_k − 1 at the target node, P_k at the others."),
    OutputError("logits_as_probabilities", 140, lambda c, k: c.value(k) - c.is_target(k), "logits_for_probabilities",
                "with dLoss/dY_k = Y_k − [k is the target]: the logits Y_k are where the probabilities P_k "
                "belong. dLoss/dY_k = P_k − [k is the target], with P_k = e^Y_k / (e^Y5 + e^Y6 + e^Y7)."),
    OutputError("logits_as_errors", 150, lambda c, k: c.value(k), "logits_for_probabilities",
                "with the logits Y_k as the error at the outputs. dLoss/dY_k = P_k − [k is the target], "
                "with P_k = e^Y_k / (e^Y5 + e^Y6 + e^Y7)."),
    OutputError("target_error_flipped", 160,
                lambda c, k: c.probability(k) * (1 - 2 * c.is_target(k)) + c.is_target(k),
                "output_error_target_sign",
                "with 1 − P_target at the target node: its sign is flipped while the other outputs' P_k are "
                "right. dLoss/dY_k = P_k − [k is the target]: P_target − 1 at the target."),
    OutputError("minus_one_everywhere", 170, lambda c, k: c.probability(k) - 1, "output_error_minus_one_everywhere",
                "with dLoss/dY_k = P_k − 1 at every output node. The −1 belongs only at the target node: "
                "dLoss/dY_k = P_k − [k is the target]."),
    OutputError("target_error_only", 180, lambda c, k: (c.probability(k) - 1) * c.is_target(k),
                "output_error_target_only",
                "as if only the target node had an error (P_target − 1) and the others 0. The other outputs "
                "have dLoss/dY_k = P_k: through the softmax's shared denominator they change P_target too."),
    OutputError("stopped_at_dP", 190, lambda c, k: -c.is_target(k) / _p_target(c), "output_error_stopped_at_dP",
                "with dLoss/dP_target = −1/P_target as the error at the target node and 0 at the others: the "
                "chain rule goes on through dP_target/dY_k to every output, which gives "
                "dLoss/dY_k = P_k − [k is the target]."),
    OutputError("without_dLoss_dP", 200, lambda c, k: _p_target(c) * (c.probability(k) - c.is_target(k)),
                "output_error_without_dLoss_dP",
                "with −dP_target/dY_k = P_target·(P_k − [k is the target]) as the error: the factor "
                "dLoss/dP_target = −1/P_target is missing. Together they give dLoss/dY_k = P_k − [k is the target]."),
)  # fmt: skip

SQUARED_ERRORS = (  # dLoss/dY = Y − target
    OutputError("target_left_out", 210, lambda c, k: c.value(k), "output_error_without_target",
                "with dLoss/d{out} = {out}: the target is missing from the error. "
                "With Loss = ½({t} − {out})², dLoss/d{out} = {out} − {t}."),
    OutputError("loss_as_error", 220, lambda c, k: c.pts.state["Loss"], "loss_as_error",
                "with the loss ½({t} − {out})² itself where its derivative belongs: dLoss/d{out} = {out} − {t}."),
    OutputError("square_as_error", 230, lambda c, k: 2 * c.pts.state["Loss"], "loss_as_error",
                "with the square ({t} − {out})² itself where the derivative of ½({t} − {out})² belongs: "
                "dLoss/d{out} = {out} − {t}."),
    OutputError("prediction_left_out", 240, lambda c, k: -c.pts.T, "output_error_without_prediction",
                "with dLoss/d{out} = −{t}: the prediction {out} is missing from the error "
                "dLoss/d{out} = {out} − {t}."),
)  # fmt: skip


def _output_error_slip(wrong: OutputError, when: Callable[[Case], bool]) -> Slip[Case]:
    def gives(c):
        yield from _output_errors(c, {k: wrong.error(c, k) for k in c.shape.outputs})

    def words(c, scope, ks):
        out, t = c.squared_loss()
        return f"{_computed(c, scope, ks)} " + wrong.words.format(out=out, t=t)

    return Slip(wrong.name, gives, words, wrong.priority, when, counts_as=wrong.counts_as)


def _softmax(c):
    return bool(c.net.classes)


def _squared(c):
    return not c.net.classes


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
            yield rule, c.changed(T=other)


def _wrong_target_words(c, rule, ks):
    return (
        f"{c.grads(ks)} computed as if the target were {rule}. "
        "dLoss/dY_k = P_k − 1 only at the target node, and P_k at the others."
    )


# ------------------------------------------------------------------ a wrong local derivative at a ReLU


def _each_relu(c, slope):
    """The network with slope(u) in place of ReLU' at every ReLU node at once, then at each one alone."""
    nodes = list(c.net.relus)
    if len(nodes) > 1:
        yield tuple(nodes), c.changed(slopes={u: slope(u) for u in nodes})
    for u in nodes:
        yield (u,), c.changed(slopes={u: slope(u)})


def _prime(expr):
    return f"ReLU'({expr})"


def _relus_words(c, nodes):
    """The nodes' labels, joined, and their pre-activations in the notes' symbols."""
    relus = [c.net.relus[u] for u in nodes]
    return join_and([r.label for r in relus]), [r.formula for r in relus]


def _missing_relu_derivative(c):
    yield from _each_relu(c, lambda u: 1.0)


def _missing_relu_derivative_words(c, nodes, ks):
    labels, exprs = _relus_words(c, nodes)
    primes = join_and([_prime(e) for e in exprs])
    return (
        f"{c.grads(ks)} nonzero at test points where {labels} {_is(nodes)} off "
        f"({', '.join(e + ' < 0' for e in exprs)}, "
        f"so ReLU' = 0 there and nothing flows back): multiply by {primes}."
    )


def _relu_for_derivative(c):
    yield from _each_relu(c, lambda u: np.maximum(c.zb(u), 0.0))


def _relu_for_derivative_words(c, nodes, ks):
    labels, exprs = _relus_words(c, nodes)
    return (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by {join_and([f'ReLU({e})' for e in exprs])}, the "
        f"output of {labels}, where the derivative {join_and([_prime(e) for e in exprs])} belongs "
        "(1 when on, 0 when off)."
    )


def _z_for_derivative(c):
    yield from _each_relu(c, lambda u: c.zb(u))


def _z_for_derivative_words(c, nodes, ks):
    labels, exprs = _relus_words(c, nodes)
    return (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by {join_and(exprs)} itself, "
        f"the sum going into {labels}, where "
        f"{join_and([_prime(e) for e in exprs])} belongs (1 when on, 0 when off)."
    )


def _other_relu_derivative(c):
    for u in c.net.relus:
        for v in c.net.relus:
            if v != u:
                yield (u, v), c.changed(slopes={u: (c.zb(v) > 0) * 1.0})


def _other_relu_derivative_words(c, detail, ks):
    u, v = detail
    ru, rv = c.net.relus[u], c.net.relus[v]
    return (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by ReLU'({rv.formula}), the slope of {rv.label}, "
        f"where the slope of {ru.label}, ReLU'({ru.formula}), belongs."
    )


# ------------------------------------------------------------------ the error sent back the wrong way


def _parent_relu_left_out(c):
    """The error sent back from a ReLU parent without its ReLU': the parent's own gradients right, those below not."""
    for u in c.net.relus:
        below = c.shape.below[u]
        if below:
            yield u, c.changed(slopes={u: 1.0}).only(c.shape.row(below))


def _parent_relu_left_out_words(c, u, ks):
    label, expr = c.net.relus[u].label, c.net.relus[u].formula
    hs = c.shape.hidden_of(ks)
    return (
        f"{c.grads(ks)} computed with the error sent back from {label} without its ReLU'({expr}), which "
        f"{label}'s own gradients have: " + "; ".join(f"dLoss/d{h} = {c.shape.back_sum(h)}" for h in hs) + "."
    )


def _fan_out(c):
    return any(len(c.shape.edges_out_of(h)) > 1 for h in c.shape.hidden_nodes)


def _keep_back(c, keep):
    """Every hidden node sends its error back only along edges into a parent for which keep(parent) (n,) is 1."""
    shape = c.shape
    back = {e: c.col(e) * column(keep(c.net.edges[e].dst)) for h in shape.hidden_nodes for e in shape.edges_out_of(h)}
    return c.changed(back=back)


def _one_parent_only(c):
    for k in c.shape.parents:
        yield k, _keep_back(c, lambda dst, k=k: np.full(len(c.pts), float(dst == k)))


def _sums_over_parents(c, ks):
    """Why every hidden node behind ks (or every one) sums over all its parents."""
    sentences = []
    for h in c.shape.hidden_of(ks) or c.shape.hidden_nodes:
        parents = [c.shape.node_label(c.net.edges[e].dst) for e in c.shape.edges_out_of(h)]
        sentences.append(
            f"{c.shape.node_label(h).capitalize()} feeds {join_and(parents)}, so its gradient sums over all its "
            f"parents: dLoss/d{h} = {c.shape.back_sum(h)}."
        )
    return " ".join(sentences)


def _one_parent_only_words(c, k, ks):
    return f"{c.grads(ks)} computed through only the path through {c.shape.node_label(k)}. " + _sums_over_parents(c, ks)


def _target_parent_only(c):
    yield None, _keep_back(c, lambda dst: c.is_target(dst))


def _target_parent_only_words(c, _, ks):
    return (
        f"{c.grads(ks)} computed through the target's output node only. The loss is −log P_target, yet the "
        "other outputs count too: through the softmax's shared denominator they change P_target. "
        + _sums_over_parents(c, ks)
    )


def _parent_left_out(c):
    parents = c.shape.parents
    if len(parents) > 2:
        for k in parents:
            yield k, _keep_back(c, lambda dst, k=k: np.full(len(c.pts), float(dst != k)))


def _parent_left_out_words(c, k, ks):
    return f"{c.grads(ks)} computed without the path through {c.shape.node_label(k)}. " + _sums_over_parents(c, ks)


def _missing_backprop_weight(c):
    hidden = c.shape.hidden_nodes
    groups = ([tuple(hidden)] if len(hidden) > 1 else []) + [(h,) for h in hidden]
    for nodes in groups:
        yield nodes, c.changed(back={e: 1.0 for h in nodes for e in c.shape.edges_out_of(h)})


def _missing_backprop_weight_words(c, nodes, ks):
    sums = "; ".join(f"dLoss/d{h} = {c.shape.back_sum(h)}" for h in nodes)
    weights = "the weight" if sum(len(c.shape.edges_out_of(h)) for h in nodes) == 1 else "the weights"
    return (
        f"{c.grads(ks)} computed with the error sent back to {join_and([c.shape.node_label(h) for h in nodes])} "
        f"without {weights} it flows through: {sums}."
    )


def _swapped_backprop_weights(c):
    net = c.net
    for h in c.shape.hidden_nodes:
        for other in c.shape.hidden_nodes:
            if other != h:
                by_target = {net.edges[e].dst: e for e in c.shape.edges_out_of(other)}
                back = {
                    e: c.col(by_target[net.edges[e].dst])
                    for e in c.shape.edges_out_of(h)
                    if net.edges[e].dst in by_target
                }
                yield (h, other), c.changed(back=back)


def _swapped_backprop_weights_words(c, detail, ks):
    h, other = detail
    label, out = c.shape.node_label, c.shape.edges_out_of
    return (
        f"{c.grads(ks)} computed with the error sent back to {label(h)} through {label(other)}'s "
        f"weights ({join_and(out(other))}) instead of its own ({join_and(out(h))}): W_ij runs from node i to node j."
    )


def _back_through_incoming_weight(c):
    """A node with one parent: the error sent back through the weight into the node instead of out of it."""
    for h in c.shape.hidden_nodes:
        outs = c.shape.edges_out_of(h)
        if len(outs) != 1:
            continue
        for q, (src, dst) in c.net.edges.items():
            if dst == h and src is not None:
                yield (h, q, outs[0]), c.changed(back={outs[0]: c.col(q)})


def _back_through_incoming_weight_words(c, detail, ks):
    h, q, out = detail
    return (
        f"{c.grads(ks)} computed with the error sent back to {c.shape.node_label(h)} through {q}, the weight into "
        f"it, where the weight it flows out through, {out}, belongs: dLoss/d{h} = {c.shape.back_sum(h)}."
    )


# ------------------------------------------------------------------ a wrong factor on one edge


def _edge_values(c, value_of):
    """The values for every weight W_ij where value_of(W_ij, i, j) gives a value v (not None): dLoss/dz_j · v."""
    out = {}
    for w in c.shape.weights:
        v = value_of(w, *c.net.edges[w])
        if v is not None:
            out[w] = c.delta(c.net.edges[w].dst) * v
    return c.some(out)


def _edge_rule(c, ks):
    """The chain rule's factor on the first weight of ks, in its own symbols: d(w12·Y1)/dw12 = Y1."""
    w = ks[0]
    src = c.net.edges[w].src
    return f"d({w}·{src})/d{w} = {src}"


def _carried(c, ks):
    return join_and([f"{k} carries {c.net.edges[k].src}" for k in ks])


def _weight_for_input(c):
    yield None, _edge_values(c, lambda w, src, dst: c.pts.P[w])


def _weight_for_input_words(c, _, ks):
    return (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by the weight itself where the value the edge "
        f"carries belongs ({_carried(c, ks)}): {_edge_rule(c, ks)}."
    )


def _one_for_input(c):
    yield None, _edge_values(c, lambda w, src, dst: np.ones(len(c.pts)))


def _one_for_input_words(c, _, ks):
    return (
        f"{c.names(ks)} computed like a bias's gradient, without the value the edge carries ({_carried(c, ks)}): "
        f"{_edge_rule(c, ks)}."
    )


def _z_for_input(c):
    yield None, _edge_values(c, lambda w, src, dst: c.z(src) if src in c.net.relus else None)


def _z_for_input_words(c, _, ks):
    srcs = list(dict.fromkeys(c.net.edges[k].src for k in ks))
    sums = join_and([f"{c.net.relus[s].formula} (before the ReLU)" for s in srcs])
    return (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by {sums} where the node's output "
        f"{join_and(srcs)} = ReLU(…) belongs: where the node is off, the edge carries 0."
    )


def _output_for_input(c):
    yield None, _edge_values(c, lambda w, src, dst: c.value(dst))


def _output_for_input_words(c, _, ks):
    pairs = join_and([f"{c.net.edges[k].dst} for {c.net.edges[k].src} in {k}" for k in ks])
    return (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by the output of the node the edge leads into "
        f"where the value it carries in belongs ({pairs}): {_edge_rule(c, ks)}."
    )


def _other_value_for_input(c):
    for v in list(c.net.inputs) + list(c.shape.hidden_nodes):
        yield v, _edge_values(c, lambda w, src, dst, v=v: c.value(v) if src != v and dst != v else None)


def _other_value_for_input_counts_as(c, v, ks):
    swapped = all(c.net.edges[k].src in c.net.inputs for k in ks) and v in c.net.inputs
    return "swapped_inputs" if swapped else "wrong_input"


def _other_value_for_input_words(c, v, ks):
    own = join_and([f"{c.net.edges[k].src} for {k}" for k in ks])
    return (
        f"In {join_and([c.name(k) for k in ks])} you multiplied by {v} where the value the edge carries "
        f"belongs ({own}): each weight's gradient multiplies by the value on its own edge, "
        f"{_edge_rule(c, ks)}."
    )


def _bias_times_input(c):
    for b, (src, dst) in c.net.edges.items():
        if src is None:
            for s, d in c.net.edges.values():
                if s is not None and d == dst:
                    yield (b, s), c.some({b: c.G[b] * c.value(s)})


def _bias_times_input_words(c, detail, ks):
    b, s = detail
    return (
        f"Your {c.name(b)} is multiplied by {s}. A bias is added to the sum, so d(sum)/d{b} = 1 and "
        "no input belongs in its gradient."
    )


# ------------------------------------------------------------------ one parameter's gradient for another


def _pair_swap(c):
    for i, k in enumerate(c.wrong):
        for q in c.wrong[i + 1 :]:
            yield (k, q), c.some({k: c.G[q], q: c.G[k]})


def _swap_reason(c, k, q):
    """(mistake, why) for k's value where q's belongs."""
    src_k, dst_k = c.net.edges[k]
    src_q, dst_q = c.net.edges[q]
    if src_k is not None and src_q is not None and dst_k == dst_q:
        return "swapped_inputs", f"{src_k} and {src_q} are exchanged"
    return "swapped_indices", "check the indices (W_ij runs from node i to node j)"


def _pair_swap_words(c, detail, ks):
    k, q = detail
    return f"Your {c.name(k)} and {c.name(q)} are swapped: {_swap_reason(c, k, q)[1]}."


def _copied(c):
    for q, i in c.shape.index.items():
        others = c.shape.every.copy()
        others[i] = False
        yield q, Gives(partial(np.broadcast_to, c.Gt[i], c.Gt.shape), others)  # q's row is never read


def _copied_words(c, q, ks):
    why = _swap_reason(c, ks[0], q)[1]
    return f"Your {join_and([c.name(k) for k in ks])} {_is(ks)} the right value for {c.name(q)}: {why}."


def _pair_swap_counts_as(c, detail, ks):
    return _swap_reason(c, *detail)[0]


def _copied_counts_as(c, q, ks):
    return _swap_reason(c, ks[0], q)[0]


# ------------------------------------------------------------------ the table


# Every slip the diagnosis knows, by idea; the order in which they name a mistake is their priority (lower first),
# in steps of 10 so that a new slip can go between two.  A slip's name is its key here; ``counts_as`` is the
# mistake's name the report counts, where it is not the name.
SLIPS: list[Slip[Case]] = by_priority(
    [
        Slip("sign", _sign, _sign_words, 10, counts_as=_sign_counts_as, each_alone=True),
        *(_rule_slip(rule) for rule in RULES),
        Slip("factor", _factor, _factor_words, 90, counts_as=_factor_counts_as, each_alone=True),
        Slip("sequential_update", _sequential_update, _sequential_update_words, 100, _sequential),
        Slip("sequential_with_forward", _sequential_with_forward, _sequential_with_forward_words, 110, _sequential,
             counts_as="sequential_update"),
        Slip("target_parent_only", _target_parent_only, _target_parent_only_words, 120, _fan_out,
             counts_as="one_parent_only"),
        *(_output_error_slip(wrong, _softmax) for wrong in SOFTMAX_ERRORS),
        *(_output_error_slip(wrong, _squared) for wrong in SQUARED_ERRORS),
        Slip("missing_relu_derivative", _missing_relu_derivative, _missing_relu_derivative_words, 250),
        Slip("relu_for_derivative", _relu_for_derivative, _relu_for_derivative_words, 260,
             counts_as="relu_instead_of_derivative"),
        Slip("z_for_derivative", _z_for_derivative, _z_for_derivative_words, 270, counts_as="z_instead_of_derivative"),
        Slip("other_relu_derivative", _other_relu_derivative, _other_relu_derivative_words, 280,
             counts_as="wrong_relu_derivative"),
        Slip("parent_relu_left_out", _parent_relu_left_out, _parent_relu_left_out_words, 290,
             counts_as="missing_relu_derivative"),
        Slip("one_parent_only", _one_parent_only, _one_parent_only_words, 300, _fan_out),
        Slip("parent_left_out", _parent_left_out, _parent_left_out_words, 310, _fan_out),
        Slip("missing_backprop_weight", _missing_backprop_weight, _missing_backprop_weight_words, 320),
        Slip("swapped_backprop_weights", _swapped_backprop_weights, _swapped_backprop_weights_words, 330,
             counts_as="swapped_indices"),
        Slip("back_through_incoming_weight", _back_through_incoming_weight, _back_through_incoming_weight_words, 340,
             counts_as="wrong_backprop_weight"),
        Slip("wrong_target", _wrong_target, _wrong_target_words, 350, _softmax),
        Slip("weight_for_input", _weight_for_input, _weight_for_input_words, 360, each_alone=True),
        Slip("one_for_input", _one_for_input, _one_for_input_words, 370, counts_as="input_left_out", each_alone=True),
        Slip("z_for_input", _z_for_input, _z_for_input_words, 380, each_alone=True),
        Slip("output_for_input", _output_for_input, _output_for_input_words, 390, each_alone=True),
        Slip("other_value_for_input", _other_value_for_input, _other_value_for_input_words, 400,
             counts_as=_other_value_for_input_counts_as, each_alone=True),
        Slip("bias_times_input", _bias_times_input, _bias_times_input_words, 410, each_alone=True),
        Slip("pair_swap", _pair_swap, _pair_swap_words, 420, counts_as=_pair_swap_counts_as, each_alone=True),
        Slip("copied", _copied, _copied_words, 430, counts_as=_copied_counts_as, each_alone=True),
        Slip("zero", _zero, _zero_words, 440, counts_as=_zero_counts_as, each_alone=True),
    ]
)  # fmt: skip


# ------------------------------------------------------------------ choosing the causes


class Way(NamedTuple):
    """One way a slip may have been made: the slip, what sets this way apart (a node, a factor, ...) and its values."""

    slip: Slip[Case]
    detail: Any
    gives: Gives


class Cause(NamedTuple):
    """A way that explains some wrong parameters."""

    slip: Slip[Case]
    detail: Any
    gives: Gives
    params: list[str]  # the wrong parameters it explains


def _ways(c: Case) -> Iterator[Way]:
    """Every way of every slip that applies, in the table's order; built as read, nothing differentiated yet."""
    for slip in SLIPS:
        if slip.applies(c):
            for detail, gives in slip.gives(c):
                yield Way(slip, detail, gives)


def _explained(c: Case, ways: Sequence[Way]) -> list[Cause | None]:
    """For each way, what it explains: the wrong parameters where it matches the student at every test point and
    differs from the right gradient; None when that is none, or when it changes a parameter the student has right
    and the slip is one change to the whole computation.  All judged at once."""
    if not ways:
        return []
    A = np.stack([w.gives.table() for w in ways])  # (ways, m, n)
    touches = np.stack([w.gives.touches for w in ways])
    with np.errstate(all="ignore"):  # a student's huge numbers overflow to inf, which agrees with nothing
        matches = np.all(agree(c.St, A), axis=2)
        changes = touches & ~np.all(agree(A, c.Gt), axis=2)
    explains = changes & matches & c.is_wrong
    alone = np.array([w.slip.each_alone or w.gives.each_alone for w in ways])
    kept = np.any(explains, axis=1) & (alone | ~np.any(changes & ~c.is_wrong, axis=1))
    return [
        Cause(*w, [c.params[j] for j in np.flatnonzero(row)]) if k else None for w, row, k in zip(ways, explains, kept)
    ]


def _first_ways(c: Case) -> tuple[list[Way], list[Cause]]:
    """Every way, and those that explain wrong parameters, in the table's order.

    Only as few changed networks are differentiated as that takes: none when a way before the first that needs
    one explains every wrong parameter (then only the ways up to it are returned); else first those that can move
    every wrong parameter (Job.reach) and come before the first way without one that explains them all, since
    only these can name the mistake alone; the others only when none of these does (each batch in one call).
    """
    ways, asked = _ways(c), []
    for way in ways:
        asked.append(way)
        if way.gives.job is not None:
            break
    judged: dict[int, Cause | None] = {}
    _judge(c, asked, judged, [i for i, w in enumerate(asked) if w.gives.job is None])
    if _full(c, judged) is not None or not asked or asked[-1].gives.job is None:
        return asked, _found(asked, judged)
    asked += ways
    _judge(c, asked, judged, [i for i, w in enumerate(asked) if w.gives.job is None and i not in judged])
    first = _full(c, judged)
    able = _able(c, [i for i in range(len(asked[:first])) if i not in judged], asked)
    c.jobs.run(job for i in able if (job := asked[i].gives.job) is not None)
    _judge(c, asked, judged, able)
    if _full(c, judged) is None:
        c.jobs.run()
        _judge(c, asked, judged, [i for i in range(len(asked)) if i not in judged])
    return asked, _found(asked, judged)


def _able(c: Case, which: list[int], asked: list[Way]) -> list[int]:
    """Those of the ways asked[which], each reading a changed network, that can move every wrong parameter."""
    if not which:
        return []
    moves = np.stack([asked[i].gives.touches & _job(asked[i]).reach(c.shape) for i in which])
    return [i for i, ok in zip(which, np.all(moves | ~c.is_wrong, axis=1)) if ok]


def _job(way: Way) -> Job:
    if way.gives.job is None:
        raise ValueError(f"the way {way.slip.name} {way.detail} reads no changed network")
    return way.gives.job


def _judge(c: Case, asked: list[Way], judged: dict[int, Cause | None], which: list[int]) -> None:
    judged.update(zip(which, _explained(c, [asked[i] for i in which])))


def _full(c: Case, judged: dict[int, Cause | None]) -> int | None:
    """The place of the first way judged that explains every wrong parameter, or None."""
    full = [i for i, f in judged.items() if f is not None and len(f.params) == len(c.wrong)]
    return min(full) if full else None


def _found(asked: list[Way], judged: dict[int, Cause | None]) -> list[Cause]:
    """What the ways judged explain, in the table's order."""
    return [f for i, f in sorted(judged.items()) if f is not None]


def _cover(found: list[Cause], wrong: list[str]) -> list[Cause]:
    """The first entry of found that explains all of wrong, else the fewest that explain the most (greedy)."""
    for f in found:
        if set(f.params) == set(wrong):
            return [f]
    chosen, left = [], set(wrong)
    while left and found:
        best = max(found, key=lambda f: len(left.intersection(f.params)))  # max keeps the first of equals
        gain = [k for k in best.params if k in left]
        if not gain:
            break
        chosen.append(best._replace(params=gain))
        left.difference_update(gain)
    return chosen


def causes(c: Case) -> list[Cause]:
    """One entry per cause, together explaining as many wrong parameters as they can.  What one slip alone leaves
    unexplained is tried as a second slip made on top of a first one; the first one's bullet then names those
    parameters too, since they carry both slips."""
    asked, found = _first_ways(c)
    for f in found:
        if len(f.params) == len(c.wrong):
            return [f]
    chosen = _cover(found, c.wrong)
    left = set(c.wrong) - {k for f in chosen for k in f.params}
    if not (left and chosen):
        return chosen
    seconds = [(i, list(_second_slips(c, first, asked))) for i, first in enumerate(chosen)]
    c.jobs.run()
    on_top = [(i, way, ks) for i, ways in seconds for way, ks in zip(ways, _on_top(c, chosen[i], ways))]
    while left:
        best, gain = None, list[str]()
        for i, way, ks in on_top:
            ks = [k for k in ks if k in left]
            if len(ks) > len(gain):
                best, gain = (i, way), ks
        if best is None:
            break
        i, way = best
        chosen[i] = chosen[i]._replace(params=list(chosen[i].params) + gain)
        chosen.append(Cause(*way, gain))
        left.difference_update(gain)
    return chosen


def _on_top(c: Case, first: Cause, seconds: list[Way]) -> list[list[str]]:
    """For each second slip made on top of first, the wrong parameters where it differs from first alone, if it
    matches the student at all of them (else none: the second slip would change what the first one explained)."""
    if not seconds:
        return []
    A = np.stack([w.gives.table() for w in seconds])
    touches = np.stack([w.gives.touches for w in seconds])
    alone = np.where(first.gives.touches[:, None], first.gives.table(), c.Gt)
    with np.errstate(all="ignore"):
        differs = touches & c.is_wrong & ~np.all(agree(A, alone), axis=2)
        refuted = np.any(differs & ~np.all(agree(c.St, A), axis=2), axis=1)
    return [[] if no else [k for k, x in zip(c.params, row) if x] for row, no in zip(differs, refuted)]


def _second_slips(c: Case, first: Cause, asked: list[Way]) -> Iterator[Way]:
    """Each other slip made on top of first: seen through its factor, or with both networks' changes at once."""
    for way in asked:
        if way.slip is first.slip:
            continue
        if first.gives.factor is not None:
            yield way._replace(gives=_through(first.gives, way.gives))
        elif not way.slip.each_alone:
            both = _both(c, first.gives, way.gives)
            if both is not None:
                yield way._replace(gives=both)


def _through(first: Gives, second: Gives) -> Gives:
    """The second slip seen through the first one's factor, in the parameters both touch."""
    f = first.factor
    return Gives(lambda: f * second.table(), first.touches & second.touches)


def _both(c: Case, V: Gives, W: Gives) -> Gives | None:
    """The network with the changes of V and of W at once, or None when either is no changed network, or they
    change the same local derivative or another point."""
    a, b = V.job, W.job
    if a is None or b is None or a.P is not b.P or a.T is not b.T:
        return None
    if set(a.slopes) & set(b.slopes) or set(a.back) & set(b.back) or set(a.patch) & set(b.patch):
        return None
    job = c.jobs.ask({**a.slopes, **b.slopes}, {**a.back, **b.back})
    job.patch.update({**a.patch, **b.patch})
    return Gives(job.gradient, V.touches & W.touches, job=job)


def diagnose(ex: Any, pts: Any, S: Any, G: Any, *, update: bool) -> list[Any]:
    """[(mistake, [params], sentence, example point index)] for every parameter that is wrong.

    update: the answers were new parameters (the "update" kind), S the gradients they imply.
    """
    c = Case(ex, pts, S, G, update)
    findings = []
    for cause in causes(c):
        ks = [k for k in c.params if k in cause.params]
        said = (c, cause.detail, ks)
        findings.append((cause.slip.counted(*said), ks, cause.slip.sentence(*said), _first_bad(S[ks[0]], G[ks[0]])))
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
