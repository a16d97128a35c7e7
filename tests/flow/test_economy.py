"""Latency and API economy (issue 10), counted with the simulator's call counters:
quiet tickets are seen in the next Zendesk cycle, zsc never reads back its own
writes, and the incremental export stays within its budget whatever the intervals."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun import freeze_time

from tests.flow.test_idempotency_probes import bodies

START = datetime(2026, 3, 2, 10, 0, 0)
READS_OF_OWN_WRITES = ("conversations.replies", "tickets.comments")


def test_a_comment_on_a_ticket_untouched_for_a_day_is_mirrored_in_the_next_zendesk_cycle(world):
    with freeze_time(START, tick=True) as clock:
        world.sync()
        ts = world.ask("Disk full on build-07")
        world.sync_until_clean(clock=clock)
        ticket_id = world.only_ticket()["id"]
        clock.tick(timedelta(days=1))
        world.sync()  # a quiet day later
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Sorry for the wait: fixed")
        result = world.sync()  # the very next cycle, although the export hides the last minute
        assert result.exit_code == 0, result.output
    assert world.bot_texts(ts).count("*Zoe Agent* (Zendesk): Sorry for the wait: fixed") == 1


def test_the_cycle_after_mirroring_reads_nothing_back_that_zsc_wrote(world):
    with freeze_time(START, tick=True) as clock:
        world.sync()
        threads = [world.ask(f"request {n}") for n in range(3)]
        world.sync_until_clean(clock=clock)
        tickets = {t["subject"]: t["id"] for t in world.tickets()}
        for n, ts in enumerate(threads):
            world.reply(ts, f"more about {n}", user="UBOB")
            world.sim.zendesk.agent_comment(tickets[f"request {n}"], world.other_agent, f"answer {n}")
        clock.tick(2)
        world.sync_until_clean(clock=clock)  # mirrors 3 replies and 3 comments: zsc wrote 6 things
        assert all(bodies(world, tickets[f"request {n}"]).count(f"Bob (Slack): more about {n}") == 1 for n in range(3))
        world.sim.reset_calls()
        clock.tick(2)
        assert world.sync().exit_code == 0
    reads = {**world.sim.slack.calls, **world.sim.zendesk.calls}
    assert all(reads.get(name, 0) == 0 for name in READS_OF_OWN_WRITES), reads
    total = sum(n for name, n in reads.items() if name not in ("chat.postMessage", "tickets.update", "tickets.create"))
    assert total <= 3 + 1, reads  # history, show_many (3 open tickets), the export, auth.test once per process


def test_the_export_is_never_called_more_than_ten_times_a_minute(world):
    world.write_config(zendesk_interval=0.1)
    with freeze_time(START, tick=True) as clock:
        world.sync()
        world.sim.reset_calls()
        for _ in range(40):  # 40 cycles within one simulated minute
            clock.tick(1)
            world.sync()
    assert 0 < world.sim.zendesk.calls["incremental.tickets"] <= 10


def test_every_cycle_of_one_process_polls_slack_however_soon_it_follows_the_last(world):
    """`Engine.cycle` (sync-once, the repairs' settle) reads every channel each time;
    only the daemon's scheduled polls keep to the per-channel interval."""
    from zsc.config import load_config
    from zsc.sync.engine import build_engine

    world.write_config(slack_interval=60)
    with freeze_time(START, tick=True):
        engine = build_engine(load_config(world.config_path))
        try:
            engine.cycle()
            world.ask("Printer jammed")
            assert engine.cycle().ok
        finally:
            engine.close()
    assert world.sim.slack.calls["conversations.history"] == 2
    assert [t["subject"] for t in world.tickets()] == ["Printer jammed"]
