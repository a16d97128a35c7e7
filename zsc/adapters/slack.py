"""Slack Web API through slack_sdk's WebClient. Returns typed records
(zsc.adapters.records); raises zsc errors. The only module that reads Slack's JSON."""

from __future__ import annotations

import http.client
import socket
from typing import Any, Iterator
from urllib.parse import urlsplit
from urllib.error import URLError

from zsc.adapters.pacing import ChannelPace
from zsc.adapters.ratelimit import Limited, RateGate, Transient
from zsc.adapters.records import ChannelInfo, File, Identity, Message, SlackPerson, ts_key, zsc_tag
from zsc.errors import Ambiguous, AuthError, NotFound, Rejected, Unavailable, WrongApiUrl

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
    """`pace`: the per-channel post pace (zsc.adapters.pacing); the default, one post a
    second per channel, is Slack's."""

    def __init__(self, token: str, api_url: str, timeout: float = 20.0, gate: RateGate | None = None,
                 pace: ChannelPace | None = None) -> None:
        from slack_sdk import WebClient

        base = api_url if api_url.endswith("/") else api_url + "/"
        # No client-side retries: the gate decides, and a write must never be blindly repeated.
        self.client = WebClient(token=token, base_url=base, timeout=int(max(1, timeout)), retry_handlers=[])
        self.gate = gate or RateGate(API, per_method=True)
        self.pace = pace or ChannelPace(api=API)
        self._identity: Identity | None = None
        self._token, self._timeout = token, timeout
        self._file_hosts = ("slack.com", "slack-edge.com", urlsplit(base).hostname or "")

    # ---- plumbing ----
    def _call(self, method: str, *, write: bool = False, answer_headers: dict[str, str] | None = None,
              **kwargs: Any) -> dict[str, Any]:
        """The answer's JSON; `answer_headers`, when given, is filled with its headers (names in lower case)."""
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
        if answer_headers is not None:
            for name, value in (getattr(response, "headers", None) or {}).items():
                answer_headers[str(name).lower()] = str(value[0] if isinstance(value, list) and value else value)
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
        if error == "unknown_method" or status == 404:
            # Slack answers unknown_method (or a web server 404) for a path that is no API method.
            return WrongApiUrl(API, f"{method}: {self.client.base_url} has no such API method "
                                    f"({'unknown_method' if error == 'unknown_method' else f'HTTP {status}'}); check [slack] api_url "
                                    "(normally https://slack.com/api/)", setting="[slack] api_url")
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

    def patient(self, max_wait: float) -> None:
        """Let each call wait up to `max_wait` seconds for the rate limit, and posts for
        their channel's pace as long as it takes (one-shot scans)."""
        self.gate.max_wait = max_wait
        self.pace.budget = float("inf")

    def begin_poll(self) -> None:
        """A poll starts: it may wait its whole budget for the post pace again."""
        self.pace.new_poll()

    def check_turn(self, channel: str) -> None:
        """PostsPaced now if the channel's next post would not get its turn in this poll."""
        self.pace.check(channel)

    # ---- reads ----
    def auth_test(self) -> Identity:
        if self._identity is None:
            headers: dict[str, str] = {}
            data = self._call("auth.test", answer_headers=headers)
            self._identity = Identity(user_id=_s(data.get("user_id")), bot_id=_s(data.get("bot_id")),
                                      user=_s(data.get("user")), team=_s(data.get("team")), url=_s(data.get("url")),
                                      scopes=_scopes(headers.get("x-oauth-scopes")))
        return self._identity

    def channel_info(self, channel: str) -> ChannelInfo:
        data = self._call("conversations.info", channel=channel).get("channel")
        if not isinstance(data, dict):
            raise Unavailable(API, "conversations.info: malformed answer (no channel)")
        return ChannelInfo(id=str(data.get("id") or channel), name=str(data.get("name") or channel),
                           is_member=bool(data.get("is_member", True)))

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            items, cursor = self._page(method, key, cursor, **kwargs)
            yield from items
            if not cursor:
                return

    def _page(self, method: str, key: str, cursor: str | None, **kwargs: Any) -> tuple[list[Any], str | None]:
        """One page: its items and the cursor of the next page (None: the last)."""
        args = dict(kwargs, limit=PAGE_LIMIT)
        if cursor:
            args["cursor"] = cursor
        data = self._call(method, **args)
        items = data.get(key) or []
        if not isinstance(items, list):
            raise Unavailable(API, f"{method}: malformed answer ({key} is not a list)")
        meta = data.get("response_metadata")
        next_cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
        return items, next_cursor if isinstance(next_cursor, str) and next_cursor else None

    def history_page(self, channel: str, oldest: str | None = None,
                     cursor: str | None = None) -> tuple[list[Message], str | None]:
        """One page of top-level messages after `oldest` (Slack pages newest first;
        the page itself is returned oldest first) and the next page's cursor. For
        a poll that must be able to stop after any page (Slack's limited tier)."""
        args: dict[str, Any] = {"channel": channel, "include_all_metadata": True}
        if oldest:
            args["oldest"] = oldest
        items, next_cursor = self._page("conversations.history", "messages", cursor, **args)
        return sorted(_messages(items), key=lambda m: ts_key(m.ts)), next_cursor

    def reply_pages(self, channel: str, thread_ts: str, oldest: str | None = None) -> Iterator[list[Message]]:
        """Replies after `oldest` (the parent excluded), a page at a time, oldest first:
        each page can be handled (and the thread's cursor moved) before the next is read."""
        args: dict[str, Any] = {"channel": channel, "ts": thread_ts, "include_all_metadata": True}
        if oldest:
            args["oldest"] = oldest
        cursor, seen = None, set()
        while True:
            items, cursor = self._page("conversations.replies", "messages", cursor, **args)
            page = [m for m in _messages(items) if m.ts != thread_ts and m.ts not in seen
                    and (not oldest or ts_key(m.ts) > ts_key(oldest))]
            seen.update(m.ts for m in page)
            yield sorted(page, key=lambda m: ts_key(m.ts))
            if not cursor:
                return

    def history(self, channel: str, oldest: str | None = None, latest: str | None = None) -> list[Message]:
        """Top-level messages (thread parents) after `oldest`, oldest first."""
        args: dict[str, Any] = {"channel": channel, "include_all_metadata": True}
        if oldest:
            args["oldest"] = oldest
        if latest:
            args["latest"] = latest
        messages = _messages(self._pages("conversations.history", "messages", **args))
        return sorted(messages, key=lambda m: ts_key(m.ts))

    def latest(self, channel: str, limit: int = 15) -> list[Message]:
        """The newest top-level messages, one call (cheap even on Slack's limited tier)."""
        items = self._call("conversations.history", channel=channel, limit=limit).get("messages") or []
        if not isinstance(items, list):
            raise Unavailable(API, "conversations.history: malformed answer (messages is not a list)")
        return _messages(items)

    def replies(self, channel: str, thread_ts: str, oldest: str | None = None) -> list[Message]:
        """Replies in a thread after `oldest` (the parent excluded), oldest first, each once."""
        args: dict[str, Any] = {"channel": channel, "ts": thread_ts, "include_all_metadata": True}
        if oldest:
            args["oldest"] = oldest
        seen: dict[str, Message] = {}
        for message in _messages(self._pages("conversations.replies", "messages", **args)):
            if message.ts != thread_ts and (not oldest or ts_key(message.ts) > ts_key(oldest)):
                seen[message.ts] = message
        return sorted(seen.values(), key=lambda m: ts_key(m.ts))

    def user(self, user_id: str) -> SlackPerson:
        """A Slack user's name and email (None when Slack gives none)."""
        user = self._call("users.info", user=user_id).get("user")
        if not isinstance(user, dict):
            raise Unavailable(API, "users.info: malformed answer (no user)")
        profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
        name = (_s(profile.get("display_name")) or _s(profile.get("real_name")) or _s(user.get("real_name"))
                or _s(user.get("name")) or user_id)
        return SlackPerson(user_id, name, _s(profile.get("email")), bool(user.get("is_bot")))

    def user_by_email(self, email: str) -> SlackPerson | None:
        """The Slack member with this email (users.lookupByEmail), or None when there is none."""
        try:
            user = self._call("users.lookupByEmail", email=email).get("user")
        except Rejected as exc:
            if "users_not_found" in str(exc):
                return None
            raise
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            raise Unavailable(API, "users.lookupByEmail: malformed answer (no user)")
        profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
        name = _s(profile.get("display_name")) or _s(profile.get("real_name")) or _s(user.get("name")) or user["id"]
        return SlackPerson(user["id"], name, _s(profile.get("email")) or email, bool(user.get("is_bot")))

    # ---- writes ----
    def post(self, channel: str, text: str, thread_ts: str | None = None, ref: str | None = None,
             username: str | None = None, icon_url: str | None = None) -> str:
        """Post `text` (in the thread `thread_ts`), tagged with zsc's metadata naming
        `ref` so a post whose answer was lost is found again. Returns its ts.
        `username`/`icon_url` (scope chat:write.customize) show the post as someone else's."""
        args: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        if username:
            args["username"] = username
        if icon_url:
            args["icon_url"] = icon_url
        if thread_ts:
            args["thread_ts"] = thread_ts
        if ref:
            args["metadata"] = zsc_tag(ref)
        self.pace.take(channel)
        ts = self._call("chat.postMessage", write=True, **args).get("ts")
        if not isinstance(ts, str) or not ts:
            raise Ambiguous(API, "chat.postMessage: outcome unknown (the answer has no ts); will check before retrying")
        return ts

    def react(self, channel: str, ts: str, name: str) -> None:
        """Add zsc's reaction `name`; already there counts as done (a retry after a crash)."""
        try:
            self._call("reactions.add", write=True, channel=channel, timestamp=ts, name=name)
        except Rejected as exc:
            if "already_reacted" not in str(exc):
                raise

    def unreact(self, channel: str, ts: str, name: str) -> None:
        """Take zsc's reaction `name` back; not there counts as done."""
        try:
            self._call("reactions.remove", write=True, channel=channel, timestamp=ts, name=name)
        except Rejected as exc:
            if "no_reaction" not in str(exc):
                raise


    # ---- files ----
    def file_info(self, file_id: str) -> File:
        """files.info (scope files:read): a file's whole description. A Slack Connect
        file comes on its message as a stub (`file_access: "check_file_info"`)."""
        data = self._call("files.info", file=file_id).get("file")
        if not isinstance(data, dict) or data.get("id") != file_id:
            raise Unavailable(API, "files.info: malformed answer (not the file asked for)")
        return File.from_json(data)

    def download(self, file: File, max_bytes: int) -> bytes:
        """A file's bytes from url_private_download (scope files:read), at most `max_bytes`
        (TooLarge past them). The bot token only goes to Slack's own hosts."""
        from zsc.adapters.transfer import fetch, same_site

        url = file.url_private_download or file.url_private
        if not url or not same_site(url, self._file_hosts):
            raise Rejected(API, f"file {file.id}: no download address on Slack")
        return self.gate.call(lambda: fetch(None, url, api=API, what=f"download of file {file.id}",
                                            max_bytes=max_bytes, timeout=self._timeout,
                                            headers={"Authorization": f"Bearer {self._token}"},
                                            scope_hint=" (the app needs the scope files:read)",
                                            content_type=file.mimetype, size=file.size),
                              what="files download")

    def upload_url(self, filename: str, length: int) -> tuple[str, str]:
        """files.getUploadURLExternal (scope files:write): (upload URL, file id). Harmless
        on its own: nothing shows until the upload is completed."""
        data = self._call("files.getUploadURLExternal", filename=filename, length=length)
        url, file_id = data.get("upload_url"), data.get("file_id")
        if not isinstance(url, str) or not url or not isinstance(file_id, str) or not file_id:
            raise Unavailable(API, "files.getUploadURLExternal: malformed answer (no upload_url or file_id)")
        return url, file_id

    def send_upload(self, upload_url: str, data: bytes) -> None:
        """POST the bytes to the URL files.getUploadURLExternal gave (it is pre-signed)."""
        from zsc.adapters.http import requests

        def send() -> None:
            try:
                response = requests.post(upload_url, data=data, timeout=max(self._timeout, 30.0),
                                         headers={"Content-Type": "application/octet-stream"})
            except requests.RequestException as exc:
                raise Transient(f"no answer from the upload address ({type(exc).__name__})", network=True) from None
            if response.status_code == 429:
                raise Limited(float(response.headers.get("Retry-After") or 1))
            if response.status_code >= 500:
                raise Transient(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise Rejected(API, f"file upload: HTTP {response.status_code}")
            # Slack's upload address answers "OK - <bytes received>"; anything else (a
            # proxy's page, JSON) is no proof the bytes arrived: an unknown outcome.
            if not _upload_received(response.text, len(data)):
                raise Transient("the upload address gave an unexpected answer")

        self.gate.call(send, write=True, what="file upload")

    def complete_upload(self, file_id: str, title: str, channel: str, thread_ts: str | None) -> None:
        """files.completeUploadExternal: share the uploaded file in the thread (a message
        in the channel: it takes the channel's pace like a post)."""
        self.pace.take(channel)
        data = self._call("files.completeUploadExternal", write=True, files=[{"id": file_id, "title": title}],
                          channel_id=channel, **({"thread_ts": thread_ts} if thread_ts else {}))
        files = data.get("files")
        if not isinstance(files, list) or not any(isinstance(f, dict) and f.get("id") == file_id for f in files):
            raise Ambiguous(API, "files.completeUploadExternal: outcome unknown (the answer names no file); "
                                 "will check before retrying")


def channel_problem(method: str, error: str, channel: str | None, setting: str = "[slack] channel") -> NotFound:
    """A channel error (a key of CHANNEL_ERRORS) as NotFound naming the channel and the
    setting to fix; `.method`, `.reason` (Slack's error code) and `.channel` let a caller
    that knows which setting named the channel say so (see zsc.report.post_report)."""
    problem = NotFound(API, f"{method}: {CHANNEL_ERRORS[error].format(channel=channel or '?', setting=setting)}")
    problem.method, problem.reason, problem.channel = method, error, channel
    return problem


def _messages(raw: Any) -> list[Message]:
    """Messages from an answer's list; an entry without a ts is not a message we can
    map (skipped), anything else of the wrong shape is a garbled answer."""
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise Unavailable(API, "malformed answer (a message is not an object)")
        if isinstance(item.get("ts"), str):
            out.append(Message.from_json(item))
    return out


def _scopes(header: str | None) -> frozenset[str] | None:
    """The token's scopes from Slack's `x-oauth-scopes` header ("a:b,c:d"); None without the header."""
    if header is None:
        return None
    return frozenset(scope.strip() for scope in header.split(",") if scope.strip())


def _upload_received(answer: str, length: int) -> bool:
    """Whether the upload address's answer says it received all `length` bytes."""
    word, _, count = answer.strip().partition(" - ")
    return word == "OK" and (not count or count.strip() == str(length))


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
