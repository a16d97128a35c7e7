"""Fake Slack Web API over HTTP: one workspace, one bot, channels with threads, OAuth v2.

Everything is `POST /api/<method>` answering HTTP 200 with `{"ok": ...}`, which is what
slack_sdk's WebClient sends and expects. `SlackSim` is the thin HTTP facade: tokens and
scopes, OAuth, rate tiers, fault injection; Slack's data and rules live in
`SlackWorkspace` (slack_model). The Python methods below act as people would (post,
edit, join) so tests can set the scene and look at what the bot did.

Locking: the workspace is not thread safe; every use of it here holds `self.lock`.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

from zsc.simulator.base import Abort, Fault, OAuthClients, Request, Response, RollingWindow, Service, TokenStore, now, route
from zsc.simulator.slack_model import Channel, SlackError, SlackWorkspace
from zsc.simulator.slack_pace import BURST, PER_SECOND, PostLimit

DEFAULT_SCOPES = (
    "channels:history", "groups:history", "channels:read", "groups:read",
    "chat:write", "users:read", "users:read.email", "files:read", "files:write",
)
CODE_TTL = 600  # seconds an OAuth code stays redeemable
# Apps distributed outside the Marketplace (since 2025): history and replies allow one
# call a minute per method, and at most 15 messages a page.
LIMITED_TIER_CALLS_PER_MINUTE = 1
LIMITED_TIER_PAGE_MAX = 15
LIMITED_TIER_METHODS = ("conversations.history", "conversations.replies")
AUTH_ERRORS = {"missing": "not_authed", "unknown": "invalid_auth", "revoked": "token_revoked", "expired": "token_expired"}


def slack_method(name: str):
    """`route` for a Web API method, plus translation of the workspace's SlackError
    into Slack's `{"ok": false, "error": ...}` (HTTP 200, as Slack does)."""

    def mark(fn):
        def handler(self, req: Request) -> Response:
            try:
                resp = fn(self, req)
            except SlackError as err:
                resp = Response(200, {"ok": False, "error": err.error, **err.extra})
            except Abort as abort:
                resp = abort.response
            return with_scopes(resp, req)

        handler.__name__ = fn.__name__
        return route("POST", "/api/" + re.escape(name), name)(handler)

    return mark


def with_scopes(resp: Response, req: Request) -> Response:
    """Slack names the calling token's scopes in the `x-oauth-scopes` header of every
    Web API answer (success or error) to a token it accepted: the one way to read a
    token's scopes."""
    scopes = getattr(req.principal, "scopes", None)
    if scopes is not None:
        resp.headers = {**resp.headers, "x-oauth-scopes": ",".join(sorted(scopes))}
    return resp


def _ok(**data: Any) -> Response:
    return Response(200, {"ok": True, **data})


def _fail(error: str, **extra: Any) -> Abort:
    return Abort(Response(200, {"ok": False, "error": error, **extra}))


@dataclass
class _Code:
    scopes: tuple[str, ...]
    client_id: str | None
    expires_at: float
    used: bool = False


