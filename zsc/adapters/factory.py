"""Adapters built from the configuration: the one place that knows which settings
each client takes, used by the sync engine, the preflight checks and `zsc auth`."""

from __future__ import annotations

from typing import Any

from zsc.adapters.ratelimit import RateGate

# A poll waits in place for a short Retry-After only; a longer one (Slack's limited tier
# answers up to 60 s) ends the poll, and the next poll after it goes on where this one
# stopped -- rather than holding the whole loop (and the other API's polls) hostage.
WAIT_IN_PLACE = 5.0


def slack_from(config: Any, token: str | None = None, **pacing: Any):
    """`pacing`: the post pace's `clock` and `sleep` (zsc.adapters.pacing.ChannelPace), for tests."""
    from zsc.adapters.pacing import ChannelPace
    from zsc.adapters.slack import SlackAdapter

    s = config.slack
    return SlackAdapter(token or s.token, s.api_url, timeout=config.sync.http_timeout,
                        gate=RateGate("Slack", max_wait=WAIT_IN_PLACE, per_method=True),
                        pace=ChannelPace(s.channel_post_interval, api="Slack", **pacing))


def zendesk_from(config: Any):
    from zsc.adapters.zendesk import ZendeskAdapter

    z = config.zendesk
    return ZendeskAdapter(z.api_url, z.subdomain, email=z.email, token=z.token, oauth_token=z.oauth_token,
                          timeout=config.sync.http_timeout,
                          gate=RateGate("Zendesk", max_wait=WAIT_IN_PLACE))


def pagerduty_from(p: Any):
    """From the [pagerduty] section."""
    from zsc.adapters.pagerduty import PagerDutyAdapter

    return PagerDutyAdapter(p.api_url, token=p.token or None, oauth_token=p.oauth_token or None,
                            client_id=p.client_id or None,
                            client_secret=p.client_secret or None, token_url=p.token_url or None, timeout=p.timeout)
