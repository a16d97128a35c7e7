"""Store methods about issues: finding, opening, closing and watching them, and the
report's questions. (A part of zsc.store.Store; only zsc.store imports it.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from zsc.store.models import pw  # (imported there first: see its note on psycopg2)

from zsc.store.models import (DONE_STATUSES, TO_ZENDESK, Issue, MirroredItem,
                              utcnow)


class IssueQueries:
    _exec: Any
    checkpoint: Any
    set_checkpoint: Any

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

    def to_watch(self, active_since: datetime) -> list[Issue]:
        """Mapped issues whose tickets are read every Zendesk poll: every open one,
        whatever its age, and any with activity since `active_since` (a ticket just
        solved may be reopened at once)."""
        query = Issue.select().where(Issue.ticket_id.is_null(False)
                                     & (Issue.status.not_in(DONE_STATUSES) | (Issue.last_activity_at >= active_since)))
        return list(query.order_by(Issue.last_activity_at.desc()))

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

    # Zendesk's comment count and Slack's reply count as last read, raised by zsc's own
    # writes: a ticket or thread whose only news is zsc's own is not read back.
    def set_comment_count(self, issue: Issue, count: int | None) -> None:
        self._set_count(issue, "zendesk_comment_count", count)

    def count_own_comment(self, issue: Issue) -> None:
        """zsc added a comment to the ticket: Zendesk's count goes up by one, and so does ours."""
        self._count_own(issue, "zendesk_comment_count")

    def set_reply_count(self, issue: Issue, count: int | None) -> None:
        self._set_count(issue, "slack_reply_count", count)

    def count_own_reply(self, issue: Issue) -> None:
        """zsc posted in the thread: Slack's reply_count goes up by one, and so does ours."""
        self._count_own(issue, "slack_reply_count")

    def _set_count(self, issue: Issue, column: str, count: int | None) -> None:
        if getattr(issue, column) != count:
            self._exec(f"UPDATE issue SET {column} = ? WHERE id = ?", (count, issue.id))
            setattr(issue, column, count)

    def _count_own(self, issue: Issue, column: str) -> None:
        if getattr(issue, column) is not None:
            self._set_count(issue, column, getattr(issue, column) + 1)

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


def _in_channel(query: Any, channel: str | None) -> Any:
    return query.where(Issue.channel == channel) if channel else query
