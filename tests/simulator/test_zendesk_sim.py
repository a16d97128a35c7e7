"""The fake Zendesk Support API, driven through the real zenpy client over HTTP.

Where zsc will bypass zenpy's helpers (a create carrying an Idempotency-Key, raw export
pages) the tests use zenpy's own authenticated `requests` session, as zsc will."""

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from freezegun import freeze_time
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException

AGENT_EMAIL = "bot@example.com"
TOKEN = "api-token-1"
T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def zenpy_client(**kwargs) -> Zenpy:
    kwargs.setdefault("email", AGENT_EMAIL)
    kwargs.setdefault("token", TOKEN)
    return Zenpy(subdomain="sim", disable_cache=True, **kwargs)


@pytest.fixture
def zd(zendesk_sim):
    zendesk_sim.add_api_token(AGENT_EMAIL, TOKEN)
    return zendesk_sim


@pytest.fixture
def zenpy(zd):
    return zenpy_client()


@pytest.fixture
def agent_id(zd):
    return zd.find_user(AGENT_EMAIL)["id"]


def post_ticket(zd, zenpy, ticket: dict, key: str | None = None) -> requests.Response:
    """A create through zenpy's authenticated session: zenpy's helpers cannot add headers."""
    headers = {"Idempotency-Key": key} if key else {}
    return zenpy.tickets.session.post(f"{zd.url}/api/v2/tickets.json", json={"ticket": ticket},
                                      headers=headers, timeout=5)


def new_ticket(zenpy, body="It is broken", **fields) -> Ticket:
    return zenpy.tickets.create(Ticket(subject="Help", comment=Comment(body=body), **fields)).ticket


def api_error(excinfo) -> tuple[int, dict]:
    return excinfo.value.response.status_code, excinfo.value.response.json()


# ---- creating tickets ----


def test_create_with_requester_object_creates_the_end_user_and_reuses_them(zd, zenpy):
    audit = zenpy.tickets.create(Ticket(subject="Printer on fire", comment=Comment(body="Send help"),
                                        requester=User(name="Ann Smith", email="ann@example.com"),
                                        tags=["slack"], external_id="slack:C1:1700000000.000100"))
    ticket = audit.ticket
    ann = zd.find_user("ann@example.com")
    assert ann["role"] == "end-user" and ann["name"] == "Ann Smith"
    assert (ticket.requester_id, ticket.submitter_id, ticket.status) == (ann["id"], ann["id"], "new")
    assert ticket.via.channel == "api" and ticket.tags == ["slack"]

    comment_event = next(e for e in audit.audit.events if e["type"] == "Comment")
    stored = zd.comments(ticket.id)
    assert [c["id"] for c in stored] == [comment_event["id"]]
    assert stored[0]["author_id"] == ann["id"]  # the submitter writes the first comment
    assert stored[0]["via"]["channel"] == "api" and stored[0]["public"] is True
    assert {e["field_name"] for e in audit.audit.events if e["type"] == "Create"} >= {"subject", "status",
                                                                                      "requester_id"}

    again = zenpy.tickets.create(Ticket(subject="Still on fire", comment=Comment(body="Hello?"),
                                        requester=User(name="Ann S.", email="ANN@example.com"))).ticket
    assert again.requester_id == ann["id"]
    assert again.id > ticket.id


def test_create_with_requester_id_and_explicit_author(zd, zenpy, agent_id):
    bob = zd.add_user("Bob", "bob@example.com")
    ticket = zenpy.tickets.create(Ticket(subject="Q", requester_id=bob,
                                         comment=Comment(body="Asked on Slack", author_id=agent_id,
                                                         public=False))).ticket
    (comment,) = zd.comments(ticket.id)
    assert (ticket.requester_id, comment["author_id"], comment["public"]) == (bob, agent_id, False)


def test_create_without_comment_is_invalid(zd, zenpy):
    with pytest.raises(APIException) as excinfo:
        zenpy.tickets.create(Ticket(subject="no body"))
    status, body = api_error(excinfo)
    assert status == 422 and body["error"] == "RecordInvalid" and "description" in body["details"]
    assert zd.tickets() == []


