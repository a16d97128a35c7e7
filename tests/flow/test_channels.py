"""Several channels from one daemon ([[channels]]): each with its own Zendesk group
and tags; threads, comments and emailed tickets stay in their own channel; reaction
mode; status reactions. Driven through `zsc sync-once` against the simulator."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.flow.world import CHANNEL
from zsc import store as st

START = "2026-11-24 10:00:00"
PLATFORM = "CPLATFORM"


@pytest.fixture
def clock():
    with freeze_time(START, tick=True) as frozen:
        yield frozen


@pytest.fixture
def two(world):
    """[slack] channel CSUPPORT (group Support) plus [[channels]] CPLATFORM (group Platform)."""
    world.sim.slack.add_channel(PLATFORM, "platform")
    world.platform_group = world.sim.zendesk.add_group("Platform", agent_ids=[world.agent_id, world.other_agent])
    world.write_config(extra=f'[[channels]]\nid = "{PLATFORM}"\ngroup_id = {world.platform_group}\n'
                             'tags = ["platform", "infra"]\n')
    return world


def sync_ok(world):
    result = world.sync()
    assert result.exit_code == 0, result.output
    return result


def ticket_for(world, subject_start: str) -> dict:
    [ticket] = [t for t in world.tickets() if t["subject"].startswith(subject_start)]
    return ticket


def bot_texts(world, channel: str, ts: str) -> list[str]:
    return [m["text"] for m in world.sim.slack.thread(channel, ts) if m.get("bot_id")]


def test_two_channels_feed_two_groups_and_stay_in_their_threads(two, clock):
    world = two
    sync_ok(world)
    support_ts = world.ask("Printer jammed")
    platform_ts = world.sim.slack.post(PLATFORM, "UANN", "Kubernetes node down")
    sync_ok(world)
    support, platform = ticket_for(world, "Printer"), ticket_for(world, "Kubernetes")
    assert support["group_id"] == world.group_id and platform["group_id"] == world.platform_group
    assert set(platform["tags"]) >= {"zsc", "platform", "infra"} and "platform" not in support["tags"]
    assert st.Issue.get(st.Issue.ticket_id == platform["id"]).channel == PLATFORM

    # Replies go to their own thread's ticket; comments come back to their own thread.
    world.sim.slack.post(PLATFORM, "UANN", "all pods pending", thread_ts=platform_ts)
    world.reply(support_ts, "tray 2")
    world.sim.zendesk.agent_comment(platform["id"], world.other_agent, "Draining the node")
    world.sim.zendesk.agent_comment(support["id"], world.other_agent, "Sending someone")
    clock.tick(2)
    sync_ok(world)
    clock.tick(2)
    sync_ok(world)
    platform_bodies = [c["body"] for c in world.comments(platform["id"])]
    support_bodies = [c["body"] for c in world.comments(support["id"])]
    assert any("all pods pending" in b for b in platform_bodies) and not any("tray 2" in b for b in platform_bodies)
    assert any("tray 2" in b for b in support_bodies) and not any("pods" in b for b in support_bodies)
    assert any("Draining the node" in t for t in bot_texts(world, PLATFORM, platform_ts))
    assert not any("Draining the node" in t for t in bot_texts(world, CHANNEL, support_ts))
    assert any("Sending someone" in t for t in bot_texts(world, CHANNEL, support_ts))
    assert not any("Sending someone" in t for t in bot_texts(world, PLATFORM, platform_ts))
    # Nothing doubled by more cycles.
    writes = world.writes()
    clock.tick(2)
    sync_ok(world)
    assert world.writes() == writes and len(world.tickets()) == 2


def test_emailed_tickets_go_to_the_channel_of_their_group_only(two, clock):
    world = two
    billing = world.sim.zendesk.add_group("Billing", agent_ids=[world.other_agent])
    sync_ok(world)
    zd = world.sim.zendesk
    zd.receive_email("Dana", "dana@customer.test", "Cluster quota", "more CPUs please", group_id=world.platform_group)
    zd.receive_email("Eve", "eve@customer.test", "Toner", "out of toner", group_id=world.group_id)
    zd.receive_email("Finn", "finn@customer.test", "Invoice", "wrong amount", group_id=billing)
    clock.tick(61)
    sync_ok(world)
    platform_tops = [m["text"] for m in world.sim.slack.messages(PLATFORM)]
    support_tops = [m["text"] for m in world.sim.slack.messages(CHANNEL)]
    assert len(platform_tops) == 1 and "Cluster quota" in platform_tops[0]
    assert len(support_tops) == 1 and "Toner" in support_tops[0]
    assert not any("Invoice" in t for t in platform_tops + support_tops)  # no channel names Billing
    issue = st.Issue.get(st.Issue.ticket_id == ticket_for(world, "Cluster")["id"])
    assert issue.channel == PLATFORM and issue.origin == "email"


def test_the_group_boundary_is_per_channel(two, clock):
    """A platform ticket is inside the boundary in its own group, though not [zendesk] group_id's."""
    world = two
    sync_ok(world)
    ts = world.sim.slack.post(PLATFORM, "UANN", "DNS broken")
    sync_ok(world)
    ticket = ticket_for(world, "DNS")
    world.sim.zendesk.move_to_group(ticket["id"], world.group_id)  # moved to the other channel's group
    clock.tick(2)
    sync_ok(world)
    assert any("moved to another team" in t for t in bot_texts(world, PLATFORM, ts))


