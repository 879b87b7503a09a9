"""The course's exchange with real Unix users: only a student's own submission is collected, feedback reaches
only its owner (gradelib/grading/exchange.py, set by gradelib.grading.course.configure).

One class for the module: throw-away Unix users (an instructor, ada, bob, cy, eve, fay, gus), nbgrader's
file exchange in a temporary folder laid out as course_hub/setup_course.py lays it out, and a course folder
whose nbgrader_config.py calls the course's configure(c).  Everyone runs nbgrader as themselves, from a
Python any user can run (Debian's /usr/bin/python3, borrowing this environment's packages).

- ada submits twice, and once makes an entry of her own dated 2099; bob and cy submit byte-identical
  notebooks; eve submits her own, makes a folder in ada's name dated 2099 by hand, and runs
  ``nbgrader submit --student=bob``; she also tries a name that is nobody's, a symbolic link and a
  malformed name; the instructor submits for zed (no Unix user: the one-machine flow) and makes an entry
  in ada's name.  The instructor's ``nbgrader collect`` collects every honest student's own latest
  submission, refuses every forgery with a WARNING naming who submitted in whose name, keeps the
  refusals for the summary and the report, and loses nothing.  Released feedback reaches only its owner,
  bob's and cy's too.
- A copied submission secret (fay's own entry with gus's secret) withholds both students' feedback.
- The control: plain nbgrader 0.9.6 (the same class, the course's exchange not configured) collects eve's
  forgeries as ada's and bob's, and eve fetches ada's feedback; so each test above fails without it.

Skipped with one line where it cannot run (not root; no useradd or /usr/bin/python3; packages other users
cannot read).  The users and their homes are removed at the end.  The rule for the owner, what lstat finds,
a future date, the record and its readers (the class summary, the report) are also tested on their own,
as any user.
"""
from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"
COURSE = "bx-course"
A = "02_relu_chain"          # the assignment of the main scenario
B = "03_softmax_223"         # the assignment of the copied-secret test
FUTURE = "2099-01-01 00:00:00.000000 UTC"
HER_FUTURE = "2098-06-01 00:00:00.000000 UTC"    # ada's own entry from the future (before eve's, in 2099)
ROLES = ("ins", "ada", "bob", "cy", "eve", "fay", "gus")


