"""The daily report end to end against the simulated Slack: `zsc report`, and the
daemon's job posting it exactly once per report day, late after downtime, never
for a day that passed while zsc was down, and never twice across a lost answer or
a restart. Clocks are frozen; `move_to` stands in for waiting."""

from __future__ import annotations

from datetime import datetime

import pytest
from freezegun import freeze_time

from tests.flow.world import CHANNEL
from zsc import store as st
from zsc.config import load_config
from zsc.daemon import Daemon, ReportJob
from zsc.errors import Ambiguous
from zsc.store import models as stm
from zsc.sync import build_engine
from zsc.sync.daily_report import maybe_post_report

MONDAY_0859 = "2024-03-04 08:59:30"  # UTC; the flow config's [report] timezone is UTC
LATE = "(late: zsc was not running at 09:00)"


def reports(world) -> list[dict]:
    """Report messages in the channel, oldest first."""
    return [m for m in world.sim.slack.messages(CHANNEL)
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("ref", "").startswith("report:")]


def report_runs(world) -> list[tuple[str, bool, str]]:
    with st.opened(f"sqlite:///{world.tmp}/zsc.db"):
        return [(r.day, r.late, r.slack_ts) for r in stm.ReportRun.select().order_by(stm.ReportRun.day)]


def context(world):
    return build_engine(load_config(world.config_path)).ctx


@pytest.fixture
def ctx(world):
    c = context(world)
    yield c
    c.store.close()


def now() -> datetime:
    return st.utcnow()


# ---------------------------------------------------------------- zsc report


