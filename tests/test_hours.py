"""Office hours: local wall-clock windows, evaluated from UTC moments."""

from datetime import datetime, timezone

import pytest

from zsc.config import parse_config
from zsc.sync.hours import is_out_of_hours

MESSAGE = "We are out of the office; we will answer when we are back."


def hours(**values):
    """An [hours] section parsed exactly as zsc parses the config file."""
    table = {"start": "09:00", "end": "17:00", "days": "mon-fri", "timezone": "Europe/London", "message": MESSAGE}
    table.update(values)
    data = {"slack": {"channel": "C0123ABCD"}, "zendesk": {"subdomain": "acme", "agent_user_id": 1, "group_id": 2},
            "hours": {k: v for k, v in table.items() if v is not None}}
    return parse_config(data, env={"STATE_DIRECTORY": "/nonexistent/zsc-test"}, require_secrets=False).hours


def utc(text: str) -> datetime:
    """Naive UTC, as zsc stores times."""
    return datetime.fromisoformat(text)


# 2024-06-12 is a Wednesday; London is on BST (UTC+1), so local = UTC + 1 hour.
@pytest.mark.parametrize("moment, out", [
    ("2024-06-12 07:59", True),   # 08:59 local
    ("2024-06-12 08:00", False),  # 09:00 local: start is inclusive
    ("2024-06-12 15:59", False),  # 16:59 local
    ("2024-06-12 16:00", True),   # 17:00 local: end is exclusive
    ("2024-06-12 09:00", False),  # 10:00 local
    ("2024-06-12 23:30", True),   # Thursday 00:30 local
])
def test_boundaries_are_local_time_start_inclusive_end_exclusive(moment, out):
    assert is_out_of_hours(utc(moment), hours()) is out


@pytest.mark.parametrize("moment, out", [
    ("2024-06-14 15:00", False),  # Friday 16:00 local
    ("2024-06-15 11:00", True),   # Saturday noon
    ("2024-06-16 11:00", True),   # Sunday noon
    ("2024-06-16 23:30", True),   # Sunday 23:30 UTC is Monday 00:30 local: before opening
    ("2024-06-17 08:00", False),  # Monday 09:00 local
])
def test_weekends_are_out_of_hours(moment, out):
    assert is_out_of_hours(utc(moment), hours()) is out


@pytest.mark.parametrize("days, moment, out", [
    ("mon,wed,fri", "2024-06-11 10:00", True),   # Tuesday
    ("mon,wed,fri", "2024-06-12 10:00", False),  # Wednesday
    ("sat-sun", "2024-06-15 10:00", False),      # a weekend team: Saturday in hours
    ("sat-sun", "2024-06-12 10:00", True),       # and Wednesday out
    ("fri-mon", "2024-06-16 10:00", False),      # a range over the weekend wraps: Sunday is in it
    ("fri-mon", "2024-06-13 10:00", True),       # Thursday is not
])
def test_day_lists_and_ranges(days, moment, out):
    assert is_out_of_hours(utc(moment), hours(days=days)) is out


def test_the_same_utc_time_flips_across_a_dst_change():
    # London moved to BST on Sunday 2024-03-31: 08:30 UTC is 08:30 local on the Friday
    # before and 09:30 local on the Monday after.
    assert is_out_of_hours(utc("2024-03-29 08:30"), hours()) is True
    assert is_out_of_hours(utc("2024-04-01 08:30"), hours()) is False
    # New York (UTC-5 / UTC-4 from 2024-03-10): end 17:00 local is 22:00 then 21:00 UTC.
    new_york = hours(timezone="America/New_York")
    assert is_out_of_hours(utc("2024-03-08 21:30"), new_york) is False  # Friday 16:30 EST
    assert is_out_of_hours(utc("2024-03-11 21:30"), new_york) is True  # Monday 17:30 EDT


