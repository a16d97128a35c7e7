"""Slack Web API through slack_sdk's WebClient. Returns plain dicts; raises zsc errors."""

from __future__ import annotations

import http.client
import socket
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.error import URLError

from zsc.adapters.ratelimit import Limited, RateGate, Transient
from zsc.errors import AuthError, NotFound, Rejected

API = "Slack"
AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
# What each channel error means, and the fix; {setting} is the setting that named the
# channel ([slack] channel unless a caller knows better, see channel_problem).
CHANNEL_ERRORS = {
    "channel_not_found": "channel {channel} does not exist or the bot cannot see it; "
                         "check {setting} (a channel id like C0123ABCD)",
    "not_in_channel": "the bot is not a member of channel {channel}; invite it with /invite @your-bot there, "
                      "or change {setting}",
    "is_archived": "channel {channel} is archived; unarchive it or point {setting} at another",
}
NETWORK_ERRORS = (URLError, socket.timeout, TimeoutError, ConnectionError, http.client.HTTPException, OSError)
PAGE_LIMIT = 200


class SlackAdapter:
    def __init__(self, token: str, api_url: str, timeout: float = 20.0, gate: RateGate | None = None) -> None:
        from slack_sdk import WebClient

        base = api_url if api_url.endswith("/") else api_url + "/"
        # No client-side retries: the gate decides, and a write must never be blindly repeated.
        self.client = WebClient(token=token, base_url=base, timeout=int(max(1, timeout)), retry_handlers=[])
        self.gate = gate or RateGate(API)
        self._identity: dict[str, Any] | None = None

    # ---- plumbing ----
    def _call(self, method: str, *, write: bool = False, **kwargs: Any) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError

        def attempt() -> dict[str, Any]:
            try:
                # The named methods encode arguments the way Slack expects (JSON or form, booleans).
                return getattr(self.client, method.replace(".", "_"))(**kwargs)
            except SlackApiError as exc:
                raise self._translate(method, exc, kwargs.get("channel")) from None
            except NETWORK_ERRORS as exc:
                # The gate adds "{method}: " and, for a network error, what to check.
                raise Transient(f"no answer from {self.client.base_url} ({type(exc).__name__}: {exc})",
                                network=True) from None

        response = self.gate.call(attempt, write=write, what=method)
        data = response.data
        if not isinstance(data, dict):
            raise Rejected(API, f"{method}: unexpected answer (not JSON)")
        return data

    def _translate(self, method: str, exc: Any, channel: str | None = None) -> Exception:
        response = exc.response
        status = getattr(response, "status_code", 0)
        data = response.data if isinstance(getattr(response, "data", None), dict) else {}
        error = str(data.get("error", ""))
        if status == 429 or error == "ratelimited":
            headers = {k.lower(): v for k, v in (response.headers or {}).items()}
            value = headers.get("retry-after", "1")
            value = value[0] if isinstance(value, list) else value
            return Limited(float(value or 1))
        if status >= 500 or error.startswith("Received a response in a non-JSON format"):
            return Transient(f"HTTP {status} {error[:80]}".strip())
        if error in AUTH_ERRORS:
            return AuthError(API, f"{method}: the token was refused ({error}); replace it with `zsc auth slack` and check with `zsc auth check`")
        if error == "missing_scope":
            needed = data.get("needed", "?")
            return AuthError(API, f"{method}: the app lacks the scope {needed}; add it under OAuth & Permissions, reinstall the app, and update the token",
                             needed=str(needed))
        if error in CHANNEL_ERRORS:
            return channel_problem(method, error, channel)
        return Rejected(API, f"{method}: {error or f'HTTP {status}'}")

    # ---- reads ----
    def auth_test(self) -> dict[str, Any]:
        if self._identity is None:
            self._identity = self._call("auth.test")
        return self._identity

    @property
    def bot_id(self) -> str | None:
        return self.auth_test().get("bot_id")

    @property
    def bot_user_id(self) -> str | None:
        return self.auth_test().get("user_id")

    def channel_info(self, channel: str) -> dict[str, Any]:
        return self._call("conversations.info", channel=channel)["channel"]

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            args = dict(kwargs, limit=PAGE_LIMIT)
            if cursor:
                args["cursor"] = cursor
            data = self._call(method, **args)
            yield from data.get(key) or []
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def history(self, channel: str, oldest: str | None = None, latest: str | None = None) -> list[dict[str, Any]]:
        """Top-level messages (thread parents) after `oldest`, oldest first."""
        args: dict[str, Any] = {"channel": channel, "include_all_metadata": True}
        if oldest:
            args["oldest"] = oldest
        if latest:
            args["latest"] = latest
        messages = list(self._pages("conversations.history", "messages", **args))
        return sorted(messages, key=lambda m: _ts_key(m.get("ts", "0")))

    def latest(self, channel: str, limit: int = 15) -> list[dict[str, Any]]:
        """The newest top-level messages, one call (cheap even on Slack's limited tier)."""
        return list(self._call("conversations.history", channel=channel, limit=limit).get("messages") or [])

    def replies(self, channel: str, thread_ts: str, oldest: str | None = None) -> list[dict[str, Any]]:
        """Replies in a thread after `oldest` (the parent excluded), oldest first, each once."""
        args: dict[str, Any] = {"channel": channel, "ts": thread_ts, "include_all_metadata": True}
        if oldest:
            args["oldest"] = oldest
        seen: dict[str, dict[str, Any]] = {}
        for message in self._pages("conversations.replies", "messages", **args):
            ts = message.get("ts")
            if ts and ts != thread_ts and (not oldest or _ts_key(ts) > _ts_key(oldest)):
                seen[ts] = message
        return sorted(seen.values(), key=lambda m: _ts_key(m["ts"]))

    def user(self, user_id: str) -> dict[str, Any]:
        """{"name", "email"} for a Slack user; email is None when Slack gives none."""
        user = self._call("users.info", user=user_id).get("user") or {}
        profile = user.get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
                or user.get("name") or user_id)
        return {"id": user_id, "name": name, "email": profile.get("email") or None, "is_bot": bool(user.get("is_bot"))}

    # ---- writes ----
    def post(self, channel: str, text: str, thread_ts: str | None = None,
             metadata: dict[str, Any] | None = None) -> str:
        args: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        if thread_ts:
            args["thread_ts"] = thread_ts
        if metadata:
            args["metadata"] = metadata
        return self._call("chat.postMessage", write=True, **args)["ts"]


def channel_problem(method: str, error: str, channel: str | None, setting: str = "[slack] channel") -> NotFound:
    """A channel error (a key of CHANNEL_ERRORS) as NotFound naming the channel and the
    setting to fix; `.method`, `.reason` (Slack's error code) and `.channel` let a caller
    that knows which setting named the channel say so (see zsc.report.post_report)."""
    problem = NotFound(API, f"{method}: {CHANNEL_ERRORS[error].format(channel=channel or '?', setting=setting)}")
    problem.method, problem.reason, problem.channel = method, error, channel
    return problem


def _ts_key(ts: str) -> tuple[int, int]:
    """Slack ts strings compare as (seconds, micro) pairs, not as floats."""
    seconds, _, micro = ts.partition(".")
    return int(seconds or 0), int((micro or "0").ljust(6, "0")[:6])


def ts_time(ts: str) -> datetime:
    """A Slack ts as naive UTC (the store's convention)."""
    return datetime.fromtimestamp(float(ts), timezone.utc).replace(tzinfo=None)


def ts_after(a: str, b: str | None) -> bool:
    return b is None or _ts_key(a) > _ts_key(b)


def permalink(workspace_uri: str, channel: str, ts: str, thread_ts: str | None = None) -> str:
    base = workspace_uri if workspace_uri.endswith("/") else workspace_uri + "/"
    link = f"{base}archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link
