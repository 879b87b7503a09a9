"""A by-hand step's formula written once: an expression that prints in the notes' symbols and computes its value.

    delta, z = Sym("delta", "δ"), Sym("z")
    rule = delta * gate(z)                   # written with operators, as on paper
    rule.text()                              # "δ·ReLU'(z)": what the sheet and the feedback print
    rule.value(v)                            # v["delta"] * (1.0 if v["z"] > 0 else 0.0): what marking computes
    rule.names()                             # ("delta", "z"): what it reads, in the order it reads them

A value is computed as a Python expression written the same way would be
(left operand first, the same float operations), so a step's right value does
not change by a rounding when its formula is written this way, and a Values
mapping that records what it is asked for sees the names in the same order.
sympy would print and evaluate too, but it reorders terms (b + w1·x1) and
would have to be taught the notes' ReLU'(z), e^Y and ½; eight small classes do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

TIGHT = 3  # how tightly a node binds when printed: a name or a call
PRODUCT = 2  # a product, a quotient or a negation
SUM = 1  # a sum or a difference
MAX_EXP = 700.0  # e^Y is computed as e^min(Y, 700): a student's Y of 1000 gives a huge number, not an error


class Expr:
    """A formula of earlier values.  Subclasses say how it prints (text) and what it is worth (value)."""

    binds = TIGHT  # how tightly it binds when printed (a higher one needs no brackets inside a lower one)

    def text(self) -> str:
        """The formula in the notes' symbols."""
        raise NotImplementedError

    def value(self, v: Any) -> float:
        """Its value, reading earlier values from v by their keys."""
        raise NotImplementedError

    def names(self) -> tuple[str, ...]:
        """The keys it reads, each once, in the order value() reads them."""
        return ()

    def wrap(self, least: int) -> str:
        """The text, in brackets when it binds less tightly than least."""
        return f"({self.text()})" if self.binds < least else self.text()

    def __add__(self, other: Expr) -> Expr:
        return Op(self, other, " + ", lambda a, b: a + b, SUM)

    def __sub__(self, other: Expr) -> Expr:
        return Op(self, other, " − ", lambda a, b: a - b, SUM)

    def __mul__(self, other: Expr) -> Expr:
        return Op(self, other, "·", lambda a, b: a * b, PRODUCT)

    def __truediv__(self, other: Expr) -> Expr:
        return Op(self, other, " / ", lambda a, b: a / b if b else math.nan, PRODUCT)

    def __neg__(self) -> Expr:
        return Call("−{}", lambda a: -a, self, PRODUCT, PRODUCT)


@dataclass(frozen=True, eq=False)
class Sym(Expr):
    """An earlier value or a given number: read from v by its key, printed as the notes write it."""

    key: str  # the key it is read by: "delta2", "eta", "dLoss/dY5"
    shown: str = ""  # how the notes write it when that is not the key: "δ2", "η"; "" for the key itself

    def text(self) -> str:
        return self.shown or self.key

    def value(self, v: Any) -> float:
        return v[self.key]

    def names(self) -> tuple[str, ...]:
        return (self.key,)


@dataclass(frozen=True, eq=False)
class Num(Expr):
    """A constant of a formula: 1, ½."""

    number: float  # its value
    shown: str  # how it is printed: "1", "½"

    def text(self) -> str:
        return self.shown

    def value(self, v: Any) -> float:
        return self.number


@dataclass(frozen=True, eq=False)
class Op(Expr):
    """Two formulas joined by an operator: a + b, a − b, a·b, a / b."""

    left: Expr  # the left operand, computed first
    right: Expr  # the right operand
    sign: str  # how the operator is printed, with its spaces: " + ", "·"
    apply: Callable[[float, float], float]  # the operation on the two values
    binds: int = SUM  # SUM or PRODUCT

    def text(self) -> str:
        # the right operand of − or / is bracketed unless it binds more tightly: a − (b − c), a / (b + c)
        right_least = self.binds + 1 if self.sign in (" − ", " / ") else self.binds
        return f"{self.left.wrap(self.binds)}{self.sign}{self.right.wrap(right_least)}"

    def value(self, v: Any) -> float:
        a = self.left.value(v)
        return self.apply(a, self.right.value(v))

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.left.names() + self.right.names()))


@dataclass(frozen=True, eq=False)
class Call(Expr):
    """A function of one formula, printed by a pattern: "ReLU({})", "ReLU'({})", "e^{}", "log {}", "{}²"."""

    pattern: str  # the printed form, {} standing for the argument's text
    apply: Callable[[float], float]  # the function on the argument's value
    arg: Expr  # the argument
    least: int = 0  # how tightly the argument must bind to go without brackets: 0 where the pattern has its own
    binds: int = TIGHT  # how tightly the result binds (a negation: PRODUCT)

    def text(self) -> str:
        return self.pattern.format(self.arg.wrap(self.least))

    def value(self, v: Any) -> float:
        return self.apply(self.arg.value(v))

    def names(self) -> tuple[str, ...]:
        return self.arg.names()


def relu(z: float) -> float:
    """ReLU(z) = max(z, 0)."""
    return z if z > 0 else 0.0


def gate_value(z: float) -> float:
    """ReLU'(z): 1 when the neuron is on (z > 0), 0 when it is off (z = 0 counts as off, as in the notebooks)."""
    return 1.0 if z > 0 else 0.0


def _log(base: Callable[[float], float]) -> Callable[[float], float]:
    return lambda p: base(p) if p > 0 else math.nan


def ReLU(z: Expr) -> Expr:  # noqa: N802  the notes' name
    """ReLU(z)."""
    return Call("ReLU({})", relu, z)


def gate(z: Expr) -> Expr:
    """ReLU'(z), the gate: 1 or 0."""
    return Call("ReLU'({})", gate_value, z)


def exp(y: Expr) -> Expr:
    """e^y, computed as e^min(y, MAX_EXP)."""
    return Call("e^{}", lambda a: math.exp(min(a, MAX_EXP)), y, TIGHT)


def log(p: Expr) -> Expr:
    """The natural log, log p; NaN for p ≤ 0 (a student's own P may be anything)."""
    return Call("log {}", _log(math.log), p, TIGHT)


def log10(p: Expr) -> Expr:
    """log₁₀ p; NaN for p ≤ 0."""
    return Call("log10 {}", _log(math.log10), p, TIGHT)


def square(e: Expr) -> Expr:
    """e², printed as the notes do: Err²."""
    return Call("{}²", lambda a: a**2, e, TIGHT)


def absolute(e: Expr) -> Expr:
    """|e|."""
    return Call("|{}|", abs, e)


def note(e: Expr, words: str) -> Expr:
    """e with a remark printed after it ("(natural log)"); its value is e's."""
    return Call("{} " + words, lambda a: a, e, 0, e.binds)


def total(terms: Sequence[Expr]) -> Expr:
    """t1 + t2 + ...: the terms added from the left."""
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


ONE = Num(1.0, "1")
HALF = Num(0.5, "½")
