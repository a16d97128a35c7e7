"""Emailed tickets -> Slack. A new ticket that came in by email to our group gets a
top-level message in the support channel with a thread under it; from then on the
thread and the ticket mirror both ways like a thread started in Slack.

Tickets are found by the engine's incremental ticket export (the engine hands
every unmapped ticket to `on_unmapped_ticket`), so emails that arrive while zsc is
down are posted when it is back.

The set-up, each step once whatever crashes in between:

1. the top-level post, tagged `email:<ticket>` in its metadata. A top-level post has
   no thread to search, so a lost answer is found again in the channel history;
   its ts is kept in the ticket flag `email_thread` until step 3;
2. the ticket's external_id = the thread (setting the same value twice is harmless);
3. the thread reply with the ticket link and the start of the email, recorded in
   one transaction with the Issue and the email's comment as mirrored. Only then
   is the ticket mapped: until that moment the engine keeps offering it here
   (the export cursor does not pass a failed item, and a crash never saves
   it), and each step resumes from where it got;
3b. the email's attachments, uploaded into the thread (zsc.sync.files, once per
   attachment id; one that keeps failing parks them alone, not the ticket);
4. the tail every new issue gets: the Slack-link note and the new-issue notices.
   The transaction of step 3 flags 3b and 4 as owed (ticket flags `email_files`,
   `email_tail`): if anything cuts them short -- a crash, a lost answer, Slack's post
   pace -- the engine's Slack poll, which reads the thread's top message every time,
   finishes them (`setup_unfinished`, `finish_setup`).

Senders can be filtered with [email] allow_domains / deny_domains / deny_addresses.
A denied ticket is not posted: one log line (no body), and the ticket flag
`email_denied` keeps the decision (and counts it), so later changes to that ticket
are neither re-logged nor re-counted (and cost no user lookup).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from zsc import format as fmt
from zsc.adapters.records import Comment, Ticket, permalink, zendesk_time
from zsc.errors import NotFound, Rejected
from zsc.store import EMAIL_DENIED, EMAIL_FILES, EMAIL_TAIL, EMAIL_THREAD, TO_SLACK, Issue, utcnow
from zsc.sync import files, group_boundary, keys, notices, parking, people
from zsc.sync.context import ZENDESK_TO_SLACK, SyncContext
from zsc.sync.effects import once, top_post_once, ts_with_ref
from zsc.sync.followup import is_closed_rejection
from zsc.sync.slack_to_zendesk import add_permalink_note

BODY_LIMIT = 1000  # characters of the email shown in Slack; the rest stays in the ticket
SETUP_GRACE = timedelta(minutes=2)  # a set-up this recent may still be under way in another instance
NOT_NEW = ("closed", "deleted")  # nothing left to do in Slack, and a closed ticket refuses the set-up writes


# ---------------------------------------------------------------- who may reach Slack

def _in_domains(domain: str, domains: tuple[str, ...] | list[str]) -> bool:
    """A listed domain covers its subdomains: example.com covers mail.example.com."""
    return any(domain == d or domain.endswith("." + d) for d in (x.lower() for x in domains))


def denial_reason(email: str | None, rules: Any) -> str | None:
    """Why mail from `email` is not posted, or None if it may be. Case-insensitive;
    a deny rule wins over the allow list; an empty allow list allows everyone."""
    address = (email or "").strip().lower()
    _, at, domain = address.rpartition("@")
    domain = domain if at else ""
    if address and address in (a.lower() for a in rules.deny_addresses):
        return "deny_addresses"
    if domain and _in_domains(domain, rules.deny_domains):
        return "deny_domains"
    if rules.allow_domains and not (domain and _in_domains(domain, rules.allow_domains)):
        return "not in allow_domains"
    return None


def sender_allowed(email: str | None, email_config: Any) -> bool:
    return denial_reason(email, email_config) is None


# ---------------------------------------------------------------- the intake

def on_unmapped_ticket(ctx: SyncContext, ticket: Ticket) -> None:
    if set_up_started(ctx, ticket.id):
        # A Slack message may already be out: finish its thread even if the ticket has
        # since moved group or closed, rather than leave it dangling.
        open_email_issue(ctx, ticket, *requester(ctx, ticket))
        return
    if not is_new_email(ctx, ticket) or is_denied(ctx, ticket.id):
        return
    name, address = requester(ctx, ticket)
    reason = denial_reason(address, ctx.config.email)
    if reason:
        deny(ctx, ticket, address, reason)
    else:
        open_email_issue(ctx, ticket, name, address)


def set_up_started(ctx: SyncContext, ticket_id: int) -> bool:
    return (ctx.store.intent(keys.email_post_ref(ticket_id)) is not None
            or ctx.store.flag(ticket_id, EMAIL_THREAD) is not None)


def is_ours(ctx: SyncContext, ticket: Ticket, since: datetime | None) -> bool:
    """The intake rule, shared with `check-missing`: a ticket that came in by email to
    one of our channels' groups, is not closed or deleted, and was created at or after `since` (naive UTC)."""
    if ticket.via_channel != "email" or ticket.group_id not in {c.group_id for c in ctx.config.channel_list} or ticket.status in NOT_NEW:
        return False
    created = zendesk_time(ticket.created_at)
    return since is not None and created is not None and created >= since


