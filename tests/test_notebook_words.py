"""What a learner reads around the numbers (issue 21): the by-hand templates, what the notebooks say, in words.

Each test reads the source notebooks (what the instructor keeps) and the student copies (what the learner gets)
as text; none runs a notebook.
"""
import re
from pathlib import Path

import nbformat
import pytest

from gradelib import byhand, release

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = {"01_single_neuron": "single_neuron", "02_relu_chain": "relu_chain", "03_softmax_223": "softmax_223"}
TARGETS = (5, 6, 7)   # the 2-2-3 net's output nodes, any of which an id may make the target
TEMPLATE_LINE = re.compile(r"^\s*'([^']+)':\s*\.\.\.,\s*#\s*(.*)$", re.MULTILINE)


def notebook(name, student=False):
    path = release.target(ROOT, name) if student else ROOT / "source" / name / f"{name}.ipynb"
    return nbformat.read(path, as_version=4)


def by_hand_cell(nb, network):
    """The solution cell that defines <network>_by_hand."""
    return next(c for c in nb.cells if c.cell_type == "code" and f"def {network}_by_hand(" in c.source)


@pytest.mark.parametrize("student", [False, True], ids=["source", "student copy"])
@pytest.mark.parametrize("name", NETWORKS)
def test_the_by_hand_template_names_no_node_the_id_decides(name, student):
    """The 2-2-3 target node is drawn per id; the template once said "(target node 5)" to everyone, and a
    student whose target is 7 who followed it lost three steps.  Every template line is the step's words,
    which are the same for every target."""
    network = NETWORKS[name]
    lines = TEMPLATE_LINE.findall(by_hand_cell(notebook(name, student), network).source)
    targets = TARGETS if network == "softmax_223" else (None,)
    for target in targets:
        steps = byhand.steps(network, target)
        assert [key for key, _ in lines] == [s.key for s in steps]
        assert [words for _, words in lines] == [s.words for s in steps], target


@pytest.mark.parametrize("network", NETWORKS.values())
def test_no_sheet_line_or_form_label_names_the_target_node(network):
    """A sheet's and a form's step lines are the steps' words: the same for every id's target."""
    per_target = {t: [(s.key, s.words) for s in byhand.steps(network, t)] for t in TARGETS}
    assert len({tuple(v) for v in per_target.values()}) == 1
    assert not any("target node 5" in w or "(the target)" in w for _, w in per_target[5])
