"""Small helpers shared by every converter: control characters, newlines,
Slack's three-character escaping and the constants the callers use."""

from __future__ import annotations

import re
from typing import Callable, Optional

ZWSP = "\u200b"
NO_TEXT = "(no text)"
SUBJECT_LIMIT = 150
SLACK_CHUNK_LIMIT = 3500

NameLookup = Callable[[str], Optional[str]]


def _no_name(_id: str) -> Optional[str]:
    return None


# C0 control characters other than \t and \n (and DEL).  They have no business
# in a chat message or a ticket, and removing them lets us use NUL as a
# placeholder delimiter internally.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _clean(text: str) -> str:
    """Normalise newlines and drop control characters."""
    return _CONTROL_RE.sub("", _normalise_newlines(text))


def _one_line(text: str) -> str:
    """Collapse all whitespace (including newlines) to single spaces."""
    return " ".join(_CONTROL_RE.sub("", text).split())


_SLACK_UNESCAPE_RE = re.compile(r"&(amp|lt|gt);")
_SLACK_UNESCAPE = {"amp": "&", "lt": "<", "gt": ">"}


def _slack_unescape(text: str) -> str:
    # single pass, so "&amp;lt;" becomes the literal "&lt;" and not "<"
    return _SLACK_UNESCAPE_RE.sub(lambda m: _SLACK_UNESCAPE[m.group(1)], text)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
