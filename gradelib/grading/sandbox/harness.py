"""The student's side of verification: run the cells, call the function, print plain numbers.

This file is run as a script, ``python -I harness.py``, in a fresh process with
a clean environment and a temporary working directory (see
gradelib.grading.sandbox.isolate).  It reads one JSON job from stdin:

    {"limits": {...}, "steps": [{"cell": i, "source": "..."},
                                {"probe": "id", "function": "name", "kind": "gradient",
                                 "keys": [...], "calls": [[args], ...], "tolerate": [...]}, ...]}

runs the cells in order in one namespace, as a kernel would, and at each probe
calls the named function at the given arguments.  For every probe it writes
one JSON line to its original stdout: the answers as plain floats, or the
sentence saying what was wrong with them (and, as "cells_failed", the cells
before it that raised or ran out of time, by the name of what stopped them).
Everything the student's code prints goes to /dev/null.

Nothing here is trusted by the grader: the student's code shares this process
and may change anything in it.  The grader reads only numbers from these lines
and judges them itself against the oracle, at points that it chose.
"""

import json
import os
import resource
import signal
import sys
from dataclasses import dataclass, field

# This script runs as `python -I harness.py`: its own folder is not on sys.path.  It imports the gradelib it is
# part of (the grader's, the folder the box binds), not whichever one the environment installed: a venv made
# for another copy of the course would point elsewhere, or at a folder the box does not show.
_GRADELIB_HOME = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, _GRADELIB_HOME)
import gradelib  # noqa: E402,F401  (its submodules follow gradelib.__path__ from here on)

sys.path.remove(_GRADELIB_HOME)  # nothing else of that folder is importable
from gradelib import oracle  # noqa: E402  (these follow the sys.path set above: the grader's own gradelib)
from gradelib.kinds import KINDS, Shape, ask  # noqa: E402

# Where gradelib.byhand.my_id() finds the id of the student being graded, so that cells which work out the
# personal numbers from it see the grader's student (the grader's marking never reads it back).
STUDENT_VARIABLE = "GRADELIB_STUDENT_ID"
# One cell's limit when the job names none: nbgrader's default Execute.timeout, which the grader normally sends.
CELL_SECONDS = 60.0
# After a cell's limit rings, it rings again this often, so that a loop which catches the first still ends.
RING_AGAIN_SECONDS = 1.0
NAME_CHARACTERS = 80  # of a failing cell's exception type named in "cells_failed": a class name can be any length


class CellTimeout(BaseException):
    """BaseException, so that a cell's ``except Exception`` cannot swallow it."""


@dataclass(frozen=True)
class Cell:
    """A cell to run, as a kernel would: its index in the notebook and its source."""

    index: int
    source: str


@dataclass(frozen=True)
class Probe:
    """One function to call at the grader's points; kind: its exercise's kind, a key of gradelib.kinds.KINDS."""

    id: str
    function: str
    kind: str
    calls: list  # the kind's cases, plain JSON: [x, params, target(, eta)], [logits], [coefficients, x], ...
    keys: list = field(default_factory=list)  # a dict answer's keys, in the order its floats go back
    what: str = ""  # what the dict holds, for the feedback: "gradients" or "new parameters"
    tolerate: frozenset = frozenset()  # calls whose problem does not stop the probe (huge logits)

    @classmethod
    def from_json(cls, step):
        return cls(
            id=step["probe"],
            function=step["function"],
            kind=step["kind"],
            calls=step["calls"],
            keys=step.get("keys", []),
            what=step.get("what", ""),
            tolerate=frozenset(step.get("tolerate", ())),
        )

    @property
    def shape(self) -> Shape:
        """What a dict answer holds, as the grader said."""
        return Shape(tuple(self.keys), self.what)


@dataclass(frozen=True)
class Job:
    """What the grader asks: resource limits, cells and probes in notebook order, and the file it came in."""

    limits: dict
    steps: list  # Cell and Probe records
    job_file: str = ""
    student: str = ""  # the nbgrader student id, for gradelib.byhand.my_id() in the cells

    @classmethod
    def from_json(cls, job):
        steps = [
            Cell(step["cell"], step["source"]) if "cell" in step else Probe.from_json(step) for step in job["steps"]
        ]
        return cls(job.get("limits", {}), steps, job.get("job_file") or "", job.get("student") or "")

    @property
    def cell_seconds(self):
        return float(self.limits.get("cell_seconds", CELL_SECONDS))


