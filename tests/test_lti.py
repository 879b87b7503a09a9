"""The course and an LMS over LTI 1.3, against the loopback platform of tests/lti_platform.py.

- AGS (gradelib/grading/lms/ags.py, ``export --send``): the real command sends the gradebook's scores (the gradebook
  of tests/lms_gradebook.py) with an OAuth 2 token got by a signed JWT assertion; a re-run makes no second line
  item and sends nothing the LMS already holds; a student unknown to the LMS is refused and reported; a network
  failure half-way leaves a record of every score, sent or not; a tool the LMS does not know gets a sentence.
"""
import csv
import html
import json
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jwt
import psutil
import pytest
import requests
from browser_util import end, stop_processes
from hub_util import find_proxy, free_port
from lms_gradebook import STUDENTS, make_gradebook, total
from lti_platform import SCOPE, Member, Platform, new_key, pem, public_jwk

from gradelib.grading.lms import ags, export

CLIENT_ID = "bbh-tool"
TOOL_KID = "tool-key-1"
# the LMS course's members: alice and carol (bob has no LMS id in the gradebook, dave's is unknown to the LMS)
MEMBERS = {"alice": Member(sub="1001", email="alice@uni.example", login="alice"),
           "carol": Member(sub="1003", email="carol@uni.example", login="carol")}


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    return make_gradebook(tmp_path_factory.mktemp("gradebook") / "gradebook.db")


@pytest.fixture(scope="module")
def tool_key():
    return new_key()


def platform_for(key) -> Platform:
    return Platform(client_id=CLIENT_ID, tool_jwk=public_jwk(key, TOOL_KID),
                    members={m.login: m for m in MEMBERS.values()}).start()


@pytest.fixture
def platform(tool_key):
    p = platform_for(tool_key)
    yield p
    p.stop()


def tool_settings(folder, platform, key) -> str:
    """The --lti file the README describes, and the tool's key beside it."""
    (folder / "tool-key.pem").write_text(pem(key))
    path = folder / "lti-tool.json"
    path.write_text(json.dumps({"client_id": CLIENT_ID, "token_url": f"{platform.url}/token",
                                "lineitems": platform.lineitems_url, "private_key": "tool-key.pem",
                                "kid": TOOL_KID}))
    return str(path)


def send(db_url, settings, record, capsys):
    code = export.main(["canvas", "--send", "--lti", settings, "--db", db_url, "--record", str(record)])
    out = capsys.readouterr()
    with open(record, encoding="utf-8") as f:
        return code, out.out + out.err, list(csv.DictReader(f))


def score_posts(platform) -> int:
    return sum(1 for r in platform.requests if r.startswith("POST /lineitems/") and r.endswith("/scores"))


def test_send_then_send_again(db_url, platform, tool_key, tmp_path, capsys):
    settings = tool_settings(tmp_path, platform, tool_key)
    code, said, rows = send(db_url, settings, tmp_path / "first.csv", capsys)
    assert code == 1, said   # dave's score was refused
    by = {(r["student"], r["assignment"]): r for r in rows}
    assert len(rows) == len(STUDENTS) * 2
    items = {item["resourceId"]: n for n, item in platform.line_items.items()}
    assert set(items) == {"01_first", "02_second"}
    assert platform.line_items[items["01_first"]]["scoreMaximum"] == 10
    for assignment, n in items.items():   # what the LMS holds is what the gradebook computes, for its members
        held = {u: s["scoreGiven"] for u, s in platform.scores[n].items()}
        assert held == {"1001": total("alice", assignment)}
        assert by[("alice", assignment)]["status"] == "sent"
    assert by[("dave", "01_first")]["status"] == "refused" and "not a member" in by[("dave", "01_first")]["reason"]
    assert by[("bob", "01_first")]["status"] == "skipped" and "no LMS user id" in by[("bob", "01_first")]["reason"]
    assert by[("carol", "01_first")]["status"] == "skipped" and "nothing handed in" in by[("carol", "01_first")]["reason"]
    assert "2 sent, 1 refused, 5 skipped, 0 not sent" in said and "refused: dave in 01_first" in said
    posts = score_posts(platform)

    code, said, rows = send(db_url, settings, tmp_path / "second.csv", capsys)
    assert len(platform.line_items) == 2   # reused, not made again
    statuses = Counter((r["student"], r["status"]) for r in rows)
    assert statuses[("alice", "skipped")] == 2
    assert all("already holds" in r["reason"] for r in rows if r["student"] == "alice")
    assert score_posts(platform) == posts + 1   # only dave's score was tried again (and refused again)
    assert "0 sent, 1 refused, 7 skipped, 0 not sent" in said


