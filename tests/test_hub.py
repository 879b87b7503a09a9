"""The course on JupyterHub, end to end on loopback: real Unix users, nbgrader's exchange, classgrade.

One hub for the module (tests/hub_util.py): course_hub/setup_course.py sets a course up for an instructor
and five students in a temporary prefix (the shared environment on the system Python, built once here),
and the hub runs from that environment on free 127.0.0.1 ports with JupyterHub's shared-password
authenticator.  Then, through the hub's and the servers' REST APIs, as the Assignments tab and formgrader do:

- the instructor's server has formgrader and the course list, the students' have neither, and all have
  the assignment list and Validate (the server routes and JupyterLab's page config say so);
- the instructor generates and releases 01_single_neuron; four students fetch it in their own servers,
  write an answer (right; wrong; one that tries to read another student's work and the instructor's
  folder; the right one's notebook byte for byte), validate and submit.  The snooping student also forges
  (issue 19), in a terminal of their own server: a folder made by hand in the exchange's inbound in the
  right student's name, dated 2099, holding wrong answers, and `nbgrader submit --student=<the wrong
  student>` of their own right answers.  The instructor collects with formgrader's Collect (the course's
  exchange), whose log refuses both forgeries, one line each naming who submitted in whose name; each
  student's own latest submission is collected and the exchange keeps every entry; classgrade, as the
  instructor's Unix user, gives each what their own work earns (the assignment's points, from the
  instructor's notebook, or 0) and lists the refusals; feedback is generated and released; each student
  fetches their feedback and sees their own only: their own answers, marked on their own by-hand numbers,
  the two identical notebooks' owners each theirs, the forger nobody else's.  With the owner check off
  (``c.ExchangeCollect.check_owner = False``) this test fails;
- as the Unix users themselves: a student cannot read another student's home, the instructor's course
  folder or the exchange's inbound;
- while the hub runs, the setup run again with a roster as Excel saves it (a byte-order mark, semicolons), one
  student left off and one added by institutional id: the one left off has their server stopped and is shut
  out, keeping their work; the new one logs in at once, under the user name made from their id;
- the setup refuses a bad roster in one sentence and changes nothing, and a second run keeps everything;
- in Chromium (skipped where it is missing): a wrong password is refused on the hub's login page; a
  student logs in, fetches from the Assignments tab, runs the notebook, validates and submits.

Skipped with one line where it cannot run: not root, no node (tests/hub_util.cannot_run).  The hub, the
proxy and every server are stopped by process id at the end, the users, homes and prefix removed, and the
test fails if any process of it is left.
"""
from __future__ import annotations

import codecs
import grp
import hashlib
import html
import json
import os
import pwd
import re
import shlex
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import classroom  # noqa: E402
import hub_util  # noqa: E402
import setup_course  # noqa: E402  (course_hub/, on sys.path by tests/conftest.py)
from browser_util import Browser, NotebookPage, chromium_missing, descendants, stop_processes  # noqa: E402
from hub_util import CourseHub, Roster, as_user, classgrade, python_as, set_solution_cells  # noqa: E402
from notebook_plan import plan as read_plan  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_single_neuron"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
SCREENSHOTS = ROOT / "screenshots"
FUTURE = "2099-01-01 00:00:00.000000 UTC"  # the date of the folder forged by hand, so that it would be the latest


@pytest.fixture(scope="module")
def hub(request):
    """The course's hub, set up and started once for the module; stopped and removed at the end."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reason = hub_util.cannot_run()
    if reason:
        with capture.global_and_fixture_disabled():
            print(f"\ncourse hub test skipped: {reason}")
        pytest.skip(reason)
    timings = {}
    began = time.monotonic()
    course = CourseHub(Roster.make(students=5))
    course.timings = timings
    left = []
    try:
        course.setup()
        timings["setup (users, exchange, environment on the system Python)"] = time.monotonic() - began
        started = time.monotonic()
        course.start()
        timings["hub start"] = time.monotonic() - started
        yield course
    finally:
        left = course.stop()
        course.remove()
        timings["whole hub test"] = time.monotonic() - began
        with capture.global_and_fixture_disabled():
            for k, v in timings.items():
                print(f"\nhub test: {k}: {v:.1f} s", end="")
            print()
    assert not left, f"processes left behind: {left}"
    leftover_users = [n for n in course.everyone_ever if _user_exists(n)]
    assert not leftover_users, f"users left behind: {leftover_users}"


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def instructor(hub):
    """The instructor's server, with 01_single_neuron generated and released through formgrader's API."""
    server = hub.spawn(hub.roster.instructor)
    server.formgrader("POST", f"/assignment/{ASSIGNMENT}/assign")
    server.formgrader("POST", f"/assignment/{ASSIGNMENT}/release")
    return server


# ------------------------------------------------------------------------------------------ the answers
def _solutions():
    return classroom.source_solutions(ROOT, ASSIGNMENT)


def _signed(name, sources):
    """Solution cells with the student's name in a comment, so that whose notebook a feedback shows is plain."""
    return {grade_id: f"# answer of {name}\n{code}" for grade_id, code in sources.items()}


