"""A minimal LTI 1.3 platform (the LMS side) on 127.0.0.1, for tests/test_lti.py.

It follows the IMS specifications as far as the course uses them:
- its own RSA key, published at ``/jwks`` (a JSON Web Key Set);
- OIDC third-party login: ``login_initiation(...)`` gives the tool's login URL with iss, login_hint,
  target_link_uri, lti_message_hint and client_id; the tool sends the browser to ``/auth``, which checks
  client_id, redirect_uri, response_type, scope, response_mode and prompt, and answers with a form that POSTs a
  signed ``id_token`` (the LTI claims, the tool's nonce) and the state back to the redirect_uri
  (IMS Security Framework 1.0, 5.1.1; LTI 1.3, 5.1 and 5.3);
- ``/token``: OAuth 2 client credentials, the client proven by a JWT assertion signed with the tool's key, whose
  iss, sub, aud, exp and jti are checked (Security Framework 4.1); the token carries the scopes granted;
- ``/lineitems`` and ``/lineitems/<n>/scores|results`` (AGS 2.0): each checks the token's scope; a score for a
  user who is not a member of the course is refused (422).

``launch_overrides`` changes the next id_token (a wrong key, an old exp, another aud) for the refusal tests;
``drop_after`` closes the connection instead of answering once that many scores were accepted (a network
failure half-way).  It runs in a thread of the test process; ``stop()`` shuts its server down.
"""
from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class Member:
    """A person of the LMS course."""
    sub: str                  # the LMS's user id (the id_token's sub; AGS's userId)
    email: str
    login: str                # their LMS login, sent as the custom claim "login"
    roles: tuple[str, ...] = ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",)


