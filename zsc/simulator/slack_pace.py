"""Slack's per-channel post limit: about one message a second per channel, with short
bursts ("Posting messages: 1 per second, short bursts >1 allowed", api.slack.com/docs/
rate-limits; chat.postMessage "Rate limiting"). A message is anything that appears in
the channel: chat.postMessage, chat.postEphemeral, a file shared by
files.completeUploadExternal. Past it Slack answers HTTP 429 with Retry-After.

Modelled as a token bucket per channel on the simulators' clock (wall time, so
freezegun moves it). Slack does not publish the burst size; BURST is a small guess."""

from __future__ import annotations

import math
from collections import Counter

PER_SECOND = 1.0
BURST = 4


class PostLimit:
    """Each channel's bucket holds up to `burst` messages and refills `per_second`."""

    def __init__(self, per_second: float = PER_SECOND, burst: int = BURST) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be positive and burst at least 1")
        self.per_second, self.burst = per_second, burst
        self._tokens: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)
        self.refused: Counter[str] = Counter()  # channel -> 429s answered

    def spend(self, channel: str, t: float) -> int:
        """Take one message from `channel`'s bucket at time `t`: 0 when it may be posted,
        else the whole seconds (>= 1) to wait, as Retry-After says (nothing is taken)."""
        tokens, at = self._tokens.get(channel, (float(self.burst), t))
        tokens = min(float(self.burst), tokens + max(0.0, t - at) * self.per_second)
        if tokens >= 1.0:
            self._tokens[channel] = (tokens - 1.0, t)
            return 0
        self._tokens[channel] = (tokens, t)
        self.refused[channel] += 1
        return max(1, math.ceil((1.0 - tokens) / self.per_second))