def test_idempotent_create_returns_the_first_result(zd, zenpy):
    payload = {"subject": "Once", "comment": {"body": "only once"}, "external_id": "slack:x"}
    first = post_ticket(zd, zenpy, payload, key="k-1")
    second = post_ticket(zd, zenpy, payload, key="k-1")
    assert first.status_code == second.status_code == 201
    assert first.headers["x-idempotency-lookup"] == "miss"
    assert second.headers["x-idempotency-lookup"] == "hit"
    assert second.json() == first.json()
    assert len(zd.tickets()) == 1

    changed = post_ticket(zd, zenpy, {**payload, "subject": "Twice"}, key="k-1")
    assert changed.status_code == 400 and changed.json()["error"] == "IdempotentRequestError"

    other_key = post_ticket(zd, zenpy, payload, key="k-2")
    assert other_key.status_code == 201 and len(zd.tickets()) == 2


def test_idempotency_keys_expire_after_two_hours(zd, zenpy):
    payload = {"subject": "Once", "comment": {"body": "only once"}}
    with freeze_time(T0) as clock:
        first = post_ticket(zd, zenpy, payload, key="k").json()["ticket"]["id"]
        clock.tick(2 * 3600 - 1)
        assert post_ticket(zd, zenpy, payload, key="k").json()["ticket"]["id"] == first
        clock.tick(2)
        assert post_ticket(zd, zenpy, payload, key="k").json()["ticket"]["id"] != first
    assert len(zd.tickets()) == 2


def test_dropped_create_still_happened_and_a_retry_with_the_key_returns_it(zd, zenpy):
    payload = {"subject": "Lost answer", "comment": {"body": "did it work?"}}
    zd.inject("tickets.create", "drop")
    with pytest.raises(requests.ConnectionError):
        post_ticket(zd, zenpy, payload, key="retry-me")
    (created,) = zd.tickets()

    retry = post_ticket(zd, zenpy, payload, key="retry-me")
    assert retry.headers["x-idempotency-lookup"] == "hit"
    assert retry.json()["ticket"]["id"] == created["id"]
    assert len(zd.tickets()) == 1
    assert zd.calls["tickets.create"] == 2


def test_dropped_zenpy_create_without_a_key_is_applied_anyway(zd, zenpy):
    zd.inject("tickets.create", "drop")
    with pytest.raises(requests.ConnectionError):
        new_ticket(zenpy)
    assert len(zd.tickets()) == 1


# ---- reading tickets ----


def test_list_by_external_id(zd, zenpy):
    wanted = new_ticket(zenpy, external_id="slack:C1:1.1")
    new_ticket(zenpy, external_id="slack:C1:2.2")
    assert [t.id for t in zenpy.tickets(external_id="slack:C1:1.1")] == [wanted.id]
    assert list(zenpy.tickets(external_id="nope")) == []

    raw = zenpy.tickets.session.get(f"{zd.url}/api/v2/tickets.json", params={"external_id": "slack:C1:2.2"}).json()
    assert raw["count"] == 1 and raw["next_page"] is None and raw["tickets"][0]["external_id"] == "slack:C1:2.2"


def test_show_show_many_and_not_found(zd, zenpy):
    a, b = new_ticket(zenpy), new_ticket(zenpy)
    shown = zenpy.tickets(id=a.id)
    assert (shown.id, shown.subject, shown.requester_id) == (a.id, "Help", a.requester_id)
    assert sorted(t.id for t in zenpy.tickets(ids=[a.id, b.id, 999])) == [a.id, b.id]

    with pytest.raises(RecordNotFoundException) as excinfo:
        zenpy.tickets(id=999)
    assert api_error(excinfo) == (404, {"error": "RecordNotFound", "description": "Not found"})

    too_many = ",".join(str(i) for i in range(1, 102))
    resp = zenpy.tickets.session.get(f"{zd.url}/api/v2/tickets/show_many.json?ids={too_many}")
    assert resp.status_code == 400 and resp.json()["error"] == "TooManyValues"


def test_comments_oldest_first_paginated_by_100(zd, zenpy, agent_id):
    ticket = new_ticket(zenpy, body="comment 0")
    for i in range(1, 150):
        zd.agent_comment(ticket.id, agent_id, f"comment {i}", public=i % 2 == 0)

    comments = list(zenpy.tickets.comments(ticket=ticket.id))  # zenpy asks for page[size]=100
    assert [c.body for c in comments] == [f"comment {i}" for i in range(150)]
    assert [c.id for c in comments] == sorted(c.id for c in comments)
    assert comments[1].public is False and comments[1].via.channel == "web"

    session = zenpy.tickets.session
    page1 = session.get(f"{zd.url}/api/v2/tickets/{ticket.id}/comments.json").json()
    assert len(page1["comments"]) == 100 and page1["count"] == 150 and page1["next_page"]
    page2 = session.get(page1["next_page"]).json()
    assert len(page2["comments"]) == 50 and page2["next_page"] is None
    first = page1["comments"][0]
    assert {"id", "type", "author_id", "body", "html_body", "plain_body", "public", "attachments",
            "audit_id", "via", "created_at", "metadata"} <= set(first)
    assert first["type"] == "Comment" and first["attachments"] == []


