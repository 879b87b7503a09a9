"""The README's instructor commands, run as printed (issue 18, item 5).

Which commands: every fenced ```bash block of the README's section "## For instructors (nbgrader)", up to the next
"## " heading (its "###" subsections included), read from README.md at test time, so that a command added to the
README later is run too; nothing here lists the commands.  Each line of a block is one command (a line ending in
a backslash continues on the next), run literally with ``bash -c`` in the course folder, in the README's order.
Skipped by rule: blank lines and lines that are only a comment, e.g. the ``# ... collect into ...`` placeholder,
which stands for what an instructor does by hand; a command's own trailing comment stays on it (bash ignores it).
``cd`` and the hub's commands are in other sections ("Running a course on JupyterHub"), so they are not read.

Where: a fresh course folder that is not the clone (``source/`` and ``nbgrader_config.py`` copied from it, nothing
else), with a ``.venv`` that was made elsewhere (a symlink to the venv this test runs in, as an instructor who
keeps one venv for a new term's copy of the course), run as the current, non-root user, with the venv NOT
activated: its ``bin`` is taken off PATH and VIRTUAL_ENV is unset.  As root the test is skipped: root's venv
cannot be run by another user (the Python is under /root), and ``.ci/run`` runs this file again as a normal
user it creates (issue 18, item 2).

The class: where the placeholder says ("collect into submitted/<student>/<assignment>/"), three students are put
in before the next command runs: one all right (the released notebook with the source's solution cells), one
plainly wrong (every solution's answers negated) and one broken (not JSON).

A README command that fails (a non-zero exit, a Python traceback in its output, or nbgrader's list of
subcommands, its exit-0 answer to a misspelt one) fails the test, which names the command, its README line and its
output; the later commands still run, so one run names every broken command.  When every command worked, what the
README promises is checked: the gradebook has the right student at full marks and the wrong and the broken ones at
0; classgrade's summary gives the broken one's reason; feedback files exist for the graded students;
``reports/<assignment>.html`` and ``.csv`` (and every other ``reports/`` file a command's comment promises) are
written, and the CSV names the wrong student's mistakes.  Everything is made in a temporary folder that is removed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import classroom

from gradelib.grading.sandbox import box as sandbox

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SECTION = "## For instructors (nbgrader)"
FENCE_OPEN = re.compile(r"^\s*```(bash|sh|shell)\s*$")
FENCE_CLOSE = re.compile(r"^\s*```\s*$")
COLLECT = re.compile(r"collect into (submitted/<student>/([^/\s]+)/)")
PROMISED_REPORT = re.compile(r"\breports/[\w.-]+\.(?:html|csv)\b")
# a command that exits 0 has still failed when its output says so
FAILED_ANYWAY = {
    "Traceback (most recent call last)": "printed a Python traceback",
    "No command given (run with --help for options)": "ran no command (nbgrader's answer, with status 0, to a "
                                                      "subcommand it does not know)",
}
COMMAND_TIMEOUT = 900

RIGHT, WRONG, BROKEN = "s_right", "s_wrong", "s_broken"


@dataclass
class Step:
    line: int           # 1-based line of README.md where the command starts
    text: str           # the command as printed (a "collect" step: the placeholder comment)
    collect: str = ""   # for the placeholder: the folder template, e.g. "submitted/<student>/02_relu_chain/"
    assignment: str = ""


def section_lines(text, heading=SECTION):
    """(line number, line) of the section under this "## " heading, up to the next "## " heading."""
    lines = text.splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.strip() == heading]
    assert len(starts) == 1, f"README.md should have one heading {heading!r}, it has {len(starts)}"
    out = []
    for i in range(starts[0] + 1, len(lines)):
        if lines[i].startswith("## "):
            break
        out.append((i + 1, lines[i]))
    return out


def steps(text, heading=SECTION):
    """The section's shell commands and collect placeholders, in order (see the module's docstring)."""
    out, in_block, pending = [], False, None
    for number, line in section_lines(text, heading):
        if not in_block:
            in_block = bool(FENCE_OPEN.match(line))
            continue
        if FENCE_CLOSE.match(line):
            assert pending is None, f"README.md line {pending.line}: a command ends in a backslash at the block's end"
            in_block = False
            continue
        if pending is not None:                        # the continuation of the line before
            pending.text = pending.text[:-1].rstrip() + " " + line.strip()
        else:
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):                # a comment or a "# ..." placeholder: not run
                found = COLLECT.search(stripped)
                if found:
                    out.append(Step(number, stripped, collect=found.group(1), assignment=found.group(2)))
                continue
            pending = Step(number, stripped)
        if pending.text.endswith("\\"):
            continue
        out.append(pending)
        pending = None
    assert not in_block, "README.md: a code block of the instructor section is not closed"
    return out


# ---------------------------------------------------------------- the parser, on texts made here (runs anywhere)
SAMPLE = """# Title
```bash
python3 -m venv .venv   # not the instructor section
```
## For instructors (nbgrader)
Some words.
```bash
.venv/bin/nbgrader generate_assignment 07_x          # release/07_x/
# ... collect into submitted/<student>/07_x/ (by hand) ...

.venv/bin/python -m tool \\
    --flag 07_x
```
```text
[1/5] output: not a command
```
### A subsection
```bash
# a comment only
.venv/bin/python -m report 07_x   # reports/07_x.html
```
## Another section
```bash
cd /srv && hub
```
"""


def test_the_parser_takes_the_sections_bash_lines_in_order_and_nothing_else():
    got = steps(SAMPLE)
    assert [(s.line, s.text, s.collect, s.assignment) for s in got] == [
        (8, ".venv/bin/nbgrader generate_assignment 07_x          # release/07_x/", "", ""),
        (9, "# ... collect into submitted/<student>/07_x/ (by hand) ...", "submitted/<student>/07_x/", "07_x"),
        (11, ".venv/bin/python -m tool --flag 07_x", "", ""),
        (20, ".venv/bin/python -m report 07_x   # reports/07_x.html", "", ""),
    ]


def test_the_readme_has_instructor_commands_and_says_where_submissions_go():
    got = steps(README.read_text())
    commands = [s for s in got if not s.collect]
    collects = [s for s in got if s.collect]
    assert commands, "the README's instructor section has no ```bash command"
    assert len(collects) == 1, ("the README's instructor section should say once where submissions go "
                                "(# ... collect into submitted/<student>/<assignment>/ ...): "
                                f"{[s.text for s in collects]}")
    assert commands[0].line < collects[0].line < commands[-1].line, "collecting should come between commands"


# ---------------------------------------------------------------- the README run end to end, as a normal user
def why_not_here():
    """None where the README can be followed here as a normal user; otherwise the reason to skip."""
    if os.geteuid() == 0:
        return ("run as root: the README is followed as a normal user, and root's venv cannot be run by another "
                "user (its Python is under /root); .ci/run's normal-user pass runs this test")
    if sys.prefix == sys.base_prefix:
        return f"this Python ({sys.executable}) is not in a venv, and the README's commands use one (.venv)"
    problem = sandbox.problem(sandbox.find_bwrap())
    if problem:
        return f"no sandbox on this machine, and the README's grading needs one: {problem}"
    return None


def without_the_venv(venv):
    """This process's environment with the venv not activated: its bin off PATH, no VIRTUAL_ENV."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    venv_bins = {os.path.realpath(Path(venv) / "bin"), os.path.realpath(Path(sys.executable).parent)}
    env["PATH"] = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                                  if p and os.path.realpath(p) not in venv_bins)
    return env


