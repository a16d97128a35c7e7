"""Slack's per-channel post pace (issue 10): Slack takes about one message a second per
channel and answers 429 past a short burst -- the simulator's post limit does the same.
zsc paces its posts per channel so a catch-up meets no 429, channels do not wait on
each other, and a poll waits only so long before leaving the rest to the next poll.

The pace's clock and sleep are injected (the real factory, a freezegun clock that the
sleep moves on), so nothing here really waits."""

from __future__ import annotations

import time

import pytest
from freezegun import freeze_time

from tests.flow.test_files import PNG
from tests.flow.world import CHANNEL
from zsc import runtime
from zsc.adapters.factory import slack_from
from zsc.adapters.pacing import BURST, POLL_BUDGET_TURNS
from zsc.config import load_config
from zsc.sync import build_engine

START = "2026-11-24 10:00:00"
PLATFORM = "CPLATFORM"


@pytest.fixture
def frozen():
    with freeze_time(START) as clock:  # stands still unless something sleeps
        yield clock


class Paced:
    """An engine whose Slack adapter paces on the frozen clock: each sleep moves the
    clock (zsc's and the simulator's) on, and is remembered with the channel's posts so far."""

    def __init__(self, world, frozen, before_sleep=None) -> None:
        self.world, self.frozen, self.slept = world, frozen, []
        self.before_sleep = before_sleep or (lambda: None)
        config = load_config(world.config_path)
        self.engine = build_engine(config)
        self.engine.ctx.slack = slack_from(config, clock=time.monotonic, sleep=self.sleep)

    def sleep(self, seconds: float) -> None:
        self.before_sleep()
        runtime.check()  # as runtime.sleep: a stop ends the wait at once
        self.slept.append(seconds)
        self.frozen.tick(seconds)

    def poll_until_done(self, source: str = "zendesk", polls: int = 10) -> list:
        results = []
        for _ in range(polls):
            results.append(self.engine.poll(source))
            assert results[-1].ok, results[-1].failures
            if not results[-1].paced:
                return results
        raise AssertionError(f"still paced after {polls} polls")

    def close(self) -> None:
        self.engine.close()


def paced_world(world, frozen, channels: str = ""):
    """Pacing on at Slack's one a second, the simulator's post limit on (after the set-up's posts)."""
    world.post_interval = 1.0
    world.write_config(extra=channels or None)
    world.sync()
    return world


def open_thread(world, frozen, text: str, channel: str = CHANNEL) -> tuple[str, int]:
    frozen.tick(1)
    ts = world.sim.slack.post(channel, "UANN", text)
    frozen.tick(1)
    world.sync_until_clean(clock=frozen)
    [ticket] = [t for t in world.tickets() if t["subject"] == text]
    return ts, ticket["id"]


def two_channel_threads(world, frozen) -> tuple[tuple[str, int], tuple[str, int]]:
    """A second channel with its own group, paced; a thread (and ticket) in each."""
    world.sim.slack.add_channel(PLATFORM, "platform")
    platform_group = world.sim.zendesk.add_group("Platform", agent_ids=[world.agent_id, world.other_agent])
    paced_world(world, frozen, channels=f'[[channels]]\nid = "{PLATFORM}"\ngroup_id = {platform_group}\n')
    return open_thread(world, frozen, "Printer jammed"), open_thread(world, frozen, "Node down", channel=PLATFORM)


def paced_catch_up(world, frozen) -> tuple[Paced, list]:
    """Slack's post limit on (about one a second per channel, as Slack), then Zendesk
    polls until the backlog is out; the paced engine (its waits) and each poll's result."""
    world.sim.slack.set_post_limit(per_second=1, burst=4)
    frozen.tick(10)
    paced = Paced(world, frozen)
    try:
        return paced, paced.poll_until_done()
    finally:
        paced.close()


def comment_posts(world, channel: str, ts: str) -> list[str]:
    return [m["text"].split(": ", 1)[1] for m in world.sim.slack.thread(channel, ts)
            if m.get("bot_id") and m["text"].startswith("*Zoe Agent* (Zendesk): ")]


