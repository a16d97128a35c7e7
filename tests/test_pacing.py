"""zsc's per-channel pace for Slack posts (zsc.adapters.pacing), on a fake clock:
a short burst, then one post per interval; channels independent; a poll's waiting
bounded; a stop ends a wait at once."""

from __future__ import annotations

import threading

import pytest

from zsc import runtime
from zsc.adapters.pacing import BURST, ChannelPace, PostsPaced
from zsc.errors import RateLimited


class FakeClock:
    """A clock that only moves when something sleeps on it; remembers every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


def pace(clock: FakeClock, **kwargs) -> ChannelPace:
    return ChannelPace(clock=clock, sleep=clock.sleep, **kwargs)


def test_a_burst_then_one_post_per_interval(clock):
    p = pace(clock, interval=1.0, budget=float("inf"))
    waits = [p.take("C1") for _ in range(BURST + 4)]
    assert waits == [0.0] * BURST + [1.0] * 4
    assert clock.now == 1004.0


def test_the_bucket_refills_while_nothing_is_posted(clock):
    p = pace(clock, interval=1.0, budget=float("inf"))
    for _ in range(BURST):
        p.take("C1")
    clock.now += 2.0  # two seconds of quiet give two posts back
    assert [p.take("C1") for _ in range(3)] == [0.0, 0.0, 1.0]


def test_channels_do_not_wait_on_each_other(clock):
    p = pace(clock, interval=1.0, budget=float("inf"))
    assert [p.take("C1") for _ in range(BURST + 1)] == [0.0] * BURST + [1.0]
    assert [p.take("C2") for _ in range(BURST)] == [0.0] * BURST  # C1's pace is not C2's
    # Interleaved after their bursts, two channels post twice as fast as one.
    start = clock.now
    for _ in range(5):
        p.take("C1")
        p.take("C2")
    assert clock.now - start == pytest.approx(5.0)


def test_a_poll_waits_at_most_its_budget_then_ends_like_a_rate_limit(clock):
    p = pace(clock, interval=1.0, budget=3.0)
    posted = 0
    with pytest.raises(PostsPaced) as exc:
        while True:
            p.take("C1")
            posted += 1
    assert posted == BURST + 3 and sum(clock.slept) == 3.0
    assert isinstance(exc.value, RateLimited) and exc.value.retry_after == 1.0
    assert "posts to channel C1 are paced" in str(exc.value) and "next poll" in str(exc.value)
    assert len(clock.slept) == 3  # refused without waiting
    p.new_poll()  # the next poll goes on, at the same pace
    assert p.take("C1") == 1.0


def test_a_post_needing_no_wait_goes_even_when_the_budget_is_spent(clock):
    p = pace(clock, interval=1.0, budget=1.0)
    for _ in range(BURST + 1):
        p.take("C1")
    with pytest.raises(PostsPaced):
        p.take("C1")
    assert p.take("C2") == 0.0  # another channel with posts to spare


def test_interval_zero_turns_pacing_off(clock):
    p = pace(clock, interval=0.0, budget=0.0)
    assert [p.take("C1") for _ in range(50)] == [0.0] * 50 and clock.slept == []


def test_a_stop_during_a_pacing_wait_ends_it_at_once():
    runtime.reset()
    waiting = threading.Event()

    def sleep(seconds: float) -> None:
        waiting.set()
        runtime.sleep(seconds)  # the real, stoppable wait

    p = ChannelPace(interval=3600.0, budget=float("inf"), sleep=sleep)
    outcome: list[BaseException] = []

    def post_many() -> None:
        try:
            for _ in range(BURST + 1):
                p.take("C1")
        except BaseException as exc:  # noqa: BLE001 - the test looks at what ended it
            outcome.append(exc)

    worker = threading.Thread(target=post_many)
    worker.start()
    try:
        assert waiting.wait(5.0), "never waited for the pace"
        runtime.request_stop()
        worker.join(5.0)  # an hour's wait, ended by the stop
        assert not worker.is_alive()
    finally:
        runtime.reset()
    assert len(outcome) == 1 and isinstance(outcome[0], runtime.Stopping)


def test_one_shot_scans_wait_for_the_pace_as_long_as_it_takes(clock):
    from zsc.adapters.slack import SlackAdapter

    slack = SlackAdapter("xoxb-test", "http://127.0.0.1:9/api/", pace=pace(clock, interval=1.0, budget=2.0))
    slack.patient(600.0)  # check-missing --fix: no poll to give way to
    assert [slack.pace.take("C1") for _ in range(BURST + 20)][-1] == 1.0 and sum(clock.slept) == 20.0


def test_a_poll_may_wait_ten_turns_of_the_pace(clock):
    assert pace(clock, interval=1.0).budget == 10.0 and pace(clock, interval=0.5).budget == 5.0


def test_check_refuses_what_take_would_and_takes_no_turn(clock):
    p = pace(clock, interval=1.0, budget=2.0)
    for _ in range(BURST + 2):  # the burst, then two waits: the budget is spent
        p.check("C1")  # a turn is there: nothing raised, nothing taken
        p.take("C1")
    with pytest.raises(PostsPaced):
        p.check("C1")
    with pytest.raises(PostsPaced):
        p.take("C1")  # check and take agree
    p.check("C2")  # another channel has its own turns
    assert clock.slept == [1.0, 1.0]
    p.new_poll()
    p.check("C1")
    assert clock.slept == [1.0, 1.0]  # check never waits
