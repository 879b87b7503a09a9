"""The misconception report's page in a real browser: Debian's Chromium driven by Playwright.

The page is made from verdicts of a small class with the benchmark's planted
mistakes (each verdict is gradelib.check's own on the planted function, so the
sentences are the real ones), opened from a file:// address, and checked to
show its bar charts and sentences and to ask for nothing beyond the machine.
A screenshot goes to screenshots/report.png for a person to look at.

Skipped, with the reason, where /usr/bin/chromium is missing (never `playwright install`).
"""
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "fixtures"))
sys.path.insert(0, str(HERE.parent / "benchmarks"))
import class_grading  # noqa: E402
import classroom  # noqa: E402
from browser_util import Browser, chromium_missing  # noqa: E402

import gradelib  # noqa: E402
from gradelib.grading.sandbox.isolate import _exit_reason  # noqa: E402
from gradelib.grading.report.page import html_page  # noqa: E402
from gradelib.grading.report.tally import tally  # noqa: E402
from gradelib.grading.report.store import WHOLE, NotebookRecord, SubmissionRecord, Verdict  # noqa: E402

ROOT = HERE.parent
ASSIGNMENT = "01_single_neuron"
CLASS = ["correct", "forgot_relu", "ascent", "forgot_relu", "factor_2", "forgot_relu", "correct", "ascent",
         "unanswered", "correct"]
FUNCTIONS = {"single_neuron_gradients": "single_neuron", "single_neuron_update": "single_neuron_update"}


def class_records():
    """SubmissionRecords of CLASS with the verdicts gradelib.check gives the submitted functions, plus a
    submission that could not be graded, one flagged, and one whose process died when the verifier re-ran it."""
    right = classroom.source_solutions(ROOT, ASSIGNMENT)
    stub = "def {f}(*args):\n    raise NotImplementedError()\n"
    records = []
    for i, kind in enumerate(CLASS):
        sources = dict(right, **class_grading.PLANTED[ASSIGNMENT].get(kind, {}))
        if kind == "unanswered":
            sources = {f: stub.format(f=f) for f in FUNCTIONS}
        found = []
        for function, exercise in FUNCTIONS.items():
            ns = {}
            exec(sources[function], ns)
            r = gradelib.check(exercise, ns[function], reveal=False)
            found.append(Verdict(f"test_{function}", exercise, function, r.passed, r.passed, mistakes=r.mistakes,
                                 sentences=r.messages, parameters=r.per_parameter))
        records.append(SubmissionRecord(ASSIGNMENT, f"s{i:03d}_{kind}", [NotebookRecord(ASSIGNMENT, found)]))
    records.append(SubmissionRecord(ASSIGNMENT, "s098_broken", [NotebookRecord(
        WHOLE, status="failed", reason="the submitted notebook is not valid JSON (damaged, or not a notebook)")]))
    records.append(SubmissionRecord(ASSIGNMENT, "s099_tampered", [NotebookRecord(ASSIGNMENT, flags=[
        "cell 21, line 15: reaches into the IPython shell (get_ipython().input_transformers_cleanup)"])]))
    died = _exit_reason(0)
    records.append(SubmissionRecord(ASSIGNMENT, "s097_crashed", [NotebookRecord(
        ASSIGNMENT, [Verdict(f"test_{f}", e, f, False, False, judged=False, reason=died) for f, e in FUNCTIONS.items()],
        flags=["cell 3, line 1: ends the process (os._exit)"], stopped=died)]))
    return records


@pytest.mark.skipif(chromium_missing() is not None, reason=str(chromium_missing()))
def test_the_report_page_in_chromium(tmp_path):
    page_file = tmp_path / "report.html"
    page_file.write_text(html_page(tally(class_records()), f"What the class got wrong: {ASSIGNMENT}"))
    requests = []
    with Browser() as browser:
        page = browser.new_page(width=1100, height=900)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        bars = page.locator("svg rect").count()
        text = page.inner_text("body")
        # the charts' text alternatives, as a screen reader announces them
        chart_names = [page.evaluate("e => e.querySelector('title').textContent", s.element_handle())
                       for s in page.locator("svg[role=img]").all()]
        unscoped = page.locator("th:not([scope])").count()
        out = ROOT / "screenshots"
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / "report.png"), full_page=True)
    assert requests and all(u.startswith(("file://", "data:", "about:")) or "//127.0.0.1" in u for u in requests), \
        requests
    # two bars (grey track and red share) per mistake: forgotten ReLU' twice, ascent, ½ dropped; the unanswered
    # functions and the dead process are no mistakes, so no bars
    kinds = [k for k in CLASS if k in class_grading.PLANTED[ASSIGNMENT]]
    planted = sum(len(class_grading.PLANTED[ASSIGNMENT][k]) for k in dict.fromkeys(kinds))
    assert bars == 2 * planted
    assert chart_names == [n for n in chart_names if n.startswith("Mistakes in ")] and len(chart_names) == 2
    assert "Missing ReLU derivative" in text and "Gradient ascent" in text
    n, graded = CLASS.count("forgot_relu"), len(CLASS)   # the broken one is not graded, the flagged one has no verdict
    assert f"{100 * n / graded:.0f}% ({n} of {graded})" in text
    assert f"{graded} of the {graded + 3} submissions are counted" in text   # and why not the others, right there
    assert f"Not answered (not written yet): {CLASS.count('unanswered')} of {graded}" in text
    assert "not valid JSON" in text and "input_transformers_cleanup" in text and "died" in text
    assert "s001_forgot_relu" not in text   # no names unless asked
    assert unscoped == 0
