"""gradelib.kinds (one record per exercise kind) and result.Mistake (one record per mistake), on their own."""
import json

import gradelib
from gradelib.exercises import EXERCISES
from gradelib.grading.judge import verdict
from gradelib.grading.preprocess.conclude import sentences
from gradelib.kinds import KINDS, grader_cases
from gradelib.result import Mistake, Result


def test_every_exercise_has_a_kind_whose_cases_cross_to_the_harness_as_json():
    for name, ex in EXERCISES.items():
        assert ex.kind in KINDS, name
        for seed in (0, 1_234_567):
            probe = verdict.questions(name, seed)
            assert json.loads(json.dumps(probe)) == probe and probe["kind"] == ex.kind, name
            assert probe["calls"] == grader_cases(ex, seed), name


def test_the_grader_asks_where_check_does_and_adds_seed_drawn_logits_for_softmax():
    for name, ex in EXERCISES.items():
        mine, theirs = KINDS[ex.kind].cases(ex, 5), grader_cases(ex, 5)
        if name == "softmax":
            assert theirs[: len(mine)] == mine and len(theirs) == len(mine) + 3
        else:
            assert theirs == mine, name


def test_a_result_reads_its_sentences_names_and_parameters_off_its_mistakes():
    found = [Mistake("a", "One.", ("w1",)), Mistake("b", "Two.", ("w1", "b")), Mistake("a", "Three.", ("w2",))]
    r = Result("x", False, found, ["an aside"], ["First."])
    assert r.messages == ["First.", "One.", "Two.", "Three."] and r.mistakes == ["a", "b"]
    assert r.per_parameter == {"w1": ["a", "b"], "b": ["b"], "w2": ["a"]}
    assert str(r) == "x: not yet right\n- First.\n- One.\n- Two.\n- Three.\n  note: an aside"
    assert Result.praise("x", "All right.").messages == ["All right."] and Result.praise("x", "All right.").passed


def test_the_verifier_keeps_each_mistakes_own_sentences_for_the_report():
    r = Result("x", False, [Mistake("a", "One."), Mistake("b", "Two."), Mistake("a", "Three.")])
    assert sentences(r) == ["One. Three.", "Two."]


def test_a_wrong_gradient_carries_its_parameters_from_the_judge():
    def no_relu_derivative(x, params, target):
        z = params["w1"] * x[0] + params["w2"] * x[1] + params["b"]
        d = -(target - max(z, 0.0))
        return {"w1": d * x[0], "w2": d * x[1], "b": d}

    r = gradelib.check("single_neuron", no_relu_derivative)
    assert not r.passed and r.found and all(m.parameters for m in r.found), str(r)
    assert r.per_parameter == {k: [m.name for m in r.found if k in m.parameters] for k in r.per_parameter}
