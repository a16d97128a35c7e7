"""The state zsc keeps: issues, what was mirrored, pending intents and checkpoints.

SQLite by default (WAL, busy timeout), Postgres by URL. The schema is created on
first use and upgraded in place: each step in MIGRATIONS moves the schema one
version forward, and a fresh database walks the same steps an old one does, so
the upgrade path is exercised every time.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import peewee as pw
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from zsc.errors import ConfigError, UserError

db_proxy = pw.DatabaseProxy()

# Directions of a mirrored item.
TO_ZENDESK = "to_zendesk"
TO_SLACK = "to_slack"

# Checkpoint naming the active daemon: {"host", "pid", "since"} (written by the daemon, shown by `zsc status`).
LEADER_CHECKPOINT = "daemon:leader"

OPEN_STATUSES = ("new", "open", "pending", "hold")
DONE_STATUSES = ("solved", "closed", "deleted")


def utcnow() -> datetime:
    """Naive UTC: what we store, the same on SQLite and Postgres."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = db_proxy


class Meta(BaseModel):
    key = pw.CharField(primary_key=True, max_length=64)
    value = pw.TextField()

    class Meta:
        table_name = "zsc_meta"


class Issue(BaseModel):
    """One support request: a Slack thread tied to a Zendesk ticket."""

    channel = pw.CharField(max_length=32)
    thread_ts = pw.CharField(max_length=32)
    ticket_id = pw.BigIntegerField(null=True, unique=True)
    origin = pw.CharField(max_length=8)  # "slack" | "email"
    status = pw.CharField(max_length=16, default="new")
    subject = pw.TextField(default="")
    requester_name = pw.CharField(null=True)
    requester_email = pw.CharField(null=True)
    requester_slack_id = pw.CharField(null=True, max_length=32)
    opened_at = pw.DateTimeField(default=utcnow)
    closed_at = pw.DateTimeField(null=True)
    # Newest Slack reply ts whose effects are all recorded (per-thread cursor).
    slack_reply_cursor = pw.CharField(null=True, max_length=32)
    # Zendesk updated_at (ISO string) up to which every comment was handled.
    zendesk_updated_at = pw.CharField(null=True, max_length=32)
    last_activity_at = pw.DateTimeField(default=utcnow)
    followup_of = pw.BigIntegerField(null=True)  # ticket this one follows up (v2)

    class Meta:
        table_name = "issue"
        indexes = ((("channel", "thread_ts"), True),)

    @property
    def is_open(self) -> bool:
        return self.status not in DONE_STATUSES


class MirroredItem(BaseModel):
    """One thing mirrored (or posted) for an issue, keyed by ids so it happens once.

    Slack -> Zendesk: slack_ts is the source message, zendesk_comment_id the comment
    written. Zendesk -> Slack: the reverse. `ref` keys effects that have no natural
    id on one side (confirmation, status notice, on-call, keyword reply)."""

    issue = pw.ForeignKeyField(Issue, backref="items", on_delete="CASCADE")
    direction = pw.CharField(max_length=16)
    kind = pw.CharField(max_length=24)
    channel = pw.CharField(null=True, max_length=32)
    slack_ts = pw.CharField(null=True, max_length=32)
    zendesk_comment_id = pw.BigIntegerField(null=True, unique=True)
    ref = pw.CharField(null=True, unique=True, max_length=255)
    created_at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "mirrored_item"
        indexes = ((("channel", "slack_ts"), True),)


class Intent(BaseModel):
    """Written before an external write; deleted in the transaction that records the
    write's result. A row left behind means the write's fate is unknown: it is
    resolved by looking the key up on the far side, not by repeating blindly."""

    key = pw.CharField(unique=True, max_length=255)
    kind = pw.CharField(max_length=24)
    issue = pw.ForeignKeyField(Issue, null=True, backref="intents", on_delete="CASCADE")
    payload = pw.TextField(default="{}")
    created_at = pw.DateTimeField(default=utcnow)
    attempts = pw.IntegerField(default=0)

    class Meta:
        table_name = "intent"

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload or "{}")


class Checkpoint(BaseModel):
    name = pw.CharField(primary_key=True, max_length=128)
    value = pw.TextField()
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "checkpoint"


class SlackUser(BaseModel):
    """Cache of Slack people and their Zendesk counterparts (saves a lookup per message)."""

    slack_user_id = pw.CharField(primary_key=True, max_length=32)
    name = pw.CharField(default="")
    email = pw.CharField(null=True)
    zendesk_user_id = pw.BigIntegerField(null=True)
    fetched_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "slack_user"


class ZendeskUser(BaseModel):
    zendesk_user_id = pw.BigIntegerField(primary_key=True)
    name = pw.CharField(default="")
    email = pw.CharField(null=True)
    fetched_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "zendesk_user"


