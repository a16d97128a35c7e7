"""The names of effects: intent keys and refs. One place, because a repair
(`check-missing --fix`) must name an effect exactly as the sync does to find it."""

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


def comment_ref(comment_id: int, part: int = 0) -> str:
    """The thread reply (or its `part`-th chunk) mirroring a Zendesk comment."""
    return f"comment:{comment_id}" + (f":{part}" if part else "")


def status_ref(ticket_id: int, nth: int) -> str:
    """The thread notice that a ticket was solved or closed (its `nth` time);
    with nth=0, the prefix all of a ticket's notices share."""
    return f"status:{ticket_id}:{nth}" if nth else f"status:{ticket_id}:"


def post_key(ref: str) -> str:
    """The intent of posting the Slack message tagged `ref`."""
    return f"post:{ref}"