def _snooping(hub, victim):
    """A right answer that first tries to read another student's notebook, the instructor's solutions and
    another student's submission in the instructor's folder, and prints (and saves) what it could read."""
    targets = {
        "other student's home": f"/home/{victim}/{NOTEBOOK}",
        "instructor's source": str(hub.course_folder / "source" / NOTEBOOK),
        "other student's submission": str(hub.course_folder / "submitted" / victim / NOTEBOOK),
    }
    spy = f'''\
import json as _json
def _peek(path):
    try:
        with open(path, "rb") as f:
            return "read %d bytes" % len(f.read())
    except OSError as e:
        return "refused: " + type(e).__name__
_SNOOP = {{what: _peek(path) for what, path in {targets!r}.items()}}
print("SNOOP " + _json.dumps(_SNOOP, sort_keys=True))
try:
    with open("snoop.json", "w") as _f:
        _json.dump(_SNOOP, _f)
except OSError:
    pass
'''
    answers = dict(_solutions())
    first = next(iter(answers))
    answers[first] = spy + answers[first]
    return answers, targets


def _text(page):
    """What a browser shows of an HTML page, roughly: the tags dropped, the entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _snoop_in(text):
    """The SNOOP record printed into a notebook or a feedback page."""
    m = re.search(r"SNOOP (\{.*?\})", _text(text))
    return json.loads(m.group(1)) if m else None


# ------------------------------------------------------------------------------------------ the tests
def test_each_role_sees_its_own_tools(hub, instructor):
    student = hub.spawn(hub.roster.students[0])
    assert instructor.request("GET", "/formgrader").status_code == 200
    assert instructor.json("GET", "/formgraders")["success"]
    for path in ("/formgrader", "/formgraders"):
        assert student.request("GET", path, ok=(404,)).status_code == 404, f"a student's server answers {path}"
    for server in (instructor, student):
        assert server.assignments() is not None  # the Assignments tab's API
        assert server.request("GET", "/nbgrader_version", params={"version": "x"}).ok
    instructor_page = _page_config(instructor)
    student_page = _page_config(student)
    for plugin in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                   "@jupyter/nbgrader:create-assignment"):
        assert plugin in student_page["disabledExtensions"], plugin
        assert plugin not in instructor_page["disabledExtensions"], plugin
    for plugin in ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"):
        assert plugin not in student_page["disabledExtensions"], plugin
    # in the instructor's terminal, the course environment's tools come first, as classgrade needs
    typed = instructor.terminal("command -v python nbgrader; echo JCP=$JUPYTER_CONFIG_PATH; id -un")
    assert f"{hub.venv}/bin/python" in typed and f"{hub.venv}/bin/nbgrader" in typed, typed
    assert f"JCP={hub.settings['role_config']['instructor']}" in typed and hub.roster.instructor in typed, typed
    # each server runs as its own user, on loopback, from the shared environment
    for name in (hub.roster.instructor, hub.roster.students[0]):
        procs = [p for p in hub.member_processes() if p.username() == name and "jupyterhub-singleuser" in
                 " ".join(p.cmdline())]
        assert procs, f"no server process of {name}"
        assert procs[0].exe().startswith(str(hub.venv)) or procs[0].cmdline()[0].startswith(str(hub.venv))
        ports = {c.laddr.ip for p in procs for c in _connections(p) if c.status == "LISTEN"}
        assert ports == {"127.0.0.1"}, f"{name}'s server listens on {ports}"


def _connections(process):
    """The process's TCP sockets (psutil 6 renamed connections() to net_connections())."""
    method = getattr(process, "net_connections", None) or process.connections
    return method("tcp")


def _page_config(server):
    page = server.request("GET", "/lab").text
    m = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.DOTALL)
    return json.loads(m.group(1))


