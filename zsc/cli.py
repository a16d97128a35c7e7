"""The `zsc` command: parses options, calls one core function, prints the outcome.

Errors a user can fix (UserError) become one line on stderr and an exit code;
tracebacks appear only with --debug. Heavy imports happen inside the commands so
`zsc --help` stays fast."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any, Callable, NoReturn

import click

from zsc import __version__
from zsc.errors import UserError

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the earliest --since and --date: Slack's ts start there


class ZscGroup(click.Group):
    """Turns UserError (and Ctrl-C) into a clean exit for every subcommand, and a bad
    command-line value into one line instead of click's usage block."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:  # the options before the command (zsc --log-level bogus …)
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            _usage_exit(exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a command's options, or BadParameter from its body
            _usage_exit(exc)
        except UserError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"zsc: {_redacted(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("zsc: interrupted", err=True)
            sys.exit(130)


def _usage_exit(exc: click.UsageError) -> NoReturn:
    """`zsc: <what is wrong> (see zsc <command> --help)` on stderr, exit 2. Running a
    group without a command still shows its help, as click does."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        raise exc
    names = []
    ctx = exc.ctx
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    command = " ".join(["zsc", *reversed([n for n in names if n])])
    click.echo(f"zsc: {_redacted(_usage_message(exc))} (see {command} --help)", err=True)
    sys.exit(exc.exit_code)


def _usage_message(exc: click.UsageError) -> str:
    """The option first, as zsc's own errors read: "--days 'abc' is not a valid
    integer." rather than click's "Invalid value for '--days': …"; other usage errors
    ("No such option: --x") as click words them."""
    if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter):
        hint = exc.param_hint if exc.param_hint is not None else ("/".join(exc.param.opts) if exc.param else "")
        if not isinstance(hint, str):
            hint = " / ".join(hint)
        if hint:
            return f"{hint} {exc.message}"
    return exc.format_message()


def _redacted(text: str) -> str:
    from zsc.logs import redact

    return redact(text)


@click.group(cls=ZscGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", envvar="ZSC_CONFIG", show_envvar=True,
              help="Config file [default: /etc/zsc/config.toml].")
@click.option("--log-level", type=click.Choice(["trace", "debug", "info", "warning", "error"]), default=None,
              help="Log verbosity [default: from config, else info].")
@click.option("--log-format", type=click.Choice(["auto", "human", "json"]), default=None,
              help="Human-readable lines or one JSON object per line.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="zsc")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, log_level: str | None, log_format: str | None, debug: bool) -> None:
    """zsc mirrors a Slack support channel and Zendesk tickets both ways, by polling."""
    ctx.ensure_object(dict)
    ctx.obj.update(config_path=config_path, log_level=log_level, log_format=log_format, debug=debug)


def load(ctx: click.Context, require_secrets: bool = True, log_file: str | None = None, quiet: bool = False):
    """Read the config and set up logging; shared by every command that needs them.

    `require_secrets=False` is for commands that run precisely because a secret is
    missing (`zsc auth`) or need none (`zsc status`). `quiet` is for one-shot
    commands that print their own results: routine lines would only repeat them."""
    from zsc import logs
    from zsc.config import load_config
    from zsc.service import secrets_of

    root = ctx.find_root().obj
    config = load_config(root["config_path"], require_secrets=require_secrets)
    level = root["log_level"] or ("warning" if quiet else config.logging.level)
    style = root["log_format"] or config.logging.format
    # Quiet: the command prints each item's outcome, so the log lines saying the same
    # are left out (unless --log-level asked for the logs).
    logs.setup(level=level, style=style, secrets=secrets_of(config), log_file=log_file,
               message_bodies=config.logging.message_bodies, hide_results=quiet and not root["log_level"])
    return config


def command(name: str, **kwargs: Any) -> Callable:
    return main.command(name, **kwargs)


@command("sync-once")
@click.option("--dry-run", is_flag=True, help="Print what would be done; write nothing anywhere.")
@click.option("--since", metavar="DATE", help="Start (or restart) both sides at this date, e.g. 2026-11-01.")
@click.pass_context
def sync_once_cmd(ctx: click.Context, dry_run: bool, since: str | None) -> None:
    """Run one sync cycle and exit: 0 done, 1 some item failed, 2 bad config."""
    from contextlib import nullcontext

    from zsc.locks import exclusive
    from zsc.service import build_context, sync_once

    when = _parse_since(since)
    config = load(ctx, quiet=True)
    dry = dry_run or config.sync.dry_run
    # A real cycle must not race a running daemon (or timer) over the same items.
    with nullcontext() if dry else exclusive(config.database.url, "sync-once"):
        context = build_context(config, dry_run=dry)
        try:
            result = sync_once(context, since=when)
        finally:
            context.store.close()
    for line in result.actions:
        click.echo(line)
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


# Commands that live in their own modules register themselves on import.
from zsc import cli_auth, cli_config, cli_ops, cli_report  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
