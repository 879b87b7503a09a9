"""JupyterHub for the course "Backprop by Hand": the instructor and the students as Unix users of this machine.

course_hub/setup_course.py copies this file to PREFIX/jupyterhub_config.py and writes the settings it reads
beside it (PREFIX/course.json; COURSE_HUB_SETTINGS names another).  Start the hub as root:

    cd PREFIX/hub && PREFIX/venv/bin/jupyterhub -f PREFIX/jupyterhub_config.py

- Every user's server runs as that Unix user (LocalProcessSpawner), from the course's shared environment,
  in their home (mode 700: no one else reads it).
- Logins: the users' Unix passwords (PAMAuthenticator).  For a test or a trial, the settings may name
  JupyterHub's "shared-password" authenticator instead, with the password in COURSE_HUB_SHARED_PASSWORD:
  anyone who knows it can log in as any user of the roster, so never for a real class.
- nbgrader: the exchange and the course id come from the environment's nbgrader_config.py; what each
  role's server shows comes from PREFIX/jupyter/<role>, put first on JUPYTER_CONFIG_PATH: formgrader and the
  course list for the instructor, the Assignments tab and Validate for students.
- The hub, the proxy and the users' servers listen on 127.0.0.1, except the proxy's public side, which
  listens where the settings say (127.0.0.1 unless the setup was given --ip).
"""
import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
SETTINGS_PATH = Path(os.environ.get("COURSE_HUB_SETTINGS") or HERE / "course.json")
with open(SETTINGS_PATH, encoding="utf-8") as f:
    course = json.load(f)

PREFIX = Path(course["prefix"])
VENV = Path(course["venv"])
INSTRUCTORS = {course["instructor"]}
STUDENTS = set(course["students"])

# -- where the hub and the proxy listen, and where the hub keeps its state --------------------------------
c.JupyterHub.bind_url = f"http://{course['ip']}:{course['port']}/"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = course["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{course['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = course["proxy_command"]
c.ConfigurableHTTPProxy.pid_file = str(PREFIX / "hub" / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + str(PREFIX / "hub" / "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = str(PREFIX / "hub" / "jupyterhub_cookie_secret")
# When the hub stops, it stops the proxy and every user's server it started.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# -- who may log in, and how --------------------------------------------------------------------------------
c.Authenticator.allowed_users = INSTRUCTORS | STUDENTS
if course.get("authenticator", "pam") == "shared-password":
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = os.environ["COURSE_HUB_SHARED_PASSWORD"]
else:
    c.JupyterHub.authenticator_class = "pam"
    # the setup made the users; a hub that creates Unix users at login is not wanted here
    c.LocalAuthenticator.create_system_users = False
    # PAM sessions (pam_systemd, pam_limits...) are for logins at a terminal; JupyterHub's docs advise
    # leaving them off unless a site needs them
    c.PAMAuthenticator.open_sessions = False

# -- every user's server: their own Unix user, the shared environment, the tools of their role -------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.ip = "127.0.0.1"
# JupyterLab with nbgrader's extensions starts in a few seconds alone, longer when a class logs in at once
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
# Nothing of the hub's own environment (root's PATH, a virtualenv, PYTHONPATH) reaches a user's server.
c.Spawner.env_keep = ["LANG", "LC_ALL"]


def role_config_path(spawner):
    """JUPYTER_CONFIG_PATH for this user's server: the instructor's or the students' settings."""
    role = "instructor" if spawner.user.name in INSTRUCTORS else "student"
    return course["role_config"][role]


c.Spawner.environment = {
    "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "JUPYTER_CONFIG_PATH": role_config_path,
}
