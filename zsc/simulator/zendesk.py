"""Fake Zendesk Support API, good enough for the real zenpy client.

Two layers:
  * `Desk` is the account's data and Zendesk's rules for changing it (ticket lifecycle,
    audits, comments, requester find-or-create). It knows nothing about HTTP.
  * `ZendeskSim` serves the Desk over HTTP (thin handlers), authenticates API tokens
    and OAuth bearer tokens, enforces rate limits, and offers a control surface that
    acts as people would (agents in the web UI, customers sending email).

Both the HTTP handlers and the control surface go through the same Desk methods, so
every change produces the audit, comment, timestamps and export visibility that a
change made through the API would.

Shapes follow what zenpy 2.0.57 parses: objects reference each other by id only
(`requester_id`, never a nested `requester` object, which zenpy cannot deserialize),
a create/update answers `{ticket, audit}` (zenpy builds a TicketAudit), and list
endpoints carry `next_page`/`count` or, when asked with `page[size]`, `meta`/`links`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import html
import itertools
import json
import math
import re
import secrets
import shlex
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from zsc.simulator.base import Request, Response, Service, now, route

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
ROLES = ("end-user", "agent", "admin")
# Statuses an end user's reply moves back to "open" (Zendesk's requester-reply rule).
REOPENED_BY_REQUESTER = ("pending", "hold", "solved")

EXPORT_LAG = 60  # seconds: incremental exports never show the most recent minute
EXPORT_PAGE_MAX = 1000
LIST_PAGE_MAX = 100
SHOW_MANY_MAX = 100
INCREMENTAL_CALLS_PER_MINUTE = 10
DEFAULT_CALLS_PER_MINUTE = 2500  # generous: Zendesk's highest plan limit
IDEMPOTENCY_TTL = 2 * 3600
OAUTH_CODE_TTL = 120
SYSTEM_USER_ID = -1  # Zendesk's updater_id for automations ("rule" channel)
SUPPORT_ADDRESS = "support@sim.zendesk.com"

INCREMENTAL_ENDPOINTS = ("incremental.tickets", "incremental.ticket_events")
UNAUTHENTICATED_ENDPOINTS = ("oauth.authorize", "oauth.tokens")


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def html_from_text(text: str) -> str:
    escaped = html.escape(text).replace("\n", "<br>")
    return f'<div class="zd-comment" dir="auto"><p>{escaped}</p></div>'


def text_from_html(markup: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", markup, flags=re.I)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text, flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


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

    def response(self) -> Response:
        return Response(self.status, self.body)


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


def zd_route(method: str, pattern: str, name: str):
    """`route` plus translation of ApiError into Zendesk's JSON error response, so
    handlers (and the Desk under them) can simply raise."""

    def mark(fn):
        @functools.wraps(fn)
        def handler(self, req: Request) -> Response:
            try:
                return fn(self, req)
            except ApiError as err:
                return err.response()

        return route(method, pattern, name)(handler)

    return mark


class RollingWindow:
    """At most `limit` events in any 60 s; knows how long until the next slot frees."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._times: deque[float] = deque()

    def retry_after(self, t: float) -> int:
        """0 if a call may go now, else whole seconds (>= 1) until one may."""
        while self._times and self._times[0] <= t - 60:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0
        return max(1, math.ceil(self._times[0] + 60 - t))

    def record(self, t: float) -> None:
        self._times.append(t)


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

    def to_json(self) -> dict:
        return {
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

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "type": "Comment",
            "author_id": self.author_id,
            "body": self.body,
            "html_body": self.html_body,
            "plain_body": self.body,
            "public": self.public,
            "attachments": [],
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

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "author_id": self.author_id,
            "created_at": iso(self.created_at),
            "via": self.via,
            "metadata": {"system": {}, "custom": {}},
            "events": self.events,
        }


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


# Ticket fields an API create/update may set directly (besides comment and requester).
SETTABLE_FIELDS = ("subject", "status", "priority", "type", "assignee_id", "group_id", "requester_id",
                   "external_id", "tags")


