"""Zendesk Support API through zenpy. Returns typed records (zsc.adapters.records);
raises zsc errors. The only module that reads Zendesk's JSON."""

from __future__ import annotations

import os
import threading
from typing import Any, Iterable
from urllib.parse import urlsplit

from zsc.adapters.http import requests
from zsc.adapters.ratelimit import Limited, RateGate, Transient
from zsc.adapters.records import Audit, Comment, Group, Ticket, ZendeskUser
from zsc.errors import Ambiguous, AuthError, NotFound, Rejected, Unavailable, WrongApiUrl

API = "Zendesk"
SHOW_MANY_MAX = 100


class _GatedSession(requests.Session):
    """The requests session zenpy uses. It turns rate limits, server errors and
    network failures into exceptions our gate understands — zenpy would otherwise
    sleep through a Retry-After where a stop request cannot reach it — and adds
    per-call headers such as Idempotency-Key."""

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def extra_headers(self, headers: dict[str, str] | None) -> None:
        self._local.headers = headers

    def request(self, method, url, **kwargs):  # type: ignore[override]
        extra = getattr(self._local, "headers", None)
        if extra:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **extra}
        try:
            response = super().request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise Transient(f"{method} {urlsplit(url).path}: {type(exc).__name__}") from None
        if response.status_code == 429:
            raise Limited(float(response.headers.get("Retry-After") or 1))
        if response.status_code >= 500:
            raise Transient(f"{method} {urlsplit(url).path}: HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise AuthError(API, f"{method} {urlsplit(url).path}: HTTP {response.status_code} — the credential was refused or lacks permission; "
                            "replace it with `zsc auth zendesk` and check with `zsc auth check`")
        return response


