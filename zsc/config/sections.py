"""The configuration as frozen dataclasses, one per section, written out so type
checkers and readers see every field. tests/test_config_sections.py keeps them in
step with the SETTINGS table; loading.py fills them in.

No `from __future__ import annotations` here: the field types stay real objects, so
the test can compare them with each ValueType's pytype. Secrets are left out of repr.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from zsc.config.tokens import token_file_path


@dataclass(frozen=True)
class SlackConfig:
    """The Slack workspace and the channel mirrored to Zendesk."""

    token: str = field(repr=False)
    channel: str
    post_as_agent: bool
    channel_post_interval: float
    workspace_uri: str
    api_url: str
    allowed_bot_ids: tuple[str, ...]
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ChannelEntry:
    """More channels from one daemon: one [[channels]] entry."""

    id: str
    group_id: int
    mode: str
    reaction: str
    tags: tuple[str, ...]
    report: bool


@dataclass(frozen=True)
class ChannelConfig:
    """One mirrored channel with its defaults filled in (Config.channel_list)."""

    id: str
    group_id: int
    mode: str = "all"
    reaction: str = "ticket"
    tags: tuple[str, ...] = ()
    report: bool = False


@dataclass(frozen=True)
class StatusReactionsConfig:
    """A reaction on each thread's top message showing its ticket's status."""

    enabled: bool
    open: str
    pending: str
    solved: str

    def for_status(self, status: str | None) -> str | None:
        if status in ("new", "open"):
            return self.open
        if status in ("pending", "hold"):
            return self.pending
        if status in ("solved", "closed"):
            return self.solved
        return None  # deleted: no reaction


@dataclass(frozen=True)
class ZendeskConfig:
    """The Zendesk account. Credentials: email plus token, or oauth_token."""

    subdomain: str
    email: str
    token: str = field(repr=False)
    oauth_token: str = field(repr=False)
    api_url: str
    agent_user_id: int
    group_id: int
    ticket_uri: str
    requester_from_slack: bool
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class PagerDutyConfig:
    """Optional: name the on-call person in Slack. Off while escalation_policy_id is empty."""

    token: str = field(repr=False)
    oauth_token: str = field(repr=False)
    escalation_policy_id: str
    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    token_url: str
    cache_seconds: int
    timeout: float
    retry_minutes: int

    @property
    def enabled(self) -> bool:
        return bool(self.escalation_policy_id)


@dataclass(frozen=True)
class DatabaseConfig:
    """Where zsc keeps its state."""

    url: str


@dataclass(frozen=True)
class SyncConfig:
    """Polling."""

    slack_interval: float
    zendesk_interval: float
    dry_run: bool
    thread_window_days: int
    http_timeout: float
    park_after_attempts: int
    park_after_minutes: int
    max_slack_posts_per_comment: int


@dataclass(frozen=True)
class CommandsConfig:
    """Commands typed in Slack threads."""

    resolve_status: str


@dataclass(frozen=True)
class Keyword:
    """Automatic replies: one [[keywords]] entry."""

    match: tuple[str, ...]
    reply: str


@dataclass(frozen=True)
class EmailConfig:
    """Which senders' emailed tickets are posted to Slack. All lists empty: every sender."""

    allow_domains: tuple[str, ...]
    deny_domains: tuple[str, ...]
    deny_addresses: tuple[str, ...]


@dataclass(frozen=True)
class HoursConfig:
    """Office hours: outside them new threads get `message`. All of start, end and message empty: off."""

    start: datetime.time | None
    end: datetime.time | None
    days: frozenset[int]  # date.weekday() numbers, Monday is 0
    timezone: ZoneInfo
    message: str

    @property
    def enabled(self) -> bool:
        return self.start is not None  # the section check makes start, end and message all-or-none


@dataclass(frozen=True)
class NudgeConfig:
    """A message in threads nobody has answered, mentioning who is on call."""

    after_minutes: int
    message: str
    mention_oncall: bool

    @property
    def enabled(self) -> bool:
        return self.after_minutes > 0 and bool(self.message)


@dataclass(frozen=True)
class FilesConfig:
    """Screenshots and other files, copied both ways."""

    enabled: bool
    max_bytes: int


@dataclass(frozen=True)
class ReportConfig:
    """Daily report of open tickets, posted in Slack."""

    enabled: bool
    time: datetime.time
    days: frozenset[int]
    timezone: ZoneInfo
    channel: str


@dataclass(frozen=True)
class DaemonConfig:
    """Running in the background."""

    ha: bool
    pidfile: str


@dataclass(frozen=True)
class MetricsConfig:
    """Prometheus metrics of the daemon (`zsc run`)."""

    listen: str
    textfile: str


@dataclass(frozen=True)
class LoggingConfig:
    """Log output."""

    level: str
    format: str
    message_bodies: bool


@dataclass(frozen=True)
class Config:
    """The whole configuration: one attribute per section, plus where it came from."""

    slack: SlackConfig
    zendesk: ZendeskConfig
    channels: tuple[ChannelEntry, ...]
    pagerduty: PagerDutyConfig
    database: DatabaseConfig
    sync: SyncConfig
    commands: CommandsConfig
    keywords: tuple[Keyword, ...]
    email: EmailConfig
    hours: HoursConfig
    nudge: NudgeConfig
    files: FilesConfig
    report: ReportConfig
    status_reactions: StatusReactionsConfig
    daemon: DaemonConfig
    metrics: MetricsConfig
    logging: LoggingConfig
    source: Path | None
    state_dir: Path
    # Kept so reload() sees the same variables; may hold secrets, so not shown.
    env: Mapping[str, str] = field(repr=False, compare=False)

    @property
    def token_file(self) -> Path:
        return token_file_path(self.state_dir)

    @property
    def channel_list(self) -> tuple[ChannelConfig, ...]:
        """Every mirrored channel in order: the [[channels]] entries, then [slack] channel
        (with the defaults) when given. Emailed tickets go to the first whose group matches."""
        group = self.zendesk.group_id
        listed = tuple(ChannelConfig(c.id, c.group_id or group, c.mode, c.reaction, c.tags, c.report)
                       for c in self.channels)
        if self.slack.channel and all(c.id != self.slack.channel for c in listed):
            listed += (ChannelConfig(self.slack.channel, group),)
        return listed

    def channel_config(self, channel: str) -> ChannelConfig:
        """The settings of `channel`; a channel no longer configured (an old thread) keeps the defaults."""
        return next((c for c in self.channel_list if c.id == channel), ChannelConfig(channel, self.zendesk.group_id))

    def channel_for_group(self, group_id: int | None) -> ChannelConfig | None:
        """Where emailed tickets of `group_id` are posted: the first channel of that group."""
        return next((c for c in self.channel_list if c.group_id == group_id), None)


# The class of each section, by section name: what loading.py builds.
SECTION_CLASSES: dict[str, type] = {
    "slack": SlackConfig,
    "zendesk": ZendeskConfig,
    "channels": ChannelEntry,
    "pagerduty": PagerDutyConfig,
    "database": DatabaseConfig,
    "sync": SyncConfig,
    "commands": CommandsConfig,
    "keywords": Keyword,
    "email": EmailConfig,
    "hours": HoursConfig,
    "nudge": NudgeConfig,
    "files": FilesConfig,
    "report": ReportConfig,
    "status_reactions": StatusReactionsConfig,
    "daemon": DaemonConfig,
    "metrics": MetricsConfig,
    "logging": LoggingConfig,
}
