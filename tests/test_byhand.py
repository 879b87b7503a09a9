"""gradelib.byhand (issue 14): personal problems, step-by-step marking with error carried forward, sheets, form.

The tests work from principles, on many random student ids: a student who
works the notes' formulas (written again below, independently of
gradelib.byhand.steps) gets every step right, also when rounding as on paper;
a slip in one step is found at that step and only there; a slip carried
forward costs exactly that one step; bad input gets a sentence and never a
traceback; sheets and markings are the same bytes every time.
"""
import html.parser
import importlib
import math
import random
import re
import string
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import gradelib  # noqa: E402
from gradelib import byhand, networks, oracle  # noqa: E402
from gradelib.byhand import expr  # noqa: E402
from gradelib.byhand import personal, reading  # noqa: E402
from gradelib.check import NOT_AVAILABLE  # noqa: E402
from gradelib.exercises import NETWORKS  # noqa: E402

steps_module = importlib.import_module("gradelib.byhand.steps")   # byhand.steps is the function

NETS = ("single_neuron", "relu_chain", "softmax_223")
IDS_PER_NET = {"single_neuron": 30, "relu_chain": 30, "softmax_223": 15}


def random_ids(n, seed):
    rng = random.Random(seed)
    letters = string.ascii_letters + string.digits + "._-@ é"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(1, 24))).strip() or "x" for _ in range(n)]


def ids_for(network, seed=0):
    return random_ids(IDS_PER_NET[network], len(network) * 101 + seed)


# --- the notes' formulas, written again here: a student who works them step by step -------------------------

def on(z):
    return 1.0 if z > 0 else 0.0


def hand_steps(p):
    """[(key, rule)] in the notes' order; each rule reads the dict of the problem's numbers and earlier values."""
    if p.network == "single_neuron":
        rows = [("z", lambda v: v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["b"]),
                ("Y", lambda v: max(v["z"], 0.0)),
                ("Err", lambda v: v["O_b"] - v["Y"]),
                ("Loss", lambda v: v["Err"] ** 2 / 2),
                ("delta", lambda v: v["Err"] * on(v["z"])),
                ("dLoss/dw1", lambda v: -v["delta"] * v["x1"]),
                ("dLoss/dw2", lambda v: -v["delta"] * v["x2"]),
                ("dLoss/db", lambda v: -v["delta"])]
        params = ["w1", "w2", "b"]
    elif p.network == "relu_chain":
        rows = [("z1", lambda v: v["w11"] * v["x1"] + v["b1"]),
                ("Y1", lambda v: max(v["z1"], 0.0)),
                ("z2", lambda v: v["w12"] * v["Y1"] + v["b2"]),
                ("Y2", lambda v: max(v["z2"], 0.0)),
                ("Err2", lambda v: v["O_b2"] - v["Y2"]),
                ("Loss", lambda v: v["Err2"] ** 2 / 2),
                ("delta2", lambda v: v["Err2"] * on(v["z2"])),
                ("delta1", lambda v: v["delta2"] * v["w12"] * on(v["z1"])),
                ("dLoss/dw12", lambda v: -v["delta2"] * v["Y1"]),
                ("dLoss/db2", lambda v: -v["delta2"]),
                ("dLoss/dw11", lambda v: -v["delta1"] * v["x1"]),
                ("dLoss/db1", lambda v: -v["delta1"])]
        params = ["w12", "b2", "w11", "b1"]
    else:
        t = p.target
        rows = []
        for j in (3, 4):
            rows.append((f"z{j}", lambda v, j=j: v[f"W1{j}"] * v["X1"] + v[f"W2{j}"] * v["X2"] + v[f"b{j}"]))
        for j in (3, 4):
            rows.append((f"Y{j}", lambda v, j=j: max(v[f"z{j}"], 0.0)))
        for k in (5, 6, 7):
            rows.append((f"Y{k}", lambda v, k=k: v[f"W3{k}"] * v["Y3"] + v[f"W4{k}"] * v["Y4"] + v[f"b{k}"]))
        for k in (5, 6, 7):
            rows.append((f"P{k}", lambda v, k=k: math.exp(v[f"Y{k}"]) / sum(math.exp(v[f"Y{m}"]) for m in (5, 6, 7))))
        rows.append(("Loss", lambda v: -math.log(v[f"P{t}"])))
        for k in (5, 6, 7):
            rows.append((f"dLoss/dY{k}", lambda v, k=k: v[f"P{k}"] - (1.0 if k == t else 0.0)))
        params = []
        for k in (5, 6, 7):
            for j in (3, 4):
                params.append(f"W{j}{k}")
                rows.append((f"dLoss/dW{j}{k}", lambda v, j=j, k=k: v[f"dLoss/dY{k}"] * v[f"Y{j}"]))
        for k in (5, 6, 7):
            params.append(f"b{k}")
            rows.append((f"dLoss/db{k}", lambda v, k=k: v[f"dLoss/dY{k}"]))
        for j in (3, 4):   # notes 002: after the output layer's gradients
            rows.append((f"dLoss/dY{j}", lambda v, j=j: sum(v[f"dLoss/dY{k}"] * v[f"W{j}{k}"] for k in (5, 6, 7))))
        hidden = [(f"W{i}{j}", j, f"X{i}") for j in (3, 4) for i in (1, 2)] + [(f"b{j}", j, None) for j in (3, 4)]
        for q, j, x in hidden:
            params.append(q)
            rows.append((f"dLoss/d{q}", lambda v, j=j, x=x: v[f"dLoss/dY{j}"] * on(v[f"z{j}"]) * (v[x] if x else 1)))
    for q in params:
        rows.append((f"new {q}", lambda v, q=q: v[q] - v["eta"] * v[f"dLoss/d{q}"]))
    return rows


def problem_numbers(p):
    net = NETWORKS[p.network]
    v = dict(zip(net.inputs, p.x))
    v.update(p.params)
    v["eta"] = p.eta
    if net.classes:
        v["target"] = p.target
    else:
        v[net.target_symbol] = p.target
    return v