def fresh_course(dest):
    """A course folder that is not the clone: source/ and nbgrader_config.py, and a .venv made elsewhere."""
    dest.mkdir()
    shutil.copytree(REPO / "source", dest / "source",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy2(REPO / "nbgrader_config.py", dest / "nbgrader_config.py")
    (dest / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return dest


def submit_class(course, step):
    """The three students, where the README's placeholder says; a sentence if the release is not there."""
    release = course / "release" / step.assignment
    notebooks = sorted(release.glob("*.ipynb"))
    if len(notebooks) != 1:
        return f"nothing to hand out: {release} holds {[p.name for p in notebooks]}, not one notebook"
    solutions = classroom.source_solutions(course, step.assignment)
    made = {RIGHT: solutions, WRONG: {k: classroom.wrong(v) for k, v in solutions.items()}}
    for student in (RIGHT, WRONG, BROKEN):
        folder = course / step.collect.replace("<student>", student)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / notebooks[0].name
        if student == BROKEN:
            path.write_bytes(b'{"cells": [ this is not JSON')
            continue
        nb = nbformat.read(notebooks[0], as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in made[student]:
                cell.source = made[student][grade_id]
        nbformat.write(nb, path)
    return None


def run_command(step, course, env):
    """(output, problem): the command's stdout and stderr, and a sentence if it failed."""
    try:
        proc = subprocess.run(["bash", "-c", step.text], cwd=course, env=env, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired as err:
        output = (err.stdout or b"").decode(errors="replace") + (err.stderr or b"").decode(errors="replace")
        return output, f"did not finish in {COMMAND_TIMEOUT} s"
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        return output, f"exited with status {proc.returncode}"
    for sign, meaning in FAILED_ANYWAY.items():
        if sign in output:
            return output, f"{meaning} (exit status 0)"
    return output, None


def where(course):
    return f"as uid {os.geteuid()}, the venv not activated, in a fresh course folder {course.parent.name}/course"


def tail(text, n=3000):
    return text if len(text) <= n else "[...]\n" + text[-n:]


@pytest.fixture
def course():
    why = why_not_here()
    if why:
        pytest.skip(why)
    folder = Path(tempfile.mkdtemp(prefix="readme-course-"))
    try:
        yield fresh_course(folder / "course")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_readmes_instructor_commands_work_as_printed(course):
    plan = steps(README.read_text())
    collects = [s for s in plan if s.collect]
    assert len(collects) == 1, f"the section should say once where submissions go: {[s.text for s in collects]}"
    assignment = collects[0].assignment
    env = without_the_venv(course / ".venv")

    problems, outputs = [], []
    for step in plan:
        if step.collect:
            why = submit_class(course, step)
            if why:
                problems.append(f"README.md line {step.line}, {step.text}: the class could not be submitted: {why}")
            continue
        output, why = run_command(step, course, env)
        outputs.append((step.text, output))
        if why:
            problems.append(f"README.md line {step.line}: `{step.text}` {why}:\n{tail(output)}")

    if problems:    # what follows would only repeat them
        pytest.fail(f"following the README's instructor section as printed ({where(course)}), "
                    f"{len(problems)} step(s) failed:\n\n" + "\n\n".join(problems), pytrace=False)

    # what the README promises
    book = classroom.gradebook(course, assignment)
    assert sorted(book) == sorted((RIGHT, WRONG, BROKEN)), f"the gradebook of {assignment}: {sorted(book)}"
    score, top = sum(book[RIGHT]["scores"].values()), sum(book[RIGHT]["max"].values())
    if not (top > 0 and score == top):
        problems.append(f"the right submission scored {score} of {top}: {book[RIGHT]['scores']}")
    for student in (WRONG, BROKEN):
        if sum(book[student]["scores"].values()) != 0:
            problems.append(f"{student} scored {book[student]['scores']}, not 0")

    summaries = [out for cmd, out in outputs if "classgrade" in cmd]
    if not summaries:
        problems.append("no command of the section runs classgrade, whose summary the README shows")
    elif not any(re.search(rf"^{BROKEN}\s+0\s+\d+\s+FAILED: .*not valid JSON", out, re.M) for out in summaries):
        problems.append(f"classgrade's summary does not give {BROKEN} 0 with its reason (not valid JSON):\n"
                        + tail(summaries[-1]))

    for student in (RIGHT, WRONG):
        if not list((course / "feedback" / student / assignment).glob("*.html")):
            problems.append(f"no feedback file for {student} in feedback/{student}/{assignment}/")

    promised = {f"reports/{assignment}.html", f"reports/{assignment}.csv"}
    promised |= {p for cmd, _ in outputs for p in PROMISED_REPORT.findall(cmd)}
    for name in sorted(promised):
        if not (course / name).is_file() or (course / name).stat().st_size == 0:
            problems.append(f"{name} was not written")
    csv = course / "reports" / f"{assignment}.csv"
    if csv.is_file() and not re.search(rf"^mistake,{re.escape(assignment)},", csv.read_text(), re.M):
        problems.append(f"{csv.name} names no mistake, though {WRONG} made some")

    if problems:
        pytest.fail(f"after the README's instructor section ({where(course)}), not as it promises:\n\n"
                    + "\n\n".join(problems), pytrace=False)
