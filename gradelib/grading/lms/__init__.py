"""The course's grades for the LMS.

grades   the gradebook's grades as plain data, shared by the two below
export   ``python -m gradelib.grading.lms.export canvas|moodle``: a CSV the LMS's gradebook imports
ags      LTI Advantage's Assignment and Grade Services: ``export --send`` sends the scores
         (``python -m gradelib.grading.lms.ags jwk LTI_SETTINGS.json`` prints the tool's public key)
"""
