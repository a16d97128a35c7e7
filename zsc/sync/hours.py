"""Office hours, from the [hours] settings (zsc.config.HoursConfig): pure functions.

Hours are wall-clock times in `timezone` (zoneinfo), so "09:00" stays 09:00 local
across daylight-saving changes. `start` is inclusive and `end` exclusive: with
09:00-17:00, 09:00 is in hours and 17:00 is not.

An overnight window (start later than end, e.g. 22:00-06:00) runs from `start` on a
listed day until `end` the next morning: `days` names the days a shift *starts*.
With days = "mon-fri", Friday 23:00 and Saturday 05:00 are in hours, Monday 05:00
is not (no shift started on Sunday).

Off (never out of hours) while start, end or message is empty.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from zsc.report_times import as_utc


def is_out_of_hours(moment_utc: datetime, hours) -> bool:
    """True when `moment_utc` (naive UTC, as zsc stores times, or aware) falls outside
    office hours, so a new issue should get hours.message."""
    if hours.start is None or hours.end is None or not hours.message:
        return False
    return not _in_hours(_local(moment_utc, hours.timezone), hours)


def in_office_hours(moment_utc: datetime, hours) -> bool:
    """True inside office hours, and always while start and end are not set."""
    if not counts_office_hours(hours):
        return True
    return _in_hours(_local(moment_utc, hours.timezone), hours)


def counts_office_hours(hours) -> bool:
    """Durations (response times, the nudge's wait) count office time while start and
    end are set; the message is not needed for that."""
    return hours.start is not None and hours.end is not None


def elapsed_seconds(start_utc: datetime, end_utc: datetime, hours) -> float:
    """Seconds from `start_utc` to `end_utc` (naive UTC or aware): office seconds when
    office hours are set, wall-clock seconds otherwise. Never negative."""
    if counts_office_hours(hours):
        return office_seconds(start_utc, end_utc, hours)
    return max(0.0, (as_utc(end_utc) - as_utc(start_utc)).total_seconds())


def office_seconds(start_utc: datetime, end_utc: datetime, hours) -> float:
    """The office-hours seconds between two moments. Each shift is built from wall-clock
    times in the configured timezone and only then turned into UTC, so a shift on a
    daylight-saving day is as long as the clocks say (e.g. 01:00-05:00 is 3 hours on
    a spring-forward night), and weekends and days not listed count nothing."""
    start, end = as_utc(start_utc), as_utc(end_utc)
    if end <= start:
        return 0.0
    tz = hours.timezone
    overnight = hours.end <= hours.start
    total = 0.0
    day = start.astimezone(tz).date() - timedelta(days=1)  # yesterday's overnight shift may still run
    last = end.astimezone(tz).date()
    while day <= last:
        if day.weekday() in hours.days:
            shift_start = datetime.combine(day, hours.start, tzinfo=tz).astimezone(timezone.utc)
            shift_end = datetime.combine(day + timedelta(days=1 if overnight else 0), hours.end,
                                         tzinfo=tz).astimezone(timezone.utc)
            overlap = (min(end, shift_end) - max(start, shift_start)).total_seconds()
            total += max(0.0, overlap)
        day += timedelta(days=1)
    return total


def _local(moment: datetime, tz) -> datetime:
    return as_utc(moment).astimezone(tz)


def _in_hours(local: datetime, hours) -> bool:
    clock, day = local.time(), local.weekday()  # naive wall-clock time
    if hours.start < hours.end:
        return day in hours.days and hours.start <= clock < hours.end
    # Overnight: the evening part belongs to today's shift, the early morning to yesterday's.
    return (day in hours.days and clock >= hours.start) or ((day - 1) % 7 in hours.days and clock < hours.end)
