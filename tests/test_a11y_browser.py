"""WCAG 2.1 A and AA on every page a learner or a teacher reads, checked by axe-core 4 in Debian's Chromium.

The pages: each source notebook open in JupyterLab (only what axe finds inside the notebook counts; what it
finds in JupyterLab's own frame is listed, not asserted), the explorer and the by-hand form run live in
JupyterLab, an nbconvert HTML export of each notebook, a feedback file as nbgrader writes it with the course's
config, the by-hand sheet of each network, and the misconception report.  Each page must have no violation of
impact "serious" or "critical" against the tags wcag2a, wcag2aa, wcag21a, wcag21aa.

ONE browser and ONE JupyterLab server serve every page (module fixtures).  axe-core comes from npm: .ci/run
installs it into a scratch prefix and passes the path of its axe.min.js in AXE_CORE_JS; without it, or without
/usr/bin/chromium, the tests are skipped with the reason.  Every page's violations (serious or not, per rule,
with the number of elements) go to screenshots/axe/<page>.json for the record.
"""
import json
from pathlib import Path

import nbformat
import pytest
import test_report_browser as report_fixture
from browser_util import (
    SERIOUS,
    Browser,
    LabServer,
    NotebookPage,
    axe_missing,
    axe_version,
    chromium_missing,
    feedback_html,
    run_axe,
)
from notebook_plan import plan as read_plan

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "screenshots" / "axe"
SOURCES = sorted(ROOT.glob("source/*/*.ipynb"))
NAMES = [p.stem for p in SOURCES]
NETWORKS = ("single_neuron", "relu_chain", "softmax_223")
STUDENT = "st_axe_3"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
# The notebook's own content in JupyterLab: its outputs and its rendered Markdown.  The rest of the page, the cell
# editors and the notebook's list of cells included, is JupyterLab's frame: listed, not asserted.
OURS = f"{NOTEBOOK} .jp-OutputArea-output, {NOTEBOOK} .jp-RenderedMarkdown"
# Inside our outputs, yet not ours to change: JupyterLab's button beside each Markdown heading, and the handle of
# ipywidgets' sliders (noUiSlider's role="slider" div, to which ipywidgets 8 gives no name: its visible <label>
# is not tied to it, and ipywidgets passes none of noUiSlider's handleAttributes).  Listed with the frame's.
THEIRS = ".jp-collapseHeadingButton, .widget-slider .noUi-handle"
# A notebook of the two widgets a learner works with: the explorer's sliders and the by-hand form
WIDGETS = ["from gradelib.explore import explorer\nexplorer('relu_chain')",
           "from gradelib import byhand\nbyhand.form('relu_chain', 'st_axe_3')"]


def _skip_reason():
    return chromium_missing() or axe_missing()


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def summary(violations):
    """{rule: {impact, nodes, help, first}}: how many elements break each rule, and the first of them."""
    return {v["id"]: {"impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"],
                      "first": v["nodes"][0]["html"][:300]} for v in violations}


def record_and_check(page_name, violations, frame=None):
    """Write the page's violations to screenshots/axe/<page>.json; fail on any serious or critical one."""
    RECORD.mkdir(parents=True, exist_ok=True)
    record = {"page": page_name, "content": summary(violations)}
    if frame is not None:
        record["jupyterlab frame (not ours)"] = summary(frame)
    (RECORD / f"{page_name}.json").write_text(json.dumps(record, indent=1, sort_keys=True))
    serious = [f"{v['id']} ({v['impact']}, {len(v['nodes'])}×: {v['help']}; first: {v['nodes'][0]['html'][:200]})"
               for v in violations if v["impact"] in SERIOUS]
    assert not serious, f"{page_name}: " + "; ".join(serious)


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    widgets = tmp_path_factory.mktemp("widgets") / "widgets.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in WIDGETS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, widgets)
    files = {f"{p.stem}.ipynb": p for p in SOURCES}
    files["widgets.ipynb"] = widgets
    server = LabServer(files)
    try:
        server.start()
        yield server
    finally:
        survivors = server.stop()   # the server and its kernels, by their process ids
        assert not survivors, f"processes left behind: {survivors}"