def work(p, slip_at=None, change=None, rounding=None):
    """A student's page: every step from their own earlier values; change(value) at slip_at; rounding each value."""
    v = problem_numbers(p)
    page = {}
    for key, rule in hand_steps(p):
        value = rule(v)
        if key == slip_at:
            value = change(value)
        if rounding:
            value = rounding(value)
        v[key] = page[key] = value
    return page


def mark_all(p, answers, **kw):
    """Mark every step: the tests of marking are about each step; which are graded by default is tested apart
    (test_the_default_graded_steps_...)."""
    return byhand.mark(p, answers, steps="all", **kw)


def right_page(p):
    return work(p)


def slipped(value, sign=1):
    """A value changed by more than the tolerance (and less than a P's size, so every later step stays defined)."""
    return value + sign * max(4 * reading.tolerance(value), 0.1 * abs(value))


def slipped_down(value):
    return slipped(value, -1)


def two_decimals(value):
    return round(value, 2)


def three_figures(value):
    return float(f"{value:.3g}")


def slips_on_the_right_page(p, right):
    """(step, slip, the slip's value, the values it read) for every slip the marker knows, at every step of p,
    each computed from the right values of the earlier steps; a slip undefined there is left out."""
    v = p.givens()
    for s in byhand.steps(p.network, p.target):
        for slip in s.slips:
            try:
                value = slip.gives(v)
            except (ArithmeticError, ValueError):
                continue
            yield s, slip, value, v
        v[s.key] = right[s.key]


# --- the steps and the personal problems ------------------------------------------------------------------------

def test_steps_are_in_the_notes_order():
    p = byhand.problem("softmax_223", "ada")
    for net in NETS:
        q = byhand.problem(net, "ada")
        assert [s.key for s in byhand.steps(net, q.target)] == [k for k, _ in hand_steps(q)]
    assert [s.key for s in byhand.steps("single_neuron")] == [
        "z", "Y", "Err", "Loss", "delta", "dLoss/dw1", "dLoss/dw2", "dLoss/db", "new w1", "new w2", "new b"]
    assert [s.key for s in byhand.steps("relu_chain")][:8] == ["z1", "Y1", "z2", "Y2", "Err2", "Loss", "delta2",
                                                               "delta1"]
    keys = [s.key for s in byhand.steps("softmax_223", p.target)]
    assert len(keys) == 5 + 5 + 1 + 3 + 2 + 15 + 15 and keys[-15:] == [f"new {q}" for q in (
        "W35", "W45", "W36", "W46", "W37", "W47", "b5", "b6", "b7", "W13", "W23", "W14", "W24", "b3", "b4")]
    for net in NETS:
        for s in byhand.steps(net):
            assert s.key.isascii() and s.symbol and s.words and s.formula


@pytest.mark.parametrize("network", NETS)
def test_the_right_steps_agree_with_the_forward_pass_and_the_numerical_gradient(network):
    for sid in ids_for(network)[:8]:
        p = byhand.problem(network, sid)
        page, state = right_page(p), p.forward()
        for key, value in state.items():
            if key in page:
                assert page[key] == pytest.approx(value, abs=1e-12)
        g = gradelib.numerical_gradient(network, p.x, p.params, p.target)
        for q, value in g.items():
            assert page[f"dLoss/d{q}"] == pytest.approx(value, abs=1e-6)
            assert page[f"new {q}"] == pytest.approx(p.params[q] - p.eta * value, abs=1e-6)
        assert personal.right_values(p) == pytest.approx(page, abs=1e-12)


@pytest.mark.parametrize("network", NETS)
def test_the_same_id_gives_the_same_problem_and_different_ids_different_ones(network):
    ids = random_ids(60, 7)
    problems = [byhand.problem(network, sid) for sid in ids]
    again = [byhand.problem(network, sid) for sid in ids]
    assert problems == again
    assert byhand.problem(network, "  ada ") == byhand.problem(network, "ada")
    assert byhand.problem(network, "Ren\u00e9e") == byhand.problem(network, "Rene\u0301e"), "é either way"
    seen = {(p.x, tuple(p.params.values()), p.target, p.eta) for p in problems}
    assert len(seen) == len(set(ids))


def test_a_problem_is_the_same_on_every_machine():
    """Drawn from SHA-256, not from Python's salted hash nor NumPy's generators: these numbers never change."""
    p = byhand.problem("single_neuron", "ada")
    assert (p.x, p.params, p.target, p.eta) == ((1.4, -1.7), {"w1": 0.8, "w2": -0.8, "b": -0.1}, 1.8, 0.2)


@pytest.mark.parametrize("network", NETS)
def test_problems_keep_their_promises(network):
    net = NETWORKS[network]
    offs, targets = set(), set()
    for sid in random_ids(40, 3):
        p = byhand.problem(network, sid)
        numbers = list(p.x) + list(p.params.values()) + ([] if net.classes else [p.target])
        assert all(round(v, 1) == v for v in numbers), "one decimal"
        state = p.forward()
        zs = [state[r.pre] for r in net.relus.values()]
        assert all(abs(z) >= personal.MARGIN for z in zs)
        if network == "softmax_223":
            assert sum(z < 0 for z in zs) == 1 and len(p.off) == 1, "exactly one hidden node off"
            offs.add(p.off)
            targets.add(p.target)
            assert all(state[f"P{k}"] >= personal.MIN_P for k in net.classes)
        else:
            assert all(z > 0 for z in zs) and p.off == (), "every neuron on"
        right = personal.right_values(p)
        assert all(v == 0 or abs(v) >= personal.MIN_STEP for v in right.values())
        # every slip the marker knows lands on the right value or clearly away from it
        for s, slip, value, _ in slips_on_the_right_page(p, right):
            gap = abs(value - right[s.key])
            assert gap < 1e-9 or gap > 2 * reading.tolerance(right[s.key]), (sid, s.key, slip.name)
    if network == "softmax_223":
        assert offs == {("node 3",), ("node 4",)} and targets == {5, 6, 7}, "the id decides the off node and target"


