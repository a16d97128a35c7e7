"""`zsc auth`: get credentials into the token file, and check every credential works.

The OAuth flows run in the terminal, since zsc has no inbound URL: zsc prints the
provider's authorize URL with a random `state`, the operator approves in a browser
and pastes back the address the browser was sent to (the page itself may not load;
only its address matters) or just the code. zsc checks `state`, exchanges the code,
and saves the token with `zsc.config.save_token` (0600, atomic).

A token is saved only once the preflight checks (zsc.preflight) accept it. Secrets
are only ever shown masked (`zsc.config.mask`).
"""

from __future__ import annotations

import re
import secrets as random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from zsc.config import load_config, mask, save_token
from zsc.errors import AuthError, ConfigError, UserError
from zsc.preflight import CHECKS, pagerduty_checks

SERVICES = ("slack", "zendesk", "pagerduty")
LABELS = {"slack": "Slack", "zendesk": "Zendesk", "pagerduty": "PagerDuty"}


# ---------------------------------------------------------------- pasted answers

@dataclass(frozen=True)
class Authorization:
    """The first half of an OAuth flow: where to send the operator, and the state
    the answer must carry back."""

    service: str
    url: str
    state: str


def code_from(pasted: str, state: str, service: str) -> str:
    """The code in what the operator pasted: the whole redirected address (whose
    `state` must be ours), its query string, or the bare code."""
    text = pasted.strip()
    if not text:
        raise UserError(f"{LABELS[service]}: nothing pasted; run `zsc auth {service}` again")
    if "=" not in text:  # a bare code
        if re.search(r"\s", text):
            raise UserError(f"{LABELS[service]}: that does not look like a code or an address; paste the address "
                            "your browser shows after you approve")
        return text
    query = parse_qs(urlsplit(text).query if "?" in text else text)
    if "error" in query:
        raise UserError(f"{LABELS[service]} did not authorize zsc ({query['error'][0][:60]}); "
                        f"run `zsc auth {service}` again and approve")
    if query.get("state", [""])[0] != state:
        # Also refuses a missing state: a real redirect always carries ours back.
        raise UserError(f"{LABELS[service]}: the pasted address does not carry this run's state; it belongs to "
                        f"another attempt or was altered. Run `zsc auth {service}` again and paste the address "
                        "from that run")
    code = query.get("code", [""])[0]
    if not code:
        raise UserError(f"{LABELS[service]}: the pasted address has no code; paste the address your browser shows "
                        "after you approve")
    return code


# ---------------------------------------------------------------- saving

@dataclass(frozen=True)
class Saved:
    name: str  # token-file key, e.g. "slack_token"
    masked: str
    path: Path
    about: str  # who the credential acts as, for the operator
    shadowed: bool  # another source (env, credential, config file) wins over the token file


def _save(config: Any, name: str, value: str, about: str) -> Saved:
    from zsc import logs

    logs.redact.add([value])  # from here on no log line can carry it
    path = save_token(config.state_dir, name, value)
    section, key = name.split("_", 1)
    reread = load_config(config.source, config.env, require_secrets=False) if config.source else config
    shadowed = getattr(getattr(reread, section), key) != value
    if name == "zendesk_token" and reread.zendesk.oauth_token:
        shadowed = True  # an OAuth token, wherever it is set, is used before an API token
    if name == "pagerduty_oauth_token" and reread.pagerduty.token:
        shadowed = True  # an API key, wherever it is set, is used before an OAuth token
    return Saved(name, mask(value), path, about, shadowed)


def shadow_hint(saved: Saved) -> str:
    section, key = saved.name.split("_", 1)
    env = f"ZSC_{saved.name.upper()}"
    return (f"note: zsc will keep using [{section}] {key} from a higher-precedence place (environment variable "
            f"{env}, a systemd credential {env}, or the config file); remove it there to use the saved one")


# ---------------------------------------------------------------- OAuth flows

