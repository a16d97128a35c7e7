"""Text conversion between Slack mrkdwn and Zendesk comment bodies.

Everything here is a pure function: no network, no Slack/Zendesk SDK imports.

Direction Slack -> Zendesk (``slack_to_plain``, ``subject_from_slack``,
``slack_reply_to_zendesk``, ``files_block``) produces *plain text*: Slack control
sequences (``<@U1>``, ``<#C1|x>``, ``<!here>``, ``<url|label>``) are resolved to
readable text, Slack's ``&amp; &lt; &gt;`` are unescaped, emoji shortcodes become
Unicode emoji.

Direction Zendesk -> Slack (``zendesk_to_slack``, ``zendesk_comment_to_slack``)
treats the Zendesk text as *untrusted literal text* and produces Slack mrkdwn that
cannot ping anybody and cannot contain a Slack control sequence other than the
``<url|label>`` links this module builds itself:

* ``&``, ``<``, ``>`` are escaped (Slack's rule), so typed ``<!channel>`` or
  ``<@U123>`` are shown literally.  Text that is *already* escaped (``&lt;``) is
  escaped again (``&amp;lt;``) so Slack shows exactly what the agent typed.
* A ZERO WIDTH SPACE (U+200B) is inserted after the ``@`` of every bare
  ``@word`` mention and after the ``@``/``!`` of ``@here``/``@channel``/
  ``@everyone``/``@group`` (and ``!here`` etc).  Why: escaping only protects
  against the ``<!here>`` form; Slack *also* turns plain ``@here``/``@name``
  into real mentions when a message is posted with ``link_names=1`` or
  ``parse=full`` (and when a user edits/re-posts the text).  The invisible
  character breaks the token so no mention parser can match it while the text
  still reads the same.  U+200B is used rather than ZERO WIDTH JOINER (U+200D)
  because ZWJ has a meaning (it glues emoji sequences together) and may be
  normalised away; ZWSP is the conventional "break this token" character.
  Inside code spans/blocks only the broadcast words are neutralised, so code
  such as ``@property`` survives copy-paste.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from html.parser import HTMLParser
from typing import Callable, Iterable, Optional

import emoji

__all__ = [
    "ZWSP",
    "NO_TEXT",
    "SUBJECT_LIMIT",
    "SLACK_CHUNK_LIMIT",
    "slack_to_plain",
    "subject_from_slack",
    "zendesk_to_slack",
    "split_for_slack",
    "truncate",
    "slack_reply_to_zendesk",
    "files_block",
    "zendesk_comment_to_slack",
    "plain_from_html",
]

ZWSP = "\u200b"
NO_TEXT = "(no text)"
SUBJECT_LIMIT = 150
SLACK_CHUNK_LIMIT = 3500

NameLookup = Callable[[str], Optional[str]]


def _no_name(_id: str) -> Optional[str]:
    return None


# ---------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------

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


def _is_extender(ch: str) -> bool:
    """True if ``ch`` must stay attached to the character before it."""
    cp = ord(ch)
    return (
        cp == 0x200D  # zero width joiner
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences (flags of regions)
        or 0xDC00 <= cp <= 0xDFFF  # low surrogate (only in broken input)
        or cp == 0x20E3  # combining enclosing keycap
        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


_MAX_CLUSTER = 64


def _grapheme_safe(text: str, i: int) -> int:
    """Largest index <= i that does not split a grapheme cluster (approximation).

    Never splits a base character from its combining marks / variation selector /
    skin tone, an emoji ZWJ sequence, a surrogate pair or a regional-indicator
    flag pair.  Returns 0 if there is no safe cut before ``i``.  A "cluster"
    longer than _MAX_CLUSTER code points (zalgo text) is cut anyway.
    """
    i = max(0, min(i, len(text)))
    start = i
    while 0 < i < len(text):
        if start - i >= _MAX_CLUSTER:
            return start
        if _is_extender(text[i]) or text[i - 1] == "\u200d" or "\ud800" <= text[i - 1] <= "\udbff":
            i -= 1
            continue
        if _is_regional_indicator(text[i]) and _is_regional_indicator(text[i - 1]):
            run = 0
            j = i - 1
            while j >= 0 and _is_regional_indicator(text[j]):
                run += 1
                j -= 1
            if run % 2 == 1:  # text[i-1] and text[i] form one flag
                i -= 1
                continue
        break
    return i


# ---------------------------------------------------------------------------
# Emoji
# ---------------------------------------------------------------------------

_SHORTCODE_RE = re.compile(r":([A-Za-z0-9_+\-']+):(?::skin-tone-([1-6]):)?")
# Slack skin-tone-1 is the default (yellow) tone; 2..6 map to Fitzpatrick 1-2..6.
_SKIN_TONES = {"2": "\U0001f3fb", "3": "\U0001f3fc", "4": "\U0001f3fd", "5": "\U0001f3fe", "6": "\U0001f3ff"}


@functools.lru_cache(maxsize=4096)
def _emoji_for(name: str) -> Optional[str]:
    """Unicode emoji for a Slack shortcode name, or None if unknown."""
    candidates = [name]
    if "-" in name:
        candidates.append(name.replace("-", "_"))  # Slack "man-shrugging" = "man_shrugging"
    for cand in candidates:
        code = f":{cand}:"
        out = emoji.emojize(code, language="alias")
        if out != code:
            return out
    m = re.fullmatch(r"flag-([a-z]{2})", name)
    if m:  # Slack ":flag-us:" -> regional indicator pair
        flag = "".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in m.group(1))
        if flag in emoji.EMOJI_DATA:
            return flag
    return None


def _with_skin_tone(base: str, tone: str) -> str:
    modifier = _SKIN_TONES.get(tone)
    if not modifier:
        return base
    rest = base[1:]
    if rest.startswith("\ufe0f"):
        rest = rest[1:]
    cand = base[0] + modifier + rest
    for c in (cand, cand.replace("\ufe0f", "")):
        if c in emoji.EMOJI_DATA:
            return c
    return base  # emoji does not take a skin tone (e.g. a heart): drop the tone


def _emojize(text: str) -> str:
    """Replace Slack ``:shortcode:`` (with optional ``::skin-tone-N:``) by emoji.

    Unknown names (custom or Slack-only emoji such as ``:simple_smile:``) stay as
    typed.  A shortcode directly preceded by a letter or digit is not converted,
    so ``10:30:`` or ``key:b:`` are left alone.
    """
    if ":" not in text:
        return text
    out = []
    pos = 0
    search_from = 0
    while True:
        m = _SHORTCODE_RE.search(text, search_from)
        if not m:
            break
        start = m.start()
        if start > 0 and text[start - 1].isalnum():
            search_from = start + 1
            continue
        em = _emoji_for(m.group(1))
        if em is None:
            search_from = start + 1
            continue
        if m.group(2):
            em = _with_skin_tone(em, m.group(2))
        out.append(text[pos:start])
        out.append(em)
        pos = search_from = m.end()
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------------------
# Slack -> plain text (for Zendesk)
# ---------------------------------------------------------------------------

# Every "<" in Slack message text is a control sequence: literal ones are sent as &lt;
_SLACK_TOKEN_RE = re.compile(r"<([^<>]*)>")
_BROADCASTS = {"here": "@here", "channel": "@channel", "everyone": "@everyone", "group": "@channel"}


def _render_slack_token(inner: str, user_name: NameLookup, channel_name: NameLookup) -> str:
    target, sep, label = inner.partition("|")
    label = _emojize(_slack_unescape(label)).strip() if sep else ""
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
        out.append(_emojize(_slack_unescape(text[pos:m.start()])))
        out.append(_render_slack_token(m.group(1), user_name, channel_name))
        pos = m.end()
    out.append(_emojize(_slack_unescape(text[pos:])))
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


# ---------------------------------------------------------------------------
# Zendesk -> Slack
# ---------------------------------------------------------------------------

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


def _safe_link_url(url: str) -> bool:
    return bool(re.match(r"(?:https?://[^\s/]|mailto:[^\s])", url, re.I))


def _slack_link(url: str, label: Optional[str] = None) -> str:
    """Build <url|label> from *raw* url/label, escaping both first."""
    url_e = _slack_escape(url).replace("|", "%7C")
    if label is None:
        return f"<{url_e}>"
    label_e = _md_inline(_neutralise(_slack_escape(label)))
    if not label_e.strip():
        return f"<{url_e}>"
    return f"<{url_e}|{label_e}>"


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
    ``__bold__`` become ``*bold*``; ``[label](url)`` and ``<url>`` become Slack
    links only for http(s) and mailto URLs (anything else, e.g. ``javascript:``,
    stays literal text).  Code spans/blocks are escaped but not reformatted.
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
            if _safe_link_url(url):
                out = _slack_link(url, m.group("label"))
            else:  # not a link we are willing to build: literal, like any text
                out = _md_inline(_neutralise(_slack_escape(m.group(0))))
        elif m.group("auto") is not None:
            out = _slack_link(m.group("auto"))
        else:  # bare URL: Slack links it itself; only protect it from the rewrites
            out = _slack_escape(m.group("bare"))
        rendered.append(out)
        return f"\x00{len(rendered) - 1}\x00"

    hidden = _ZD_TOKEN_RE.sub(keep, text)
    converted = _md_inline(_neutralise(_slack_escape(hidden)))
    return re.sub(r"\x00(\d+)\x00", lambda m: rendered[int(m.group(1))], converted)


def zendesk_comment_to_slack(author_name: str, body: str) -> str:
    """``*Author* (Zendesk): body`` with both parts made safe for Slack."""
    name = _one_line(author_name or "").replace("*", "") or "Zendesk user"
    name = _neutralise(_slack_escape(name))
    converted = zendesk_to_slack(body or "")
    head = f"*{name}* (Zendesk):"
    if not converted:
        return head
    # a block quote or code block only renders at the start of a line
    sep = "\n" if converted.startswith(("&gt;", "```")) else " "
    return head + sep + converted


# ---------------------------------------------------------------------------
# Splitting / truncating
# ---------------------------------------------------------------------------


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """At most ``limit`` characters; when cut, cut at the last whitespace (if it
    is in the second half), else at a character boundary that does not break
    a grapheme, strip trailing whitespace and append ``marker``."""
    if len(text) <= limit:
        return text
    budget = limit - len(marker)
    if budget <= 0:
        return marker[:max(limit, 0)]
    cut = -1
    for m in re.finditer(r"\s+", text[: budget + 1]):
        if m.start() > 0:
            cut = m.start()
    if cut < max(1, budget // 2):
        cut = _grapheme_safe(text, budget) or budget
    return text[:cut].rstrip() + marker


# Slack control sequences and HTML entities must not be cut in half.
_PROTECTED_RE = re.compile(r"<[^<>\n]*>|&(?:amp|lt|gt|#\d+|#x[0-9a-f]+|[a-z]+);", re.I)
_FENCE = "```"


def _find_cut(s: str, limit: int) -> tuple[int, int]:
    """Where to split ``s`` (len > limit): returns (end of chunk, start of rest)."""
    spans = [(m.start(), m.end()) for m in _PROTECTED_RE.finditer(s, 0, min(len(s), limit * 2 + 2))]

    # a chunk must hold something besides whitespace and an opening code fence
    min_cut = re.match(r"\s*(?:```)?\s*", s).end() + 1

    def ok(i: int) -> bool:
        return i >= min_cut and all(not (a < i < b) for a, b in spans)

    window = s[: limit + 1]
    half = limit // 2
    best_any: Optional[tuple[int, int]] = None
    for pattern in (r"\n(?:[ \t]*\n)+", r"\n", r"[ \t]+"):
        found = None
        for m in re.finditer(pattern, window):
            if 0 < m.start() <= limit and ok(m.start()):
                found = (m.start(), m.end())
        if found and pattern == r"[ \t]+":
            start = found[1]
            while start < len(s) and s[start] in " \t":
                start += 1
            found = (found[0], start)
        if found and found[0] >= half:
            return found
        if found and (best_any is None or found[0] > best_any[0]):
            best_any = found
    if best_any:
        return best_any
    # no usable whitespace: cut before a protected token, else a hard (grapheme-safe) cut
    i = limit
    while i >= min_cut:
        j = _grapheme_safe(s, i)
        if j < min_cut:
            break
        if ok(j):
            return j, j
        i = max(a for a, b in spans if a < j < b)  # just before the token j falls in
    i = _grapheme_safe(s, limit) or limit
    return i, i


def split_for_slack(text: str, limit: int = SLACK_CHUNK_LIMIT) -> list[str]:
    """Split text into chunks of at most ``limit`` characters.

    Prefers (in this order) paragraph breaks, line breaks, spaces, provided the
    chunk is at least half full; then the last break of any kind; then a hard
    cut.  Never cuts inside a Slack ``<…>`` token or an ``&amp;`` entity unless
    the token alone exceeds the limit, never splits a grapheme cluster.
    A ``` code block cut in two is closed at the end of one chunk and reopened
    at the start of the next (when ``limit`` >= 16).  Whitespace at the cut is
    dropped.  Empty/whitespace-only text gives ``[]``.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if not text or not text.strip():
        return []
    if len(text) <= limit:
        return [text]
    balance = limit >= 16
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        end, start = _find_cut(rest, limit)
        chunk = rest[:end].rstrip()
        if balance and chunk.count(_FENCE) % 2 == 1:
            end, start = _find_cut(rest, limit - 4)
            chunk = rest[:end].rstrip()
            if chunk.count(_FENCE) % 2 == 1:
                new_rest = rest[start:].lstrip("\n")
                if new_rest.startswith(_FENCE):  # the block closes right here
                    new_rest = new_rest[len(_FENCE):].lstrip("\n")
                else:
                    new_rest = _FENCE + "\n" + new_rest
                if len(new_rest) < len(rest):  # always make progress
                    chunks.append(chunk + "\n" + _FENCE)
                    rest = new_rest
                    continue
        if chunk.strip():
            chunks.append(chunk)
        rest = rest[start:].lstrip("\n")
    if rest.strip():
        chunks.append(rest.rstrip())
    return chunks


# ---------------------------------------------------------------------------
# Replies and files
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# HTML -> plain text
# ---------------------------------------------------------------------------

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
            if _safe_link_url(href):
                shown = href[len("mailto:"):] if href.lower().startswith("mailto:") else href
                if not label:
                    self.parts.append(shown)
                elif label != shown and label != href:
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
