"""The sync engine: the one public entry of zsc.sync (`Engine`, built by
`build_engine`). `zsc run`, `sync-once`, `report` and `check-missing` drive it; no
caller reaches past it.

One cycle reads each side, decides, writes, records, then advances the cursors.
Order matters (DESIGN rule 3): a cursor only moves past an item after every effect
of that item is recorded. An item that fails stops its cursor for this cycle, the
rest still get their turn, and re-reading next cycle is harmless."""

from __future__ import annotations

import functools
import json
import time
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterator, Literal

from zsc import runtime
from zsc.adapters.pacing import PostsPaced
from zsc.adapters.records import Ticket, ts_after, ts_for, zendesk_time
from zsc.errors import ApiError, AuthError, NotFound, RateLimited, Rejected
from zsc.runtime import Stopping
from zsc.store import Issue, Store, utcnow
from zsc.store import open_store as store_at
from zsc.sync import edits, email, keys, notices, nudge, parking, reaction_mode, status_reactions
from zsc.sync.channels import channel_intervals
from zsc.sync import slack_to_zendesk as s2z
from zsc.sync import zendesk_to_slack as z2s
from zsc.sync.context import SLACK_TO_ZENDESK, ZENDESK_TO_SLACK, CycleResult, SyncContext

if TYPE_CHECKING:
    from zsc.config import Config
    from zsc.store.zenslackchat import OldConversation
    from zsc.sync.check_missing import Outcome, Progress
    from zsc.sync.daily_report import Posted
    from zsc.sync.import_zenslackchat import ImportResult

Source = Literal["slack", "zendesk"]
SOURCES: tuple[Source, ...] = ("slack", "zendesk")

RECENTLY_CLOSED = timedelta(days=14)  # replies to closed threads are still watched this long
OLD_SWEEP_PER_CYCLE = 3  # old threads asked each cycle (one conversations.replies each)
HOT_WINDOW = timedelta(minutes=30)  # closed issues this recently active are still checked every cycle
OVERLAP_SECONDS = 1.0  # Slack `oldest` is exclusive; read a little earlier and dedupe
EXPORT_LAG = 60  # Zendesk exports refuse start_time within the last minute
EXPORT_PAGES_MAX = 10  # pages read in one poll at most
EXPORT_BUDGET = 10  # the incremental export allows 10 calls...
EXPORT_WINDOW = 60.0  # ...a minute: counted in the store, so no process (daemon or timer) ever exceeds it


