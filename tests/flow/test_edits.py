"""Slack edits and deletions after mirroring: each becomes exactly one internal note."""

from __future__ import annotations

from tests.flow.world import CHANNEL


def notes(world, ticket_id, text):
    return [c for c in world.comments(ticket_id) if not c["public"] and text in c["body"]]


def opened(world, text="VPN is down"):
    world.sync()
    ts = world.ask(text)
    world.sync_until_clean()
    return ts, world.only_ticket()["id"]


def test_an_edited_opening_message_adds_one_note_per_edit(world):
    ts, ticket_id = opened(world)
    world.sim.slack.edit(CHANNEL, ts, "VPN is down for everyone")
    world.sync_until_clean()
    world.sync()
    [note] = notes(world, ticket_id, "edited their Slack message")
    assert note["body"] == "*Ann* edited their Slack message: VPN is down for everyone"
    world.sim.slack.edit(CHANNEL, ts, "VPN is back")
    world.sync_until_clean()
    world.sync()
    assert len(notes(world, ticket_id, "edited their Slack message")) == 2
    assert len(notes(world, ticket_id, "VPN is back")) == 1


def test_an_edit_before_mirroring_is_just_mirrored(world):
    world.sync()
    ts = world.ask("typo hre")
    world.sim.slack.edit(CHANNEL, ts, "typo here")
    world.sync_until_clean()
    world.sync()
    ticket_id = world.only_ticket()["id"]
    assert "typo here" in world.comments(ticket_id)[0]["body"]
    assert notes(world, ticket_id, "edited") == []


def test_an_edited_reply_is_noted_when_the_thread_is_next_read(world):
    ts, ticket_id = opened(world)
    reply = world.reply(ts, "it fails at login", user="UBOB")
    world.sync_until_clean()
    world.sim.slack.edit(CHANNEL, reply, "it fails after login")
    world.sync_until_clean()
    assert notes(world, ticket_id, "edited") == []  # a quiet thread is not read again (by design)
    world.reply(ts, "any news?")
    world.sync_until_clean()
    world.sync()
    [note] = notes(world, ticket_id, "edited their Slack message")
    assert note["body"].endswith("edited their Slack message: it fails after login")
    assert sum("any news?" in c["body"] for c in world.comments(ticket_id)) == 1


def test_a_deleted_parent_adds_one_note_and_the_thread_goes_on(world):
    ts, ticket_id = opened(world)
    world.reply(ts, "more detail", user="UBOB")
    world.sync_until_clean()
    world.sim.slack.delete(CHANNEL, ts)
    assert world.sim.slack.messages(CHANNEL)[0]["subtype"] == "tombstone"
    world.sync_until_clean()
    world.reply(ts, "still broken", user="UBOB")
    world.sync_until_clean()
    world.sync()
    assert len(notes(world, ticket_id, "The Slack message that opened this ticket was deleted")) == 1
    assert sum("still broken" in c["body"] for c in world.comments(ticket_id)) == 1
    assert len(world.tickets()) == 1  # the tombstone is no new message


def test_a_deleted_reply_names_the_comment_it_had_become(world):
    ts, ticket_id = opened(world)
    gone = world.reply(ts, "oops wrong thread", user="UBOB")
    world.sync_until_clean()
    comment_id = next(c["id"] for c in world.comments(ticket_id) if "oops wrong thread" in c["body"])
    world.sim.slack.delete(CHANNEL, gone)
    world.reply(ts, "sorry")
    world.sync_until_clean()
    world.sync()
    [note] = notes(world, ticket_id, "was deleted in Slack")
    assert f"comment #{comment_id}" in note["body"]
