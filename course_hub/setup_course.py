"""Set a course up on one Debian machine, from a roster: one command, run as root, safe to run again.

    sudo python3 course_hub/setup_course.py roster.csv [--prefix /srv/backprop-by-hand]
    python3 course_hub/setup_course.py --check roster.csv      # the roster only: read, checked, printed back

The roster is a CSV file as universities export it (course_hub/README.md, "The roster"): UTF-8 with or
without a byte-order mark, separated by commas, semicolons or tabs, with a header row naming a ``username``
column or an ``id`` column (the institutional id, from which a user name is made: ``username_for``) or both,
and an optional ``role`` (``student``, the default, or ``instructor``; exactly one instructor).  Other
columns are ignored; a bad line is named with its line number and the rule it breaks.

What it does, in this order, each step announced as it begins ("[k/10] ...") and keeping what is there:

1. the roster read and checked whole (names, ids, duplicates, reserved or system accounts, one instructor);
2. the machine checked (root, /usr/bin/python3 with venv, node for the proxy): until here nothing is changed;
3. the shared environment: a venv on the system Python (``/usr/bin/python3``; a Python under /root is
   unreadable to the students) at ``PREFIX/venv`` with this repository's requirements and gradelib;
4. the proxy: configurable-http-proxy from npm into ``PREFIX/proxy`` (or the one given with ``--proxy``);
   pip and npm wait at most ``--network-timeout`` seconds per try for their registry, and a registry out of
   reach ends the setup with a sentence saying so and what to do;
5. the Unix users, each with a home only they can read (a new user gets a random password, written to
   ``PREFIX/hub/initial_passwords.csv``, readable by root only);
6. the nbgrader exchange at ``PREFIX/exchange`` with the permissions nbgrader documents (the root world
   writable, with the sticky bit; the course's folder made now, owned by the instructor, so that no student
   can claim the course's name first);
7. what each role's server shows: formgrader and the course list for the instructor; the Assignments tab
   and Validate for students (``PREFIX/jupyter/<role>``, put on JUPYTER_CONFIG_PATH by the hub);
8. the instructor's course folder ``~INSTRUCTOR/backprop-by-hand`` with this repository's ``source/`` and
   ``nbgrader_config.py`` (files already there are kept: they may hold the instructor's edits and gradebook),
   and a check that nbgrader, run as the instructor from the environment, loads that config;
9. the hub: ``PREFIX/jupyterhub_config.py`` (a copy of ``course_hub/jupyterhub_config.py``),
   ``PREFIX/course.json`` (the settings it reads, the roster among them), ``PREFIX/hub/roster.csv`` (each
   user name beside its institutional id, root only), the setup's service token, a systemd unit
   ``PREFIX/backprop-by-hand-hub.service`` and an nginx site ``PREFIX/nginx-site.conf``;
10. a running hub told of the roster's changes through its REST API: a student taken off the roster is
   removed from the hub (their server stopped; their Unix user, home, submissions and grades kept), a new
   one added; the hub checks every login against course.json, so both take effect at once.

Logins are the users' Unix passwords (PAM) unless ``--authenticator lti13`` with the ``--lti-*`` options names the
course's LMS (course_hub/lti_login.py; README, "Running the course from your LMS").

Only the standard library is used: on a fresh machine, this script is what builds the environment.
"""
from __future__ import annotations

import argparse
import codecs
import csv
import grp
import hashlib
import io
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import lti_login  # course_hub/lti_login.py: logins from an LMS (LTI 1.3), --authenticator lti13

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
COURSE_ID = "backprop-by-hand"
DEFAULT_PREFIX = Path("/srv") / COURSE_ID
SYSTEM_PYTHON = Path("/usr/bin/python3")
PROXY_PACKAGE = "configurable-http-proxy@5"

# Debian's adduser NAME_REGEX, bounded to the 32 characters useradd accepts.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# Names that are never a person in a course, even where no such account exists yet.
RESERVED_NAMES = frozenset({
    "root", "admin", "administrator", "daemon", "bin", "sys", "sync", "nobody", "nogroup", "operator",
    "sudo", "staff", "users", "user", "www-data", "jupyter", "jupyterhub", "hub", "proxy", "postgres",
    "systemd", "student", "students", "instructor", "instructors", COURSE_ID,  # the course's group
})
ROLES = ("student", "instructor")
UID_MIN = 1000  # Debian's first uid for people (login.defs UID_MIN)
# Each person's uid and the course's gid are made from names alone (uid_for, course_gid), so that a student has
# the same uid on this machine and in their pod on Kubernetes (course_hub/kubernetes_config.py), whoever else is
# on the roster.  The range lies above useradd's subordinate ids (100000-600100000, /etc/subuid) and systemd's
# container ranges (524288-1879048191), and below 2^31 (tools that read a uid as a signed 32-bit number):
# 2^27 numbers, so that two of a thousand names share one with odds of about 1 in 270 (the roster is refused).
ID_BASE = 0x7000_0000
ID_SPAN = 1 << 27
# The exchange's modes (make_exchange; the cluster's instructor pod makes the same, kubernetes_config.py): the
# root world-writable with the sticky bit, the course's folder as `nbgrader release_assignment` makes it.
EXCHANGE_ROOT_MODE = 0o1777
EXCHANGE_COURSE_MODES = {".": 0o755, "outbound": 0o755, "inbound": 0o2733, "feedback": 0o711}

# The roster's columns, found by their header without case, spaces, '_', '-' or '.' ("User Name", "ID number" and
# "E-mail address" all match): of each tuple, the first the header has is read; other columns are ignored.
USERNAME_COLUMNS = ("username",)
ID_COLUMNS = ("id", "studentid", "idnumber", "email", "emailaddress")
ROLE_COLUMNS = ("role",)
DELIMITERS = (",", ";", "\t")  # Excel writes ';' where ',' is the decimal comma, and tabs as "Unicode text"
# How long a download may take: pip builds the whole environment (a few minutes on a good line), npm fetches the
# proxy (seconds); the per-try wait (--network-timeout) is what stops a registry that never answers.
PIP_LIMIT = 1800
NPM_LIMIT = 600
STEPS = 10  # the numbered steps of setup(), announced as "[k/10]"
ID_PREFIX = "s"  # before a user name made from an id that does not start with a letter: 2023001 -> s2023001

