"""What a learner sees, in a real browser: JupyterLab driven in Debian's Chromium with Playwright.

For each notebook of source/ (with its student copy in notebooks/):
- the solution version, run with Run > Run All Cells, shows no error or stderr output, every self-check
  says "passed", the network drawings and plots are images on the page, and the widget explorer is live
  (a slider moved with the keyboard changes the loss it shows); a screenshot of the whole notebook is saved
  in screenshots/<notebook>.png for a person to look at;
- the student version, with a wrong answer typed into the first exercise's editor, shows gradelib's
  diagnosis under its self-check (screenshots/<notebook>-student.png).

Skipped, with the reason, where /usr/bin/chromium is missing (.ci/run installs Debian's package).
Nothing is downloaded: no `playwright install`, no news or update checks.  The server and the browser are
stopped by their own process ids, and the test fails if any process it started is left behind.
Timings (jupyter lab start -> first notebook fully run; the whole browser test) are printed at the end.
"""
import re
import time
from pathlib import Path

import pytest
from browser_util import Browser, LabServer, NotebookPage, chromium_missing, descendants, feedback_html, stop_processes
from notebook_plan import plan as read_plan

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "screenshots"
SOURCES = sorted(ROOT.glob("source/*/*.ipynb"))
NAMES = [p.stem for p in SOURCES]

# One wrong first try per exercise, typed into the student's editor; each is a mistake gradelib names.
WRONG = {
    "single_neuron_gradients": ("missing_relu_derivative", '''\
def single_neuron_gradients(x, params, target):
    # a first try that forgets the slope of the ReLU
    z = params["w1"] * x[0] + params["w2"] * x[1] + params["b"]
    Err = target - max(z, 0.0)
    return {"w1": -Err * x[0], "w2": -Err * x[1], "b": -Err}
'''),
    "relu_chain_gradients": ("missing_backprop_weight", '''\
def relu_chain_gradients(x, params, target):
    # a first try that forgets the weight w12 on the way back from neuron 2 to neuron 1
    z1 = params["w11"] * x[0] + params["b1"]
    Y1 = max(z1, 0.0)
    z2 = params["w12"] * Y1 + params["b2"]
    Y2 = max(z2, 0.0)
    delta2 = (target - Y2) * (1.0 if z2 > 0 else 0.0)
    delta1 = delta2 * (1.0 if z1 > 0 else 0.0)
    return {"w11": -delta1 * x[0], "b1": -delta1, "w12": -delta2 * Y1, "b2": -delta2}
'''),
    "relu_chain_deltas": ("delta1_no_w12", '''\
def relu_chain_deltas(x, params, target):
    # a first try that sends δ2 back to neuron 1 without the weight w12 it flows through
    z1 = params["w11"] * x[0] + params["b1"]
    Y1 = max(z1, 0.0)
    z2 = params["w12"] * Y1 + params["b2"]
    delta2 = (target - max(z2, 0.0)) * (1.0 if z2 > 0 else 0.0)
    return {"delta2": delta2, "delta1": delta2 * (1.0 if z1 > 0 else 0.0)}
'''),
    "softmax": ("softmax_overflow", '''\
import numpy as np

def softmax(logits):
    # a first try: exp() of a logit such as 1000 overflows
    e = np.exp(logits)
    return e / e.sum()
'''),
}


class Session:
    def __init__(self, server, browser):
        self.server, self.browser = server, browser
        self.timings = {}


