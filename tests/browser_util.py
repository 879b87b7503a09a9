"""Drive JupyterLab in Debian's Chromium, as a learner would: a private server, a browser, notebook actions.

Used by tests/test_browser.py.  Three pieces, one idea each:

- LabServer: `jupyter lab` on 127.0.0.1, a free port, a random token, and temporary config, data,
  runtime, settings and workspace folders, serving a temporary copy of the notebooks; stopped by its
  own process id (terminate, then kill), with every process it started.
- Browser: Playwright for Python driving /usr/bin/chromium (never `playwright install`).
- NotebookPage: open a notebook, run cells through JupyterLab's menus and editor, read the page,
  and save a screenshot of the whole notebook.

Nothing here downloads anything: JupyterLab's news and update checks are off, and Chromium runs with
background networking, component updates and sync disabled.
"""
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

# What a learner on Binder sees (binder/postBuild turns the same things off): nbgrader's
# instructor tools and assignment list are noise for self-study, and its formgrader costs a second at start.
NBGRADER_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.assignment_list",
                              "nbgrader.server_extensions.course_list",
                              "nbgrader.server_extensions.validate_assignment"]
NBGRADER_LABEXTENSION = "@jupyter/nbgrader"

STDERR_MIME = "application/vnd.jupyter.stderr"  # JupyterLab shows stderr streams and tracebacks with it


def chromium_missing():
    """None when Chromium and Playwright can run here, else the reason the browser test is skipped."""
    if not os.access(CHROMIUM, os.X_OK):
        return (f"{CHROMIUM} is missing: install Debian's Chromium with "
                "`apt-get install -y --no-install-recommends chromium` (the test never downloads a browser)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -r requirements.txt)"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """`jupyter lab` serving a temporary copy of `files` ({path inside the server root: source path})."""

    def __init__(self, files, python=sys.executable, start_timeout=120):
        self.files = dict(files)
        self.python = python
        self.start_timeout = start_timeout
        self.process = None
        self.tmp = None

    # -- life cycle --------------------------------------------------------------------------------------
    def start(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="gradelib-lab-"))
        dirs = {name: self.tmp / name for name in ("config", "data", "runtime", "settings", "workspaces", "root")}
        for d in dirs.values():
            d.mkdir()
        self.root = dirs["root"]
        for rel, src in self.files.items():
            dst = self.root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        self._write_config(dirs)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        env = dict(os.environ,
                   JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
                   JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
                   JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]), IPYTHONDIR=str(self.tmp / "ipython"),
                   PYTHONUNBUFFERED="1")
        env.pop("JUPYTER_TOKEN", None)
        self.log_path = self.tmp / "jupyter.log"
        self.started_at = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [self.python, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                 f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
                 f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                 "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer within {self.start_timeout} s:\n"
                                       f"{self.log_tail()}")
                time.sleep(0.2)

    def _write_config(self, dirs):
        config = dirs["config"]
        (config / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {name: False for name in NBGRADER_SERVER_EXTENSIONS}}}))
        (config / "labconfig").mkdir()
        (config / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {NBGRADER_LABEXTENSION: True}}))
        # no "get Jupyter news?" toast, no update check: a test must not reach out, nor a toast cover the page
        notification = dirs["settings"] / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text(json.dumps(
            {"fetchNews": "false", "checkForUpdates": False}))

    def stop(self):
        """Stop the server and every process it started; return those that survived even a kill (none, we hope)."""
        survivors = []
        if self.process is not None:
            try:
                children = psutil.Process(self.process.pid).children(recursive=True)  # the kernels
            except psutil.NoSuchProcess:
                children = []
            if self.process.poll() is None:
                try:
                    self.shutdown_kernels()
                except Exception:
                    pass  # the server may be wedged: the signals below still end it
                end(self.process, 20)
            survivors = stop_processes(children)
            self.process = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        return survivors

    def log_tail(self, chars=4000):
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # -- REST ----------------------------------------------------------------------------------------------
    def api(self, method, path):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self):
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def url(self, path, workspace):
        # a workspace of its own per page, so no page reopens (and restarts kernels for) another's notebooks
        return f"http://127.0.0.1:{self.port}/lab/workspaces/{workspace}/tree/{path}?token={self.token}"


def end(process, grace):
    """Terminate a process we started (a subprocess.Popen), and kill it if it is still there after grace seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def stop_processes(processes, timeout=10):
    """Terminate, then kill, each still-running process of the list; return those still alive after that."""
    alive = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:   # ended between the listing and now
            pass
    for stop in ("terminate", "kill"):
        for p in alive:
            try:
                getattr(p, stop)()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(alive, timeout=timeout)
    return alive


def descendants():
    """The processes this test process has started, and theirs."""
    return psutil.Process().children(recursive=True)


class Browser:
    """Headless Chromium through Playwright's sync API."""

    def __enter__(self):
        from playwright.sync_api import sync_playwright
        self._playwright = sync_playwright().start()
        try:
            self.browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                            headless=True)
        except Exception:
            self._playwright.stop()
            raise
        return self

    def new_page(self, width=1280, height=1000):
        page = self.browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(60_000)
        return page

    def __exit__(self, *exc):
        try:
            self.browser.close()
        finally:
            self._playwright.stop()


