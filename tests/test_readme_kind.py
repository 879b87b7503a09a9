"""README's "Adding an exercise kind": its diff is the whole change, touches one gradelib file, and works.

The diff is applied with `git apply` to a copy of gradelib (so a README that drifts from kinds.py fails here),
and the test the diff adds is run against that copy in a fresh interpreter.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def readme_diff() -> str:
    section = (REPO / "README.md").read_text().split("### Adding an exercise kind", 1)[1].split("\n### ", 1)[0]
    (diff,) = re.findall(r"```diff\n(.*?)```\n", section, re.S)
    return diff


def touched(diff: str) -> list[str]:
    return re.findall(r"^\+\+\+ b/(\S+)$", diff, re.M)


def test_the_example_kind_touches_one_gradelib_file_and_its_test():
    files = touched(readme_diff())
    assert [f for f in files if f.startswith("gradelib/")] == ["gradelib/kinds.py"]
    assert [f for f in files if not f.startswith("gradelib/")] == ["tests/test_relu_slope.py"]


def test_the_example_kind_applies_and_its_test_passes(tmp_path):
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed: the README's diff cannot be applied")
    shutil.copytree(REPO / "gradelib", tmp_path / "gradelib", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    (tmp_path / "example.diff").write_text(readme_diff())
    applied = subprocess.run([git, "apply", "example.diff"], cwd=tmp_path, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    assert "relu_slope" in (tmp_path / "gradelib" / "kinds.py").read_text()
    # the copy, not the checkout, is imported: the interpreter's own folder comes first on sys.path
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(tmp_path),
         "tests/test_relu_slope.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
    assert "relu_slope" not in (REPO / "gradelib" / "kinds.py").read_text()  # the checkout is untouched
