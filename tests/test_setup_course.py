"""course_hub/setup_course.py without a hub: rosters as universities export them, the user names made from
institutional ids, bad lines named, pip and npm given up on in time, and the systemd unit and nginx site it
writes checked by systemd and nginx themselves.  Fast, no root (tests/test_hub.py runs the setup for real).
"""
from __future__ import annotations

import argparse
import codecs
import http.server
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import setup_course as sc  # course_hub/, put on sys.path by tests/conftest.py

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "course_hub" / "setup_course.py"


def write(tmp_path: Path, data: str | bytes, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def problems_of(tmp_path: Path, text: str | bytes) -> str:
    with pytest.raises(sc.RosterError) as caught:
        sc.read_roster(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message and "nothing was changed" in message, message
    return message


# ------------------------------------------------------------------------------------------ rosters as exported
def test_excel_csv_utf8_with_a_bom_semicolons_and_extra_columns(tmp_path):
    text = ("Nachname;Vorname;Username ;ID number;ROLE;E-Mail-Adresse\r\n"
            "Lovelace;Ada;lovelace;;Instructor;ada@uni.example\r\n"
            "Smith;John;;J.Smith;;j.smith@uni.example\r\n"
            "Müller;Zoë;;2023001;student;z.mueller@uni.example\r\n")
    roster = sc.read_roster(write(tmp_path, codecs.BOM_UTF8 + text.encode()))
    assert roster.source.bom and roster.source.delimiter == ";"
    assert roster.source.describe() == "UTF-8 with a byte-order mark, semicolon-separated"
    assert roster.instructor == "lovelace" and roster.students == ("j-smith", "s2023001")
    assert [(m.username, m.institution_id, m.role, m.line, m.made) for m in roster.members] == [
        ("lovelace", "", "instructor", 2, False), ("j-smith", "J.Smith", "student", 3, True),
        ("s2023001", "2023001", "student", 4, True)]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [False, True])
def test_the_same_roster_in_every_delimiter_with_or_without_a_bom(tmp_path, delimiter, bom):
    rows = [["username", "role", "notes"], ["lovelace", "instructor", "a; b, c"], ["alice", "", ""], ["bob"]]
    text = "".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in row) + "\n" for row in rows)
    roster = sc.read_roster(write(tmp_path, (codecs.BOM_UTF8 if bom else b"") + text.encode()))
    assert (roster.instructor, roster.students) == ("lovelace", ("alice", "bob"))
    assert (roster.source.bom, roster.source.delimiter) == (bom, delimiter)


def test_header_names_match_without_case_spaces_or_punctuation(tmp_path):
    roster = sc.read_roster(write(tmp_path, " User_Name , Role \nlovelace,INSTRUCTOR\nalice,Student\n"))
    assert (roster.instructor, roster.students) == ("lovelace", ("alice",))
    roster = sc.read_roster(write(tmp_path, "Student ID,role\nlovelace,instructor\nA.B,student\n"))
    assert roster.students == ("a-b",)
    roster = sc.read_roster(write(tmp_path, "E-mail address;role\nada@uni.example;instructor\nb.c@uni.example;\n"))
    assert (roster.instructor, roster.students) == ("ada", ("b-c",))


# ------------------------------------------------------------------------------------------ institutional ids
@pytest.mark.parametrize("given, made", [
    ("J.Smith", "j-smith"), ("2023001", "s2023001"), ("j.smith@uni.example", "j-smith"),
    ("Zoë O'Neil", "zoe-o-neil"), ("  Anna-Lena_B  ", "anna-lena_b"), ("s1234567", "s1234567"),
    ("MÜLLER, Jörg", "muller-jorg"), ("_x", "s_x"), ("a..b", "a-b"), ("-42-", "s42"),
])
def test_the_user_name_made_from_an_institutional_id(given, made):
    assert sc.username_for(given) == made
    assert sc.name_problem(made) is None  # a valid Unix user name, as the setup checks them


def test_the_same_id_gives_the_same_name_whatever_else_is_on_the_roster(tmp_path):
    first = sc.read_roster(write(tmp_path, "id,role\nLovelace,instructor\nJ.Smith,\n2023001,\n"))
    second = sc.read_roster(write(tmp_path, "role;Student ID;x\ninstructor;Lovelace;1\n;Q.Z;2\n;2023001;3\n;J.Smith;4\n"))
    names = {m.institution_id: m.username for m in (*first.members, *second.members)}
    assert names == {"Lovelace": "lovelace", "J.Smith": "j-smith", "2023001": "s2023001", "Q.Z": "q-z"}


