"""Run as root while the course's image is built (course_hub/image/Dockerfile): what a pod needs beyond binder/.

    python configure_image.py [ROOT]      # ROOT is / in the image; a test passes a folder of its own

It writes, with the single-machine setup's own functions (setup_course), so that both give the same:

- the per-role Jupyter config folders, ROLE_CONFIG/{student,instructor} (kubernetes_config.py puts the person's
  on JUPYTER_CONFIG_PATH): which nbgrader extensions and lab plugins each role's server has; the instructor's
  loads the course's nbgrader_config.py from the course volume (COURSE_MOUNT);
- nbgrader's exchange and course id for everyone, in /etc/jupyter/nbgrader_config.py (a folder every Python
  environment of the image reads, whichever of repo2docker's two runs the server): the exchange volume at
  EXCHANGE_MOUNT.
"""
from __future__ import annotations

import sys
from pathlib import Path

import kubernetes_config as kc  # beside this file while the image is built
import setup_course as sc

# the pods' home is /home/jovyan whoever the person is: the course folder's path names "jovyan", not a user name
POD_USER = Path(kc.HOME).name
SYSTEM_JUPYTER = Path("/etc/jupyter")  # on jupyter_config_path() of every environment (jupyter_core's SYSTEM_CONFIG_PATH)


def configure_image(root: Path) -> None:
    """The role folders and the exchange config, under `root` (/ in the image)."""
    role_folders = sc.Layout(prefix=inside(root, Path(kc.ROLE_CONFIG).parent), home_base=Path(kc.HOME).parent)
    sc.role_configs(role_folders, sc.Roster(instructor=POD_USER, students=()), sc.Report(steps=2))
    exchange = sc.Layout(prefix=Path(kc.EXCHANGE_MOUNT).parent)
    etc = inside(root, SYSTEM_JUPYTER)
    etc.mkdir(parents=True, exist_ok=True)
    sc.write_text(etc / "nbgrader_config.py", sc.exchange_config(exchange), 0o644)
    print(f"nbgrader: the exchange is {exchange.exchange} ({etc / 'nbgrader_config.py'})")


def inside(root: Path, path: Path) -> Path:
    """`path` (absolute) under `root`."""
    return root / path.relative_to("/")


if __name__ == "__main__":
    configure_image(Path(sys.argv[1] if len(sys.argv) > 1 else "/"))