class Desk:
    """One Zendesk account: users, groups, tickets with their comments and audits.

    Not locked on its own; ZendeskSim calls it under its lock."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.groups: dict[int, Group] = {}
        self.memberships: list[Membership] = []
        self.tickets: dict[int, Ticket] = {}
        self.comments: dict[int, list[Comment]] = defaultdict(list)  # by ticket id, oldest first
        self.audits: list[Audit] = []  # oldest first; the ticket events export reads this
        self._user_ids = itertools.count(1000)
        self._ticket_ids = itertools.count(1)
        self._comment_ids = itertools.count(100000)
        self._group_ids = itertools.count(360000000)
        self._membership_ids = itertools.count(370000000)
        self._event_ids = itertools.count(900000000)  # audits and non-comment events

    # ---- users and groups ----
    def add_user(self, name: str, email: str | None, role: str = "end-user") -> User:
        if role not in ROLES:
            raise record_invalid("role", f"Role: {role} is not valid")
        if email and self.user_by_email(email):
            raise record_invalid("email", f"Email: {email} is already being used by another user",
                                 "DuplicateValue")
        user = User(next(self._user_ids), name, email, role, now())
        self.users[user.id] = user
        return user

    def user_by_email(self, email: str) -> User | None:
        email = email.strip().lower()
        return next((u for u in self.users.values() if u.email and u.email.lower() == email), None)

    def user(self, user_id: Any) -> User:
        try:
            return self.users[int(user_id)]
        except (KeyError, TypeError, ValueError):
            raise not_found() from None

    def find_or_create_end_user(self, name: str | None, email: str) -> User:
        existing = self.user_by_email(email)
        if existing:
            return existing
        return self.add_user(name or email.split("@")[0], email, "end-user")

    def account_owner(self) -> User:
        """The first admin; accounts always have one, so make one if needed."""
        owner = next((u for u in self.users.values() if u.role == "admin"), None)
        return owner or self.add_user("Account Owner", "owner@sim.zendesk.com", "admin")

    def add_group(self, name: str, agent_ids: Iterable[int] = ()) -> Group:
        group = Group(next(self._group_ids), name, now())
        self.groups[group.id] = group
        for agent_id in agent_ids:
            self.add_membership(agent_id, group.id)
        return group

    def add_membership(self, user_id: int, group_id: int) -> Membership:
        user = self.user(user_id)
        if user.role == "end-user":
            raise record_invalid("user_id", "User: must be an agent")
        first = user.default_group_id is None
        membership = Membership(next(self._membership_ids), user.id, group_id, first, now())
        self.memberships.append(membership)
        if first:
            user.default_group_id = group_id
        return membership

    def group(self, group_id: Any) -> Group:
        try:
            return self.groups[int(group_id)]
        except (KeyError, TypeError, ValueError):
            raise not_found() from None

    # ---- tickets ----
    def ticket(self, ticket_id: Any) -> Ticket:
        try:
            ticket = self.tickets[int(ticket_id)]
        except (KeyError, TypeError, ValueError):
            raise not_found() from None
        if ticket.status == "deleted":  # soft-deleted: only the incremental export still shows it
            raise not_found()
        return ticket

    def create_ticket(self, actor_id: int, channel: str, spec: dict,
                      source: dict | None = None) -> tuple[Ticket, Audit]:
        """POST /tickets semantics: `spec` is the API's `ticket` object."""
        comment_spec = spec.get("comment") or {}
        if not (comment_spec.get("body") or comment_spec.get("html_body")):
            raise record_invalid("description", "Description: cannot be blank", "BlankValue")
        requester_id = self._requester_id(spec) or actor_id
        # "By default, the requester of a ticket is the submitter" (Zendesk docs).
        submitter_id = self._user_ref("submitter_id", spec.get("submitter_id")) or requester_id
        t = now()
        ticket = Ticket(next(self._ticket_ids), spec.get("subject") or "", requester_id, submitter_id,
                        via(channel, source), t, updated_at=t)
        fields = self._validated_fields(spec, ticket)
        fields.setdefault("status", "open" if fields.get("assignee_id") else "new")
        audit = self._new_audit(ticket.id, actor_id, channel, source)
        # The submitter writes the first comment unless the request names its author.
        comment = self._add_comment(ticket, audit, {"author_id": submitter_id, **comment_spec})
        ticket.description = comment.body
        for name, value in fields.items():
            setattr(ticket, name, value)
        for name in ("subject", "status", "priority", "type", "requester_id", "assignee_id", "group_id", "tags"):
            value = getattr(ticket, name)
            if value not in (None, "", []):
                audit.events.append({"id": next(self._event_ids), "type": "Create", "field_name": name,
                                     "value": value})
        self._after_status_change(ticket)
        self.tickets[ticket.id] = ticket
        self._commit(ticket, audit)
        return ticket, audit

    def update_ticket(self, ticket_id: Any, actor_id: int, channel: str, spec: dict,
                      source: dict | None = None) -> tuple[Ticket, Audit]:
        """PUT /tickets/{id} semantics: `spec` is the API's `ticket` object."""
        ticket = self.ticket(ticket_id)
        if ticket.status == "closed":
            raise record_invalid("status", "Status: closed prevents ticket update", "ClosedPreventsUpdate")
        changes = self._validated_fields(spec, ticket)
        if spec.get("requester"):
            changes["requester_id"] = self._requester_id(spec)
        audit = self._new_audit(ticket.id, actor_id, channel, source)
        if spec.get("comment"):
            comment = self._add_comment(ticket, audit, {"author_id": actor_id, **spec["comment"]})
            if (self.users[comment.author_id].role == "end-user" and ticket.status in REOPENED_BY_REQUESTER
                    and "status" not in changes):
                changes["status"] = "open"
        if changes.get("status") == "solved" and ticket.assignee_id is None and "assignee_id" not in changes:
            # Solving needs an assignee; Zendesk assigns the agent who solves.
            if self.users.get(actor_id) and self.users[actor_id].role != "end-user":
                changes["assignee_id"] = actor_id
        previous_status = ticket.status
        for name, value in changes.items():
            old = getattr(ticket, name)
            if old == value:
                continue
            setattr(ticket, name, value)
            audit.events.append({"id": next(self._event_ids), "type": "Change", "field_name": name,
                                 "value": value, "previous_value": old})
        if ticket.status != previous_status:
            self._after_status_change(ticket)
        if audit.events:  # a no-op update leaves the ticket (and the exports) untouched
            self._commit(ticket, audit)
        return ticket, audit

    def _after_status_change(self, ticket: Ticket) -> None:
        if ticket.status == "solved":
            ticket.solved_at = now()
        elif ticket.status != "closed":
            ticket.solved_at = None

    def _validated_fields(self, spec: dict, ticket: Ticket) -> dict:
        """The settable fields present in `spec`, checked; `additional_tags` folded into tags."""
        fields = {name: spec[name] for name in SETTABLE_FIELDS if name in spec}
        if "status" in fields and fields["status"] not in STATUSES:
            raise record_invalid("status", f"Status: {fields['status']} is not valid")
        for name in ("assignee_id", "requester_id"):
            if fields.get(name) is not None:
                fields[name] = self._user_ref(name, fields[name])
        if fields.get("assignee_id") is not None and self.users[fields["assignee_id"]].role == "end-user":
            raise record_invalid("assignee", "Assignee: is not an agent")
        if fields.get("group_id") is not None:
            try:
                fields["group_id"] = self.group(fields["group_id"]).id
            except ApiError:
                raise record_invalid("group", "Group: is invalid") from None
        if "tags" in fields:
            fields["tags"] = _tag_list(fields["tags"])
        if spec.get("additional_tags"):
            base = fields.get("tags", ticket.tags)
            fields["tags"] = base + [t for t in _tag_list(spec["additional_tags"]) if t not in base]
        return fields

    def _user_ref(self, name: str, user_id: Any) -> int | None:
        if user_id is None:
            return None
        try:
            return self.user(user_id).id
        except ApiError:
            raise record_invalid(name, f"{name}: {user_id} is not a known user") from None

    def _requester_id(self, spec: dict) -> int | None:
        """requester_id, or find-or-create the end user described by `requester`."""
        if spec.get("requester_id") is not None:
            return self._user_ref("requester_id", spec["requester_id"])
        requester = spec.get("requester")
        if isinstance(requester, dict):
            if not requester.get("email"):
                raise record_invalid("requester", "Requester: email is required")
            return self.find_or_create_end_user(requester.get("name"), requester["email"]).id
        return None

    def _new_audit(self, ticket_id: int, author_id: int, channel: str, source: dict | None = None) -> Audit:
        return Audit(next(self._event_ids), ticket_id, author_id, now(), via(channel, source))

    def _add_comment(self, ticket: Ticket, audit: Audit, spec: dict) -> Comment:
        author_id = self._user_ref("author_id", spec.get("author_id"))
        if spec.get("html_body"):
            markup = spec["html_body"]
            body = text_from_html(markup)
        elif spec.get("body"):
            body = spec["body"]
            markup = html_from_text(body)
        else:
            raise record_invalid("comment", "Comment: cannot be blank", "BlankValue")
        public = spec.get("public", True) is not False
        comment = Comment(next(self._comment_ids), ticket.id, audit.id, author_id, body, markup, public,
                          audit.via, audit.created_at)
        self.comments[ticket.id].append(comment)
        audit.events.append(comment.event())
        return comment

    def _commit(self, ticket: Ticket, audit: Audit) -> None:
        ticket.updated_at = audit.created_at
        self.audits.append(audit)

    # ---- search ----
    def search_tickets(self, query: str) -> list[Ticket]:
        try:
            terms = shlex.split(query)
        except ValueError:
            raise ApiError(400, {"error": "InvalidSearchQuery", "description": query}) from None
        return [t for t in self.tickets.values() if all(self._matches(t, term) for term in terms)]

    def _matches(self, ticket: Ticket, term: str) -> bool:
        negate = term.startswith("-")
        term = term.lstrip("-")
        m = re.fullmatch(r"(\w+)(:|<=|>=|<|>)(.+)", term)
        result = self._matches_field(ticket, *m.groups()) if m else self._matches_text(ticket, term)
        return result != negate

    def _matches_field(self, ticket: Ticket, name: str, op: str, value: str) -> bool:
        if name == "type":
            if value != "ticket":
                raise unsupported_search(f"the simulator searches tickets only, not {value}")
            return True
        if name == "status":
            if value not in STATUSES:
                return False
            have, want = STATUSES.index(ticket.status), STATUSES.index(value)  # statuses are ordered
            return {":": have == want, "<": have < want, ">": have > want,
                    "<=": have <= want, ">=": have >= want}[op]
        if name in ("group", "group_id"):
            return str(ticket.group_id) == value or (value == "none" and ticket.group_id is None)
        if name in ("assignee", "assignee_id"):
            return self._user_matches(ticket.assignee_id, value)
        if name in ("requester", "requester_id"):
            return self._user_matches(ticket.requester_id, value)
        if name == "external_id":
            return ticket.external_id == value
        if name in ("tags", "tag"):
            return value in ticket.tags
        if name == "subject":
            return value.lower() in ticket.subject.lower()
        raise unsupported_search(f"the simulator cannot search on {name}")

    def _user_matches(self, user_id: int | None, value: str) -> bool:
        if value == "none":
            return user_id is None
        user = self.users.get(user_id) if user_id is not None else None
        return user is not None and (str(user.id) == value or (user.email or "").lower() == value.lower())

    def _matches_text(self, ticket: Ticket, text: str) -> bool:
        text = text.lower()
        return text in ticket.subject.lower() or any(text in c.body.lower() for c in self.comments[ticket.id])


