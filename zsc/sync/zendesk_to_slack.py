"""Zendesk -> Slack: public comments become thread replies, solves/closes are announced."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from zsc import format as fmt
from zsc.adapters.records import Comment, Ticket, zendesk_time
from zsc.errors import NotFound
from zsc.store import DONE_STATUSES, TO_SLACK, Issue
from zsc.sync import files, group_boundary, keys, parking, people
from zsc.sync.context import ZENDESK_TO_SLACK, SyncContext
from zsc.sync.effects import post_once, resolve_pending_comments, ts_with_ref

NOTICES = {
    "solved": "Ticket {link} was marked solved in Zendesk. Reply here if you still need help.",
    "closed": "Ticket {link} was marked closed in Zendesk. Reply here if you still need help.",
    "deleted": "Ticket #{id} was deleted in Zendesk. Reply here if you still need help: that opens a new ticket.",
}


def sync_ticket(ctx: SyncContext, issue: Issue, ticket: Ticket) -> None:
    """Mirror what is new on one mapped ticket, then remember how far we got."""
    started = datetime.now(timezone.utc)
    read = False
    if ticket.status == "deleted":
        comments = []  # nothing left to read: only the notice
    elif only_own_comments(ctx, issue, ticket):
        comments = []  # what changed is zsc's own comments (or the status): nothing to read back
    else:
        try:
            comments, read = ctx.zendesk.comments(ticket.id), True
        except NotFound:  # deleted since it was listed: the export will say so, say it now
            ticket = replace(ticket, status="deleted")
            comments = []
    resolve_pending_comments(ctx, issue)
    if group_boundary.is_outside(ctx, ticket):
        group_boundary.withhold(ctx, issue, ticket, comments)
        follow_status(ctx, issue, ticket, quietly=True)
        ctx.store.mark_ticket_seen(issue, min(ticket.updated_at, settled_before(started)))
        return
    group_boundary.back_in(ctx, ticket)
    note_first_answer(ctx, issue, ticket, comments)
    mapped = ctx.store.mapped_comment_ids(issue)
    for comment in comments:
        if comment.id in mapped or not comment.public:
            continue  # already mirrored (or written by zsc), or an internal note: never shown
        # A comment that keeps failing is parked rather than holding up the ticket.
        parking.attempt(ctx, keys.comment_item(ticket.id, comment.id), f"Zendesk #{ticket.id} comment {comment.id}",
                        lambda: mirror_comment(ctx, issue, ticket.id, comment), nested=True, ticket_id=ticket.id)
    if follow_status(ctx, issue, ticket):
        ctx.store.mark_ticket_seen(issue, min(ticket.updated_at, settled_before(started)))
        if read:
            ctx.store.set_comment_count(issue, len(comments))


def only_own_comments(ctx: SyncContext, issue: Issue, ticket: Ticket) -> bool:
    """Zendesk counts as many comments as zsc knows of (those it read, and its own
    written since): none is new, so the comments need not be read again."""
    # (not while any write's outcome is unknown: finding it may need the comments)
    return (ticket.comment_count is not None and issue.zendesk_comment_count == ticket.comment_count
            and not ctx.store.has_pending())


def mirror_comment(ctx: SyncContext, issue: Issue, ticket_id: int, comment: Comment) -> None:
    author = people.zendesk_name(ctx, comment.author_id)
    # Attachments first (each once, by id); the ones only named get a line in the post,
    # whose last chunk marks the comment mirrored.
    notes = files.mirror_attachments(ctx, issue, comment.attachments)
    body = files.with_notes(comment.body, notes)
    as_user = people.zendesk_look(ctx, comment.author_id, author) if ctx.config.slack.post_as_agent else None
    text = fmt.zendesk_comment_as_agent(body) if as_user else fmt.zendesk_comment_to_slack(author, body)
    # A flood cap: an outsider's 100,000-character email must not become 29 posts.
    chunks = fmt.cap_posts(fmt.split_for_slack(text), ctx.config.sync.max_slack_posts_per_comment,
                           ctx.ticket_url(ticket_id))
    for part, chunk in enumerate(chunks):
        # Each chunk is its own post; only the last carries the comment id, so the
        # comment counts as mirrored once all of it is in the thread.
        last = part == len(chunks) - 1
        post_once(ctx, issue, keys.comment_ref(comment.id, part), "comment", chunk,
                  comment_id=comment.id if last else None, as_user=as_user)
    ctx.result.mirrored_one(ZENDESK_TO_SLACK)
    ctx.result.did(f"Zendesk #{ticket_id} comment {comment.id} -> Slack {issue.channel}/{issue.thread_ts}",
                   channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=ticket_id, comment_id=comment.id)


def note_first_answer(ctx: SyncContext, issue: Issue, ticket: Ticket, comments: list[Comment]) -> None:
    """The earliest public comment by an agent other than zsc's own (not the requester,
    not one zsc wrote for a Slack message) is the issue's first answer. Looked for among
    all comments, not only new ones, so an answer mirrored just before a crash counts."""
    if issue.first_response_at is not None:
        return
    me = ctx.config.zendesk.agent_user_id
    answers = [c for c in comments if c.public and c.author_id not in (None, me, ticket.requester_id)
               and zendesk_time(c.created_at) is not None]
    if not answers:
        return
    written = ctx.store.comment_ids_written(issue)
    for comment in sorted((c for c in answers if c.id not in written), key=lambda c: zendesk_time(c.created_at)):
        if people.zendesk_is_agent(ctx, comment.author_id):  # a CC'd customer's email is no answer
            ctx.store.note_first_response(issue, zendesk_time(comment.created_at))
            return


def settled_before(moment: datetime) -> str:
    """Zendesk timestamps have whole seconds: a comment added later in the same
    second as our read shares the ticket's updated_at. Only claim what was settled
    a second before we started reading; the rest is looked at once more."""
    return (moment - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def follow_status(ctx: SyncContext, issue: Issue, ticket: Ticket, quietly: bool = False) -> bool:
    """Solved/closed in Zendesk: one notice in the thread and the issue closed in the store.
    Reopened in Zendesk: the store follows quietly (and always when `quietly`: a ticket
    outside the group says nothing in Slack). Returns False when the status is
    left for later: a thread command of zsc's own (a resolve) has an unknown outcome,
    and it, not a "marked solved in Zendesk" notice, will tell the thread."""
    if ticket.status in DONE_STATUSES:
        if any(key.startswith("command:") for key in ctx.store.pending_keys(issue)):
            return False  # a resolve of ours, outcome unknown: it will speak for itself
        if issue.is_open and not quietly:
            post_once(ctx, issue, status_ref(ctx, issue), "status",
                      NOTICES[ticket.status].format(link=ctx.ticket_link(ticket.id), id=ticket.id))
            ctx.result.did(f"Zendesk #{ticket.id} {ticket.status} -> Slack {issue.channel}/{issue.thread_ts}",
                           channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=ticket.id)
        else:
            settle_stale_notice(ctx, issue)  # closed meanwhile by a thread command, which said so itself
        ctx.store.close_issue(issue, ticket.status)
    else:
        settle_stale_notice(ctx, issue)
        if not issue.is_open:
            ctx.store.reopen_issue(issue, ticket.status)
        elif issue.status != ticket.status:
            ctx.store.set_status(issue, ticket.status)
    return True


def settle_stale_notice(ctx: SyncContext, issue: Issue) -> None:
    """A close notice of unknown outcome (its answer lost), and before the next cycle
    the ticket reopened, or a `resolve` in the thread closed the issue: the notice is
    not posted any more, but its intent must not linger (it would stay pending for
    good, and answer the next close with this old post).
    If it was posted it is recorded, so the next close gets a notice of its own."""
    ref = status_ref(ctx, issue)
    key = keys.post_key(ref)
    if ctx.store.intent(key) is None:
        return
    ts = ts_with_ref(ctx.slack.replies(issue.channel, issue.thread_ts), ref)
    with ctx.store.atomic():
        if ts:
            ctx.store.record_item(issue, TO_SLACK, "status", slack_ts=ts, ref=ref)
        ctx.store.finish_intent(key)


def status_ref(ctx: SyncContext, issue: Issue) -> str:
    """The notice for this issue's n-th close: stable across retries (however the ticket
    changes meanwhile), new when the ticket is reopened and closed again."""
    prefix = keys.status_ref(issue.ticket_id, 0)
    announced = sum(1 for ref in ctx.store.recorded(issue).refs if ref.startswith(prefix))
    return keys.status_ref(issue.ticket_id, announced + 1)


def needs_sync(issue: Issue, ticket: Ticket) -> bool:
    return issue.zendesk_updated_at is None or ticket.updated_at > issue.zendesk_updated_at
