"""`python -m gradelib.lab` opens JupyterLab as a learner sees it: no nbgrader tools, no news; `jupyter lab` is unchanged.

The server is asked over its REST API (no browser): nbgrader's formgrader page, the lab page's configuration
and JupyterLab's notification settings.  The test starts the server through the launcher, as a learner does,
and stops it, and everything it started, by process id.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from gradelib import lab

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, token, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


@pytest.fixture
def learner_lab(tmp_path):
    port, token = free_port(), "learner-test-token"
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, HOME=str(tmp_path / "home"), JUPYTER_CONFIG_DIR=str(tmp_path / "home" / ".jupyter"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), TMPDIR=str(tmp_path / "tmp"))
    env.pop("JUPYTER_CONFIG_PATH", None)
    log = open(tmp_path / "lab.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gradelib.lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", "--ServerApp.allow_root=True", f"--IdentityProvider.token={token}"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while get_status(port, token) != 200:
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "lab.log").read_text()[-3000:]
            time.sleep(0.3)
        yield port, token, tmp_path
    finally:
        # jupyter lab first: gradelib.lab then returns by itself and removes its settings folder
        family = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
        for p in family:
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        gone, alive = psutil.wait_procs(family, 20)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            alive.append(psutil.Process(process.pid))
        for p in alive:
            p.kill()
        log.close()
        assert not list((tmp_path / "tmp").glob("backprop-learner-*")), "gradelib.lab left its settings folder"


def page_config(page):
    """The configuration JupyterLab's page carries (its extensions, the notebook it opens as treePath)."""
    return json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                page, re.S).group(1))


def get_status(port, token):
    try:
        return get(port, token, "/api/status")[0]
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


def test_the_learners_lab_has_no_nbgrader_tools_and_no_news(learner_lab):
    port, token, tmp_path = learner_lab
    assert get(port, token, "/formgrader")[0] == 404, "formgrader is served to the learner"
    status, page = get(port, token, "/lab")
    assert status == 200
    config = page_config(page)
    assert lab.NBGRADER_LABEXTENSION in config["disabledExtensions"], config["disabledExtensions"]
    status, body = get(port, token, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    defaults = {k: v["default"] for k, v in json.loads(body)["schema"]["properties"].items()}  # overrides set these
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults  # JupyterLab's: "none"


def test_the_printed_url_opens_the_first_notebook(learner_lab):
    """The URL jupyter prints (for a browser it does not start: headless, or on another machine) leads to notebook
    01, as the page's treePath says, and that path is notebook 01 in the server's contents."""
    port, token, tmp_path = learner_lab
    printed = set(re.findall(rf"http://127\.0\.0\.1:{port}/\S*", (tmp_path / "lab.log").read_text()))
    assert printed, (tmp_path / "lab.log").read_text()[-3000:]
    for url in printed:
        status, page = get(port, token, urllib.parse.urlsplit(url).path)
        assert status == 200, url
        tree = page_config(page).get("treePath")
        assert tree, f"the printed URL {url} opens the Launcher, not a notebook"
        status, body = get(port, token, f"/api/contents/{urllib.parse.quote(tree)}?content=0")
        assert status == 200 and json.loads(body)["type"] == "notebook", (url, tree, status)
        assert json.loads(body)["name"] == lab.FIRST_NOTEBOOK.name, (url, tree)


def test_the_launcher_opens_the_first_notebook_unless_told_another(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    settings = tmp_path / "settings"
    first = lab.command(settings, [])
    assert first[-2:] == ["--LabApp.default_url=/lab/tree/01_single_neuron.ipynb", "notebooks/01_single_neuron.ipynb"]
    chosen = lab.command(settings, ["notebooks/02_relu_chain.ipynb", "--port", "8890"])
    assert "notebooks/01_single_neuron.ipynb" not in chosen and chosen[-4:] == [
        "--LabApp.default_url=/lab/tree/02_relu_chain.ipynb", "notebooks/02_relu_chain.ipynb", "--port", "8890"]
    # a learner who chooses the root folder or the landing page keeps jupyter's own
    for own in ("--notebook-dir=notebooks", "--ServerApp.root_dir=.", "--LabApp.default_url=/lab"):
        assert not any(a.startswith("--LabApp.default_url=/lab/tree") for a in lab.command(settings, [own]))


def test_the_environment_is_not_changed_for_the_instructor(tmp_path):
    """The learner's settings live in a temporary folder: nothing is written into the environment."""
    config, settings = lab.write_learner_config(tmp_path)
    assert config.is_relative_to(tmp_path) and settings.is_relative_to(tmp_path)
    assert not (Path(sys.prefix) / "etc" / "jupyter" / "labconfig" / "page_config.json").exists() or \
        lab.NBGRADER_LABEXTENSION not in (Path(sys.prefix) / "etc" / "jupyter" / "labconfig" /
                                          "page_config.json").read_text()
    env = lab.environment(config)
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(config)
    cmd = lab.command(settings, [])
    assert cmd[:4] == [sys.executable, "-m", "jupyter", "lab"] and f"--LabApp.app_settings_dir={settings}" in cmd
