"""Store methods for everything kept beside issues and mirrored items: checkpoints,
the leader record, per-ticket flags, people, command runs, report runs, owed on-call
lines, source health and failing items. (A part of zsc.store.Store.)"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any


from zsc.redaction import redact
from zsc.store.models import (Checkpoint, CommandRun, FailingItem, Issue, PendingOnCall, ReportRun, SlackUser, SourceStatus, TicketFlag, ZendeskUser, upsert, utcnow)

LEADER = "daemon:leader"  # checkpoint naming the active daemon: {"host", "pid", "since"}


class Bookkeeping:
    _exec: Any
    _failing: set[str] | None
    _flags: dict[tuple[int, str], str | None]
    _flagged: dict[str, dict[int, datetime]]

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
        """Asked once per reply in a catch-up (is the ticket outside the group?), so
        answered from the per-cycle cache after the first look."""
        key = (ticket_id, name)
        if key not in self._flags:
            row = self._exec("SELECT value FROM ticket_flag WHERE ticket_id = ? AND name = ?", key).fetchone()
            self._flags[key] = row[0] if row else None
        return self._flags[key]

    def tickets_flagged(self, name: str) -> dict[int, datetime]:
        """The tickets that have flag `name`, with when it was set (naive UTC). One query
        a cycle: asked for every emailed thread the Slack poll reads, while such flags are few."""
        if name not in self._flagged:
            rows = self._exec("SELECT ticket_id, created_at FROM ticket_flag WHERE name = ?", (name,))
            self._flagged[name] = {ticket_id: _as_datetime(at) for ticket_id, at in rows}
        return self._flagged[name]

    def set_flag(self, ticket_id: int, name: str, value: str) -> None:
        TicketFlag.insert(ticket_id=ticket_id, name=name, value=value, created_at=utcnow()).on_conflict(
            conflict_target=[TicketFlag.ticket_id, TicketFlag.name], update={TicketFlag.value: value}).execute()
        self._flags[(ticket_id, name)] = value
        self._flagged.get(name, {}).setdefault(ticket_id, utcnow())

    def clear_flag(self, ticket_id: int, name: str) -> None:
        TicketFlag.delete().where((TicketFlag.ticket_id == ticket_id) & (TicketFlag.name == name)).execute()
        self._flags[(ticket_id, name)] = None
        self._flagged.get(name, {}).pop(ticket_id, None)

    def count_flags(self, name: str) -> int:
        return TicketFlag.select().where(TicketFlag.name == name).count()

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


def _as_datetime(value: Any) -> datetime:
    """A timestamp column read with plain SQL: SQLite gives text, Postgres a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
