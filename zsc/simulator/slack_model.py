"""Slack's data and rules, without HTTP: one workspace with channels, threads and users.

`SlackWorkspace` holds the state and answers the way the Web API methods do, as plain
dicts (the `ok`-less payload of a successful call); a refusal is raised as
`SlackError(code, **extra)` carrying Slack's error code ("channel_not_found",
"thread_not_found", "invalid_cursor", ...). It can back an in-process fake as well as
`SlackSim`:

    ws = SlackWorkspace()
    ws.add_channel("C1", "support")
    ws.add_user("UANN", "ann", email="ann@example.com")
    ts = ws.post("C1", "UANN", "help!")["ts"]
    ws.post_as_bot("C1", "on it", thread_ts=ts)
    ws.history("C1", limit=10)     # {"messages": [...], "has_more": ..., "response_metadata": ...}
    ws.replies("C1", ts)

Not thread safe: callers (SlackSim does) hold one lock around every call. Scopes and
tokens are the HTTP facade's business, not the workspace's.
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from zsc.simulator.base import now
from zsc.simulator.slack_files import SlackFiles

MAX_TEXT = 40_000  # Slack truncates longer message text
SLACKBOT = "USLACKBOT"
DELETED_TEXT = "This message was deleted."
EXTERNAL_TEAM_ID = "T0EXTERNAL"  # the other organisation of a shared (Slack Connect) channel
HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT = 100, 999
REPLIES_DEFAULT_LIMIT, REPLIES_MAX_LIMIT = 1000, 1000


class SlackError(Exception):
    """A refusal in Slack's words: `error` is the API's error code, `extra` any fields
    Slack sends with it (e.g. `needed` for missing_scope)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def ts_value(ts: str) -> Decimal:
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
        return ts_value(ts)
    except (binascii.Error, UnicodeDecodeError, ValueError, InvalidOperation):
        raise SlackError("invalid_cursor") from None


@dataclass
class Channel:
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

    def info(self) -> dict:
        """conversations.info's `channel`."""
        return {"id": self.id, "name": self.name, "is_channel": True, "is_member": self.is_member,
                "is_private": self.is_private, "is_archived": False}


