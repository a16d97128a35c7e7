"""Slack mrkdwn -> plain text for Zendesk: control sequences resolved to
readable text, Slack's escaping undone, emoji shortcodes turned into emoji."""

from __future__ import annotations

import re

from zsc.format.emoji_codes import emojize
from zsc.format.split import truncate
from zsc.format.text import NO_TEXT, SUBJECT_LIMIT, NameLookup, _clean, _CONTROL_RE, _no_name, _one_line, _slack_unescape

# Every "<" in Slack message text is a control sequence: literal ones are sent as &lt;
_SLACK_TOKEN_RE = re.compile(r"<([^<>]*)>")
_BROADCASTS = {"here": "@here", "channel": "@channel", "everyone": "@everyone", "group": "@channel"}


def _render_slack_token(inner: str, user_name: NameLookup, channel_name: NameLookup) -> str:
    target, sep, label = inner.partition("|")
    label = emojize(_slack_unescape(label)).strip() if sep else ""
    if target.startswith("@"):  # <@U123> / <@U123|bob>
        uid = target[1:]
        name = user_name(uid) or label.lstrip("@") or uid
        return "@" + name
    if target.startswith("#"):  # <#C123> / <#C123|general>
        cid = target[1:]
        name = channel_name(cid) or label.lstrip("#") or cid
        return "#" + name
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        command, _, arg = target[1:].partition("^")
        if command in _BROADCASTS:
            return _BROADCASTS[command]
        if command == "subteam":
            name = label or arg
            return name if name.startswith("@") else "@" + name
        return label or command
    url = _slack_unescape(target)
    if url.lower().startswith("mailto:"):
        address = url[len("mailto:"):]
        if not label or label == address:
            return address
        return f"{label} ({address})"
    if not label or label == url:
        return url
    bare = re.sub(r"^[a-z][a-z0-9+.\-]*://", "", url, flags=re.I).rstrip("/")
    if label.rstrip("/") == bare:  # Slack auto-link: <http://example.com|example.com>
        return label
    return f"{label} ({url})"


def slack_to_plain(
    text: str,
    user_name: NameLookup = _no_name,
    channel_name: NameLookup = _no_name,
) -> str:
    """Convert Slack mrkdwn message text to plain text suitable for Zendesk.

    ``user_name(uid)`` / ``channel_name(cid)`` return a display name or None;
    they win over the label embedded in the token, which wins over the raw id.
    Formatting marks (``*bold*``...) are kept: they read fine as plain text.
    The callbacks are called once per token and are not guarded: they should
    return None rather than raise.
    """
    if not text:
        return ""
    text = _clean(text)
    out = []
    pos = 0
    for m in _SLACK_TOKEN_RE.finditer(text):
        out.append(emojize(_slack_unescape(text[pos:m.start()])))
        out.append(_render_slack_token(m.group(1), user_name, channel_name))
        pos = m.end()
    out.append(emojize(_slack_unescape(text[pos:])))
    return "".join(out)


# a URL does not end with punctuation or a formatting mark ("*see https://x*")
_URL_RE = re.compile(r"(?:https?://|mailto:)[^\s<>]*[^\s<>*_~`.,;:!?)'\"\]]", re.I)


def _mark_re(mark: str) -> re.Pattern:
    # mark, non-space, text without the mark, non-space, mark; not touching a
    # letter/digit or the same mark on the outside ("snake_case", "2*3*4").
    # The body cannot contain the mark, which keeps matching linear.
    c = re.escape(mark[0])
    m = re.escape(mark)
    return re.compile(rf"(?<![^\W_]|{c}){m}(?=[^\s{c}])((?:(?!{m})[^\n])+?)(?<=[^\s{c}]){m}(?![^\W_]|{c})")


_MARK_RES = [_mark_re(m) for m in ("**", "__", "~~", "*", "_", "~")]


def _strip_marks(line: str) -> str:
    """Remove Slack formatting marks from one line of plain text (URLs untouched)."""
    urls: list[str] = []

    def hide(m: re.Match) -> str:
        urls.append(m.group(0))
        return f"\x00{len(urls) - 1}\x00"

    line = _URL_RE.sub(hide, line)
    line = line.replace("`", "")
    line = re.sub(r"^\s*(?:>\s*)+", "", line)  # block quote markers
    for _ in range(2):  # twice, for "_*x*_" as well as "*_x_*"
        for pattern in _MARK_RES:
            line = pattern.sub(r"\1", line)
    return re.sub(r"\x00(\d+)\x00", lambda m: urls[int(m.group(1))], line)


def subject_from_slack(
    text: str,
    user_name: NameLookup = _no_name,
    channel_name: NameLookup = _no_name,
    limit: int = SUBJECT_LIMIT,
) -> str:
    """Ticket subject: first non-empty line of the message, marks stripped,
    whitespace collapsed, at most ``limit`` characters (cut at a word boundary,
    ending in "…" when cut).  ``"(no text)"`` when nothing is left."""
    plain = slack_to_plain(text, user_name, channel_name)
    for line in plain.split("\n"):
        line = _one_line(_strip_marks(_CONTROL_RE.sub("", line)))
        if line:
            return truncate(line, limit)
    return NO_TEXT