# ---- updating tickets ----


def test_update_with_public_and_private_comments_reports_the_comment_id(zd, zenpy, agent_id):
    ticket = new_ticket(zenpy)
    reply = zenpy.tickets.update(Ticket(id=ticket.id, status="pending",
                                        comment=Comment(body="Try turning it off", public=True)))
    note = zenpy.tickets.update(Ticket(id=ticket.id, comment=Comment(body="customer is grumpy", public=False)))

    def comment_id(audit):
        return next(e["id"] for e in audit.audit.events if e["type"] == "Comment")

    stored = {c["id"]: c for c in zd.comments(ticket.id)}
    assert stored[comment_id(reply)]["public"] is True
    assert stored[comment_id(note)]["public"] is False
    assert stored[comment_id(note)]["author_id"] == agent_id  # defaults to the authenticated user
    assert comment_id(reply) < comment_id(note)
    assert reply.ticket.status == "pending"
    assert {"type": "Change", "field_name": "status", "value": "pending",
            "previous_value": "new"}.items() <= next(e for e in reply.audit.events if e["type"] == "Change").items()


def test_every_change_bumps_updated_at_and_generated_timestamp(zd, zenpy):
    with freeze_time(T0) as clock:
        ticket = new_ticket(zenpy)
        clock.tick(30)
        updated = zenpy.tickets.update(Ticket(id=ticket.id, priority="high")).ticket
        assert updated.generated_timestamp == ts(T0) + 30
        assert updated.updated_at == "2024-03-01T12:00:30Z" and updated.created_at == "2024-03-01T12:00:00Z"
        clock.tick(30)
        same = zenpy.tickets.update(Ticket(id=ticket.id, priority="high")).ticket  # no change at all
        assert same.generated_timestamp == ts(T0) + 30


def test_solving_sets_solved_at_and_an_end_user_reply_reopens(zd, zenpy, agent_id):
    requester = zd.add_user("Cat", "cat@example.com")
    ticket = new_ticket(zenpy, requester_id=requester)
    with freeze_time(T0):
        solved = zenpy.tickets.update(Ticket(id=ticket.id, status="solved")).ticket
    assert (solved.status, solved.solved_at, solved.assignee_id) == ("solved", "2024-03-01T12:00:00Z", agent_id)

    reopened = zenpy.tickets.update(Ticket(id=ticket.id, comment=Comment(body="still broken",
                                                                          author_id=requester))).ticket
    assert reopened.status == "open" and reopened.solved_at is None

    zd.solve(ticket.id)
    zd.end_user_comment(ticket.id, requester, "and again")
    assert zd.ticket(ticket.id)["status"] == "open"
    assert zd.comments(ticket.id)[-1]["via"]["channel"] == "email"

    zd.solve(ticket.id)
    zenpy.tickets.update(Ticket(id=ticket.id, comment=Comment(body="glad it works", author_id=agent_id)))
    assert zd.ticket(ticket.id)["status"] == "solved"  # an agent's reply does not reopen


def test_closed_ticket_refuses_updates(zd, zenpy):
    ticket = new_ticket(zenpy)
    zd.close(ticket.id)
    with pytest.raises(APIException) as excinfo:
        zenpy.tickets.update(Ticket(id=ticket.id, comment=Comment(body="hello?")))
    assert api_error(excinfo) == (422, {
        "error": "RecordInvalid", "description": "Record validation errors",
        "details": {"status": [{"description": "Status: closed prevents ticket update",
                                "error": "ClosedPreventsUpdate"}]}})
    assert len(zd.comments(ticket.id)) == 1


# ---- people, groups, search ----