class SlackWorkspace(SlackFiles):
    """One workspace with one app (the bot), its channels, messages and people."""

    def __init__(self, team_id: str = "T0SIM", team_name: str = "Simulated Workspace",
                 workspace_url: str = "https://sim.slack.com/", bot_user_id: str = "UBOT", bot_id: str = "BBOT",
                 app_id: str = "ASIM", bot_name: str = "zsc") -> None:
        self.team_id, self.team_name, self.workspace_url = team_id, team_name, workspace_url
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        # Set to 15 to act like the limited tier for non-Marketplace apps: larger limits are clamped.
        self.page_size_cap: int | None = None
        self.users: dict[str, dict] = {}
        self.channels: dict[str, Channel] = {}
        self._last_ts_us = 0
        self._file_seq = 0
        self.file_base_url = "https://files.sim.slack.com"  # the HTTP facade points this at itself
        self.file_bytes: dict[str, bytes] = {}  # file id -> content, served at url_private(_download)
        self.files: dict[str, dict] = {}  # file id -> the file object (files.info)
        self.pending_uploads: dict[str, dict] = {}  # file id -> {"filename", "length", "data"} (external upload)
        self.add_user(bot_user_id, bot_name, real_name=bot_name, is_bot=True)

    # ------------------------------------------------------------------ people and channels

    def add_user(self, user_id: str, name: str, email: str | None = None, real_name: str | None = None,
                 display_name: str | None = None, is_bot: bool = False, external: bool = False,
                 deleted: bool = False, visible: bool = True) -> dict:
        """A person who can post here. Slack leaves display_name empty unless set.

        users.info cannot look up everyone who posts: `external` people (another
        organisation in a shared channel) and `deleted` (deactivated) accounts answer
        user_not_found, and `visible=False` answers user_not_visible. Their messages
        still carry `user_profile` (names, never the email)."""
        self.users[user_id] = {
            "id": user_id, "name": name, "email": email, "is_bot": is_bot,
            "real_name": real_name if real_name is not None else name,
            "display_name": display_name or "",
            "team_id": EXTERNAL_TEAM_ID if external else self.team_id,
            "external": external, "deleted": deleted, "visible": visible,
        }
        return self.users[user_id]

    def deactivate_user(self, user_id: str) -> None:
        """An admin deactivates the account: users.info answers user_not_found from now on."""
        self.users[user_id]["deleted"] = True

    def add_channel(self, channel_id: str, name: str, bot_is_member: bool = True,
                    is_private: bool = False) -> Channel:
        self.channels[channel_id] = Channel(channel_id, name, bot_is_member, is_private)
        return self.channels[channel_id]

    def conversation(self, channel_id: str, member: bool = False) -> Channel:
        """The channel as the bot sees it: channel_not_found for unknown channels and
        private ones it is not in; not_in_channel when `member` is asked and it is not."""
        ch = self.channels.get(channel_id or "")
        if ch is None or (ch.is_private and not ch.is_member):
            raise SlackError("channel_not_found")  # private channels are invisible to outsiders
        if member and not ch.is_member:
            raise SlackError("not_in_channel")
        return ch

    def user_info(self, user_id: str, include_email: bool = True) -> dict:
        """users.info's `user` (the email only with `include_email`, i.e. users:read.email)."""
        user = self.users.get(user_id or "")
        if user is None or user.get("external") or user.get("deleted"):
            raise SlackError("user_not_found")
        if not user.get("visible", True):
            raise SlackError("user_not_visible")
        profile = {"display_name": user["display_name"], "real_name": user["real_name"]}
        if user["email"] and include_email:
            profile["email"] = user["email"]
        if user["id"] == self.bot_user_id:
            profile["bot_id"] = self.bot_id
        return {"id": user["id"], "team_id": self.team_id, "name": user["name"], "real_name": user["real_name"],
                "is_bot": user["is_bot"], "deleted": False, "profile": profile}

    def user_by_email(self, email: str) -> dict:
        """users.lookupByEmail's `user`: the member with this email (case-insensitive)."""
        for user in self.users.values():
            if email and user["email"] and user["email"].lower() == email.lower():
                return self.user_info(user["id"])
        raise SlackError("users_not_found")

    # ------------------------------------------------------------------ writing

    def post(self, channel: str, user: str | None, text: str, thread_ts: str | None = None,
             files: list[dict] | None = None, subtype: str | None = None, bot_id: str | None = None,
             reply_broadcast: bool = False) -> dict:
        """A person posts (or, with `bot_id` and subtype "bot_message", a legacy bot).
        `reply_broadcast` is "also send to channel" for a thread reply. Returns the
        stored message as history would show it."""
        ch = self._known(channel)
        msg: dict[str, Any] = {"type": "message", "text": text}
        if user:
            msg["user"] = user
            person = self.users.get(user)
            msg["team"] = person["team_id"] if person else self.team_id
            if person and not person["is_bot"]:
                # Stamped at post time, as Slack does; never the email.
                msg["user_profile"] = {"real_name": person["real_name"], "display_name": person["display_name"],
                                       "name": person["name"], "team": msg["team"]}
        if bot_id:
            msg["bot_id"] = bot_id
        if files:
            msg["files"] = [self._file(f) for f in files]
            msg["upload"] = False
            subtype = subtype or "file_share"
        if subtype:
            msg["subtype"] = subtype
        return self.render(ch, self._add(ch, msg, thread_ts, reply_broadcast), with_metadata=True)

    def post_as_bot(self, channel: str, text: str, thread_ts: str | None = None, blocks: list | None = None,
                    metadata: Any = None, attachments: list | None = None, reply_broadcast: bool = False,
                    username: str | None = None, icon_url: str | None = None) -> dict:
        """chat.postMessage by this app's bot. Returns the message as the API echoes it.
        `username`/`icon_url` (scope chat:write.customize, the facade's check) change how
        the post looks; it is still the bot's post and keeps its bot_id."""
        ch = self.conversation(channel, member=True)
        if not (text or "").strip() and not blocks and not attachments:
            raise SlackError("no_text")
        msg: dict[str, Any] = {
            "type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id,
            "text": (text or "")[:MAX_TEXT], "team": self.team_id,
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.users[self.bot_user_id]["name"]},
        }
        if blocks:
            msg["blocks"] = blocks
        if attachments:
            msg["attachments"] = attachments
        if username:
            msg["username"] = username
        if icon_url:
            msg["icons"] = {"image_48": icon_url}
        if metadata:
            if not isinstance(metadata, dict) or "event_type" not in metadata:
                raise SlackError("invalid_metadata_schema")
            msg["metadata"] = {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload", {})}
        return self.render(ch, self._add(ch, msg, thread_ts, reply_broadcast), with_metadata=True)

    def edit(self, channel: str, ts: str, text: str) -> None:
        """The author edits the message: new text and an `edited: {user, ts}` stamp (a new ts each edit)."""
        msg = self._message(channel, ts)
        msg["text"] = text
        msg["edited"] = {"user": msg.get("user") or msg.get("bot_id"), "ts": self.next_ts()}

    def delete(self, channel: str, ts: str) -> None:
        """The author (or an admin) deletes a message, as Slack keeps it afterwards:
        a thread parent with replies stays as a hidden "tombstone" from USLACKBOT that
        keeps its thread; a reply leaves its thread (and the channel, if broadcast);
        anything else is gone. The tombstone goes once its last reply is deleted."""
        ch = self._known(channel)
        msg = self._message(channel, ts)
        parent_ts = msg.get("thread_ts", ts)
        if parent_ts != ts:
            ch.replies[parent_ts].remove(msg)
            self._forget(ch, msg)
            parent = ch.by_ts[parent_ts]
            if not ch.replies[parent_ts]:
                del ch.replies[parent_ts]
                if parent.get("subtype") == "tombstone":
                    self._forget(ch, parent)
        elif ch.replies.get(ts):
            msg.clear()
            msg.update(type="message", subtype="tombstone", text=DELETED_TEXT, user=SLACKBOT, hidden=True,
                       ts=ts, thread_ts=ts)
        else:
            self._forget(ch, msg)

    def react(self, channel: str, ts: str, user: str, name: str) -> None:
        """`user` adds the emoji `name` (no colons) to a message; already_reacted if they had."""
        reactions = self._message(channel, ts).setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if user in entry["users"]:
            raise SlackError("already_reacted")
        entry["users"].append(user)
        entry["count"] = len(entry["users"])

    def unreact(self, channel: str, ts: str, user: str, name: str) -> None:
        """`user` takes their `name` reaction back; no_reaction if there was none."""
        msg = self._message(channel, ts)
        entry = next((r for r in msg.get("reactions", []) if r["name"] == name), None)
        if entry is None or user not in entry["users"]:
            raise SlackError("no_reaction")
        entry["users"].remove(user)
        entry["count"] = len(entry["users"])
        if not entry["count"]:
            msg["reactions"].remove(entry)
        if not msg["reactions"]:
            del msg["reactions"]

    # ------------------------------------------------------------------ reading (API semantics)

    def history(self, channel: str, oldest: str | None = None, latest: str | None = None, inclusive: bool = False,
                limit: int | None = None, cursor: str | None = None, include_all_metadata: bool = False) -> dict:
        """conversations.history: thread parents and plain messages, newest first, within
        oldest/latest (exclusive unless `inclusive`), paged by `response_metadata.next_cursor`."""
        ch = self.conversation(channel, member=True)
        include = _bounds(oldest, latest, inclusive)
        newest_first = [m for m in reversed(ch.top) if include(m["ts"])]
        page, more = self._page(newest_first, True, limit, cursor, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT)
        return {"messages": [self.render(ch, m, include_all_metadata) for m in page], **more}

    def replies(self, channel: str, ts: str, oldest: str | None = None, latest: str | None = None,
                inclusive: bool = False, limit: int | None = None, cursor: str | None = None,
                include_all_metadata: bool = False) -> dict:
        """conversations.replies: the parent first, then its replies oldest first (those
        within oldest/latest), paged like history. `ts` may name any message of the thread."""
        ch = self.conversation(channel, member=True)
        parent = ch.root(ts or "")
        if parent is None:
            raise SlackError("thread_not_found")
        include = _bounds(oldest, latest, inclusive)
        # The parent always leads the first page, whatever oldest/latest say; the
        # ts-based cursor leaves it off the later pages.
        thread = [parent] + [m for m in ch.replies.get(parent["ts"], []) if include(m["ts"])]
        page, more = self._page(thread, False, limit, cursor, REPLIES_DEFAULT_LIMIT, REPLIES_MAX_LIMIT)
        return {"messages": [self.render(ch, m, include_all_metadata) for m in page], **more}

    def permalink(self, channel: str, ts: str) -> str:
        """chat.getPermalink (message_not_found for an unknown ts)."""
        ch = self.conversation(channel)
        msg = ch.by_ts.get(ts or "")
        if msg is None:
            raise SlackError("message_not_found")
        link = f"{self.workspace_url}archives/{ch.id}/p{msg['ts'].replace('.', '')}"
        if "thread_ts" in msg and msg["thread_ts"] != msg["ts"]:
            link += f"?thread_ts={msg['thread_ts']}&cid={ch.id}"
        return link

    # ------------------------------------------------------------------ reading (for tests)

    def messages(self, channel: str) -> list[dict]:
        """Top-level messages, oldest first, as history would show them (with metadata)."""
        ch = self._known(channel)
        return [self.render(ch, m, with_metadata=True) for m in ch.top]

    def thread(self, channel: str, thread_ts: str) -> list[dict]:
        """The replies of a thread (parent excluded), oldest first."""
        ch = self._known(channel)
        return [self.render(ch, m, with_metadata=True) for m in ch.replies.get(thread_ts, [])]

    def bot_posts(self, channel: str) -> list[dict]:
        """Everything this bot posted in `channel`, top-level or in threads, oldest first."""
        ch = self._known(channel)
        mine = [m for m in ch.by_ts.values() if m.get("bot_id") == self.bot_id]
        return [self.render(ch, m, with_metadata=True) for m in sorted(mine, key=lambda m: ts_value(m["ts"]))]

    # ------------------------------------------------------------------ helpers

    def next_ts(self) -> str:
        """A new message ts: strictly increasing even when the clock stands still (frozen in tests)."""
        self._last_ts_us = max(int(round(now() * 1_000_000)), self._last_ts_us + 1)
        return "%d.%06d" % divmod(self._last_ts_us, 1_000_000)

    def render(self, ch: Channel, msg: dict, with_metadata: bool) -> dict:
        """A stored message as the API shows it (a copy), with the thread summary on parents."""
        out = copy.deepcopy(msg)
        if not with_metadata:
            out.pop("metadata", None)
        if out.get("subtype") == "thread_broadcast" and msg["thread_ts"] in ch.by_ts:
            # History shows a broadcast reply with a copy of its thread's parent.
            parent = ch.by_ts[msg["thread_ts"]]
            out["root"] = {k: v for k, v in self.render(ch, parent, with_metadata).items() if k != "reactions"}
        replies = ch.replies.get(msg["ts"])
        if replies:
            users = list(dict.fromkeys(r.get("user") or r.get("bot_id") for r in replies))
            out.update(thread_ts=msg["ts"], reply_count=len(replies), reply_users=users,
                       reply_users_count=len(users), latest_reply=replies[-1]["ts"])
        return out

    def _add(self, ch: Channel, msg: dict, thread_ts: str | None, reply_broadcast: bool = False) -> dict:
        if thread_ts:
            parent = ch.root(thread_ts)
            if parent is None:
                raise SlackError("thread_not_found")
            msg["thread_ts"] = parent["ts"]
            if "user" in parent:
                msg["parent_user_id"] = parent["user"]
        msg["ts"] = self.next_ts()
        if thread_ts:
            ch.replies.setdefault(msg["thread_ts"], []).append(msg)
            if reply_broadcast:
                # "Also send to channel": the reply shows at the top level too, with its
                # own ts and the thread's thread_ts.
                msg["subtype"] = "thread_broadcast"
                ch.top.append(msg)
        else:
            ch.top.append(msg)
        ch.by_ts[msg["ts"]] = msg
        return msg

    def _forget(self, ch: Channel, msg: dict) -> None:
        if msg in ch.top:
            ch.top.remove(msg)
        ch.by_ts.pop(msg["ts"], None)

    def _known(self, channel_id: str) -> Channel:
        """A channel for the control surface, whether or not the bot can see it."""
        if channel_id not in self.channels:
            raise SlackError("channel_not_found", hint=f"no channel {channel_id}; add_channel() it first")
        return self.channels[channel_id]

    def _message(self, channel: str, ts: str) -> dict:
        msg = self._known(channel).by_ts.get(ts)
        if msg is None:
            raise SlackError("message_not_found")
        return msg

    def _page(self, items: list[dict], newest_first: bool, limit: int | None, cursor: str | None,
              default_limit: int, max_limit: int) -> tuple[list[dict], dict]:
        """One page of `items` (already in answer order) and the pagination fields."""
        limit = min(limit if limit and limit > 0 else default_limit, max_limit)
        if self.page_size_cap:
            limit = min(limit, self.page_size_cap)
        if cursor:
            # The cursor names the first message of the next page, so messages posted
            # meanwhile neither shift nor repeat the pages.
            at = _decode_cursor(cursor)
            items = [m for m in items if (ts_value(m["ts"]) <= at if newest_first else ts_value(m["ts"]) >= at)]
        page, rest = items[:limit], items[limit:]
        next_cursor = _encode_cursor(rest[0]["ts"]) if rest else ""
        return page, {"has_more": bool(rest), "response_metadata": {"next_cursor": next_cursor}}


def _bounds(oldest: str | None, latest: str | None, inclusive: bool):
    """A predicate for ts within oldest/latest; exclusive unless inclusive is set."""
    try:
        low = ts_value(oldest or "0")
    except InvalidOperation:
        raise SlackError("invalid_ts_oldest") from None
    try:
        high = ts_value(latest) if latest else None
    except InvalidOperation:
        raise SlackError("invalid_ts_latest") from None

    def include(ts: str) -> bool:
        value = ts_value(ts)
        if inclusive:
            return value >= low and (high is None or value <= high)
        return value > low and (high is None or value < high)

    return include
