"""Zendesk behaviours learned from real answers (API-NOTES, "Learned since..."),
through the real zenpy client (or its authenticated session where zenpy has no helper)."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from zenpy.lib.api_objects import Comment, Ticket

from tests.simulator.test_zendesk_sim import T0, new_ticket, post_ticket, ts
from tests.simulator.test_zendesk_sim import agent_id, zd, zenpy  # noqa: F401 (the same fixtures)

MARKDOWN = "**Bold** and *it* and _it_, snake_case stays.\nSee [the runbook](https://wiki.example/run_book).\n- one\n- two"


# ---- Markdown rendering of comment bodies ----

def test_markdown_bodies_render_like_zendesk_when_switched_on(zd, zenpy, agent_id):
    zd.render_markdown = True
    ticket = new_ticket(zenpy, body="plain first")
    zenpy.tickets.update(Ticket(id=ticket.id, comment=Comment(body=MARKDOWN, public=True)))
    comment = list(zenpy.tickets.comments(ticket.id))[-1]
    assert comment.body == MARKDOWN  # as sent
    assert comment.plain_body == ("Bold and it and it, snake_case stays.\nSee the runbook.\n- one\n- two")
    assert '<a href="https://wiki.example/run_book"' in comment.html_body
    assert "<strong>Bold</strong>" in comment.html_body and "<em>it</em>" in comment.html_body


def test_markdown_rendering_is_off_by_default(zd, zenpy):
    assert zd.render_markdown is False
    ticket = new_ticket(zenpy, body=MARKDOWN)
    (comment,) = zenpy.tickets.comments(ticket.id)
    assert comment.plain_body == comment.body == MARKDOWN


def test_html_body_writes_come_back_as_text(zd, zenpy):
    zd.render_markdown = True
    resp = post_ticket(zd, zenpy, {"subject": "s", "comment": {"html_body": "<p>a &amp; <b>b</b></p><p>c</p>"}})
    (comment,) = zd.comments(resp.json()["ticket"]["id"])
    assert comment["plain_body"] == "a & b\n\nc"


# ---- audit metadata and the audits list ----

def test_metadata_of_a_create_and_an_update_lands_in_their_audits(zd, zenpy, agent_id):
    created = post_ticket(zd, zenpy, {"subject": "s", "comment": {"body": "hi"},
                                      "metadata": {"zsc": {"key": "create-1"}}}).json()
    ticket_id = created["ticket"]["id"]
    assert created["audit"]["metadata"]["custom"] == {"zsc": {"key": "create-1"}}
    session = zenpy.tickets.session
    # Inside "ticket" (as Zendesk documents it) and at the top level: both are kept.
    session.put(f"{zd.url}/api/v2/tickets/{ticket_id}.json",
                json={"ticket": {"comment": {"body": "a"}, "metadata": {"zsc": {"key": "c-2"}}}}, timeout=5)
    session.put(f"{zd.url}/api/v2/tickets/{ticket_id}.json",
                json={"ticket": {"comment": {"body": "b"}}, "metadata": {"zsc": {"key": "c-3"}}}, timeout=5)
    session.put(f"{zd.url}/api/v2/tickets/{ticket_id}.json",
                json={"ticket": {"status": "open"}, "metadata": {"zsc": {"key": "opened"}}}, timeout=5)
    # An update that changes nothing makes no audit: its metadata is lost.
    session.put(f"{zd.url}/api/v2/tickets/{ticket_id}.json",
                json={"ticket": {"status": "open"}, "metadata": {"zsc": {"key": "noop"}}}, timeout=5)

    audits = list(zenpy.tickets.audits(ticket=ticket_id))
    keys = [(a.metadata.custom or {}).get("zsc", {}).get("key") for a in audits]
    assert keys == ["create-1", "c-2", "c-3", "opened"]
    comment_events = [[e for e in a.events if e["type"] == "Comment"] for a in audits[:3]]
    comment_ids = [c["id"] for c in zd.comments(ticket_id)]
    assert [events[0]["id"] for events in comment_events] == comment_ids
    assert all(a.ticket_id == ticket_id and a.author_id == agent_id for a in audits)
    assert audits[0].metadata.system.ip_address == "127.0.0.1"
    assert "metadata" not in zd.ticket(ticket_id)  # write-only on the ticket


def test_audits_page_by_offset_and_by_cursor(zd, zenpy, agent_id):
    ticket = new_ticket(zenpy)
    for i in range(4):
        zd.agent_comment(ticket.id, agent_id, f"c{i}")
    session, url = zenpy.tickets.session, f"{zd.url}/api/v2/tickets/{ticket.id}/audits.json"

    first = session.get(url, params={"per_page": 2}, timeout=5).json()
    assert (len(first["audits"]), first["count"]) == (2, 5) and first["next_page"]
    second = session.get(first["next_page"], timeout=5).json()
    assert second["audits"][0]["id"] > first["audits"][-1]["id"]

    by_cursor = session.get(url, params={"page[size]": 3}, timeout=5).json()
    assert len(by_cursor["audits"]) == 3 and by_cursor["meta"]["has_more"]
    rest = session.get(by_cursor["links"]["next"], timeout=5).json()
    assert len(rest["audits"]) == 2 and not rest["meta"]["has_more"]


def test_audits_of_an_unknown_ticket(zd, zenpy):
    resp = zenpy.tickets.session.get(f"{zd.url}/api/v2/tickets/999/audits.json", timeout=5)
    assert resp.status_code == 404 and resp.json()["error"] == "RecordNotFound"


# ---- tickets moving between groups ----

def test_an_agent_moves_a_ticket_to_another_group(zd, zenpy, agent_id):
    with freeze_time(T0) as clock:
        zoe = zd.add_agent("Zoe", "zoe@example.com")
        support = zd.add_group("Support", agent_ids=[agent_id, zoe])
        billing = zd.add_group("Billing", agent_ids=[agent_id])
        ticket = new_ticket(zenpy, group_id=support, assignee_id=zoe)
        clock.tick(timedelta(minutes=5))
        zd.move_to_group(ticket.id, billing, author_id=agent_id)
        moved_at = T0 + timedelta(minutes=5)

        after = zenpy.tickets(id=ticket.id)
        assert (after.group_id, after.assignee_id) == (billing, None)  # Zoe is not in Billing
        assert after.updated_at == moved_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        last = zd.audits(ticket.id)[-1]
        assert last["via"]["channel"] == "web" and last["author_id"] == agent_id
        changes = {e["field_name"]: (e["previous_value"], e["value"]) for e in last["events"]}
        assert changes == {"group_id": (support, billing), "assignee_id": (zoe, None)}

        clock.tick(timedelta(minutes=2))
        exported = list(zenpy.tickets.incremental(start_time=ts(T0) - 60))
        assert [(t.id, t.group_id) for t in exported] == [(ticket.id, billing)]


def test_moving_keeps_an_assignee_who_is_in_the_new_group(zd, zenpy, agent_id):
    support = zd.add_group("Support", agent_ids=[agent_id])
    billing = zd.add_group("Billing", agent_ids=[agent_id])
    ticket = new_ticket(zenpy, group_id=support, assignee_id=agent_id)
    zd.move_to_group(ticket.id, billing)
    assert (zd.ticket(ticket.id)["group_id"], zd.ticket(ticket.id)["assignee_id"]) == (billing, agent_id)


@pytest.mark.parametrize("where", ["ticket", "top"])
def test_metadata_must_be_an_object(zd, zenpy, where):
    ticket = {"subject": "s", "comment": {"body": "hi"}}
    body = {"ticket": {**ticket, "metadata": "nope"}} if where == "ticket" else {"ticket": ticket, "metadata": 3}
    resp = zenpy.tickets.session.post(f"{zd.url}/api/v2/tickets.json", json=body, timeout=5)
    assert resp.status_code == 422