def test_release_fetch_submit_collect_grade_feedback(hub, instructor):
    right, wrong, snoop = hub.roster.students[:3]
    twin = hub.roster.students[4]  # submits right's notebook byte for byte ([3] is the browser test's)
    solutions = _solutions()
    wrong_answers = {k: classroom.wrong(v) for k, v in solutions.items()}
    spy_answers, targets = _snooping(hub, victim=right)
    answers = {right: _signed(right, solutions),
               wrong: _signed(wrong, wrong_answers),
               snoop: _signed(snoop, spy_answers)}
    answers[twin] = answers[right]
    author = {name: right if name == twin else name for name in answers}  # whose work each one submits

    # students: fetch in their own server, answer, validate (the twin, who copies, does not), submit
    for name, sources in answers.items():
        began = time.monotonic()
        server = hub.spawn(name)
        listed = {a["assignment_id"]: a for a in server.assignments()}
        assert listed[ASSIGNMENT]["status"] == "released", listed
        fetched = {a["assignment_id"]: a for a in server.action("fetch", ASSIGNMENT)}
        assert fetched[ASSIGNMENT]["status"] == "fetched"
        nb = server.read_notebook(NOTEBOOK)
        server.write_notebook(NOTEBOOK, set_solution_cells(nb, sources))
        validation = server.validate(NOTEBOOK) if name != twin else {}
        if name == wrong:
            assert validation.get("failed"), f"Validate passed a wrong answer: {validation}"
        else:
            assert not validation.get("failed") and not validation.get("changed"), \
                f"Validate failed {name}'s right answer: {json.dumps(validation)[:2000]}"
        submitted = {a["assignment_id"]: a for a in server.action("submit", ASSIGNMENT)}
        assert submitted[ASSIGNMENT]["status"] == "submitted"
        if name == twin:  # what the identical notebooks add to CI's time (printed at the end)
            hub.timings["the twin's server, fetch and submit"] = time.monotonic() - began
    own = {name: _own_entries(hub, name) for name in answers}
    assert all(len(entries) == 1 for entries in own.values()), own
    assert _digest(own[right][0]) == _digest(own[twin][0]), "right's and twin's notebooks are not identical"

    # what the snooping answer could read when it ran in its own server (Validate ran it there)
    seen = json.loads(hub.spawn(snoop).read_text(f"{ASSIGNMENT}/snoop.json"))
    assert set(seen) == set(targets)
    assert all(v.startswith("refused") for v in seen.values()), f"a student's server read others' files: {seen}"

    # the snooping student forges too (issue 19): by hand in right's name, dated 2099, with wrong answers that
    # would cost right their marks; with nbgrader submit in wrong's name, of their own right answers
    began = time.monotonic()
    forgery = _forge(hub, snoop, by_hand_victim=right, submit_victim=wrong, sources=_signed(snoop, wrong_answers))
    hub.timings["the forgeries, in a terminal"] = time.monotonic() - began
    inbound = sorted(p.name for p in _inbound(hub).iterdir())

    # the instructor: collect (formgrader), classgrade as their Unix user, feedback (formgrader)
    log = _collect(instructor)
    _assert_refused(log, snoop, forgery)
    assert sorted(p.name for p in _inbound(hub).iterdir()) == inbound, "collect took something from the exchange"
    for name in answers:  # each student's own submission, and only that, collected
        collected = hub.course_folder / "submitted" / name / ASSIGNMENT
        assert (collected / f"{ASSIGNMENT}.ipynb").is_file(), f"{name}'s submission not collected"
        assert _authors(collected / f"{ASSIGNMENT}.ipynb", answers) == [author[name]], f"{name}: {log}"
        assert (collected / "timestamp.txt").read_text() == (own[name][0] / "timestamp.txt").read_text()
    proc, summary = classgrade(hub, ASSIGNMENT)
    scores = {row["student"]: row for row in summary}
    assert set(scores) == set(answers), proc.stdout
    full = _full_points()  # what the instructor's notebook gives the assignment
    earned = {name: (scores[name]["score"], scores[name]["max_score"]) for name in answers}
    assert earned == {right: (full, full), wrong: (0, full), snoop: (full, full), twin: (full, full)}, earned
    assert not any(note.startswith("FAILED") for row in summary for note in row["notes"]), summary
    # classgrade's summary reports the refusals, with the names
    assert "refused at collect, not graded (2):" in proc.stdout, proc.stdout
    for victim in (right, wrong):
        assert f"submitted by {snoop} in {victim}'s name" in proc.stdout, proc.stdout
    # formgrader shows the same scores to the instructor
    shown = {s["student"]: s["score"] for s in instructor.formgrader("GET", f"/submissions/{ASSIGNMENT}")}
    assert shown == {name: scores[name]["score"] for name in answers}, shown

    instructor.formgrader("POST", f"/assignment/{ASSIGNMENT}/generate_feedback")
    released = instructor.formgrader("POST", f"/assignment/{ASSIGNMENT}/release_feedback")
    assert "not released" not in released.get("log", ""), released

    # each student: fetch feedback, and it is theirs alone (the twins' too; the forger's own only)
    feedback = {}
    for name in answers:
        page = feedback[name] = _fetch_feedback(hub, name)
        assert _authors(page, answers) == [author[name]], f"{name}'s feedback shows the work of others"
        marked_for = _by_hand_ids(page, answers)
        assert marked_for == [name], f"{name}'s feedback was graded on the numbers of {marked_for}"
        score = scores[name]
        shown_score = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", _text(page))
        assert shown_score, f"{name}'s feedback shows no score"
        assert tuple(map(float, shown_score.groups())) == (score["score"], score["max_score"]), shown_score.group(0)

    # what the snooping answer could read while it was graded (it printed it into its own feedback)
    graded = _snoop_in(feedback[snoop])
    assert graded is not None, "the snooping answer's output is not in its feedback"
    assert graded["other student's home"].startswith("refused"), graded  # the instructor cannot read it either
    # classgrade runs the students' code in the grading sandbox, which shows none of the course (issue 8)
    assert all(v.startswith("refused") for v in graded.values()), f"graded code read the course: {graded}"