def test_status_lists_each_channel(two, clock):
    world = two
    sync_ok(world)
    world.sim.slack.post(PLATFORM, "UANN", "Disk full")
    sync_ok(world)
    import json

    data = json.loads(world.zsc("status", "--json").output)
    channels = {c["id"]: c for c in data["channels"]}
    assert set(channels) == {CHANNEL, PLATFORM}
    assert channels[PLATFORM]["group_id"] == world.platform_group and channels[PLATFORM]["open_issues"] == 1
    # Two channels every second would be 120 history calls a minute, over Slack's ~50: both stretch evenly.
    assert channels[CHANNEL]["open_issues"] == 0
    assert channels[CHANNEL]["interval"] == channels[PLATFORM]["interval"] == 3.0
    assert f"{PLATFORM}: group {world.platform_group}" in world.zsc("status").output


# ---------------------------------------------------------------- reaction mode

@pytest.fixture
def reacting(world):
    """CPLATFORM in reaction mode (:ticket:), besides [slack] channel in "all" mode."""
    world.sim.slack.add_channel(PLATFORM, "platform")
    world.sim.slack.add_user("UROBOT", "robot", real_name="Some Bot", is_bot=True)
    world.write_config(extra=f'[[channels]]\nid = "{PLATFORM}"\nmode = "reaction"\nreaction = "ticket"\n')
    return world


def test_reaction_mode_opens_one_ticket_only_when_a_person_reacts(reacting, clock):
    world = reacting
    sync_ok(world)
    ts = world.sim.slack.post(PLATFORM, "UANN", "Build cache corrupt?")
    world.sim.slack.post(PLATFORM, "UBOB", "same here since 9:00", thread_ts=ts)
    clock.tick(2)
    sync_ok(world)
    assert world.tickets() == []  # no reaction, no ticket

    world.sim.slack.react(PLATFORM, ts, "UROBOT", "ticket")  # a bot's reaction does not count
    world.sim.slack.react(PLATFORM, ts, "UCAT", "eyes")  # nor another emoji
    clock.tick(2)
    sync_ok(world)
    assert world.tickets() == []

    world.sim.slack.react(PLATFORM, ts, "UCAT", "ticket")
    clock.tick(2)
    sync_ok(world)
    ticket = world.only_ticket()
    requester = world.sim.zendesk.desk.users[ticket["requester_id"]]
    assert requester.email == "ann@example.com"  # the message's author asks, not the person who reacted
    comments = world.comments(ticket["id"])
    assert "Build cache corrupt?" in comments[0]["body"] and "same here since 9:00" in comments[0]["body"]
    notes = [c["body"] for c in comments if not c["public"]]
    assert any("Cat" in n and ":ticket:" in n for n in notes), notes
    assert any("Ticket" in t and str(ticket["id"]) in t for t in bot_texts(world, PLATFORM, ts))

    # The earlier reply is not written again; later ones are mirrored as usual.
    world.sim.slack.post(PLATFORM, "UBOB", "and now the tests fail", thread_ts=ts)
    clock.tick(2)
    sync_ok(world)
    bodies = [c["body"] for c in world.comments(ticket["id"])]
    assert sum("same here since 9:00" in b for b in bodies) == 1
    assert sum("and now the tests fail" in b for b in bodies) == 1

    # Taking the reaction back (or reacting again) changes nothing.
    writes = world.writes()
    world.sim.slack.unreact(PLATFORM, ts, "UCAT", "ticket")
    clock.tick(2)
    sync_ok(world)
    world.sim.slack.react(PLATFORM, ts, "UANN", "ticket")
    clock.tick(2)
    sync_ok(world)
    assert world.writes() == writes and len(world.tickets()) == 1


