"""The course's nbgrader exchange: collect only what students submitted themselves, feedback only to its owner.

``configure_exchange(c)`` (called by ``gradelib.grading.course.configure``) puts
two of nbgrader's exchange plugins in place, so that ``nbgrader collect``,
``nbgrader release_feedback`` and formgrader's Collect and Release Feedback all
use them:

- ``CourseCollect`` (nbgrader's ExchangeCollect, which compares an entry's owner
  with the student it names, logs "cheating attempt?" and collects it anyway)
  refuses every inbound entry that is not the named student's own (see
  ``owner_problem`` for the rule), or that cannot be copied safely (a symbolic
  link, which the instructor's collect would follow with the instructor's
  rights; a special file; files of several owners), and collects each
  student's latest genuine submission.  A timestamp later than the moment the
  entry's files were written (a folder dated 2099) does not make an entry the
  latest: it is ordered, and stamped in the collected copy, by the time its
  files were written (their ctime, which no user can set).  A malformed entry
  name no longer stops the whole collect.  Each refusal is a WARNING line
  naming who submitted in whose name, and a Finding in the record beside the
  gradebook (collect_record.py) for the class summary and the report.
- ``CourseReleaseFeedback``: nbgrader 0.9 names released feedback after the
  submission's own secret (submission_secret.txt, a random 128 hex digits that
  ``nbgrader submit`` writes into the entry and into the submitter's cache), so
  feedback reaches whoever made the collected entry: with CourseCollect, the
  student themselves.  Two byte-identical notebooks have different secrets.
  What could still hand one student's feedback to another is a secret that is
  missing (nbgrader's release then stops at that student), guessable, or shared
  by two students' submissions (a copied secret: both would be released under
  one name, the second overwriting the first).  Feedback with such a secret is
  withheld, with a WARNING naming the students, and everyone else's is released.

The students' side is plain nbgrader (submit, fetch_feedback): nothing needs
configuring in their environment.
"""

from __future__ import annotations

import datetime
import glob
import os
import pwd
import re
import shutil
import stat
from dataclasses import dataclass, field
from typing import Any

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.utils import check_mode, parse_utc

from . import collect_record
from .collect_record import CORRECTED, FORGED, FUTURE, REFUSED, UNREADABLE, UNSAFE, Finding

# How much later than its files' ctime an entry's timestamp may be and still count as its own: the ctime of a
# shared folder on NFS comes from the file server's clock, the timestamp from the student's machine.
CLOCK_SLACK = datetime.timedelta(minutes=5)
# nbgrader's secrets are 128 hex digits; one much shorter was not made by nbgrader submit and can be guessed
MIN_SECRET = 32
TIMESTAMP_FILE = "timestamp.txt"
SECRET_FILE = "submission_secret.txt"


def configure_exchange(c: Any) -> None:
    """Use the course's collect and release_feedback in nbgrader's config object c (the plugins' import paths,
    which nbgrader resolves when it runs them)."""
    c.ExchangeFactory.collect = "gradelib.grading.exchange.CourseCollect"
    c.ExchangeFactory.release_feedback = "gradelib.grading.exchange.CourseReleaseFeedback"