def open_page(browser, path, wait=None):
    page = browser.new_page(1100, 1000)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    if wait:
        page.wait_for_function(wait)
    return page


@pytest.mark.parametrize("name", NAMES)
def test_notebook_in_jupyterlab(browser, lab, name):
    path = next(p for p in SOURCES if p.stem == name)
    page = NotebookPage(browser, lab, path.name, f"axe-{name}", len(read_plan(path)["cells"]))
    try:
        page.page.wait_for_function(   # every stored picture has loaded
            f"() => Array.from(document.querySelectorAll('{NOTEBOOK} img')).every(i => i.complete)")
        content, frame = run_axe(page.page, OURS, THEIRS)
    finally:
        page.close()
        lab.shutdown_kernels()
    record_and_check(f"jupyterlab-{name}", content, frame)


def test_explorer_and_form_in_jupyterlab(browser, lab):
    page = NotebookPage(browser, lab, "widgets.ipynb", "axe-widgets", len(WIDGETS))
    try:
        page.run_all()
        page.page.locator(".gradelib-loss").wait_for()
        page.page.locator(".widget-text input").first.wait_for()
        content, frame = run_axe(page.page, OURS, THEIRS)
    finally:
        page.close()
        lab.shutdown_kernels()
    record_and_check("jupyterlab-explorer-and-form", content, frame)


@pytest.mark.parametrize("name", NAMES)
def test_html_export(browser, tmp_path, name):
    from gradelib.html_export import AccessibleHTMLExporter
    path = next(p for p in SOURCES if p.stem == name)
    html, _ = AccessibleHTMLExporter().from_filename(str(path))
    out = tmp_path / f"{name}.html"
    out.write_text(html, encoding="utf-8")
    page = open_page(browser, out)
    try:
        violations = run_axe(page)
    finally:
        page.close()
    record_and_check(f"export-{name}", violations)


def test_feedback_file(browser, tmp_path):
    path = next(p for p in SOURCES if p.stem.startswith("02"))
    html, _ = feedback_html(path, tmp_path)
    out = tmp_path / f"{path.stem}.html"
    out.write_text(html, encoding="utf-8")
    page = open_page(browser, out, wait="() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    try:
        page.evaluate("() => MathJax.startup.promise")
        formulas = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        # MathJax's assistive MathML: a copy of each formula that screen readers read (the SVG says nothing)
        mathml = page.evaluate("() => document.querySelectorAll('mjx-container > mjx-assistive-mml > math').length")
        violations = run_axe(page)
    finally:
        page.close()
    assert formulas > 50 and mathml == formulas, (formulas, mathml)
    record_and_check(f"feedback-{path.stem}", violations)


@pytest.mark.parametrize("network", NETWORKS)
def test_byhand_sheet(browser, tmp_path, network):
    from gradelib import byhand
    out = byhand.sheet(network, STUDENT).save(tmp_path / f"{network}.html")
    page = open_page(browser, out)
    try:
        violations = run_axe(page)
    finally:
        page.close()
    record_and_check(f"sheet-{network}", violations)


def test_misconception_report(browser, tmp_path):
    from gradelib.grading.report.page import html_page
    from gradelib.grading.report.tally import tally
    out = tmp_path / "report.html"
    out.write_text(html_page(tally(report_fixture.class_records()), f"What the class got wrong: "
                             f"{report_fixture.ASSIGNMENT}"), encoding="utf-8")
    page = open_page(browser, out)
    try:
        violations = run_axe(page)
        version = axe_version(page)
    finally:
        page.close()
    assert version and version.startswith("4."), version
    record_and_check("report", violations)

