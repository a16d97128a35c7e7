"""The daily report: what was opened and closed since the previous report day, what
is still open, and a week's trend. Two layers, so each can be tested alone:

* compute_report - a snapshot of the store's issues: day boundaries are local
  midnights in [report] timezone turned into UTC with zoneinfo, so a DST day is 23
  or 25 hours long and nothing is counted twice or lost at midnight;
* render_report  - Slack mrkdwn from a Report (no I/O).

Posting it, exactly once per day, is the sync engine's (zsc.sync.daily_report);
when it is due is asked of the daemon's loop, so no cron is needed.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from zsc.adapters.records import permalink
from zsc.format import truncate, zendesk_to_slack
from zsc.store import Issue, Store

UTC = timezone.utc
TREND_DAYS = 7
SPARKS = "▁▂▃▄▅▆▇█"
LIST_LIMIT = 30  # per list; keeps the message far below Slack's 40k characters
SUBJECT_WIDTH = 80


# ---------------------------------------------------------------- time


def _aware(moment: datetime) -> datetime:
    """Accept naive UTC (what the store holds) or aware datetimes."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _naive(moment: datetime) -> datetime:
    return _aware(moment).replace(tzinfo=None)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Start of `day` in `tz`, as naive UTC for store queries."""
    return _naive(datetime.combine(day, time(0), tzinfo=tz))


def due_time(report_config, day: date) -> datetime:
    """When `day`'s report is due, aware UTC. A time inside a DST gap resolves with
    the offset before the change (fold=0): 01:30 on a spring-forward day is 02:30."""
    return _aware(datetime.combine(day, report_config.time, tzinfo=report_config.timezone))


def local_today(report_config, now_utc: datetime) -> date:
    return _aware(now_utc).astimezone(report_config.timezone).date()


def previous_report_day(days: frozenset[int], day: date) -> date:
    """The last scheduled report day before `day` (a week back if only one is set)."""
    for back in range(1, 8):
        candidate = day - timedelta(days=back)
        if candidate.weekday() in days:
            return candidate
    return day - timedelta(days=1)  # no days configured: the day before


def next_report_time(config, now_utc: datetime) -> datetime | None:
    """The next scheduled report at or after `now_utc`, aware UTC; None if the
    report is off. (A report that is due but not yet posted shows as the next one.)"""
    report = config.report
    if not report.enabled or not report.days:
        return None
    now = _aware(now_utc)
    today = local_today(report, now)
    for ahead in range(8):
        day = today + timedelta(days=ahead)
        if day.weekday() in report.days and due_time(report, day) >= now:
            return due_time(report, day)
    return None


def as_of(config, now_utc: datetime, day: date | None = None) -> tuple[date | None, datetime]:
    """What `zsc report [--date DAY]` reports on: today as of now, or a past day as it
    stood at its report time. (None, now) if DAY is still to come."""
    now = _aware(now_utc)
    today = local_today(config.report, now)
    if day is None or day == today:
        return today, now
    if day > today:
        return None, now
    return day, due_time(config.report, day)


# ---------------------------------------------------------------- compute


@dataclass(frozen=True)
class Item:
    """One issue as the report shows it (a snapshot, not a live store row)."""

    channel: str
    thread_ts: str
    ticket_id: int | None
    subject: str
    opened_at: datetime  # naive UTC
    closed_at: datetime | None

    @classmethod
    def of(cls, issue: Issue) -> "Item":
        return cls(issue.channel, issue.thread_ts, issue.ticket_id, issue.subject or "", issue.opened_at,
                   issue.closed_at)


@dataclass(frozen=True)
class Report:
    day: date  # the local date reported on
    timezone: ZoneInfo
    period_start: datetime  # aware, local: start of the previous report day
    period_end: datetime  # aware, local: start of `day`
    at: datetime  # naive UTC: the moment the open list and ages describe
    opened: int  # opened within the period
    closed: tuple[Item, ...]  # closed within the period, in closing order
    open: tuple[Item, ...]  # open at `at`, oldest first
    trend_start: date  # first of the TREND_DAYS days before `day`
    trend: tuple[int, ...]  # issues opened on each of those days

    @property
    def closed_count(self) -> int:
        return len(self.closed)


def compute_report(store: Store, day: date, config, at: datetime | None = None) -> Report:
    """The report for local date `day`. `at` is the moment the open list and ages
    describe; default: `day`'s report time, so the result depends on the store's
    content alone."""
    report = config.report
    tz = report.timezone
    moment = _naive(at if at is not None else due_time(report, day))
    first = previous_report_day(report.days, day)
    start, end = local_midnight(first, tz), local_midnight(day, tz)
    trend_start = day - timedelta(days=TREND_DAYS)
    with store.atomic():  # one snapshot: lists and counts agree while the poller writes
        return Report(
            day=day, timezone=tz,
            period_start=datetime.combine(first, time(0), tzinfo=tz),
            period_end=datetime.combine(day, time(0), tzinfo=tz),
            at=moment,
            opened=len(store.opened_times(start, end)),
            closed=tuple(Item.of(i) for i in store.closed_between(start, end)),
            open=tuple(Item.of(i) for i in store.open_at(moment)),
            trend_start=trend_start, trend=opened_per_day(store, trend_start, TREND_DAYS, tz),
        )


def opened_per_day(store: Store, first: date, n: int, tz: ZoneInfo) -> tuple[int, ...]:
    """Issues opened on each of `n` local days from `first`: one query, bucketed by
    the days' UTC boundaries (which differ by 23 or 25 hours across a DST change)."""
    bounds = [local_midnight(first + timedelta(days=i), tz) for i in range(n + 1)]
    counts = [0] * n
    for opened_at in store.opened_times(bounds[0], bounds[-1]):
        counts[bisect.bisect_right(bounds, _naive(opened_at)) - 1] += 1
    return tuple(counts)


