"""`zsc report`: post (or print) the daily report now. The work is in zsc.report."""

from __future__ import annotations

import re
from datetime import date

import click

from zsc.cli import command, load
from zsc.errors import UserError


class UsageError(UserError):
    """A bad option value: one line and exit status 2, like a config error (click's
    own BadParameter would print the usage block too)."""

    exit_code = 2


@command("report")
@click.option("--dry-run", is_flag=True, help="Print the report instead of posting it; write nothing.")
@click.option("--date", "day", metavar="YYYY-MM-DD",
              help="Report on this day (in [report] timezone), as it stood at [report] time [default: today, now].")
@click.pass_context
def report_cmd(ctx: click.Context, dry_run: bool, day: str | None) -> None:
    """Post the daily report now (once per day: the daemon will not post it again)."""
    from zsc.report import as_of, post_report, report_text
    from zsc.service import build_context
    from zsc.store import utcnow

    config = load(ctx)
    wanted = _parse_day(day)
    when, at = as_of(config, utcnow(), wanted)
    if when is None:
        raise UsageError(f"--date {day}: that day has not come yet in {config.report.timezone.key}; use today or a past day")
    context = build_context(config, dry_run=dry_run or None)  # [sync] dry_run = true counts too
    try:
        if context.dry_run:
            click.echo(report_text(context, when, at))
            return
        posted = post_report(context, when, at=at)
    finally:
        context.store.close()
    if posted.new:
        click.echo(f"posted the report for {when} (ts {posted.slack_ts})")
    else:
        click.echo(f"the report for {when} was already posted (ts {posted.slack_ts}); nothing to do")


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # fromisoformat would take 20240304 or 2024-W10-1
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--date {value!r} is not a date; use YYYY-MM-DD, e.g. 2024-03-04") from None