# nbgrader's server extensions and the JupyterLab plugins of @jupyter/nbgrader, by who sees them.
SERVER_EXTENSIONS = {
    "nbgrader.server_extensions.formgrader": ("instructor",),
    "nbgrader.server_extensions.course_list": ("instructor",),
    "nbgrader.server_extensions.assignment_list": ("instructor", "student"),
    "nbgrader.server_extensions.validate_assignment": ("instructor", "student"),
}
LAB_PLUGINS = {
    "@jupyter/nbgrader:formgrader": ("instructor",),
    "@jupyter/nbgrader:course-list": ("instructor",),
    "@jupyter/nbgrader:create-assignment": ("instructor",),
    "@jupyter/nbgrader:assignment-list": ("instructor", "student"),
    "@jupyter/nbgrader:validate-assignment": ("instructor", "student"),
}


class RosterError(ValueError):
    """The roster cannot be used as it is; the message is one sentence for the person who wrote it."""


class SetupError(RuntimeError):
    """The machine is not ready for the setup (not root, a tool missing, a command failed)."""


# ---------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Member:
    """One person on the roster."""
    username: str            # their Unix user name: hub login, nbgrader student id, the id of their by-hand numbers
    role: str                # "student" or "instructor"
    institution_id: str = ""  # the university's id for them, as the roster gave it ("" when it gave none)
    line: int = 0            # the roster's line they are on (the header is line 1)
    made: bool = False       # the user name was made from the institutional id (username_for)


@dataclass(frozen=True)
class RosterFile:
    """How a roster file was written, as found when it was read (told back to the person who gave it)."""
    path: Path
    bom: bool        # it starts with a UTF-8 byte-order mark (Excel's "CSV UTF-8")
    delimiter: str   # ",", ";" or a tab

    def describe(self) -> str:
        separated = {",": "comma", ";": "semicolon", "\t": "tab"}[self.delimiter]
        return f"UTF-8{' with a byte-order mark' if self.bom else ''}, {separated}-separated"


@dataclass(frozen=True)
class Roster:
    """Who is in the course: one instructor and the students, by Unix user name."""
    instructor: str
    students: tuple[str, ...]
    members: tuple[Member, ...] = ()   # everyone, in the roster's order, with their institutional ids
    source: RosterFile | None = None   # the file it was read from

    @property
    def everyone(self) -> tuple[str, ...]:
        return (self.instructor, *self.students)


@dataclass(frozen=True)
class Layout:
    """Where everything of one course lives on the machine."""
    prefix: Path
    course_id: str = COURSE_ID
    home_base: Path = Path("/home")

    @property
    def venv(self) -> Path:
        return self.prefix / "venv"

    @property
    def exchange(self) -> Path:
        return self.prefix / "exchange"

    @property
    def hub_dir(self) -> Path:
        return self.prefix / "hub"

    @property
    def proxy_dir(self) -> Path:
        return self.prefix / "proxy"

    @property
    def settings(self) -> Path:
        return self.prefix / "course.json"

    @property
    def hub_config(self) -> Path:
        return self.prefix / "jupyterhub_config.py"

    @property
    def passwords(self) -> Path:
        return self.hub_dir / "initial_passwords.csv"

    @property
    def roster_record(self) -> Path:
        return self.hub_dir / "roster.csv"

    @property
    def roster_token(self) -> Path:
        return self.hub_dir / "roster-service.token"

    @property
    def unit_file(self) -> Path:
        return self.prefix / f"{self.course_id}-hub.service"

    @property
    def nginx_site(self) -> Path:
        return self.prefix / "nginx-site.conf"

    def role_config(self, role: str) -> Path:
        return self.prefix / "jupyter" / role

    def home(self, user: str) -> Path:
        return self.home_base / user

    def course_folder(self, instructor: str) -> Path:
        return self.home(instructor) / self.course_id


@dataclass
class Settings:
    """What jupyterhub_config.py reads (PREFIX/course.json): written by this setup, never by hand."""
    course_id: str
    prefix: str
    venv: str
    exchange: str
    instructor: str
    students: list[str]
    course_folder: str
    role_config: dict[str, str]
    proxy_command: list[str]
    authenticator: str = "pam"
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    lti: dict | None = None   # the LMS trusted for logins (lti_login.Platform), with --authenticator lti13


@dataclass
class Report:
    """What a run does, step by step, for the person who runs it: a numbered line as each step begins (what it
    does, and how long it may take), then what it did."""
    steps: int = STEPS
    done: int = 0
    lines: list[str] = field(default_factory=list)

    def step(self, text: str) -> None:
        self.done += 1
        self._print(f"[{self.done}/{self.steps}] {text}")

    def say(self, text: str) -> None:
        self._print("      " + text.replace("\n", "\n      "))

    def _print(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)


# ---------------------------------------------------------------------------------------------- roster
class Entry(NamedTuple):
    """One row of a roster, as written (nothing checked yet)."""
    line: int              # the line it starts on (the header is line 1)
    username: str          # the username column's cell ("" when empty or absent)
    institution_id: str    # the id column's cell ("" when empty or absent)
    role: str              # the role column's cell, lowercase; "student" when empty or absent


def read_roster(path: Path) -> Roster:
    """The roster in `path`, checked whole; RosterError names every problem in one sentence."""
    text, bom = read_roster_text(path)
    delimiter = detect_delimiter(text)
    rows = numbered_rows(path, text, delimiter)
    if not rows:
        raise RosterError(f"the roster {path} is empty; it needs a header row 'username,role' (or 'id,role') and "
                          "one row per person; nothing was changed.")
    (_, header), *body = rows
    keys = [header_key(cell) for cell in header]
    name_col, id_col, role_col = (first_column(keys, names) for names in (USERNAME_COLUMNS, ID_COLUMNS, ROLE_COLUMNS))
    if name_col is None and id_col is None:
        raise RosterError(f"the roster {path} has no 'username' or 'id' column in its header row "
                          f"({delimiter.join(header)}); nothing was changed.")
    entries = [Entry(line, cell(row, name_col), cell(row, id_col), cell(row, role_col).lower() or "student")
               for line, row in body]
    return check_roster(RosterFile(path, bom, delimiter), entries)


def read_roster_text(path: Path) -> tuple[str, bool]:
    """The roster's text without a byte-order mark, and whether it had one."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RosterError(f"the roster {path} cannot be read ({e.strerror}); nothing was changed.") from e
    try:
        return data.decode("utf-8-sig"), data.startswith(codecs.BOM_UTF8)
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise RosterError(f"the roster {path} is not UTF-8 text (line {line} has the byte 0x{data[e.start]:02x}): "
                          "save it as UTF-8 (in Excel: 'CSV UTF-8'); nothing was changed.") from e


def detect_delimiter(text: str) -> str:
    """The delimiter under which the header row names a known column (',' when none does: the error then
    shows the header as it was read)."""
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    for delimiter in DELIMITERS:
        keys = [header_key(cell) for cell in next(csv.reader([header], delimiter=delimiter), [])]
        if any(key in keys for key in (*USERNAME_COLUMNS, *ID_COLUMNS)):
            return delimiter
    return ","


def numbered_rows(path: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """The rows that are not blank, each with the line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, start = [], 1
    try:
        for row in reader:
            if any(c.strip() for c in row):
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as e:
        raise RosterError(f"the roster {path} cannot be read as CSV at line {reader.line_num} ({e}); "
                          "nothing was changed.") from e
    return rows


