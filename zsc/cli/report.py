"""`zsc report`: post (or print) the daily report now. The work is in zsc.report."""

from __future__ import annotations

import json
import re
from datetime import date

import click

from zsc.cli import EPOCH, command, load


@command("report")
@click.option("--dry-run", is_flag=True, help="Print the report instead of posting it; write nothing.")
@click.option("--date", "day", metavar="YYYY-MM-DD",
              help="Report on this day (in [report] timezone), as it stood at [report] time [default: today, now].")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report's figures as JSON (durations in seconds) instead of posting it; write nothing.")
@click.pass_context
def report_cmd(ctx: click.Context, dry_run: bool, day: str | None, as_json: bool) -> None:
    """Post the daily report now (once per day: the daemon will not post it again)."""
    from zsc.report import as_of
    from zsc.store import utcnow
    from zsc.sync.runs import report, report_data

    wanted = _parse_day(day)
    config = load(ctx)
    when, at = as_of(config, utcnow(), wanted)
    if when is None:
        raise click.BadParameter(f"{day}: that day has not come yet in {config.report.timezone.key}; "
                                 "use today or a past day", param_hint="--date")
    if as_json:
        click.echo(json.dumps(report_data(config, when, at), indent=2))
        return
    text, posted = report(config, when, at, dry_run=dry_run)
    if text is not None:
        click.echo(text)
        return
    if posted.new:
        click.echo(f"posted the report for {when} (ts {posted.slack_ts})")
    else:
        click.echo(f"the report for {when} was already posted (ts {posted.slack_ts}); nothing to do")


def _parse_day(value: str | None) -> date | None:
    """--date, checked before anything else runs (click's usage errors become one line
    in zsc.cli.ZscGroup)."""
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # fromisoformat would take 20240304 or 2024-W10-1
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2024-03-04", param_hint="--date") from None
    if day < EPOCH.date():
        raise click.BadParameter(f"{value} is before 1970; use a day from 1970-01-01 on", param_hint="--date")
    return day