def test_network_failure_leaves_a_record(db_url, platform, tool_key, tmp_path, capsys):
    platform.drop_after = 1   # the first score is taken, then the connection drops
    settings = tool_settings(tmp_path, platform, tool_key)
    code, said, rows = send(db_url, settings, tmp_path / "record.csv", capsys)
    assert code == 1
    assert len(rows) == len(STUDENTS) * 2   # every score has a line: none is left unaccounted for
    sent = [r for r in rows if r["status"] == "sent"]
    assert [(r["student"], r["assignment"]) for r in sent] == [("alice", "01_first")]
    assert sum(len(s) for s in platform.scores.values()) == 1
    not_sent = [r for r in rows if r["status"] == "not sent"]
    assert not_sent and all("did not answer" in r["reason"] for r in not_sent)
    assert ("alice", "02_second") in {(r["student"], r["assignment"]) for r in not_sent}
    assert "the record of every score: " + str(tmp_path / "record.csv") in said


def test_unknown_tool_gets_a_sentence(db_url, platform, tmp_path, capsys):
    settings = tool_settings(tmp_path, platform, new_key())   # a key the LMS never registered
    code = export.main(["canvas", "--send", "--lti", settings, "--db", db_url, "--record", str(tmp_path / "r.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "the LMS refused the tool's token request (401" in err and str(tmp_path / "r.csv") in err
    assert not platform.scores
    with open(tmp_path / "r.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(STUDENTS) * 2 and {r["status"] for r in rows} == {"not sent"}


def test_missing_settings_get_a_sentence(db_url, tmp_path, capsys):
    (tmp_path / "lti.json").write_text(json.dumps({"client_id": "x"}))
    assert export.main(["moodle", "--send", "--lti", str(tmp_path / "lti.json"), "--db", db_url]) == 2
    assert "lack token_url, lineitems, private_key, kid" in capsys.readouterr().err
    assert export.main(["moodle", "--send", "--db", db_url]) == 2
    assert "--send needs --lti FILE" in capsys.readouterr().err


def test_platform_checks_the_scope(platform, tool_key):
    """The loopback LMS itself: a token granted only lineitem.readonly cannot post a score."""
    tool = ags.Tool(CLIENT_ID, f"{platform.url}/token", platform.lineitems_url, pem(tool_key), TOOL_KID)
    r = requests.post(tool.token_url, timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": ags.ASSERTION_TYPE,
        "client_assertion": ags.client_assertion(tool), "scope": SCOPE + "lineitem.readonly"})
    assert r.status_code == 200 and r.json()["scope"] == SCOPE + "lineitem.readonly"
    headers = {"Authorization": "Bearer " + r.json()["access_token"], "Content-Type": ags.SCORE_TYPE}
    item = platform.make_line_item({"label": "x", "scoreMaximum": 1})
    posted = requests.post(item["id"] + "/scores", headers=headers, timeout=10,
                           data=json.dumps({"userId": "1001", "scoreGiven": 1, "scoreMaximum": 1}))
    assert posted.status_code == 401 and "no score scope" in posted.text
    def grant(assertion):
        return requests.post(tool.token_url, timeout=10, data={
            "grant_type": "client_credentials", "client_assertion_type": ags.ASSERTION_TYPE,
            "client_assertion": assertion, "scope": SCOPE + "score"})

    expired = jwt.encode({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": tool.token_url, "iat": 0, "exp": 1,
                          "jti": "old"}, pem(tool_key), algorithm="RS256")
    assert grant(expired).status_code == 401 and "expired" in grant(expired).text
    once = ags.client_assertion(tool)
    assert grant(once).status_code == 200
    replayed = grant(once)   # the same assertion again: its jti is spent
    assert replayed.status_code == 401 and "jti" in replayed.text


# ---- logins: the real hub config and authenticator, the LMS on loopback ------------------------------------------
# The hub is the course's (course_hub/jupyterhub_config.py and the course.json that setup_course.py's hub_files writes
# for --authenticator lti13), run from this venv. Only two things are the test's own (start_hub's wrapper config):
# - the spawner: JupyterHub's SimpleLocalProcessSpawner, which runs each student's server as the test's own user in
#   a temporary home folder (tmp/homes/<name>), so no root and no Unix users are needed; the server is this venv's
#   jupyterhub-singleuser (the course's environment is not built here);
# - the proxy: the real configurable-http-proxy where one is installed (COURSE_HUB_PROXY, as .ci/run sets it, or on
#   the PATH), so that a launch reaches the student's server; without it, a proxy that keeps its routes in memory,
#   the test talks to the hub's own port, and the part of the Chromium test that needs a server is skipped.
NO_PROXY = '''
from jupyterhub.proxy import Proxy


class RoutesInMemory(Proxy):
    """No proxy process: the test talks to the hub's own port and starts no user's server."""
    should_start = False
    routes = {}

    async def add_route(self, routespec, target, data):
        self.routes[routespec] = {"routespec": routespec, "target": target, "data": data}

    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)

    async def get_all_routes(self):
        return dict(self.routes)


c.JupyterHub.proxy_class = RoutesInMemory
'''
# Students' servers as the test's own user, each in a home of its own under {homes}; as root (CI) the server must be
# told that root may run it.
TEST_SPAWNER = '''
import os
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
'''
ROSTER = "username,id,role\nteach,teach@uni.example,instructor\nalice,alice@uni.example,student\n,carol@uni.example,\n"
LMS_PEOPLE = {"alice": Member(sub="1001", email="Alice@Uni.Example", login="alice"),
              "carol": Member(sub="1003", email="carol@uni.example", login="carol"),
              "mallory": Member(sub="1666", email="mallory@else.example", login="mallory")}


@dataclass
class LTIHub:
    """The course's hub, LTI 1.3 logins from the loopback platform."""
    url: str
    platform: Platform
    process: subprocess.Popen
    token: str
    log: Path
    homes: Path
    servers: bool   # students' servers behind the real proxy (False: no proxy installed, routes in memory)

    def launch(self, member: str, session: requests.Session | None = None):
        """The LMS opens the tool for member: login initiation, the platform's form; (session, form fields)."""
        session = session or requests.Session()
        login = self.platform.login_initiation(f"{self.url}/hub/lti13/oauth_login", member, f"{self.url}/hub/home")
        page = session.get(login, timeout=30)
        assert page.status_code == 200, page.text[:500]
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
        return session, {k: html.unescape(v) for k, v in fields.items()}

    def callback(self, session, fields) -> requests.Response:
        return session.post(self.platform.redirect_uri, data=fields, allow_redirects=False, timeout=30)

    def user(self, name):
        r = requests.get(f"{self.url}/hub/api/users/{name}", headers={"Authorization": f"token {self.token}"},
                         timeout=30)
        return r.json() if r.status_code == 200 else None

    def started(self) -> list[psutil.Process]:
        """What the hub started (the proxy, the students' servers), by process id."""
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def start_hub(prefix: Path, platform: Platform) -> LTIHub:
    """The hub files written by setup_course.py's own hub_files, for the lti13 options; the hub started on them."""
    import setup_course as sc
    roster_file = prefix / "roster.csv"
    roster_file.write_text(ROSTER)
    port, hub_port = free_port(), free_port()
    proxy = find_proxy()
    _, options = sc.parse_args([str(roster_file), "--prefix", str(prefix / "course"), "--authenticator", "lti13",
                                "--port", str(port), "--hub-port", str(hub_port), "--proxy-api-port",
                                str(free_port()), "--lti-issuer", platform.issuer, "--lti-client-id", CLIENT_ID,
                                "--lti-jwks-url", f"{platform.url}/jwks", "--lti-login-url", f"{platform.url}/auth",
                                "--lti-token-url", f"{platform.url}/token"])
    layout = sc.Layout(prefix=prefix / "course")
    layout.hub_dir.mkdir(parents=True)
    sc.hub_files(layout, sc.read_roster(roster_file), [proxy or "true"], options, sc.Report())
    token = secrets.token_hex(16)
    homes = prefix / "homes"
    wrapper = prefix / "test_config.py"
    wrapper.write_text(f"c = get_config()  # noqa\nload_subconfig({str(layout.hub_config)!r})  # noqa\n"
                       + TEST_SPAWNER.format(homes=str(homes), singleuser=str(Path(sys.executable).with_name(
                           "jupyterhub-singleuser")))
                       + ("" if proxy else NO_PROXY)
                       + f"c.JupyterHub.services = [{{'name': 'lti-test', 'api_token': {token!r}}}]\n"
                       "c.JupyterHub.load_roles = [{'name': 'lti-test', 'services': ['lti-test'], "
                       "'scopes': ['read:users', 'read:servers']}]\n")
    log = prefix / "hub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(wrapper)], cwd=layout.hub_dir,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    hub = LTIHub(f"http://127.0.0.1:{port if proxy else hub_port}", platform, process, token, log, homes,
                 servers=proxy is not None)
    platform.redirect_uri = f"{hub.url}/hub/lti13/oauth_callback"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{hub.url}/hub/api/", timeout=5).ok:
                return hub
        except requests.ConnectionError:
            time.sleep(0.2)
    end(process, 30)
    raise AssertionError(f"the hub did not start:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def hub(tmp_path_factory, tool_key):
    platform = Platform(client_id=CLIENT_ID, tool_jwk=public_jwk(tool_key, TOOL_KID), members=dict(LMS_PEOPLE))
    platform.start()
    running = None
    try:
        running = start_hub(tmp_path_factory.mktemp("lti-hub"), platform)
        yield running
    finally:
        if running is not None:
            stop_hub(running)
        platform.stop()


def stop_hub(hub: LTIHub) -> None:
    """The hub by its pid (it stops the proxy and the servers it started), then whatever of those is still running,
    by theirs: nothing may be left."""
    started = hub.started()
    end(hub.process, 30)
    left = stop_processes(started)
    assert not left, f"still running after the hub stopped: {left}"


@pytest.fixture
def fresh_launch(hub):
    hub.platform.launch_overrides = {}
    yield
    hub.platform.launch_overrides = {}


def test_a_student_logs_in_from_the_lms(hub, fresh_launch):
    session, fields = hub.launch("alice")
    done = hub.callback(session, fields)
    assert done.status_code == 302, done.text[:500]
    assert done.headers["Location"].endswith("/hub/home")
    home = session.get(f"{hub.url}/hub/home", timeout=30, allow_redirects=False)
    assert home.status_code == 200 and "alice" in home.text   # logged in as the roster's user name, not the e-mail
    assert hub.user("alice") is not None


def test_an_institutional_id_maps_to_the_roster_name(hub, fresh_launch):
    import setup_course as sc
    session, fields = hub.launch("carol")
    assert hub.callback(session, fields).status_code == 302
    assert hub.user(sc.username_for("carol@uni.example")) is not None


def test_someone_not_on_the_roster_gets_a_page_not_a_server(hub, fresh_launch):
    session, fields = hub.launch("mallory")
    page = hub.callback(session, fields)
    assert page.status_code == 403
    assert "not on the roster of this course" in html.unescape(page.text)
    assert hub.user("mallory") is None and hub.user("mallory@else.example") is None


@pytest.mark.parametrize("overrides, status, words", [
    ({"key": "another"}, 400, "Signature verification failed"),
    ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 420}, 400, "Signature has expired"),
    ({"aud": "some-other-tool"}, 401, "Audience doesn't match"),
], ids=["wrong-signature", "expired", "wrong-audience"])
def test_a_bad_launch_is_refused(hub, fresh_launch, overrides, status, words):
    if overrides.get("key") == "another":
        overrides = {"key": new_key()}
    hub.platform.launch_overrides = overrides
    session, fields = hub.launch("alice")
    refused = hub.callback(session, fields)
    assert refused.status_code == status, refused.text[:500]
    assert words in html.unescape(refused.text)
    assert "jupyterhub-hub-login" not in session.cookies


def test_a_replayed_launch_is_refused(hub, fresh_launch):
    session, fields = hub.launch("alice")
    captured = session.cookies.copy()   # the state and nonce cookies, as an attacker who copied them has them
    assert hub.callback(session, fields).status_code == 302
    # the same id_token in a new browser flow: its nonce is not the one this browser's cookie holds
    other, new_fields = hub.launch("alice")
    mismatch = hub.callback(other, {**new_fields, "id_token": fields["id_token"]})
    assert mismatch.status_code == 400 and "nonce mismatch" in mismatch.text
    # the whole request again, cookies and all: the hub remembers the nonce
    thief = requests.Session()
    thief.cookies.update(captured)
    replayed = hub.callback(thief, fields)
    assert replayed.status_code == 403 and "already used" in html.unescape(replayed.text)
    assert "jupyterhub-hub-login" not in thief.cookies


def test_the_public_jwk_to_register_is_the_tools_key(platform, tool_key, tmp_path, capsys):
    settings = tool_settings(tmp_path, platform, tool_key)
    assert ags.main(["jwk", settings]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == public_jwk(tool_key, TOOL_KID)   # what the loopback LMS registered, so its token works
    assert ags.main(["jwk"]) == 2 and "usage:" in capsys.readouterr().err


# ---- setup_course.py's options for an LMS -------------------------------------------------------------------------
LMS_OPTIONS = ["--lti-issuer", "https://canvas.instructure.com", "--lti-client-id", "10000000000001",
               "--lti-jwks-url", "https://sso.canvaslms.com/api/lti/security/jwks",
               "--lti-login-url", "https://sso.canvaslms.com/api/lti/authorize_redirect"]


def test_pam_stays_the_default(tmp_path):
    import lti_login
    import setup_course as sc
    _, options = sc.parse_args([str(tmp_path / "roster.csv")])
    assert options.authenticator == "pam" and lti_login.settings(options) is None


def test_the_lms_options_are_written_for_the_hub(tmp_path):
    import lti_login
    import setup_course as sc
    _, options = sc.parse_args([str(tmp_path / "r.csv"), "--authenticator", "lti13", *LMS_OPTIONS,
                                "--lti-username-claim", "custom_login"])
    assert lti_login.settings(options) == {
        "issuer": "https://canvas.instructure.com", "client_id": "10000000000001",
        "jwks_url": "https://sso.canvaslms.com/api/lti/security/jwks",
        "login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect", "token_url": "",
        "username_claim": "custom_login"}


@pytest.mark.parametrize("args, words", [
    (["--authenticator", "lti13"], ("--authenticator lti13 needs --lti-issuer, --lti-client-id, --lti-jwks-url, "
                                   "--lti-login-url")),
    (LMS_OPTIONS, ("--lti-issuer, --lti-client-id, --lti-jwks-url, --lti-login-url are for logins from an LMS: add "
                  "--authenticator lti13")),
    (["--authenticator", "lti13", *LMS_OPTIONS[:-1], "http://lms.example.org/auth"],
     "--lti-login-url must be an https URL (the LMS's), not 'http://lms.example.org/auth'"),
    (["--authenticator", "lti13", *LMS_OPTIONS, "--lti-username-claim", " "], "--lti-username-claim names"),
], ids=["missing", "without-lti13", "plain-http", "empty-claim"])
def test_bad_lms_options_get_a_sentence(tmp_path, capsys, args, words):
    import setup_course as sc
    with pytest.raises(SystemExit) as stop:
        sc.parse_args([str(tmp_path / "roster.csv"), *args])
    assert stop.value.code == 2
    assert words in capsys.readouterr().err


def test_a_student_launched_in_chromium(hub, fresh_launch):
    """In a real browser: the LMS's login initiation, the platform's self-submitting form, then the hub's default URL
    (the README's target link URI), which starts the student's own server and opens JupyterLab in it. The spawner and
    the proxy are the test's (see start_hub); the config and the authenticator are the course's."""
    from browser_util import Browser, chromium_missing
    missing = chromium_missing()
    if missing:
        pytest.skip(missing)
    target = f"{hub.url}/hub/" if hub.servers else f"{hub.url}/hub/home"
    login = hub.platform.login_initiation(f"{hub.url}/hub/lti13/oauth_login", "alice", target)
    with Browser() as browser:
        page = browser.new_page()
        page.goto(login)
        if not hub.servers:
            page.wait_for_url(f"{hub.url}/hub/home", timeout=60_000)
            assert "alice" in page.content()
            assert "jupyterhub-hub-login" in {c["name"] for c in page.context.cookies()}
            pytest.skip("no configurable-http-proxy (COURSE_HUB_PROXY or on PATH): launch checked to the hub's home only")
        page.wait_for_url(f"{hub.url}/user/alice/lab**", timeout=180_000, wait_until="domcontentloaded")
        assert page.title() == "JupyterLab"
        assert '"hubUser": "alice"' in page.content()   # the page's own config: alice's server, not someone else's
        status = page.context.request.get(f"{hub.url}/user/alice/api/status")   # with the browser's cookies
        assert status.ok and "started" in status.json(), status.text()[:500]
    assert hub.user("alice")["servers"][""]["ready"]
    started = {p.pid: " ".join(p.cmdline()) for p in hub.started()}
    servers = [pid for pid, command in started.items() if "jupyterhub-singleuser" in command]
    assert len(servers) == 1 and psutil.Process(servers[0]).cwd() == str(hub.homes / "alice")
    assert any("configurable-http-proxy" in command for command in started.values())   # the real proxy
    # the server and the proxy are stopped with the hub, by their pids (stop_hub), which checks that nothing is left