def test_users(zd, zenpy, agent_id):
    assert zenpy.users.me().id == agent_id and zenpy.users.me().role == "admin"
    ann = zd.add_user("Ann Smith", "ann@example.com")
    zd.add_user("Annabel Lee", "lee@example.com")
    agent = zd.add_agent("Ann Agent", "agent@example.com")

    assert [u.id for u in zenpy.users.search(query="ann@example.com")] == [ann]
    assert [u.id for u in zenpy.users.search(query="email:ANN@example.com")] == [ann]
    assert sorted(u.name for u in zenpy.users.search(query="ann")) == ["Ann Agent", "Ann Smith", "Annabel Lee"]
    assert list(zenpy.users.search(query="nobody@example.com")) == []

    assert zenpy.users(id=agent).role == "agent"
    assert sorted(u.id for u in zenpy.users(ids=[ann, agent])) == [ann, agent]
    created = zenpy.users.create(User(name="New Person", email="new@example.com"))
    assert created.id > agent and created.role == "end-user"
    with pytest.raises(APIException) as excinfo:
        zenpy.users.create(User(name="Dup", email="new@example.com"))
    assert api_error(excinfo)[0] == 422
    with pytest.raises(RecordNotFoundException):
        zenpy.users(id=1)


def test_groups_and_memberships(zd, zenpy):
    alice, bob = zd.add_agent("Alice", "alice@corp.com"), zd.add_agent("Bob", "bob@corp.com")
    group = zd.add_group("Tier 1", agent_ids=[alice, bob])
    other = zd.add_group("Tier 2", agent_ids=[alice])
    assert zenpy.groups(id=group).name == "Tier 1"
    assert sorted(m.user_id for m in zenpy.groups.memberships(group=group)) == [alice, bob]
    assert sorted(m.group_id for m in zenpy.users.group_memberships(user=alice)) == [group, other]
    assert zd.user(alice)["default_group_id"] == group
    with pytest.raises(RecordNotFoundException):
        zenpy.groups(id=12345)


def test_search_count(zd, zenpy, agent_id):
    group = zd.add_group("Support", agent_ids=[agent_id])
    a = new_ticket(zenpy, group_id=group, external_id="ext-a")
    b = new_ticket(zenpy, group_id=group)
    new_ticket(zenpy)
    zd.set_status(a.id, "pending")
    zd.solve(b.id)

    assert zenpy.search.count(type="ticket", status_less_than="solved", group=group) == 1
    assert zenpy.search.count(type="ticket", status_less_than="solved") == 2
    assert zenpy.search.count(type="ticket", status="solved") == 1
    assert zenpy.search.count("type:ticket external_id:ext-a") == 1
    assert zenpy.search.count(f"type:ticket group:{group} -status:pending") == 1
    raw = zenpy.tickets.session.get(f"{zd.url}/api/v2/search/count.json",
                                    params={"query": f"type:ticket status<solved group:{group}"})
    assert raw.json() == {"count": 1}


# ---- incremental exports ----


