"""A SQLite `zsc` syncing loads none of the modules it does not use (issue 10's
lighter process): the probes kept from peewee (psycopg2) and requests (its charset
guessers), the emoji package (zsc reads its own table), and the modules only rare
paths need (regex to cut long texts, difflib for a mistyped setting, html.parser
for emailed HTML)."""

from __future__ import annotations

import subprocess
import sys

from tests.daemon.conftest import zsc_env

UNUSED = ("psycopg2", "charset_normalizer", "chardet", "emoji", "regex", "difflib", "html.parser")

SYNC_AND_LIST_MODULES = """
import sys
import zsc.cli
sys.argv = ["zsc", "--config", sys.argv[1], "sync-once"]
try:
    zsc.cli.main()
except SystemExit as exc:
    print("exit", exc.code, file=sys.stderr)
print(" ".join(sorted(name for name in sys.modules)))
"""


def sync_in_a_fresh_process(world) -> set[str]:
    done = subprocess.run([sys.executable, "-c", SYNC_AND_LIST_MODULES, str(world.config_path)],
                          env=zsc_env(), capture_output=True, text=True, timeout=120)
    assert "exit 0" in done.stderr, done.stderr[-2000:]
    return set(done.stdout.split())


def test_a_sqlite_sync_with_shortcodes_and_replies_loads_nothing_it_does_not_use(world):
    assert world.sync().exit_code == 0  # zsc starts from now: what is asked next is new
    ts = world.ask("Printer jammed :thumbsup::skin-tone-3: on :flag-us: floor")
    world.reply(ts, "still jammed :cry:", user="UBOB")
    modules = sync_in_a_fresh_process(world)
    assert "zsc.sync.engine" in modules and "peewee" in modules  # it did sync, on the store
    assert sorted(m for m in UNUSED if m in modules) == []
    ticket = world.only_ticket()
    assert "👍🏼" in ticket["description"] and "🇺🇸" in ticket["description"]
