"""A softmax under check that asks gradelib for the answer fails, as a function that asks the oracle does."""
import numpy as np
import pytest

import gradelib
from gradelib import networks


def wrapped_softmax(logits):
    return gradelib.softmax(list(logits))


def through_log_softmax(logits):
    return np.exp(networks.log_softmax(list(logits)))


def through_a_forward_pass(logits):
    """P5..P7 of the 2-2-3 net with zero weights and the logits as output biases: gradelib's softmax in disguise."""
    p = dict.fromkeys(gradelib.EXERCISES["softmax_223"].network.params, 0.0)
    p.update(b5=float(logits[0]), b6=float(logits[1]), b7=float(logits[2]))
    f = gradelib.softmax_223((0.0, 0.0), p, 5)
    return [f["P5"], f["P6"], f["P7"]]


def caught_and_hidden(logits):
    try:
        gradelib.softmax(list(logits))
    except Exception:
        pass
    m = np.max(logits)
    e = np.exp(np.asarray(logits) - m)
    return e / e.sum()


@pytest.mark.parametrize("fn", [gradelib.softmax, networks.softmax, wrapped_softmax, through_log_softmax,
                                through_a_forward_pass, caught_and_hidden])
def test_a_borrowed_softmax_fails_with_the_oracles_sentence(fn):
    r = gradelib.check("softmax", fn)
    assert not r.passed and r.mistakes == ["oracle_borrowed"], str(r)
    assert "asked gradelib for the answer" in str(r)


def test_an_own_softmax_still_passes_and_gradelib_works_after_the_check():
    def own(logits):
        e = np.exp(np.asarray(logits) - np.max(logits))
        return e / e.sum()
    assert gradelib.check("softmax", own).passed
    assert gradelib.check("softmax", gradelib.softmax).mistakes == ["oracle_borrowed"]
    assert gradelib.check("softmax", own).passed  # the flag does not stick
    assert abs(sum(gradelib.softmax([1.0, 2.0, 3.0])) - 1) < 1e-12


def test_the_forward_pass_is_still_allowed_in_the_gradient_exercises():
    """The notebook's own solution calls gradelib.softmax_223 for the forward pass: that is not borrowing there."""
    def grads(x, p, t):
        f = gradelib.softmax_223(x, p, t)
        dY = {k: f[f"P{k}"] - float(t == k) for k in (5, 6, 7)}
        d3 = sum(dY[k] * p[f"W3{k}"] for k in dY) * (f["z3"] > 0)
        d4 = sum(dY[k] * p[f"W4{k}"] for k in dY) * (f["z4"] > 0)
        g = {"W13": d3 * x[0], "W23": d3 * x[1], "W14": d4 * x[0], "W24": d4 * x[1], "b3": d3, "b4": d4}
        for k in dY:
            g.update({f"W3{k}": dY[k] * f["Y3"], f"W4{k}": dY[k] * f["Y4"], f"b{k}": dY[k]})
        return {k: float(v) for k, v in g.items()}
    assert gradelib.check("softmax_223", grads).passed


def test_borrowing_is_noticed_when_check_runs_in_another_thread_and_leaves_no_hook_behind():
    import sys
    import threading
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("r", gradelib.check("softmax", wrapped_softmax)))
    worker.start()
    worker.join(30)
    assert out["r"].mistakes == ["oracle_borrowed"], str(out["r"])
    assert sys.getprofile() is None


def test_a_running_profiler_is_left_working():
    """Under cProfile (written in C, so it cannot be handed back) the check runs unwatched and the profiler keeps
    running; a profile function written in Python keeps seeing events and is handed back."""
    import cProfile
    import sys

    def own(logits):
        e = np.exp(np.asarray(logits) - np.max(logits))
        return e / e.sum()
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        before = sys.getprofile()  # the profiler itself; None from Python 3.12 on, where cProfile uses sys.monitoring
        r = gradelib.check("softmax", own)
        still = sys.getprofile()
    finally:
        profiler.disable()
    assert r.passed, str(r)
    assert still is before

    seen = []

    def python_profile(frame, event, arg):
        seen.append(event)
    sys.setprofile(python_profile)
    try:
        r = gradelib.check("softmax", wrapped_softmax)
        handed_back = sys.getprofile()
    finally:
        sys.setprofile(None)
    assert r.mistakes == ["oracle_borrowed"], str(r)
    assert handed_back is python_profile and "call" in seen
