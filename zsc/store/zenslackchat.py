"""Read the state of the bot zsc replaces (uktrade/django-zenslackchat), READ-ONLY.

Its Django database (Postgres in production, SQLite in development) names tables
`<app>_<model>`. This module only ever SELECTs: SQLite is opened with `mode=ro`,
Postgres with the session's transactions read-only, so an import cannot harm the old
bot's data whatever goes wrong. It returns plain dataclasses; what to make of them
is zsc.sync.import_zenslackchat's business. Secret columns are only read by
`tokens()`, which the caller asks for explicitly (`zsc import … --tokens`).

Every problem is one line (UserError / ConfigError): the database cannot be reached,
it is not a zenslackchat database (a table or column missing), or a column holds a
type zsc cannot read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from zsc.store.models import pw  # (imported there first: see its note on psycopg2)

from zsc.errors import ConfigError, UserError, first_line

CONVERSATIONS = "zenslackchat_zenslackchat"
SLACK_APP = "zenslackchat_slackapp"
ZENDESK_APP = "zenslackchat_zendeskapp"
PAGERDUTY_APP = "zenslackchat_pagerdutyapp"
OUT_OF_HOURS = "zenslackchat_outofhoursinformation"

# Column families, told apart by the declared type (SQLite: Django's declaration,
# e.g. "varchar(22)", "bool", "datetime"; Postgres: information_schema's data_type).
TEXT, BOOL, TIMESTAMP, TIME = "text", "boolean", "timestamp", "time of day"

# What zsc reads of each table. The token columns are listed apart: they are read
# (and checked) only when the operator asks for the tokens.
COLUMNS: dict[str, dict[str, str]] = {
    CONVERSATIONS: {"channel_id": TEXT, "chat_id": TEXT, "ticket_id": TEXT, "active": BOOL,
                    "opened": TIMESTAMP, "closed": TIMESTAMP},
    OUT_OF_HOURS: {"office_hours_begin": TIME, "office_hours_end": TIME, "message": TEXT, "created_at": TIMESTAMP},
}
TOKEN_COLUMNS: dict[str, dict[str, str]] = {
    SLACK_APP: {"bot_access_token": TEXT, "bot_user_id": TEXT, "team_id": TEXT, "created_at": TIMESTAMP},
    ZENDESK_APP: {"access_token": TEXT, "created_at": TIMESTAMP},
    PAGERDUTY_APP: {"access_token": TEXT, "created_at": TIMESTAMP},
}


@dataclass(frozen=True)
class OldConversation:
    """One row of zenslackchat_zenslackchat: a Slack thread the old bot mapped to a ticket."""

    row_id: Any
    channel: str
    thread_ts: str
    ticket: str  # as stored (text): the importer decides whether it names a ticket
    active: bool
    opened: datetime | None  # naive UTC
    closed: datetime | None  # naive UTC


@dataclass(frozen=True)
class OldHours:
    begin: time
    end: time
    message: str


@dataclass(frozen=True)
class OldTokens:
    """The newest credential of each app table; None where the table is empty."""

    slack_bot_token: str | None
    slack_bot_user_id: str | None
    slack_team_id: str | None
    zendesk_oauth_token: str | None
    pagerduty_oauth_token: str | None


class _Unreadable(Exception):
    pass


class OldDatabase:
    """The old bot's database, opened read-only; checked on opening to be one."""

    def __init__(self, url: str) -> None:
        self.label = describe(url)
        self.db = _open(url)
        try:
            self.db.connect()
            if isinstance(self.db, pw.PostgresqlDatabase):
                # The connection already starts read-only (options); say it once more for this session.
                self.db.execute_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            self.tables = set(self.db.get_tables())
        except pw.PeeweeException as exc:
            self.close()
            raise UserError(f"cannot open the zenslackchat database {self.label}: {first_line(exc)}") from None
        if CONVERSATIONS not in self.tables:
            self.close()
            raise UserError(f"{self.label} is not a zenslackchat database: it has no {CONVERSATIONS} table; "
                            "point at the database of the old bot (its DATABASE_URL)")
        self._types: dict[str, dict[str, str]] = {}
        self._check(CONVERSATIONS, COLUMNS[CONVERSATIONS])

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    # ---- reads ----
    def conversations(self) -> list[OldConversation]:
        """Every mapped thread, oldest first."""
        rows = self._select(f"SELECT id, channel_id, chat_id, ticket_id, active, opened, closed FROM {CONVERSATIONS} "
                            "ORDER BY opened, id")
        table = CONVERSATIONS
        return [OldConversation(row_id=r[0], channel=_text(table, "channel_id", r[1]),
                                thread_ts=_text(table, "chat_id", r[2]), ticket=_text(table, "ticket_id", r[3]),
                                active=_read(table, "active", r[4], _bool),
                                opened=_read(table, "opened", r[5], _timestamp),
                                closed=_read(table, "closed", r[6], _timestamp))
                for r in rows]

    def out_of_hours(self) -> OldHours | None:
        """The out-of-hours settings in use (the newest row), or None when there are none."""
        if OUT_OF_HOURS not in self.tables:
            return None
        self._check(OUT_OF_HOURS, COLUMNS[OUT_OF_HOURS])
        row = self._newest(OUT_OF_HOURS, "office_hours_begin, office_hours_end, message")
        if row is None:
            return None
        begin, end = (_read(OUT_OF_HOURS, name, value, _time)
                      for name, value in (("office_hours_begin", row[0]), ("office_hours_end", row[1])))
        if begin is None or end is None:
            return None
        return OldHours(begin, end, _text(OUT_OF_HOURS, "message", row[2]) or "")

    def tokens(self) -> OldTokens:
        """The newest credential of each app: the only method that reads a secret column."""
        for table, columns in TOKEN_COLUMNS.items():
            if table not in self.tables:
                raise UserError(f"{self.label} is not a zenslackchat database: it has no {table} table; "
                                "leave out --tokens, or point at the old bot's database")
            self._check(table, columns)
        slack = self._newest(SLACK_APP, "bot_access_token, bot_user_id, team_id")
        zendesk = self._newest(ZENDESK_APP, "access_token")
        pagerduty = self._newest(PAGERDUTY_APP, "access_token")
        return OldTokens(
            slack_bot_token=_text(SLACK_APP, "bot_access_token", slack[0]) if slack else None,
            slack_bot_user_id=_text(SLACK_APP, "bot_user_id", slack[1]) if slack else None,
            slack_team_id=_text(SLACK_APP, "team_id", slack[2]) if slack else None,
            zendesk_oauth_token=_text(ZENDESK_APP, "access_token", zendesk[0]) if zendesk else None,
            pagerduty_oauth_token=_text(PAGERDUTY_APP, "access_token", pagerduty[0]) if pagerduty else None,
        )

    # ---- plumbing ----
    def _newest(self, table: str, columns: str) -> tuple | None:
        rows = self._select(f"SELECT {columns} FROM {table} ORDER BY created_at DESC, id DESC LIMIT 1")
        return rows[0] if rows else None

    def _select(self, sql: str) -> list[tuple]:
        try:
            return list(self.db.execute_sql(sql).fetchall())
        except pw.PeeweeException as exc:
            raise UserError(f"cannot read the zenslackchat database {self.label}: {first_line(exc)}") from None

    def _check(self, table: str, wanted: dict[str, str]) -> None:
        """Every column zsc reads is there and of a type it can read."""
        try:
            declared = {c.name: c.data_type for c in self.db.get_columns(table)}
        except pw.PeeweeException as exc:
            raise UserError(f"cannot read the zenslackchat database {self.label}: {first_line(exc)}") from None
        for name, family in wanted.items():
            if name not in declared:
                raise UserError(f"{table}.{name}: no such column in {self.label}; this is not a zenslackchat "
                                "database zsc knows (or a much older or newer version of it)")
            if _family(declared[name]) != family:
                raise UserError(f"{table}.{name}: column type {declared[name]!r} is not one zsc can read as a "
                                f"{family}; was the table changed by hand?")