@pytest.mark.parametrize("bad", ["", "   ", 42, None, b"ada", "x" * 201])
def test_a_bad_id_gets_a_sentence(bad):
    with pytest.raises(ValueError, match=r"student id|id"):
        byhand.problem("relu_chain", bad)
    m = byhand.check_by_hand("relu_chain", bad, {})
    assert not m.available and m.messages and m.messages[0].endswith(".")


@pytest.mark.parametrize("network", NETS)
@pytest.mark.parametrize("answers", [[0.8, 0.8], (0.8,), "z1 = 0.8", 0.8, None, {0.8}])
def test_answers_that_are_not_a_page_get_a_sentence_that_says_what_one_is(network, answers):
    """check_by_hand(net, id, [a list]) said "the dict of your values should return a dict of your values"
    (issue 21): it says what it needs, with this network's own keys, and what it got."""
    m = byhand.check_by_hand(network, "bob", answers)
    first = byhand.steps(network)[0].key
    assert not m.available and len(m.messages) == 1
    assert m.messages[0].startswith(f"check_by_hand needs your values as a dict of step and value, such as "
                                    f"{{'{first}': ...") and f"{network}_by_hand" in m.messages[0]
    got = "None" if answers is None else f"a {type(answers).__name__}"
    assert "should return" not in m.messages[0] and f"it got {got}" in m.messages[0], m.messages[0]


def test_the_id_as_documented_where_a_learner_reads_it():
    """The id's normalisation was only in the code; help(byhand.problem) and help(check_by_hand) say it too."""
    for fn in (byhand.problem, byhand.check_by_hand):
        assert '" bob " is "bob"' in fn.__doc__ and "accent" in fn.__doc__
    assert byhand.problem("relu_chain", " bob ") == byhand.problem("relu_chain", "bob")


def test_the_steps_are_in_the_notes_order_and_the_sheet_says_where_not():
    """Notes 002 send the error back to nodes 3 and 4 after the output layer's gradients (the sheet had it
    before them while saying "in the notes' order"); the updates all come last, and the sheet says why."""
    for network in NETS:
        p = byhand.problem(network, "ada")
        assert [s.key for s in byhand.steps(network, p.target)] == [k for k, _ in hand_steps(p)]
    keys = [s.key for s in byhand.steps("softmax_223")]
    assert keys.index("dLoss/db7") < keys.index("dLoss/dY3") < keys.index("dLoss/dY4") < keys.index("dLoss/dW13")
    how = byhand.sheet("softmax_223", "ada").fragment()
    assert "every update comes after every gradient" in how and "before that update" in how


def test_the_default_graded_steps_are_few_and_cover_every_idea():
    """Notebook 3's page had 46 steps (issue 21): by default at most 25 are graded, still the forward pass, the
    output errors, a hidden error, a gradient and an update of each layer; the others are leaves that no graded
    step reads, and notebooks 1 and 2 are graded whole."""
    for network in ("single_neuron", "relu_chain"):
        assert byhand.graded_steps(network) == tuple(s.key for s in byhand.steps(network))
    keys = byhand.graded_steps("softmax_223")
    assert len(keys) <= 25
    p = byhand.problem("softmax_223", "ada")
    forward = [k for k in (s.key for s in byhand.steps("softmax_223")) if k in p.forward()]
    assert set(forward) <= set(keys) and {"dLoss/dY5", "dLoss/dY6", "dLoss/dY7"} <= set(keys)
    assert {"dLoss/dY3", "dLoss/dY4"} & set(keys)
    for layer in (("W3", "W4", "b5", "b6", "b7"), ("W1", "W2", "b3", "b4")):   # the output layer's, the hidden's
        assert [k for k in keys if k.startswith("dLoss/d") and k.removeprefix("dLoss/d").startswith(layer)]
        assert [k for k in keys if k.startswith("new ") and k.removeprefix("new ").startswith(layer)]
    givens = set(p.givens())
    for step in byhand.steps("softmax_223"):
        if step.key in keys:
            v = type(p.givens())(personal._values(p), **p.givens())   # steps.Values: records what a rule reads
            step.rule(v)
            assert set(v.read) <= set(keys) | givens, (step.key, set(v.read) - set(keys) - givens)


@pytest.mark.parametrize("network", NETS)
def test_the_score_is_the_points_shared_over_the_graded_steps(network, capsys):
    """The same points (the cell's points=, nbgrader's) whatever the steps: each graded step is worth
    points / graded steps, and a step left out is neither asked for nor counted."""
    p = byhand.problem(network, "ada")
    right = right_page(p)
    keys = byhand.graded_steps(network)
    page = {k: v for k, v in right.items() if k in keys}
    page[keys[-1]] += 1.0
    score = byhand.grade_by_hand(network, "ada", lambda: page, points=5)
    assert score == round(5 * (len(keys) - 1) / len(keys), 2)
    assert f"({len(keys) - 1} of {len(keys)} steps right)" in capsys.readouterr().out
    assert byhand.grade_by_hand(network, "ada", lambda: right, points=5, steps="all") == 5
    assert byhand.grade_by_hand(network, "ada", lambda: right, points=5, steps=[keys[0]]) == 5
    bad = byhand.grade_by_hand(network, "ada", lambda: right, points=5, steps=["no such step"])
    assert bad == 0 and "steps= names 'no such step'" in capsys.readouterr().out


@pytest.mark.parametrize("network", NETS)
def test_error_carried_forward_goes_through_the_steps_that_are_not_graded(network):
    """A slip in the first step, carried honestly through every step, with only the graded steps handed in:
    one step lost, as when every step is graded."""
    for sid in ids_for(network)[:8]:
        p = byhand.problem(network, sid)
        first = hand_steps(p)[0][0]
        page = work(p, slip_at=first, change=slipped)
        keys = byhand.graded_steps(network, [first] + [k for k, _ in hand_steps(p)][-3:])
        m = byhand.mark(p, {k: page[k] for k in keys}, steps=list(keys))
        assert m.total == len(keys) and m.first_wrong == first and m.right == m.total - 1, (sid, str(m))