def test_reaction_mode_ignores_messages_from_before_zsc_watched(reacting, clock):
    world = reacting
    old = world.sim.slack.post(PLATFORM, "UANN", "an old question")
    clock.tick(5)
    sync_ok(world)  # first run: the channel is watched from now
    world.sim.slack.react(PLATFORM, old, "UCAT", "ticket")
    clock.tick(2)
    sync_ok(world)
    assert world.tickets() == []
    # The "all" channel still opens tickets for every message.
    world.ask("Printer jammed")
    clock.tick(2)
    sync_ok(world)
    assert len(world.tickets()) == 1


# ---------------------------------------------------------------- status reactions

REACTION_SCOPES = ("channels:history", "groups:history", "channels:read", "groups:read", "chat:write",
                   "users:read", "users:read.email", "reactions:write", "chat:write.customize")


@pytest.fixture
def glance(world):
    world.sim.slack.add_token(world.sim.slack.bot_token, REACTION_SCOPES)
    world.write_config(extra="[status_reactions]\nenabled = true\n")
    return world


def zsc_reactions(world, channel: str, ts: str) -> list[str]:
    me = world.sim.slack.workspace.bot_user_id
    [parent] = [m for m in world.sim.slack.messages(channel) if m["ts"] == ts]
    return [r["name"] for r in parent.get("reactions", []) if me in r["users"]]


def test_status_reaction_follows_the_ticket_one_at_a_time(glance, clock):
    world = glance
    sync_ok(world)
    ts = world.ask("VPN is down")
    sync_ok(world)
    ticket_id = world.only_ticket()["id"]
    assert zsc_reactions(world, CHANNEL, ts) == ["eyes"]
    world.sim.slack.react(CHANNEL, ts, "UCAT", "eyes")  # a person's own reactions are left alone
    for status, shown in [("pending", "hourglass_flowing_sand"), ("hold", "hourglass_flowing_sand"),
                          ("solved", "white_check_mark"), ("open", "eyes")]:
        world.sim.zendesk.set_status(ticket_id, status)
        clock.tick(2)
        sync_ok(world)  # within one Zendesk cycle
        assert zsc_reactions(world, CHANNEL, ts) == [shown], status
    [eyes] = [r for r in next(m for m in world.sim.slack.messages(CHANNEL) if m["ts"] == ts)["reactions"]
              if r["name"] == "eyes"]
    assert "UCAT" in eyes["users"]
    calls = world.sim.slack.calls["reactions.add"] + world.sim.slack.calls["reactions.remove"]
    clock.tick(2)
    sync_ok(world)
    assert world.sim.slack.calls["reactions.add"] + world.sim.slack.calls["reactions.remove"] == calls  # idle: none


def test_status_reaction_after_a_kill_mid_change_ends_with_exactly_one(glance):
    """Real time: the killed child process does not share a frozen clock."""
    world = glance
    sync_ok(world)
    ts = world.ask("VPN is down")
    sync_ok(world)
    ticket_id = world.only_ticket()["id"]
    world.sim.zendesk.set_status(ticket_id, "pending")
    world.sim.slack.inject("reactions.add", "slow", times=1, delay=30)
    world.kill_sync_when(lambda: "hourglass_flowing_sand" in zsc_reactions(world, CHANNEL, ts), "the new reaction")
    assert sorted(zsc_reactions(world, CHANNEL, ts)) == ["eyes", "hourglass_flowing_sand"]  # cut mid-change
    world.sync_until_clean()
    assert zsc_reactions(world, CHANNEL, ts) == ["hourglass_flowing_sand"]


def test_without_the_scope_status_reactions_are_skipped_and_the_sync_goes_on(world, clock):
    world.write_config(extra="[status_reactions]\nenabled = true\n")  # the default token lacks reactions:write
    sync_ok(world)
    ts = world.ask("VPN is down")
    result = sync_ok(world)
    assert len(world.tickets()) == 1 and zsc_reactions(world, CHANNEL, ts) == []
    ticket_id = world.only_ticket()["id"]
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Looking")
    clock.tick(2)
    sync_ok(world)
    assert any("Looking" in t for t in world.bot_texts(ts))
    assert result.exit_code == 0


# ---------------------------------------------------------------- post_as_agent