def test_a_catch_up_of_30_comments_into_one_channel_meets_no_429(world, frozen):
    paced_world(world, frozen)
    ts, ticket_id = open_thread(world, frozen, "Disk full on build-07")
    for n in range(30):
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, f"update {n}")
    paced, results = paced_catch_up(world, frozen)
    assert world.sim.slack.post_limited == {}  # not one 429
    assert comment_posts(world, CHANNEL, ts) == [f"update {n}" for n in range(30)]  # each once, in order
    assert sum(paced.slept) == pytest.approx(30 - BURST)  # the pace did the waiting Slack asks for
    # A poll waits at most its budget, then leaves the rest to the next poll (the other
    # direction gets its turn meanwhile): 30 posts take three polls here.
    assert [r.paced for r in results] == [True, True, False]
    assert all(sum(waits) <= POLL_BUDGET_TURNS for waits in _per_poll(paced.slept, POLL_BUDGET_TURNS))
    # As planned, not a failure: the source stays healthy, and the line says what comes next.
    assert all(r.ok and r.alive for r in results)
    assert "the rest follows in the next poll" in results[0].actions[-1]


def _per_poll(waits: list[float], budget: float) -> list[list[float]]:
    """The waits split where a poll's budget ran out (each poll waits whole seconds here)."""
    polls, current = [], []
    for wait in waits:
        if sum(current) + wait > budget:
            polls.append(current)
            current = []
        current.append(wait)
    return polls + [current]


def test_nothing_is_doubled_when_polls_end_mid_backlog_and_the_process_restarts(world, frozen):
    paced_world(world, frozen)
    ts, ticket_id = open_thread(world, frozen, "VPN drops every hour")
    for n in range(20):
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, f"step {n}")
    world.sim.slack.set_post_limit(per_second=1, burst=4)
    frozen.tick(10)
    first = Paced(world, frozen)
    try:
        assert first.engine.poll("zendesk").paced  # stopped mid-backlog
    finally:
        first.close()
    done = len(comment_posts(world, CHANNEL, ts))
    assert BURST < done < 20
    frozen.tick(30)  # the next poll, by another process
    second = Paced(world, frozen)
    try:
        second.poll_until_done()
        second.poll_until_done()  # and once more with nothing new
    finally:
        second.close()
    assert comment_posts(world, CHANNEL, ts) == [f"step {n}" for n in range(20)]
    assert world.sim.slack.post_limited == {}


def test_two_channels_posts_do_not_wait_on_each_other(world, frozen):
    (support_ts, support), (platform_ts, platform) = two_channel_threads(world, frozen)
    for n in range(5):
        world.sim.zendesk.agent_comment(support, world.other_agent, f"support {n}")
        world.sim.zendesk.agent_comment(platform, world.other_agent, f"platform {n}")
    paced, _ = paced_catch_up(world, frozen)
    assert comment_posts(world, CHANNEL, support_ts) == [f"support {n}" for n in range(5)]
    assert comment_posts(world, PLATFORM, platform_ts) == [f"platform {n}" for n in range(5)]
    assert world.sim.slack.post_limited == {}
    # Each channel waited only for its own posts past the burst: 2 + 2 seconds, not the
    # 7 one shared pace would have cost.
    assert sum(paced.slept) == pytest.approx(2 * (5 - BURST))


def test_a_stop_during_a_pacing_wait_ends_the_poll_at_once(world, frozen):
    paced_world(world, frozen)
    ts, ticket_id = open_thread(world, frozen, "Laptop will not boot")
    for n in range(10):
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, f"try {n}")
    frozen.tick(10)
    paced = Paced(world, frozen, before_sleep=runtime.request_stop)  # SIGTERM as zsc waits for the pace
    try:
        with pytest.raises(runtime.Stopping):
            paced.engine.poll("zendesk")
    finally:
        runtime.reset()
        paced.close()
    assert comment_posts(world, CHANNEL, ts) == [f"try {n}" for n in range(BURST)]
    assert paced.slept == []  # the wait ended before any of it passed


