"""Scores to the LMS by LTI Assignment and Grade Services (AGS 2.0): ``export ... --send --lti lti-tool.json``.

The tool's settings are a JSON file the instructor keeps beside the gradebook (README, "Running the course from
your LMS"): ``client_id`` and ``token_url`` (from the tool's registration in the LMS), ``lineitems`` (the course's
line-items URL, the ``lineitems`` of the AGS endpoint claim a launch carries), ``private_key`` (a PEM file, the
tool's RSA key; the LMS holds its public half) and ``kid`` (that key's id in the LMS).

What happens, in order:
1. an access token by OAuth 2 client credentials, the client proven by a JWT signed with the tool's key
   (IMS Security Framework 1.0, section 4.1);
2. per assignment, its line item found by ``resourceId`` (the assignment's name) or made once, so that a second
   run reuses it;
3. per student, the score posted to the line item's ``scores``, unless: the gradebook has no LMS user id for
   them, they handed nothing in (unless ``--missing zero``), or the LMS already holds that score (read from its
   ``results``, when the token allows it): those are skipped, with the reason.
Every outcome is written to the record (a CSV) as it happens, so that a network failure half-way leaves a record
of what was sent and what was not; the summary counts sent, refused (the LMS said no, and why), skipped and not
sent.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from .grades import CannotExport, Grades, number, said

SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
RESULT_SCOPE = SCOPES[1]
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TIMEOUT = 30  # seconds for one request to the LMS
RECORD_FIELDS = ["student", "assignment", "score", "status", "reason"]


@dataclass(frozen=True)
class Tool:
    """The tool's side of the registration in the LMS, read from the --lti JSON file."""

    client_id: str
    token_url: str
    lineitems: str  # the course's line-items service URL
    private_key: str  # PEM text of the tool's RSA key
    kid: str  # the key's id, as registered in the LMS


@dataclass(frozen=True)
class Outcome:
    """What became of one student's score in one assignment."""

    student: str
    assignment: str
    score: str  # as sent ("" when there was none)
    status: str  # "sent", "refused", "skipped" or "not sent"
    reason: str = ""


class Unreachable(Exception):
    """The LMS did not answer (network error or timeout); nothing more is sent."""


def read_tool(path: str | None) -> Tool:
    """The --lti file, checked whole; CannotExport with a sentence when it is missing or incomplete."""
    if not path:
        raise CannotExport(
            "--send needs --lti FILE: the tool's LTI settings (README, 'Running the course from your LMS')"
        )
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        missing = [k for k in ("client_id", "token_url", "lineitems", "private_key", "kid") if not data.get(k)]
        if missing:
            raise CannotExport(f"the LTI settings {path} lack {', '.join(missing)}")
        key_path = os.path.join(os.path.dirname(os.path.abspath(path)), data["private_key"])
        with open(key_path, encoding="utf-8") as f:
            key = f.read()
    except OSError as err:
        raise CannotExport(f"the LTI settings cannot be read ({err})") from None
    except (ValueError, AttributeError) as err:
        raise CannotExport(f"the LTI settings {path} are not a JSON object ({err})") from None
    return Tool(data["client_id"], data["token_url"], data["lineitems"], key, data["kid"])


def client_assertion(tool: Tool, now: float | None = None) -> str:
    """The JWT with which the tool proves itself to the token endpoint (iss = sub = client id, aud = token URL)."""
    import jwt

    now = time.time() if now is None else now
    claims = {
        "iss": tool.client_id,
        "sub": tool.client_id,
        "aud": tool.token_url,
        "iat": int(now),
        "exp": int(now) + 300,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, tool.private_key, algorithm="RS256", headers={"kid": tool.kid})


def call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request to the LMS; Unreachable when it does not answer."""
    try:
        return requests.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as err:
        raise Unreachable(f"{method} {url}: {err}") from None


def access_token(tool: Tool) -> tuple[str, set[str]]:
    """A bearer token and the scopes it grants; CannotExport when the LMS refuses the tool."""
    r = call(
        "POST",
        tool.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(tool),
            "scope": " ".join(SCOPES),
        },
    )
    if r.status_code != 200:
        raise CannotExport(
            f"the LMS refused the tool's token request ({r.status_code}: {r.text[:300]}); check "
            "client_id, token_url and kid in the LTI settings, and the public key registered in the LMS"
        )
    body = r.json()
    return body["access_token"], set(body.get("scope", " ".join(SCOPES)).split())


def service_url(url: str, suffix: str, query: str = "") -> str:
    """A line item's sub-service (scores, results): the suffix goes on the path, before any query (AGS 2.0)."""
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(path=parts.path.rstrip("/") + suffix, query="&".join(q for q in (parts.query, query) if q))
    )


def line_item(tool: Tool, headers: dict, name: str, points: float) -> str:
    """The URL of the assignment's line item: the one with resourceId = name, or a new one."""
    r = call("GET", tool.lineitems, params={"resource_id": name}, headers={**headers, "Accept": CONTAINER_TYPE})
    if r.status_code != 200:
        raise CannotExport(f"the LMS would not list its line items ({r.status_code}: {r.text[:300]})")
    for item in r.json():
        if item.get("resourceId") == name:
            return item["id"]
    r = call(
        "POST",
        tool.lineitems,
        headers={**headers, "Content-Type": LINEITEM_TYPE},
        data=json.dumps({"label": name, "resourceId": name, "tag": "backprop-by-hand", "scoreMaximum": points}),
    )
    if r.status_code not in (200, 201):
        raise CannotExport(f"the LMS would not make a line item for {name} ({r.status_code}: {r.text[:300]})")
    return r.json()["id"]


