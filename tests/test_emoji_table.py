"""The shortcode table zsc ships (zsc/format/emoji_names.txt) is what
scripts/make_emoji_table.py writes from the `emoji` package, and reading it gives
the emoji the package gives."""

import importlib.util
from pathlib import Path

import emoji
import pytest

from zsc import format as fmt
from zsc.format import emoji_codes

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_emoji_table.py"


def generator():
    spec = importlib.util.spec_from_file_location("make_emoji_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_table_is_what_the_script_writes():
    assert emoji_codes.TABLE_FILE.read_text(encoding="utf-8") == generator().render(), (
        "zsc/format/emoji_names.txt is out of date with the installed emoji package: "
        "run .venv/bin/python scripts/make_emoji_table.py")


def test_every_name_gives_the_emoji_the_package_gives():
    names = {name: emj for emj, _, names in emoji_codes.entries() for name in names}
    assert len(names) > 4000
    wrong = {name: emj for name, emj in names.items()
             if emoji.emojize(f":{name}:", language="alias") != emj or emoji_codes.by_name(name) != emj}
    assert wrong == {}


def test_the_table_is_ascii_so_python_holds_it_in_one_byte_a_character():
    assert emoji_codes.TABLE_FILE.read_bytes().isascii()


@pytest.mark.parametrize("text", ["👍", "👍🏽", "✅", "✅\ufe0f", "🇺🇸", "🤷\u200d♂️", "🪲", "🇦🇽"])
def test_single_emoji_are_known(text):
    assert fmt.is_emoji(text) and emoji.purely_emoji(text)


@pytest.mark.parametrize("text", ["", "ok", "+1", "👍👍", ":+1:", "done ✅"])
def test_words_and_runs_are_not_one_emoji(text):
    assert not fmt.is_emoji(text)


def test_a_toned_emoji_is_one_the_package_knows():
    toned = [(base, rule) for base, rule, _ in emoji_codes.entries() if rule != "-"]
    assert len(toned) > 300
    for base, rule in toned:
        for tone in "23456":
            assert emoji.is_emoji(emoji_codes._with_skin_tone(base, tone)), (base, tone, rule)
