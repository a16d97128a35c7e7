"""Posting the daily report (zsc.report computes and renders it), exactly once per
day: a ReportRun row keyed by the local date is written in the transaction that
records the post, and a post whose answer was lost is found again in the channel by
its metadata. The daemon asks `maybe_post_report` every tick whether today's report
is due: asking rather than firing at a wall-clock time gives catch-up after downtime
(same day only) and survives restarts for free."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from loguru import logger

from zsc.errors import NotFound
from zsc.report import (Links, Report, Stopwatch, compute_report, due_time, late_note, local_today, render_report,
                        report_json)
from zsc.report_times import as_utc
from zsc.sync import keys
from zsc.sync.context import SyncContext
from zsc.sync.effects import top_post_once

LATE_GRACE = timedelta(minutes=2)  # started this long after report time -> "late"


class Posted(NamedTuple):
    day: date
    slack_ts: str | None
    new: bool  # False: this day's report had already been posted


def report_channel(config) -> str:
    """Where the report of all channels goes ("" when neither [report] channel nor
    [slack] channel is set: then only the channels with report = true get theirs)."""
    return config.report.channel or config.slack.channel


def own_report_channels(config) -> list[str]:
    """Channels ([[channels]] report = true) that get their own report of their issues."""
    return [c.id for c in config.channel_list if c.report]


def stopwatch(config) -> Stopwatch:
    """Durations in office time when [hours] is set, else wall-clock time."""
    from zsc.sync.hours import counts_office_hours, elapsed_seconds

    hours = config.hours
    return Stopwatch(lambda start, end: elapsed_seconds(start, end, hours), counts_office_hours(hours))


def compute(ctx: SyncContext, day: date, at: datetime | None = None, channel: str | None = None) -> Report:
    return compute_report(ctx.store, day, ctx.config, at, stopwatch(ctx.config), channel)


def report_text(ctx: SyncContext, day: date, at: datetime | None = None, late: bool = False,
                channel: str | None = None) -> str:
    return render_report(compute(ctx, day, at, channel), Links.of(ctx), late_note(ctx.config.report) if late else "")


def report_data(ctx: SyncContext, day: date, at: datetime | None = None) -> dict:
    """`zsc report --json`: the same figures for machines."""
    return report_json(compute(ctx, day, at), Links.of(ctx))


def post_report(ctx: SyncContext, day: date, late: bool = False, at: datetime | None = None) -> Posted:
    """Post `day`'s report unless it already was. Intent -> post (tagged with the
    ref in its metadata) -> ReportRun row and intent removal in one transaction."""
    key = day.isoformat()
    done = ctx.store.report_run(key)
    if done is not None:
        return Posted(day, done.slack_ts, False)
    channel = report_channel(ctx.config)
    ref = f"report:{key}"
    text = report_text(ctx, day, at, late)
    try:
        ts = top_post_once(ctx, channel, text, ref, key=keys.post_key(ref), kind="report",
                           payload={"ref": ref, "channel": channel},
                           record=lambda ts: ctx.store.record_report(key, ts, late))
    except NotFound as exc:
        if channel == ctx.config.slack.channel or getattr(exc, "reason", None) is None:
            raise
        # The channel is [report] channel's: the fix is there, not in [slack] channel.
        from zsc.adapters.slack import channel_problem

        raise channel_problem(exc.method, exc.reason, channel, setting="[report] channel") from None
    logger.bind(channel=channel, ts=ts).info("daily report for {} posted{}", key, " (late)" if late else "")
    return Posted(day, ts, True)


def maybe_post_report(ctx: SyncContext, now_utc: datetime, up_since: datetime | None = None) -> bool:
    """Post today's report if it is due: today (in [report] timezone) is a report
    day, its time has come, and it was not posted yet. `up_since` is when the daemon
    started; a report due before then is marked late (default: late if more than
    LATE_GRACE has passed since it was due). True if this call posted it."""
    report = ctx.config.report
    now = as_utc(now_utc)
    day = local_today(report, now)
    if not report.enabled or day.weekday() not in report.days:
        return False
    due = due_time(report, day)
    if now < due:
        return False
    late = as_utc(up_since or now) - due > LATE_GRACE
    posted = False
    for channel in own_report_channels(ctx.config):  # each is its own effect: one failing does not stop the others
        posted |= post_channel_report(ctx, channel, day, late, now)
    if not report_channel(ctx.config) or ctx.store.report_run(day.isoformat()) is not None:
        return posted
    return post_report(ctx, day, late=late, at=now).new or posted


def post_channel_report(ctx: SyncContext, channel: str, day: date, late: bool, at: datetime) -> bool:
    """`channel`'s own report of its issues, once per day (recorded as a checkpoint);
    True if this call posted it."""
    key = day.isoformat()
    if ctx.store.channel_report_ts(channel, key) is not None:
        return False
    ref = f"report:{channel}:{key}"
    text = report_text(ctx, day, at, late, channel=channel)
    ts = top_post_once(ctx, channel, text, ref, key=keys.post_key(ref), kind="report",
                       payload={"ref": ref, "channel": channel},
                       record=lambda ts: ctx.store.record_channel_report(channel, key, ts))
    logger.bind(channel=channel, ts=ts).info("daily report of {} for {} posted{}", channel, key,
                                             " (late)" if late else "")
    return True
