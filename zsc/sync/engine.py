"""One sync cycle: read each side, decide, write, record, then advance the cursors.

Order matters (DESIGN rule 3): a cursor only moves past an item after every effect
of that item is recorded. An item that fails stops its cursor for this cycle, the
rest still get their turn, and re-reading next cycle is harmless."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import peewee as pw
from loguru import logger

from zsc.adapters.slack import ts_after
from zsc.adapters.zendesk import Ticket
from zsc.errors import ApiError, AuthError, NotFound, RateLimited
from zsc import runtime
from zsc.runtime import Stopping
from zsc.store import Issue, utcnow
from zsc.sync import slack_to_zendesk as s2z
from zsc.sync import zendesk_to_slack as z2s
from zsc.sync.context import CycleResult, SyncContext, now_ts, slack_ts_for

RECENTLY_CLOSED = timedelta(days=14)  # replies to closed threads are still watched this long
OLD_SWEEP = "slack:old_thread_sweep"  # the last old thread asked for replies
OLD_SWEEP_PER_CYCLE = 3  # old threads asked each cycle (one conversations.replies each)
HOT_WINDOW = timedelta(minutes=30)  # issues this recently active are checked every cycle
HOT_MAX = 100  # one show_many call
OVERLAP_SECONDS = 1.0  # Slack `oldest` is exclusive; read a little earlier and dedupe
EXPORT_LAG = 60  # Zendesk exports refuse start_time within the last minute
EXPORT_PAGES_MAX = 10  # the export allows 10 calls a minute


def slack_checkpoint(channel: str) -> str:
    return f"slack:{channel}:top"


EXPORT_CURSOR = "zendesk:export_cursor"
EXPORT_START = "zendesk:export_start"


def start_position(ctx: SyncContext, since: datetime | None) -> None:
    """First run starts at now (or --since): nothing older is mirrored."""
    """First run starts at now; --since (re)starts both sides at that date. Going
    back is safe: everything already mirrored is recognised by id and skipped."""
    moment = since.timestamp() if since else now_ts()
    store = ctx.store
    with store.atomic():
        if since or store.checkpoint(slack_checkpoint(ctx.channel)) is None:
            store.set_checkpoint(slack_checkpoint(ctx.channel), slack_ts_for(moment))
        if since or (store.checkpoint(EXPORT_CURSOR) is None and store.checkpoint(EXPORT_START) is None):
            store.set_checkpoint(EXPORT_START, str(int(min(moment, now_ts() - EXPORT_LAG))))
            if since:
                from zsc.store import Checkpoint

                Checkpoint.delete().where(Checkpoint.name == EXPORT_CURSOR).execute()


def run_source(ctx: SyncContext, source: str, fn) -> CycleResult:
    """Run one side's poll, turning whole-cycle problems into one failure line and
    recording the source's health for `zsc status`."""
    ctx.result = CycleResult()
    ctx.store.reset_caches()
    ctx.memo.clear()
    try:
        with dry_run_rollback(ctx):
            fn(ctx)
    except Stopping:
        raise
    except RateLimited as exc:
        ctx.result.failed(f"{source}: {exc}")
    except AuthError as exc:
        ctx.result.auth_refused = True
        ctx.result.failed(str(exc))
    except ApiError as exc:
        ctx.result.failed(f"{source} poll: {exc}")
    if not ctx.dry_run:
        ctx.store.mark_source(source, "; ".join(ctx.result.failures)[:500] or None)
    return ctx.result


@contextmanager
def dry_run_rollback(ctx: SyncContext) -> Iterator[None]:
    """Under --dry-run / [sync] dry_run every store write of the poll is undone: the
    adapters only describe their writes, so nothing may be recorded as done."""
    if not ctx.dry_run:
        yield
        return
    with ctx.store.db.atomic() as txn:
        try:
            yield
        finally:
            txn.rollback()
            ctx.store.reset_caches()


