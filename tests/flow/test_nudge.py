"""The nudge: one message in a thread nobody has answered `[nudge] after_minutes`
after the person asked (office minutes with [hours]), mentioning the on-call primary
by their Slack account when PagerDuty's email matches one, else by name. Once per
issue, also across a kill -9."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from tests.flow.test_notices import pagerduty_config
from zsc.store import models as stm

NUDGE = "Nobody has answered this yet."

NUDGE_ON = """
[nudge]
after_minutes = 30
"""

LONDON_HOURS = NUDGE_ON + """
[hours]
start = "09:00"
end = "17:00"
days = "mon-fri"
timezone = "Europe/London"
message = "We are out of the office."
"""


def nudges(world, ts) -> list[str]:
    return [t for t in world.bot_texts(ts) if t.startswith(NUDGE)]


def asked(world, clock, text="The build server is down") -> str:
    world.sync()
    clock.tick(5)
    ts = world.ask(text)
    world.sync_until_clean()
    return ts


@pytest.fixture(autouse=True)
def nudge_on(world):
    world.write_config(extra=NUDGE_ON)


def test_nudged_once_after_the_wait(world):
    with freeze_time("2024-03-04 10:00:00") as clock:
        ts = asked(world, clock)
        clock.tick(29 * 60)
        world.sync_until_clean()
        assert nudges(world, ts) == []
        clock.tick(2 * 60)
        world.sync_until_clean()
        assert nudges(world, ts) == [NUDGE]
        clock.tick(60 * 60)
        world.sync_until_clean()
        assert nudges(world, ts) == [NUDGE]


def test_not_nudged_when_answered_or_closed(world):
    with freeze_time("2024-03-04 10:00:00") as clock:
        answered = asked(world, clock, "VPN down")
        closed = world.ask("Printer jammed")
        world.sync_until_clean()
        world.reply(answered, "looking into it", user="UCAT")
        ticket = next(t["id"] for t in world.tickets() if t["external_id"].endswith(closed))
        world.sim.zendesk.set_status(ticket, "solved")
        clock.tick(60)
        world.sync_until_clean()
        clock.tick(60 * 60)
        world.sync_until_clean()
        assert nudges(world, answered) == [] and nudges(world, closed) == []


def test_counted_in_office_hours_and_never_posted_outside_them(world):
    world.write_config(extra=LONDON_HOURS)
    # Monday 10 June 2024, 16:50 in London (BST, UTC+1): 10 office minutes are left that day.
    with freeze_time("2024-06-10 15:50:00") as clock:
        ts = asked(world, clock)
        clock.move_to("2024-06-10 19:00:00")  # 20:00 in London: two wall-clock hours later
        world.sync_until_clean()
        assert nudges(world, ts) == []
        clock.move_to("2024-06-11 08:10:00")  # Tuesday 09:10: 10 + 10 office minutes
        world.sync_until_clean()
        assert nudges(world, ts) == []
        clock.move_to("2024-06-11 08:21:00")  # 09:21: past 30 office minutes
        world.sync_until_clean()
        assert nudges(world, ts) == [NUDGE]


def test_the_oncall_primary_is_mentioned_by_their_slack_account(world):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Cat Staff", "CAT@example.com")])
    world.sim.pagerduty.set_oncall("PPOLICY", 2, [("Ann Example", "ann@example.com")])  # secondary: not nudged
    world.write_config(extra=NUDGE_ON + pagerduty_config(world))
    with freeze_time("2024-03-04 10:00:00") as clock:
        ts = asked(world, clock)
        clock.tick(31 * 60)
        world.sync_until_clean()
    assert nudges(world, ts) == [f"{NUDGE} <@UCAT>, you are on call."]


def test_the_oncall_primary_without_a_slack_account_is_named(world):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Dan <!channel> Nobody", "dan@elsewhere.example")])
    world.write_config(extra=NUDGE_ON + pagerduty_config(world))
    with freeze_time("2024-03-04 10:00:00") as clock:
        ts = asked(world, clock)
        clock.tick(31 * 60)
        world.sync_until_clean()
    [text] = nudges(world, ts)
    assert text.startswith(f"{NUDGE} Dan ") and text.endswith(" Nobody, you are on call.")
    assert "<!channel>" not in text  # a name from PagerDuty pings nobody


def test_nudge_off(world):
    world.write_config(extra="[nudge]\nafter_minutes = 0\n")
    with freeze_time("2024-03-04 10:00:00") as clock:
        ts = asked(world, clock)
        clock.tick(3 * 3600)
        world.sync_until_clean()
    assert nudges(world, ts) == []


def test_nudged_exactly_once_across_a_kill_9(world):
    """zsc is killed -9 after Slack took the nudge, before zsc heard back: the next run
    finds it by its ref in the thread instead of posting it again."""
    world.write_config(http_timeout=30.0)
    # Asked 40 minutes ago (the child process runs on the real clock).
    with freeze_time(datetime.now(timezone.utc) - timedelta(minutes=40)) as clock:
        ts = asked(world, clock)
        assert nudges(world, ts) == []
    world.sim.slack.inject("chat.postMessage", "slow", times=1, delay=30)
    world.kill_sync_when(lambda: bool(nudges(world, ts)), "the nudge's post")
    assert stm.Intent.select().count() == 1  # the crash left the intent behind
    world.write_config(http_timeout=1.0)
    world.sync_until_clean()
    world.sync_until_clean()
    assert nudges(world, ts) == [NUDGE]
    assert stm.Intent.select().count() == 0
