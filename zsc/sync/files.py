"""Files both ways ([files]): a Slack message's files become attachments of the
Zendesk comment that mirrors it, a public comment's attachments are uploaded into the
thread. A file that cannot be copied (too large, external, a Slack Connect file, a
failed download, no scope) is named with its link instead, and the comment says why.

Crash safety follows effects.py: an upload to Zendesk is harmless until a comment
names its token, so the tokens ride in the comment's intent payload and are reused
(within the hour Zendesk keeps them) by a retry; an upload to Slack is keyed by the
attachment id, and the file id Slack gave it is kept in the intent, so after a lost
answer the file is looked for in the thread by that id. The attachments of the email
that opened an emailed ticket take the same way into its new thread."""

from __future__ import annotations

import time
from typing import Any, Iterable

from zsc import format as fmt
from zsc.adapters.records import Comment, File
from zsc.errors import Ambiguous, ApiError, AuthError, NotFound, RateLimited, Rejected, TooLarge, Unavailable
from zsc.store import EMAIL_FILES, TO_SLACK, Issue
from zsc.sync import keys
from zsc.sync.context import SyncContext
from zsc.sync.effects import post_once

TOKEN_REUSE_SECONDS = 50 * 60  # Zendesk keeps an upload token about an hour


def _megabytes(n: int) -> str:
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n} bytes"


def link_lines(files: Iterable[File]) -> list[dict[str, Any]]:
    return [{"name": f.name, "permalink": f.link} for f in files]


def with_links(body: str, files: Iterable[File]) -> str:
    """Today's behaviour: the files named with their Slack links under the text."""
    files = list(files)
    return fmt.files_block(link_lines(files), body) if files else body


# ---------------------------------------------------------------- Slack -> Zendesk

def why_not_copied(ctx: SyncContext, file: File) -> str | None:
    """Why a Slack file is only linked, when that is known without downloading it."""
    limit = ctx.config.files.max_bytes
    if file.is_external:
        return "an external file (stored outside Slack)"
    if file.file_access == "check_file_info":
        return "a Slack Connect file zsc cannot download"
    if file.size is not None and file.size > limit:
        return f"over the {_megabytes(limit)} limit"
    return None


def attach_slack_files(ctx: SyncContext, key: str, files: Iterable[File], body: str) -> tuple[str, list[str]]:
    """Called inside the write of intent `key` (so the intent exists): the comment body
    (with a line for each file only linked) and the upload tokens to attach. Tokens
    uploaded by an earlier attempt of the same write are reused while still valid."""
    files = tuple(files)
    if not files:
        return body, []
    if not ctx.config.files.enabled:
        return with_links(body, files), []
    intent = ctx.store.intent(key)
    saved = intent.data.get("files") if intent is not None else None
    if isinstance(saved, dict) and time.time() - float(saved.get("at") or 0) < TOKEN_REUSE_SECONDS:
        tokens, notes = list(saved.get("tokens") or []), list(saved.get("notes") or [])
    else:
        tokens, notes = [], []
        for file in files:
            file, why = described(ctx, file)
            why = why or why_not_copied(ctx, file) or upload_one(ctx, file, tokens)
            if why:
                notes.append(fmt.files_block(link_lines([file])) + f" (not attached: {why})")
        if intent is not None:
            # Kept before the comment is written: a retry attaches these, not new copies.
            ctx.store.set_intent_payload(key, {**intent.data, "files": {"at": time.time(), "tokens": tokens,
                                                                         "notes": notes}})
    text = with_notes(body, notes)
    if not text.strip():  # Zendesk refuses a blank comment: a file alone is named
        text = fmt.files_block([{"name": f.name} for f in files])
    return text, tokens


def kept_uploads(ctx: SyncContext, key: str) -> dict[str, Any] | None:
    """What attach_slack_files kept in intent `key` (the tokens, the lines, when)."""
    intent = ctx.store.intent(key)
    saved = intent.data.get("files") if intent is not None else None
    return saved if isinstance(saved, dict) else None


