"""`zsc check-missing`: each kind of gap is found, `--fix` closes it through the sync
paths without writing anything twice, `--json` for machines, exit codes."""

from __future__ import annotations

import json
from contextlib import contextmanager

from freezegun import freeze_time

from tests.flow.world import CHANNEL
from zsc.store import TO_SLACK, Issue, opened
from zsc.store.models import Intent, MirroredItem


@contextmanager
def store(world):
    with opened(f"sqlite:///{world.tmp}/zsc.db") as s:
        yield s


def check(world, *args: str):
    return world.zsc("check-missing", *args)


def gaps(world, *args: str) -> dict:
    result = check(world, "--json", *args)
    data = json.loads(result.stdout)
    data["exit_code"] = result.exit_code
    return data


def kinds(data: dict, key: str = "missing") -> list[str]:
    return [g["kind"] for g in data[key]]


def open_issue(world, text: str = "The VPN is down") -> tuple[str, dict]:
    world.sync()  # first run: the start position is now
    ts = world.ask(text)
    assert world.sync().exit_code == 0
    return ts, world.only_ticket()


def assert_fixed_once(world) -> None:
    """A second --fix finds nothing and writes nothing."""
    before = world.writes()
    again = check(world, "--fix")
    assert again.exit_code == 0, again.output
    assert world.writes() == before


# ---------------------------------------------------------------- clean

def test_clean_exits_0(world):
    ts, ticket = open_issue(world)
    world.reply(ts, "more detail")
    world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "Looking")
    world.sync()
    result = check(world)
    assert result.exit_code == 0, result.output
    assert "nothing missing" in result.output
    data = gaps(world)
    assert data["exit_code"] == 0 and data["missing"] == [] and set(data["counts"].values()) == {0}


# ---------------------------------------------------------------- Slack side

def test_messages_posted_while_zsc_was_down_are_found_and_fixed_once(world):
    early = world.ask("Posted before zsc started")
    reply = world.reply(early, "and a reply to it", user="UCAT")
    world.ask("zsc's own kind of noise", user=None, subtype="channel_join")  # not a person's content
    world.sync()  # starts now: the two messages above are older
    assert world.tickets() == []

    data = gaps(world)
    assert data["exit_code"] == 1
    assert [(g["kind"], g["ts"]) for g in data["missing"]] == [("no_ticket", early), ("reply", reply)]
    assert data["missing"][0]["link"] == f"https://sim.slack.com/archives/{CHANNEL}/p{early.replace('.', '')}"
    assert data["counts"]["no_ticket"] == 1 and data["counts"]["reply"] == 1

    table = check(world)
    assert table.exit_code == 1
    assert "no ticket" in table.output and f"{CHANNEL}/{early}" in table.output

    fixed = check(world, "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "After --fix: nothing missing." in fixed.output
    ticket = world.only_ticket()
    assert ticket["external_id"] == f"slack:{CHANNEL}:{early}"
    assert [c["body"] for c in world.comments(ticket["id"]) if c["public"]][-1] == "Cat (Slack): and a reply to it"
    assert len(world.bot_texts(early)) == 1  # one confirmation
    assert_fixed_once(world)


def test_a_skipped_reply_is_mirrored(world):
    ts, ticket = open_issue(world)
    reply = world.reply(ts, "it is back")
    with store(world):  # the thread cursor moved past the reply without mirroring it
        Issue.update(slack_reply_cursor=reply).execute()
    world.sync()
    assert len(world.comments(ticket["id"])) == 2  # description and the Slack-link note

    data = gaps(world)
    assert [(g["kind"], g["ts"], g["ticket_id"]) for g in data["missing"]] == [("reply", reply, ticket["id"])]
    assert gaps(world, "--fix")["remaining"] == []
    assert world.comments(ticket["id"])[-1]["body"] == "it is back"
    assert_fixed_once(world)


def test_a_lost_record_of_a_mirrored_reply_is_recorded_not_reposted(world):
    ts, ticket = open_issue(world)
    reply = world.reply(ts, "thanks")
    world.sync()
    comments = len(world.comments(ticket["id"]))
    with store(world):  # e.g. the store was restored from an older backup
        MirroredItem.delete().where(MirroredItem.slack_ts == reply).execute()

    # Both directions see it: the reply looks unmirrored, and zsc's comment looks like
    # one from Zendesk that was never posted (the sync would echo it into the thread).
    assert kinds(gaps(world)) == ["reply", "comment"]
    data = gaps(world, "--fix")
    assert data["exit_code"] == 0 and data["remaining"] == []
    assert len(world.comments(ticket["id"])) == comments  # found on the ticket, not written again
    assert not any("thanks" in t for t in world.bot_texts(ts))  # and not echoed back
    with store(world) as s:
        assert s.slack_item(CHANNEL, reply).zendesk_comment_id == world.comments(ticket["id"])[-1]["id"]
        assert Intent.select().count() == 0  # no marks left behind


def test_a_lost_issue_comes_back_without_a_second_ticket_or_post(world):
    ts, ticket = open_issue(world)
    world.reply(ts, "details")
    world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "On it")
    world.sync()
    bot_posts, comments = len(world.bot_texts(ts)), len(world.comments(ticket["id"]))
    with store(world):
        Issue.delete().execute()  # and with it every record of what was mirrored

    data = gaps(world)
    assert kinds(data) == ["no_ticket", "reply"]
    assert data["missing"][0]["detail"] == f"ticket #{ticket['id']} exists but the store has no record of it"
    fixed = gaps(world, "--fix")
    assert fixed["exit_code"] == 0 and fixed["remaining"] == []
    assert len(world.tickets()) == 1
    assert len(world.bot_texts(ts)) == bot_posts and len(world.comments(ticket["id"])) == comments
    with store(world) as s:
        assert s.issue_by_thread(CHANNEL, ts).ticket_id == ticket["id"]
    assert_fixed_once(world)