@dataclass
class Platform:
    """The LMS: one course, one registered tool, its members, its line items and scores."""
    client_id: str
    tool_jwk: dict                           # the tool's public key, as registered
    redirect_uri: str = ""                   # the tool's launch (callback) URL, as registered
    members: dict[str, Member] = field(default_factory=dict)
    deployment_id: str = "deployment-1"
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = "platform-key-1"
    launch_overrides: dict = field(default_factory=dict)
    drop_after: int | None = None
    line_items: dict[str, dict] = field(default_factory=dict)
    scores: dict[str, dict[str, dict]] = field(default_factory=dict)   # line item id -> userId -> score
    tokens: dict[str, tuple[set[str], float]] = field(default_factory=dict)
    seen_jti: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)   # "METHOD path", in order
    server: ThreadingHTTPServer | None = None

    # -- running -----------------------------------------------------------------------------------------
    def start(self) -> Platform:
        platform = self

        class Handler(PlatformHandler):
            owner = platform

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def lineitems_url(self) -> str:
        return f"{self.url}/lineitems"

    def login_initiation(self, tool_login_url: str, member: str, target: str) -> str:
        """The URL the LMS sends the browser to when a student opens the tool (third-party initiated login)."""
        return tool_login_url + "?" + urlencode({"iss": self.issuer, "login_hint": member, "target_link_uri": target,
                                                 "lti_message_hint": "resource-1", "client_id": self.client_id,
                                                 "lti_deployment_id": self.deployment_id})

    # -- the launch ----------------------------------------------------------------------------------------
    def id_token(self, member: Member, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": member.sub, "iat": now, "exp": now + 300,
                  "nonce": nonce, "email": member.email, "name": member.login,
                  LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
                  LTI + "deployment_id": self.deployment_id, LTI + "target_link_uri": self.redirect_uri,
                  LTI + "resource_link": {"id": "resource-1"}, LTI + "roles": list(member.roles),
                  LTI + "context": {"id": "course-1", "label": "BBH", "title": "Backprop by Hand"},
                  LTI + "custom": {"login": member.login},
                  AGS_CLAIM: {"scope": [SCOPE + "lineitem", SCOPE + "result.readonly", SCOPE + "score"],
                              "lineitems": self.lineitems_url}}
        overrides = dict(self.launch_overrides)
        key = overrides.pop("key", self.key)
        claims.update(overrides)
        return jwt.encode(claims, pem(key), algorithm="RS256", headers={"kid": self.kid})

    def authorize(self, q: dict[str, str]) -> tuple[int, str]:
        """The OIDC authorization endpoint: (status, page)."""
        expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
                    "client_id": self.client_id, "redirect_uri": self.redirect_uri}
        wrong = [k for k, v in expected.items() if q.get(k) != v]
        if wrong or not q.get("nonce") or q.get("login_hint") not in self.members:
            return 400, f"invalid authentication request: {', '.join(wrong) or 'nonce or login_hint'}"
        token = self.id_token(self.members[q["login_hint"]], q["nonce"])
        fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                         for k, v in (("id_token", token), ("state", q.get("state", ""))))
        return 200, (f'<html><body onload="document.forms[0].submit()"><form method="post" '
                     f'action="{html.escape(self.redirect_uri)}">{fields}</form></body></html>')

    # -- OAuth 2 client credentials ------------------------------------------------------------------------
    def grant(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != ASSERTION_TYPE:
            return 400, {"error": "unsupported_grant_type"}
        try:
            key = jwt.PyJWK(self.tool_jwk).key
            claims = jwt.decode(form.get("client_assertion", ""), key, algorithms=["RS256"],
                                audience=f"{self.url}/token", issuer=self.client_id,
                                options={"require": ["exp", "iat", "jti", "sub"]})
        except jwt.PyJWTError as err:
            return 401, {"error": "invalid_client", "error_description": str(err)}
        if claims["sub"] != self.client_id or claims["jti"] in self.seen_jti:
            return 401, {"error": "invalid_client", "error_description": "sub or jti"}
        self.seen_jti.add(claims["jti"])
        allowed = {SCOPE + s for s in ("lineitem", "lineitem.readonly", "result.readonly", "score")}
        granted = set(form.get("scope", "").split()) & allowed
        token = secrets.token_urlsafe(24)
        self.tokens[token] = (granted, time.time() + 3600)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": " ".join(granted)}

    def scopes(self, authorization: str | None) -> set[str]:
        token = (authorization or "").removeprefix("Bearer ")
        granted, expiry = self.tokens.get(token, (set(), 0))
        return granted if expiry > time.time() else set()

    # -- AGS -------------------------------------------------------------------------------------------------
    def make_line_item(self, body: dict) -> dict:
        n = str(len(self.line_items) + 1)
        item = {**body, "id": f"{self.lineitems_url}/{n}"}
        self.line_items[n] = item
        self.scores[n] = {}
        return item

    def take_score(self, n: str, body: dict) -> tuple[int, dict]:
        if body.get("userId") not in {m.sub for m in self.members.values()}:
            return 422, {"error": f"user {body.get('userId')} is not a member of this course"}
        if not isinstance(body.get("scoreGiven"), (int, float)) or body.get("scoreMaximum", 0) <= 0:
            return 400, {"error": "scoreGiven and scoreMaximum are required numbers"}
        self.scores[n][body["userId"]] = body
        return 200, {}


class PlatformHandler(BaseHTTPRequestHandler):
    owner: Platform

    def log_message(self, *args) -> None:   # quiet: the test reads platform.requests instead
        pass

    def reply(self, status: int, body, content_type: str = "application/json") -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(raw).items()}
        return json.loads(raw) if raw else {}

    def do_GET(self) -> None:
        p, parts = self.owner, urlsplit(self.path)
        p.requests.append(f"GET {parts.path}")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        segments = parts.path.strip("/").split("/")
        if parts.path == "/jwks":
            return self.reply(200, {"keys": [public_jwk(p.key, p.kid)]})
        if parts.path == "/auth":
            status, page = p.authorize(query)
            return self.reply(status, page, "text/html")
        scopes = p.scopes(self.headers.get("Authorization"))
        if segments == ["lineitems"]:
            if not scopes & {SCOPE + "lineitem", SCOPE + "lineitem.readonly"}:
                return self.reply(401, {"error": "the token has no line-item scope"})
            items = [i for i in p.line_items.values()
                     if "resource_id" not in query or i.get("resourceId") == query["resource_id"]]
            return self.reply(200, items, "application/vnd.ims.lis.v2.lineitemcontainer+json")
        if len(segments) == 3 and segments[0] == "lineitems" and segments[2] == "results":
            if SCOPE + "result.readonly" not in scopes:
                return self.reply(401, {"error": "the token has no result.readonly scope"})
            held = p.scores.get(segments[1], {})
            return self.reply(200, [{"userId": u, "resultScore": s["scoreGiven"], "resultMaximum": s["scoreMaximum"]}
                                    for u, s in held.items()])
        return self.reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        p, parts = self.owner, urlsplit(self.path)
        p.requests.append(f"POST {parts.path}")
        segments = parts.path.strip("/").split("/")
        if parts.path == "/token":
            return self.reply(*p.grant(self.form()))
        scopes = p.scopes(self.headers.get("Authorization"))
        if segments == ["lineitems"]:
            if SCOPE + "lineitem" not in scopes:
                return self.reply(401, {"error": "the token has no lineitem scope"})
            return self.reply(201, p.make_line_item(self.form()), "application/vnd.ims.lis.v2.lineitem+json")
        if len(segments) == 3 and segments[0] == "lineitems" and segments[2] == "scores":
            if SCOPE + "score" not in scopes:
                return self.reply(401, {"error": "the token has no score scope"})
            if self.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
                return self.reply(415, {"error": "a score is application/vnd.ims.lis.v1.score+json"})
            if p.drop_after is not None and sum(len(s) for s in p.scores.values()) >= p.drop_after:
                self.close_connection = True   # the network fails: no answer at all
                self.connection.shutdown(2)
                return None
            return self.reply(*p.take_score(segments[1], self.form()))
        return self.reply(404, {"error": "not found"})
