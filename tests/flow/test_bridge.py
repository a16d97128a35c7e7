"""The core bridge, driven through `zsc sync-once` against the simulator."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.flow.world import CHANNEL
from zsc import store as st


def open_issue(world, text="The VPN is down\nsince this morning", user="UANN"):
    world.sync()  # first run: start position = now
    ts = world.ask(text, user=user)
    result = world.sync()
    assert result.exit_code == 0, result.output
    return ts, world.only_ticket()


def test_new_message_opens_a_ticket_with_link_and_confirmation(world):
    ts, ticket = open_issue(world, "Printer *on fire* <@UBOB> :fire: see <https://wiki.example.com|wiki>\nsecond line")
    assert ticket["subject"] == "Printer on fire @Bob 🔥 see wiki (https://wiki.example.com)"
    assert ticket["external_id"] == f"slack:{CHANNEL}:{ts}"
    assert ticket["group_id"] == world.group_id and ticket["assignee_id"] == world.agent_id
    assert "zsc" in ticket["tags"]
    requester = world.sim.zendesk.user(ticket["requester_id"])
    assert requester["email"] == "ann@example.com"
    comments = world.comments(ticket["id"])
    assert "second line" in comments[0]["body"] and comments[0]["public"]
    note = comments[1]
    assert not note["public"] and f"https://sim.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}" in note["body"]
    replies = world.bot_texts(ts)
    assert len(replies) == 1 and f"/agent/tickets/{ticket['id']}|#{ticket['id']}>" in replies[0]


def test_requester_found_not_duplicated(world):
    existing = world.sim.zendesk.add_user("Ann Example", "ann@example.com")
    _, ticket = open_issue(world)
    assert ticket["requester_id"] == existing


def test_person_without_email_falls_back_to_agent(world):
    _, ticket = open_issue(world, "no email here", user="UBOB")
    assert ticket["requester_id"] == world.agent_id
    assert "Raised in Slack by Bob" in world.comments(ticket["id"])[0]["body"]


def test_requester_from_slack_off_makes_agent_requester(world):
    world.write_config(extra='')
    text = world.config_path.read_text().replace('group_id =', 'requester_from_slack = false\ngroup_id =')
    world.config_path.write_text(text)
    _, ticket = open_issue(world)
    assert ticket["requester_id"] == world.agent_id
    assert world.sim.zendesk.find_user("ann@example.com") is None


def test_second_run_makes_zero_writes(world):
    ts, ticket = open_issue(world)
    world.reply(ts, "more info")
    world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "On it")
    assert world.sync().exit_code == 0
    before = world.writes()
    result = world.sync()
    assert result.exit_code == 0 and world.writes() == before
    assert "nothing to do" in result.output


def test_thread_reply_becomes_comment_by_the_person(world):
    ts, ticket = open_issue(world)
    world.reply(ts, "It started at 9:00 :thinking_face:")
    world.sync()
    last = world.comments(ticket["id"])[-1]
    assert last["body"] == "It started at 9:00 🤔" and last["public"]
    assert last["author_id"] == ticket["requester_id"]


def test_reply_by_someone_not_in_zendesk_is_written_by_the_agent(world):
    ts, ticket = open_issue(world)
    world.reply(ts, "same here", user="UBOB")
    world.sync()
    last = world.comments(ticket["id"])[-1]
    assert last["author_id"] == world.agent_id and last["body"] == "Bob (Slack): same here"


def test_files_carry_names_and_links(world):
    ts, ticket = open_issue(world)
    world.reply(ts, "screenshot attached", files=[{"name": "error.png", "permalink": "https://sim.slack.com/files/F1"}])
    world.sync()
    body = world.comments(ticket["id"])[-1]["body"]
    assert "error.png" in body and "https://sim.slack.com/files/F1" in body


def test_public_comment_reaches_the_thread_internal_note_never(world):
    ts, ticket = open_issue(world)
    world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "Please **restart** it")
    world.sim.zendesk.internal_note(ticket["id"], world.other_agent, "secret internal note")
    world.sync()
    texts = world.bot_texts(ts)
    assert texts[-1] == "*Zoe Agent* (Zendesk): Please *restart* it"
    assert not any("secret internal note" in t for t in texts)


def test_zendesk_text_cannot_ping(world):
    ts, ticket = open_issue(world)
    world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "@channel <!here> @everyone <@UANN> hi")
    world.sync()
    text = world.bot_texts(ts)[-1]
    assert "<!here>" not in text and "<@UANN>" not in text
    for word in ("@channel", "@everyone"):
        assert word not in text  # broken by an invisible character
    assert "&lt;!\u200bhere&gt;" in text


def test_solve_in_zendesk_is_announced_once_and_closes_issue(world):
    ts, ticket = open_issue(world)
    world.sim.zendesk.solve(ticket["id"], world.other_agent)
    world.sync()
    world.sim.zendesk.close(ticket["id"])
    world.sync()
    notices = [t for t in world.bot_texts(ts) if "marked" in t]
    assert len(notices) == 1 and "solved" in notices[0]
    issue = st.Issue.get(st.Issue.ticket_id == ticket["id"])
    assert issue.status == "closed" and issue.closed_at is not None


def test_reply_after_solve_reopens(world):
    ts, ticket = open_issue(world)
    world.sim.zendesk.solve(ticket["id"], world.other_agent)
    world.sync()
    world.reply(ts, "still broken", user="UBOB")  # Bob is not in Zendesk: the agent writes it
    world.sync()
    assert world.sim.zendesk.ticket(ticket["id"])["status"] == "open"
    issue = st.Issue.get(st.Issue.ticket_id == ticket["id"])
    assert issue.status == "open" and issue.closed_at is None


def test_reply_after_close_opens_a_follow_up(world):
    ts, ticket = open_issue(world)
    world.sim.zendesk.close(ticket["id"])
    world.sync()
    world.reply(ts, "it broke again")
    world.sync()
    tickets = world.tickets()
    assert len(tickets) == 2
    follow = tickets[1]
    assert "it broke again" in world.comments(follow["id"])[0]["body"]
    assert f"#{ticket['id']}" in follow["subject"]
    assert any("follow-up" in t for t in world.bot_texts(ts))
    issue = st.Issue.get(st.Issue.thread_ts == ts)
    assert issue.ticket_id == follow["id"] and issue.followup_of == ticket["id"]


# ---------------------------------------------------------------- filters

def test_only_the_configured_channel(world):
    world.sync()
    world.sim.slack.post("COTHER", "UANN", "not a support request")
    world.sync()
    assert world.tickets() == []


@pytest.mark.parametrize("subtype", ["channel_join", "channel_leave", "channel_topic", "channel_purpose"])
def test_housekeeping_subtypes_are_ignored(world, subtype):
    world.sync()
    world.sim.slack.post(CHANNEL, "UANN", "joined", subtype=subtype)
    world.sync()
    assert world.tickets() == []


def test_bots_only_when_allowed(world):
    world.sync()
    world.sim.slack.post(CHANNEL, None, "alert from grafana", subtype="bot_message", bot_id="BGRAFANA")
    world.sync()
    assert world.tickets() == []
    text = world.config_path.read_text().replace('api_url = "http', 'allowed_bot_ids = ["BGRAFANA"]\napi_url = "http', 1)
    world.config_path.write_text(text)
    world.sim.slack.post(CHANNEL, None, "second alert", subtype="bot_message", bot_id="BGRAFANA")
    world.sync()
    assert [t["subject"] for t in world.tickets()] == ["second alert"]


def test_own_posts_never_mirrored(world):
    ts, ticket = open_issue(world)
    comments_before = len(world.comments(ticket["id"]))
    world.sync()
    # the confirmation zsc posted in the thread did not come back as a comment
    assert len(world.comments(ticket["id"])) == comments_before
    assert len(world.tickets()) == 1


def test_messages_before_first_run_are_not_mirrored(world):
    world.ask("old message")
    world.sync()
    assert world.tickets() == []


def test_since_picks_up_older_messages(world):
    with freeze_time("2026-11-20 10:00:00", tick=True):
        world.ask("asked while zsc was not installed")
    with freeze_time("2026-11-24 10:00:00", tick=True):
        result = world.sync("--since", "2026-11-19")
    assert result.exit_code == 0
    assert [t["subject"] for t in world.tickets()] == ["asked while zsc was not installed"]


# ---------------------------------------------------------------- dry run and exit codes

def test_dry_run_writes_nothing_anywhere(world):
    world.sync()
    ts = world.ask("dry run please")
    calls = dict(world.sim.slack.calls)
    result = world.sync("--dry-run")
    assert result.exit_code == 0
    assert "would create a Zendesk ticket: dry run please" in result.output
    assert "would post in Slack" in result.output
    assert world.tickets() == [] and world.bot_texts(ts) == []
    assert world.sim.slack.calls["chat.postMessage"] == calls.get("chat.postMessage", 0)
    result = world.sync()  # the real run still sees the message
    assert len(world.tickets()) == 1


def test_dry_run_creates_no_database(world, tmp_path):
    result = world.sync("--dry-run")
    assert result.exit_code == 0
    assert not (tmp_path / "zsc.db").exists()


def test_failed_item_exits_1_and_is_retried(world):
    world.sync()
    ts = world.ask("will fail once")
    world.sim.zendesk.inject("tickets.create", "500", times=10)
    result = world.sync()
    assert result.exit_code == 1
    assert f"Slack {CHANNEL}/{ts}" in result.stderr
    world.sim.clear_faults()
    assert world.sync().exit_code == 0
    assert len(world.tickets()) == 1


def test_revoked_slack_token_is_one_line(world):
    world.sync()
    world.sim.slack.revoke_token()
    result = world.sync()
    assert result.exit_code == 1
    assert "token was refused" in result.stderr and "zsc auth slack" in result.stderr
    assert "Traceback" not in result.output
    assert "xoxb-sim-token" not in result.output


def test_unknown_channel_is_named(world):
    text = world.config_path.read_text().replace(f'channel = "{CHANNEL}"', 'channel = "CNOPE"')
    world.config_path.write_text(text)
    result = world.sync()
    assert result.exit_code == 1
    assert "[slack] channel" in result.stderr and "Traceback" not in result.output


def test_bad_config_exits_2(world):
    world.config_path.write_text(world.config_path.read_text().replace("[sync]", "[sync]\nslack_intervall = 3"))
    result = world.sync()
    assert result.exit_code == 2
    assert "slack_intervall" in result.stderr and "slack_interval" in result.stderr


def test_reply_in_a_thread_older_than_the_window_is_still_mirrored(world):
    """Open threads older than [sync] thread_window_days are outside the history read;
    they are asked for replies directly, a few per cycle."""
    from datetime import datetime, timedelta, timezone

    start = datetime.now(timezone.utc) - timedelta(days=30)
    with freeze_time(start, tick=True):
        ts, _ = open_issue(world, "a long-running problem")
    ticket = world.tickets()[0]
    world.ask("a new question today")  # the channel moved on: the history read starts today
    world.sync()
    world.reply(ts, "still happening a month later")
    assert world.sync().exit_code == 0
    assert world.comments(ticket["id"])[-1]["body"] == "still happening a month later"
    history_calls = world.sim.slack.calls["conversations.history"]
    world.sync()
    assert world.sim.slack.calls["conversations.history"] == history_calls + 1  # one page, not a month of them


def test_ticket_deleted_in_zendesk_is_announced_and_a_reply_opens_a_new_one(world):
    ts, ticket = open_issue(world)
    world.sim.zendesk.delete(ticket["id"])
    assert world.sync().exit_code == 0  # the export's "deleted" ticket holds nothing up
    notices = [t for t in world.bot_texts(ts) if "deleted in Zendesk" in t]
    assert len(notices) == 1
    assert st.Issue.get(st.Issue.thread_ts == ts).status == "deleted"
    assert world.sync().exit_code == 0
    assert len([t for t in world.bot_texts(ts) if "deleted in Zendesk" in t]) == 1
    world.reply(ts, "it is back", user="UBOB")
    assert world.sync().exit_code == 0
    issue = st.Issue.get(st.Issue.thread_ts == ts)
    assert issue.ticket_id != ticket["id"] and issue.followup_of == ticket["id"] and issue.is_open
    assert world.comments(issue.ticket_id)[0]["body"].startswith("Bob (Slack): it is back")
