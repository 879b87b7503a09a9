"""The grader's own verdict on answers that came back as plain numbers.

``questions(exercise, seed)`` says where to call the student's function (the
test points of gradelib.points for that seed; for softmax the checker's logit
vectors plus a few drawn from the seed).  ``judge(exercise, seed, record)``
turns the parsed answers into a gradelib Result with the same rules and the
same words as gradelib.check: the answers are compared here, in the grader's
process, with the oracle computed here.
"""
import numpy as np

from .. import networks, points
from ..check import N_ORDINARY, SOFTMAX_CASES, _praise
from ..diagnose import close, diagnose
from ..exercises import lookup
from ..oracle import loss_gradients
from ..result import Result

EXTRA_SOFTMAX = 3     # random ordinary logit vectors added to the checker's fixed ones


class Unverifiable(Exception):
    """The answers are missing or malformed: no verdict can be given."""


def softmax_cases(seed):
    """The checker's logit vectors, then EXTRA_SOFTMAX more drawn from the seed."""
    rng = np.random.default_rng([seed, 9913])
    extra = [[float(v) for v in np.round(rng.uniform(-3, 3, 3), 2)] for _ in range(EXTRA_SOFTMAX)]
    return [list(c) for c in SOFTMAX_CASES] + extra


def questions(exercise, seed):
    """The probe for one exercise and seed: what harness.py needs to call the function."""
    ex = lookup(exercise)
    if ex.kind == "softmax":
        cases = softmax_cases(seed)
        # a crash only on huge logits is judged as an overflow, so it must not stop the probe
        tolerate = [i for i in range(len(SOFTMAX_CASES)) if i >= N_ORDINARY]
        return {"kind": "softmax", "calls": [[c] for c in cases], "tolerate": tolerate}
    net, update = ex.network, ex.kind == "update"
    pts = points.choose(net, seed)
    calls = []
    for i in range(len(pts)):
        x, params, *rest = pts.call_args(i, update)
        calls.append([list(x), params] + rest)
    return {"kind": "network", "keys": list(net.params), "calls": calls, "tolerate": [],
            "what": "new parameters" if update else "gradients"}


def judge(exercise, seed, record, function_name, reveal=False):
    """A Result for the answers in record (see isolate._clean_probe); Unverifiable if there are none."""
    ex = lookup(exercise)
    if record is None:
        raise Unverifiable("no answers came back")
    if "invalid" in record:
        raise Unverifiable(record["invalid"])
    if "missing" in record:
        return Result(ex.name, False, [f"{function_name} is not defined when this test runs."],
                      ["not_defined"])
    calls = record["calls"]
    if record["asked"]:
        return Result(ex.name, False, [
            f"{function_name} asked gradelib for the answer (numerical_gradient or check). The point is to "
            "derive it yourself: write the chain rule out."], ["oracle_borrowed"])
    if ex.kind == "softmax":
        return _judge_softmax(ex, seed, calls)
    return _judge_network(ex, seed, calls, reveal)


def _problem(ex, calls, describe):
    """The Result for the first call whose answer could not be read, or None."""
    for i, c in enumerate(calls):
        if "problem" in c:
            mistake, sentence = c["problem"]
            where = "" if mistake == "not_implemented" else f" ({describe(i)})"
            return Result(ex.name, False, [sentence + where], [mistake])
    return None


