"""In-process fakes behind the adapter Protocols (zsc.adapters.SlackApi / ZendeskApi),
on top of the simulator's models (SlackWorkspace, Desk), for property tests that run
the real engine thousands of times without HTTP.

Each method answers like the real adapter (zsc/adapters/slack.py, zendesk.py): the
same typed records, built by the same `from_json` constructors from the models'
API-shaped dicts (so the shapes cannot drift), and the same zsc.errors for the same
refusals. What the models leave to the HTTP layer is done here: the Idempotency-Key
of a ticket create (ZendeskSim keeps it), the "act as the credential's user" of
every Zendesk write, paging.

`Faults` makes the next call of a chosen method fail, before or after its effect;
`Crash` is the process dying (a BaseException: no `except Exception` in zsc catches
it, as no code runs after a kill -9)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TypeVar

from zsc.adapters.records import (Audit, ChannelInfo, Comment, Group, Identity, Message, SlackPerson, Ticket, ZendeskUser,
                                  ts_key, zsc_tag)
from zsc.adapters.slack import CHANNEL_ERRORS, channel_problem
from zsc.errors import Ambiguous, NotFound, Rejected, Unavailable
from zsc.simulator import zendesk_model as zm
from zsc.simulator.slack_model import SlackError, SlackWorkspace

T = TypeVar("T")

# ---------------------------------------------------------------- faults

BEFORE = "before"  # a 5xx or timeout before anything happened: a read raises Unavailable, a write Ambiguous
LOST_ANSWER = "lost_answer"  # the effect applied, the answer lost: Ambiguous (Unavailable for a read)
CRASH_BEFORE = "crash_before"  # the process died during the call, before the far side did anything
CRASH = "crash"  # the effect applied, then the process died before zsc could record it
MODES = (BEFORE, LOST_ANSWER, CRASH_BEFORE, CRASH)

WRITES = {"slack": ("post",), "zendesk": ("create_ticket", "add_comment", "set_status", "update_external_id")}
READS = {"slack": ("history", "replies", "user"),
         "zendesk": ("ticket", "tickets", "comments", "export_page", "tickets_by_external_id", "find_user")}


class Crash(BaseException):
    """The process died (after the effect, before zsc could record it). Not an
    Exception: nothing in zsc may catch it, exactly like a kill -9."""


@dataclass
class Faults:
    """Failures waiting for a call: `arm("zendesk.add_comment", LOST_ANSWER)` fails
    the next call of that method; `arm_write(3, CRASH)` the third write (of any kind)
    from now. Each fires once; `fired` lists what fired, in order."""

    armed: dict[str, str] = field(default_factory=dict)
    nth_write: tuple[int, str] | None = None  # (writes still to let through + 1, mode)
    fired: list[tuple[str, str]] = field(default_factory=list)

    def arm(self, method: str, mode: str) -> None:
        self.armed[method] = _checked(mode)

    def arm_write(self, nth: int, mode: str) -> None:
        self.nth_write = (nth, _checked(mode))

    def clear(self) -> None:
        self.armed.clear()
        self.nth_write = None

    def _take(self, method: str, write: bool) -> str | None:
        mode = self.armed.pop(method, None)
        if write and self.nth_write is not None:
            left, nth_mode = self.nth_write
            self.nth_write = (left - 1, nth_mode) if left > 1 else None
            mode = nth_mode if left == 1 else mode
        if mode is not None:
            self.fired.append((method, mode))
        return mode

    def run(self, api: str, method: str, effect: Callable[[], T], write: bool) -> T:
        """`effect()` with the fault armed for this call, if any."""
        mode = self._take(method, write)
        if mode == BEFORE:
            # What the real gate raises for a 5xx: a read gives up (Unavailable), a
            # write cannot know whether it was applied (Ambiguous).
            raise (Ambiguous if write else Unavailable)(api, f"{method}: injected server error")
        if mode == CRASH_BEFORE:
            raise Crash(f"{method}: crashed before the effect")
        result = effect()
        if mode == LOST_ANSWER:
            raise (Ambiguous if write else Unavailable)(api, f"{method}: injected lost answer")
        if mode == CRASH:
            raise Crash(f"{method}: crashed after the effect")
        return result


def _checked(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown fault mode {mode!r}; one of {MODES}")
    return mode


# ---------------------------------------------------------------- Slack

SLACK = "Slack"


class FakeSlack:
    """SlackApi on a SlackWorkspace, as the bot of that workspace."""

    def __init__(self, workspace: SlackWorkspace, faults: Faults | None = None) -> None:
        self.ws = workspace
        self.faults = faults or Faults()

    def _call(self, method: str, fn: Callable[[], T], *, channel: str | None = None, write: bool = False,
              api_method: str = "") -> T:
        def effect() -> T:
            try:
                return fn()
            except SlackError as exc:
                raise _slack_error(api_method or method, exc.error, channel) from None

        return self.faults.run(SLACK, f"slack.{method}", effect, write)

    def patient(self, max_wait: float) -> None:
        pass

    def begin_poll(self) -> None:
        pass  # no post pace in-process

    def check_turn(self, channel: str) -> None:
        pass

    # ---- reads ----
    def auth_test(self) -> Identity:
        ws = self.ws
        return Identity(user_id=ws.bot_user_id, bot_id=ws.bot_id, user=ws.users[ws.bot_user_id]["name"],
                        team=ws.team_name, url=ws.workspace_url)

    def channel_info(self, channel: str) -> ChannelInfo:
        data = self._call("channel_info", lambda: self.ws.conversation(channel).info(), channel=channel,
                          api_method="conversations.info")
        return ChannelInfo(id=data["id"], name=data["name"], is_member=bool(data["is_member"]))

    def _pages(self, page: Callable[[str | None], dict]) -> list[dict]:
        out, cursor = [], None
        while True:
            data = page(cursor)
            out.extend(data["messages"])
            cursor = data["response_metadata"]["next_cursor"]
            if not cursor:
                return out

    def history(self, channel: str, oldest: str | None = None, latest: str | None = None) -> list[Message]:
        """Top-level messages after `oldest` (exclusive), oldest first."""
        raw = self._call("history", lambda: self._pages(lambda cursor: self.ws.history(
            channel, oldest=oldest, latest=latest, cursor=cursor, include_all_metadata=True)), channel=channel,
            api_method="conversations.history")
        return sorted((Message.from_json(m) for m in raw), key=lambda m: ts_key(m.ts))

    def latest(self, channel: str, limit: int = 15) -> list[Message]:
        data = self._call("latest", lambda: self.ws.history(channel, limit=limit), channel=channel,
                          api_method="conversations.history")
        return [Message.from_json(m) for m in data["messages"]]

    def replies(self, channel: str, thread_ts: str, oldest: str | None = None) -> list[Message]:
        """Replies after `oldest` (the parent excluded), oldest first, each once."""
        raw = self._call("replies", lambda: self._pages(lambda cursor: self.ws.replies(
            channel, thread_ts, oldest=oldest, cursor=cursor, include_all_metadata=True)), channel=channel,
            api_method="conversations.replies")
        seen = {m["ts"]: Message.from_json(m) for m in raw
                if m["ts"] != thread_ts and (not oldest or ts_key(m["ts"]) > ts_key(oldest))}
        return sorted(seen.values(), key=lambda m: ts_key(m.ts))

    def history_page(self, channel: str, oldest: str | None = None,
                     cursor: str | None = None) -> tuple[list[Message], str | None]:
        """One page of top-level messages after `oldest` (the page oldest first) and the next cursor."""
        data = self._call("history", lambda: self.ws.history(channel, oldest=oldest, cursor=cursor,
                                                              include_all_metadata=True),
                          channel=channel, api_method="conversations.history")
        page = sorted((Message.from_json(m) for m in data["messages"]), key=lambda m: ts_key(m.ts))
        return page, data["response_metadata"]["next_cursor"] or None

    def reply_pages(self, channel: str, thread_ts: str, oldest: str | None = None):
        """The replies, a page at a time (here: one page, as the model pages them all)."""
        yield self.replies(channel, thread_ts, oldest=oldest)

    def user(self, user_id: str) -> SlackPerson:
        user = self._call("user", lambda: self.ws.user_info(user_id), api_method="users.info")
        profile = user["profile"]
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user["name"]
        return SlackPerson(user_id, name or user_id, profile.get("email") or None, bool(user.get("is_bot")))

    # ---- writes ----
    def post(self, channel: str, text: str, thread_ts: str | None = None, ref: str | None = None) -> str:
        """Post as the bot, with zsc's metadata tag naming `ref`; returns the ts."""
        return self._call("post", lambda: self.ws.post_as_bot(channel, text, thread_ts=thread_ts,
                                                               metadata=zsc_tag(ref) if ref else None)["ts"],
                          channel=channel, write=True, api_method="chat.postMessage")