# ---------------------------------------------------------------- Zendesk side

def skip_ticket_changes(world, ticket_id: int) -> None:
    """As if the poll had passed the ticket's latest change without acting on it."""
    with store(world):
        Issue.update(zendesk_updated_at=world.sim.zendesk.ticket(ticket_id)["updated_at"]).execute()


def test_a_skipped_public_comment_is_posted_in_the_thread(world):
    ts, ticket = open_issue(world)
    comment = world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "Please restart")
    world.sim.zendesk.internal_note(ticket["id"], world.other_agent, "internal: never shown")
    skip_ticket_changes(world, ticket["id"])
    world.sync()
    assert not any("restart" in t for t in world.bot_texts(ts))

    data = gaps(world)
    assert [(g["kind"], g["comment_id"]) for g in data["missing"]] == [("comment", comment)]
    assert gaps(world, "--fix")["remaining"] == []
    texts = world.bot_texts(ts)
    assert sum("Please restart" in t for t in texts) == 1 and not any("internal" in t for t in texts)
    assert_fixed_once(world)


def test_a_lost_record_of_a_posted_comment_is_found_in_the_thread(world):
    ts, ticket = open_issue(world)
    world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "Please restart")
    world.sync()
    posts = len(world.bot_texts(ts))
    with store(world):
        MirroredItem.delete().where((MirroredItem.direction == TO_SLACK) & (MirroredItem.kind == "comment")).execute()

    assert kinds(gaps(world)) == ["comment"]
    assert gaps(world, "--fix")["remaining"] == []
    assert len(world.bot_texts(ts)) == posts


def test_a_status_that_differs_is_followed(world):
    ts, ticket = open_issue(world)
    world.sim.zendesk.solve(ticket["id"])
    skip_ticket_changes(world, ticket["id"])
    world.sync()

    data = gaps(world)
    (gap,) = data["missing"]
    assert gap["kind"] == "status" and gap["detail"].endswith(", Zendesk solved")
    assert gaps(world, "--fix")["remaining"] == []
    with store(world) as s:
        assert s.issue_by_ticket(ticket["id"]).status == "solved"
    assert sum("marked solved" in t for t in world.bot_texts(ts)) == 1
    assert_fixed_once(world)


