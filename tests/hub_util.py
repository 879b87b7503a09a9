"""A course's JupyterHub on loopback, driven through its REST APIs: for tests/test_hub.py and benchmarks/hub_load.py.

- CourseHub: course_hub/setup_course.py run for a roster in a temporary prefix (real Unix users, the exchange,
  the shared environment on the system Python), then the hub from that environment on free 127.0.0.1 ports
  with JupyterHub's shared-password authenticator, and a service token for the test; stopped by process id,
  and everything it made (users, homes, groups, the prefix) removed.
- Server: one user's single-user server behind the hub's proxy, with a token of that user: nbgrader's
  assignment list (fetch, submit, fetch_feedback), Validate, formgrader's API, the contents API.
- as_user: a command run as a course member's Unix user (the instructor's `classgrade`, or a student's
  attempt to read what is not theirs).

Nothing here reaches beyond 127.0.0.1.
"""
from __future__ import annotations

import grp
import html
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from browser_util import stop_processes

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "course_hub" / "setup_course.py"
SYSTEM_PYTHON = "/usr/bin/python3"
COURSE_ID = "backprop-by-hand"
SERVICE = "course-test"


class HubError(RuntimeError):
    """The hub or a server did not do what was asked; the message carries its answer or the log's tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_proxy() -> str | None:
    """An installed configurable-http-proxy: $COURSE_HUB_PROXY (.ci/run sets it), else one on the PATH."""
    given = os.environ.get("COURSE_HUB_PROXY")
    if given and os.access(given, os.X_OK):
        return given
    return shutil.which("configurable-http-proxy")


def cannot_run() -> str | None:
    """None when a hub can be set up and started here, else the one-line reason a test is skipped."""
    if os.geteuid() != 0:
        return "not root: the course hub test creates Unix users and runs JupyterHub's LocalProcessSpawner"
    if shutil.which("node") is None:
        return "no node: JupyterHub's proxy (configurable-http-proxy) runs on node (apt-get install nodejs npm)"
    if find_proxy() is None and shutil.which("npm") is None:
        return "no configurable-http-proxy and no npm to install it (npm install configurable-http-proxy@5)"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing: the course environment is built on the system Python"
    return None


@dataclass(frozen=True)
class Roster:
    """The course's members, by Unix user name; `tag` makes the names unique to one run."""
    instructor: str
    students: tuple[str, ...]

    @classmethod
    def make(cls, students: int, tag: str | None = None) -> "Roster":
        tag = tag or secrets.token_hex(3)
        return cls(instructor=f"hub{tag}i", students=tuple(f"hub{tag}s{k:02d}" for k in range(students)))

    @property
    def everyone(self) -> tuple[str, ...]:
        return (self.instructor, *self.students)

    def csv(self) -> str:
        return "username,role\n" + f"{self.instructor},instructor\n" + "".join(f"{s},student\n" for s in self.students)