@dataclass(frozen=True)
class Forgery:
    """The entries a student made in the exchange's inbound in classmates' names (their names there)."""
    by_hand: str       # a folder made by hand, dated FUTURE
    by_nbgrader: str   # what `nbgrader submit --student=<classmate>` made


def _inbound(hub) -> Path:
    return hub.exchange / hub_util.COURSE_ID / "inbound"


def _own_entries(hub, name: str) -> list[Path]:
    """The entries in the exchange's inbound in name's name that name's Unix user made."""
    uid = pwd.getpwnam(name).pw_uid
    return sorted(p for p in _inbound(hub).glob(f"{name}+{ASSIGNMENT}+*") if p.stat().st_uid == uid)


def _digest(entry: Path) -> str:
    return hashlib.sha256((entry / f"{ASSIGNMENT}.ipynb").read_bytes()).hexdigest()


def _forge(hub, forger: str, by_hand_victim: str, submit_victim: str, sources: dict[str, str]) -> Forgery:
    """In the forger's own server, in a terminal, as a student could: a folder made by hand in the exchange's
    inbound in one classmate's name, dated FUTURE, holding the forger's notebook with `sources`; then
    `nbgrader submit --student=` in another classmate's name, of the forger's own assignment folder."""
    server = hub.spawn(forger)
    server.write_notebook("forgery.ipynb", set_solution_cells(server.read_notebook(NOTEBOOK), sources))
    before = {p.name for p in _inbound(hub).iterdir()}
    by_hand = f"{by_hand_victim}+{ASSIGNMENT}+{FUTURE}+forged"
    typed = server.terminal(
        f"cd ~ && d={shlex.quote(str(_inbound(hub) / by_hand))} && mkdir \"$d\" && cp forgery.ipynb "
        f"\"$d/{ASSIGNMENT}.ipynb\" && printf %s {shlex.quote(FUTURE)} >\"$d/timestamp.txt\"; "
        f"nbgrader submit {ASSIGNMENT} --student={submit_victim}", timeout=120)
    made = {p.name for p in _inbound(hub).iterdir()} - before
    by_nbgrader = [n for n in made if n.startswith(f"{submit_victim}+{ASSIGNMENT}+")]
    assert by_hand in made and len(by_nbgrader) == 1, (sorted(made), typed)
    forger_uid = pwd.getpwnam(forger).pw_uid
    assert all((_inbound(hub) / n).stat().st_uid == forger_uid for n in made), typed
    return Forgery(by_hand, by_nbgrader[0])


def _collect(instructor) -> str:
    """formgrader's Collect (nbgrader's collect with --update, in the instructor's server): its log."""
    answer = instructor.formgrader("POST", f"/assignment/{ASSIGNMENT}/collect")
    assert answer["success"], answer
    return answer.get("log", "")