def header_key(cell: str) -> str:
    """A header cell as columns are matched: 'User Name ' -> 'username', 'E-mail address' -> 'emailaddress'."""
    return re.sub(r"[\s_.\-]+", "", cell).lower()


def first_column(keys: list[str], names: tuple[str, ...]) -> int | None:
    """The index of the first of `names` that the header has, or None."""
    return next((keys.index(name) for name in names if name in keys), None)


def cell(row: list[str], column: int | None) -> str:
    return row[column].strip() if column is not None and column < len(row) else ""


def username_for(institution_id: str) -> str:
    """The Unix user name made from an institutional id: the same every time, whoever else is on the roster.

    An email keeps its part before '@'; accents are dropped and letters made lowercase; each run of characters
    other than a-z, 0-9, '_' and '-' becomes one '-', and '-' is trimmed from both ends; a name that would not
    start with a letter gets 's' in front.  J.Smith -> j-smith, 2023001 -> s2023001,
    j.smith@uni.example -> j-smith, Zoë O'Neil -> zoe-o-neil.  The name is then checked like a given one."""
    local = institution_id.strip().rpartition("@")[0] or institution_id.strip()
    ascii_only = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", ascii_only).strip("-")
    return ID_PREFIX + name if name and not name[0].isalpha() else name


def uid_for(username: str) -> int:
    """The person's uid, on this machine and in their pod on Kubernetes: made from the user name alone, so the same
    name always gets the same uid.  Their own group's gid is the same number (useradd --user-group)."""
    return _id_for(f"user:{username}")


def course_gid(course_id: str = COURSE_ID) -> int:
    """The gid of the course's group, which everyone on the roster belongs to, from the course id alone."""
    return _id_for(f"course:{course_id}")


def _id_for(key: str) -> int:
    digest = hashlib.sha256(key.encode()).digest()
    return ID_BASE + int.from_bytes(digest[:8], "big") % ID_SPAN


def entry_username(entry: Entry) -> tuple[str, str | None]:
    """The entry's user name (given, or made from its id) and why it cannot be used (None if it can)."""
    if entry.username:
        problem = name_problem(entry.username)
        made = username_for(entry.username)
        if problem and made != entry.username and not name_problem(made):
            problem += f"; put it in an 'id' column instead and the user name {made!r} is made from it"
        return entry.username, problem
    if not entry.institution_id:
        return "", "neither a user name nor an id"
    made = username_for(entry.institution_id)
    problem = name_problem(made) if made else "it has no letter or digit to make a user name of"
    if problem:
        problem = (f"the id {entry.institution_id!r} gives no usable user name ({problem}); "
                   "give this line a username of its own")
    return made, problem


def check_roster(source: RosterFile, entries: list[Entry]) -> Roster:
    """A Roster from the roster's entries, or RosterError listing every problem, each with its line and rule."""
    problems, members = [], []
    line_of_name: dict[str, int] = {}
    line_of_id: dict[str, int] = {}
    line_of_uid: dict[int, int] = {course_gid(): 0}  # line 0: the course's group
    for entry in entries:
        name, problem = entry_username(entry)
        if not problem and entry.role not in ROLES:
            problem = f"role {entry.role!r} is neither 'student' nor 'instructor'"
        if not problem and name in line_of_name:
            problem = (f"the user name {name!r}" + (f" (made from the id {entry.institution_id!r})"
                                                     if not entry.username else "")
                       + f" is already on line {line_of_name[name]}")
        if not problem and entry.institution_id in line_of_id:
            problem = f"the id {entry.institution_id!r} is already on line {line_of_id[entry.institution_id]}"
        if not problem and uid_for(name) in line_of_uid:
            taken = line_of_uid[uid_for(name)]
            problem = (f"the user name {name!r} gets the uid {uid_for(name)}, as "
                       + (f"the user name on line {taken}" if taken else "the course's group")
                       + " does; give this line another username")
        if problem:
            problems.append(f"line {entry.line}: {problem}")
            continue
        line_of_name[name] = entry.line
        line_of_uid[uid_for(name)] = entry.line
        if entry.institution_id:
            line_of_id[entry.institution_id] = entry.line
        members.append(Member(name, entry.role, entry.institution_id, entry.line, made=not entry.username))
    instructors = [m.username for m in members if m.role == "instructor"]
    students = [m.username for m in members if m.role == "student"]
    if len(instructors) != 1 and not problems:
        problems.append(f"the roster needs exactly one instructor (it has {len(instructors)}"
                        + (f": {', '.join(instructors)}" if instructors else "") + ")")
    if not students and not problems:
        problems.append("the roster has no students")
    if problems:
        raise RosterError(f"the roster {source.path} cannot be used, nothing was changed: {'; '.join(problems)}.")
    return Roster(instructor=instructors[0], students=tuple(students), members=tuple(members), source=source)


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a course member's Unix user name, or None if it can."""
    if not name:
        return "the user name is empty"
    if not NAME_PATTERN.fullmatch(name):
        return (f"{name!r} is not a valid user name (lowercase letters, digits, '-' and '_', starting with a "
                "letter, at most 32 characters)")
    if name in RESERVED_NAMES:
        return f"{name!r} is a reserved name"
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        account = None
    if account is not None and (account.pw_uid < UID_MIN or account.pw_uid == 65534):
        return f"{name!r} is a system account (uid {account.pw_uid})"
    if account is None:
        try:
            grp.getgrnam(name)
            return f"{name!r} is already the name of a group, not of a user"
        except KeyError:
            pass
    return None


