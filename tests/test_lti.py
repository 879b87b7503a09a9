"""The course and an LMS over LTI 1.3, against the loopback platform of tests/lti_platform.py.

- AGS (gradelib/grading/ags.py, ``export --send``): the real command sends the gradebook's scores (the gradebook
  of tests/lms_gradebook.py) with an OAuth 2 token got by a signed JWT assertion; a re-run makes no second line
  item and sends nothing the LMS already holds; a student unknown to the LMS is refused and reported; a network
  failure half-way leaves a record of every score, sent or not; a tool the LMS does not know gets a sentence.
"""
import csv
import json
from collections import Counter

import jwt
import pytest
import requests
from lms_gradebook import STUDENTS, make_gradebook, total
from lti_platform import SCOPE, Member, Platform, new_key, pem, public_jwk

from gradelib.grading import ags, export

CLIENT_ID = "bbh-tool"
TOOL_KID = "tool-key-1"
# the LMS course's members: alice and carol (bob has no LMS id in the gradebook, dave's is unknown to the LMS)
MEMBERS = {"alice": Member(sub="1001", email="alice@uni.example", login="alice"),
           "carol": Member(sub="1003", email="carol@uni.example", login="carol")}


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    return make_gradebook(tmp_path_factory.mktemp("gradebook") / "gradebook.db")


@pytest.fixture(scope="module")
def tool_key():
    return new_key()


def platform_for(key) -> Platform:
    return Platform(client_id=CLIENT_ID, tool_jwk=public_jwk(key, TOOL_KID),
                    members={m.login: m for m in MEMBERS.values()}).start()


@pytest.fixture
def platform(tool_key):
    p = platform_for(tool_key)
    yield p
    p.stop()


def tool_settings(folder, platform, key) -> str:
    """The --lti file the README describes, and the tool's key beside it."""
    (folder / "tool-key.pem").write_text(pem(key))
    path = folder / "lti-tool.json"
    path.write_text(json.dumps({"client_id": CLIENT_ID, "token_url": f"{platform.url}/token",
                                "lineitems": platform.lineitems_url, "private_key": "tool-key.pem",
                                "kid": TOOL_KID}))
    return str(path)


def send(db_url, settings, record, capsys):
    code = export.main(["canvas", "--send", "--lti", settings, "--db", db_url, "--record", str(record)])
    out = capsys.readouterr()
    with open(record, encoding="utf-8") as f:
        return code, out.out + out.err, list(csv.DictReader(f))


def score_posts(platform) -> int:
    return sum(1 for r in platform.requests if r.startswith("POST /lineitems/") and r.endswith("/scores"))


def test_send_then_send_again(db_url, platform, tool_key, tmp_path, capsys):
    settings = tool_settings(tmp_path, platform, tool_key)
    code, said, rows = send(db_url, settings, tmp_path / "first.csv", capsys)
    assert code == 1, said   # dave's score was refused
    by = {(r["student"], r["assignment"]): r for r in rows}
    assert len(rows) == len(STUDENTS) * 2
    items = {item["resourceId"]: n for n, item in platform.line_items.items()}
    assert set(items) == {"01_first", "02_second"}
    assert platform.line_items[items["01_first"]]["scoreMaximum"] == 10
    for assignment, n in items.items():   # what the LMS holds is what the gradebook computes, for its members
        held = {u: s["scoreGiven"] for u, s in platform.scores[n].items()}
        assert held == {"1001": total("alice", assignment)}
        assert by[("alice", assignment)]["status"] == "sent"
    assert by[("dave", "01_first")]["status"] == "refused" and "not a member" in by[("dave", "01_first")]["reason"]
    assert by[("bob", "01_first")]["status"] == "skipped" and "no LMS user id" in by[("bob", "01_first")]["reason"]
    assert by[("carol", "01_first")]["status"] == "skipped" and "nothing handed in" in by[("carol", "01_first")]["reason"]
    assert "2 sent, 1 refused, 5 skipped, 0 not sent" in said and "refused: dave in 01_first" in said
    posts = score_posts(platform)

    code, said, rows = send(db_url, settings, tmp_path / "second.csv", capsys)
    assert len(platform.line_items) == 2   # reused, not made again
    statuses = Counter((r["student"], r["status"]) for r in rows)
    assert statuses[("alice", "skipped")] == 2
    assert all("already holds" in r["reason"] for r in rows if r["student"] == "alice")
    assert score_posts(platform) == posts + 1   # only dave's score was tried again (and refused again)
    assert "0 sent, 1 refused, 7 skipped, 0 not sent" in said


