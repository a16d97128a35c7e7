"""The Slack and Zendesk models work in-process, without HTTP."""

import pytest
from freezegun import freeze_time

from zsc.simulator.slack_model import SlackError, SlackWorkspace
from zsc.simulator.zendesk_model import Desk
from zsc.simulator.zendesk_records import ApiError


def test_slack_workspace_posts_pages_history_and_replies():
    ws = SlackWorkspace()
    ws.add_channel("C1", "support")
    ws.add_user("UANN", "ann", email="ann@example.com", real_name="Ann")
    parents = [ws.post("C1", "UANN", f"q{i}")["ts"] for i in range(3)]
    reply = ws.post_as_bot("C1", "on it", thread_ts=parents[0])

    first = ws.history("C1", limit=2)
    assert [m["ts"] for m in first["messages"]] == parents[:0:-1]
    rest = ws.history("C1", limit=2, cursor=first["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in rest["messages"]] == [parents[0]] and rest["has_more"] is False
    assert rest["messages"][0]["reply_count"] == 1

    thread = ws.replies("C1", parents[0])["messages"]
    assert [m["ts"] for m in thread] == [parents[0], reply["ts"]]
    assert reply["bot_id"] == ws.bot_id
    assert ws.user_info("UANN")["profile"]["email"] == "ann@example.com"
    assert "email" not in ws.user_info("UANN", include_email=False)["profile"]


def test_slack_workspace_refuses_in_slacks_words():
    ws = SlackWorkspace()
    ws.add_channel("C1", "support", bot_is_member=False)
    for call, error in [(lambda: ws.history("C1"), "not_in_channel"), (lambda: ws.history("CNOPE"), "channel_not_found"),
                        (lambda: ws.user_info("UNOPE"), "user_not_found"),
                        (lambda: ws.post("C1", "U1", "x", thread_ts="1.000001"), "thread_not_found")]:
        with pytest.raises(SlackError) as exc:
            call()
        assert exc.value.error == error


def test_slack_ts_increase_under_a_frozen_clock():
    ws = SlackWorkspace()
    ws.add_channel("C1", "support")
    with freeze_time("2026-01-01 12:00:00"):
        a, b = ws.post("C1", "U1", "a")["ts"], ws.post("C1", "U1", "b")["ts"]
    assert (a, b) == ("1767268800.000000", "1767268800.000001")


def test_desk_creates_updates_and_exports_tickets():
    desk = Desk()
    agent = desk.add_user("Zoe", "zoe@example.com", "agent")
    with freeze_time("2026-01-01 12:00:00"):
        ticket, audit = desk.create_ticket(agent.id, "api", {"subject": "Hi", "comment": {"body": "broken"},
                                                             "requester": {"name": "Ann", "email": "ann@x.org"}})
        desk.update_ticket(ticket.id, agent.id, "api", {"comment": {"body": "on it"}, "status": "pending"})
    assert [c.body for c in desk.comments[ticket.id]] == ["broken", "on it"]
    assert desk.user(ticket.requester_id).email == "ann@x.org"
    with freeze_time("2026-01-01 12:02:00"):
        page = desk.export_tickets(start_time=0)
        events = desk.ticket_events(start_time=0, include_comments=True)
    assert [t["status"] for t in page["tickets"]] == ["pending"] and page["end_of_stream"]
    assert events["count"] == 2
    with pytest.raises(ApiError) as exc:
        desk.ticket(999)
    assert exc.value.status == 404


def test_slack_workspace_realism_in_process():
    ws = SlackWorkspace()
    ws.add_channel("C1", "support")
    ws.add_user("UEXT", "ext", real_name="Ext", external=True)
    parent = ws.post("C1", "UEXT", "q")["ts"]
    ws.post("C1", "UEXT", "r", thread_ts=parent, reply_broadcast=True)
    ws.react("C1", parent, "UBOT", "eyes")
    ws.delete("C1", parent)
    tomb, broadcast = ws.history("C1")["messages"][1], ws.history("C1")["messages"][0]
    assert (tomb["subtype"], tomb["reply_count"], "reactions" in tomb) == ("tombstone", 1, False)
    assert broadcast["subtype"] == "thread_broadcast" and broadcast["user_profile"]["real_name"] == "Ext"
    with pytest.raises(SlackError) as exc:
        ws.user_info("UEXT")
    assert exc.value.error == "user_not_found"


def test_desk_keeps_audit_metadata_and_renders_markdown_in_process():
    desk = Desk(render_markdown=True)
    agent = desk.add_user("Zoe", "zoe@example.com", "agent")
    ticket, audit = desk.create_ticket(agent.id, "api", {"subject": "s", "comment": {"body": "**hi**"}},
                                       metadata={"key": "k1"})
    assert desk.ticket_audits(ticket.id)[0].to_json()["metadata"]["custom"] == {"key": "k1"}
    (comment,) = desk.comments[ticket.id]
    assert (comment.body, comment.to_json()["plain_body"]) == ("**hi**", "hi")
