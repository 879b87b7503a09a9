"""A worked problem of one's own: the same numbers every time for the same (network, student id).

    p = problem("relu_chain", "ada")    # p.x, p.params, p.target, p.eta in the notes' names

Where the numbers come from.  Every number is drawn from SHA-256 of
("gradelib.byhand", version, network, student id, counter), never from
Python's hash() (salted per process) nor from NumPy's generators (whose
streams may change between NumPy versions): the sheet a student prints at
home and the problem the grader regenerates from the nbgrader student id must
be the same numbers on every machine, for ever.  Changing VERSION changes
every problem, so it is only ever changed between courses.

What makes a problem fit for paper (candidates are drawn until all hold):
  * every given number has one decimal (0.7, −1.2), so the forward pass of
    the first two networks is exact in two to four decimals;
  * every pre-activation is at least MARGIN away from 0, so no rounding can
    flip a ReLU; the on/off pattern teaches something: the single neuron is
    on, both neurons of the chain are on (so δ2 flows back through w12), and
    the 2-2-3 net has one hidden node off, node 3 or node 4 as the id decides,
    so that the student sees ReLU'(z) = 0 stop the flow; the target class of
    the 2-2-3 net is decided by the id too;
  * every probability is at least MIN_P and every logit at most MAX_LOGIT in
    size, so e^Y stays a number a calculator shows plainly;
  * every nonzero step value is at least MIN_STEP in size, and every slip
    the marker knows (a step's slips) lands either exactly on the right value
    (then it is no slip here, e.g. a forgotten ReLU' of a node that is on) or
    at least SEPARATION tolerances away from it, so that a slip is never
    taken for rounding and rounding never for a slip.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import oracle
from ..exercises import find_network
from ..text import fixed
from . import steps as steps_module
from .reading import tolerance

VERSION = 1
MAX_ID = 200  # characters: an nbgrader id or a name; anything longer is surely a mistake
MARGIN = 0.3  # smallest |z| of any ReLU
MIN_P = 0.05  # smallest softmax probability
MAX_LOGIT = 3.0  # largest |Y5|, |Y6|, |Y7|
MIN_STEP = 0.02  # smallest size of a nonzero step value: it must not round to 0.00 on paper
SEPARATION = 3.0  # a slip lands this many tolerances (of the larger of the two values) from the right value
ETAS = (0.1, 0.2, 0.5)
ATTEMPTS = 20000  # candidates tried before giving up; 200 ids needed at most 16, 43 and 112 (by network)


@dataclass(frozen=True)
class PersonalProblem:
    """One student's worked problem for one network."""

    network: str  # "single_neuron", "relu_chain" or "softmax_223"
    student_id: str  # the id it was made from (composed Unicode, no spaces at either end: see check_id)
    x: tuple  # the inputs (x1, x2), (x1,) or (X1, X2), floats with one decimal
    params: dict  # the parameters under the notes' names (w1, w2, b; w11, b1, w12, b2; W13, ..., b7)
    target: object  # O_b or O_b2 (a float), or the target node 5, 6 or 7 of "softmax_223"
    eta: float  # the learning rate η

    def __hash__(self):
        return hash((self.network, self.student_id))

    @property
    def off(self) -> tuple[str, ...]:
        """The ReLU nodes that are off at this problem, by the notes' labels ("node 3"); () if all are on."""
        net = find_network(self.network, "PersonalProblem")
        state = self.forward()
        return tuple(relu.label for relu in net.relus.values() if state[relu.pre] < 0)

    def forward(self) -> dict[str, float]:
        """gradelib's own forward pass at this problem: every intermediate value, as floats."""
        net = find_network(self.network, "PersonalProblem")
        return {k: float(v) for k, v in net.forward(self.x, self.params, self.target).items()}

    def _repr_html_(self):
        """The problem's numbers in the notes' symbols (the sheet shows them with the drawing and the boxes)."""
        return givens_html(self)

    def givens(self) -> Any:
        """The problem's own numbers under the notes' names, as the steps' rules read them."""
        return steps_module.givens(self.network, self.x, self.params, self.target, self.eta)


