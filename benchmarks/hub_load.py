"""A class at once on the course's JupyterHub: N students log in, fetch and submit together; nothing is lost.

    sudo .venv/bin/python benchmarks/hub_load.py [--students 30] [--time-limit 900]

Loopback only, as root (it creates Unix users): course_hub/setup_course.py sets a course up in a temporary
prefix for an instructor and N students (tests/hub_util.py), the hub starts on free 127.0.0.1 ports, the
instructor releases 01_single_neuron through formgrader, and then every student at the same moment (one
thread each, released together by a barrier) starts their server through the hub, fetches the assignment,
writes an answer (every third one wrong) and submits, through their own server's nbgrader API.  The
instructor then collects and grades with classgrade as their own Unix user.

It fails (exit 1) unless every student's submission is in the exchange, collected, and graded with the
score its answer deserves.  Printed: the wall time of the burst, the slowest student (and where their time
went), the spread of the per-student times, the collect and grading times, and the peak memory of the hub,
the proxy and every server and kernel (the sum of their resident sizes, sampled every 0.2 s; shared pages
are counted once per process, so this is an upper bound) with the machine's used memory over its baseline.
Everything it made is stopped by process id and removed at the end.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import classroom  # noqa: E402
from hub_util import CourseHub, HubError, Roster, cannot_run, classgrade, set_solution_cells  # noqa: E402

ASSIGNMENT = "01_single_neuron"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
MAX_STUDENTS = 100


@dataclass
class StudentRun:
    """One student's burst: seconds for each step, and the error if a step failed."""
    name: str
    wrong: bool
    steps: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def total(self) -> float:
        return sum(self.steps.values())


class MemoryPeak(threading.Thread):
    """Samples the resident memory of the hub's process tree and the course users' processes."""

    def __init__(self, hub: CourseHub, interval: float = 0.2):
        super().__init__(daemon=True)
        self.hub, self.interval = hub, interval
        self.stopped = threading.Event()
        self.peak_rss = 0
        self.peak_processes = 0
        self.baseline_used = psutil.virtual_memory().used
        self.peak_used = self.baseline_used

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        processes = {}
        try:
            root = psutil.Process(self.hub.process.pid)
            for p in [root, *root.children(recursive=True)]:
                processes[p.pid] = p
        except (psutil.NoSuchProcess, AttributeError):
            pass
        for p in self.hub.member_processes():
            processes[p.pid] = p
        rss = 0
        for p in processes.values():
            try:
                rss += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_processes = max(self.peak_processes, len(processes))
        self.peak_used = max(self.peak_used, psutil.virtual_memory().used)

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def one_student(hub: CourseHub, run: StudentRun, answers: dict[str, str], start: threading.Barrier,
                deadline: float) -> StudentRun:
    """Log in (start the server through the hub), fetch, answer, submit; each step timed."""
    start.wait()
    try:
        t = time.monotonic()
        server = hub.spawn(run.name)
        run.steps["server start"] = time.monotonic() - t
        for step, action in (("fetch", lambda: server.action("fetch", ASSIGNMENT)),
                             ("answer", lambda: server.write_notebook(
                                 NOTEBOOK, set_solution_cells(server.read_notebook(NOTEBOOK), answers))),
                             ("submit", lambda: server.action("submit", ASSIGNMENT))):
            if time.monotonic() > deadline:
                raise HubError(f"time limit reached before {step}")
            t = time.monotonic()
            action()
            run.steps[step] = time.monotonic() - t
    except (HubError, OSError) as e:
        run.error = f"{type(e).__name__}: {str(e)[:500]}"
    return run


