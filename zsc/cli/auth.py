"""`zsc auth …`: parse, call zsc.auth, print. Secrets are only ever printed masked."""

from __future__ import annotations

import sys

import click

from zsc.cli import load, main


@main.group("auth")
def auth_group() -> None:
    """Get credentials into the token file, and check them.

    zsc auth slack | zendesk runs the provider's OAuth flow in the terminal; with
    --token it stores a plain API token instead. zsc auth check tries every
    configured credential for real.
    """


_TOKEN_HELP = "Store this API token instead of running OAuth; '-' reads it from stdin (keeps it out of shell history)."


def _token_option(what: str):
    return click.option("--token", "token", metavar="VALUE|-", help=f"{what}. {_TOKEN_HELP}")


def _read_token(token: str) -> str:
    """The --token value ('-': a line from stdin). Empty or with spaces inside is a bad
    value (exit 2) that must not reach the service, let alone the token file."""
    value = (sys.stdin.readline() if token == "-" else token).strip()
    if not value and token == "-":
        raise click.BadParameter("read an empty line from stdin; paste or pipe the token", param_hint="--token -")
    if not value:
        raise click.BadParameter("is empty; pass the token, or '-' and paste it on stdin", param_hint="--token")
    if any(c.isspace() for c in value):
        raise click.BadParameter("contains spaces; pass the whole token and nothing else", param_hint="--token")
    return value


def _saved(saved, label: str) -> None:
    from zsc.auth import shadow_hint

    click.echo(f"Saved the {label} {saved.masked} to {saved.path} ({saved.about}).")
    if saved.shadowed:
        click.echo(shadow_hint(saved), err=True)
    click.echo("Check everything with: zsc auth check")


def _browser_flow(ctx: click.Context, service: str, token: str | None, label: str) -> None:
    from zsc import auth

    value = _read_token(token) if token is not None else None
    config = load(ctx, require_secrets=False)
    if value is not None:
        _saved(auth.save_api_token(config, service, value), label)
        return
    flow = auth.begin(config, service)
    click.echo("Open this address in a browser and approve zsc:\n")
    click.echo(f"  {flow.url}\n")
    click.echo("Your browser is then sent to the redirect address; that page may fail to load, which is fine.")
    pasted = click.prompt("Paste the address from the browser's address bar (or just the code)", prompt_suffix=": ")
    _saved(auth.finish(config, flow, pasted), label)


@auth_group.command("slack")
@_token_option("A bot token (xoxb-…)")
@click.pass_context
def auth_slack(ctx: click.Context, token: str | None) -> None:
    """Install the Slack app (OAuth v2) and save its bot token."""
    _browser_flow(ctx, "slack", token, "Slack bot token")


@auth_group.command("zendesk")
@_token_option("An API token for [zendesk] email")
@click.pass_context
def auth_zendesk(ctx: click.Context, token: str | None) -> None:
    """Authorize zsc in Zendesk (OAuth) and save the access token."""
    _browser_flow(ctx, "zendesk", token, "Zendesk token")


@auth_group.command("pagerduty")
@_token_option("A REST API key")
@click.pass_context
def auth_pagerduty(ctx: click.Context, token: str | None) -> None:
    """Check PagerDuty client credentials, or store an API key with --token.

    Asks for the client secret when none is configured, and saves it once it works:
    zsc fetches and renews the short-lived access tokens itself."""
    from zsc import auth

    value = _read_token(token) if token is not None else None
    config = load(ctx, require_secrets=False)
    if value is not None:
        _saved(auth.save_api_token(config, "pagerduty", value), "PagerDuty API key")
        return
    secret = None
    if not config.pagerduty.client_secret:
        secret = click.prompt("PagerDuty client secret", hide_input=True)
    saved = auth.save_pagerduty_client(config, secret)
    if saved:
        _saved(saved, "PagerDuty client secret")
    else:
        click.echo(f"PagerDuty client credentials of {config.pagerduty.client_id} work; "
                   "zsc fetches and renews its access tokens itself.")


@auth_group.command("check")
@click.pass_context
def auth_check(ctx: click.Context) -> None:
    """Try every configured credential for real: exit 0 if all pass, 1 otherwise."""
    from zsc.redaction import redact
    from zsc.preflight import check_all

    rows = check_all(load(ctx, require_secrets=False))
    width = max(len(r.name) for r in rows)
    for row in rows:
        # A detail can quote an API's error body, which can echo the credential sent.
        click.echo(redact(f"{'✓' if row.ok else '✗'} {row.name:<{width}}  {row.detail}"))
        if not row.ok and row.fix:
            click.echo(redact(f"  {'':<{width}}  fix: {row.fix}"))
    failed = sum(not r.ok for r in rows)
    click.echo(f"\n{len(rows) - failed} of {len(rows)} checks passed.")
    sys.exit(1 if failed else 0)
