"""The in-process fakes (tests/fakes.py) answer like the real adapters: the state
machine's verdicts are only worth as much as these semantics."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.fakes import BEFORE, CRASH, CRASH_BEFORE, LOST_ANSWER, Crash, FakeSlack, FakeZendesk, Faults
from zsc.errors import Ambiguous, NotFound, Rejected, Unavailable
from zsc.simulator.slack_model import SlackWorkspace
from zsc.simulator.zendesk_model import Desk
from zsc.sync.followup import is_closed_rejection


@pytest.fixture
def slack():
    ws = SlackWorkspace()
    ws.add_channel("C1", "support")
    ws.add_user("UANN", "ann", email="ann@example.com", real_name="Ann Example")
    return FakeSlack(ws)


@pytest.fixture
def zendesk():
    desk = Desk()
    bot = desk.add_user("Support Bot", "bot@example.com", "agent")
    return FakeZendesk(desk, bot.id)


def test_slack_history_replies_and_the_tag_of_a_post(slack):
    ws = slack.ws
    first = ws.post("C1", "UANN", "one")["ts"]
    second = ws.post("C1", "UANN", "two")["ts"]
    reply = slack.post("C1", "on it", thread_ts=first, ref="confirm:7")
    assert [m.ts for m in slack.history("C1")] == [first, second]  # oldest first
    assert [m.ts for m in slack.history("C1", oldest=first)] == [second]  # oldest is exclusive
    replies = slack.replies("C1", first)
    assert [m.ts for m in replies] == [reply]  # the parent is not a reply
    assert replies[0].zsc_ref == "confirm:7" and replies[0].from_zsc
    assert slack.replies("C1", first, oldest=reply) == []
    assert slack.history("C1")[0].reply_count == 1
    person = slack.user("UANN")
    assert (person.name, person.email) == ("Ann Example", "ann@example.com")


def test_slack_refusals_are_the_adapters_errors(slack):
    with pytest.raises(NotFound, match="channel CNOPE does not exist"):
        slack.history("CNOPE")
    with pytest.raises(Rejected, match="thread_not_found"):
        slack.post("C1", "x", thread_ts="1.000001")


def test_zendesk_create_is_idempotent_and_comments_come_back_as_records(zendesk):
    args = dict(subject="Help", body="broken", requester={"name": "Ann", "email": "ann@example.com"},
                assignee_id=zendesk.actor_id, group_id=None, external_id="slack:C1:1.0", tags=["zsc"],
                idempotency_key="k1")
    ticket_id, comment_id = zendesk.create_ticket(**args)
    assert zendesk.create_ticket(**args) == (ticket_id, comment_id)  # a repeat answers the first result
    assert len(zendesk.desk.tickets) == 1
    assert [t.id for t in zendesk.tickets_by_external_id("slack:C1:1.0")] == [ticket_id]
    new = zendesk.add_comment(ticket_id, "more", public=True, status="pending")
    comments = zendesk.comments(ticket_id)
    assert [(c.id, c.body, c.via_channel) for c in comments] == [(comment_id, "broken", "api"), (new, "more", "api")]
    assert zendesk.ticket(ticket_id).status == "pending"
    assert zendesk.find_user("ANN@example.com").name == "Ann"


def test_zendesk_closed_ticket_and_missing_ticket(zendesk):
    ticket_id, _ = zendesk.create_ticket(subject="s", body="b", requester={"id": zendesk.actor_id}, assignee_id=None,
                                         group_id=None, external_id="e", tags=[], idempotency_key="k")
    zendesk.desk.update_ticket(ticket_id, -1, "rule", {"status": "closed"})
    with pytest.raises(Rejected) as refused:
        zendesk.add_comment(ticket_id, "late", public=True)
    assert is_closed_rejection(refused.value)  # what the sync's follow-up path looks for
    with pytest.raises(NotFound):
        zendesk.comments(999)


def test_zendesk_export_hides_the_last_minute(zendesk):
    with freeze_time("2026-03-02 10:00:00") as clock:
        zendesk.create_ticket(subject="s", body="b", requester={"id": zendesk.actor_id}, assignee_id=None,
                              group_id=None, external_id="e", tags=[], idempotency_key="k")
        start = int(clock().timestamp()) - 60
        assert zendesk.export_page(start_time=start)[0] == []
        clock.tick(61)
        tickets, cursor, end = zendesk.export_page(start_time=start)
        assert [t.external_id for t in tickets] == ["e"] and end
        assert zendesk.export_page(cursor=cursor)[0] == []


@pytest.mark.parametrize("mode,error,applied", [(BEFORE, Ambiguous, False), (LOST_ANSWER, Ambiguous, True),
                                                (CRASH_BEFORE, Crash, False), (CRASH, Crash, True)])
def test_a_fault_fires_once_before_or_after_the_effect(slack, mode, error, applied):
    slack.faults.arm("slack.post", mode)
    with pytest.raises(error):
        slack.post("C1", "hello")
    assert len(slack.ws.messages("C1")) == (1 if applied else 0)
    slack.post("C1", "again")  # fired once
    assert slack.faults.fired == [("slack.post", mode)]


def test_a_read_fault_is_unavailable_and_the_nth_write_counts_writes_only(slack):
    faults = slack.faults
    faults.arm("slack.history", BEFORE)
    with pytest.raises(Unavailable):
        slack.history("C1")
    faults.arm_write(2, LOST_ANSWER)
    slack.post("C1", "first")
    slack.history("C1")  # reads do not count
    with pytest.raises(Ambiguous):
        slack.post("C1", "second")
    slack.post("C1", "third")
    assert [m["text"] for m in slack.ws.messages("C1")] == ["first", "second", "third"]
    with pytest.raises(ValueError):
        Faults().arm("slack.post", "sometimes")
