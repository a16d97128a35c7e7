"""Slack -> Zendesk: new top-level messages open tickets, thread replies become comments.

What runs around that is called here, explicitly: a new issue gets the new-issue
notices (zsc.sync.notices) and keyword replies; a reply is first offered to the
thread commands (zsc.sync.commands), then checked for keywords, then mirrored."""

from __future__ import annotations

import hashlib
from typing import Any

from zsc import format as fmt
from zsc.adapters.records import Message, permalink, ts_after, ts_time
from zsc.errors import NotFound, Rejected
from zsc.store import TO_ZENDESK, Issue, utcnow
from zsc.sync import commands, edits, files, group_boundary, keys, notices, parking, people
from zsc.sync.context import SLACK_TO_ZENDESK, SyncContext
from zsc.sync.effects import comment_once, create_ticket_once, post_once
from zsc.sync.followup import finish_followup_notice, follow_up_closed, is_closed_rejection

# Message subtypes that carry what a person wrote; everything else (joins, leaves,
# topic/purpose/name changes, pins, channel settings...) is ignored.
CONTENT_SUBTYPES = {None, "", "file_share", "thread_broadcast", "me_message", "bot_message"}


def is_own(ctx: SyncContext, message: Message) -> bool:
    if message.from_zsc:
        return True
    me = ctx.slack.auth_test()
    return bool((message.bot_id and message.bot_id == me.bot_id) or (message.user and message.user == me.user_id))


def is_person_content(ctx: SyncContext, message: Message) -> bool:
    """True for messages that should be mirrored: written by a person (or an allowed
    bot), of a content subtype, and not posted by zsc itself."""
    if message.subtype not in CONTENT_SUBTYPES or is_own(ctx, message):
        return False
    if message.bot_id or message.subtype == "bot_message":
        return message.bot_id in ctx.config.slack.allowed_bot_ids
    return True


def message_author(ctx: SyncContext, message: Message) -> people.Person:
    if message.user and not message.bot_id:
        return people.slack_person(ctx, message.user, message.profile_name)
    return people.Person("", message.bot_name or "A bot", None)


def plain_text(ctx: SyncContext, message: Message) -> str:
    return fmt.slack_to_plain(message.text, user_name=lambda uid: people.slack_name(ctx, uid))


def with_files(text: str, message: Message) -> str:
    files = message_files(message)
    return f"{text}\n\n{fmt.files_block(files)}".strip() if files else text


def message_files(message: Message) -> list[dict[str, Any]]:
    return [{"name": f.name, "permalink": f.link} for f in message.files]


def external_id(channel: str, ts: str) -> str:
    return f"slack:{channel}:{ts}"


# ---------------------------------------------------------------- new issues

def open_issue(ctx: SyncContext, message: Message, reactor: str | None = None) -> Issue:
    """Ticket, permalink note, confirmation, notices: each step once, resumable after a crash.
    `reactor`: who opened it by reacting (reaction mode), named in an internal note."""
    channel, ts = ctx.channel, message.ts
    issue = ctx.store.issue_by_thread(channel, ts) or create_ticket(ctx, message, reactor is not None)
    add_permalink_note(ctx, issue, permalink(ctx.workspace_uri, channel, ts))
    if reactor is not None:
        from zsc.sync import reaction_mode

        comment_once(ctx, issue, keys.reaction_note_ref(issue.ticket_id), "reacted",
                     reaction_mode.reactor_note(ctx, reactor), public=False, author_id=None,
                     ref=keys.reaction_note_ref(issue.ticket_id))
    post_once(ctx, issue, keys.confirm_ref(issue.ticket_id), "confirmation",
              f"Thanks! Ticket {ctx.ticket_link(issue.ticket_id)} is open for this request; "
              "replies in this thread reach it, and its public replies appear here. Type `help` for commands.")
    notices.after_new_issue(ctx, issue)
    commands.reply_to_keywords(ctx, issue, message)  # the opening message counts too
    return issue


