"""Set a course up on one Debian machine, from a roster: one command, run as root, safe to run twice.

    sudo python3 course_hub/setup_course.py roster.csv [--prefix /srv/backprop-by-hand]

The roster is a CSV file with a header row: a ``username`` column, and an optional ``role`` column
(``student``, the default, or ``instructor``; exactly one instructor).  Other columns are ignored.

What it does, in this order, each step keeping what is already there:

1. checks the roster (names, duplicates, reserved or system accounts, one instructor) and the machine
   (root, /usr/bin/python3 with venv, node for the proxy) before changing anything: a bad roster gets one
   sentence and the machine is left as it was;
2. the shared environment: a venv on the system Python (``/usr/bin/python3``; a Python under /root is
   unreadable to the students) at ``PREFIX/venv`` with this repository's requirements and gradelib;
3. the proxy: configurable-http-proxy from npm into ``PREFIX/proxy`` (or the one given with ``--proxy``);
4. the Unix users, each with a home only they can read (a new user gets a random password, written to
   ``PREFIX/hub/initial_passwords.csv``, readable by root only);
5. the nbgrader exchange at ``PREFIX/exchange`` with the permissions nbgrader documents (the root world
   writable, with the sticky bit; the course's folder made now, owned by the instructor, so that no student
   can claim the course's name first);
6. what each role's server shows: formgrader and the course list for the instructor; the Assignments tab
   and Validate for students (``PREFIX/jupyter/<role>``, put on JUPYTER_CONFIG_PATH by the hub);
7. the instructor's course folder ``~INSTRUCTOR/backprop-by-hand`` with this repository's ``source/`` and
   ``nbgrader_config.py`` (files already there are kept: they may hold the instructor's edits and gradebook),
   and a check that nbgrader, run as the instructor from the environment, loads that config;
8. the hub: ``PREFIX/jupyterhub_config.py`` (a copy of ``course_hub/jupyterhub_config.py``) and
   ``PREFIX/course.json``, the settings it reads.

Only the standard library is used: on a fresh machine, this script is what builds the environment.
"""
from __future__ import annotations

import argparse
import csv
import grp
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    "systemd", "student", "students", "instructor", "instructors",
})
ROLES = ("student", "instructor")
UID_MIN = 1000  # Debian's first uid for people (login.defs UID_MIN)

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
class Roster:
    """Who is in the course: one instructor and the students, by Unix user name."""
    instructor: str
    students: tuple[str, ...]

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


@dataclass
class Report:
    """What a run did, step by step, for the person who ran it."""
    lines: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)