def test_the_grader_reads_the_graded_steps_from_the_test_cell():
    pytest.importorskip("nbformat", reason="the grader's modules need nbformat; CI's fast-test venvs hold only gradelib's own needs")
    from gradelib.grading.judge.cells import hand_calls
    from gradelib.grading.judge.hand import mark_hand_cell
    cell = 'gradelib.grade_by_hand("softmax_223", MY_ID, f, points=5, steps=["z3", "z4", "Y3"])'
    (call,) = hand_calls(cell)
    assert call.steps == ["z3", "z4", "Y3"]
    assert hand_calls('gradelib.grade_by_hand("softmax_223", MY_ID, f, points=5)')[0].steps is None
    assert hand_calls('gradelib.grade_by_hand("softmax_223", MY_ID, f, points=5, steps=CHOSEN)') == []
    p = byhand.problem("softmax_223", "ada")
    outcome = mark_hand_cell(call, "ada", {"calls": [{"answers": right_page(p)}]}, "", 5.0)
    assert outcome.points == 5.0 and "3 of 3 steps right" in outcome.outputs[0].text


# --- marking -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("network", NETS)
@pytest.mark.parametrize("rounding", [None, two_decimals, three_figures])
def test_the_right_steps_pass_also_rounded_as_on_paper(network, rounding):
    for sid in ids_for(network):
        p = byhand.problem(network, sid)
        for page in (work(p, rounding=rounding),                                       # rounded, carried rounded
                     {k: (rounding or float)(v) for k, v in right_page(p).items()}):  # each right value rounded
            m = mark_all(p, page)
            assert m.right == m.total == len(byhand.steps(network)) and m.first_wrong is None, str(m)
            assert m.fraction == 1.0 and m.messages[0].startswith("All")


@pytest.mark.parametrize("network", NETS)
def test_a_slip_in_one_step_is_found_there_and_only_there(network):
    for sid in ids_for(network):
        p = byhand.problem(network, sid)
        right = right_page(p)
        for key in right:
            for sign in (1, -1):
                page = dict(right)
                page[key] = right[key] + sign * (reading.tolerance(right[key]) * 1.05 + 1e-6)
                m = mark_all(p, page)
                assert m.first_wrong == key and m.right == m.total - 1, (sid, key, str(m))
                assert [s.key for s in m.steps if s.status == "wrong"] == [key]
                assert m.messages[0].startswith("The first step that is not right is")


@pytest.mark.parametrize("network", NETS)
def test_a_slip_carried_forward_costs_one_step(network):
    for sid in ids_for(network):
        p = byhand.problem(network, sid)
        for key, _ in hand_steps(p):
            for rounding, change in ((None, slipped), (two_decimals, slipped), (None, slipped_down)):
                m = mark_all(p, work(p, slip_at=key, change=change, rounding=rounding))
                assert m.first_wrong == key and m.right == m.total - 1, (sid, key, rounding, str(m))
                later = [s for s in m.steps[[s.key for s in m.steps].index(key) + 1:] if s.carried]
                if later:
                    assert any("judged on your own numbers" in x for x in m.messages), m.messages


def test_the_first_wrong_step_is_named_in_words():
    p = byhand.problem("relu_chain", "ada")
    # δ1 with neuron 2's gate: visible once the student's own z1 is negative (a slip in z1, carried forward)
    page = work(p, slip_at="z1", change=lambda z: -0.5)
    page["delta1"] = page["delta2"] * p.params["w12"] * 1.0
    m = mark_all(p, page)
    assert m.first_wrong == "z1"
    assert "your δ1 uses ReLU'(z2) where neuron 1's own ReLU'(z1) belongs" in m.steps[7].sentence
    # δ with the sign of dLoss/dz
    q = byhand.problem("single_neuron", "ada")
    page = right_page(q)
    page["delta"] = -page["delta"]
    m = mark_all(q, page)
    assert m.first_wrong == "delta" and "sign of dLoss/dz" in m.messages[0]
    assert "0.58" not in m.messages[0].split("(you wrote")[1].split(")", 1)[1], "the right value is not given away"


@pytest.mark.parametrize("sid", random_ids(6, 11))
def test_the_softmax_slips_are_named(sid):
    """The 2-2-3 net's teaching slips: the target's −1 forgotten, the notes' "+" in a hidden update, the gate of the
    node that is off forgotten, ReLU forgotten at that node."""
    p = byhand.problem("softmax_223", sid)
    t, off = p.target, int(p.off[0][-1])
    on = 7 - off
    right = right_page(p)
    cases = {
        f"dLoss/dY{t}": (right[f"P{t}"], f"P{t} − 1 belongs"),
        f"new W1{on}": (p.params[f"W1{on}"] + p.eta * right[f"dLoss/dW1{on}"], "climbs the loss"),
        f"dLoss/db{off}": (right[f"dLoss/dY{off}"], f"ReLU'(z{off}) = 0 stops"),
        f"Y{off}": (right[f"z{off}"], f"node {off} is off"),
    }
    for key, (value, words) in cases.items():
        if value == right[key]:
            continue   # no slip here: dLoss/dY of the node that is off happens to be 0
        page = dict(right)
        page[key] = value
        m = mark_all(p, page)
        assert m.first_wrong == key and m.right == m.total - 1 and words in m.messages[0], (key, m.messages)


@pytest.mark.parametrize("network", NETS)
def test_every_known_slip_is_named_by_its_own_words(network):
    """A page with one slip of the table at one step names a slip that gives exactly that value there."""
    for sid in ids_for(network)[:6]:
        p = byhand.problem(network, sid)
        right = right_page(p)
        for s, slip, value, v in slips_on_the_right_page(p, right):
            if abs(value - right[s.key]) <= 2 * reading.tolerance(right[s.key]):
                continue   # no slip at this problem (a forgotten gate of a node that is on, say)
            page = dict(right)
            page[s.key] = value
            m = mark_all(p, page)
            assert m.first_wrong == s.key
            named = [t for t in s.slips if reading.agrees(value, t.gives(v))]
            assert any(t.sentence() in m.messages[0] for t in named), (s.key, slip.name, m.messages[0])


