"""`zsc sync-once` and `zsc run`: parse, call the engine (or the daemon), print."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from zsc.cli import EPOCH, _redacted, command, load


@command("sync-once")
@click.option("--dry-run", is_flag=True, help="Print what would be done; write nothing anywhere.")
@click.option("--since", metavar="DATE", help="Start (or restart) both sides at this date, e.g. 2026-11-01.")
@click.pass_context
def sync_once_cmd(ctx: click.Context, dry_run: bool, since: str | None) -> None:
    """Run one sync cycle and exit: 0 done, 1 some item failed, 2 bad config."""
    from zsc.sync.runs import sync_once

    when = _parse_since(since)
    config = load(ctx, quiet=True)
    result = sync_once(config, since=when, dry_run=dry_run)
    for line in result.actions:
        click.echo(_redacted(line))
    for line in result.failures:
        click.echo(f"failed: {_redacted(line)}", err=True)
    if not result.actions and not result.failures:
        click.echo("nothing to do")
    sys.exit(0 if result.ok else 1)


@command("run")
@click.option("--detach", is_flag=True, help="Daemonize (not needed under systemd).")
@click.option("--pidfile", metavar="PATH", help="With --detach: pid file (locked while running).")
@click.option("--log-file", metavar="PATH", help="Also write logs to this file.")
@click.option("--since", metavar="DATE", help="On first start, begin at this date instead of now.")
@click.pass_context
def run_cmd(ctx: click.Context, detach: bool, pidfile: str | None, log_file: str | None, since: str | None) -> None:
    """Run the bridge until stopped (SIGTERM/SIGINT), polling at the configured intervals."""
    from zsc.daemon import run_forever

    when = _parse_since(since)
    config = load(ctx, log_file=log_file)
    code = run_forever(config, since=when,
                       detach=detach, pidfile=pidfile, log_file=log_file,
                       log_overrides={"level": ctx.obj["log_level"], "style": ctx.obj["log_format"]})
    sys.exit(code)


def _parse_since(value: str | None) -> datetime | None:
    """--since: a past moment (UTC unless it says otherwise). A future one would park
    the cursors ahead of every new message, which would then never be mirrored."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM",
                                 param_hint="--since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if moment > datetime.now(timezone.utc):
        raise click.BadParameter(f"{value} is in the future; use a past date", param_hint="--since")
    if moment < EPOCH:
        raise click.BadParameter(f"{value} is before 1970; use a date from 1970-01-01 on", param_hint="--since")
    return moment
