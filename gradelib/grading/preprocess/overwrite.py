"""OverwriteReleasedCells: nbgrader's OverwriteCells, silent about the hidden tests it puts back.

What it does to a notebook is what OverwriteCells does: every cell the
gradebook knows gets the cell type, lock, points and checksum the gradebook
says, and every locked cell gets the instructor's text back.  The gradebook
keeps a locked cell as ``source/`` has it, hidden tests included, while the
student's copy had them removed by generate_assignment.  So OverwriteCells
warns "Attribute 'checksum' for cell ... has changed!" for every cell with
hidden tests in every submission, the untouched ones too: a line per such
cell and student that says nothing the instructor can act on, and that hides
the one that does.

OverwriteReleasedCells, in place of OverwriteCells in
``Autograde.sanitize_preprocessors``, stays silent when the submitted text of a
locked cell is exactly the released one (the gradebook's text with its hidden
test and mark scheme regions removed, as generate_assignment removes them,
with the course's delimiters) and warns as OverwriteCells does when it is not.
The text is put back either way.  VerifyGradelib's flag for a changed locked
cell, which compares with release/, is not affected.
"""

from typing import Any

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_code_cell
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, OverwriteCells
from traitlets.config import Configurable


class OverwriteReleasedCells(OverwriteCells):
    """OverwriteCells that does not report a locked cell the student left as it was released."""

    _cell = None  # the cell being overwritten, while preprocess_cell runs

    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int) -> tuple[NotebookNode, dict]:
        self._cell = cell  # report_change is told only the cell's name; this is the submitted text
        try:
            return super().preprocess_cell(cell, resources, cell_index)
        finally:
            self._cell = None

    def report_change(self, name: str, attr: str, old: Any, new: Any) -> None:
        if attr == "checksum" and self._cell is not None and self._as_released(name, self._cell.source):
            self.log.debug("cell %s is as released (without its hidden tests); the instructor's text is put back", name)
            return
        super().report_change(name, attr, old, new)

    def _as_released(self, grade_id, submitted):
        """Whether submitted is the text the student's copy of the cell grade_id was released with."""
        try:
            source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id).source
        except MissingEntry:
            return False
        return submitted == released_text(source or "", self)


def released_text(source: str, parent: Configurable | None = None) -> str | None:
    """The text generate_assignment releases for a cell of source: without its hidden tests and mark scheme.

    parent (a configurable) gives the course's delimiters; None if the regions
    are malformed, which generate_assignment would have refused.
    """
    cell = new_code_cell(source)
    try:
        ClearHiddenTests(parent=parent)._remove_hidden_test_region(cell)
        ClearMarkScheme(parent=parent)._remove_mark_scheme_region(cell)
    except RuntimeError:
        return None
    return cell.source
