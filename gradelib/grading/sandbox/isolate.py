"""Run a student's cells in a fresh, isolated process and read back plain numbers.

The process is ``python -I gradelib/grading/sandbox/harness.py``: isolated mode (no
user site, no PYTHON* variables, no script directory on the path), a clean
environment, a temporary working directory that is deleted afterwards, its own
session (so that whatever it starts is killed with it), and limits on memory,
CPU time and file size.  The job goes in through a file on stdin; the answers
come back through a file on stdout, read up to a size limit and parsed as
JSON, never unpickled.  The grader's memory is out of the student's reach: the
only thing that crosses is text, and the text is checked field by field.

With a sandbox (sandbox.Sandbox, enabled), the process runs inside the grading
sandbox: it sees a copy of the instructor's support files as its working
directory, and nothing else of the machine.  The job and the answers stay
outside the folder it sees: they pass through its stdin and stdout only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...student import MAX_ANSWERS, Unusual
from . import box as sandbox

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
MAX_OUTPUT = 4 * 1024 * 1024  # bytes of answers read back; honest answers take a few kB
MAX_TEXT = 400  # characters kept of a sentence written by the student's process


@dataclass
class Limits:
    cell_seconds: float = 60.0  # one cell, as nbgrader's Execute.timeout
    total_seconds: float = 300.0  # the whole run, however many cells
    memory_bytes: int = 2 * 1024**3  # address space of the process
    file_bytes: int = 16 * 1024**2  # largest file it may write


@dataclass
class Run:
    """What came back from the verifier's process."""

    probes: dict = field(default_factory=dict)  # probe id -> its answers, checked field by field (see parse)
    finished: bool = False  # the harness said it was done
    reason: str = ""  # why it did not finish, in words
    seconds: float = 0.0  # how long the process took
    stderr_tail: str = ""  # for the grading log only: how the process itself failed


def clean_env(home: str) -> dict[str, str]:
    """The few variables a Python process needs; nothing of the grader's environment."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": home,
        # one thread each, so that a small class of processes does not oversubscribe the cores
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return env


def run(
    steps: Sequence[Any], limits: Any = None, files_from: str | None = None, box: Any = None, student: str = ""
) -> Run:
    """Run the steps (cells and probes, see harness.py) in a fresh process; return a Run.

    box: sandbox.Sandbox settings; the process runs in the sandbox when they are enabled.
    student: the nbgrader student id the cells may read (harness.STUDENT_VARIABLE).
    """
    limits = limits or Limits()
    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="gradelib-verify-")
    try:
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        if files_from:
            _copy_support_files(files_from, work)
        job_path = os.path.join(tmp, "job.json")
        with open(job_path, "w") as f:
            json.dump(_job(steps, job_path, student, limits), f)
        code, reason = _run_harness(tmp, work, limits, box)
        result = _read_run(tmp, code, reason, box)
        result.seconds = time.monotonic() - start
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _job(steps: Sequence[Any], job_path: str, student: str, limits: Any) -> dict:
    """What the harness reads on stdin: the steps, where its job file is, the student, and its limits."""
    return {
        "steps": steps,
        "job_file": job_path,
        "student": student,
        "limits": {
            "cell_seconds": limits.cell_seconds,
            "memory_bytes": limits.memory_bytes,
            "file_bytes": limits.file_bytes,
            "cpu_seconds": int(math.ceil(limits.total_seconds)) + 1,
        },
    }


def _run_harness(tmp: str, work: str, limits: Any, box: Any) -> tuple[int | None, str]:
    """The harness run on tmp's job.json (in the box when it is enabled), its answers and stderr kept in tmp;
    its exit code, and why it was stopped ("" unless it ran out of time).  Nothing of its group outlives it."""
    job_path = os.path.join(tmp, "job.json")
    out_path, err_path = os.path.join(tmp, "answers.jsonl"), os.path.join(tmp, "stderr")
    with open(job_path, "rb") as stdin, open(out_path, "wb") as stdout, open(err_path, "wb") as stderr:
        argv, env = [sys.executable, "-I", HARNESS], clean_env(work)
        if box is not None and box.enabled:
            argv, env = _in_box(argv, env, work, limits, box)
        proc = subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=work,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        reason = ""
        try:
            proc.wait(timeout=limits.total_seconds)
        except subprocess.TimeoutExpired:
            reason = f"it did not finish within {limits.total_seconds:g} seconds"
        finally:
            _kill_group(proc)
    return proc.returncode, reason


def _read_run(tmp: str, code: int | None, reason: str, box: Any) -> Run:
    """The Run from the harness's answers in tmp; if it did not finish, why (reason, or its exit code in words)
    and the last line of its stderr for the grading log."""
    result = parse(_read_head(os.path.join(tmp, "answers.jsonl"), MAX_OUTPUT))
    if not result.finished and not reason:
        if box is not None and box.enabled and code is not None and code > 128:
            code = 128 - code  # bwrap exits with 128 + N when what it ran was killed by signal N
        reason = _exit_reason(code)
    result.reason = reason if not result.finished else ""
    if not result.finished:
        tail = _read_head(os.path.join(tmp, "stderr"), 64 * 1024).decode("utf-8", "replace").strip().splitlines()
        result.stderr_tail = tail[-1][:MAX_TEXT] if tail else ""
    return result


def _in_box(argv, env, work, limits, settings):
    """argv and env of the verifier's process in the grading sandbox (settings: sandbox.Sandbox)."""
    os.chmod(work, 0o755)  # copied into the box by its own (unprivileged) user
    env = {k: v for k, v in env.items() if k not in ("PATH", "HOME", "TMPDIR", "MPLCONFIGDIR")}  # the box's own
    box_limits = dataclasses.replace(
        settings.limits(limits.memory_bytes),
        file_bytes=limits.file_bytes,
        cpu_seconds=int(math.ceil(limits.total_seconds)) + 1,
    )
    box = sandbox.Box(box_limits, settings.bwrap_path(), settings.user, submission=work, env=env)
    return sandbox.command(argv, box), env


