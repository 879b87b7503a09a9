"""What nbgrader's commands need from the process that loads the course's config, set by ``prepare(c)``.

The README prints ``.venv/bin/nbgrader ...`` without activating the venv.
nbgrader then needs three things it does not arrange for itself:

* its own tools on PATH: ``Gradebook()`` runs ``alembic`` (nbgrader.api's
  ``get_alembic_version``) to stamp a new gradebook, and finds it only where
  PATH says.  ``tools_on_path`` puts the running interpreter's bin folder
  first, for every subprocess nbgrader starts.
* a stamped gradebook: a run that failed there had already made nbgrader's
  tables, so it left a gradebook without ``alembic_version``, which no later
  run stamps (nbgrader stamps only a database without tables) and which
  ``nbgrader db upgrade`` would take for the oldest schema.  ``stamp_unstamped`` stamps
  such a gradebook with nbgrader's alembic head, in this process, when its
  tables are exactly those this nbgrader makes (the ones a failed first run
  made); a gradebook of an older schema is left alone, with a sentence.
  Repairing was chosen over making the failing run leave no file: it also
  mends the gradebooks the failure has already left in courses, and removing
  a gradebook would need a hook into nbgrader's error path that nbgrader does
  not have, where one wrong guess costs the grades.
* no warning the instructor cannot act on: nbgrader's own
  ``update_or_create_submission`` trips SQLAlchemy's autoflush warning for
  every new submission (``quiet_nbgrader_warnings``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import warnings
from collections.abc import MutableMapping
from typing import Any

from .gradebook import NBGRADER_TABLES, read_only, sqlite_path

# SQLAlchemy's autoflush warning about nbgrader's own objects (nbgrader.api, update_or_create_submission)
AUTOFLUSH_WARNING = r"Object of type <Submitted\w+> not in session"


def prepare(c: Any) -> None:
    """For nbgrader's commands in this process: its tools on PATH, its warnings quiet, its gradebook stamped."""
    tools_on_path()
    quiet_nbgrader_warnings()
    stamp_unstamped(_db_url(c), log=_log())


def tools_on_path(environ: MutableMapping[str, str] | None = None, executable: str | None = None) -> str | None:
    """Put the running interpreter's bin folder first on PATH; return it (None when there is no interpreter path).

    The folder is taken as sys.executable names it, not resolved: a venv's
    ``bin/python`` is a symlink to the base interpreter, whose folder has no
    alembic.
    """
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    executable = sys.executable if executable is None else executable
    if not executable:  # an embedded interpreter may not know its own path
        return None
    folder = os.path.dirname(os.path.abspath(executable))
    entries = env.get("PATH", os.defpath).split(os.pathsep)
    if entries[0] != folder:
        env["PATH"] = os.pathsep.join([folder] + entries)
    return folder


def quiet_nbgrader_warnings() -> None:
    """Hide SQLAlchemy's autoflush warning that nbgrader's own code trips for every new submission."""
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", message=AUTOFLUSH_WARNING, category=SAWarning, module=r"nbgrader\.")


def nbgrader_scripts() -> Any:
    """nbgrader's alembic migration scripts (alembic's ScriptDirectory), found as nbgrader's alembic.ini finds them.

    Their head is what ``alembic heads`` gives nbgrader.get_alembic_version, without a subprocess.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader import dbutil

    config = Config()
    config.set_main_option("script_location", dbutil.ALEMBIC_DIR)
    return ScriptDirectory.from_config(config)


def stamp_unstamped(db_url: str, log: logging.Logger | None = None, timeout: float = 5.0) -> str | None:
    """Stamp a gradebook that has nbgrader's tables but no alembic version with nbgrader's head.

    Returns the revision stamped, or None when nothing was done: no such file,
    not SQLite, not an nbgrader gradebook, already stamped, or (said in a
    warning) tables of another nbgrader version, or a gradebook that cannot be
    written now.
    """
    path = sqlite_path(db_url)
    if path is None or not os.path.isfile(path):
        return None
    try:
        missing = _unstamped_lacking(path, timeout)
    except (OSError, sqlite3.Error):
        return None  # damaged or locked: the check before a grading run says so, with the way out
    if missing is None:
        return None
    if missing:
        _say(
            log,
            logging.WARNING,
            f"{path} has no alembic version, and its tables are not those this nbgrader makes ({missing}): "
            "it was left as it is",
        )
        return None
    return _stamp_head(db_url, path, log, timeout)


def _stamp_head(db_url: str, path: str, log: logging.Logger | None, timeout: float) -> str | None:
    """Stamp the unstamped gradebook at path with nbgrader's head: the revision, or None (said in a warning)
    when it cannot be written now or another process stamped it meanwhile."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    script = nbgrader_scripts()
    head = script.get_current_head()
    engine = create_engine(db_url, connect_args={"timeout": timeout})
    try:
        with engine.begin() as connection:
            context = MigrationContext.configure(connection)
            if context.get_current_heads():  # another process stamped it meanwhile
                return None
            context.stamp(script, head)
    except SQLAlchemyError as err:
        _say(
            log,
            logging.WARNING,
            f"{path} has no alembic version, and it could not be stamped now "
            f"({type(err).__name__}: {getattr(err, 'orig', None) or err})",
        )
        return None
    finally:
        engine.dispose()
    _say(
        log,
        logging.INFO,
        f"{path} had no alembic version (an earlier nbgrader run failed while making it): "
        f"stamped it with nbgrader's {head}",
    )
    return head


def _unstamped_lacking(path, timeout):
    """For an nbgrader gradebook without an alembic version: what of this nbgrader's schema it lacks, in words
    ('' if nothing); None for a stamped gradebook or a database that is not nbgrader's."""
    con = read_only(path, timeout)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not NBGRADER_TABLES <= tables:
            return None
        if "alembic_version" in tables and con.execute("SELECT count(*) FROM alembic_version").fetchone()[0]:
            return None
        from nbgrader.api import Base  # only now: most loads of the config find a stamped gradebook

        missing = []
        for table in Base.metadata.sorted_tables:
            have = {r[1] for r in con.execute(f'PRAGMA table_info("{table.name}")')}
            missing += (
                [f"table {table.name}"]
                if not have
                else [f"{table.name}.{c.name}" for c in table.columns if c.name not in have]
            )
        return ", ".join(missing)
    finally:
        con.close()


def _db_url(c):
    """The gradebook the course's config names (nbgrader's default, gradebook.db in the course root, if none)."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=c).db_url


def _log():
    """The running nbgrader command's log, where its own lines go; this module's logger outside a command."""
    from traitlets.config import Application

    return Application.instance().log if Application.initialized() else logging.getLogger(__name__)


def _say(log, level, message):
    (log or logging.getLogger(__name__)).log(level, message)
