"""nbgrader settings: this folder is the course "Backprop by Hand".

nbgrader reads this file when it is run from this folder, e.g.

    nbgrader generate_assignment 01_single_neuron   # source/ -> release/
    nbgrader autograde 01_single_neuron             # submitted/ -> autograded/

The student copies in notebooks/ are made by `python -m gradelib.release`,
which runs nbgrader's generate_assignment in a throw-away copy of this course,
so that the gradebook here is never touched by it.
"""
import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# The assignments, one notebook each, in the order a learner takes them.
ASSIGNMENTS = ("01_single_neuron", "02_relu_chain", "03_softmax_223")

# The course is the folder of this file, wherever it is copied to (the tests
# and gradelib.release copy it into temporary courses).
ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "backprop-by-hand"
c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "gradebook.db")

# A cell that runs longer than this is stopped and scored as failed, so that an
# endless loop in a submission cannot hang autograding.  The whole solution
# notebook runs in a few seconds; one minute per cell is generous.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Grading that the student's code cannot fool and cannot harm (gradelib.grading.course):
# - every process that runs a student's code (the kernel, the verifier) runs in a bubblewrap sandbox that
#   sees only its own submission: not source/, not gradebook.db, not your home; no network, no signals out;
# - before the first student, the run stops with a sentence if the sandbox cannot be made here or the
#   gradebook is damaged, and otherwise backs the gradebook up into gradebook-backups/;
# - RepairCells: a duplicated cell or damaged nbgrader metadata in one submission would otherwise abort
#   the whole class run;
# - RobustExecute: Execute that survives a dead or stuck kernel (os._exit, MemoryError, endless loops);
# - VerifyGradelib: re-checks every passed gradelib test cell in a fresh process, at points chosen now,
#   comparing in this process; which cells and exercises comes from source/, never from the submission;
# - FlagForReview: constructs an honest answer never needs are reported for a manual look, costing nothing.
from gradelib.grading.course import configure  # noqa: E402

configure(c)

# To grade without the sandbox (only where it cannot be made, e.g. user namespaces switched off; student
# code then runs with your rights, and the summary and every feedback file say so):
# c.Sandbox.enabled = False