class SourceStatus(BaseModel):
    """Health of each poller, for `zsc status` and the systemd STATUS line."""

    source = pw.CharField(primary_key=True, max_length=32)
    last_attempt_at = pw.DateTimeField(null=True)
    last_success_at = pw.DateTimeField(null=True)
    last_error_at = pw.DateTimeField(null=True)
    last_error = pw.TextField(null=True)

    class Meta:
        table_name = "source_status"


class CommandRun(BaseModel):
    """Audit trail of thread commands: who ran what, when, on which issue, result."""

    issue = pw.ForeignKeyField(Issue, null=True, backref="commands", on_delete="SET NULL")
    channel = pw.CharField(max_length=32)
    slack_ts = pw.CharField(max_length=32)
    slack_user_id = pw.CharField(max_length=32, null=True)
    command = pw.CharField(max_length=64)
    result = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "command_run"
        indexes = ((("channel", "slack_ts"), True),)


class ReportRun(BaseModel):
    """One row per scheduled report day, so the daily report is posted exactly once."""

    day = pw.CharField(primary_key=True, max_length=10)  # YYYY-MM-DD in report tz
    posted_at = pw.DateTimeField(default=utcnow)
    late = pw.BooleanField(default=False)
    slack_ts = pw.CharField(null=True, max_length=32)

    class Meta:
        table_name = "report_run"


V1_MODELS = [Meta, Issue, MirroredItem, Intent, Checkpoint, SlackUser, ZendeskUser]
V2_MODELS = [SourceStatus, CommandRun, ReportRun]


def _create_v1(db: pw.Database) -> None:
    db.create_tables(V1_MODELS, safe=True)
    Meta.insert(key="schema_version", value="1").on_conflict_ignore().execute()


def _v2_operations(db: pw.Database) -> None:
    """v2: health, audit and report tables; follow-up link between issues."""
    db.create_tables(V2_MODELS, safe=True)
    columns = {c.name for c in db.get_columns(Issue._meta.table_name)}
    if "followup_of" not in columns:
        migrate(_migrator(db).add_column(Issue._meta.table_name, "followup_of", Issue.followup_of))


def _migrator(db: pw.Database):
    return PostgresqlMigrator(db) if isinstance(db, pw.PostgresqlDatabase) else SqliteMigrator(db)


# Each step moves the schema one version forward; never edit a shipped step, add one.
MIGRATIONS: list[Callable[[pw.Database], None]] = [_v2_operations]
SCHEMA_VERSION = 1 + len(MIGRATIONS)


