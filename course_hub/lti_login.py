"""Logins from the course's LMS (LTI 1.3): setup_course.py's ``--lti-*`` options, checked, for course.json.

With ``--authenticator lti13`` the hub logs students in with jupyterhub-ltiauthenticator's LTI13Authenticator
(course_hub/jupyterhub_config.py): the LMS signs an id_token, the hub checks it against the LMS's keys (JWKS),
its issuer, its audience (the client id), its age and its nonce, and takes the user name from the claim the
instructor chose (``--lti-username-claim``), mapped through the roster as the roster's ids are: a value that is a
roster member's institutional id (for example their e-mail, when the roster's id column holds e-mails) gives that
member's user name, and a value that is a user name on the roster gives itself.  Anyone else gets a page saying
they are not on the roster, and no server.

Only the standard library is used (setup_course.py builds the environment from nothing).
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

AUTHENTICATOR = "lti13"
# The platform's settings, as the LMS shows them when the tool is registered: option -> (field, what it is).
OPTIONS = {
    "--lti-issuer": ("issuer", "the platform's issuer (Canvas: https://canvas.instructure.com; Moodle: its URL)"),
    "--lti-client-id": ("client_id", "the client id the LMS gave the tool"),
    "--lti-jwks-url": ("jwks_url", "the LMS's public keyset URL (JWKS)"),
    "--lti-login-url": ("login_url", "the LMS's OIDC authentication request URL"),
    "--lti-token-url": ("token_url", "the LMS's access token URL (for export --send)"),
}
OPTION_OF = {field: option for option, (field, _) in OPTIONS.items()}
URL_FIELDS = ("issuer", "jwks_url", "login_url", "token_url")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class LTIOptionError(ValueError):
    """The --lti-* options cannot be used as given; the message is one sentence saying why."""


@dataclass(frozen=True)
class Platform:
    """The LMS the hub trusts for logins: written to course.json as "lti", read by jupyterhub_config.py."""
    issuer: str
    client_id: str
    jwks_url: str
    login_url: str          # where the hub sends the browser to authenticate (ltiauthenticator's authorize_url)
    token_url: str          # for scores sent back (export --send); "" when not given
    username_claim: str     # the id_token claim giving the user name: "email", "sub", "custom_<name>"...


def add_options(parser: argparse.ArgumentParser) -> None:
    """The --lti-* options, in a group of their own."""
    group = parser.add_argument_group("logins from an LMS (with --authenticator lti13; README: 'Running the "
                                      "course from your LMS')")
    for option, (_, help_text) in OPTIONS.items():
        group.add_argument(option, help=help_text)
    group.add_argument("--lti-username-claim", default="email",
                       help="the id_token claim that names the student: email (default), sub, or custom_<name> for "
                            "a custom field the LMS sends (custom_login with Canvas's login_id=$Canvas.user.loginId)")


def url_problem(name: str, value: str) -> str | None:
    """Why value cannot be the platform's URL (https, or http on loopback for a test); None when it can."""
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return None
    return f"{OPTION_OF[name]} must be an https URL (the LMS's), not {value!r}"


def platform(options: argparse.Namespace) -> Platform | None:
    """The LMS of the options, checked whole; None for a course without one; LTIOptionError otherwise."""
    given = {field: getattr(options, option[2:].replace("-", "_")) or ""
             for option, (field, _) in OPTIONS.items()}
    if options.authenticator != AUTHENTICATOR:
        named = [option for option, (field, _) in OPTIONS.items() if given[field]]
        if named:
            raise LTIOptionError(f"{', '.join(named)} {'is' if len(named) == 1 else 'are'} for logins from an LMS: "
                                 f"add --authenticator {AUTHENTICATOR}")
        return None
    missing = [option for option, (field, _) in OPTIONS.items() if not given[field] and field != "token_url"]
    if missing:
        raise LTIOptionError(f"--authenticator {AUTHENTICATOR} needs {', '.join(missing)} (the LMS shows them "
                             "when the tool is registered)")
    for field in URL_FIELDS:
        why = given[field] and url_problem(field, given[field])
        if why:
            raise LTIOptionError(why)
    claim = options.lti_username_claim.strip()
    if not claim:
        raise LTIOptionError("--lti-username-claim names an id_token claim (email, sub or custom_<name>)")
    return Platform(username_claim=claim, **given)


def settings(options: argparse.Namespace) -> dict | None:
    """What course.json holds under "lti" (None without an LMS)."""
    found = platform(options)
    return asdict(found) if found else None
