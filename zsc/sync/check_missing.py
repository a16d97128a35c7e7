"""`zsc check-missing`: compare both sides over the last N days and list what one side
has and the other lacks; `--fix` repairs it through the sync's own paths.

Gaps, by kind:
  no_ticket  a person's top-level message in the channel with no issue (no ticket)
  reply      a person's thread reply not mirrored to the ticket
  comment    a public Zendesk comment not mirrored to the thread
  email      an email ticket of the group, still open, with no Slack thread
  status     an issue whose status in the store differs from the ticket's
  parked     an item the sync gave up on after it kept failing (zsc.sync.parking)

The scan asks the same questions the sync does (`is_person_content`, the mapped ids
in the store), so "missing" means exactly "the sync would still write this".

Repairs never double-post. A gap has two possible causes: the sync skipped the item
(its cursor moved past it: nothing on the far side), or the store lost its record
(a restore, a hand edit: the far side has it). The two cannot be told apart by id
alone, so each gap is repaired as an effect of unknown outcome: a pending intent is
written for it, dated at the item, and the normal sync path runs. That path looks a
pending effect up on the far side before writing, exactly as after a crash
(DESIGN rule 2), so it records what exists and writes only what does not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from zsc.adapters.records import Message, Ticket, epoch_seconds, permalink, ts_for, ts_time, zendesk_time
from zsc.errors import ApiError, AuthError, RateLimited
from zsc.store import Issue, utcnow
from zsc.sync import email, keys, reaction_mode
from zsc.sync import slack_to_zendesk as s2z
from zsc.sync import zendesk_to_slack as z2s
from zsc.sync.context import CycleResult, SyncContext

KINDS = {
    "no_ticket": "no ticket",
    "reply": "reply not on ticket",
    "comment": "comment not in thread",
    "email": "email, no thread",
    "status": "status differs",
    "parked": "parked after failing",
}
EXPORT_PAGES_MAX = 100  # 100,000 tickets: far beyond N days of one support group
SCAN_MAX_WAIT = 130.0  # seconds a scan call may wait for a rate limit (Slack's limited tier: 1 call/min)

# (phase, done, total): the CLI draws a progress bar from it.
Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class Gap:
    kind: str
    where: str  # "CSUPPORT/1700000000.000100" or "#123"
    detail: str
    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    ticket_id: int | None = None
    comment_id: int | None = None
    link: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Scan:
    since: datetime  # naive UTC, like the store
    gaps: list[Gap] = field(default_factory=list)
    # What the repairs need, kept out of the report: Slack messages by ts, tickets by id.
    messages: dict[str, Message] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    # While a daemon runs, items younger than one poll interval of their side are its
    # next poll's work, not gaps: left out, and counted so the output says so.
    too_recent: int = 0
    slack_cut: float | None = None  # epoch seconds: Slack items after this are left out
    zendesk_cut: datetime | None = None  # naive UTC: Zendesk comments after this are left out

    def is_recent_slack(self, ts: str) -> bool:
        if self.slack_cut is not None and float(ts) > self.slack_cut:
            self.too_recent += 1
            return True
        return False

    def is_recent_comment(self, created: datetime | None) -> bool:
        if self.zendesk_cut is not None and created is not None and created > self.zendesk_cut:
            self.too_recent += 1
            return True
        return False


@dataclass
class Outcome:
    found: Scan
    fixed: list[str] = field(default_factory=list)  # what the repair did, one line each
    failures: list[str] = field(default_factory=list)
    remaining: Scan | None = None  # the re-check after --fix

    @property
    def left(self) -> list[Gap]:
        return (self.remaining or self.found).gaps

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "since": _iso(self.found.since),
            "missing": [g.as_json() for g in self.found.gaps],
            "counts": counts(self.found.gaps),
            "too_recent": self.found.too_recent,
        }
        if self.remaining is not None:
            data.update(fixed=self.fixed, failures=self.failures,
                        remaining=[g.as_json() for g in self.remaining.gaps])
        return data


def counts(gaps: list[Gap]) -> dict[str, int]:
    return {kind: sum(g.kind == kind for g in gaps) for kind in KINDS}


# ---------------------------------------------------------------- entry point

def check(ctx: SyncContext, days: int, fix: bool, progress: Progress = _no_progress) -> Outcome:
    """Scan; with `fix`, repair, then scan again for what remains. (Driven by
    Engine.check_missing, which opens the store and takes the lock for --fix.)"""
    _be_patient(ctx)
    # --fix holds the leader lock: no daemon runs, so nothing is its next poll's work.
    outcome = Outcome(scan(ctx, days, progress, daemon_may_run=not fix))
    if fix and outcome.found.gaps:
        done = repair(ctx, outcome.found)
        if any(g.kind == "no_ticket" and g.ticket_id for g in outcome.found.gaps):
            # Issues the store had lost are back: only now can their comments be
            # compared, and marked before anything could post them again.
            done.merge(repair(ctx, scan(ctx, days, progress)))
        done.merge(settle(ctx))
        outcome.fixed, outcome.failures = done.actions, done.failures
        outcome.remaining = scan(ctx, days, progress)
    elif fix:
        outcome.remaining = Scan(outcome.found.since)
    return outcome


def _be_patient(ctx: SyncContext) -> None:
    """The daemon gives up on a rate limit and comes back next cycle; a scan has no
    next cycle, so it waits (honouring Retry-After) for as long as a slow tier needs."""
    ctx.slack.patient(SCAN_MAX_WAIT)
    ctx.zendesk.patient(SCAN_MAX_WAIT)


# ---------------------------------------------------------------- the scan

def scan(ctx: SyncContext, days: int, progress: Progress = _no_progress, daemon_may_run: bool = False) -> Scan:
    now = utcnow()
    found = Scan(since=now - timedelta(days=days))
    if daemon_may_run and ctx.store.active_leader() is not None:  # a daemon polls: what it has not reached yet is not missing
        found.slack_cut = epoch_seconds(now) - ctx.config.sync.slack_interval
        found.zendesk_cut = now - timedelta(seconds=ctx.config.sync.zendesk_interval)
    for channel in ctx.config.channel_list:  # each channel in turn, as the sync handles it
        with ctx.in_channel(channel.id):
            issues = ctx.store.issues_touching(ctx.channel, found.since)
            _scan_slack(ctx, found, issues, progress)
            _scan_tickets(ctx, found, issues, progress)
    _scan_email(ctx, found, progress)
    for item in ctx.store.failing_items(parked=True):
        found.gaps.append(Gap("parked", item.label, f"{item.attempts} attempts; last: {item.error}",
                              channel=item.channel, ts=item.ts, ticket_id=item.ticket_id))
    return found


def _scan_slack(ctx: SyncContext, found: Scan, issues: list[Issue], progress: Progress) -> None:
    channel, store = ctx.channel, ctx.store
    oldest = ts_for(epoch_seconds(found.since))
    progress("Reading Slack", 0, 1)
    parents = ctx.slack.history(channel, oldest=oldest)
    progress("Reading Slack", 1, 1)
    threads: dict[str, str | None] = {}  # thread ts -> read its replies after this ts (None: all)
    for message in parents:
        ts = message.ts
        if message.is_broadcast_reply:
            continue  # a reply also sent to the channel: checked in its thread
        issue = store.issue_by_thread(channel, ts)
        if (issue is None and s2z.is_person_content(ctx, message) and not found.is_recent_slack(ts)
                and (not reaction_mode.is_reaction_mode(ctx) or reaction_mode.opener(ctx, message))):
            found.messages[ts] = message
            found.gaps.append(_no_ticket_gap(ctx, message))
        if message.reply_count and (issue is not None or ts in found.messages):
            threads[ts] = None
    in_window = {m.ts for m in parents}
    for issue in issues:  # threads started before the window may have replies in it
        if issue.thread_ts not in in_window:
            threads[issue.thread_ts] = oldest
    for done, (thread_ts, after) in enumerate(sorted(threads.items()), 1):
        for reply in ctx.slack.replies(channel, thread_ts, oldest=after):
            if _reply_missing(ctx, reply) and not found.is_recent_slack(reply.ts):
                found.messages[reply.ts] = reply
                issue = store.issue_by_thread(channel, thread_ts)
                found.gaps.append(Gap(
                    "reply", f"{channel}/{reply.ts}",
                    f"in thread {thread_ts}" + (f", ticket #{issue.ticket_id}" if issue else ", which has no ticket"),
                    channel=channel, ts=reply.ts, thread_ts=thread_ts,
                    ticket_id=issue.ticket_id if issue else None, link=_link(ctx, reply.ts, thread_ts)))
        progress("Reading Slack threads", done, len(threads))


def _no_ticket_gap(ctx: SyncContext, message: Message) -> Gap:
    ts = message.ts
    # The far side may have the ticket while the store lost it: say so (one look-up).
    existing = ctx.zendesk.tickets_by_external_id(s2z.external_id(ctx.channel, ts))
    detail = (f"ticket #{existing[0].id} exists but the store has no record of it" if existing
              else "top-level message without a ticket")
    return Gap("no_ticket", f"{ctx.channel}/{ts}", detail, channel=ctx.channel, ts=ts, thread_ts=ts,
               ticket_id=existing[0].id if existing else None, link=_link(ctx, ts))


def _reply_missing(ctx: SyncContext, reply: Message) -> bool:
    """What handle_reply would still act on: a person's reply with no record, and not a
    thread command (those are recorded as command runs, not mirrored)."""
    channel, ts = ctx.channel, reply.ts
    if ctx.store.slack_item(channel, ts) or not s2z.is_person_content(ctx, reply):
        return False
    return ctx.store.command_run(channel, ts) is None


def _scan_tickets(ctx: SyncContext, found: Scan, issues: list[Issue], progress: Progress) -> None:
    mapped = [i for i in issues if i.ticket_id]
    if not mapped:
        return
    progress("Reading Zendesk tickets", 0, len(mapped))
    tickets = {t.id: t for t in ctx.zendesk.tickets([i.ticket_id for i in mapped])}
    for done, issue in enumerate(mapped, 1):
        ticket = tickets.get(issue.ticket_id)
        where = f"#{issue.ticket_id}"
        if ticket is None:
            found.gaps.append(Gap("status", where, f"store {issue.status}, ticket not found in Zendesk",
                                  channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=issue.ticket_id))
            continue
        found.tickets[ticket.id] = ticket
        if ticket.status != issue.status:
            found.gaps.append(Gap("status", where, f"store {issue.status}, Zendesk {ticket.status}",
                                  channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=ticket.id))
        if (zendesk_time(ticket.updated_at) or found.since) >= found.since:
            _scan_comments(ctx, found, issue, ticket)
        progress("Reading Zendesk tickets", done, len(mapped))


def _scan_comments(ctx: SyncContext, found: Scan, issue: Issue, ticket: Ticket) -> None:
    """What sync_ticket would still post: public comments whose id is not mapped."""
    mapped = ctx.store.mapped_comment_ids(issue)
    for comment in ctx.zendesk.comments(ticket.id):
        created = zendesk_time(comment.created_at)
        if (comment.public and comment.id not in mapped and (created or found.since) >= found.since
                and not found.is_recent_comment(created)):
            found.gaps.append(Gap("comment", f"#{ticket.id}", f"comment {comment.id}, thread {issue.thread_ts}",
                                  channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=ticket.id,
                                  comment_id=comment.id, link=_link(ctx, issue.thread_ts)))


def _scan_email(ctx: SyncContext, found: Scan, progress: Progress) -> None:
    """Email tickets of the group created in the window that no issue maps, by the
    email intake's own rules (not closed, sender not denied). Read from the incremental
    export, which lags a minute: newer tickets show next time."""
    cursor, start = None, int(epoch_seconds(found.since))
    for page in range(1, EXPORT_PAGES_MAX + 1):
        progress("Reading Zendesk export", page - 1, page)
        tickets, cursor, end = ctx.zendesk.export_page(cursor=cursor, start_time=None if cursor else start)
        for ticket in tickets:
            created = zendesk_time(ticket.created_at)
            if (email.is_ours(ctx, ticket, found.since) and ticket.id not in found.tickets
                    and ctx.store.issue_by_ticket(ticket.id) is None and not email.is_denied(ctx, ticket.id)):
                found.tickets[ticket.id] = ticket
                found.gaps.append(Gap("email", f"#{ticket.id}", f"{ticket.status}, created {_iso(created)}",
                                      ticket_id=ticket.id))
        if end or not tickets:
            progress("Reading Zendesk export", page, page)
            return


# ---------------------------------------------------------------- the repair

def repair(ctx: SyncContext, found: Scan) -> CycleResult:
    """Close each gap through the sync path that should have handled it: Slack items
    first (a new issue's replies follow it), then tickets, then email tickets."""
    from zsc.sync.engine import handle_ticket

    ctx.result = CycleResult()
    if ctx.store.unpark_all():  # parked items get a fresh start: the sync paths below try them again
        ctx.result.did("parked items: retried")
    marked = _mark_unknown(ctx, found)
    by_kind = {kind: [g for g in found.gaps if g.kind == kind] for kind in KINDS}
    steps: list[tuple[Gap, Callable[[], None]]] = []
    for gap in by_kind["no_ticket"]:
        steps.append((gap, lambda g=gap: _open_issue(ctx, found.messages[g.ts])))
    for gap in by_kind["reply"]:
        steps.append((gap, lambda g=gap: _repair_reply(ctx, found.messages[g.ts], g.thread_ts)))
    for ticket_id in dict.fromkeys(g.ticket_id for g in by_kind["comment"] + by_kind["status"]):
        if ticket_id in found.tickets:
            gap = next(g for g in found.gaps if g.ticket_id == ticket_id)
            steps.append((gap, lambda t=found.tickets[ticket_id]: _repair_ticket(ctx, t)))
    if by_kind["email"]:
        _cover_from(ctx, found.since)
    for gap in by_kind["email"]:
        steps.append((gap, lambda g=gap: handle_ticket(ctx, found.tickets[g.ticket_id])))
    try:
        for gap, step in steps:
            try:
                with ctx.in_channel(gap.channel or ctx.channel):
                    step()
            except (AuthError, RateLimited):
                raise
            except ApiError as exc:
                ctx.result.failed(f"{gap.where}: {exc}")
    finally:
        _drop_unused(ctx, marked)
    return ctx.result


def settle(ctx: SyncContext) -> CycleResult:
    """A repair can change the far side again (a mirrored reply reopens a ticket...):
    one ordinary cycle lets the store catch up, as the daemon's next poll would."""
    from zsc.sync.engine import cycle

    return cycle(ctx)


def _cover_from(ctx: SyncContext, since: datetime) -> None:
    """The email intake posts only mail that came after zsc's start position. Asking
    to fix N days asks for those days to be covered, so the start moves back to the
    window's start if it is later -- what `sync-once --since` does; everything already
    mirrored is recognised by id."""
    start = ctx.store.checkpoint(keys.EXPORT_START)
    if start is None or int(start) > int(epoch_seconds(since)):
        with ctx.store.atomic():
            ctx.store.set_checkpoint(keys.EXPORT_START, str(int(epoch_seconds(since))))


def _open_issue(ctx: SyncContext, message: Message) -> None:
    reactor = reaction_mode.opener(ctx, message) if reaction_mode.is_reaction_mode(ctx) else None
    s2z.open_issue(ctx, message, reactor=reactor)


def _repair_reply(ctx: SyncContext, reply: Message, thread_ts: str) -> None:
    issue = ctx.store.issue_by_thread(ctx.channel, thread_ts)
    if issue is not None:  # else its thread's ticket could not be opened: reported there
        s2z.handle_reply(ctx, issue, reply)


def _repair_ticket(ctx: SyncContext, ticket: Ticket) -> None:
    issue = ctx.store.issue_by_ticket(ticket.id)
    if issue is not None:
        z2s.sync_ticket(ctx, issue, ticket)


# The keys the sync paths give their effects (zsc.sync.slack_to_zendesk, zendesk_to_slack,
# effects.post_once's "post:" prefix). A pending intent under one of them makes the
# path look the effect up on the far side before writing it.
def _ticket_keys(channel: str, ts: str, ticket_id: int | None) -> list[str]:
    keys_ = [keys.ticket_key(channel, ts)]
    if ticket_id:  # the ticket exists: so may its permalink note and Slack confirmation
        keys_ += [keys.permalink_ref(ticket_id), keys.post_key(keys.confirm_ref(ticket_id))]
    return keys_


def _mark_unknown(ctx: SyncContext, found: Scan) -> list[str]:
    """A pending intent for every effect a gap's repair may find already done, dated at
    the source item (the far-side look-up searches from then on). Returns the keys
    this created, to drop the ones the repair never reached."""
    planned: list[tuple[str, str, datetime]] = []
    for gap in found.gaps:
        when = ts_time(gap.ts) if gap.ts else found.since
        if gap.kind == "no_ticket":
            planned += [(key, "ticket", when) for key in _ticket_keys(gap.channel, gap.ts, gap.ticket_id)]
        elif gap.kind == "reply":
            planned.append((keys.reply_key(gap.channel, gap.ts), "reply", when))
        elif gap.kind == "comment":
            planned.append((keys.post_key(keys.comment_ref(gap.comment_id)), "comment", when))
        elif gap.kind == "status" and gap.ticket_id in found.tickets:
            issue = ctx.store.issue_by_ticket(gap.ticket_id)
            if issue is not None:
                planned.append((keys.post_key(z2s.status_ref(ctx, issue)), "status", when))
    created = []
    with ctx.store.atomic():
        for key, kind, when in planned:
            if ctx.store.intent(key) is None:
                # attempts=0 tells "marked by check-missing, never tried" from a real pending write.
                ctx.store.begin_intent(key, kind, None, {"check_missing": True}, created_at=when, attempts=0)
                created.append(key)
    return created


def _drop_unused(ctx: SyncContext, keys: list[str]) -> None:
    """Marks the repair never reached (e.g. no status notice was due) must not linger
    as pending writes."""
    ctx.store.drop_unattempted(keys)


# ---------------------------------------------------------------- helpers

def _link(ctx: SyncContext, ts: str, thread_ts: str | None = None) -> str:
    return permalink(ctx.config.slack.workspace_uri or "https://slack.com/", ctx.channel, ts, thread_ts)



def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"