def add_permalink_note(ctx: SyncContext, issue: Issue, link: str) -> None:
    """The internal note linking the ticket to its Slack thread, once. A set-up resumed
    after a crash may meet the ticket closed meanwhile, which refuses every change:
    the set-up goes on without the note rather than fail on it every cycle."""
    ref = keys.permalink_ref(issue.ticket_id)
    try:
        comment_once(ctx, issue, ref, "permalink", f"Slack thread: {link}", public=False, author_id=None, ref=ref)
    except Rejected as exc:
        if not is_closed_rejection(exc):
            raise


def create_ticket(ctx: SyncContext, message: Message, with_replies: bool = False) -> Issue:
    """`with_replies` (reaction mode): the thread's replies so far go into the first comment."""
    channel, ts = ctx.channel, message.ts
    zcfg = ctx.config.zendesk
    author = message_author(ctx, message)
    subject = fmt.subject_from_slack(message.text, user_name=lambda uid: people.slack_name(ctx, uid))
    body = plain_text(ctx, message)  # its files: attached (or linked) by files.attach_slack_files
    earlier: list[Message] = []
    if with_replies:
        from zsc.sync import reaction_mode

        earlier = reaction_mode.context_replies(ctx, message)
        body += reaction_mode.context_text(ctx, earlier)
    if zcfg.requester_from_slack and author.email:
        requester: dict[str, Any] = {"name": author.name, "email": author.email}
    else:
        requester = {"id": zcfg.agent_user_id}
        body = f"{body}\n\n(Raised in Slack by {author.name})"
    ext = external_id(channel, ts)
    key = keys.ticket_key(channel, ts)

    def do() -> tuple[int, int | None]:
        # the message's files, and in reaction mode those of the replies in the first comment
        text, uploads = files.attach_slack_files(ctx, key, [*message.files, *(f for r in earlier for f in r.files)], body)
        return ctx.zendesk.create_ticket(
            subject=subject, body=text, requester=requester, assignee_id=zcfg.agent_user_id,
            group_id=ctx.channel_config.group_id, external_id=ext, tags=["zsc", *ctx.channel_config.tags],
            idempotency_key=hashlib.sha256(key.encode()).hexdigest()[:40], **({"uploads": uploads} if uploads else {}),
        )

    def record(result: tuple[int, int | None]) -> None:
        ticket_id, first_comment = result
        issue = ctx.store.create_issue(
            channel=channel, thread_ts=ts, ticket_id=ticket_id, origin="slack", status="new", subject=subject,
            requester_name=author.name, requester_email=author.email, requester_slack_id=author.slack_user_id or None,
            last_activity_at=utcnow(),
            # when the person asked, not when zsc caught up: ages and office hours count from then
            opened_at=ts_time(ts))
        ctx.store.record_item(issue, TO_ZENDESK, "message", slack_ts=ts, comment_id=first_comment)
        edits.mirrored_as_edited(ctx, issue, message)
        for reply in earlier:  # in the first comment: never written again
            ctx.store.record_item(issue, TO_ZENDESK, "context", slack_ts=reply.ts)

    ticket_id, _ = create_ticket_once(ctx, key, "ticket", None, ext, do, record)
    issue = ctx.store.issue_by_ticket(ticket_id)
    ctx.result.mirrored_one(SLACK_TO_ZENDESK)  # the ticket counts as its first message
    ctx.result.did(f"Slack {channel}/{ts} -> opened ticket #{ticket_id}", subject,
                   channel=channel, thread_ts=ts, ticket_id=ticket_id)
    return issue


# ---------------------------------------------------------------- replies

def mirror_replies(ctx: SyncContext, issue: Issue, latest_reply: str | None) -> None:
    """Mirror the thread's new replies, advancing the thread cursor with each record."""
    if latest_reply and not ts_after(latest_reply, issue.slack_reply_cursor):
        return
    # A page at a time: when Slack asks to wait before the next page, what was read is
    # handled and the thread's cursor says where the next poll goes on.
    oldest = edits.read_from(issue)  # a small thread is read whole: its older replies' edits and deletions show
    for page in ctx.slack.reply_pages(issue.channel, issue.thread_ts, oldest=oldest):
        for reply in page:
            if edits.seen_reply(ctx, issue, reply):
                continue  # handled before: read again only for its edits
            # A reply that keeps failing is parked rather than holding up the rest of its thread.
            parking.attempt(ctx, keys.slack_item(issue.channel, reply.ts), f"Slack {issue.channel}/{reply.ts}",
                            lambda: handle_reply(ctx, issue, reply), nested=True, channel=issue.channel, ts=reply.ts)
            advance_reply_cursor(ctx, issue, reply.ts)
    edits.after_read(ctx, issue, oldest)


