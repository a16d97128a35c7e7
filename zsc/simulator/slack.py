"""Fake Slack Web API: one workspace, one bot, channels with threads, OAuth v2.

Everything is `POST /api/<method>` answering HTTP 200 with `{"ok": ...}`, which is what
slack_sdk's WebClient sends and expects. The Python methods below act as people would
(post, edit, join) so tests can set the scene and look at what the bot did.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from zsc.simulator.base import Abort, Fault, OAuthClients, Request, Response, Service, TokenStore, now, route

DEFAULT_SCOPES = (
    "channels:history", "groups:history", "channels:read", "groups:read",
    "chat:write", "users:read", "users:read.email",
)
MAX_TEXT = 40_000  # Slack truncates longer message text
CODE_TTL = 600  # seconds an OAuth code stays redeemable
AUTH_ERRORS = {"missing": "not_authed", "unknown": "invalid_auth", "revoked": "token_revoked", "expired": "token_expired"}


def slack_method(name: str):
    return route("POST", "/api/" + re.escape(name), name)


def _ok(**data: Any) -> Response:
    return Response(200, {"ok": True, **data})


def _fail(error: str, **extra: Any) -> Abort:
    # Slack reports API errors with HTTP 200; only the "ok" flag says it failed.
    return Abort(Response(200, {"ok": False, "error": error, **extra}))


def _ts_value(ts: str) -> Decimal:
    """Slack ts strings compared exactly (floats lose the microseconds)."""
    value = Decimal(ts)
    if not value.is_finite():
        raise InvalidOperation(ts)
    return value


def _encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> Decimal:
    try:
        kind, _, ts = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind != "next_ts":
            raise ValueError(kind)
        return _ts_value(ts)
    except (binascii.Error, UnicodeDecodeError, ValueError, InvalidOperation):
        raise _fail("invalid_cursor") from None


@dataclass
class _Channel:
    id: str
    name: str
    is_member: bool
    is_private: bool = False
    top: list[dict] = field(default_factory=list)  # top-level messages, oldest first
    replies: dict[str, list[dict]] = field(default_factory=dict)  # parent ts -> replies, oldest first
    by_ts: dict[str, dict] = field(default_factory=dict)  # every message

    def root(self, ts: str) -> dict | None:
        """The thread parent of the message `ts` (itself when top-level)."""
        msg = self.by_ts.get(ts)
        if msg is None:
            return None
        return self.by_ts[msg["thread_ts"]] if "thread_ts" in msg else msg


@dataclass
class _Code:
    scopes: tuple[str, ...]
    client_id: str | None
    expires_at: float
    used: bool = False


class SlackSim(Service):
    name = "slack"

    def __init__(self, bot_token: str = "xoxb-sim-token", workspace_url: str = "https://sim.slack.com/") -> None:
        super().__init__()
        self.bot_token = bot_token
        self.bot_user_id = "UBOT"
        self.bot_id = "BBOT"
        self.app_id = "ASIM"
        self.team_id = "T0SIM"
        self.team_name = "Simulated Workspace"
        self.workspace_url = workspace_url
        # Set to 15 to act like the limited tier for non-Marketplace apps: larger limits are clamped.
        self.page_size_cap: int | None = None
        self.users: dict[str, dict] = {}
        self.channels: dict[str, _Channel] = {}
        self.tokens = TokenStore()
        self.oauth_apps = OAuthClients()
        self._codes: dict[str, _Code] = {}
        self._last_ts_us = 0
        self._file_seq = 0
        self.add_token(bot_token)
        self.add_user(self.bot_user_id, "zsc", real_name="zsc", is_bot=True)

    # ------------------------------------------------------------------ control surface

    def add_token(self, token: str, scopes: Iterable[str] = DEFAULT_SCOPES) -> None:
        with self.lock:
            self.tokens.add(token, scopes)

    def revoke_token(self, token: str | None = None) -> None:
        """Revoke `token` (default: the bot token), as uninstalling the app would."""
        with self.lock:
            self.tokens.revoke(token or self.bot_token)

    def add_user(self, user_id: str, name: str, email: str | None = None, real_name: str | None = None,
                 display_name: str | None = None, is_bot: bool = False) -> None:
        with self.lock:
            self.users[user_id] = {
                "id": user_id, "name": name, "email": email, "is_bot": is_bot,
                "real_name": real_name if real_name is not None else name,
                # Slack leaves display_name empty unless the person set one.
                "display_name": display_name or "",
            }

    def add_channel(self, channel_id: str, name: str, bot_is_member: bool = True, is_private: bool = False) -> None:
        with self.lock:
            self.channels[channel_id] = _Channel(channel_id, name, bot_is_member, is_private)

    def post(self, channel: str, user: str | None, text: str, thread_ts: str | None = None,
             files: list[dict] | None = None, subtype: str | None = None, bot_id: str | None = None) -> str:
        """Post as a person (or, with `bot_id` and subtype "bot_message", as a legacy bot)."""
        with self.lock:
            ch = self._known_channel(channel)
            msg: dict[str, Any] = {"type": "message", "text": text}
            if user:
                msg["user"] = user
                msg["team"] = self.team_id
            if bot_id:
                msg["bot_id"] = bot_id
            if files:
                msg["files"] = [self._file(f) for f in files]
                msg["upload"] = False
                subtype = subtype or "file_share"
            if subtype:
                msg["subtype"] = subtype
            return self._add(ch, msg, thread_ts, missing_thread=ValueError(f"no message {thread_ts} in {channel}"))["ts"]

    def edit(self, channel: str, ts: str, text: str) -> None:
        with self.lock:
            msg = self._known_channel(channel).by_ts[ts]
            msg["text"] = text
            msg["edited"] = {"user": msg.get("user") or msg.get("bot_id"), "ts": self._next_ts()}

    def messages(self, channel: str) -> list[dict]:
        """Top-level messages, oldest first, as history would show them (with metadata)."""
        with self.lock:
            ch = self._known_channel(channel)
            return [self._render(ch, m, with_metadata=True) for m in ch.top]

    def thread(self, channel: str, thread_ts: str) -> list[dict]:
        """The replies of a thread (parent excluded), oldest first."""
        with self.lock:
            ch = self._known_channel(channel)
            return [self._render(ch, m, with_metadata=True) for m in ch.replies.get(thread_ts, [])]

    def bot_posts(self, channel: str) -> list[dict]:
        """Everything this bot posted in `channel`, top-level or in threads, oldest first."""
        with self.lock:
            ch = self._known_channel(channel)
            mine = [m for m in ch.by_ts.values() if m.get("bot_id") == self.bot_id]
            return [self._render(ch, m, with_metadata=True) for m in sorted(mine, key=lambda m: _ts_value(m["ts"]))]

    def register_oauth_app(self, client_id: str, client_secret: str, redirect_uri: str | None = None) -> None:
        with self.lock:
            self.oauth_apps.register(client_id, client_secret, redirect_uri=redirect_uri)

    def issue_oauth_code(self, scopes: Iterable[str] = DEFAULT_SCOPES, client_id: str | None = None) -> str:
        """A code as Slack would hand to the redirect URI after someone approves the install.
        Bound to `client_id` when given, else redeemable by any registered app."""
        with self.lock:
            code = f"{secrets.randbelow(10**12)}.{secrets.token_hex(8)}"
            self._codes[code] = _Code(tuple(scopes), client_id, now() + CODE_TTL)
            return code

    # ------------------------------------------------------------------ base hooks

    def authenticate(self, req: Request, endpoint: str) -> Response | None:
        if endpoint == "oauth.v2.access":  # authenticated by the client credentials instead
            return None
        token, problem = self.tokens.check(req.bearer() or req.arg("token"))
        if problem:
            return Response(200, {"ok": False, "error": AUTH_ERRORS[problem]})
        req.principal = token
        return None

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            return Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(int(fault.retry_after))})
        error = "service_unavailable" if fault.kind == "503" else "internal_error"
        return Response(int(fault.kind), {"ok": False, "error": error})

    def not_found(self, req: Request) -> Response:
        return Response(404, {"ok": False, "error": "unknown_method"})

    # ------------------------------------------------------------------ Web API methods

    @slack_method("auth.test")
    def _auth_test(self, req: Request) -> Response:
        return _ok(url=self.workspace_url, team=self.team_name, user=self.users[self.bot_user_id]["name"],
                   team_id=self.team_id, user_id=self.bot_user_id, bot_id=self.bot_id, is_enterprise_install=False)

    @slack_method("conversations.history")
    def _history(self, req: Request) -> Response:
        ch = self._channel(req, "{kind}:history", member=True)
        include = self._bounds(req)
        newest_first = [m for m in reversed(ch.top) if include(m["ts"])]
        page, more = self._page(req, newest_first, newest_first=True, default_limit=100, max_limit=999)
        with_metadata = req.flag("include_all_metadata")
        return _ok(messages=[self._render(ch, m, with_metadata) for m in page], **more)

    @slack_method("conversations.replies")
    def _replies(self, req: Request) -> Response:
        ch = self._channel(req, "{kind}:history", member=True)
        parent = ch.root(req.arg("ts") or "")
        if parent is None:
            raise _fail("thread_not_found")
        include = self._bounds(req)
        # The parent always leads the first page, whatever oldest/latest say; the
        # ts-based cursor leaves it off the later pages.
        thread = [parent] + [m for m in ch.replies.get(parent["ts"], []) if include(m["ts"])]
        page, more = self._page(req, thread, newest_first=False, default_limit=1000, max_limit=1000)
        with_metadata = req.flag("include_all_metadata")
        return _ok(messages=[self._render(ch, m, with_metadata) for m in page], **more)

    @slack_method("chat.postMessage")
    def _post_message(self, req: Request) -> Response:
        ch = self._channel(req, "chat:write", member=True)
        text = req.arg("text") or ""
        blocks = self._json_arg(req, "blocks", "invalid_blocks")
        if not text.strip() and not blocks and not req.arg("attachments"):
            raise _fail("no_text")
        msg: dict[str, Any] = {
            "type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id,
            "text": text[:MAX_TEXT], "team": self.team_id,
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.users[self.bot_user_id]["name"]},
        }
        if blocks:
            msg["blocks"] = blocks
        metadata = self._json_arg(req, "metadata", "invalid_metadata_format")
        if metadata:
            if not isinstance(metadata, dict) or "event_type" not in metadata:
                raise _fail("invalid_metadata_schema")
            msg["metadata"] = {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload", {})}
        msg = self._add(ch, msg, req.arg("thread_ts"), missing_thread=_fail("thread_not_found"))
        return _ok(channel=ch.id, ts=msg["ts"], message=self._render(ch, msg, with_metadata=True))

    @slack_method("chat.getPermalink")
    def _permalink(self, req: Request) -> Response:
        ch = self._channel(req)  # needs no scope
        msg = ch.by_ts.get(req.arg("message_ts") or "")
        if msg is None:
            raise _fail("message_not_found")
        link = f"{self.workspace_url}archives/{ch.id}/p{msg['ts'].replace('.', '')}"
        if "thread_ts" in msg and msg["thread_ts"] != msg["ts"]:
            link += f"?thread_ts={msg['thread_ts']}&cid={ch.id}"
        return _ok(channel=ch.id, permalink=link)

    @slack_method("users.info")
    def _users_info(self, req: Request) -> Response:
        self._require_scope(req, "users:read")
        user = self.users.get(req.arg("user") or "")
        if user is None:
            raise _fail("user_not_found")
        profile = {"display_name": user["display_name"], "real_name": user["real_name"]}
        if user["email"] and "users:read.email" in req.principal.scopes:
            profile["email"] = user["email"]
        if user["id"] == self.bot_user_id:
            profile["bot_id"] = self.bot_id
        return _ok(user={
            "id": user["id"], "team_id": self.team_id, "name": user["name"], "real_name": user["real_name"],
            "is_bot": user["is_bot"], "deleted": False, "profile": profile,
        })

    @slack_method("conversations.info")
    def _conversations_info(self, req: Request) -> Response:
        ch = self._channel(req, "{kind}:read")
        return _ok(channel={"id": ch.id, "name": ch.name, "is_channel": True, "is_member": ch.is_member,
                            "is_private": ch.is_private, "is_archived": False})

    @slack_method("oauth.v2.access")
    def _oauth_access(self, req: Request) -> Response:
        client_id, secret = req.client_credentials()
        problem = self.oauth_apps.check(client_id, secret)
        if problem:
            raise _fail("invalid_client_id" if problem == "unknown_client" else "bad_client_secret")
        code = self._codes.get(req.arg("code") or "")
        if code is None or code.client_id not in (None, client_id):
            raise _fail("invalid_code")
        if code.used:
            raise _fail("code_already_used")
        if now() >= code.expires_at:
            raise _fail("invalid_code")  # Slack does not tell expired codes apart
        registered = self.oauth_apps.get(client_id)["redirect_uri"]
        if req.arg("redirect_uri") and registered and req.arg("redirect_uri") != registered:
            raise _fail("bad_redirect_uri")
        code.used = True
        token = self.tokens.issue("xoxb-", code.scopes)
        return _ok(access_token=token.value, token_type="bot", scope=",".join(code.scopes),
                   bot_user_id=self.bot_user_id, app_id=self.app_id,
                   team={"id": self.team_id, "name": self.team_name}, enterprise=None,
                   is_enterprise_install=False, authed_user={"id": ""})

    # ------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        # Strictly increasing even when the clock stands still (frozen in tests).
        self._last_ts_us = max(int(round(now() * 1_000_000)), self._last_ts_us + 1)
        return "%d.%06d" % divmod(self._last_ts_us, 1_000_000)

    def _add(self, ch: _Channel, msg: dict, thread_ts: str | None, missing_thread: Exception) -> dict:
        if thread_ts:
            parent = ch.root(thread_ts)
            if parent is None:
                raise missing_thread
            msg["thread_ts"] = parent["ts"]
            if "user" in parent:
                msg["parent_user_id"] = parent["user"]
        msg["ts"] = self._next_ts()
        if thread_ts:
            ch.replies.setdefault(msg["thread_ts"], []).append(msg)
        else:
            ch.top.append(msg)
        ch.by_ts[msg["ts"]] = msg
        return msg

    def _render(self, ch: _Channel, msg: dict, with_metadata: bool) -> dict:
        out = copy.deepcopy(msg)
        if not with_metadata:
            out.pop("metadata", None)
        replies = ch.replies.get(msg["ts"])
        if replies:
            users = list(dict.fromkeys(r.get("user") or r.get("bot_id") for r in replies))
            out.update(thread_ts=msg["ts"], reply_count=len(replies), reply_users=users,
                       reply_users_count=len(users), latest_reply=replies[-1]["ts"])
        return out

    def _file(self, f: dict) -> dict:
        self._file_seq += 1
        return {"id": f"F{self._file_seq:08d}", "title": f.get("name"), **f}

    def _known_channel(self, channel_id: str) -> _Channel:
        if channel_id not in self.channels:
            raise KeyError(f"no channel {channel_id}; add_channel() it first")
        return self.channels[channel_id]

    def _require_scope(self, req: Request, scope: str) -> None:
        scopes = req.principal.scopes
        if scope not in scopes:
            raise _fail("missing_scope", needed=scope, provided=",".join(sorted(scopes)))

    def _channel(self, req: Request, scope: str | None = None, member: bool = False) -> _Channel:
        """The channel named by the request, if the token has `scope` ("{kind}" becomes
        channels or groups) and, when `member`, the bot is in it."""
        ch = self.channels.get(req.arg("channel") or "")
        if ch is None or (ch.is_private and not ch.is_member):
            raise _fail("channel_not_found")  # private channels are invisible to outsiders
        if scope:
            self._require_scope(req, scope.format(kind="groups" if ch.is_private else "channels"))
        if member and not ch.is_member:
            raise _fail("not_in_channel")
        return ch

    def _bounds(self, req: Request):
        """A predicate for ts within oldest/latest; exclusive unless inclusive is set."""
        try:
            oldest = _ts_value(req.arg("oldest") or "0")
        except InvalidOperation:
            raise _fail("invalid_ts_oldest") from None
        try:
            latest = _ts_value(req.arg("latest")) if req.arg("latest") else None
        except InvalidOperation:
            raise _fail("invalid_ts_latest") from None
        inclusive = req.flag("inclusive")

        def include(ts: str) -> bool:
            value = _ts_value(ts)
            if inclusive:
                return value >= oldest and (latest is None or value <= latest)
            return value > oldest and (latest is None or value < latest)

        return include

    def _page(self, req: Request, items: list[dict], newest_first: bool, default_limit: int,
              max_limit: int) -> tuple[list[dict], dict]:
        """One page of `items` (already in answer order) and the pagination fields."""
        try:
            limit = req.int_arg("limit", default_limit)
        except ValueError:
            raise _fail("invalid_limit") from None
        limit = min(limit if limit > 0 else default_limit, max_limit)
        if self.page_size_cap:
            limit = min(limit, self.page_size_cap)
        cursor = req.arg("cursor")
        if cursor:
            # The cursor names the first message of the next page, so messages posted
            # meanwhile neither shift nor repeat the pages.
            at = _decode_cursor(cursor)
            items = [m for m in items if (_ts_value(m["ts"]) <= at if newest_first else _ts_value(m["ts"]) >= at)]
        page, rest = items[:limit], items[limit:]
        next_cursor = _encode_cursor(rest[0]["ts"]) if rest else ""
        return page, {"has_more": bool(rest), "response_metadata": {"next_cursor": next_cursor}}

    @staticmethod
    def _json_arg(req: Request, name: str, error: str) -> Any:
        try:
            return req.json_arg(name)
        except ValueError:
            raise _fail(error) from None
