"""Value types: what each setting accepts from TOML, its checks and its conversion.

A bad value raises Invalid; the loader adds where it happened and decides whether
the value may be quoted (never for secrets).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

REFERENCE_DOC = "docs/config-reference.md"

UNSET: Any = object()

class Invalid(Exception):
    """A bad value, raised by value types and section checks. The loader adds where it
    happened, and quotes the value only when the setting is not secret."""

    def __init__(
        self,
        problem: str,
        fix: str = "",
        *,
        value: Any = UNSET,  # the offending part (a list item, a redacted URL...)
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
            raise Invalid(f"expected {self.expected}", _retype_fix(self.accepts, value), wrong_type=True)
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
            raise Invalid(self.problem, self.hint)
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
            raise Invalid(f"must be at least {self.minimum}", f"use a whole number >= {self.minimum}")
        return value


class Number(ValueType):
    """A positive number of some unit: every float setting is a duration."""

    accepts = (int, float)
    pytype = float
    expected = "a number"

    def __init__(self, unit: str, zero_ok: bool = False) -> None:
        self.name = f"number of {unit}" + (" (0 or more)" if zero_ok else "")
        self.zero_ok = zero_ok

    def convert(self, value: float) -> float:
        if self.zero_ok and value == 0:
            return 0.0
        if not math.isfinite(value) or value <= 0:
            raise Invalid("must be 0 or a positive number" if self.zero_ok else "must be a positive number",
                          "e.g. 10 or 2.5")
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
            raise Invalid("must not be empty", 'list at least one, e.g. ["a", "b"]')
        return tuple(self._item(i, x) for i, x in enumerate(value, 1))

    def _item(self, i: int, x: Any) -> Any:
        try:
            return self.item.parse(x)
        except Invalid as e:
            raise Invalid(
                f"item {i}: {e.problem}", e.fix, value=x if e.value is UNSET else e.value, wrong_type=e.wrong_type
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
        guess = suggest(value.lower(), self.options)
        raise Invalid(f"must be {self.expected}", f'did you mean "{guess}"?' if guess else f"use {self.expected}")


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
            raise Invalid("not a time of day", 'write 24-hour HH:MM in quotes, e.g. "09:00" or "17:30"')
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
                raise Invalid(
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
        guess = by_lower.get(value.lower()) or suggest(value, by_lower.values())
        fix = f'did you mean "{guess}"?' if guess else 'use an IANA name such as "UTC" or "America/New_York"'
        raise Invalid("unknown timezone", fix)


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
            raise Invalid("not an http(s) URL", 'write the full address with its scheme, e.g. "https://…"')
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
            raise Invalid(problem, self._FIX, value=_redact_url(value))
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
# [slack] channel may be left out when [[channels]] lists the channels.
CHANNEL_OPTIONAL = Text(
    "Slack channel ID",
    pattern=r"[CG][A-Z0-9]{2,}",
    hint="use the channel's ID (like C0123ABCD, at the bottom of the channel details), not its #name",
    empty_ok=True,
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


def suggest(word: str, choices: Iterable[str]) -> str | None:
    import difflib  # only for a mistyped word: not loaded by every start

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None
