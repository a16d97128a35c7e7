"""`zsc import zenslackchat`: take over the threads the old bot (django-zenslackchat)
mapped to tickets, so switching costs no open conversation.

Each old row becomes a zsc issue in the same thread, mapped to the same ticket, with
exactly what the sync itself would have recorded had it opened the issue
(slack_to_zendesk.open_issue / create_ticket): the parent message as the ticket's
first comment, the permalink note and the confirmation as done. Everything both sides
hold at import time (thread replies, public comments) is recorded as mirrored (the
old bot mirrored them; which ones it missed cannot be told by id), and the thread's
reply cursor and the ticket's seen `updated_at` are set, so the next cycle starts
after them and nothing old is posted again.

A row is imported in one store transaction, or not at all. Nothing is guessed: a row
whose ticket or Slack thread is gone, or which conflicts with what zsc already maps,
is reported and left alone. Rows already imported are recognised by thread, so a
second run changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from zsc.adapters.records import Comment, Message, Ticket, ts_key, ts_time, zendesk_time
from zsc.errors import ApiError, AuthError, NotFound, RateLimited, Rejected
from zsc.store import DONE_STATUSES, OPEN_STATUSES, TO_SLACK, TO_ZENDESK, StoreError, utcnow
from zsc.store.zenslackchat import OldConversation, OldHours
from zsc.sync import keys
from zsc.sync.context import SyncContext
from zsc.sync.zendesk_to_slack import settled_before

IMPORTED, ALREADY, FOREIGN, MISSING, INVALID, CONFLICT, FAILED = (
    "imported", "already", "foreign", "missing", "invalid", "conflict", "failed")
TS = re.compile(r"\d{9,}\.\d{1,6}")

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class RowOutcome:
    """What became of one old row; `detail` says why for anything but an import."""

    state: str
    channel: str
    thread_ts: str
    ticket: str
    detail: str = ""
    status: str = ""  # of the issue, when imported
    replies: int = 0  # thread replies recorded as mirrored
    comments: int = 0  # public comments recorded as mirrored

    @property
    def where(self) -> str:
        return f"{self.channel}/{self.thread_ts} -> #{self.ticket}"


@dataclass
class ImportResult:
    rows: list[RowOutcome] = field(default_factory=list)
    dry_run: bool = False

    def count(self, state: str) -> int:
        return sum(r.state == state for r in self.rows)

    @property
    def changed(self) -> bool:
        return self.count(IMPORTED) > 0


@dataclass(frozen=True)
class _Plan:
    """Everything one row's import records, read from both sides before any write."""

    row: OldConversation
    ticket: Ticket
    replies: list[Message]
    comments: list[Comment]
    status: str
    closed_at: datetime | None
    seen_updated_at: str | None
    note: str


def import_rows(ctx: SyncContext, rows: list[OldConversation], dry_run: bool,
                progress: Progress | None = None) -> ImportResult:
    """Import each row in turn (one transaction each); under `dry_run` read both sides
    and say what would be imported, writing nothing."""
    result = ImportResult(dry_run=dry_run)
    tickets: set[int] = set()  # imported in this run: a dry run has no store to say so
    for done, row in enumerate(rows, 1):
        try:
            outcome = plan_row(ctx, row)
            if isinstance(outcome, _Plan) and outcome.ticket.id in tickets:
                outcome = RowOutcome(CONFLICT, row.channel, row.thread_ts, row.ticket,
                                     f"ticket #{outcome.ticket.id} is mapped to another thread above")
            if isinstance(outcome, _Plan):
                if not dry_run:
                    record(ctx, outcome)
                tickets.add(outcome.ticket.id)
                outcome = imported(outcome)
        except (AuthError, RateLimited):
            raise  # not this row's: every other row would fail the same way
        except (ApiError, StoreError) as exc:  # this row only (its transaction is undone); the next may work
            outcome = RowOutcome(FAILED, row.channel, row.thread_ts, row.ticket, str(exc))
        result.rows.append(outcome)
        if progress:
            progress(done, len(rows))
    return result


