"""When the daily report is due: report days and times in [report] timezone, turned
into UTC with zoneinfo (a DST day is 23 or 25 hours long). Apart from zsc.report so
that `zsc status`, which shows the next report time, need not load the report's
formatting."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


def as_utc(moment: datetime) -> datetime:
    """Accept naive UTC (what the store holds) or aware datetimes."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def naive_utc(moment: datetime) -> datetime:
    return as_utc(moment).replace(tzinfo=None)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Start of `day` in `tz`, as naive UTC for store queries."""
    return naive_utc(datetime.combine(day, time(0), tzinfo=tz))


def due_time(report_config, day: date) -> datetime:
    """When `day`'s report is due, aware UTC. A time inside a DST gap resolves with
    the offset before the change (fold=0): 01:30 on a spring-forward day is 02:30."""
    return as_utc(datetime.combine(day, report_config.time, tzinfo=report_config.timezone))


def local_today(report_config, now_utc: datetime) -> date:
    return as_utc(now_utc).astimezone(report_config.timezone).date()


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
    now = as_utc(now_utc)
    today = local_today(report, now)
    for ahead in range(8):
        day = today + timedelta(days=ahead)
        if day.weekday() in report.days and due_time(report, day) >= now:
            return due_time(report, day)
    return None


def as_of(config, now_utc: datetime, day: date | None = None) -> tuple[date | None, datetime]:
    """What `zsc report [--date DAY]` reports on: today as of now, or a past day as it
    stood at its report time. (None, now) if DAY is still to come."""
    now = as_utc(now_utc)
    today = local_today(config.report, now)
    if day is None or day == today:
        return today, now
    if day > today:
        return None, now
    return day, due_time(config.report, day)
