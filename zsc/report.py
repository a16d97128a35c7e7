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
import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from zsc.adapters.records import permalink
from zsc.format import truncate, zendesk_to_slack
from zsc.store import Issue, Store
from zsc.report_times import (UTC, as_utc, naive_utc, as_of, due_time, local_midnight, local_today,  # noqa: F401
                              next_report_time, previous_report_day)

TREND_DAYS = 7
SPARKS = "▁▂▃▄▅▆▇█"
LIST_LIMIT = 30  # per list; keeps the message far below Slack's 40k characters
SUBJECT_WIDTH = 80


# ---------------------------------------------------------------- durations


@dataclass(frozen=True)
class Stopwatch:
    """How durations are counted: office seconds when [hours] is set (the caller, in
    zsc.sync, passes zsc.sync.hours.elapsed_seconds), wall-clock seconds otherwise."""

    seconds: Callable[[datetime, datetime], float]
    office_hours: bool = False


WALL_CLOCK = Stopwatch(lambda start, end: max(0.0, (as_utc(end) - as_utc(start)).total_seconds()))


@dataclass(frozen=True)
class Times:
    """Median and 90th percentile of some durations, in seconds (None: nothing to measure)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, durations: list[float]) -> "Times":
        if not durations:
            return cls(0, None, None)
        ordered = sorted(durations)
        # nearest rank: the smallest duration that 90% of them do not exceed
        return cls(len(ordered), float(statistics.median(ordered)), ordered[math.ceil(0.9 * len(ordered)) - 1])

    def as_json(self) -> dict[str, float | None]:
        return {"median": self.median, "p90": self.p90}


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
    waiting: float | None = None  # open and unanswered: seconds it has waited for a first answer

    @classmethod
    def of(cls, issue: Issue, waiting: float | None = None) -> "Item":
        return cls(issue.channel, issue.thread_ts, issue.ticket_id, issue.subject or "", issue.opened_at,
                   issue.closed_at, waiting)


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
    office_hours: bool = False  # durations below count office time, not wall-clock time
    first_response: Times = Times(0, None, None)  # issues first answered within the period
    resolution: Times = Times(0, None, None)  # issues closed within the period
    week_first_response: Times = Times(0, None, None)  # the same over the TREND_DAYS days before `at`
    week_resolution: Times = Times(0, None, None)

    @property
    def closed_count(self) -> int:
        return len(self.closed)


def compute_report(store: Store, day: date, config, at: datetime | None = None,
                   stopwatch: Stopwatch = WALL_CLOCK, channel: str | None = None) -> Report:
    """The report for local date `day`. `at` is the moment the open list and ages
    describe; default: `day`'s report time, so the result depends on the store's
    content alone. Response and resolution times are counted by `stopwatch`. `channel`:
    that channel's issues only (its own report)."""
    report = config.report
    tz = report.timezone
    moment = naive_utc(at if at is not None else due_time(report, day))
    first = previous_report_day(report.days, day)
    start, end = local_midnight(first, tz), local_midnight(day, tz)
    trend_start = day - timedelta(days=TREND_DAYS)
    week_start = moment - timedelta(days=TREND_DAYS)  # a rolling week up to `at`: today's answers count too

    def times(pairs: list[tuple[datetime, datetime]]) -> Times:
        return Times.of([stopwatch.seconds(begin, done) for begin, done in pairs])

    def item(issue: Issue) -> Item:
        # answered after `at` (a past day's report): it was still waiting then
        unanswered = issue.first_response_at is None or issue.first_response_at > moment
        return Item.of(issue, stopwatch.seconds(issue.opened_at, moment) if unanswered else None)

    with store.atomic():  # one snapshot: lists and counts agree while the poller writes
        return Report(
            day=day, timezone=tz,
            period_start=datetime.combine(first, time(0), tzinfo=tz),
            period_end=datetime.combine(day, time(0), tzinfo=tz),
            at=moment,
            opened=len(store.opened_times(start, end, channel)),
            closed=tuple(Item.of(i) for i in store.closed_between(start, end, channel)),
            open=tuple(item(i) for i in store.open_at(moment, channel)),
            trend_start=trend_start, trend=opened_per_day(store, trend_start, TREND_DAYS, tz, channel),
            office_hours=stopwatch.office_hours,
            first_response=times(store.responded_between(start, end, channel)),
            resolution=times(store.resolved_between(start, end, channel)),
            week_first_response=times(store.responded_between(week_start, moment, channel)),
            week_resolution=times(store.resolved_between(week_start, moment, channel)),
        )