# -- the notebook in the page ------------------------------------------------------------------------------
_STATE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const cells = Array.from(panel.querySelectorAll('.jp-Notebook .jp-Cell'));
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return {
    status: indicator ? indicator.getAttribute('data-status') : null,
    cells: cells.map(c => {
      const prompt = c.querySelector('.jp-InputArea-prompt');
      return {
        code: c.classList.contains('jp-CodeCell'),
        prompt: prompt ? prompt.textContent.trim() : '',
        errors: Array.from(c.querySelectorAll('.jp-OutputArea-output[data-mime-type="%s"]'))
                     .map(e => e.textContent.slice(0, 2000)),
      };
    }),
  };
}""" % STDERR_MIME


class NotebookPage:
    """One notebook open in JupyterLab, in its own page and workspace."""

    def __init__(self, browser, lab, path, workspace, cells):
        """Open `path` (inside the server's root) and wait until its `cells` cells are on the page and the
        kernel is idle."""
        self.page = browser.new_page()
        self.lab = lab
        self.path = path
        self.page.goto(lab.url(path, workspace))
        self.panel = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        self.page.wait_for_function(  # JupyterLab attaches the cells of a long notebook a few at a time
            """n => document.querySelectorAll(
                 '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').length === n""",
            arg=cells, timeout=120_000)
        self.page.wait_for_function(  # the kernel has started and is idle
            """() => { const i = document.querySelector(
                 '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
               return i && i.getAttribute('data-status') === 'idle'; }""", timeout=120_000)
        self._hide_left_sidebar()

    def close(self):
        self.page.close()

    def _hide_left_sidebar(self):
        """The file browser takes a fifth of the width; a learner reading the notebook closes it too."""
        tab = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if tab.count():
            tab.first.click()

    # -- reading -----------------------------------------------------------------------------------------
    def state(self):
        return self.page.evaluate(_STATE_JS)

    def cell(self, index):
        return self.panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def text(self, locator):
        """The text a learner reads there: scrolled into view first, since JupyterLab skips rendering
        off-screen cells (CSS content-visibility), and an unrendered element has no innerText."""
        locator.scroll_into_view_if_needed()
        deadline = time.monotonic() + 10
        while True:  # the cell renders a frame or two after it came into view
            text = " ".join(locator.inner_text().split())
            if text or time.monotonic() > deadline:
                return text
            time.sleep(0.1)

    def cell_count(self):
        return self.panel.locator(".jp-Notebook .jp-Cell").count()

    def errors(self):
        """[(cell index, text)] of every error or stderr output on the page."""
        return [(i, text) for i, c in enumerate(self.state()["cells"]) for text in c["errors"]]

    # -- doing -------------------------------------------------------------------------------------------
    def menu(self, menu_label, command):
        """Click a menu of the menu bar, then its item for the JupyterLab command, as a learner does."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu_label)}$")).click()
        item = self.page.locator(f'.lm-Menu-item[data-command="{command}"]')
        item.first.wait_for(state="visible")
        item.first.click()

    def select(self, index):
        """Make cell `index` the active cell, in command mode."""
        self.cell(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Escape")

    def run_all(self, timeout=300):
        """Edit > Clear Outputs of All Cells, Run > Run All Cells, and wait until the kernel is done."""
        self.menu("Edit", "editmenu:clear-all")
        self.menu("Run", "runmenu:run-all")
        code = [i for i, c in enumerate(self.state()["cells"]) if c["code"]]
        return self.wait_for_cells(code, timeout)

    def run_all_above(self, index, timeout=300):
        self.select(index)
        self.menu("Run", "notebook:run-all-above")
        code = [i for i, c in enumerate(self.state()["cells"][:index]) if c["code"]]
        return self.wait_for_cells(code, timeout)

    def set_source(self, index, code):
        """Replace the text of cell `index` through its editor (select all, then insert, as a paste does)."""
        editor = self.cell(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        # insert_text types the whole text as one input, so the editor neither auto-indents nor closes brackets
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Escape")

    def run_cell(self, index, timeout=120):
        """Select the cell and press Ctrl+Enter (run it in place); wait until it has run."""
        self.select(index)
        before = self.state()["cells"][index]["prompt"]
        self.page.keyboard.press("Control+Enter")
        return self.wait_for_cells([index], timeout, changed_from={index: before})

    def wait_for_cells(self, indices, timeout, changed_from=None):
        """Wait until each cell of `indices` shows an execution count (or an error stopped the run) and the
        kernel is idle; return the page's state then."""
        changed_from = changed_from or {}
        deadline = time.monotonic() + timeout
        settled = None
        while True:
            s = self.state()
            prompts = [s["cells"][i]["prompt"] for i in indices]
            running = any("*" in c["prompt"] for c in s["cells"])
            numbered = all(re.fullmatch(r"\[\d+\]:", p) and p != changed_from.get(i)
                           for i, p in zip(indices, prompts))
            stopped = any(c["errors"] for c in s["cells"]) and not running
            if (numbered or stopped) and not running and s["status"] == "idle":
                # idle twice in a row, a moment apart: the kernel is not between two queued cells
                if settled is not None and time.monotonic() - settled > 0.5:
                    return s
                settled = settled or time.monotonic()
            else:
                settled = None
            if time.monotonic() > deadline:
                raise TimeoutError(f"cells {indices} of {self.path} did not finish within {timeout} s; "
                                   f"prompts {prompts}, kernel {s['status']}")
            time.sleep(0.2)

    # -- the picture ---------------------------------------------------------------------------------------
    def screenshot(self, path):
        """The whole notebook, top to bottom, as one PNG: the page's header, then the notebook scrolled a
        screen at a time (it scrolls inside its panel, so a page screenshot would show one screen only)."""
        from PIL import Image
        scroller = self.panel.locator(".jp-WindowedPanel-outer").first
        box = scroller.bounding_box()
        total = scroller.evaluate("e => e.scrollHeight")
        x, y, w, h = (int(round(v)) for v in (box["x"], box["y"], box["width"], box["height"]))
        header = Image.open(io.BytesIO(self.page.screenshot(clip={"x": 0, "y": 0, "width": x + w, "height": y})))
        sheet = Image.new("RGB", (x + w, y + total), "white")
        sheet.paste(header, (0, 0))
        seam = 8  # the toolbar's shadow falls on the top rows of every screen: later screens overlap them
        top = 0
        while True:
            shown = int(scroller.evaluate("(e, top) => { e.scrollTop = top; return e.scrollTop; }", top))
            self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            self.page.wait_for_timeout(150)  # off-screen cells render when they come into view
            tile = Image.open(io.BytesIO(self.page.screenshot(clip={"x": x, "y": y, "width": w, "height": h})))
            cut = 0 if shown == 0 else seam
            sheet.paste(tile.crop((0, cut, tile.width, tile.height)), (x, y + shown + cut))
            if shown + h >= total or shown < top:
                break
            top = shown + h - seam
        scroller.evaluate("e => { e.scrollTop = 0; }")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path, optimize=True)
        return sheet.size


# -- accessibility: axe-core in the page ---------------------------------------------------------------------
AXE_ENV = "AXE_CORE_JS"   # the path of npm axe-core 4's axe.min.js (.ci/run installs it into a scratch prefix)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]   # WCAG 2.0 and 2.1, levels A and AA
SERIOUS = ("serious", "critical")


def axe_missing():
    """None when axe-core's script is given by AXE_CORE_JS and exists, else the reason the axe test is skipped."""
    path = os.environ.get(AXE_ENV)
    if not path:
        return (f"{AXE_ENV} is not set: install axe-core with `npm install --prefix DIR axe-core@4` and set "
                f"{AXE_ENV}=DIR/node_modules/axe-core/axe.min.js (.ci/run does)")
    if not os.path.isfile(path):
        return f"{AXE_ENV}={path} is no file"
    return None


# Splits axe's violations in two: the elements inside `ours` (a CSS selector) but not inside `theirs`, and the others.
_SPLIT_JS = """([violations, ours, theirs]) => {
  const part = inside => violations
    .map(v => ({...v, nodes: v.nodes.filter(n => {
      const e = document.querySelector(n.target[0]);
      return Boolean(e && e.closest(ours) && !(theirs && e.closest(theirs))) === inside; })}))
    .filter(v => v.nodes.length);
  return [part(true), part(false)];
}"""


def run_axe(page, ours=None, theirs=None):
    """axe-core's WCAG 2.1 A/AA violations on the whole page, as axe reports them: [{id, impact, help, nodes:
    [{target, html}]}]; with `ours` (a CSS selector), the pair (those inside it and not inside `theirs`, the
    others).  One axe run per
    call, since a run over JupyterLab's page takes seconds; the script is injected once per document."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=Path(os.environ[AXE_ENV]).read_text(encoding="utf-8"))
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    violations = page.evaluate("options => axe.run(document, options).then(r => r.violations)", options)
    return violations if ours is None else page.evaluate(_SPLIT_JS, [violations, ours, theirs])


def feedback_html(path, course_root):
    """The feedback file of the notebook at `path` as `nbgrader generate_feedback` writes it with the course's
    config (gradelib.grading.course.configure), full marks filled in as nbgrader's GetGrades does; returns
    (html, the exporter nbgrader made)."""
    import nbformat
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from gradelib.grading.course import configure

    config = Config()
    configure(config)
    config.CourseDirectory.root = str(course_root)
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)  # as nbgrader makes it
    nb = nbformat.read(path, as_version=4)
    points = 0.0
    for cell in nb.cells:  # the scores nbgrader's GetGrades puts in before the template runs
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["score"] = meta.get("points", 0.0)
            points += meta["score"]
    html, _ = exporter.from_notebook_node(nb, resources={"nbgrader": {
        "notebook": path.stem, "score": points, "max_score": points, "late_penalty": 0}})
    return html, exporter


def axe_version(page):
    return page.evaluate("() => window.axe ? axe.version : null")
