"""Configuration: one table of `Setting`s drives validation, the frozen dataclasses,
config.example.toml (`render_example`) and docs/config-reference.md
(`render_reference_markdown`). To add a setting, add a row to SETTINGS and regenerate:

    python -m zsc.config example > config.example.toml
    python -m zsc.config reference > docs/config-reference.md

Where values come from: the TOML file (`--config`, else $ZSC_CONFIG, else
/etc/zsc/config.toml). Secrets may instead come from, highest precedence first: an
environment variable, a systemd credential file, the config file, the token file
written by `zsc auth`.

Every problem raises ConfigError with one line naming the place (file and key, or the
variable), what is wrong and how to fix it. Secret values never appear in messages
or in reprs.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import math
import os
import re
import shlex
import sys
import tempfile
import textwrap
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from zsc.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/zsc/config.toml")
TOKEN_FILE_NAME = "tokens.json"
REFERENCE_DOC = "docs/config-reference.md"

_UNSET: Any = object()


# ---------------------------------------------------------------- value types


class _Invalid(Exception):
    """A bad value, raised by value types and section checks. The loader adds where it
    happened, and quotes the value only when the setting is not secret."""

    def __init__(
        self,
        problem: str,
        fix: str = "",
        *,
        value: Any = _UNSET,  # the offending part (a list item, a redacted URL...)
        wrong_type: bool = False,
        key: str | None = None,  # for section checks: which key to blame
    ) -> None:
        super().__init__(problem)
        self.problem, self.fix, self.value = problem, fix, value
        self.wrong_type, self.key = wrong_type, key


class ValueType:
    """One kind of setting: the TOML types it accepts, its checks and conversion."""

    name = "value"  # the Type column of the reference
    expected = "a value"  # completes "expected ..." in messages
    accepts: tuple[type, ...] = ()
    pytype: Any = object  # annotation of the dataclass field

    def parse(self, value: Any) -> Any:
        if not _is_a(value, self.accepts):
            raise _Invalid(f"expected {self.expected}", _retype_fix(self.accepts, value), wrong_type=True)
        return self.convert(value)

    def convert(self, value: Any) -> Any:
        return value


def _is_a(value: Any, types: tuple[type, ...]) -> bool:
    # bool is an int subclass in Python, but `true` is no answer to "how many".
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _retype_fix(accepts: tuple[type, ...], value: Any) -> str:
    """The usual cause of a TOML type mismatch is quoting, so say which way round."""
    if str in accepts and not isinstance(value, str):
        return "put the value in double quotes"
    if isinstance(value, str) and bool in accepts:
        return "write true or false without quotes"
    if isinstance(value, str) and (int in accepts or float in accepts):
        return "write the number without quotes"
    if list in accepts:
        return 'write a list in brackets, e.g. ["a", "b"]'
    return f"see {REFERENCE_DOC}"


class Text(ValueType):
    accepts = (str,)
    pytype = str

    def __init__(
        self,
        name: str = "string",
        *,
        pattern: str | None = None,
        problem: str = "",
        hint: str = "",
        lower: bool = False,
        empty_ok: bool = True,
    ) -> None:
        self.name, self.pattern, self.hint = name, pattern, hint
        self.expected = f"a {name}"
        self.problem = problem or f"not a valid {name}"
        self.lower, self.empty_ok = lower, empty_ok

    def convert(self, value: str) -> str:
        if self.lower:
            value = value.lower()
        if value == "" and self.empty_ok:
            return value
        if value == "" or (self.pattern and not re.fullmatch(self.pattern, value)):
            raise _Invalid(self.problem, self.hint)
        return value


class Integer(ValueType):
    accepts = (int,)
    pytype = int
    expected = "an integer"

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum
        self.name = f"integer >= {minimum}"

    def convert(self, value: int) -> int:
        if value < self.minimum:
            raise _Invalid(f"must be at least {self.minimum}", f"use a whole number >= {self.minimum}")
        return value


class Number(ValueType):
    """A positive number of some unit: every float setting is a duration."""

    accepts = (int, float)
    pytype = float
    expected = "a number"

    def __init__(self, unit: str) -> None:
        self.name = f"number of {unit}"

    def convert(self, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise _Invalid("must be a positive number", "e.g. 10 or 2.5")
        return float(value)


class Boolean(ValueType):
    name = "boolean"
    expected = "true or false"
    accepts = (bool,)
    pytype = bool


class ListOf(ValueType):
    """A TOML array, stored as a tuple so the dataclasses stay immutable."""

    accepts = (list,)

    def __init__(self, item: ValueType, *, nonempty: bool = False) -> None:
        self.item, self.nonempty = item, nonempty
        self.name = f"list of {item.name}s"
        self.expected = f"a list of {item.name}s"
        self.pytype = tuple[item.pytype, ...]

    def convert(self, value: list) -> tuple:
        if self.nonempty and not value:
            raise _Invalid("must not be empty", 'list at least one, e.g. ["a", "b"]')
        return tuple(self._item(i, x) for i, x in enumerate(value, 1))

    def _item(self, i: int, x: Any) -> Any:
        try:
            return self.item.parse(x)
        except _Invalid as e:
            raise _Invalid(
                f"item {i}: {e.problem}", e.fix, value=x if e.value is _UNSET else e.value, wrong_type=e.wrong_type
            ) from None


class Choice(ValueType):
    accepts = (str,)
    pytype = str

    def __init__(self, *options: str) -> None:
        self.options = options
        self.name = "one of " + ", ".join(options)
        self.expected = "one of " + ", ".join(f'"{o}"' for o in options)

    def convert(self, value: str) -> str:
        if value.lower() in self.options:
            return value.lower()
        guess = _suggest(value.lower(), self.options)
        raise _Invalid(f"must be {self.expected}", f'did you mean "{guess}"?' if guess else f"use {self.expected}")


class Time(ValueType):
    """A time of day, "HH:MM" 24-hour. TOML's own local time (09:00:00) is fine too."""

    accepts = (str, datetime.time)
    name = "time (HH:MM)"
    expected = 'a time of day like "09:00"'

    def __init__(self, *, empty_ok: bool = False) -> None:
        self.empty_ok = empty_ok
        self.pytype = datetime.time | None if empty_ok else datetime.time

    def convert(self, value: str | datetime.time) -> datetime.time | None:
        if isinstance(value, datetime.time):
            return value
        if value == "" and self.empty_ok:
            return None
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            raise _Invalid("not a time of day", 'write 24-hour HH:MM in quotes, e.g. "09:00" or "17:30"')
        return datetime.time(int(m[1]), int(m[2]))


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index == date.weekday()