def plan_row(ctx: SyncContext, row: OldConversation) -> _Plan | RowOutcome:
    """Read what one row needs, or say why it is not imported."""
    channel, ts, ticket_text = row.channel or "", (row.thread_ts or "").strip(), (row.ticket or "").strip()

    def skip(state: str, detail: str) -> RowOutcome:
        return RowOutcome(state, channel, ts, ticket_text, detail)

    if channel != ctx.channel:
        return skip(FOREIGN, f"channel {channel or '(empty)'} is not [slack] channel {ctx.channel}")
    if not ticket_text.isdigit():
        return skip(INVALID, f"ticket_id {ticket_text[:30]!r} is not a Zendesk ticket number")
    if not TS.fullmatch(ts):
        return skip(INVALID, f"chat_id {ts[:30]!r} is not a Slack message ts")
    ticket_id = int(ticket_text)
    store = ctx.store
    existing = store.issue_by_thread(channel, ts)
    if existing is not None:
        if existing.ticket_id == ticket_id or existing.followup_of == ticket_id:
            return skip(ALREADY, "already in zsc")
        return skip(CONFLICT, f"zsc already maps this thread to ticket #{existing.ticket_id}")
    other = store.issue_by_ticket(ticket_id)
    if other is not None:
        return skip(CONFLICT, f"zsc already maps ticket #{ticket_id} to thread {other.channel}/{other.thread_ts}")
    started = datetime.now(timezone.utc)
    try:
        ticket = ctx.zendesk.ticket(ticket_id)
    except NotFound:
        return skip(MISSING, f"ticket #{ticket_id} no longer exists in Zendesk")
    if ticket.status == "deleted":
        return skip(MISSING, f"ticket #{ticket_id} was deleted in Zendesk")
    try:
        replies = ctx.slack.replies(channel, ts)
    except Rejected as exc:
        if "thread_not_found" not in str(exc):
            raise
        return skip(MISSING, "the Slack message is gone (deleted, or beyond the workspace's history)")
    try:
        comments = ctx.zendesk.comments(ticket_id)
    except NotFound:
        return skip(MISSING, f"ticket #{ticket_id} no longer exists in Zendesk")
    status, closed_at, seen, note = _status(row, ticket)
    if seen is not None:
        # as sync_ticket marks it: a comment added later in the second of our read shares
        # the ticket's updated_at, so only what settled a second before is claimed
        seen = min(seen, settled_before(started))
    return _Plan(row, ticket, replies, comments, status, closed_at, seen, note)


def _status(row: OldConversation, ticket: Ticket) -> tuple[str, datetime | None, str | None, str]:
    """The issue's status, close time and the ticket's seen `updated_at`: open when the
    old bot still monitored the thread, closed (at its close time) when not."""
    if row.active:
        if ticket.status in OPEN_STATUSES:
            return ticket.status, None, ticket.updated_at, ""
        # The old bot missed the close: leave the ticket unseen, so the next cycle
        # announces it in the thread exactly as zsc announces any close.
        return "open", None, None, f"ticket is {ticket.status} in Zendesk: the next cycle says so in the thread"
    closed_at = row.closed or zendesk_time(ticket.updated_at) or utcnow()
    if ticket.status in DONE_STATUSES:
        return ticket.status, closed_at, ticket.updated_at, ""
    # Closed for the old bot, reopened in Zendesk since: closed here; the next change
    # of the ticket reopens the issue quietly, as for any zsc issue.
    return "solved", closed_at, ticket.updated_at, f"ticket is {ticket.status} again in Zendesk"


def record(ctx: SyncContext, plan: _Plan) -> None:
    """One transaction: the issue and everything already mirrored."""
    row, ticket = plan.row, plan.ticket
    store = ctx.store
    ts, channel = row.thread_ts.strip(), row.channel
    comments = plan.comments
    first = comments[0].id if comments else None  # as create_ticket_once takes it
    cursor = max((m.ts for m in plan.replies), key=ts_key, default=None)
    with store.atomic():
        issue = store.create_issue(
            channel=channel, thread_ts=ts, ticket_id=ticket.id, origin="slack", status=plan.status,
            subject=ticket.subject, opened_at=row.opened or ts_time(ts), closed_at=plan.closed_at,
            slack_reply_cursor=cursor, zendesk_updated_at=plan.seen_updated_at, last_activity_at=utcnow())
        # As create_ticket records it: the parent message is the ticket's first comment.
        store.record_item(issue, TO_ZENDESK, "message", slack_ts=ts, comment_id=first)
        # The set-up the old bot did: never repeated (open_issue finds these refs done).
        store.record_item(issue, TO_ZENDESK, "permalink", ref=keys.permalink_ref(ticket.id))
        store.record_item(issue, TO_SLACK, "confirmation", ref=keys.confirm_ref(ticket.id))
        store.record_item(issue, TO_SLACK, "hours", ref=keys.hours_ref(ticket.id))
        store.record_item(issue, TO_SLACK, "oncall", ref=keys.oncall_ref(ticket.id))
        for reply in plan.replies:
            # A person's reply went to the ticket; a bot's (the old bot's copy of a
            # comment) came from it. Which comment each matches cannot be told by id.
            direction, kind = (TO_SLACK, "comment") if reply.bot_id else (TO_ZENDESK, "reply")
            store.record_item(issue, direction, kind, slack_ts=reply.ts)
        for comment in comments:
            if comment.id != first and comment.public:
                store.record_item(issue, TO_SLACK, "comment", comment_id=comment.id, ref=keys.comment_ref(comment.id))


def imported(plan: _Plan) -> RowOutcome:
    row = plan.row
    first = plan.comments[0].id if plan.comments else None
    public = sum(1 for c in plan.comments if c.public and c.id != first)
    return RowOutcome(IMPORTED, row.channel, row.thread_ts.strip(), str(plan.ticket.id), plan.note,
                      status=plan.status, replies=len(plan.replies), comments=public)


def hours_block(hours: OldHours) -> str:
    """The old bot's out-of-hours settings as zsc's [hours] section. It treated Saturday
    and Sunday as out of hours, and kept its times in UTC."""
    from zsc.config import to_toml

    def hhmm(moment) -> str:
        return f"{moment.hour:02d}:{moment.minute:02d}"

    return to_toml({"hours": {"start": hhmm(hours.begin), "end": hhmm(hours.end), "days": "mon-fri",
                              "timezone": "UTC", "message": hours.message}}).rstrip() + "\n"
