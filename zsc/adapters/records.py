"""What the adapters hand to the sync core: typed records built from the APIs'
answers, so no JSON field is read outside zsc.adapters. Pure data, cheap to import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

ZSC_EVENT = "zsc_post"  # Slack message metadata event_type on everything zsc posts


# ---------------------------------------------------------------- Slack

@dataclass(frozen=True)
class File:
    """A file on a Slack message."""

    id: str
    name: str
    title: str = ""
    mimetype: str = ""
    size: int | None = None
    url_private: str = ""
    url_private_download: str = ""
    permalink: str = ""
    is_external: bool = False
    file_access: str | None = None  # "check_file_info": a Slack Connect file, ask files.info

    @property
    def link(self) -> str:
        return self.permalink or self.url_private

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "File":
        size = data.get("size")
        return cls(id=str(data.get("id") or ""), name=str(data.get("name") or data.get("title") or "file"),
                   title=str(data.get("title") or ""), mimetype=str(data.get("mimetype") or ""),
                   size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                   url_private=str(data.get("url_private") or ""),
                   url_private_download=str(data.get("url_private_download") or ""),
                   permalink=str(data.get("permalink") or ""), is_external=bool(data.get("is_external")),
                   file_access=data.get("file_access") if isinstance(data.get("file_access"), str) else None)


@dataclass(frozen=True)
class Reaction:
    """One emoji's reactions on a message: its name, who (user ids, maybe not all) and how many."""

    name: str
    users: tuple[str, ...] = ()
    count: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Reaction | None":
        name = _str(data.get("name"))
        if not name:
            return None
        users = data.get("users") if isinstance(data.get("users"), list) else []
        count = data.get("count")
        return cls(name=name, users=tuple(str(u) for u in users if isinstance(u, str)),
                   count=count if isinstance(count, int) and not isinstance(count, bool) else len(users))


@dataclass(frozen=True)
class Message:
    """A Slack message (a thread parent or a reply)."""

    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    thread_ts: str | None = None
    reply_count: int = 0
    latest_reply: str | None = None
    edited_ts: str | None = None
    files: tuple[File, ...] = ()
    bot_name: str | None = None  # a bot's username / bot_profile name
    profile_name: str | None = None  # the author's name as the message carries it (user_profile)
    zsc_ref: str | None = None  # the ref of zsc's metadata tag, when zsc posted it
    from_zsc: bool = False  # carries zsc's metadata tag
    reactions: tuple[Reaction, ...] = ()

    @property
    def is_broadcast_reply(self) -> bool:
        """A reply also sent to the channel: it shows in history but belongs to its thread."""
        return bool(self.thread_ts) and self.thread_ts != self.ts

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Message":
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        payload = metadata.get("event_payload") if isinstance(metadata.get("event_payload"), dict) else {}
        from_zsc = metadata.get("event_type") == ZSC_EVENT
        profile = data.get("user_profile") if isinstance(data.get("user_profile"), dict) else {}
        bot_profile = data.get("bot_profile") if isinstance(data.get("bot_profile"), dict) else {}
        edited = data.get("edited") if isinstance(data.get("edited"), dict) else {}
        files = data.get("files") if isinstance(data.get("files"), list) else []
        count = data.get("reply_count")
        reactions = data.get("reactions") if isinstance(data.get("reactions"), list) else []
        return cls(
            ts=str(data["ts"]), text=str(data.get("text") or ""), user=_str(data.get("user")),
            bot_id=_str(data.get("bot_id")), subtype=_str(data.get("subtype")), thread_ts=_str(data.get("thread_ts")),
            reply_count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
            latest_reply=_str(data.get("latest_reply")), edited_ts=_str(edited.get("ts")),
            files=tuple(File.from_json(f) for f in files if isinstance(f, dict)),
            bot_name=_str(data.get("username")) or _str(bot_profile.get("name")),
            profile_name=_str(profile.get("display_name")) or _str(profile.get("real_name")) or _str(profile.get("name")),
            zsc_ref=_str(payload.get("ref")) if from_zsc else None, from_zsc=from_zsc,
            reactions=tuple(r for r in (Reaction.from_json(x) for x in reactions if isinstance(x, dict)) if r),
        )


def zsc_tag(ref: str) -> dict[str, Any]:
    """The metadata zsc puts on each post, naming the effect, so a post whose answer
    was lost is found again (Message.zsc_ref reads it back)."""
    return {"event_type": ZSC_EVENT, "event_payload": {"ref": ref}}


@dataclass(frozen=True)
class SlackPerson:
    id: str
    name: str
    email: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class Identity:
    """Who the bot is (auth.test)."""

    user_id: str | None
    bot_id: str | None
    user: str | None = None  # the bot user's name
    team: str | None = None
    url: str | None = None  # the workspace address
    scopes: frozenset[str] | None = None  # the token's scopes (Slack's x-oauth-scopes header); None: not said


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    is_member: bool


# ---------------------------------------------------------------- Zendesk

