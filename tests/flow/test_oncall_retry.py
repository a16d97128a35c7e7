"""Issue 9: the on-call line survives a PagerDuty blip. A failed lookup is retried on
later polls (at most once a minute) for `[pagerduty] retry_minutes`, and the line is
posted once, late, saying so; the ticket flow never waits for it."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.flow.test_notices import confirmation, pagerduty_config
from zsc.config import load_config
from zsc.store import opened
from zsc.sync import build_engine
from zsc.sync.notices import LATE


def oncall_lines(texts: list[str]) -> list[str]:
    return [t for t in texts if "on call" in t]


def owed(world) -> int:
    with opened(f"sqlite:///{world.tmp}/zsc.db") as store:
        return store.count_owed_oncalls()


@pytest.fixture
def pagerduty(world):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Ann Example", "ann@example.com")])
    world.write_config(extra=pagerduty_config(world))
    return world.sim.pagerduty


@pytest.mark.parametrize("fault", ["500", "503", "drop", "malformed"])
def test_a_blip_gives_a_late_line_once(world, pagerduty, fault):
    with freeze_time("2026-03-02 10:00:00", tick=True) as clock:
        world.sync()
        pagerduty.inject("oncalls", fault, times=1)
        ts = world.ask("The printer is on fire")
        first = world.sync()
        assert first.exit_code == 0, first.output  # the ticket flow does not wait
        assert world.only_ticket()["external_id"] == f"slack:CSUPPORT:{ts}"
        assert confirmation(world.bot_texts(ts)) and oncall_lines(world.bot_texts(ts)) == []
        assert owed(world) == 1

        clock.tick(61)
        assert world.sync().exit_code == 0
        assert oncall_lines(world.bot_texts(ts)) == [LATE + "Primary on call: Ann Example"]
        assert owed(world) == 0

        clock.tick(61)
        world.sync()
        assert len(oncall_lines(world.bot_texts(ts))) == 1


def test_an_answer_at_once_is_not_late(world, pagerduty):
    world.sync()
    ts = world.ask("Cannot print")
    world.sync()
    assert oncall_lines(world.bot_texts(ts)) == ["Primary on call: Ann Example"]
    assert owed(world) == 0


def test_retries_stop_after_retry_minutes(world, pagerduty):
    world.write_config(extra=pagerduty_config(world) + "retry_minutes = 3\n")
    with freeze_time("2026-03-02 10:00:00", tick=True) as clock:
        world.sync()
        pagerduty.inject("oncalls", "503", times=1000)
        ts = world.ask("VPN down")
        world.sync()
        for _ in range(2):
            clock.tick(61)
            assert world.sync().exit_code == 0
            assert owed(world) == 1
        clock.tick(120)  # past 3 minutes: given up
        gave_up = world.sync()
        assert "PagerDuty did not answer for 3 minute(s)" in gave_up.output
        assert owed(world) == 0
        pagerduty.clear_faults()
        clock.tick(61)
        world.sync()
        assert oncall_lines(world.bot_texts(ts)) == []


def test_retry_minutes_0_does_not_retry(world, pagerduty):
    world.write_config(extra=pagerduty_config(world) + "retry_minutes = 0\n")
    world.sync()
    pagerduty.inject("oncalls", "503", times=1)
    ts = world.ask("VPN down")
    world.sync()
    world.sync()
    assert owed(world) == 0 and oncall_lines(world.bot_texts(ts)) == []


def test_the_daemon_asks_at_most_once_a_minute(world, pagerduty):
    """One process (as under `zsc run`): Zendesk polls every few seconds, PagerDuty is
    asked again only once its failure is a minute old."""
    with freeze_time("2026-03-02 10:00:00", tick=True) as clock:
        world.sync()
        engine = build_engine(load_config(str(world.config_path)))
        try:
            pagerduty.inject("oncalls", "503", times=1000)
            ts = world.ask("Mail is down")
            engine.poll("slack")
            engine.poll("zendesk")
            asked = pagerduty.calls["oncalls"]
            for _ in range(5):  # 50 s of polls: no new question
                clock.tick(10)
                assert engine.poll("zendesk").ok
            assert pagerduty.calls["oncalls"] == asked
            pagerduty.clear_faults()
            clock.tick(15)
            assert engine.poll("zendesk").ok
            assert pagerduty.calls["oncalls"] == asked + 1
            assert oncall_lines(world.bot_texts(ts)) == [LATE + "Primary on call: Ann Example"]
        finally:
            engine.close()
