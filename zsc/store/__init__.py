"""The state zsc keeps: issues, what was mirrored, pending intents, checkpoints and
per-ticket flags -- behind one door, `Store`.

SQLite by default (WAL, busy timeout), Postgres by URL. `zsc.store` is the only
package that imports peewee or the table models: every query is a named Store
method, so DESIGN rules 2-3 (record in one transaction) are kept here, not by every
caller. Database failures reach callers as `StoreError`.
"""

from __future__ import annotations

import functools
import json
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import peewee as pw

from zsc.errors import UserError
from zsc.logs import redact
from zsc.store.models import (DONE_STATUSES, OPEN_STATUSES, Checkpoint, CommandRun, FailingItem, Intent, Issue,
                              MirroredItem, PendingOnCall, ReportRun, SlackUser, SourceStatus, TicketFlag, ZendeskUser,
                              db_proxy, upsert, utcnow)
from zsc.store.schema import SCHEMA_VERSION, open_database, schema_version, upgrade, warn_if_readable

__all__ = ["Store", "StoreError", "Issue", "Intent", "CommandRun", "ReportRun", "SlackUser", "ZendeskUser", "FailingItem",
           "opened", "open_store", "utcnow", "TO_SLACK", "TO_ZENDESK", "OPEN_STATUSES", "DONE_STATUSES", "SCHEMA_VERSION"]

# Directions of a mirrored item.
TO_ZENDESK = "to_zendesk"
TO_SLACK = "to_slack"

LEADER = "daemon:leader"  # checkpoint naming the active daemon: {"host", "pid", "since"}
EMAIL_DENIED = "email_denied"  # ticket flag: an emailed ticket zsc decided not to post (value: why)
EMAIL_THREAD = "email_thread"  # ticket flag: the top-level Slack post of an email set-up still under way


class StoreError(Exception):
    """The database failed (went away, refused a statement): the store's own error,
    so no caller needs to know peewee."""