# ---------------------------------------------------------------------------------------------- machine
def check_machine(layout: Layout, proxy: str | None) -> None:
    """Everything the setup needs from the machine, checked before anything is changed."""
    if os.geteuid() != 0:
        raise SetupError("this setup creates Unix users and a shared environment: run it as root (sudo).")
    for tool in ("useradd", "usermod", "groupadd", "chpasswd"):
        if shutil.which(tool) is None:
            raise SetupError(f"{tool} is missing: install Debian's passwd package (apt-get install passwd).")
    if not SYSTEM_PYTHON.exists():
        raise SetupError(f"{SYSTEM_PYTHON} is missing: apt-get install python3 python3-venv.")
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import ensurepip, venv"], capture_output=True)
    if probe.returncode != 0:
        raise SetupError(f"{SYSTEM_PYTHON} cannot make virtual environments: apt-get install python3-venv.")
    if proxy is not None:
        if not os.access(proxy, os.X_OK):
            raise SetupError(f"the proxy {proxy} given with --proxy is not an executable file.")
    elif not proxy_installed(layout) and (shutil.which("npm") is None or shutil.which("node") is None):
        raise SetupError("node and npm are needed for JupyterHub's proxy (configurable-http-proxy): "
                         "apt-get install nodejs npm, or give an installed proxy with --proxy.")
    for part in (layout.prefix, layout.home_base):
        if part.exists() and not part.is_dir():
            raise SetupError(f"{part} exists and is not a folder.")


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """A command that must succeed; SetupError with its output if it does not."""
    proc = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise SetupError(f"{' '.join(args)} failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")
    return proc


@dataclass(frozen=True)
class Registry:
    """A package registry a step downloads from, and how long the step may wait for it."""
    tool: str          # "pip" or "npm"
    url: str           # the index or registry it uses
    per_try: float     # seconds the tool waits for one answer before it tries again (twice at most)
    limit: float       # seconds the whole command may take

    @property
    def options(self) -> list[str]:
        """The tool's own options for waiting and retrying, which otherwise let it retry for many minutes."""
        if self.tool == "pip":
            return ["--timeout", f"{self.per_try:g}", "--retries", "2"]
        return [f"--fetch-timeout={int(self.per_try * 1000)}", "--fetch-retries=2",
                "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=5000"]


# What pip and npm print when they cannot reach their registry (refused, timed out, no name, a certificate
# that a TLS-inspecting proxy replaced, a proxy refusing).
UNREACHABLE_SIGNS = {
    "pip": ("Max retries exceeded", "Could not fetch URL", "ConnectTimeoutError", "ReadTimeoutError",
            "NewConnectionError", "ProxyError", "SSLError", "CERTIFICATE_VERIFY_FAILED", "Connection refused",
            "Temporary failure in name resolution", "Name or service not known", "timed out"),
    "npm": ("ETIMEDOUT", "ESOCKETTIMEDOUT", "ERR_SOCKET_TIMEOUT", "ECONNREFUSED", "ECONNRESET", "ENOTFOUND",
            "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "UNABLE_TO_GET_ISSUER_CERT", "SELF_SIGNED_CERT_IN_CHAIN",
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_HAS_EXPIRED", "FETCH_ERROR", "network timeout",
            "request to "),
}
CA_SETTING = {"pip": "PIP_CERT=/path/to/ca.pem", "npm": "NODE_EXTRA_CA_CERTS=/path/to/ca.pem"}


def run_online(args: list[str], registry: Registry, **kwargs) -> subprocess.CompletedProcess:
    """A command that downloads from `registry`: within its time limit, and, when the registry cannot be
    reached, a SetupError that says so and what to do (rather than pip's or npm's own retries and traceback)."""
    try:
        proc = subprocess.run(args, check=False, capture_output=True, text=True, timeout=registry.limit, **kwargs)
    except subprocess.TimeoutExpired as e:
        raise SetupError(unreachable(registry, f"it had not finished after {registry.limit:g} s")) from e
    output = (proc.stderr or "") + (proc.stdout or "")
    if proc.returncode != 0:
        said = [ln.strip() for ln in output.splitlines() if any(s in ln for s in UNREACHABLE_SIGNS[registry.tool])]
        if said:  # the longest of those lines says most (npm's "request to URL failed, reason: ...")
            raise SetupError(unreachable(registry, max(said, key=len)[:400]))
        raise SetupError(f"{' '.join(args)} failed ({proc.returncode}): {output[-2000:]}")
    return proc


