"""How long each source notebook takes to run top to bottom, headless, as nbval or nbgrader would run it.

    python benchmarks/notebooks.py            # every notebook in source/
    python benchmarks/notebooks.py 01_single_neuron

The time is the wall time of nbclient's execute(), kernel start-up included;
nothing is written back.  The goal is under 10 s per notebook; this is a
measurement to read, not a test that fails.
"""
import argparse
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 10.0


def run(path):
    """Seconds to execute the notebook at path in a fresh kernel, and the number of code cells."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=60, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start, sum(c.cell_type == "code" for c in nb.cells)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="assignment names (default: every folder in source/)")
    args = parser.parse_args(argv)
    names = args.names or sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
    for name in names:
        seconds, cells = run(ROOT / "source" / name / f"{name}.ipynb")
        verdict = "ok" if seconds < GOAL_SECONDS else f"over the {GOAL_SECONDS:g} s goal"
        print(f"{name:<20} {seconds:6.2f} s  ({cells} code cells)  {verdict}", flush=True)


if __name__ == "__main__":
    main()
