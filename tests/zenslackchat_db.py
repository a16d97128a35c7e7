"""The old bot's (django-zenslackchat) database, built as its Django migrations create
it, in SQLite or Postgres: for the tests of `zsc import zenslackchat`."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from pathlib import Path

# Django's column types: SQLite declarations as its sqlite3 backend writes them, and
# the Postgres ones (serial / bigserial ids: the AutoField then the BigAutoField era).
SQLITE_DDL = [
    'CREATE TABLE "zenslackchat_zenslackchat" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"channel_id" varchar(22) NOT NULL, "chat_id" varchar(22) NOT NULL, "ticket_id" varchar(22) NULL, '
    '"active" bool NOT NULL, "opened" datetime NOT NULL, "closed" datetime NULL, UNIQUE ("channel_id", "chat_id"))',
    'CREATE TABLE "zenslackchat_slackapp" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"team_name" varchar(200) NOT NULL, "team_id" varchar(20) NOT NULL, "bot_user_id" varchar(20) NOT NULL, '
    '"bot_access_token" varchar(100) NOT NULL, "created_at" datetime NOT NULL)',
    'CREATE TABLE "zenslackchat_zendeskapp" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"access_token" varchar(256) NOT NULL, "token_type" varchar(64) NOT NULL, "scope" text NOT NULL, '
    '"created_at" datetime NOT NULL)',
    'CREATE TABLE "zenslackchat_pagerdutyapp" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"access_token" varchar(256) NOT NULL, "token_type" varchar(64) NOT NULL, "scope" text NOT NULL, '
    '"created_at" datetime NOT NULL)',
    'CREATE TABLE "zenslackchat_outofhoursinformation" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"office_hours_begin" time NOT NULL, "office_hours_end" time NOT NULL, "message" text NOT NULL, '
    '"created_at" datetime NOT NULL)',
]
POSTGRES_DDL = [
    'CREATE TABLE "zenslackchat_zenslackchat" ("id" serial NOT NULL PRIMARY KEY, '
    '"channel_id" varchar(22) NOT NULL, "chat_id" varchar(22) NOT NULL, "ticket_id" varchar(22) NULL, '
    '"active" boolean NOT NULL, "opened" timestamp with time zone NOT NULL, "closed" timestamp with time zone NULL, '
    'CONSTRAINT "zenslackchat_zenslackchat_channel_id_chat_id_uniq" UNIQUE ("channel_id", "chat_id"))',
    'CREATE TABLE "zenslackchat_slackapp" ("id" serial NOT NULL PRIMARY KEY, "team_name" varchar(200) NOT NULL, '
    '"team_id" varchar(20) NOT NULL, "bot_user_id" varchar(20) NOT NULL, "bot_access_token" varchar(100) NOT NULL, '
    '"created_at" timestamp with time zone NOT NULL)',
    'CREATE TABLE "zenslackchat_zendeskapp" ("id" bigserial NOT NULL PRIMARY KEY, '
    '"access_token" varchar(256) NOT NULL, "token_type" varchar(64) NOT NULL, "scope" text NOT NULL, '
    '"created_at" timestamp with time zone NOT NULL)',
    'CREATE TABLE "zenslackchat_pagerdutyapp" ("id" bigserial NOT NULL PRIMARY KEY, '
    '"access_token" varchar(256) NOT NULL, "token_type" varchar(64) NOT NULL, "scope" text NOT NULL, '
    '"created_at" timestamp with time zone NOT NULL)',
    'CREATE TABLE "zenslackchat_outofhoursinformation" ("id" bigserial NOT NULL PRIMARY KEY, '
    '"office_hours_begin" time NOT NULL, "office_hours_end" time NOT NULL, "message" text NOT NULL, '
    '"created_at" timestamp with time zone NOT NULL)',
]


@dataclass
class OldRow:
    channel: str
    chat_id: str
    ticket_id: str
    active: bool
    opened: datetime  # naive UTC
    closed: datetime | None = None


@dataclass
class OldState:
    rows: list[OldRow] = field(default_factory=list)
    # (team_id, bot_user_id, token, created_at), oldest first
    slack_apps: list[tuple[str, str, str, datetime]] = field(default_factory=list)
    zendesk_tokens: list[tuple[str, datetime]] = field(default_factory=list)
    pagerduty_tokens: list[tuple[str, datetime]] = field(default_factory=list)
    hours: list[tuple[time, time, str, datetime]] = field(default_factory=list)
    app_tables: bool = True  # False: an old database without the app tables


def _inserts(state: OldState, stamp) -> list[tuple[str, tuple]]:
    out = [("INSERT INTO zenslackchat_zenslackchat (channel_id, chat_id, ticket_id, active, opened, closed) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (r.channel, r.chat_id, r.ticket_id, r.active, stamp(r.opened), stamp(r.closed) if r.closed else None))
           for r in state.rows]
    if not state.app_tables:
        return out
    out += [("INSERT INTO zenslackchat_slackapp (team_name, team_id, bot_user_id, bot_access_token, created_at) "
             "VALUES ('Sim', ?, ?, ?, ?)", (team, user, token, stamp(at))) for team, user, token, at in state.slack_apps]
    out += [("INSERT INTO zenslackchat_zendeskapp (access_token, token_type, scope, created_at) "
             "VALUES (?, 'bearer', 'read write', ?)", (token, stamp(at))) for token, at in state.zendesk_tokens]
    out += [("INSERT INTO zenslackchat_pagerdutyapp (access_token, token_type, scope, created_at) "
             "VALUES (?, 'bearer', 'read', ?)", (token, stamp(at))) for token, at in state.pagerduty_tokens]
    out += [("INSERT INTO zenslackchat_outofhoursinformation (office_hours_begin, office_hours_end, message, created_at) "
             "VALUES (?, ?, ?, ?)", (begin.isoformat(), end.isoformat(), message, stamp(at)))
            for begin, end, message, at in state.hours]
    return out


def build_sqlite(path: Path, state: OldState) -> str:
    """As Django's SQLite backend stores it: UTC datetimes as text without offset."""
    con = sqlite3.connect(path)
    ddl = SQLITE_DDL if state.app_tables else SQLITE_DDL[:1]
    with con:
        for statement in ddl:
            con.execute(statement)
        for sql, params in _inserts(state, lambda d: d.isoformat(" ")):
            con.execute(sql, params)
    con.close()
    return f"sqlite:///{path}"


def build_postgres(url: str, state: OldState) -> str:
    from tests.pg import _connect

    con = _connect(url)
    ddl = POSTGRES_DDL if state.app_tables else POSTGRES_DDL[:1]
    with con, con.cursor() as cur:
        for statement in ddl:
            cur.execute(statement)
        for sql, params in _inserts(state, lambda d: d.replace(tzinfo=timezone.utc)):
            cur.execute(sql.replace("?", "%s"), params)
    con.close()
    return url