def keep_uploads(ctx: SyncContext, key: str, uploads: dict[str, Any] | None, **extra: Any) -> None:
    """Inside the write of intent `key`: uploads made for another write that was refused
    for sure (so never attached), for attach_slack_files to reuse rather than upload
    again; `extra` is kept in the intent too. What the intent already keeps wins."""
    intent = ctx.store.intent(key)
    if intent is None:
        return
    data = {**intent.data, **extra}
    if uploads and not isinstance(data.get("files"), dict):
        data["files"] = uploads
    ctx.store.set_intent_payload(key, data)


def described(ctx: SyncContext, file: File) -> tuple[File, str | None]:
    """A Slack Connect file's whole description from files.info (its message carries only
    a stub), and why not when Slack will not give it. A blip is raised, as for a download."""
    if file.file_access != "check_file_info":
        return file, None
    try:
        return ctx.slack.file_info(file.id), None
    except (RateLimited, Unavailable, Ambiguous):
        raise
    except ApiError as exc:
        return file, f"a Slack Connect file Slack would not describe: {exc}"


def upload_one(ctx: SyncContext, file: File, tokens: list[str]) -> str | None:
    """Download a Slack file and upload it to Zendesk (its token appended to `tokens`);
    why not, when it could not be. A blip (rate limit, server trouble) is raised: the
    write is retried later rather than settling for a link."""
    limit = ctx.config.files.max_bytes
    try:
        data = ctx.slack.download(file, limit)
    except TooLarge:
        return f"over the {_megabytes(limit)} limit"
    except (RateLimited, Unavailable, Ambiguous):
        raise
    except ApiError as exc:
        return f"the download failed: {exc}"
    try:
        tokens.append(ctx.zendesk.upload(file.name, file.mimetype or "application/binary", data))
    except Rejected as exc:
        return f"Zendesk refused the upload: {exc}"
    return None


# ---------------------------------------------------------------- Zendesk -> Slack

def mirror_attachments(ctx: SyncContext, issue: Issue, comment_attachments: Iterable[dict[str, Any]]) -> list[str]:
    """Upload each attachment of a public comment into the thread, once (keyed by its
    id). Returns a line for each attachment only named (with its Zendesk link and why),
    for the comment's post."""
    lines = []
    for att in comment_attachments:
        name = str(att.get("file_name") or "file")
        url = att.get("content_url") if isinstance(att.get("content_url"), str) else ""
        why = attachment_problem(ctx, att)
        if why is None:
            try:
                upload_attachment(ctx, issue, att)
                continue
            except TooLarge:
                why = f"over the {_megabytes(ctx.config.files.max_bytes)} limit"
            except AuthError as exc:
                if exc.needed != "files:write":
                    raise
                why = "the Slack app lacks the scope files:write"
            except (RateLimited, Unavailable, Ambiguous):
                raise
            except ApiError as exc:
                why = f"it could not be copied: {exc}"
        if why:
            lines.append(f"📎 {name}: {url}" + (f" ({why})" if why != "-" else ""))
    return lines


def attachment_problem(ctx: SyncContext, att: dict[str, Any]) -> str | None:
    """Why an attachment is named rather than uploaded ("-": files are off, no reason
    needed), or None to upload it (also None when it is already in the thread)."""
    if not ctx.config.files.enabled:
        return "-"
    if not isinstance(att.get("content_url"), str) or att.get("id") is None:
        return "no download address"
    size = att.get("size")
    if isinstance(size, int) and size > ctx.config.files.max_bytes:
        return f"over the {_megabytes(ctx.config.files.max_bytes)} limit"
    return None