def test_a_paced_backlog_in_one_channel_does_not_hold_up_another_channels_ticket(world, frozen):
    """The Zendesk poll handles tickets oldest change first: the support backlog spends
    this poll's share of waiting, and the platform ticket changed after it still goes
    out in the same poll (its channel has its own pace)."""
    (support_ts, support), (platform_ts, platform) = two_channel_threads(world, frozen)
    for n in range(30):
        world.sim.zendesk.agent_comment(support, world.other_agent, f"support {n}")
    frozen.tick(1)
    world.sim.zendesk.agent_comment(platform, world.other_agent, "platform is back")
    world.sim.slack.set_post_limit(per_second=1, burst=4)
    frozen.tick(10)
    paced = Paced(world, frozen)
    try:
        first = paced.engine.poll("zendesk")
        assert first.paced and first.ok
        assert comment_posts(world, PLATFORM, platform_ts) == ["platform is back"]  # in the same poll
        assert 0 < len(comment_posts(world, CHANNEL, support_ts)) < 30
        paced.poll_until_done()
    finally:
        paced.close()
    assert comment_posts(world, CHANNEL, support_ts) == [f"support {n}" for n in range(30)]
    assert comment_posts(world, PLATFORM, platform_ts) == ["platform is back"]
    assert world.sim.slack.post_limited == {}


def test_a_channel_whose_slack_poll_stopped_at_the_pace_is_polled_again_at_once(world, frozen):
    """Twenty questions at once: twenty confirmations, more than one poll's share. The
    next poll of that channel goes on with the rest even though its interval has not
    passed (the daemon runs it a second later)."""
    world.post_interval = 1.0
    world.write_config(slack_interval=120)
    world.sync()
    for n in range(20):
        frozen.tick(0.01)
        world.sim.slack.post(CHANNEL, "UANN", f"question {n}")
    world.sim.slack.set_post_limit(per_second=1, burst=4)
    frozen.tick(1)
    paced = Paced(world, frozen)
    try:
        results = [paced.engine.poll("slack")]
        assert results[0].paced
        while results[-1].paced and len(results) < 5:
            frozen.tick(1)  # far less than the channel's 120 s interval
            results.append(paced.engine.poll("slack"))
    finally:
        paced.close()
    assert not results[-1].paced and len(results) > 1
    confirmations = [m for m in world.sim.slack.messages(CHANNEL) for r in world.sim.slack.thread(CHANNEL, m["ts"])
                     if r.get("bot_id") and "is open for this request" in r["text"]]
    assert len(confirmations) == 20 and len(world.tickets()) == 20
    assert world.sim.slack.post_limited == {}


def test_a_paced_attachment_is_fetched_and_uploaded_once(world, frozen):
    """A file copied into the thread is shared by a post, so it takes the channel's pace:
    when the poll's share of waiting is spent, the file is left for the next poll before
    it is downloaded, not after it was downloaded and uploaded for nothing."""
    paced_world(world, frozen)
    ts, ticket_id = open_thread(world, frozen, "Screenshots of the error")
    # A comment's files go into the thread before its text: the first comment has none,
    # so the poll's last turn falls to a file (turns: text 0, file 1, text 1, file 2...).
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "shot 0")
    for n in range(1, 8):
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, f"shot {n}",
                                        attachments=[(f"shot-{n}.png", PNG, "image/png")])
    world.sim.reset_calls()
    paced, results = paced_catch_up(world, frozen)
    assert results[0].paced  # 15 posts (8 comments, 7 files) take more than one poll's share
    assert comment_posts(world, CHANNEL, ts) == [f"shot {n}" for n in range(8)]
    shared = [f["name"] for m in world.sim.slack.thread(CHANNEL, ts) for f in m.get("files") or []]
    assert shared == [f"shot-{n}.png" for n in range(1, 8)]
    calls = world.sim.zendesk.calls
    assert calls["attachments.download"] == 7 and world.sim.slack.calls["files.getUploadURLExternal"] == 7, (
        calls, world.sim.slack.calls)
    assert world.sim.slack.post_limited == {}