def test_a_problem_written_by_hand_is_marked_and_a_broken_one_gets_a_sentence():
    """The notebook's worked example (notes 000): x = (0.5, −1), w1 = 0.8, w2 = −0.4, b = 0.1, O_b = 1.5,
    η = 0.1."""
    p = personal.PersonalProblem("single_neuron", "", (0.5, -1.0), {"w1": 0.8, "w2": -0.4, "b": 0.1}, 1.5, 0.1)
    m = mark_all(p, {"z": 0.9, "Y": 0.9, "Err": 0.6, "Loss": 0.18, "delta": 0.6, "dLoss/dw1": -0.3,
                        "dLoss/dw2": 0.6, "dLoss/db": -0.6, "new w1": 0.83, "new w2": -0.46, "new b": 0.16})
    assert m.right == m.total == 11
    broken = personal.PersonalProblem("softmax_223", "", (1.0,), {}, 9, 0.1)
    m = mark_all(broken, {"z3": 1})
    assert not m.available and "cannot be marked" in m.messages[0]


def test_missing_and_unreadable_steps_are_replaced_by_their_right_values_and_said_so(capfd):
    p = byhand.problem("relu_chain", "bob")
    page = right_page(p)
    del page["z1"]
    page["delta2"] = "3/4"
    m = mark_all(p, page)
    assert m.right == m.total - 2 and m.first_wrong == "z1"
    status = {s.key: s.status for s in m.steps}
    assert status["z1"] == "missing" and status["delta2"] == "unreadable"
    assert "not answered" in m.messages[0] and any("write fractions as decimals: 0.75" in x for x in m.messages)
    assert all(s.status == "right" for s in m.steps if s.key not in ("z1", "delta2"))
    # the last step stands in for nothing; a slip after an unreadable value is still carried forward
    page = work(p, slip_at="delta2", change=slipped)
    page["z1"], page["new b1"] = "abc", None
    m = mark_all(p, page)
    assert m.first_wrong == "z1" and m.right == m.total - 3
    assert "right value" not in m.steps[-1].sentence and "right value" in m.steps[0].sentence
    assert any(x.startswith("After your δ2,") and "judged on your own numbers" in x for x in m.messages)
    assert capfd.readouterr().err == ""


BAD_VALUES = [("3/4", "write fractions as decimals: 0.75"), ("0,25", "use a point as the decimal separator: 0.25"),
              ("abc", "not a number"), ("", "empty"), (None, "None"), (float("nan"), "nan"), (float("inf"), "inf"),
              ("nan", "finite"), ([0.5], "list"), ({"a": 1}, "dict"), (True, "truth value"), (1 + 2j, "complex"),
              ("25%", "0.25"), ("0.5*2", "calculation"), (10 ** 400, "too large"), (..., "not filled in"),
              (object(), "object")]


@pytest.mark.parametrize("value, words", BAD_VALUES)
def test_a_bad_value_gets_a_sentence_never_a_traceback(value, words, capfd):
    p = byhand.problem("single_neuron", "carol")
    page = right_page(p)
    page["Err"] = value
    m = mark_all(p, page)
    err_mark = m.steps[2]
    assert err_mark.status == "unreadable" and err_mark.given is None
    assert words in err_mark.sentence and err_mark.sentence.endswith(".")
    assert m.right == m.total - 1, "the steps after it are marked with Err's right value"
    str(m), m._repr_html_()
    assert capfd.readouterr().err == ""


class Trick:
    """An object whose every conversion raises or lies."""

    def __float__(self):
        raise RuntimeError("boom")

    def __repr__(self):
        raise RuntimeError("boom")

    def __eq__(self, other):
        raise RuntimeError("boom")

    __hash__ = object.__hash__


class LyingDict(dict):
    def items(self):
        raise RuntimeError("boom")


@pytest.mark.parametrize("answers", [None, [1, 2], "z=0.9", 3.0, Trick(), LyingDict(z=1.0), {3: 0.5, None: 1},
                                     {"z": Trick()}, {"Z ": 0.5, "z": 0.9}, {"dloss/dW1": 0.1}])
def test_bad_answers_never_raise(answers, capfd):
    p = byhand.problem("single_neuron", "dave")
    m = mark_all(p, answers)
    assert m.messages and all(isinstance(x, str) and x for x in m.messages)
    assert "0x" not in str(m) and str(m) == str(mark_all(p, answers))
    assert capfd.readouterr().err == ""


def test_a_key_that_is_no_step_costs_nothing_and_gets_a_suggestion():
    p = byhand.problem("softmax_223", "erin")
    page = right_page(p)
    page["z5"] = 1.0
    page["dLoss/dW99"] = 0.0
    m = mark_all(p, page)
    assert m.right == m.total
    note = next(x for x in m.messages if "'z5'" in x)
    assert "'z5' (did you mean 'z" in note and "'dLoss/dW99'" in note and "cost nothing" in note


def test_spellings_of_a_key_are_accepted():
    p = byhand.problem("relu_chain", "frank")
    right = right_page(p)
    spelt = {"δ2" if k == "delta2" else "Err" if k == "Err2" else k.replace("dLoss/d", "dL/d").upper()
             if k.startswith("dLoss") else k: v for k, v in right.items()}
    m = mark_all(p, spelt)
    assert m.right == m.total, str(m)


@pytest.mark.parametrize("network", NETS)
def test_a_classmates_page_fails(network):
    for mine, theirs in zip(random_ids(5, 21), random_ids(5, 22)):
        p, q = byhand.problem(network, mine), byhand.problem(network, theirs)
        m = mark_all(p, right_page(q))
        assert m.fraction < 0.25, str(m)
        assert any(repr(p.student_id) in x for x in m.messages)