def test_utc_hours_and_aware_moments():
    plain = hours(timezone="UTC")
    assert is_out_of_hours(utc("2024-06-12 08:59"), plain) is True
    assert is_out_of_hours(utc("2024-06-12 09:00"), plain) is False
    # An aware moment is converted, not read as UTC wall time.
    aware = datetime(2024, 6, 12, 8, 30, tzinfo=timezone.utc)
    assert is_out_of_hours(aware, hours()) is False  # 09:30 in London


@pytest.mark.parametrize("moment, out", [
    ("2024-06-12 21:00", False),  # Wednesday 22:00 local: the shift starts (inclusive)
    ("2024-06-12 20:59", True),   # Wednesday 21:59 local
    ("2024-06-13 04:59", False),  # Thursday 05:59 local, Wednesday's shift
    ("2024-06-13 05:00", True),   # Thursday 06:00 local: end is exclusive
    ("2024-06-13 11:00", True),   # midday
    ("2024-06-14 23:00", False),  # Saturday 00:00 local: Friday's shift runs into Saturday
    ("2024-06-15 04:00", False),  # Saturday 05:00 local
    ("2024-06-15 21:30", True),   # Saturday 22:30 local: no shift starts on Saturday
    ("2024-06-17 03:00", True),   # Monday 04:00 local: belongs to Sunday, which has no shift
    ("2024-06-17 21:30", False),  # Monday 22:30 local
])
def test_overnight_window_belongs_to_the_day_it_starts(moment, out):
    night = hours(start="22:00", end="06:00")
    assert is_out_of_hours(utc(moment), night) is out


@pytest.mark.parametrize("moment", ["2024-06-15 11:00", "2024-06-12 02:00", "2024-06-12 12:00"])
def test_unset_hours_are_never_out_of_hours(moment):
    off = hours(start=None, end=None, message=None)
    assert off.start is None
    assert is_out_of_hours(utc(moment), off) is False


# ---------------------------------------------------------------- counting office time


@pytest.mark.parametrize("start, end, expected_hours", [
    # Berlin, 09:00-17:00 Mon-Fri. Friday 29 March 2024 is CET (UTC+1); the clocks go
    # forward on Sunday the 31st, so Monday 1 April is CEST (UTC+2).
    ("2024-03-29 15:00", "2024-04-01 08:00", 2),    # Fri 16:00 CET -> Mon 10:00 CEST: 1h + 1h, no weekend
    ("2024-03-29 07:00", "2024-03-29 17:00", 8),    # Fri 08:00 -> 18:00 local: the whole day
    ("2024-03-30 09:00", "2024-03-31 18:00", 0),    # all weekend
    ("2024-03-28 16:30", "2024-03-28 16:00", 0),    # backwards: nothing
    ("2024-03-25 07:00", "2024-04-01 16:00", 6 * 8),  # a working week, then Mon until 18:00 CEST
])
def test_office_seconds_across_a_weekend_and_dst_in_berlin(start, end, expected_hours):
    from zsc.sync.hours import office_seconds

    berlin = hours(timezone="Europe/Berlin")
    assert office_seconds(utc(start), utc(end), berlin) == expected_hours * 3600


def test_overnight_shift_is_counted_in_local_hours_across_the_dst_change():
    from zsc.sync.hours import office_seconds

    # 22:00-06:00 starting Saturdays only, London; on 30-31 March 2024 the clocks skip 01:00-02:00.
    night = hours(start="22:00", end="06:00", days="sat")
    assert office_seconds(utc("2024-03-30 12:00"), utc("2024-03-31 12:00"), night) == 7 * 3600


def test_elapsed_is_wall_clock_without_office_hours():
    from zsc.sync.hours import elapsed_seconds

    off = hours(start=None, end=None, message=None)
    assert elapsed_seconds(utc("2024-03-29 15:00"), utc("2024-04-01 08:00"), off) == 65 * 3600
    assert elapsed_seconds(utc("2024-03-29 15:00"), utc("2024-04-01 08:00"), hours(timezone="Europe/Berlin")) == 2 * 3600