class Engine:
    """Start positions, one source's poll, a whole cycle, the daily report and the
    check-missing scan, with dry runs handled in one place: under `dry_run` the
    adapters only describe their writes and every store write is rolled back."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self._dry_since: datetime | None = None  # a dry run records nothing: each poll starts again from here

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def config(self) -> "Config":
        return self.ctx.config

    @property
    def dry_run(self) -> bool:
        return self.ctx.dry_run

    def close(self) -> None:
        self.ctx.store.close()

    @contextmanager
    def _writes(self) -> Iterator[None]:
        """Store writes that a dry run must not keep."""
        with self.store.rolled_back() if self.dry_run else nullcontext():
            yield

    # ---- driving ----
    def start(self, since: datetime | None = None, leader: dict[str, Any] | None = None) -> None:
        """Set the start positions (first run: now; `since` rewinds both sides) and,
        for the daemon, record who leads."""
        with self._writes(), self.store.atomic():
            if leader is not None:
                self.store.set_leader(leader)
            start_position(self.ctx, since)
        self._dry_since = since or datetime.now(timezone.utc)

    def poll(self, source: Source) -> CycleResult:
        """One poll of one side; its health is recorded for `zsc status`."""
        with self._writes():
            if self.dry_run:
                start_position(self.ctx, self._dry_since)
            return run_source(self.ctx, source, POLLS[source])

    def cycle(self, since: datetime | None = None) -> CycleResult:
        """`sync-once`: start positions, then Slack, then Zendesk. Under dry run the
        actions are what would have been written."""
        with self._writes():
            result = cycle(self.ctx, since)
        if self.dry_run:
            result.actions = list(self.ctx.dry_lines)
        return result

    # ---- the daily report ----
    def report_if_due(self, now_utc: datetime, up_since: datetime | None = None) -> bool:
        from zsc.sync.daily_report import maybe_post_report

        with self._writes():
            return maybe_post_report(self.ctx, now_utc, up_since)

    def post_report(self, day: date, at: datetime | None = None) -> "Posted":
        from zsc.sync.daily_report import post_report

        return post_report(self.ctx, day, at=at)

    def report_text(self, day: date, at: datetime | None = None) -> str:
        from zsc.sync.daily_report import report_text

        return report_text(self.ctx, day, at)

    def report_data(self, day: date, at: datetime | None = None) -> dict:
        from zsc.sync.daily_report import report_data

        return report_data(self.ctx, day, at)

    def report_channel(self) -> str:
        from zsc.sync.daily_report import report_channel

        return report_channel(self.config)

    # ---- check-missing ----
    def check_missing(self, days: int, fix: bool, progress: "Progress | None" = None) -> "Outcome":
        from zsc.sync import check_missing

        return check_missing.check(self.ctx, days, fix, progress or check_missing._no_progress)

    # ---- switching from the old bot ----
    def import_zenslackchat(self, rows: "list[OldConversation]",
                            progress: "Callable[[int, int], None] | None" = None) -> "ImportResult":
        """Take over the old bot's threads (each row in its own transaction; under a dry
        run only read and say what would be imported)."""
        from zsc.sync.import_zenslackchat import import_rows

        return import_rows(self.ctx, rows, self.dry_run, progress)


def build_engine(config: "Config", store: Store | None = None, dry_run: bool | None = None,
                 create_store: bool = True) -> Engine:
    """The engine for `config`: adapters from the config (dry-run stand-ins under a
    dry run), the store at [database] url (or `store`). `create_store=False` (and a
    dry run) never creates a missing SQLite file: an empty in-memory store stands in."""
    from zsc.adapters.factory import slack_from, zendesk_from
    from zsc.sync.oncall import OnCall

    dry = config.sync.dry_run if dry_run is None else dry_run
    store = store or open_store(config, create=create_store and not dry)
    slack, zendesk = slack_from(config), zendesk_from(config)
    oncall = OnCall.from_config(config.pagerduty) if config.pagerduty.enabled else None
    ctx = SyncContext(config=config, store=store, slack=slack, zendesk=zendesk, oncall=oncall, dry_run=dry)
    if dry:
        from zsc.adapters.dryrun import DryRunSlack, DryRunZendesk

        ctx.slack, ctx.zendesk = DryRunSlack(slack, ctx.dry_lines), DryRunZendesk(zendesk, ctx.dry_lines)
    return Engine(ctx)


def open_store(config: "Config", create: bool = True) -> Store:
    """The store at [database] url (see zsc.store.open_store for `create`)."""
    return store_at(config.database.url, create)


# ---------------------------------------------------------------- start and one source

def start_position(ctx: SyncContext, since: datetime | None) -> None:
    """First run starts at now; --since (re)starts both sides at that date. Going
    back is safe: everything already mirrored is recognised by id and skipped."""
    moment = since.timestamp() if since else time.time()
    store = ctx.store
    with store.atomic():
        for name in keys.RETIRED:
            store.delete_checkpoint(name)
        for channel in ctx.config.channel_list:
            if since or store.checkpoint(keys.slack_top(channel.id)) is None:
                store.set_checkpoint(keys.slack_top(channel.id), ts_for(moment))
            if since or store.checkpoint(keys.slack_start(channel.id)) is None:
                store.set_checkpoint(keys.slack_start(channel.id), ts_for(moment))
        if since or (store.checkpoint(keys.EXPORT_CURSOR) is None and store.checkpoint(keys.EXPORT_START) is None):
            store.set_checkpoint(keys.EXPORT_START, str(int(min(moment, time.time() - EXPORT_LAG))))
            if since:
                store.delete_checkpoint(keys.EXPORT_CURSOR)


def run_source(ctx: SyncContext, source: Source, fn: Callable[[SyncContext], None]) -> CycleResult:
    """Run one side's poll, turning whole-cycle problems into one failure line and
    recording the source's health for `zsc status`."""
    ctx.result = CycleResult()
    ctx.store.reset_caches()
    ctx.memo.clear()
    ctx.paced_now.clear()
    ctx.slack.begin_poll()  # a new budget of waiting for Slack's post pace
    try:
        fn(ctx)
    except Stopping:
        raise
    except PostsPaced as exc:
        # No failure: the poll did its share, and the rest is posted by the next one (the
        # cursors stand before it), after the other side has had its poll.
        ctx.result.paced = True
        ctx.result.did(f"{source}: {exc}")
    except RateLimited as exc:
        ctx.result.incomplete = ctx.result.rate_limited = True
        ctx.result.failed(f"{source}: {exc}")
    except AuthError as exc:
        ctx.result.auth_refused = ctx.result.incomplete = True
        ctx.result.failed(str(exc))
    except ApiError as exc:
        ctx.result.incomplete = True
        ctx.result.failed(f"{source} poll: {exc}")
    if not ctx.dry_run:
        # A poll that finished is a success even when single items failed: they are
        # retried (and parked in the end), and the source is not stale.
        ctx.store.mark_source(source, "; ".join(ctx.result.failures)[:500] or None,
                              completed=not ctx.result.incomplete)
    return ctx.result


