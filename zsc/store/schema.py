"""Opening a database and keeping its schema current.

The schema is created on first use and upgraded in place: each step in MIGRATIONS
moves it one version forward, and a fresh database walks the same steps an old one
does, so the upgrade path is exercised every time."""

from __future__ import annotations

from typing import Callable

from zsc.store.models import pw  # (imported there first: see its note on psycopg2)

from zsc.errors import ConfigError, UserError
from zsc.store.models import (V1_MODELS, V2_MODELS, V3_MODELS, V4_MODELS, V6_MODELS, Checkpoint, Issue, Meta,
                              TicketFlag, upsert)


def open_database(url: str) -> pw.Database:
    """A peewee database for `url` (sqlite:///path or postgresql://...)."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            _private_sqlite_file(path)
        return pw.SqliteDatabase(
            path,
            pragmas={"journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1, "busy_timeout": 10000},
            timeout=10,
        )
    if url.startswith(("postgresql://", "postgres://")):
        try:
            _give_peewee_psycopg2()
        except ImportError:
            raise ConfigError(
                "[database] url: Postgres needs psycopg2; install zsc with the postgres extra: pip install 'zsc[postgres]'"
            ) from None
        from playhouse.db_url import connect

        return connect(url.replace("postgres://", "postgresql://", 1))
    raise ConfigError(f"[database] url: unsupported database URL scheme in {url.split(':', 1)[0]!r}; use sqlite:///PATH or postgresql://USER@HOST/DB")


_warned_modes: set[str] = set()  # databases already warned about, so a daemon warns once


def _private_sqlite_file(path: str) -> None:
    """The database holds customer text: create it 0600 before SQLite does (SQLite
    then gives its -wal and -shm files the same mode)."""
    import os

    from zsc.errors import os_reason, path_error, process_user
    from zsc.private_files import create_private, make_parent_directory

    make_parent_directory(path)
    try:
        os.close(create_private(path, os.O_RDONLY))
    except OSError as exc:
        raise path_error(exc, f"[database] url: cannot create the SQLite database {path}: {os_reason(exc, path)}; "
                              f"check that its directory is writable by {process_user()}") from None


def warn_if_readable(path: str) -> None:
    """One warning (per process) for a database others may read, naming the fix.
    Called once the file is known to be a database: any other problem comes first."""
    import os
    import shlex
    import stat

    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return
    if mode & 0o077 and path not in _warned_modes:
        from loguru import logger  # only now: `zsc status` opens the store without loading logging

        _warned_modes.add(path)
        files = [f for f in (path, f"{path}-wal", f"{path}-shm") if os.path.exists(f)]
        logger.warning("the SQLite database {} is open to other users (mode {:04o}) and holds customer messages; "
                       "make it private: chmod 600 {}", path, mode, " ".join(shlex.quote(f) for f in files))


def _give_peewee_psycopg2() -> None:
    """What peewee would have found at import had zsc.store.models not kept it from
    probing (only a Postgres store pays for psycopg2)."""
    if getattr(pw, "psycopg2", None) is not None:
        return
    import psycopg2
    from psycopg2 import extensions
    from psycopg2.extras import Json, register_uuid

    register_uuid()
    pw.psycopg2, pw.pg_extensions, pw.Json_pg2 = psycopg2, extensions, Json


def _create_v1(db: pw.Database) -> None:
    db.create_tables(V1_MODELS, safe=True)
    Meta.insert(key="schema_version", value="1").on_conflict_ignore().execute()


def _v2_operations(db: pw.Database) -> None:
    """v2: health, audit and report tables; follow-up link between issues."""
    db.create_tables(V2_MODELS, safe=True)
    columns = {c.name for c in db.get_columns(Issue._meta.table_name)}
    if "followup_of" not in columns:
        migrate(migrator(db).add_column(Issue._meta.table_name, "followup_of", Issue.followup_of))


# Checkpoint names that v1-v2 used as per-ticket flags, and their flag names since v3.
_V2_FLAG_PREFIXES = {"email:denied:": "email_denied", "email:thread:": "email_thread"}


def _v3_ticket_flags(db: pw.Database) -> None:
    """v3: per-ticket flags get a table of their own instead of checkpoint names; the
    email-denial counter is the number of denial flags."""
    db.create_tables(V3_MODELS, safe=True)
    for prefix, name in _V2_FLAG_PREFIXES.items():
        rows = list(Checkpoint.select().where(Checkpoint.name.startswith(prefix)))
        for row in rows:
            ticket = row.name[len(prefix):]
            if ticket.isdigit():
                TicketFlag.insert(ticket_id=int(ticket), name=name, value=row.value,
                                  created_at=row.updated_at).on_conflict_ignore().execute()
        Checkpoint.delete().where(Checkpoint.name.startswith(prefix)).execute()
    Checkpoint.delete().where(Checkpoint.name == "email:denied_count").execute()


def _v4_failing_items(db: pw.Database) -> None:
    """v4: items that keep failing are counted, then parked (DESIGN rule 8)."""
    db.create_tables(V4_MODELS, safe=True)


def _add_issue_column(db: pw.Database, field: pw.Field) -> None:
    """Add one column of the issue table, unless an interrupted upgrade already did."""
    columns = {c.name for c in db.get_columns(Issue._meta.table_name)}
    if field.column_name not in columns:
        migrate(migrator(db).add_column(Issue._meta.table_name, field.column_name, field))


def _v5_reply_counts(db: pw.Database) -> None:
    """v5: each thread's known reply count, so zsc does not read back its own posts."""
    _add_issue_column(db, Issue.slack_reply_count)


