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

from datetime import datetime, timezone


def is_out_of_hours(moment_utc: datetime, hours) -> bool:
    """True when `moment_utc` (naive UTC, as zsc stores times, or aware) falls outside
    office hours, so a new issue should get hours.message."""
    if hours.start is None or hours.end is None or not hours.message:
        return False
    return not _in_hours(_local(moment_utc, hours.timezone), hours)


def _local(moment: datetime, tz) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz)


def _in_hours(local: datetime, hours) -> bool:
    clock, day = local.time(), local.weekday()  # naive wall-clock time
    if hours.start < hours.end:
        return day in hours.days and hours.start <= clock < hours.end
    # Overnight: the evening part belongs to today's shift, the early morning to yesterday's.
    return (day in hours.days and clock >= hours.start) or ((day - 1) % 7 in hours.days and clock < hours.end)