def cycle(ctx: SyncContext, since: datetime | None = None) -> CycleResult:
    start_position(ctx, since)
    result = CycleResult()
    result.merge(run_source(ctx, "slack", poll_slack))
    result.merge(run_source(ctx, "zendesk", poll_zendesk))
    return result


# ---------------------------------------------------------------- Slack

def poll_slack(ctx: SyncContext) -> None:
    channel = ctx.channel
    top = ctx.store.checkpoint(slack_checkpoint(channel))
    oldest = min(float(top), oldest_watched_thread(ctx))
    parents = ctx.slack.history(channel, oldest=slack_ts_for(max(0.0, oldest - OVERLAP_SECONDS)))
    blocked = False  # once an item fails, the top-level cursor stays put
    for message in parents:
        runtime.check()
        ts = message["ts"]
        if not one_item(ctx, f"Slack {channel}/{ts}", lambda: handle_parent(ctx, message, is_new=ts_after(ts, top)),
                        channel=channel, thread_ts=ts):
            blocked = True
            continue
        if not blocked and ts_after(ts, top):
            ctx.store.set_checkpoint(slack_checkpoint(channel), ts)
            top = ts
    sweep_old_threads(ctx)


def watched_threads(ctx: SyncContext):
    """Threads whose replies we watch: open issues, and issues closed recently (a
    reply there reopens the ticket or opens a follow-up)."""
    recent = utcnow() - RECENTLY_CLOSED
    return Issue.select().where((Issue.channel == ctx.channel)
                                & (Issue.closed_at.is_null() | (Issue.closed_at >= recent)))


def window_floor(ctx: SyncContext) -> str:
    return slack_ts_for(now_ts() - ctx.config.sync.thread_window_days * 86400)


def oldest_watched_thread(ctx: SyncContext) -> float:
    """The history read covers watched threads started within the window."""
    row = (watched_threads(ctx).select(pw.fn.MIN(Issue.thread_ts))
           .where(Issue.thread_ts >= window_floor(ctx)).scalar())
    return float(row) if row else float("inf")


def sweep_old_threads(ctx: SyncContext) -> None:
    """Watched threads older than the window are not in the history read (that would
    cost pages per cycle in a busy channel); a few of them are asked directly each
    cycle, in turn, so a late reply in a long-running issue is still mirrored."""
    old = list(watched_threads(ctx).where(Issue.thread_ts < window_floor(ctx)).order_by(Issue.thread_ts))
    if not old:
        return
    after = ctx.store.checkpoint(OLD_SWEEP) or ""
    turn = [i for i in old if i.thread_ts > after][:OLD_SWEEP_PER_CYCLE]
    turn += old[:OLD_SWEEP_PER_CYCLE - len(turn)]  # wrap around
    for issue in dict.fromkeys(turn):
        runtime.check()
        one_item(ctx, f"Slack {issue.channel}/{issue.thread_ts}", lambda: s2z.mirror_replies(ctx, issue, None),
                 channel=issue.channel, thread_ts=issue.thread_ts)
        ctx.store.set_checkpoint(OLD_SWEEP, issue.thread_ts)


def handle_parent(ctx: SyncContext, message: dict[str, Any], is_new: bool) -> None:
    if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
        return  # a reply broadcast to the channel: handled in its thread
    issue = ctx.store.issue_by_thread(ctx.channel, message["ts"])
    if issue is None:
        if not is_new or not s2z.is_person_content(ctx, message):
            return
        issue = s2z.open_issue(ctx, message)
    elif is_new:
        s2z.open_issue(ctx, message)  # resume a set-up interrupted by a crash
    if message.get("reply_count") and (issue.is_open or is_new or _recently_closed(issue)):
        s2z.mirror_replies(ctx, issue, message.get("latest_reply"))


def _recently_closed(issue: Issue) -> bool:
    # Replies after a close still matter (reopen or follow-up) for a while.
    return issue.closed_at is not None and utcnow() - issue.closed_at < RECENTLY_CLOSED