def test_dry_run_prints_the_report_and_posts_nothing(world):
    with freeze_time("2024-03-04 10:00:00") as clock:
        world.sync()
        clock.tick(5)
        world.ask("The printer is on fire")
        clock.tick(5)
        world.sync()
        ticket = world.only_ticket()
        posts = world.sim.slack.calls["chat.postMessage"]

        result = world.zsc("report", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("*Support report for Mon 4 Mar 2024*\n")
    assert "Fri 1 Mar – Sun 3 Mar (UTC): 0 opened, 0 closed. 1 open." in result.stdout
    assert f"• The printer is on fire · <https://sim.slack.com/archives/{CHANNEL}/p" in result.stdout
    assert f"/agent/tickets/{ticket['id']}|#{ticket['id']}> · open 0m" in result.stdout
    assert world.sim.slack.calls["chat.postMessage"] == posts
    assert report_runs(world) == []


def test_report_posts_once_per_day_and_is_not_mirrored_back(world):
    with freeze_time("2024-03-04 10:00:00") as clock:
        world.sync()
        first = world.zsc("report")
        clock.tick(60)
        again = world.zsc("report")
        clock.tick(5)
        world.sync()

    assert first.exit_code == 0 and first.stdout.startswith("posted the report for 2024-03-04 (ts ")
    assert again.exit_code == 0 and "already posted" in again.stdout
    [message] = reports(world)
    assert message["text"].startswith("*Support report for Mon 4 Mar 2024*\n") and "No open issues." in message["text"]
    assert report_runs(world) == [("2024-03-04", False, message["ts"])]
    assert world.tickets() == []  # zsc's own post is not a support request


def test_report_goes_to_the_report_channel_when_set(world):
    world.write_config(extra='[report]\nchannel = "COTHER"\n')
    with freeze_time("2024-03-04 10:00:00"):
        assert world.zsc("report").exit_code == 0
    assert [m["text"].splitlines()[0] for m in world.sim.slack.messages("COTHER")] == [
        "*Support report for Mon 4 Mar 2024*"]
    assert reports(world) == []


def test_date_reports_a_past_day_as_it_stood_then(world, ctx):
    with freeze_time("2024-03-04 10:00:00"):
        st.Issue.create(channel=CHANNEL, thread_ts="1709200000.000100", ticket_id=5, origin="slack",
                        subject="VPN down", opened_at=datetime(2024, 2, 29, 9), closed_at=datetime(2024, 3, 1, 12),
                        status="solved")
        ctx.store.close()
        preview = world.zsc("report", "--dry-run", "--date", "2024-03-01")
        posted = world.zsc("report", "--date", "2024-03-01")

    assert preview.exit_code == 0, preview.output
    lines = preview.stdout.splitlines()
    assert lines[:2] == ["*Support report for Fri 1 Mar 2024*",
                         "Thu 29 Feb (UTC): 1 opened, 0 closed. 1 open."]
    assert "• VPN down · " in preview.stdout and "#5> · open 1d 0h" in preview.stdout  # as of Fri 09:00
    assert posted.exit_code == 0 and posted.stdout.startswith("posted the report for 2024-03-01")
    assert [day for day, _, _ in report_runs(world)] == ["2024-03-01"]


# Every bad command-line value ends with where to read more (zsc.cli.ZscGroup).
@pytest.mark.parametrize("value, message", [
    ("2024-13-01", "zsc: --date '2024-13-01' is not a date; use YYYY-MM-DD, e.g. 2024-03-04 (see zsc report --help)\n"),
    ("yesterday", "zsc: --date 'yesterday' is not a date; use YYYY-MM-DD, e.g. 2024-03-04 (see zsc report --help)\n"),
    ("2024-03-05", "zsc: --date 2024-03-05: that day has not come yet in UTC; use today or a past day "
                   "(see zsc report --help)\n"),
    ("1969-12-31", "zsc: --date 1969-12-31 is before 1970; use a day from 1970-01-01 on (see zsc report --help)\n"),
])
def test_bad_date_is_one_line_and_exit_2(world, value, message):
    with freeze_time("2024-03-04 10:00:00"):
        result = world.zsc("report", "--date", value)
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")
    assert world.sim.slack.calls["chat.postMessage"] == 0


# ---------------------------------------------------------------- the daemon's decision


def test_posted_once_at_report_time_and_not_again_after_a_restart(world, ctx):
    with freeze_time(MONDAY_0859) as clock:
        assert maybe_post_report(ctx, now()) is False  # not yet
        clock.move_to("2024-03-04 09:00:10")
        assert maybe_post_report(ctx, now()) is True
        clock.tick(30)
        assert maybe_post_report(ctx, now()) is False
        ctx.store.close()

        clock.move_to("2024-03-04 09:05:00")
        restarted = context(world)
        assert maybe_post_report(restarted, now(), up_since=now()) is False
        restarted.store.close()

    [message] = reports(world)
    assert LATE not in message["text"]
    assert report_runs(world) == [("2024-03-04", False, message["ts"])]


def test_catch_up_the_same_day_says_it_is_late(world, ctx):
    with freeze_time("2024-03-04 11:30:00"):  # zsc was down at 09:00
        assert maybe_post_report(ctx, now()) is True

    [message] = reports(world)
    assert message["text"].splitlines()[0] == f"*Support report for Mon 4 Mar 2024* _{LATE}_"
    assert report_runs(world)[0][:2] == ("2024-03-04", True)


def test_no_report_on_other_days_nor_for_a_day_missed_entirely(world):
    world.write_config(extra='[report]\ntime = "09:00"\ndays = "mon-fri"\ntimezone = "Europe/London"\n')
    london = context(world)
    with freeze_time("2024-03-09 11:30:00"):  # Saturday
        assert maybe_post_report(london, now()) is False
    with freeze_time("2024-03-12 08:30:00"):  # Tuesday before 09:00; Monday passed while zsc was down
        assert maybe_post_report(london, now()) is False
    london.store.close()
    assert reports(world) == [] and report_runs(world) == []


def test_disabled_report_is_never_posted(world):
    world.write_config(extra="[report]\nenabled = false\n")
    c = context(world)
    with freeze_time("2024-03-04 11:30:00"):
        assert maybe_post_report(c, now()) is False
    c.store.close()
    assert reports(world) == []


def test_a_lost_answer_is_found_again_not_posted_twice(world, ctx):
    with freeze_time("2024-03-04 09:00:10") as clock:
        world.sim.slack.inject("chat.postMessage", "drop")  # posted, but the answer never arrives
        with pytest.raises(Ambiguous):
            maybe_post_report(ctx, now())
        assert len(reports(world)) == 1 and report_runs(world) == []
        ctx.store.close()

        clock.tick(60)
        restarted = context(world)
        assert maybe_post_report(restarted, now()) is True  # recorded from the channel's history
        restarted.store.close()

    [message] = reports(world)
    assert world.sim.slack.calls["chat.postMessage"] == 1  # the dropped one, and no other
    assert report_runs(world) == [("2024-03-04", False, message["ts"])]


# ---------------------------------------------------------------- the daemon's job


def active_daemon(world) -> Daemon:
    """A daemon that took the leader lock and opened its store and jobs, as `zsc run`
    does before its loop (the loop itself is driven by the test)."""
    daemon = Daemon(load_config(world.config_path))
    daemon.become_leader()
    return daemon


def report_job(daemon) -> ReportJob:
    # schedule wraps each job in a functools.partial
    [job] = [j.job_func.func for j in daemon.scheduler.jobs if isinstance(j.job_func.func, ReportJob)]
    return job


def test_daemon_job_posts_at_report_time_and_survives_a_reload(world):
    with freeze_time(MONDAY_0859) as clock:
        daemon = active_daemon(world)
        try:
            daemon.apply(load_config(world.config_path))  # what SIGHUP does: new context and jobs, same store
            clock.move_to("2024-03-04 09:00:30")
            daemon.scheduler.run_pending()
            clock.move_to("2024-03-04 09:01:30")
            daemon.scheduler.run_pending()
        finally:
            daemon.stop()

    [message] = reports(world)
    assert LATE not in message["text"]
    assert report_runs(world) == [("2024-03-04", False, message["ts"])]


def test_daemon_started_after_report_time_posts_late(world):
    with freeze_time("2024-03-04 10:15:00") as clock:
        daemon = active_daemon(world)
        try:
            clock.tick(31)
            daemon.scheduler.run_pending()
        finally:
            daemon.stop()

    [message] = reports(world)
    assert LATE in message["text"]


def test_daemon_job_failure_does_not_stop_the_daemon_and_retries_later(world):
    with freeze_time("2024-03-04 09:00:00") as clock:
        daemon = active_daemon(world)
        try:
            world.sim.slack.inject("chat.postMessage", "500")
            clock.tick(31)
            report_job(daemon)()  # logs the failure, raises nothing
            assert report_runs(world) == []
            clock.tick(60)
            report_job(daemon)()  # still waiting before the retry
            assert world.sim.slack.calls["chat.postMessage"] == 1
            clock.tick(300)
            report_job(daemon)()
        finally:
            daemon.stop()

    # A 500 on a write is an unknown outcome: the retry looked first and, finding
    # nothing (the simulator did not apply it), posted once.
    [message] = reports(world)
    assert world.sim.slack.calls["chat.postMessage"] == 2
    assert report_runs(world) == [("2024-03-04", False, message["ts"])]


def test_dry_run_daemon_only_describes_the_report_once_a_day(world):
    world.write_config(dry_run=True)
    with freeze_time("2024-03-04 09:00:30") as clock:
        daemon = active_daemon(world)
        try:
            job = report_job(daemon)
            job()
            clock.tick(30)
            job()
            lines = [line for line in daemon.engine.ctx.dry_lines if f"post in Slack {CHANNEL} the channel: *Support report" in line]
        finally:
            daemon.stop()

    assert len(lines) == 1
    assert world.sim.slack.calls["chat.postMessage"] == 0 and report_runs(world) == []


def test_a_daemon_that_lost_the_leader_lock_does_not_post(world):
    with freeze_time("2024-03-04 09:00:30"):
        daemon = active_daemon(world)
        try:
            job = report_job(daemon)
            daemon.lock.release()  # as if another zsc had taken over
            job()
        finally:
            daemon.stop()
    assert reports(world) == [] and report_runs(world) == []


def test_configured_dry_run_only_prints(world):
    world.write_config(dry_run=True)
    with freeze_time("2024-03-04 10:00:00"):
        result = world.zsc("report")
    assert result.exit_code == 0 and result.stdout.startswith("*Support report for Mon 4 Mar 2024*")
    assert world.sim.slack.calls["chat.postMessage"] == 0 and report_runs(world) == []