@pytest.mark.parametrize("network", NETS)
def test_a_classmates_page_is_not_explained_by_slips(network):
    """A slip's sentence explains the other numbers' value with statements about these ("z1 < 0: neuron 1 is
    off"), which need not hold here (issue 21): a page worked on other numbers names no slip, and says so first."""
    for mine, theirs in zip(random_ids(5, 21), random_ids(5, 22)):
        p, q = byhand.problem(network, mine), byhand.problem(network, theirs)
        m = mark_all(p, right_page(q))
        slips = {slip.sentence() for st in byhand.steps(network, p.target) for slip in st.slips}
        assert not [s.sentence for s in m.steps if s.sentence.rstrip(".") in slips], str(m)
        assert m.messages[0].startswith("This page looks worked on other numbers")
        assert all(repr(p.student_id) in s.sentence for s in m.steps if s.status == "wrong" and s.given), str(m)


def test_the_issues_classmate_page_says_nothing_false_about_the_neurons():
    """check_by_hand("relu_chain", "alice", a right page of "learner") said "z1 < 0: neuron 1 is off" while
    alice's z1 = 0.6 (issue 21)."""
    alice = byhand.problem("relu_chain", "alice").forward()
    assert alice["z1"] > 0 and alice["z2"] > 0
    m = byhand.check_by_hand("relu_chain", "alice", right_page(byhand.problem("relu_chain", "learner")))
    text = str(m) + " ".join(s.sentence for s in m.steps)
    assert m.right == 0 and not any(f"neuron {n} is off" in text or f"z{n} < 0" in text for n in (1, 2)), text


def test_a_slip_said_to_switch_a_neuron_off_is_named_only_when_the_neuron_is_off():
    """z2 = w12·z1 + b2 is "z1 where Y1 belongs: neuron 1 is off" only if the student's z1 is below 0; with a
    slipped z1 above 0 and a slipped Y1, the sentence would be false for the numbers it talks about."""
    for sid in ids_for("relu_chain")[:10]:
        p = byhand.problem("relu_chain", sid)
        page = right_page(p)
        z1 = page["z1"] + 0.5
        page.update(z1=z1, Y1=z1 + 1.0, z2=p.params["w12"] * z1 + p.params["b2"])
        m = mark_all(p, page)
        z2 = next(s for s in m.steps if s.key == "z2")
        assert z2.status == "wrong" and "off" not in z2.sentence, (sid, z2.sentence)


@pytest.mark.parametrize("network", NETS)
def test_several_slips_of_ones_own_keep_error_carried_forward(network):
    """A slip in the first step carried forward, and every update climbing (p + η·dLoss/dp): still one's own page."""
    for sid in ids_for(network)[:10]:
        p = byhand.problem(network, sid)
        first = hand_steps(p)[0][0]
        page = work(p, slip_at=first, change=slipped)
        climbing = 0
        for key in [k for k in page if k.startswith("new ")]:
            q, g = key[4:], page[f"dLoss/d{key[4:]}"]
            page[key] = p.params[q] + p.eta * g
            climbing += abs(2 * p.eta * g) > reading.tolerance(p.params[q] - p.eta * g)
        m = mark_all(p, page)
        assert m.first_wrong == first and m.right == m.total - 1 - climbing, str(m)
        assert not any("student id" in x for x in m.messages)


def test_str_and_html_are_deterministic_and_escaped():
    p = byhand.problem("softmax_223", "<b>eve</b>")
    page = right_page(p)
    page["P5"] = 2.0
    a, b = mark_all(p, page), mark_all(p, dict(page))
    assert str(a) == str(b) and a._repr_html_() == b._repr_html_() and "0x" not in str(a)
    assert "<b>eve</b>" not in a._repr_html_() and "&lt;b&gt;eve" in a._repr_html_()


def test_the_right_number_is_shown_only_when_revealed():
    p = byhand.problem("single_neuron", "gina")
    page = right_page(p)
    page["Loss"] = page["Loss"] + 1
    hidden, shown = mark_all(p, page), mark_all(p, page, reveal=True)
    assert hidden.steps[3].expected is None and shown.steps[3].expected == pytest.approx(right_page(p)["Loss"])
    assert hidden.steps[0].expected == pytest.approx(page["z"]), "a right step may show its value"


def test_marking_refuses_inside_a_students_function_and_is_withdrawn_in_the_harness(monkeypatch):
    p = byhand.problem("single_neuron", "hal")
    with oracle.refused():
        with pytest.raises(oracle.OracleRefused):
            mark_all(p, {})
        with pytest.raises(oracle.OracleRefused):
            byhand.check_by_hand("single_neuron", "hal", {})
    monkeypatch.setattr(oracle.GUARD, "withdrawn", True)
    m = mark_all(p, right_page(p))
    assert not m.available and m.right == 0 and m.messages == [NOT_AVAILABLE]
    assert all(s.expected is None for s in m.steps)


# --- the sheet and the form -----------------------------------------------------------------------------------------

class Boxes(html.parser.HTMLParser):
    """The data-key of every empty box, in order, and every tag's name, from a sheet's HTML."""

    def __init__(self):
        super().__init__()
        self.keys, self.tags, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "box" in (attrs.get("class") or "").split():
            self.keys.append(attrs.get("data-key"))
        for name in ("src", "href"):
            if attrs.get(name) and not attrs[name].startswith("#"):
                self.external.append(attrs[name])


@pytest.mark.parametrize("network", NETS)
def test_the_sheet_has_one_box_per_graded_step_and_the_same_bytes_every_time(network, tmp_path):
    sid = random_ids(1, 5)[0]
    s = byhand.sheet(network, sid)
    page = s.html()
    parser = Boxes()
    parser.feed(page)
    p = byhand.problem(network, sid)
    assert parser.keys == list(byhand.graded_steps(network))
    every = Boxes()
    every.feed(byhand.sheet(network, sid, steps="all").html())
    assert every.keys == [st.key for st in byhand.steps(network, p.target)]
    assert set(byhand.form(network, sid).boxes) == set(parser.keys)
    assert "svg" in parser.tags and not parser.external, "standalone: the drawing inline, nothing fetched"
    first, second = s.save(tmp_path / "a.html"), byhand.sheet(network, sid).save(tmp_path / "b.html")
    assert first.read_bytes() == second.read_bytes() == page.encode("utf-8")
    for v in p.params.values():
        assert f"= {v:g}" in page or f"= {v:.2f}" in page
    # the sheet gives the problem, never a step's answer: no forward value is drawn
    state = p.forward()
    assert f"{state['Loss']:.3f}" not in page
    assert s._repr_html_().count('class="box"') == len(parser.keys)


