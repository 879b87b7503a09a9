"""gradelib: checks hand-derived backpropagation against numerical differentiation.

    import gradelib
    gradelib.check("single_neuron", single_neuron_gradients)   # feedback in words
    gradelib.grade("single_neuron", single_neuron_gradients)   # the same, raising AssertionError

The modules, one idea each: networks (the three networks of the notes),
exercises (their shapes and the student contract), oracle (central
differences), points (where to look), student (calling untrusted code),
surgery and diagnose (naming the mistake), check (the verdict), result,
text (full stops, numbers, clipping and lists of names in feedback);
gradcheck (the learner's own central difference and relative error, and a
planted bug), batch (the gradient of a mini-batch's mean loss), kinds (every
exercise kind's record: how check() and the grader question and judge it alike); pieces (the
staged local gradients, δ's and output and hidden errors, checked against the
loss differentiated with respect to a node), matrix (the 2-2-3 gradients as
NumPy matrices, a self-check), draw (the networks, forward and backward).
"""

from .byhand.graded import grade_by_hand
from .byhand.marking import check_by_hand
from .check import check, grade
from .exercises import EXERCISES
from .networks import log_softmax, relu_chain, single_neuron, softmax, softmax_223
from .oracle import numerical_gradient
from .result import Result

__all__ = [
    "check",
    "grade",
    "check_by_hand",
    "grade_by_hand",
    "numerical_gradient",
    "EXERCISES",
    "Result",
    "single_neuron",
    "relu_chain",
    "softmax_223",
    "softmax",
    "log_softmax",
]