class SlackSim(Service):
    name = "slack"

    def __init__(self, bot_token: str = "xoxb-sim-token", workspace_url: str = "https://sim.slack.com/",
                 limited_tier: bool = False, post_limit: bool = False) -> None:
        super().__init__()
        self.workspace = SlackWorkspace(workspace_url=workspace_url)
        # Slack's per-channel post limit (slack_pace); off unless asked for, because tests that
        # freeze the clock post many messages in one frozen instant. See set_post_limit.
        self.post_limit: PostLimit | None = PostLimit() if post_limit else None
        # The rate tier of a commercially distributed non-Marketplace app (see
        # LIMITED_TIER_*); switch it on or off at any time.
        self.limited_tier = limited_tier
        self._tier_windows = {m: RollingWindow(LIMITED_TIER_CALLS_PER_MINUTE) for m in LIMITED_TIER_METHODS}
        self.bot_token = bot_token
        self.tokens = TokenStore()
        self.oauth_apps = OAuthClients()
        self._codes: dict[str, _Code] = {}
        self.add_token(bot_token)

    # The workspace's identity and state, under the names tests and the demo use.
    bot_user_id = property(lambda self: self.workspace.bot_user_id)
    bot_id = property(lambda self: self.workspace.bot_id)
    app_id = property(lambda self: self.workspace.app_id)
    team_id = property(lambda self: self.workspace.team_id)
    team_name = property(lambda self: self.workspace.team_name)
    workspace_url = property(lambda self: self.workspace.workspace_url)
    users = property(lambda self: self.workspace.users)
    channels = property(lambda self: self.workspace.channels)

    @property
    def page_size_cap(self) -> int | None:
        return self.workspace.page_size_cap

    @page_size_cap.setter
    def page_size_cap(self, cap: int | None) -> None:
        self.workspace.page_size_cap = cap

    # ------------------------------------------------------------------ control surface

    def set_post_limit(self, per_second: float | None = PER_SECOND, burst: int = BURST) -> None:
        """Limit the bot's messages per channel as Slack does (`per_second` sustained, `burst`
        at once; past it HTTP 429 with Retry-After); None turns the limit off."""
        with self.lock:
            self.post_limit = PostLimit(per_second, burst) if per_second else None

    @property
    def post_limited(self) -> Counter[str]:
        """The 429s the post limit answered, by channel (empty while it is off)."""
        with self.lock:
            return Counter(self.post_limit.refused) if self.post_limit else Counter()

    def add_token(self, token: str, scopes: Iterable[str] = DEFAULT_SCOPES) -> None:
        with self.lock:
            self.tokens.add(token, scopes)

    def revoke_token(self, token: str | None = None) -> None:
        """Revoke `token` (default: the bot token), as uninstalling the app would."""
        with self.lock:
            self.tokens.revoke(token or self.bot_token)

    def add_user(self, user_id: str, name: str, email: str | None = None, real_name: str | None = None,
                 display_name: str | None = None, is_bot: bool = False, external: bool = False,
                 deleted: bool = False, visible: bool = True) -> None:
        """A person. users.info answers user_not_found for `external` (another organisation
        in a shared channel) and `deleted` people, user_not_visible when not `visible`."""
        with self.lock:
            self.workspace.add_user(user_id, name, email, real_name, display_name, is_bot, external, deleted, visible)

    def add_external_user(self, user_id: str, name: str, real_name: str | None = None,
                          display_name: str | None = None) -> None:
        """Someone from another organisation posting in a shared channel."""
        self.add_user(user_id, name, real_name=real_name, display_name=display_name, external=True)

    def deactivate_user(self, user_id: str) -> None:
        with self.lock:
            self.workspace.deactivate_user(user_id)

    def add_channel(self, channel_id: str, name: str, bot_is_member: bool = True, is_private: bool = False) -> None:
        with self.lock:
            self.workspace.add_channel(channel_id, name, bot_is_member, is_private)

    def post(self, channel: str, user: str | None, text: str, thread_ts: str | None = None,
             files: list[dict] | None = None, subtype: str | None = None, bot_id: str | None = None,
             reply_broadcast: bool = False) -> str:
        """Post as a person (or, with `bot_id` and subtype "bot_message", as a legacy bot); the ts.
        `reply_broadcast`: a thread reply also sent to the channel (a "thread_broadcast")."""
        with self.lock:
            return self.workspace.post(channel, user, text, thread_ts, files, subtype, bot_id, reply_broadcast)["ts"]

    def post_file(self, channel: str, user: str, text: str, name: str, content: bytes,
                  mimetype: str = "image/png", thread_ts: str | None = None, **file_fields: Any) -> str:
        """Someone shares a file (real bytes, served at its download URL to the bot token); the ts."""
        return self.post(channel, user, text, thread_ts=thread_ts,
                         files=[{"name": name, "mimetype": mimetype, "content": content, **file_fields}])

    def file_content(self, file_id: str) -> bytes:
        with self.lock:
            return self.workspace.file_content(file_id)

    def delete(self, channel: str, ts: str) -> None:
        """Someone deletes a message (a parent with replies becomes a tombstone)."""
        with self.lock:
            self.workspace.delete(channel, ts)

    def react(self, channel: str, ts: str, user: str, name: str) -> None:
        with self.lock:
            self.workspace.react(channel, ts, user, name)

    def unreact(self, channel: str, ts: str, user: str, name: str) -> None:
        with self.lock:
            self.workspace.unreact(channel, ts, user, name)

    def edit(self, channel: str, ts: str, text: str) -> None:
        with self.lock:
            self.workspace.edit(channel, ts, text)

    def messages(self, channel: str) -> list[dict]:
        """Top-level messages, oldest first, as history would show them (with metadata)."""
        with self.lock:
            return self.workspace.messages(channel)

    def thread(self, channel: str, thread_ts: str) -> list[dict]:
        """The replies of a thread (parent excluded), oldest first."""
        with self.lock:
            return self.workspace.thread(channel, thread_ts)

    def bot_posts(self, channel: str) -> list[dict]:
        """Everything this bot posted in `channel`, top-level or in threads, oldest first."""
        with self.lock:
            return self.workspace.bot_posts(channel)

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

    def start(self, port: int = 0) -> None:
        super().start(port)
        with self.lock:
            self.workspace.file_base_url = self.url

    def authenticate(self, req: Request, endpoint: str) -> Response | None:
        if endpoint in ("oauth.v2.access", "files.upload"):  # client credentials / a pre-signed upload URL
            return None
        if endpoint == "files.download":
            # A file URL wants the token in the header. Without it, or without files:read,
            # Slack answers 200 with its web sign-in page (HTML), not an error status.
            token, problem = self.tokens.check(req.bearer())
            if problem or "files:read" not in token.scopes:
                return self.login_page(req)
            req.principal = token
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
        ws = self.workspace
        return _ok(url=ws.workspace_url, team=ws.team_name, user=ws.users[ws.bot_user_id]["name"],
                   team_id=ws.team_id, user_id=ws.bot_user_id, bot_id=ws.bot_id, is_enterprise_install=False)

    @slack_method("conversations.history")
    def _history(self, req: Request) -> Response:
        self._channel(req, "{kind}:history")
        limit = self._limit(req)
        self._spend_tier("conversations.history")
        return _ok(**self.workspace.history(
            req.arg("channel"), req.arg("oldest"), req.arg("latest"), req.flag("inclusive"), limit,
            req.arg("cursor"), req.flag("include_all_metadata")))

    @slack_method("conversations.replies")
    def _replies(self, req: Request) -> Response:
        self._channel(req, "{kind}:history")
        limit = self._limit(req)
        self._spend_tier("conversations.replies")
        return _ok(**self.workspace.replies(
            req.arg("channel"), req.arg("ts") or "", req.arg("oldest"), req.arg("latest"), req.flag("inclusive"),
            limit, req.arg("cursor"), req.flag("include_all_metadata")))

    @slack_method("chat.postMessage")
    def _post_message(self, req: Request) -> Response:
        ch = self._channel(req, "chat:write")
        if req.arg("username") or req.arg("icon_url") or req.arg("icon_emoji"):
            self._require_scope(req, "chat:write.customize")
        self._spend_post(ch.id)
        message = self.workspace.post_as_bot(
            ch.id, req.arg("text") or "", req.arg("thread_ts"), blocks=self._json_arg(req, "blocks", "invalid_blocks"),
            metadata=self._json_arg(req, "metadata", "invalid_metadata_format"),
            attachments=self._json_arg(req, "attachments", "invalid_attachments"),
            reply_broadcast=req.flag("reply_broadcast"), username=req.arg("username"), icon_url=req.arg("icon_url"))
        return _ok(channel=ch.id, ts=message["ts"], message=message)

    @slack_method("reactions.add")
    def _reactions_add(self, req: Request) -> Response:
        ch = self._channel(req)
        self._require_scope(req, "reactions:write")
        self.workspace.react(ch.id, req.arg("timestamp") or "", self.workspace.bot_user_id, req.arg("name") or "")
        return _ok()

    @slack_method("reactions.remove")
    def _reactions_remove(self, req: Request) -> Response:
        ch = self._channel(req)
        self._require_scope(req, "reactions:write")
        self.workspace.unreact(ch.id, req.arg("timestamp") or "", self.workspace.bot_user_id, req.arg("name") or "")
        return _ok()

    @slack_method("chat.getPermalink")
    def _permalink(self, req: Request) -> Response:
        ch = self._channel(req)  # needs no scope
        return _ok(channel=ch.id, permalink=self.workspace.permalink(ch.id, req.arg("message_ts") or ""))

    @slack_method("users.info")
    def _users_info(self, req: Request) -> Response:
        self._require_scope(req, "users:read")
        include_email = "users:read.email" in req.principal.scopes
        return _ok(user=self.workspace.user_info(req.arg("user") or "", include_email))

    @slack_method("users.lookupByEmail")
    def _users_lookup_by_email(self, req: Request) -> Response:
        self._require_scope(req, "users:read.email")
        return _ok(user=self.workspace.user_by_email(req.arg("email") or ""))

    @slack_method("conversations.info")
    def _conversations_info(self, req: Request) -> Response:
        return _ok(channel=self._channel(req, "{kind}:read").info())

    # ---- files ----
    @route("GET", r"/files-pri/[A-Z0-9]+-(?P<id>F[A-Z0-9]+)/(download/)?[^/]+", "files.download")
    def _file_download(self, req: Request) -> Response:
        try:
            data = self.workspace.file_content(req.params["id"])
        except SlackError:
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        mimetype = self.workspace.files.get(req.params["id"], {}).get("mimetype") or "application/octet-stream"
        return Response(200, data, {"Content-Type": mimetype})

    @route("POST", r"/upload/v1/(?P<id>F[A-Z0-9]+)", "files.upload")
    def _file_upload(self, req: Request) -> Response:
        data = req.body
        ctype = req.header("content-type") or ""
        if ctype.startswith("multipart/form-data"):
            parts = req.form()
            data = next((v for v in parts.values() if isinstance(v, (bytes, bytearray))), b"")
        try:
            self.workspace.receive_upload(req.params["id"], bytes(data))
        except SlackError:
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        return Response(200, f"OK - {len(data)}")

    @slack_method("files.getUploadURLExternal")
    def _files_upload_url(self, req: Request) -> Response:
        self._require_scope(req, "files:write")
        try:
            length = req.int_arg("length", 0)
        except ValueError:
            raise _fail("invalid_arguments") from None
        return _ok(**self.workspace.upload_url(req.arg("filename") or "", length))

    @slack_method("files.completeUploadExternal")
    def _files_complete_upload(self, req: Request) -> Response:
        self._require_scope(req, "files:write")
        files = self._json_arg(req, "files", "invalid_arguments")
        if not isinstance(files, list) or not files:
            raise _fail("invalid_arguments")
        channel = req.arg("channel_id")
        if channel:
            self.workspace.conversation(channel, member=True)
            self._spend_post(channel)  # the share is a message in the channel
        return _ok(files=self.workspace.complete_upload(files, channel, req.arg("thread_ts"),
                                                        req.arg("initial_comment")))

    @slack_method("files.info")
    def _files_info(self, req: Request) -> Response:
        self._require_scope(req, "files:read")
        return _ok(file=self.workspace.file_info(req.arg("file") or ""))

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

    def _require_scope(self, req: Request, scope: str) -> None:
        scopes = req.principal.scopes
        if scope not in scopes:
            raise _fail("missing_scope", needed=scope, provided=",".join(sorted(scopes)))

    def _channel(self, req: Request, scope: str | None = None) -> Channel:
        """The channel named by the request, if the bot can see it and the token has
        `scope` ("{kind}" becomes channels or groups). Membership is the workspace's check."""
        ch = self.workspace.conversation(req.arg("channel") or "")
        if scope:
            self._require_scope(req, scope.format(kind="groups" if ch.is_private else "channels"))
        return ch

    def _limit(self, req: Request) -> int | None:
        try:
            limit = req.int_arg("limit", 0) or None
        except ValueError:
            raise _fail("invalid_limit") from None
        if self.limited_tier:
            return min(limit or LIMITED_TIER_PAGE_MAX, LIMITED_TIER_PAGE_MAX)
        return limit

    def _spend_tier(self, method: str) -> None:
        """The limited tier's one call a minute per method: a 429 whose Retry-After is
        the wait until the rolling window frees (up to 60 s). Refused calls do not count."""
        if not self.limited_tier:
            return
        window, t = self._tier_windows[method], now()
        wait = window.retry_after(t)
        if wait:
            raise Abort(Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}))
        window.record(t)

    def _spend_post(self, channel: str) -> None:
        """One message into `channel` under the post limit, or a 429 saying when to retry."""
        wait = self.post_limit.spend(channel, now()) if self.post_limit else 0
        if wait:
            raise Abort(Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}))

    @staticmethod
    def _json_arg(req: Request, name: str, error: str) -> Any:
        try:
            return req.json_arg(name)
        except ValueError:
            raise _fail(error) from None
