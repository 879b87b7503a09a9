"""What every test module may import: the helpers in tests/ (handwritten, attacks, ...), the fixture class
builders in tests/fixtures/ and the course hub's setup (course_hub/setup_course.py), so that no test edits
sys.path itself.

And how the suite is shared out (pyproject.toml: ``-n auto --dist loadfile --no-loadscope-reorder``): each test
file runs whole in one pytest-xdist worker, so a module's class graded once (or its hub, its JupyterLab) serves
all its tests, and the files are handed out slowest first, so that no worker starts a long file while the
other has nothing left.  ``-n 0`` runs everything in one process.
"""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

for folder in (HERE, HERE / "fixtures", HERE.parent / "course_hub"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

# The files that grade whole classes, run a hub, a browser or a Binder environment, slowest first (measured
# with --durations on 2 cores; see README, "Run the whole test suite").  The other files follow in pytest's
# own order; a new slow file belongs in this list.
SLOWEST_FIRST = (
    "test_hub.py",            # JupyterHub, real users, a class through the exchange, Chromium
    "test_sandbox.py",        # notebook 01's class of attackers graded twice in the box, and again per test
    "test_grading.py",        # the fixture class graded three ways, the course notebooks by classgrade
    "test_notebooks.py",      # every course notebook with one wrong function at a time, by nbgrader autograde
    "test_binder.py",         # the environment made from binder/ alone, in CI (BINDER_VENV_TEST=1)
    "test_browser.py",        # JupyterLab in Chromium
    "test_a11y_browser.py",   # axe-core on 14 pages: the three notebooks and two widgets in JupyterLab, exports
    "test_report.py",         # a class graded for the misconception report
    "test_byhand_grading.py",
    "test_exchange.py",       # real Unix users submitting through a real exchange, collected twice
    "test_lti.py",            # a hub, a loopback LMS, a student's server launched in Chromium
    "test_proof.py",          # the fixture class graded seven times, the grader proven first
    "test_readme.py",         # the README's instructor commands as a normal user (skipped as root)
)
WORKERS_AT_MOST = 4   # the e2e files are about six; each of their graders already uses every core


@pytest.hookimpl(optionalhook=True)   # .ci/run's scratch venvs have no xdist, hence no such hook
def pytest_xdist_auto_num_workers(config):
    """-n auto: one worker per core this process may run on (physical cores, not hyperthreads), at most 4."""
    given = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if given:
        return int(given)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        import psutil
        usable = min(usable, psutil.cpu_count(logical=False) or usable)
    except ImportError:
        pass
    return max(1, min(usable, WORKERS_AT_MOST))


def pytest_collection_modifyitems(config, items):
    """In an xdist worker, the slow files first (each file keeps its own order); a run in one process is left
    in pytest's order.  Every worker sorts alike, so all collect the same list, as xdist requires."""
    if not hasattr(config, "workerinput"):
        return
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items[:] = sorted(items, key=lambda item: rank.get(item.path.name, len(rank)))   # sorted() is stable
