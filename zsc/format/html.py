"""HTML -> plain text, the fallback for a Zendesk comment with only an html_body.

Hand-written on the standard library's HTMLParser on purpose: the maintained
converters make worse text for a Slack message.  html2text writes Markdown
(``|``/``---`` tables, ``**``, ``![alt](src)``, lines ending in two spaces);
inscriptis lays tables out as a padded grid (an email's layout table becomes
lines 150 columns wide, which Slack's proportional font turns into noise) and
brings lxml.  Email HTML is mostly layout tables, so cells read as words and
rows as lines here."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from zsc.format.text import _clean
from zsc.format.links import label_is_target, safe_link_url

_BLOCK_TAGS = {
    "p", "div", "ul", "ol", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "section", "article", "header", "footer",
}
_LINE_TAGS = {"tr", "dt", "dd"}
_SKIP_TAGS = {"script", "style", "head", "title"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0
        self.links: list[tuple[str, int]] = []  # (href, index in parts where the text starts)

    def _break(self, n: int) -> None:
        # break markers, resolved in text(): \x00 = line break, \x03 = paragraph break
        self.parts.append("\x03" if n >= 2 else "\x00")

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "br":
            self.parts.append("\x01")  # hard line break
        elif tag == "li":
            self._break(1)
            self.parts.append("- ")
        elif tag in _BLOCK_TAGS:
            self._break(2)
            if tag == "pre":
                self.pre += 1
        elif tag in _LINE_TAGS:
            self._break(1)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "a":
            self.links.append((a.get("href") or "", len(self.parts)))
        elif tag == "img" and a.get("alt"):
            self.parts.append(a["alt"])

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self._break(2)
        elif tag in _LINE_TAGS or tag == "li":
            self._break(1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(p for p in self.parts[start:] if p not in ("\x00", "\x01", "\x03"))
            label = " ".join(label.split())
            href = href.strip()
            if safe_link_url(href):
                shown = href[len("mailto:"):] if href.lower().startswith("mailto:") else href
                if label_is_target(label, href):  # the link shows where it goes: just the URL
                    self.parts[start:] = [shown]
                else:  # never a label alone: it could name another address (links.py)
                    self.parts.append(f" ({shown})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            # \x02 = a space that survives line stripping
            self.parts.append(data.replace(" ", "\x02").replace("\n", "\x01"))
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        raw = "".join(self.parts).replace("\xa0", " ")
        # runs of block-break markers: the longest wanted break wins
        raw = re.sub(r"[\x00\x03](?:[ \t]*[\x00\x03])*", lambda m: "\n\n" if "\x03" in m.group(0) else "\n", raw)
        raw = raw.replace("\x01", "\n")
        lines = [line.strip() if not line.startswith("- ") else "- " + line[2:].strip() for line in raw.split("\n")]
        out = "\n".join(lines)
        out = re.sub(r"\n{3,}", "\n\n", out)
        return out.strip().replace("\x02", " ")


def plain_from_html(html_text: str) -> str:
    """Plain text from a Zendesk ``html_body`` (fallback when there is no
    plain_body/body).  ``<br>`` -> line break, ``<p>``/``<div>``/headings ->
    paragraph, ``<li>`` -> ``- item`` line, links -> ``label (url)`` for
    http(s)/mailto links, scripts/styles dropped, entities decoded."""
    if not html_text:
        return ""
    parser = _TextExtractor()
    parser.feed(_clean(html_text))
    parser.close()
    return parser.text()