def cycle(ctx: SyncContext, since: datetime | None = None) -> CycleResult:
    """A whole cycle (`sync-once`, the repairs' settle): every channel is polled, however
    recently it was (only the daemon's scheduled polls respect the per-channel pace)."""
    start_position(ctx, since)
    result = CycleResult()
    for source in SOURCES:
        poll = functools.partial(poll_slack_channels, all_due=True) if source == "slack" else POLLS[source]
        result.merge(run_source(ctx, source, poll))
    return result




# ---------------------------------------------------------------- Slack

def poll_slack(ctx: SyncContext) -> None:
    """Read the channel's history window a page at a time, handling each page as it
    comes. Slack may refuse the next page for a minute (its limited tier): the read
    then resumes at that page on the next poll. The top-level cursor moves only when
    the whole window was read and nothing in it failed (a failing item is retried,
    and parked in the end, so this never blocks for long)."""
    channel = ctx.channel
    top = ctx.store.checkpoint(keys.slack_top(channel))
    read = _resumed_read(ctx, channel) or {
        "oldest": ts_for(max(0.0, min(float(top), oldest_watched_thread(ctx)) - OVERLAP_SECONDS)),
        "cursor": None, "newest": None, "failed": False}
    while True:
        try:
            page, cursor = ctx.slack.history_page(channel, oldest=read["oldest"], cursor=read["cursor"])
        except Rejected:
            ctx.store.delete_checkpoint(keys.slack_history_read(channel))  # e.g. an expired cursor: start afresh
            raise
        for message in page:
            runtime.check()
            ts = message.ts
            if not parking.attempt(ctx, keys.slack_item(channel, ts), f"Slack {channel}/{ts}",
                                   lambda: handle_parent(ctx, message, is_new=ts_after(ts, top)), channel=channel, ts=ts,
                                   direction=SLACK_TO_ZENDESK, seen_at=float(ts)):
                read["failed"] = True
            if read["newest"] is None or ts_after(ts, read["newest"]):
                read["newest"] = ts
        if not cursor:
            break
        read["cursor"] = cursor
        ctx.store.set_checkpoint(keys.slack_history_read(channel), json.dumps(read))
    with ctx.store.atomic():
        if not read["failed"] and read["newest"] and ts_after(read["newest"], top):
            ctx.store.set_checkpoint(keys.slack_top(channel), read["newest"])
        ctx.store.delete_checkpoint(keys.slack_history_read(channel))
    sweep_old_threads(ctx)
    nudge.nudge_unanswered(ctx)


