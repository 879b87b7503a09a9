"""Grading in the sandbox: a submission can read no solution, damage no gradebook and stop no grader.

A real course (source/01_single_neuron, the course's own nbgrader pipeline) and
a class in which some students attack the grader from their solution cell
(tests/attacks.py) and others answer honestly or plainly wrong.  The class is
graded twice, with plain ``nbgrader autograde`` and with ``classgrade``, each
in the sandbox; then:

- honest students score exactly what they score without the sandbox, and an
  attacker no more than the same answer plainly wrong;
- the gradebook is whole, holds every student, and nothing of the attacks
  appears outside the box (files, connections to the grader's port, the
  grader's environment in the outputs, processes left running);
- without the sandbox the non-destructive attacks do succeed, so these checks
  can fail.

Also: grading stops before anyone is graded when the sandbox cannot be made or
the gradebook is damaged; the explicit switch grades without it and says so; the
gradebook is backed up before each run.  Skipped, with the reason, where this
machine cannot make a sandbox.
"""
import ast
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import classroom  # noqa: E402
from attacks import USE_STOLEN, attack_source  # noqa: E402

import gradelib  # noqa: E402
from gradelib.grading import gradebook  # noqa: E402
from gradelib.grading.sandbox import box as sandbox  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_single_neuron"
WHY_NOT = sandbox.problem(sandbox.find_bwrap())
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"no sandbox on this machine: {WHY_NOT}")

# attackers between honest students, so that in serial order someone is graded after each attack
CLASS = {"a_steal": "steal_solution", "b_honest": None, "c_destroy": "destroy_gradebook", "d_kill": "kill_grader",
         "e_honest": None, "f_write": "write_course_root", "g_port": "loopback_port", "h_env": "read_environment",
         "i_fork": "fork_flood", "j_memory": "memory_hog", "k_bigfile": "big_file", "l_report": "report_filesystem",
         "m_wrong": "wrong", "z_honest": None}
SECRET_NAME = "GRADER_SECRET_TOKEN"
HOME = sandbox.HOME   # the box's own home (tmpfs)


class Listener:
    """A TCP port the grader listens on at 127.0.0.1, counting who connects."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections, self.running = 0, True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()


def write_class(course, students, **values):
    right = classroom.source_solutions(course, ASSIGNMENT)
    wrong = {k: classroom.wrong(v) for k, v in right.items()}
    first = next(iter(right))
    for student, attack in students.items():
        if attack is None:
            classroom.submit(course, student, ASSIGNMENT, solutions=right)
        elif attack == "wrong":
            classroom.submit(course, student, ASSIGNMENT, solutions=wrong)
        else:
            cells = dict(wrong)
            cells[first] = attack_source(attack, wrong[first], **values)
            if attack == "steal_solution":   # whatever was stolen replaces every answer
                cells = {k: v + "\n" + USE_STOLEN if k != first else v for k, v in cells.items()}
            classroom.submit(course, student, ASSIGNMENT, solutions=cells)


def grader_env(secret, tmp=None):
    env = {**classroom.env(), SECRET_NAME: secret}
    if tmp:
        env["TMPDIR"] = str(tmp)   # where the grader makes its boxes' folders: empty again afterwards
    return env


def sandbox_processes(tmp):
    """Processes that run student code or hold a box for this test's graders: their boxes' folders are in
    the graders' TMPDIR, below tmp, so a kernel of anyone else on the machine does not count."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if str(tmp) in cmd and ("bwrap" in cmd or "ipykernel_launcher" in cmd or "harness.py" in cmd):
            found.append((p.pid, cmd[:160]))
    return found


def outputs(course, student):
    """Everything the student's cells printed in the autograded notebook."""
    nb = classroom.autograded(course, student, ASSIGNMENT)
    return "\n".join(str(o.get("text", "")) + str(o.get("evalue", "")) for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))


def total(book, student):
    return sum(book[student]["scores"].values())


def marker_files(course, marker):
    places = [course, Path("/tmp"), Path("/srv"), Path("/home"), Path.home()]
    found = [str(p) for p in Path(course).rglob(marker)]
    found += [str(place / marker) for place in places[1:] if (place / marker).exists()]
    return found


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return classroom.make_course(tmp_path_factory.mktemp("sandbox") / "course", assignments=(ASSIGNMENT,),
                                 source=REPO / "source", timeout=30, total_timeout=120)


