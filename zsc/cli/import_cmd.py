"""`zsc import …`: take over the state of the bot zsc replaces. Parse, call the core
(zsc.sync.runs.import_zenslackchat, zsc.auth.import_old_tokens), print. Secrets are
only ever printed masked."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

import click

from zsc.cli import load, main

PROGRESS_FROM = 20  # rows: fewer go by too fast for a bar to help


@main.group("import")
def import_group() -> None:
    """Take over the state of the bot zsc replaces."""


@import_group.command("zenslackchat")
@click.argument("database_url", metavar="DATABASE_URL")
@click.option("--dry-run", is_flag=True, help="Say what would be imported; write nothing (not even zsc's store).")
@click.option("--tokens", "with_tokens", is_flag=True,
              help="Also copy the old bot's Slack bot token, Zendesk and PagerDuty OAuth tokens into zsc's token "
                   "file, each once its API accepts it.")
@click.pass_context
def import_zenslackchat_cmd(ctx: click.Context, database_url: str, dry_run: bool, with_tokens: bool) -> None:
    """Import the threads django-zenslackchat mapped to tickets, from its database
    (postgresql://USER@HOST/DB or sqlite:///PATH, opened read-only), so they go on
    mirroring to the same tickets with nothing posted again. Stop the old bot first.
    Exit 0 when every row in zsc's channel is in zsc, 1 otherwise."""
    from zsc.sync.import_zenslackchat import ALREADY, CONFLICT, FAILED, FOREIGN, IMPORTED, INVALID, MISSING, hours_block
    from zsc.sync.runs import import_zenslackchat

    config = load(ctx, require_secrets=not with_tokens, quiet=True)
    token_failed = False
    if with_tokens:
        from zsc.auth import import_old_tokens, shadow_hint

        outcomes, config = import_old_tokens(config, database_url, dry_run=dry_run)
        for token in outcomes:
            if token.problem:
                shown = f" {token.masked}" if token.masked else ""
                click.echo(f"{token.label}{shown}: not {'checked' if dry_run else 'saved'}: {token.problem}")
                token_failed |= bool(token.masked)  # a token that was there and is refused
            elif dry_run:
                click.echo(f"{token.label} {token.masked}: accepted ({token.about}); would save it as {token.name}")
            else:
                click.echo(f"{token.label} {token.masked}: saved as {token.name} in {token.saved.path} "
                           f"({token.about})")
                if token.saved.shadowed:
                    click.echo(shadow_hint(token.saved), err=True)
    with _progress_bar() as progress:
        result, hours = import_zenslackchat(config, database_url, dry_run=dry_run, progress=progress)

    verb = "would import" if dry_run else "imported"
    for row in result.rows:
        if row.state == IMPORTED:
            note = f"; note: {row.detail}" if row.detail else ""
            click.echo(f"{verb}: {row.where} ({row.status}; {row.replies} repl{'y' if row.replies == 1 else 'ies'}, "
                       f"{row.comments} comment(s) recorded as mirrored{note})")
        elif row.state != ALREADY:
            label = {FOREIGN: "skipped", MISSING: "not imported", INVALID: "not imported",
                     CONFLICT: "not imported", FAILED: "failed"}[row.state]
            click.echo(f"{label}: {row.where}: {row.detail}")
    counts = {state: result.count(state) for state in (IMPORTED, ALREADY, FOREIGN, MISSING, INVALID, CONFLICT, FAILED)}
    problems = counts[MISSING] + counts[INVALID] + counts[CONFLICT] + counts[FAILED]
    click.echo("")
    if not result.changed and not dry_run:
        click.echo(f"Nothing changed: {counts[ALREADY]} thread(s) already in zsc, {counts[FOREIGN]} in other "
                   f"channels, {problems} not importable.")
    else:
        click.echo(f"{len(result.rows)} row(s): {counts[IMPORTED]} {verb}, {counts[ALREADY]} already in zsc, "
                   f"{counts[FOREIGN]} in other channels (skipped), {problems} not importable.")
    if counts[IMPORTED]:
        click.echo("Replies and comments that existed at import time are recorded as mirrored: the old bot "
                   "mirrored them, and zsc cannot tell which it missed. Run `zsc check-missing` to compare both "
                   "sides from here on.")
    if dry_run:
        click.echo("Dry run: nothing was written.")
    if hours is not None:
        click.echo("\nThe old bot's out-of-hours settings as zsc config (zsc does not edit your config file; "
                   "paste this into it if you want them):\n")
        click.echo(hours_block(hours).rstrip())
    sys.exit(1 if problems or token_failed else 0)


@contextmanager
def _progress_bar() -> Iterator:
    """A bar on stderr for a large import; nothing when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    state: dict = {"bar": None}

    def progress(done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        if state["bar"] is None:
            state["bar"] = click.progressbar(length=total, label="importing", file=sys.stderr)
        state["bar"].update(done - state["bar"].pos)

    try:
        yield progress
    finally:
        if state["bar"] is not None:
            state["bar"].render_finish()