def burst(hub: CourseHub, students: tuple[str, ...], time_limit: float) -> tuple[list[StudentRun], float]:
    """Every student at once; the wall time from the barrier's release to the last submission."""
    solutions = classroom.source_solutions(REPO, ASSIGNMENT)
    wrong = {k: classroom.wrong(v) for k, v in solutions.items()}
    runs = [StudentRun(name, wrong=(k % 3 == 2)) for k, name in enumerate(students)]
    barrier = threading.Barrier(len(runs) + 1)
    deadline = time.monotonic() + time_limit
    hub.spawn_timeout = time_limit
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = [pool.submit(one_student, hub, r, wrong if r.wrong else solutions, barrier, deadline) for r in runs]
        barrier.wait()
        began = time.monotonic()
        results = [f.result() for f in futures]
    return results, time.monotonic() - began


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30, help=f"class size (default 30, at most {MAX_STUDENTS})")
    parser.add_argument("--time-limit", type=float, default=900,
                        help="seconds the burst may take before it counts as failed (default 900)")
    parser.add_argument("--jobs", type=int, default=2, help="classgrade's workers (default 2)")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= MAX_STUDENTS:
        parser.error(f"--students must be between 1 and {MAX_STUDENTS}")
    reason = cannot_run()
    if reason:
        print(f"hub_load: cannot run here: {reason}", file=sys.stderr)
        return 2

    hub = CourseHub(Roster.make(args.students))
    memory = None
    failures = []
    try:
        t = time.monotonic()
        hub.setup()
        setup_seconds = time.monotonic() - t
        hub.start()
        instructor = hub.spawn(hub.roster.instructor)
        instructor.formgrader("POST", f"/assignment/{ASSIGNMENT}/assign")
        instructor.formgrader("POST", f"/assignment/{ASSIGNMENT}/release")
        memory = MemoryPeak(hub)
        memory.start()

        runs, wall = burst(hub, hub.roster.students, args.time_limit)
        memory.sample()
        failures += [f"{r.name}: {r.error}" for r in runs if r.error]

        inbound = hub.exchange / "backprop-by-hand" / "inbound"
        in_exchange = {p.name.split("+")[0] for p in inbound.iterdir()}
        t = time.monotonic()
        instructor.formgrader("POST", f"/assignment/{ASSIGNMENT}/collect")
        collect_seconds = time.monotonic() - t
        collected = {p.name for p in (hub.course_folder / "submitted").iterdir()
                     if (p / NOTEBOOK).is_file()}
        t = time.monotonic()
        _, summary = classgrade(hub, ASSIGNMENT, jobs=args.jobs)
        grade_seconds = time.monotonic() - t
        memory.stop()
        graded = {row["student"]: row for row in summary}

        everyone = set(hub.roster.students)
        for label, found in (("in the exchange", in_exchange), ("collected", collected), ("graded", set(graded))):
            if found != everyone:
                failures.append(f"{len(everyone - found)} submission(s) not {label}: {sorted(everyone - found)}")
        for r in runs:
            row = graded.get(r.name)
            if row is not None:
                expected = 0 if r.wrong else row["max_score"]
                if row["score"] != expected:
                    failures.append(f"{r.name}: scored {row['score']} of {row['max_score']}, expected {expected}")

        report(args, hub, runs, wall, setup_seconds, collect_seconds, grade_seconds, memory, graded)
    finally:
        if memory is not None and memory.is_alive():
            memory.stop()
        left = hub.stop()
        hub.remove()
        if left:
            failures.append(f"processes left behind: {left}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"OK: {args.students} of {args.students} submissions in the exchange, collected and graded; none lost")
    return 0


def report(args, hub, runs, wall, setup_seconds, collect_seconds, grade_seconds, memory, graded) -> None:
    ok = [r for r in runs if not r.error]
    totals = sorted(r.total for r in ok)
    slowest = max(ok, key=lambda r: r.total) if ok else None
    mib = 1024 ** 2
    print(f"\nhub_load: {args.students} students at once on 127.0.0.1, {psutil.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 1024 ** 3:.0f} GiB")
    print(f"  setup (users, exchange, environment on the system Python): {setup_seconds:.1f} s")
    print(f"  burst (log in = start a server, fetch, answer, submit), wall time: {wall:.1f} s")
    if slowest:
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in slowest.steps.items())
        print(f"  slowest student: {slowest.total:.1f} s ({steps})")
        print(f"  per student: median {statistics.median(totals):.1f} s, fastest {totals[0]:.1f} s")
        for step in ("server start", "fetch", "answer", "submit"):
            values = [r.steps[step] for r in ok if step in r.steps]
            print(f"    {step:<12} median {statistics.median(values):6.2f} s   max {max(values):6.2f} s")
    print(f"  collect (formgrader): {collect_seconds:.2f} s; classgrade with {args.jobs} workers: {grade_seconds:.1f} s")
    print(f"  graded: {len(graded)}; full marks {sum(1 for r in graded.values() if r['score'] == r['max_score'])}, "
          f"zero {sum(1 for r in graded.values() if r['score'] == 0)}")
    print(f"  peak memory: {memory.peak_rss / mib:.0f} MiB resident in {memory.peak_processes} processes "
          f"(hub, proxy, servers, kernels); machine's used memory peaked {(memory.peak_used - memory.baseline_used) / mib:.0f} MiB "
          f"over its baseline")


if __name__ == "__main__":
    sys.exit(main())
