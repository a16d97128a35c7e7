"""A reply in the thread of a closed ticket: Zendesk will not reopen it, so open a
follow-up ticket, map the thread to it and say so — nothing the person wrote is lost.
The same when the ticket was deleted in Zendesk."""

from __future__ import annotations

import hashlib
from typing import Any

from zsc.adapters.records import Message
from zsc.errors import Rejected
from zsc.store import TO_ZENDESK, Issue
from zsc.sync import files, keys
from zsc.sync.context import SLACK_TO_ZENDESK, SyncContext
from zsc.sync.effects import create_ticket_once, post_once


def is_closed_rejection(exc: Exception) -> bool:
    """Zendesk refused an update because the ticket is closed (422 "Status closed prevents ticket update")."""
    return isinstance(exc, Rejected) and "closed" in str(exc).lower()


def follow_up_closed(ctx: SyncContext, issue: Issue, reply: Message, body: str, author_id: int | None,
                     deleted: bool = False, uploads: dict[str, Any] | None = None) -> None:
    """`body`: the reply's text as its comment would have had it; its files are attached
    to the follow-up's first comment (`uploads`: those the refused comment had uploaded)."""
    old_ticket = issue.ticket_id
    gone = "was deleted" if deleted else "is closed"
    if not deleted:
        catch_up_old_ticket(ctx, issue)
    zcfg = ctx.config.zendesk
    key = keys.followup_key(issue.channel, reply.ts)
    ext = f"slack:{issue.channel}:{issue.thread_ts}:followup:{reply.ts}"
    requester: dict[str, Any] = {"id": author_id or zcfg.agent_user_id}
    subject = f"Follow-up to #{old_ticket}: {issue.subject}"[:150]

    def do() -> tuple[int, int | None]:
        # The reply's files go on the follow-up's first comment, as on any reply's comment
        # (uploaded inside the write; the tokens kept in this intent for a retry).
        files.keep_uploads(ctx, key, uploads, deleted=deleted)  # (a retry says "deleted" as this one does)
        text, tokens = files.attach_slack_files(ctx, key, reply.files, body)
        return ctx.zendesk.create_ticket(
            subject=subject, body=f"{text}\n\n(Follow-up to ticket #{old_ticket}, which {gone})", requester=requester,
            assignee_id=zcfg.agent_user_id, group_id=ctx.config.channel_config(issue.channel).group_id, external_id=ext, tags=["zsc", "zsc_followup"],
            idempotency_key=hashlib.sha256(key.encode()).hexdigest()[:40],
            followup_source_id=None if deleted else old_ticket, **({"uploads": tokens} if tokens else {}),
        )

    def record(result: tuple[int, int | None]) -> None:
        new_ticket, first_comment = result
        ctx.store.record_item(issue, TO_ZENDESK, "followup", slack_ts=reply.ts, comment_id=first_comment)
        ctx.store.move_to_followup(issue, new_ticket)

    new_ticket, _ = create_ticket_once(ctx, key, "followup", issue, ext, do, record)
    post_once(ctx, issue, notice_ref(new_ticket), "followup",
              f"Ticket #{old_ticket} {gone}, so your message opened a follow-up: {ctx.ticket_link(new_ticket)}.")
    ctx.result.mirrored_one(SLACK_TO_ZENDESK)  # the reply, as the follow-up's first message
    ctx.result.did(f"Slack {issue.channel}/{reply.ts} -> follow-up ticket #{new_ticket} (#{old_ticket} {gone})",
                   channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=new_ticket)


def catch_up_old_ticket(ctx: SyncContext, issue: Issue) -> None:
    """Mirror what the closed ticket got since zsc last read it (its last public
    comments, its close) before the thread moves to the follow-up: afterwards the old
    ticket is no longer mapped and nothing would read it again. Happens when zsc was
    down while the ticket was answered, solved and closed, and the Slack poll comes first."""
    from zsc.sync import zendesk_to_slack as z2s

    ticket = ctx.zendesk.ticket(issue.ticket_id)
    if z2s.needs_sync(issue, ticket):
        z2s.sync_ticket(ctx, issue, ticket)


def notice_ref(ticket_id: int) -> str:
    return f"followup:{ticket_id}"


def finish_followup_notice(ctx: SyncContext, issue: Issue) -> None:
    """The follow-up is recorded with its reply, before its notice is posted: if that
    post's outcome was unknown (a lost answer, a crash), the reply is not handled
    again, so the notice is finished here, when the thread is re-read, with the text
    it had (looked up first: posted once at most)."""
    pending = ctx.store.intent(keys.post_key(notice_ref(issue.ticket_id)))
    if pending is not None:
        post_once(ctx, issue, notice_ref(issue.ticket_id), "followup", pending.data["text"])