def _v6_pending_oncall(db: pw.Database) -> None:
    """v6: new issues whose on-call line is still owed (PagerDuty did not answer)."""
    db.create_tables(V6_MODELS, safe=True)


def _v7_first_response(db: pw.Database) -> None:
    """v7: when each issue got its first answer, for response times and the nudge."""
    _add_issue_column(db, Issue.first_response_at)


def _v8_comment_counts(db: pw.Database) -> None:
    """v8: each ticket's known comment count, so zsc does not read back its own comments."""
    _add_issue_column(db, Issue.zendesk_comment_count)


def _v9_status_reaction(db: pw.Database) -> None:
    """v9: the status reaction zsc last set on each thread, so it is changed, not added to."""
    _add_issue_column(db, Issue.status_reaction)


def migrator(db: pw.Database):
    # playhouse's migrator pulls in its connection pool and with it psycopg2: only when upgrading
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

    return PostgresqlMigrator(db) if isinstance(db, pw.PostgresqlDatabase) else SqliteMigrator(db)


def migrate(*operations) -> None:
    from playhouse.migrate import migrate as run

    run(*operations)


# Each step moves the schema one version forward; never edit a shipped step, add one.
MIGRATIONS: list[Callable[[pw.Database], None]] = [_v2_operations, _v3_ticket_flags, _v4_failing_items, _v5_reply_counts,
                                                 _v6_pending_oncall, _v7_first_response, _v8_comment_counts,
                                                 _v9_status_reaction]
SCHEMA_VERSION = 1 + len(MIGRATIONS)


def schema_version(db: pw.Database) -> int:
    if not db.table_exists(Meta._meta.table_name):
        return 0
    row = Meta.get_or_none(Meta.key == "schema_version")
    return int(row.value) if row else 0


def upgrade(db: pw.Database) -> None:
    with db.atomic():
        version = schema_version(db)
        if version > SCHEMA_VERSION:
            raise UserError(
                f"the store is at schema v{version} but this zsc knows v{SCHEMA_VERSION}; upgrade zsc (never downgrade a live store)"
            )
        if version == 0:
            _create_v1(db)
            version = 1
        for step in MIGRATIONS[version - 1:]:
            step(db)
            version += 1
            upsert(Meta, key="schema_version", value=str(version))
