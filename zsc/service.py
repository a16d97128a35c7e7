"""Wiring: config -> adapters + store -> a SyncContext. Used by the CLI and the daemon,
so both drive the very same engine."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from zsc.adapters.ratelimit import RateGate
from zsc.store import Store
from zsc.sync.context import CycleResult, SyncContext


def load_features() -> None:
    """Feature modules plug into the engine's and the daemon's hooks when imported:
    thread commands, email intake, notices after a new issue, the daily report job.
    (Imported here, not at the top, so `zsc --help` stays fast.)"""
    import zsc.commands  # noqa: F401
    import zsc.notices  # noqa: F401
    import zsc.report  # noqa: F401
    import zsc.sync.email  # noqa: F401


def secrets_of(config) -> list[str]:
    """Every secret value in the config, for the log redactor."""
    values = []
    for section in ("slack", "zendesk", "pagerduty"):
        part = getattr(config, section, None)
        for name in ("token", "oauth_token", "client_secret"):
            values.append(getattr(part, name, None))
    return [v for v in values if v]


def slack_adapter(config):
    from zsc.adapters.slack import SlackAdapter

    return SlackAdapter(config.slack.token, config.slack.api_url, timeout=config.sync.http_timeout,
                        gate=RateGate("Slack", max_wait=max(60.0, config.sync.slack_interval * 3)))


def zendesk_adapter(config):
    from zsc.adapters.zendesk import ZendeskAdapter

    z = config.zendesk
    return ZendeskAdapter(z.api_url, z.subdomain, email=z.email, token=z.token, oauth_token=z.oauth_token,
                          timeout=config.sync.http_timeout,
                          gate=RateGate("Zendesk", max_wait=max(60.0, config.sync.zendesk_interval * 3)))


def oncall_lookup(config):
    """Who is on call, when PagerDuty is configured (else None: no on-call message)."""
    if not config.pagerduty.enabled:
        return None
    from zsc.oncall import OnCall

    return OnCall.from_config(config.pagerduty)


def open_store(config, dry_run: bool = False) -> Store:
    url = config.database.url
    if dry_run and url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        url = "sqlite:///:memory:"  # a dry run must not even create the database file
    return Store(url)


def build_context(config, store: Store | None = None, dry_run: bool | None = None) -> SyncContext:
    load_features()
    dry = config.sync.dry_run if dry_run is None else dry_run
    store = store or open_store(config, dry)
    slack, zendesk = slack_adapter(config), zendesk_adapter(config)
    ctx = SyncContext(config=config, store=store, slack=slack, zendesk=zendesk, oncall=oncall_lookup(config), dry_run=dry)
    if dry:
        from zsc.dryrun import DryRunSlack, DryRunZendesk

        ctx.slack, ctx.zendesk = DryRunSlack(slack, ctx.dry_lines), DryRunZendesk(zendesk, ctx.dry_lines)
    return ctx


def sync_once(ctx: SyncContext, since: datetime | None = None) -> CycleResult:
    from zsc.sync import engine

    with engine.dry_run_rollback(ctx):  # the start position too
        result = engine.cycle(ctx, since=since)
    if ctx.dry_run:
        result.actions = list(ctx.dry_lines)
    return result
