"""Everything one sync cycle needs, built once per process (or per reload)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loguru import logger

from zsc.adapters import SlackApi, ZendeskApi
from zsc.store import Store

SLACK_TO_ZENDESK = "slack_to_zendesk"
ZENDESK_TO_SLACK = "zendesk_to_slack"

if TYPE_CHECKING:
    from zsc.config import ChannelConfig, Config
    from zsc.sync.oncall import OnCall


@dataclass
class CycleResult:
    """What a cycle did and what failed; `sync-once` prints it and picks its exit code."""

    actions: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # items that failed this time, and whole-poll failures
    parked: list[str] = field(default_factory=list)  # items given up on this time (see zsc.sync.parking)
    auth_refused: bool = False  # a credential was refused: retrying soon cannot help
    incomplete: bool = False  # the poll itself did not finish (as opposed to single items failing)
    rate_limited: bool = False  # ...because an API asked to wait: the next poll goes on (zsc is alive)
    paced: bool = False  # the poll stopped at its share of Slack's post pace, as planned: the next posts the rest
    # Counts for the daemon's metrics (zsc.metrics), by direction: slack_to_zendesk, zendesk_to_slack.
    mirrored: Counter[str] = field(default_factory=Counter)  # messages, replies and comments mirrored
    item_failures: Counter[str] = field(default_factory=Counter)  # items whose handling failed
    oldest_unmirrored: float | None = None  # Unix time of the oldest item seen whose handling failed
    nudges: int = 0  # nudges posted in unanswered threads

    def mirrored_one(self, direction: str) -> None:
        self.mirrored[direction] += 1

    def item_failed(self, direction: str, seen_at: float | None) -> None:
        """An item seen but not mirrored this time; `seen_at` is its own time (Unix)."""
        self.item_failures[direction] += 1
        if seen_at is not None:
            self.oldest_unmirrored = min(seen_at, self.oldest_unmirrored or seen_at)

    def did(self, line: str, detail: str | None = None, **fields: Any) -> None:
        """Record an action. `detail` is customer text (a subject): printed for the
        operator, but logged only as its size unless message bodies are enabled."""
        from zsc.logs import body

        self.actions.append(f"{line}: {detail}" if detail else line)
        # _result marks lines a one-shot command prints itself (its logging may hide them)
        logger.bind(_result=True, **fields).info(f"{line}: {body(detail)}" if detail else line)

    def failed(self, line: str, **fields: Any) -> None:
        self.failures.append(line)
        logger.bind(_result=True, **fields).error(line)

    def merge(self, other: "CycleResult") -> None:
        self.actions.extend(other.actions)
        self.failures.extend(other.failures)
        self.parked.extend(other.parked)
        self.auth_refused |= other.auth_refused
        self.incomplete |= other.incomplete
        self.rate_limited |= other.rate_limited
        self.paced |= other.paced
        self.mirrored.update(other.mirrored)
        self.item_failures.update(other.item_failures)
        if other.oldest_unmirrored is not None:
            self.oldest_unmirrored = min(other.oldest_unmirrored, self.oldest_unmirrored or other.oldest_unmirrored)
        self.nudges += other.nudges

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def alive(self) -> bool:
        """The poll did its job (single items may have failed; a rate limit is waited out):
        what the systemd watchdog is told."""
        return not self.incomplete or self.rate_limited


@dataclass
class SyncContext:
    config: "Config"
    store: Store
    slack: SlackApi  # the Slack adapter, its dry-run stand-in or an in-process fake
    zendesk: ZendeskApi
    oncall: "OnCall | None" = None  # who is on call, when PagerDuty is configured
    dry_run: bool = False
    result: CycleResult = field(default_factory=CycleResult)
    dry_lines: list[str] = field(default_factory=list)  # what a dry run would have written
    memo: dict[Any, Any] = field(default_factory=dict)  # per-cycle lookups (people), cleared each cycle
    # The channel being handled now: set by the engine before each channel's Slack poll
    # and, in the Zendesk poll, per ticket (its issue's channel, or its group's for email).
    current_channel: str | None = None
    bots: dict[str, bool] = field(default_factory=dict)  # Slack user id -> is a bot (reaction mode), per process
    photos: dict[int, str | None] = field(default_factory=dict)  # Zendesk user -> photo URL (post_as_agent), per process
    reactions_off: bool = False  # status reactions refused for a missing scope: said once, then skipped
    only_channels: set[str] | None = None  # several instances share the channels: this one polls these
    last_polled: dict[str, float] = field(default_factory=dict)  # channel -> when its Slack poll last ran (monotonic)
    # Channels whose posts stopped at Slack's post pace: in this poll (their other tickets
    # wait for the next, the other channels go on), and in their last Slack poll (due again
    # at once, not a whole interval later).
    paced_now: set[str] = field(default_factory=set)
    paced_channels: set[str] = field(default_factory=set)

    @property
    def channel(self) -> str:
        return self.current_channel or self.config.channel_list[0].id

    @property
    def channel_config(self) -> "ChannelConfig":
        return self.config.channel_config(self.channel)

    @contextmanager
    def in_channel(self, channel: str) -> Iterator[None]:
        """Handle what follows as `channel`'s (then go back to the channel before)."""
        before, self.current_channel = self.current_channel, channel
        try:
            yield
        finally:
            self.current_channel = before

    @property
    def workspace_uri(self) -> str:
        return self.config.slack.workspace_uri or self.slack.auth_test().url or "https://slack.com/"

    def ticket_url(self, ticket_id: int) -> str:
        base = self.config.zendesk.ticket_uri
        return f"{base if base.endswith('/') else base + '/'}{ticket_id}"

    def ticket_link(self, ticket_id: int) -> str:
        return f"<{self.ticket_url(ticket_id)}|#{ticket_id}>"