def begin(config: Any, service: str) -> Authorization:
    """The authorize URL for `service`, with a fresh random state."""
    from zsc.adapters import oauth

    state = random.token_urlsafe(24)
    if service == "slack":
        s = config.slack
        _require(s, "slack", ("client_id", "client_secret"), "api.slack.com/apps → Basic Information")
        return Authorization(service, oauth.slack_authorize_url(s.api_url, s.client_id, s.scopes, s.redirect_uri, state),
                             state)
    if service == "zendesk":
        z = config.zendesk
        _require(z, "zendesk", ("client_id", "client_secret", "redirect_uri"),
                 "Admin Center → Apps and integrations → APIs → OAuth Clients")
        return Authorization(service, oauth.zendesk_authorize_url(z.api_url, z.client_id, z.scopes, z.redirect_uri,
                                                                  state), state)
    raise ConfigError(f"{service}: no browser flow; PagerDuty uses client credentials (`zsc auth pagerduty`) "
                      "or an API key (`zsc auth pagerduty --token -`)")


def finish(config: Any, authorization: Authorization, pasted: str) -> Saved:
    """Check the state, exchange the code and save the token."""
    from zsc.adapters import oauth

    service = authorization.service
    code = code_from(pasted, authorization.state, service)
    timeout = config.sync.http_timeout
    if service == "slack":
        s = config.slack
        answer = oauth.slack_exchange(s.api_url, s.client_id, s.client_secret, code, s.redirect_uri, timeout)
        granted = set(filter(None, str(answer.get("scope", "")).split(",")))
        missing = [scope for scope in s.scopes if scope not in granted]
        team = (answer.get("team") or {}).get("name") or "?"
        about = f"bot of workspace {team}" + (f"; NOT granted: {', '.join(missing)}" if missing else "")
        return _save(config, "slack_token", answer["access_token"], about)
    z = config.zendesk
    answer = oauth.zendesk_exchange(z.api_url, z.client_id, z.client_secret, code, z.redirect_uri, z.scopes, timeout)
    return _save(config, "zendesk_oauth_token", answer["access_token"], f"scopes: {answer.get('scope') or '?'}")


def _require(section: Any, name: str, keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if not getattr(section, k)]
    if missing:
        raise ConfigError(f"[{name}] {', '.join(missing)}: not set, needed for the OAuth flow; copy them from "
                          f"{where}, or store a plain token with `zsc auth {name} --token -`")


# ---------------------------------------------------------------- plain tokens

def save_api_token(config: Any, service: str, value: str, oauth: bool = False) -> Saved:
    """Store a plain token (Slack bot token, Zendesk API token, PagerDuty API key; with
    `oauth`, a Zendesk or PagerDuty OAuth access token obtained elsewhere), but only
    once the service accepts it: a typo must not replace a working token."""
    value, detail = check_api_token(config, service, value, oauth)
    return _save(config, token_name(service, oauth), value, detail)


def check_api_token(config: Any, service: str, value: str, oauth: bool = False) -> tuple[str, str]:
    """(the token, who it acts as) once the service accepts it; AuthError if not."""
    value = value.strip()
    if not value or re.search(r"\s", value):
        raise UserError(f"{LABELS[service]}: the token is empty or contains spaces; paste it again")
    if service == "zendesk" and not oauth and not config.zendesk.email:
        raise ConfigError('[zendesk] email: not set; an API token acts as an agent: add email = "agent@example.com"')
    trial = _with_token(config, service, value, oauth)
    row = CHECKS[service](trial, credential_only=True)[0]
    if not row.ok:
        raise AuthError(LABELS[service], f"{row.detail}; not saved. {row.fix}".strip())
    return value, row.detail


def token_name(service: str, oauth: bool = False) -> str:
    """The token-file key of a service's plain token (or OAuth access token)."""
    return f"{service}_oauth_token" if oauth and service != "slack" else f"{service}_token"


