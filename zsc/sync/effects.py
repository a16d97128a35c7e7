"""External writes that happen once, whatever crashes in between (DESIGN rule 2).

Each write is: intent committed -> API call carrying a key -> result recorded and
intent deleted in one transaction. A leftover intent means the call's fate is
unknown; the next attempt first looks the key up on the far side."""

from __future__ import annotations

from typing import Any, Callable

from zsc.adapters.records import Message, epoch_seconds, ts_for
from zsc.errors import Ambiguous, ApiError, NotFound
from zsc.store import TO_SLACK, TO_ZENDESK, Issue
from zsc.sync import keys
from zsc.sync.context import SyncContext


def once(ctx: SyncContext, key: str, kind: str, issue: Issue | None, payload: dict[str, Any],
         do: Callable[[], Any], find: Callable[[Any], Any], record: Callable[[Any], None]) -> Any:
    """Perform `do` at most once for `key`. `find(intent)` returns the earlier result
    or None; `record(result)` stores it (called inside the transaction)."""
    store = ctx.store
    pending = store.intent(key)
    if pending is not None:
        found = find(pending)
        if found is not None:
            with store.atomic():
                record(found)
                store.finish_intent(key)
            return found
    store.begin_intent(key, kind, issue, payload)
    try:
        result = do()
    except ApiError as exc:
        if not isinstance(exc, Ambiguous):
            store.finish_intent(key)  # refused for sure: nothing happened, nothing to look up later
        raise
    with store.atomic():
        record(result)
        store.finish_intent(key)
    return result


def post_once(ctx: SyncContext, issue: Issue, ref: str, kind: str, text: str, *,
              comment_id: int | None = None, thread: bool = True, channel: str | None = None,
              extra: Callable[[str], None] | None = None, as_user: tuple[str, str | None] | None = None) -> str | None:
    """Post `text` in the issue's thread (or top level) once, tagged with `ref` in the
    message metadata so a post whose answer was lost is found again. Returns the new
    message's ts, or None when it had been posted before. `as_user`: (name, picture
    URL) shown instead of zsc's ([slack] post_as_agent)."""
    if ref in ctx.store.recorded(issue).refs:
        return None
    channel = channel or issue.channel

    def do() -> str:
        if as_user:
            return ctx.slack.post(channel, text, thread_ts=issue.thread_ts if thread else None, ref=ref,
                                  username=as_user[0], icon_url=as_user[1])
        return ctx.slack.post(channel, text, thread_ts=issue.thread_ts if thread else None, ref=ref)

    def find(_intent) -> str | None:
        return ts_with_ref(ctx.slack.replies(channel, issue.thread_ts), ref) if thread else None

    def record(ts: str) -> None:
        ctx.store.record_item(issue, TO_SLACK, kind, slack_ts=ts, comment_id=comment_id, ref=ref)
        if thread and channel == issue.channel and not ctx.dry_run:
            ctx.store.count_own_reply(issue)  # so the thread is not read again for our own post
            ctx.memo[("posted", issue.id)] = ctx.memo.get(("posted", issue.id), 0) + 1
        if extra:
            extra(ts)

    # The text rides along in the intent: a retry posts what was meant then.
    return once(ctx, keys.post_key(ref), kind, issue, {"ref": ref, "text": text}, do, find, record)


def create_ticket_once(ctx: SyncContext, key: str, kind: str, issue: Issue | None, external_id: str,
                       create: Callable[[], tuple[int, int | None]],
                       record: Callable[[tuple[int, int | None]], None]) -> tuple[int, int | None]:
    """Create a ticket once (the create carries an Idempotency-Key; a lost answer is
    found by `external_id`). The result always names the ticket's first comment, which
    zsc wrote, so that it is recorded with the ticket and never echoed back to Slack."""

    def with_first_comment(ticket_id: int, comment_id: int | None) -> tuple[int, int | None]:
        if comment_id is None:
            comments = ctx.zendesk.comments(ticket_id)
            comment_id = comments[0].id if comments else None
        return ticket_id, comment_id

    def find(_intent) -> tuple[int, int | None] | None:
        tickets = ctx.zendesk.tickets_by_external_id(external_id)
        return with_first_comment(tickets[0].id, None) if tickets else None

    return once(ctx, key, kind, issue, {"external_id": external_id}, lambda: with_first_comment(*create()), find, record)


