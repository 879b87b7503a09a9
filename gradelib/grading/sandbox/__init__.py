"""The sandbox: every process that runs a student's code while grading runs in it.

box       the bubblewrap (bwrap) box and its settings (c.Sandbox): what the student's code can see and do
kernel    a Jupyter kernel inside the box, talking to the grader through files (RobustExecute's kernel)
isolate   the verifier's fresh, limited process in the box, and the records it sends back
harness   the script that process runs (``python -I harness.py``): it imports gradelib but nothing of
          nbgrader, nbformat or traitlets, and this package imports nothing, so that it starts fast
"""
