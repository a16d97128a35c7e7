"""Slack ``:shortcode:`` -> Unicode emoji (the ``emoji`` package knows the names)."""

from __future__ import annotations

import functools
import re
from typing import Optional

import emoji

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