@pytest.fixture(scope="module")
def lab(request):
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reason = chromium_missing()
    if reason:
        with capture.global_and_fixture_disabled():  # said on the terminal, not only with -rs
            print(f"\nbrowser test skipped: {reason}")
        pytest.skip(reason)
    began = time.monotonic()
    ours_before = {p.pid for p in descendants()}
    files = {f"source/{p.parent.name}/{p.name}": p for p in SOURCES}
    files.update({f"notebooks/{p.name}": p for p in sorted(ROOT.glob("notebooks/*.ipynb"))})
    server = LabServer(files)
    session = Session(server, None)
    left = survivors = []
    try:
        server.start()
        with Browser() as browser:
            session.browser = browser
            yield session
    finally:
        survivors = server.stop()
        # whatever this test started and is still running (driver, browser, server, kernels) is a leak
        left = stop_processes([p for p in descendants() if p.pid not in ours_before])
        session.timings["whole browser test"] = time.monotonic() - began
        with capture.global_and_fixture_disabled():  # the figures go to the terminal, even under capture
            for k, v in session.timings.items():
                print(f"\nbrowser test: {k}: {v:.1f} s", end="")
            print()
    assert not survivors and not left, f"processes left behind: {survivors + left}"


@pytest.mark.parametrize("name", NAMES)
def test_solution_notebook_runs_clean_in_the_browser(lab, name):
    path = next(p for p in SOURCES if p.stem == name)
    plan = read_plan(path)
    assert plan["checks"], f"{name}: no self-check cell (gradelib.check after a solution cell) found in the file"
    page = NotebookPage(lab.browser, lab.server, f"source/{path.parent.name}/{path.name}", f"solution-{name}",
                        len(plan["cells"]))
    try:
        state = page.run_all()
        lab.timings.setdefault("jupyter lab start -> first notebook fully run",
                               time.monotonic() - lab.server.started_at)
        errors = page.errors()
        assert not errors, f"{name}: error or stderr output in cells " + "; ".join(
            f"[{i}] {text[:300]}" for i, text in errors)
        unrun = [i for i, c in enumerate(state["cells"]) if c["code"] and not re.fullmatch(r"\[\d+\]:", c["prompt"])]
        assert not unrun, f"{name}: cells {unrun} did not run"

        for i in plan["checks"]:
            result = page.cell(i).locator(".gradelib-result")
            assert result.count() == 1, f"{name}: the self-check in cell {i} shows no gradelib feedback"
            text = page.text(result)
            assert ": passed" in text and "not yet right" not in text, f"{name}, cell {i}: {text}"

        assert len(plan["images"]) >= 2, (f"{name}: the file stores fewer than two image outputs (a drawing of "
                                         "the network and a plot); the browser test takes its list from them")
        for i in plan["images"]:   # shown as HTML <img> with its alt text (gradelib.alt)
            images = page.cell(i).locator(".jp-OutputArea img")
            assert images.count() >= 1, f"{name}: cell {i} shows no image"
            for k in range(images.count()):
                assert images.nth(k).evaluate("img => img.complete && img.naturalWidth > 0"), \
                    f"{name}: an image of cell {i} did not load"
                assert len(images.nth(k).get_attribute("alt") or "") > 40, f"{name}: an image of cell {i} has no alt"

        _move_a_slider_and_see_the_loss_change(page, name)
    finally:
        try:
            page.screenshot(SCREENSHOTS / f"{name}.png")
        finally:
            page.close()
            lab.server.shutdown_kernels()