def _assert_refused(log: str, forger: str, forgery: Forgery) -> None:
    """Collect's log refuses both forged entries, one line each naming who submitted in whose name."""
    refused = [line for line in log.splitlines() if re.search(rf"\brefused \S+\+{ASSIGNMENT}\+", line)]
    for entry in (forgery.by_hand, forgery.by_nbgrader):
        victim = entry.split("+")[0]
        lines = [line for line in refused if f"refused {entry}: submitted by {forger} in {victim}'s name" in line]
        assert len(lines) == 1, (entry, log)
    dated = next(line for line in refused if forgery.by_hand in line)
    assert f"it also claims to be from {FUTURE}" in dated, dated
    assert len(refused) == 2, log
    assert re.search(rf"refused 2 inbound entries of {ASSIGNMENT} \(.*{forger} in", log), log
    assert "cheating attempt" not in log, log


def _authors(notebook_or_page, answers: dict) -> list[str]:
    """Whose signed answers (`# answer of NAME`) a notebook file or a feedback page holds."""
    text = notebook_or_page.read_text() if isinstance(notebook_or_page, Path) else _text(notebook_or_page)
    return sorted(name for name in answers if f"answer of {name}" in text)


def _by_hand_ids(page: str, answers: dict) -> list[str]:
    """The student ids a feedback page's by-hand marking names: whose personal numbers it was marked on."""
    text = _text(page)
    return sorted(name for name in answers if re.search(rf"(\(student|numbers made for) {re.escape(repr(name))}", text))


def _full_points() -> float:
    """The assignment's points, as the instructor's notebook gives them to its graded cells."""
    nb = json.loads((ROOT / "source" / NOTEBOOK).read_text())
    return float(sum(c["metadata"]["nbgrader"].get("points", 0) for c in nb["cells"]
                     if c["metadata"].get("nbgrader", {}).get("grade")))


def _fetch_feedback(hub, name: str) -> str:
    """Fetch Feedback in the student's server: the one feedback page it brings (there must be one only)."""
    server = hub.spawn(name)
    server.action("fetch_feedback", ASSIGNMENT)
    folders = server.listing(f"{ASSIGNMENT}/feedback")
    assert len(folders) == 1, (name, folders)
    pages = [f for f in server.listing(folders[0]["path"]) if f["name"].endswith(".html")]
    assert [p["name"] for p in pages] == [f"{ASSIGNMENT}.html"], pages
    return server.read_text(pages[0]["path"])


def test_students_cannot_read_what_is_not_theirs(hub, instructor):
    first, second = hub.roster.students[:2]
    probe = '''
import os, sys
for path in sys.argv[1:]:
    try:
        os.listdir(path) if os.path.isdir(path) or not os.path.exists(path) else open(path, "rb").read(1)
        print("READ", path)
    except OSError as e:
        print("REFUSED", path, type(e).__name__)
'''
    paths = [f"/home/{second}", str(hub.course_folder), str(hub.course_folder / "nbgrader_config.py"),
             str(hub.exchange / hub_util.COURSE_ID / "inbound"), str(hub.exchange / hub_util.COURSE_ID / "feedback")]
    result = as_user(first, [str(hub.venv / "bin" / "python"), "-c", probe, *paths])
    lines = result.stdout.splitlines()
    assert len(lines) == len(paths), result
    assert all(line.startswith("REFUSED") and "PermissionError" in line for line in lines), lines
    # and what they must read: the environment and the released assignment
    ok = python_as(first, f"import gradelib, nbgrader; print(open({str(hub.exchange / hub_util.COURSE_ID / 'outbound' / NOTEBOOK)!r}).read(1))", hub)
    assert ok.returncode == 0 and ok.stdout.strip() == "{", ok
    assert pwd.getpwnam(first).pw_dir == f"/home/{first}"
    assert (os.stat(f"/home/{first}").st_mode & 0o777) == 0o700


def test_every_person_has_the_uid_the_roster_gives_as_on_a_cluster(hub):
    """The uid (and own group) setup_course.uid_for gives each name, the one kubernetes_config.py gives their pod;
    everyone in the course's group, which owns the exchange."""
    group = grp.getgrnam(hub_util.COURSE_ID)
    assert group.gr_gid == setup_course.course_gid()
    for name in hub.roster.everyone:
        account = pwd.getpwnam(name)
        assert (account.pw_uid, account.pw_gid) == (setup_course.uid_for(name), setup_course.uid_for(name)), name
        assert name in group.gr_mem, (name, group.gr_mem)
    assert os.stat(hub.exchange).st_gid == group.gr_gid


