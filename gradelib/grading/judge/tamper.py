"""A static look at a student's cells for what an honest answer never needs.

Nothing here changes a score: the findings go to the grading log and mark the
following test cells for a manual look.  Each finding names the cell, the line
and the construct in words, e.g. "line 3: assigns math.isclose".

What is looked for (an honest derivation of backprop needs none of it):
- the IPython shell itself: get_ipython() beyond running a magic (input
  transformers, exception handlers, events, ...), and magics that reconfigure it;
- assigning, deleting or setattr-ing attributes of math, numpy, builtins,
  gradelib and the other modules the tests rely on, or their __dict__;
- sys.modules, os._exit / os.kill / os.abort, signal handlers, frames and the
  garbage collector (sys._getframe, inspect.currentframe, gc.get_referrers),
  ctypes, exec / eval / compile / __import__;
- classes that override comparison, conversion or arithmetic (__eq__, __float__,
  __array_ufunc__, ...) or derive from float, int, dict or ndarray.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from .cells import parse

WATCHED = {
    "math",
    "cmath",
    "numpy",
    "builtins",
    "gradelib",
    "sys",
    "os",
    "IPython",
    "ipykernel",
    "operator",
    "nbgrader",
    "signal",
    "json",
    "types",
    "importlib",
    "inspect",
    "gc",
    "unittest",
    "numbers",
    "traitlets",
    "warnings",
    "contextlib",
    "abc",
    "decimal",
    "fractions",
}
SHELL_OK = {"run_line_magic", "run_cell_magic", "system", "getoutput"}
MAGICS = {
    "config",
    "load_ext",
    "reload_ext",
    "run",
    "load",
    "alias_magic",
    "xmode",
    "capture",
    "autoawait",
    "autocall",
    "automagic",
    "doctest_mode",
    "reset",
    "reset_selective",
    "killbgscripts",
}
CALLS = {
    "os._exit": "ends the process (os._exit)",
    "os.kill": "sends a signal (os.kill)",
    "os.killpg": "sends a signal (os.killpg)",
    "os.abort": "aborts the process (os.abort)",
    "os.fork": "forks the process",
    "os.setsid": "leaves the process group",
    "os.write": "writes to a raw file descriptor",
    "os.dup2": "redirects a file descriptor",
    "os.closerange": "closes file descriptors",
    "signal.signal": "installs a signal handler",
    "signal.setitimer": "sets a timer signal",
    "signal.alarm": "sets a timer signal",
    "signal.pthread_kill": "sends a signal",
    "sys._getframe": "reads the caller's frame (sys._getframe)",
    "sys.settrace": "installs a tracer",
    "sys.setprofile": "installs a profiler",
    "inspect.currentframe": "reads the current frame",
    "inspect.stack": "reads the call stack",
    "gc.get_referrers": "searches the garbage collector",
    "gc.get_objects": "searches the garbage collector",
    "gc.get_referents": "searches the garbage collector",
    "importlib.reload": "reloads a module",
    "atexit.register": "registers an exit handler",
    "builtins.exec": "runs code from a string",
    "builtins.eval": "runs code from a string",
    "builtins.compile": "compiles code from a string",
    "builtins.__import__": "imports by name",
    "builtins.setattr": None,
    "builtins.delattr": None,  # judged by their first argument below
}
NAMES = {
    "sys.modules": "touches sys.modules",
    "sys.excepthook": "touches sys.excepthook",
    "sys.displayhook": "touches sys.displayhook",
    "sys.meta_path": "touches the import system",
    "sys.path_hooks": "touches the import system",
    "builtins.__dict__": "touches the builtins' dict",
}
IMPORTS = {"ctypes": "imports ctypes (raw memory access)", "gc": None, "inspect": None}
DUNDERS = {
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__hash__",
    "__bool__",
    "__float__",
    "__int__",
    "__index__",
    "__complex__",
    "__round__",
    "__abs__",
    "__neg__",
    "__pos__",
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
    "__pow__",
    "__rpow__",
    "__array__",
    "__array_ufunc__",
    "__array_function__",
    "__array_priority__",
    "__getattr__",
    "__getattribute__",
    "__instancecheck__",
    "__subclasscheck__",
    "__class__",
    "__len__",
    "__iter__",
    "__getitem__",
    "__contains__",
    "__format__",
}
BUILTIN_NAMES = {"exec", "eval", "compile", "__import__", "setattr", "delattr", "type", "vars"}
BASES = {
    "float",
    "int",
    "dict",
    "list",
    "tuple",
    "complex",
    "str",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.generic",
    "type",
    "Exception",
    "BaseException",
    "AssertionError",
}


@dataclass(frozen=True)
class Finding:
    cell: int  # index of the cell in the notebook
    line: int  # line within the cell
    what: str  # the construct, in words

    def __str__(self):
        return f"cell {self.cell}, line {self.line}: {self.what}"


def module_aliases(sources: Iterable[str]) -> dict[str, str]:
    """{local name: dotted module path} from every import in the notebook (instructor's cells too)."""
    aliases = {"__builtins__": "builtins", "get_ipython": "IPython.get_ipython"}
    for source in sources:
        tree = parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        aliases[a.asname] = a.name
                    else:
                        root = a.name.split(".")[0]
                        aliases[root] = root
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if a.name != "*":
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def scan(cells: Iterable[tuple[int, str]], aliases: dict[str, str]) -> list[Finding]:
    """[Finding] for cells = [(index, python source)]; aliases from module_aliases()."""
    findings = []
    for index, source in cells:
        tree = parse(source)
        if tree is not None:
            findings += _Scanner(index, aliases).run(tree)
    return findings


class _Scanner(ast.NodeVisitor):
    def __init__(self, cell, aliases):
        self.cell, self.aliases, self.found = cell, aliases, []
        self.shells = set()  # local names bound to get_ipython()

    def run(self, tree):
        # names bound to the shell anywhere in the cell, e.g. ip = get_ipython()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and self._is_shell(node.value):
                self.shells.update(t.id for t in node.targets if isinstance(t, ast.Name))
        self.visit(tree)
        unique = list(dict.fromkeys(self.found))
        return unique

    def flag(self, node, what):
        self.found.append(Finding(self.cell, getattr(node, "lineno", 0), what))

    # --- what names mean ---
    def dotted(self, node):
        """'numpy.allclose' for np.allclose (with np an alias of numpy); None if not rooted in a known name."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.aliases:
            root = self.aliases[node.id]
        elif node.id in BUILTIN_NAMES:
            root = f"builtins.{node.id}"
        else:
            return None
        return ".".join([root] + parts[::-1])

    def watched(self, path):
        return path is not None and path.split(".")[0] in WATCHED

    def _is_shell(self, node):
        return isinstance(node, ast.Call) and not node.args and (self.dotted(node.func) or "").endswith("get_ipython")

    # --- visitors ---
    def visit_Import(self, node):
        for a in node.names:
            what = IMPORTS.get(a.name.split(".")[0])
            if what:
                self.flag(node, what)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        what = IMPORTS.get((node.module or "").split(".")[0])
        if what:
            self.flag(node, what)

    def visit_Attribute(self, node):
        shell = self._is_shell(node.value) or (isinstance(node.value, ast.Name) and node.value.id in self.shells)
        if shell and node.attr not in SHELL_OK:
            self.flag(node, f"reaches into the IPython shell (get_ipython().{node.attr})")
        path = self.dotted(node)
        if path in NAMES:
            self.flag(node, NAMES[path])
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._store(node, node)
        self.generic_visit(node)

    def visit_Subscript(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            path = self.dotted(base)
            if isinstance(base, ast.Call) and self.dotted(base.func) == "builtins.vars" and base.args:
                path = self.dotted(base.args[0])
                if self.watched(path):
                    self.flag(node, f"changes the namespace of {path}")
            elif (
                path
                and self.watched(path)
                and (path.endswith("__dict__") or path in ("sys.modules",) or path.split(".")[0] == "builtins")
            ):
                self.flag(node, f"changes {path}[...]")
        self.generic_visit(node)

    def _store(self, node, target):
        path = self.dotted(target)
        if self.watched(path):
            verb = "deletes" if isinstance(target.ctx, ast.Del) else "assigns"
            self.flag(node, f"{verb} {path}")
        elif isinstance(target, ast.Attribute) and target.attr in DUNDERS:
            self.flag(node, f"assigns {target.attr} on an object")

    def visit_Call(self, node):
        path = self.dotted(node.func)
        if path in CALLS and CALLS[path]:
            self.flag(node, CALLS[path])
        if path in ("builtins.setattr", "builtins.delattr") and node.args:
            target = self.dotted(node.args[0])
            if self.watched(target):
                self.flag(node, f"calls {path.split('.')[1]}() on {target}")
            elif len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value in DUNDERS:
                self.flag(node, f"sets {node.args[1].value} on an object")
        if path == "builtins.type" and len(node.args) == 3:
            self.flag(node, "creates a class with type(name, bases, dict)")
        # magics arrive as get_ipython().run_line_magic('name', ...) after IPython's transformation
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in ("run_line_magic", "run_cell_magic")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in MAGICS
        ):
            self.flag(node, f"uses the %{node.args[0].value} magic")
        if path and (
            path.startswith("gradelib.")
            and path.split(".")[-1] in ("numerical_gradient", "check", "grade")
            and self._inside_function
        ):
            self.flag(node, f"calls {path} inside a function")
        self.generic_visit(node)

    _inside_function = False

    def visit_FunctionDef(self, node):
        outer, self._inside_function = self._inside_function, True
        self.generic_visit(node)
        self._inside_function = outer

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_ClassDef(self, node):
        for base in node.bases:
            path = self.dotted(base) or (base.id if isinstance(base, ast.Name) else None)
            if path in BASES or (isinstance(base, ast.Name) and base.id in BASES):
                self.flag(node, f"defines class {node.name} derived from {path}")
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in DUNDERS:
                self.flag(item, f"defines class {node.name} overriding {item.name}")
            elif isinstance(item, ast.Assign):
                for t in item.targets:
                    if isinstance(t, ast.Name) and t.id in DUNDERS:
                        self.flag(item, f"defines class {node.name} overriding {t.id}")
        self.generic_visit(node)