def top_post_once(ctx: SyncContext, channel: str, text: str, ref: str, *, key: str, kind: str,
                  payload: dict[str, Any], record: Callable[[str], None]) -> str:
    """A top-level post, once. There is no thread to search, so a post whose answer was
    lost is found again by its ref in the channel's history since shortly before the
    intent (LOOK_BACK: the two clocks may differ)."""

    def do() -> str:
        return ctx.slack.post(channel, text, ref=ref)

    def find(intent) -> str | None:
        oldest = epoch_seconds(intent.created_at) - LOOK_BACK
        return ts_with_ref(ctx.slack.history(channel, oldest=ts_for(oldest)), ref)

    return once(ctx, key, kind, None, payload, do, find, record)


LOOK_BACK = 120.0  # seconds before an intent to search Slack's history from (clock skew)


def ts_with_ref(messages: list[Message], ref: str) -> str | None:
    """The ts of the message zsc posted with this ref in its metadata, if any."""
    return next((message.ts for message in messages if message.zsc_ref == ref), None)


def comment_once(ctx: SyncContext, issue: Issue, key: str, kind: str, body: str, *, public: bool,
                 author_id: int | None, slack_ts: str | None = None, ref: str | None = None,
                 status: str | None = None, extra: Callable[[int | None], None] | None = None,
                 attach: Callable[[str, str], tuple[str, list[str]]] | None = None) -> int | None:
    """Add a Zendesk comment once (returns its id; None when added before). Zendesk has
    no idempotency key for comments, so the intent key rides in the update's audit
    metadata, and a lost answer is resolved by finding the audit with that key -- by
    id, never by comparing text (Zendesk re-renders what it is sent)."""
    author = author_id or ctx.config.zendesk.agent_user_id
    recorded = ctx.store.recorded(issue)
    if (slack_ts and slack_ts in recorded.slack_ts) or (ref and ref in recorded.refs):
        return None

    def do() -> int | None:
        # Files are uploaded inside the write (the intent exists): `attach(key, body)` gives
        # the body with any file only linked, and the upload tokens (reused by a retry).
        text, uploads = attach(key, body) if attach else (body, [])
        return ctx.zendesk.add_comment(issue.ticket_id, text, public=public, author_id=author, status=status, key=key,
                                       **({"uploads": uploads} if uploads else {}))

    def find(_intent) -> int | None:
        return written_comment(ctx, issue.ticket_id, key)

    def record(comment_id: int | None) -> None:
        ctx.store.record_item(issue, TO_ZENDESK, kind, slack_ts=slack_ts, comment_id=comment_id, ref=ref)
        if not ctx.dry_run:  # (a dry run's comment was never written)
            ctx.store.count_own_comment(issue)  # so the ticket is not read again for our own comment
        if extra:
            extra(comment_id)

    payload = {"ticket_id": issue.ticket_id, "slack_ts": slack_ts, "author_id": author, "kind": kind, "ref": ref}
    return once(ctx, key, kind, issue, payload, do, find, record)


def written_comment(ctx: SyncContext, ticket_id: int, key: str) -> int | None:
    """The id of the comment zsc's write `key` added to the ticket, if that write happened."""
    try:
        audit = ctx.zendesk.find_write(ticket_id, key)
    except NotFound:
        return None  # the ticket is gone: nothing of ours is there (the write then says so)
    return audit.comment_id if audit else None


COMMENT_KEYS = ("comment:", "permalink:", "command:")  # intents whose write adds a comment to the issue's ticket


def resolve_pending_comments(ctx: SyncContext, issue: Issue) -> None:
    """Before mirroring a ticket's comments to Slack, claim the ones zsc itself wrote
    but never heard back about (found by their intent keys in the ticket's audits), so
    they are not echoed into the thread."""
    if not ctx.store.has_pending():
        return
    for intent in ctx.store.pending_intents():
        if intent.issue_id != issue.id or not intent.key.startswith(COMMENT_KEYS):
            continue
        data = intent.data
        recorded = ctx.store.recorded(issue)
        if data.get("slack_ts") in recorded.slack_ts or data.get("ref") in recorded.refs:
            ctx.store.finish_intent(intent.key)  # its item was recorded another way (a follow-up): stale
            continue
        found = written_comment(ctx, issue.ticket_id, intent.key)
        if found is not None:
            with ctx.store.atomic():
                ctx.store.record_item(issue, TO_ZENDESK, data.get("kind", "reply"), slack_ts=data.get("slack_ts"),
                                      comment_id=found, ref=data.get("ref"))
                ctx.store.finish_intent(intent.key)