def _resumed_read(ctx: SyncContext, channel: str) -> dict[str, Any] | None:
    """A history read that an earlier poll stopped between pages."""
    raw = ctx.store.checkpoint(keys.slack_history_read(channel))
    try:
        read = json.loads(raw) if raw else None
    except ValueError:
        return None
    return read if isinstance(read, dict) and read.get("cursor") else None


def window_floor(ctx: SyncContext) -> str:
    return ts_for(time.time() - ctx.config.sync.thread_window_days * 86400)


def oldest_watched_thread(ctx: SyncContext) -> float:
    """The history read covers watched threads (open issues, and issues closed
    recently: a reply there reopens the ticket or opens a follow-up) started within
    the window."""
    oldest = ctx.store.oldest_watched_thread(ctx.channel, utcnow() - RECENTLY_CLOSED, window_floor(ctx))
    if reaction_mode.is_reaction_mode(ctx):  # a message may be reacted to any time within the window
        return min(float(oldest) if oldest else float("inf"), float(window_floor(ctx)))
    return float(oldest) if oldest else float("inf")


def sweep_old_threads(ctx: SyncContext) -> None:
    """Watched threads older than the window are not in the history read (that would
    cost pages per cycle in a busy channel); a few of them are asked directly each
    cycle, in turn, so a late reply in a long-running issue is still mirrored."""
    old = ctx.store.watched_before(ctx.channel, utcnow() - RECENTLY_CLOSED, window_floor(ctx))
    if not old:
        return
    after = ctx.store.checkpoint(keys.old_sweep(ctx.channel)) or ""
    turn = [i for i in old if i.thread_ts > after][:OLD_SWEEP_PER_CYCLE]
    turn += old[:OLD_SWEEP_PER_CYCLE - len(turn)]  # wrap around
    for issue in dict.fromkeys(turn):
        runtime.check()
        parking.attempt(ctx, keys.slack_item(issue.channel, issue.thread_ts), f"Slack {issue.channel}/{issue.thread_ts}",
                        lambda: s2z.mirror_replies(ctx, issue, None), channel=issue.channel, ts=issue.thread_ts,
                        direction=SLACK_TO_ZENDESK, seen_at=float(issue.slack_reply_cursor or issue.thread_ts))
        ctx.store.set_checkpoint(keys.old_sweep(ctx.channel), issue.thread_ts)


def handle_parent(ctx: SyncContext, message, is_new: bool) -> None:
    if message.is_broadcast_reply:
        return  # a reply broadcast to the channel: handled in its thread
    issue = ctx.store.issue_by_thread(ctx.channel, message.ts)
    if issue is None and reaction_mode.is_reaction_mode(ctx):
        reactor = reaction_mode.opener(ctx, message)
        if reactor is None or not s2z.is_person_content(ctx, message):
            return
        issue = s2z.open_issue(ctx, message, reactor=reactor)
    elif issue is None:
        if not is_new or not s2z.is_person_content(ctx, message):
            return
        issue = s2z.open_issue(ctx, message)
    elif reaction_mode.is_reaction_mode(ctx) and keys.confirm_ref(issue.ticket_id) not in ctx.store.recorded(issue).refs:
        s2z.open_issue(ctx, message)  # resume a set-up interrupted by a crash (the message may be old)
    elif email.setup_unfinished(ctx, issue):
        email.finish_setup(ctx, issue)  # an emailed ticket's set-up cut short after its thread was mapped
    elif is_new:
        s2z.open_issue(ctx, message)  # resume a set-up interrupted by a crash
    if not (issue.is_open or is_new or _recently_closed(issue)):
        return
    edits.note_parent(ctx, issue, message)  # edited or deleted (a tombstone) since it was mirrored
    if message.reply_count and has_news(ctx, issue, message):
        s2z.mirror_replies(ctx, issue, message.latest_reply)
    # Read up to here: Slack's count as history showed it, plus what zsc posted since.
    ctx.store.set_reply_count(issue, message.reply_count + ctx.memo.get(("posted", issue.id), 0))