class ZendeskAdapter:
    def __init__(self, api_url: str, subdomain: str, email: str = "", token: str = "", oauth_token: str = "",
                 timeout: float = 20.0, gate: RateGate | None = None, export_gate: RateGate | None = None) -> None:
        from zenpy import Zenpy

        self.api_url = api_url.rstrip("/")
        _point_zenpy_at(self.api_url, subdomain)
        self.session = _GatedSession()
        credentials = {"oauth_token": oauth_token} if oauth_token else {"email": email, "token": token}
        self.client = Zenpy(subdomain=subdomain, session=self.session, timeout=timeout, disable_cache=True, **credentials)
        self.timeout = timeout
        self.gate = gate or RateGate(API)
        # The incremental exports have their own budget (10 calls/min).
        self.export_gate = export_gate or RateGate(API + " export", max_wait=0)

    # ---- plumbing ----
    def _call(self, fn, *, write: bool = False, what: str = "", gate: RateGate | None = None, audit: bool = False):
        """Run a zenpy call under the gate. `audit=True`: the answer must be a ticket
        audit with the new comment in it (zenpy hands back the raw response for a garbled
        200, which must not pass for success: on a write that is an outcome we do not know)."""
        from zenpy.lib.exception import APIException, RecordNotFoundException, ZenpyException

        def attempt():
            try:
                result = fn()
                if audit and (not hasattr(result, "ticket") or _comment_id_from_audit(result) is None):
                    raise ValueError("not a ticket audit with a comment")
                return result
            except RecordNotFoundException:
                raise NotFound(API, f"{what}: not found") from None
            except (APIException, requests.HTTPError) as exc:  # zenpy raises the latter for a non-JSON 4xx
                raise _rejected(what, exc) from None
            except (ZenpyException, ValueError, KeyError, TypeError, AttributeError) as exc:
                # zenpy could not make sense of the answer: treat like a server fault.
                raise Transient(f"{what}: malformed answer ({type(exc).__name__})") from None

        return (gate or self.gate).call(attempt, write=write, what=what)

    def _get_json(self, path: str, params: dict[str, Any] | None = None, *, what: str, gate: RateGate | None = None) -> dict[str, Any]:
        def fetch():
            response = self.session.get(f"{self.api_url}{path}", params=params, timeout=self.timeout)
            if response.status_code == 404:
                raise NotFound(API, f"{what}: not found")
            if response.status_code >= 400:
                raise Rejected(API, f"{what}: HTTP {response.status_code} {_error_text(response)}")
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return data

        return self._call(fetch, what=what, gate=gate)

    # ---- reads ----
    def patient(self, max_wait: float) -> None:
        """Let each call (exports included) wait up to `max_wait` seconds for the rate
        limit: for one-shot scans, which have no next cycle to come back in."""
        self.gate.max_wait = max_wait
        self.export_gate = RateGate(API + " export", max_wait=max_wait)

    def export_wait(self) -> float:
        """Seconds until the export may be called again, after a 429 that asked to wait
        (the engine also keeps to the export's budget itself: zsc.sync.engine)."""
        return self.export_gate.remaining()

    def me(self) -> ZendeskUser | None:
        """Who the credential acts as; None for the anonymous user (Zendesk's answer
        to an unknown credential on some endpoints)."""
        try:
            user = self._get_json("/api/v2/users/me.json", what="users/me").get("user")
        except NotFound:  # users/me always exists: the address is wrong
            raise WrongApiUrl(API, f"users/me: {self.api_url}/api/v2/users/me.json is not found (HTTP 404); "
                                   "check [zendesk] api_url (normally https://SUBDOMAIN.zendesk.com, without /api/v2)",
                              setting="[zendesk] api_url") from None
        if not isinstance(user, dict):
            raise Unavailable(API, "users/me: malformed answer (no user)")
        return ZendeskUser.from_json(user) if isinstance(user.get("id"), int) else None

    def ticket(self, ticket_id: int) -> Ticket:
        data = self._get_json(f"/api/v2/tickets/{ticket_id}.json", what=f"ticket {ticket_id}")
        return _one(data, "ticket", Ticket.from_json, f"ticket {ticket_id}")

    def tickets(self, ids: Iterable[int]) -> list[Ticket]:
        ids = list(ids)
        found: list[Ticket] = []
        for start in range(0, len(ids), SHOW_MANY_MAX):
            chunk = ",".join(str(i) for i in ids[start:start + SHOW_MANY_MAX])
            data = self._get_json("/api/v2/tickets/show_many.json", {"ids": chunk, "include": "comment_count"},
                                  what="tickets/show_many")
            found.extend(_many(data, "tickets", Ticket.from_json, "tickets/show_many"))
        return found

    def tickets_by_external_id(self, external_id: str) -> list[Ticket]:
        data = self._get_json("/api/v2/tickets.json", {"external_id": external_id}, what=f"tickets external_id={external_id}")
        return _many(data, "tickets", Ticket.from_json, "tickets by external_id")

    def comments(self, ticket_id: int) -> list[Comment]:
        """Every comment of a ticket, oldest first (all pages)."""
        comments: list[Comment] = []
        path, params = f"/api/v2/tickets/{ticket_id}/comments.json", {"sort_order": "asc"}
        while True:
            data = self._get_json(path, params, what=f"ticket {ticket_id} comments")
            comments.extend(_many(data, "comments", Comment.from_json, f"ticket {ticket_id} comments"))
            next_page = data.get("next_page")
            if not next_page:
                return comments
            parts = urlsplit(next_page)
            path, params = parts.path, dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)

    def user(self, user_id: int) -> ZendeskUser:
        data = self._get_json(f"/api/v2/users/{user_id}.json", what=f"user {user_id}")
        return _one(data, "user", ZendeskUser.from_json, f"user {user_id}")

    def group(self, group_id: int) -> Group:
        data = self._get_json(f"/api/v2/groups/{group_id}.json", what=f"group {group_id}")
        return _one(data, "group", lambda g: Group(int(g["id"]), str(g.get("name") or "")), f"group {group_id}")

    def group_member_ids(self, group_id: int) -> set[int]:
        what = f"group {group_id} memberships"
        data = self._get_json(f"/api/v2/groups/{group_id}/memberships.json", what=what)
        return set(_many(data, "group_memberships", lambda m: int(m["user_id"]), what))

    def find_user(self, email: str) -> ZendeskUser | None:
        data = self._get_json("/api/v2/users/search.json", {"query": email}, what="users/search")
        for user in _many(data, "users", ZendeskUser.from_json, "users/search"):
            if (user.email or "").lower() == email.lower():
                return user
        return None

    def export_page(self, cursor: str | None = None, start_time: int | None = None) -> tuple[list[Ticket], str | None, bool]:
        """One page of the cursor-based incremental ticket export.
        Returns (tickets, after_cursor, end_of_stream)."""
        params: dict[str, Any] = {"cursor": cursor} if cursor else {"start_time": int(start_time or 0)}
        data = self._get_json("/api/v2/incremental/tickets/cursor.json", params, what="incremental ticket export",
                              gate=self.export_gate)
        what = "incremental ticket export"
        if "end_of_stream" not in data or not isinstance(data.get("tickets"), list):
            raise Unavailable(API, f"{what}: malformed answer (no tickets or end_of_stream)")
        tickets = _many(data, "tickets", Ticket.from_json, what)
        after = data.get("after_cursor")
        return tickets, after if isinstance(after, str) and after else cursor, bool(data.get("end_of_stream"))

    # ---- writes ----
    def create_ticket(self, *, subject: str, body: str, requester: dict[str, Any], assignee_id: int | None,
                      group_id: int | None, external_id: str, tags: list[str], idempotency_key: str,
                      author_id: int | None = None, followup_source_id: int | None = None,
                      uploads: list[str] | None = None) -> tuple[int, int | None]:
        """Create a ticket; returns (ticket id, id of its first comment).
        `requester` is {"id": N} or {"name", "email"} (Zendesk finds or creates that user);
        `uploads`: upload tokens attached to the first comment."""
        from zenpy.lib.api_objects import Comment as ZComment, Ticket as ZTicket, User as ZUser

        comment = ZComment(body=body, public=True, **({"author_id": author_id} if author_id else {}),
                           **({"uploads": list(uploads)} if uploads else {}))
        fields: dict[str, Any] = dict(subject=subject, comment=comment, group_id=group_id, assignee_id=assignee_id,
                                      external_id=external_id, tags=tags)
        if followup_source_id:
            fields["via_followup_source_id"] = followup_source_id
        # (a ticket zsc creates always has a comment: its Comment event is in the audit)
        if requester.get("id"):
            fields["requester_id"] = requester["id"]
        else:
            fields["requester"] = ZUser(name=requester["name"], email=requester["email"])

        def create():
            self.session.extra_headers({"Idempotency-Key": idempotency_key})
            try:
                return self.client.tickets.create(ZTicket(**fields))
            finally:
                self.session.extra_headers(None)

        result = self._call(create, write=True, what="create ticket", audit=True)
        return result.ticket.id, _comment_id_from_audit(result)

    def add_comment(self, ticket_id: int, body: str, *, public: bool, author_id: int | None = None,
                    status: str | None = None, key: str | None = None, uploads: list[str] | None = None) -> int | None:
        """Add a comment (optionally changing status); returns the new comment's id.
        `key` (zsc's intent key) rides in the update's audit metadata, so a write whose
        answer was lost is found again by `find_write`, never by its text. `uploads`:
        upload tokens to attach."""
        comment: dict[str, Any] = {"body": body, "public": public}
        if uploads:
            comment["uploads"] = list(uploads)
        if author_id:
            comment["author_id"] = author_id
        fields: dict[str, Any] = {"comment": comment}
        if status:
            fields["status"] = status
        audit = self._update(ticket_id, fields, key, what=f"comment on ticket {ticket_id}")
        found = Audit.from_json(audit).comment_id
        if found is None:  # a 200 without our comment in it is not a success we can map
            raise Ambiguous(API, f"comment on ticket {ticket_id}: outcome unknown (the answer names no comment); "
                                 "will check before retrying")
        return found

    def upload(self, name: str, content_type: str, data: bytes) -> str:
        """POST /uploads.json with the raw bytes; the upload token (valid about an hour,
        harmless until a comment names it)."""
        url = f"{self.api_url}/api/v2/uploads.json"

        def post() -> str:
            response = self.session.post(url, params={"filename": name}, data=data, timeout=max(self.timeout, 30.0),
                                         headers={"Content-Type": content_type or "application/binary"})
            if response.status_code >= 400:
                raise Rejected(API, f"upload of {name}: HTTP {response.status_code} {_error_text(response)}".strip())
            upload = response.json().get("upload")
            token = upload.get("token") if isinstance(upload, dict) else None
            if not isinstance(token, str) or not token:
                raise ValueError("no upload token")
            return token

        return self._call(post, write=True, what=f"upload of {name}")

    def download(self, url: str, max_bytes: int, content_type: str = "", size: int | None = None) -> bytes:
        """An attachment's bytes from its content_url with zsc's own credentials (secure
        downloads), at most `max_bytes`. The credentials only go to this Zendesk (Zendesk
        redirects to the file's signed address on its content host; requests drops the
        credentials on the way there). `content_type` and `size` are the attachment's: an
        answer that is not that file (a sign-in page, a proxy's page) is not taken for it."""
        from zsc.adapters.transfer import fetch, same_site

        if not same_site(url, (urlsplit(self.api_url).hostname or "", "zendesk.com", "zdusercontent.com")):
            raise Rejected(API, "attachment: its address is not on this Zendesk")
        return self.gate.call(lambda: fetch(self.session, url, api=API, what="attachment download",
                                            max_bytes=max_bytes, timeout=self.timeout, content_type=content_type,
                                            size=size), what="attachment download")

    def set_status(self, ticket_id: int, status: str, key: str | None = None) -> None:
        self._update(ticket_id, {"status": status}, key, what=f"set ticket {ticket_id} {status}")

    def update_external_id(self, ticket_id: int, external_id: str) -> None:
        self._update(ticket_id, {"external_id": external_id}, None, what=f"set ticket {ticket_id} external_id")

    def _update(self, ticket_id: int, fields: dict[str, Any], key: str | None, *, what: str) -> dict[str, Any]:
        """PUT a ticket update (plain JSON: zenpy's object mapping costs more than it
        gives here) and return its audit. The answer must be `{ticket, audit}`: a garbled
        200 is a write of unknown outcome, never a success."""
        body = {"ticket": dict(fields, **({"metadata": {"zsc_key": key}} if key else {}))}
        url = f"{self.api_url}/api/v2/tickets/{int(ticket_id)}.json"

        def put() -> dict[str, Any]:
            response = self.session.put(url, json=body, timeout=self.timeout)
            if response.status_code == 404:
                raise NotFound(API, f"{what}: not found")
            if response.status_code >= 400:
                raise Rejected(API, f"{what}: HTTP {response.status_code} {_error_text(response)}".strip())
            data = response.json()
            if not isinstance(data, dict) or not isinstance(data.get("ticket"), dict) \
                    or not isinstance(data.get("audit"), dict):
                raise ValueError("not a ticket update's answer")
            return data["audit"]

        return self._call(put, write=True, what=what)

    def find_write(self, ticket_id: int, key: str) -> Audit | None:
        """The update zsc made with intent `key`, from the ticket's audits (their
        metadata carries the key); None when there is none."""
        path, params = f"/api/v2/tickets/{int(ticket_id)}/audits.json", {}
        while True:
            data = self._get_json(path, params, what=f"ticket {ticket_id} audits")
            for audit in _many(data, "audits", Audit.from_json, f"ticket {ticket_id} audits"):
                if audit.key == key:
                    return audit
            next_page = data.get("next_page")
            if not isinstance(next_page, str) or not next_page:
                return None
            parts = urlsplit(next_page)
            path, params = parts.path, dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)


