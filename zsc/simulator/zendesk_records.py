"""Zendesk's records as the simulator keeps them (users, groups, memberships,
comments, audits, tickets) with their JSON shapes, and Zendesk's error answers.
The rules that change them are the `Desk`'s (zendesk_model)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone


STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
ROLES = ("end-user", "agent", "admin")
# Statuses an end user's reply moves back to "open" (Zendesk's requester-reply rule).
REOPENED_BY_REQUESTER = ("pending", "hold", "solved")

EXPORT_LAG = 60  # seconds: incremental exports never show the most recent minute
EXPORT_PAGE_MAX = 1000
SYSTEM_USER_ID = -1  # Zendesk's updater_id for automations ("rule" channel)
SUPPORT_ADDRESS = "support@sim.zendesk.com"

# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(data: dict) -> str:
    """Cursors are opaque to clients, as in Zendesk."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(data, dict):
            return data
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pass
    raise invalid_cursor()


def invalid_cursor() -> "ApiError":
    return ApiError(400, {"error": "InvalidPaginationParameter", "description": "cursor is invalid"})


class ApiError(Exception):
    """A refusal in Zendesk's words; handlers turn it into the HTTP answer."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(f"{status} {json.dumps(body)}")
        self.status = status
        self.body = body


def record_invalid(field_name: str, description: str, error: str = "InvalidValue") -> ApiError:
    details = {field_name: [{"description": description, "error": error}]}
    return ApiError(422, {"error": "RecordInvalid", "description": "Record validation errors", "details": details})


def not_found() -> ApiError:
    return ApiError(404, {"error": "RecordNotFound", "description": "Not found"})


def invalid_value(description: str) -> ApiError:
    return ApiError(422, {"error": "InvalidValue", "description": description})


def unsupported_search(description: str) -> ApiError:
    """Loud refusal for queries the fake does not model, rather than a wrong count."""
    return ApiError(400, {"error": "Unsupported", "description": description})


# ---------------------------------------------------------------------------
# the data
# ---------------------------------------------------------------------------


def via(channel: str, source_from: dict | None = None) -> dict:
    to = {"address": SUPPORT_ADDRESS, "name": "Support"} if channel == "email" else {}
    return {"channel": channel, "source": {"from": source_from or {}, "to": to, "rel": None}}


@dataclass
class User:
    id: int
    name: str
    email: str | None
    role: str
    created_at: float
    default_group_id: int | None = None
    photo_url: str | None = None  # photo.content_url (Zendesk sends "photo": null without one)

    def to_json(self) -> dict:
        return {
            "photo": {"id": self.id, "content_url": self.photo_url, "content_type": "image/png"}
            if self.photo_url else None,
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "active": True,
            "verified": True,
            "suspended": False,
            "time_zone": "UTC",
            "locale": "en-US",
            "external_id": None,
            "organization_id": None,
            "default_group_id": self.default_group_id,
            "tags": [],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.created_at),
        }


@dataclass
class Group:
    id: int
    name: str
    created_at: float

    def to_json(self) -> dict:
        ts = iso(self.created_at)
        return {"id": self.id, "name": self.name, "description": "", "default": False, "deleted": False,
                "created_at": ts, "updated_at": ts}


@dataclass
class Membership:
    id: int
    user_id: int
    group_id: int
    default: bool
    created_at: float

    def to_json(self) -> dict:
        ts = iso(self.created_at)
        return {"id": self.id, "user_id": self.user_id, "group_id": self.group_id, "default": self.default,
                "created_at": ts, "updated_at": ts}


@dataclass
class Comment:
    id: int
    ticket_id: int
    audit_id: int
    author_id: int
    body: str
    html_body: str
    public: bool
    via: dict
    created_at: float
    plain_body: str = ""
    attachments: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "type": "Comment",
            "author_id": self.author_id,
            "body": self.body,
            "html_body": self.html_body,
            "plain_body": self.plain_body or self.body,
            "public": self.public,
            "attachments": [dict(a) for a in self.attachments],
            "audit_id": self.audit_id,
            "via": self.via,
            "created_at": iso(self.created_at),
            "metadata": {"system": {}, "custom": {}},
        }

    def event(self) -> dict:
        """The Comment event inside its audit (Zendesk gives it the comment's id)."""
        data = self.to_json()
        del data["via"], data["created_at"], data["metadata"]
        return data


@dataclass
class Audit:
    id: int
    ticket_id: int
    author_id: int
    created_at: float
    via: dict
    events: list[dict] = field(default_factory=list)
    custom: dict = field(default_factory=dict)  # the write's "metadata", kept as metadata.custom
    system: dict = field(default_factory=dict)  # where the write came from (client, ip_address)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "author_id": self.author_id,
            "created_at": iso(self.created_at),
            "via": self.via,
            "metadata": {"system": dict(self.system), "custom": json.loads(json.dumps(self.custom))},
            "events": self.events,
        }

    @property
    def comment_id(self) -> int:
        """The id of the comment this audit added."""
        return next(e["id"] for e in self.events if e["type"] == "Comment")


@dataclass
class Ticket:
    id: int
    subject: str
    requester_id: int
    submitter_id: int
    via: dict
    created_at: float
    status: str = "new"
    description: str = ""
    priority: str | None = None
    type: str | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    external_id: str | None = None
    tags: list[str] = field(default_factory=list)
    updated_at: float = 0.0
    solved_at: float | None = None

    @property
    def generated_timestamp(self) -> int:
        return int(self.updated_at)

    def export_key(self) -> tuple[int, int]:
        """Position in the incremental export: by last change, ties by id."""
        return (self.generated_timestamp, self.id)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "external_id": self.external_id,
            "via": self.via,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "generated_timestamp": self.generated_timestamp,
            "type": self.type,
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.description,
            "priority": self.priority,
            "status": self.status,
            "recipient": None,
            "requester_id": self.requester_id,
            "submitter_id": self.submitter_id,
            "assignee_id": self.assignee_id,
            "organization_id": None,
            "group_id": self.group_id,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "tags": list(self.tags),
            "custom_fields": [],
            "solved_at": iso(self.solved_at),
            "has_incidents": False,
        }
