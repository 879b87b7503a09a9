"""Benchmark: grading a synthetic class, serial `nbgrader autograde` against the parallel class command.

    python benchmarks/class_grading.py              # 60 submissions per assignment (the full run)
    python benchmarks/class_grading.py --n 6        # a small class, for CI

It builds a course in a temporary folder from source/ (the three course
assignments; the test fixture if source/ is empty), with the verifier in the
autograding pipeline (tests/fixtures/classroom.py writes the same
nbgrader_config.py lines the course uses), and a class that mixes correct,
wrong, unanswered, broken and tampered submissions.  It reports, per assignment
and in total:

- the wall time of serial ``nbgrader autograde ASSIGNMENT --force`` and of
  ``python -m gradelib.grading.classgrade ASSIGNMENT`` (one worker per core),
  and their ratio (goal: at least 1.8 on two cores);
- the cost per notebook of grading (nbgrader's whole pipeline, verification
  included, one notebook at a time in one worker, on correct submissions so
  that every test is verified) against the floor, a fresh kernel executing the
  same submitted notebook with nbclient, outside any sandbox (goal: at most
  1.35 times the floor);
- the same cost per notebook with the sandbox switched off
  (``c.Sandbox.enabled = False``), and the sandbox's share (goal: at most 10%);
- whether both gradebooks hold exactly the same scores (they must);
- the time of the misconception report (``python -m gradelib.grading.report``) on the class.

A benchmark, not a test: the figures depend on the machine and its load.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
import classroom  # noqa: E402

COURSE_ASSIGNMENTS = ("01_single_neuron", "02_relu_chain", "03_softmax_223")
# every kind appears among the first five, so that a small class for CI has them all
KINDS = ["correct", "wrong", "broken", "tampered_transformer", "unanswered",
         "correct", "tampered_grade", "correct", "wrong", "correct"]
BROKEN = ["invalid_json", "os_exit", "deleted_test", "missing"]

# Named mistakes planted on purpose, by assignment: kind -> {solution grade_id: the student's cell}.  The
# misconception report's test (tests/test_report.py) plants them and checks that each is counted.
_SN_HEAD = """    x1, x2 = x
    z = params["w1"] * x1 + params["w2"] * x2 + params["b"]
"""
PLANTED = {"01_single_neuron": {
    # ReLU'(z) forgotten in both functions: the error flows back even where the neuron is off
    "forgot_relu": {
        "single_neuron_gradients": "def single_neuron_gradients(x, params, target):\n" + _SN_HEAD +
        "    delta = target - max(z, 0.0)\n    return {'w1': -delta * x1, 'w2': -delta * x2, 'b': -delta}\n",
        "single_neuron_update": "def single_neuron_update(x, params, target, eta):\n" + _SN_HEAD +
        "    delta = target - max(z, 0.0)\n"
        "    return {'w1': params['w1'] + eta * delta * x1, 'w2': params['w2'] + eta * delta * x2,\n"
        "            'b': params['b'] + eta * delta}\n"},
    # the gradient right, the update climbing the loss: p + η·dLoss/dp
    "ascent": {
        "single_neuron_update": "def single_neuron_update(x, params, target, eta):\n" + _SN_HEAD +
        "    delta = (target - max(z, 0.0)) * (1.0 if z > 0 else 0.0)\n"
        "    return {'w1': params['w1'] - eta * delta * x1, 'w2': params['w2'] - eta * delta * x2,\n"
        "            'b': params['b'] - eta * delta}\n"},
    # the ½ of the loss dropped: every gradient twice the right one; the update right
    "factor_2": {
        "single_neuron_gradients": "def single_neuron_gradients(x, params, target):\n" + _SN_HEAD +
        "    delta = 2 * (target - max(z, 0.0)) * (1.0 if z > 0 else 0.0)\n"
        "    return {'w1': -delta * x1, 'w2': -delta * x2, 'b': -delta}\n"},
}}


def submission(course, assignment, student, kind, number):
    """Write one student's submission of the given kind."""
    right = classroom.source_solutions(course, assignment)
    first = next(iter(right))
    if kind == "correct":
        return classroom.submit(course, student, assignment, solutions=right)
    if kind == "wrong":
        return classroom.submit(course, student, assignment, solutions={k: classroom.wrong(v) for k, v in right.items()})
    if kind == "unanswered":
        return classroom.submit(course, student, assignment)
    if kind in PLANTED.get(assignment, {}):
        return classroom.submit(course, student, assignment, solutions=dict(right, **PLANTED[assignment][kind]))
    if kind == "tampered_transformer":
        bad = {k: classroom.wrong(v) for k, v in right.items()}
        bad[first] += ("\nget_ipython().input_transformers_cleanup.append(\n"
                       "    lambda lines: [] if any('gradelib.grade' in l for l in lines) else lines)\n")
        return classroom.submit(course, student, assignment, solutions=bad)
    if kind == "tampered_grade":
        bad = {k: classroom.wrong(v) for k, v in right.items()}
        bad[first] += "\ngradelib.grade = lambda *args, **kwargs: None\n"
        return classroom.submit(course, student, assignment, solutions=bad)
    broken = BROKEN[number % len(BROKEN)]
    if broken == "invalid_json":
        return classroom.submit(course, student, assignment, raw=b'{"cells": [ truncated')
    if broken == "missing":
        return classroom.submit(course, student, assignment, raw=b"", name="Untitled")
    if broken == "os_exit":
        bad = dict(right)
        bad[first] = "import os\nos._exit(0)\n" + bad[first]
        return classroom.submit(course, student, assignment, solutions=bad)

    def drop_first_test(nb):
        for i, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                del nb.cells[i]
                return
    return classroom.submit(course, student, assignment, solutions=right, edit=drop_first_test)