def cannot_run() -> str | None:
    """None when the test can run here, else the one-line reason it is skipped."""
    if os.geteuid() != 0:
        return "not root: the exchange tests create throw-away Unix users (useradd) and run nbgrader as each"
    for tool in ("useradd", "userdel"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (Debian's passwd package)"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing: the users run nbgrader on the system Python"
    return None




def notebook(text: str) -> bytes:
    """A one-cell notebook whose only content is text (the same text gives the same bytes)."""
    nb = {"cells": [{"cell_type": "markdown", "id": "answer", "metadata": {}, "source": [text]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(nb, indent=1) + "\n").encode()


class Class:
    """The users, the exchange, the course folder, and running commands as each user."""

    def __init__(self, base: Path, tag: str):
        self.base, self.tag = base, tag
        self.users = {role: f"bx{tag}{role}" for role in ROLES}
        self.exchange = base / "exchange"
        self.python = base / "py" / "bin" / "python"

    # -- who is who
    def __getattr__(self, role: str) -> str:
        users = self.__dict__.get("users", {})
        if role in users:
            return users[role]
        raise AttributeError(role)

    def home(self, role: str) -> Path:
        return Path(pwd.getpwnam(self.users[role]).pw_dir)

    def course(self, variant: str = "course") -> Path:
        return self.base / variant

    def inbound(self, exchange: Path | None = None) -> Path:
        return (exchange or self.exchange) / COURSE / "inbound"

    # -- running as a user
    def start(self, role: str, args: list[str], cwd: Path | None = None) -> subprocess.Popen:
        account = pwd.getpwnam(self.users[role])
        env = {"HOME": account.pw_dir, "USER": account.pw_name, "LOGNAME": account.pw_name, "LANG": "C.UTF-8",
               "PATH": f"{self.python.parent}:/usr/bin:/bin"}
        return subprocess.Popen(args, cwd=cwd or account.pw_dir, env=env, user=account.pw_uid,
                                group=account.pw_gid, extra_groups=[], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def run(self, role: str, args: list[str], cwd: Path | None = None, check: bool = True) -> str:
        return self.wait([self.start(role, args, cwd)], check)[0]

    def runs(self, jobs: list[tuple[str, list[str]]], check: bool = True) -> list[str]:
        """Several users' commands at once (they are independent): the outputs, in order."""
        return self.wait([self.start(role, args) for role, args in jobs], check)

    @staticmethod
    def wait(procs: list[subprocess.Popen], check: bool) -> list[str]:
        outs = []
        for p in procs:
            out, _ = p.communicate(timeout=300)
            if check and p.returncode != 0:
                raise AssertionError(f"{p.args} failed ({p.returncode}):\n{out[-4000:]}")
            outs.append(out)
        return outs

    def nbgrader(self, *args: str) -> list[str]:
        return [str(self.python), "-m", "nbgrader", *args]

    def student_args(self, exchange: Path | None = None) -> list[str]:
        return [f"--course={COURSE}", f"--Exchange.root={exchange or self.exchange}"]

    def submit(self, role: str, assignment: str = A, *extra: str) -> list[str]:
        return self.nbgrader("submit", assignment, *self.student_args(), *extra)

    def write_answer(self, role: str, text: str, assignment: str = A) -> None:
        """The student's working copy of the assignment, as fetch_assignment leaves it, with their answer."""
        account = pwd.getpwnam(self.users[role])
        folder = self.home(role) / assignment
        folder.mkdir(exist_ok=True)
        (folder / f"{assignment}.ipynb").write_bytes(notebook(text))
        for p in (folder, folder / f"{assignment}.ipynb"):
            os.chown(p, account.pw_uid, account.pw_gid)

    def by_hand(self, role: str, entry: str, files: dict[str, str]) -> None:
        """A folder made by hand by that user (mkdir and files of their own, no nbgrader): entry is its name in
        the exchange's inbound, or a whole path."""
        script = ("import os, sys, json\n"
                  "path, files = sys.argv[1], json.loads(sys.argv[2])\n"
                  "os.mkdir(path)\n"
                  "for name, text in files.items():\n"
                  "    open(os.path.join(path, name), 'w').write(text)\n")
        self.run(role, [SYSTEM_PYTHON, "-c", script, str(self.inbound() / entry), json.dumps(files)])

    def collected(self, student: str, assignment: str = A, course: Path | None = None) -> str | None:
        path = (course or self.course()) / "submitted" / student / assignment / f"{assignment}.ipynb"
        if not path.exists():
            return None
        return json.loads(path.read_text())["cells"][0]["source"][0]

    def make_feedback(self, assignment: str, course: Path | None = None) -> list[str]:
        """Feedback for every collected student, as generate_feedback leaves it: an HTML file per notebook
        saying whose it is, beside the submission's timestamp.txt and submission_secret.txt (autograde and
        generate_feedback copy every file that is not a notebook).  No grading: it is the release that is
        tested."""
        course = course or self.course()
        instructor = pwd.getpwnam(self.users["ins"])
        made = []
        for folder in sorted((course / "submitted").glob(f"*/{assignment}")):
            student = folder.parent.name
            dest = course / "feedback" / student / assignment
            dest.mkdir(parents=True, exist_ok=True)
            (dest / f"{assignment}.html").write_text(f"<p>feedback for {student}</p>\n")
            for name in ("timestamp.txt", "submission_secret.txt"):
                if (folder / name).exists():
                    shutil.copy(folder / name, dest / name)
            made.append(student)
        for p in [course / "feedback", *(course / "feedback").rglob("*")]:
            os.chown(p, instructor.pw_uid, instructor.pw_gid)
        return made

    def fetched_feedback(self, role: str, assignment: str = A) -> list[str]:
        """The feedback pages a student's fetch_feedback left in their home: the text of each."""
        folder = self.home(role) / assignment / "feedback"
        return sorted(p.read_text().strip() for p in folder.rglob("*.html")) if folder.exists() else []


def accounts(args: list[str], check: bool = True) -> None:
    """useradd or userdel, waiting while another one holds /etc/passwd's lock (other tests make users too)."""
    for _ in range(120):
        proc = subprocess.run(args, capture_output=True, text=True)
        if "cannot lock" not in proc.stderr:
            break
        time.sleep(1)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")


def course_config(exchange: Path, configured: bool) -> str:
    lines = ["import os", "c = get_config()", "ROOT = os.path.dirname(os.path.abspath(__file__))",
             "c.CourseDirectory.root = ROOT", f"c.CourseDirectory.course_id = {COURSE!r}",
             "c.CourseDirectory.db_url = 'sqlite:///' + os.path.join(ROOT, 'gradebook.db')",
             f"c.Exchange.root = {str(exchange)!r}"]
    if configured:
        lines += ["from gradelib.grading.course import configure", "configure(c)"]
    return "\n".join(lines) + "\n"


def make_exchange(cls: Class, exchange: Path) -> None:
    """The exchange as course_hub/setup_course.py makes it: the root 1777, the course's folders owned by the
    instructor in nbgrader's modes, and each assignment released in outbound."""
    instructor = pwd.getpwnam(cls.users["ins"])
    exchange.mkdir()
    os.chmod(exchange, 0o1777)
    course = exchange / COURSE
    for path, mode in ((course, 0o755), (course / "outbound", 0o755), (course / "inbound", 0o2733),
                       (course / "feedback", 0o711)):
        path.mkdir()
        os.chown(path, instructor.pw_uid, instructor.pw_gid)
        os.chmod(path, mode)
    for assignment in (A, B):
        released = course / "outbound" / assignment
        released.mkdir()
        (released / f"{assignment}.ipynb").write_bytes(notebook("your answer here"))
        for p in (released, released / f"{assignment}.ipynb"):
            os.chown(p, instructor.pw_uid, instructor.pw_gid)


def make_course(cls: Class, folder: Path, exchange: Path, configured: bool) -> None:
    instructor = pwd.getpwnam(cls.users["ins"])
    (folder / "source").mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(course_config(exchange, configured))
    (folder / "source" / "solution.txt").write_text("the instructor's solutions\n")
    for p in [folder, *folder.rglob("*")]:
        os.chown(p, instructor.pw_uid, instructor.pw_gid)
    os.chmod(folder, 0o700)


@pytest.fixture(scope="module")
def cls():
    """The users, an environment they can run, the exchange and the course; removed at the end."""
    reason = cannot_run()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="exchange-test-"))
    os.chmod(base, 0o755)
    made = Class(base, secrets.token_hex(2))
    created = []
    try:
        (base / "home").mkdir()
        for name in made.users.values():
            accounts(["useradd", "--create-home", "--home-dir", str(base / "home" / name), "--user-group",
                      "--shell", "/bin/sh", name])
            created.append(name)
            os.chmod(base / "home" / name, 0o700)
        # Debian's Python with this environment's packages (site-packages of this venv, through a .pth): a
        # Python under /root is not executable by the users, and building an environment takes a minute
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(base / "py")], check=True)
        site = subprocess.run([str(made.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
        Path(site, "borrow-test-environment.pth").write_text(
            f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
        # nbgrader's gradebook runs `alembic` from the PATH: this environment's script starts a Python they
        # cannot run, so theirs is the same module on their Python
        alembic = made.python.parent / "alembic"
        alembic.write_text(f"#!/bin/sh\nexec {made.python} -m alembic \"$@\"\n")
        alembic.chmod(0o755)
        probe = made.start("ada", [str(made.python), "-c", "from importlib.util import find_spec as f\n"
                                   "assert f('nbgrader') and f('gradelib'), 'not found'"])
        out, _ = probe.communicate(timeout=120)
        if probe.returncode != 0:
            pytest.skip(f"the users cannot import nbgrader and gradelib from {sysconfig.get_paths()['purelib']} "
                        f"on {SYSTEM_PYTHON} (a folder only root can read, or another Python version): "
                        f"{out.strip().splitlines()[-1:]}")
        make_exchange(made, made.exchange)
        make_course(made, made.course(), made.exchange, configured=True)
        yield made
    finally:
        for name in created:
            accounts(["userdel", "--remove", name], check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def submitted(cls):
    """Everyone's submissions of A, honest and forged; returns the entries in inbound, by who made them."""
    for role, text in (("ada", "ada v1"), ("bob", "the shared answer"), ("cy", "the shared answer"),
                       ("eve", "eve's own"), ("ins", "zed's, entered by the instructor")):
        cls.write_answer(role, text)
    zed = f"zed{cls.tag}"
    # ada's first submission, bob's and cy's (byte-identical notebooks), eve's own, and the instructor
    # submitting in the name of zed, who is no Unix user (the one-machine flow), all at once
    cls.write_answer("gus", "gus's answer", B)
    cls.runs([("ada", cls.submit("ada")), ("bob", cls.submit("bob")), ("cy", cls.submit("cy")),
              ("eve", cls.submit("eve")), ("ins", cls.submit("ins", A, f"--student={zed}")),
              ("gus", cls.submit("gus", B))])   # gus's is for test_a_copied_secret_withholds_both_students_feedback
    # ada, by hand, an entry of her own dated 2099 (it must not hide her later, real submission)
    cls.by_hand("ada", f"{cls.ada}+{A}+{HER_FUTURE}+mine", {f"{A}.ipynb": notebook("ada from the future").decode(),
                                                             "timestamp.txt": HER_FUTURE})
    # eve: (a) a folder under ada's name dated 2099, by hand, with its twin in her own nbgrader cache (as
    # nbgrader submit would leave it, so that fetch_feedback looks for ada's feedback under her secret)
    forged = {f"{A}.ipynb": notebook("eve's, as ada").decode(), "timestamp.txt": FUTURE,
              "submission_secret.txt": secrets.token_hex(64)}
    cls.by_hand("eve", f"{cls.ada}+{A}+{FUTURE}+forged", forged)
    cache = cls.home("eve") / ".local" / "share" / "jupyter" / "nbgrader_cache" / COURSE
    cls.run("eve", ["mkdir", "-p", str(cache)])
    cls.by_hand("eve", str(cache / f"{cls.ada}+{A}+{FUTURE}"), forged)
    # eve in the name of nobody's account; a symbolic link to the instructor's course; a malformed name
    cls.by_hand("eve", f"ghost{cls.tag}+{A}+2024-01-01 00:00:00.000000 UTC",
                {f"{A}.ipynb": notebook("eve's, as ghost").decode()})
    cls.run("eve", ["ln", "-s", str(cls.course() / "source"), str(cls.inbound() / f"{cls.eve}+{A}+2030-01-01 "
                                                                                   "00:00:00.000000 UTC+link")])
    cls.by_hand("eve", f"{cls.eve}+{A}+not a time", {f"{A}.ipynb": notebook("eve's, badly named").decode()})
    # the instructor, by hand, in the name of ada, who is a Unix user: refused too (only ada claims "ada")
    cls.by_hand("ins", f"{cls.ada}+{A}+2024-01-02 00:00:00.000000 UTC", {f"{A}.ipynb": notebook("ins as ada").decode()})
    # eve: (b) nbgrader submit in bob's name, after bob's own; and ada's second, real, submission: the one to
    # collect
    cls.write_answer("eve", "eve's, as bob")
    cls.write_answer("ada", "ada v2")
    cls.runs([("eve", cls.submit("eve", A, f"--student={cls.bob}")), ("ada", cls.submit("ada"))])
    return sorted(p.name for p in cls.inbound().iterdir())


@pytest.fixture(scope="module")
def collected(cls, submitted):
    """The instructor's `nbgrader collect` with the course's configuration: its output."""
    return cls.run("ins", cls.nbgrader("collect", A), cwd=cls.course())


def warnings_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if "WARNING" in line or "refused" in line]


def test_every_honest_student_gets_their_own_latest_submission_collected(cls, collected):
    assert cls.collected(cls.ada) == "ada v2", collected
    assert cls.collected(cls.bob) == "the shared answer", collected
    assert cls.collected(cls.cy) == "the shared answer", collected
    assert cls.collected(cls.eve) == "eve's own", collected
    # the one-machine flow: the instructor's own entry in the name of zed, no Unix user, is collected
    assert cls.collected(f"zed{cls.tag}") == "zed's, entered by the instructor", collected
    assert cls.collected(f"ghost{cls.tag}") is None
    timestamps = {s: (cls.course() / "submitted" / s / A / "timestamp.txt").read_text()
                  for s in (cls.ada, cls.bob, cls.cy, cls.eve)}
    assert not any(t.startswith("2099") for t in timestamps.values()), timestamps


def test_every_forgery_is_refused_with_the_names_in_collects_output(cls, collected):
    warned = warnings_of(collected)
    expected = [
        (f"{cls.ada}+{A}+{FUTURE}+forged", f"submitted by {cls.eve} in {cls.ada}'s name"),
        (f"{cls.bob}+{A}+", f"submitted by {cls.eve} in {cls.bob}'s name"),
        (f"ghost{cls.tag}+{A}+", f"submitted by {cls.eve} in the name of ghost{cls.tag}, who is no Unix user"),
        (f"{cls.ada}+{A}+2024-01-02", f"submitted by {cls.ins} in {cls.ada}'s name"),
        (f"{cls.eve}+{A}+2030-01-01", "symbolic link"),
        (f"{cls.eve}+{A}+not a time", "its name is not nbgrader's"),
    ]
    for entry, why in expected:
        assert any(f"refused {entry}" in line and why in line for line in warned), (entry, why, warned)
    # ada's own 2099 entry is hers: not refused, but re-dated and reported
    assert not any(f"refused {cls.ada}+{A}+{HER_FUTURE}+mine" in line for line in warned), warned
    assert any(f"{cls.ada}+{A}+{HER_FUTURE}+mine claims to be from" in line for line in warned), warned
    assert not any("cheating attempt" in line for line in collected.splitlines()), collected


def test_the_refusals_are_kept_beside_the_gradebook(cls, collected):
    from gradelib.grading import collect_record
    findings = collect_record.load(str(cls.course() / collect_record.RECORD_NAME), A)
    refused = {(f.owner, f.named, f.kind) for f in findings if f.action == collect_record.REFUSED}
    assert (cls.eve, cls.ada, collect_record.FORGED) in refused
    assert (cls.eve, cls.bob, collect_record.FORGED) in refused
    assert (cls.ins, cls.ada, collect_record.FORGED) in refused
    assert (cls.eve, f"ghost{cls.tag}", collect_record.FORGED) in refused
    assert any(f.kind == collect_record.FUTURE and f.named == cls.ada and f.action == collect_record.CORRECTED
               for f in findings)
    assert {f.who for f in findings if f.kind == collect_record.FORGED} >= {
        f"{cls.eve} in {cls.ada}'s name", f"{cls.eve} in {cls.bob}'s name"}


def test_nothing_is_lost_and_a_second_collect_adds_nothing(cls, submitted, collected):
    assert sorted(p.name for p in cls.inbound().iterdir()) == submitted   # collect only reads the exchange
    from gradelib.grading import collect_record
    path = str(cls.course() / collect_record.RECORD_NAME)
    before = collect_record.load(path)
    again = cls.run("ins", cls.nbgrader("collect", "--update", A), cwd=cls.course())
    assert collect_record.load(path) == before        # the same entries are not recorded twice
    assert cls.collected(cls.ada) == "ada v2", again
    assert sum(f"refused {cls.ada}+{A}+{FUTURE}+forged" in line for line in again.splitlines()) == 1, again


def test_formgraders_collect_uses_the_same_exchange(cls, collected):
    """formgrader's Collect button calls NbGraderAPI.collect (with --update) in the instructor's server, with
    the configuration nbgrader loads from the course folder: the same refusals, in the log it shows."""
    script = ("import json\n"
              "from nbgrader.apps.api import NbGraderAPI\n"
              "from nbgrader.apps.baseapp import NbGrader\n"
              "app = NbGrader()\n"
              "app.load_config_file()\n"
              f"print(json.dumps(NbGraderAPI(config=app.config).collect({A!r})))\n")
    result = json.loads(cls.run("ins", [str(cls.python), "-c", script], cwd=cls.course()).splitlines()[-1])
    assert result["success"], result
    assert f"refused {cls.ada}+{A}+{FUTURE}+forged: submitted by {cls.eve} in {cls.ada}'s name" in result["log"]
    assert cls.collected(cls.ada) == "ada v2"


def test_feedback_reaches_only_its_owner_also_for_identical_notebooks(cls, collected):
    made = cls.make_feedback(A)
    assert {cls.ada, cls.bob, cls.cy, cls.eve} <= set(made)
    out = cls.run("ins", cls.nbgrader("release_feedback", A), cwd=cls.course())
    assert "not released" not in out, out
    roles = ("ada", "bob", "cy", "eve")
    cls.runs([(role, cls.nbgrader("fetch_feedback", A, *cls.student_args())) for role in roles])
    for role in roles:
        assert cls.fetched_feedback(role) == [f"<p>feedback for {cls.users[role]}</p>"], (role, out)


def test_a_copied_secret_withholds_both_students_feedback(cls, submitted):
    """gus submitted with nbgrader (the `submitted` fixture); fay makes an entry of her own holding gus's
    secret (as if gus had handed her his nbgrader cache): released, both would have one file name, the later
    overwriting the other."""
    cache = cls.home("gus") / ".local" / "share" / "jupyter" / "nbgrader_cache" / COURSE
    secret = next(cache.glob(f"*+{B}+*")).joinpath("submission_secret.txt").read_text()
    later = "2030-01-01 00:00:00.000000 UTC"
    cls.by_hand("fay", f"{cls.fay}+{B}+{later}+copied", {f"{B}.ipynb": notebook("fay's answer").decode(),
                                                       "submission_secret.txt": secret})
    cls.run("ins", cls.nbgrader("collect", B), cwd=cls.course())
    assert cls.collected(cls.fay, B) == "fay's answer" and cls.collected(cls.gus, B) == "gus's answer"
    cls.make_feedback(B)
    out = cls.run("ins", cls.nbgrader("release_feedback", B), cwd=cls.course())
    for who in (cls.fay, cls.gus):
        assert any(f"feedback for {who} on {B} not released" in line and cls.fay in line and cls.gus in line
                   for line in out.splitlines()), out
    cls.runs([(role, cls.nbgrader("fetch_feedback", B, *cls.student_args())) for role in ("fay", "gus")])
    assert cls.fetched_feedback("gus", B) == [] and cls.fetched_feedback("fay", B) == []


def test_plain_nbgrader_collects_the_forgeries_and_hands_out_the_feedback(cls, submitted):
    """The control: the same inbound, collected by nbgrader 0.9.6 as it is: without the course's exchange
    every test above fails (eve's work is collected as ada's and bob's, and eve fetches ada's feedback)."""
    exchange = cls.base / "plain-exchange"
    subprocess.run(["cp", "-a", str(cls.exchange), str(exchange)], check=True)   # owners and modes kept
    course = cls.course("plain-course")
    make_course(cls, course, exchange, configured=False)
    # plain nbgrader stops the whole collect at the malformed name: without it, as a class would have it
    bad = cls.inbound(exchange) / f"{cls.eve}+{A}+not a time"
    shutil.rmtree(bad)
    out = cls.run("ins", cls.nbgrader("collect", A), cwd=course)
    assert "cheating attempt?" in out                                   # it notices ...
    assert cls.collected(cls.ada, A, course) == "eve's, as ada", out    # ... and collects eve's forgeries
    assert cls.collected(cls.bob, A, course) == "eve's, as bob", out
    # and it follows eve's symbolic link with the instructor's rights: the course's source/ becomes eve's
    assert (course / "submitted" / cls.eve / A / "solution.txt").exists(), out
    cls.make_feedback(A, course)
    # ada's and bob's only: plain nbgrader's release stops at the first feedback without a timestamp.txt
    # (ghost's entry had none)
    for victim in (cls.ada, cls.bob):
        cls.run("ins", cls.nbgrader("release_feedback", A, f"--student={victim}"), cwd=course)
    shutil.rmtree(cls.home("eve") / A / "feedback", ignore_errors=True)
    cls.run("eve", cls.nbgrader("fetch_feedback", A, *cls.student_args(exchange)))
    assert {f"<p>feedback for {cls.ada}</p>", f"<p>feedback for {cls.bob}</p>"} <= set(cls.fetched_feedback("eve"))


def test_the_summary_and_the_report_show_the_refusals_with_the_names_only_when_asked(cls, collected, tmp_path):
    import io

    from gradelib.grading import classgrade
    from gradelib.grading.report import cli as report, store as verdicts
    course = cls.course()
    summary = io.StringIO()
    classgrade.print_collect_findings(f"sqlite:///{course / 'gradebook.db'}", str(course), A, summary)
    text = summary.getvalue()
    assert "refused at collect, not graded (6):" in text, text
    assert f"submitted by {cls.eve} in {cls.ada}'s name" in text, text
    assert f"submitted by {cls.eve} in {cls.bob}'s name" in text, text
    assert "collected with a corrected time (1):" in text and f"{cls.ada}+{A}+{HER_FUTURE}+mine" in text
    # the report reads the same record: one graded student is enough for it to be made
    record = verdicts.NotebookRecord(A, [verdicts.Verdict("t", "relu_chain", "f", True, True)])
    verdicts.replace(str(course / verdicts.STORE_NAME), A, cls.ada, [record])
    anonymous = report.make(str(course), A, out=str(tmp_path / "a"))
    page = Path(anonymous.html).read_text()
    assert "refused at collect" in page and "submitted in another student&#x27;s name" in page
    assert not any(name in page + Path(anonymous.csv).read_text() for name in (cls.eve, cls.ada, cls.bob))
    named = report.make(str(course), A, names=True, out=str(tmp_path / "b"))
    page, table = Path(named.html).read_text(), Path(named.csv).read_text()
    assert f"{cls.eve} in {cls.ada}&#x27;s name" in page and f"{cls.eve} in {cls.bob}&#x27;s name" in page
    assert f"{cls.eve} in {cls.ada}'s name" in table


# ------------------------------------------------------------------------------------------- on their own, any user
def test_the_owner_rule_for_users_and_for_names_that_are_no_users():
    from gradelib.grading.exchange import account_name, owner_problem
    me, other = os.geteuid(), (65534 if os.geteuid() != 65534 else 0)
    mine = account_name(me)
    nobody = f"no-such-user-{secrets.token_hex(3)}"
    # an existing user's name: only that user's entry is theirs, whoever collects (the course hub)
    assert owner_problem(mine, me, collector_uid=other) == ""
    assert owner_problem(mine, other, collector_uid=me) == (
        f"submitted by {account_name(other)} in {mine}'s name (the folder belongs to {account_name(other)}, "
        f"not to {mine})")
    # a name that is no user's (one machine, the instructor playing every student): only the collector's own
    assert owner_problem(nobody, me, collector_uid=me) == ""
    assert "who is no Unix user here" in owner_problem(nobody, other, collector_uid=me)
    assert account_name(2 ** 31 - 7) == f"uid {2 ** 31 - 7}"


def test_what_cannot_be_copied_safely_is_named(tmp_path):
    from gradelib.grading.exchange import scan
    good = tmp_path / "good"
    (good / "sub").mkdir(parents=True)
    (good / "sub" / "a.ipynb").write_text("{}")
    found = scan(str(good))
    assert found.problem == "" and found.owners == {os.geteuid()} and found.written is not None
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "a.ipynb").symlink_to("/etc/passwd")
    assert "symbolic link, a.ipynb" in scan(str(linked)).problem
    pipe = tmp_path / "pipe"
    pipe.mkdir()
    os.mkfifo(pipe / "a.ipynb")           # a FIFO would hang nbgrader's copy for ever
    assert "not a regular file" in scan(str(pipe)).problem
    (tmp_path / "link").symlink_to(good)
    assert "it is a symbolic link" in scan(str(tmp_path / "link")).problem


def test_a_date_in_the_future_counts_as_the_time_the_files_were_written(tmp_path):
    from gradelib.grading.collect_record import FUTURE as FUTURE_KIND
    from gradelib.grading.exchange import inspect
    name = f"no-such-user-{secrets.token_hex(3)}"
    entry = tmp_path / f"{name}+{A}+{FUTURE}+x"
    entry.mkdir()
    (entry / "timestamp.txt").write_text(FUTURE)
    found = inspect(str(entry), A, collector_uid=os.geteuid())
    assert found.problem == "" and found.kind == FUTURE_KIND and found.future
    assert found.timestamp == found.written and found.timestamp.year < 2099
    # a folder named today whose timestamp.txt says 2099 is from the future as well
    today = tmp_path / f"{name}+{A}+2024-05-01 10:00:00.000000 UTC+y"
    today.mkdir()
    (today / "timestamp.txt").write_text(FUTURE)
    assert inspect(str(today), A, collector_uid=os.geteuid()).kind == FUTURE_KIND
    # an honest one keeps its time (the name's); a timestamp.txt missing is written into the copy
    honest = tmp_path / f"{name}+{A}+2024-05-01 10:00:00.000000 UTC+z"
    honest.mkdir()
    found = inspect(str(honest), A, collector_uid=os.geteuid())
    assert (found.kind, found.timestamp.year, found.needs_stamp) == ("", 2024, True)


def test_the_record_is_typed_kept_once_and_a_damaged_one_says_so(tmp_path):
    from gradelib.grading import collect_record
    from gradelib.grading.collect_record import FORGED, REFUSED, Finding, RecordError
    path = str(tmp_path / collect_record.RECORD_NAME)
    assert collect_record.load(path) == []
    f = Finding(A, f"ada+{A}+{FUTURE}+x", "ada", "eve", REFUSED, FORGED, "submitted by eve in ada's name", FUTURE)
    assert collect_record.add(path, [f, f]) == [f]
    assert collect_record.add(path, [f]) == []
    assert collect_record.load(path) == [f] and collect_record.load(path, B) == []
    assert f.who == "eve in ada's name"
    Path(path).write_text("{not json")
    with pytest.raises(RecordError, match="cannot be read .*move it aside and collect again"):
        collect_record.load(path)
    Path(path).write_text(json.dumps({"findings": [{"assignment": A}]}))
    with pytest.raises(RecordError, match="is not one .*has no entry, named, owner, action, kind, reason"):
        collect_record.load(path)