class Days(ValueType):
    """Days of the week as a frozenset of date.weekday() numbers (Monday is 0)."""

    accepts = (str,)
    name = "days (mon-fri, mon,wed,fri)"
    expected = 'days like "mon-fri"'
    pytype = frozenset[int]

    def convert(self, value: str) -> frozenset[int]:
        days: set[int] = set()
        for part in value.lower().replace(" ", "").split(","):
            first, _, last = part.partition("-")
            if first not in _DAY_NAMES or (last and last not in _DAY_NAMES):
                raise _Invalid(
                    "not a list or range of days",
                    'use mon tue wed thu fri sat sun, as a range or comma list, e.g. "mon-fri" or "mon,wed,fri"',
                )
            start = _DAY_NAMES.index(first)
            span = (_DAY_NAMES.index(last) - start) % 7 if last else 0  # "fri-mon" wraps over the weekend
            days.update((start + i) % 7 for i in range(span + 1))
        return frozenset(days)


class Timezone(ValueType):
    accepts = (str,)
    name = "timezone (IANA name)"
    expected = 'a timezone name like "Europe/Berlin"'
    pytype = ZoneInfo

    def convert(self, value: str) -> ZoneInfo:
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        # Only on error: listing every zone takes a while.
        by_lower = {z.lower(): z for z in available_timezones()}
        guess = by_lower.get(value.lower()) or _suggest(value, by_lower.values())
        fix = f'did you mean "{guess}"?' if guess else 'use an IANA name such as "UTC" or "America/New_York"'
        raise _Invalid("unknown timezone", fix)


class Url(ValueType):
    accepts = (str,)
    name = "http(s) URL"
    expected = "an http(s) URL"
    pytype = str

    def __init__(self, *, empty_ok: bool = False, trailing_slash: bool | None = None) -> None:
        # Normalised so code can join paths without guessing: Slack's base URL and
        # workspace URL (like auth.test's) end in "/", the others do not.
        self.empty_ok, self.trailing_slash = empty_ok, trailing_slash

    def convert(self, value: str) -> str:
        if value == "" and self.empty_ok:
            return value
        parts = _urlsplit(value)
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise _Invalid("not an http(s) URL", 'write the full address with its scheme, e.g. "https://…"')
        if self.trailing_slash is None:
            return value
        return value.rstrip("/") + ("/" if self.trailing_slash else "")


class DatabaseUrl(ValueType):
    accepts = (str,)
    name = "database URL"
    expected = "a database URL"
    pytype = str
    _FIX = (
        "use sqlite:///PATH (e.g. sqlite:////var/lib/zsc/zsc.db), sqlite:///:memory: "
        "or postgresql://USER@HOST[:PORT]/DB"
    )

    def convert(self, value: str) -> str:
        problem = self._problem(value)
        if problem:
            # A postgres URL may carry a password: never quote it back.
            raise _Invalid(problem, self._FIX, value=_redact_url(value))
        return value

    @staticmethod
    def _problem(value: str) -> str:
        parts = _urlsplit(value)
        if parts is None:
            return "not a valid URL"
        if parts.scheme == "sqlite":
            if parts.netloc or not value.startswith("sqlite:///"):
                return "a sqlite URL has no host part: it starts with three slashes"
            return "" if parts.path.strip("/") else "the sqlite URL has no file path"
        if parts.scheme in ("postgresql", "postgres"):
            try:
                parts.port  # noqa: B018 - raises on a non-numeric or out-of-range port
            except ValueError:
                return "the PostgreSQL port is not a number from 1 to 65535"
            if not parts.hostname or not parts.path.strip("/"):
                return "a PostgreSQL URL needs a host and a database name"
            return ""
        return "not a supported database URL (sqlite or postgresql)"


