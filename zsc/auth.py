"""`zsc auth`: get credentials into the token file, and check every credential works.

The OAuth flows run in the terminal, since zsc has no inbound URL: zsc prints the
provider's authorize URL with a random `state`, the operator approves in a browser
and pastes back the address the browser was sent to (the page itself may not load;
only its address matters) or just the code. zsc checks `state`, exchanges the code,
and saves the token with `zsc.config.save_token` (0600, atomic).

Checks are real API calls, one `Check` row each, with the fix for each failure.
Secrets are only ever shown masked (`zsc.config.mask`).
"""

from __future__ import annotations

import re
import secrets as random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from zsc.config import load_config, mask, save_token
from zsc.errors import ApiError, AuthError, ConfigError, NotFound, UserError

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

def save_api_token(config: Any, service: str, value: str) -> Saved:
    """Store a plain token (Slack bot token, Zendesk API token, PagerDuty API key),
    but only once the service accepts it: a typo must not replace a working token."""
    value = value.strip()
    if not value or re.search(r"\s", value):
        raise UserError(f"{LABELS[service]}: the token is empty or contains spaces; paste it again")
    if service == "zendesk" and not config.zendesk.email:
        raise ConfigError('[zendesk] email: not set; an API token acts as an agent: add email = "agent@example.com"')
    trial = _with_token(config, service, value)
    row = CHECKS[service](trial, credential_only=True)[0]
    if not row.ok:
        raise AuthError(LABELS[service], f"{row.detail}; not saved. {row.fix}".strip())
    name = {"slack": "slack_token", "zendesk": "zendesk_token", "pagerduty": "pagerduty_token"}[service]
    return _save(config, name, value, row.detail)


def save_pagerduty_client(config: Any, client_secret: str | None) -> Saved | None:
    """Check the OAuth client credentials by reading the escalation policy with them.
    zsc fetches and renews the short-lived access tokens itself, so what is worth
    saving is the client secret (when it was typed in now), not a token that expires."""
    p = config.pagerduty
    if not p.client_id or not p.escalation_policy_id:
        raise ConfigError("[pagerduty] client_id and escalation_policy_id must be set for the client-credentials "
                          "check; or store an API key with `zsc auth pagerduty --token -`")
    secret = (client_secret or "").strip() or p.client_secret
    trial = replace(config, pagerduty=replace(p, client_secret=secret, token=""))
    rows = pagerduty_checks(trial)
    failed = next((r for r in rows if not r.ok), None)
    if failed:
        raise AuthError("PagerDuty", f"{failed.detail}; not saved. {failed.fix}".strip())
    if client_secret and client_secret.strip() != p.client_secret:
        return _save(config, "pagerduty_client_secret", secret, rows[-1].detail)
    return None


def _with_token(config: Any, service: str, value: str) -> Any:
    if service == "slack":
        return replace(config, slack=replace(config.slack, token=value))
    if service == "zendesk":
        return replace(config, zendesk=replace(config.zendesk, token=value, oauth_token=""))
    return replace(config, pagerduty=replace(config.pagerduty, token=value))


# ---------------------------------------------------------------- checks

@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _scope_in(exc: Exception) -> str | None:
    """The scope a Slack missing_scope error names."""
    return getattr(exc, "needed", None)


def _reason(exc: Exception) -> str:
    """An adapter error without its "Service: method:" prefix and without its own advice."""
    text = str(exc).split(": ", 2)[-1] if isinstance(exc, ApiError) else str(exc)
    return text.split("; ")[0]


def slack_checks(config: Any, credential_only: bool = False) -> list[Check]:
    from zsc.adapters.slack import SlackAdapter

    s = config.slack
    if not s.token:
        return [Check("Slack token", False, "not set",
                      "run `zsc auth slack` (OAuth) or `zsc auth slack --token -`, or set ZSC_SLACK_TOKEN")]
    slack = SlackAdapter(s.token, s.api_url, timeout=config.sync.http_timeout)
    try:
        me = slack.auth_test()
    except AuthError as exc:
        return [Check("Slack token", False, f"{mask(s.token)} refused: {_reason(exc)}",
                      "run `zsc auth slack` for a new token (or replace [slack] token / ZSC_SLACK_TOKEN)")]
    except ApiError as exc:  # unreachable, or a server fault: says nothing about the token
        return [Check("Slack token", False, f"{mask(s.token)} could not be checked: {_reason(exc)}",
                      "check [slack] api_url and the network, then try again")]
    rows = [Check("Slack token", True, f"{mask(s.token)}: bot {me.get('user') or me.get('user_id')} "
                                        f"in workspace {me.get('team') or '?'}")]
    if credential_only:
        return rows
    rows.append(_slack_channel(slack, s.channel, me))
    report = getattr(config, "report", None)
    if report is not None and report.channel and report.channel != s.channel:
        rows.append(_slack_channel(slack, report.channel, me, setting="[report] channel",
                                   name=f"Slack report channel {report.channel}"))
    rows.append(_slack_email_scope(slack, config, s.channel))
    return rows