def _judge_network(ex, seed, calls, reveal):
    net, update = ex.network, ex.kind == "update"
    pts = points.choose(net, seed)
    found = _problem(ex, calls, lambda i: "test point: " + pts.describe(i, update))
    if found:
        return found
    if len(calls) != len(pts) or any(len(c["values"]) != len(net.params) for c in calls):
        raise Unverifiable("answers are missing for some test points")
    S = {k: np.array([c["values"][j] for c in calls]) for j, k in enumerate(net.params)}
    for k in net.params:
        bad = ~np.isfinite(S[k])
        if bad.any():
            i = int(np.argmax(bad))
            label = k if update else f"dLoss/d{k}"
            return Result(ex.name, False, [f"{label} is {S[k][i]} at the test point {pts.describe(i, update)}; "
                                           "a gradient here is always a finite number."], ["not_finite"])
    G = loss_gradients(net, pts.X, pts.P, pts.T)
    if update:
        S = {k: (pts.P[k] - S[k]) / pts.E for k in net.params}  # the gradient the update implies
    if all(close(S[k], G[k]) for k in net.params):
        return Result(ex.name, True, [_praise(ex, pts)])
    messages, mistakes, per_parameter = [], [], {}
    for mistake, ks, sentence, i in diagnose(ex, pts, S, G):
        if reveal:
            k = ks[0]
            if update:
                sentence += (f" For example at {pts.describe(i, True)}: new {k} should be "
                             f"{pts.P[k][i] - pts.E[i] * G[k][i]:.6g}, yours is {pts.P[k][i] - pts.E[i] * S[k][i]:.6g}.")
            else:
                sentence += f" For example at {pts.describe(i)}: dLoss/d{k} = {G[k][i]:.6g}, yours is {S[k][i]:.6g}."
        messages.append(sentence)
        mistakes.append(mistake)
        for k in ks:
            per_parameter.setdefault(k, []).append(mistake)
    return Result(ex.name, False, messages, mistakes, (), per_parameter)


def _judge_softmax(ex, seed, calls):
    cases = softmax_cases(seed)
    rows = []
    for i, (logits, c) in enumerate(zip(cases, calls)):
        if "problem" in c:
            if N_ORDINARY <= i < len(SOFTMAX_CASES) and c["problem"][0] == "exception":
                rows.append([float("nan")] * len(logits))  # a crash only on huge logits is an overflow
                continue
            mistake, sentence = c["problem"]
            where = "" if mistake == "not_implemented" else f" (logits = {logits})"
            return Result(ex.name, False, [sentence + where], [mistake])
        if len(c["values"]) != len(logits):
            raise Unverifiable("an answer has the wrong length")
        rows.append(c["values"])
    if len(rows) != len(cases):
        raise Unverifiable("answers are missing for some logit vectors")
    ref = [np.array(networks.softmax(np.array(c)), dtype=float) for c in cases]
    ok = [bool(np.all(np.isfinite(r))) and bool(np.allclose(r, e, rtol=1e-9, atol=1e-12)) for r, e in zip(rows, ref)]
    if all(ok):
        return Result(ex.name, True, [f"Your softmax agrees with the stable reference on {len(ok)} logit vectors."])
    extreme = range(N_ORDINARY, len(SOFTMAX_CASES))
    if all(good for i, good in enumerate(ok) if i not in extreme):
        bad = [cases[i] for i in extreme if not ok[i]]
        return Result(ex.name, False, [
            f"Your softmax is right for ordinary logits but fails for {bad[0]}: exp(1000) overflows to inf "
            "(and exp(-1000) underflows to 0), giving inf/inf or 0/0 = nan. Subtract the largest logit first: "
            "softmax(Y) = softmax(Y − max(Y)), so every exp() is at most 1."], ["softmax_overflow"])
    i = ok.index(False)
    r = np.array(rows[i])
    if np.all(np.isfinite(r)) and r.sum() != 0 and abs(r.sum() - 1) > 1e-6 and np.allclose(r / r.sum(), ref[i]):
        return Result(ex.name, False, [f"Your probabilities for logits {cases[i]} sum to {r.sum():.6g}, not 1: "
                                       "divide every exp(Y_k) by the sum Σ_j exp(Y_j)."], ["softmax_not_normalized"])
    return Result(ex.name, False, [f"For logits {cases[i]} your softmax does not give P_k = exp(Y_k) / Σ_j exp(Y_j)."],
                  ["wrong_value"])
