"""A mistake's label in words a teacher reads: "missing_relu_derivative" is "Missing ReLU derivative".

gradelib names each mistake where it is found (diagnose.py's candidates,
pieces.py's and byhand's slips, kinds.py, student.py's problems) with a
short label built from the notes' symbols and plain words.  The words are read
off the label itself, with the notes' symbols put back (δ, η, ReLU′,
dLoss/dP), so a new mistake gets its words where it is defined, with no second
table to keep in step.  A by-hand step is named by byhand's own step (its
symbol and what it is).
"""

import re

from ... import byhand
from ...diagnose import FACTORS
from ...exercises import lookup
from .hand import BY_HAND

# the notes' symbols and words spelled out in labels; any other part of a label is kept as it is
SYMBOLS = {
    "relu": "ReLU",
    "eta": "η",
    "delta": "δ",
    "backprop": "back-propagation",
    "no": "without",
    "param": "parameter",
}
PAIRS = {("relu", "prime"): "ReLU′", ("dLoss", "dP"): "dLoss/dP"}
# the labels whose parts are not their words: what a function gave instead of numbers (gradelib.student), the
# pseudo-labels of tally.py, and diagnose's factors ("factor_2" is twice the right value)
PHRASES = {
    "none": "Returned None",
    "exception": "Raised an error",
    "timeout": "Did not return in time",
    "not_finite": "Not a finite number",
    "not_implemented": "Not answered (not written yet)",
    "not_defined": "Not answered (the function is not defined)",
    "not_judged": "Not judged",
    "unnamed": "Failed, with no mistake named",
}
PHRASES.update({label: f"{word[0].upper()}{word[1:]} the right value" for word, label in FACTORS.items()})


def title(label: str, exercise: str = "") -> str:
    """The label in words; for a by-hand step ("by_hand:delta1"), the step's symbol and what it is."""
    if label in PHRASES:
        return PHRASES[label]
    if label.startswith(BY_HAND + ":"):
        return _by_hand_title(label.partition(":")[2], exercise)
    words, parts = [], label.split("_")
    while parts:
        pair = tuple(parts[:2])
        if pair in PAIRS:
            words.append(PAIRS[pair])
            del parts[:2]
            continue
        part = parts.pop(0)
        m = re.fullmatch(r"delta(\d+)", part)  # δ1, δ2: the notes' δ of a node
        words.append(f"δ{m.group(1)}" if m else SYMBOLS.get(part, part))
    text = " ".join(w for w in words if w)
    # a plain word first is capitalised; a symbol first (z, δ1, w12) is left as the notes write it
    return text[0].upper() + text[1:] if re.fullmatch(r"[a-z]{3,}", words[0] or "") else text


def _by_hand_title(key: str, exercise: str) -> str:
    """ "By hand: δ1 (the delta of neuron 1) is the first wrong step"; the words only where every student's page
    has the same ones (a softmax page's words name the student's own target node)."""
    network = exercise[: -len("_" + BY_HAND)] if exercise.endswith("_" + BY_HAND) else ""
    try:
        targets = lookup(network).the_network.classes or (None,)
        pages = [{s.key: s for s in byhand.steps(network, t)} for t in targets]
    except ValueError:  # not a network byhand knows: the step's key still says which box
        pages = [{}]
    steps = [page[key] for page in pages if key in page]
    if not steps:
        return f"By hand: {key} is the first wrong step"
    words = {s.words for s in steps}
    about = f" ({words.pop()})" if len(words) == 1 else ""
    return f"By hand: {steps[0].name}{about} is the first wrong step"