def test_a_given_username_wins_over_the_id_and_the_id_is_kept(tmp_path):
    roster = sc.read_roster(write(tmp_path, "id,username,role\nL1,lovelace,instructor\nJ.Smith,jsmith,\n"))
    assert [(m.username, m.institution_id, m.made) for m in roster.members] == [
        ("lovelace", "L1", False), ("jsmith", "J.Smith", False)]
    assert sc.roster_csv(roster) == "username,id,role\nlovelace,L1,instructor\njsmith,J.Smith,student\n"


# ------------------------------------------------------------------------------------------ bad lines named
@pytest.mark.parametrize("text, expected", [
    ("username,role\nlovelace,instructor\nJ.Smith\n",
     ["line 3: 'J.Smith' is not a valid user name",
      "put it in an 'id' column instead and the user name 'j-smith' is made from it"]),
    ("id,role\nlovelace,instructor\nJ.Smith\nj.smith@uni.example\n",
     ["line 4: the user name 'j-smith' (made from the id 'j.smith@uni.example') is already on line 3"]),
    ("username,id,role\nlovelace,,instructor\nab,X1\ncd,X1\n", ["line 4: the id 'X1' is already on line 3"]),
    ("id,role\nlovelace,instructor\n!!!\nAdmin\n",
     ["line 3: the id '!!!' gives no usable user name (it has no letter or digit",
      "line 4: the id 'Admin' gives no usable user name ('admin' is a reserved name); give this line a username"]),
    ("username,id,role\nlovelace,,instructor\n,,student\nbob,,teacher\n",
     ["line 3: neither a user name nor an id", "line 4: role 'teacher' is neither 'student' nor 'instructor'"]),
    ("username,role\nlovelace,instructor\n\n\nroot\n", ["line 5: 'root' is a reserved name"]),
    ('username,role\nlovelace,instructor\n"a\nb",student\ngames\n',
     ["line 3: 'a\\nb' is not a valid user name", "line 5: 'games' is a system account (uid 5)"]),
    ("username,role\nalice\nbob\n", ["the roster needs exactly one instructor (it has 0)"]),
    ("username,role\nlovelace,instructor\n", ["the roster has no students"]),
])
def test_a_bad_line_is_named_with_its_line_number_and_the_rule_it_breaks(tmp_path, text, expected):
    message = problems_of(tmp_path, text)
    for part in expected:
        assert part in message, message


def test_a_roster_that_is_not_a_roster(tmp_path):
    assert "has no 'username' or 'id' column in its header row (name;role)" in problems_of(tmp_path, "name;role\nx\n")
    assert "is empty" in problems_of(tmp_path, codecs.BOM_UTF8 + b"\r\n \r\n")
    latin1 = "username,role\nlovelace,instructor\nrené,student\n".encode("latin-1")
    assert "is not UTF-8 text (line 3 has the byte 0xe9): save it as UTF-8 (in Excel: 'CSV UTF-8')" in \
        problems_of(tmp_path, latin1)
    with pytest.raises(sc.RosterError, match="cannot be read"):
        sc.read_roster(tmp_path / "missing.csv")