def _kill_group(proc):
    """The process and anything it started in its session."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _exit_reason(code):
    if code is None:
        return "it did not finish"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = {
            "SIGXCPU": " (its CPU time ran out)",
            "SIGKILL": " (killed, e.g. for memory or time)",
            "SIGSEGV": " (a crash)",
        }.get(name, "")
        return f"the Python process running the notebook was killed by {name}{hint} before the tests ran"
    return (
        f"the Python process running the notebook died (it exited with status {code}) before the tests ran: "
        "did the notebook call exit() or os._exit()?"
    )


def _read_head(path, limit):
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return b""


def _copy_support_files(src, dst):
    """The instructor's data files of the assignment (not its notebooks), for cells that read them."""
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(".ipynb") or name.startswith("."):
                continue
            rel = os.path.relpath(os.path.join(root, name), src)
            os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
            shutil.copy(os.path.join(root, name), os.path.join(dst, rel))


def parse(data: bytes) -> Run:
    """A Run from the harness's output lines; anything malformed is left out, never trusted."""
    result = Run()
    seen: dict[Any, Any] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("done") is True:
            result.finished = True
            continue
        pid = record.get("probe")
        if not isinstance(pid, str):
            continue
        seen[pid] = seen.get(pid, 0) + 1
        clean = _clean_probe(record)
        if clean is not None:
            result.probes[pid] = clean
    # a probe answered twice was answered by someone other than the harness
    for pid, n in seen.items():
        if n != 1:
            result.probes[pid] = {"invalid": "the answers came back more than once"}
    return result


def _number(v):
    if type(v) in (int, float):
        return float(v)
    raise ValueError(v)


def _text(v):
    if not isinstance(v, str):
        raise ValueError(v)
    return v if len(v) <= MAX_TEXT else v[:MAX_TEXT] + "…"


def _answer(v):
    """One hand-worked value as harness.py sends it: a number, text, null or {"unusual": what it was}."""
    if v is None or type(v) in (int, float):
        return v if v is None else float(v)
    if isinstance(v, dict) and set(v) == {"unusual"}:
        return Unusual(_text(v["unusual"]))
    return _text(v)


def _clean_probe(record):
    """{"missing": str} or {"calls": [...], "asked": bool} with only floats and short strings."""
    try:
        if "missing" in record:
            return {"missing": _text(record["missing"])}
        calls: list[dict[str, Any]] = []
        for c in record["calls"]:
            if set(c) == {"values"}:
                calls.append({"values": [_number(v) for v in c["values"]]})
            elif set(c) == {"answers"} and isinstance(c["answers"], dict) and len(c["answers"]) <= MAX_ANSWERS:
                calls.append({"answers": {_text(k): _answer(v) for k, v in c["answers"].items()}})
            elif set(c) == {"problem"} and len(c["problem"]) == 2:
                calls.append({"problem": [_text(c["problem"][0]), _text(c["problem"][1])]})
            else:
                raise ValueError(c)
        if type(record.get("asked")) is not bool:
            raise ValueError("asked")
        return {"calls": calls, "asked": record["asked"]}
    except (KeyError, TypeError, ValueError):
        return {"invalid": "the answers were not in the expected form"}
