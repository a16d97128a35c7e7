"""Cutting text for Slack: truncate, split into chunks, never inside a grapheme,
a Slack ``<…>`` token or an entity."""

from __future__ import annotations

import bisect
import functools
import re
from typing import Optional

from zsc.format.text import SLACK_CHUNK_LIMIT


@functools.cache
def _clusters():
    """Extended grapheme clusters (UAX #29) as the `regex` module knows them: emoji ZWJ
    sequences, flags, skin tones, keycaps, combining marks, Hangul syllables... Loaded
    on the first text that needs cutting (most never do): the module costs ~1 MiB."""
    import regex

    return regex.compile(r"\X")


def _grapheme_safe(text: str, i: int) -> int:
    """Largest index <= i that does not split a grapheme cluster, 0 if none.

    Scans from the start of ``text``: callers cut near the start (at most one
    chunk in), so this costs O(i).  A cluster that alone is longer than the
    room (zalgo text) has no safe cut: callers then cut it hard at ``i`` so
    splitting always progresses."""
    i = max(0, min(i, len(text)))
    if i == len(text):
        return i
    safe = 0
    for m in _clusters().finditer(text):
        if m.end() > i:
            break
        safe = m.end()
    return safe


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

    starts = [a for a, _ in spans]  # sorted, the spans do not overlap

    def ok(i: int) -> bool:  # not inside a token; bisect: a window holds hundreds of entities
        k = bisect.bisect_left(starts, i) - 1
        return i >= min_cut and not (k >= 0 and i < spans[k][1])

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


CONTINUED = "\n… continued in Zendesk: "


def cap_posts(chunks: list[str], max_posts: int, continuation: str, limit: int = SLACK_CHUNK_LIMIT) -> list[str]:
    """At most ``max_posts`` chunks, so one huge comment cannot flood a thread.

    With more chunks than that, the first ``max_posts`` are kept and the last
    kept one is cut (by ``split_for_slack``'s rules: at a paragraph, line or word,
    never inside a ``<…>`` token or an entity, a code block closed) to make room
    for ``"\\n… continued in Zendesk: " + continuation`` within ``limit``."""
    if max_posts < 1:
        raise ValueError("max_posts must be positive")
    if len(chunks) <= max_posts:
        return list(chunks)
    tail = CONTINUED + continuation
    room = limit - len(tail)
    if room < 1:
        raise ValueError("the continuation line does not fit in a chunk")
    kept = list(chunks[:max_posts])
    last = kept[-1]
    if len(last) > room:
        last = split_for_slack(last, room)[0]
    kept[-1] = last + tail
    return kept
