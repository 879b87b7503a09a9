"""What a submission did to the notebook itself, for VerifyGradelib: deleted test cells, edited locked cells,
and the tamper scan of the student's cells (judge/tamper.py).

A deleted test cell is put back where the source notebook has it, failed with
the reason; a locked cell whose text or metadata differ from the released copy,
and every tamper finding, are reasons for a manual look.
"""

from __future__ import annotations

from typing import Any

import nbformat
from nbgrader import utils

from ..judge import tamper
from ..judge.cells import to_python
from ..judge.outputs import error_output
from .instructor import InstructorCell
from .probes import CellRoles


def grade_ids(nb: Any) -> list[str | None]:
    """The grade_id of each cell of nb, in order (None for a cell without one)."""
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def missing_tests(nb: Any, cells: dict[str, InstructorCell]) -> list[InstructorCell]:
    """The instructor's test cells that the submitted notebook nb no longer has."""
    present = set(grade_ids(nb))
    return [known for name, known in cells.items() if known.is_test and name not in present]


def put_back(nb: Any, known: InstructorCell, order: list[str | None]) -> None:
    """The test cell known, failed with the reason, after the cell that comes before it in the source's order
    (at the end when none does)."""
    cell = nbformat.v4.new_code_cell(known.source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": known.name,
        "points": known.points,
        "schema_version": 3,
    }
    cell.metadata["editable"] = False
    cell.metadata["deletable"] = False
    cell.outputs = [
        error_output(
            "MissingCell",
            "This test cell was missing from the submitted notebook (deleted?), so its tests could not run: 0 points.",
        )
    ]
    position = len(nb.cells)
    if known.name in order:
        ids = grade_ids(nb)
        for name in reversed(order[: order.index(known.name)]):
            if name in ids:
                position = ids.index(name) + 1
                break
    nb.cells.insert(position, cell)


def edited_locked(nb: Any, released: Any, submitted: Any, roles: CellRoles) -> list[tamper.Finding]:
    """Findings for locked cells whose submitted text or nbgrader metadata differ from the released copy.

    nbgrader silently restores such cells; an honest student cannot edit them
    in the notebook interface, so a difference is worth a look.
    """
    handed_out = {}
    for cell in released.cells:
        known = roles.known(cell)
        if known is not None and known.is_given:
            handed_out[known.name] = checksum(cell)
    edited = []
    for cell in submitted.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in handed_out and checksum(cell) != handed_out[grade_id] and grade_id not in edited:
            edited.append(grade_id)
    ids = grade_ids(nb)
    return [
        tamper.Finding(
            ids.index(g) if g in ids else len(ids),
            0,
            f"changed the locked cell {g!r} (nbgrader put the original back)",
        )
        for g in edited
    ]


def uncompared(err: Exception) -> tamper.Finding:
    """The finding for locked cells that could not be compared with the released copy: a reason for a look too."""
    return tamper.Finding(0, 0, f"the locked cells could not be compared with the released copy ({type(err).__name__})")


def tamper_findings(nb: Any, roles: CellRoles) -> list[tamper.Finding]:
    """The tamper scan of the student's cells, with the imports of every code cell (instructor's too) known."""
    code = [(i, to_python(roles.source_of(c))) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    aliases = tamper.module_aliases(src for _, src in code)
    student = [(i, src) for i, src in code if roles.role(nb.cells[i]) == "student"]
    return tamper.scan(student, aliases)


def checksum(cell: Any) -> str | None:
    """nbgrader's checksum of a cell, or None for a cell too damaged to have one (it then counts as changed)."""
    try:
        return utils.compute_checksum(cell)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
