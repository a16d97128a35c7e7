"""[daemon] ha = true on Postgres with several channels: every live instance polls its
share (channels spread evenly, one instance per channel, one for Zendesk); when one
is killed its channels are taken over within two poll intervals, nothing lost or
doubled. Three real `zsc run` processes against the simulator."""

from __future__ import annotations

import time

from tests import pg
from tests.daemon.conftest import edit_config, wait_until
from tests.daemon.test_one_active import HA, leader_of, log_time
from tests.flow.world import CHANNEL

OTHERS = ("CPLAT", "CDATA", "CSEC")
CHANNELS = (CHANNEL, *OTHERS)


def pollers(url: str) -> dict[str, str]:
    conn = pg._connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name, value FROM checkpoint WHERE name LIKE 'ha:poller:%%'")
            return {name.removeprefix("ha:poller:"): value for name, value in cur.fetchall()}
    finally:
        conn.close()


def current_share(procs) -> dict[int, set[str]]:
    """What each live instance polls now, from its own log (took over / handed over)."""
    share: dict[int, set[str]] = {}
    for proc in procs:
        mine: set[str] = set()
        for entry in proc.logs():
            message = entry.get("message", "")
            if message.startswith("took over channel "):
                mine.add(message.split()[-1])
            elif message.startswith("handed channel "):
                mine.discard(message.split()[2])
        share[proc.pid] = mine
    return share


def test_three_instances_share_four_channels_and_take_over_from_a_killed_one(world, start_zsc):
    with pg.fresh_database() as url:
        for channel in OTHERS:
            world.sim.slack.add_channel(channel, channel.lower())
        world.write_config(extra=HA + "".join(f'\n[[channels]]\nid = "{c}"\n' for c in OTHERS))
        edit_config(world, f'url = "sqlite:///{world.tmp}/zsc.db"', f'url = "{url}"')
        procs = [start_zsc("run", name=name) for name in "abc"]
        for proc in procs:
            proc.wait_log("zsc active")

        def spread() -> bool:
            sizes = sorted(len(s) for s in current_share(procs).values())
            return sizes == [1, 1, 2] and set().union(*current_share(procs).values()) == set(CHANNELS)

        wait_until(spread, timeout=15, what="four channels spread over three instances")
        assert set(pollers(url)) == set(CHANNELS)
        zendesk_holder = leader_of(url)["pid"]
        assert zendesk_holder in {p.pid for p in procs}

        first = {c: world.sim.slack.post(c, "UANN", f"question in {c}") for c in CHANNELS}
        wait_until(lambda: len(world.tickets()) == 4 and all(
            any(t.startswith("Thanks! Ticket") for t in bot_texts(world, c, ts)) for c, ts in first.items()),
            timeout=20, what="a ticket for each channel")

        # Kill an instance that polls channels but not Zendesk (SIGKILL: its locks die with its session).
        victim = next(p for p in procs if p.pid != zendesk_holder and current_share(procs)[p.pid])
        orphaned = current_share(procs)[victim.pid]
        victim.proc.kill()
        victim.proc.wait(5)
        killed_at = time.time()
        survivors = [p for p in procs if p is not victim]

        second = {c: world.sim.slack.post(c, "UBOB", f"another one in {c}") for c in CHANNELS}
        for c, ts in first.items():
            world.sim.slack.post(c, "UANN", f"more detail in {c}", thread_ts=ts)

        def taken_over() -> list[dict]:
            found = []
            for channel in orphaned:
                entries = [e for p in survivors for e in p.logs()
                           if e.get("message") == f"took over channel {channel}" and log_time(e) >= killed_at - 0.5]
                if not entries:
                    return []
                found.append(min(entries, key=log_time))
            return found

        entries = wait_until(taken_over, timeout=10, what="the killed instance's channels taken over")
        assert all(log_time(e) - killed_at < 2 * 1.0 + 0.5 for e in entries)  # two poll intervals (1 s here)

        wait_until(lambda: len(world.tickets()) == 8 and all(
            any(t.startswith("Thanks! Ticket") for t in bot_texts(world, c, ts)) for c, ts in second.items()),
            timeout=30, what="a ticket for each new message")
        ids = {t["external_id"]: t["id"] for t in world.tickets()}
        wait_until(lambda: all(any(f"more detail in {c}" in x["body"] for x in world.comments(ids[f"slack:{c}:{ts}"]))
                               for c, ts in first.items()), timeout=30, what="every reply mirrored")
        for channel, ts in first.items():
            world.sim.zendesk.agent_comment(ids[f"slack:{channel}:{ts}"], world.other_agent, f"answer for {channel}")
        wait_until(lambda: all(any(f"answer for {c}" in t for t in bot_texts(world, c, ts)) for c, ts in first.items()),
                   timeout=20, what="every answer in its thread")

        # A few more cycles: nothing may be doubled.
        calls = world.sim.slack.calls["conversations.history"]
        wait_until(lambda: world.sim.slack.calls["conversations.history"] >= calls + 6, timeout=20)
        assert len(world.tickets()) == 8
        for channel in CHANNELS:
            for ts in (first[channel], second[channel]):
                assert sum(t.startswith("Thanks! Ticket") for t in bot_texts(world, channel, ts)) == 1
            bodies = [x["body"] for x in world.comments(ids[f"slack:{channel}:{first[channel]}"])]
            assert sum(f"more detail in {channel}" in b for b in bodies) == 1
            assert sum(f"answer for {channel}" in t for t in bot_texts(world, channel, first[channel])) == 1
        # Every channel is now polled by a survivor, and `zsc status` says by whom.
        share = current_share(survivors)
        assert set().union(*share.values()) == set(CHANNELS) and all(share.values())
        alive = {f"pid {p.pid}" for p in survivors}
        assert all(who.rsplit(" ", 2)[-2:] and " ".join(who.split()[-2:]) in alive for who in pollers(url).values())
        status = world.zsc("status").output
        assert all(f"{c}:" in status for c in CHANNELS) and "polled by" in status


def bot_texts(world, channel: str, ts: str) -> list[str]:
    return [m["text"] for m in world.sim.slack.thread(channel, ts) if m.get("bot_id")]
