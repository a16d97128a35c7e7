"""The settings table: every key of every section, its type, default and help.

One table drives validation (loading.py), the dataclass checks (tests) and the
generated files (docs.py). To add a setting, add a row to SETTINGS, a field to its
class in sections.py, and regenerate the docs (`zsc config example|reference|readme`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zsc.config.types import (
    ADDRESS,
    BOT_ID,
    CHANNEL,
    CHANNEL_OPTIONAL,
    DOMAIN,
    SECRET,
    STRING,
    TEXT_REQUIRED,
    Boolean,
    Choice,
    DatabaseUrl,
    Days,
    Integer,
    Invalid,
    ListOf,
    Number,
    Text,
    Time,
    Timezone,
    Url,
    ValueType,
)

if TYPE_CHECKING:  # only for annotations: loading.py imports this module
    from zsc.config.loading import Sources


@dataclasses.dataclass(frozen=True)
class Derived:
    """A default computed from settings parsed before it: {section.key} or {state_dir}."""

    template: str

    def resolve(self, known: Mapping[str, Any]) -> str:
        # rstrip: "{zendesk.api_url}/agent" must not become "…com//agent".
        return re.sub(r"\{([\w.]+)\}", lambda m: str(known[m[1]]).rstrip("/"), self.template)


@dataclasses.dataclass(frozen=True)
class Setting:
    section: str
    key: str
    type: ValueType
    default: Any  # a raw TOML value (parsed like user input) or a Derived
    help: str
    secret: bool = False
    required: bool = False
    example: Any = None  # sample for config.example.toml, where the default won't do
    live: bool = False  # not required, yet shown uncommented in config.example.toml (one of several ways)

    @property
    def env_var(self) -> str:
        """Environment variable and systemd credential name (secrets only)."""
        return f"ZSC_{self.section}_{self.key}".upper()

    @property
    def token_name(self) -> str:
        """Key in the token file (secrets only)."""
        return f"{self.section}_{self.key}"


SETTINGS: tuple[Setting, ...] = (
    # [slack]
    Setting("slack", "token", SECRET, "", "Bot token (xoxb-…).", secret=True, required=True, example="xoxb-…"),
    Setting("slack", "channel", CHANNEL_OPTIONAL, "",
            "ID of the channel to mirror, like C0123ABCD. May be left out when [[channels]] lists the channels; "
            "when both are given, it is one more channel with the defaults.", example="C0123ABCD", live=True),
    Setting("slack", "post_as_agent", Boolean(), False,
            "Post Zendesk comments under the agent's name and Zendesk photo (needs scope chat:write.customize), "
            "marked \"(Zendesk)\", rather than as zsc with a \"*Name* (Zendesk):\" prefix."),
    Setting("slack", "channel_post_interval", Number("seconds", zero_ok=True), 1.0,
            "Seconds between zsc's posts to one channel after a short burst: Slack takes about one message a "
            "second per channel and refuses more. 0 turns the pacing off (only for a test double)."),
    Setting("slack", "workspace_uri", Url(empty_ok=True, trailing_slash=True), "",
            'Workspace address for permalinks, like "https://acme.slack.com/". '
            "Empty: asked from Slack (auth.test) at start."),
    Setting("slack", "api_url", Url(trailing_slash=True), "https://slack.com/api/",
            "Slack Web API base URL (change only for a test double)."),
    Setting("slack", "allowed_bot_ids", ListOf(BOT_ID), [],
            "Bots (B…) whose messages are mirrored like people's; other bots are ignored."),
    Setting("slack", "client_id", STRING, "", "Slack app client ID, for `zsc auth`."),
    Setting("slack", "client_secret", SECRET, "", "Slack app client secret, for `zsc auth`.", secret=True),
    Setting("slack", "redirect_uri", Url(empty_ok=True), "",
            "OAuth redirect URL registered with the Slack app, for `zsc auth`."),
    Setting("slack", "scopes", ListOf(STRING),
            ["channels:history", "groups:history", "channels:read", "groups:read", "chat:write", "users:read",
             "users:read.email", "files:read", "files:write", "reactions:read", "reactions:write",
             "chat:write.customize"],
            "Bot scopes `zsc auth` asks for."),
    # [[channels]]
    Setting("channels", "id", CHANNEL, None, "Slack channel ID.", required=True, example="C0PLATFORM"),
    Setting("channels", "group_id", Integer(0), 0,
            "Zendesk group of its tickets (emailed tickets of this group are posted here). 0: [zendesk] group_id.",
            example=360000000001),
    Setting("channels", "mode", Choice("all", "reaction"), "all",
            "all: every top-level message opens a ticket; reaction: only a message a person reacts to with "
            "`reaction` (needs scope reactions:read)."),
    Setting("channels", "reaction", Text("emoji name", pattern=r"[a-z0-9_+'-]+",
                                         hint='write the emoji name without colons, like "ticket"', empty_ok=False),
            "ticket", "Emoji name that opens a ticket in reaction mode."),
    Setting("channels", "tags", ListOf(Text("Zendesk tag", pattern=r"[^\s,]+", hint="tags have no spaces or commas",
                                            empty_ok=False)), [],
            'Tags added to its tickets, besides "zsc".', example=["platform"]),
    Setting("channels", "report", Boolean(), False, "Post its own daily report (its tickets only) in this channel."),
    # [zendesk]
    Setting("zendesk", "subdomain",
            Text("Zendesk subdomain", pattern=r"[a-z0-9][a-z0-9-]*", lower=True, empty_ok=False,
                 hint='write just the subdomain: "acme" for acme.zendesk.com'),
            None, 'Your Zendesk subdomain: "acme" for acme.zendesk.com.', required=True, example="example"),
    Setting("zendesk", "email", Text("email address", pattern=ADDRESS.pattern, hint=ADDRESS.hint), "",
            "Agent email the API token belongs to (with token)."),
    Setting("zendesk", "token", SECRET, "", "Zendesk API token (with email). Or use oauth_token.", secret=True),
    Setting("zendesk", "oauth_token", SECRET, "", "Zendesk OAuth access token, instead of email and token.",
            secret=True),
    Setting("zendesk", "api_url", Url(trailing_slash=False), Derived("https://{zendesk.subdomain}.zendesk.com"),
            "Zendesk API base URL."),
    Setting("zendesk", "agent_user_id", Integer(1), None, "Zendesk user ID of the agent zsc acts as.", required=True,
            example=1234567890),
    Setting("zendesk", "group_id", Integer(1), None, "Zendesk group new tickets are assigned to.", required=True,
            example=9876543210),
    Setting("zendesk", "ticket_uri", Url(), Derived("{zendesk.api_url}/agent/tickets/"),
            "Ticket links posted in Slack: this plus the ticket ID."),
    Setting("zendesk", "requester_from_slack", Boolean(), True,
            "Make the Slack poster (matched by email) the ticket requester, rather than the agent."),
    Setting("zendesk", "client_id", STRING, "", "Zendesk OAuth client ID, for `zsc auth`."),
    Setting("zendesk", "client_secret", SECRET, "", "Zendesk OAuth client secret, for `zsc auth`.", secret=True),
    Setting("zendesk", "redirect_uri", Url(empty_ok=True), "",
            "OAuth redirect URL registered with Zendesk, for `zsc auth`."),
    Setting("zendesk", "scopes", ListOf(STRING), ["read", "write", "impersonate"], "OAuth scopes `zsc auth` asks for."),
    # [pagerduty]
    Setting("pagerduty", "token", SECRET, "", "PagerDuty REST API token. Or use client_id and client_secret.",
            secret=True),
    Setting("pagerduty", "oauth_token", SECRET, "",
            "PagerDuty OAuth access token (sent as Bearer), e.g. the one `zsc import zenslackchat --tokens` copies. "
            "Instead of token.", secret=True),
    Setting("pagerduty", "escalation_policy_id", STRING, "",
            "Escalation policy whose on-call person is named in Slack. Empty: no on-call messages."),
    Setting("pagerduty", "api_url", Url(trailing_slash=False), "https://api.pagerduty.com",
            "PagerDuty REST API base URL."),
    Setting("pagerduty", "client_id", STRING, "", "PagerDuty OAuth client ID (client-credentials grant)."),
    Setting("pagerduty", "client_secret", SECRET, "", "PagerDuty OAuth client secret.", secret=True),
    Setting("pagerduty", "token_url", Url(), "https://identity.pagerduty.com/oauth/token",
            "PagerDuty OAuth token endpoint."),
    Setting("pagerduty", "cache_seconds", Integer(0), 300, "How long an on-call lookup is reused, in seconds."),
    Setting("pagerduty", "timeout", Number("seconds"), 5.0, "Timeout of each PagerDuty request, in seconds."),
    Setting("pagerduty", "retry_minutes", Integer(0), 10,
            "When PagerDuty fails to answer for a new issue, keep asking (each Zendesk poll, at most once a "
            "minute) for this many minutes, then post the on-call line late. 0: do not retry."),
    # [database]
    Setting("database", "url", DatabaseUrl(), Derived("sqlite:///{state_dir}/zsc.db"),
            "sqlite:///PATH, sqlite:///:memory: or postgresql://USER@HOST[:PORT]/DB. "
            "Prefer ~/.pgpass or PGPASSWORD to a password in the URL."),
    # [sync]
    Setting("sync", "slack_interval", Number("seconds"), 10.0, "Seconds between polls of Slack."),
    Setting("sync", "zendesk_interval", Number("seconds"), 30.0, "Seconds between polls of Zendesk."),
    Setting("sync", "dry_run", Boolean(), False, "Read both sides but write to neither; log what would be done."),
    Setting("sync", "thread_window_days", Integer(1), 14,
            "Days of channel history read each cycle to spot new thread replies; open threads older "
            "than that are asked directly, a few per cycle."),
    Setting("sync", "http_timeout", Number("seconds"), 20.0, "Timeout of each Slack and Zendesk request, in seconds."),
    Setting("sync", "park_after_attempts", Integer(1), 5,
            "An item (message, reply, comment, ticket) that fails this many polls in a row..."),
    Setting("sync", "park_after_minutes", Integer(0), 15,
            "...and for at least this many minutes is parked: recorded with its error, shown by `zsc status` and "
            "`zsc check-missing`, retried by `check-missing --fix`; the sync moves past it."),
    Setting("sync", "max_slack_posts_per_comment", Integer(1), 3,
            "A Zendesk comment longer than this many Slack posts is cut, ending with a link to the ticket."),
    # [commands]
    Setting("commands", "resolve_status", Choice("solved", "closed"), "solved",
            "Status a ticket gets when it is resolved from Slack."),
    # [[keywords]]
    Setting("keywords", "match", ListOf(TEXT_REQUIRED, nonempty=True), None,
            "Words or phrases; a thread whose first message or any reply contains one gets the reply (once per thread).", required=True,
            example=["password reset", "reset my password"]),
    Setting("keywords", "reply", TEXT_REQUIRED, None, "Reply posted in the thread.", required=True,
            example="You can reset your password at https://example.com/reset."),
    # [email]
    Setting("email", "allow_domains", ListOf(DOMAIN), [],
            "If not empty, only tickets emailed from these domains (or their subdomains) are posted to Slack."),
    Setting("email", "deny_domains", ListOf(DOMAIN), [],
            "Tickets emailed from these domains (or their subdomains) are never posted to Slack; wins over allow_domains."),
    Setting("email", "deny_addresses", ListOf(ADDRESS), [],
            "Tickets emailed from these addresses are never posted to Slack; wins over allow_domains."),
    # [hours]
    Setting("hours", "start", Time(empty_ok=True), "",
            "Start of office hours. End may be earlier, for overnight hours."),
    Setting("hours", "end", Time(empty_ok=True), "", "End of office hours."),
    Setting("hours", "days", Days(), "mon-fri", "Days with office hours."),
    Setting("hours", "timezone", Timezone(), "UTC", "Timezone of start and end."),
    Setting("hours", "message", STRING, "", "Reply to new threads outside office hours."),
    # [nudge]
    Setting("nudge", "after_minutes", Integer(0), 0,
            "Post `message` in a thread nobody has answered this many minutes after the person asked "
            "(office minutes when [hours] is set). 0: off."),
    Setting("nudge", "message", STRING, "Nobody has answered this yet.", "The nudge, posted once per issue."),
    Setting("nudge", "mention_oncall", Boolean(), True,
            "Mention the PagerDuty primary in the nudge (by their Slack account, found by email; else by name)."),
    # [files]
    Setting("files", "enabled", Boolean(), True,
            "Copy files both ways: Slack files become Zendesk attachments, public comments' attachments are "
            "uploaded into the thread. Off, or a file it cannot copy: the file is named with its link."),
    Setting("files", "max_bytes", Integer(1), 20971520,
            "Largest file copied (bytes; Zendesk accepts up to 50 MB). A larger one is named with its link."),
    # [report]
    Setting("report", "enabled", Boolean(), True, "Post the daily report."),
    Setting("report", "time", Time(), "09:00", "When to post it."),
    Setting("report", "days", Days(), "mon-fri", "Days to post it."),
    Setting("report", "timezone", Timezone(), "UTC", "Timezone of time."),
    Setting("report", "channel", CHANNEL_OPTIONAL, Derived("{slack.channel}"),
            "Channel ID to post it in (the report of all channels). Empty: [slack] channel; without that, only "
            "the channels with report = true get a report (their own)."),
    # [status_reactions]
    Setting("status_reactions", "enabled", Boolean(), False, "Show each ticket's status as a reaction on its thread."),
    Setting("status_reactions", "open", Text("emoji name", pattern=r"[a-z0-9_+'-]+", empty_ok=False,
                                             hint="write the emoji name without colons"), "eyes",
            "Reaction while the ticket is new or open."),
    Setting("status_reactions", "pending", Text("emoji name", pattern=r"[a-z0-9_+'-]+", empty_ok=False,
                                                hint="write the emoji name without colons"), "hourglass_flowing_sand",
            "Reaction while the ticket is pending or on hold."),
    Setting("status_reactions", "solved", Text("emoji name", pattern=r"[a-z0-9_+'-]+", empty_ok=False,
                                               hint="write the emoji name without colons"), "white_check_mark",
            "Reaction once the ticket is solved or closed."),
    # [daemon]
    Setting("daemon", "ha", Boolean(), False,
            "Several instances share one database and take turns: only one polls at a time."),
    Setting("daemon", "pidfile", STRING, "", "Write the process ID here when daemonised. Empty: no pidfile."),
    # [metrics]
    Setting("metrics", "listen",
            Text("HOST:PORT address", pattern=r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([1-9][0-9]{0,4})",
                 hint='write e.g. "127.0.0.1:9464" (or "[::1]:9464")'), "",
            'Serve Prometheus metrics at /metrics on this address, like "127.0.0.1:9464" (nothing else is served). '
            "Empty: no server."),
    Setting("metrics", "textfile", STRING, "",
            "Write the metrics to this file after each cycle (atomically), for node_exporter's textfile collector. "
            "Empty: no file."),
    # [logging]
    Setting("logging", "level", Choice("trace", "debug", "info", "success", "warning", "error", "critical"), "info",
            "Least severe level logged."),
    Setting("logging", "format", Choice("auto", "human", "json"), "auto",
            "auto: human on a terminal or in the systemd journal, json otherwise (pipes, files)."),
    Setting("logging", "message_bodies", Boolean(), False,
            "Log message and ticket text. Off by default: it is customer data."),
)  # fmt: skip


# ---------------------------------------------------------------- sections and their checks


def _check_zendesk(v: Mapping[str, Any], src: Sources) -> None:
    """Either email plus API token, or an OAuth token: Zendesk accepts nothing else."""
    if not src.require_secrets or v["oauth_token"] or (v["email"] and v["token"]):
        return
    if v["email"]:
        raise Invalid("email is set but the API token is missing", src.ways(find_setting("zendesk", "token")), key="token")
    if v["token"]:
        fix = 'add email = "agent@example.com", the agent the token belongs to'
        raise Invalid("token is set but email is missing", fix, key="email")
    raise Invalid(
        "no Zendesk credentials",
        f"set email plus token (an API token; or {find_setting('zendesk', 'token').env_var}), or oauth_token "
        f"(or {find_setting('zendesk', 'oauth_token').env_var}, or `zsc auth`)",
    )


def _check_pagerduty(v: Mapping[str, Any], src: Sources) -> None:
    has_credentials = v["token"] or v["oauth_token"] or (v["client_id"] and v["client_secret"])
    if not src.require_secrets or not v["escalation_policy_id"] or has_credentials:
        return
    raise Invalid(
        "escalation_policy_id is set but there are no PagerDuty credentials",
        f"set token (or {find_setting('pagerduty', 'token').env_var}), oauth_token, or client_id and client_secret; "
        "or empty escalation_policy_id to turn on-call messages off",
        key="token",
    )


def _check_hours(v: Mapping[str, Any], src: Sources) -> None:
    """start, end and message only make sense together: all set, or all empty (off)."""
    given = [k for k in ("start", "end", "message") if v[k] not in (None, "")]
    if given and len(given) < 3:
        missing = next(k for k in ("start", "end", "message") if k not in given)
        raise Invalid(f"{' and '.join(given)} set but {missing} is empty",
                       "set start, end and message, or leave all three empty to turn office hours off", key=missing)
    if given and v["start"] == v["end"]:
        raise Invalid("start and end are the same time", "make end differ from start", key="end")


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    help: str
    array: bool = False  # [[name]]: a list of entries, each with the section's keys
    check: Callable[[Mapping[str, Any], Sources], None] | None = None  # after all keys parse

    @property
    def settings(self) -> tuple[Setting, ...]:
        return tuple(s for s in SETTINGS if s.section == self.name)

    @property
    def header(self) -> str:
        return f"[[{self.name}]]" if self.array else f"[{self.name}]"


SECTIONS: tuple[Section, ...] = (
    Section("slack", "The Slack workspace and the channel mirrored to Zendesk."),
    Section("zendesk", "The Zendesk account. Credentials: email plus token, or oauth_token.", check=_check_zendesk),
    Section("channels", "More channels from one daemon: one [[channels]] entry per channel; each behaves as the "
            "[slack] channel does (threads, commands, notices, reports).", array=True),
    Section("pagerduty", "Optional: name the on-call person in Slack. Off while escalation_policy_id is empty.",
            check=_check_pagerduty),
    Section("database", "Where zsc keeps its state."),
    Section("sync", "Polling."),
    Section("commands", "Commands typed in Slack threads."),
    Section("keywords", "Automatic replies: add one [[keywords]] entry per reply.", array=True),
    Section("email", "Which senders' emailed tickets are posted to Slack. All lists empty: every sender."),
    Section("hours", "Office hours: outside them new threads get `message`. All of start, end and message empty: off.",
            check=_check_hours),
    Section("nudge", "A message in threads nobody has answered, mentioning who is on call."),
    Section("files", "Screenshots and other files, copied both ways."),
    Section("report", "Daily report of open tickets, posted in Slack."),
    Section("status_reactions", "A reaction on each thread's top message showing its ticket's status "
            "(needs scope reactions:write)."),
    Section("daemon", "Running in the background."),
    Section("metrics", "Prometheus metrics of the daemon (`zsc run`)."),
    Section("logging", "Log output."),
)  # fmt: skip

SECTION_BY_NAME = {s.name: s for s in SECTIONS}


def find_setting(section: str, key: str) -> Setting:
    return next(s for s in SETTINGS if (s.section, s.key) == (section, key))


SECRETS = {s.token_name: s for s in SETTINGS if s.secret}  # by token file key
