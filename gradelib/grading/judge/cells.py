"""Reading notebook cells as code: gradelib.grade calls in test cells, the names a cell reads and binds,
and the slice of the given code that a student's function needs.

All of it is static (ast, symtable, IPython's own transformation of magics):
nothing here runs a cell.
"""

from __future__ import annotations

import ast
import symtable
import tokenize
from collections.abc import Sequence
from typing import Any, NamedTuple

from ...exercises import EXERCISES, NETWORKS


class GradeCall(NamedTuple):
    """gradelib.grade("<exercise>", <function>, seed=..., reveal=...) as written in a test cell."""

    exercise: str  # a name of gradelib.exercises.EXERCISES
    function: str  # the student's function it checks
    seed: int  # the test points' seed
    reveal: bool  # whether the feedback may show expected values


def grade_calls(source: str) -> list[GradeCall]:
    """The gradelib.grade calls in an instructor's test cell; [] if it has none we can read."""
    tree = parse(to_python(source))
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_grade(node.func) and len(node.args) >= 2):
            continue
        ex, fn = node.args[0], node.args[1]
        if not (isinstance(ex, ast.Constant) and ex.value in EXERCISES and isinstance(fn, ast.Name)):
            continue
        kw = {k.arg: k.value for k in node.keywords}
        seed = kw.get("seed", ast.Constant(0))
        reveal = kw.get("reveal", ast.Constant(False))
        if not (isinstance(seed, ast.Constant) and type(seed.value) is int and isinstance(reveal, ast.Constant)):
            continue
        found.append(GradeCall(ex.value, fn.id, seed.value, bool(reveal.value)))
    return found


def _is_grade(func, name="grade"):
    return (
        isinstance(func, ast.Attribute)
        and func.attr == name
        and isinstance(func.value, ast.Name)
        and func.value.id == "gradelib"
    ) or (isinstance(func, ast.Name) and func.id == name)


class HandCall(NamedTuple):
    """gradelib.grade_by_hand("<network>", <student id>, <function>, points=...) as written in a test cell.

    The student id the cell passes is not kept: the grader marks against the
    numbers of the student it grades.
    """

    network: str  # a name of gradelib.exercises.NETWORKS
    function: str  # the student's function that returns the hand-worked values
    steps: object = None  # the graded steps as the cell's steps= gives them: a list of keys, "all", or None


def hand_calls(source: str) -> list[HandCall]:
    """The gradelib.grade_by_hand calls in an instructor's test cell; [] if it has none we can read.

    A steps= keyword is read only as a literal ("all", a list of keys): a call whose steps= is anything else is
    not one we can read, since the grader cannot know which steps the kernel graded.
    """
    tree = parse(to_python(source))
    found = []
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and _is_grade(node.func, "grade_by_hand") and len(node.args) >= 3:
            net, fn = node.args[0], node.args[2]
            kw = {k.arg: k.value for k in node.keywords}
            try:
                chosen = ast.literal_eval(kw["steps"]) if "steps" in kw else None
            except ValueError:
                continue
            if isinstance(net, ast.Constant) and net.value in NETWORKS and isinstance(fn, ast.Name):
                found.append(HandCall(net.value, fn.id, list(chosen) if isinstance(chosen, tuple) else chosen))
    return found


def parse(source: str) -> ast.Module | None:
    """The cell's syntax tree, or None where it is not Python (a student's broken cell)."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


_TRANSFORMER = None


def to_python(source: str) -> str:
    """A cell's source as plain Python: IPython's own transformation of magics and shell escapes."""
    global _TRANSFORMER
    if "%" not in source and "!" not in source and "?" not in source:
        return source
    if _TRANSFORMER is None:
        from IPython.core.inputtransformer2 import TransformerManager

        _TRANSFORMER = TransformerManager()
    try:
        return _TRANSFORMER.transform_cell(source)
    except (SyntaxError, ValueError, tokenize.TokenError):
        return source  # not Python even after IPython's transforms: the caller's parse says so


# ---------------------------------------------------------------- which cells the verifier runs
def names(source: str) -> tuple[set[str], set[str]]:
    """(names the cell reads from the notebook's globals, names it binds or changes there)."""
    try:
        top = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return set(), set()
    used, bound = set(), set()
    for s in top.get_symbols():
        if s.is_referenced():
            used.add(s.get_name())
        if s.is_assigned() or s.is_imported():
            bound.add(s.get_name())
    todo = list(top.get_children())
    while todo:
        t = todo.pop()
        for s in t.get_symbols():
            if s.is_global() and s.is_referenced():
                used.add(s.get_name())
            if s.is_declared_global() and s.is_assigned():
                bound.add(s.get_name())
        todo += t.get_children()
    tree = parse(source)
    for node in tree.body if tree else []:
        if isinstance(node, (ast.ImportFrom,)) and any(a.name == "*" for a in node.names):
            bound.add("*")
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            while isinstance(target, (ast.Attribute, ast.Subscript)):  # params["w1"] = ... changes params
                target = target.value
            if isinstance(target, ast.Name):
                bound.add(target.id)
    return used, bound


def units(source: str) -> list[Any]:
    """A cell's top-level statements as [(source, used, bound)], an import split name by name.

    The unit of slicing: from ``from gradelib.draw import draw_network, new_figure``
    a function that needs neither name costs no import of matplotlib.
    """
    tree = parse(source)
    if tree is None:
        return [(source, *names(source))]
    found = []
    for node in tree.body:
        parts = [node]
        if isinstance(node, (ast.Import, ast.ImportFrom)) and len(node.names) > 1:
            parts = [type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": [a]}) for a in node.names]
        for part in parts:
            text = ast.unparse(part)
            found.append((text, *names(text)))
    return found


def slice_given(student_sources: Sequence[str], given: Any, probe_functions: Any) -> dict[int, str]:
    """{index: source}: the statements of the given (instructor) cells that the student's code needs.

    given: [(index, source)].  A statement is needed when it binds (or changes)
    a name that the student's cells, a needed statement or a tested function
    reads.  Cells that only draw, train or show a widget bind nothing the
    student's functions read, so the verifier does not run them.
    """
    needed = set(probe_functions)
    for source in student_sources:
        needed |= names(source)[0]
    pieces = {(i, j): unit for i, src in given for j, unit in enumerate(units(src))}
    chosen, changed = set(), True
    while changed:
        changed = False
        for key, (_, used, bound) in pieces.items():
            if key not in chosen and (bound & needed or "*" in bound):
                chosen.add(key)
                needed |= used
                changed = True
    out: dict[int, str] = {}
    for i, j in sorted(chosen):
        out[i] = out[i] + "\n" + pieces[(i, j)][0] if i in out else pieces[(i, j)][0]
    return out