def held_scores(item: str, headers: dict) -> dict[str, float]:
    """The scores the LMS holds in the line item, by LMS user id."""
    r = call("GET", service_url(item, "/results"), headers={**headers, "Accept": RESULTS_TYPE})
    if r.status_code != 200:
        return {}
    return {res["userId"]: res.get("resultScore") for res in r.json() if "userId" in res}


def post_score(item: str, headers: dict, user: str, given: float, maximum: float) -> tuple[str, str]:
    """The score posted; ("sent", "") or ("refused", what the LMS said)."""
    body = {
        "userId": user,
        "scoreGiven": given,
        "scoreMaximum": maximum,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
    }
    r = call(
        "POST", service_url(item, "/scores"), headers={**headers, "Content-Type": SCORE_TYPE}, data=json.dumps(body)
    )
    if r.status_code in (200, 201, 202, 204):
        return "sent", ""
    return "refused", f"{r.status_code}: {r.text[:200]}"


def skip_reason(user: str, score: float | None, held: float | None) -> str:
    """Why a score is not sent ("" when it is to be sent)."""
    if not user:
        return "the gradebook has no LMS user id for this student (nbgrader db student add --lms-user-id)"
    if score is None:
        return "nothing handed in (--missing zero sends 0)"
    if held is not None and abs(held - score) < 1e-9:
        return "the LMS already holds this score"
    return ""


class Record:
    """The CSV record of a send, one line per outcome, written (and flushed) as each happens."""

    def __init__(self, path: str):
        self.path = path
        self.file = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed by close())
        self.writer = csv.DictWriter(self.file, RECORD_FIELDS)
        self.writer.writeheader()
        self.outcomes: list[Outcome] = []

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.writer.writerow(outcome.__dict__)
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def send(grades: Grades, tool: Tool, record: Record, missing_zero: bool = False) -> None:
    """Every score of grades to the LMS, each outcome into record; Unreachable stops it (record kept whole)."""
    token, scopes = access_token(tool)
    headers = {"Authorization": f"Bearer {token}"}
    for column in grades.assignments:
        item = line_item(tool, headers, column.name, column.points)
        held = held_scores(item, headers) if RESULT_SCOPE in scopes else {}
        for s in grades.students:
            score = s.scores[column.name]
            score = 0.0 if score is None and missing_zero else score
            shown = number(score, "")
            why = skip_reason(s.lms_user_id, score, held.get(s.lms_user_id))
            if why or score is None:  # (a missing score always has its reason)
                record.add(Outcome(s.id, column.name, shown, "skipped", why))
                continue
            status, reason = post_score(item, headers, s.lms_user_id, score, column.points)
            record.add(Outcome(s.id, column.name, shown, status, reason))


def not_sent(grades: Grades, record: Record, why: str) -> None:
    """After a network failure: every score with no outcome yet recorded as not sent."""
    done = {(o.student, o.assignment) for o in record.outcomes}
    for column in grades.assignments:
        for s in grades.students:
            if (s.id, column.name) not in done:
                record.add(Outcome(s.id, column.name, number(s.scores[column.name], ""), "not sent", why))


def summary(outcomes: list[Outcome]) -> str:
    """The counts, then every score refused or not sent, with the reason."""
    counts = Counter(o.status for o in outcomes)
    lines = [", ".join(f"{counts[k]} {k}" for k in ("sent", "refused", "skipped", "not sent"))]
    lines += [
        f"  {o.status}: {o.student} in {o.assignment}: {o.reason}"
        for o in outcomes
        if o.status in ("refused", "not sent")
    ]
    return "\n".join(lines)


def send_from_options(grades: Grades, options: argparse.Namespace) -> int:
    """``export --send``: 0 when everything was sent or skipped, 1 when some were refused or not sent."""
    tool = read_tool(options.lti)
    path = options.record or os.path.join(
        os.path.dirname(os.path.abspath(options.lti)), time.strftime("lti-send-%Y%m%d-%H%M%S.csv")
    )
    record = Record(path)
    try:
        send(grades, tool, record, options.missing == "zero")
    except Unreachable as err:
        not_sent(grades, record, f"the LMS did not answer ({err})")
    except CannotExport as why:  # the LMS refused the tool or a line item: what was done is in the record
        not_sent(grades, record, str(why))
        raise CannotExport(f"{why}. Every score's outcome is in {path}") from None
    finally:
        record.close()
    print(summary(record.outcomes))
    print(f"the record of every score: {path}")
    return 0 if all(o.status in ("sent", "skipped") for o in record.outcomes) else 1


def public_key(tool: Tool) -> dict:
    """The tool's public key as a JWK, to register in the LMS (Canvas: "Public JWK"; Moodle: "Public keyset")."""
    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(tool.private_key.encode(), password=None)
    except ValueError as err:
        raise CannotExport(f"the tool's private_key is not an unencrypted PEM RSA key ({err})") from None
    return {
        # the key may be any PEM private key here; to_jwk raises for one that is not RSA (jwt's stub says RSA only)
        **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())),  # type: ignore[arg-type]
        "kid": tool.kid,
        "alg": "RS256",
        "use": "sig",
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m gradelib.grading.lms.ags jwk lti-tool.json``: the public JWK to paste into the LMS."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "jwk":
        print(
            "usage: python -m gradelib.grading.lms.ags jwk LTI_SETTINGS.json (scores are sent by "
            "python -m gradelib.grading.lms.export canvas --send --lti LTI_SETTINGS.json)",
            file=sys.stderr,
        )
        return 2
    return said("ags", lambda: show_jwk(argv[1]))


def show_jwk(settings: str) -> int:
    """The tool's public JWK, printed as JSON."""
    print(json.dumps(public_key(read_tool(settings)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