def floor(course, assignment, students):
    """Seconds for nbclient to execute each readable submitted notebook in a fresh kernel."""
    quiet, saved = os.open(os.devnull, os.O_WRONLY), os.dup(2)
    os.dup2(quiet, 2)   # the kernels' start-up chatter
    try:
        times = [execute_seconds(Path(course) / "submitted" / s / assignment / f"{assignment}.ipynb")
                 for s in students]
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)
    return [t for t in times if t is not None]


def execute_seconds(path):
    """One notebook in a fresh kernel, as nbgrader's Execute runs it; None if it is not a notebook."""
    import nbformat
    from nbclient import NotebookClient
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return None
    start = time.monotonic()
    client = NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except Exception:
        pass       # a dying kernel ends the run, as it ends grading
    return time.monotonic() - start


def one_at_a_time(course, assignment, sample, report):
    """Seconds per notebook of the whole grading pipeline, one worker, in the given course's configuration."""
    one = [sys.executable, "-m", "gradelib.grading.classgrade", assignment, "--jobs", "1", "--json", str(report)]
    classroom.run(one + [arg for s in sample for arg in ("--student", s)], course)
    return [row["seconds"] for row in json.loads(report.read_text())]


def scores(course, assignment):
    return {s: e["scores"] for s, e in classroom.gradebook(course, assignment).items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=60, help="submissions per assignment (default 60)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="workers of the class command")
    parser.add_argument("--assignments", nargs="*", help="which assignments (default: all in source/)")
    parser.add_argument("--timeout", type=int, default=60, help="Execute.timeout per cell")
    parser.add_argument("--sample", type=int, default=10,
                        help="correct notebooks per assignment timed against the floor (default 10)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", help="build the course here and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)

    source = REPO / "source"
    assignments = args.assignments or [a for a in COURSE_ASSIGNMENTS if (source / a).is_dir()]
    if not assignments:
        source, assignments = classroom.FIXTURE_SOURCE, ["fixture"]
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="class-grading-"))
    try:
        base = classroom.make_course(workdir / "base", assignments, source=source, timeout=args.timeout)
        students = {}
        for a in assignments:
            students[a] = []
            for i in range(args.n):
                kind = KINDS[i % len(KINDS)]
                student = f"s{i:03d}_{kind}"
                submission(base, a, student, kind, i // len(KINDS) + assignments.index(a))
                students[a].append(student)
        serial_course = classroom.copy_course(base, workdir / "serial", timeout=args.timeout)
        parallel_course = classroom.copy_course(base, workdir / "parallel", timeout=args.timeout)
        cost_course = classroom.copy_course(base, workdir / "cost", timeout=args.timeout)
        bare_course = classroom.copy_course(base, workdir / "bare", timeout=args.timeout, sandbox=False)

        figures = {"n": args.n, "jobs": args.jobs, "cores": os.cpu_count(), "assignments": {}}
        total = {"serial": 0.0, "parallel": 0.0, "graded": 0.0, "bare": 0.0, "floor": 0.0, "sampled": 0}
        for a in assignments:
            print(f"{a}: {args.n} submissions", flush=True)
            start = time.monotonic()
            classroom.run(classroom.nbgrader("autograde", a, "--force"), serial_course, check=False)
            serial = time.monotonic() - start
            start = time.monotonic()
            classroom.run([sys.executable, "-m", "gradelib.grading.classgrade", a, "--jobs", str(args.jobs)],
                          parallel_course)
            parallel = time.monotonic() - start
            # the misconception report on the class just graded (python -m gradelib.grading.report)
            start = time.monotonic()
            classroom.run([sys.executable, "-m", "gradelib.grading.report", a], parallel_course)
            report_s = time.monotonic() - start
            same = scores(serial_course, a) == {s: v for s, v in scores(parallel_course, a).items()
                                                if s in scores(serial_course, a)}
            # cost per notebook: the same correct notebooks (every test verified), one at a time,
            # graded by one worker and executed by nbclient
            sample = [s for s in students[a] if s.endswith("_correct")][:args.sample]
            # with and without the sandbox alternately, student by student, so that a change in the
            # machine's load falls on both alike
            graded, bare = [], []
            for i, s in enumerate(sample):
                order = [(cost_course, graded), (bare_course, bare)]
                for course, into in (order if i % 2 == 0 else order[::-1]):
                    into += one_at_a_time(course, a, [s], workdir / f"cost-{a}.json")
            floors = floor(base, a, sample)
            row = {"serial_s": round(serial, 2), "parallel_s": round(parallel, 2),
                   "speedup": round(serial / parallel, 2), "same_scores": same, "report_s": round(report_s, 2),
                   "grade_per_notebook_s": round(statistics.mean(graded), 3),
                   "unsandboxed_per_notebook_s": round(statistics.mean(bare), 3),
                   "floor_per_notebook_s": round(statistics.mean(floors), 3), "sample": len(sample)}
            row["cost_over_floor"] = round(row["grade_per_notebook_s"] / row["floor_per_notebook_s"], 2)
            row["sandbox_share"] = round(row["grade_per_notebook_s"] / row["unsandboxed_per_notebook_s"] - 1, 3)
            figures["assignments"][a] = row
            total["serial"] += serial
            total["parallel"] += parallel
            total["graded"] += sum(graded)
            total["bare"] += sum(bare)
            total["floor"] += sum(floors)
            total["sampled"] += len(sample)
            print("  " + json.dumps(row), flush=True)
        figures["total"] = {
            "serial_s": round(total["serial"], 2), "parallel_s": round(total["parallel"], 2),
            "speedup": round(total["serial"] / total["parallel"], 2),
            "grade_per_notebook_s": round(total["graded"] / total["sampled"], 3),
            "unsandboxed_per_notebook_s": round(total["bare"] / total["sampled"], 3),
            "floor_per_notebook_s": round(total["floor"] / total["sampled"], 3),
        }
        figures["total"]["sandbox_share"] = round(total["graded"] / total["bare"] - 1, 3)
        figures["total"]["cost_over_floor"] = round(
            figures["total"]["grade_per_notebook_s"] / figures["total"]["floor_per_notebook_s"], 2)
        figures["total"]["same_scores"] = all(r["same_scores"] for r in figures["assignments"].values())
        print("\ntotal: " + json.dumps(figures["total"]))
        print(f"speed-up of the class command over serial nbgrader: {figures['total']['speedup']}x "
              f"(goal >= 1.8x on 2 cores); cost per notebook {figures['total']['cost_over_floor']}x the floor "
              f"(goal <= 1.35x); the sandbox costs {100 * figures['total']['sandbox_share']:.1f}% per notebook "
              f"(goal <= 10%); same scores: {figures['total']['same_scores']}")
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
        return 0 if figures["total"]["same_scores"] else 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