def open_database(url: str) -> pw.Database:
    """A peewee database for `url` (sqlite:///path or postgresql://...)."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            from zsc.locks import make_parent_directory

            make_parent_directory(path)
        return pw.SqliteDatabase(
            path,
            pragmas={"journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1, "busy_timeout": 10000},
            timeout=10,
        )
    if url.startswith(("postgresql://", "postgres://")):
        from playhouse.db_url import connect

        try:
            import psycopg2  # noqa: F401
        except ImportError:
            raise ConfigError(
                "[database] url: Postgres needs psycopg2; install zsc with the postgres extra: pip install 'zsc[postgres]'"
            ) from None
        return connect(url.replace("postgres://", "postgresql://", 1))
    raise ConfigError(f"[database] url: unsupported database URL scheme in {url.split(':', 1)[0]!r}; use sqlite:///PATH or postgresql://USER@HOST/DB")


class _Recorded:
    """What is already recorded for one issue, so the hot path asks sets, not SQL."""

    __slots__ = ("slack_ts", "comment_ids", "refs")

    def __init__(self) -> None:
        self.slack_ts: set[str] = set()
        self.comment_ids: set[int] = set()
        self.refs: set[str] = set()


class Store:
    """Open (and create or upgrade) the store at `url`; binds the models to it.

    The hot path of a catch-up (thousands of items) is a handful of small writes per
    item, so the lookups it makes are served from per-cycle caches that the store's
    own write methods keep current; `reset_caches()` starts each cycle afresh from the
    database (and must follow any write made around these methods)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pending: set[str] | None = None
        self._recorded: dict[int, _Recorded] = {}
        self.db = open_database(url)
        db_proxy.initialize(self.db)
        try:
            self.db.connect(reuse_if_open=True)
            self.upgrade()
        except pw.DatabaseError as exc:  # OperationalError too; a UserError of upgrade() passes
            self.close()
            raise self._cannot_open(exc) from None

    def _cannot_open(self, exc: pw.DatabaseError) -> UserError:
        """One line for a store that cannot be opened: which, why, and the fix."""
        reason = _first_line(exc)
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

    # ---- schema ----
    def schema_version(self) -> int:
        if not self.db.table_exists(Meta._meta.table_name):
            return 0
        row = Meta.get_or_none(Meta.key == "schema_version")
        return int(row.value) if row else 0

    def upgrade(self) -> None:
        with self.db.atomic():
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise UserError(
                    f"the store is at schema v{version} but this zsc knows v{SCHEMA_VERSION}; upgrade zsc (never downgrade a live store)"
                )
            if version == 0:
                _create_v1(self.db)
                version = 1
            for step in MIGRATIONS[version - 1:]:
                step(self.db)
                version += 1
                _upsert(Meta, key="schema_version", value=str(version))

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def reset_caches(self) -> None:
        self._pending = None
        self._recorded.clear()

    def _exec(self, sql: str, params: tuple) -> Any:
        """Plain SQL for the few statements run once per mirrored item: building them
        through the ORM costs more than running them."""
        return self.db.execute_sql(sql.replace("?", self.db.param), params)

    def atomic(self):
        return self.db.atomic()

    @property
    def is_sqlite(self) -> bool:
        return isinstance(self.db, pw.SqliteDatabase)

    @property
    def sqlite_path(self) -> Path | None:
        if self.is_sqlite and self.db.database != ":memory:":
            return Path(self.db.database)
        return None

    # ---- checkpoints ----
    def checkpoint(self, name: str) -> str | None:
        row = Checkpoint.get_or_none(Checkpoint.name == name)
        return row.value if row else None

    def set_checkpoint(self, name: str, value: str) -> None:
        """Call inside the transaction that records what the checkpoint covers."""
        _upsert(Checkpoint, name=name, value=value, updated_at=utcnow())

    # ---- issues ----
    def issue_by_thread(self, channel: str, thread_ts: str) -> Issue | None:
        return Issue.get_or_none((Issue.channel == channel) & (Issue.thread_ts == thread_ts))

    def issue_by_ticket(self, ticket_id: int) -> Issue | None:
        return Issue.get_or_none(Issue.ticket_id == ticket_id)

    def open_issues(self) -> list[Issue]:
        return list(Issue.select().where(Issue.status.not_in(DONE_STATUSES)).order_by(Issue.thread_ts))

    def close_issue(self, issue: Issue, status: str, when: datetime | None = None) -> None:
        """Mark done; the first close time is kept (a second close must not move it)."""
        issue.status = status
        if issue.closed_at is None:
            issue.closed_at = when or utcnow()
        issue.save()

    def advance_reply_cursor(self, issue: Issue, ts: str) -> None:
        """The thread cursor: every reply up to `ts` is handled (one per item, so plain SQL)."""
        now = utcnow()
        self._exec("UPDATE issue SET slack_reply_cursor = ?, last_activity_at = ? WHERE id = ?", (ts, now, issue.id))
        issue.slack_reply_cursor, issue.last_activity_at = ts, now

    def reopen_issue(self, issue: Issue, status: str = "open") -> None:
        issue.status = status
        issue.closed_at = None
        issue.save()

    # ---- mirrored items ----
    def slack_item(self, channel: str, ts: str) -> MirroredItem | None:
        return MirroredItem.get_or_none((MirroredItem.channel == channel) & (MirroredItem.slack_ts == ts))

    def comment_item(self, comment_id: int) -> MirroredItem | None:
        return MirroredItem.get_or_none(MirroredItem.zendesk_comment_id == comment_id)

    def record_item(self, issue: Issue, direction: str, kind: str, *, slack_ts: str | None = None,
                    comment_id: int | None = None, ref: str | None = None) -> None:
        self._exec('INSERT INTO mirrored_item (issue_id, direction, kind, channel, slack_ts, zendesk_comment_id, '
                   'ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                   (issue.id, direction, kind, issue.channel if slack_ts else None, slack_ts, comment_id, ref, utcnow()))
        recorded = self._recorded.get(issue.id)
        if recorded is not None:
            _remember(recorded, slack_ts, comment_id, ref)

    def set_item_comment(self, issue: Issue, slack_ts: str, comment_id: int) -> None:
        """Fill in the comment id of an item recorded without one (its answer was lost)."""
        MirroredItem.update(zendesk_comment_id=comment_id).where(
            (MirroredItem.issue == issue) & (MirroredItem.slack_ts == slack_ts)).execute()
        recorded = self._recorded.get(issue.id)
        if recorded is not None:
            recorded.comment_ids.add(comment_id)

    def recorded(self, issue: Issue) -> _Recorded:
        """Ids and refs already recorded for this issue (cached for the cycle)."""
        recorded = self._recorded.get(issue.id)
        if recorded is None:
            recorded = self._recorded[issue.id] = _Recorded()
            rows = self._exec("SELECT slack_ts, zendesk_comment_id, ref FROM mirrored_item WHERE issue_id = ?", (issue.id,))
            for slack_ts, comment_id, ref in rows:
                _remember(recorded, slack_ts, comment_id, ref)
        return recorded

    def mapped_comment_ids(self, issue: Issue) -> set[int]:
        return set(self.recorded(issue).comment_ids)

    def mapped_slack_ts(self, issue: Issue) -> set[str]:
        return set(self.recorded(issue).slack_ts)

    # ---- intents ----
    def _pending_keys(self) -> set[str]:
        if self._pending is None:
            self._pending = {key for (key,) in self._exec('SELECT "key" FROM intent', ())}
        return self._pending

    def intent(self, key: str) -> Intent | None:
        if key not in self._pending_keys():
            return None
        return Intent.get_or_none(Intent.key == key)

    def begin_intent(self, key: str, kind: str, issue: Issue | None, payload: dict[str, Any],
                     created_at: datetime | None = None, attempts: int = 1) -> None:
        """Record that we are about to write; committed before the write happens.
        (`attempts=0` marks a write that may have happened without our knowing.)"""
        if key in self._pending_keys():
            self._exec('UPDATE intent SET attempts = attempts + 1 WHERE "key" = ?', (key,))
            return
        self._exec('INSERT INTO intent ("key", kind, issue_id, payload, created_at, attempts) VALUES (?, ?, ?, ?, ?, ?)',
                   (key, kind, issue.id if issue is not None else None, json.dumps(payload), created_at or utcnow(),
                    attempts))
        self._pending_keys().add(key)

    def finish_intent(self, key: str) -> None:
        """Call inside the transaction that records the write's result."""
        self._exec('DELETE FROM intent WHERE "key" = ?', (key,))
        self._pending_keys().discard(key)

    def drop_unattempted(self, keys: list[str]) -> None:
        """Remove marks (attempts = 0) that no write ever used."""
        if keys:
            Intent.delete().where(Intent.key.in_(keys) & (Intent.attempts == 0)).execute()
            self._pending = None

    def pending_keys(self, issue: Issue) -> set[str]:
        """Keys of this issue's writes of unknown outcome."""
        if not self.has_pending():
            return set()
        return {row.key for row in Intent.select(Intent.key).where(Intent.issue == issue)}

    def has_pending(self) -> bool:
        return bool(self._pending_keys())

    def pending_intents(self) -> list[Intent]:
        if not self.has_pending():
            return []
        return list(Intent.select().order_by(Intent.id))

    # ---- people ----
    def slack_user(self, user_id: str) -> SlackUser | None:
        return SlackUser.get_or_none(SlackUser.slack_user_id == user_id)

    def save_slack_user(self, user_id: str, name: str, email: str | None, zendesk_user_id: int | None = None) -> SlackUser:
        _upsert(SlackUser, slack_user_id=user_id, name=name, email=email, zendesk_user_id=zendesk_user_id,
                fetched_at=utcnow())
        return self.slack_user(user_id)

    def zendesk_user(self, user_id: int) -> ZendeskUser | None:
        return ZendeskUser.get_or_none(ZendeskUser.zendesk_user_id == user_id)

    def save_zendesk_user(self, user_id: int, name: str, email: str | None) -> ZendeskUser:
        _upsert(ZendeskUser, zendesk_user_id=user_id, name=name, email=email, fetched_at=utcnow())
        return self.zendesk_user(user_id)

    # ---- health ----
    def mark_source(self, source: str, error: str | None = None, when: datetime | None = None) -> None:
        when = when or utcnow()
        row, _ = SourceStatus.get_or_create(source=source)
        row.last_attempt_at = when
        if error is None:
            row.last_success_at = when
        else:
            row.last_error_at = when
            row.last_error = error
        row.save()

    def source_status(self, source: str) -> SourceStatus | None:
        return SourceStatus.get_or_none(SourceStatus.source == source)


@contextmanager
def opened(url: str) -> Iterator[Store]:
    store = Store(url)
    try:
        yield store
    finally:
        store.close()


def _remember(recorded: _Recorded, slack_ts: str | None, comment_id: int | None, ref: str | None) -> None:
    if slack_ts:
        recorded.slack_ts.add(slack_ts)
    if comment_id is not None:
        recorded.comment_ids.add(comment_id)
    if ref:
        recorded.refs.add(ref)


def _upsert(model: type[pw.Model], **values: Any) -> None:
    """Insert or overwrite by primary key; portable across SQLite and Postgres."""
    pk = model._meta.primary_key
    rest = {k: v for k, v in values.items() if k != pk.name}
    model.insert(**values).on_conflict(conflict_target=[pk], update=rest).execute()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
