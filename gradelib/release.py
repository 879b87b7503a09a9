"""Make the student copies in notebooks/ from the nbgrader source assignments in source/.

    python -m gradelib.release            # regenerate notebooks/NN_name.ipynb
    python -m gradelib.release --check    # exit 1, naming the notebooks that drifted from source/
    python -m gradelib.release --execute [NAME ...]   # first run source notebooks in place (nbval's outputs)

A student copy is exactly what nbgrader's own ``generate_assignment`` makes
(solutions replaced by ``raise NotImplementedError()``, hidden tests removed,
given cells locked, outputs cleared), run in a temporary copy of the course so
that the repository's gradebook.db is never touched; the saved widget state
is dropped as well.  The same source gives the same bytes, so --check can
compare files exactly.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "nbgrader_config.py"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class ReleaseError(RuntimeError):
    """Something a maintainer must fix before the student copies can be made; the message says what."""


def listed_assignments(root: Path = ROOT) -> tuple[str, ...]:
    """The assignment names nbgrader_config.py lists, in order.

    Read from the file's ``ASSIGNMENTS = (...)`` literal, not by running it:
    running the course's config sets nbgrader up (configure(c) stamps the
    gradebook, puts tools on PATH), which listing names must not do.
    """
    path = root / CONFIG
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "ASSIGNMENTS" for t in node.targets
        ):
            try:
                return tuple(ast.literal_eval(node.value))
            except ValueError:
                break
    raise ReleaseError(
        f"{CONFIG} has no ASSIGNMENTS = (...) of plain names; list the assignments there, "
        'e.g. ASSIGNMENTS = ("01_single_neuron", "02_relu_chain").'
    )


def source_assignments(root: Path = ROOT) -> list[str]:
    """The listed assignments that exist as source/<name>/<name>.ipynb, in the listed order."""
    listed = listed_assignments(root)
    folders = (root / "source").iterdir() if (root / "source").is_dir() else ()
    present = sorted(p.name for p in folders if p.is_dir() and not p.name.startswith("."))
    unlisted = [name for name in present if name not in listed]
    if unlisted:
        raise ReleaseError(
            f"source/{unlisted[0]} is not in ASSIGNMENTS in {CONFIG}; add it there "
            f"(the assignments listed are {', '.join(listed)})."
        )
    for name in present:
        if not (root / "source" / name / f"{name}.ipynb").is_file():
            raise ReleaseError(
                f"source/{name}/ has no {name}.ipynb: nbgrader expects the notebook to be named after its assignment."
            )
    return [name for name in listed if name in present]


def student_copies(root: Path = ROOT, names: Sequence[str] | None = None) -> dict[str, str]:
    """{name: the student notebook's text} made by nbgrader generate_assignment in a temporary course."""
    names = source_assignments(root) if names is None else list(names)
    texts = {}
    with tempfile.TemporaryDirectory(prefix="gradelib-release-") as tmp:
        course = Path(tmp)
        shutil.copy(root / CONFIG, course / CONFIG)
        for name in names:
            shutil.copytree(
                root / "source" / name,
                course / "source" / name,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
            )
        if names:  # one nbgrader run for all of them: its start-up takes seconds
            run_nbgrader(course, "generate_assignment", "--assignment=*", "--force")
        for name in names:
            released = course / "release" / name / f"{name}.ipynb"
            texts[name] = student_text(nbformat.read(released, as_version=4))
    return texts


def run_nbgrader(course: str | Path, *args: str) -> Any:
    """Run the nbgrader command line in the course folder; a ReleaseError with its log if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], check=False, cwd=course, capture_output=True, text=True, env=_env()
    )
    if done.returncode != 0:
        raise ReleaseError(f"nbgrader {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def _env():
    """This Python's bin/ first on PATH: nbgrader runs the `alembic` command installed next to it."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def student_text(nb: Any) -> str:
    """The notebook as a learner should get it: no outputs, no counts, no saved widget state."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nbformat.writes(nb) + "\n"


def target(root: Path, name: str) -> Path:
    return root / "notebooks" / f"{name}.ipynb"


def drift(root: Path = ROOT, texts: dict[str, str] | None = None) -> list[str]:
    """Sentences naming each student copy that differs from what source/ gives, or has no source.

    texts: the student copies' texts if already made (as student_copies(root) returns them).
    """
    texts = student_copies(root) if texts is None else texts
    problems = []
    for name, text in texts.items():
        path = target(root, name)
        if not path.is_file():
            problems.append(f"notebooks/{path.name} is missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"notebooks/{path.name} differs from what source/{name}/{name}.ipynb gives")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        if path.stem not in texts:
            problems.append(f"notebooks/{path.name} has no source assignment source/{path.stem}/")
    return problems


def write(root: Path = ROOT) -> list[Path]:
    """Regenerate every student copy; return the paths written."""
    (root / "notebooks").mkdir(exist_ok=True)
    written = []
    for name, text in student_copies(root).items():
        path = target(root, name)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


CELL_SECONDS = 60  # one cell of a source notebook, as nbgrader's Execute.timeout: training cells take a few seconds


def execute(path: str | Path, timeout: int = CELL_SECONDS) -> None:
    """Run a source notebook top to bottom and store its outputs in place (what nbval compares).

    Nothing that changes from run to run is kept: no timings, no widget state, and no widget
    views, whose model ids are random and point into a kernel that has ended (nbval skips them
    anyway); a widget's text form stays.  So the same notebook stores the same bytes.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=False,
        resources={"metadata": {"path": str(Path(path).parent)}},
    ).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            out.get("data", {}).pop(WIDGET_VIEW, None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradelib.release", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 and name the notebooks that have drifted from source/",
    )
    parser.add_argument(
        "--execute",
        nargs="*",
        metavar="ASSIGNMENT",
        help="first run these source notebooks (all if none is named) in place, storing their outputs",
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = drift()
            if problems:
                print(
                    "The student copies are out of date:",
                    *[f"  - {p}" for p in problems],
                    "Regenerate them with: python -m gradelib.release",
                    sep="\n",
                )
                return 1
            print("notebooks/ matches source/.")
            return 0
        if args.execute is not None:
            known = source_assignments()
            unknown = [name for name in args.execute if name not in known]
            if unknown:
                raise ReleaseError(
                    f"there is no source assignment {unknown[0]!r}; the assignments are {', '.join(known)}."
                )
            for name in args.execute or known:
                print(f"executing source/{name}/{name}.ipynb")
                execute(ROOT / "source" / name / f"{name}.ipynb")
        for path in write():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    except ReleaseError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
