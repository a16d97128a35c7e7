"""Slack edits and deletions after zsc mirrored a message: each becomes one internal
note on the ticket (the comment already written stays as it was: Zendesk comments are
not edited, and the note keeps what changed on the record).

What zsc sees, and when (it reads no more than it did before):
- a thread parent's edit or deletion shows in the channel history every poll reads
  (an edit as a moved `edited.ts`, a deletion as a "tombstone" that keeps its thread);
- a reply's edit or deletion shows when zsc next reads the thread (it does so when the
  thread has a new reply). Threads of up to SMALL_THREAD replies are then read from
  their start, in the one call the read costs anyway, so their older replies are seen;
  longer threads are read from where zsc left off, and their older replies' edits and
  deletions are not noticed.
An edit made before zsc mirrored the message is simply mirrored as edited."""

from __future__ import annotations

from zsc import format as fmt
from zsc.adapters.records import Message, ts_after
from zsc.errors import NotFound, Rejected
from zsc.store import TO_ZENDESK, Issue
from zsc.sync import keys, people
from zsc.sync.context import SyncContext
from zsc.sync.effects import comment_once

SMALL_THREAD = 15  # one page even on Slack's limited tier (15 messages a page)
PARENT_DELETED = "The Slack message that opened this ticket was deleted (its thread goes on)."


def note_parent(ctx: SyncContext, issue: Issue, message: Message) -> None:
    """The thread parent as history shows it now: deleted (a tombstone) or edited."""
    if message.ts != issue.thread_ts or message.from_zsc:
        return  # (an emailed ticket's thread opens with zsc's own post)
    if message.subtype == "tombstone":
        _note(ctx, issue, keys.deleted_ref(issue.channel, message.ts), PARENT_DELETED)
    elif message.edited_ts:
        note_edit(ctx, issue, message)


def note_edit(ctx: SyncContext, issue: Issue, message: Message) -> None:
    """One internal note per edit version of a message zsc mirrored to this ticket."""
    ref = keys.edit_ref(issue.channel, message.ts, message.edited_ts or "")
    if not message.edited_ts or ref in ctx.store.recorded(issue).refs:
        return
    if ctx.store.mirrored_comment_of(issue, message.ts) is None and message.ts != issue.thread_ts:
        return  # not mirrored here (a command, a withheld reply, a follow-up): nothing to amend
    name = author_name(ctx, message)
    text = fmt.slack_to_plain(message.text, user_name=lambda uid: people.slack_name(ctx, uid))
    _note(ctx, issue, ref, f"*{name}* edited their Slack message: {text}".rstrip())


def mirrored_as_edited(ctx: SyncContext, issue: Issue, message: Message) -> None:
    """In the transaction recording a message's mirror: its current edit version is
    already in what was mirrored, so it needs no note."""
    if message.edited_ts:
        ctx.store.record_item(issue, TO_ZENDESK, "edit", ref=keys.edit_ref(issue.channel, message.ts, message.edited_ts))


# ---------------------------------------------------------------- replies

def read_from(issue: Issue) -> str | None:
    """Where a thread read starts: None (the whole thread, so older replies' edits and
    deletions are seen) when it is small, else after the last reply handled."""
    count = issue.slack_reply_count
    return None if count is not None and count <= SMALL_THREAD else issue.slack_reply_cursor


def seen_reply(ctx: SyncContext, issue: Issue, reply: Message) -> bool:
    """Each reply a thread read returns. True for one handled before (read again for
    its edits only): the caller skips it."""
    ctx.memo.setdefault(("replies_seen", issue.id), set()).add(reply.ts)
    if ts_after(reply.ts, issue.slack_reply_cursor):
        return False
    note_edit(ctx, issue, reply)
    return True


def after_read(ctx: SyncContext, issue: Issue, oldest: str | None) -> None:
    """After a whole-thread read: a reply mirrored before and missing now was deleted."""
    seen = ctx.memo.pop(("replies_seen", issue.id), set())
    if oldest is not None:
        return
    for ts, comment_id in sorted(ctx.store.mirrored_replies(issue).items()):
        if ts not in seen:
            what = f"comment #{comment_id}" if comment_id else "a comment"
            _note(ctx, issue, keys.deleted_ref(issue.channel, ts),
                  f"The Slack reply mirrored as {what} was deleted in Slack.")


# ---------------------------------------------------------------- helpers

def author_name(ctx: SyncContext, message: Message) -> str:
    if message.user and not message.bot_id:
        return people.slack_person(ctx, message.user, message.profile_name).name
    return message.bot_name or "A bot"


def _note(ctx: SyncContext, issue: Issue, ref: str, body: str) -> None:
    if ref in ctx.store.recorded(issue).refs:
        return
    try:
        comment_once(ctx, issue, ref, "note", body, public=False, author_id=None, ref=ref)
    except (Rejected, NotFound):
        # A closed (or deleted) ticket takes no notes: remember it was not needed, not retry forever.
        ctx.store.record_item(issue, TO_ZENDESK, "note", ref=ref)
        return
    ctx.result.did(f"Slack {issue.channel}/{issue.thread_ts} -> note on ticket #{issue.ticket_id}", body[:80],
                   channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=issue.ticket_id)