def _point_zenpy_at(api_url: str, subdomain: str) -> None:
    """zenpy builds https://{subdomain}.zendesk.com itself; its only override is a
    pair of process-wide variables. One Zendesk per process, so that is enough."""
    parts = urlsplit(api_url)
    if parts.scheme == "https" and parts.netloc == f"{subdomain}.zendesk.com":
        os.environ.pop("ZENPY_FORCE_NETLOC", None)
        os.environ.pop("ZENPY_FORCE_SCHEME", None)
        return
    os.environ["ZENPY_FORCE_NETLOC"] = parts.netloc
    os.environ["ZENPY_FORCE_SCHEME"] = parts.scheme


def _comment_id_from_audit(audit: Any) -> int | None:
    events = getattr(getattr(audit, "audit", None), "events", None) or []
    for event in events:
        kind = event.get("type") if isinstance(event, dict) else getattr(event, "type", None)
        if kind == "Comment":
            return int(event["id"] if isinstance(event, dict) else event.id)
    return None


def _one(data: dict[str, Any], key: str, build, what: str):
    """The object under `key`, built; a garbled answer is the server's fault (Unavailable)."""
    try:
        return build(data[key])
    except (KeyError, TypeError, ValueError) as exc:
        raise Unavailable(API, f"{what}: malformed answer ({type(exc).__name__} at {key!r})") from None


def _many(data: dict[str, Any], key: str, build, what: str) -> list:
    """The objects listed under `key` (absent or null: none), each built."""
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise Unavailable(API, f"{what}: malformed answer ({key!r} is not a list)")
    try:
        return [build(item) for item in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise Unavailable(API, f"{what}: malformed answer ({type(exc).__name__} in {key!r})") from None


def _error_text(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        details = data.get("details")
        text = str(data.get("description") or data.get("error") or "")
        if isinstance(details, dict):
            for problems in details.values():
                for problem in problems or []:
                    if isinstance(problem, dict) and problem.get("description"):
                        return problem["description"]
        return text
    return ""


def _rejected(what: str, exc: Any) -> Exception:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", 0)
    detail = _error_text(response) if response is not None else str(exc)[:120]
    return Rejected(API, f"{what}: HTTP {status} {detail}".strip())