def _translated(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except pw.PeeweeException as exc:
            raise StoreError(_first_line(exc)) from exc

    return call


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
    own write methods keep current; `reset_caches()` starts each cycle afresh."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pending: set[str] | None = None
        self._failing: set[str] | None = None  # keys of failing (or parked) items, cached per cycle
        self._recorded: dict[int, _Recorded] = {}
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

    def _exec(self, sql: str, params: tuple) -> Any:
        """Plain SQL for the few statements run once per mirrored item: building them
        through the ORM costs more than running them."""
        return self.db.execute_sql(sql.replace("?", self.db.param), params)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction (a savepoint when nested)."""
        try:
            with self.db.atomic():
                yield
        except pw.PeeweeException as exc:
            raise StoreError(_first_line(exc)) from exc

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
            raise StoreError(_first_line(exc)) from exc

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
        upsert(Checkpoint, name=name, value=value, updated_at=utcnow())

    def delete_checkpoint(self, name: str) -> None:
        Checkpoint.delete().where(Checkpoint.name == name).execute()

    def cursors(self, prefixes: tuple[str, ...]) -> list[tuple[str, str, datetime | None]]:
        """(name, value, updated_at) of the checkpoints whose names start with `prefixes`."""
        rows = Checkpoint.select().order_by(Checkpoint.name)
        return [(r.name, r.value, r.updated_at) for r in rows if r.name.startswith(prefixes)]

    def leader(self) -> dict[str, Any] | None:
        raw = self.checkpoint(LEADER)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return {"raw": raw}
        return data if isinstance(data, dict) else {"raw": raw}

    def set_leader(self, info: dict[str, Any]) -> None:
        self.set_checkpoint(LEADER, json.dumps(info))

    def clear_leader(self, host: str, pid: int, when: datetime | None = None) -> bool:
        """A daemon stopping cleanly: its record (only if still its own: a standby may
        have taken over) says it stopped, so no one is named as active. True if cleared."""
        with self.db.atomic():
            current = self.leader()
            if not current or current.get("stopped") or current.get("host") != host or current.get("pid") != pid:
                return False
            stopped = (when or utcnow()).replace(microsecond=0).isoformat() + "Z"
            self.set_leader({**current, "stopped": stopped})
            return True

    def active_leader(self) -> dict[str, Any] | None:
        """The record of a daemon that has not said it stopped (it may have died)."""
        current = self.leader()
        return current if current and not current.get("stopped") else None

    # ---- ticket flags ----
    def flag(self, ticket_id: int, name: str) -> str | None:
        row = TicketFlag.get_or_none((TicketFlag.ticket_id == ticket_id) & (TicketFlag.name == name))
        return row.value if row else None

    def set_flag(self, ticket_id: int, name: str, value: str) -> None:
        TicketFlag.insert(ticket_id=ticket_id, name=name, value=value, created_at=utcnow()).on_conflict(
            conflict_target=[TicketFlag.ticket_id, TicketFlag.name], update={TicketFlag.value: value}).execute()

    def clear_flag(self, ticket_id: int, name: str) -> None:
        TicketFlag.delete().where((TicketFlag.ticket_id == ticket_id) & (TicketFlag.name == name)).execute()

    def count_flags(self, name: str) -> int:
        return TicketFlag.select().where(TicketFlag.name == name).count()

    # ---- issues ----
    def issue_by_thread(self, channel: str, thread_ts: str) -> Issue | None:
        return Issue.get_or_none((Issue.channel == channel) & (Issue.thread_ts == thread_ts))

    def issue_by_ticket(self, ticket_id: int) -> Issue | None:
        return Issue.get_or_none(Issue.ticket_id == ticket_id)

    def create_issue(self, **fields: Any) -> Issue:
        return Issue.create(**fields)

    def open_issues(self) -> list[Issue]:
        return list(Issue.select().where(Issue.status.not_in(DONE_STATUSES)).order_by(Issue.thread_ts))

    def count_open_issues(self, channel: str | None = None) -> int:
        query = Issue.select().where(Issue.status.not_in(DONE_STATUSES))
        return (query.where(Issue.channel == channel) if channel else query).count()

    def _watched(self, channel: str, closed_since: datetime):
        return Issue.select().where((Issue.channel == channel)
                                    & (Issue.closed_at.is_null() | (Issue.closed_at >= closed_since)))

    def oldest_watched_thread(self, channel: str, closed_since: datetime, floor: str) -> str | None:
        """The oldest thread ts >= `floor` among issues open or closed since `closed_since`."""
        return (self._watched(channel, closed_since).select(pw.fn.MIN(Issue.thread_ts))
                .where(Issue.thread_ts >= floor).scalar())

    def watched_before(self, channel: str, closed_since: datetime, floor: str) -> list[Issue]:
        """Issues open or closed since `closed_since` whose thread started before `floor`, oldest first."""
        return list(self._watched(channel, closed_since).where(Issue.thread_ts < floor).order_by(Issue.thread_ts))

    def active_since(self, since: datetime, limit: int) -> list[Issue]:
        """Mapped issues with activity since `since`, most recent first."""
        query = (Issue.select().where((Issue.last_activity_at >= since) & Issue.ticket_id.is_null(False))
                 .order_by(Issue.last_activity_at.desc()).limit(limit))
        return list(query)

    def issues_touching(self, channel: str, since: datetime) -> list[Issue]:
        """Issues that can have had activity since `since`: opened, closed or active
        then, or still open; by thread."""
        query = Issue.select().where(
            (Issue.channel == channel)
            & ((Issue.opened_at >= since) | Issue.status.not_in(DONE_STATUSES) | (Issue.closed_at >= since)
               | (Issue.last_activity_at >= since)))
        return list(query.order_by(Issue.thread_ts))

    def set_status(self, issue: Issue, status: str) -> None:
        issue.status = status
        issue.save()

    def status_reaction(self, issue: Issue) -> str | None:
        """The status reaction zsc last set on the issue's thread."""
        return issue.status_reaction

    def set_status_reaction(self, issue: Issue, name: str | None) -> None:
        Issue.update(status_reaction=name).where(Issue.id == issue.id).execute()
        issue.status_reaction = name

    def close_issue(self, issue: Issue, status: str, when: datetime | None = None) -> None:
        """Mark done; the first close time is kept (a second close must not move it)."""
        issue.status = status
        if issue.closed_at is None:
            issue.closed_at = when or utcnow()
        issue.save()

    def reopen_issue(self, issue: Issue, status: str = "open") -> None:
        issue.status = status
        issue.closed_at = None
        issue.save()

    def mark_ticket_seen(self, issue: Issue, updated_at: str) -> None:
        """Every comment of the ticket up to its `updated_at` is handled."""
        issue.zendesk_updated_at = updated_at
        issue.save()

    def move_to_followup(self, issue: Issue, new_ticket: int) -> None:
        """The thread now belongs to a follow-up ticket (its old one closed or deleted)."""
        issue.followup_of = issue.ticket_id
        issue.ticket_id = new_ticket
        issue.status = "new"
        issue.closed_at = None
        issue.zendesk_updated_at = None
        issue.last_activity_at = utcnow()
        issue.save()

    def set_reply_count(self, issue: Issue, count: int | None) -> None:
        if issue.slack_reply_count != count:
            self._exec("UPDATE issue SET slack_reply_count = ? WHERE id = ?", (count, issue.id))
            issue.slack_reply_count = count

    def count_own_reply(self, issue: Issue) -> None:
        """zsc posted in the thread: Slack's reply_count goes up by one, and so does ours."""
        if issue.slack_reply_count is not None:
            self.set_reply_count(issue, issue.slack_reply_count + 1)

    def advance_reply_cursor(self, issue: Issue, ts: str) -> None:
        """The thread cursor: every reply up to `ts` is handled (one per item, so plain SQL)."""
        now = utcnow()
        self._exec("UPDATE issue SET slack_reply_cursor = ?, last_activity_at = ? WHERE id = ?", (ts, now, issue.id))
        issue.slack_reply_cursor, issue.last_activity_at = ts, now

    def note_first_response(self, issue: Issue, when: datetime) -> None:
        """Someone answered at `when` (naive UTC): kept only if it is the earliest answer."""
        self._exec("UPDATE issue SET first_response_at = ? WHERE id = ? AND "
                   "(first_response_at IS NULL OR first_response_at > ?)", (when, issue.id, when))
        if issue.first_response_at is None or issue.first_response_at > when:
            issue.first_response_at = when

    def comment_ids_written(self, issue: Issue) -> set[int]:
        """Zendesk comments zsc wrote on this issue's tickets (mirrored Slack messages, notes)."""
        rows = self._exec("SELECT zendesk_comment_id FROM mirrored_item WHERE issue_id = ? AND direction = ? "
                          "AND zendesk_comment_id IS NOT NULL", (issue.id, TO_ZENDESK))
        return {comment_id for (comment_id,) in rows}

    def awaiting_first_response(self, opened_before: datetime, opened_since: datetime,
                                skip_ref_prefix: str) -> list[Issue]:
        """Open issues with a ticket that nobody has answered, opened between the two
        moments, without an item whose ref starts with `skip_ref_prefix`; oldest first."""
        done = (MirroredItem.select(MirroredItem.issue)
                .where(MirroredItem.ref.startswith(skip_ref_prefix)))
        query = Issue.select().where(
            Issue.status.not_in(DONE_STATUSES) & Issue.first_response_at.is_null(True)
            & Issue.ticket_id.is_null(False) & (Issue.opened_at <= opened_before)
            & (Issue.opened_at >= opened_since) & Issue.id.not_in(done))
        return list(query.order_by(Issue.opened_at, Issue.id))

    def oldest_awaiting_first_response(self) -> datetime | None:
        """When the longest-waiting open, unanswered issue was asked (naive UTC), or None."""
        return Issue.select(pw.fn.MIN(Issue.opened_at)).where(
            Issue.status.not_in(DONE_STATUSES) & Issue.first_response_at.is_null(True)).scalar()

    def count_awaiting_first_response(self) -> int:
        return Issue.select().where(Issue.status.not_in(DONE_STATUSES)
                                    & Issue.first_response_at.is_null(True)).count()

    # ---- issues for the report (naive UTC bounds) ----
    # The report queries take `channel` to count one channel's issues only (its own report).
    def closed_between(self, start: datetime, end: datetime, channel: str | None = None) -> list[Issue]:
        return list(_in_channel(Issue.select().where((Issue.closed_at >= start) & (Issue.closed_at < end)), channel)
                    .order_by(Issue.closed_at, Issue.id))

    def open_at(self, moment: datetime, channel: str | None = None) -> list[Issue]:
        """Issues opened by `moment` and not closed by then, oldest first."""
        still_open = Issue.closed_at.is_null(True) & Issue.status.not_in(DONE_STATUSES)
        query = Issue.select().where((Issue.opened_at <= moment) & (still_open | (Issue.closed_at > moment)))
        return list(_in_channel(query, channel).order_by(Issue.opened_at, Issue.id))

    def opened_times(self, start: datetime, end: datetime, channel: str | None = None) -> list[datetime]:
        query = Issue.select(Issue.opened_at).where((Issue.opened_at >= start) & (Issue.opened_at < end))
        return [row.opened_at for row in _in_channel(query, channel)]

    def responded_between(self, start: datetime, end: datetime,
                          channel: str | None = None) -> list[tuple[datetime, datetime]]:
        """(opened_at, first_response_at) of issues first answered within the bounds."""
        query = Issue.select(Issue.opened_at, Issue.first_response_at).where(
            (Issue.first_response_at >= start) & (Issue.first_response_at < end))
        return [(row.opened_at, row.first_response_at) for row in _in_channel(query, channel)]

    def resolved_between(self, start: datetime, end: datetime,
                         channel: str | None = None) -> list[tuple[datetime, datetime]]:
        """(opened_at, closed_at) of issues closed within the bounds."""
        query = Issue.select(Issue.opened_at, Issue.closed_at).where(
            (Issue.closed_at >= start) & (Issue.closed_at < end))
        return [(row.opened_at, row.closed_at) for row in _in_channel(query, channel)]

    def channel_report_ts(self, channel: str, day: str) -> str | None:
        """The post of `channel`'s own daily report for `day`, if it was posted."""
        return self.checkpoint(f"report:{channel}:{day}")

    def record_channel_report(self, channel: str, day: str, slack_ts: str) -> None:
        self.set_checkpoint(f"report:{channel}:{day}", slack_ts)

    def oldest_open_at(self) -> datetime | None:
        return Issue.select(pw.fn.MIN(Issue.opened_at)).where(Issue.status.not_in(DONE_STATUSES)).scalar()

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

    def mirrored_since(self, direction: str, since: datetime) -> int:
        return MirroredItem.select().where((MirroredItem.direction == direction)
                                           & (MirroredItem.created_at >= since)).count()

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

    def pending_count(self) -> int:
        return Intent.select().count()

    # ---- people ----
    def slack_user(self, user_id: str) -> SlackUser | None:
        return SlackUser.get_or_none(SlackUser.slack_user_id == user_id)

    def save_slack_user(self, user_id: str, name: str, email: str | None, zendesk_user_id: int | None = None,
                        fetched_at: datetime | None = None) -> SlackUser:
        upsert(SlackUser, slack_user_id=user_id, name=name, email=email, zendesk_user_id=zendesk_user_id,
               fetched_at=fetched_at or utcnow())
        return self.slack_user(user_id)

    def slack_people_with_email(self, limit: int) -> list[str]:
        """Slack ids of people met whose email was visible, most recent first."""
        rows = SlackUser.select().where(SlackUser.email.is_null(False)).order_by(SlackUser.fetched_at.desc())
        return [row.slack_user_id for row in rows.limit(limit)]

    def zendesk_user(self, user_id: int) -> ZendeskUser | None:
        return ZendeskUser.get_or_none(ZendeskUser.zendesk_user_id == user_id)

    def save_zendesk_user(self, user_id: int, name: str, email: str | None) -> ZendeskUser:
        upsert(ZendeskUser, zendesk_user_id=user_id, name=name, email=email, fetched_at=utcnow())
        return self.zendesk_user(user_id)

    # ---- commands ----
    def command_run(self, channel: str, ts: str) -> CommandRun | None:
        return CommandRun.get_or_none((CommandRun.channel == channel) & (CommandRun.slack_ts == ts))

    def record_command(self, issue: Issue, ts: str, user: str | None, command: str, result: str) -> CommandRun:
        return CommandRun.create(issue=issue, channel=issue.channel, slack_ts=ts, slack_user_id=user,
                                 command=command, result=result)

    def command_runs(self, issue: Issue | None = None) -> list[CommandRun]:
        """Every command run (of one issue, or all), oldest first, in one consistent read."""
        query = CommandRun.select().order_by(CommandRun.created_at, CommandRun.id)
        if issue is not None:
            query = query.where(CommandRun.issue == issue)
        with self.atomic():
            return list(query)

    # ---- daily report ----
    def report_run(self, day: str) -> ReportRun | None:
        return ReportRun.get_or_none(ReportRun.day == day)

    def last_report_posted_at(self) -> datetime | None:
        """When the latest daily report was posted (aware UTC), or None."""
        latest = ReportRun.select(ReportRun.posted_at).order_by(ReportRun.posted_at.desc()).first()
        return latest.posted_at.replace(tzinfo=timezone.utc) if latest is not None else None

    def record_report(self, day: str, slack_ts: str, late: bool) -> None:
        ReportRun.create(day=day, posted_at=utcnow(), late=late, slack_ts=slack_ts)

    # ---- on-call lines still owed ----
    def owe_oncall(self, issue: Issue, when: datetime | None = None) -> None:
        """PagerDuty did not answer for this new issue: remember to retry (once per ticket)."""
        when = when or utcnow()
        PendingOnCall.insert(ticket_id=issue.ticket_id, issue=issue, since=when, last_try_at=when).on_conflict_ignore().execute()

    def owes_oncall(self, ticket_id: int) -> bool:
        return PendingOnCall.get_or_none(PendingOnCall.ticket_id == ticket_id) is not None

    def owed_oncalls(self) -> list[tuple[int, Issue, datetime]]:
        """(ticket id, issue, first failure) of every on-call line still owed, oldest first."""
        rows = PendingOnCall.select(PendingOnCall, Issue).join(Issue).order_by(PendingOnCall.since)
        return [(row.ticket_id, row.issue, row.since) for row in rows]

    def tried_oncall(self, ticket_id: int, when: datetime | None = None) -> None:
        PendingOnCall.update(tries=PendingOnCall.tries + 1, last_try_at=when or utcnow()).where(
            PendingOnCall.ticket_id == ticket_id).execute()

    def settle_oncall(self, ticket_id: int) -> None:
        """The line was posted, or is no longer wanted."""
        PendingOnCall.delete().where(PendingOnCall.ticket_id == ticket_id).execute()

    def count_owed_oncalls(self) -> int:
        return PendingOnCall.select().count()

    # ---- health ----
    def mark_source(self, source: str, error: str | None = None, when: datetime | None = None,
                    completed: bool | None = None) -> None:
        """A poll of `source` ran: `completed` (default: no error) moves its last success;
        `error` is what failed in it, whole or single items -- redacted first (an API's
        error body can echo the credential sent), so no secret is ever stored."""
        when = when or utcnow()
        row, _ = SourceStatus.get_or_create(source=source)
        row.last_attempt_at = when
        if error is None if completed is None else completed:
            row.last_success_at = when
        if error is not None:
            row.last_error_at = when
            row.last_error = redact(error)
        row.save()

    def source_status(self, source: str) -> SourceStatus | None:
        return SourceStatus.get_or_none(SourceStatus.source == source)

    def source_statuses(self) -> dict[str, SourceStatus]:
        return {row.source: row for row in SourceStatus.select()}

    # ---- failing and parked items ----
    def _failing_keys(self) -> set[str]:
        if self._failing is None:
            self._failing = {key for (key,) in self._exec('SELECT "key" FROM failing_item', ())}
        return self._failing

    def failing_item(self, key: str) -> FailingItem | None:
        if key not in self._failing_keys():
            return None
        return FailingItem.get_or_none(FailingItem.key == key)

    def note_failure(self, key: str, label: str, error: str, *, channel: str | None = None, ts: str | None = None,
                     ticket_id: int | None = None) -> FailingItem:
        """One more failed attempt at the item `key`; returns its record."""
        now = utcnow()
        row = FailingItem.get_or_none(FailingItem.key == key)
        if row is None:
            row = FailingItem.create(key=key, label=label, channel=channel, ts=ts, ticket_id=ticket_id, error=error,
                                     attempts=1, first_failed_at=now, last_failed_at=now)
            self._failing_keys().add(key)
            return row
        row.attempts, row.error, row.last_failed_at = row.attempts + 1, error, now
        row.save()
        return row

    def park(self, key: str) -> None:
        FailingItem.update(parked_at=utcnow()).where(FailingItem.key == key).execute()

    def is_parked(self, key: str) -> bool:
        row = self.failing_item(key)
        return row is not None and row.parked_at is not None

    def clear_failure(self, key: str) -> None:
        """The item went through: forget its failures (cheap when it never failed)."""
        if key in self._failing_keys():
            FailingItem.delete().where(FailingItem.key == key).execute()
            self._failing_keys().discard(key)

    def failing_items(self, parked: bool | None = None) -> list[FailingItem]:
        """Failing items (all, only parked ones, or only those still retried), oldest failure first."""
        query = FailingItem.select().order_by(FailingItem.first_failed_at, FailingItem.key)
        if parked is True:
            query = query.where(FailingItem.parked_at.is_null(False))
        elif parked is False:
            query = query.where(FailingItem.parked_at.is_null(True))
        return list(query)

    def count_parked(self) -> int:
        return FailingItem.select().where(FailingItem.parked_at.is_null(False)).count()

    def unpark_all(self) -> int:
        """Give every parked item a fresh start (`check-missing --fix`); returns how many."""
        count = FailingItem.delete().execute()
        self._failing = None
        return count


# Every public method turns a database failure into StoreError.
for _name, _value in list(vars(Store).items()):
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


def _remember(recorded: _Recorded, slack_ts: str | None, comment_id: int | None, ref: str | None) -> None:
    if slack_ts:
        recorded.slack_ts.add(slack_ts)
    if comment_id is not None:
        recorded.comment_ids.add(comment_id)
    if ref:
        recorded.refs.add(ref)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _in_channel(query: Any, channel: str | None) -> Any:
    return query.where(Issue.channel == channel) if channel else query
