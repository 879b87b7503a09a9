"""What the course's collect refused or corrected, kept beside the gradebook for the instructor.

``nbgrader collect`` (and formgrader's Collect) with the course's exchange
(exchange.py) writes one Finding per inbound entry it refused (submitted in
another student's name, or unsafe to copy) or collected with a corrected
timestamp (one from the future).  They go into ``gradelib-exchange.json``
beside the gradebook, so that the class summary (classgrade.py) and the
misconception report's "Submissions to look at" (the report package) can show them
after the collect's own output has scrolled away.

Only the collecting process writes the file (the instructor's); a Finding is
kept until the file is removed, since the entry it describes was real even if
the entry has been deleted from the exchange since.  The same entry found
again by a later collect is not added twice.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, fields

RECORD_NAME = "gradelib-exchange.json"
VERSION = 1

# what happened to the entry
REFUSED = "refused"  # not collected
CORRECTED = "corrected"  # collected, ordered and stamped by the time its files were written

# why, in a few words without names (the misconception report names no student unless asked)
FORGED = "forged"  # owned by someone other than the student it names
UNSAFE = "unsafe"  # a link, a special file, files of several owners, unreadable: not copied
UNREADABLE = "unreadable"  # its name is not nbgrader's student+assignment+timestamp
FUTURE = "future"  # its timestamp is later than the time its files were written

KIND_TEXT = {
    FORGED: "submitted in another student's name: refused at collect, not graded",
    UNSAFE: "an inbound entry that could not be copied safely (a link, a special file, files of several "
    "owners): refused at collect, not graded",
    UNREADABLE: "an inbound entry whose name is not nbgrader's student+assignment+timestamp: refused at collect",
    FUTURE: "a submission dated in the future: collected by the time its files were written, not the date it claims",
}


class RecordError(Exception):
    """The record cannot be read or written; the message is a sentence saying which file and what to do."""


@dataclass(frozen=True)
class Finding:
    """One inbound entry that collect refused or corrected.

    assignment: the assignment of the entry.
    entry:      the entry's folder name in the exchange's inbound, as found (it names a student).
    named:      the student the entry's name says submitted it.
    owner:      the Unix user who owns the entry (who made it): a user name, "uid N" for a uid with no
                account, or "" where it could not be told.
    action:     REFUSED (not collected) or CORRECTED (collected, with its timestamp corrected).
    kind:       FORGED, UNSAFE, UNREADABLE or FUTURE: the reason in a few words (KIND_TEXT).
    reason:     the whole reason, one sentence for the instructor, with the names involved.
    claimed:    the timestamp the entry claims (its name's, or its timestamp.txt's if later), "" if none.
    found:      when a collect first found it, ISO 8601 in UTC.
    """

    assignment: str
    entry: str
    named: str
    owner: str
    action: str
    kind: str
    reason: str
    claimed: str = ""
    found: str = ""

    @property
    def who(self) -> str:
        """Who did what, for a list of names: "eve in ada's name", or the one student (or owner) concerned."""
        if self.owner and self.named and self.owner != self.named:
            return f"{self.owner} in {self.named}'s name"
        return self.named or self.owner or self.entry

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.assignment, self.entry, self.kind)

    @classmethod
    def from_json(cls, data: object) -> Finding:
        """A Finding from its JSON form; ValueError, in words, if it is not one."""
        if not isinstance(data, dict):
            raise ValueError("a finding is not a JSON object")
        names = {f.name for f in fields(cls)}
        missing = [n for n in ("assignment", "entry", "named", "owner", "action", "kind", "reason") if n not in data]
        if missing:
            raise ValueError(f"a finding has no {', '.join(missing)}")
        values = {k: v for k, v in data.items() if k in names}
        if not all(isinstance(v, str) for v in values.values()):
            raise ValueError("a finding has a field that is not text")
        if values["action"] not in (REFUSED, CORRECTED) or values["kind"] not in KIND_TEXT:
            raise ValueError(f"a finding has an unknown action or kind ({values['action']}, {values['kind']})")
        return cls(**values)


def record_path(db_url: str, root: str) -> str:
    """The record beside the gradebook of an SQLite db_url; in the course folder root for another database."""
    if db_url.startswith("sqlite:///"):
        return os.path.join(os.path.dirname(os.path.abspath(db_url[len("sqlite:///") :])), RECORD_NAME)
    return os.path.join(os.path.abspath(root), RECORD_NAME)


def load(path: str, assignment: str | None = None) -> list[Finding]:
    """The findings kept at path (of one assignment, or all), in the order found; [] if there is no file.

    RecordError if the file is not a record: a damaged record must not look like "nothing was refused".
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RecordError(
            f"the record of what collect refused, {path}, cannot be read ({err}); move it aside and "
            "collect again to rebuild it from the exchange"
        ) from None
    try:
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            raise ValueError("it has no list of findings")
        found = [Finding.from_json(item) for item in data["findings"]]
    except ValueError as err:
        raise RecordError(
            f"the record of what collect refused, {path}, is not one ({err}); move it aside and "
            "collect again to rebuild it from the exchange"
        ) from None
    return [f for f in found if assignment is None or f.assignment == assignment]


def add(path: str, new: list[Finding]) -> list[Finding]:
    """Add the findings not kept yet (by assignment, entry and kind) to the record at path; return those added.

    Read, merged and replaced whole under a lock, so that two collects at once (formgrader and a terminal)
    lose nothing and a reader never sees half a file.
    """
    if not new:
        return []
    lock_path = path + ".lock"
    try:
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            kept = load(path)
            seen = {f.key for f in kept}
            added = []
            for f in new:
                if f.key not in seen:
                    seen.add(f.key)
                    added.append(f)
            if added:
                tmp = path + ".tmp"
                with open(tmp, "w", encoding="utf-8") as out:
                    json.dump({"version": VERSION, "findings": [asdict(f) for f in kept + added]}, out, indent=1)
                    out.write("\n")
                os.replace(tmp, path)
            return added
    except OSError as err:
        raise RecordError(f"the record of what collect refused, {path}, cannot be written ({err})") from None


def lines(findings: list[Finding]) -> list[str]:
    """The findings as lines under the class summary: refused first, then corrected; [] if there are none."""
    refused = [f for f in findings if f.action == REFUSED]
    corrected = [f for f in findings if f.action == CORRECTED]
    out = []
    if refused:
        out.append(f"refused at collect, not graded ({len(refused)}):")
        out += [f"  {f.entry}: {f.reason}" for f in refused]
    if corrected:
        out.append(f"collected with a corrected time ({len(corrected)}):")
        out += [f"  {f.entry}: {f.reason}" for f in corrected]
    return out