def _tag_list(tags: Any) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split()
    return [str(t).strip().lower().replace(" ", "_") for t in tags if str(t).strip()]


# ---------------------------------------------------------------------------
# the service
# ---------------------------------------------------------------------------


@dataclass
class Credential:
    user_id: int
    scopes: tuple[str, ...] = ("read", "write")


@dataclass
class OAuthCode:
    client_id: str
    redirect_uri: str
    scope: str
    user_id: int
    expires_at: float
    used: bool = False


@dataclass
class IdempotentResult:
    fingerprint: str
    response: Response
    expires_at: float


class ZendeskSim(Service):
    name = "zendesk"

    def __init__(self, calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE) -> None:
        super().__init__()
        self.desk = Desk()
        self._api_tokens: dict[str, str] = {}  # token -> email of the user it acts as
        self._oauth_tokens: dict[str, Credential] = {}
        self._oauth_clients: dict[str, tuple[str, str]] = {}  # client_id -> (secret, redirect_uri)
        self._oauth_codes: dict[str, OAuthCode] = {}
        self._idempotency: dict[str, IdempotentResult] = {}
        self._global_window = RollingWindow(calls_per_minute)
        # Zendesk limits incremental exports per account, on top of the global limit.
        self._incremental_window = RollingWindow(INCREMENTAL_CALLS_PER_MINUTE)

    # =======================================================================
    # control surface: acts as people would
    # =======================================================================
    def add_user(self, name: str, email: str, role: str = "end-user") -> int:
        with self.lock:
            return self.desk.add_user(name, email, role).id

    def add_agent(self, name: str, email: str) -> int:
        return self.add_user(name, email, "agent")

    def add_group(self, name: str, agent_ids: Iterable[int] = ()) -> int:
        with self.lock:
            return self.desk.add_group(name, agent_ids).id

    def add_api_token(self, email: str, token: str) -> None:
        """Allow Basic `{email}/token:{token}`. An unknown email becomes an admin, so a
        test can hand zsc credentials in one line."""
        with self.lock:
            if not self.desk.user_by_email(email):
                self.desk.add_user(email.split("@")[0], email, "admin")
            self._api_tokens[token] = email.lower()

    def revoke_api_token(self, token: str) -> None:
        with self.lock:
            self._api_tokens.pop(token, None)

    def add_oauth_token(self, token: str, user_id: int | None = None, scope: str = "read write") -> None:
        with self.lock:
            owner = user_id if user_id is not None else self.desk.account_owner().id
            self._oauth_tokens[token] = Credential(owner, tuple(scope.split()))

    def revoke_oauth_token(self, token: str) -> None:
        with self.lock:
            self._oauth_tokens.pop(token, None)

    def register_oauth_client(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        with self.lock:
            self._oauth_clients[client_id] = (client_secret, redirect_uri)

    def issue_oauth_code(self, client_id: str, user_id: int | None = None, scope: str = "read write",
                         redirect_uri: str | None = None) -> str:
        """What the user's "Allow" click in the browser produces."""
        with self.lock:
            if client_id not in self._oauth_clients:
                raise KeyError(f"unknown OAuth client {client_id!r}")
            code = secrets.token_urlsafe(16)
            owner = user_id if user_id is not None else self.desk.account_owner().id
            self._oauth_codes[code] = OAuthCode(client_id, redirect_uri or self._oauth_clients[client_id][1],
                                                scope, owner, now() + OAUTH_CODE_TTL)
            return code

    def agent_comment(self, ticket_id: int, author_id: int, body: str, public: bool = True) -> int:
        """An agent replies in the web UI; the UI submits a new ticket as open."""
        with self.lock:
            spec: dict = {"comment": {"body": body, "public": public, "author_id": author_id}}
            if self.desk.ticket(ticket_id).status == "new":
                spec["status"] = "open"
            _, audit = self.desk.update_ticket(ticket_id, author_id, "web", spec)
            return _comment_id(audit)

    def internal_note(self, ticket_id: int, author_id: int, body: str) -> int:
        with self.lock:
            spec = {"comment": {"body": body, "public": False, "author_id": author_id}}
            _, audit = self.desk.update_ticket(ticket_id, author_id, "web", spec)
            return _comment_id(audit)

    def end_user_comment(self, ticket_id: int, author_id: int, body: str) -> int:
        """The requester replies to the notification email."""
        with self.lock:
            author = self.desk.user(author_id)
            spec = {"comment": {"body": body, "public": True, "author_id": author_id}}
            source = {"address": author.email, "name": author.name}
            _, audit = self.desk.update_ticket(ticket_id, author_id, "email", spec, source)
            return _comment_id(audit)

    def set_status(self, ticket_id: int, status: str, author_id: int | None = None) -> None:
        with self.lock:
            actor = author_id if author_id is not None else self._acting_agent(ticket_id)
            self.desk.update_ticket(ticket_id, actor, "web", {"status": status})

    def solve(self, ticket_id: int, author_id: int | None = None) -> None:
        self.set_status(ticket_id, "solved", author_id)

    def close(self, ticket_id: int) -> None:
        """Closing is Zendesk's automation's job: channel "rule", updater -1."""
        with self.lock:
            self.desk.update_ticket(ticket_id, SYSTEM_USER_ID, "rule", {"status": "closed"})

    def delete(self, ticket_id: int) -> None:
        """An agent deletes the ticket: gone from every endpoint (404) but the incremental
        export, which shows it once more with status "deleted", as Zendesk does."""
        with self.lock:
            ticket = self.desk.ticket(ticket_id)
            ticket.status = "deleted"
            ticket.updated_at = max(now(), ticket.updated_at + 1)

    def receive_email(self, from_name: str, from_email: str, subject: str, body: str,
                      group_id: int | None = None) -> int:
        with self.lock:
            requester = self.desk.find_or_create_end_user(from_name, from_email)
            spec = {"subject": subject, "comment": {"body": body, "public": True}, "group_id": group_id}
            source = {"address": requester.email, "name": requester.name}
            ticket, _ = self.desk.create_ticket(requester.id, "email", spec, source)
            return ticket.id

    # The getters hand out copies: a test poking at a result must not change the account.
    def ticket(self, ticket_id: int) -> dict:
        with self.lock:
            return copy.deepcopy(self.desk.ticket(ticket_id).to_json())

    def tickets(self) -> list[dict]:
        with self.lock:
            return copy.deepcopy([t.to_json() for t in self.desk.tickets.values()])

    def comments(self, ticket_id: int) -> list[dict]:
        with self.lock:
            return copy.deepcopy([c.to_json() for c in self.desk.comments[self.desk.ticket(ticket_id).id]])

    def user(self, user_id: int) -> dict:
        with self.lock:
            return self.desk.user(user_id).to_json()

    def find_user(self, email: str) -> dict | None:
        with self.lock:
            found = self.desk.user_by_email(email)
            return found.to_json() if found else None

    def set_rate_limit(self, per_minute: int) -> None:
        with self.lock:
            self._global_window.limit = per_minute

    def _acting_agent(self, ticket_id: int) -> int:
        """Who clicks in the UI when the test doesn't say: the assignee, else any agent."""
        ticket = self.desk.ticket(ticket_id)
        if ticket.assignee_id is not None:
            return ticket.assignee_id
        agent = next((u for u in self.desk.users.values() if u.role != "end-user"), None)
        return agent.id if agent else self.desk.account_owner().id

    # =======================================================================
    # authentication and rate limits (run by base before every handler)
    # =======================================================================
    def authenticate(self, req: Request, endpoint: str) -> Response | None:
        if endpoint in UNAUTHENTICATED_ENDPOINTS:
            return None
        with self.lock:
            credential = self._credential(req)
            if credential is None:
                return Response(401, {"error": "Couldn't authenticate you"})
            user = self.desk.users.get(credential.user_id)
            if user is None or user.role == "end-user":
                return _forbidden()
            if req.method != "GET" and "write" not in credential.scopes:
                return _forbidden()
            return self._spend_rate_budget(endpoint)

    def _credential(self, req: Request) -> Credential | None:
        scheme, _, value = (req.header("authorization") or "").partition(" ")
        if scheme.lower() == "bearer":
            return self._oauth_tokens.get(value.strip())
        if scheme.lower() != "basic":
            return None
        try:
            login, _, secret = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        # Only API tokens ("{email}/token"): Zendesk no longer accepts passwords on the API.
        if not login.endswith("/token"):
            return None
        email = login[: -len("/token")]
        if self._api_tokens.get(secret) != email.lower():
            return None
        user = self.desk.user_by_email(email)
        return Credential(user.id) if user else None

    def _actor(self, req: Request) -> User:
        credential = self._credential(req)
        assert credential is not None, "authenticate() let an anonymous call through"
        return self.desk.users[credential.user_id]

    def _spend_rate_budget(self, endpoint: str) -> Response | None:
        t = now()
        windows = [self._global_window]
        if endpoint in INCREMENTAL_ENDPOINTS:
            windows.append(self._incremental_window)
        wait = max(w.retry_after(t) for w in windows)
        if wait:
            return Response(429, {"error": "APIRateLimitExceeded",
                                  "description": "Number of allowed API requests per minute exceeded"},
                            {"Retry-After": str(wait)})
        for w in windows:
            w.record(t)
        return None

    # =======================================================================
    # HTTP handlers: parse, call the Desk, shape the answer
    # =======================================================================
    # ---- users and groups ----
    @zd_route("GET", r"/api/v2/users/me\.json", "users.me")
    def _users_me(self, req: Request) -> Response:
        with self.lock:
            return Response(200, {"user": self._actor(req).to_json()})

    @zd_route("GET", r"/api/v2/users/(?P<id>\d+)\.json", "users.show")
    def _users_show(self, req: Request) -> Response:
        with self.lock:
            return Response(200, {"user": self.desk.user(req.params["id"]).to_json()})

    @zd_route("GET", r"/api/v2/users/show_many\.json", "users.show_many")
    def _users_show_many(self, req: Request) -> Response:
        ids = _id_list(req.arg("ids"))
        with self.lock:
            return Response(200, {"users": [self.desk.users[i].to_json() for i in ids if i in self.desk.users]})

    @zd_route("GET", r"/api/v2/users/search\.json", "users.search")
    def _users_search(self, req: Request) -> Response:
        query = (req.arg("query") or "").strip()
        if not query and req.arg("external_id") is None:
            raise ApiError(400, {"error": "InvalidValue", "description": "query or external_id is required"})
        with self.lock:
            found = [u.to_json() for u in self.desk.users.values() if query and _user_matches_query(u, query)]
            return Response(200, self._paginate(req, found, "users"))

    @zd_route("POST", r"/api/v2/users\.json", "users.create")
    def _users_create(self, req: Request) -> Response:
        spec = _json_object(req, "user")
        if not spec.get("name"):
            raise record_invalid("name", "Name: cannot be blank", "BlankValue")
        with self.lock:
            user = self.desk.add_user(spec["name"], spec.get("email"), spec.get("role") or "end-user")
            return Response(201, {"user": user.to_json()})

    @zd_route("GET", r"/api/v2/groups/(?P<id>\d+)\.json", "groups.show")
    def _groups_show(self, req: Request) -> Response:
        with self.lock:
            return Response(200, {"group": self.desk.group(req.params["id"]).to_json()})

    @zd_route("GET", r"/api/v2/groups/(?P<id>\d+)/memberships\.json", "group_memberships")
    def _group_memberships(self, req: Request) -> Response:
        with self.lock:
            group = self.desk.group(req.params["id"])
            found = [m.to_json() for m in self.desk.memberships if m.group_id == group.id]
            return Response(200, self._paginate(req, found, "group_memberships"))

    @zd_route("GET", r"/api/v2/users/(?P<id>\d+)/group_memberships\.json", "group_memberships")
    def _user_group_memberships(self, req: Request) -> Response:
        with self.lock:
            user = self.desk.user(req.params["id"])
            found = [m.to_json() for m in self.desk.memberships if m.user_id == user.id]
            return Response(200, self._paginate(req, found, "group_memberships"))

    # ---- tickets ----
    @zd_route("POST", r"/api/v2/tickets\.json", "tickets.create")
    def _tickets_create(self, req: Request) -> Response:
        spec = _json_object(req, "ticket")
        key = req.header("idempotency-key")
        with self.lock:
            if key:
                replay = self._idempotent_replay(key, req)
                if replay is not None:
                    return replay
            ticket, audit = self.desk.create_ticket(self._actor(req).id, "api", spec)
            resp = Response(201, {"ticket": ticket.to_json(), "audit": audit.to_json()},
                            {"Location": f"/api/v2/tickets/{ticket.id}.json"})
            if key:
                self._remember_idempotent(key, req, resp)
                resp.headers["x-idempotency-lookup"] = "miss"
            return resp

    @zd_route("PUT", r"/api/v2/tickets/(?P<id>\d+)\.json", "tickets.update")
    def _tickets_update(self, req: Request) -> Response:
        spec = _json_object(req, "ticket")
        with self.lock:
            ticket, audit = self.desk.update_ticket(req.params["id"], self._actor(req).id, "api", spec)
            return Response(200, {"ticket": ticket.to_json(), "audit": audit.to_json()})

    @zd_route("GET", r"/api/v2/tickets/(?P<id>\d+)\.json", "tickets.show")
    def _tickets_show(self, req: Request) -> Response:
        with self.lock:
            return Response(200, {"ticket": self.desk.ticket(req.params["id"]).to_json()})

    @zd_route("GET", r"/api/v2/tickets/show_many\.json", "tickets.show_many")
    def _tickets_show_many(self, req: Request) -> Response:
        ids = _id_list(req.arg("ids"))
        if len(ids) > SHOW_MANY_MAX:
            raise ApiError(400, {"error": "TooManyValues",
                                 "description": f"You can pass at most {SHOW_MANY_MAX} ids"})
        with self.lock:
            found = [self.desk.tickets[i].to_json() for i in ids
                     if i in self.desk.tickets and self.desk.tickets[i].status != "deleted"]
            return Response(200, {"tickets": found, "next_page": None, "previous_page": None, "count": len(found)})

    @zd_route("GET", r"/api/v2/tickets\.json", "tickets.list")
    def _tickets_list(self, req: Request) -> Response:
        external_id = req.arg("external_id")
        with self.lock:
            found = [t.to_json() for t in self.desk.tickets.values()
                     if (external_id is None or t.external_id == external_id) and t.status != "deleted"]
            return Response(200, self._paginate(req, found, "tickets"))

    @zd_route("GET", r"/api/v2/tickets/(?P<id>\d+)/comments\.json", "tickets.comments")
    def _tickets_comments(self, req: Request) -> Response:
        with self.lock:
            ticket = self.desk.ticket(req.params["id"])
            found = [c.to_json() for c in self.desk.comments[ticket.id]]
            return Response(200, self._paginate(req, found, "comments"))

    @zd_route("GET", r"/api/v2/search/count\.json", "search.count")
    def _search_count(self, req: Request) -> Response:
        with self.lock:
            return Response(200, {"count": len(self.desk.search_tickets(req.arg("query") or ""))})

    # ---- incremental exports ----
    @zd_route("GET", r"/api/v2/incremental/tickets/cursor\.json", "incremental.tickets")
    def _export_tickets(self, req: Request) -> Response:
        per_page = _bounded_int(req.arg("per_page"), EXPORT_PAGE_MAX, EXPORT_PAGE_MAX)
        with self.lock:
            position = self._export_position(req)
            cutoff = now() - EXPORT_LAG
            visible = sorted((t for t in self.desk.tickets.values() if t.generated_timestamp <= cutoff),
                             key=Ticket.export_key)
            page, end_of_stream = _cursor_page(visible, Ticket.export_key, position, per_page)
            first = list(page[0].export_key()) if page else position["at"]
            last = list(page[-1].export_key()) if page else position["at"]
            after = encode_cursor({"at": last, "dir": "after"})
            before = encode_cursor({"at": first, "dir": "before"})
            path = "/api/v2/incremental/tickets/cursor.json"
            extra = {"per_page": req.arg("per_page")} if req.arg("per_page") else {}
            return Response(200, {
                "tickets": [t.to_json() for t in page],
                "after_cursor": after,
                "before_cursor": before,
                "after_url": self._url(req, path, {"cursor": after, **extra}),
                "before_url": self._url(req, path, {"cursor": before, **extra}),
                "end_of_stream": end_of_stream,
            })

    def _export_position(self, req: Request) -> dict:
        """Where an export call starts: a cursor we issued, or a start_time at least a
        minute old (the export lag); start_time is inclusive."""
        cursor = req.arg("cursor")
        if cursor:
            position = decode_cursor(cursor)
            if position.get("dir") not in ("after", "before") or len(position.get("at") or ()) != 2:
                raise invalid_cursor()
            return position
        return {"at": [self._start_time(req), 0], "dir": "after"}

    @zd_route("GET", r"/api/v2/incremental/ticket_events\.json", "incremental.ticket_events")
    def _export_ticket_events(self, req: Request) -> Response:
        per_page = _bounded_int(req.arg("per_page"), EXPORT_PAGE_MAX, EXPORT_PAGE_MAX)
        with_comments = "comment_events" in (req.arg("include") or "").split(",")
        with self.lock:
            start = self._start_time(req)
            cutoff = now() - EXPORT_LAG
            visible = [a for a in self.desk.audits if start <= int(a.created_at) <= cutoff]
            page, end_of_stream = _time_page(visible, per_page)
            end_time = int(page[-1].created_at) if page else start
            params = {"start_time": end_time}
            for name in ("include", "per_page"):
                if req.arg(name):
                    params[name] = req.arg(name)
            return Response(200, {
                "ticket_events": [_ticket_event(a, with_comments) for a in page],
                "next_page": self._url(req, "/api/v2/incremental/ticket_events.json", params),
                "end_time": end_time,
                "end_of_stream": end_of_stream,
                "count": len(page),
            })

    def _start_time(self, req: Request) -> int:
        raw = req.arg("start_time")
        if raw is None:
            raise invalid_value("start_time or cursor is required")
        try:
            start = int(raw)
        except ValueError:
            raise invalid_value(f"start_time {raw!r} is not a unix timestamp") from None
        if start > now() - EXPORT_LAG:
            raise invalid_value("Too recent start_time. Use a start_time older than 1 minute")
        return start

    # ---- OAuth (for `zsc auth zendesk`) ----
    @zd_route("GET", r"/oauth/authorizations/new", "oauth.authorize")
    def _oauth_authorize(self, req: Request) -> Response:
        """The consent page. Its "Allow" link carries a fresh code back to the client."""
        client_id = req.arg("client_id") or ""
        with self.lock:
            client = self._oauth_clients.get(client_id)
        if client is None:
            return Response(400, "<html><body><h1>Invalid OAuth client</h1></body></html>",
                            {"Content-Type": "text/html; charset=utf-8"})
        redirect_uri = req.arg("redirect_uri") or client[1]
        code = self.issue_oauth_code(client_id, scope=req.arg("scope") or "read write", redirect_uri=redirect_uri)
        back = {"code": code, **({"state": req.arg("state")} if req.arg("state") else {})}
        allow = html.escape(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(back)}")
        page = (f"<html><body><h1>Allow {html.escape(client_id)} to access Zendesk?</h1>"
                f'<a id="allow" href="{allow}">Allow</a></body></html>')
        return Response(200, page, {"Content-Type": "text/html; charset=utf-8"})

    @zd_route("POST", r"/oauth/tokens", "oauth.tokens")
    def _oauth_tokens_exchange(self, req: Request) -> Response:
        form = req.form()
        with self.lock:
            if form.get("grant_type") != "authorization_code":
                return _oauth_error(400, "unsupported_grant_type", "Only authorization_code is supported")
            client = self._oauth_clients.get(form.get("client_id") or "")
            if client is None or not secrets.compare_digest(client[0], str(form.get("client_secret") or "")):
                return _oauth_error(401, "invalid_client", "Client authentication failed")
            grant = self._oauth_codes.get(form.get("code") or "")
            problem = _grant_problem(grant, form)
            if problem:
                return _oauth_error(400, "invalid_grant", problem)
            grant.used = True  # codes are single-use
            token = secrets.token_hex(32)
            self._oauth_tokens[token] = Credential(grant.user_id, tuple(grant.scope.split()))
            return Response(200, {"access_token": token, "token_type": "bearer", "scope": grant.scope})

    # =======================================================================
    # plumbing
    # =======================================================================
    def _idempotent_replay(self, key: str, req: Request) -> Response | None:
        """The stored answer for a repeat of `key`, a 400 for a different request under
        the same key, or None when the key is new (or expired)."""
        stored = self._idempotency.get(key)
        if stored is None or stored.expires_at <= now():
            return None
        if stored.fingerprint != _fingerprint(req):
            return Response(400, {"error": "IdempotentRequestError",
                                  "description": "The request does not match the original request "
                                                 "made with this Idempotency-Key"})
        replay = stored.response
        return Response(replay.status, replay.body, {**replay.headers, "x-idempotency-lookup": "hit"})

    def _remember_idempotent(self, key: str, req: Request, resp: Response) -> None:
        stored = Response(resp.status, json.loads(json.dumps(resp.body)), dict(resp.headers))
        self._idempotency[key] = IdempotentResult(_fingerprint(req), stored, now() + IDEMPOTENCY_TTL)

    def _paginate(self, req: Request, items: list[dict], key: str) -> dict:
        """A page of `items` (sorted by id). `page[size]` asks for cursor pagination
        (zenpy sends it for tickets and comments); otherwise page/per_page offsets."""
        if any(name.startswith("page[") for name in req.query):
            return self._cursor_paginate(req, items, key)
        per_page = _bounded_int(req.arg("per_page"), LIST_PAGE_MAX, LIST_PAGE_MAX)
        page = max(1, _bounded_int(req.arg("page"), 1, 10**9))
        start = (page - 1) * per_page
        chunk = items[start:start + per_page]

        def page_url(n: int) -> str:
            params = {k: v[0] for k, v in req.query.items() if k not in ("page", "per_page")}
            return self._url(req, req.path, {**params, "page": n, "per_page": per_page})

        return {
            key: chunk,
            "next_page": page_url(page + 1) if start + per_page < len(items) else None,
            "previous_page": page_url(page - 1) if page > 1 else None,
            "count": len(items),
        }

    def _cursor_paginate(self, req: Request, items: list[dict], key: str) -> dict:
        size = _bounded_int(req.arg("page[size]"), LIST_PAGE_MAX, LIST_PAGE_MAX)
        after, before = req.arg("page[after]"), req.arg("page[before]")
        if before:
            older = [i for i in items if i["id"] < decode_cursor(before).get("id", 0)]
            chunk, has_more = older[-size:], len(older) > size
        else:
            start_id = decode_cursor(after).get("id", 0) if after else 0
            newer = [i for i in items if i["id"] > start_id]
            chunk, has_more = newer[:size], len(newer) > size
        after_cursor = encode_cursor({"id": chunk[-1]["id"]}) if chunk else None
        before_cursor = encode_cursor({"id": chunk[0]["id"]}) if chunk else None
        params = {k: v[0] for k, v in req.query.items() if not k.startswith("page[")}

        def link(direction: str, cursor: str | None) -> str | None:
            if cursor is None:
                return None
            return self._url(req, req.path, {**params, "page[size]": size, f"page[{direction}]": cursor})

        return {
            key: chunk,
            "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor},
            "links": {"next": link("after", after_cursor), "prev": link("before", before_cursor)},
        }

    def _url(self, req: Request, path: str, params: dict) -> str:
        """Absolute URL on the host the client used, as Zendesk's next-page links are."""
        host = req.header("host") or self.url.split("://", 1)[1]
        return f"http://{host}{path}?{urlencode(params)}"


# ---------------------------------------------------------------------------
# helpers for the handlers
# ---------------------------------------------------------------------------


def _forbidden() -> Response:
    return Response(403, {"error": "Forbidden", "description": "You do not have access to this page. "
                          "Please contact the account owner of this help desk for further help."})


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description})