@pytest.fixture(scope="module")
def graded(template, tmp_path_factory):
    """The class graded in the sandbox by plain nbgrader and by classgrade: {how: (course, result)}."""
    base = tmp_path_factory.getbasetemp()
    before = set(sandbox_processes(base))
    secret, marker = secrets.token_hex(16), f"pwned-{secrets.token_hex(4)}.txt"
    listener = Listener()
    results = {}
    try:
        for how in ("nbgrader", "classgrade"):
            course = classroom.copy_course(template, tmp_path_factory.mktemp(how) / "course", timeout=30,
                                           total_timeout=120, prove=True)
            write_class(course, CLASS, port=listener.port, secret_name=SECRET_NAME, marker=marker)
            db = course / "gradebook.db"
            if how == "nbgrader":
                args = classroom.nbgrader("autograde", ASSIGNMENT, "--force")
            else:
                args = [sys.executable, "-m", "gradelib.grading.classgrade", ASSIGNMENT, "--json", "summary.json"]
            tmp = tmp_path_factory.mktemp(how + "-tmp")
            proc = subprocess.run(args, cwd=course, env=grader_env(secret, tmp), capture_output=True, text=True,
                                  timeout=1200)
            results[how] = {"course": course, "proc": proc, "book": classroom.gradebook(course, ASSIGNMENT),
                            "whole": gradebook.problem(str(db)), "marker": marker_files(course, marker),
                            "tmp_left": sorted(p.name for p in tmp.iterdir())}
        time.sleep(1)
        results["left"] = sorted(set(sandbox_processes(base)) - before)
    finally:
        listener.stop()
    results["secret"], results["connections"] = secret, listener.connections
    return results


@pytest.fixture(scope="module")
def unsandboxed(template, tmp_path_factory):
    """The honest, the wrong and the non-destructive attackers, graded with c.Sandbox.enabled = False."""
    course = classroom.copy_course(template, tmp_path_factory.mktemp("unsandboxed") / "course", timeout=30,
                                   total_timeout=120, sandbox=False)
    secret, marker = secrets.token_hex(16), f"pwned-{secrets.token_hex(4)}.txt"
    students = {"a_steal": "steal_solution", "b_honest": None, "f_write": "write_course_root",
                "h_env": "read_environment", "l_report": "report_filesystem", "m_wrong": "wrong"}
    write_class(course, students, port=1, secret_name=SECRET_NAME, marker=marker)
    proc = subprocess.run([sys.executable, "-m", "gradelib.grading.classgrade", ASSIGNMENT], cwd=course,
                          env=grader_env(secret), capture_output=True, text=True, timeout=1200)
    yield {"course": course, "proc": proc, "book": classroom.gradebook(course, ASSIGNMENT), "secret": secret,
           "marker": marker_files(course, marker)}
    for path in marker_files(course, marker):
        os.remove(path)


HOW = ["nbgrader", "classgrade"]


@pytest.mark.parametrize("how", HOW)
def test_every_student_is_graded_and_the_gradebook_is_whole(graded, how):
    r = graded[how]
    assert r["proc"].returncode == 0, r["proc"].stdout[-2000:] + r["proc"].stderr[-3000:]
    said = r["proc"].stdout + r["proc"].stderr
    assert f"your solution of {ASSIGNMENT} scored" in said and "the grader works" in said, said[-2000:]
    assert r["whole"] is None, r["whole"]
    assert set(r["book"]) == set(CLASS), f"graded {sorted(r['book'])}"


@pytest.mark.parametrize("how", HOW)
def test_honest_students_score_what_they_score_without_the_sandbox(graded, unsandboxed, how):
    book = graded[how]["book"]
    for student in ("b_honest", "e_honest", "z_honest"):
        assert book[student]["scores"] == unsandboxed["book"]["b_honest"]["scores"], student
        assert total(book, student) == sum(book[student]["max"].values()) > 0
    assert book["m_wrong"]["scores"] == unsandboxed["book"]["m_wrong"]["scores"]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("student", [s for s, a in CLASS.items() if a not in (None, "wrong")])
def test_an_attack_scores_no_more_than_the_plainly_wrong_answer(graded, how, student):
    book = graded[how]["book"]
    assert total(book, student) <= total(book, "m_wrong"), (student, book[student]["scores"])


@pytest.mark.parametrize("how", HOW)
def test_the_attacks_ran_and_reached_nothing(graded, how):
    course = graded[how]["course"]
    said = {s: outputs(course, s) for s, a in CLASS.items() if a not in (None, "wrong")}
    assert "ATTACK: found 0 source notebooks" in said["a_steal"], said["a_steal"][-500:]
    assert "ATTACK: overwrote []" in said["c_destroy"], said["c_destroy"][-500:]
    wrote = [line for line in said["f_write"].splitlines() if line.startswith("ATTACK: wrote into")]
    assert wrote and set(ast.literal_eval(wrote[0][len("ATTACK: wrote into "):])) <= {HOME, "/tmp"}, wrote
    # (the box's own home and /tmp are writable; whether anything reached the machine is checked outside)
    assert "ATTACK: no connection" in said["g_port"], said["g_port"][-500:]
    assert "ATTACK: the grader's secret is None" in said["h_env"], said["h_env"][-500:]
    assert graded["secret"] not in "".join(said.values())
    assert "ATTACK: MemoryError after" in said["j_memory"] and "/tmp full after" in said["j_memory"]
    assert "ATTACK: stopped after" in said["k_bigfile"], said["k_bigfile"][-500:]
    forked = [line for line in said["i_fork"].splitlines() if "ATTACK: forked" in line]
    if forked:   # the flood may also take the kernel down before it can print
        assert int(forked[0].split()[2]) < sandbox.Limits.processes