def is_new_email(ctx: SyncContext, ticket: Ticket) -> bool:
    """Ours, and since zsc started (or --since): older mail was never ours to post, and
    the export also shows old tickets when they change."""
    start = ctx.store.checkpoint(keys.EXPORT_START)  # always set before the first poll
    since = datetime.fromtimestamp(int(start), timezone.utc).replace(tzinfo=None) if start is not None else None
    return is_ours(ctx, ticket, since)


def requester(ctx: SyncContext, ticket: Ticket) -> tuple[str, str | None]:
    """Name and address (lower case, as addresses compare) of the sender; people caches both."""
    if not ticket.requester_id:
        return "someone", None
    name = people.zendesk_name(ctx, ticket.requester_id)
    cached = ctx.store.zendesk_user(ticket.requester_id)  # None if the user was not found
    address = (cached.email or "").strip().lower() if cached else ""
    return name, address or None


def deny(ctx: SyncContext, ticket: Ticket, address: str | None, reason: str) -> None:
    ctx.store.set_flag(ticket.id, EMAIL_DENIED, reason)
    ctx.result.did(f"Zendesk #{ticket.id}: email from {address or 'an unknown address'} not posted to Slack ({reason})",
                   ticket_id=ticket.id)


def is_denied(ctx: SyncContext, ticket_id: int) -> bool:
    return ctx.store.flag(ticket_id, EMAIL_DENIED) is not None


def denied_count(ctx: SyncContext) -> int:
    return ctx.store.count_flags(EMAIL_DENIED)


# ---------------------------------------------------------------- the set-up

def open_email_issue(ctx: SyncContext, ticket: Ticket, name: str, address: str | None) -> Issue:
    channel = ctx.channel
    top_ts = post_top(ctx, ticket, name, address)
    try:
        ctx.zendesk.update_external_id(ticket.id, f"slack:{channel}:{top_ts}")  # as a Slack-started ticket has
    except Rejected as exc:
        # Closed since the post went out (a set-up resumed after a crash): it refuses
        # every change, and the thread is finished without the external_id.
        if not is_closed_rejection(exc):
            raise
    comments = ctx.zendesk.comments(ticket.id)
    first = comments[0] if comments else None  # the email itself
    issue = post_thread(ctx, ticket, first, top_ts, name, address)
    finish_setup(ctx, issue, first, first_known=True)
    ctx.result.mirrored_one(ZENDESK_TO_SLACK)
    ctx.result.did(f"Zendesk #{ticket.id} (email from {address or name}) -> Slack {channel}/{top_ts}",
                   channel=channel, thread_ts=top_ts, ticket_id=ticket.id)
    return issue


def finish_setup(ctx: SyncContext, issue: Issue, first: Comment | None = None, *, first_known: bool = False) -> None:
    """Steps 3b and 4: the email's attachments (`first`, the ticket's first comment;
    read here unless `first_known`) and the tail every new issue gets -- the Slack-link note
    and the new-issue notices. Each part happens once; the set-up is finished when the
    flag step 3 set is cleared. A ticket deleted meanwhile has nothing left to set up."""
    ticket_id = issue.ticket_id
    try:
        if _files_owed(ctx, ticket_id):
            def copy_files() -> None:
                email = first
                if not first_known:  # resumed later: the ticket may have left the group since
                    if group_boundary.is_outside(ctx, ctx.zendesk.ticket(ticket_id)):
                        return  # (owed still: they follow if it comes back)
                    comments = ctx.zendesk.comments(ticket_id)
                    email = comments[0] if comments else None
                files.mirror_email_files(ctx, issue, email)

            # An attachment that keeps failing parks the files alone: the rest of the set-up goes on.
            parking.attempt(ctx, keys.email_files_item(ticket_id), f"Zendesk #{ticket_id} email attachments",
                            copy_files, ticket_id=ticket_id)
        add_permalink_note(ctx, issue, permalink(ctx.workspace_uri, issue.channel, issue.thread_ts))
        notices.after_new_issue(ctx, issue)
    except NotFound:
        ctx.store.clear_flag(ticket_id, EMAIL_FILES)  # the ticket is gone (the Zendesk poll tells the thread)
    if ticket_id in ctx.store.tickets_flagged(EMAIL_TAIL):
        ctx.store.clear_flag(ticket_id, EMAIL_TAIL)


