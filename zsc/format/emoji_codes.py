"""Slack ``:shortcode:`` -> Unicode emoji, from the table in emoji_names.txt.

The table is written from the ``emoji`` package's data by
scripts/make_emoji_table.py (tests/test_emoji_table.py keeps the two in step). It
is kept as its text and searched by name (a find in 210 kB of ASCII, cached per
name): the package loads every name in every language it knows, ~3.6 MiB in the
daemon, and even a dict of the table's names would hold 1 MiB for the few a team types."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Iterator, Optional

TABLE_FILE = Path(__file__).with_name("emoji_names.txt")
# Variation selectors and skin-tone modifiers: "✅" and "✅\ufe0f" are the same emoji.
_VARIANTS = str.maketrans("", "", "\ufe0e\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")


@functools.cache
def _table() -> str:
    """Lines of `HEX HEX<TAB>rule<TAB>:name:name:`; rule: how a skin tone joins the
    emoji, "-" not at all, "k" after its first code point, "s" the same without U+FE0F."""
    return TABLE_FILE.read_text(encoding="utf-8")


def _line_with(needle: str) -> list[str] | None:
    """The fields of the table line containing `needle`, or None."""
    text = _table()
    at = text.find(needle)
    if at < 0:
        return None
    return text[text.rfind("\n", 0, at + 1) + 1:text.find("\n", at + 1)].split("\t")


def _emoji(codes: str) -> str:
    return "".join(chr(int(code, 16)) for code in codes.split())


def _codes(emj: str) -> str:
    return " ".join(f"{ord(c):X}" for c in emj)


def by_name(name: str) -> str | None:
    """The emoji a shortcode name (without colons) stands for, or None."""
    fields = _line_with(f":{name}:") if ":" not in name else None
    return _emoji(fields[0]) if fields else None


def entries() -> Iterator[tuple[str, str, list[str]]]:
    """Every (emoji, tone rule, names) of the table (for its tests and is_emoji)."""
    for line in _table().splitlines():
        if line and not line.startswith("#"):
            codes, rule, names = line.split("\t")
            yield _emoji(codes), rule, [name for name in names.split(":") if name]


def _line_of(emj: str) -> list[str] | None:
    """The fields of `emj`'s own line, or None."""
    return _line_with(f"\n{_codes(emj)}\t")


def tone_rule(emj: str) -> str:
    fields = _line_of(emj)
    return fields[1] if fields else "-"


def in_table(emj: str) -> bool:
    return _line_of(emj) is not None


@functools.cache
def _plain() -> frozenset[str]:
    return frozenset(strip_variants(emj) for emj, _, _ in entries())


def strip_variants(text: str) -> str:
    """`text` without variation selectors and skin tones (the form emoji are compared in)."""
    return text.translate(_VARIANTS)


def is_emoji(text: str) -> bool:
    """Whether `text` is a single emoji (every fully qualified one has a line), selectors
    and tones aside; a run of several is not. The set is built on the first call: `help`
    asks (are a command's aliases emoji or words?), nothing on the sync's path does."""
    return bool(text) and strip_variants(text) in _plain()


# The names a shortcode can have (the table keeps only these: see scripts/make_emoji_table.py).
SHORTCODE_NAME = r"[A-Za-z0-9_+\-']+"
_SHORTCODE_RE = re.compile(rf":({SHORTCODE_NAME}):(?::skin-tone-([1-6]):)?")
# Slack skin-tone-1 is the default (yellow) tone; 2..6 map to Fitzpatrick 1-2..6.
_SKIN_TONES = {"2": "\U0001f3fb", "3": "\U0001f3fc", "4": "\U0001f3fd", "5": "\U0001f3fe", "6": "\U0001f3ff"}


@functools.lru_cache(maxsize=1024)  # each lookup is a search of the table: once per name
def _emoji_for(name: str) -> Optional[str]:
    """Unicode emoji for a Slack shortcode name, or None if unknown."""
    candidates = [name]
    if "-" in name:
        candidates.append(name.replace("-", "_"))  # Slack "man-shrugging" = "man_shrugging"
    for cand in candidates:
        found = by_name(cand)
        if found:
            return found
    m = re.fullmatch(r"flag-([a-z]{2})", name)
    if m:  # Slack ":flag-us:" -> regional indicator pair
        flag = "".join(chr(0x1F1E6 + ord(c) - ord("a")) for c in m.group(1))
        if in_table(flag):
            return flag
    return None


@functools.lru_cache(maxsize=1024)
def _with_skin_tone(base: str, tone: str) -> str:
    modifier = _SKIN_TONES.get(tone)
    rule = tone_rule(base) if modifier else "-"
    if rule == "-":
        return base  # tone 1 (the default), or an emoji without tones (e.g. a heart): drop it
    toned = base[0] + modifier + base[1:].removeprefix("\ufe0f")
    return toned if rule == "k" else toned.replace("\ufe0f", "")


def emojize(text: str) -> str:
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
