"""The state zsc keeps: issues, what was mirrored, pending intents, checkpoints and
per-ticket flags -- behind one door, `Store`.

SQLite by default (WAL, busy timeout), Postgres by URL. `zsc.store` is the only
package that imports peewee or the table models: every query is a named Store
method, so DESIGN rules 2-3 (record in one transaction) are kept here, not by every
caller. Database failures reach callers as `StoreError`.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from zsc.store.models import pw  # (imported there first: see its note on psycopg2)

from zsc.errors import UserError, first_line
from zsc.store.models import (DONE_STATUSES, OPEN_STATUSES, TO_SLACK, TO_ZENDESK, CommandRun, FailingItem, Intent,
                              Issue, ReportRun, SlackUser, ZendeskUser, db_proxy, utcnow)
from zsc.store.bookkeeping import LEADER, Bookkeeping
from zsc.store.issues import IssueQueries
from zsc.store.mirrored import MirroredQueries, _Recorded
from zsc.store.schema import SCHEMA_VERSION, open_database, schema_version, upgrade, warn_if_readable

__all__ = ["Store", "StoreError", "open_store", "opened", "utcnow", "SCHEMA_VERSION", "LEADER", "EMAIL_DENIED",
           "EMAIL_THREAD", "EMAIL_FILES", "EMAIL_TAIL", "TO_SLACK", "TO_ZENDESK", "OPEN_STATUSES", "DONE_STATUSES",
           # record types (read their fields; change them only through Store methods)
           "Issue", "Intent", "CommandRun", "ReportRun", "SlackUser", "ZendeskUser", "FailingItem"]

EMAIL_DENIED = "email_denied"  # ticket flag: an emailed ticket zsc decided not to post (value: why)
EMAIL_THREAD = "email_thread"  # ticket flag: the top-level Slack post of an email set-up still under way
EMAIL_FILES = "email_files"  # ticket flag: the attachments of an emailed ticket's first email are still owed to its thread
EMAIL_TAIL = "email_tail"  # ticket flag: an emailed ticket's set-up is mapped but its last steps are still owed


class StoreError(Exception):
    """The database failed (went away, refused a statement): the store's own error,
    so no caller needs to know peewee."""


def _translated(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except pw.PeeweeException as exc:
            raise StoreError(first_line(exc)) from exc

    return call

class Store(IssueQueries, MirroredQueries, Bookkeeping):
    """Open (and create or upgrade) the store at `url`; binds the models to it.

    The hot path of a catch-up (thousands of items) is a handful of small writes per
    item, so the lookups it makes are served from per-cycle caches that the store's
    own write methods keep current; `reset_caches()` starts each cycle afresh."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pending: set[str] | None = None
        self._failing: set[str] | None = None  # keys of failing (or parked) items, cached per cycle
        self._recorded: dict[int, _Recorded] = {}
        self._flags: dict[tuple[int, str], str | None] = {}  # (ticket id, flag name) -> value, per cycle
        self._flagged: dict[str, dict[int, datetime]] = {}  # flag name -> its tickets and when set, per cycle
        self.db = open_database(url)
        db_proxy.initialize(self.db)
        try:
            self.db.connect(reuse_if_open=True)
            upgrade(self.db)
        except pw.DatabaseError as exc:  # OperationalError too; a UserError of upgrade() passes
            self.close()
            raise self._cannot_open(exc) from None
        if self.sqlite_path is not None:
            warn_if_readable(str(self.sqlite_path))

    def _cannot_open(self, exc: pw.DatabaseError) -> UserError:
        """One line for a store that cannot be opened: which, why, and the fix."""
        reason = first_line(exc)
        path = self.sqlite_path
        if path is None:  # Postgres (the URL is not quoted: it may hold the password)
            return UserError(f"[database] url: cannot open the store: {reason}")
        if not isinstance(exc, pw.OperationalError) and "not a database" in reason:
            return UserError(f"[database] url: {path} is not an SQLite database; point [database] url at zsc's "
                             "database or move the file")
        if "unable to open" in reason:
            from zsc.errors import process_user

            return UserError(f"[database] url: cannot open the SQLite database {path}: {reason}; check that "
                             f"{path.parent} exists and is writable by {process_user()}")
        return UserError(f"[database] url: cannot open the SQLite database {path}: {reason}")

    # ---- plumbing ----
    def schema_version(self) -> int:
        return schema_version(self.db)

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def reset_caches(self) -> None:
        self._pending = None
        self._failing = None
        self._recorded.clear()
        self._flags.clear()
        self._flagged.clear()

    def _exec(self, sql: str, params: tuple) -> Any:
        """Plain SQL for the few statements run once per mirrored item: building them
        through the ORM costs more than running them."""
        return self.db.execute_sql(sql.replace("?", self.db.param), params)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction (a savepoint when nested). Rolled back, it takes the per-cycle
        caches with it: they may hold what it wrote (an intent finished, a flag set);
        they are read again on demand."""
        try:
            with self.db.atomic():
                yield
        except BaseException as exc:
            self.reset_caches()  # (a savepoint's rollback too: dry runs write in one)
            if isinstance(exc, pw.PeeweeException):
                raise StoreError(first_line(exc)) from exc
            raise

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """Everything written inside is undone (dry runs); the caches follow."""
        try:
            with self.db.atomic() as txn:
                try:
                    yield
                finally:
                    txn.rollback()
                    self.reset_caches()
        except pw.PeeweeException as exc:
            raise StoreError(first_line(exc)) from exc

    @property
    def is_sqlite(self) -> bool:
        return isinstance(self.db, pw.SqliteDatabase)

    @property
    def sqlite_path(self) -> Path | None:
        if self.is_sqlite and self.db.database != ":memory:":
            return Path(self.db.database)
        return None

# Every public method turns a database failure into StoreError.
for _part in (Store, IssueQueries, MirroredQueries, Bookkeeping):
    for _name, _value in list(vars(_part).items()):
        if callable(_value) and not _name.startswith("_") and _name not in ("atomic", "rolled_back"):
            setattr(Store, _name, _translated(_value))


def open_store(url: str, create: bool = True) -> Store:
    """The store at `url`. With `create=False` a missing SQLite file is not created: an
    empty in-memory store answers instead (for looking, and for dry runs)."""
    if not create and url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        url = "sqlite:///:memory:"
    return Store(url)


@contextmanager
def opened(url: str) -> Iterator[Store]:
    store = Store(url)
    try:
        yield store
    finally:
        store.close()


def _in_channel(query: Any, channel: str | None) -> Any:
    return query.where(Issue.channel == channel) if channel else query
