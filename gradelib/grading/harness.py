"""The student's side of verification: run the cells, call the function, print plain numbers.

This file is run as a script, ``python -I harness.py``, in a fresh process with
a clean environment and a temporary working directory (see
gradelib.grading.isolate).  It reads one JSON job from stdin:

    {"limits": {...}, "steps": [{"cell": i, "source": "..."},
                                {"probe": "id", "function": "name", "kind": "network",
                                 "keys": [...], "calls": [[args], ...], "tolerate": [...]}, ...]}

runs the cells in order in one namespace, as a kernel would, and at each probe
calls the named function at the given arguments.  For every probe it writes
one JSON line to its original stdout: the answers as plain floats, or the
sentence saying what was wrong with them.  Everything the student's code
prints goes to /dev/null.

Nothing here is trusted by the grader: the student's code shares this process
and may change anything in it.  The grader reads only numbers from these lines
and judges them itself against the oracle, at points that it chose.
"""
import json
import os
import resource
import signal
import sys


class CellTimeout(BaseException):
    """BaseException, so that a cell's ``except Exception`` cannot swallow it."""


def limit_resources(limits):
    """Memory, CPU time, file size and core dumps, as far as this system allows."""
    wanted = [(resource.RLIMIT_AS, limits.get("memory_bytes")),
              (resource.RLIMIT_CPU, limits.get("cpu_seconds")),
              (resource.RLIMIT_FSIZE, limits.get("file_bytes")),
              (resource.RLIMIT_CORE, 0)]
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


def _withdraw_oracle():
    """gradelib's numerical gradient and checker answer nothing here: NaN and "not available".

    In the kernel gradelib refuses to answer inside the function it checks; a
    notebook can switch that guard off there.  Here the oracle is simply absent,
    so a function that borrows it returns NaN, while a cell that calls
    gradelib.check at top level still runs to its end.
    """
    import math

    import numpy as np

    import gradelib
    from gradelib import oracle
    from gradelib.result import Result
    check_module, diagnose_module = sys.modules["gradelib.check"], sys.modules["gradelib.diagnose"]

    def numerical_gradient(exercise, x, params, target):
        return {k: math.nan for k in params}

    def loss_gradients(net, X, P, T, ops=None):
        return {k: np.full(np.shape(P[k]), np.nan) for k in net.params}

    def check(exercise, fn, *args, **kwargs):
        return Result(str(exercise), False, ["gradelib's checker is not available while grading."])

    for module in (gradelib, oracle):
        module.numerical_gradient = numerical_gradient
    for module in (oracle, check_module, diagnose_module):
        module.loss_gradients = loss_gradients
    gradelib.check = gradelib.grade = check_module.check = check_module.grade = check


def main():
    job = json.loads(sys.stdin.read())
    if job.get("job_file"):
        try:
            os.unlink(job["job_file"])   # what the grader asked is no business of the cells
        except OSError:
            pass
    limit_resources(job.get("limits", {}))
    import builtins
    import types

    from gradelib.oracle import GUARD
    from gradelib.student import Problem, call, read_dict, read_vector

    _withdraw_oracle()
    # The only channel back to the grader is a copy of the original stdout; fd 0,
    # 1 and 2 now lead nowhere, so nothing the cells print can look like an answer.
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)

    cell_seconds = float(job.get("limits", {}).get("cell_seconds", 60))
    main_module = types.ModuleType("__main__")
    sys.modules["__main__"] = main_module
    ns = main_module.__dict__
    ns["get_ipython"] = _Anything()
    builtins.display = _display

    def ring(signum, frame):
        # repeat every second, so that a loop that catches the first one still ends
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        raise CellTimeout()

    def emit(record):
        out.write(json.dumps(record) + "\n")
        out.flush()

    errors = []
    for step in job["steps"]:
        if "cell" in step:
            try:
                code = compile(step["source"], f"<cell {step['cell']}>", "exec")
                signal.signal(signal.SIGALRM, ring)
                signal.setitimer(signal.ITIMER_REAL, cell_seconds)
                try:
                    exec(code, ns)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except BaseException as exc:  # a failing cell, as in a kernel: note it and go on
                errors.append([step["cell"], type(exc).__name__])
            continue
        emit(probe(step, ns, GUARD, call, read_dict, read_vector, Problem))
    emit({"done": True, "cell_errors": errors})


def probe(step, ns, GUARD, call, read_dict, read_vector, Problem):
    """Call ns[function] at every argument list of the step: its answers as plain floats."""
    name = step["function"]
    fn = ns.get(name)
    record = {"probe": step["probe"]}
    if fn is None:
        record["missing"] = f"{name} is not defined at this test cell"
        return record
    shown = f"{name}()"
    tolerate = set(step.get("tolerate", ()))
    calls = []
    GUARD.asked = False
    for i, args in enumerate(step["calls"]):
        if step["kind"] == "softmax":
            import numpy as np
            args = (np.array(args[0], dtype=float),)
        else:
            args = (tuple(args[0]), dict(args[1])) + tuple(args[2:])
        c = call(fn, args, shown)
        try:
            if c.problem:
                raise c.problem
            if step["kind"] == "softmax":
                values = read_vector(c.value, len(args[0]), shown)
            else:
                answer = read_dict(c.value, step["keys"], shown, step["what"])
                values = [answer[k] for k in step["keys"]]
            calls.append({"values": values})
        except Problem as p:
            calls.append({"problem": [p.mistake, p.sentence]})
            if i not in tolerate:
                break
        if GUARD.asked:
            break
    record["calls"] = calls
    record["asked"] = bool(GUARD.asked)
    return record


if __name__ == "__main__":
    main()