@pytest.mark.parametrize("how", HOW)
def test_the_submission_sees_nothing_of_the_course_or_the_grader(graded, how):
    course = graded[how]["course"]
    said = outputs(course, "l_report")
    seen_line = [line for line in said.splitlines() if line.startswith("ATTACK: sees")]
    assert seen_line, said[-500:]
    seen = json.loads(seen_line[0][len("ATTACK: sees "):])
    assert sandbox.WORK in seen
    # read-only in the box: the Python environment and gradelib, and the empty folders on the way to them
    allowed = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, Path(gradelib.__file__).parent)}
    permitted = [p for p in seen if any(p == a or p.startswith(a + "/") or a.startswith(p + "/") for a in allowed)]
    bad = [p for p in set(seen) - set(permitted) if p.startswith(str(course)) or p.startswith(str(Path.home()) + "/")
           or os.path.basename(p) in ("gradebook.db", "nbgrader_config.py") or "/source/" in p + "/"
           or "/submitted/" in p + "/" or "/autograded/" in p + "/" or "/srv/" in p + "/"]
    assert not bad, bad[:10]
    env_line = [line for line in said.splitlines() if line.startswith("ATTACK: environment")][0]
    assert SECRET_NAME not in env_line and "PYTEST_CURRENT_TEST" not in env_line


def test_nothing_of_the_attacks_is_outside_the_box(graded):
    for how in HOW:
        assert graded[how]["marker"] == [], graded[how]["marker"]
        assert not list(graded[how]["course"].rglob("big.bin"))
        assert graded[how]["tmp_left"] == [], f"the grader left {graded[how]['tmp_left']} in its TMPDIR"
    assert graded["connections"] == 0
    assert graded["left"] == [], f"left running: {graded['left']}"


def test_without_the_sandbox_these_attacks_succeed(unsandboxed):
    """The checks above can fail: with the sandbox off the same attacks reach the course and the grader."""
    book, course = unsandboxed["book"], unsandboxed["course"]
    assert total(book, "a_steal") > total(book, "m_wrong")
    assert unsandboxed["marker"], "the attack could not write into the course root"
    assert unsandboxed["secret"] in outputs(course, "h_env")
    assert str(course) in outputs(course, "l_report")
    assert "WITHOUT the sandbox" in unsandboxed["proc"].stdout


# ---------------------------------------------------------------- the box itself, for whoever grades
WALK_AND_WRITE = r"""
import json, os
writable, sizes = [], {}
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev")]
    probe = os.path.join(root, ".probe")
    try:
        with open(probe, "w") as f:
            f.write("x")
        os.remove(probe)
        writable.append(root)
        st = os.statvfs(root)
        sizes[root] = st.f_blocks * st.f_frsize
    except OSError:
        pass
leaked = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if b"GRADER_SECRET_TOKEN=" in open(f"/proc/{pid}/environ", "rb").read():
            leaked.append(pid)
    except OSError:
        pass
print(json.dumps({"writable": writable, "sizes": sizes, "uid": os.getuid(), "leaked": leaked}))
"""


def test_the_box_gives_a_normal_users_grader_what_it_gives_roots():
    """Whoever makes the box, the code inside may write only its home and its /tmp, each within the limit.

    A normal user's bwrap owns the box's root folder: unless it is read-only, the code could fill /, /home or
    /etc with files in the machine's memory, past every limit. Every folder of the box is tried.
    """
    limits = sandbox.Limits(disk_bytes=64 * 1024 ** 2)
    box = sandbox.Box(limits, sandbox.find_bwrap(), seeded=False)
    argv = sandbox.command([sys.executable, "-c", WALK_AND_WRITE], box)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                          env={**os.environ, SECRET_NAME: secrets.token_hex(8)})
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["leaked"] == [], f"processes in the box whose environment holds the grader's: {seen['leaked']}"
    outside = [p for p in seen["writable"] if not (p in (HOME, "/tmp") or p.startswith((HOME + "/", "/tmp/")))]
    assert outside == [], f"the box could write into {outside} (grader uid {os.geteuid()})"
    assert HOME in seen["writable"] and "/tmp" in seen["writable"]
    assert all(size <= limits.disk_bytes for size in seen["sizes"].values()), seen["sizes"]
    if os.geteuid() == 0:
        assert seen["uid"] != 0


