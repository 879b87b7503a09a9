"""Open the course in JupyterLab as a learner: the notebooks, and none of nbgrader's instructor tools.

    python -m gradelib.lab                      # a learner: opens notebooks/01_single_neuron.ipynb
    python -m gradelib.lab notebooks/02_relu_chain.ipynb --port=8890    # any `jupyter lab` arguments
    jupyter lab                                 # an instructor: everything, nbgrader's tools included

requirements.txt installs nbgrader, whose extensions put instructor tools into
every JupyterLab of the environment: the Nbgrader menu, "Create Assignment",
Formgrader, the assignment and course lists.  A learner needs none of them
(the self-check cell under each exercise gives the feedback), and Binder turns
them off for good (binder/postBuild).  Here nothing in the environment is
changed: this starts `jupyter lab` with a configuration folder of its own in
front of the environment's, for this server only, which

* turns nbgrader's server extensions and its lab extension off, and
* turns JupyterLab's news ("Would you like to get notified about official
  Jupyter news?") and its update check off.

The URL jupyter prints (the one to open headless, or from another machine)
leads to the notebook it opens, notebook 01 or the one named, as the browser
jupyter starts itself does; `jupyter lab NOTEBOOK` alone prints a URL to the
Launcher.

The folder is temporary and removed when the server stops.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

NBGRADER_SERVER_EXTENSIONS = ("formgrader", "assignment_list", "course_list", "validate_assignment")
NBGRADER_LABEXTENSION = "@jupyter/nbgrader"
NO_NEWS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
FIRST_NOTEBOOK = Path("notebooks") / "01_single_neuron.ipynb"
# options by which the learner chooses the server's root folder or landing page themselves
OWN_LANDING = ("root_dir", "root-dir", "notebook_dir", "notebook-dir", "default_url", "default-url")


def write_learner_config(folder: str | Path) -> tuple[Path, Path]:
    """Write the learner's configuration into folder; return (config dir, app settings dir)."""
    config = Path(folder) / "config"
    (config / "labconfig").mkdir(parents=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": {
                        f"nbgrader.server_extensions.{name}": False for name in NBGRADER_SERVER_EXTENSIONS
                    }
                }
            },
            indent=1,
        )
    )
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {NBGRADER_LABEXTENSION: True}}, indent=1)
    )
    settings = Path(folder) / "settings"
    environment = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    if environment.is_dir():  # keep what the environment sets there (Binder's postBuild writes overrides.json)
        shutil.copytree(environment, settings)
    settings.mkdir(exist_ok=True)
    overrides = settings / "overrides.json"
    merged = json.loads(overrides.read_text()) if overrides.is_file() else {}
    for plugin, values in NO_NEWS.items():
        merged.setdefault(plugin, {}).update(values)
    overrides.write_text(json.dumps(merged, indent=1))
    return config, settings


def command(settings: Path, args: list[str]) -> list[str]:
    """The `jupyter lab` command line: the learner's settings, no news, no update check, the landing page, args."""
    opened = [a for a in args if not a.startswith("-")]
    first = [str(FIRST_NOTEBOOK)] if not opened and FIRST_NOTEBOOK.is_file() else []
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--LabApp.app_settings_dir={settings}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *landing((first + opened + [None])[0], args),
        *first,
        *args,
    ]


def landing(notebook: str | None, args: list[str]) -> list[str]:
    """The option that makes the printed URL (and `/`) open notebook, the one jupyter lab is given, if any.

    jupyter serves the folder of the notebook it is given, so the notebook is
    at the top of the tree.  LabApp's default_url, not ServerApp's: JupyterLab
    sets ServerApp.default_url from its own, over the command line's.
    """
    if (
        notebook is None
        or not Path(notebook).is_file()
        or any(a.startswith("-") and any(key in a for key in OWN_LANDING) for a in args)
    ):
        return []
    return [f"--LabApp.default_url=/lab/tree/{quote(Path(notebook).name)}"]


def environment(config: str | Path) -> dict[str, str]:
    """os.environ with the learner's config folder first on Jupyter's config path."""
    before = os.environ.get("JUPYTER_CONFIG_PATH")
    return dict(os.environ, JUPYTER_CONFIG_PATH=os.pathsep.join([str(config)] + ([before] if before else [])))


def main(args: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if args is None else args)
    with tempfile.TemporaryDirectory(prefix="backprop-learner-") as folder:
        config, settings = write_learner_config(folder)
        # Ctrl+C is for jupyter lab (it asks whether to stop); this process waits for it, then cleans up.
        # A handler, not SIG_IGN: an ignored signal would stay ignored in jupyter lab too, a handler does not.
        previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
        try:
            return subprocess.call(command(settings, args), env=environment(config))
        finally:
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
