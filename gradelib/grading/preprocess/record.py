"""RecordVerdicts (preprocessor): the verifier's verdicts of one notebook into the course's store of verdicts.

Under plain ``nbgrader autograde`` the preprocessors run in the grader's own
process, so this one, last in the pipeline, writes the store (report/store.py)
beside the gradebook.  ``classgrade``'s workers point it at a private copy
(``RecordVerdicts.store``); their main process writes the course's store from
the Report each worker hands back.  The verdicts come from VerifyGradelib's
Report in the grader's memory (resources), never from the notebook, which the
student wrote.  A store that cannot be written is logged and grading goes on:
it costs the report a student, never a score.
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..report.store import NotebookRecord, StoreError, replace, store_path


def notebook_record(name: str, report: Any) -> NotebookRecord:
    """The store's record of one notebook from the verifier's Report."""
    return NotebookRecord(
        notebook=name,
        verdicts=list(report.verdicts),
        flags=list(report.flags),
        review={k: list(v) for k, v in report.review.items()},
        stopped=report.stopped,
    )


class RecordVerdicts(NbGraderPreprocessor):
    store = Unicode(
        "", help="The store of verdicts to write; by default gradelib-verdicts.db beside the gradebook."
    ).tag(config=True)

    def preprocess(self, nb: Any, resources: Any) -> Any:
        info = resources["nbgrader"]
        report = resources.get("gradelib", {}).get("report")
        where = f"{info['student']}/{info['assignment']}/{info['notebook']}"
        if report is None:
            self.log.warning("%s: no verifier report (is VerifyGradelib in the pipeline?); no verdicts kept", where)
            return nb, resources
        path = self.store or store_path(info["db_url"])
        if path is None:
            self.log.warning("%s: the gradebook is not an SQLite file; no verdicts kept", where)
            return nb, resources
        try:
            replace(path, info["assignment"], info["student"], [notebook_record(info["notebook"], report)], whole=False)
        except StoreError as err:
            self.log.error("%s: verdicts not kept: %s", where, err)
        return nb, resources
