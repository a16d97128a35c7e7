"""Zendesk text -> safe Slack mrkdwn (see the package docstring for the rules)."""

from __future__ import annotations

import re

from zsc.format.links import defuse_bare_urls, defuse_pipes, label_is_target, safe_link_url, slack_url
from zsc.format.text import ZWSP, _clean, _one_line, _slack_escape

_BROADCAST_WORDS = r"(?:here|channel|everyone|group)"
# @ or ! before a broadcast word, at the start of a "word"
# ("_" does not count as a letter: Slack reads "_@here_" as italic @here)
_BROADCAST_RE = re.compile(rf"(?<![^\W_])([@!])(?={_BROADCAST_WORDS}\b)", re.I)
# any other bare @mention: "@" not preceded by a letter/digit or by the "." "+" "-"
# of an e-mail address's local part (so "a.b@example.com" is left alone)
_MENTION_RE = re.compile(r"(?<![^\W_])(?<![.+\-])@(?=\w)")


def _neutralise_broadcasts(text: str) -> str:
    return _BROADCAST_RE.sub(lambda m: m.group(1) + ZWSP, text)


def _neutralise(text: str) -> str:
    """Break every @here/@channel/@everyone/!here… and bare @name mention."""
    return _MENTION_RE.sub("@" + ZWSP, _neutralise_broadcasts(text))


# bold cannot span lines or contain its own delimiter: keeps matching linear
_BOLD_RE = re.compile(
    r"\*\*(?=\S)((?:(?!\*\*)[^\n])+?)(?<=\S)\*\*"
    r"|(?<![\w_])__(?=\S)((?:(?!__)[^\n])+?)(?<=\S)__(?![\w_])"
)


def _md_inline(escaped: str) -> str:
    """Markdown inline formatting -> Slack, on already escaped/neutralised text."""
    return _BOLD_RE.sub(lambda m: "*" + (m.group(1) or m.group(2)) + "*", escaped)


def _label_and_link(label: str, url: str) -> str:
    """``[label](url)`` from Zendesk: ``label (<url>)``, or ``<url>`` when the label
    is the URL (see zsc.format.links for why never ``<url|label>``)."""
    if label_is_target(label, url):
        return slack_url(url)
    shown = _md_inline(_neutralise(_slack_escape(defuse_bare_urls(label.strip()))))
    return f"{shown} ({slack_url(url)})"


_ZD_TOKEN_RE = re.compile(
    r"(?P<fence>```.*?```)"
    r"|(?P<code>`[^`\n]+`)"
    r"|\[(?P<label>[^\[\]\n]+)\]\(\s*(?P<url>(?:[^\s()]|\([^\s()]*\))+)\s*\)"
    r"|<(?P<auto>(?:https?://|mailto:)[^\s<>|]+)>"
    r"|(?P<bare>(?:https?://|mailto:)[^\s<>]+)",
    re.S | re.I,
)


def _collapse_blank_lines(text: str) -> str:
    text = re.sub(r"^[ \t]+$", "", text, flags=re.M)  # whitespace-only lines are blank
    return re.sub(r"\n{4,}", "\n\n\n", text)  # 3+ blank lines -> 2 blank lines


def zendesk_to_slack(text: str) -> str:
    """Convert a Zendesk (plain/markdown) comment body to safe Slack mrkdwn.

    See the module docstring for the safety rules.  Markdown ``**bold**`` /
    ``__bold__`` become ``*bold*``; ``[label](url)`` becomes ``label (<url>)``
    (just ``<url>`` when the label is the URL) and ``<url>`` a Slack link, only
    for http(s) and mailto URLs (anything else, e.g. ``javascript:``, stays
    literal text).  Code spans/blocks are escaped but not reformatted.
    CRLF/CR become LF, whitespace-only lines count as blank, runs of 3+ blank
    lines become 2, leading blank lines and trailing whitespace are dropped.
    """
    if not text:
        return ""
    text = _collapse_blank_lines(_clean(text)).lstrip("\n").rstrip()
    rendered: list[str] = []

    def keep(m: re.Match) -> str:
        if m.group("fence") is not None or m.group("code") is not None:
            out = _neutralise_broadcasts(_slack_escape(m.group(0)))
        elif m.group("label") is not None:
            url = m.group("url")
            if safe_link_url(url):
                out = _label_and_link(m.group("label"), url)
            else:  # not a link we are willing to build: literal, like any text
                out = _md_inline(_neutralise(_slack_escape(m.group(0))))
        elif m.group("auto") is not None:
            out = slack_url(m.group("auto"))
        else:  # bare URL: Slack links it itself; only protect it from the rewrites
            out = _slack_escape(defuse_pipes(m.group("bare")))
        rendered.append(out)
        return f"\x00{len(rendered) - 1}\x00"

    hidden = _ZD_TOKEN_RE.sub(keep, text)
    converted = _md_inline(_neutralise(_slack_escape(hidden)))
    return re.sub(r"\x00(\d+)\x00", lambda m: rendered[int(m.group(1))], converted)


def one_line_name(name: str) -> str:
    """A person's name for a post's `username`: one line (Slack shows it as plain text)."""
    return " ".join((name or "").split())


def zendesk_comment_as_agent(body: str) -> str:
    """The comment posted under the agent's own name and picture (post_as_agent): no
    name prefix, but still marked as coming from Zendesk."""
    converted = zendesk_to_slack(body or "")
    return f"{converted}\n_(Zendesk)_" if converted else "_(Zendesk)_"


def zendesk_comment_to_slack(author_name: str, body: str) -> str:
    """``*Author* (Zendesk): body`` with both parts made safe for Slack."""
    name = _one_line(author_name or "").replace("*", "") or "Zendesk user"
    name = _neutralise(_slack_escape(defuse_bare_urls(name)))
    converted = zendesk_to_slack(body or "")
    head = f"*{name}* (Zendesk):"
    if not converted:
        return head
    # a block quote or code block only renders at the start of a line
    sep = "\n" if converted.startswith(("&gt;", "```")) else " "
    return head + sep + converted