def test_network_failure_leaves_a_record(db_url, platform, tool_key, tmp_path, capsys):
    platform.drop_after = 1   # the first score is taken, then the connection drops
    settings = tool_settings(tmp_path, platform, tool_key)
    code, said, rows = send(db_url, settings, tmp_path / "record.csv", capsys)
    assert code == 1
    assert len(rows) == len(STUDENTS) * 2   # every score has a line: none is left unaccounted for
    sent = [r for r in rows if r["status"] == "sent"]
    assert [(r["student"], r["assignment"]) for r in sent] == [("alice", "01_first")]
    assert sum(len(s) for s in platform.scores.values()) == 1
    not_sent = [r for r in rows if r["status"] == "not sent"]
    assert not_sent and all("did not answer" in r["reason"] for r in not_sent)
    assert ("alice", "02_second") in {(r["student"], r["assignment"]) for r in not_sent}
    assert "the record of every score: " + str(tmp_path / "record.csv") in said


def test_unknown_tool_gets_a_sentence(db_url, platform, tmp_path, capsys):
    settings = tool_settings(tmp_path, platform, new_key())   # a key the LMS never registered
    code = export.main(["canvas", "--send", "--lti", settings, "--db", db_url, "--record", str(tmp_path / "r.csv")])
    assert code == 2
    assert "the LMS refused the tool's token request (401" in capsys.readouterr().err
    assert not platform.scores


def test_missing_settings_get_a_sentence(db_url, tmp_path, capsys):
    (tmp_path / "lti.json").write_text(json.dumps({"client_id": "x"}))
    assert export.main(["moodle", "--send", "--lti", str(tmp_path / "lti.json"), "--db", db_url]) == 2
    assert "lack token_url, lineitems, private_key, kid" in capsys.readouterr().err
    assert export.main(["moodle", "--send", "--db", db_url]) == 2
    assert "--send needs --lti FILE" in capsys.readouterr().err


def test_platform_checks_the_scope(platform, tool_key):
    """The loopback LMS itself: a token granted only lineitem.readonly cannot post a score."""
    tool = ags.Tool(CLIENT_ID, f"{platform.url}/token", platform.lineitems_url, pem(tool_key), TOOL_KID)
    r = requests.post(tool.token_url, timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": ags.ASSERTION_TYPE,
        "client_assertion": ags.client_assertion(tool), "scope": SCOPE + "lineitem.readonly"})
    assert r.status_code == 200 and r.json()["scope"] == SCOPE + "lineitem.readonly"
    headers = {"Authorization": "Bearer " + r.json()["access_token"], "Content-Type": ags.SCORE_TYPE}
    item = platform.make_line_item({"label": "x", "scoreMaximum": 1})
    posted = requests.post(item["id"] + "/scores", headers=headers, timeout=10,
                           data=json.dumps({"userId": "1001", "scoreGiven": 1, "scoreMaximum": 1}))
    assert posted.status_code == 401 and "no score scope" in posted.text
    def grant(assertion):
        return requests.post(tool.token_url, timeout=10, data={
            "grant_type": "client_credentials", "client_assertion_type": ags.ASSERTION_TYPE,
            "client_assertion": assertion, "scope": SCOPE + "score"})

    expired = jwt.encode({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": tool.token_url, "iat": 0, "exp": 1,
                          "jti": "old"}, pem(tool_key), algorithm="RS256")
    assert grant(expired).status_code == 401 and "expired" in grant(expired).text
    once = ags.client_assertion(tool)
    assert grant(once).status_code == 200
    replayed = grant(once)   # the same assertion again: its jti is spent
    assert replayed.status_code == 401 and "jti" in replayed.text
