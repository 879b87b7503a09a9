"""JupyterHub for the course "Backprop by Hand": the instructor and the students as Unix users of this machine.

course_hub/setup_course.py copies this file to PREFIX/jupyterhub_config.py and writes the settings it reads
beside it (PREFIX/course.json; COURSE_HUB_SETTINGS names another).  Start the hub as root:

    cd PREFIX/hub && PREFIX/venv/bin/jupyterhub -f PREFIX/jupyterhub_config.py

- Every user's server runs as that Unix user (LocalProcessSpawner), from the course's shared environment,
  in their home (mode 700: no one else reads it).
- Logins: the users' Unix passwords (PAMAuthenticator); or, with the setup's --authenticator lti13, from the
  course's LMS (LTI 1.3, jupyterhub-ltiauthenticator; the user name from the claim the setup names, mapped through
  the roster's ids; someone not on the roster gets a page saying so, and no server).  For a test or a trial, the settings may name
  JupyterHub's "shared-password" authenticator instead, with the password in COURSE_HUB_SHARED_PASSWORD:
  anyone who knows it can log in as any user of the roster, so never for a real class.
- Who may log in is the roster in the settings, read again at every login and every refresh of a session
  (at most a minute old, and always before a server starts): a student the setup adds can log in at once,
  and one it removes is refused, also with a session they already had.  The setup also removes such a student
  from the running hub through its REST API (their server stopped), with a service token of its own
  (PREFIX/hub/roster-service.token, root only).
- nbgrader: the exchange and the course id come from the environment's nbgrader_config.py; what each
  role's server shows comes from PREFIX/jupyter/<role>, put first on JUPYTER_CONFIG_PATH: formgrader and the
  course list for the instructor, the Assignments tab and Validate for students.
- The hub, the proxy and the users' servers listen on 127.0.0.1, except the proxy's public side, which
  listens where the settings say (127.0.0.1 unless the setup was given --ip).
"""
import csv
import json
import os
import time
from pathlib import Path

from jupyterhub.auth import PAMAuthenticator
from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
SETTINGS_PATH = Path(os.environ.get("COURSE_HUB_SETTINGS") or HERE / "course.json")
with open(SETTINGS_PATH, encoding="utf-8") as f:
    course = json.load(f)

PREFIX = Path(course["prefix"])
VENV = Path(course["venv"])
ROSTER_TOKEN = PREFIX / "hub" / "roster-service.token"
ROSTER_RECORD = PREFIX / "hub" / "roster.csv"   # each user name beside its institutional id (root only)

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

# The setup's own service: with it, a run of the setup tells the running hub who left the roster and who joined.
if ROSTER_TOKEN.exists():
    c.JupyterHub.services.append({"name": "course-roster", "api_token": ROSTER_TOKEN.read_text().strip()})
    c.JupyterHub.load_roles.append({"name": "course-roster", "services": ["course-roster"],
                                    "scopes": ["list:users", "admin:users"]})

# -- who may log in, and how --------------------------------------------------------------------------------
def current_course() -> dict:
    """The settings as the setup last wrote them (whole, through a rename: never half a file)."""
    with open(SETTINGS_PATH, encoding="utf-8") as f:
        return json.load(f)


class RosterLogins:
    """For an authenticator: the roster of the settings file, read now, decides who may use the hub."""

    def members(self) -> set[str]:
        try:
            now = current_course()
        except (OSError, ValueError) as e:  # unreadable: nobody, rather than whoever was on an old roster
            self.log.error("the course's roster %s cannot be read (%s): nobody may log in", SETTINGS_PATH, e)
            return set()
        return {now["instructor"], *now["students"]}

    def check_allowed(self, username, authentication=None):
        return username in self.members()

    async def refresh_user(self, user, handler=None):
        """False for someone no longer on the roster: the hub ends their session and asks them to log in,
        which check_allowed then refuses."""
        return user.name in self.members()


class CoursePAMAuthenticator(RosterLogins, PAMAuthenticator):
    """The users' Unix passwords; the course's roster."""


class CourseSharedPasswordAuthenticator(RosterLogins, SharedPasswordAuthenticator):
    """One password for everyone on the course's roster (tests and trials only)."""


# the roster at start, so that the admin page lists the class; who may log in is decided by RosterLogins
c.Authenticator.allowed_users = {course["instructor"], *course["students"]}
c.Authenticator.auth_refresh_age = 60
c.Authenticator.refresh_pre_spawn = True
if course.get("authenticator", "pam") == "lti13":
    from ltiauthenticator.lti13.auth import LTI13Authenticator
    from tornado import web

    USED_NONCES: dict[str, float] = {}   # every launch's nonce -> when its id_token expires (this hub's run)

    def roster_name(lms_value: str) -> str | None:
        """The roster's user name for what the LMS sent: a member's institutional id (compared without case, as
        e-mails are), or a user name on the roster; None for anyone else."""
        wanted = lms_value.strip().lower()
        with open(ROSTER_RECORD, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if wanted in (row["username"], row["id"].strip().lower()):
                    return row["username"]
        return None

    class CourseLTI13Authenticator(RosterLogins, LTI13Authenticator):
        """Logins from the course's LMS (LTI 1.3); the course's roster, as the setup wrote it."""

        def refuse_replay(self, id_token: dict) -> None:
            """A launch's id_token is good once: the library checks the nonce against the browser's cookie, which a
            replayed request may carry too; the hub also remembers every nonce until its token expires."""
            now = time.time()
            for nonce, expiry in list(USED_NONCES.items()):
                if expiry < now:
                    del USED_NONCES[nonce]
            nonce = id_token.get("nonce", "")
            if nonce in USED_NONCES:
                raise web.HTTPError(403, "This launch was already used. Open the course again from your LMS.")
            USED_NONCES[nonce] = float(id_token.get("exp", now + 3600))

        async def authenticate(self, handler, data=None):
            data = data or {}
            self.refuse_replay(data)
            lms_name = self.get_username(data)   # the claim the instructor chose (--lti-username-claim)
            name = roster_name(str(lms_name))
            if name is None or name not in self.members():
                raise web.HTTPError(403, f"You ({lms_name}) are not on the roster of this course, so the course "
                                         "hub has no server for you. Ask your instructor to add you.")
            return {"name": name, "auth_state": data}

    lti = course["lti"]
    c.JupyterHub.authenticator_class = CourseLTI13Authenticator
    c.LTI13Authenticator.issuer = lti["issuer"]
    c.LTI13Authenticator.client_id = {lti["client_id"]}
    c.LTI13Authenticator.jwks_endpoint = lti["jwks_url"]
    c.LTI13Authenticator.authorize_url = lti["login_url"]
    c.LTI13Authenticator.username_key = lti["username_claim"]
elif course.get("authenticator", "pam") == "shared-password":
    c.JupyterHub.authenticator_class = CourseSharedPasswordAuthenticator
    c.SharedPasswordAuthenticator.user_password = os.environ["COURSE_HUB_SHARED_PASSWORD"]
else:
    c.JupyterHub.authenticator_class = CoursePAMAuthenticator
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
    role = "instructor" if spawner.user.name == current_course()["instructor"] else "student"
    return course["role_config"][role]


c.Spawner.environment = {
    "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "JUPYTER_CONFIG_PATH": role_config_path,
}