def open_old(url: str) -> OldDatabase:
    return OldDatabase(url)


def describe(url: str) -> str:
    """The database for messages: a SQLite path, or a Postgres host/name without the password."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    match = re.match(r"postgres(?:ql)?://(?:[^@/]*@)?([^/?]*)(/[^?]*)?", url)
    return f"postgresql://{match[1]}{match[2] or ''}" if match else "(database URL)"


def _open(url: str) -> pw.Database:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path or path == ":memory:":
            raise ConfigError("DATABASE_URL: name the old bot's SQLite file, like sqlite:///path/to/db.sqlite3")
        if not Path(path).is_file():
            raise UserError(f"cannot open the zenslackchat database {path}: no such file")
        # mode=ro: SQLite itself refuses every write (and creates nothing).
        return pw.SqliteDatabase(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            raise ConfigError("DATABASE_URL: Postgres needs psycopg2; install zsc with the postgres extra: "
                              "pip install 'zsc[postgres]'") from None
        from playhouse.db_url import parse

        params = parse(url.replace("postgres://", "postgresql://", 1))
        database = params.pop("database", None)
        params.setdefault("connect_timeout", 5)
        # Every transaction of this connection is read-only from the first statement on.
        params["options"] = "-c default_transaction_read_only=on"
        return pw.PostgresqlDatabase(database, **params)
    raise ConfigError(f"DATABASE_URL: unsupported scheme {url.split(':', 1)[0]!r}; use sqlite:///PATH or "
                      "postgresql://USER@HOST/DB")


def _family(declared: str) -> str | None:
    t = (declared or "").lower().strip()
    if t in ("bool", "boolean"):
        return BOOL
    if t.startswith(("datetime", "timestamp")):
        return TIMESTAMP
    if t.startswith("time"):
        return TIME
    if "char" in t or "text" in t:
        return TEXT
    return None


def _read(table: str, column: str, value: Any, convert: Callable[[Any], Any]) -> Any:
    if value is None:
        return None
    try:
        return convert(value)
    except (_Unreadable, ValueError, TypeError):
        shown = str(value)[:40]
        raise UserError(f"{table}.{column}: cannot read {shown!r} ({type(value).__name__}); zsc expects what "
                        "Django writes there") from None


def _text(table: str, column: str, value: Any) -> str | None:
    return _read(table, column, value, _str)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Unreadable
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # SQLite
        return bool(value)
    raise _Unreadable


def _timestamp(value: Any) -> datetime:
    """Naive UTC. Django stores UTC (SQLite: text without offset; Postgres: timestamptz)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if not isinstance(value, datetime):
        raise _Unreadable
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _time(value: Any) -> time:
    if isinstance(value, str):
        value = time.fromisoformat(value.strip())
    if not isinstance(value, time):
        raise _Unreadable
    return value.replace(tzinfo=None)

