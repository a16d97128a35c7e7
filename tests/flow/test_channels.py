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
