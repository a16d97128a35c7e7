"""Several channels from one daemon share one Slack rate budget.

conversations.history is Slack's Tier 3 (about 50 calls a minute per method). Each
channel's poll costs at least one history call, so when the channels at the
configured [sync] slack_interval would ask more often than the budget allows, every
channel's interval is stretched evenly to fit (the engine polls the busiest channels
first within each turn). `zsc status` shows the resulting interval per channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zsc.config import Config

HISTORY_PER_MINUTE = 50  # Slack Tier 3
BUDGET_SHARE = 0.8  # leave room for extra pages, check-missing and the old-thread sweep


def effective_interval(config: "Config") -> float:
    """Seconds between two polls of one channel."""
    channels = len(config.channel_list)
    fitting = channels * 60.0 / (HISTORY_PER_MINUTE * BUDGET_SHARE)
    return max(float(config.sync.slack_interval), fitting)


def channel_intervals(config: "Config") -> dict[str, float]:
    interval = effective_interval(config)
    return {c.id: interval for c in config.channel_list}


def channel_pollers(store, channels: list[str]) -> dict[str, str]:
    """Which instance last took each channel (several instances sharing the store: [daemon] ha)."""
    from zsc.sync import keys

    found = {c: store.checkpoint(keys.channel_poller(c)) for c in channels}
    return {c: who for c, who in found.items() if who}
