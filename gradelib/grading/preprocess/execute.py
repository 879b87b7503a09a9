"""nbgrader's Execute, made to finish whatever the submission does to its kernel.

Plain Execute gives up on the whole notebook when the kernel dies (os._exit, a
segfault, the memory killer) or does not stop after a timed-out cell: the
submission gets no grade at all and ``nbgrader autograde`` exits with status 1.
RobustExecute instead records, in the cell where it happened, what went wrong,
marks every later code cell "not run" with the reason (so their test cells
score 0 and the feedback says why), and lets nbgrader save the grades of
everything that did run.  It also caps the kernel's memory (``memory_limit``,
so that a runaway allocation is a MemoryError in the cell, not the machine's
out-of-memory killer) and the whole notebook's time (``notebook_timeout``).

With ``c.Sandbox.enabled`` (the default) the kernel runs inside the grading
sandbox (kernel.py, sandbox.py), where the memory limit is set; without it, the
limit is set on the kernel's process from here.

Every honest notebook runs exactly as under Execute: only failures take the
new paths.
"""

from __future__ import annotations

import resource
import time
from typing import Any

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

from ..judge.outputs import error_output, fail_cell
from ..sandbox.box import Sandbox
from ..sandbox.kernel import SandboxedKernelManager

UNSANDBOXED_NOTE = (
    "**Graded without the grading sandbox.** The course graded this notebook with "
    "`c.Sandbox.enabled = False`: your code ran with the grader's rights, not in a box of its own."
)


class RobustExecute(Execute):
    memory_limit = Integer(
        4 * 1024**3, allow_none=True, help="Bytes of address space the kernel may use (RLIMIT_AS); None for no limit."
    ).tag(config=True)
    notebook_timeout = Integer(
        900, allow_none=True, help="Seconds the whole notebook may run; later cells are not run. None for no limit."
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # nbgrader's Execute passes its kernel manager class as an argument, which config cannot override
        self.sandboxed = Sandbox(parent=self).enabled
        if self.sandboxed:
            self.kernel_manager_class = SandboxedKernelManager

    def create_kernel_manager(self) -> Any:
        km = super().create_kernel_manager()
        if isinstance(km, SandboxedKernelManager):
            km.student = getattr(self, "_student", "")
            if self.memory_limit:
                km.memory_bytes = self.memory_limit
        return km

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
        if not self.sandboxed:
            nb.cells.insert(0, NotebookNode(cell_type="markdown", metadata={}, source=UNSANDBOXED_NOTE))
        self._student = (resources or {}).get("nbgrader", {}).get("student", "")  # the kernel's my_id()
        self._stopped: str | None = None  # why the remaining cells are not run, once that happens
        self._deadline = time.monotonic() + self.notebook_timeout if self.notebook_timeout else None
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        await super().async_start_new_kernel(**kwargs)
        self._limit_kernel_memory()

    start_new_kernel = run_sync(async_start_new_kernel)

    def _limit_kernel_memory(self):
        if self.sandboxed:
            return  # set inside the box, on the kernel itself
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        if not (self.memory_limit and pid and hasattr(resource, "prlimit")):
            return
        try:
            resource.prlimit(pid, resource.RLIMIT_AS, (self.memory_limit, self.memory_limit))
        except (OSError, ValueError) as err:
            self.log.warning("Could not limit the kernel's memory: %s", err)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, self.resources
        if self._stopped is None and self._deadline is not None and time.monotonic() > self._deadline:
            self._stop(None, index, f"the notebook ran out of its {self.notebook_timeout} seconds")
        if self._stopped is not None:
            cell.outputs = [error_output("NotRun", f"This cell was not run: {self._stopped}.")]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stop(
                cell,
                index,
                "the Python kernel died while running this cell (the code ended the "
                "process, e.g. with os._exit() or exit from C code, crashed, or ran out "
                "of memory)",
            )
        except CellTimeoutError:
            self._stop(
                cell,
                index,
                f"this cell ran longer than {self.timeout} seconds and the kernel did not stop when interrupted",
            )
        return cell, self.resources

    def _stop(self, cell, index, why):
        self.log.error("Cell %s: %s; the remaining cells are not run.", index, why)
        self._stopped = f"{why} in cell {index}" if cell is None else f"the kernel stopped in cell {index}"
        if cell is not None:
            fail_cell(cell, error_output("KernelStopped", why[0].upper() + why[1:] + "."))
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception as err:  # noqa: BLE001  already dead is fine; anything else is only logged
            self.log.debug("Shutting down the stopped kernel: %s", err)