def save_pagerduty_client(config: Any, client_secret: str | None) -> Saved | None:
    """Check the OAuth client credentials by reading the escalation policy with them.
    zsc fetches and renews the short-lived access tokens itself, so what is worth
    saving is the client secret (when it was typed in now), not a token that expires."""
    p = config.pagerduty
    if not p.client_id or not p.escalation_policy_id:
        raise ConfigError("[pagerduty] client_id and escalation_policy_id must be set for the client-credentials "
                          "check; or store an API key with `zsc auth pagerduty --token -`")
    secret = (client_secret or "").strip() or p.client_secret
    trial = replace(config, pagerduty=replace(p, client_secret=secret, token="", oauth_token=""))
    rows = pagerduty_checks(trial)
    failed = next((r for r in rows if not r.ok), None)
    if failed:
        raise AuthError("PagerDuty", f"{failed.detail}; not saved. {failed.fix}".strip())
    if client_secret and client_secret.strip() != p.client_secret:
        return _save(config, "pagerduty_client_secret", secret, rows[-1].detail)
    return None


def _with_token(config: Any, service: str, value: str, oauth: bool = False) -> Any:
    if service == "slack":
        return replace(config, slack=replace(config.slack, token=value))
    if service == "zendesk":
        if oauth:
            return replace(config, zendesk=replace(config.zendesk, oauth_token=value, token=""))
        return replace(config, zendesk=replace(config.zendesk, token=value, oauth_token=""))
    if oauth:
        return replace(config, pagerduty=replace(config.pagerduty, oauth_token=value, token="", client_secret=""))
    return replace(config, pagerduty=replace(config.pagerduty, token=value, oauth_token=""))


# ---------------------------------------------------------------- switching from zenslackchat

@dataclass(frozen=True)
class OldToken:
    """One credential found in the old bot's database, and what became of it."""

    label: str
    name: str  # token-file key
    masked: str  # "" when the old database has none
    about: str = ""  # who it acts as, once accepted
    problem: str = ""  # why it was not saved
    saved: Saved | None = None

    @property
    def ok(self) -> bool:
        return not self.problem


def import_old_tokens(config: Any, url: str, dry_run: bool = False) -> tuple[list[OldToken], Any]:
    """Copy the newest Slack bot token, Zendesk OAuth token and PagerDuty OAuth token of
    the old zenslackchat bot into the token file, each only once its API accepts it
    (the same checks as `zsc auth --token`). A PagerDuty OAuth access token is stored
    as [pagerduty] oauth_token, which zsc sends as a Bearer token. Under `dry_run`
    they are checked, not saved.

    Returns the outcome per token and the config to go on with: re-read (or, in a dry
    run, with the accepted tokens in memory only), so the import that follows uses them."""
    from zsc import logs
    from zsc.store.zenslackchat import open_old

    old = open_old(url)
    try:
        found = old.tokens()
    finally:
        old.close()
    wanted = (("slack", False, "Slack bot token", found.slack_bot_token),
              ("zendesk", True, "Zendesk OAuth token", found.zendesk_oauth_token),
              ("pagerduty", True, "PagerDuty OAuth token", found.pagerduty_oauth_token))
    logs.redact.add([value for *_, value in wanted if value])  # no log line may carry them from here on
    outcomes: list[OldToken] = []
    trial = config
    for service, oauth, label, value in wanted:
        name = token_name(service, oauth)
        if not value or not value.strip():
            outcomes.append(OldToken(label, name, "", problem="none in the old database"))
            continue
        try:
            if dry_run:
                value, about = check_api_token(config, service, value, oauth)
                trial = _with_token(trial, service, value, oauth)
                outcomes.append(OldToken(label, name, mask(value), about))
            else:
                saved = save_api_token(config, service, value, oauth)
                outcomes.append(OldToken(label, name, saved.masked, saved.about, saved=saved))
        except UserError as exc:
            outcomes.append(OldToken(label, name, mask(value.strip()), problem=str(exc)))
    if dry_run:
        return outcomes, trial
    reread = load_config(config.source, config.env, require_secrets=False) if config.source else config
    return outcomes, reread
