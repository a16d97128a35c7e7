"""Zendesk comment bodies for Slack replies and their files."""

from __future__ import annotations

from typing import Iterable

from zsc.format.text import _one_line

def _file_line(f: dict) -> str:
    name = _one_line(str(f.get("name") or f.get("title") or "file"))
    link = _one_line(str(f.get("permalink") or f.get("url_private") or ""))
    return f"📎 {name}: {link}" if link else f"📎 {name}"


def files_block(files: Iterable[dict] | None, text: str = "") -> str:
    """``text`` (if any) followed by one ``📎 name: permalink`` line per file."""
    lines = [_file_line(f) for f in (files or [])]
    if text and text.strip():
        lines.insert(0, text.rstrip())
    return "\n".join(lines)


def slack_reply_to_zendesk(name: str, text: str, files: Iterable[dict] | None = None) -> str:
    """Zendesk comment body for a Slack reply by someone who isn't a Zendesk user.

    ``text`` must already be plain (run it through ``slack_to_plain`` with the
    real user/channel resolvers first)."""
    who = _one_line(name or "") or "Slack user"
    body = (text or "").strip()
    head = f"{who} (Slack):" + (f" {body}" if body else "")
    return files_block(files, head)