def _slack_channel(slack: Any, channel: str, me: dict[str, Any], setting: str = "[slack] channel",
                   name: str | None = None) -> Check:
    name = name or f"Slack channel {channel}"
    bot = f"@{me.get('user') or 'your-bot'}"
    try:
        info = slack.channel_info(channel)
    except NotFound as exc:
        return Check(name, False, _reason(exc), f"check {setting} (an ID like C0123ABCD), then `/invite {bot}` there")
    except AuthError as exc:
        scope = _scope_in(exc)
        if not scope:
            raise
        return Check(name, False, f"cannot look at the channel: scope {scope} not granted",
                     f"add {scope} to the app's bot scopes, reinstall it, and run `zsc auth slack`")
    if not info.get("is_member"):
        return Check(name, False, f"#{info.get('name', channel)}: the bot is not a member",
                     f"in #{info.get('name', channel)} type `/invite {bot}`")
    return Check(name, True, f"#{info.get('name', channel)}: the bot is a member")


def _slack_email_scope(slack: Any, config: Any, channel: str) -> Check:
    """users:read.email cannot be read off a token, so look someone up: any person
    zsc has met (or who wrote in the channel recently) shows an email only with it."""
    name = "Slack users:read.email"
    fix = "add users:read.email to the app's bot scopes, reinstall it, and run `zsc auth slack`"
    try:
        people = _people_to_look_up(slack, config, channel)
        if not people:
            slack.user(slack.bot_user_id)  # at least users:read
            return Check(name, True, "users:read granted; no person found to confirm that emails are visible")
        for person in people:
            if slack.user(person).get("email"):
                return Check(name, True, f"emails visible (looked up {person})")
    except ApiError as exc:
        scope = _scope_in(exc)
        if not scope:
            return Check(name, False, _reason(exc), "run `zsc auth check` again once the channel check passes")
        return Check(name, False, f"scope {scope} not granted", fix.replace("users:read.email", scope))
    return Check(name, False, f"no email visible for {', '.join(people)}", fix)


def _people_to_look_up(slack: Any, config: Any, channel: str) -> list[str]:

    found: list[str] = []
    try:  # people zsc has met, when the store is there (no store is created for this)
        from zsc.service import open_store
        from zsc.store import SlackUser

        store = open_store(config, dry_run=True)
        try:
            rows = SlackUser.select().where(SlackUser.email.is_null(False)).order_by(SlackUser.fetched_at.desc())
            found = [row.slack_user_id for row in rows.limit(3)]
        finally:
            store.close()
    except UserError:
        pass
    if not found:
        try:
            recent = list(reversed(slack.latest(channel)))
        except NotFound:  # the channel row already says why
            return found
        for message in reversed(recent):
            user = message.get("user")
            if user and not message.get("bot_id") and user not in found:
                found.append(user)
            if len(found) == 3:
                break
    return found


def zendesk_checks(config: Any, credential_only: bool = False) -> list[Check]:
    from zsc.adapters.zendesk import ZendeskAdapter

    z = config.zendesk
    credential = mask(z.oauth_token) if z.oauth_token else f"{z.email} / {mask(z.token)}"
    if not (z.oauth_token or (z.email and z.token)):
        return [Check("Zendesk credentials", False, "not set",
                      "run `zsc auth zendesk` (OAuth) or `zsc auth zendesk --token -` with [zendesk] email set")]
    zendesk = ZendeskAdapter(z.api_url, z.subdomain, email=z.email, token=z.token, oauth_token=z.oauth_token,
                             timeout=config.sync.http_timeout)
    try:
        me = zendesk.me()
    except AuthError as exc:
        return [Check("Zendesk credentials", False, f"{credential} refused: {_reason(exc)}",
                      "run `zsc auth zendesk`, or replace the API token (Admin Center → Apps and integrations → "
                      "Zendesk API)")]
    except ApiError as exc:  # unreachable, or a server fault: says nothing about the credential
        return [Check("Zendesk credentials", False, f"{credential} could not be checked: {_reason(exc)}",
                      "check [zendesk] api_url and the network, then try again")]
    if not me.get("id"):  # Zendesk answers anonymous callers with an empty user
        return [Check("Zendesk credentials", False, f"{credential} not accepted (anonymous user)",
                      "check [zendesk] email and token, or run `zsc auth zendesk`")]
    rows = [Check("Zendesk credentials", True, f"{credential}: {me.get('name')} <{me.get('email')}>, {me.get('role')}")]
    if not credential_only:
        rows += _zendesk_agent_and_group(zendesk, z.agent_user_id, z.group_id)
    return rows


