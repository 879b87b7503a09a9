"""The grader's own verdict on answers that came back as plain numbers.

``questions(exercise, seed)`` says where to call the student's function (the
test points of gradelib.points for that seed; for softmax the checker's logit
vectors plus a few drawn from the seed).  ``judge(exercise, seed, record)``
turns the parsed answers into a gradelib Result with the same rules and the
same words as gradelib.check: the answers are compared here, in the grader's
process, with the oracle computed here.
"""

import numpy as np

from ... import points
from ...check import SOFTMAX_CASES, borrowed, is_extreme, judge_network, judge_softmax
from ...contract import CONTRACTS, Outcome, conclude
from ...exercises import lookup
from ...pieces import judge_piece
from ...result import Result

EXTRA_SOFTMAX = 3  # random ordinary logit vectors added to the checker's fixed ones
SOFTMAX_SALT = 9913  # mixed into the seed, so that these vectors differ from any other draw made from it


class Unverifiable(Exception):
    """The answers are missing or malformed: no verdict can be given."""


def softmax_cases(seed):
    """The checker's logit vectors, then EXTRA_SOFTMAX more drawn from the seed."""
    rng = np.random.default_rng([seed, SOFTMAX_SALT])
    extra = [[float(v) for v in np.round(rng.uniform(-3, 3, 3), 2)] for _ in range(EXTRA_SOFTMAX)]
    return [list(c) for c in SOFTMAX_CASES] + extra


def questions(exercise, seed):
    """The probe for one exercise and seed: what harness.py needs to call the function."""
    ex = lookup(exercise)
    if ex.kind == "softmax":
        cases = softmax_cases(seed)
        # a crash only on huge logits is judged as an overflow, so it must not stop the probe
        tolerate = [i for i, logits in enumerate(cases) if is_extreme(logits)]
        return {"kind": "softmax", "calls": [[c] for c in cases], "tolerate": tolerate}
    if ex.kind in CONTRACTS:  # the learner's own gradient check and the mini-batch (gradelib.contract)
        contract = CONTRACTS[ex.kind]
        cases = contract.cases(seed)
        return {"kind": ex.kind, "calls": cases, "tolerate": list(range(len(cases))) if contract.tolerates else []}
    net, update = ex.network, ex.kind == "update"
    pts = points.choose(net, seed)
    calls = []
    for i in range(len(pts)):
        x, params, *rest = pts.call_args(i, update)
        calls.append([list(x), params] + rest)
    what = ex.piece.what if ex.piece else "new parameters" if update else "gradients"
    return {"kind": "network", "keys": list(ex.answer_keys), "calls": calls, "tolerate": [], "what": what}


def judge(exercise, seed, record, function_name, reveal=False):
    """A Result for the answers in record (see isolate._clean_probe); Unverifiable if there are none."""
    ex = lookup(exercise)
    if record is None:
        raise Unverifiable("no answers came back")
    if "invalid" in record:
        raise Unverifiable(record["invalid"])
    if "missing" in record:
        return Result(ex.name, False, [f"{function_name} is not defined when this test runs."], ["not_defined"])
    calls = record["calls"]
    if record["asked"]:
        return borrowed(ex, function_name)
    if ex.kind == "softmax":
        return _judge_softmax(ex, seed, calls, reveal)
    if ex.kind in CONTRACTS:
        return _judge_contract(ex, seed, calls, reveal, function_name)
    return _judge_network(ex, seed, calls, reveal)


def _judge_contract(ex, seed, calls, reveal, function_name):
    """The calls' plain numbers or problems, judged by gradelib.contract.conclude as check() judges them."""
    outcomes = [Outcome(c["values"]) if "values" in c else Outcome(None, *c["problem"]) for c in calls]
    try:
        return conclude(ex, seed, outcomes, reveal, function=function_name)
    except ValueError as err:  # fewer answers than cases, or answers of the wrong form
        raise Unverifiable(str(err)) from None


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
    if found is not None:  # a failing Result is falsy
        return found
    keys = ex.answer_keys  # the parameters, or a staged local gradient's keys (gradelib.pieces)
    if len(calls) != len(pts) or any(len(c["values"]) != len(keys) for c in calls):
        raise Unverifiable("answers are missing for some test points")
    answers = [dict(zip(keys, c["values"])) for c in calls]
    return (judge_piece if ex.kind == "piece" else judge_network)(ex, pts, answers, reveal)


def _judge_softmax(ex, seed, calls, reveal):
    cases = softmax_cases(seed)
    rows = []
    for i, (logits, c) in enumerate(zip(cases, calls)):
        if "problem" in c:
            if is_extreme(logits) and c["problem"][0] == "exception":
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
    return judge_softmax(ex, cases, rows, reveal)