# ------------------------------------------------------------------------------------------ in the browser
class HubNotebookPage(NotebookPage):
    """A notebook already opened in a logged-in page (NotebookPage opens its own page with a server token)."""

    def __init__(self, page, path, cells):
        self.page, self.lab, self.path = page, None, path
        self.panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        page.wait_for_function(
            """n => document.querySelectorAll(
                 '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').length === n""",
            arg=cells, timeout=120_000)
        page.wait_for_function(
            """() => { const i = document.querySelector(
                 '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
               return i && i.getAttribute('data-status') === 'idle'; }""", timeout=120_000)


@pytest.fixture(scope="module")
def browser(hub):
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    ours_before = {p.pid for p in descendants()}
    try:
        with Browser() as b:
            yield b
    finally:
        hub_tree = {hub.process.pid, *(p.pid for p in psutil.Process(hub.process.pid).children(recursive=True))}
        left = stop_processes([p for p in descendants() if p.pid not in ours_before | hub_tree])
        assert not left, f"browser processes left behind: {left}"


def _login(page, hub, name, password):
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_load_state()


def _open_assignments(page):
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Nbgrader$")).click()
    menu = {command: page.locator(f'.lm-Menu-item[data-command="{command}"]') for command in
            ("nbgrader:open-assignment-list", "nbgrader:open-formgrader", "nbgrader:open-course-list")}
    menu["nbgrader:open-assignment-list"].wait_for(state="visible")
    shown = {command: item.count() > 0 and item.first.is_visible() for command, item in menu.items()}
    menu["nbgrader:open-assignment-list"].click()
    page.locator("#released_assignments_list").wait_for(state="visible")
    return shown


def test_a_student_in_the_browser(hub, instructor, browser):
    name = hub.roster.students[3]
    page = browser.new_page()
    try:
        # a wrong password is refused, on the hub's own login page
        _login(page, hub, name, hub.password + "-wrong")
        assert "/hub/login" in page.url
        assert page.locator("text=Invalid username or password").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "hub-login-refused.png"))
        # the right one opens JupyterLab in the student's own server
        _login(page, hub, name, hub.password)
        page.wait_for_url(f"**/user/{name}/lab**", timeout=180_000)
        page.locator(".jp-LabShell").wait_for(timeout=120_000)

        shown = _open_assignments(page)
        assert shown == {"nbgrader:open-assignment-list": True, "nbgrader:open-formgrader": False,
                         "nbgrader:open-course-list": False}, shown
        released = page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT)
        released.locator("button", has_text="Fetch").click()
        fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).first
        fetched.wait_for()
        page.screenshot(path=str(SCREENSHOTS / "hub-assignments-fetched.png"))

        # open the notebook from the Assignments tab, answer both exercises in the editor, run it all
        fetched.locator("a.assignment-notebooks-link").click()
        page.locator("#fetched_assignments_list .nested_list_item a", has_text=ASSIGNMENT).click()
        plan = read_plan(Path(f"/home/{name}") / NOTEBOOK)
        notebook = HubNotebookPage(page, NOTEBOOK, len(plan["cells"]))
        solutions = _solutions()
        for index in plan["solutions"]:
            grade_id = plan["cells"][index]["metadata"]["nbgrader"]["grade_id"]
            notebook.set_source(index, solutions[grade_id])
        state = notebook.run_all()
        errors = notebook.errors()
        assert not errors, f"error or stderr output in cells: {errors}"
        assert all(re.fullmatch(r"\[\d+\]:", c["prompt"]) for c in state["cells"] if c["code"])
        for index in plan["checks"]:
            assert ": passed" in notebook.text(notebook.cell(index).locator(".gradelib-result"))
        notebook.menu("File", "docmanager:save")
        # the save done (no tab marked unsaved) before Validate saves again: a second save sent while the first
        # is under way finds the file newer than JupyterLab knows it, and asks "File Changed" instead
        page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')", timeout=60_000)

        # Validate, from the notebook's toolbar
        notebook.panel.locator(".jp-Toolbar-item jp-button", has_text="Validate").click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=300_000)
        page.screenshot(path=str(SCREENSHOTS / "hub-validate.png"))
        # Validate's only dialog is its result: read it now (waiting for "Success" in another dialog only times out)
        said = " | ".join(d.inner_text() for d in dialog.all())
        assert "Success! Your notebook passes all the tests." in said, f"Validate says: {said[:3000]}"
        dialog.locator("button").last.click()
        notebook.screenshot(SCREENSHOTS / "hub-student-notebook.png")

        # Submit, from the Assignments tab
        page.locator(".lm-TabBar-tab", has_text="Assignments").click()
        fetched.locator("button", has_text="Submit").click()
        page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).first.wait_for(timeout=120_000)
        page.screenshot(path=str(SCREENSHOTS / "hub-assignments-submitted.png"))
    finally:
        page.close()
    inbound = hub.exchange / hub_util.COURSE_ID / "inbound"
    mine = [p for p in inbound.iterdir() if p.name.startswith(f"{name}+{ASSIGNMENT}+")]
    assert len(mine) == 1, sorted(p.name for p in inbound.iterdir())
    submitted = json.loads((mine[0] / f"{ASSIGNMENT}.ipynb").read_text())
    assert _solutions()[plan["cells"][plan["solutions"][0]]["metadata"]["nbgrader"]["grade_id"]].strip() in \
        "".join(submitted["cells"][plan["solutions"][0]]["source"])


