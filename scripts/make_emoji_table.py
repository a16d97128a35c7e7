"""Write zsc/format/emoji_names.txt, the table zsc turns Slack shortcodes into emoji
with, from the `emoji` package's data (BSD licence; a test dependency of zsc, not a
runtime one: its multilingual tables cost the daemon ~3.6 MiB, the table 0.2 MiB).

    .venv/bin/python scripts/make_emoji_table.py

Rerun it after upgrading `emoji` for newer Unicode emoji; tests/test_emoji_table.py
checks the table against the installed package.

Each line: the emoji as hex code points, the skin-tone rule, then its names, each
between colons (zsc finds a name by searching the text for ":name:"). A name
is looked up as emoji.emojize(..., language="alias") does: the aliases of every
fully qualified emoji first, then the English names. Only names a Slack shortcode
can have are kept (zsc.format.emoji_codes.SHORTCODE_NAME: "flag_Åland_Islands" cannot
be typed as one, and one such name would make Python hold the whole table in two
bytes a character); every fully qualified emoji has a line, with names or without
(flags and `help` ask whether something is an emoji). The skin-tone rule says how
Slack's `::skin-tone-N:` applies: "-" not at all, "k" modifier after the first code
point keeping the rest, "s" the same without U+FE0F."""

from __future__ import annotations

from pathlib import Path

import re

from emoji.unicode_codes import EMOJI_DATA, STATUS

from zsc.format.emoji_codes import SHORTCODE_NAME

TABLE = Path(__file__).resolve().parent.parent / "zsc" / "format" / "emoji_names.txt"
TONES = ("\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff")


def tone_rule(base: str) -> str:
    """How a skin tone joins `base`, found the way zsc applies it (the same for all five tones)."""
    rules = set()
    for modifier in TONES:
        rest = base[1:].removeprefix("\ufe0f")
        candidate = base[0] + modifier + rest
        if candidate in EMOJI_DATA:
            rules.add("k")
        elif candidate.replace("\ufe0f", "") in EMOJI_DATA:
            rules.add("s")
        else:
            rules.add("-")
    if len(rules) != 1:
        raise SystemExit(f"{base!r}: the tones join it in different ways ({rules}); extend the table's rules")
    return rules.pop()


def qualified() -> list[tuple[str, dict]]:
    return [(emj, data) for emj, data in EMOJI_DATA.items() if data["status"] <= STATUS["fully_qualified"]]


def names() -> dict[str, str]:
    """name -> emoji, in emoji.emojize's order of precedence; only names a shortcode can have."""
    found: dict[str, str] = {}
    for emj, data in qualified():
        for alias in data.get("alias", []):
            found.setdefault(alias.strip(":"), emj)
    for emj, data in qualified():
        found.setdefault(data["en"].strip(":"), emj)
    return {name: emj for name, emj in found.items() if re.fullmatch(SHORTCODE_NAME, name)}


def render() -> str:
    """The table's text: one line per emoji, in code point order."""
    by_emoji: dict[str, list[str]] = {emj: [] for emj, _ in qualified()}
    for name, emj in names().items():
        by_emoji[emj].append(name)
    lines = [f"{' '.join(f'{ord(c):X}' for c in emj)}\t{tone_rule(emj)}\t"
             + (f":{':'.join(sorted(names_))}:" if names_ else "")
             for emj, names_ in sorted(by_emoji.items())]
    return ("# Slack shortcode names -> emoji; written by scripts/make_emoji_table.py, do not edit.\n"
            + "\n".join(lines) + "\n")


def main() -> None:
    TABLE.write_text(render(), encoding="utf-8")
    print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()
