"""`zsc status`: how the bridge is doing, read from the store alone (no API calls), so
it answers even when Slack or Zendesk is down -- which is when it is needed.

A source is stale when it has not polled successfully for more than STALE_FACTOR
times its interval (or never has); `zsc status` then exits 1, for monitoring.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from zsc.redaction import redact
from zsc.store import SCHEMA_VERSION, TO_SLACK, TO_ZENDESK, Store, open_store, utcnow
from zsc.sync.keys import CURSOR_PREFIXES  # the engine's cursors; other checkpoints are bookkeeping

STALE_FACTOR = 5


@dataclass
class Source:
    source: str
    interval: float | None  # seconds between polls; None for sources without one
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    stale: bool = False


@dataclass
class Cursor:
    name: str
    value: str
    updated_at: datetime | None
    moment: datetime | None = None  # what the value means as a time, when it is one


@dataclass
class Status:
    now: datetime  # naive UTC, like everything in the store
    database: str
    store_exists: bool
    schema_version: int
    sources: list[Source] = field(default_factory=list)
    cursors: list[Cursor] = field(default_factory=list)
    open_issues: int = 0
    oldest_open_at: datetime | None = None
    mirrored_24h: dict[str, int] = field(default_factory=dict)
    pending_writes: int = 0
    failing_items: list[dict[str, Any]] = field(default_factory=list)  # items failing or parked (zsc.sync.parking)
    next_report: datetime | None = None  # aware, in the report's timezone
    next_report_known: bool = True  # False: this build has no report module
    leader: dict[str, Any] | None = None
    # each channel: id, group_id, mode, interval (effective seconds between its polls), open_issues, polled_by
    channels: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(s.stale for s in self.sources)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["schema_version"] = {"store": self.schema_version, "code": SCHEMA_VERSION}
        data["next_report"] = self.next_report.isoformat() if self.next_report else (
            None if self.next_report_known else "n/a")
        del data["next_report_known"]
        data["ok"] = self.ok
        return json.loads(json.dumps(data, default=_json_time))


def gather(config: Any) -> Status:
    # No store yet (nothing has run): look at an empty one instead of creating the file.
    store = open_store(config.database.url, create=False)
    try:
        now = utcnow()
        status = Status(now=now, database=_safe_url(config.database.url),
                        store_exists=not (store.is_sqlite and store.sqlite_path is None)
                        or config.database.url.endswith(":memory:"),
                        schema_version=store.schema_version())
        status.sources = _sources(store, config, now)
        status.cursors = [Cursor(name, value, updated, _as_time(name, value))
                          for name, value, updated in store.cursors(CURSOR_PREFIXES)]
        status.open_issues = store.count_open_issues()
        status.oldest_open_at = store.oldest_open_at()
        day_ago = now - timedelta(hours=24)
        status.mirrored_24h = {direction: store.mirrored_since(direction, day_ago) for direction in (TO_ZENDESK, TO_SLACK)}
        status.pending_writes = store.pending_count()
        status.failing_items = [{"item": i.label, "error": i.error, "attempts": i.attempts,
                                 "first_failed_at": i.first_failed_at, "parked_at": i.parked_at}
                                for i in store.failing_items()]
        status.leader = store.leader()
        status.channels = _channels(store, config)
        status.next_report, status.next_report_known = _next_report(config, now)
        return status
    finally:
        store.close()


def _sources(store: Store, config: Any, now: datetime) -> list[Source]:
    intervals = {"slack": config.sync.slack_interval, "zendesk": config.sync.zendesk_interval}
    rows = store.source_statuses()
    sources = []
    for name in [*intervals, *sorted(set(rows) - set(intervals))]:
        row = rows.get(name)
        source = Source(name, intervals.get(name))
        if row:
            source.last_success_at, source.last_attempt_at = row.last_success_at, row.last_attempt_at
            # redacted again on the way out: a store written by an older zsc may hold a secret
            source.last_error_at, source.last_error = row.last_error_at, redact(row.last_error) if row.last_error else None
        if source.interval is not None:
            limit = timedelta(seconds=STALE_FACTOR * source.interval)
            source.stale = source.last_success_at is None or now - source.last_success_at > limit
        sources.append(source)
    return sources


def _channels(store: Store, config: Any) -> list[dict[str, Any]]:
    from zsc.sync.channels import channel_intervals, channel_pollers

    intervals = channel_intervals(config)
    pollers = channel_pollers(store, [c.id for c in config.channel_list]) if config.daemon.ha else {}
    return [{"id": c.id, "group_id": c.group_id, "mode": c.mode, "interval": intervals[c.id],
             "open_issues": store.count_open_issues(c.id), "polled_by": pollers.get(c.id)}
            for c in config.channel_list]


def _as_time(name: str, value: str) -> datetime | None:
    """Slack cursors are message timestamps and the export start is epoch seconds;
    the export cursor is opaque."""
    if not (name.startswith("slack:") or name.endswith("_start")):
        return None
    try:
        return datetime.fromtimestamp(float(value), timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return None


def _next_report(config: Any, now: datetime) -> tuple[datetime | None, bool]:
    try:
        from zsc.report_times import next_report_time
    except ImportError:
        return None, False
    when = next_report_time(config, now.replace(tzinfo=timezone.utc))
    return (when.astimezone(config.report.timezone) if when else None), True


def _safe_url(url: str) -> str:
    """The database URL without a password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return parts._replace(netloc=netloc).geturl()
    return url


def _json_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat() if value.tzinfo else value.replace(microsecond=0).isoformat() + "Z"
    raise TypeError(type(value).__name__)