# ------------------------------------------------------------------------------------------ the roster, live
# After the browser test (which uses students[3]): this one takes students[0] off the roster.
def test_a_student_added_and_one_removed_while_the_hub_runs(hub, instructor):
    leaving = hub.roster.students[0]
    tag = hub.roster.instructor[len("hub"):-1]
    joining_id = f"Hub{tag}.New"  # an institutional id with a capital and a dot, as universities give them
    joining = f"hub{tag}-new"     # the user name the setup makes of it (README, "The roster")
    hub_pid = hub.process.pid

    # the leaving student is at work: their server runs, the assignment is fetched and submitted
    server = hub.spawn(leaving)
    if ASSIGNMENT not in {item["name"] for item in server.listing("")}:
        server.action("fetch", ASSIGNMENT)
    server.action("submit", ASSIGNMENT)
    work = _work_of(hub, leaving)
    assert work["submissions"], f"no submission of {leaving} in the exchange"

    # the new roster as Excel saves "CSV UTF-8" with semicolons: a byte-order mark, CRLF, an extra column, and
    # the new student by institutional id alone; the leaving student is not on it
    rows = ["Username ;ID;Role;E-mail", f"{hub.roster.instructor};;instructor;",
            *(f"{name};;student;" for name in hub.roster.students[1:]), f";{joining_id};Student;new@uni.example"]
    roster = codecs.BOM_UTF8 + ("\r\n".join(rows) + "\r\n").encode()
    hub.former.append(leaving)  # the teardown removes their Unix user whatever happens below
    hub.roster = hub_util.Roster(hub.roster.instructor, (*hub.roster.students[1:], joining))
    proc = hub.setup_again(roster)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = proc.stdout
    assert "(UTF-8 with a byte-order mark, semicolon-separated)" in said, said
    assert f"line {len(rows)}: the id {joining_id!r} gives the user name {joining}" in said, said
    assert re.search(rf"^\s*users: created {joining};", said, re.MULTILINE), said
    assert re.search(rf"^\s*running hub: removed {leaving}: their servers are stopped", said, re.MULTILINE), said
    assert re.search(rf"^\s*running hub: added {joining}: they can log in now", said, re.MULTILINE), said
    assert hub.process.poll() is None and hub.process.pid == hub_pid, "the hub was restarted"

    # the removed student: server stopped, no login, their session's token refused, nothing of theirs lost
    assert _gone(lambda: [p for p in hub.member_processes() if p.username() == leaving]), \
        f"{leaving}'s server still runs"
    assert hub.api("GET", f"/users/{leaving}", ok=(404,)) is not None
    refused = hub.login(leaving)
    assert refused.status_code == 403 and "Invalid username or password" in refused.text, refused.status_code
    old = requests.get(f"{hub.url}/hub/api/user", headers={"Authorization": f"token {server.token}"}, timeout=60)
    assert old.status_code == 403, old.status_code
    assert _work_of(hub, leaving) == work
    assert pwd.getpwnam(leaving).pw_dir == f"/home/{leaving}"

    # the new student: a Unix user of their own, logs in at once, and finds the released assignment
    assert pwd.getpwnam(joining).pw_dir == f"/home/{joining}"
    let_in = hub.login(joining)
    assert let_in.status_code == 302, (let_in.status_code, let_in.text[:500])
    listed = {a["assignment_id"]: a["status"] for a in hub.spawn(joining).assignments()}
    assert listed.get(ASSIGNMENT) == "released", listed


