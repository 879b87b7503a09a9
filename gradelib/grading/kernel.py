"""A Jupyter kernel that runs inside the grading sandbox (sandbox.py).

The box has no network, so the kernel cannot use Jupyter's usual TCP ports on
127.0.0.1: it talks to the grader over ZeroMQ's ``ipc`` transport instead,
through Unix sockets in a folder of its own (the channel) that is bound into
the box at the same path.  The channel holds the connection file and the
sockets, nothing else.  Interrupts are sent as messages, because a signal to
bwrap would not reach the kernel inside.

The kernel's working directory is a private copy of the folder nbclient would
have started it in (the submission being graded), made inside the box.
RobustExecute chooses this manager when ``c.Sandbox.enabled`` is on, and gives
it the kernel's memory limit.
"""
import os
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager

from . import sandbox

# One BLAS thread: a class graded on every core must not oversubscribe them.  JPY_PARENT_PID=1: the
# kernel's parent is the box's init, and the kernel dies with the box, so it needs no parent poller (and
# prints no "To connect another client" banner on the grader's terminal).
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "JPY_PARENT_PID": "1"}


class SandboxedKernelManager(AsyncKernelManager):
    memory_bytes = sandbox.Limits.memory_bytes   # RobustExecute sets it from its memory_limit

    async def _async_pre_start_kernel(self, **kw):
        self.settings = sandbox.Sandbox(parent=self)
        self.box = tempfile.mkdtemp(prefix="gradelib-kernel-")
        channel = os.path.join(self.box, "channel")
        os.mkdir(channel, 0o700)
        if os.geteuid() == 0:   # the code inside runs as an unprivileged user: it reads this, makes the sockets
            uid, gid = sandbox.unprivileged_ids(self.settings.user)
            os.chown(channel, uid, gid)
        self.channel = channel
        self.owner = (uid, gid) if os.geteuid() == 0 else None
        self.transport = "ipc"
        self.ip = os.path.join(channel, "kernel")
        self.connection_file = os.path.join(channel, "kernel.json")
        self.kernel_spec.interrupt_mode = "message"
        self.submission = kw.get("cwd")
        kw["cwd"] = self.box   # bwrap's own working directory on this side
        return await super()._async_pre_start_kernel(**kw)

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self.owner:
            os.chown(self.connection_file, *self.owner)

    def format_kernel_cmd(self, extra_arguments=None):
        inner = super().format_kernel_cmd(extra_arguments)
        limits = self.settings.limits(self.memory_bytes)
        return sandbox.command(inner, limits, self.settings.bwrap_path(), submission=self.submission,
                               channel=self.channel, env=KERNEL_ENV, user=self.settings.user)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        box = getattr(self, "box", None)
        if box and not restart:
            shutil.rmtree(box, ignore_errors=True)
            self.box = None
