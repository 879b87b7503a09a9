"""The grader's own verdict on answers that came back as plain numbers.

``questions(exercise, seed)`` says where to call the student's function (the
cases of the exercise's kind for that seed, gradelib.kinds; for softmax the
checker's logit vectors plus a few drawn from the seed).  ``judge(exercise,
seed, record)`` turns the parsed answers into a gradelib Result with the same
rules and the same words as gradelib.check (kinds.conclude, shared by both):
the answers are compared here, in the grader's process, with the oracle
computed here.
"""

from ...exercises import lookup
from ...kinds import Asked, Malformed, Outcome, conclude, grader_cases
from ...kinds import questions as kind_questions
from ...result import Result


class Unverifiable(Exception):
    """The answers are missing or malformed: no verdict can be given."""


def questions(exercise: str, seed: int) -> dict:
    """The probe for one exercise and seed: what harness.py needs to call the function."""
    return kind_questions(lookup(exercise), seed)


def judge(exercise: str, seed: int, record: dict | None, function_name: str, reveal: bool = False) -> Result:
    """A Result for the answers in record (see isolate._clean_probe); Unverifiable if there are none."""
    ex = lookup(exercise)
    if record is None:
        raise Unverifiable("no answers came back")
    if "invalid" in record:
        raise Unverifiable(record["invalid"])
    if "missing" in record:
        return Result.wrong(ex.name, "not_defined", f"{function_name} is not defined when this test runs.")
    asked = Asked([], asked=bool(record["asked"]))  # one that asked the oracle is judged on that alone
    if not asked.asked:
        asked.outcomes = [
            Outcome(c["values"]) if "values" in c else Outcome(None, *c["problem"]) for c in record["calls"]
        ]
    try:
        return conclude(ex, seed, grader_cases(ex, seed), asked, reveal, function_name)
    except Malformed as err:  # fewer answers than cases, or answers of the wrong form
        raise Unverifiable(str(err)) from None