# ---------------------------------------------------------------- stopping before anyone is graded
@pytest.fixture
def course(template, tmp_path):
    course = classroom.copy_course(template, tmp_path / "course", timeout=30, total_timeout=120)
    write_class(course, {"b_honest": None, "m_wrong": "wrong"})
    return course


def with_config(course, line):
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(line + "\n")


@pytest.mark.parametrize("how", HOW)
def test_no_sandbox_stops_grading_before_anyone_is_graded(course, how):
    with_config(course, "c.Sandbox.bwrap = '/nonexistent/bwrap'")
    args = (classroom.nbgrader("autograde", ASSIGNMENT) if how == "nbgrader"
            else [sys.executable, "-m", "gradelib.grading.classgrade", ASSIGNMENT])
    proc = classroom.run(args, course, check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Grading stopped before anyone was graded" in said and "bwrap" in said and "c.Sandbox.enabled" in said
    assert classroom.gradebook(course, ASSIGNMENT) == {}


@pytest.mark.parametrize("how", HOW)
def test_the_switch_grades_without_the_sandbox_and_every_feedback_says_so(course, how):
    if how == "nbgrader":
        proc = classroom.run(classroom.nbgrader("autograde", ASSIGNMENT, "--Sandbox.enabled=False"), course)
    else:
        proc = classroom.run([sys.executable, "-m", "gradelib.grading.classgrade", ASSIGNMENT, "--no-sandbox"],
                             course)
        assert "WITHOUT the sandbox" in proc.stdout
    book = classroom.gradebook(course, ASSIGNMENT)
    assert total(book, "b_honest") == sum(book["b_honest"]["max"].values()) and total(book, "m_wrong") == 0
    classroom.run(classroom.nbgrader("generate_feedback", ASSIGNMENT), course)
    for student in ("b_honest", "m_wrong"):
        (html,) = (course / "feedback" / student / ASSIGNMENT).glob("*.html")
        assert "Graded without the grading sandbox" in html.read_text()


@pytest.mark.parametrize("how", HOW)
def test_a_damaged_gradebook_stops_the_run_untouched_and_a_backup_restores_it(course, how):
    db = course / "gradebook.db"
    args = (classroom.nbgrader("autograde", ASSIGNMENT, "--force") if how == "nbgrader"
            else [sys.executable, "-m", "gradelib.grading.classgrade", ASSIGNMENT])
    classroom.run(args, course)          # a first run: graded, and a backup of the gradebook before it
    before = classroom.gradebook(course, ASSIGNMENT)
    (copy,) = sorted((course / gradebook.BACKUPS).glob("gradebook-*.db"))
    damaged = b"not a gradebook " * 64
    db.write_bytes(damaged)
    proc = classroom.run(args, course, check=False)
    assert proc.returncode != 0
    assert "gradebook" in proc.stdout + proc.stderr and "damaged" in proc.stdout + proc.stderr
    assert db.read_bytes() == damaged
    # the README's restore: the latest copy back in place, then grade again
    latest = sorted((course / gradebook.BACKUPS).glob("gradebook-*.db"))[-1]
    assert latest == copy
    shutil.copy(latest, db)
    classroom.run(args, course)
    after = classroom.gradebook(course, ASSIGNMENT)
    assert {s: e["scores"] for s, e in after.items()} == {s: e["scores"] for s, e in before.items()}


def test_backups_keep_the_last_few_and_each_is_a_whole_gradebook(template, tmp_path):
    db = tmp_path / "gradebook.db"
    shutil.copy(template / "gradebook.db", db)
    made = [gradebook.backup(str(db), keep=3) for _ in range(5)]
    kept = sorted((tmp_path / gradebook.BACKUPS).glob("gradebook-*.db"))
    assert [str(p) for p in kept] == made[-3:]
    for path in kept:
        assert gradebook.problem(str(path)) is None
    db.write_bytes(b"\0" * 100)
    assert "not an SQLite database" in gradebook.problem(str(db))
    with pytest.raises(gradebook.Damaged, match="Restore the latest good copy"):
        gradebook.before_grading("sqlite:///" + str(db))


def test_a_check_that_cannot_run_flags_the_submission_for_a_look(course):
    """Without the released copy the locked cells cannot be compared: said, and flagged, not passed in silence."""
    shutil.rmtree(course / "release")
    classroom.run(classroom.nbgrader("autograde", ASSIGNMENT), course)
    book = classroom.gradebook(course, ASSIGNMENT)
    assert book["b_honest"]["flagged"] and book["m_wrong"]["flagged"]
    assert total(book, "b_honest") == sum(book["b_honest"]["max"].values())   # the score itself is unchanged
    flags = classroom.autograded(course, "b_honest", ASSIGNMENT).metadata["gradelib"]["flags"]
    assert any("could not be compared with the released copy" in f for f in flags), flags