def sparkline(counts: tuple[int, ...] | list[int]) -> str:
    """▁ for zero, █ for the busiest day; any non-zero day is at least ▂ so it never
    looks like a quiet one."""
    top = max(counts, default=0)
    if top <= 0:
        return SPARKS[0] * len(counts)
    last = len(SPARKS) - 1
    return "".join(SPARKS[0 if n <= 0 else max(1, round(n * last / top))] for n in counts)


def age(since: datetime, at: datetime) -> str:
    """'3d 4h', '5h' or '12m' (never negative)."""
    minutes = max(0, int((_naive(at) - _naive(since)).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h" if hours else f"{mins}m"


# ---------------------------------------------------------------- render


@dataclass(frozen=True)
class Links:
    """Where links point: the Slack workspace and the Zendesk agent UI."""

    workspace_uri: str
    ticket_url: Callable[[int], str]

    @classmethod
    def of(cls, ctx) -> "Links":
        return cls(ctx.workspace_uri, ctx.ticket_url)

    def thread(self, item: Item) -> str:
        return permalink(self.workspace_uri, item.channel, item.thread_ts)


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"  # "Fri 1 Mar": English whatever the locale


def late_note(report_config) -> str:
    return f"(late: zsc was not running at {report_config.time:%H:%M})"


def render_report(report: Report, links: Links, note: str = "") -> str:
    """Slack mrkdwn. Subjects are untrusted text: escaped so they cannot ping anyone."""
    head = f"*Support report for {_day(report.day)} {report.day.year}*"
    start, end = report.period_start, report.period_end
    lines = [
        f"{head} _{note}_" if note else head,
        f"Since {_day(start.date())} 00:00 ({report.timezone.key}): "
        f"{report.opened} opened, {report.closed_count} closed. {len(report.open)} open.",
        f"Opened per day, {_day(report.trend_start)} – {_day(end.date() - timedelta(days=1))}: "
        f"`{sparkline(report.trend)}` (max {max(report.trend, default=0)})",
        "",
    ]
    if report.open:
        lines.append(f"*Open ({len(report.open)})*")
        lines += _items(report.open, links, lambda i: f" · open {age(i.opened_at, report.at)}")
    else:
        lines.append("No open issues.")
    if report.closed:
        lines += ["", f"*Closed ({report.closed_count})*"]
        lines += _items(report.closed, links, lambda i: "")
    return "\n".join(lines)


def _items(items: tuple[Item, ...], links: Links, tail: Callable[[Item], str]) -> list[str]:
    out = []
    for item in items[:LIST_LIMIT]:
        subject = zendesk_to_slack(truncate(" ".join(item.subject.split()), SUBJECT_WIDTH)) or "(no subject)"
        ticket = f"<{links.ticket_url(item.ticket_id)}|#{item.ticket_id}>" if item.ticket_id else "no ticket yet"
        out.append(f"• {subject} · <{links.thread(item)}|thread> · {ticket}{tail(item)}")
    if len(items) > LIST_LIMIT:
        out.append(f"…and {len(items) - LIST_LIMIT} more")
    return out
