"""gradelib's structure (issue 20, items 5 and 6): no import cycle, no twin file names under gradelib/grading/,
and the share of fully annotated public functions (at least MIN_ANNOTATED).

Read from the source with ast, so nothing of gradelib is imported here.
"""

import ast
import sys
from pathlib import Path


GRADELIB = Path(__file__).resolve().parent.parent / "gradelib"
MIN_ANNOTATED = 0.9


def modules(root=GRADELIB):
    """Every module of gradelib: dotted name -> (path, whether it is a package's __init__)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def import_graph(mods):
    """Module -> the gradelib modules it imports, at the top or in a function.

    `from pkg import name` depends on pkg (its __init__), or on pkg.name where that is a module; an import of
    a.b.c also imports a and a.b (except the importer's own packages, imported before it anyway).
    """
    graph = {}
    for name, (path, package) in mods.items():
        here = name if package else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = here.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
                # the package itself only when a name is not one of its modules
                targets = submodules + ([base] if len(submodules) < len(node.names) else [])
            else:
                continue
            for target in targets:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    dep = ".".join(parts[:i])
                    implicit = i < len(parts)
                    if dep in mods and dep != name and not (implicit and name.startswith(dep + ".")):
                        edges.add(dep)
        graph[name] = edges
    return graph


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan), and modules importing themselves."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in graph:
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def test_no_import_cycle_in_gradelib():
    assert cycles(import_graph(modules())) == []


def test_the_cycle_check_finds_a_cycle(tmp_path):
    """The check itself: a late import closing a loop through a package's __init__ is found."""
    pkg = tmp_path / "gradelib" / "byhand"
    pkg.mkdir(parents=True)
    (tmp_path / "gradelib" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .marking import mark\n")
    (pkg / "marking.py").write_text("from .graded import answers_of\n")
    (pkg / "graded.py").write_text("def grade():\n    from . import mark\n")
    (pkg / "alone.py").write_text("from . import graded\n")
    assert cycles(import_graph(modules(tmp_path / "gradelib"))) == [
        ["gradelib.byhand", "gradelib.byhand.graded", "gradelib.byhand.marking"]
    ]


def twin_key(stem):
    """Names that say the same thing: verdict/verdicts, marking/marking."""
    return stem.lower().replace("_", "").removesuffix("s")


def test_no_twin_file_names_under_grading():
    everything = [p for p in GRADELIB.rglob("*.py") if p.stem not in ("__init__", "__main__")]
    packages = {p.parent for p in GRADELIB.rglob("__init__.py")}
    twins = []
    for path in everything:
        if GRADELIB / "grading" not in path.parents:
            continue
        for other in everything:
            if other != path and twin_key(other.stem) == twin_key(path.stem):
                twins.append((str(path.relative_to(GRADELIB)), str(other.relative_to(GRADELIB))))
        for package in packages:
            if twin_key(package.name) == twin_key(path.stem):
                twins.append((str(path.relative_to(GRADELIB)), str(package.relative_to(GRADELIB)) + "/"))
    assert twins == []


def public_functions(tree):
    """(function, is a method) for the module's public functions and the public methods of its public classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node, False
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and not sub.name.startswith("_"):
                    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in sub.decorator_list)
                    yield sub, not static


def fully_annotated(fn, method):
    """Every parameter (but a method's self or cls) and the return annotated."""
    a = fn.args
    params = a.posonlyargs + a.args + a.kwonlyargs
    if method and params:
        params = params[1:]
    params += [p for p in (a.vararg, a.kwarg) if p]
    return fn.returns is not None and all(p.annotation is not None for p in params)


def annotated_share(root=GRADELIB):
    done, missing = 0, []
    for path in sorted(root.rglob("*.py")):
        for fn, method in public_functions(ast.parse(path.read_text(encoding="utf-8"))):
            if fully_annotated(fn, method):
                done += 1
            else:
                missing.append(f"{path.relative_to(root.parent)}:{fn.lineno} {fn.name}")
    return done / max(1, done + len(missing)), missing


def test_the_annotation_count_reads_signatures():
    tree = ast.parse(
        "def a(x: int) -> int: ...\n"
        "def b(x) -> int: ...\n"
        "def _c(x): ...\n"
        "class K:\n    def m(self, y: str) -> None: ...\n    def n(self, *args): ...\n"
    )
    assert [(fn.name, fully_annotated(fn, m)) for fn, m in public_functions(tree)] == [
        ("a", True),
        ("b", False),
        ("m", True),
        ("n", False),
    ]


def test_most_public_functions_are_annotated():
    share, missing = annotated_share()
    assert share >= MIN_ANNOTATED, f"{share:.2f} of public functions fully annotated; not yet: {missing[:20]}"