def test_check_prints_the_roster_with_its_user_names_and_changes_nothing(tmp_path):
    roster = write(tmp_path, codecs.BOM_UTF8 + b"Username;ID;Role\r\nlovelace;;instructor\r\n;J.Smith;\r\n")
    proc = subprocess.run([sys.executable, str(SETUP), "--check", str(roster), "--prefix", str(tmp_path / "p")],
                          check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    assert proc.stdout.splitlines() == [
        f"[1/1] roster: {roster} (UTF-8 with a byte-order mark, semicolon-separated): lovelace (instructor) and 1 student",
        "      line 3: the id 'J.Smith' gives the user name j-smith",
        "the roster with its user names (nothing was changed):",
        "username,id,role", "lovelace,,instructor", "j-smith,J.Smith,student"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.csv"]
    bad = subprocess.run([sys.executable, str(SETUP), "--check", str(write(tmp_path, "id\n2023001\n"))],
                         check=False, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and not bad.stdout and "needs exactly one instructor" in bad.stderr


# ------------------------------------------------------------------------------------------ registries out of reach
class Blackhole:
    """A TCP port on 127.0.0.1 that accepts connections and never answers: a registry behind a proxy that hangs."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()

    def _hold(self):
        while True:
            try:
                self.held.append(self.server.accept()[0])
            except OSError:  # closed by stop()
                return

    def stop(self):
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the thread's accept(); close() alone would not
        except OSError:
            pass
        self.server.close()
        for conn in self.held:
            conn.close()
        self.thread.join(5)


@pytest.fixture
def blackhole():
    hole = Blackhole()
    yield hole
    hole.stop()


def test_pip_gives_up_on_a_registry_that_never_answers_and_says_so(tmp_path, monkeypatch, blackhole):
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{blackhole.port}/simple")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    registry = sc.pip_registry(argparse.Namespace(network_timeout=1))
    began = time.monotonic()
    with pytest.raises(sc.SetupError) as caught:
        sc.pip_install(Path(sys.executable), ["--target", str(tmp_path / "t"), "bbh-no-such-package"], registry)
    took = time.monotonic() - began
    message = str(caught.value)
    assert message.startswith(f"pip could not reach http://127.0.0.1:{blackhole.port}/simple (waiting at most 1 s "
                              "per try, --network-timeout): "), message
    assert "PIP_CERT=" in message and "run the setup again" in message and "\n" not in message, message
    assert took < 30, f"pip took {took:.0f} s to give up"


def test_npm_gives_up_on_a_registry_that_never_answers_and_says_so(tmp_path, monkeypatch, blackhole):
    if shutil.which("npm") is None:
        pytest.skip("no npm (apt-get install npm): the proxy's download is not tried")
    monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{blackhole.port}/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    registry = sc.npm_registry(argparse.Namespace(network_timeout=1))
    assert registry.url == f"http://127.0.0.1:{blackhole.port}/"
    began = time.monotonic()
    with pytest.raises(sc.SetupError) as caught:
        sc.npm_install(tmp_path / "proxy", "bbh-no-such-package", registry)
    took = time.monotonic() - began
    message = str(caught.value)
    assert message.startswith(f"npm could not reach {registry.url} (waiting at most 1 s per try"), message
    assert "NODE_EXTRA_CA_CERTS=" in message and "--proxy" in message, message
    assert took < 30, f"npm took {took:.0f} s to give up"


def test_a_command_past_its_time_limit_is_stopped_and_named(monkeypatch):
    registry = sc.Registry("pip", "https://pypi.example/simple", per_try=1, limit=0.5)
    began = time.monotonic()
    with pytest.raises(sc.SetupError, match=r"pip could not reach https://pypi.example/simple .*: it had not "
                                            r"finished after 0.5 s"):
        sc.run_online([sys.executable, "-c", "import time; time.sleep(30)"], registry)
    assert time.monotonic() - began < 10


# ------------------------------------------------------------------------------------------ the running hub
class RefusingHub(http.server.BaseHTTPRequestHandler):
    """A hub's API that does not know the setup's token (a hub started before the setup made it)."""

    def do_GET(self):
        self.send_response(403)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_roster_changes_without_a_hub_or_with_one_that_does_not_know_the_token(tmp_path, capsys):
    layout = sc.Layout(prefix=tmp_path)
    layout.hub_dir.mkdir()
    layout.roster_token.write_text("t0ken\n")
    roster = sc.Roster("lovelace", ("alice",))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    sc.apply_to_running_hub(layout, roster, argparse.Namespace(hub_port=closed), sc.Report())
    assert f"running hub: none on 127.0.0.1:{closed}; when it starts, exactly this roster can log in" in \
        capsys.readouterr().out
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RefusingHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sc.apply_to_running_hub(layout, roster, argparse.Namespace(hub_port=server.server_port), sc.Report())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    said = capsys.readouterr().out
    assert "running hub: it does not know this setup's token" in said and "restart it once" in said, said


# ------------------------------------------------------------------------------------------ systemd and nginx
def readme_block(language: str) -> str:
    """The one code block of this language in course_hub/README.md."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", (ROOT / "course_hub" / "README.md").read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"{len(blocks)} {language} blocks in course_hub/README.md"
    return blocks[0]


def test_the_readme_shows_the_unit_and_the_site_the_setup_writes():
    layout = sc.Layout(prefix=sc.DEFAULT_PREFIX)
    assert readme_block("ini") == sc.systemd_unit(layout)
    assert readme_block("nginx") == sc.nginx_site(8000, "hub.example.org", *sc.letsencrypt("hub.example.org"))


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze (Debian's systemd package): the unit is not verified")
    layout = sc.Layout(prefix=tmp_path / "srv")
    (layout.venv / "bin").mkdir(parents=True)
    layout.hub_dir.mkdir()
    (layout.venv / "bin" / "jupyterhub").symlink_to(Path(sys.executable).parent / "jupyterhub")
    unit = tmp_path / layout.unit_file.name
    unit.write_text(sc.systemd_unit(layout))
    proc = subprocess.run([analyze, "verify", str(unit)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stdout + proc.stderr, proc.stdout + proc.stderr
    # the check can fail: a misspelt key is named
    unit.write_text(sc.systemd_unit(layout).replace("RestartSec=", "RestartSecs="))
    proc = subprocess.run([analyze, "verify", str(unit)], check=False, capture_output=True, text=True, timeout=60)
    assert "Unknown key 'RestartSecs'" in proc.stdout + proc.stderr


def test_the_nginx_site_passes_nginx_t(tmp_path):
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.skip("no nginx (apt-get install nginx; CI installs it): the HTTPS site is not checked")
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make the test's certificate")
    cert, key = tmp_path / "hub.test.pem", tmp_path / "hub.test.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hub.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)

    def nginx_t(site_text: str) -> subprocess.CompletedProcess:
        site = tmp_path / "site.conf"
        site.write_text(site_text)
        main = tmp_path / "nginx.conf"  # what Debian's /etc/nginx/nginx.conf is around a site, in the test's folder
        main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                        f"http {{\n    access_log off;\n    include {site};\n}}\n")
        return subprocess.run([nginx, "-t", "-q", "-p", f"{tmp_path}/", "-e", str(tmp_path / "error.log"),
                               "-c", str(main)], check=False, capture_output=True, text=True, timeout=60)

    site = sc.nginx_site(8000, "hub.test", str(cert), str(key))
    proc = nginx_t(site)
    assert proc.returncode == 0, proc.stderr
    # the check can fail: a site without its certificate is refused
    proc = nginx_t(site.replace(str(cert), str(tmp_path / "missing.pem")))
    assert proc.returncode != 0 and "missing.pem" in proc.stderr, proc.stderr


# ------------------------------------------------------------------------------------------ uids from the roster
def _two_names_with_one_uid() -> tuple[str, str]:
    """Two user names that uid_for() gives one uid: a birthday search (about 15000 names for a span of 2^27)."""
    seen: dict[int, str] = {}
    for i in range(200_000):
        name = f"u{i}"
        other = seen.setdefault(sc.uid_for(name), name)
        if other != name:
            return other, name
    raise AssertionError("no two names share a uid in 200000: is the span far larger than ID_SPAN says?")


def test_every_person_gets_a_uid_from_their_name_alone(tmp_path):
    first = sc.read_roster(write(tmp_path, "username,role\nlovelace,instructor\nalice,\nbob,\n"))
    second = sc.read_roster(write(tmp_path, "id;username;role\nX;bob;\nY;carol;\nZ;lovelace;instructor\n"))
    uids = {m.username: sc.uid_for(m.username) for m in (*first.members, *second.members)}
    assert len(set(uids.values())) == len(uids) == 4  # bob and lovelace: one uid each on both rosters
    for uid in (*uids.values(), sc.course_gid()):
        # above subordinate ids and systemd's container ranges, below 2^31
        assert 1_879_048_191 < uid < 2**31, uid
    assert sc.course_gid() not in uids.values() and sc.course_gid() != sc.course_gid("another-course")


def test_two_names_that_share_a_uid_are_refused_naming_both_lines(tmp_path):
    a, b = _two_names_with_one_uid()
    message = problems_of(tmp_path, f"username,role\nlovelace,instructor\n{a},\n{b},\n")
    assert (f"line 4: the user name {b!r} gets the uid {sc.uid_for(a)}, as the user name on line 3 does; give this "
            "line another username") in message, message
