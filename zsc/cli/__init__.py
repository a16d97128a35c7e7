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
    from zsc.redaction import redact

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


def load(ctx: click.Context, require_secrets: bool = True, log_file: str | None = None, quiet: bool = False,
         logging: bool = True):
    """Read the config and set up logging; shared by every command that needs them.

    `require_secrets=False` is for commands that run precisely because a secret is
    missing (`zsc auth`) or need none (`zsc status`). `quiet` is for one-shot
    commands that print their own results: routine lines would only repeat them.
    `logging=False` is for commands that only read the store and print (`zsc status`):
    they skip loading the logging library, which is most of their start-up time."""
    from zsc.config import load_config

    root = ctx.find_root().obj
    config = load_config(root["config_path"], require_secrets=require_secrets)
    if not logging:
        return config
    from zsc import logs
    from zsc.config.credentials import basic_credentials_of, secrets_of

    level = root["log_level"] or ("warning" if quiet else config.logging.level)
    style = root["log_format"] or config.logging.format
    # Quiet: the command prints each item's outcome, so the log lines saying the same
    # are left out (unless --log-level asked for the logs).
    logs.setup(level=level, style=style, secrets=secrets_of(config), basic=basic_credentials_of(config), log_file=log_file,
               message_bodies=config.logging.message_bodies, hide_results=quiet and not root["log_level"])
    return config


def command(name: str, **kwargs: Any) -> Callable:
    return main.command(name, **kwargs)


# The commands live in their own modules and register on `main` when imported.
from zsc.cli import auth, config_cmd, import_cmd, ops, report, run  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