def _files_owed(ctx: SyncContext, ticket_id: int) -> bool:
    """The first email's attachments are still to be copied, and may be now: not parked
    (then `check-missing --fix` retries them), and not while the ticket is outside the
    group (its content stays out of Slack; they follow if it comes back)."""
    return (ticket_id in ctx.store.tickets_flagged(EMAIL_FILES)
            and not ctx.store.is_parked(keys.email_files_item(ticket_id))
            and group_boundary.moves(ctx, ticket_id) is None)


def setup_unfinished(ctx: SyncContext, issue: Issue) -> bool:
    """The thread is mapped but the set-up was cut short after that (a crash, a lost
    answer, Slack's post pace) -- with several instances sharing the work, for longer
    than a set-up under way takes (SETUP_GRACE: another may be finishing it). The export no
    longer offers a mapped ticket to the set-up, and zsc's own top post is not new to
    the Slack poll after its first read: so the Slack poll, which reads the top post
    every time, finishes it. (Also a Slack-link note of unknown outcome on a set-up
    mapped before EMAIL_TAIL existed.)"""
    if issue.origin != "email":
        return False
    owed = ctx.store.tickets_flagged(EMAIL_TAIL).get(issue.ticket_id)
    grace = SETUP_GRACE if ctx.only_channels is not None else timedelta(0)  # (alone: no set-up is under way now)
    return ((owed is not None and utcnow() - owed >= grace)
            or (_files_owed(ctx, issue.ticket_id) and owed is None)
            or ctx.store.intent(keys.permalink_ref(issue.ticket_id)) is not None)


def post_top(ctx: SyncContext, ticket: Ticket, name: str, address: str | None) -> str:
    """Step 1: the top-level post; its ts once known is kept until the Issue exists."""
    saved = ctx.store.flag(ticket.id, EMAIL_THREAD)
    if saved:
        return saved
    channel, ref = ctx.channel, keys.email_post_ref(ticket.id)
    domain = address.rpartition("@")[2] if address and "@" in address else "unknown address"
    subject = _one_line(ticket.subject, fmt.SUBJECT_LIMIT) or "(no subject)"
    text = f"📧 New email request from {_one_line(name, 100)} ({_one_line(domain, 100)}): {subject}"

    return top_post_once(ctx, channel, text, ref, key=ref, kind="email", payload={"ref": ref, "ticket_id": ticket.id},
                         record=lambda ts: ctx.store.set_flag(ticket.id, EMAIL_THREAD, ts))


def post_thread(ctx: SyncContext, ticket: Ticket, first: Comment | None, top_ts: str, name: str,
                address: str | None) -> Issue:
    """Step 3: the thread reply with the start of the email (`first`, the ticket's
    first comment), recorded together with the Issue that maps the ticket."""
    channel, ref = ctx.channel, keys.confirm_ref(ticket.id)
    body = first.body if first else ticket.description
    excerpt = fmt.truncate(body.strip(), BODY_LIMIT)
    quoted = "\n".join(f"> {line}" for line in (fmt.zendesk_to_slack(excerpt) or fmt.NO_TEXT).splitlines())
    more = "\n_The rest of the email is in the ticket._" if excerpt != body.strip() else ""
    text = (f"Ticket {ctx.ticket_link(ticket.id)}. Replies in this thread are added to it as public comments, "
            f"so the sender gets them by email; its public replies appear here.\n{quoted}{more}")

    def do() -> str:
        return ctx.slack.post(channel, text, thread_ts=top_ts, ref=ref)

    def find(_intent) -> str | None:
        return ts_with_ref(ctx.slack.replies(channel, top_ts), ref)

    def record(reply_ts: str) -> None:
        issue = ctx.store.create_issue(
            channel=channel, thread_ts=top_ts, ticket_id=ticket.id, origin="email", status="new",
            subject=ticket.subject, requester_name=name, requester_email=address,
            # When the email arrived: ages and office hours count from then.
            opened_at=zendesk_time(ticket.created_at) or utcnow(), last_activity_at=utcnow())
        ctx.store.record_item(issue, TO_SLACK, "email", slack_ts=top_ts, ref=keys.email_post_ref(ticket.id))
        # The email is the first comment: mapped here, so the ticket sync does not post it again.
        ctx.store.record_item(issue, TO_SLACK, "email_body", slack_ts=reply_ts,
                              comment_id=first.id if first else None, ref=ref)
        ctx.store.clear_flag(ticket.id, EMAIL_THREAD)
        files.owe_email_files(ctx, ticket.id, first)  # step 3b, finished even after a crash here
        ctx.store.set_flag(ticket.id, EMAIL_TAIL, "owed")  # steps 3b and 4: cleared when they are done

    once(ctx, f"email:reply:{ticket.id}", "email_body", None, {"ref": ref, "ticket_id": ticket.id}, do, find, record)
    return ctx.store.issue_by_ticket(ticket.id)


def _one_line(text: str, limit: int) -> str:
    """Outside text for a one-line spot: whitespace collapsed, cut, unable to ping."""
    return fmt.zendesk_to_slack(fmt.truncate(" ".join((text or "").split()), limit))
