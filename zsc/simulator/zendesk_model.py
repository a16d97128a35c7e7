"""Zendesk's data and rules, without HTTP: the `Desk` (one account) and its records.

`Desk` is the account's data and Zendesk's rules for changing it: ticket lifecycle,
audits (with custom metadata), comments (bodies rendered as Zendesk renders them),
requester find-or-create, search, and the incremental export pages. It knows nothing
about HTTP, so it can back an in-process fake as well as `ZendeskSim`:

    desk = Desk()
    agent = desk.add_user("Zoe", "zoe@example.com", "agent")
    ticket, audit = desk.create_ticket(agent.id, "api", {"subject": "Hi", "comment": {"body": "..."}})
    desk.update_ticket(ticket.id, agent.id, "api", {"comment": {"body": "more"}}, metadata={"k": "v"})
    desk.ticket_audits(ticket.id)         # [Audit], oldest first
    desk.export_tickets(start_time=0)     # one page of the cursor export, as a dict

Refusals are raised as `ApiError(status, body)` in Zendesk's words. Not thread safe:
callers (ZendeskSim does) hold one lock around every call.

Shapes follow what zenpy 2.0.57 parses: objects reference each other by id only
(`requester_id`, never a nested `requester` object, which zenpy cannot deserialize).
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from collections import defaultdict
from typing import Any, Callable, Iterable

from zsc.simulator.base import now
from zsc.simulator.zendesk_files import Files
from zsc.simulator.zendesk_markdown import html_from_markdown, html_from_text, text_from_html
from zsc.simulator.zendesk_records import (
    ApiError, Audit, Comment, EXPORT_LAG, EXPORT_PAGE_MAX, Group, Membership, REOPENED_BY_REQUESTER, ROLES,
    STATUSES, Ticket, User, decode_cursor, encode_cursor, invalid_cursor, invalid_value, iso,
    not_found, record_invalid, unsupported_search, via,
)

# Ticket fields an API create/update may set directly (besides comment and requester).
SETTABLE_FIELDS = ("subject", "status", "priority", "type", "assignee_id", "group_id", "requester_id",
                   "external_id", "tags")


class Desk:
    """One Zendesk account: users, groups, tickets with their comments and audits.

    Not locked on its own; ZendeskSim calls it under its lock.

    `render_markdown`: comment bodies are rendered as Markdown into html_body and
    plain_body, as Zendesk does. Off by default for now: zsc still recognises its own
    comments by comparing plain_body with what it sent (being replaced by audit
    metadata); with it off, plain_body is the body as sent."""

    def __init__(self, render_markdown: bool = False) -> None:
        self.render_markdown = render_markdown
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
        self.files = Files()  # uploads and attachments

    # ---- users and groups ----
    def add_user(self, name: str, email: str | None, role: str = "end-user") -> User:
        """A new user (`role` end-user, agent or admin); emails are unique."""
        if role not in ROLES:
            raise record_invalid("role", f"Role: {role} is not valid")
        if email and self.user_by_email(email):
            raise record_invalid("email", f"Email: {email} is already being used by another user",
                                 "DuplicateValue")
        user = User(next(self._user_ids), name, email, role, now())
        self.users[user.id] = user
        return user

    def user_by_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), or None."""
        email = email.strip().lower()
        return next((u for u in self.users.values() if u.email and u.email.lower() == email), None)

    def user(self, user_id: Any) -> User:
        """The user `user_id`; ApiError 404 (RecordNotFound) if there is none."""
        try:
            return self.users[int(user_id)]
        except (KeyError, TypeError, ValueError):
            raise not_found() from None

    def find_or_create_end_user(self, name: str | None, email: str) -> User:
        """What a `requester: {name, email}` or an incoming email does."""
        existing = self.user_by_email(email)
        if existing:
            return existing
        return self.add_user(name or email.split("@")[0], email, "end-user")

    def account_owner(self) -> User:
        """The first admin; accounts always have one, so make one if needed."""
        owner = next((u for u in self.users.values() if u.role == "admin"), None)
        return owner or self.add_user("Account Owner", "owner@sim.zendesk.com", "admin")

    def add_group(self, name: str, agent_ids: Iterable[int] = ()) -> Group:
        """A new group with these agents as members."""
        group = Group(next(self._group_ids), name, now())
        self.groups[group.id] = group
        for agent_id in agent_ids:
            self.add_membership(agent_id, group.id)
        return group

    def add_membership(self, user_id: int, group_id: int) -> Membership:
        """Put an agent in a group (their first group becomes their default)."""
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
        """The group `group_id`; ApiError 404 if there is none."""
        try:
            return self.groups[int(group_id)]
        except (KeyError, TypeError, ValueError):
            raise not_found() from None

    # ---- tickets ----
    def ticket(self, ticket_id: Any) -> Ticket:
        """The ticket `ticket_id`; ApiError 404 if there is none or it was deleted."""
        try:
            ticket = self.tickets[int(ticket_id)]
        except (KeyError, TypeError, ValueError):
            raise not_found() from None
        if ticket.status == "deleted":  # soft-deleted: only the incremental export still shows it
            raise not_found()
        return ticket

    def create_ticket(self, actor_id: int, channel: str, spec: dict, source: dict | None = None,
                      metadata: dict | None = None, system: dict | None = None) -> tuple[Ticket, Audit]:
        """POST /tickets semantics: `spec` is the API's `ticket` object, `actor_id` who
        writes (the API user), `channel` the via channel ("api", "web", "email"), `source`
        the via source's "from". `metadata` is the write's custom audit metadata (kept as
        the audit's metadata.custom), `system` the audit's metadata.system."""
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
        audit = self._new_audit(ticket.id, actor_id, channel, source, metadata, system)
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

    def update_ticket(self, ticket_id: Any, actor_id: int, channel: str, spec: dict, source: dict | None = None,
                      metadata: dict | None = None, system: dict | None = None) -> tuple[Ticket, Audit]:
        """PUT /tickets/{id} semantics: `spec` is the API's `ticket` object; the other
        arguments as for create_ticket. An update that changes nothing makes no audit
        and its metadata is dropped (as Zendesk documents)."""
        ticket = self.ticket(ticket_id)
        if ticket.status == "closed":
            raise record_invalid("status", "Status: closed prevents ticket update", "ClosedPreventsUpdate")
        changes = self._validated_fields(spec, ticket)
        if spec.get("requester"):
            changes["requester_id"] = self._requester_id(spec)
        audit = self._new_audit(ticket.id, actor_id, channel, source, metadata, system)
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

    def _new_audit(self, ticket_id: int, author_id: int, channel: str, source: dict | None = None,
                   metadata: dict | None = None, system: dict | None = None) -> Audit:
        if metadata is not None and not isinstance(metadata, dict):
            raise invalid_value("metadata must be an object")
        return Audit(next(self._event_ids), ticket_id, author_id, now(), via(channel, source),
                     custom=json.loads(json.dumps(metadata or {})), system=dict(system or {}))

    def ticket_comments(self, ticket_id: Any) -> list[Comment]:
        """GET /tickets/{id}/comments: the ticket's comments, oldest first."""
        return list(self.comments[self.ticket(ticket_id).id])

    def ticket_audits(self, ticket_id: Any) -> list[Audit]:
        """GET /tickets/{id}/audits: the ticket's audits, oldest first."""
        ticket = self.ticket(ticket_id)
        return [a for a in self.audits if a.ticket_id == ticket.id]

    def _add_comment(self, ticket: Ticket, audit: Audit, spec: dict) -> Comment:
        author_id = self._user_ref("author_id", spec.get("author_id"))
        if spec.get("html_body"):
            markup = spec["html_body"]
            body = text_from_html(markup)
        elif spec.get("body"):
            body = spec["body"]
            markup = html_from_markdown(body) if self.render_markdown else html_from_text(body)
        else:
            raise record_invalid("comment", "Comment: cannot be blank", "BlankValue")
        plain = text_from_html(markup) if self.render_markdown or spec.get("html_body") else body
        public = spec.get("public", True) is not False
        try:
            attachments = self.files.attach(spec.get("uploads"))
        except ValueError as exc:
            raise record_invalid("uploads", str(exc)) from None
        comment = Comment(next(self._comment_ids), ticket.id, audit.id, author_id, body, markup, public,
                          audit.via, audit.created_at, plain, attachments)
        self.comments[ticket.id].append(comment)
        audit.events.append(comment.event())
        return comment

    def _commit(self, ticket: Ticket, audit: Audit) -> None:
        ticket.updated_at = audit.created_at
        self.audits.append(audit)

    # ---- users search ----
    def search_users(self, query: str) -> list[User]:
        """users/search: `email:x` or a bare address matches the email exactly;
        anything else matches within the name."""
        query = query.strip()
        return [u for u in self.users.values() if query and _user_matches_query(u, query)]

    # ---- incremental exports ----
    def check_start_time(self, raw: Any) -> int:
        """An export's start_time: a unix time at least a minute old (the export lag)."""
        if raw is None:
            raise invalid_value("start_time or cursor is required")
        try:
            start = int(raw)
        except (TypeError, ValueError):
            raise invalid_value(f"start_time {raw!r} is not a unix timestamp") from None
        if start > now() - EXPORT_LAG:
            raise invalid_value("Too recent start_time. Use a start_time older than 1 minute")
        return start

    def export_tickets(self, start_time: Any = None, cursor: str | None = None,
                       per_page: int = EXPORT_PAGE_MAX) -> dict:
        """One page of the cursor-based incremental ticket export, from `start_time`
        (inclusive) or from a `cursor` an earlier page handed out:
        `{tickets: [dict], after_cursor, before_cursor, end_of_stream}`. Tickets changed
        within the last minute are not shown yet; deleted ones show with status "deleted"."""
        if cursor:
            position = decode_cursor(cursor)
            if position.get("dir") not in ("after", "before") or len(position.get("at") or ()) != 2:
                raise invalid_cursor()
        else:
            position = {"at": [self.check_start_time(start_time), 0], "dir": "after"}
        cutoff = now() - EXPORT_LAG
        visible = sorted((t for t in self.tickets.values() if t.generated_timestamp <= cutoff),
                         key=Ticket.export_key)
        page, end_of_stream = _cursor_page(visible, Ticket.export_key, position, per_page)
        first = list(page[0].export_key()) if page else position["at"]
        last = list(page[-1].export_key()) if page else position["at"]
        return {
            "tickets": [t.to_json() for t in page],
            "after_cursor": encode_cursor({"at": last, "dir": "after"}),
            "before_cursor": encode_cursor({"at": first, "dir": "before"}),
            "end_of_stream": end_of_stream,
        }

    def ticket_events(self, start_time: Any, per_page: int = EXPORT_PAGE_MAX,
                      include_comments: bool = False) -> dict:
        """One page of the time-based ticket events export (one entry per audit):
        `{ticket_events: [dict], end_time, end_of_stream, count}`; the next page starts
        at `end_time`. Comment child events only with `include_comments`."""
        start = self.check_start_time(start_time)
        cutoff = now() - EXPORT_LAG
        visible = [a for a in self.audits if start <= int(a.created_at) <= cutoff]
        page, end_of_stream = _time_page(visible, per_page)
        return {
            "ticket_events": [_ticket_event(a, include_comments) for a in page],
            "end_time": int(page[-1].created_at) if page else start,
            "end_of_stream": end_of_stream,
            "count": len(page),
        }

    # ---- search ----
    def search_tickets(self, query: str) -> list[Ticket]:
        """The tickets a search query finds (the subset of the syntax zsc uses)."""
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