class Draws:
    """Numbers drawn from SHA-256 of (key, counter): the same on every machine and every Python."""

    def __init__(self, key):
        self.key = key
        self.counter = 0

    def _next(self):
        self.counter += 1
        digest = hashlib.sha256(f"{self.key}\0{self.counter}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def tenths(self, lo: float, hi: float, least: float = 0.0) -> float:
        """A number with one decimal in [lo, hi] whose size is at least least."""
        while True:
            value = (round(lo * 10) + self._next() % (round((hi - lo) * 10) + 1)) / 10
            if abs(value) >= least:
                return value

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self._next() % len(options)]


def check_id(student_id: Any) -> str:
    """The id in Unicode's composed form (NFC) without spaces at either end, or a ValueError saying what is wrong."""
    if not isinstance(student_id, str):
        shown = (
            f" {student_id!r:.40}"
            if type(student_id) in (int, float, bytes, type(None))
            and not (type(student_id) is int and abs(student_id) > 10**40)
            else ""
        )
        raise ValueError(f'a student id is a name in quotes, such as "ada"; got {type(student_id).__name__}{shown}.')
    text = unicodedata.normalize("NFC", student_id).strip()  # "é" typed as one character or as e + accent
    if not text:
        raise ValueError(
            'the student id is empty: give your nbgrader id, or any name of your choice in self-study, such as "ada".'
        )
    if len(text) > MAX_ID:
        raise ValueError(f"the student id is {len(text)} characters long; an id has at most {MAX_ID}.")
    return text


def problem(network: str, student_id: str) -> PersonalProblem:
    """The PersonalProblem of this student for this network; ValueError with a sentence for a bad id or network.

    student_id: your nbgrader student id when the course grades you (on its JupyterHub, your login), any name
    when studying alone.  Spaces at either end do not count (" bob " is "bob"), and an accented letter is the
    same however it was typed (one character, or a letter and an accent: check_id).
    """
    net = find_network(network, "byhand.problem")
    sid = check_id(student_id)
    draws = Draws(f"gradelib.byhand\0{VERSION}\0{net.name}\0{sid}")
    shape = _shape(net, draws)
    for _ in range(ATTEMPTS):
        x, params, target, eta = _candidate(net, draws, shape)
        p = PersonalProblem(net.name, sid, x, params, target, eta)
        if fit_for_paper(p, shape):
            return p
    raise RuntimeError(f"no problem fit for paper was found for {sid!r} in {ATTEMPTS} tries; please report this.")


def _shape(net, d):
    """What the id decides once, before any candidate: for the 2-2-3 net, the node that is off and the target."""
    if net.classes:
        return {"off": d.choice(tuple(relu.pre for relu in net.relus.values())), "target": d.choice(net.classes)}
    return {}


# Where each network's given weights and biases are drawn from, as (lo, hi, least size): weights away from 0, so
# every term of a sum counts; the chain's |w12| ≥ 0.3, so that δ2 visibly changes on its way back to δ1.
WEIGHTS = {"single_neuron": (-1.5, 1.5, 0.2), "relu_chain": (-2, 2, 0.3), "softmax_223": (-1, 1, 0.1)}
BIASES = {"single_neuron": (-1, 1, 0.1), "relu_chain": (-1, 1, 0.1), "softmax_223": (-0.5, 0.5, 0.0)}


def _candidate(net, d, shape):
    """A candidate (x, params, target, η): the inputs, then each parameter in the notes' order, then the regression
    target (a classifier's target node is the one the id decided), then η."""
    x = tuple(d.tenths(-2, 2, 0.5) for _ in net.inputs)
    weights, biases = WEIGHTS[net.name], BIASES[net.name]
    params = {p: d.tenths(*(weights if net.edges[p].src else biases)) for p in net.params}
    target = shape["target"] if net.classes else d.tenths(0.5, 3)
    return x, params, target, d.choice(ETAS)


def right_values(p: PersonalProblem) -> dict[str, float]:
    """Every step's right value at problem p (see _values), guarded as gradelib's oracle is.

    For marking, never for a student: inside a function under check it refuses
    (oracle.refuse_inside_student_code), and in the grader's harness
    (oracle.withdrawn) every value is NaN, so a by-hand function that borrows
    them scores nothing.
    """
    if oracle.withdrawn():
        return {step.key: math.nan for step in steps_module.steps(p.network, p.target)}
    oracle.refuse_inside_student_code()
    return _values(p)


