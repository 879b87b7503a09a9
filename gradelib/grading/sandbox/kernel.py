"""A Jupyter kernel that runs inside the grading sandbox (sandbox/box.py).

The box has no network, so the kernel cannot use Jupyter's usual TCP ports on
127.0.0.1: it talks to the grader over ZeroMQ's ``ipc`` transport instead.  Its
sockets are in a small tmpfs of the box's own (SOCKETS), not in any folder of
the machine, so that nothing the box can write lies outside it; the grader
reaches them through the kernel process's root, ``/proc/<pid>/root``.  The
connection file (with the messages' signing key) is written here and bound into
the box read-only at its own path.  Interrupts are sent as messages, because a
signal to bwrap would not reach the kernel inside.

The kernel's working directory is a private copy of the folder nbclient would
have started it in (the submission being graded), made inside the box.
RobustExecute chooses this manager when ``c.Sandbox.enabled`` is on, and gives
it the kernel's memory limit.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from typing import Any, cast

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from . import box as sandbox
from .harness import STUDENT_VARIABLE

SOCKETS = "/run/kernel"  # the kernel's sockets, inside the box
SOCKETS_BYTES = 1024 * 1024  # a tmpfs of its own: sockets take no room, nothing else belongs there
START_SECONDS = 30  # for the box to be made (bwrap takes milliseconds; a loaded machine more)
# One BLAS thread: a class graded on every core must not oversubscribe them.  JPY_PARENT_PID=1: the
# kernel's parent is the box's init, and the kernel dies with the box, so it needs no parent poller (and
# prints no "To connect another client" banner on the grader's terminal).
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "JPY_PARENT_PID": "1"}


class BoxNotStarted(RuntimeError):
    """bwrap ended, or did not start the kernel in time."""


class SandboxedKernelManager(AsyncKernelManager):
    memory_bytes = sandbox.Limits.memory_bytes  # RobustExecute sets it from its memory_limit
    student = ""  # the nbgrader student id being graded, for gradelib.byhand.my_id() (RobustExecute sets it)
    box: str | None  # the kernel's temporary folder (the connection file), None once it is removed

    async def _async_pre_start_kernel(self, **kw):
        self.settings = sandbox.Sandbox(parent=self)
        self.box = tempfile.mkdtemp(prefix="gradelib-kernel-")  # holds the connection file only
        self.transport = "ipc"
        self.ip = SOCKETS + "/kernel"  # as the kernel sees it; the grader's path is set once the box exists
        self.connection_file = os.path.join(self.box, "kernel.json")
        spec = self.kernel_spec
        assert spec is not None  # nbgrader's Execute starts a kernel by its name, whose spec jupyter_client found
        spec.interrupt_mode = "message"
        cwd = kw.get("cwd")
        self.submission = os.path.abspath(cwd) if cwd else None  # bwrap starts elsewhere (below)
        kw["cwd"] = self.box  # bwrap's own working directory on this side
        return await super()._async_pre_start_kernel(**kw)

    def write_connection_file(self, **kwargs: Any) -> Any:
        super().write_connection_file(**kwargs)
        if os.geteuid() == 0:  # the kernel runs as an unprivileged user, who must read it
            os.chown(self.connection_file, *sandbox.unprivileged_ids(self.settings.user))

    def format_kernel_cmd(self, extra_arguments: Any = None) -> list[str]:
        inner = super().format_kernel_cmd(extra_arguments)
        limits = self.settings.limits(self.memory_bytes)
        return sandbox.command(
            inner,
            sandbox.Box(
                limits,
                self.settings.bwrap_path(),
                self.settings.user,
                submission=self.submission,
                env=self._env(),
                files=(self.connection_file,),
                scratch={SOCKETS: SOCKETS_BYTES},
            ),
        )

    def _env(self):
        return dict(KERNEL_ENV, **({STUDENT_VARIABLE: self.student} if self.student else {}))

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        await super()._async_launch_kernel(kernel_cmd, **kw)
        pid = await self._process_in_box()
        self.ip = f"/proc/{pid}/root{SOCKETS}/kernel"  # the same sockets, from the grader's side

    async def _process_in_box(self):
        """The pid of a process inside the box once it is made: a grandchild of bwrap.

        bwrap makes the box (mounts, pivot_root) in its child before that child
        starts the kernel, so a grandchild exists only in the finished box.
        """
        # called once the kernel is launched, by the kernel spec's default provisioner (jupyter_client's local one)
        provisioner = cast(LocalProvisioner, self.provisioner)
        outer = provisioner.pid
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_SECONDS
        while loop.time() < deadline:
            for child in _children(outer):
                grandchildren = _children(child)
                if grandchildren:
                    return grandchildren[0]
            if await provisioner.poll() is not None:
                raise BoxNotStarted("bwrap stopped before the kernel started in the sandbox")
            await asyncio.sleep(0.005)
        raise BoxNotStarted(f"the sandbox did not start the kernel within {START_SECONDS} s")

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        box = getattr(self, "box", None)
        if box and not restart:
            shutil.rmtree(box, ignore_errors=True)
            self.box = None


def _children(pid):
    """The pids of a process's children ([] once it has ended)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []
