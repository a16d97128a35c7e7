"""Preflight: every configured credential and setting that names something on the far
side, tried for real, one `Check` row each with the fix for each failure. The same
checks serve `zsc auth check` (all rows, printed) and the start of `zsc run`
(`require_essentials`: a refused credential or a wrong channel stops it with one
line; an API that merely does not answer is left to the polls).

Secrets are only ever shown masked (`zsc.config.mask`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from loguru import logger

from zsc.config import mask
from zsc.errors import ApiError, AuthError, ConfigError, NotFound, UserError, WrongApiUrl

SERVICES = ("slack", "zendesk", "pagerduty")
LABELS = {"slack": "Slack", "zendesk": "Zendesk", "pagerduty": "PagerDuty"}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    # why it failed: "refused" (a credential), "config" (a setting names nothing usable),
    # "unreachable" (no answer: says nothing about the setting), "optional" (a feature
    # falls back without it: `zsc run` warns and starts); "" when ok
    kind: str = ""
    error: Exception | None = field(default=None, compare=False, repr=False)  # the adapter's own error, if any


def _scope_in(exc: Exception) -> str | None:
    """The scope a Slack missing_scope error names."""
    return getattr(exc, "needed", None)


def _reason(exc: Exception) -> str:
    """An adapter error without its "Service: method:" prefix and without its own advice."""
    text = str(exc).split(": ", 2)[-1] if isinstance(exc, ApiError) else str(exc)
    return text.split("; ")[0]


def _wrong_url(name: str, credential: str, exc: WrongApiUrl) -> Check:
    """The API's address is wrong, so the credential could not even be tried: a
    setting to fix (`zsc run` refuses to start, exit 2)."""
    what, _, fix = str(exc).split(": ", 2)[-1].partition("; ")
    return Check(name, False, f"{credential} could not be checked: {what}", fix or f"check {exc.setting}", "config", exc)


def slack_checks(config: Any, credential_only: bool = False, essential: bool = False) -> list[Check]:
    """The token, the channel, the report channel and the email scope. `essential`:
    only what `zsc run` needs at start (the token and the channel)."""
    from zsc.adapters.factory import slack_from

    s = config.slack
    if not s.token:
        return [Check("Slack token", False, "not set",
                      "run `zsc auth slack` (OAuth) or `zsc auth slack --token -`, or set ZSC_SLACK_TOKEN", "refused")]
    slack = slack_from(config)
    try:
        me = slack.auth_test()
    except WrongApiUrl as exc:
        return [_wrong_url("Slack token", mask(s.token), exc)]
    except AuthError as exc:
        return [Check("Slack token", False, f"{mask(s.token)} refused: {_reason(exc)}",
                      "run `zsc auth slack` for a new token (or replace [slack] token / ZSC_SLACK_TOKEN)", "refused",
                      exc)]
    except ApiError as exc:  # unreachable, or a server fault: says nothing about the token
        return [Check("Slack token", False, f"{mask(s.token)} could not be checked: {_reason(exc)}",
                      "check [slack] api_url and the network, then try again", "unreachable")]
    rows = [Check("Slack token", True, f"{mask(s.token)}: bot {me.user or me.user_id} in workspace {me.team or '?'}")]
    if credential_only:
        return rows
    channels = [c.id for c in config.channel_list] if hasattr(config, "channel_list") else [s.channel]
    for channel in channels:  # every mirrored channel: [slack] channel and the [[channels]] entries
        setting = "[slack] channel" if channel == s.channel else "[[channels]] id"
        rows.append(_slack_channel(slack, channel, me, setting=setting))
    file_scopes = _slack_file_scopes(config, me)
    if essential:
        return rows + ([file_scopes] if file_scopes else [])
    report = getattr(config, "report", None)
    if report is not None and report.channel and report.channel not in channels:
        rows.append(_slack_channel(slack, report.channel, me, setting="[report] channel",
                                   name=f"Slack report channel {report.channel}"))
    rows.append(_slack_email_scope(slack, config, channels[0]))
    return rows + ([file_scopes] if file_scopes else [])


FILE_SCOPES = {"files:read": "files posted in Slack reach tickets only as links",
               "files:write": "Zendesk attachments reach threads only as links"}


def _slack_file_scopes(config: Any, me: Any) -> Check | None:
    """With [files] on, files:read and files:write, read off the scopes Slack names in
    the answer to auth.test (its x-oauth-scopes header). Without one, files are named
    with their links instead: a problem to fix, not a reason to stop."""
    files = getattr(config, "files", None)
    if files is None or not files.enabled:
        return None
    name = "Slack file scopes"
    if me.scopes is None:
        return Check(name, True, "not checked: Slack's answer did not name the token's scopes")
    missing = [scope for scope in FILE_SCOPES if scope not in me.scopes]
    if not missing:
        return Check(name, True, "files:read and files:write granted")
    scopes = " and ".join(missing)
    return Check(name, False, f"scope {scopes} not granted: " + "; ".join(FILE_SCOPES[m] for m in missing),
                 f"add {scopes} at api.slack.com/apps → your app → OAuth & Permissions → Bot Token Scopes, "
                 "then reinstall the app to the workspace (or set [files] enabled = false)", "optional")


def _slack_channel(slack: Any, channel: str, me: Any, setting: str = "[slack] channel",
                   name: str | None = None) -> Check:
    name = name or f"Slack channel {channel}"
    bot = f"@{me.user or 'your-bot'}"
    try:
        info = slack.channel_info(channel)
    except NotFound as exc:
        return Check(name, False, _reason(exc), f"check {setting} (an ID like C0123ABCD), then `/invite {bot}` there",
                     "config")
    except AuthError as exc:
        scope = _scope_in(exc)
        if not scope:
            raise
        return Check(name, False, f"cannot look at the channel: scope {scope} not granted",
                     f"add {scope} to the app's bot scopes, reinstall it, and run `zsc auth slack`", "refused", exc)
    except ApiError as exc:
        return Check(name, False, f"could not be checked: {_reason(exc)}", "try again", "unreachable")
    if not info.is_member:
        return Check(name, False, f"#{info.name}: the bot is not a member",
                     f"in #{info.name} type `/invite {bot}`, or change {setting}", "config")
    return Check(name, True, f"#{info.name}: the bot is a member")


def _slack_email_scope(slack: Any, config: Any, channel: str) -> Check:
    """users:read.email cannot be read off a token, so look someone up: any person
    zsc has met (or who wrote in the channel recently) shows an email only with it."""
    name = "Slack users:read.email"
    fix = "add users:read.email to the app's bot scopes, reinstall it, and run `zsc auth slack`"
    try:
        people = _people_to_look_up(slack, config, channel)
        if not people:
            slack.user(slack.auth_test().user_id)  # at least users:read
            return Check(name, True, "users:read granted; no person found to confirm that emails are visible")
        for person in people:
            if slack.user(person).email:
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
        from zsc.store import StoreError, open_store

        store = open_store(config.database.url, create=False)
        try:
            found = store.slack_people_with_email(3)
        finally:
            store.close()
    except (UserError, StoreError):
        pass
    if not found:
        try:
            recent = list(reversed(slack.latest(channel)))
        except NotFound:  # the channel row already says why
            return found
        for message in reversed(recent):
            user = message.user
            if user and not message.bot_id and user not in found:
                found.append(user)
            if len(found) == 3:
                break
    return found


def zendesk_checks(config: Any, credential_only: bool = False) -> list[Check]:
    from zsc.adapters.factory import zendesk_from

    z = config.zendesk
    credential = mask(z.oauth_token) if z.oauth_token else f"{z.email} / {mask(z.token)}"
    if not (z.oauth_token or (z.email and z.token)):
        return [Check("Zendesk credentials", False, "not set",
                      "run `zsc auth zendesk` (OAuth) or `zsc auth zendesk --token -` with [zendesk] email set", "refused")]
    zendesk = zendesk_from(config)
    try:
        return _zendesk_rows(zendesk, z, credential, credential_only)
    finally:
        # No pooled connection may outlive this: --detach closes descriptors under
        # Python's feet, and a late close() of a stale one could hit a reused number.
        zendesk.session.close()


def _zendesk_rows(zendesk: Any, z: Any, credential: str, credential_only: bool) -> list[Check]:
    try:
        me = zendesk.me()
    except WrongApiUrl as exc:
        return [_wrong_url("Zendesk credentials", credential, exc)]
    except AuthError as exc:
        return [Check("Zendesk credentials", False, f"{credential} refused: {_reason(exc)}",
                      "run `zsc auth zendesk`, or replace the API token (Admin Center → Apps and integrations → "
                      "Zendesk API)", "refused", exc)]
    except ApiError as exc:  # unreachable, or a server fault: says nothing about the credential
        return [Check("Zendesk credentials", False, f"{credential} could not be checked: {_reason(exc)}",
                      "check [zendesk] api_url and the network, then try again", "unreachable")]
    if me is None:  # Zendesk answers anonymous callers with an empty user
        return [Check("Zendesk credentials", False, f"{credential} not accepted (anonymous user)",
                      "check [zendesk] email and token, or run `zsc auth zendesk`", "refused")]
    rows = [Check("Zendesk credentials", True, f"{credential}: {me.name} <{me.email}>, {me.role}")]
    if not credential_only:
        rows += _zendesk_agent_and_group(zendesk, z.agent_user_id, z.group_id)
    return rows


def _zendesk_agent_and_group(zendesk: Any, agent_id: int, group_id: int) -> list[Check]:
    rows = []
    try:
        agent = zendesk.user(agent_id)
        is_agent = agent.role in ("agent", "admin")
        rows.append(Check(f"Zendesk agent {agent_id}", is_agent, f"{agent.name}, {agent.role}",
                          "" if is_agent else "make this user an agent, or set [zendesk] agent_user_id to one"))
    except NotFound:
        rows.append(Check(f"Zendesk agent {agent_id}", False, "no such user",
                          "set [zendesk] agent_user_id to the ID in the agent's profile URL"))
    try:
        group = zendesk.group(group_id)
        rows.append(Check(f"Zendesk group {group_id}", True, group.name))
    except NotFound:
        rows.append(Check(f"Zendesk group {group_id}", False, "no such group",
                          "set [zendesk] group_id to the ID in Admin Center → People → Groups"))
        return rows
    member = agent_id in zendesk.group_member_ids(group_id)
    rows.append(Check("Zendesk agent in group", member,
                      f"agent {agent_id} {'is' if member else 'is not'} in group {group_id}",
                      "" if member else f"add the agent to group {group.name} (Admin Center → People → Team)"))
    return rows


def pagerduty_checks(config: Any, credential_only: bool = False) -> list[Check]:
    from zsc.adapters.factory import pagerduty_from

    p = config.pagerduty
    if not (p.token or p.oauth_token or (p.client_id and p.client_secret)):
        return [Check("PagerDuty credentials", False, "not set",
                      "run `zsc auth pagerduty --token -` with an API key, or set client_id and client_secret")]
    credential = (mask(p.token) if p.token else f"OAuth token {mask(p.oauth_token)}" if p.oauth_token
                  else f"OAuth client {p.client_id}")
    if not p.escalation_policy_id:
        # The only call zsc makes is about that policy; without it there is nothing to try.
        return [Check("PagerDuty credentials", True, f"{credential}: not tried ([pagerduty] escalation_policy_id "
                                                     "is empty, so on-call messages are off)")]
    pagerduty = pagerduty_from(p)
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
    return bool(p.escalation_policy_id or p.token or p.oauth_token or p.client_id)


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


def require_essentials(config: Any) -> None:
    """What `zsc run` checks before anything else (and again on reload): the Slack
    token and channel, the Zendesk credentials. A refused credential stops zsc with
    one line (exit 1; systemd's Restart= tries again later), a channel that names
    nothing usable too (exit 2: the config must change). An API that merely does not
    answer does not stop zsc: the polls retry it; nor does a missing file scope (one
    warning: files are named with their links meanwhile)."""
    rows = slack_checks(config, essential=True) + zendesk_checks(config, credential_only=True)
    for row in rows:
        if row.ok:
            continue
        line = f"{row.name}: {row.detail}; {row.fix}"
        if row.kind == "unreachable":
            logger.warning("{}; continuing, the polls will retry", line)
        elif row.kind == "optional":
            logger.warning("{}; continuing without it", line)
        elif row.kind == "config":
            raise ConfigError(f"{row.name.split()[0]}: {line}")
        elif isinstance(row.error, AuthError):
            raise row.error  # the adapter's own words: what was refused, and the fix
        else:
            raise AuthError(row.name.split()[0], line)
