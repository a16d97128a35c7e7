"""The daily report: what was opened and closed since the previous report day, what
is still open, and a week's trend.

Three layers, so each can be tested alone:

* compute_report - pure over the store: day boundaries are local midnights in
  [report] timezone turned into UTC with zoneinfo, so a DST day is 23 or 25 hours
  long and nothing is counted twice or lost at midnight;
* render_report  - Slack mrkdwn from a Report (no I/O);
* post_report / maybe_post_report - the effect, exactly once per day: a ReportRun
  row keyed by the local date is written in the transaction that records the post,
  and a post whose answer was lost is found again in the channel by its metadata.

The daemon needs no cron: a job runs every JOB_SECONDS and asks maybe_post_report
whether today's report is due. Asking rather than firing at a wall-clock time gives
catch-up after downtime (same day only) and survives restarts for free.
"""

from __future__ import annotations

import bisect
import weakref
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, NamedTuple
from zoneinfo import ZoneInfo

from loguru import logger

from zsc.adapters.slack import channel_problem, permalink
from zsc.errors import NotFound, UserError
from zsc.format import truncate, zendesk_to_slack
from zsc.runtime import Stopping
from zsc.sync import keys
from zsc.sync.engine import dry_run_rollback
from zsc.store import DONE_STATUSES, Issue, ReportRun, utcnow
from zsc.sync.effects import ZSC_EVENT, once

UTC = timezone.utc
TREND_DAYS = 7
SPARKS = "▁▂▃▄▅▆▇█"
LIST_LIMIT = 30  # per list; keeps the message far below Slack's 40k characters
SUBJECT_WIDTH = 80
JOB_SECONDS = 30  # how often the daemon asks whether the report is due
LATE_GRACE = timedelta(minutes=2)  # started this long after report time -> "late"
RETRY_AFTER = timedelta(minutes=5)  # after a failed post, before trying again
FIND_SLACK = timedelta(minutes=2)  # clock skew when looking for a lost post


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


def compute_report(store, day: date, config, at: datetime | None = None) -> Report:
    """The report for local date `day` (`store`: the open Store the models are bound
    to). `at` is the moment the open list and ages describe; default: `day`'s report
    time, so the result depends on the store's content alone."""
    report = config.report
    tz = report.timezone
    moment = _naive(at if at is not None else due_time(report, day))
    first = previous_report_day(report.days, day)
    start, end = local_midnight(first, tz), local_midnight(day, tz)
    trend_start = day - timedelta(days=TREND_DAYS)
    still_open = Issue.closed_at.is_null(True) & Issue.status.not_in(DONE_STATUSES)
    with store.atomic():  # one snapshot: lists and counts agree while the poller writes
        closed = (Issue.select()
                  .where((Issue.closed_at >= start) & (Issue.closed_at < end))
                  .order_by(Issue.closed_at, Issue.id))
        open_ = (Issue.select()
                 .where((Issue.opened_at <= moment) & (still_open | (Issue.closed_at > moment)))
                 .order_by(Issue.opened_at, Issue.id))
        return Report(
            day=day, timezone=tz,
            period_start=datetime.combine(first, time(0), tzinfo=tz),
            period_end=datetime.combine(day, time(0), tzinfo=tz),
            at=moment,
            opened=Issue.select().where((Issue.opened_at >= start) & (Issue.opened_at < end)).count(),
            closed=tuple(Item.of(i) for i in closed), open=tuple(Item.of(i) for i in open_),
            trend_start=trend_start, trend=opened_per_day(trend_start, TREND_DAYS, tz),
        )


def opened_per_day(first: date, n: int, tz: ZoneInfo) -> tuple[int, ...]:
    """Issues opened on each of `n` local days from `first`: one query, bucketed by
    the days' UTC boundaries (which differ by 23 or 25 hours across a DST change)."""
    bounds = [local_midnight(first + timedelta(days=i), tz) for i in range(n + 1)]
    counts = [0] * n
    query = Issue.select(Issue.opened_at).where((Issue.opened_at >= bounds[0]) & (Issue.opened_at < bounds[-1]))
    for row in query:
        counts[bisect.bisect_right(bounds, _naive(row.opened_at)) - 1] += 1
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


# ---------------------------------------------------------------- post


class Posted(NamedTuple):
    day: date
    slack_ts: str | None
    new: bool  # False: this day's report had already been posted


def report_channel(config) -> str:
    return config.report.channel or config.slack.channel


def report_text(ctx, day: date, at: datetime | None = None, late: bool = False) -> str:
    report = compute_report(ctx.store, day, ctx.config, at)
    return render_report(report, Links.of(ctx), late_note(ctx.config.report) if late else "")