def _gone(find, within=20.0):
    """True once find() returns nothing, within `within` seconds."""
    deadline = time.monotonic() + within
    while find():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _work_of(hub, name):
    """What a student has made in the course: their assignment folder, their submissions in the exchange and in
    the course folder, and their grades in the gradebook (file names with sizes, and rows)."""
    def files(top):
        return sorted((str(p.relative_to(top)), p.stat().st_size) for p in top.rglob("*") if p.is_file()) \
            if top.is_dir() else []
    inbound = hub.exchange / hub_util.COURSE_ID / "inbound"
    gradebook = hub.course_folder / "gradebook.db"
    grades = []
    if gradebook.exists():
        with sqlite3.connect(f"file:{gradebook}?mode=ro", uri=True) as db:
            grades = db.execute(
                "SELECT g.cell_id, g.auto_score, g.manual_score FROM grade g "
                "JOIN submitted_notebook n ON g.notebook_id = n.id "
                "JOIN submitted_assignment a ON n.assignment_id = a.id WHERE a.student_id = ? ORDER BY g.cell_id",
                (name,)).fetchall()
    return {"home": files(Path(f"/home/{name}") / ASSIGNMENT),
            "submissions": sorted(p.name for p in inbound.iterdir() if p.name.startswith(f"{name}+")),
            "collected": files(hub.course_folder / "submitted" / name),
            "grades": grades}


# ------------------------------------------------------------------------------------------ the setup, again
# Last in the module: a second setup may rebuild the environment (when gradelib changed since the first).
def test_setup_twice_keeps_everything_and_a_bad_roster_changes_nothing(hub, instructor):
    marker = hub.course_folder / "source" / ASSIGNMENT / "instructor-notes.txt"
    as_user(hub.roster.instructor, ["sh", "-c", f"echo mine > {marker}"])
    before = _state(hub)
    built_from = (hub.venv / ".course-hub-stamp").read_text()
    unchanged = built_from == _fingerprint()  # gradelib or requirements.txt not edited since the setup
    again = hub.setup_again(hub.roster_text)
    assert again.returncode == 0, again.stderr
    if unchanged:
        assert f"environment: {hub.venv} is up to date (kept)" in again.stdout, again.stdout
    assert re.search(r"^\s*users: kept", again.stdout, re.MULTILINE), again.stdout
    assert not re.search(r"^\s*users: created", again.stdout, re.MULTILINE), again.stdout
    assert re.search(r"^\s*running hub: its users are the roster's already", again.stdout, re.MULTILINE), again.stdout
    steps = re.findall(r"^\[(\d+)/(\d+)\] ", again.stdout, re.MULTILINE)
    assert [int(k) for k, _ in steps] == list(range(1, len(steps) + 1)) and {n for _, n in steps} == {str(len(steps))}
    assert marker.read_text() == "mine\n"
    assert _state(hub) == before

    bad_rows = {
        "duplicate": f"username,role\n{hub.roster.instructor},instructor\nnewstudent1\nnewstudent1\n",
        "invalid": f"username,role\n{hub.roster.instructor},instructor\nNew Student\n",
        "reserved": f"username,role\n{hub.roster.instructor},instructor\nroot\n",
        "system account": f"username,role\n{hub.roster.instructor},instructor\nnewstudent2\nwww-data\n",
    }
    for problem, text in bad_rows.items():
        proc = hub.setup_again(text, timeout=120)
        assert proc.returncode == 2, (problem, proc.stdout, proc.stderr)
        message = proc.stderr.strip()
        assert message.count("\n") == 0 and "nothing was changed" in message, (problem, message)
        assert not proc.stdout, (problem, proc.stdout)
        assert not _user_exists("newstudent1") and not _user_exists("newstudent2")
        assert _state(hub) == before, problem


def _fingerprint():
    """What setup_course.py hashes to decide whether the environment must be rebuilt."""
    return setup_course.environment_fingerprint()


def _state(hub):
    """Users, the prefix's files and the course folder's files, with owners and modes: what a setup changes."""
    files = {}
    for top in (hub.course_prefix, hub.course_folder):
        for path in [top, *top.rglob("*")]:
            if ".cache" in path.parts or path.name == "hub.log" or "venv" in path.relative_to(top).parts[:1]:
                continue
            if path.name.startswith("jupyterhub") and path.parent.name == "hub":
                continue  # the running hub's database and pid file change on their own
            st = path.lstat()
            files[str(path)] = (st.st_uid, st.st_gid, st.st_mode, st.st_size if path.is_file() else 0)
    users = sorted(line.split(":")[0] for line in Path("/etc/passwd").read_text().splitlines())
    return users, files
