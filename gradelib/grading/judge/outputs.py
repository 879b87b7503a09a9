"""Cell outputs that nbgrader reads as a failed test, with the sentence that says why."""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode


def error_output(ename: str, message: str) -> NotebookNode:
    """An error output as a kernel would send it: nbgrader scores a test cell with one as 0."""
    lines = message.splitlines() or [message]
    return NotebookNode(
        output_type="error",
        ename=ename,
        evalue=message,
        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {lines[0]}"] + lines[1:],
    )


def fail_cell(cell: NotebookNode, error: NotebookNode) -> None:
    """Put the error first, where nbgrader's determine_grade looks: it stops at the first error or
    execute_result, so a result the kernel printed must not come before it."""
    cell.outputs = [error] + [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
