"""Channels in reaction mode: a top-level message opens a ticket only once a person
(not a bot, not zsc) reacts to it with the channel's `reaction` emoji.

Such a message may be reacted to long after it was posted, so for these channels
the engine reads the last `thread_window_days` of history every poll (not only what
is newer than the top cursor), and any message there with the reaction and no
ticket yet opens one -- provided it was posted after zsc first watched the channel
(so turning reaction mode on does not open tickets for old history). Removing the
reaction later changes nothing: the ticket is not undone.

Replies written in the thread before the reaction go into the ticket's first
comment, so the agent sees the context, and are recorded as mirrored in the same
transaction that maps the ticket, so they are never written again."""

from __future__ import annotations

from zsc.adapters.records import Message, ts_after
from zsc.errors import ApiError, AuthError, RateLimited
from zsc.sync import keys, people
from zsc.sync.context import SyncContext


def is_reaction_mode(ctx: SyncContext) -> bool:
    return ctx.channel_config.mode == "reaction"


def opener(ctx: SyncContext, message: Message) -> str | None:
    """The first person who reacted to `message` with the channel's reaction, or None."""
    name = ctx.channel_config.reaction
    start = ctx.store.checkpoint(keys.slack_start(ctx.channel))
    if start is not None and not ts_after(message.ts, start):
        return None  # older than zsc's watch of this channel
    for reaction in message.reactions:
        if reaction.name != name:
            continue
        for user in reaction.users:
            if not is_bot(ctx, user):
                return user
    return None


def is_bot(ctx: SyncContext, user_id: str) -> bool:
    """zsc itself or any bot user (asked once per process: a bot's reaction stays in the
    window and is seen every poll)."""
    if user_id == ctx.slack.auth_test().user_id:
        return True
    known = ctx.bots.get(user_id)
    if known is None:
        try:
            known = ctx.slack.user(user_id).is_bot
        except (AuthError, RateLimited):
            raise
        except ApiError:
            return False  # someone Slack will not describe (another organisation): a person
        ctx.bots[user_id] = known
    return known


def context_replies(ctx: SyncContext, message: Message) -> list[Message]:
    """The thread's replies written by people before the ticket was opened."""
    if not message.reply_count:
        return []
    from zsc.sync.slack_to_zendesk import is_person_content

    return [r for r in ctx.slack.replies(ctx.channel, message.ts)
            if r.ts != message.ts and is_person_content(ctx, r)]


def context_text(ctx: SyncContext, replies: list[Message]) -> str:
    """The replies as a block under the first message."""
    from zsc.sync.slack_to_zendesk import message_author, plain_text

    if not replies:
        return ""
    lines = [f"{message_author(ctx, r).name}: {plain_text(ctx, r)}" for r in replies]
    return "\n\nReplies in the Slack thread so far:\n" + "\n".join(lines)


def reactor_note(ctx: SyncContext, reactor: str) -> str:
    person = people.slack_person(ctx, reactor)
    return f"Ticket opened from Slack by {person.name}, who reacted :{ctx.channel_config.reaction}: to the message."