def test_post_as_agent_shows_the_agents_name_and_photo(world, clock):
    world.sim.slack.add_token(world.sim.slack.bot_token, REACTION_SCOPES)
    world.sim.zendesk.set_photo(world.other_agent, "https://sim.zendesk.test/photos/zoe.png")
    world.write_config(extra="")
    text = world.config_path.read_text().replace("[slack]\n", "[slack]\npost_as_agent = true\n", 1)
    world.config_path.write_text(text)
    sync_ok(world)
    ts = world.ask("VPN is down")
    sync_ok(world)
    ticket_id = world.only_ticket()["id"]
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Restarting the VPN")
    clock.tick(2)
    sync_ok(world)
    [post] = [m for m in world.thread(ts) if "Restarting the VPN" in m.get("text", "")]
    assert post["username"] == "Zoe Agent" and post["icons"]["image_48"].endswith("zoe.png")
    assert post["bot_id"] and "(Zendesk)" in post["text"] and "*Zoe Agent*" not in post["text"]
    # Still recognised as zsc's own: nothing goes back to Zendesk.
    comments = len(world.comments(ticket_id))
    clock.tick(2)
    sync_ok(world)
    assert len(world.comments(ticket_id)) == comments


# ---------------------------------------------------------------- per-channel reports

def test_a_channel_with_report_true_gets_its_own_report_of_its_issues(world):
    from zsc.config import load_config
    from zsc.sync.daily_report import maybe_post_report
    from zsc.sync.engine import build_engine

    world.sim.slack.add_channel(PLATFORM, "platform")
    world.write_config(extra=f'[[channels]]\nid = "{PLATFORM}"\nreport = true\n')
    with freeze_time("2024-03-04 08:00:00", tick=True) as clock:
        sync_ok(world)
        clock.tick(2)
        world.ask("Printer jammed")
        world.sim.slack.post(PLATFORM, "UANN", "Kubernetes node down")
        world.sim.slack.post(PLATFORM, "UANN", "DNS flaky")
        sync_ok(world)
        clock.move_to("2024-03-04 09:00:10")
        ctx = build_engine(load_config(world.config_path)).ctx
        try:
            assert maybe_post_report(ctx, st.utcnow()) is True
            clock.tick(30)
            assert maybe_post_report(ctx, st.utcnow()) is False  # once a day, each
        finally:
            ctx.store.close()

    def report_posts(channel):
        return [m["text"] for m in world.sim.slack.messages(channel)
                if ((m.get("metadata") or {}).get("event_payload") or {}).get("ref", "").startswith("report:")]

    [own] = report_posts(PLATFORM)
    [everything] = report_posts(CHANNEL)  # [report] channel defaults to [slack] channel: all channels
    assert "Kubernetes" in own and "DNS flaky" in own and "Printer" not in own
    assert all(s in everything for s in ("Kubernetes", "DNS flaky", "Printer")), everything


def test_channels_alone_without_slack_channel(world, clock):
    """[[channels]] entries only: each is checked at start and mirrored."""
    world.sim.slack.add_channel(PLATFORM, "platform")
    world.write_config(extra=f'[[channels]]\nid = "{CHANNEL}"\n\n[[channels]]\nid = "{PLATFORM}"\n')
    text = world.config_path.read_text().replace(f'channel = "{CHANNEL}"\n', "", 1)
    world.config_path.write_text(text)
    checked = world.zsc("auth", "check")
    assert checked.exit_code == 0, checked.output
    assert f"Slack channel {CHANNEL}" in checked.output and f"Slack channel {PLATFORM}" in checked.output
    sync_ok(world)
    world.sim.slack.post(PLATFORM, "UANN", "Kubernetes node down")
    world.ask("Printer jammed")
    clock.tick(2)
    sync_ok(world)
    assert len(world.tickets()) == 2


def test_each_channel_sweeps_its_own_old_threads_in_turn(two, clock):
    """Threads older than the history window are asked for replies a few per poll, in
    turn. Each channel keeps its own place in that turn: with one place for all, a
    channel whose threads are older than the other's went back to its first three."""
    world = two
    sync_ok(world)
    support, platform = [], []
    for n in range(4):
        support.append(world.sim.slack.post(CHANNEL, "UANN", f"support problem {n}"))
        clock.tick(1)
    for n in range(4):
        platform.append(world.sim.slack.post(PLATFORM, "UANN", f"platform problem {n}"))
        clock.tick(1)
    sync_ok(world)
    assert len(world.tickets()) == 8
    clock.tick(30 * 86400)  # a month later: all eight are older than the 14-day window,
    for channel in (CHANNEL, PLATFORM):  # and the channels moved on: the history reads start today
        world.sim.slack.post(channel, "UANN", "a new question today")
    clock.tick(1)
    sync_ok(world)
    clock.tick(1)
    world.sim.slack.post(CHANNEL, "UANN", "still happening", thread_ts=support[3])
    for _ in range(3):  # three threads per channel and poll: the fourth comes up in the second
        clock.tick(15)
        sync_ok(world)
    last = ticket_for(world, "support problem 3")
    assert world.comments(last["id"])[-1]["body"].endswith("still happening")