def _slack_error(method: str, error: str, channel: str | None) -> Exception:
    """A refusal as the real adapter raises it (SlackAdapter._translate)."""
    if error in CHANNEL_ERRORS:
        return channel_problem(method, error, channel)
    return Rejected(SLACK, f"{method}: {error}")


# ---------------------------------------------------------------- Zendesk

ZENDESK = "Zendesk"


class FakeZendesk:
    """ZendeskApi on a Desk, acting as the user `actor_id` (whose API token zsc holds)."""

    def __init__(self, desk: zm.Desk, actor_id: int, faults: Faults | None = None) -> None:
        self.desk = desk
        self.actor_id = actor_id
        self.faults = faults or Faults()
        self._idempotent: dict[str, tuple[int, int | None]] = {}  # Idempotency-Key -> first answer

    def _call(self, method: str, fn: Callable[[], T], *, what: str, write: bool = False) -> T:
        def effect() -> T:
            try:
                return fn()
            except zm.ApiError as exc:
                raise _zendesk_error(what, exc) from None

        return self.faults.run(ZENDESK, f"zendesk.{method}", effect, write)

    def patient(self, max_wait: float) -> None:
        pass

    def export_wait(self) -> float:
        return 0.0

    # ---- reads ----
    def me(self) -> ZendeskUser | None:
        return ZendeskUser.from_json(self.desk.user(self.actor_id).to_json())

    def ticket(self, ticket_id: int) -> Ticket:
        return self._call("ticket", lambda: Ticket.from_json(self.desk.ticket(ticket_id).to_json()),
                          what=f"ticket {ticket_id}")

    def tickets(self, ids: Iterable[int]) -> list[Ticket]:
        """show_many: unknown and deleted ids are left out, not refused."""
        ids = list(ids)

        def show_many() -> list[Ticket]:
            found = (self.desk.tickets.get(i) for i in ids)
            # with include=comment_count, as the real adapter asks
            return [Ticket.from_json({**t.to_json(), "comment_count": len(self.desk.ticket_comments(t.id))})
                    for t in found if t is not None and t.status != "deleted"]

        return self._call("tickets", show_many, what="tickets/show_many")

    def tickets_by_external_id(self, external_id: str) -> list[Ticket]:
        def find() -> list[Ticket]:
            return [Ticket.from_json(t.to_json()) for t in self.desk.tickets.values()
                    if t.external_id == external_id and t.status != "deleted"]

        return self._call("tickets_by_external_id", find, what=f"tickets external_id={external_id}")

    def comments(self, ticket_id: int) -> list[Comment]:
        """Every comment, oldest first."""
        def read() -> list[Comment]:
            ticket = self.desk.ticket(ticket_id)
            return [Comment.from_json(c.to_json()) for c in self.desk.comments[ticket.id]]

        return self._call("comments", read, what=f"ticket {ticket_id} comments")

    def user(self, user_id: int) -> ZendeskUser:
        return self._call("user", lambda: ZendeskUser.from_json(self.desk.user(user_id).to_json()),
                          what=f"user {user_id}")

    def group(self, group_id: int) -> Group:
        def read() -> Group:
            data = self.desk.group(group_id).to_json()
            return Group(int(data["id"]), str(data["name"]))

        return self._call("group", read, what=f"group {group_id}")

    def group_member_ids(self, group_id: int) -> set[int]:
        def read() -> set[int]:
            self.desk.group(group_id)
            return {m.user_id for m in self.desk.memberships if m.group_id == int(group_id)}

        return self._call("group_member_ids", read, what=f"group {group_id} memberships")

    def find_user(self, email: str) -> ZendeskUser | None:
        def search() -> ZendeskUser | None:
            for user in self.desk.search_users(email):
                if (user.email or "").lower() == email.lower():
                    return ZendeskUser.from_json(user.to_json())
            return None

        return self._call("find_user", search, what="users/search")

    def export_page(self, cursor: str | None = None,
                    start_time: int | None = None) -> tuple[list[Ticket], str | None, bool]:
        """One page of the cursor export (the model hides the last 60 seconds)."""
        def page() -> tuple[list[Ticket], str | None, bool]:
            data = self.desk.export_tickets(start_time=None if cursor else int(start_time or 0), cursor=cursor)
            after = data.get("after_cursor")
            return ([Ticket.from_json(t) for t in data["tickets"]], after or cursor, bool(data["end_of_stream"]))

        return self._call("export_page", page, what="incremental ticket export")

    # ---- writes ----
    def create_ticket(self, *, subject: str, body: str, requester: dict[str, Any], assignee_id: int | None,
                      group_id: int | None, external_id: str, tags: list[str], idempotency_key: str,
                      author_id: int | None = None, followup_source_id: int | None = None) -> tuple[int, int | None]:
        """(ticket id, first comment id); a repeated Idempotency-Key answers the first result
        without creating anything (what ZendeskSim does over HTTP)."""
        comment: dict[str, Any] = {"body": body, "public": True}
        if author_id:
            comment["author_id"] = author_id
        spec: dict[str, Any] = {"subject": subject, "comment": comment, "group_id": group_id,
                                "assignee_id": assignee_id, "external_id": external_id, "tags": tags}
        if requester.get("id"):
            spec["requester_id"] = requester["id"]
        else:
            spec["requester"] = {"name": requester["name"], "email": requester["email"]}
        # via_followup_source_id: the model does not link follow-ups; nothing zsc reads back depends on it

        def create() -> tuple[int, int | None]:
            if idempotency_key in self._idempotent:
                return self._idempotent[idempotency_key]
            ticket, audit = self.desk.create_ticket(self.actor_id, "api", spec)
            self._idempotent[idempotency_key] = result = (ticket.id, _comment_id(audit))
            return result

        return self._call("create_ticket", create, what="create ticket", write=True)

    def add_comment(self, ticket_id: int, body: str, *, public: bool, author_id: int | None = None,
                    status: str | None = None, key: str | None = None) -> int | None:
        comment: dict[str, Any] = {"body": body, "public": public}
        if author_id:
            comment["author_id"] = author_id
        spec: dict[str, Any] = {"comment": comment}
        if status:
            spec["status"] = status

        def update() -> int | None:
            _, audit = self.desk.update_ticket(ticket_id, self.actor_id, "api", spec, metadata=_tag(key))
            return _comment_id(audit)

        return self._call("add_comment", update, what=f"comment on ticket {ticket_id}", write=True)

    def set_status(self, ticket_id: int, status: str, key: str | None = None) -> None:
        self._call("set_status", lambda: self.desk.update_ticket(ticket_id, self.actor_id, "api", {"status": status},
                                                                 metadata=_tag(key)),
                   what=f"set ticket {ticket_id} {status}", write=True)

    def find_write(self, ticket_id: int, key: str) -> Audit | None:
        """The update made with intent `key`, from the ticket's audits (their metadata)."""
        def read() -> Audit | None:
            audits = (Audit.from_json(a.to_json()) for a in self.desk.ticket_audits(ticket_id))
            return next((a for a in audits if a.key == key), None)

        return self._call("find_write", read, what=f"ticket {ticket_id} audits")

    def update_external_id(self, ticket_id: int, external_id: str) -> None:
        self._call("update_external_id",
                   lambda: self.desk.update_ticket(ticket_id, self.actor_id, "api", {"external_id": external_id}),
                   what=f"set ticket {ticket_id} external_id", write=True)


