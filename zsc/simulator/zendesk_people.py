"""The Zendesk simulator's control surface: it acts as people would (agents in the web
UI, customers sending email, an admin adding users, groups and credentials). Every
change goes through the same Desk methods the HTTP handlers use, so it produces the
audit, comment, timestamps and export visibility an API change would. A part of
`ZendeskSim` (zendesk.py), which holds the desk, the lock and the credentials."""

from __future__ import annotations

import threading

import copy
import secrets
from typing import Iterable

from zsc.simulator.base import RollingWindow, now
from zsc.simulator.zendesk_http import (Credential, OAuthCode)
from zsc.simulator.zendesk_model import Desk
from zsc.simulator.zendesk_records import SYSTEM_USER_ID

OAUTH_CODE_TTL = 120  # seconds an authorization code may be exchanged


class ZendeskPeople:
    """Mixed into ZendeskSim; every use of the desk holds `self.lock`."""

    desk: Desk
    lock: threading.RLock
    _api_tokens: dict[str, str]
    _oauth_tokens: dict[str, Credential]
    _oauth_clients: dict[str, tuple[str, str]]
    _oauth_codes: dict[str, OAuthCode]
    _global_window: RollingWindow

    def add_user(self, name: str, email: str, role: str = "end-user") -> int:
        with self.lock:
            return self.desk.add_user(name, email, role).id

    def add_agent(self, name: str, email: str) -> int:
        return self.add_user(name, email, "agent")

    def set_photo(self, user_id: int, content_url: str | None) -> None:
        """The user's profile picture (photo.content_url in the API)."""
        with self.lock:
            self.desk.users[user_id].photo_url = content_url

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

    def agent_comment(self, ticket_id: int, author_id: int, body: str, public: bool = True,
                      attachments: Iterable[tuple[str, bytes, str]] = ()) -> int:
        """An agent replies in the web UI; the UI submits a new ticket as open.
        `attachments`: (file name, bytes, content type) of files the agent attaches."""
        with self.lock:
            tokens = [self.desk.files.upload(name, data, ctype)["token"] for name, data, ctype in attachments]
            spec: dict = {"comment": {"body": body, "public": public, "author_id": author_id,
                                      **({"uploads": tokens} if tokens else {})}}
            if self.desk.ticket(ticket_id).status == "new":
                spec["status"] = "open"
            _, audit = self.desk.update_ticket(ticket_id, author_id, "web", spec)
            return audit.comment_id

    def internal_note(self, ticket_id: int, author_id: int, body: str,
                      attachments: Iterable[tuple[str, bytes, str]] = ()) -> int:
        with self.lock:
            tokens = [self.desk.files.upload(name, data, ctype)["token"] for name, data, ctype in attachments]
            spec = {"comment": {"body": body, "public": False, "author_id": author_id,
                                **({"uploads": tokens} if tokens else {})}}
            _, audit = self.desk.update_ticket(ticket_id, author_id, "web", spec)
            return audit.comment_id

    def redact_comment(self, ticket_id: int, comment_id: int, text: str | None = None) -> None:
        """An agent redacts `text` (default: all of it) from a comment: it becomes ▇ blocks
        (same comment id, the ticket's updated_at moves)."""
        with self.lock:
            comment = self._comment(ticket_id, comment_id)
            for name in ("body", "plain_body", "html_body"):
                value = getattr(comment, name)
                target = text if text is not None else value
                setattr(comment, name, value.replace(target, "▇" * len(target)) if target else value)
            self.desk.ticket(ticket_id).updated_at = now()

    def redact_attachment(self, ticket_id: int, comment_id: int, attachment_id: int) -> None:
        """An agent redacts an attachment: it becomes an empty "redacted.txt" (same id)."""
        with self.lock:
            comment = self._comment(ticket_id, comment_id)
            self.desk.files.redact(next(a for a in comment.attachments if a["id"] == attachment_id))
            self.desk.ticket(ticket_id).updated_at = now()

    def attachment_content(self, attachment_id: int) -> bytes:
        with self.lock:
            return self.desk.files.content[attachment_id]

    def _comment(self, ticket_id: int, comment_id: int):
        return next(c for c in self.desk.ticket_comments(ticket_id) if c.id == comment_id)

    def end_user_comment(self, ticket_id: int, author_id: int, body: str) -> int:
        """The requester replies to the notification email."""
        with self.lock:
            author = self.desk.user(author_id)
            spec = {"comment": {"body": body, "public": True, "author_id": author_id}}
            source = {"address": author.email, "name": author.name}
            _, audit = self.desk.update_ticket(ticket_id, author_id, "email", spec, source)
            return audit.comment_id

    def set_status(self, ticket_id: int, status: str, author_id: int | None = None) -> None:
        with self.lock:
            actor = author_id if author_id is not None else self._acting_agent(ticket_id)
            self.desk.update_ticket(ticket_id, actor, "web", {"status": status})

    def solve(self, ticket_id: int, author_id: int | None = None) -> None:
        self.set_status(ticket_id, "solved", author_id)

    def move_to_group(self, ticket_id: int, group_id: int, author_id: int | None = None) -> None:
        """An agent moves the ticket to another group in the web UI. As the UI does, an
        assignee who is not in the new group is cleared."""
        with self.lock:
            actor = author_id if author_id is not None else self._acting_agent(ticket_id)
            spec: dict = {"group_id": group_id}
            assignee = self.desk.ticket(ticket_id).assignee_id
            if assignee is not None and not any(m.user_id == assignee and m.group_id == group_id
                                                for m in self.desk.memberships):
                spec["assignee_id"] = None
            self.desk.update_ticket(ticket_id, actor, "web", spec, system={"client": "Zendesk web"})

    def audits(self, ticket_id: int) -> list[dict]:
        """The ticket's audits as the API lists them, oldest first."""
        with self.lock:
            return copy.deepcopy([a.to_json() for a in self.desk.ticket_audits(ticket_id)])

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
                      group_id: int | None = None, attachments: Iterable[tuple[str, bytes, str]] = ()) -> int:
        """Someone emails the support address; `attachments`: (file name, bytes, content
        type) of the files attached to the email, which Zendesk keeps on the first comment."""
        with self.lock:
            requester = self.desk.find_or_create_end_user(from_name, from_email)
            tokens = [self.desk.files.upload(name, data, ctype)["token"] for name, data, ctype in attachments]
            spec = {"subject": subject, "comment": {"body": body, "public": True, **({"uploads": tokens} if tokens else {})},
                    "group_id": group_id}
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
            return copy.deepcopy([c.to_json() for c in self.desk.ticket_comments(ticket_id)])

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