def test_the_form_collects_the_filled_boxes_and_checks_them(capfd):
    f = byhand.form("single_neuron", "ivy")
    assert f.answers() == {}
    right = right_page(byhand.problem("single_neuron", "ivy"))
    f.boxes["z"].value = f"{right['z']:.2f}"
    f.boxes["Y"].value = "3/4"
    assert f.answers() == {"z": f"{right['z']:.2f}", "Y": "3/4"}
    m = f.check()
    assert m.right == 1 and m.first_wrong == "Y" and "0.75" in m.messages[0]
    assert capfd.readouterr().err == ""


def test_the_sheet_is_the_same_bytes_in_a_fresh_process():
    """matplotlib makes up ids inside an SVG; the sheet fixes their salt, so another run gives the same page."""
    code = "from gradelib import byhand; import sys; sys.stdout.write(byhand.sheet('softmax_223', 'kim').html())"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert fresh.stderr == "" and fresh.stdout == byhand.sheet("softmax_223", "kim").html()


def test_what_a_notebook_stores_has_no_address():
    p = byhand.problem("relu_chain", "lee")
    for shown in (byhand.sheet("relu_chain", "lee"), byhand.form("relu_chain", "lee"), p, mark_all(p, {})):
        assert "0x" not in repr(shown) and repr(shown) == repr(shown)
    assert "w<sub>12</sub>" in p._repr_html_() and "O<sub>b2</sub> = " in p._repr_html_()


@pytest.mark.parametrize("network, key, zero_from", [("single_neuron", "delta", "delta"),
                                                     ("relu_chain", "delta2", "delta2"),
                                                     ("single_neuron", "z", "delta")])
def test_a_slip_that_zeroes_the_rest_earns_nothing_for_what_it_zeroed(network, key, zero_from):
    """Writing δ = 0 (or a z below 0, which switches the neuron off) makes every later gradient 0 and every
    update the old value: error carried forward must not pay for those steps, only for honest work done
    with the slipped value (Y = ReLU(z), ½·Err², δ = Err·ReLU'(z) with the student's z below 0)."""
    for sid in ids_for(network)[:10]:
        p = byhand.problem(network, sid)
        page = work(p, slip_at=key, change=lambda value: 0.0 if key != "z" else -abs(value) - 0.5)
        m = mark_all(p, page)
        keys = [k for k, _ in hand_steps(p)]
        after = keys[keys.index(zero_from) + 1:]
        passed_on = [s.key for s in m.steps if s.key in after and s.status == "right" and s.given is not None
                     and (s.given == 0 or any(s.given == v for k, v in problem_numbers(p).items()))]
        assert m.first_wrong == key and not passed_on, (sid, passed_on, str(m))
        gradients = [k for k in keys if k.startswith("dLoss/d") or k.startswith("new ")]
        assert all(s.status == "wrong" for s in m.steps if s.key in gradients), (sid, str(m))


@pytest.mark.parametrize("network", NETS)
def test_a_page_of_zeros_or_of_negated_right_values_earns_nothing(network):
    """Neither carries any work on the student's numbers: not even the steps whose right value is 0 (a node that
    is off, its gradients) may score, since every page of zeros has them."""
    for sid in ids_for(network, seed=7)[:8]:
        p = byhand.problem(network, sid)
        right = personal.right_values(p)
        for page in ({k: 0.0 for k in right}, {k: -v for k, v in right.items()}):
            m = mark_all(p, page)
            assert m.right == 0, (sid, str(m))


# --- each step's formula written once (issue 20, item 4): the printed formula and the rule are one expression ----

def formula_as_python(step, names):
    """The step's printed formula read back as Python: the notes' symbols (names: symbol -> key) become variables."""
    rhs = step.formula.split(" = ", 1)[1].replace(" (natural log)", "").replace("²", "**2")
    symbols = sorted(names, key=len, reverse=True)
    placeholder = {s: f"_v{i}_" for i, s in enumerate(symbols)}
    pattern = "(?<![\\w/])(" + "|".join(re.escape(s) for s in symbols) + ")(?!\\w)"
    text = re.sub(pattern, lambda m: placeholder[m.group(1)], rhs)
    for notes, python in (("ReLU'(", "gate("), ("ReLU(", "relu("), ("·", "*"), ("−", "-"), ("½", "0.5")):
        text = text.replace(notes, python)
    text = re.sub(r"e\^(_v\d+_)", r"exp(\1)", text)
    text = re.sub(r"log (_v\d+_)", r"log(\1)", text)
    return text, {placeholder[s]: key for s, key in names.items()}


def value_of_printed_formula(step, v, names):
    text, keys = formula_as_python(step, names)
    scope = {"gate": on, "relu": lambda z: max(z, 0.0), "exp": math.exp, "log": math.log}
    scope.update({ph: dict.__getitem__(v, key) for ph, key in keys.items() if key in v})
    return eval(text, scope)   # noqa: S307  our own formula text, read back


@pytest.mark.parametrize("network", NETS)
def test_every_printed_formula_computes_what_its_step_computes(network):
    """The formula a sheet and the feedback print, read back as arithmetic, gives the step's rule's value: on the
    right page and on pages whose earlier values are off, so that a formula printed from one expression and a rule
    taken from another could not agree by chance."""
    rng = random.Random(len(network))
    for sid in ids_for(network)[:5]:
        p = byhand.problem(network, sid)
        right = personal.right_values(p)
        for scale in (None, 0.6, 1.3):
            v, names = p.givens(), {"η": "eta", **{k: k for k in p.givens() if k != "eta"}}
            for s in byhand.steps(network, p.target):
                assert value_of_printed_formula(s, v, names) == pytest.approx(s.rule(v), rel=1e-12, abs=1e-15), (
                    s.formula)
                names[s.name] = s.key
                v[s.key] = right[s.key] * (1 if scale is None else scale * rng.uniform(0.9, 1.1))