def _values(p, state=None):
    """Every step's right value: the forward steps from gradelib.networks, the rest by the steps' rules.

    Computed once per problem: kept on p with the numbers they were computed from, so that fit_for_paper,
    mark and the marker's evidence of whose page it is share one computation, and a problem whose numbers
    were changed since (p.params is a dict) is computed again.  state: p.forward(), when the caller has it.
    Unguarded, for fit_for_paper: a problem must be made in the grader's harness too.
    """
    numbers = repr((p.network, tuple(p.x), sorted(p.params.items()), p.target, p.eta))
    kept = p.__dict__.get("_right")
    if kept is not None and kept[0] == numbers:
        return dict(kept[1])
    state = p.forward() if state is None else state
    v = p.givens()
    out = {}
    for step in steps_module.steps(p.network, p.target):
        value = state[step.key] if step.key in state else float(step.rule(v))
        v[step.key] = out[step.key] = value
    object.__setattr__(p, "_right", (numbers, out))  # a frozen record's cache, not one of its fields
    return dict(out)


def fit_for_paper(p: PersonalProblem, shape: Any = None) -> bool:
    """Whether problem p keeps every promise of the module docstring."""
    net = find_network(p.network, "byhand")
    state = p.forward()
    zs = {relu.pre: state[relu.pre] for relu in net.relus.values()}
    if any(abs(z) < MARGIN for z in zs.values()):
        return False
    wanted_off = (shape or {}).get("off")
    if net.classes:
        if wanted_off is None or any((z < 0) != (pre == wanted_off) for pre, z in zs.items()):
            return False
        if any(state[P] < MIN_P or abs(state[Y]) > MAX_LOGIT for Y, P in net.probability_of.items()):
            return False
    elif any(z < 0 for z in zs.values()):
        return False
    right = _values(p, state)
    v = p.givens()
    for step in steps_module.steps(p.network, p.target):
        r = right[step.key]
        if not math.isfinite(r) or (r != 0 and abs(r) < MIN_STEP):
            return False
        for slip in step.slips:
            try:
                s = float(slip.gives(v))
            except (ArithmeticError, ValueError):
                continue
            if math.isfinite(s) and abs(s - r) > 1e-9 and abs(s - r) < SEPARATION * max(tolerance(r), tolerance(s)):
                return False
        if r != 0 and abs(2 * r) < SEPARATION * tolerance(r):  # the sign slip every step is checked for
            return False
        v[step.key] = r
    return True


def symbol_html(name: str) -> str:
    """'dLoss/dW35' -> 'dLoss/dW<sub>35</sub>', 'O_b2' -> 'O<sub>b2</sub>', 'δ1' -> 'δ<sub>1</sub>'."""
    if "_" in name:  # a target symbol: everything after the underscore is one subscript
        head, _, sub = name.partition("_")
        return f"{html.escape(head)}<sub>{html.escape(sub)}</sub>"
    return re.sub(r"([A-Za-zδη])(\d+)", r"\1<sub>\2</sub>", html.escape(name))


def _number(value):
    """A given number as on the sheet: one decimal ("0.7", "-1.2"), or two if it has them."""
    text = fixed(value, 2)
    return text[:-1] if text.endswith("0") else text


def givens_html(p: Any) -> str:
    """The problem's given numbers in the notes' symbols, as the HTML table the sheet and the form show."""
    net = find_network(p.network, "byhand.personal")
    rows = [("inputs", ", ".join(f"{symbol_html(n)} = {_number(v)}" for n, v in zip(net.inputs, p.x)))]
    if net.classes:
        hidden = [k for k in net.params if k in net.hidden_params]  # in the notes' order, weights first
        output = [k for k in net.params if k not in hidden]
        rows.append(("hidden layer", ", ".join(f"{symbol_html(k)} = {_number(p.params[k])}" for k in hidden)))
        rows.append(("output layer", ", ".join(f"{symbol_html(k)} = {_number(p.params[k])}" for k in output)))
        rows.append(("target", f"node {int(p.target)} (Loss = −log P<sub>{int(p.target)}</sub>)"))
    else:
        rows.append(("parameters", ", ".join(f"{symbol_html(k)} = {_number(p.params[k])}" for k in net.params)))
        rows.append(("target", f"{symbol_html(net.target_symbol)} = {_number(p.target)}"))
    rows.append(("learning rate", f"η = {_number(p.eta)}"))
    body = "".join(f"<tr><td><b>{html.escape(a)}</b></td><td>{b}</td></tr>" for a, b in rows)
    return f'<table class="givens">{body}</table>'