def _grant_problem(grant: OAuthCode | None, form: dict) -> str | None:
    if grant is None:
        return "The authorization code is invalid"
    if grant.used:
        return "The authorization code has already been used"
    if grant.expires_at <= now():
        return "The authorization code has expired"
    if grant.client_id != form.get("client_id"):
        return "The authorization code was issued to another client"
    if form.get("redirect_uri") and form["redirect_uri"] != grant.redirect_uri:
        return "The redirect_uri does not match the one used to authorize"
    return None


def _comment_id(audit: Audit) -> int:
    return next(e["id"] for e in audit.events if e["type"] == "Comment")


def _json_object(req: Request, key: str) -> dict:
    """The `{key: {...}}` body of a write, or Zendesk's 400 for anything else."""
    try:
        data = req.json()
    except ValueError:
        raise ApiError(400, {"error": "InvalidJSON", "description": "The request body is not valid JSON"}) from None
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise ApiError(400, {"error": "InvalidValue", "description": f"Expected a {key!r} object"})
    return data[key]


def _fingerprint(req: Request) -> str:
    try:
        body = json.dumps(req.json(), sort_keys=True)
    except ValueError:
        body = req.body.decode("utf-8", "replace")
    return f"{req.method} {req.path} {body}"


def _id_list(raw: str | None) -> list[int]:
    try:
        return [int(part) for part in (raw or "").split(",") if part.strip()]
    except ValueError:
        raise invalid_value(f"ids must be integers: {raw!r}") from None