# ---------------------------------------------------------------------------------------------- roster
def read_roster(path: Path) -> Roster:
    """The roster in `path`, checked whole; RosterError names every problem in one sentence."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise RosterError(f"the roster {path} cannot be read ({e}); nothing was changed.") from e
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise RosterError(f"the roster {path} is empty; it needs a header row 'username,role' and one row "
                          "per person; nothing was changed.")
    header = [h.strip().lower() for h in rows[0]]
    if "username" not in header:
        raise RosterError(f"the roster {path} has no 'username' column in its header row ({','.join(rows[0])}); "
                          "nothing was changed.")
    name_col = header.index("username")
    role_col = header.index("role") if "role" in header else None
    entries = []
    for line, row in enumerate(rows[1:], start=2):
        name = row[name_col].strip() if name_col < len(row) else ""
        role = (row[role_col].strip().lower() if role_col is not None and role_col < len(row) else "") or "student"
        entries.append((line, name, role))
    return check_roster(path, entries)


def check_roster(path: Path, entries: list[tuple[int, str, str]]) -> Roster:
    """A Roster from (line, name, role) entries, or RosterError listing every problem found."""
    problems = []
    first_line: dict[str, int] = {}
    for line, name, role in entries:
        problem = name_problem(name) or (None if role in ROLES else
                                         f"role {role!r} is neither 'student' nor 'instructor'")
        if problem:
            problems.append(f"line {line}: {problem}")
        elif name in first_line:
            problems.append(f"line {line}: {name!r} is already on line {first_line[name]}")
        else:
            first_line[name] = line
    instructors = [name for _, name, role in entries if role == "instructor"]
    students = [name for _, name, role in entries if role == "student"]
    if len(instructors) != 1:
        problems.append(f"the roster needs exactly one instructor (it has {len(instructors)}"
                        + (f": {', '.join(instructors)}" if instructors else "") + ")")
    if not students:
        problems.append("the roster has no students")
    if problems:
        raise RosterError(f"the roster {path} cannot be used, nothing was changed: {'; '.join(problems)}.")
    return Roster(instructor=instructors[0], students=tuple(students))


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
    for tool in ("useradd", "chpasswd"):
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


# ---------------------------------------------------------------------------------------------- steps
def build_environment(layout: Layout, report: Report) -> None:
    """PREFIX/venv on the system Python with the requirements and gradelib; rebuilt only when they change."""
    stamp = layout.venv / ".course-hub-stamp"
    wanted = environment_fingerprint()
    if stamp.exists() and stamp.read_text() == wanted and (layout.venv / "bin" / "jupyterhub-singleuser").exists():
        report.say(f"environment: {layout.venv} is up to date (kept)")
        return
    layout.prefix.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.prefix, 0o755)
    run([str(SYSTEM_PYTHON), "-m", "venv", str(layout.venv)])
    pip = [str(layout.venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run(pip + ["--upgrade", "pip"])
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
        run(pip + ["-r", str(requirements), str(package)])
    stamp.write_text(wanted)
    report.say(f"environment: {layout.venv} built on {SYSTEM_PYTHON} with requirements.txt and gradelib")


def environment_fingerprint() -> str:
    """A hash of what goes into the environment: the requirements, the package metadata, gradelib's code."""
    h = hashlib.sha256()
    files = [REPO / "requirements.txt", REPO / "pyproject.toml", *sorted((REPO / "gradelib").rglob("*.py"))]
    for path in files:
        h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def configure_environment(layout: Layout, roster: Roster, report: Report) -> None:
    """Settings every user of the environment gets: the exchange and the course id for nbgrader, and a
    JupyterLab that does not ask about news or check for updates (as on Binder)."""
    etc = layout.venv / "etc" / "jupyter"
    etc.mkdir(parents=True, exist_ok=True)
    write_text(etc / "nbgrader_config.py", (
        "# Written by course_hub/setup_course.py: where this machine's nbgrader exchange is, and the course.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(layout.exchange)!r}\n"
        f"c.CourseDirectory.course_id = {layout.course_id!r}\n"), 0o644)
    settings = layout.venv / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    write_text(settings / "overrides.json", json.dumps(
        {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}},
        indent=1) + "\n", 0o644)
    report.say(f"environment: nbgrader's exchange is {layout.exchange}, course id {layout.course_id}")


def install_proxy(layout: Layout, proxy: str | None, report: Report) -> list[str]:
    """The command for configurable-http-proxy: the one given, or one npm installs into PREFIX/proxy."""
    if proxy is not None:
        report.say(f"proxy: {proxy} (given)")
        return [proxy]
    command = layout.proxy_dir / "node_modules" / ".bin" / "configurable-http-proxy"
    if proxy_installed(layout):
        report.say(f"proxy: {command} (kept)")
        return [str(command)]
    layout.proxy_dir.mkdir(parents=True, exist_ok=True)
    run(["npm", "install", "--no-fund", "--no-audit", "--prefix", str(layout.proxy_dir), PROXY_PACKAGE])
    report.say(f"proxy: {PROXY_PACKAGE} installed from npm into {layout.proxy_dir}")
    return [str(command)]


def proxy_installed(layout: Layout) -> bool:
    return os.access(layout.proxy_dir / "node_modules" / ".bin" / "configurable-http-proxy", os.X_OK)


def create_users(layout: Layout, roster: Roster, report: Report) -> None:
    """A Unix user per roster name (kept if it exists), each home readable by its owner only."""
    layout.hub_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.hub_dir, 0o700)
    new = []
    for name in roster.everyone:
        try:
            pwd.getpwnam(name)
        except KeyError:
            run(["useradd", "--create-home", "--home-dir", str(layout.home(name)), "--user-group",
                 "--shell", "/bin/bash", name])
            new.append(name)
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


