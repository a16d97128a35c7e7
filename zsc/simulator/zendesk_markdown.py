"""How Zendesk turns a comment body into `html_body` and `plain_body`.

Zendesk renders an API comment's `body` as Markdown: `**bold**`, `*it*`/`_it_` and
`` `code` `` lose their marks, `[label](url)` becomes a link whose text is the label
(the URL survives only in html_body), `# heading` loses its hashes. List markers stay
as text. `plain_body` is the text of that HTML, so it is not what was sent. A small
regex renderer is enough for that; it is not a full CommonMark implementation.
"""

from __future__ import annotations

import html
import re

_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")  # snake_case stays
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")


def html_from_text(text: str) -> str:
    """A plain-text body as Zendesk wraps it (no Markdown)."""
    escaped = html.escape(text).replace("\n", "<br>")
    return f'<div class="zd-comment" dir="auto"><p>{escaped}</p></div>'


def html_from_markdown(text: str) -> str:
    """A Markdown body rendered roughly as Zendesk does: paragraphs on blank lines,
    <br> on single newlines, emphasis, code, links and headings."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        heading = _HEADING.match(block.strip()) if "\n" not in block.strip() else None
        if heading:
            level = len(heading[1])
            blocks.append(f"<h{level}>{_inline(heading[2])}</h{level}>")
        elif block.strip():
            blocks.append("<p>" + "<br>".join(_inline(line) for line in block.split("\n")) + "</p>")
    return '<div class="zd-comment" dir="auto">' + "".join(blocks) + "</div>"


def _inline(line: str) -> str:
    codes: list[str] = []

    def stash(m: re.Match) -> str:  # code spans are literal: keep them out of the other rules
        codes.append(f"<code>{html.escape(m[1])}</code>")
        return f"\x00{len(codes) - 1}\x00"

    out = html.escape(_CODE.sub(stash, line), quote=False)
    out = _LINK.sub(lambda m: f'<a href="{html.escape(m[2])}" rel="noopener noreferrer">{m[1]}</a>', out)
    out = _STRONG.sub(r"<strong>\2</strong>", out)
    out = _EM_STAR.sub(r"<em>\1</em>", out)
    out = _EM_UNDERSCORE.sub(r"<em>\1</em>", out)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m[1])], out)


def text_from_html(markup: str) -> str:
    """The text of a comment's HTML, as Zendesk's plain_body gives it."""
    text = re.sub(r"<br\s*/?>", "\n", markup, flags=re.I)
    text = re.sub(r"</(p|h[1-6])>\s*(?=<(p|h[1-6])[\s>])", "\n\n", text, flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()