def _urlsplit(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unclosed [ of an IPv6 host
        return None


def _redact_url(url: str) -> str:
    """user:password@host -> user:***@host, by plain splitting: it must work on URLs
    too broken for urlsplit, since those are exactly the ones quoted in errors."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not (sep and at and ":" in userinfo):
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


# Shared value types.
STRING = Text()
SECRET = Text(
    "secret",
    pattern=r"\S+",
    problem="contains spaces or line breaks",
    hint="remove them (a stray newline from a file or heredoc?)",
)
CHANNEL = Text(
    "Slack channel ID",
    pattern=r"[CG][A-Z0-9]{2,}",
    hint="use the channel's ID (like C0123ABCD, at the bottom of the channel details), not its #name",
    empty_ok=False,
)
BOT_ID = Text("Slack bot ID", pattern=r"B[A-Z0-9]{2,}", hint="bot IDs start with B, like B0123ABCD", empty_ok=False)
DOMAIN = Text(
    "domain",
    pattern=r"[a-z0-9-]+(\.[a-z0-9-]+)+",
    hint="write a bare domain like example.com, without @",
    lower=True,  # email matching ignores case
    empty_ok=False,
)
ADDRESS = Text(
    "email address",
    pattern=r"[^@\s]+@[^@\s]+",
    hint="write a full address like someone@example.com",
    lower=True,
    empty_ok=False,
)
TEXT_REQUIRED = Text(problem="must not be empty", hint="write the text in double quotes", empty_ok=False)


# ---------------------------------------------------------------- the table


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
    Setting("slack", "channel", CHANNEL, None, "ID of the channel to mirror, like C0123ABCD.", required=True,
            example="C0123ABCD"),
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
            ["channels:history", "groups:history", "channels:read", "groups:read", "chat:write", "users:read", "users:read.email"],
            "Bot scopes `zsc auth` asks for."),
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
    # [report]
    Setting("report", "enabled", Boolean(), True, "Post the daily report."),
    Setting("report", "time", Time(), "09:00", "When to post it."),
    Setting("report", "days", Days(), "mon-fri", "Days to post it."),
    Setting("report", "timezone", Timezone(), "UTC", "Timezone of time."),
    Setting("report", "channel", CHANNEL, Derived("{slack.channel}"), "Channel ID to post it in."),
    # [daemon]
    Setting("daemon", "ha", Boolean(), False,
            "Several instances share one database and take turns: only one polls at a time."),
    Setting("daemon", "pidfile", STRING, "", "Write the process ID here when daemonised. Empty: no pidfile."),
    # [logging]
    Setting("logging", "level", Choice("trace", "debug", "info", "success", "warning", "error", "critical"), "info",
            "Least severe level logged."),
    Setting("logging", "format", Choice("auto", "human", "json"), "auto",
            "auto: human on a terminal or in the systemd journal, json otherwise (pipes, files)."),
    Setting("logging", "message_bodies", Boolean(), False,
            "Log message and ticket text. Off by default: it is customer data."),
)  # fmt: skip


# ---------------------------------------------------------------- sections and their checks


def _check_zendesk(v: Mapping[str, Any], src: _Sources) -> None:
    """Either email plus API token, or an OAuth token: Zendesk accepts nothing else."""
    if not src.require_secrets or v["oauth_token"] or (v["email"] and v["token"]):
        return
    if v["email"]:
        raise _Invalid("email is set but the API token is missing", src.ways(_setting("zendesk", "token")), key="token")
    if v["token"]:
        fix = 'add email = "agent@example.com", the agent the token belongs to'
        raise _Invalid("token is set but email is missing", fix, key="email")
    raise _Invalid(
        "no Zendesk credentials",
        f"set email plus token (an API token; or {_setting('zendesk', 'token').env_var}), or oauth_token "
        f"(or {_setting('zendesk', 'oauth_token').env_var}, or `zsc auth`)",
    )


def _check_pagerduty(v: Mapping[str, Any], src: _Sources) -> None:
    has_credentials = v["token"] or (v["client_id"] and v["client_secret"])
    if not src.require_secrets or not v["escalation_policy_id"] or has_credentials:
        return
    raise _Invalid(
        "escalation_policy_id is set but there are no PagerDuty credentials",
        f"set token (or {_setting('pagerduty', 'token').env_var}), or client_id and client_secret; "
        "or empty escalation_policy_id to turn on-call messages off",
        key="token",
    )


def _check_hours(v: Mapping[str, Any], src: _Sources) -> None:
    """start, end and message only make sense together: all set, or all empty (off)."""
    given = [k for k in ("start", "end", "message") if v[k] not in (None, "")]
    if given and len(given) < 3:
        missing = next(k for k in ("start", "end", "message") if k not in given)
        raise _Invalid(f"{' and '.join(given)} set but {missing} is empty",
                       "set start, end and message, or leave all three empty to turn office hours off", key=missing)
    if given and v["start"] == v["end"]:
        raise _Invalid("start and end are the same time", "make end differ from start", key="end")


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    help: str
    array: bool = False  # [[name]]: a list of entries, each with the section's keys
    check: Callable[[Mapping[str, Any], _Sources], None] | None = None  # after all keys parse
    properties: Mapping[str, property] = dataclasses.field(default_factory=dict)

    @property
    def settings(self) -> tuple[Setting, ...]:
        return tuple(s for s in SETTINGS if s.section == self.name)

    @property
    def header(self) -> str:
        return f"[[{self.name}]]" if self.array else f"[{self.name}]"


SECTIONS: tuple[Section, ...] = (
    Section("slack", "The Slack workspace and the channel mirrored to Zendesk."),
    Section("zendesk", "The Zendesk account. Credentials: email plus token, or oauth_token.", check=_check_zendesk),
    Section("pagerduty", "Optional: name the on-call person in Slack. Off while escalation_policy_id is empty.",
            check=_check_pagerduty, properties={"enabled": property(lambda self: bool(self.escalation_policy_id))}),
    Section("database", "Where zsc keeps its state."),
    Section("sync", "Polling."),
    Section("commands", "Commands typed in Slack threads."),
    Section("keywords", "Automatic replies: add one [[keywords]] entry per reply.", array=True),
    Section("email", "Which senders' emailed tickets are posted to Slack. All lists empty: every sender."),
    Section("hours", "Office hours: outside them new threads get `message`. All of start, end and message empty: off.",
            check=_check_hours, properties={"enabled": property(lambda self: self.start is not None)}),
    Section("report", "Daily report of open tickets, posted in Slack."),
    Section("daemon", "Running in the background."),
    Section("logging", "Log output."),
)  # fmt: skip

_SECTION = {s.name: s for s in SECTIONS}


def _setting(section: str, key: str) -> Setting:
    return next(s for s in SETTINGS if (s.section, s.key) == (section, key))


_SECRETS = {s.token_name: s for s in SETTINGS if s.secret}


# ---------------------------------------------------------------- the dataclasses

_CLASSES: dict[str, type] = {}


def _section_dataclass(section: str, cls_name: str) -> type:
    """A frozen dataclass with one field per setting; secrets are left out of repr."""
    sec = _SECTION[section]
    fields = [(s.key, s.type.pytype, dataclasses.field(repr=not s.secret)) for s in sec.settings]
    cls = dataclasses.make_dataclass(cls_name, fields, frozen=True, namespace={"__doc__": sec.help, **sec.properties})
    cls.__module__ = __name__  # make_dataclass only takes module= from Python 3.12
    _CLASSES[section] = cls
    return cls


SlackConfig = _section_dataclass("slack", "SlackConfig")
ZendeskConfig = _section_dataclass("zendesk", "ZendeskConfig")
PagerDutyConfig = _section_dataclass("pagerduty", "PagerDutyConfig")
DatabaseConfig = _section_dataclass("database", "DatabaseConfig")
SyncConfig = _section_dataclass("sync", "SyncConfig")
CommandsConfig = _section_dataclass("commands", "CommandsConfig")
Keyword = _section_dataclass("keywords", "Keyword")
EmailConfig = _section_dataclass("email", "EmailConfig")
HoursConfig = _section_dataclass("hours", "HoursConfig")
ReportConfig = _section_dataclass("report", "ReportConfig")
DaemonConfig = _section_dataclass("daemon", "DaemonConfig")
LoggingConfig = _section_dataclass("logging", "LoggingConfig")


def token_file_path(state_dir: Path) -> Path:
    return Path(state_dir) / TOKEN_FILE_NAME


Config = dataclasses.make_dataclass(
    "Config",
    [(s.name, tuple[_CLASSES[s.name], ...] if s.array else _CLASSES[s.name]) for s in SECTIONS]
    + [
        ("source", Path | None),
        ("state_dir", Path),
        # Kept so reload() sees the same variables; may hold secrets, so not shown.
        ("env", Mapping[str, str], dataclasses.field(repr=False, compare=False)),
    ],
    frozen=True,
    namespace={
        "__doc__": "The whole configuration: one attribute per section, plus where it came from.",
        "token_file": property(lambda self: token_file_path(self.state_dir)),
    },
)
Config.__module__ = __name__


# ---------------------------------------------------------------- loading


def load_config(
    path: str | Path | None = None, env: Mapping[str, str] = os.environ, *, require_secrets: bool = True
) -> Config:
    """Read and validate the config file: `path`, else $ZSC_CONFIG, else /etc/zsc/config.toml.

    require_secrets=False skips the checks that credentials are present, for `zsc auth`,
    which runs precisely because a token is still missing.
    """
    source, origin = _config_path(path, env)
    return parse_config(_read_toml(source, origin), source=source, env=env, require_secrets=require_secrets)


def reload(config: Config) -> Config:
    """Re-read the file `config` came from, with the same environment (e.g. on SIGHUP)."""
    if config.source is None:
        raise ConfigError("cannot reload: this configuration was not read from a file; restart zsc instead")
    return load_config(config.source, config.env)


def parse_config(
    data: Mapping[str, Any],
    *,
    source: Path | None = None,
    env: Mapping[str, str] = os.environ,
    require_secrets: bool = True,
) -> Config:
    """Validate already-parsed TOML data; also handy for building a Config in tests."""
    label = str(source) if source else "<config>"
    _check_layout(data, label)
    state_dir = default_state_dir(env)
    src = _Sources(label, env, state_dir, load_token_file(state_dir), require_secrets)
    sections: dict[str, Any] = {}
    for sec in SECTIONS:
        if sec.array:
            sections[sec.name] = tuple(
                _parse_table(sec, entry, f"{sec.header} #{i}", src) for i, entry in enumerate(data.get(sec.name, []), 1)
            )
        else:
            sections[sec.name] = _parse_table(sec, data.get(sec.name, {}), sec.header, src)
    return Config(**sections, source=source, state_dir=state_dir, env=env)


def default_state_dir(env: Mapping[str, str] = os.environ) -> Path:
    """$STATE_DIRECTORY (systemd's StateDirectory=, maybe colon-separated), else ~/.local/state/zsc."""
    first = env.get("STATE_DIRECTORY", "").split(":")[0]
    if first:
        return Path(first)
    # HOME from `env` first, so tests with an explicit env never touch the real home.
    return Path(env.get("HOME") or Path.home()) / ".local" / "state" / "zsc"


def _config_path(path: str | Path | None, env: Mapping[str, str]) -> tuple[Path, str]:
    """The file to read and, for messages, why that one. Absolute, because a daemon
    changes directory to / and reload() must still find it."""
    if path:
        return Path(path).absolute(), ""
    if env.get("ZSC_CONFIG"):
        return Path(env["ZSC_CONFIG"]).absolute(), " (named by ZSC_CONFIG)"
    return DEFAULT_CONFIG_PATH, " (the default location)"


def _read_toml(source: Path, origin: str) -> dict[str, Any]:
    try:
        text = source.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{source}: config file not found{origin}; create it from config.example.toml "
            f"(cp config.example.toml {shlex.quote(str(source))}), "
            "or name another file with --config PATH or ZSC_CONFIG"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, not a file{origin}; give the path of the TOML file") from None
    except PermissionError:
        quoted = shlex.quote(str(source))
        raise ConfigError(
            f"{source}: permission denied reading the config file; let zsc's user read it, "
            f"e.g. chgrp zsc {quoted} && chmod 640 {quoted}"
        ) from None
    except OSError as e:
        raise ConfigError(f"{source}: cannot read the config file: {e.strerror}{origin}; check the path") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{source}: not UTF-8 text (bad byte at offset {e.start}); save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_toml_error(source, str(e))) from None


def _toml_error(source: Path, message: str) -> str:
    """tomllib says "Invalid value (at line 3, column 9)"; lead with the place instead."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message)
    where, what = (f"{source}: line {m[2]}, column {m[3]}", m[1]) if m else (str(source), message)
    fix = 'fix the syntax there (text values need double quotes, e.g. channel = "C0123")'
    return f"{where}: invalid TOML: {what}; {fix}"


def _check_layout(data: Mapping[str, Any], label: str) -> None:
    """Unknown sections and keys first: a typo there explains a "missing" key better."""
    for name, table in data.items():
        sec = _SECTION.get(name)
        if sec is None:
            raise ConfigError(_unknown_section(name, table, label))
        for i, entry in enumerate(_entries(sec, table, label), 1):
            at = f"{sec.header} #{i}" if sec.array else sec.header
            keys = [s.key for s in sec.settings]
            for key in entry:
                if key not in keys:
                    guess = _suggest(key, keys)
                    fix = f"did you mean {guess}?" if guess else f"valid keys: {', '.join(keys)}"
                    raise ConfigError(f"{label}: {at} {key}: unknown key; {fix}")


def _entries(sec: Section, table: Any, label: str) -> list[Mapping[str, Any]]:
    if sec.array:
        if not (isinstance(table, list) and all(isinstance(t, dict) for t in table)):
            raise ConfigError(
                f"{label}: {sec.name}: expected a list of tables; write each entry under its own {sec.header}"
            )
        return table
    if not isinstance(table, dict):
        raise ConfigError(
            f"{label}: {sec.name}: expected a table, found {_kind(table)}; write it as a {sec.header} section"
        )
    return [table]


def _unknown_section(name: str, value: Any, label: str) -> str:
    tables = value if isinstance(value, list) else [value]
    if not tables or not all(isinstance(t, dict) for t in tables):  # a bare key above the first [section]
        homes = [s.header for s in SECTIONS if any(x.key == name for x in s.settings)]
        if homes:
            return f"{label}: {name}: key outside any section; move it under {' or '.join(homes)}"
        return f"{label}: {name}: unknown key outside any section; settings go inside sections, see {REFERENCE_DOC}"
    names = [s.name for s in SECTIONS]
    guess = _suggest(name, names)
    fix = f"did you mean [{guess}]?" if guess else "valid sections: " + ", ".join(s.header for s in SECTIONS)
    return f"{label}: [{name}]: unknown section; {fix}"


@dataclasses.dataclass(frozen=True)
class _Raw:
    value: Any
    where: str  # names the place in messages: "FILE: [slack] token", "environment variable ZSC_SLACK_TOKEN"...


class _Sources:
    """Everything a value can come from, in precedence order, plus what is parsed so far."""

    def __init__(
        self, label: str, env: Mapping[str, str], state_dir: Path, tokens: Mapping[str, str], require_secrets: bool
    ) -> None:
        self.label, self.env, self.tokens, self.require_secrets = label, env, tokens, require_secrets
        self.token_path = token_file_path(state_dir)
        self.creds_dir = env.get("CREDENTIALS_DIRECTORY") or None
        self.known: dict[str, Any] = {"state_dir": str(state_dir)}  # for Derived defaults

    def lookup(self, s: Setting, table: Mapping[str, Any], at: str) -> _Raw | None:
        """The value of highest precedence: env > credentials > config file > token file."""
        if s.secret and self.env.get(s.env_var):  # empty counts as unset, as with systemd's Environment=
            return _Raw(self.env[s.env_var], f"environment variable {s.env_var}")
        if s.secret and self.creds_dir:
            found = _read_credential(Path(self.creds_dir) / s.env_var)
            if found:
                return found
        if s.key in table:
            return _Raw(table[s.key], f"{self.label}: {at} {s.key}")
        if s.secret and s.token_name in self.tokens:
            return _Raw(self.tokens[s.token_name], f"{self.token_path}: {s.token_name}")
        return None

    def ways(self, s: Setting) -> str:
        """How to supply a missing secret, all four ways."""
        return (
            f"supply it one of four ways: environment variable {s.env_var}; a systemd credential named {s.env_var} "
            f'(LoadCredential=); {s.key} = "…" under [{s.section}] in {self.label}; '
            f'or "{s.token_name}" in {self.token_path} (written by `zsc auth`)'
        )


def _read_credential(path: Path) -> _Raw | None:
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")  # files usually end in a newline
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read the credential: {reason}; check LoadCredential= in the unit") from None
    return _Raw(value, str(path)) if value else None


def _parse_table(sec: Section, table: Mapping[str, Any], at: str, src: _Sources) -> Any:
    values = {s.key: _parse_setting(s, table, at, src) for s in sec.settings}
    if sec.check:
        try:
            sec.check(values, src)
        except _Invalid as e:
            key = f" {e.key}" if e.key else ""
            raise ConfigError(f"{src.label}: {at}{key}: {e.problem}; {e.fix}") from None
    return _CLASSES[sec.name](**values)


def _parse_setting(s: Setting, table: Mapping[str, Any], at: str, src: _Sources) -> Any:
    raw = src.lookup(s, table, at)
    # An empty derived setting means "work it out", like an absent one.
    if raw is None or (isinstance(s.default, Derived) and raw.value == ""):
        if s.required and (src.require_secrets or not s.secret):
            raise ConfigError(_missing(s, at, src))
        default = s.default.resolve(src.known) if isinstance(s.default, Derived) else s.default
        raw = _Raw("" if default is None else default, f"{src.label}: {at} {s.key} (default)")
    try:
        value = s.type.parse(raw.value)
    except _Invalid as e:
        raise ConfigError(_invalid(raw, e, s.secret)) from None
    src.known[f"{s.section}.{s.key}"] = value
    return value


def _missing(s: Setting, at: str, src: _Sources) -> str:
    if s.secret:
        return f"{src.label}: {at} {s.key}: not set; {src.ways(s)}"
    where = f"each {at.split(' #')[0]} entry" if _SECTION[s.section].array else f"[{s.section}]"
    return f"{src.label}: {at} {s.key}: missing required key; add it to {where}, e.g. {s.key} = {_toml(s.example)}"


def _invalid(raw: _Raw, e: _Invalid, secret: bool) -> str:
    """Quote the offending value, unless it is secret: then only its TOML type."""
    shown = raw.value if e.value is _UNSET else e.value
    if not secret:
        found = f", found {_show(shown)}"
    elif e.wrong_type:
        found = f", found {_kind(shown)}"
    else:
        found = ""
    return f"{raw.where}: {e.problem}{found}; {e.fix}"


def _show(value: Any) -> str:
    text = _toml(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _kind(value: Any) -> str:
    kinds = [
        (bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"), (list, "an array"),
        (dict, "a table"), (datetime.datetime, "a date-time"), (datetime.date, "a date"), (datetime.time, "a time"),
    ]  # fmt: skip
    return next((name for t, name in kinds if isinstance(value, t)), type(value).__name__)


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


# ---------------------------------------------------------------- token file and masking


def load_token_file(state_dir: Path) -> dict[str, str]:
    """Tokens saved by `zsc auth`, {"slack_token": "…", …}; {} if there is no file.

    Refused if other users could read it: those tokens act as the bot.
    """
    path = token_file_path(state_dir)
    try:
        with open(path, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode & 0o777  # fstat: the file actually read
            if mode & 0o077:
                raise ConfigError(
                    f"{path}: other users can access this token file (mode {mode:04o}); "
                    f"run: chmod 600 {shlex.quote(str(path))}"
                )
            raw = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(
            f"{path}: cannot read the token file: {e.strerror}; check its owner, or run `zsc auth` again"
        ) from None
    return _parse_tokens(path, raw)


def _parse_tokens(path: Path, raw: bytes) -> dict[str, str]:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = f" (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) else ""
        raise ConfigError(f"{path}: not valid JSON{where}; delete it and run `zsc auth` again") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object, found {_kind(data)}; delete it and run `zsc auth` again")
    for name, value in data.items():
        _check_token_name(path, name)
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {name}: expected a string, found {_kind(value)}; run `zsc auth` again")
    return data


def _check_token_name(path: Path, name: str) -> None:
    if name not in _SECRETS:
        guess = _suggest(name, _SECRETS)
        fix = f"did you mean {guess}?" if guess else f"valid names: {', '.join(_SECRETS)}"
        raise ConfigError(f"{path}: {name}: unknown token name; {fix}")


def save_token(state_dir: Path, name: str, value: str) -> Path:
    """Store one secret in the token file, for `zsc auth`. Atomic, so a crash leaves the
    old file or the new one; the directory is created 0700 and the file is 0600."""
    state_dir = Path(state_dir)
    path = token_file_path(state_dir)
    _check_token_name(path, name)
    try:
        SECRET.parse(value)
    except _Invalid as e:
        raise ConfigError(_invalid(_Raw(value, f"{path}: {name}"), e, secret=True)) from None
    if not value:
        raise ConfigError(f"{path}: {name}: refusing to save an empty token; check what the OAuth exchange returned")
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # No mode check on the old file: a 0600 file replaces it.
        tokens = _parse_tokens(path, path.read_bytes()) if path.exists() else {}
        tokens[name] = value
        _write_private(path, json.dumps(tokens, indent=2, sort_keys=True) + "\n")
    except OSError as e:
        raise ConfigError(
            f"{path}: cannot save the token: {e.strerror}; check who owns {state_dir}, or set STATE_DIRECTORY"
        ) from None
    return path


def _write_private(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def mask(secret: str) -> str:
    """Enough of a secret to tell which one is in use, not enough to use it: "xoxb-…a1b2".

    Keeps the prefix up to the first dash (Slack's xoxb-, xoxp-…) and the last four
    characters, and only when at least eight characters stay hidden; else "****".
    An empty secret stays "" so "not set" remains visible.
    """
    if not secret:
        return ""
    dash = secret.find("-")
    prefix = secret[: dash + 1] if 0 < dash <= 8 else ""
    if len(secret) - len(prefix) < 12:
        return "****"
    return f"{prefix}…{secret[-4:]}"


# ---------------------------------------------------------------- generated files

_EXAMPLE_STATE_DIR = "/var/lib/zsc"  # systemd's StateDirectory=zsc


def _toml(value: Any) -> str:
    """A value as TOML source (for the example file and for quoting values in messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return repr(value)


def to_toml(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """A config file from {section: {key: value}} (the demo and tests write theirs so)."""
    blocks = []
    for name, values in sections.items():
        lines = [f"[{name}]"] + [f"{key} = {_toml(value)}" for key, value in values.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _default_text(s: Setting) -> str:
    if s.required:
        return "required"
    if isinstance(s.default, Derived):
        return s.default.template
    return _toml(s.default)


def _notes(s: Setting) -> str:
    """What a reader needs beyond the help text: default or required, where secrets go."""
    notes = [s.help]
    if s.secret:
        notes.append(
            f"Secret: better in environment variable or systemd credential {s.env_var}, "
            f'or as "{s.token_name}" in the token file written by `zsc auth`.'
        )
    if s.required and s.secret:
        notes.append("Required, from one of those places.")
    elif s.required:
        notes.append("Required.")
    elif isinstance(s.default, Derived):
        notes.append(f"Default: built from other settings as {_default_text(s)}.")
    else:
        notes.append(f"Default: {_default_text(s)}.")
    return " ".join(notes)


def _example_values() -> dict[str, Any]:
    """The value each setting shows in the example: its sample, or its default worked
    out from the samples (e.g. api_url from the sample subdomain)."""
    known: dict[str, Any] = {"state_dir": _EXAMPLE_STATE_DIR}
    for s in SETTINGS:
        value = s.example if s.example is not None else s.default
        known[f"{s.section}.{s.key}"] = value.resolve(known) if isinstance(value, Derived) else value
    return known


def _comment(text: str, prefix: str = "# ") -> list[str]:
    return textwrap.wrap(text, 88 - len(prefix), initial_indent=prefix, subsequent_indent=prefix)


def render_example() -> str:
    """config.example.toml: every setting with its documentation. Required settings are
    live with sample values; everything else is commented out at its default."""
    values = _example_values()
    lines = [
        "# zsc configuration. Copy to /etc/zsc/config.toml (or name it with --config or ZSC_CONFIG),",
        "# then edit. A commented-out setting shows its default; uncomment it to change it.",
        "# Secrets are better kept out of this file: see each one's note.",
        f"# Reference: {REFERENCE_DOC}. Generated by `python -m zsc.config example`:",
        "# edit zsc/config.py, not this file.",
    ]
    for sec in SECTIONS:
        # An entry of an array section is optional, so its sample stays commented out.
        off = "# " if sec.array else ""
        lines += ["", "", *_comment(sec.help), f"{off}{sec.header}"]
        for s in sec.settings:
            live = s.required and not s.secret and not sec.array
            lines += ["", *_comment(_notes(s))]
            lines.append(f"{'' if live else '# '}{s.key} = {_toml(values[f'{s.section}.{s.key}'])}")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_reference_markdown() -> str:
    """docs/config-reference.md: how zsc finds its configuration, and every setting."""
    secrets = [s for s in SETTINGS if s.secret]
    lines = [
        "# zsc configuration reference",
        "",
        "<!-- Generated by `python -m zsc.config reference` from zsc/config.py: edit that, not this file. -->",
        "",
        "zsc reads one TOML file: the one named by `--config`, else `$ZSC_CONFIG`, else `/etc/zsc/config.toml`. "
        "Start from `config.example.toml`. Any problem stops zsc (exit status 2) with one line naming the file, "
        "the key, what is wrong and how to fix it. A reload re-reads the same file and secret sources.",
        "",
        "## State directory",
        "",
        "`$STATE_DIRECTORY` (set by systemd's `StateDirectory=`; the first entry if there are several), "
        "else `~/.local/state/zsc`. It holds the default SQLite database and the token file.",
        "",
        "## Secrets",
        "",
        "Each secret can come from four places. The first one found wins:",
        "",
        "1. an environment variable, e.g. `ZSC_SLACK_TOKEN`;",
        "2. a file of that name in `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=ZSC_SLACK_TOKEN:/path`); "
        "a trailing newline is ignored;",
        "3. the config file;",
        f"4. the token file `{{state_dir}}/{TOKEN_FILE_NAME}`, a JSON object written by `zsc auth`. "
        "It must be readable by its owner only (`chmod 600`); zsc refuses it otherwise.",
        "",
        "Defaults in braces, like `{zendesk.subdomain}`, are filled in from other settings; "
        "`{state_dir}` is the state directory. An empty value counts as not set. "
        "Error messages never show a secret's value; "
        "where one must be identified it is masked like `xoxb-…a1b2` (`zsc.config.mask`).",
        "",
        "| Secret | Environment variable / credential | Token file key |",
        "|---|---|---|",
        *(f"| `[{s.section}] {s.key}` | `{s.env_var}` | `{s.token_name}` |" for s in secrets),
    ]
    for sec in SECTIONS:
        lines += ["", f"## `{sec.header}`", "", sec.help, ""]
        lines += ["| Key | Type | Default | Description |", "|---|---|---|---|"]
        for s in sec.settings:
            default = "required" if s.required else f"`{_default_text(s)}`"
            secret = f" Secret: `{s.env_var}`." if s.secret else ""
            lines.append(f"| `{s.key}` | {_md_cell(s.type.name)} | {_md_cell(default)} | {_md_cell(s.help + secret)} |")
    return "\n".join(lines) + "\n"


README_START = "<!-- config-reference:start -->"
README_END = "<!-- config-reference:end -->"


def render_readme(readme: str) -> str:
    """README.md with its Configuration section replaced by the reference, one
    heading level down (the README's own title is the only top-level heading)."""
    body = render_reference_markdown().split("\n", 1)[1].strip()  # drop the reference's own title
    body = "\n".join("#" + line if line.startswith("## ") else line for line in body.splitlines()
                     if not line.startswith("<!-- Generated"))
    body = "<!-- Generated from zsc/config.py: refresh with `python -m zsc.config readme README.md`. -->\n\n" + body
    head, rest = readme.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    return f"{head}{README_START}\n{body}\n{README_END}{tail}"


if __name__ == "__main__":
    _OUTPUTS = {"example": render_example, "reference": render_reference_markdown}
    if len(sys.argv) == 3 and sys.argv[1] == "readme":
        readme_path = Path(sys.argv[2])
        readme_path.write_text(render_readme(readme_path.read_text()))
        sys.exit(0)
    if len(sys.argv) != 2 or sys.argv[1] not in _OUTPUTS:
        sys.exit("usage: python -m zsc.config example|reference|readme README.md")
    sys.stdout.write(_OUTPUTS[sys.argv[1]]())