def advance_reply_cursor(ctx: SyncContext, issue: Issue, ts: str) -> None:
    if ts_after(ts, issue.slack_reply_cursor):
        ctx.store.advance_reply_cursor(issue, ts)


def handle_reply(ctx: SyncContext, issue: Issue, reply: Message) -> None:
    """A command runs instead of being mirrored; anything else gets its keyword
    replies and is mirrored."""
    if reply.ts in ctx.store.recorded(issue).slack_ts:
        finish_followup_notice(ctx, issue)  # a reply re-read after its follow-up's notice failed
        return
    if not is_person_content(ctx, reply):
        return
    if group_boundary.withhold_reply(ctx, issue, reply):
        return  # the ticket left the group: nothing from this thread reaches it any more
    if commands.run_command(ctx, issue, reply):
        return
    commands.reply_to_keywords(ctx, issue, reply)
    mirror_reply(ctx, issue, reply)


def recorded_reply(ctx: SyncContext, issue: Issue, reply: Message) -> None:
    """In the transaction recording a reply's comment: the thread cursor moves, and a
    reply by someone other than the asker is the issue's first answer (if the earliest)."""
    advance_reply_cursor(ctx, issue, reply.ts)
    edits.mirrored_as_edited(ctx, issue, reply)
    if reply.user is None or reply.user != issue.requester_slack_id:  # an allowed bot's reply counts too
        ctx.store.note_first_response(issue, ts_time(reply.ts))


def mirror_reply(ctx: SyncContext, issue: Issue, reply: Message) -> None:
    author = message_author(ctx, reply)
    zendesk_user = people.zendesk_user_for(ctx, author)
    text = plain_text(ctx, reply)
    # its files: attached (or linked) by files.attach_slack_files, inside the write
    body = text if zendesk_user else fmt.slack_reply_to_zendesk(author.name, text)
    # The asker is waiting again: a reply reopens a pending or solved ticket, as a
    # requester's email would. (Set explicitly: a comment written by the agent would
    # not, and the store may not know yet that an agent just solved it.) On-hold
    # tickets stay on hold; closed ones cannot be reopened (see the follow-up).
    reopen = None if issue.status == "hold" else "open"
    started = ctx.store.intent(keys.followup_key(issue.channel, reply.ts))
    if started is not None:  # its follow-up was begun (the ticket refused it): finish that, no comment
        follow_up_closed(ctx, issue, reply, body, zendesk_user, deleted=bool(started.data.get("deleted")))
        return
    uploaded: list[dict] = []  # the files' uploads, kept for a follow-up if the ticket refuses the comment

    def attach(key: str, text: str) -> tuple[str, list[str]]:
        attached = files.attach_slack_files(ctx, key, reply.files, text)
        if reply.files:  # (most replies have none: no need to read the intent back)
            uploaded[:] = [files.kept_uploads(ctx, key) or {}]
        return attached

    try:
        # the thread cursor moves in the same transaction that records the comment
        comment_once(ctx, issue, keys.reply_key(issue.channel, reply.ts), "reply", body, public=True,
                     author_id=zendesk_user, slack_ts=reply.ts, status=reopen,
                     extra=lambda _id: recorded_reply(ctx, issue, reply), attach=attach)
    except (Rejected, NotFound) as exc:
        deleted = isinstance(exc, NotFound)
        if not deleted and not is_closed_rejection(exc):
            raise
        # Refused for sure, so its uploads were never attached: the follow-up attaches them.
        follow_up_closed(ctx, issue, reply, body, zendesk_user, deleted=deleted,
                         uploads=uploaded[0] if uploaded else None)
        return
    if reopen and issue.status != reopen:
        ctx.store.reopen_issue(issue)
    ctx.result.mirrored_one(SLACK_TO_ZENDESK)
    ctx.result.did(f"Slack {issue.channel}/{reply.ts} -> comment on ticket #{issue.ticket_id}",
                   channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=issue.ticket_id)