def _bounded_int(raw: str | None, default: int, maximum: int) -> int:
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        raise invalid_value(f"not a number: {raw!r}") from None
    return max(1, min(value, maximum))


def _user_matches_query(user: User, query: str) -> bool:
    """users/search: `email:x` or a bare address matches the email exactly;
    anything else matches within the name."""
    query = query.strip().strip('"')
    if query.lower().startswith("email:"):
        query = query[6:].strip().strip('"')
        return (user.email or "").lower() == query.lower()
    if (user.email or "").lower() == query.lower():
        return True
    return query.lower() in user.name.lower()


def _cursor_page(items: list, key: Callable, position: dict, per_page: int) -> tuple[list, bool]:
    """One page of an export sorted by `key`, after (or before) `position`."""
    at = tuple(position["at"])
    if position["dir"] == "before":
        older = [i for i in items if key(i) < at]
        return older[-per_page:], len(older) <= per_page
    newer = [i for i in items if key(i) > at]
    return newer[:per_page], len(newer) <= per_page


def _time_page(audits: list[Audit], per_page: int) -> tuple[list[Audit], bool]:
    """A time-based export page. Like Zendesk, a page never splits one second: the
    next page starts at this page's end_time, so a split would lose events."""
    ordered = sorted(audits, key=lambda a: (int(a.created_at), a.id))
    page = ordered[:per_page]
    while len(page) < len(ordered) and int(ordered[len(page)].created_at) == int(page[-1].created_at):
        page.append(ordered[len(page)])
    return page, len(page) == len(ordered)


def _ticket_event(audit: Audit, with_comments: bool) -> dict:
    children = []
    for event in audit.events:
        if event["type"] == "Comment" and not with_comments:
            continue
        child = {**event, "event_type": event["type"], "via": audit.via, "created_at": iso(audit.created_at)}
        if "field_name" in event:  # Zendesk also keys change events by the field itself
            child[event["field_name"]] = event["value"]
        children.append(child)
    return {
        "id": audit.id,
        "ticket_id": audit.ticket_id,
        "timestamp": int(audit.created_at),
        "created_at": iso(audit.created_at),
        "updater_id": audit.author_id,
        "via": audit.via,
        "event_type": "Audit",
        "child_events": children,
    }