# ---------------------------------------------------------------------------------------------- who owns what
def account_name(uid: int) -> str:
    """The user name of uid, or "uid N" for a uid with no account (a deleted user, another machine's)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def account_uid(name: str) -> int | None:
    """The uid of the Unix user called name, or None if there is none."""
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def owner_problem(named: str, owner_uid: int, collector_uid: int) -> str:
    """Why an entry in `named`'s name owned by `owner_uid` is not that student's own ("" if it is).

    The rule: an entry is the named student's own when it is owned (the folder and every file in it) by
    - the Unix user of that name, if there is one; or else
    - the user collecting (the instructor).

    Why: on a machine where students log in as themselves (the course hub), nbgrader's student id is the
    Unix user name, and only that user (or root) can make files owned by them: the owner cannot be
    forged, the name in a folder's name can.  On a machine without distinct users (the instructor trying
    the course as "ada" and "bob", the tests' one-machine flow), the names are no Unix users and every
    entry is the instructor's own, made by the only person who could: those are collected, so that flow
    keeps working.  The two cases cannot be confused: the name of an existing user is only ever claimed
    by that user (an instructor who enters a notebook a student e-mailed puts it into
    submitted/STUDENT/ASSIGNMENT/, as nbgrader documents, not into the exchange in the student's name),
    and a student cannot make entries the instructor owns, so an entry in a name that is no user, made
    by anyone but the instructor, is refused too.
    """
    owner = account_name(owner_uid)
    named_uid = account_uid(named)
    if named_uid is not None:
        if owner_uid == named_uid:
            return ""
        return f"submitted by {owner} in {named}'s name (the folder belongs to {owner}, not to {named})"
    if owner_uid == collector_uid:
        return ""
    return (
        f"submitted by {owner} in the name of {named}, who is no Unix user here (only the collecting "
        f"user, {account_name(collector_uid)}, may submit in a name that is no user's)"
    )


# ---------------------------------------------------------------------------------------------- inbound entries
@dataclass(frozen=True)
class Scan:
    """What lstat says about an entry's folder and everything in it (no link is followed)."""

    owners: frozenset[int]
    written: float | None  # the latest ctime of the folder and its files (epoch seconds)
    problem: str = ""  # why it cannot be copied safely ("" if it can)


def scan(path: str) -> Scan:
    """Every owner and the latest ctime under path, without following a link; a problem if it holds a link,
    a special file (a FIFO would hang the copy) or something the collecting user cannot read."""
    owners: set[int] = set()
    latest: float | None = None
    todo = [path]
    try:
        top = os.lstat(path)
        if stat.S_ISLNK(top.st_mode):
            return Scan(
                frozenset({top.st_uid}), top.st_ctime, f"it is a symbolic link (to {os.readlink(path)}), not a folder"
            )
        if not stat.S_ISDIR(top.st_mode):
            return Scan(frozenset({top.st_uid}), top.st_ctime, "it is not a folder")
        owners.add(top.st_uid)
        latest = top.st_ctime
        while todo:
            with os.scandir(todo.pop()) as found:
                for item in found:
                    st = item.stat(follow_symlinks=False)
                    owners.add(st.st_uid)
                    latest = max(latest, st.st_ctime)
                    rel = os.path.relpath(item.path, path)
                    if stat.S_ISLNK(st.st_mode):
                        return Scan(
                            frozenset(owners),
                            latest,
                            f"it holds a symbolic link, {rel} (collect would copy what it points to, "
                            "with the instructor's rights)",
                        )
                    if stat.S_ISDIR(st.st_mode):
                        todo.append(item.path)
                    elif not stat.S_ISREG(st.st_mode):
                        return Scan(frozenset(owners), latest, f"it holds {rel}, which is not a regular file")
    except OSError as err:
        return Scan(frozenset(owners), latest, f"it cannot be read ({err.strerror or err})")
    return Scan(frozenset(owners), latest)


def utc(epoch: float) -> datetime.datetime:
    """Epoch seconds as the naive UTC datetime nbgrader's parse_utc gives."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)


def parse_time(text: str) -> datetime.datetime | None:
    """A timestamp as nbgrader writes it, as naive UTC; None if it is not one."""
    try:
        return parse_utc(text.strip()) if text.strip() else None
    except (ValueError, OverflowError):
        return None


@dataclass
class Entry:
    """One inbound entry of the assignment, as collect sees it."""

    path: str
    named: str  # the student its name names ("" if the name is not nbgrader's)
    claimed: datetime.datetime | None  # the latest time it claims: its name's, or its timestamp.txt's
    claimed_text: str
    written: datetime.datetime | None  # when its files were last written (the latest ctime)
    owners: frozenset[int]
    problem: str = ""  # why it is refused ("" if it is collected)
    kind: str = ""  # collect_record's kind of the problem, or FUTURE for a corrected date
    needs_stamp: bool = False  # its timestamp.txt is missing or unreadable: write one in the copy

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def owner(self) -> str:
        """Who made it: one user's name, or the names of all its owners."""
        return ", ".join(sorted(account_name(u) for u in self.owners))

    @property
    def future(self) -> bool:
        """It claims a time later than its files were written (or than now): that claim cannot be true."""
        return self.claimed is not None and self.written is not None and self.claimed > self.written + CLOCK_SLACK

    @property
    def timestamp(self) -> datetime.datetime | None:
        """The time it is ordered by: the time claimed, unless that is in its future; then when it was written."""
        return self.written if self.future else self.claimed

    def record(self) -> dict:
        """nbgrader's record of an inbound entry, as ExchangeCollect's copy_files reads it."""
        return {"username": self.named, "filename": self.name, "timestamp": self.timestamp}


def split_name(name: str, assignment: str) -> tuple[str, str] | None:
    """(student, timestamp text) of an entry named as nbgrader submit names them, STUDENT+ASSIGNMENT+TIME
    with an optional +RANDOM; None if it is not such a name (nbgrader forbids '+' in both ids)."""
    parts = name.split("+")
    if len(parts) not in (3, 4) or parts[1] != assignment or not parts[0]:
        return None
    return parts[0], parts[2]


def inspect(path: str, assignment: str, collector_uid: int, check_owner: bool = True) -> Entry:
    """The Entry at path: who made it, what it claims, when it was written, and why it is refused, if it is."""
    found = scan(path)
    written = utc(found.written) if found.written is not None else None
    split = split_name(os.path.basename(path), assignment)
    named, stamp = split if split else ("", "")
    claimed = parse_time(stamp)
    needs_stamp = True
    if found.problem == "":
        try:
            with open(os.path.join(path, TIMESTAMP_FILE), encoding="utf-8") as f:
                in_file = parse_time(f.read(200))
        except (OSError, UnicodeDecodeError):
            in_file = None
        if in_file is not None:
            needs_stamp = False
            # the later claim decides: a folder named in 2026 whose timestamp.txt says 2099 is from the future
            # as far as autograde's lateness is concerned
            if claimed is None or in_file > claimed:
                claimed, stamp = in_file, in_file.strftime("%Y-%m-%d %H:%M:%S UTC")
    entry = Entry(path, named, claimed, stamp, written, found.owners, needs_stamp=needs_stamp)
    if not split or claimed is None:
        entry.problem, entry.kind = (
            ("its name is not nbgrader's STUDENT+ASSIGNMENT+TIMESTAMP[+RANDOM] with a readable time"),
            UNREADABLE,
        )
    elif found.problem:
        entry.problem, entry.kind = found.problem, UNSAFE
    elif len(found.owners) > 1:
        entry.problem, entry.kind = f"its files belong to several users ({entry.owner})", UNSAFE
    elif check_owner:
        why = owner_problem(named, next(iter(found.owners)), collector_uid)
        if why:
            entry.problem, entry.kind = why, FORGED
    if entry.future and entry.problem:
        entry.problem += (
            f"; it also claims to be from {stamp}, later than its files were written ({written:%Y-%m-%d %H:%M:%S} UTC)"
        )
    elif entry.future:
        entry.kind = FUTURE
    return entry


# ---------------------------------------------------------------------------------------------- collect
class CourseCollect(ExchangeCollect):
    """nbgrader's collect, taking only entries that are the named student's own (owner_problem), safe to
    copy, and ordered by a time no later than their files were written; every refusal is reported."""

    entries: dict[str, Entry]  # inbound path -> what init_src found there
    findings: list[Finding]  # what this collect refused or re-dated, for the record
    found_at: str  # when this collect looked (ISO 8601, UTC)
    check_owner: bool  # nbgrader's trait (CollectApp.check_owner), a traitlets Bool mypy cannot read

    def init_src(self) -> None:
        # nbgrader's own init_src parses every entry's name and stops the whole collect at the first it cannot
        # read, and picks the latest by the claimed name alone: so its checks are repeated here, with ours.
        self._find_inbound()
        assignment = self.coursedir.assignment_id
        student_id = self.coursedir.student_id if self.coursedir.student_id else "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{assignment}+*")
        self.found_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.entries, self.findings = {}, []
        genuine: dict[str, list[dict]] = {}
        for path in sorted(glob.glob(pattern)):
            entry = inspect(path, assignment, os.geteuid(), check_owner=self.check_owner)
            self.entries[path] = entry
            if entry.problem:
                self._refuse(entry, entry.problem, entry.kind, self.found_at)
                continue
            if entry.kind == FUTURE:
                self.findings.append(_redated(entry, assignment, self.found_at, self.log))
            genuine.setdefault(entry.named, []).append(entry.record())
        self.duedate = _duedate(self.coursedir, assignment)
        self.src_records = [self._latest(records) for _, records in sorted(genuine.items())]

    def _find_inbound(self) -> None:
        """The course's inbound folder (self.inbound_path), or nbgrader's own failure when it cannot be read."""
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")

    def _latest(self, records: list[dict]) -> dict:
        """nbgrader's choice among one student's (genuine) entries: the latest, or with before_duedate the
        latest before the due date if there is one."""
        records = self._sort_by_timestamp(records)
        if self.duedate is None or not self.before_duedate:
            return records[0]
        before = [r for r in records if r["timestamp"] <= self.duedate]
        return before[0] if before else records[0]

    def _refuse(self, entry: Entry, why: str, kind: str, found_at: str) -> None:
        self.log.warning("refused %s: %s; not collected", entry.name, why)
        self.findings.append(
            Finding(
                self.coursedir.assignment_id,
                entry.name,
                entry.named,
                entry.owner,
                REFUSED,
                kind,
                why,
                entry.claimed_text,
                found_at,
            )
        )

    def copy_files(self) -> None:
        _future_copies(self.coursedir, self.src_records, self.update, self.log)
        # nbgrader's copy_files does the copying and the --update logic; its own owner check only warns
        # "cheating attempt?" about entries already refused or accepted above, so it is switched off for it
        check_owner, self.check_owner = self.check_owner, False
        try:
            super().copy_files()
        finally:
            self.check_owner = check_owner
        _keep_findings(self.coursedir, self.findings, self.log)

    def do_copy(self, src: str, dest: str, log: Any = None) -> None:
        """nbgrader's copy of one entry, then a second look: an entry that changed while it was copied (a file
        swapped for a link) is refused and its copy removed; a corrected time is written into the copy."""
        entry = self.entries.get(src)
        if entry is None:  # not an entry init_src chose (nbgrader calls do_copy for those only)
            return super().do_copy(src, dest)
        try:
            super().do_copy(src, dest)
        except (OSError, shutil.Error, RuntimeError) as err:
            # nbgrader would stop the whole collect here (a folder too big, a file that vanished)
            shutil.rmtree(dest, ignore_errors=True)
            self._refuse(entry, f"it could not be copied ({err}); it is still in the exchange", UNSAFE, self.found_at)
            return
        again = inspect(src, self.coursedir.assignment_id, os.geteuid(), check_owner=self.check_owner)
        if again.problem or again.owners != entry.owners or again.written != entry.written:
            shutil.rmtree(dest, ignore_errors=True)
            self._refuse(
                entry,
                "it changed while it was being collected"
                + (f" ({again.problem})" if again.problem else "")
                + "; collect again",
                UNSAFE,
                self.found_at,
            )
            return
        if entry.future or entry.needs_stamp:
            # autograde reads the submission's time from the copy's timestamp.txt: the time it was ordered by
            stamp = entry.timestamp
            assert stamp is not None  # init_src chose it: an entry that claims no time is refused (inspect)
            with open(os.path.join(dest, TIMESTAMP_FILE), "w", encoding="utf-8") as f:
                f.write(stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


# The collect's work that needs none of nbgrader's collect object: plain functions of what they read.
def _redated(entry: Entry, assignment: str, found_at: str, log: Any) -> Finding:
    """An entry that claims a time later than its files were written: the warning, and its Finding (CORRECTED)."""
    log.warning(
        "%s claims to be from %s, later than its files were written (%s UTC): it is "
        "ordered, and collected if it is %s's latest, by the time it was written",
        entry.name,
        entry.claimed_text,
        f"{entry.written:%Y-%m-%d %H:%M:%S}",
        entry.named,
    )
    return Finding(
        assignment,
        entry.name,
        entry.named,
        entry.owner,
        CORRECTED,
        FUTURE,
        f"{entry.named}'s submission claims to be from {entry.claimed_text}, later than its files were "
        f"written ({entry.written:%Y-%m-%d %H:%M:%S} UTC); it was ordered by the time written",
        entry.claimed_text,
        found_at,
    )


def _duedate(coursedir: Any, assignment: str) -> datetime.datetime | None:
    """The assignment's due date in the course's gradebook, None if it has none (or is not in it)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            return gb.find_assignment(assignment).duedate
        except MissingEntry:
            return None


def _future_copies(coursedir: Any, records: list[dict], update: bool, log: Any) -> None:
    """A copy collected earlier (before this exchange was in place) that claims a time in the future would
    keep every genuine submission out (nbgrader updates only with a later one): with --update (formgrader's
    Collect), it is replaced by the student's latest genuine one (of records); without, the instructor is told."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    for rec in records:
        dest = coursedir.format_path(coursedir.submitted_directory, rec["username"], coursedir.assignment_id)
        try:
            with open(os.path.join(dest, TIMESTAMP_FILE), encoding="utf-8") as f:
                existing = parse_time(f.read(200))
        except (OSError, UnicodeDecodeError):
            continue
        if existing is None or existing <= now + CLOCK_SLACK:
            continue
        if update:
            log.warning(
                "%s claims to be from %s, in the future (collected before, from an entry this "
                "collect would refuse or re-date): replaced by %s's own latest submission, %s",
                dest,
                f"{existing:%Y-%m-%d %H:%M:%S}",
                rec["username"],
                rec["filename"],
            )
            shutil.rmtree(dest)  # the entry it was copied from is still in the exchange: nothing is lost
        else:
            log.warning(
                "%s claims to be from %s, in the future, so no genuine submission can replace it: "
                "collect with --update to replace it by %s's own latest submission",
                dest,
                f"{existing:%Y-%m-%d %H:%M:%S}",
                rec["username"],
            )


def _keep_findings(coursedir: Any, findings: list[Finding], log: Any) -> None:
    """This collect's findings into the record beside the gradebook, and one WARNING line naming the refused."""
    if not findings:
        return
    path = collect_record.record_path(coursedir.db_url, coursedir.root)
    try:
        collect_record.add(path, findings)
    except collect_record.RecordError as err:
        log.error("%s", err)
        return
    refused = [f for f in findings if f.action == REFUSED]
    if refused:
        log.warning(
            "refused %d inbound entr%s of %s (%s): kept in %s for the class summary and the report",
            len(refused),
            "y" if len(refused) == 1 else "ies",
            coursedir.assignment_id,
            "; ".join(f.who if f.kind == FORGED else f"{f.owner}'s {f.kind} entry" for f in refused),
            path,
        )


# ---------------------------------------------------------------------------------------------- feedback
@dataclass
class FeedbackFolder:
    """One student's generated feedback of the assignment, and the secret it would be released under."""

    student: str
    path: str
    secret: str | None
    problems: list[str] = field(default_factory=list)


class CourseReleaseFeedback(ExchangeReleaseFeedback):
    """nbgrader's release_feedback, withholding feedback whose secret would let it reach someone else."""

    def copy_files(self) -> None:
        withheld = self.withheld()
        excluded = [s for s in self.coursedir.student_id_exclude.split(",") if s]
        before = self.coursedir.student_id_exclude
        self.coursedir.student_id_exclude = ",".join(sorted(set(excluded) | set(withheld)))
        try:
            super().copy_files()
        finally:
            self.coursedir.student_id_exclude = before

    def folders(self) -> list[FeedbackFolder]:
        """The feedback folders nbgrader's copy_files would release (self.src_path, a pattern), by student."""
        student_pattern = re.compile(
            self.coursedir.format_path(
                self.coursedir.feedback_directory, "(?P<student_id>.*)", self.coursedir.assignment_id, escape=True
            )
            + "$"
        )
        out = []
        for path in sorted(glob.glob(self.src_path)):
            m = student_pattern.match(path)
            if m is None or not glob.glob(os.path.join(path, "*.html")):
                continue
            try:
                with open(os.path.join(path, SECRET_FILE), encoding="utf-8") as f:
                    secret = f.read()
            except (OSError, UnicodeDecodeError):
                secret = None
            out.append(FeedbackFolder(m.group("student_id"), path, secret))
        return out

    def withheld(self) -> list[str]:
        """The students whose feedback is not released, each with a WARNING saying why."""
        folders = self.folders()
        by_secret: dict[str, list[FeedbackFolder]] = {}
        for f in folders:
            if not os.path.isfile(os.path.join(f.path, TIMESTAMP_FILE)):
                f.problems.append(f"it has no {TIMESTAMP_FILE} (nbgrader's release would stop here)")
            if f.secret is None:
                f.problems.append(
                    f"it has no readable {SECRET_FILE} (nbgrader names released feedback after "
                    "it; without it nbgrader's release would stop here)"
                )
            elif len(f.secret.strip()) < MIN_SECRET:
                f.problems.append(
                    f"its {SECRET_FILE} has {len(f.secret.strip())} characters, which can be "
                    f"guessed (nbgrader submit writes 128)"
                )
            else:
                by_secret.setdefault(f.secret, []).append(f)
        for same in by_secret.values():
            if len(same) > 1:
                names = ", ".join(f.student for f in same)
                for f in same:
                    f.problems.append(
                        f"its {SECRET_FILE} is the same as in the submissions of {names} (a copied "
                        "secret): each would be released under one name and could reach the other"
                    )
        out = []
        for f in folders:
            if f.problems:
                self.log.warning(
                    "feedback for %s on %s not released: %s",
                    f.student,
                    self.coursedir.assignment_id,
                    "; ".join(f.problems),
                )
                out.append(f.student)
        return out