@dataclass(frozen=True)
class Ticket:
    id: int
    status: str
    updated_at: str
    subject: str = ""
    group_id: int | None = None
    external_id: str | None = None
    via_channel: str | None = None
    requester_id: int | None = None
    created_at: str = ""
    description: str = ""
    comment_count: int | None = None  # when asked for (include=comment_count)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Ticket":
        return cls(
            id=int(data["id"]), status=str(data.get("status") or "new"), updated_at=str(data.get("updated_at") or ""),
            subject=str(data.get("subject") or data.get("raw_subject") or ""), group_id=_int(data.get("group_id")),
            external_id=_str(data.get("external_id")), via_channel=_via(data),
            requester_id=_int(data.get("requester_id")), created_at=str(data.get("created_at") or ""),
            description=str(data.get("description") or ""), comment_count=_int(data.get("comment_count")),
        )


@dataclass(frozen=True)
class Comment:
    id: int
    author_id: int | None
    body: str
    public: bool
    created_at: str = ""
    via_channel: str | None = None
    attachments: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Comment":
        # `body` is what the author wrote (Markdown kept, which zsc turns into Slack's marks);
        # plain_body is Zendesk's rendering of it, with the marks gone.
        body = data.get("body") or data.get("plain_body")
        if not body and data.get("html_body"):
            from zsc.format import plain_from_html

            body = plain_from_html(str(data["html_body"]))
        attachments = data.get("attachments") if isinstance(data.get("attachments"), list) else []
        return cls(
            id=int(data["id"]), author_id=_int(data.get("author_id")), body=str(body or ""),
            public=bool(data.get("public", True)), created_at=str(data.get("created_at") or ""),
            via_channel=_via(data), attachments=tuple(a for a in attachments if isinstance(a, dict)),
        )


@dataclass(frozen=True)
class Audit:
    """One ticket update as Zendesk keeps it: zsc's intent key (from the update's
    metadata), the comment it added and the status it set, if any."""

    id: int
    key: str | None = None
    comment_id: int | None = None
    status: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Audit":
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        custom = metadata.get("custom") if isinstance(metadata.get("custom"), dict) else {}
        events = data.get("events") if isinstance(data.get("events"), list) else []
        comment = next((e for e in events if isinstance(e, dict) and e.get("type") == "Comment"), None)
        status = next((e.get("value") for e in events if isinstance(e, dict) and e.get("type") in ("Change", "Create")
                       and e.get("field_name") == "status"), None)
        return cls(id=int(data.get("id") or 0), key=_str(custom.get("zsc_key")),
                   comment_id=_int(comment.get("id")) if comment else None, status=_str(status))


@dataclass(frozen=True)
class ZendeskUser:
    id: int
    name: str
    email: str | None = None
    role: str | None = None
    photo_url: str | None = None  # photo.content_url: the picture shown with post_as_agent

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ZendeskUser":
        user_id = int(data["id"])  # first: a wrong-shaped answer fails here, as ever
        photo = data.get("photo") if isinstance(data.get("photo"), dict) else {}
        return cls(id=user_id, name=str(data.get("name") or ""), email=_str(data.get("email")),
                   role=_str(data.get("role")), photo_url=_str(photo.get("content_url")))


@dataclass(frozen=True)
class OnCallPerson:
    """Someone on call: their escalation level (1 = primary), name and email (None when
    PagerDuty gives none)."""

    level: int
    name: str
    email: str | None = None


@dataclass(frozen=True)
class Group:
    id: int
    name: str


# ---------------------------------------------------------------- shared helpers

def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _via(data: dict[str, Any]) -> str | None:
    via = data.get("via")
    return _str(via.get("channel")) if isinstance(via, dict) else None


def ts_key(ts: str) -> tuple[int, int]:
    """Slack ts strings compare as (seconds, micro) pairs, not as floats."""
    seconds, _, micro = ts.partition(".")
    return int(seconds or 0), int((micro or "0").ljust(6, "0")[:6])


def ts_after(a: str, b: str | None) -> bool:
    return b is None or ts_key(a) > ts_key(b)


def ts_time(ts: str) -> datetime:
    """A Slack ts as naive UTC (the store's convention)."""
    return datetime.fromtimestamp(float(ts), timezone.utc).replace(tzinfo=None)


def ts_for(moment: float) -> str:
    """A Slack ts for a Unix time."""
    return f"{moment:.6f}"


def epoch_seconds(naive_utc: datetime) -> float:
    """A naive UTC time (the store's convention) as a Unix time."""
    return naive_utc.replace(tzinfo=timezone.utc).timestamp()


def zendesk_time(value: str | None) -> datetime | None:
    """Zendesk's ISO times ("2026-01-02T03:04:05Z") as naive UTC; None if absent or odd."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def permalink(workspace_uri: str, channel: str, ts: str, thread_ts: str | None = None) -> str:
    base = workspace_uri if workspace_uri.endswith("/") else workspace_uri + "/"
    link = f"{base}archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link
