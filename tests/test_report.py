"""zsc.report: the report's content from store rows (periods, DST, trend) and its
rendering, on SQLite and Postgres. Posting is covered in tests/flow/test_report.py."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta, timezone

import pytest

from zsc import store as st
from zsc.config import parse_config
from zsc.report import (
    Links,
    Stopwatch,
    Times,
    age,
    as_of,
    compute_report,
    next_report_time,
    previous_report_day,
    render_report,
    sparkline,
)

MINIMAL = """\
[slack]
channel = "CSUPPORT"

[zendesk]
subdomain = "acme"
email = "agent@acme.test"
agent_user_id = 11
group_id = 22
"""

LINKS = Links("https://acme.slack.com/", lambda ticket_id: f"https://acme.zendesk.com/agent/tickets/{ticket_id}")


def config(report: str = "", tmp_path=None):
    data = tomllib.loads(MINIMAL + "\n[report]\n" + report)
    return parse_config(data, env={"STATE_DIRECTORY": "/nonexistent/zsc"}, require_secrets=False)


@pytest.fixture
def store(store_url):
    s = st.Store(store_url)
    yield s
    s.close()


_seq = iter(range(1, 1_000_000))


def issue(opened: str, closed: str | None = None, subject: str = "help", ticket: int | None = None) -> st.Issue:
    """An issue opened (and maybe closed) at naive-UTC ISO times."""
    n = next(_seq)
    return st.Issue.create(
        channel="CSUPPORT", thread_ts=f"1700000000.{n:06d}", ticket_id=ticket if ticket is not None else n,
        origin="slack", subject=subject, status="solved" if closed else "open",
        opened_at=datetime.fromisoformat(opened), closed_at=datetime.fromisoformat(closed) if closed else None,
    )


def subjects(items) -> list[str]:
    return [i.subject for i in items]


# ---------------------------------------------------------------- periods


def test_monday_covers_friday_to_sunday(store):
    cfg = config('days = "mon-fri"\ntimezone = "UTC"')
    issue("2024-02-26 10:00", "2024-02-29 23:59:59", subject="closed thursday")
    issue("2024-02-27 10:00", "2024-03-01 00:00", subject="closed friday midnight")
    issue("2024-02-28 10:00", "2024-03-02 12:00", subject="closed saturday")
    issue("2024-03-01 09:00", "2024-03-03 23:59:59", subject="closed sunday")
    issue("2024-03-02 09:00", "2024-03-04 00:00", subject="closed monday")
    issue("2024-03-03 09:00", subject="opened sunday, still open")

    r = compute_report(store, date(2024, 3, 4), cfg)

    assert (r.period_start.date(), r.period_end.date()) == (date(2024, 3, 1), date(2024, 3, 4))
    assert subjects(r.closed) == ["closed friday midnight", "closed saturday", "closed sunday"]
    assert r.opened == 3  # Fri 09:00, Sat 09:00, Sun 09:00
    # As of Monday's report time (09:00): the one closed at Monday 00:00 is gone.
    assert subjects(r.open) == ["opened sunday, still open"]


def test_tuesday_covers_monday_only(store):
    cfg = config('days = "mon-fri"')
    issue("2024-03-03 09:00", "2024-03-03 12:00", subject="sunday")
    issue("2024-03-04 09:00", "2024-03-04 12:00", subject="monday")

    r = compute_report(store, date(2024, 3, 5), cfg)

    assert r.period_start.date() == date(2024, 3, 4)
    assert subjects(r.closed) == ["monday"] and r.opened == 1


@pytest.mark.parametrize("days, day, previous", [
    (frozenset(range(5)), date(2024, 3, 4), date(2024, 3, 1)),  # mon-fri, Monday -> Friday
    (frozenset(range(5)), date(2024, 3, 3), date(2024, 3, 1)),  # asked on a Sunday -> Friday
    (frozenset({0}), date(2024, 3, 4), date(2024, 2, 26)),  # weekly -> a week back
    (frozenset(range(7)), date(2024, 3, 4), date(2024, 3, 3)),  # daily -> yesterday
])
def test_previous_report_day(days, day, previous):
    assert previous_report_day(days, day) == previous


# Europe/London: clocks go forward at 01:00 UTC on Sun 31 Mar 2024 (a 23-hour day)
# and back at 01:00 UTC on Sun 27 Oct 2024 (a 25-hour day).
@pytest.mark.parametrize("report_day, before, first, last, after, hours", [
    (date(2024, 4, 1), "2024-03-30 23:59", "2024-03-31 00:00", "2024-03-31 22:59", "2024-03-31 23:00", 23),
    (date(2024, 10, 28), "2024-10-26 22:59", "2024-10-26 23:00", "2024-10-27 23:59", "2024-10-28 00:00", 25),
])
def test_dst_change_day_counts_by_local_midnight(store, report_day, before, first, last, after, hours):
    cfg = config('days = "mon-sun"\ntimezone = "Europe/London"')
    for when, name in ((before, "saturday 23:59"), (first, "sunday 00:00"), (last, "sunday 23:59"),
                       (after, "monday 00:00")):
        issue(when, when, subject=name)

    r = compute_report(store, report_day, cfg)

    # (Aware datetimes in one zone subtract as wall clocks: compare in UTC.)
    assert r.period_end.astimezone(timezone.utc) - r.period_start.astimezone(timezone.utc) == timedelta(hours=hours)
    assert subjects(r.closed) == ["sunday 00:00", "sunday 23:59"]
    assert r.opened == 2
    # The trend's last bucket is that same Sunday, its second to last the Saturday.
    assert r.trend[-2:] == (1, 2)


def test_open_list_is_as_of_the_given_moment(store):
    cfg = config('timezone = "UTC"')
    issue("2024-03-01 09:00", "2024-03-04 10:00", subject="closed after report time")
    issue("2024-03-04 09:30", subject="opened after report time")
    issue("2024-03-04 08:00", "2024-03-04 08:30", subject="closed before report time")

    at_nine = compute_report(store, date(2024, 3, 4), cfg)
    at_noon = compute_report(store, date(2024, 3, 4), cfg, at=datetime(2024, 3, 4, 12, 0))

    assert subjects(at_nine.open) == ["closed after report time"]
    assert subjects(at_noon.open) == ["opened after report time"]


def test_an_issue_marked_done_without_close_time_is_not_open(store):
    st.Issue.create(channel="CSUPPORT", thread_ts="1.000001", origin="slack", status="closed",
                    opened_at=datetime(2024, 3, 1))
    assert compute_report(store, date(2024, 3, 4), config()).open == ()


def test_zero_issues_is_a_short_report(store):
    r = compute_report(store, date(2024, 3, 4), config('timezone = "UTC"'))
    text = render_report(r, LINKS)

    assert (r.opened, r.closed, r.open, r.trend) == (0, (), (), (0,) * 7)
    assert text.splitlines() == [
        "*Support report for Mon 4 Mar 2024*",
        "Fri 1 Mar – Sun 3 Mar (UTC): 0 opened, 0 closed. 0 open.",
        "Opened per day, Mon 26 Feb – Sun 3 Mar: `▁▁▁▁▁▁▁` (max 0)",
        "Time to first response (wall-clock time): Fri 1 Mar – Sun 3 Mar none; last 7 days none",
        "Time to resolution (wall-clock time): Fri 1 Mar – Sun 3 Mar none; last 7 days none",
        "",
        "No open issues.",
    ]


# ---------------------------------------------------------------- trend


@pytest.mark.parametrize("counts, line", [
    ([0, 0, 0, 0, 0, 0, 0], "▁▁▁▁▁▁▁"),
    ([0, 2, 5, 1, 0, 0, 2], "▁▄█▂▁▁▄"),
    ([0, 1, 2, 3, 4, 5, 6, 7], "▁▂▃▄▅▆▇█"),
    ([1, 100, 0], "▂█▁"),  # a busy day does not flatten a quiet non-zero one into "none"
])
def test_sparkline_scales_to_the_busiest_day(counts, line):
    assert sparkline(counts) == line


def test_trend_counts_the_seven_days_before_the_report(store):
    cfg = config('timezone = "America/New_York"')
    # Local (EST, UTC-5) days Mon 26 Feb .. Sun 3 Mar; the report is for Mon 4 Mar.
    issue("2024-02-26 04:59")  # Sun 25 Feb 23:59 local: before the window
    issue("2024-02-26 05:00")  # Mon 26 Feb 00:00 local
    for hour in range(3):
        issue(f"2024-02-28 1{hour}:00")  # Wednesday x3
    issue("2024-03-04 04:59")  # Sun 3 Mar 23:59 local
    issue("2024-03-04 05:00")  # Mon 4 Mar: today, not in the trend

    r = compute_report(store, date(2024, 3, 4), cfg)

    assert r.trend_start == date(2024, 2, 26)
    assert r.trend == (1, 0, 3, 0, 0, 0, 1)
    assert "Opened per day, Mon 26 Feb – Sun 3 Mar: `▃▁█▁▁▁▃` (max 3)" in render_report(r, LINKS)


# ---------------------------------------------------------------- rendering


@pytest.mark.parametrize("opened, at, text", [
    ("2024-03-01 05:00", "2024-03-04 09:00", "3d 4h"),
    ("2024-03-04 04:00", "2024-03-04 09:00", "5h"),
    ("2024-03-04 08:48", "2024-03-04 09:00", "12m"),
    ("2024-03-04 09:30", "2024-03-04 09:00", "0m"),
])
def test_age(opened, at, text):
    assert age(datetime.fromisoformat(opened), datetime.fromisoformat(at)) == text


def test_render_lists_open_and_closed_with_links_and_ages(store):
    cfg = config('timezone = "UTC"')
    issue("2024-03-01 05:00", subject="Printer on fire", ticket=12)
    issue("2024-03-01 06:00", "2024-03-02 10:00", subject="VPN down", ticket=10)

    text = render_report(compute_report(store, date(2024, 3, 4), cfg), LINKS, note="(late: zsc was not running at 09:00)")

    assert text.splitlines()[0] == "*Support report for Mon 4 Mar 2024* _(late: zsc was not running at 09:00)_"
    assert "Fri 1 Mar – Sun 3 Mar (UTC): 2 opened, 1 closed. 1 open." in text
    open_line = text.split("*Open (1)*\n")[1].splitlines()[0]
    assert open_line.startswith("• Printer on fire · <https://acme.slack.com/archives/CSUPPORT/p1700000000")
    assert open_line.endswith("|thread> · <https://acme.zendesk.com/agent/tickets/12|#12> · open 3d 4h"
                              " · *no first response* for 3d 4h")
    closed = text.split("*Closed (1)*\n")[1]
    assert closed.startswith("• VPN down · <https://acme.slack.com/archives/CSUPPORT/p1700000000")
    assert closed.endswith("<https://acme.zendesk.com/agent/tickets/10|#10>")


def test_render_cannot_ping_and_caps_long_lists(store):
    cfg = config('timezone = "UTC"')
    issue("2024-03-01 05:00", subject="<!channel> @here help", ticket=1)
    for n in range(40):
        issue("2024-03-02 05:00", subject=f"issue {n}", ticket=100 + n)
    st.Issue.create(channel="CSUPPORT", thread_ts="1.000001", origin="email", subject="no ticket",
                    opened_at=datetime(2024, 3, 3))

    text = render_report(compute_report(store, date(2024, 3, 4), cfg), LINKS)

    assert "<!channel>" not in text and "@here" not in text
    assert "• &lt;!\u200bchannel&gt; @\u200bhere help · " in text  # reads the same, pings nobody
    assert "*Open (42)*" in text and text.count("\n• ") == 30
    assert text.endswith("…and 12 more")


def test_render_marks_an_issue_without_ticket(store):
    st.Issue.create(channel="CSUPPORT", thread_ts="1.000001", origin="email", subject="no ticket",
                    opened_at=datetime(2024, 3, 3))
    text = render_report(compute_report(store, date(2024, 3, 4), config()), LINKS)
    assert "• no ticket · <https://acme.slack.com/archives/CSUPPORT/p1000001|thread> · no ticket yet · open 1d 9h" in text


# ---------------------------------------------------------------- schedule


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("now, expected", [
    (utc(2024, 3, 1, 8, 0), utc(2024, 3, 1, 9, 0)),  # Friday before report time: today
    (utc(2024, 3, 1, 9, 0), utc(2024, 3, 1, 9, 0)),  # exactly at it
    (utc(2024, 3, 1, 9, 1), utc(2024, 3, 4, 9, 0)),  # Friday after: Monday
    (utc(2024, 3, 29, 12, 0), utc(2024, 4, 1, 8, 0)),  # over the spring change: 09:00 BST = 08:00 UTC
])
def test_next_report_time(now, expected):
    cfg = config('time = "09:00"\ndays = "mon-fri"\ntimezone = "Europe/London"')
    assert next_report_time(cfg, now) == expected
    assert next_report_time(cfg, now.replace(tzinfo=None)) == expected  # naive UTC is accepted


def test_a_report_time_in_the_dst_gap_comes_an_hour_later_by_the_clock():
    cfg = config('time = "01:30"\ndays = "mon-sun"\ntimezone = "Europe/London"')
    # 01:30 does not exist on Sun 31 Mar 2024 in London (01:00 GMT -> 02:00 BST).
    assert next_report_time(cfg, utc(2024, 3, 31, 0, 0)) == utc(2024, 3, 31, 1, 30)  # = 02:30 BST
    assert next_report_time(cfg, utc(2024, 4, 1, 0, 0)) == utc(2024, 4, 1, 0, 30)  # = 01:30 BST


def test_no_next_report_time_when_disabled():
    assert next_report_time(config("enabled = false"), utc(2024, 3, 1)) is None


def test_as_of_today_is_now_and_a_past_day_its_report_time():
    cfg = config('time = "09:30"\ntimezone = "Europe/Berlin"')
    now = utc(2024, 3, 4, 23, 30)  # already Tuesday 00:30 in Berlin
    assert as_of(cfg, now) == (date(2024, 3, 5), now)
    assert as_of(cfg, now, date(2024, 3, 5)) == (date(2024, 3, 5), now)
    assert as_of(cfg, now, date(2024, 3, 1)) == (date(2024, 3, 1), utc(2024, 3, 1, 8, 30))
    assert as_of(cfg, now, date(2024, 3, 6))[0] is None


# ---------------------------------------------------------------- response times


def test_median_and_90th_percentile():
    assert Times.of([]) == Times(0, None, None)
    assert Times.of([5.0]) == Times(1, 5.0, 5.0)
    figures = Times.of([float(n) for n in range(10, 0, -1)])
    assert (figures.count, figures.median, figures.p90) == (10, 5.5, 9.0)


def test_office_hours_are_named_and_waiting_is_marked(store):
    cfg = config('timezone = "UTC"')
    waiting = issue("2024-03-03 09:00", subject="still waiting", ticket=1)
    answered = issue("2024-03-01 09:00", "2024-03-01 12:00", subject="answered", ticket=2)
    st.Issue.update(first_response_at=datetime(2024, 3, 1, 10, 0)).where(st.Issue.id == answered.id).execute()
    halves = Stopwatch(lambda start, end: (end - start).total_seconds() / 2, office_hours=True)

    r = compute_report(store, date(2024, 3, 4), cfg, stopwatch=halves)
    text = render_report(r, LINKS)

    assert r.first_response.median == 1800 and r.resolution.median == 5400
    assert [i.waiting for i in r.open] == [24 * 3600 / 2]  # asked Sunday 09:00, report Monday 09:00
    assert "Time to first response (office hours): Fri 1 Mar – Sun 3 Mar median 30m, 90% within 30m (1)" in text
    assert "Time to resolution (office hours): Fri 1 Mar – Sun 3 Mar median 1h 30m" in text
    assert "still waiting" in text and "*no first response* for 12h of office hours" in text
    assert waiting.first_response_at is None