def post_report(ctx, day: date, late: bool = False, at: datetime | None = None) -> Posted:
    """Post `day`'s report unless it already was. Intent -> post (tagged with the
    ref in its metadata) -> ReportRun row and intent removal in one transaction."""
    key = day.isoformat()
    done = ReportRun.get_or_none(ReportRun.day == key)
    if done is not None:
        return Posted(day, done.slack_ts, False)
    channel = report_channel(ctx.config)
    ref = f"report:{key}"
    text = report_text(ctx, day, at, late)

    def do() -> str:
        return ctx.slack.post(channel, text, metadata={"event_type": ZSC_EVENT, "event_payload": {"ref": ref}})

    def find(intent) -> str | None:
        oldest = _aware(intent.created_at - FIND_SLACK).timestamp()
        for message in ctx.slack.history(channel, oldest=f"{oldest:.6f}"):
            if ((message.get("metadata") or {}).get("event_payload") or {}).get("ref") == ref:
                return message["ts"]
        return None

    def record(ts: str) -> None:
        ReportRun.create(day=key, posted_at=utcnow(), late=late, slack_ts=ts)

    try:
        ts = once(ctx, keys.post_key(ref), "report", None, {"ref": ref, "channel": channel}, do, find, record)
    except NotFound as exc:
        if channel == ctx.config.slack.channel or getattr(exc, "reason", None) is None:
            raise
        # The channel is [report] channel's: the fix is there, not in [slack] channel.
        raise channel_problem(exc.method, exc.reason, channel, setting="[report] channel") from None
    logger.bind(channel=channel, ts=ts).info("daily report for {} posted{}", key, " (late)" if late else "")
    return Posted(day, ts, True)


def maybe_post_report(ctx, now_utc: datetime, up_since: datetime | None = None) -> bool:
    """Post today's report if it is due: today (in [report] timezone) is a report
    day, its time has come, and it was not posted yet. `up_since` is when the daemon
    started; a report due before then is marked late (default: late if more than
    LATE_GRACE has passed since it was due). True if this call posted it."""
    report = ctx.config.report
    now = _aware(now_utc)
    day = local_today(report, now)
    if not report.enabled or day.weekday() not in report.days:
        return False
    due = due_time(report, day)
    if now < due or ReportRun.get_or_none(ReportRun.day == day.isoformat()) is not None:
        return False
    late = _aware(up_since or now) - due > LATE_GRACE
    return post_report(ctx, day, late=late, at=now).new


# ---------------------------------------------------------------- daemon job


# When this process became the active zsc, per store it opened: a reload (SIGHUP)
# keeps the store and so the time; taking over as leader opens a new store, and a
# report due while this process was only a standby is rightly "late".
_active_since: "weakref.WeakKeyDictionary[Any, datetime]" = weakref.WeakKeyDictionary()


class ReportJob:
    """The scheduled tick. It never raises (one failing post must not stop the
    mirroring) and waits RETRY_AFTER after a failure instead of retrying every tick."""

    def __init__(self, daemon, up_since: datetime) -> None:
        self.daemon, self.up_since = daemon, up_since
        self.retry_at: datetime | None = None
        self.dry_done: date | None = None

    def __call__(self) -> None:
        ctx = self.daemon.ctx
        now = _aware(utcnow())
        if ctx is None or (self.retry_at and now < self.retry_at):
            return
        if not self.daemon.lock.held():
            return  # only the active zsc posts; its next poll notices and steps down
        day = local_today(ctx.config.report, now)
        if ctx.dry_run and self.dry_done == day:
            return  # a dry run records nothing, so remember here that today is done
        try:
            with dry_run_rollback(ctx):
                if maybe_post_report(ctx, now, up_since=self.up_since) and ctx.dry_run:
                    self.dry_done = day
            self.retry_at = None
        except Stopping:
            raise
        except Exception as exc:  # noqa: BLE001 - logged; the daemon keeps mirroring
            self.retry_at = now + RETRY_AFTER
            log = logger.bind(channel=report_channel(ctx.config))
            (log.error if isinstance(exc, UserError) else log.exception)(  # a bug gets its traceback
                "daily report for {} not posted, trying again in {:.0f} min: {}", day,
                RETRY_AFTER.total_seconds() / 60, exc)


def install_report_job(daemon, scheduler) -> None:
    """Called with a fresh scheduler when this process becomes the active zsc and on
    every reload (SIGHUP)."""
    up_since = _active_since.setdefault(daemon.ctx.store, utcnow())
    if daemon.config.report.enabled:
        scheduler.every(JOB_SECONDS).seconds.do(ReportJob(daemon, up_since))


def _register() -> None:
    from zsc.daemon import job_installers

    if install_report_job not in job_installers:
        job_installers.append(install_report_job)


_register()
