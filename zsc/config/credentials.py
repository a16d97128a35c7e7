"""The secret values of a configuration, as the redactor needs them: each value, and
the exact (user, secret) pairs the clients send as HTTP Basic."""

from __future__ import annotations

from typing import Any


def secrets_of(config: Any) -> list[str]:
    """Every secret value in the config, for the redactor."""
    values = []
    for section in ("slack", "zendesk", "pagerduty"):
        part = getattr(config, section, None)
        for name in ("token", "oauth_token", "client_secret"):
            values.append(getattr(part, name, None))
    return [v for v in values if v]


def basic_credentials_of(config: Any) -> list[tuple[str, str]]:
    """(user, secret) pairs the clients send as HTTP Basic, so the redactor knows the
    exact base64 of each: a Zendesk API token ("{email}/token"), OAuth client credentials."""
    pairs = []
    zendesk = getattr(config, "zendesk", None)
    if zendesk is not None and getattr(zendesk, "token", None):
        pairs.append((f"{zendesk.email}/token", zendesk.token))
    for section in ("pagerduty", "slack", "zendesk"):
        part = getattr(config, section, None)
        client_id, secret = getattr(part, "client_id", None), getattr(part, "client_secret", None)
        if client_id and secret:
            pairs.append((client_id, secret))
    return pairs