def as_user(name: str, args: list[str], cwd: str | os.PathLike | None = None, env: dict | None = None,
            timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    """Run `args` as the Unix user `name` (uid, gid and groups; HOME and USER set, nothing of root's env)."""
    account = pwd.getpwnam(name)
    groups = os.getgrouplist(name, account.pw_gid)
    environment = {"HOME": account.pw_dir, "USER": name, "LOGNAME": name, "LANG": "C.UTF-8",
                   "PATH": "/usr/local/bin:/usr/bin:/bin"}
    environment.update(env or {})
    proc = subprocess.run(args, cwd=cwd or account.pw_dir, env=environment, user=account.pw_uid,
                          group=account.pw_gid, extra_groups=groups, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise HubError(f"{args} as {name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@dataclass
class CourseHub:
    """A course set up by course_hub/setup_course.py in a temporary prefix, and its hub on loopback."""
    roster: Roster
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    service_token: str = field(default_factory=lambda: secrets.token_hex(32))
    start_timeout: float = 60
    spawn_timeout: float = 300
    prefix: Path | None = None
    process: subprocess.Popen | None = None
    port: int = 0
    settings: dict = field(default_factory=dict)
    setup_output: str = ""
    former: list[str] = field(default_factory=list)  # users a test took off the roster (still to be removed)
    roster_text: str | bytes = ""  # the roster file the setup last accepted
    made_course_group: bool = False  # the course's group did not exist before the setup (removed with the users)

    # -- set up and take down ---------------------------------------------------------------------------------
    def setup(self) -> "CourseHub":
        """Run the one-command setup for the roster, as root, with the system Python (as on a fresh machine)."""
        self.prefix = Path(tempfile.mkdtemp(prefix="course-hub-"))
        os.chmod(self.prefix, 0o755)  # the students' servers run from PREFIX/venv
        self.port = free_port()
        try:
            grp.getgrnam(COURSE_ID)
        except KeyError:
            self.made_course_group = True
        proc = self.run_setup(self.roster.csv(), self.port, free_port(), free_port(), find_proxy(), timeout=1200)
        self.setup_output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise HubError(f"setup_course failed ({proc.returncode}):\n{self.setup_output[-4000:]}")
        self.settings = json.loads((self.course_prefix / "course.json").read_text())
        return self

    def setup_again(self, roster: str | bytes, timeout: float = 600) -> subprocess.CompletedProcess:
        """The setup run again with this roster (CSV text or bytes), on the same prefix and ports."""
        s = self.settings
        return self.run_setup(roster, s["port"], s["hub_port"], s["proxy_api_port"], s["proxy_command"][0], timeout)

    def run_setup(self, roster: str | bytes, port: int, hub_port: int, proxy_api_port: int, proxy: str | None,
                  timeout: float) -> subprocess.CompletedProcess:
        """course_hub/setup_course.py for this roster, as root with the system Python (as on a fresh machine)."""
        roster_file = self.prefix.parent / f"{self.prefix.name}-roster.csv"
        roster_file.write_bytes(roster if isinstance(roster, bytes) else roster.encode())
        args = [SYSTEM_PYTHON, str(SETUP), str(roster_file), "--prefix", str(self.course_prefix),
                "--authenticator", "shared-password", "--port", str(port),
                "--hub-port", str(hub_port), "--proxy-api-port", str(proxy_api_port)]
        if proxy:
            args += ["--proxy", proxy]
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        finally:
            roster_file.unlink()
        if proc.returncode == 0:
            self.roster_text = roster
        return proc

    @property
    def everyone_ever(self) -> tuple[str, ...]:
        """Everyone the setup made a Unix user for: the roster now, and whoever a test took off it."""
        return (*self.roster.everyone, *self.former)

    @property
    def course_prefix(self) -> Path:
        return self.prefix / "course"

    @property
    def venv(self) -> Path:
        return Path(self.settings["venv"])

    @property
    def course_folder(self) -> Path:
        return Path(self.settings["course_folder"])

    @property
    def exchange(self) -> Path:
        return Path(self.settings["exchange"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.prefix / "hub.log"

    def start(self, extra_config: str = "") -> "CourseHub":
        """The hub from the course environment, as root, with the course's config plus a service for the test."""
        wrapper = self.prefix / "test_jupyterhub_config.py"
        wrapper.write_text(
            "c = get_config()  # noqa: F821\n"
            f"load_subconfig({str(self.course_prefix / 'jupyterhub_config.py')!r})  # noqa: F821\n"
            f"c.JupyterHub.services.append({{'name': {SERVICE!r}, 'api_token': {self.service_token!r}}})\n"
            f"c.JupyterHub.load_roles.append({{'name': {SERVICE!r}, 'services': [{SERVICE!r}], 'scopes': "
            "['admin:users', 'admin:servers', 'tokens', 'list:users', 'read:users']})\n"
            f"c.Spawner.start_timeout = {int(self.spawn_timeout)}\n"
            f"c.Spawner.http_timeout = {int(self.spawn_timeout)}\n" + extra_config)
        os.chmod(wrapper, 0o600)
        env = {"PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "COURSE_HUB_SHARED_PASSWORD": self.password, "HOME": "/root"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.venv / "bin" / "jupyterhub"), "-f", str(wrapper)], cwd=self.course_prefix / "hub",
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                raise HubError(f"jupyterhub exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=5).ok:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise HubError(f"jupyterhub did not answer within {self.start_timeout} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> list[psutil.Process]:
        """Stop every user's server through the hub, then the hub by its process id (it stops the proxy);
        return whatever of it, or of the course's users, is still running after terminate and kill."""
        started = []
        if self.process is not None:
            try:
                started = psutil.Process(self.process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                started = []
            if self.process.poll() is None:
                for name in self.everyone_ever:
                    try:
                        self.api("DELETE", f"/users/{name}/server", ok=(202, 204, 400, 404))
                    except (HubError, requests.RequestException):
                        pass  # the hub may be wedged: the signals below still end everything
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
            self.process = None
        return stop_processes(started + self.member_processes())

    def member_processes(self) -> list[psutil.Process]:
        """Processes running as one of the course's (temporary) users."""
        names = set(self.everyone_ever)
        found = []
        for p in psutil.process_iter(["username"]):
            if p.info["username"] in names:
                found.append(p)
        return found

    def remove(self) -> None:
        """Remove the users (homes and groups too) and the prefix; the hub must be stopped first."""
        for name in self.everyone_ever:
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            subprocess.run(["userdel", "--remove", name], capture_output=True)
            subprocess.run(["groupdel", name], capture_output=True)  # userdel removes it when it was the user's
        if self.made_course_group:
            subprocess.run(["groupdel", COURSE_ID], capture_output=True, check=False)
        if self.prefix is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # -- the hub's REST API (as the test's service) ----------------------------------------------------------
    def api(self, method: str, path: str, body: dict | None = None, ok=(200, 201, 202, 204)) -> dict | None:
        r = requests.request(method, f"{self.url}/hub/api{path}", json=body, timeout=60,
                             headers={"Authorization": f"token {self.service_token}"})
        if r.status_code not in ok:
            raise HubError(f"{method} /hub/api{path}: {r.status_code} {r.text[:2000]}")
        return r.json() if r.content else None

    def login(self, name: str, password: str | None = None) -> requests.Response:
        """The hub's login form filled in and sent, as a browser does: a redirect when the hub lets them in."""
        session = requests.Session()
        page = session.get(f"{self.url}/hub/login", timeout=60).text
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page)
        data = {"username": name, "password": self.password if password is None else password}
        if xsrf:
            data["_xsrf"] = html.unescape(xsrf.group(1))
        return session.post(f"{self.url}/hub/login", data=data, allow_redirects=False, timeout=60)

    def spawn(self, name: str) -> "Server":
        """Start `name`'s server through the hub and wait until the hub says it is ready."""
        self.api("POST", f"/users/{name}/server", ok=(201, 202, 400))  # 400: already running
        deadline = time.monotonic() + self.spawn_timeout
        while True:
            user = self.api("GET", f"/users/{name}")
            server = user.get("servers", {}).get("")
            if server and server.get("ready"):
                break
            if not server or server.get("pending") not in ("spawn", None):
                raise HubError(f"{name}'s server did not start: {user}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise HubError(f"{name}'s server was not ready within {self.spawn_timeout} s\n{self.log_tail()}")
            time.sleep(0.3)
        token = self.api("POST", f"/users/{name}/tokens", {"note": "course hub test", "expires_in": 3600})["token"]
        return Server(self, name, token)


@dataclass
class Server:
    """One user's server, reached through the hub's proxy with a token of that user."""
    hub: CourseHub
    name: str
    token: str

    def request(self, method: str, path: str, ok=(200, 201, 204), **kwargs) -> requests.Response:
        r = requests.request(method, f"{self.hub.url}/user/{self.name}{path}", timeout=600,
                             headers={"Authorization": f"token {self.token}"}, **kwargs)
        if r.status_code not in ok:
            raise HubError(f"{self.name}: {method} {path}: {r.status_code} {r.text[:2000]}")
        return r

    def json(self, method: str, path: str, **kwargs):
        return self.request(method, path, **kwargs).json()

    # -- nbgrader's assignment list and Validate (a student's side) -------------------------------------------
    def assignments(self) -> list[dict]:
        answer = self.json("GET", "/assignments", params={"course_id": COURSE_ID})
        if not answer.get("success"):
            raise HubError(f"{self.name}: the assignment list failed: {answer}")
        return answer["value"]

    def action(self, action: str, assignment: str) -> list[dict]:
        """fetch, submit or fetch_feedback, as the Assignments tab's buttons do."""
        answer = self.json("POST", f"/assignments/{action}",
                           data={"course_id": COURSE_ID, "assignment_id": assignment})
        if not answer.get("success"):
            raise HubError(f"{self.name}: {action} {assignment} failed: {answer}")
        return answer["value"]

    def validate(self, path: str) -> dict:
        answer = self.json("POST", "/assignments/validate", data={"path": path})
        if not answer.get("success"):
            raise HubError(f"{self.name}: Validate {path} failed to run: {answer}")
        return answer["value"]

    # -- files, through the contents API ----------------------------------------------------------------------
    def read_notebook(self, path: str) -> dict:
        return self.json("GET", f"/api/contents/{path}", params={"content": "1"})["content"]

    def write_notebook(self, path: str, nb: dict) -> None:
        self.request("PUT", f"/api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb})

    def read_text(self, path: str) -> str:
        return self.json("GET", f"/api/contents/{path}", params={"content": "1", "type": "file",
                                                                   "format": "text"})["content"]

    def listing(self, path: str) -> list[dict]:
        return self.json("GET", f"/api/contents/{path}", params={"content": "1"})["content"]

    # -- a terminal, as a person types into it ----------------------------------------------------------------
    def terminal(self, command: str, timeout: float = 60) -> str:
        """Open a JupyterLab terminal, type `command`, and return what it printed until the command ended."""
        import asyncio

        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        name = self.json("POST", "/api/terminals")["name"]
        end = secrets.token_hex(8)

        async def talk() -> str:
            url = f"ws://127.0.0.1:{self.hub.port}/user/{self.name}/terminals/websocket/{name}"
            ws = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {self.token}"}))
            ws.write_message(json.dumps(["stdin", f"{command}; echo {end[:8]}''{end[8:]}\r"]))
            out = ""
            while end not in out:
                message = await asyncio.wait_for(ws.read_message(), timeout)
                if message is None:
                    break
                kind, *payload = json.loads(message)
                if kind == "stdout":
                    out += payload[0]
            ws.close()
            return out

        try:
            return asyncio.run(talk())
        finally:
            self.request("DELETE", f"/api/terminals/{name}")

    # -- formgrader (the instructor's side) -------------------------------------------------------------------
    def formgrader(self, method: str, path: str) -> dict | list:
        answer = self.json(method, f"/formgrader/api{path}")
        if isinstance(answer, dict) and answer.get("success") is False:
            raise HubError(f"{self.name}: formgrader {method} {path} failed: {answer}")
        return answer


def set_solution_cells(nb: dict, sources: dict[str, str]) -> dict:
    """The notebook with the source of each solution cell named in `sources` ({grade_id: code}) replaced."""
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell["source"] = sources[grade_id]
    return nb


def classgrade(hub: CourseHub, assignment: str, jobs: int = 2) -> tuple[subprocess.CompletedProcess, dict]:
    """`python -m gradelib.grading.classgrade` in the course folder, as the instructor's Unix user."""
    summary = hub.course_folder / f".classgrade-{assignment}.json"
    proc = as_user(hub.roster.instructor,
                   [str(hub.venv / "bin" / "python"), "-m", "gradelib.grading.classgrade", assignment,
                    "--jobs", str(jobs), "--json", str(summary)],
                   cwd=hub.course_folder, env={"PATH": f"{hub.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"},
                   timeout=1800)
    return proc, json.loads(summary.read_text())


def python_as(name: str, code: str, hub: CourseHub) -> subprocess.CompletedProcess:
    """Python code run as `name` with the course environment's interpreter."""
    return as_user(name, [str(hub.venv / "bin" / "python"), "-c", code], check=False, timeout=60)


if __name__ == "__main__":  # pragma: no cover - a hand check: set up, start, stop, remove
    hub = CourseHub(Roster.make(2))
    try:
        hub.setup().start()
        print(hub.url, file=sys.stderr)
    finally:
        print("left:", hub.stop(), file=sys.stderr)
        hub.remove()
