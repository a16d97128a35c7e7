"""`zsc check-missing` and `zsc status`: parse, call the core module, print."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Iterator

import click

from zsc.cli import _redacted, command, load

MAX_DAYS = 3650  # ten years: further back than any channel zsc mirrors (and no date overflow)


@command("check-missing")
@click.option("--days", type=click.IntRange(min=1, max=MAX_DAYS), default=7, show_default=True, help="How many days back to compare.")
@click.option("--fix", is_flag=True, help="Repair the gaps through the normal sync paths, then check again. "
                                          "Stop the daemon first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def check_missing_cmd(ctx: click.Context, days: int, fix: bool, as_json: bool) -> None:
    """List what one side has and the other lacks over the last N days: messages
    without a ticket, replies and comments not mirrored, email tickets without a
    thread, statuses that differ. Exit 0 when nothing is missing, 1 otherwise."""
    from zsc.sync.runs import check_missing

    config = load(ctx, quiet=True)  # it prints what it fixed and what failed itself
    with _progress_bar() as progress:
        outcome = check_missing(config, days, fix=fix, progress=progress)
    if as_json:
        click.echo(_redacted(json.dumps(outcome.as_json(), indent=2, ensure_ascii=False)))
    else:
        _print_outcome(outcome, days, fix)
    sys.exit(1 if outcome.left else 0)


def _print_outcome(outcome, days: int, fix: bool) -> None:
    from zsc.sync.check_missing import KINDS

    found = outcome.found
    click.echo(f"Compared the last {days} day(s), since {found.since:%Y-%m-%d %H:%M}Z: "
               f"{len(found.gaps) or 'nothing'} missing.")
    _table(found.gaps, KINDS)
    if found.too_recent:
        click.echo(f"Left out {found.too_recent} item(s) newer than one poll interval: the running zsc "
                   "mirrors them on its next poll.")
    if outcome.remaining is None:
        return
    for line in outcome.fixed:
        click.echo(_redacted(f"fixed: {line}"))
    for line in outcome.failures:
        click.echo(_redacted(f"failed: {line}"), err=True)
    if found.gaps:
        left = outcome.remaining.gaps
        click.echo(f"\nAfter --fix: {len(left) or 'nothing'} missing.")
        _table(left, KINDS)


def _table(gaps, kinds: dict[str, str]) -> None:
    if not gaps:
        return
    rows = [(kinds[g.kind], g.where, g.detail, g.link or "") for g in gaps]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(("KIND", "WHERE", "DETAIL"))]
    click.echo("")
    click.echo(f"{'KIND':<{widths[0]}}  {'WHERE':<{widths[1]}}  {'DETAIL':<{widths[2]}}  LINK".rstrip())
    for row in rows:
        click.echo(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}".rstrip())


@contextmanager
def _progress_bar() -> Iterator:
    """A bar on stderr while scanning, one per phase; nothing when stderr is not a
    terminal (cron, pipes), where it would only add noise."""
    if not sys.stderr.isatty():
        yield lambda phase, done, total: None
        return
    state: dict = {"phase": None, "bar": None}

    def progress(phase: str, done: int, total: int) -> None:
        if state["phase"] != phase:
            if state["bar"] is not None:
                state["bar"].render_finish()
            state["phase"] = phase
            state["bar"] = click.progressbar(length=max(total, 1), label=phase.ljust(24), file=sys.stderr)
        bar = state["bar"]
        bar.length = max(total, 1)
        bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        if state["bar"] is not None:
            state["bar"].render_finish()


@command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool) -> None:
    """How the bridge is doing, from the store: last poll per source, cursors, open
    issues, recent traffic, errors, next report. Exit 1 if a source has not polled
    successfully for more than 5 times its interval."""
    from zsc.status import gather

    status = gather(load(ctx, require_secrets=False, logging=False))
    if as_json:
        click.echo(_redacted(json.dumps(status.as_json(), indent=2, ensure_ascii=False)))
    else:
        _print_status(status)
    sys.exit(0 if status.ok else 1)


def _echo(text: str) -> None:
    """A line of `zsc status`: a last error can quote an API's answer, so redacted."""
    click.echo(_redacted(text))


