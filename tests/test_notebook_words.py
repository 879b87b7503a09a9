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
        steps = [s for s in byhand.steps(network, target) if s.key in byhand.graded_steps(network)]
        assert [key for key, _ in lines] == [s.key for s in steps]
        assert [words for _, words in lines] == [s.words for s in steps], target


@pytest.mark.parametrize("network", NETWORKS.values())
def test_no_sheet_line_or_form_label_names_the_target_node(network):
    """A sheet's and a form's step lines are the steps' words: the same for every id's target."""
    per_target = {t: [(s.key, s.words) for s in byhand.steps(network, t)] for t in TARGETS}
    assert len({tuple(v) for v in per_target.values()}) == 1
    assert not any("target node 5" in w or "(the target)" in w for _, w in per_target[5])


def student_by_hand(name, fill, keep_raise=True):
    """The student copy's by-hand function with every ... filled in by fill(key), as a student does."""
    network = NETWORKS[name]
    source = by_hand_cell(notebook(name, student=True), network).source
    source = TEMPLATE_LINE.sub(lambda m: f"    {m.group(1)!r}: {fill(m.group(1))!r},", source)
    if not keep_raise:
        source = source.replace("raise NotImplementedError()", "")
    space = {}
    exec(compile(source, f"<{name} by hand>", "exec"), space)
    return space[f"{network}_by_hand"]


@pytest.mark.parametrize("name", NETWORKS)
def test_the_template_says_to_delete_the_raise_and_then_it_is_marked(name):
    """The template dict sits below raise NotImplementedError(): a student who filled in every value got "not
    written yet".  The docstring above the line says to delete it, the feedback names the line, and once it is
    deleted the values are marked."""
    network = NETWORKS[name]
    source = by_hand_cell(notebook(name, student=True), network).source
    above = source[:re.search(r"^\s*raise NotImplementedError\(\)\s*$", source, re.MULTILINE).start()]
    assert "delete the line raise NotImplementedError()" in " ".join(above.split())
    right = byhand.mark(byhand.problem(network, "ada"), {}, reveal=True)
    values = {s.key: round(s.expected, 4) for s in right.steps}
    filled = byhand.check_by_hand(network, "ada", student_by_hand(name, values.get))
    assert "delete the line raise NotImplementedError()" in filled.messages[0]
    assert "not written yet" not in filled.messages[0]
    marked = byhand.check_by_hand(network, "ada", student_by_hand(name, values.get, keep_raise=False))
    assert marked.passed, str(marked)


def test_the_grader_names_the_line_to_delete_too():
    from gradelib.grading.judge.hand import mark_hand_cell

    class Call:
        network, function = "relu_chain", "relu_chain_by_hand"
    sentence = "relu_chain_by_hand() is not written yet: it still raises NotImplementedError. Replace that line."
    outcome = mark_hand_cell(Call, "ada", {"calls": [{"problem": ["not_implemented", sentence]}]}, "", 4)
    assert "delete the line raise NotImplementedError()" in outcome.why and outcome.points == 0


@pytest.mark.parametrize("student", [False, True], ids=["source", "student copy"])
@pytest.mark.parametrize("name", NETWORKS)
def test_a_graded_student_off_the_hub_is_told_to_put_their_nbgrader_id(name, student):
    """Off the hub the notebooks said only "put any name" in MY_ID, and a right page on another id scores 0:
    where the student types the id, and in the section's introduction, they are told to put their nbgrader id."""
    nb = notebook(name, student)
    where = next(c for c in nb.cells if c.cell_type == "code" and "MY_ID = byhand.my_id(" in c.source)
    assert "nbgrader student id" in where.source and "not on the course's JupyterHub" in where.source
    intro = next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## By hand"))
    text = " ".join(intro.source.split())
    assert "put your nbgrader student id" in text and "scores 0" in text
    assert '(`" bob "` is `"bob"`)' in text and "accent" in text   # the id's normalisation (personal.check_id)


@pytest.mark.parametrize("student", [False, True], ids=["source", "student copy"])
def test_the_step_that_balances_truncation_and_round_off_is_where_the_sum_is_smallest(student):
    """Notebook 1 said h² + ε/h is smallest near h = ε^(1/3); its derivative 2h − ε/h² vanishes at (ε/2)^(1/3).
    The value the notebook states must be where the sum it names is smallest, to the digit it gives."""
    import numpy as np
    cells = notebook("01_single_neuron", student).cells
    text = " ".join(" ".join(c.source.split()) for c in cells if c.cell_type == "markdown")
    eps = float(re.search(r"\\varepsilon = ([\d.]+)\\cdot 10\^\{(-\d+)\}", text).expand(r"\1e\2"))
    claim = re.search(r"\$h\^2 \+ \\varepsilon/h\$ is smallest .*?\\approx (\d)\\cdot 10\^\{(-\d+)\}", text)
    assert claim, "the remark on h² + ε/h"
    h = np.geomspace(1e-8, 1e-4, 200001)
    best = h[np.argmin(h ** 2 + eps / h)]
    assert float(f"{best:.0e}") == float(f"{claim.group(1)}e{claim.group(2)}"), (best, claim.group(0))
    assert "(\\varepsilon/2)^{1/3}" in claim.group(0)


POINTS = {"01_single_neuron": 3, "02_relu_chain": 4, "03_softmax_223": 5}   # the figures, checked below
NUMBERS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


@pytest.mark.parametrize("name", NETWORKS)
def test_the_intro_announces_the_graded_by_hand_section_with_its_points(name):
    """The intros listed every exercise but not the by-hand section; its points are nbgrader's for its test cell."""
    nb = notebook(name)
    points = [c.metadata.nbgrader.points for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
              and "grade_by_hand(" in c.source]
    assert points == [POINTS[name]]
    intro = " ".join(nb.cells[0].source.split())
    assert f"`{NETWORKS[name]}_by_hand`: a graded section ({POINTS[name]} points)" in intro, intro
    heading = next(c.source.splitlines()[0] for c in nb.cells if c.source.startswith("## By hand"))
    assert heading.endswith(f"({POINTS[name]} points)")


def test_the_matrix_form_is_counted_alike_where_it_is_named_and_where_it_is_shown():
    """Notebook 3's intro said "four lines of NumPy", §6.5 "three lines", and §6.5 shows six equations."""
    nb = notebook("03_softmax_223")
    section = next(c.source for c in nb.cells if c.source.startswith("### 6.5"))
    backward = section.split("the backward pass is", 1)[1].split("$$")[1]
    shown = backward.count("=")
    said = [NUMBERS[w] for w in re.findall(r"(\w+) matrix\s+equations", nb.cells[0].source + section)]
    assert said == [shown, shown], (said, shown)
    assert not re.search(r"\b(three|four) lines of NumPy", nb.cells[0].source + section)


def test_notebook_3_says_how_many_steps_are_graded_as_the_marker_counts_them():
    intro = next(c.source for c in notebook("03_softmax_223").cells if c.source.startswith("## By hand"))
    said = re.search(r"Of the (\d+) steps of the whole calculation, (\d+) are\s+graded", intro)
    assert said and (int(said.group(1)), int(said.group(2))) == (
        len(byhand.steps("softmax_223")), len(byhand.graded_steps("softmax_223")))
    assert byhand.mark(byhand.problem("softmax_223", "ada"), {}).total == int(said.group(2))