def upload_attachment(ctx: SyncContext, issue: Issue, att: dict[str, Any]) -> None:
    """One attachment into the thread, at most once: the intent keeps the file id Slack
    handed out before anything shows, so after a lost answer the thread is searched for
    that id (never for a name or text)."""
    ref = keys.attachment_ref(att["id"])
    store = ctx.store
    if ref in store.recorded(issue).refs:
        return
    key = keys.post_key(ref)
    pending = store.intent(key)
    if pending is not None and pending.data.get("file_id"):
        if file_in_thread(ctx, issue, pending.data["file_id"]):
            record_attachment(ctx, issue, ref, key)
            return
    name = str(att.get("file_name") or "file")
    ctx.slack.check_turn(issue.channel)  # its share into the thread is a post: paced out, do not fetch it yet
    try:
        size = att.get("size") if isinstance(att.get("size"), int) else None
        data = ctx.zendesk.download(att["content_url"], ctx.config.files.max_bytes,
                                    content_type=str(att.get("content_type") or ""), size=size)
    except (AuthError, NotFound) as exc:
        # this one file could not be fetched: named with its link, not a reason to stop the poll
        raise Rejected("Zendesk", f"the download failed: {exc}") from None
    upload_url, file_id = ctx.slack.upload_url(name, len(data))
    payload = {"ref": ref, "file_id": file_id, "attachment_id": att["id"]}
    store.begin_intent(key, "attachment", issue, payload)
    store.set_intent_payload(key, payload)  # a retry's own file id (the earlier one never showed)
    try:
        ctx.slack.send_upload(upload_url, data)
        ctx.slack.complete_upload(file_id, name, issue.channel, issue.thread_ts)
    except ApiError as exc:
        if not isinstance(exc, Ambiguous):
            store.finish_intent(key)  # refused for sure: nothing shows in the thread
        raise
    record_attachment(ctx, issue, ref, key)


def file_in_thread(ctx: SyncContext, issue: Issue, file_id: str) -> bool:
    return any(f.id == file_id for m in ctx.slack.replies(issue.channel, issue.thread_ts) for f in m.files)


def record_attachment(ctx: SyncContext, issue: Issue, ref: str, key: str) -> None:
    with ctx.store.atomic():
        ctx.store.record_item(issue, TO_SLACK, "attachment", ref=ref)
        if not ctx.dry_run:  # the file's message is zsc's own: no reason to read the thread
            ctx.store.count_own_reply(issue)
            ctx.memo[("posted", issue.id)] = ctx.memo.get(("posted", issue.id), 0) + 1
        ctx.store.finish_intent(key)


def owe_email_files(ctx: SyncContext, ticket_id: int, first: Comment | None) -> None:
    """In the transaction that maps an emailed ticket to its new thread: whether the
    first email's attachments are still to be copied there (a ticket flag, so a
    set-up cut short by a crash or a lost answer is finished by the next read of the
    ticket, and tickets mapped before this existed are never given old files)."""
    if first is not None and first.public and first.attachments:
        ctx.store.set_flag(ticket_id, EMAIL_FILES, "owed")


def mirror_email_files(ctx: SyncContext, issue: Issue, first: Comment | None) -> None:
    """The attachments of the email that opened `issue`'s ticket (its first comment,
    whose text the thread already shows), uploaded into the thread exactly as a later
    comment's are (mirror_attachments: once per attachment id). Those only named get
    one post of their own, posted once by its ref."""
    ticket_id = issue.ticket_id
    if ctx.store.flag(ticket_id, EMAIL_FILES) is None:
        return
    lines = mirror_attachments(ctx, issue, first.attachments if first is not None and first.public else ())
    if lines:
        post_once(ctx, issue, keys.email_files_ref(ticket_id), "email_files",
                  "Attached to the email:\n" + "\n".join(lines))
    ctx.store.clear_flag(ticket_id, EMAIL_FILES)


def with_notes(body: str, notes: list[str]) -> str:
    return "\n".join([body.rstrip(), "", *notes]).strip() if notes else body
