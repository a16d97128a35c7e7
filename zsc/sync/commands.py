"""Thread commands and keyword replies.

A reply in an issue's thread whose whole text is a command alias ("resolve", "✅",
"help"...) runs that command instead of becoming a Zendesk comment. Every other
reply is checked against the configured [[keywords]]; a match gets the keyword's
reply once per thread, and the message is still mirrored.

Adding a command is one decorated function here:

    @command("name", "alias", "🔁", help="One line for the help list.")
    def name(inv: Invocation) -> str:
        ...  # do it (idempotently), return the text to reply in the thread

The Slack -> Zendesk reply path (zsc.sync.slack_to_zendesk) calls `run_command`
first and, when the reply was no command, `reply_to_keywords`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from zsc import format as fmt
from zsc.adapters.records import Message
from zsc.errors import NotFound, Rejected
from zsc.store import CommandRun, Issue
from zsc.sync import keys
from zsc.sync.context import SyncContext
from zsc.sync.effects import once, post_once

# ---------------------------------------------------------------- matching

def normalise(text: str) -> str:
    """The form texts are compared in: lower case, whitespace runs as one space, no
    surrounding space, and Slack shortcodes replaced by the emoji they stand for
    (Slack sends ":white_check_mark:" where the person typed or picked ✅)."""
    text = " ".join(text.lower().split())  # lower first: the names are ":ok:", not ":OK:"
    return fmt.strip_variants(fmt.emojize(text))


# ---------------------------------------------------------------- the registry


@dataclass
class Invocation:
    """One command message in one issue's thread."""

    ctx: SyncContext
    issue: Issue
    message: Message
    command: "Command"

    @property
    def ts(self) -> str:
        return self.message.ts

    @property
    def ref(self) -> str:
        """Unique per command message: keys its reply and any intent it writes."""
        return keys.command_ref(self.issue.channel, self.ts)

    def audit(self, result: str) -> CommandRun:
        """Record the run. A command with effects of its own calls this inside the
        transaction that records them, so a crash cannot keep one without the other;
        for the rest, run_command calls it after the command returns."""
        return self.ctx.store.record_command(self.issue, self.ts, self.message.user or self.message.bot_id,
                                             self.command.name, result)


Runner = Callable[[Invocation], str]


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]  # as registered, the name first
    help: str
    run: Runner

    def shown_aliases(self) -> list[str]:
        """Aliases for people to read: one per distinct normal form (✅ and
        :white_check_mark: are one), words in code style, emoji as they are."""
        seen: dict[str, str] = {}
        for alias in self.aliases:
            key = normalise(alias)
            if key not in seen:
                seen[key] = alias if fmt.is_emoji(key) else f"`{alias}`"
        return list(seen.values())


_COMMANDS: dict[str, Command] = {}  # by name, in registration order (the help order)
_BY_ALIAS: dict[str, Command] = {}  # by normalised alias


def command(name: str, *aliases: str, help: str) -> Callable[[Runner], Runner]:
    """Register the decorated function as command `name`, also run by `aliases`."""

    def register(fn: Runner) -> Runner:
        entry = Command(name, (name, *aliases), help, fn)
        keys = {normalise(alias) for alias in entry.aliases}
        clash = sorted(k for k in keys if k in _BY_ALIAS or not k)
        if name in _COMMANDS or clash:
            raise ValueError(f"command {name!r}: name or alias already taken (or empty): {clash or [name]}")
        _COMMANDS[name] = entry
        _BY_ALIAS.update(dict.fromkeys(keys, entry))
        return fn

    return register


def unregister(name: str) -> None:
    """Remove a command (tests, or a feature that switches one off)."""
    entry = _COMMANDS.pop(name)
    for key in [k for k, c in _BY_ALIAS.items() if c is entry]:
        del _BY_ALIAS[key]


def registered() -> list[Command]:
    return list(_COMMANDS.values())


def find_command(text: str) -> Command | None:
    """The command whose alias is the whole of `text`, or None ("can you help me" is not help)."""
    return _BY_ALIAS.get(normalise(text or ""))


