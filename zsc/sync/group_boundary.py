"""The configured Zendesk group is the trust boundary (DESIGN rule 9): only its
tickets ever reach Slack, whenever they leave it.

When a mapped ticket moves to another group (HR, legal, billing...), its thread gets
one notice, the ticket's public comments from then on are withheld (recorded as
such, so they never reach Slack, even if the ticket comes back), its status is
followed quietly, and replies in the thread are not sent to it -- the thread is told
once where to go instead. Moving back into the group resumes the mirroring."""

from __future__ import annotations

from zsc.adapters.records import Comment, Message, Ticket
from zsc.store import TO_SLACK, TO_ZENDESK, Issue
from zsc.sync.context import SyncContext
from zsc.sync.effects import post_once

MOVED_OUT = "moved_out"  # ticket flag while the ticket is outside the group; value: the n-th move out

MOVED_NOTICE = ("Ticket #{id} moved to another team in Zendesk; this thread no longer reaches it, "
                "and its replies there are not shown here.")
REPLY_NOTICE = ("This request moved to another team in Zendesk, so replies here no longer reach it. "
                "For anything new, post a new message in this channel: that opens a new ticket.")


def is_outside(ctx: SyncContext, ticket: Ticket) -> bool:
    """Outside its channel's group (a deleted ticket has no group any more, and says nothing)."""
    return ticket.status != "deleted" and ticket.group_id != ctx.channel_config.group_id


def moves(ctx: SyncContext, ticket_id: int) -> int | None:
    """While the ticket is outside the group: how many times it has moved out; else None."""
    value = ctx.store.flag(ticket_id, MOVED_OUT)
    return int(value) if value else None


def withhold(ctx: SyncContext, issue: Issue, ticket: Ticket, comments: list[Comment]) -> None:
    """The ticket is outside the group: say so once per move, and record its public
    comments as withheld so no later sync posts them."""
    nth = moves(ctx, ticket.id)
    if nth is None:
        nth = _last_move(ctx, issue, ticket.id) + 1
        post_once(ctx, issue, f"moved:{ticket.id}:{nth}", "moved", MOVED_NOTICE.format(id=ticket.id))
        ctx.store.set_flag(ticket.id, MOVED_OUT, str(nth))
        ctx.result.did(f"Zendesk #{ticket.id} moved out of the group -> Slack {issue.channel}/{issue.thread_ts}",
                       channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=ticket.id)
    mapped = ctx.store.mapped_comment_ids(issue)
    with ctx.store.atomic():
        for comment in comments:
            if comment.public and comment.id not in mapped:
                ctx.store.record_item(issue, TO_SLACK, "withheld", comment_id=comment.id)


def back_in(ctx: SyncContext, ticket: Ticket) -> None:
    """The ticket is in the group (again): mirroring resumes."""
    if moves(ctx, ticket.id) is not None:
        ctx.store.clear_flag(ticket.id, MOVED_OUT)


def withhold_reply(ctx: SyncContext, issue: Issue, reply: Message) -> bool:
    """A reply in the thread of a ticket outside the group is not sent to it: recorded
    as withheld, and the thread told once (per move) where to go. False: not moved."""
    nth = moves(ctx, issue.ticket_id) if issue.ticket_id else None
    if nth is None:
        return False
    # Rare, and withholding is for good: ask whether it came back since the last Zendesk poll.
    ticket = ctx.zendesk.ticket(issue.ticket_id)
    if not is_outside(ctx, ticket):
        back_in(ctx, ticket)
        return False
    post_once(ctx, issue, f"moved-reply:{issue.ticket_id}:{nth}", "moved", REPLY_NOTICE)
    ctx.store.record_item(issue, TO_ZENDESK, "withheld", slack_ts=reply.ts)
    return True


def _last_move(ctx: SyncContext, issue: Issue, ticket_id: int) -> int:
    prefix = f"moved:{ticket_id}:"
    return sum(1 for ref in ctx.store.recorded(issue).refs if ref.startswith(prefix))
