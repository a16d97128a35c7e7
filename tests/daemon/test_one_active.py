"""One active zsc per store: a second one on the same SQLite file refuses to start;
with `[daemon] ha = true` the others wait as hot standbys and one takes over when
the active one dies, with nothing lost and nothing doubled."""

from __future__ import annotations

import json
import time
from datetime import datetime

from tests import pg
from tests.daemon.conftest import START_TIMEOUT, edit_config, wait_until
from tests.flow.world import CHANNEL

HA = "[daemon]\nha = true\n"


def test_a_second_zsc_on_the_same_sqlite_file_refuses_to_start(world, start_zsc):
    first = start_zsc("run")
    first.wait_log("zsc active")
    second = start_zsc("run")
    assert second.wait(START_TIMEOUT) == 1
    db = world.tmp / "zsc.db"
    assert second.err_path.read_text().splitlines()[-1] == (
        f"zsc: another zsc (pid {first.pid}) is already active on the SQLite database {db} (lock file {db}.lock); "
        "stop it first, or set [daemon] ha = true to run this one as a hot standby")
    assert first.proc.poll() is None
    ts = world.ask("Still one bridge?")
    wait_until(lambda: world.bot_texts(ts), timeout=10, what="the first zsc at work")


def test_a_standby_on_sqlite_takes_over_when_the_active_one_is_killed(world, start_zsc):
    world.write_config(extra=HA)
    active = start_zsc("run", name="active")
    active.wait_log("zsc active")
    standby = start_zsc("run", name="standby")
    standby.wait_log("standby:")
    active.proc.kill()
    standby.wait_log("took over", timeout=5)
    ts = world.ask("Anyone there?")
    wait_until(lambda: world.bot_texts(ts), timeout=10, what="the new leader at work")
    assert len(world.tickets()) == 1


def leader_of(url: str) -> dict | None:
    conn = pg._connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT value FROM checkpoint WHERE name = 'daemon:leader'")
            row = cur.fetchone()
    finally:
        conn.close()
    return json.loads(row[0]) if row else None


def log_time(entry: dict) -> float:
    return datetime.fromisoformat(entry["time"]).timestamp()


def test_ha_on_postgres_a_standby_takes_over_from_a_killed_leader(world, start_zsc):
    with pg.fresh_database() as url:
        world.write_config(extra=HA)
        edit_config(world, f'url = "sqlite:///{world.tmp}/zsc.db"', f'url = "{url}"')
        a = start_zsc("run", name="a")
        a.wait_log("zsc active")
        b = start_zsc("run", name="b")
        standby = b.wait_log("standby:")
        assert f"pid {a.pid}" in standby["message"]
        assert leader_of(url)["pid"] == a.pid

        first = world.ask("Disk full on build-07")
        wait_until(lambda: world.bot_texts(first), timeout=10, what="the first ticket")
        # The leader dies with a ticket creation in flight: Zendesk applies it, the
        # answer never arrives. The new leader must find that ticket, not make another.
        world.sim.zendesk.inject("tickets.create", "slow", delay=3)
        second = world.ask("VPN down")
        wait_until(lambda: len(world.tickets()) == 2, timeout=10, what="the second ticket created")
        a.proc.kill()  # SIGKILL: no goodbye, its session (and lock) die with it
        killed_at = time.time()
        world.reply(first, "it is at 100% again")
        third = world.ask("Printer jammed")

        took_over = b.wait_log("took over", timeout=10)
        assert log_time(took_over) - killed_at < 2 * 1.0 + 0.5  # within two poll intervals (1s here)
        wait_until(lambda: all(world.bot_texts(ts) for ts in (first, second, third)), timeout=15,
                   what="every thread answered by the new leader")
        ids = {t["external_id"]: t["id"] for t in world.tickets()}
        wait_until(lambda: any("it is at 100% again" in c["body"] for c in world.comments(ids[f"slack:{CHANNEL}:{first}"])),
                   timeout=10, what="the reply mirrored")
        # Several instances share the work: the record names the one polling Zendesk, from its next Zendesk poll.
        wait_until(lambda: leader_of(url)["pid"] == b.pid, timeout=10, what="b named as the active zsc")

        # Let the new leader run a few more cycles: nothing may be posted twice.
        calls = world.sim.slack.calls["conversations.history"]
        wait_until(lambda: world.sim.slack.calls["conversations.history"] >= calls + 3, timeout=10)
        tickets = world.tickets()
        assert sorted(ids) == sorted(f"slack:{CHANNEL}:{ts}" for ts in (first, second, third))
        assert len(tickets) == 3
        for ts in (first, second, third):
            assert sum(t.startswith("Thanks! Ticket") for t in world.bot_texts(ts)) == 1
        bodies = [c["body"] for c in world.comments(ids[f"slack:{CHANNEL}:{first}"])]
        assert sum("it is at 100% again" in b for b in bodies) == 1
        assert b.proc.poll() is None


def test_a_leader_that_loses_its_lock_session_stops_then_leads_again(world, start_zsc):
    with pg.fresh_database() as url:
        world.write_config(extra=HA)
        edit_config(world, f'url = "sqlite:///{world.tmp}/zsc.db"', f'url = "{url}"')
        zsc = start_zsc("run")
        zsc.wait_log("zsc active")
        admin = pg._connect(url)
        admin.autocommit = True
        with admin.cursor() as cur:  # as a failover or a network cut would
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name LIKE 'zsc leader lock%%' AND datname = current_database()")
        admin.close()
        zsc.wait_log("lost the leader lock", level="error", timeout=10)
        wait_until(lambda: len([e for e in zsc.logs() if e["message"].startswith("zsc active")]) == 2, timeout=10,
                   what="leading again")
        ts = world.ask("Back to work?")
        wait_until(lambda: world.bot_texts(ts), timeout=10, what="the ticket confirmation")
        # (the leader record is written by the instance's next Zendesk poll)
        wait_until(lambda: (leader_of(url) or {}).get("pid") == zsc.pid, timeout=10, what="the leader record")