def make_exchange(layout: Layout, roster: Roster, report: Report) -> None:
    """The exchange: the root rwx for all with the sticky bit (nbgrader wants o+rwx there; the sticky bit
    keeps one user from removing another's entries), and the course's folder owned by the instructor,
    laid out as `nbgrader release_assignment` would make it (outbound 755, inbound 2733, feedback 711)."""
    owner = pwd.getpwnam(roster.instructor)
    layout.exchange.mkdir(parents=True, exist_ok=True)
    os.chown(layout.exchange, 0, 0)
    os.chmod(layout.exchange, 0o1777)
    course = layout.exchange / layout.course_id
    modes = {course: 0o755, course / "outbound": 0o755, course / "inbound": 0o2733, course / "feedback": 0o711}
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
    """PREFIX/jupyterhub_config.py and the settings it reads, PREFIX/course.json."""
    settings = Settings(
        course_id=layout.course_id, prefix=str(layout.prefix), venv=str(layout.venv),
        exchange=str(layout.exchange), instructor=roster.instructor, students=list(roster.students),
        course_folder=str(layout.course_folder(roster.instructor)),
        role_config={role: str(layout.role_config(role)) for role in ROLES},
        proxy_command=proxy_command, authenticator=options.authenticator, ip=options.ip, port=options.port,
        hub_port=options.hub_port, proxy_api_port=options.proxy_api_port)
    shutil.copyfile(HERE / "jupyterhub_config.py", layout.hub_config)
    os.chmod(layout.hub_config, 0o644)
    write_text(layout.settings, json.dumps(asdict(settings), indent=1) + "\n", 0o644)
    report.say(f"hub: {layout.hub_config} reads {layout.settings}; start it with\n"
               f"    cd {layout.hub_dir} && {layout.venv / 'bin' / 'jupyterhub'} -f {layout.hub_config}\n"
               f"  and open http://{options.ip}:{options.port}/ ({options.authenticator} logins)")
    return settings


def write_text(path: Path, text: str, mode: int) -> None:
    """Write a file whole (through a temporary file, so that a reader never sees half of it) with this mode."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------- main
def setup(roster_path: Path, options: argparse.Namespace) -> Settings:
    """The whole setup: every check first, then the steps in order."""
    layout = Layout(prefix=Path(options.prefix).resolve(), home_base=Path(options.home_base))
    roster = read_roster(roster_path)
    check_machine(layout, options.proxy)
    report = Report()
    os.umask(0o022)
    build_environment(layout, report)
    configure_environment(layout, roster, report)
    proxy_command = install_proxy(layout, options.proxy, report)
    create_users(layout, roster, report)
    make_exchange(layout, roster, report)
    role_configs(layout, roster, report)
    course_folder(layout, roster, report)
    check_course_config(layout, roster, report)
    return hub_files(layout, roster, proxy_command, options, report)


def parse_args(argv: list[str] | None = None) -> tuple[Path, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python3 course_hub/setup_course.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("roster", type=Path, help="CSV with a header row: username[,role]")
    parser.add_argument("--prefix", default=str(DEFAULT_PREFIX),
                        help=f"where the environment, exchange and hub live (default {DEFAULT_PREFIX})")
    parser.add_argument("--home-base", default="/home", help="where new users' homes are made (default /home)")
    parser.add_argument("--proxy", help="an installed configurable-http-proxy (default: npm installs one)")
    parser.add_argument("--authenticator", choices=("pam", "shared-password"), default="pam",
                        help="pam: the users' Unix passwords (default); shared-password: one password from "
                             "the hub's environment (COURSE_HUB_SHARED_PASSWORD), for tests and trials only")
    parser.add_argument("--ip", default="127.0.0.1", help="where the hub is reachable (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="the hub's public port (default 8000)")
    parser.add_argument("--hub-port", type=int, default=8081, help="the hub's own API port, on 127.0.0.1")
    parser.add_argument("--proxy-api-port", type=int, default=8001, help="the proxy's API port, on 127.0.0.1")
    options = parser.parse_args(argv)
    return options.roster, options


def main(argv: list[str] | None = None) -> int:
    roster_path, options = parse_args(argv)
    try:
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
