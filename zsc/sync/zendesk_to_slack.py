"""Zendesk -> Slack: public comments become thread replies, solves/closes are announced."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from zsc import format as fmt
from zsc.adapters.zendesk import Ticket
from zsc.store import DONE_STATUSES, Issue
from zsc.sync import keys, people
from zsc.sync.context import SyncContext
from zsc.sync.effects import post_once, resolve_pending_comments

STATUS_WORDS = {"solved": "solved", "closed": "closed"}


def sync_ticket(ctx: SyncContext, issue: Issue, ticket: Ticket) -> None:
    """Mirror what is new on one mapped ticket, then remember how far we got."""
    started = datetime.now(timezone.utc)
    comments = ctx.zendesk.comments(ticket.id)
    resolve_pending_comments(ctx, issue, comments)
    mapped = ctx.store.mapped_comment_ids(issue)
    for comment in comments:
        if comment.id in mapped or not comment.public:
            continue  # already mirrored (or written by zsc), or an internal note: never shown
        author = people.zendesk_name(ctx, comment.author_id)
        text = fmt.zendesk_comment_to_slack(author, comment.body)
        for part, chunk in enumerate(fmt.split_for_slack(text)):
            # Only the first chunk carries the comment id; the rest are keyed by ref alone.
            post_once(ctx, issue, keys.comment_ref(comment.id, part), "comment", chunk,
                      comment_id=None if part else comment.id)
        ctx.result.did(f"Zendesk #{ticket.id} comment {comment.id} -> Slack {issue.channel}/{issue.thread_ts}",
                       channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=ticket.id, comment_id=comment.id)
    follow_status(ctx, issue, ticket)
    issue.zendesk_updated_at = min(ticket.updated_at, settled_before(started))
    issue.save()


def settled_before(moment: datetime) -> str:
    """Zendesk timestamps have whole seconds: a comment added later in the same
    second as our read shares the ticket's updated_at. Only claim what was settled
    a second before we started reading; the rest is looked at once more."""
    return (moment - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def follow_status(ctx: SyncContext, issue: Issue, ticket: Ticket) -> None:
    """Solved/closed in Zendesk: one notice in the thread and the issue closed in the store.
    Reopened in Zendesk: the store follows quietly."""
    if ticket.status in DONE_STATUSES:
        if issue.is_open:
            post_once(ctx, issue, keys.status_ref(ticket.id, ticket.updated_at), "status",
                      f"Ticket {ctx.ticket_link(ticket.id)} was marked {STATUS_WORDS[ticket.status]} in Zendesk. "
                      "Reply here if you still need help.")
            ctx.result.did(f"Zendesk #{ticket.id} {ticket.status} -> Slack {issue.channel}/{issue.thread_ts}",
                           channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=ticket.id)
        ctx.store.close_issue(issue, ticket.status)
    elif not issue.is_open:
        ctx.store.reopen_issue(issue, ticket.status)
    else:
        issue.status = ticket.status
        issue.save()


def needs_sync(issue: Issue, ticket: Ticket) -> bool:
    return issue.zendesk_updated_at is None or ticket.updated_at > issue.zendesk_updated_at