def _tag(key: str | None) -> dict[str, Any] | None:
    """zsc's intent key in an update's audit metadata (what the real adapter sends)."""
    return {"zsc_key": key} if key else None


def _comment_id(audit: zm.Audit) -> int | None:
    return next((int(e["id"]) for e in audit.events if e["type"] == "Comment"), None)


def _zendesk_error(what: str, exc: zm.ApiError) -> Exception:
    """A refusal as the real adapter raises it: 404 NotFound, 401/403 AuthError, any
    other 4xx Rejected with Zendesk's own words (a closed ticket's says "closed")."""
    from zsc.errors import AuthError

    if exc.status == 404:
        return NotFound(ZENDESK, f"{what}: not found")
    if exc.status in (401, 403):
        return AuthError(ZENDESK, f"{what}: HTTP {exc.status} — the credential was refused or lacks permission")
    if exc.status >= 500:
        return Unavailable(ZENDESK, f"{what}: HTTP {exc.status}")
    return Rejected(ZENDESK, f"{what}: HTTP {exc.status} {_error_text(exc.body)}".strip())


def _error_text(body: dict) -> str:
    """The most specific description in a Zendesk error body (as zendesk._error_text reads it)."""
    details = body.get("details")
    if isinstance(details, dict):
        for problems in details.values():
            for problem in problems or []:
                if isinstance(problem, dict) and problem.get("description"):
                    return str(problem["description"])
    return str(body.get("description") or body.get("error") or "")
