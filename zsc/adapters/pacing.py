"""Slack's per-channel post pace, kept on zsc's side.

Slack takes about one message a second per channel (chat.postMessage, and a file
shared into a channel), with short bursts, and answers 429 past it. RateGate only
reacts after a 429; during a catch-up (many Zendesk comments for one thread) zsc
would meet one after another. So every post first takes its channel's turn here: a
token bucket per channel (BURST posts at once, then one per `interval`), channels
independent of each other.

Waiting is bounded per poll: once a poll has waited `budget` seconds in total for
the pace, the next post that would wait raises PostsPaced (a RateLimited), which ends
the poll as a long Retry-After does -- though as planned, not as a failure. Nothing is
lost: the cursors only moved past what was recorded, so the next poll goes on with the
rest -- and meanwhile the other direction had its poll instead of waiting behind a
backlog (the daemon then runs the paced side's next poll soon, not a whole interval later)."""

from __future__ import annotations

import threading
import time
from typing import Callable

from zsc import runtime
from zsc.errors import RateLimited

BURST = 3  # posts a channel may take at once; Slack allows "short bursts", size unpublished
# One poll waits for at most this many turns of the pace in all: 10 s at Slack's one a
# second, about one Slack poll interval, so the other direction never waits long.
POLL_BUDGET_TURNS = 10


class PostsPaced(RateLimited):
    """A poll's share of waiting for the post pace is spent: the rest goes in the next poll."""

    def __init__(self, api: str, channel: str, retry_after: float, budget: float) -> None:
        super().__init__(api, retry_after)
        self.channel = channel
        self.args = (f"{api}: posts to channel {channel} are paced (Slack takes about one a second); this poll "
                     f"has waited its {budget:g}s for them, the rest follows in the next poll",)


class ChannelPace:
    """One token bucket per channel (GCRA: each channel remembers when its bucket is
    next due). `interval` 0 turns pacing off. `clock` and `sleep` are injectable so
    tests move a fake clock instead of waiting; the default sleep ends at once on stop."""

    def __init__(self, interval: float = 1.0, burst: int = BURST, budget: float | None = None, api: str = "Slack",
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = runtime.sleep) -> None:
        self.interval = max(0.0, interval)
        self.burst = max(1, burst)
        self.budget = POLL_BUDGET_TURNS * self.interval if budget is None else budget
        self.api = api
        self._clock, self._sleep = clock, sleep
        self._due: dict[str, float] = {}  # channel -> its theoretical next post time
        self._spent = 0.0  # seconds waited in this poll
        self._lock = threading.Lock()

    def new_poll(self) -> None:
        """A poll starts: its waiting budget is whole again."""
        with self._lock:
            self._spent = 0.0

    def take(self, channel: str) -> float:
        """Wait for `channel`'s turn to post; returns how long that was (0: at once).
        Raises PostsPaced, without waiting, when the wait would overrun the poll's budget."""
        if self.interval <= 0:
            return 0.0
        with self._lock:  # reserve the turn under the lock, wait outside it: channels never wait on each other
            due, wait = self._turn(channel)
            self._spent += wait
            self._due[channel] = due + self.interval
        if wait > 0:
            self._sleep(wait)
        return wait

    def check(self, channel: str) -> None:
        """Raise PostsPaced now if `channel`'s next post would overrun the poll's budget;
        take nothing. For work whose last step posts (a file copied into a thread): not
        starting it beats doing it and then having its post refused."""
        if self.interval > 0:
            with self._lock:
                self._turn(channel)

    def _turn(self, channel: str) -> tuple[float, float]:
        """(when `channel` is next due, how long its next post waits); PostsPaced when
        that wait does not fit in what is left of the poll's budget. Under the lock."""
        now = self._clock()
        due = max(self._due.get(channel, now), now)
        wait = max(0.0, due - (self.burst - 1) * self.interval - now)
        if wait > 0 and self._spent + wait > self.budget:
            raise PostsPaced(self.api, channel, wait, self.budget)
        return due, wait
