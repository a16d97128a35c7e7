"""Fake Zendesk Support API over HTTP, good enough for the real zenpy client.

`ZendeskSim` serves a `Desk` (zendesk_model: the account's data and Zendesk's rules)
over HTTP with thin handlers, authenticates API tokens and OAuth bearer tokens,
enforces rate limits, and offers a control surface that acts as people would (agents
in the web UI, customers sending email). Both the handlers and the control surface
go through the same Desk methods, so every change produces the audit, comment,
timestamps and export visibility that a change made through the API would.

Locking: the Desk is not thread safe; every use of it here holds `self.lock`.

A create/update answers `{ticket, audit}` (zenpy builds a TicketAudit), and list
endpoints carry `next_page`/`count` or, when asked with `page[size]`, `meta`/`links`.
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
from urllib.parse import urlencode

from zsc.simulator.base import Request, Response, RollingWindow, Service, now
from zsc.simulator.zendesk_http import (Credential, IdempotentResult, OAuthCode, bounded_int, forbidden,
                                        grant_problem, id_list, idempotent_replay, json_object, oauth_error,
                                        paginate, remember_idempotent, url, zd_route)
from zsc.simulator.zendesk_model import Desk
from zsc.simulator.zendesk_people import ZendeskPeople
from zsc.simulator.zendesk_records import EXPORT_PAGE_MAX, ApiError, User, record_invalid

SHOW_MANY_MAX = 100
INCREMENTAL_CALLS_PER_MINUTE = 10
DEFAULT_CALLS_PER_MINUTE = 2500  # generous: Zendesk's highest plan limit

INCREMENTAL_ENDPOINTS = ("incremental.tickets", "incremental.ticket_events")
UNAUTHENTICATED_ENDPOINTS = ("oauth.authorize", "oauth.tokens", "attachments.content", "access.unauthenticated")


class ZendeskSim(ZendeskPeople, Service):
    name = "zendesk"

    def __init__(self, calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE, render_markdown: bool = False) -> None:
        super().__init__()
        self.desk = Desk(render_markdown)
        self._api_tokens: dict[str, str] = {}  # token -> email of the user it acts as
        self._oauth_tokens: dict[str, Credential] = {}
        self._oauth_clients: dict[str, tuple[str, str]] = {}  # client_id -> (secret, redirect_uri)
        self._oauth_codes: dict[str, OAuthCode] = {}
        self._idempotency: dict[str, IdempotentResult] = {}
        self._global_window = RollingWindow(calls_per_minute)
        # Zendesk limits incremental exports per account, on top of the global limit.
        self._incremental_window = RollingWindow(INCREMENTAL_CALLS_PER_MINUTE)

    @property
    def render_markdown(self) -> bool:
        """Render comment bodies as Markdown like Zendesk (see Desk); off by default."""
        return self.desk.render_markdown

    @render_markdown.setter
    def render_markdown(self, on: bool) -> None:
        with self.lock:
            self.desk.render_markdown = on

    # =======================================================================
    # HTTP
    # =======================================================================
    def start(self, port: int = 0) -> None:
        super().start(port)
        with self.lock:
            self.desk.files.base_url = self.url

    def authenticate(self, req: Request, endpoint: str) -> Response | None:
        if endpoint in UNAUTHENTICATED_ENDPOINTS:
            return None
        with self.lock:
            credential = self._credential(req)
            if credential is None:
                if endpoint == "attachments.download":  # a web address: off to the sign-in page
                    return self.login_page(req)
                return Response(401, {"error": "Couldn't authenticate you"})
            user = self.desk.users.get(credential.user_id)
            if user is None or user.role == "end-user":
                return forbidden()
            if req.method != "GET" and "write" not in credential.scopes:
                return forbidden()
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
        ids = id_list(req.arg("ids"))
        with self.lock:
            return Response(200, {"users": [self.desk.users[i].to_json() for i in ids if i in self.desk.users]})

    @zd_route("GET", r"/api/v2/users/search\.json", "users.search")
    def _users_search(self, req: Request) -> Response:
        query = (req.arg("query") or "").strip()
        if not query and req.arg("external_id") is None:
            raise ApiError(400, {"error": "InvalidValue", "description": "query or external_id is required"})
        with self.lock:
            found = [u.to_json() for u in self.desk.search_users(query)]
            return Response(200, paginate(req, found, "users"))

    @zd_route("POST", r"/api/v2/users\.json", "users.create")
    def _users_create(self, req: Request) -> Response:
        spec = json_object(req, "user")
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
            return Response(200, paginate(req, found, "group_memberships"))

    @zd_route("GET", r"/api/v2/users/(?P<id>\d+)/group_memberships\.json", "group_memberships")
    def _user_group_memberships(self, req: Request) -> Response:
        with self.lock:
            user = self.desk.user(req.params["id"])
            found = [m.to_json() for m in self.desk.memberships if m.user_id == user.id]
            return Response(200, paginate(req, found, "group_memberships"))

    # ---- tickets ----
    @zd_route("POST", r"/api/v2/tickets\.json", "tickets.create")
    def _tickets_create(self, req: Request) -> Response:
        spec = json_object(req, "ticket")
        key = req.header("idempotency-key")
        with self.lock:
            if key:
                replay = idempotent_replay(self._idempotency, key, req)
                if replay is not None:
                    return replay
            ticket, audit = self.desk.create_ticket(self._actor(req).id, "api", *_spec_and_metadata(req, spec))
            resp = Response(201, {"ticket": ticket.to_json(), "audit": audit.to_json()},
                            {"Location": f"/api/v2/tickets/{ticket.id}.json"})
            if key:
                remember_idempotent(self._idempotency, key, req, resp)
                resp.headers["x-idempotency-lookup"] = "miss"
            return resp

    @zd_route("PUT", r"/api/v2/tickets/(?P<id>\d+)\.json", "tickets.update")
    def _tickets_update(self, req: Request) -> Response:
        spec = json_object(req, "ticket")
        with self.lock:
            ticket, audit = self.desk.update_ticket(req.params["id"], self._actor(req).id, "api",
                                                    *_spec_and_metadata(req, spec))
            return Response(200, {"ticket": ticket.to_json(), "audit": audit.to_json()})

    @zd_route("GET", r"/api/v2/tickets/(?P<id>\d+)/audits\.json", "tickets.audits")
    def _tickets_audits(self, req: Request) -> Response:
        with self.lock:
            found = [a.to_json() for a in self.desk.ticket_audits(req.params["id"])]
            return Response(200, paginate(req, found, "audits"))

    @zd_route("GET", r"/api/v2/tickets/(?P<id>\d+)\.json", "tickets.show")
    def _tickets_show(self, req: Request) -> Response:
        with self.lock:
            return Response(200, {"ticket": self.desk.ticket(req.params["id"]).to_json()})

    @zd_route("GET", r"/api/v2/tickets/show_many\.json", "tickets.show_many")
    def _tickets_show_many(self, req: Request) -> Response:
        ids = id_list(req.arg("ids"))
        if len(ids) > SHOW_MANY_MAX:
            raise ApiError(400, {"error": "TooManyValues",
                                 "description": f"You can pass at most {SHOW_MANY_MAX} ids"})
        # `include=comment_count` sideloads each ticket's number of comments (as Zendesk does).
        counts = "comment_count" in (req.arg("include") or "").split(",")
        with self.lock:
            found = []
            for i in ids:
                if i in self.desk.tickets and self.desk.tickets[i].status != "deleted":
                    data = self.desk.tickets[i].to_json()
                    if counts:
                        data["comment_count"] = len(self.desk.ticket_comments(i))
                    found.append(data)
            return Response(200, {"tickets": found, "next_page": None, "previous_page": None, "count": len(found)})

    @zd_route("GET", r"/api/v2/tickets\.json", "tickets.list")
    def _tickets_list(self, req: Request) -> Response:
        external_id = req.arg("external_id")
        with self.lock:
            found = [t.to_json() for t in self.desk.tickets.values()
                     if (external_id is None or t.external_id == external_id) and t.status != "deleted"]
            return Response(200, paginate(req, found, "tickets"))

    @zd_route("GET", r"/api/v2/tickets/(?P<id>\d+)/comments\.json", "tickets.comments")
    def _tickets_comments(self, req: Request) -> Response:
        with self.lock:
            found = [c.to_json() for c in self.desk.ticket_comments(req.params["id"])]
            return Response(200, paginate(req, found, "comments"))

    # ---- uploads and attachments ----
    @zd_route("POST", r"/api/v2/uploads\.json", "uploads.create")
    def _uploads_create(self, req: Request) -> Response:
        filename = req.arg("filename")
        if not filename:
            raise record_invalid("filename", "Filename: cannot be blank", "BlankValue")
        with self.lock:
            upload = self.desk.files.upload(filename, req.body, req.header("content-type"))
            return Response(201, {"upload": upload})

    @zd_route("GET", r"/attachments/token/(?P<token>[0-9a-f]+)/", "attachments.download")
    def _attachment_download(self, req: Request) -> Response:
        """As Zendesk does: a redirect to the file's signed address on its content host."""
        with self.lock:
            if self.desk.files.download(req.params["token"]) is None:
                return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        return Response(302, b"", {"Location": f"{self.url}/attachments/signed/{req.params['token']}/"})

    @zd_route("GET", r"/attachments/signed/(?P<token>[0-9a-f]+)/", "attachments.content")
    def _attachment_content(self, req: Request) -> Response:
        with self.lock:
            data = self.desk.files.download(req.params["token"])
            ctype = self.desk.files.content_type(req.params["token"])
        if data is None:
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        return Response(200, data, {"Content-Type": ctype})

    def login_page(self, req: Request) -> Response:
        """Zendesk's web front sends whoever it will not serve to its sign-in page."""
        return Response(302, b"", {"Location": f"{self.url}/access/unauthenticated"})

    @zd_route("GET", r"/access/unauthenticated", "access.unauthenticated")
    def _sign_in_page(self, req: Request) -> Response:
        return Service.login_page(self, req)

    @zd_route("GET", r"/api/v2/search/count\.json", "search.count")
    def _search_count(self, req: Request) -> Response:
        with self.lock:
            return Response(200, {"count": len(self.desk.search_tickets(req.arg("query") or ""))})

    # ---- incremental exports ----
    @zd_route("GET", r"/api/v2/incremental/tickets/cursor\.json", "incremental.tickets")
    def _export_tickets(self, req: Request) -> Response:
        per_page = bounded_int(req.arg("per_page"), EXPORT_PAGE_MAX, EXPORT_PAGE_MAX)
        with self.lock:
            page = self.desk.export_tickets(req.arg("start_time"), req.arg("cursor"), per_page)
        path = "/api/v2/incremental/tickets/cursor.json"
        extra = {"per_page": req.arg("per_page")} if req.arg("per_page") else {}
        page["after_url"] = url(req, path, {"cursor": page["after_cursor"], **extra})
        page["before_url"] = url(req, path, {"cursor": page["before_cursor"], **extra})
        return Response(200, page)

    @zd_route("GET", r"/api/v2/incremental/ticket_events\.json", "incremental.ticket_events")
    def _export_ticket_events(self, req: Request) -> Response:
        per_page = bounded_int(req.arg("per_page"), EXPORT_PAGE_MAX, EXPORT_PAGE_MAX)
        with_comments = "comment_events" in (req.arg("include") or "").split(",")
        with self.lock:
            page = self.desk.ticket_events(req.arg("start_time"), per_page, with_comments)
        params = {"start_time": page["end_time"]}
        for name in ("include", "per_page"):
            if req.arg(name):
                params[name] = req.arg(name)
        page["next_page"] = url(req, "/api/v2/incremental/ticket_events.json", params)
        return Response(200, page)

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
                return oauth_error(400, "unsupported_grant_type", "Only authorization_code is supported")
            client = self._oauth_clients.get(form.get("client_id") or "")
            if client is None or not secrets.compare_digest(client[0], str(form.get("client_secret") or "")):
                return oauth_error(401, "invalid_client", "Client authentication failed")
            grant = self._oauth_codes.get(form.get("code") or "")
            problem = grant_problem(grant, form)
            if problem:
                return oauth_error(400, "invalid_grant", problem)
            grant.used = True  # codes are single-use
            token = secrets.token_hex(32)
            self._oauth_tokens[token] = Credential(grant.user_id, tuple(grant.scope.split()))
            return Response(200, {"access_token": token, "token_type": "bearer", "scope": grant.scope})


def _spec_and_metadata(req: Request, spec: dict) -> tuple[dict, None, dict | None, dict]:
    """The ticket spec, no via source, the custom audit metadata and the system metadata
    of a create/update. Zendesk's Tickets reference ("Setting Metadata") puts `metadata`
    inside the `ticket` object; a top-level `metadata` next to it is accepted too."""
    spec = dict(spec)
    metadata = spec.pop("metadata", None)
    if metadata is None:
        body = req.json()
        metadata = body.get("metadata") if isinstance(body, dict) else None
    system = {"client": req.header("user-agent") or "", "ip_address": "127.0.0.1"}
    return spec, None, metadata, system