def has_news(ctx: SyncContext, issue: Issue, message) -> bool:
    """Whether the thread may hold replies not read yet. Not when Slack counts as many
    replies as zsc knows of and the newest is one zsc has seen or posted itself: zsc
    never reads a thread back only for its own posts."""
    if issue.slack_reply_count is None or message.reply_count != issue.slack_reply_count:
        return True
    latest = message.latest_reply
    return bool(latest) and ts_after(latest, issue.slack_reply_cursor) \
        and latest not in ctx.store.recorded(issue).slack_ts


def _recently_closed(issue: Issue) -> bool:
    # Replies after a close still matter (reopen or follow-up) for a while.
    return issue.closed_at is not None and utcnow() - issue.closed_at < RECENTLY_CLOSED


# ---------------------------------------------------------------- Zendesk

def poll_zendesk(ctx: SyncContext) -> None:
    """Every mapped open ticket is read each poll, whatever its age (show_many, 100 a
    call: the quiet ticket an agent answers after a week is seen as fast as a busy
    one); the incremental export, which lags a minute, finds the rest -- emailed
    tickets, deletions, solved tickets reopened -- within its own budget."""
    tickets, cursor = export_changes(ctx)
    watched = [i for i in ctx.store.to_watch(utcnow() - HOT_WINDOW) if i.ticket_id not in tickets]
    if watched:
        for ticket in ctx.zendesk.tickets([i.ticket_id for i in watched]):
            tickets[ticket.id] = ticket
        for issue in watched:
            if issue.ticket_id not in tickets and issue.is_open:
                tickets[issue.ticket_id] = vanished(ctx, issue.ticket_id)
    failed, paced = False, None
    for ticket in sorted(tickets.values(), key=lambda t: t.updated_at):
        runtime.check()
        try:
            failed |= not handle_ticket(ctx, ticket)
        except PostsPaced as exc:
            # Its channel had its share of posts this poll: the other channels' tickets go on.
            failed, paced = True, exc
            ctx.paced_now.add(exc.channel)
    if cursor and not failed and not ctx.dry_run:
        with ctx.store.atomic():
            ctx.store.set_checkpoint(keys.EXPORT_CURSOR, cursor)
    notices.retry_oncall_notices(ctx)  # on-call lines owed after a PagerDuty blip
    if paced is not None:
        raise paced