class Nudged(networks.Plain):
    """The forward pass with h added to one ReLU node's sum (before="pre") or to its output (after)."""

    def __init__(self, node, where, h):
        self.node, self.where, self.h = node, where, h

    def relu(self, node, z):
        if node != self.node:
            return super().relu(node, z)
        return super().relu(node, z + self.h) if self.where == "pre" else super().relu(node, z) + self.h


def loss_derivative(p, node, where, h=1e-6):
    """dLoss/d(node's sum) or dLoss/d(node's output) by a central difference through gradelib.networks."""
    net = NETWORKS[p.network]
    up, down = (float(net.forward(p.x, p.params, p.target, Nudged(node, where, s * h))["Loss"]) for s in (1, -1))
    return (up - down) / (2 * h)


def independent_values(p):
    """Every step's value from gradelib.networks and gradelib.oracle alone: the forward pass, the gradient, the
    derivatives with respect to the nodes (δ = −dLoss/dz of notes 000), and one step of gradient descent."""
    net = NETWORKS[p.network]
    values = p.forward()
    g = oracle.numerical_gradient(p.network, p.x, p.params, p.target)
    values.update({f"dLoss/d{q}": g[q] for q in net.params})
    values.update({f"new {q}": p.params[q] - p.eta * g[q] for q in net.params})
    for u, relu in net.relus.items():
        values[f"delta{u[1:]}"] = -loss_derivative(p, u, "pre")
        values[f"dLoss/d{u}"] = loss_derivative(p, u, "post")
    for node in net.output_nodes if net.classes else ():
        (bias,) = [q for q in net.in_edges(node) if net.edges[q].src is None]   # Y_k moves as its bias does
        values[f"dLoss/d{node}"] = g[bias]
    return values


@pytest.mark.parametrize("network", NETS)
def test_every_steps_expression_gives_what_the_networks_and_the_oracle_give(network):
    """For every step of every network, its expression computed from the right earlier values equals the value
    gradelib.networks' forward pass and gradelib.oracle's numerical differentiation give, on random problems."""
    for sid in random_ids(4, len(network) + 77):
        p = byhand.problem(network, sid)
        truth, v = independent_values(p), p.givens()
        for s in byhand.steps(network, p.target):
            assert s.rule(v) == pytest.approx(truth[s.key], abs=1e-6), (sid, s.key)
            v[s.key] = truth[s.key]


def test_an_expression_prints_brackets_where_the_notes_need_them_and_computes_left_to_right():
    a, b, c = (expr.Sym(k) for k in "abc")
    v = steps_module.Values(a=2.0, b=3.0, c=5.0)
    cases = [(a - (b - c), "a − (b − c)", 2 - (3 - 5)), (a - b - c, "a − b − c", 2 - 3 - 5),
             (a * (b + c), "a·(b + c)", 2 * 8), (-(a + b) * c, "−(a + b)·c", -25), (-a * b, "−a·b", -6),
             ((a + b) / (b + c), "(a + b) / (b + c)", 5 / 8), (expr.exp(a) / (expr.exp(a) + expr.exp(b)),
             "e^a / (e^a + e^b)", math.exp(2) / (math.exp(2) + math.exp(3))), (expr.HALF * expr.square(a - b),
             "½·(a − b)²", 0.5), (a / (b - b), "a / (b − b)", math.nan)]
    for e, text, value in cases:
        assert e.text() == text
        assert e.value(v) == pytest.approx(value, nan_ok=True)
    v.read = []
    (c * expr.gate(a) + b).value(v)
    assert v.read == list((c * expr.gate(a) + b).names()) == ["c", "a", "b"]   # what marking says a step read


@pytest.mark.parametrize("network", NETS)
def test_the_right_values_are_computed_once_per_problem(network, monkeypatch):
    """Marking a page computes each step's rule once (the value the student's own earlier numbers give): the right
    values come from the problem, computed when it was made, and again only once its numbers change."""
    calls = []
    rule = steps_module.Step.rule
    monkeypatch.setattr(steps_module.Step, "rule", lambda s, v: calls.append(s.key) or rule(s, v))
    p = byhand.problem(network, "ada")
    right = personal.right_values(p)
    n = len(byhand.steps(network, p.target))
    calls.clear()
    byhand.mark(p, right, steps="all")
    assert sorted(calls) == sorted(s.key for s in byhand.steps(network, p.target))
    calls.clear()
    assert personal.right_values(p) == right and calls == []
    first = next(iter(p.params))
    p.params[first] += 0.5   # a problem written over by hand: its values are computed again
    assert personal.right_values(p) != right and 0 < len(calls) <= n


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_the_sheet_in_a_notebook_styles_only_itself(network):
    """Shown in a notebook, the sheet's CSS must not restyle JupyterLab's page (its body, headings, tables): every
    rule's selector starts inside the sheet's own <div>. The standalone page may style its body."""
    sheet = byhand.sheet(network, "learner")
    shown = sheet._repr_html_()
    css = "\n".join(re.findall(r"<style>(.*?)</style>", shown, re.S))
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = re.sub(r"@media[^{]*\{", "", rules)  # a media query's rules are checked as the others
    selectors = [s.strip() for block in re.findall(r"([^{}]+)\{", rules) for s in block.split(",") if s.strip()]
    assert selectors, "the sheet has no CSS to check"
    assert all(s.startswith(".gradelib-byhand-sheet") for s in selectors), selectors
    assert 'class="gradelib-byhand-sheet"' in shown
    assert re.search(r"body\s*\{", sheet.html())  # the standalone page keeps its own page margins
