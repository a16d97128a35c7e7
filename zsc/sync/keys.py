"""The names of effects (intent keys and refs) and of the engine's cursors. One place,
because a repair (`check-missing --fix`) must name an effect exactly as the sync
does to find it, and `zsc status` reads the cursors by name."""

from __future__ import annotations


def ticket_key(channel: str, ts: str) -> str:
    """Creating the ticket for a top-level Slack message."""
    return f"ticket:{channel}:{ts}"


def reply_key(channel: str, ts: str) -> str:
    """Adding the comment for a Slack thread reply."""
    return f"comment:{channel}:{ts}"


def permalink_ref(ticket_id: int) -> str:
    """The internal note linking a ticket to its Slack thread."""
    return f"permalink:{ticket_id}"


def confirm_ref(ticket_id: int) -> str:
    """The thread reply confirming a ticket."""
    return f"confirm:{ticket_id}"


def hours_ref(ticket_id: int) -> str:
    """The out-of-hours notice in a new issue's thread."""
    return f"hours:{ticket_id}"


def oncall_ref(ticket_id: int) -> str:
    """The who-is-on-call notice in a new issue's thread."""
    return f"oncall:{ticket_id}"


def comment_ref(comment_id: int, part: int = 0) -> str:
    """The thread reply (or its `part`-th chunk) mirroring a Zendesk comment."""
    return f"comment:{comment_id}" + (f":{part}" if part else "")


def attachment_ref(attachment_id: int | str) -> str:
    """The file in the thread copied from a Zendesk attachment (also, as post_key, its upload's intent)."""
    return f"attachment:{attachment_id}"


def edit_ref(channel: str, ts: str, edited_ts: str) -> str:
    """The internal note that a mirrored Slack message was edited (one per edit version)."""
    return f"edit:{channel}:{ts}:{edited_ts}"


def deleted_ref(channel: str, ts: str) -> str:
    """The internal note that a mirrored Slack message was deleted."""
    return f"deleted:{channel}:{ts}"


def status_ref(ticket_id: int, nth: int) -> str:
    """The thread notice that a ticket was solved or closed (its `nth` time);
    with nth=0, the prefix all of a ticket's notices share."""
    return f"status:{ticket_id}:{nth}" if nth else f"status:{ticket_id}:"


NUDGE_PREFIX = "nudge:"


def nudge_ref(ticket_id: int) -> str:
    """The thread reply nudging an issue nobody has answered (once per ticket)."""
    return f"{NUDGE_PREFIX}{ticket_id}"


def post_key(ref: str) -> str:
    """The intent of posting the Slack message tagged `ref`."""
    return f"post:{ref}"


def followup_key(channel: str, ts: str) -> str:
    """Creating the follow-up ticket for a reply to a closed (or deleted) ticket."""
    return f"followup:{channel}:{ts}"


def email_post_ref(ticket_id: int) -> str:
    """The top-level Slack post announcing an emailed ticket (also its intent key)."""
    return f"email:{ticket_id}"


def email_files_ref(ticket_id: int) -> str:
    """The thread post naming the attachments of an emailed ticket's first email that were not copied."""
    return f"email_files:{ticket_id}"


def command_ref(channel: str, ts: str) -> str:
    """A thread command's reply, and the intent of any write it makes."""
    return f"command:{channel}:{ts}"


# ---------------------------------------------------------------- cursors (checkpoint names)

def slack_top(channel: str) -> str:
    """Newest top-level message of the channel whose effects are all recorded."""
    return f"slack:{channel}:top"


def slack_history_read(channel: str) -> str:
    """A history read stopped between pages (by a rate limit): where the next poll goes on."""
    return f"resume:slack:{channel}:history"  # bookkeeping, not a cursor: `zsc status` does not list it


def slack_start(channel: str) -> str:
    """When zsc first watched `channel`: in reaction mode only messages since then can open tickets."""
    return f"watch:start:{channel}"


def reaction_note_ref(ticket_id: int) -> str:
    """The internal note naming who opened a ticket by reacting."""
    return f"reacted:{ticket_id}"


def old_sweep(channel: str) -> str:
    """The last old thread of `channel` asked for replies (each channel keeps its own turn)."""
    return f"slack:old_thread_sweep:{channel}"


# Checkpoints older versions kept and nothing reads any more; zsc deletes them as it
# starts, so `zsc status` does not list them among the cursors.
RETIRED = ("slack:old_thread_sweep",)  # one turn for all channels, until each had its own


def channel_poller(channel: str) -> str:
    """Which instance polls `channel` ([daemon] ha on Postgres), for `zsc status`."""
    return f"ha:poller:{channel}"

EXPORT_CURSOR = "zendesk:export_cursor"  # the incremental export's after_cursor
EXPORT_START = "zendesk:export_start"
EXPORT_CALLS = "budget:zendesk_export_calls"  # when the export was called in the last minute (not a cursor)  # where the export (re)starts, epoch seconds; also "mail since"
CURSOR_PREFIXES = ("slack:", "zendesk:")


# ---------------------------------------------------------------- items (for failure counting and parking)

def slack_item(channel: str, ts: str) -> str:
    """A Slack message or reply."""
    return f"slack:{channel}:{ts}"


def ticket_item(ticket_id: int) -> str:
    """A Zendesk ticket (its changes as a whole)."""
    return f"zendesk:{ticket_id}"


def email_files_item(ticket_id: int) -> str:
    """The attachments of an emailed ticket's first email, as one item (parked as one)."""
    return f"zendesk:{ticket_id}:email-files"


def comment_item(ticket_id: int, comment_id: int) -> str:
    """One Zendesk comment."""
    return f"zendesk:{ticket_id}:{comment_id}"