# ---------------------------------------------------------------- Zendesk

def poll_zendesk(ctx: SyncContext) -> None:
    changed = export_changes(ctx)
    tickets = dict(changed.tickets)
    hot = hot_issues(ctx, exclude=set(tickets))
    if hot:
        for ticket in ctx.zendesk.tickets([i.ticket_id for i in hot]):
            tickets[ticket.id] = ticket
        for issue in hot:
            if issue.ticket_id not in tickets and issue.is_open:
                tickets[issue.ticket_id] = vanished(ctx, issue.ticket_id)
    failed = False
    for ticket in sorted(tickets.values(), key=lambda t: t.updated_at):
        runtime.check()
        failed |= not handle_ticket(ctx, ticket)
    if changed.cursor and not failed and not ctx.dry_run:
        with ctx.store.atomic():
            ctx.store.set_checkpoint(EXPORT_CURSOR, changed.cursor)


def vanished(ctx: SyncContext, ticket_id: int):
    """A ticket show_many did not return: deleted (say so now rather than when the
    export, a minute late, lists it as deleted), or some other hiccup (ask it alone)."""
    try:
        return ctx.zendesk.ticket(ticket_id)
    except NotFound:
        return Ticket(id=ticket_id, status="deleted", updated_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


class Changes:
    def __init__(self) -> None:
        self.tickets: dict[int, Any] = {}
        self.cursor: str | None = None


def export_changes(ctx: SyncContext) -> Changes:
    """Tickets changed since the export cursor (email tickets, solves, comments on
    quiet tickets). Budgeted: the export allows 10 calls a minute."""
    changes = Changes()
    if ctx.zendesk.export_gate.remaining() > 0:
        return changes
    cursor = ctx.store.checkpoint(EXPORT_CURSOR)
    start = None if cursor else int(ctx.store.checkpoint(EXPORT_START) or now_ts() - EXPORT_LAG)
    start = min(start, int(now_ts()) - EXPORT_LAG) if start is not None else None
    for _ in range(EXPORT_PAGES_MAX):
        try:
            tickets, cursor, end = ctx.zendesk.export_page(cursor=cursor, start_time=start)
        except RateLimited:
            break  # come back next cycle; the hot path still runs
        start = None
        for ticket in tickets:
            changes.tickets[ticket.id] = ticket
        changes.cursor = cursor
        if end:
            break
    return changes


def hot_issues(ctx: SyncContext, exclude: set[int]) -> list[Issue]:
    since = utcnow() - HOT_WINDOW
    query = (Issue.select().where((Issue.last_activity_at >= since) & Issue.ticket_id.is_null(False))
             .order_by(Issue.last_activity_at.desc()).limit(HOT_MAX))
    return [i for i in query if i.ticket_id not in exclude]


# Called for tickets that are not mapped (email tickets...); zsc.email registers here.
unmapped_ticket_hooks: list = []


def handle_ticket(ctx: SyncContext, ticket) -> bool:
    issue = ctx.store.issue_by_ticket(ticket.id)

    def handle() -> None:
        if issue is None:
            for hook in unmapped_ticket_hooks:
                hook(ctx, ticket)
        elif z2s.needs_sync(issue, ticket):
            z2s.sync_ticket(ctx, issue, ticket)

    return one_item(ctx, f"Zendesk ticket #{ticket.id}", handle, ticket_id=ticket.id)


def one_item(ctx: SyncContext, label: str, handle: Callable[[], Any], **fields: Any) -> bool:
    """Handle one item: its failure is recorded and the poll goes on with the next.
    A refused credential or a rate limit is not the item's: it ends the whole poll."""
    try:
        handle()
        return True
    except (AuthError, RateLimited):
        raise
    except ApiError as exc:
        ctx.result.failed(f"{label}: {exc}", **fields)
        return False


def parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


__all__ = ["cycle", "poll_slack", "poll_zendesk", "start_position", "parse_since", "logger"]