def unreachable(registry: Registry, what: str) -> str:
    """The sentence for a registry that a download step could not reach."""
    proxies = [v for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy") if os.environ.get(v)]
    environment = (f"this setup sees {', '.join(proxies)} in its environment" if proxies else
                   "this setup sees no HTTPS_PROXY in its environment (sudo drops it: "
                   "sudo --preserve-env=HTTPS_PROXY,HTTP_PROXY,NO_PROXY python3 course_hub/setup_course.py ...)")
    extra = "; or give an installed proxy with --proxy" if registry.tool == "npm" else ""
    return (f"{registry.tool} could not reach {registry.url} (waiting at most {registry.per_try:g} s per try, "
            f"--network-timeout): {what}. If this machine reaches the internet through a proxy, {environment}; "
            f"behind a proxy that inspects TLS, give {registry.tool} its CA certificate ({CA_SETTING[registry.tool]})"
            f"{extra}. Nothing after this step was done; run the setup again once {registry.tool} can reach it.")


def pip_registry(options: argparse.Namespace) -> Registry:
    return Registry("pip", os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple", options.network_timeout,
                    PIP_LIMIT)


def npm_registry(options: argparse.Namespace) -> Registry:
    """npm's registry as npm itself reports it (its config files and environment may name a mirror)."""
    try:
        url = subprocess.run(["npm", "config", "get", "registry"], check=False, capture_output=True, text=True,
                             timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        url = ""
    return Registry("npm", url or "https://registry.npmjs.org/", options.network_timeout, NPM_LIMIT)


# ---------------------------------------------------------------------------------------------- steps
def build_environment(layout: Layout, registry: Registry, report: Report) -> None:
    """PREFIX/venv on the system Python with the requirements and gradelib; rebuilt only when they change."""
    stamp = layout.venv / ".course-hub-stamp"
    wanted = environment_fingerprint()
    if stamp.exists() and stamp.read_text() == wanted and (layout.venv / "bin" / "jupyterhub-singleuser").exists():
        report.step(f"environment: {layout.venv}")
        report.say(f"environment: {layout.venv} is up to date (kept)")
        return
    report.step(f"environment: building {layout.venv} on {SYSTEM_PYTHON} with pip from {registry.url} "
                f"(a few minutes; at most {registry.per_try:g} s per try for the index, {registry.limit / 60:g} "
                "minutes in all)")
    layout.prefix.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.prefix, 0o755)
    run([str(SYSTEM_PYTHON), "-m", "venv", str(layout.venv)])
    python = layout.venv / "bin" / "python"
    pip_install(python, ["--upgrade", "pip"], registry)
    with tempfile.TemporaryDirectory(prefix="course-hub-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        lines = (REPO / "requirements.txt").read_text().splitlines()
        # "-e ." is gradelib from a contributor's checkout; here gradelib is copied in, so that the
        # environment depends on no folder a student cannot read, and pip builds nothing in the checkout.
        requirements.write_text("\n".join(ln for ln in lines if not ln.strip().startswith("-e")) + "\n")
        package = Path(tmp) / "gradelib-src"
        package.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(REPO / name, package / name)
        shutil.copytree(REPO / "gradelib", package / "gradelib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        pip_install(python, ["-r", str(requirements), str(package)], registry)
    stamp.write_text(wanted)
    report.say(f"environment: {layout.venv} built on {SYSTEM_PYTHON} with requirements.txt and gradelib")


def pip_install(python: Path, args: list[str], registry: Registry) -> subprocess.CompletedProcess:
    """`pip install args` with this Python, within the registry's time limits."""
    return run_online([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                       *registry.options, *args], registry)


def environment_fingerprint() -> str:
    """A hash of what goes into the environment: the requirements, the package metadata, gradelib's code."""
    h = hashlib.sha256()
    files = [REPO / "requirements.txt", REPO / "pyproject.toml", *sorted((REPO / "gradelib").rglob("*.py"))]
    for path in files:
        h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def exchange_config(layout: Layout) -> str:
    """The environment's nbgrader_config.py: where the exchange is, and the course (also baked into the
    cluster's image, course_hub/image/)."""
    return ("# Written by course_hub/setup_course.py: where this machine's nbgrader exchange is, and the course.\n"
            "c = get_config()  # noqa: F821\n"
            f"c.Exchange.root = {str(layout.exchange)!r}\n"
            f"c.CourseDirectory.course_id = {layout.course_id!r}\n")


def configure_environment(layout: Layout, roster: Roster, report: Report) -> None:
    """Settings every user of the environment gets: the exchange and the course id for nbgrader, and a
    JupyterLab that does not ask about news or check for updates (as on Binder)."""
    etc = layout.venv / "etc" / "jupyter"
    etc.mkdir(parents=True, exist_ok=True)
    write_text(etc / "nbgrader_config.py", exchange_config(layout), 0o644)
    settings = layout.venv / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    write_text(settings / "overrides.json", json.dumps(
        {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}},
        indent=1) + "\n", 0o644)
    report.say(f"environment: nbgrader's exchange is {layout.exchange}, course id {layout.course_id}")


def install_proxy(layout: Layout, proxy: str | None, options: argparse.Namespace, report: Report) -> list[str]:
    """The command for configurable-http-proxy: the one given, or one npm installs into PREFIX/proxy."""
    command = layout.proxy_dir / "node_modules" / ".bin" / "configurable-http-proxy"
    if proxy is not None or proxy_installed(layout):
        report.step("proxy: JupyterHub's configurable-http-proxy")
        report.say(f"proxy: {proxy} (given)" if proxy is not None else f"proxy: {command} (kept)")
        return [proxy or str(command)]
    registry = npm_registry(options)
    report.step(f"proxy: installing {PROXY_PACKAGE} with npm from {registry.url} into {layout.proxy_dir} "
                f"(seconds; at most {registry.per_try:g} s per try, {registry.limit / 60:g} minutes in all)")
    npm_install(layout.proxy_dir, PROXY_PACKAGE, registry)
    report.say(f"proxy: {PROXY_PACKAGE} installed from npm into {layout.proxy_dir}")
    return [str(command)]


def npm_install(folder: Path, package: str, registry: Registry) -> subprocess.CompletedProcess:
    """`npm install package` into `folder`, within the registry's time limits."""
    folder.mkdir(parents=True, exist_ok=True)
    return run_online(["npm", "install", "--no-fund", "--no-audit", *registry.options, "--prefix", str(folder),
                       package], registry)


def proxy_installed(layout: Layout) -> bool:
    return os.access(layout.proxy_dir / "node_modules" / ".bin" / "configurable-http-proxy", os.X_OK)


def create_users(layout: Layout, roster: Roster, report: Report) -> None:
    """A Unix user per roster name (kept if it exists) with the uid uid_for() gives and an own group of the same
    number, in the course's group, each home readable by its owner only."""
    report.step(f"users: a Unix user for each of the {len(roster.everyone)} people on the roster")
    layout.hub_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.hub_dir, 0o700)
    group = course_group(layout, report)
    new = []
    for name in roster.everyone:
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            # their own group first, with their uid as its gid (useradd --user-group would take the next free gid)
            run(["groupadd", "--gid", str(uid_for(name)), name])
            # --no-log-init: lastlog and faillog are files indexed by uid, which would be gigabytes (sparse)
            run(["useradd", "--create-home", "--home-dir", str(layout.home(name)), "--gid", str(uid_for(name)),
                 "--uid", str(uid_for(name)), "--no-log-init", "--groups", group, "--shell", "/bin/bash", name])
            new.append(name)
        else:
            run(["usermod", "--append", "--groups", group, name])
            if account.pw_uid != uid_for(name):
                report.say(f"users: {name} keeps uid {account.pw_uid} (made before this setup gave uids); the "
                           f"roster's rule, and a cluster, give {uid_for(name)}")
        home = Path(pwd.getpwnam(name).pw_dir)
        os.chmod(home, 0o700)
    if new:
        passwords = {name: secrets.token_urlsafe(12) for name in new}
        run(["chpasswd"], input="".join(f"{n}:{p}\n" for n, p in passwords.items()))
        first = not layout.passwords.exists()
        fd = os.open(layout.passwords, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.writer(f)
            if first:
                writer.writerow(["username", "initial_password"])
            writer.writerows(passwords.items())
        report.say(f"users: created {', '.join(new)}; their first passwords are in {layout.passwords} (root only)")
    kept = [n for n in roster.everyone if n not in new]
    if kept:
        report.say(f"users: kept {', '.join(kept)} (already there); every home is now readable by its owner only")


def course_group(layout: Layout, report: Report) -> str:
    """The course's group (its name the course id, its gid course_gid()), made if missing; its name."""
    try:
        gid = grp.getgrnam(layout.course_id).gr_gid
    except KeyError:
        run(["groupadd", "--gid", str(course_gid(layout.course_id)), layout.course_id])
        gid = course_gid(layout.course_id)
    if gid != course_gid(layout.course_id):
        report.say(f"users: the group {layout.course_id} keeps gid {gid}; the roster's rule, and a cluster, give "
                   f"{course_gid(layout.course_id)}")
    return layout.course_id


def make_exchange(layout: Layout, roster: Roster, report: Report) -> None:
    """The exchange: the root rwx for all with the sticky bit (nbgrader wants o+rwx there; the sticky bit
    keeps one user from removing another's entries), and the course's folder owned by the instructor,
    laid out as `nbgrader release_assignment` would make it (outbound 755, inbound 2733, feedback 711)."""
    report.step(f"exchange: nbgrader's exchange {layout.exchange}")
    owner = pwd.getpwnam(roster.instructor)
    layout.exchange.mkdir(parents=True, exist_ok=True)
    os.chown(layout.exchange, 0, grp.getgrnam(layout.course_id).gr_gid)
    os.chmod(layout.exchange, EXCHANGE_ROOT_MODE)
    course = layout.exchange / layout.course_id
    modes = {course / sub: mode for sub, mode in EXCHANGE_COURSE_MODES.items()}
    for path, mode in modes.items():
        if path.exists() and path.stat().st_uid != owner.pw_uid and path.stat().st_uid != 0:
            raise SetupError(f"{path} belongs to uid {path.stat().st_uid}, not to the instructor "
                             f"{roster.instructor}: someone claimed the course's name in the exchange; remove it.")
        path.mkdir(exist_ok=True)
        os.chown(path, owner.pw_uid, owner.pw_gid)
        os.chmod(path, mode)
    report.say(f"exchange: {layout.exchange} (1777), course folder {course} owned by {roster.instructor}")


def role_configs(layout: Layout, roster: Roster, report: Report) -> None:
    """PREFIX/jupyter/<role>: which nbgrader server extensions and lab plugins each role's server has;
    the instructor's also loads the course's nbgrader_config.py, so formgrader grades the way classgrade does."""
    report.step(f"servers: what each role's server shows ({layout.prefix / 'jupyter'})")
    for role in ROLES:
        folder = layout.role_config(role)
        (folder / "labconfig").mkdir(parents=True, exist_ok=True)
        for d in (layout.prefix / "jupyter", folder, folder / "labconfig"):
            os.chmod(d, 0o755)
        extensions = {name: role in roles for name, roles in SERVER_EXTENSIONS.items()}
        # a terminal's shell is not a login shell: Debian's /etc/profile would put the system's PATH
        # before the course environment's, and `nbgrader` or `python -m gradelib...` would not be found
        server = {"jpserver_extensions": extensions, "terminado_settings": {"shell_command": ["/bin/bash"]}}
        write_text(folder / "jupyter_server_config.json",
                   json.dumps({"ServerApp": server}, indent=1) + "\n", 0o644)
        disabled = {name: role not in roles for name, roles in LAB_PLUGINS.items()}
        write_text(folder / "labconfig" / "page_config.json",
                   json.dumps({"disabledExtensions": disabled}, indent=1) + "\n", 0o644)
    course_config = layout.course_folder(roster.instructor) / "nbgrader_config.py"
    write_text(layout.role_config("instructor") / "nbgrader_config.py", (
        "# Written by course_hub/setup_course.py: the instructor's server grades with the course's own settings.\n"
        "import os\n"
        f"COURSE_CONFIG = {str(course_config)!r}\n"
        "if os.path.exists(COURSE_CONFIG):\n"
        "    load_subconfig(COURSE_CONFIG)  # noqa: F821 (given by the config loader)\n"), 0o644)
    report.say(f"servers: students see the Assignments tab and Validate; {roster.instructor} also formgrader "
               f"and the course list ({layout.prefix / 'jupyter'})")


def course_folder(layout: Layout, roster: Roster, report: Report) -> None:
    """~INSTRUCTOR/backprop-by-hand with source/ and nbgrader_config.py; what is there already is kept."""
    owner = pwd.getpwnam(roster.instructor)
    folder = layout.course_folder(roster.instructor)
    report.step(f"course folder: {folder}, and a check that nbgrader loads its config as {roster.instructor}")
    copied, kept = [], []
    folder.mkdir(exist_ok=True)
    (folder / "source").mkdir(exist_ok=True)
    for src in sorted((REPO / "source").iterdir()):
        if not src.is_dir():
            continue
        dest = folder / "source" / src.name
        if dest.exists():
            kept.append(src.name)
        else:
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            copied.append(src.name)
    if (folder / "nbgrader_config.py").exists():
        kept.append("nbgrader_config.py")
    else:
        shutil.copy2(REPO / "nbgrader_config.py", folder / "nbgrader_config.py")
        copied.append("nbgrader_config.py")
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            os.chown(path, owner.pw_uid, owner.pw_gid)
    os.chmod(folder, 0o700)
    report.say(f"course folder: {folder}" + (f"; copied {', '.join(copied)}" if copied else "")
               + (f"; kept {', '.join(kept)}" if kept else ""))


def check_course_config(layout: Layout, roster: Roster, report: Report) -> None:
    """Load nbgrader's configuration as the instructor's server will (their user, their role's config path,
    the environment's Python) and check that it finds the course folder: a course config that fails to load
    would otherwise show up only as formgrader looking for source/ in the wrong place."""
    owner = pwd.getpwnam(roster.instructor)
    probe = ("from nbgrader.apps.baseapp import NbGrader\n"
             "app = NbGrader()\n"
             "app.load_config_file()\n"
             "print(app.config.CourseDirectory.root)\n")
    env = {"HOME": owner.pw_dir, "USER": roster.instructor, "PATH": f"{layout.venv / 'bin'}:/usr/bin:/bin",
           "JUPYTER_CONFIG_PATH": str(layout.role_config("instructor")), "LANG": "C.UTF-8"}
    proc = subprocess.run([str(layout.venv / "bin" / "python"), "-c", probe], cwd=owner.pw_dir, env=env,
                          user=owner.pw_uid, group=owner.pw_gid, capture_output=True, text=True, timeout=120)
    folder = str(layout.course_folder(roster.instructor))
    if proc.returncode != 0 or proc.stdout.strip().splitlines()[-1:] != [folder]:
        raise SetupError(f"the course's nbgrader_config.py does not load in {layout.venv} as {roster.instructor} "
                         f"(nbgrader's course root is {proc.stdout.strip() or 'unset'}, not {folder}): "
                         f"{proc.stderr.strip()[-1500:]}")
    report.say(f"course folder: {folder}/nbgrader_config.py loads in the environment as {roster.instructor}")


def hub_files(layout: Layout, roster: Roster, proxy_command: list[str], options: argparse.Namespace,
              report: Report) -> Settings:
    """PREFIX/jupyterhub_config.py and the settings it reads, PREFIX/course.json; the roster as read, with the
    institutional ids (root only); the token with which this setup tells a running hub about roster changes;
    a systemd unit and an nginx site for the hub."""
    report.step(f"hub: {layout.hub_config}, {layout.settings}, a systemd unit and an nginx site")
    settings = Settings(
        course_id=layout.course_id, prefix=str(layout.prefix), venv=str(layout.venv),
        exchange=str(layout.exchange), instructor=roster.instructor, students=list(roster.students),
        course_folder=str(layout.course_folder(roster.instructor)),
        role_config={role: str(layout.role_config(role)) for role in ROLES},
        proxy_command=proxy_command, authenticator=options.authenticator, ip=options.ip, port=options.port,
        hub_port=options.hub_port, proxy_api_port=options.proxy_api_port, lti=lti_login.settings(options))
    shutil.copyfile(HERE / "jupyterhub_config.py", layout.hub_config)
    os.chmod(layout.hub_config, 0o644)
    write_text(layout.settings, json.dumps(asdict(settings), indent=1) + "\n", 0o644)
    write_text(layout.roster_record, roster_csv(roster), 0o600)
    if not layout.roster_token.exists():
        write_text(layout.roster_token, secrets.token_hex(32) + "\n", 0o600)
    write_text(layout.unit_file, systemd_unit(layout), 0o644)
    write_text(layout.nginx_site, nginx_site(options.port, options.server_name, *letsencrypt(options.server_name)),
               0o644)
    report.say(f"hub: {layout.hub_config} reads {layout.settings}; start it with\n"
               f"    cd {layout.hub_dir} && {layout.venv / 'bin' / 'jupyterhub'} -f {layout.hub_config}\n"
               f"  and open http://{options.ip}:{options.port}/ ({options.authenticator} logins)")
    report.say(f"hub: as a service that starts at boot: cp {layout.unit_file} /etc/systemd/system/ && "
               f"systemctl enable --now {layout.unit_file.name}")
    report.say(f"hub: behind HTTPS, for {options.server_name}: {layout.nginx_site} (README: 'Serving a class')")
    return settings


def roster_csv(roster: Roster) -> str:
    """The roster as this setup read it: each person's user name beside the institutional id it came from."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["username", "id", "role"])
    writer.writerows((m.username, m.institution_id, m.role) for m in roster.members)
    return out.getvalue()


def systemd_unit(layout: Layout) -> str:
    """A systemd unit that runs the hub as root from the course environment, and again after a crash or a reboot."""
    return f"""\
# JupyterHub of the course {layout.course_id}, written by course_hub/setup_course.py. Install it with
#   cp {layout.unit_file} /etc/systemd/system/
#   systemctl enable --now {layout.unit_file.name}
[Unit]
Description=JupyterHub of the course {layout.course_id}
After=network-online.target
Wants=network-online.target

[Service]
User=root
WorkingDirectory={layout.hub_dir}
Environment=PATH={layout.venv}/bin:/usr/local/bin:/usr/bin:/bin
# only for a trial with --authenticator shared-password: COURSE_HUB_SHARED_PASSWORD=... in this file (mode 600)
EnvironmentFile=-{layout.hub_dir}/environment
ExecStart={layout.venv}/bin/jupyterhub -f {layout.hub_config}
Restart=on-failure
RestartSec=5s

[Install]
WantedBy=multi-user.target
"""


def letsencrypt(server_name: str) -> tuple[str, str]:
    """Where certbot (Debian's certbot package) keeps a site's certificate and key."""
    live = f"/etc/letsencrypt/live/{server_name}"
    return f"{live}/fullchain.pem", f"{live}/privkey.pem"


def nginx_site(port: int, server_name: str, certificate: str, key: str) -> str:
    """An nginx site (Debian's nginx: /etc/nginx/sites-enabled/) that serves the hub over HTTPS: plain HTTP is
    sent to HTTPS, and the hub's websockets (kernels, terminals) pass through."""
    return f"""\
# HTTPS in front of the course's JupyterHub (127.0.0.1:{port}), written by course_hub/setup_course.py.
# Install it as /etc/nginx/sites-enabled/backprop-by-hand.conf, then: nginx -t && systemctl reload nginx
map $http_upgrade $connection_upgrade {{
    default upgrade;
    ''      close;
}}

server {{
    listen 80;
    listen [::]:80;
    server_name {server_name};
    return 301 https://$host$request_uri;
}}

server {{
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name {server_name};

    ssl_certificate {certificate};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header Strict-Transport-Security "max-age=63072000" always;

    # a notebook is saved in one request: allow big ones
    client_max_body_size 100m;

    location / {{
        proxy_pass http://127.0.0.1:{port};
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Scheme $scheme;
        # websockets: a notebook's kernel and a terminal
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_buffering off;
        proxy_read_timeout 1h;
    }}
}}
"""


# ---------------------------------------------------------------------------------------------- the running hub
def apply_to_running_hub(layout: Layout, roster: Roster, settings: Settings, report: Report) -> None:
    """Tell a running hub who is on the roster now, through its REST API with this setup's own service token:
    a student no longer on it is removed from the hub (their server stopped, their sessions and tokens ended;
    their Unix user, home, submissions and grades are kept), a new one added.  Logins are checked against
    course.json at once either way (jupyterhub_config.py reads it at every login)."""
    report.step(f"running hub: roster changes through the hub's API on 127.0.0.1:{settings.hub_port}")
    api = HubAPI(settings.hub_port, layout.roster_token.read_text().strip())
    where = f"the hub's API on 127.0.0.1:{settings.hub_port}"
    try:
        on_hub = api.user_names()
    except ConnectionRefusedError:
        report.say(f"running hub: none on 127.0.0.1:{settings.hub_port}; when it starts, exactly this roster "
                   "can log in")
        return
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            report.say("running hub: it does not know this setup's token (it was started before the setup made "
                       f"it): restart it once (systemctl restart {layout.unit_file.name}, or stop and start "
                       "jupyterhub); from then on, roster changes take effect at once")
            return
        raise SetupError(f"{where} answered {e.code} to the list of its users (another program on that port?): "
                         f"{NOT_TOLD}") from e
    except (OSError, ValueError, KeyError) as e:  # no answer in time, or an answer that is not a hub's
        raise SetupError(f"{where} did not answer as a JupyterHub does ({e}): {NOT_TOLD}") from e
    try:
        apply_roster(api, on_hub, roster, report)
    except (OSError, ValueError) as e:
        raise SetupError(f"{where} did not take the roster's changes ({e}): {NOT_TOLD}") from e


# What is true when the setup could not tell a running hub of the roster's changes.
NOT_TOLD = ("the roster is written (logins follow it from now on), but the hub was not told of it: stop the servers "
            "of students taken off the roster in the hub's admin page, or restart the hub.")


def apply_roster(api: HubAPI, on_hub: set[str], roster: Roster, report: Report) -> None:
    """The hub's users (`on_hub`) made the roster's: those not on it removed, those new to it added."""
    leaving = sorted(on_hub - set(roster.everyone))
    arriving = sorted(set(roster.everyone) - on_hub)
    for name in leaving:
        api.remove_user(name)
    if leaving:
        report.say(f"running hub: removed {', '.join(leaving)}: their servers are stopped and they can no longer "
                   "log in; their Unix users, homes, submissions and grades are kept")
    if arriving:
        api.add_users(arriving)
        report.say(f"running hub: added {', '.join(arriving)}: they can log in now")
    if not leaving and not arriving:
        report.say("running hub: its users are the roster's already")


@dataclass(frozen=True)
class HubAPI:
    """The hub's REST API on 127.0.0.1, as this setup's service (PREFIX/hub/roster-service.token)."""
    port: int
    token: str
    stop_wait: float = 60   # seconds a removed student's server may take to stop

    def call(self, method: str, path: str, body: dict | None = None) -> dict | list | None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/hub/api{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json",
                     "Accept": "application/jupyterhub-pagination+json"})
        # no HTTP proxy from the environment for the hub on loopback
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=60) as answer:
                data = answer.read()
        except urllib.error.URLError as e:
            if isinstance(e.reason, ConnectionRefusedError):
                raise e.reason from e
            raise
        return json.loads(data) if data else None

    def user_names(self) -> set[str]:
        names: set[str] = set()
        offset = 0
        while True:
            page = self.call("GET", f"/users?offset={offset}&limit=200")
            names |= {user["name"] for user in page["items"]}
            following = page["_pagination"]["next"]
            if not following:
                return names
            offset = following["offset"]

    def add_users(self, names: list[str]) -> None:
        self.call("POST", "/users", {"usernames": names})

    def remove_user(self, name: str) -> None:
        """Delete the user from the hub, which stops their server first; a server that takes a while to stop
        makes the hub answer 400 until it has: ask again until then."""
        deadline = time.monotonic() + self.stop_wait
        while True:
            try:
                self.call("DELETE", f"/users/{urllib.parse.quote(name)}")
                return
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    return
                if e.code != 400 or time.monotonic() > deadline:
                    raise
            time.sleep(1)


def write_text(path: Path, text: str, mode: int) -> None:
    """Write a file whole (through a temporary file, so that a reader never sees half of it) with this mode."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------- main
def setup(roster_path: Path, options: argparse.Namespace) -> Settings:
    """The whole setup: every check first, then the steps in order, each announced as it begins."""
    layout = Layout(prefix=Path(options.prefix).resolve(), home_base=Path(options.home_base))
    roster = read_roster(roster_path)
    report = Report()
    tell_roster(roster, report)
    check_machine(layout, options.proxy)
    report.step("machine: root, /usr/bin/python3 with venv, " + ("the proxy given" if options.proxy else "npm"))
    os.umask(0o022)
    build_environment(layout, pip_registry(options), report)
    configure_environment(layout, roster, report)
    proxy_command = install_proxy(layout, options.proxy, options, report)
    create_users(layout, roster, report)
    make_exchange(layout, roster, report)
    role_configs(layout, roster, report)
    course_folder(layout, roster, report)
    check_course_config(layout, roster, report)
    settings = hub_files(layout, roster, proxy_command, options, report)
    apply_to_running_hub(layout, roster, settings, report)
    return settings


def tell_roster(roster: Roster, report: Report) -> None:
    """Step 1: what the roster holds, and each user name made from an institutional id."""
    report.step(f"roster: {roster.source.path} ({roster.source.describe()}): {roster.instructor} (instructor) and "
                f"{len(roster.students)} student{'s' if len(roster.students) != 1 else ''}")
    for member in roster.members:
        if member.made:
            report.say(f"line {member.line}: the id {member.institution_id!r} gives the user name {member.username}")


def check_only(roster_path: Path) -> None:
    """--check: the roster read and checked, and printed back with every user name; nothing else is done."""
    roster = read_roster(roster_path)
    report = Report(steps=1)
    tell_roster(roster, report)
    print("the roster with its user names (nothing was changed):")
    print(roster_csv(roster), end="")


def parse_args(argv: list[str] | None = None) -> tuple[Path, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python3 course_hub/setup_course.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("roster", type=Path, help="CSV with a header row: username and/or id, and role")
    parser.add_argument("--check", action="store_true",
                        help="only read and check the roster, and print it with every user name; needs no root")
    parser.add_argument("--prefix", default=str(DEFAULT_PREFIX),
                        help=f"where the environment, exchange and hub live (default {DEFAULT_PREFIX})")
    parser.add_argument("--home-base", default="/home", help="where new users' homes are made (default /home)")
    parser.add_argument("--proxy", help="an installed configurable-http-proxy (default: npm installs one)")
    parser.add_argument("--authenticator", choices=("pam", "shared-password", lti_login.AUTHENTICATOR), default="pam",
                        help="pam: the users' Unix passwords (default); shared-password: one password from "
                             "the hub's environment (COURSE_HUB_SHARED_PASSWORD), for tests and trials only; "
                             "lti13: logins from the course's LMS (the --lti-* options)")
    parser.add_argument("--ip", default="127.0.0.1", help="where the hub is reachable (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="the hub's public port (default 8000)")
    parser.add_argument("--hub-port", type=int, default=8081, help="the hub's own API port, on 127.0.0.1")
    parser.add_argument("--proxy-api-port", type=int, default=8001, help="the proxy's API port, on 127.0.0.1")
    parser.add_argument("--server-name", default="hub.example.org",
                        help="the hub's public host name, for the nginx site written to PREFIX/nginx-site.conf")
    parser.add_argument("--network-timeout", type=float, default=30,
                        help="seconds pip and npm wait for their registry per try before giving up (default 30)")
    lti_login.add_options(parser)
    options = parser.parse_args(argv)
    try:
        lti_login.platform(options)   # checked before anything is done
    except lti_login.LTIOptionError as e:
        parser.error(str(e))
    return options.roster, options


def main(argv: list[str] | None = None) -> int:
    roster_path, options = parse_args(argv)
    try:
        if options.check:
            check_only(roster_path)
        else:
            setup(roster_path, options)
    except RosterError as e:
        print(f"setup_course: {e}", file=sys.stderr)
        return 2
    except SetupError as e:
        print(f"setup_course: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
