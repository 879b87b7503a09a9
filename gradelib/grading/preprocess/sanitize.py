"""RepairCells: nbgrader's DeduplicateIds, made to leave every submission gradable.

In nbgrader 0.9.6 a submission whose nbgrader cell metadata was edited,
copied or damaged stops grading: DeduplicateIds leaves a duplicated cell with
empty metadata that CheckCellMetadata rejects as "schema version 0", and
``nbgrader autograde`` then gives up on the rest of the class (SchemaTooOldError
aborts the whole run).  An unknown or missing grade_id, or a changed
schema_version, does the same.

RepairCells, in place of DeduplicateIds in ``Autograde.sanitize_preprocessors``,
first gives every cell whose grade_id the gradebook knows the metadata the
gradebook says it has, and turns every other cell into a plain cell (code the
student wrote); then it removes duplicates as DeduplicateIds does (the last
copy keeps its role), leaving the earlier copies as plain cells.
"""

from __future__ import annotations

from typing import Any

from nbgrader.api import MissingEntry
from nbgrader.preprocessors import DeduplicateIds

from .instructor import instructor_cells


class RepairCells(DeduplicateIds):
    def preprocess(self, nb: Any, resources: Any) -> Any:
        info = resources["nbgrader"]
        try:
            known = instructor_cells(info["db_url"], info["notebook"], info["assignment"])
        except MissingEntry:
            known = None  # nbgrader will skip this unknown notebook itself
        if known is not None:
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader")
                if meta is None:
                    continue
                grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
                if not isinstance(grade_id, str) or grade_id not in known:
                    self.log.warning(
                        "%s: cell with unknown nbgrader id %r made a plain cell", info["student"], grade_id
                    )
                    del cell.metadata["nbgrader"]
                    continue
                cell.metadata["nbgrader"] = known[grade_id].metadata()  # OverwriteCells adds the checksum
        nb, resources = super().preprocess(nb, resources)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader") == {}:
                del cell.metadata["nbgrader"]  # a duplicate: plain code, as the student wrote it
        return nb, resources