def opened_per_day(store: Store, first: date, n: int, tz: ZoneInfo, channel: str | None = None) -> tuple[int, ...]:
    """Issues opened on each of `n` local days from `first`: one query, bucketed by
    the days' UTC boundaries (which differ by 23 or 25 hours across a DST change)."""
    bounds = [local_midnight(first + timedelta(days=i), tz) for i in range(n + 1)]
    counts = [0] * n
    for opened_at in store.opened_times(bounds[0], bounds[-1], channel):
        counts[bisect.bisect_right(bounds, naive_utc(opened_at)) - 1] += 1
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
    return span((naive_utc(at) - naive_utc(since)).total_seconds())


def span(seconds: float, exact: bool = False) -> str:
    """Seconds as '3d 4h', '5h' or '12m' (never negative); with `exact`, under a
    minute as '40s' and hours with their minutes ('2h 5m')."""
    if exact and seconds < 60:
        return f"{max(0, int(seconds))}s"
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if exact and hours and mins:
        return f"{hours}h {mins}m"
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
    end = report.period_end
    lines = [
        f"{head} _{note}_" if note else head,
        f"{period(report)} ({report.timezone.key}): "
        f"{report.opened} opened, {report.closed_count} closed. {len(report.open)} open.",
        f"Opened per day, {_day(report.trend_start)} – {_day(end.date() - timedelta(days=1))}: "
        f"`{sparkline(report.trend)}` (max {max(report.trend, default=0)})",
        "",
    ]
    lines[3:3] = response_lines(report)
    if report.open:
        lines.append(f"*Open ({len(report.open)})*")
        lines += _items(report.open, links, lambda i: f" · open {age(i.opened_at, report.at)}" + (
            f" · *no first response* for {span(i.waiting)}{' of office hours' if report.office_hours else ''}"
            if i.waiting is not None else ""))
    else:
        lines.append("No open issues.")
    if report.closed:
        lines += ["", f"*Closed ({report.closed_count})*"]
        lines += _items(report.closed, links, lambda i: "")
    return "\n".join(lines)


def period(report: Report) -> str:
    """The whole days the report counts: from the previous report day up to the day
    before the report's ("Fri 1 Mar – Sun 3 Mar"; one day: "Fri 1 Mar")."""
    first, last = report.period_start.date(), report.period_end.date() - timedelta(days=1)
    return _day(first) if last <= first else f"{_day(first)} – {_day(last)}"


def response_lines(report: Report) -> list[str]:
    """Median and 90th percentile of the time to a first answer and to a close, for the
    period and the last TREND_DAYS days."""
    clock = "office hours" if report.office_hours else "wall-clock time"

    def figures(times: Times) -> str:
        if times.median is None:
            return "none"
        return f"median {span(times.median, exact=True)}, 90% within {span(times.p90, exact=True)} ({times.count})"

    return [
        f"Time to first response ({clock}): {period(report)} "
        f"{figures(report.first_response)}; last {TREND_DAYS} days {figures(report.week_first_response)}",
        f"Time to resolution ({clock}): {period(report)} "
        f"{figures(report.resolution)}; last {TREND_DAYS} days {figures(report.week_resolution)}",
    ]


def report_json(report: Report, links: Links) -> dict[str, Any]:
    """The report for machines (`zsc report --json`); a figure is None (null) when
    there is nothing to measure. Durations in seconds, counted as `clock` says."""
    def item(i: Item) -> dict[str, Any]:
        return {"ticket_id": i.ticket_id, "subject": i.subject, "thread": links.thread(i),
                "opened_at": as_utc(i.opened_at).isoformat(),
                "waiting_for_first_response_seconds": i.waiting}

    return {
        "date": report.day.isoformat(),
        "timezone": report.timezone.key,
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "clock": "office_hours" if report.office_hours else "wall_clock",
        "opened": report.opened,
        "closed": report.closed_count,
        "open": [item(i) for i in report.open],
        "first_response_seconds": report.first_response.as_json(),
        "resolution_seconds": report.resolution.as_json(),
        "last_7_days": {
            "first_response_seconds": report.week_first_response.as_json(),
            "resolution_seconds": report.week_resolution.as_json(),
        },
    }


def _items(items: tuple[Item, ...], links: Links, tail: Callable[[Item], str]) -> list[str]:
    out = []
    for item in items[:LIST_LIMIT]:
        subject = zendesk_to_slack(truncate(" ".join(item.subject.split()), SUBJECT_WIDTH)) or "(no subject)"
        ticket = f"<{links.ticket_url(item.ticket_id)}|#{item.ticket_id}>" if item.ticket_id else "no ticket yet"
        out.append(f"• {subject} · <{links.thread(item)}|thread> · {ticket}{tail(item)}")
    if len(items) > LIST_LIMIT:
        out.append(f"…and {len(items) - LIST_LIMIT} more")
    return out