def limit_resources(limits):
    """Memory, CPU time, file size and core dumps, as far as this system allows."""
    wanted = [
        (resource.RLIMIT_AS, limits.get("memory_bytes")),
        (resource.RLIMIT_CPU, limits.get("cpu_seconds")),
        (resource.RLIMIT_FSIZE, limits.get("file_bytes")),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in wanted:
        if value is None:
            continue
        try:
            soft, hard = resource.getrlimit(which)
            value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass  # a limit this system refuses; the grader's wall-clock limit still holds


class _Anything:
    """What get_ipython() and its attributes return here: callable, and doing nothing.

    A notebook's magics arrive as get_ipython().run_line_magic(...) calls; outside
    a kernel they have nothing to act on.  A cell that reaches for the shell's
    input transformers gets this inert object and changes nothing.
    """

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything()

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False


def _display(*objs, **kwargs):
    """IPython's display() outside a kernel: nothing to show."""


def _answer_channel():
    """A copy of the original stdout, the only channel back to the grader; fd 0, 1 and 2 then lead nowhere,
    so nothing the cells print can look like an answer."""
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    return out


def _namespace():
    """A fresh __main__, as a kernel's, with inert get_ipython() and display()."""
    import builtins
    import types

    main_module = types.ModuleType("__main__")
    sys.modules["__main__"] = main_module
    ns = main_module.__dict__
    ns["get_ipython"] = _Anything()
    builtins.display = _display  # type: ignore[attr-defined]  # a kernel's builtin, absent here
    return ns


def run_cell(cell: Cell, ns: dict, seconds: float) -> str | None:
    """Run one cell in ns within seconds; a failing cell is as in a kernel: the next one runs all the same.

    Returns the name of what stopped the cell (its exception's type, or CellTimeout), None when it ran through.
    """

    def ring(signum, frame):
        signal.setitimer(signal.ITIMER_REAL, RING_AGAIN_SECONDS)
        raise CellTimeout()

    try:
        code = compile(cell.source, f"<cell {cell.index}>", "exec")
        signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            exec(code, ns)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except BaseException as error:  # noqa: BLE001  (the cell's own error or its time limit, as in a kernel)
        # the grader judges only the probes' answers: the cells after it and the probes run all the same, and
        # main() names it in the next probe's record
        return type(error).__name__[:NAME_CHARACTERS]
    return None


def main():
    job = Job.from_json(json.loads(sys.stdin.read()))
    if job.job_file:
        try:
            os.unlink(job.job_file)  # what the grader asked is no business of the cells
        except OSError:
            pass  # already gone: nothing for the cells to read either way
    limit_resources(job.limits)
    if job.student:
        os.environ[STUDENT_VARIABLE] = job.student
    # gradelib's numerical gradient and checker answer nothing here (NaN, "not available"): in the kernel
    # gradelib refuses to answer inside the function it checks, and a notebook can switch that guard off there
    oracle.withdraw()
    out = _answer_channel()
    ns = _namespace()
    failed: list[list] = []  # [cell index, what stopped it] of the cells that failed since the last probe
    for step in job.steps:
        if isinstance(step, Cell):
            stopped = run_cell(step, ns, job.cell_seconds)
            if stopped is not None:
                failed.append([step.index, stopped])
        else:
            record = probe(step, ns)
            if failed:  # for whoever reads the harness's lines; the grader keeps only the answers (isolate.parse)
                record["cells_failed"], failed = failed, []
            out.write(json.dumps(record) + "\n")
            out.flush()
    out.write(json.dumps({"done": True}) + "\n")
    out.flush()


def probe(step: Probe, ns: dict) -> dict:
    """Call ns[step.function] at every case of the step (gradelib.kinds.ask): its answers as plain values."""
    fn = ns.get(step.function)
    record: dict = {"probe": step.id}
    if fn is None:
        record["missing"] = f"{step.function} is not defined at this test cell"
        return record
    kind = KINDS[step.kind]
    with oracle.watch():
        asked = ask(kind, fn, step.calls, f"{step.function}()", step.shape, lambda i, outcome: i in step.tolerate)
    record["calls"] = [
        {"problem": [o.mistake, o.sentence]} if o.mistake is not None else {kind.answer_field: o.value}
        for o in asked.outcomes
    ]
    record["asked"] = asked.asked
    return record


if __name__ == "__main__":
    main()