def vanished(ctx: SyncContext, ticket_id: int) -> Ticket:
    """A ticket show_many did not return: deleted (say so now rather than when the
    export, a minute late, lists it as deleted), or some other hiccup (ask it alone)."""
    try:
        return ctx.zendesk.ticket(ticket_id)
    except NotFound:
        return Ticket(id=ticket_id, status="deleted", updated_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


def export_changes(ctx: SyncContext) -> tuple[dict[int, Ticket], str | None]:
    """Tickets changed since the export cursor (email tickets, solves, comments on
    quiet tickets), and the cursor after them. Budgeted: the export allows 10 calls a minute."""
    tickets: dict[int, Ticket] = {}
    if ctx.zendesk.export_wait() > 0:
        return tickets, None
    cursor = ctx.store.checkpoint(keys.EXPORT_CURSOR)
    start = None if cursor else int(ctx.store.checkpoint(keys.EXPORT_START) or time.time() - EXPORT_LAG)
    start = min(start, int(time.time()) - EXPORT_LAG) if start is not None else None
    after = None
    calls = _export_calls(ctx)
    for _ in range(EXPORT_PAGES_MAX):
        if ctx.zendesk.export_wait() > 0 or len(calls) >= EXPORT_BUDGET:
            break  # its budget is spent: asking would only be refused; the next poll goes on
        calls.append(time.time())
        if not ctx.dry_run:
            ctx.store.set_checkpoint(keys.EXPORT_CALLS, json.dumps(calls))
        try:
            page, cursor, end = ctx.zendesk.export_page(cursor=cursor, start_time=start)
        except RateLimited:
            break  # come back next cycle; the hot path still runs
        start = None
        tickets.update((ticket.id, ticket) for ticket in page)
        after = cursor
        if end:
            break
    return tickets, after


def _export_calls(ctx: SyncContext) -> list[float]:
    """When the export was called in the last minute (Unix times, from the store)."""
    try:
        calls = json.loads(ctx.store.checkpoint(keys.EXPORT_CALLS) or "[]")
    except ValueError:
        calls = []
    now = time.time()
    return [t for t in calls if isinstance(t, (int, float)) and now - EXPORT_WINDOW < t <= now]


def handle_ticket(ctx: SyncContext, ticket: Ticket) -> bool:
    """A mapped ticket is mirrored; an unmapped one is offered to the email intake."""
    issue = ctx.store.issue_by_ticket(ticket.id)
    channel = ticket_channel(ctx, issue, ticket)
    if channel in ctx.paced_now:
        return False  # its channel's posts wait for the next poll: no read now that could not be posted

    def handle() -> None:
        with ctx.in_channel(channel):
            if issue is None:
                email.on_unmapped_ticket(ctx, ticket)
            elif z2s.needs_sync(issue, ticket):
                z2s.sync_ticket(ctx, issue, ticket)
            status_reactions.follow(ctx, issue, ticket)

    seen = zendesk_time(ticket.updated_at)
    return parking.attempt(ctx, keys.ticket_item(ticket.id), f"Zendesk ticket #{ticket.id}", handle,
                           ticket_id=ticket.id, direction=ZENDESK_TO_SLACK,
                           seen_at=seen.replace(tzinfo=timezone.utc).timestamp() if seen else None)


def ticket_channel(ctx: SyncContext, issue: Issue | None, ticket: Ticket) -> str:
    """The channel a ticket belongs to: its thread's, or for a new emailed ticket the
    first channel of its group (none: the first channel, whose group boundary keeps it out)."""
    if issue is not None:
        return issue.channel
    routed = ctx.config.channel_for_group(ticket.group_id)
    return routed.id if routed else ctx.config.channel_list[0].id


def poll_slack_channels(ctx: SyncContext, all_due: bool = False) -> None:
    """Each channel whose effective interval has passed (all of them for `sync-once`),
    busiest first, as its own poll: one channel failing does not stop the others."""
    now = time.monotonic()
    intervals = channel_intervals(ctx.config)
    order = busiest_first(ctx, [c.id for c in ctx.config.channel_list])
    failures: list[Exception] = []
    paced: PostsPaced | None = None
    for channel in order:
        if ctx.only_channels is not None and channel not in ctx.only_channels:
            continue  # another instance polls it ([daemon] ha on Postgres)
        last = ctx.last_polled.get(channel)
        due = all_due or channel in ctx.paced_channels or last is None or now - last >= intervals[channel] - 0.5
        if not due:
            continue
        ctx.last_polled[channel] = now
        with ctx.in_channel(channel):
            try:
                poll_slack(ctx)
            except (Stopping, AuthError):
                raise
            except PostsPaced as exc:
                paced = exc  # the rest of this channel follows in the next poll, which comes soon
                ctx.paced_channels.add(channel)
            except ApiError as exc:
                failures.append(exc)
                ctx.paced_channels.discard(channel)  # failing: back to its own interval
            else:
                ctx.paced_channels.discard(channel)
    if failures:
        ctx.result.paced |= paced is not None
        raise failures[0]  # a real failure is not hidden behind a paced channel
    if paced is not None:
        raise paced


def busiest_first(ctx: SyncContext, channels: list[str]) -> list[str]:
    """Channels with the most recently active issues first: when Slack's budget is
    short, the busy ones are not the ones that wait."""
    recent = ctx.store.active_since(utcnow() - HOT_WINDOW, 100)
    activity = {c: sum(1 for i in recent if i.channel == c) for c in channels}
    return sorted(channels, key=lambda c: -activity[c])


POLLS: dict[Source, Callable[[SyncContext], None]] = {"slack": poll_slack_channels, "zendesk": poll_zendesk}