def _print_status(s) -> None:
    from zsc.status import SCHEMA_VERSION, STALE_FACTOR
    from zsc.timefmt import ago, stamp

    _echo(f"Store:        {s.database}" + ("" if s.store_exists else " (not created yet: zsc has not run)"))
    _echo(f"Schema:       v{s.schema_version} (this zsc: v{SCHEMA_VERSION})")
    if s.leader:
        leader = s.leader
        who = f"{leader.get('host', leader.get('raw', '?'))} pid {leader.get('pid', '?')}"
        if leader.get("stopped"):  # the daemon stopped cleanly and said so
            _echo(f"Leader:       none (stopped {leader['stopped']}; was {who})")
        else:
            since = f", since {leader['since']}" if leader.get("since") else ""
            _echo(f"Leader:       {who}{since}")
    _echo("Sources:")
    for src in s.sources:
        mark = "✗" if src.stale else "✓"
        every = f", polls every {src.interval:g}s" if src.interval else ""
        when = (f"last success {stamp(src.last_success_at)} ({ago(s.now, src.last_success_at)})"
                if src.last_success_at else "never polled successfully")
        _echo(f"  {mark} {src.source:<9} {when}{every}")
        if src.stale:
            _echo(f"    {'':<9} stale: no successful poll for more than {STALE_FACTOR}x its interval; "
                       "is `zsc run` running? see its log")
        if src.last_error:
            _echo(f"    {'':<9} last error {stamp(src.last_error_at)} ({ago(s.now, src.last_error_at)}): "
                       f"{src.last_error}")
    if s.cursors:
        _echo("Cursors:")
        width = max(len(c.name) for c in s.cursors)
        for c in s.cursors:
            value = c.value if len(c.value) <= 24 else c.value[:21] + "..."
            meaning = f" = {stamp(c.moment)}" if c.moment else ""
            _echo(f"  {c.name:<{width}}  {value}{meaning}, updated {ago(s.now, c.updated_at)}")
    if s.channels:
        _echo("Channels:")
        for c in s.channels:
            mode = ", reaction mode" if c["mode"] == "reaction" else ""
            who = f", polled by {c['polled_by']}" if c.get("polled_by") else ""
            _echo(f"  {c['id']}: group {c['group_id']}{mode}, polled every {c['interval']:g}s, "
                  f"{c['open_issues']} open issue(s){who}")
    oldest = f" (oldest opened {stamp(s.oldest_open_at)})" if s.oldest_open_at else ""
    _echo(f"Open issues:  {s.open_issues}{oldest}")
    _echo(f"Last 24 h:    {s.mirrored_24h.get('to_zendesk', 0)} mirrored Slack → Zendesk, "
               f"{s.mirrored_24h.get('to_slack', 0)} Zendesk → Slack")
    _echo(f"Pending:      {s.pending_writes} write(s) of unknown outcome, resolved on the next poll")
    parked = sum(1 for i in s.failing_items if i["parked_at"])
    _echo(f"Failing:      {parked} parked, {len(s.failing_items) - parked} still retried"
               + (" (`zsc check-missing --fix` retries the parked ones)" if parked else ""))
    for item in s.failing_items:
        state = f"parked {stamp(item['parked_at'])}" if item["parked_at"] else "retrying"
        _echo(f"  {item['item']}: {state}, {item['attempts']} attempts since "
                   f"{stamp(item['first_failed_at'])}: {item['error']}")
    if not s.next_report_known:
        report = "n/a"
    elif s.next_report is None:
        report = "off"
    else:
        report = f"{s.next_report:%Y-%m-%d %H:%M %Z} ({_until(s)})"
    _echo(f"Next report:  {report}")


def _until(s) -> str:
    from datetime import timezone

    from zsc.timefmt import ago

    now = s.now.replace(tzinfo=timezone.utc)
    return "in " + ago(s.next_report.astimezone(timezone.utc), now).removesuffix(" ago")