def export(zenpy, url, **params) -> dict:
    resp = zenpy.tickets.session.get(url, params=params, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_cursor_export_lags_a_minute_and_resumes_from_its_cursor(zd, zenpy):
    url = f"{zd.url}/api/v2/incremental/tickets/cursor.json"
    with freeze_time(T0) as clock:
        start = ts(T0) - 300
        first = new_ticket(zenpy)
        second = new_ticket(zenpy)

        page = export(zenpy, url, start_time=start)
        assert page["tickets"] == [] and page["end_of_stream"] is True  # changed < 60 s ago

        clock.tick(61)
        page = export(zenpy, url, start_time=start)
        assert [t["id"] for t in page["tickets"]] == [first.id, second.id]
        assert page["end_of_stream"] is True
        assert set(page) >= {"after_cursor", "before_cursor", "after_url", "before_url"}
        cursor = page["after_cursor"]

        assert export(zenpy, url, cursor=cursor)["tickets"] == []  # nothing new since

        zenpy.tickets.update(Ticket(id=first.id, status="open"))
        clock.tick(5)
        zenpy.tickets.update(Ticket(id=first.id, status="pending"))
        assert export(zenpy, url, cursor=cursor)["tickets"] == []  # still inside the lag
        clock.tick(61)
        resumed = export(zenpy, url, cursor=cursor)
        assert [(t["id"], t["status"]) for t in resumed["tickets"]] == [(first.id, "pending")]


def test_cursor_export_never_passes_a_ticket_hidden_by_the_lag(zd, zenpy):
    url = f"{zd.url}/api/v2/incremental/tickets/cursor.json"
    with freeze_time(T0) as clock:
        old = new_ticket(zenpy)
        clock.tick(30)
        recent = new_ticket(zenpy)
        clock.tick(40)  # `old` is 70 s old, `recent` 40 s
        page = export(zenpy, url, start_time=ts(T0) - 120)
        assert [t["id"] for t in page["tickets"]] == [old.id]
        clock.tick(30)
        assert [t["id"] for t in export(zenpy, url, cursor=page["after_cursor"])["tickets"]] == [recent.id]


def test_cursor_export_through_zenpy_pages_and_exposes_the_cursor(zd, zenpy):
    with freeze_time(T0) as clock:
        ids = [new_ticket(zenpy).id for _ in range(5)]
        clock.tick(61)
        stream = zenpy.tickets.incremental(start_time=ts(T0) - 60, per_page=2)
        assert [t.id for t in stream] == ids  # three pages via after_url
        assert stream.end_of_stream is True
        cursor = stream.after_cursor

        zenpy.tickets.update(Ticket(id=ids[2], subject="changed"))
        clock.tick(61)
        again = zenpy.tickets.incremental(cursor=cursor)
        assert [(t.id, t.subject) for t in again] == [(ids[2], "changed")]
        assert again.after_cursor != cursor


def test_export_start_time_must_be_a_minute_old(zd, zenpy):
    with freeze_time(T0):
        for path in ("incremental/tickets/cursor.json", "incremental/ticket_events.json"):
            resp = zenpy.tickets.session.get(f"{zd.url}/api/v2/{path}", params={"start_time": ts(T0) - 30})
            assert resp.status_code == 422 and resp.json()["error"] == "InvalidValue"
        with pytest.raises(APIException):
            list(zenpy.tickets.incremental(start_time=ts(T0) - 10))
        bad = zenpy.tickets.session.get(f"{zd.url}/api/v2/incremental/tickets/cursor.json",
                                        params={"cursor": "garbage"})
        assert bad.status_code == 400


def test_ticket_events_with_comment_events(zd, zenpy, agent_id):
    with freeze_time(T0) as clock:
        requester = zd.add_user("Dan", "dan@example.com")
        ticket = new_ticket(zenpy, body="first words", requester_id=requester)
        clock.tick(10)
        reply_id = zd.agent_comment(ticket.id, agent_id, "we are on it")
        clock.tick(10)
        note_id = zd.internal_note(ticket.id, agent_id, "psst")
        clock.tick(600)  # zenpy only keeps paging when end_time is > 5 minutes old

        events = list(zenpy.tickets.events(start_time=ts(T0) - 60, include="comment_events"))
        assert [e.ticket_id for e in events] == [ticket.id] * 3
        assert [e.updater_id for e in events] == [agent_id] * 3  # who made the call, not the author
        comments = [c for e in events for c in e.child_events if c["event_type"] == "Comment"]
        assert [(c["id"], c["body"], c["public"]) for c in comments][1:] == [
            (reply_id, "we are on it", True), (note_id, "psst", False)]
        assert comments[0]["author_id"] == requester and comments[0]["via"]["channel"] == "api"
        assert comments[1]["via"]["channel"] == "web" and comments[1]["html_body"].startswith("<div")
        status_change = [c for c in events[1].child_events if c["event_type"] == "Change"]
        assert status_change[0]["field_name"] == "status" and status_change[0]["value"] == "open"

        bare = list(zenpy.tickets.events(start_time=ts(T0) - 60))
        assert not [c for e in bare for c in e.child_events if c["event_type"] == "Comment"]


def test_ticket_events_pages_on_end_time(zd, zenpy, agent_id):
    url = f"{zd.url}/api/v2/incremental/ticket_events.json"
    with freeze_time(T0) as clock:
        ticket = new_ticket(zenpy)
        for i in range(4):
            clock.tick(1)
            zd.agent_comment(ticket.id, agent_id, f"c{i}")
        clock.tick(60)  # the last change is just old enough; a newer one is not
        zd.internal_note(ticket.id, agent_id, "too recent")

        page = export(zenpy, url, start_time=ts(T0) - 60, per_page=2, include="comment_events")
        assert page["count"] == 2 and page["end_of_stream"] is False
        assert page["end_time"] == page["ticket_events"][-1]["timestamp"] == ts(T0) + 1
        assert f"start_time={page['end_time']}" in page["next_page"]
        seen = [e["id"] for e in page["ticket_events"]]
        while not page["end_of_stream"]:
            page = export(zenpy, page["next_page"])
            assert page["ticket_events"][0]["id"] == seen[-1]  # start_time is inclusive: the boundary repeats
            seen += [e["id"] for e in page["ticket_events"]]
        assert len(set(seen)) == 5  # the create and four replies, not the recent note
        assert seen == sorted(seen)


def test_incremental_exports_allow_ten_calls_a_minute(zd, zenpy):
    tickets_url = f"{zd.url}/api/v2/incremental/tickets/cursor.json"
    events_url = f"{zd.url}/api/v2/incremental/ticket_events.json"
    with freeze_time(T0) as clock:
        start = ts(T0) - 120
        for i in range(10):
            export(zenpy, tickets_url if i % 2 else events_url, start_time=start)
        limited = zenpy.tickets.session.get(tickets_url, params={"start_time": start})
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
        assert zenpy.tickets.session.get(events_url, params={"start_time": start}).status_code == 429
        assert zenpy.users.me()  # other endpoints are not held back

        # zenpy waits out any Retry-After unless given a budget; with one it gives up.
        budgeted = zenpy_client(ratelimit_budget=1)
        with pytest.raises(RatelimitBudgetExceeded):
            list(budgeted.tickets.incremental(start_time=start))

        clock.tick(45)
        assert zenpy.tickets.session.get(tickets_url, params={"start_time": start}).headers["Retry-After"] == "15"
        clock.tick(15)
        export(zenpy, tickets_url, start_time=start)


def test_zenpy_waits_out_a_one_second_retry_after(zd, zenpy):
    url = f"{zd.url}/api/v2/incremental/tickets/cursor.json"
    with freeze_time(T0, tick=True) as clock:  # time runs, so zenpy's real sleep frees the slot
        for _ in range(10):
            export(zenpy, url, start_time=ts(T0) - 120)
        clock.move_to(T0 + timedelta(seconds=59.5))
        assert list(zenpy.tickets.incremental(start_time=ts(T0) - 120)) == []
    assert zd.calls["incremental.tickets"] == 12  # one refused, then the retry


def test_global_rate_limit(zd, zenpy):
    zd.set_rate_limit(2)
    with freeze_time(T0):
        session = zenpy.tickets.session
        assert [session.get(f"{zd.url}/api/v2/users/me.json").status_code for _ in range(3)] == [200, 200, 429]
        assert int(session.get(f"{zd.url}/api/v2/users/me.json").headers["Retry-After"]) == 60
    # Every answer's status is counted, so a benchmark can tell how often zsc was refused.
    assert zd.refused(429) == 2 and zd.answers[("users.me", 200)] == 2
    zd.reset_calls()
    assert zd.refused(429) == 0


def test_a_simulated_round_trip_time_delays_every_answer(zd, zenpy):
    zd.set_latency(0.02)
    started = time.monotonic()
    assert zenpy.tickets.session.get(f"{zd.url}/api/v2/users/me.json").status_code == 200
    assert zenpy.tickets.session.get(f"{zd.url}/api/v2/nowhere.json").status_code == 404  # unknown paths too
    assert time.monotonic() - started >= 2 * 0.02
    with pytest.raises(ValueError):
        zd.set_latency(-1)


# ---- authentication ----


def test_bad_missing_and_revoked_credentials(zd, zenpy):
    for client in (zenpy_client(token="wrong"), zenpy_client(email="other@example.com")):
        with pytest.raises(APIException) as excinfo:
            client.users.me()
        assert api_error(excinfo) == (401, {"error": "Couldn't authenticate you"})
    assert requests.get(f"{zd.url}/api/v2/users/me.json").status_code == 401
    assert requests.get(f"{zd.url}/api/v2/users/me.json", auth=(AGENT_EMAIL, TOKEN)).status_code == 401

    assert zenpy.users.me().email == AGENT_EMAIL
    zd.revoke_api_token(TOKEN)
    with pytest.raises(APIException) as excinfo:
        zenpy.users.me()
    assert api_error(excinfo)[0] == 401


def test_end_user_credentials_are_forbidden(zd):
    zd.add_user("Eve", "eve@example.com")
    zd.add_api_token("eve@example.com", "eve-token")
    with pytest.raises(APIException) as excinfo:
        zenpy_client(email="eve@example.com", token="eve-token").users.me()
    assert api_error(excinfo)[0] == 403


def test_oauth_tokens_work_as_bearer_and_respect_scope(zd, agent_id):
    zd.add_oauth_token("oauth-rw", user_id=agent_id)
    zd.add_oauth_token("oauth-ro", user_id=agent_id, scope="read")
    assert Zenpy(subdomain="sim", oauth_token="oauth-rw", disable_cache=True).users.me().id == agent_id
    reader = Zenpy(subdomain="sim", oauth_token="oauth-ro", disable_cache=True)
    assert reader.users.me().id == agent_id
    with pytest.raises(APIException) as excinfo:
        reader.tickets.create(Ticket(subject="x", comment=Comment(body="y")))
    assert api_error(excinfo)[0] == 403


# ---- OAuth authorization-code exchange (zsc auth zendesk) ----

CLIENT = {"client_id": "zsc", "client_secret": "shh", "redirect_uri": "http://127.0.0.1:8765/callback"}


def exchange(zd, code, **overrides) -> requests.Response:
    body = {"grant_type": "authorization_code", "code": code, "scope": "read write", **CLIENT, **overrides}
    return requests.post(f"{zd.url}/oauth/tokens", json=body, timeout=5)


def test_oauth_code_exchange(zd):
    zd.register_oauth_client(**CLIENT)
    code = zd.issue_oauth_code("zsc")
    resp = exchange(zd, code)
    assert resp.status_code == 200
    grant = resp.json()
    assert grant["token_type"] == "bearer" and grant["scope"] == "read write"
    assert Zenpy(subdomain="sim", oauth_token=grant["access_token"], disable_cache=True).users.me().role == "admin"

    reused = exchange(zd, code)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_oauth_code_expires_and_client_must_authenticate(zd):
    zd.register_oauth_client(**CLIENT)
    with freeze_time(T0) as clock:
        code = zd.issue_oauth_code("zsc")
        bad_secret = exchange(zd, code, client_secret="guess")
        assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
        clock.tick(121)
        expired = exchange(zd, code)
        assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    assert exchange(zd, "never-issued").json()["error"] == "invalid_grant"
    fresh = zd.issue_oauth_code("zsc")
    assert exchange(zd, fresh, redirect_uri="http://elsewhere/").json()["error"] == "invalid_grant"


def test_oauth_consent_page_links_back_with_a_code(zd):
    zd.register_oauth_client(**CLIENT)
    page = requests.get(f"{zd.url}/oauth/authorizations/new", params={
        "response_type": "code", "client_id": "zsc", "redirect_uri": CLIENT["redirect_uri"],
        "scope": "read write", "state": "xyz"}, timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    link = re.search(r'href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert link.startswith(CLIENT["redirect_uri"] + "?") and "state=xyz" in link
    code = re.search(r"code=([^&]+)", link).group(1)
    assert exchange(zd, code).status_code == 200


# ---- the control surface ----


def test_email_and_agent_actions_from_the_control_surface(zd, zenpy):
    alice = zd.add_agent("Alice", "alice@corp.com")
    group = zd.add_group("Support", agent_ids=[alice])
    ticket_id = zd.receive_email("Fay", "fay@example.com", "Can't log in", "Password reset fails", group_id=group)
    ticket = zenpy.tickets(id=ticket_id)
    fay = zd.find_user("fay@example.com")
    assert (ticket.requester_id, ticket.group_id, ticket.status) == (fay["id"], group, "new")
    assert ticket.via.channel == "email" and ticket.description == "Password reset fails"
    assert zd.receive_email("Fay F.", "fay@example.com", "Again", "Hi") > ticket_id  # same requester
    assert zd.ticket(ticket_id + 1)["requester_id"] == fay["id"]

    reply = zd.agent_comment(ticket_id, alice, "Try again now")
    note = zd.internal_note(ticket_id, alice, "it was the SSO cert")
    assert reply < note and reply >= 100000
    assert zd.ticket(ticket_id)["status"] == "open"  # the UI submits a new ticket as open
    assert [(c["via"]["channel"], c["public"]) for c in zd.comments(ticket_id)] == [
        ("email", True), ("web", True), ("web", False)]

    zd.solve(ticket_id, author_id=alice)
    assert zd.ticket(ticket_id)["assignee_id"] == alice
    zd.close(ticket_id)
    assert zd.ticket(ticket_id)["status"] == "closed"