def help_text() -> str:
    """The reply to `help`, built from the registry so it lists every command."""
    lines = ["Reply in a ticket's thread with one of these, on its own:"]
    for entry in registered():
        lines.append(f"• {' | '.join(entry.shown_aliases())} — {entry.help}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the commands


@command("help", help="List these commands.")
def show_help(inv: Invocation) -> str:
    return help_text()


@command("resolve", "resolve ticket", "✅", ":white_check_mark:", "🆗", ":ok:",
         help="Resolve this thread's ticket in Zendesk and close the issue.")
def resolve(inv: Invocation) -> str:
    ctx, issue = inv.ctx, inv.issue
    if issue.ticket_id is None:
        return "This thread has no Zendesk ticket yet, so there is nothing to resolve."
    link = ctx.ticket_link(issue.ticket_id)
    # A pending intent means an earlier attempt's outcome is unknown (and the issue may
    # since have closed because of it): finish that attempt rather than call it "already".
    if not issue.is_open and ctx.store.intent(inv.ref) is None:
        return already_resolved(link)
    status = ctx.config.commands.resolve_status
    replies: list[str] = []

    def do() -> str:
        ctx.zendesk.set_status(issue.ticket_id, status, key=inv.ref)  # the same status twice is harmless
        return status

    def find(_intent: Any) -> str | None:
        # After a crash mid-call: done if Zendesk already shows the status (or closed, which is final).
        current = ctx.zendesk.ticket(issue.ticket_id).status
        return current if current in (status, "closed") else None

    def record(final: str) -> None:
        ctx.store.close_issue(issue, final)
        replies.append(f"Resolved: ticket {link} is now {final}." + _AFTER_CLOSE.get(final, ""))
        inv.audit(replies[0])

    try:
        once(ctx, inv.ref, "command", issue, {"ticket_id": issue.ticket_id, "status": status}, do, find, record)
    except (Rejected, NotFound) as exc:  # final answers: retrying the same call cannot help
        return refused(inv, link, exc)
    return replies[0]


_AFTER_CLOSE = {
    "solved": " A reply in this thread reopens it.",
    "closed": " Zendesk cannot reopen it: a reply in this thread starts a follow-up ticket.",
}


def already_resolved(link: str) -> str:
    return f"Ticket {link} is already resolved."


def refused(inv: Invocation, link: str, exc: Rejected | NotFound) -> str:
    """Zendesk refused for good (or the ticket is gone): recorded and answered, never
    retried. Refused because the ticket is closed means it is resolved already, and
    the store follows."""
    from zsc.sync.followup import is_closed_rejection

    store = inv.ctx.store
    closed = is_closed_rejection(exc)
    if closed:
        text = already_resolved(link)
    else:  # the refusal's wording comes from Zendesk: escaped like any far-side text
        text = f"Zendesk refused to resolve ticket {link}: {fmt.zendesk_to_slack(str(exc))}"
    with store.atomic():
        if closed:
            store.close_issue(inv.issue, "closed")
        store.finish_intent(inv.ref)
        inv.audit(text)
    return text


# ---------------------------------------------------------------- the reply path


def run_command(ctx: SyncContext, issue: Issue, message: Message) -> bool:
    """Run a command message once, reply once, never mirror it. False: no command."""
    entry = find_command(message.text)
    if entry is None or message.files:  # files must reach the ticket, so not a command
        return False
    inv = Invocation(ctx, issue, message, entry)
    run = ctx.store.command_run(issue.channel, inv.ts)
    if run is None:  # not yet run; a re-read after a crash finds the row and only replies
        result = entry.run(inv)
        with ctx.store.atomic():
            run = ctx.store.command_run(issue.channel, inv.ts) or inv.audit(result)
        ctx.result.did(f"Slack {issue.channel}/{inv.ts}: command {entry.name} on ticket #{issue.ticket_id}",
                       channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=issue.ticket_id)
    post_once(ctx, issue, inv.ref, "command", run.result)
    return True


def reply_to_keywords(ctx: SyncContext, issue: Issue, message: Message) -> None:
    """Each keyword found in the message gets its reply, once per thread (the
    message itself is still mirrored)."""
    text = fmt.slack_to_plain(message.text)  # link labels, "&amp;" -> "&"...
    for index, keyword in enumerate(ctx.config.keywords):
        ref = f"keyword:{issue.id}:{index}"
        if ref not in ctx.store.recorded(issue).refs and mentions(text, keyword.match):
            post_once(ctx, issue, ref, "keyword", keyword.reply)
            ctx.result.did(f"Slack {issue.channel}/{message.ts}: keyword reply {index + 1}",
                           channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=issue.ticket_id)


def mentions(text: str, phrases: Iterable[str]) -> bool:
    """Whether `text` contains any of `phrases` as whole words, compared like commands
    (case, spacing and shortcode-or-emoji do not matter)."""
    text = normalise(text)
    return any(_phrase(phrase).search(text) for phrase in phrases)


@functools.lru_cache(maxsize=256)
def _phrase(phrase: str) -> re.Pattern[str]:
    """A phrase as whole words: "reset" matches "please reset it", not "preset"."""
    words = normalise(phrase).split(" ")
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)")