def _zendesk_agent_and_group(zendesk: Any, agent_id: int, group_id: int) -> list[Check]:
    rows = []
    try:
        agent = zendesk.user(agent_id)
        is_agent = agent.get("role") in ("agent", "admin")
        rows.append(Check(f"Zendesk agent {agent_id}", is_agent, f"{agent.get('name')}, {agent.get('role')}",
                          "" if is_agent else "make this user an agent, or set [zendesk] agent_user_id to one"))
    except NotFound:
        rows.append(Check(f"Zendesk agent {agent_id}", False, "no such user",
                          "set [zendesk] agent_user_id to the ID in the agent's profile URL"))
    try:
        group = zendesk.group(group_id)
        rows.append(Check(f"Zendesk group {group_id}", True, str(group.get("name"))))
    except NotFound:
        rows.append(Check(f"Zendesk group {group_id}", False, "no such group",
                          "set [zendesk] group_id to the ID in Admin Center → People → Groups"))
        return rows
    member = agent_id in zendesk.group_member_ids(group_id)
    rows.append(Check("Zendesk agent in group", member,
                      f"agent {agent_id} {'is' if member else 'is not'} in group {group_id}",
                      "" if member else f"add the agent to group {group.get('name')} (Admin Center → People → Team)"))
    return rows


def pagerduty_checks(config: Any, credential_only: bool = False) -> list[Check]:
    from zsc.adapters.pagerduty import PagerDutyAdapter

    p = config.pagerduty
    if not (p.token or (p.client_id and p.client_secret)):
        return [Check("PagerDuty credentials", False, "not set",
                      "run `zsc auth pagerduty --token -` with an API key, or set client_id and client_secret")]
    credential = mask(p.token) if p.token else f"OAuth client {p.client_id}"
    if not p.escalation_policy_id:
        # The only call zsc makes is about that policy; without it there is nothing to try.
        return [Check("PagerDuty credentials", True, f"{credential}: not tried ([pagerduty] escalation_policy_id "
                                                     "is empty, so on-call messages are off)")]
    pagerduty = PagerDutyAdapter(p.api_url, token=p.token or None, client_id=p.client_id or None,
                                 client_secret=p.client_secret or None, token_url=p.token_url, timeout=p.timeout)
    try:
        policy = pagerduty.policy(p.escalation_policy_id)
    except AuthError as exc:
        return [Check("PagerDuty credentials", False, f"{credential} refused: {_reason(exc)}",
                      "run `zsc auth pagerduty --token -` with a valid API key, or fix client_id and client_secret")]
    except NotFound:
        return [Check("PagerDuty credentials", True, credential),
                Check(f"PagerDuty policy {p.escalation_policy_id}", False, "not found",
                      "set [pagerduty] escalation_policy_id to the ID in the policy's URL (P…)")]
    except ApiError as exc:
        return [Check("PagerDuty credentials", False, _reason(exc), "check [pagerduty] api_url and the network")]
    return [Check("PagerDuty credentials", True, credential),
            Check(f"PagerDuty policy {p.escalation_policy_id}", True, f"{policy.name}, {policy.levels} level(s)")]


def pagerduty_configured(config: Any) -> bool:
    p = config.pagerduty
    return bool(p.escalation_policy_id or p.token or p.client_id)


# Each returns its service's rows, the credential first; credential_only stops there
# (for `--token`, where the other rows depend on settings beside the token).
CHECKS: dict[str, Callable[..., list[Check]]] = {
    "slack": slack_checks, "zendesk": zendesk_checks, "pagerduty": pagerduty_checks,
}


def check_all(config: Any) -> list[Check]:
    """Every check, in order; PagerDuty only when it is configured. A failure of one
    service never hides the others' rows."""
    rows: list[Check] = []
    for service in SERVICES:
        if service == "pagerduty" and not pagerduty_configured(config):
            continue
        try:
            rows += CHECKS[service](config)
        except ApiError as exc:
            rows.append(Check(LABELS[service], False, _reason(exc), "try again; if it persists, check the network"))
    return rows