def test_an_email_from_before_the_start_gets_its_thread(world):
    with freeze_time("2026-03-02 10:00:00", tick=True) as clock:
        ticket_id = world.sim.zendesk.receive_email("Dee", "dee@example.org", "Printer", "It jams",
                                                    group_id=world.group_id)
        other_group = world.sim.zendesk.receive_email("Eve", "eve@example.org", "Other", "Not ours")
        clock.tick(120)  # past the export's one-minute lag
        world.sync()  # starts after the emails came in: they are not posted
        assert world.sim.slack.messages(CHANNEL) == []

        data = gaps(world)
        assert [(g["kind"], g["ticket_id"]) for g in data["missing"]] == [("email", ticket_id)]
        assert other_group not in [g.get("ticket_id") for g in data["missing"]]
        fixed = gaps(world, "--fix")
        assert fixed["exit_code"] == 0 and fixed["remaining"] == [], fixed
        (top,) = world.sim.slack.messages(CHANNEL)
        assert "Printer" in top["text"]
        with store(world) as s:
            assert s.issue_by_ticket(ticket_id).thread_ts == top["ts"]


# ---------------------------------------------------------------- scale and rate limits

def test_a_long_scan_on_the_limited_tier_with_rate_limits_misses_nothing(world):
    world.sim.slack.page_size_cap = 15  # Slack's tier for non-Marketplace apps
    posted = [world.ask(f"question {n}") for n in range(40)]
    world.sync()
    world.sim.reset_calls()
    world.sim.slack.inject("conversations.history", "429", times=2, retry_after=1)
    data = gaps(world)
    assert data["exit_code"] == 1
    assert [g["ts"] for g in data["missing"]] == posted and set(kinds(data)) == {"no_ticket"}
    assert world.sim.slack.calls["conversations.history"] == 3 + 2  # 40 messages in pages of 15, two refusals


def test_days_must_be_positive(world):
    result = check(world, "--days", "0")
    assert result.exit_code == 2 and "--days" in result.output and "Traceback" not in result.output


def test_fix_refuses_to_race_a_running_daemon(world):
    from zsc.locks import leader_lock

    world.sync()
    lock = leader_lock(f"sqlite:///{world.tmp}/zsc.db")
    assert lock.try_acquire()
    try:
        result = check(world, "--fix")
    finally:
        lock.release()
    assert result.exit_code == 1 and "--fix would race it" in result.output


# ---------------------------------------------------------------- beside a running daemon

def test_items_younger_than_a_poll_interval_are_left_out_while_a_daemon_runs(world):
    """Issue 9: what a running daemon has not polled yet is its work, not a gap."""
    with freeze_time("2026-03-02 10:00:00", tick=True) as clock:
        world.write_config(slack_interval=60, zendesk_interval=120)
        ts, ticket = open_issue(world)
        fresh = world.ask("Just posted")
        comment = world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "Just answered")
        with store(world) as s:
            s.set_leader({"host": "elsewhere", "pid": 4242, "since": "2026-03-02T09:00:00Z"})

        data = gaps(world)
        assert data["missing"] == [] and data["too_recent"] == 2 and data["exit_code"] == 0
        assert "Left out 2 item(s) newer than one poll interval" in check(world).output

        clock.tick(90)  # older than Slack's interval, not yet than Zendesk's
        data = gaps(world)
        assert [(g["kind"], g.get("ts")) for g in data["missing"]] == [("no_ticket", fresh)]
        assert data["too_recent"] == 1

        clock.tick(60)
        data = gaps(world)
        assert sorted((g["kind"], g.get("ts") or g.get("comment_id")) for g in data["missing"]) == [
            ("comment", comment), ("no_ticket", fresh)]
        assert data["too_recent"] == 0


def test_nothing_is_left_out_once_the_daemon_said_it_stopped(world):
    ts, ticket = open_issue(world)
    fresh = world.ask("Just posted")
    with store(world) as s:
        s.set_leader({"host": "elsewhere", "pid": 4242, "since": "2026-03-02T09:00:00Z"})
        s.clear_leader("elsewhere", 4242)
    data = gaps(world)
    assert [(g["kind"], g["ts"]) for g in data["missing"]] == [("no_ticket", fresh)]
    assert data["too_recent"] == 0
