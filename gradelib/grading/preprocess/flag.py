"""FlagForReview: after SaveAutoGrades, the test cells VerifyGradelib found reasons to look at need a manual grade.

The score is not changed; the formgrader lists the cell as needing manual
grading and the submission as flagged, and the reasons are in the grading log.
"""

from __future__ import annotations

from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor


class FlagForReview(NbGraderPreprocessor):
    def preprocess(self, nb: Any, resources: Any) -> Any:
        review = resources.get("gradelib", {}).get("review") or {}
        if not review:
            return nb, resources
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            for grade_id in review:
                try:
                    grade = gb.find_grade(grade_id, info["notebook"], info["assignment"], info["student"])
                except MissingEntry:
                    self.log.warning("%s: no grade %s to flag", info["student"], grade_id)
                    continue
                grade.needs_manual_grade = True
            submission = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            submission.flagged = True
            gb.db.commit()
        self.log.warning(
            "%s/%s/%s: %d test cell(s) flagged for a manual look",
            info["student"],
            info["assignment"],
            info["notebook"],
            len(review),
        )
        return nb, resources