def _move_a_slider_and_see_the_loss_change(page, name):
    loss = page.panel.locator(".gradelib-loss")
    assert loss.count() == 1, f"{name}: expected one widget explorer (.gradelib-loss) on the page, found {loss.count()}"
    explorer = page.panel.locator(".jp-Cell", has=page.page.locator(".gradelib-loss"))
    picture = explorer.locator(".jupyter-widgets img")
    assert picture.count() >= 1 and picture.first.evaluate("img => img.complete && img.naturalWidth > 0"), \
        f"{name}: the explorer shows no drawing"
    before = page.text(loss)
    assert re.fullmatch(r"Loss = -?\d+\.\d+", before), f"{name}: the explorer's loss reads {before!r}"
    handles = explorer.locator(".widget-slider .noUi-handle")
    assert handles.count() >= 1, f"{name}: the explorer has no slider"
    for k in range(handles.count()):
        handle = handles.nth(k)
        handle.scroll_into_view_if_needed()
        for _ in range(3):  # a learner nudges the slider with the arrow key
            handle.press("ArrowRight")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = page.text(loss)
            if now != before:
                assert re.fullmatch(r"Loss = -?\d+\.\d+", now), f"{name}: the explorer's loss reads {now!r}"
                return
            time.sleep(0.2)
    pytest.fail(f"{name}: moving the explorer's sliders never changed its loss ({before})")


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_shows_the_diagnosis_of_a_wrong_answer(lab, name):
    import gradelib
    path = ROOT / "notebooks" / f"{name}.ipynb"
    assert path.exists(), f"no student copy {path.relative_to(ROOT)} (python -m gradelib.release makes it)"
    plan = read_plan(path)
    first = plan["first"]
    assert first, f"{name}: no exercise (a solution cell followed by a gradelib.check cell) in the student copy"
    intended, code = WRONG.get(first["function"], (None, f"def {first['function']}(*args):\n    return {{}}\n"))
    namespace = {}
    exec(compile(code, "<wrong answer>", "exec"), namespace)
    expected = gradelib.check(first["exercise"], namespace[first["function"]])
    assert not expected.passed and expected.messages, "the wrong answer must be wrong, with a diagnosis"
    if intended:
        assert expected.mistakes[0] == intended, expected.mistakes

    page = NotebookPage(lab.browser, lab.server, f"notebooks/{path.name}", f"student-{name}", len(plan["cells"]))
    try:
        page.run_all_above(first["solution"])
        assert not page.errors(), f"{name}: the cells above the first exercise fail: {page.errors()}"
        page.set_source(first["solution"], code)
        page.run_cell(first["solution"])
        page.run_cell(first["check"])
        errors = page.errors()
        assert not errors, f"{name}: a wrong answer must give feedback, not an error: {errors}"
        result = page.cell(first["check"]).locator(".gradelib-result")
        assert result.count() == 1, f"{name}: the self-check shows no gradelib feedback"
        text = page.text(result)
        assert "not yet right" in text, text
        assert " ".join(expected.messages[0].split()) in text, f"{name}: the page shows {text!r}"
    finally:
        try:
            page.cell(first["check"]).scroll_into_view_if_needed()
            page.page.screenshot(path=str(SCREENSHOTS / f"{name}-student.png"))
        finally:
            page.close()
            lab.server.shutdown_kernels()


def test_feedback_file_shows_its_maths_with_no_network(lab, tmp_path):
    """A feedback file as `nbgrader generate_feedback` writes it with the course's config, opened from disk in
    Chromium while every request that would leave the machine is refused: the formulas are typeset (MathJax is
    inside the file), none is left as TeX source, and no request was even tried.
    Screenshot: screenshots/feedback-<notebook>.png."""
    from gradelib.grading.report.feedback import FeedbackExporter

    path = SOURCES[-1]
    html, exporter = feedback_html(path, tmp_path)
    assert isinstance(exporter, FeedbackExporter)
    feedback = tmp_path / f"{path.stem}.html"
    feedback.write_text(html, encoding="utf-8")
    assert "$$" in html and "cdnjs" not in html  # the TeX is there for MathJax; no CDN script is left

    tried = []
    # the module's browser: Playwright's sync API allows one session at a time in a thread
    page = lab.browser.new_page(1100, 1000)
    try:
        def refuse(route):
            if route.request.url.startswith(("file:", "data:", "blob:")):
                route.continue_()
            else:
                tried.append(route.request.url)
                route.abort()
        page.route("**/*", refuse)
        page.goto(feedback.as_uri())
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        failed = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
        text = page.evaluate("() => document.body.innerText")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"feedback-{path.stem}.png"), full_page=True)
    finally:
        page.close()
    assert not tried, f"the feedback file asked the network for {tried}"
    assert typeset > 50 and failed == 0, (typeset, failed)
    leftovers = [s for s in ("$$", "\\frac", "\\begin{aligned}", "$x_1$", "$X_1$") if s in text]
    assert not leftovers, f"TeX source shown as text: {leftovers}"
