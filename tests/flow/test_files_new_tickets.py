"""Files on what opens a ticket or a thread, against the simulator with the real
clients: an emailed ticket's attachments reach its new thread, a reply to a closed
ticket brings its files to the follow-up, a reaction-mode ticket carries the files of
the message and of the replies before the reaction. Each exactly once, also after a
lost answer and a kill -9 between the write and its record."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from freezegun import freeze_time

from tests.flow.world import CHANNEL
from zsc.store import EMAIL_FILES
from zsc.sync import keys
from zsc.store import models as stm

START = "2026-11-24 10:00:00"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n" + bytes(range(200))


@pytest.fixture
def clock():
    """zsc and the simulator share this clock; the export hides the last minute."""
    with freeze_time(START, tick=True) as frozen:
        yield frozen


def sync_ok(world):
    result = world.sync()
    assert result.exit_code == 0, result.output
    return result


def thread_files(world, ts, channel=CHANNEL):
    return [f for m in world.sim.slack.thread(channel, ts) for f in m.get("files") or []]


def email_with_files(world, attachments=(("invoice.pdf", PDF, "application/pdf"), ("screen.png", PNG, "image/png"))):
    return world.sim.zendesk.receive_email("Dana Customer", "dana@customer.test", "Invoices missing",
                                           "Hello, see the attached invoice.", group_id=world.group_id,
                                           attachments=attachments)


def the_thread(world) -> str:
    [top] = world.sim.slack.messages(CHANNEL)
    return top["ts"]


def no_flags_or_intents():
    assert stm.Intent.select().count() == 0
    assert stm.TicketFlag.select().where(stm.TicketFlag.name == EMAIL_FILES).count() == 0


# ---------------------------------------------------------------- an emailed ticket's first email

def test_an_emails_attachments_arrive_in_its_new_thread_once(world, clock):
    sync_ok(world)
    email_with_files(world)
    clock.tick(61)
    sync_ok(world)
    ts = the_thread(world)
    thread = world.thread(ts)
    assert "see the attached invoice" in thread[0]["text"]  # the email's text first, then its files
    shared = [f for m in thread[1:] for f in m.get("files") or []]
    assert [f["name"] for f in shared] == ["invoice.pdf", "screen.png"]
    assert [world.sim.slack.file_content(f["id"]) for f in shared] == [PDF, PNG]
    assert not any("Attached to the email" in t for t in world.bot_texts(ts))  # nothing only named
    no_flags_or_intents()

    for _ in range(2):  # the ticket shows in the export again (zsc changed it): nothing more
        clock.tick(61)
        sync_ok(world)
    assert len(thread_files(world, ts)) == 2
    assert world.sim.slack.calls["files.completeUploadExternal"] == 2


def test_a_lost_answer_while_an_emails_file_is_shared_is_found_by_its_file_id(world, clock):
    sync_ok(world)
    email_with_files(world, [("screen.png", PNG, "image/png")])
    clock.tick(61)
    world.sim.slack.inject("files.completeUploadExternal", "drop")
    assert world.sync().exit_code == 1  # the set-up stops at the file; the thread is mapped
    assert stm.Intent.select().where(stm.Intent.key.startswith("post:attachment:")).count() == 1
    clock.tick(61)
    world.sync_until_clean(clock=clock)
    clock.tick(61)
    sync_ok(world)
    ts = the_thread(world)
    assert [f["name"] for f in thread_files(world, ts)] == ["screen.png"]
    assert world.sim.slack.calls["files.completeUploadExternal"] == 1  # looked up in the thread, not repeated
    assert sum("see the attached invoice" in t for t in world.bot_texts(ts)) == 1
    no_flags_or_intents()


def test_killed_while_an_emails_file_is_shared(world):
    """kill -9 after Slack shared the email's file but before zsc heard back: the next
    run (now on the ticket's read, the email already mapped) finds the file id it kept."""
    world.write_config(http_timeout=30.0)
    # Start and email in the past (on the simulator's clock), so the export already shows it in real time.
    with freeze_time(datetime.fromtimestamp(time.time() - 300, timezone.utc), tick=True):
        sync_ok(world)
        email_with_files(world, [("screen.png", PNG, "image/png")])
    world.sim.slack.inject("files.completeUploadExternal", "slow", delay=30)
    world.kill_sync_when(lambda: bool(world.sim.slack.messages(CHANNEL))
                         and bool(thread_files(world, the_thread(world))), "the file in the thread")
    [intent] = stm.Intent.select().where(stm.Intent.key.startswith("post:attachment:"))
    ts = the_thread(world)
    assert intent.data["file_id"] == thread_files(world, ts)[0]["id"]
    world.write_config(http_timeout=1.0)
    world.sim.slack.clear_faults()
    world.sync_until_clean()
    world.sync()
    assert len(thread_files(world, ts)) == 1
    assert world.sim.slack.calls["files.getUploadURLExternal"] == 1
    assert sum("see the attached invoice" in t for t in world.bot_texts(ts)) == 1
    no_flags_or_intents()


def test_an_oversize_email_attachment_is_named_once_with_its_link(world, clock):
    world.write_config(extra="[files]\nmax_bytes = 100\n")
    sync_ok(world)
    email_with_files(world, [("screen.png", PNG, "image/png")])
    clock.tick(61)
    sync_ok(world)
    clock.tick(61)
    sync_ok(world)
    ts = the_thread(world)
    assert thread_files(world, ts) == []
    [post] = [t for t in world.bot_texts(ts) if "Attached to the email" in t]
    assert "📎 screen.png: " in post and "/attachments/token/" in post and "over the 100 bytes limit" in post
    assert world.sim.zendesk.calls["attachments.download"] == 0  # its size said so
    no_flags_or_intents()


# ---------------------------------------------------------------- follow-ups

def closed_thread(world, end=lambda sim, ticket_id: sim.zendesk.close(ticket_id)):
    """A thread whose ticket was then closed (or, with `end`, deleted)."""
    world.sync()
    ts = world.ask("Build broken")
    world.sync_until_clean()
    old = world.only_ticket()["id"]
    end(world.sim, old)
    world.sync_until_clean()
    return ts, old


def followup(world, old):
    [ticket] = [t for t in world.tickets() if t["id"] != old]
    return ticket


def test_files_in_a_reply_to_a_closed_ticket_are_attached_to_the_follow_up(world):
    ts, old = closed_thread(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "it broke again", "again.png", PNG, thread_ts=ts)
    world.sync_until_clean()
    world.sync()
    ticket = followup(world, old)
    first = world.comments(ticket["id"])[0]
    assert "it broke again" in first["body"] and "📎" not in first["body"]
    [att] = first["attachments"]
    assert att["file_name"] == "again.png" and world.sim.zendesk.attachment_content(att["id"]) == PNG
    # The comment the closed ticket refused had uploaded the file: the follow-up attaches that upload.
    assert world.sim.zendesk.calls["uploads.create"] == 1
    assert len(world.tickets()) == 2 and stm.Intent.select().count() == 0


def test_files_in_a_reply_to_a_deleted_ticket_are_attached_to_the_new_one(world):
    ts, old = closed_thread(world, end=lambda sim, ticket_id: sim.zendesk.delete(ticket_id))
    world.sim.slack.post_file(CHANNEL, "UANN", "back again", "again.png", PNG, thread_ts=ts)
    world.sync_until_clean()
    first = world.comments(followup(world, old)["id"])[0]
    assert [a["file_name"] for a in first["attachments"]] == ["again.png"]
    assert "was deleted" in first["body"]


def test_a_lost_answer_of_the_follow_up_never_attaches_twice(world):
    ts, old = closed_thread(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "lost", "again.png", PNG, thread_ts=ts)
    world.sim.zendesk.inject("tickets.create", "drop")
    assert world.sync().exit_code != 0
    [intent] = stm.Intent.select()
    assert intent.key.startswith("followup:") and len(intent.data["files"]["tokens"]) == 1
    world.sync_until_clean()
    world.sync()
    first = world.comments(followup(world, old)["id"])[0]
    assert len(first["attachments"]) == 1
    assert world.sim.zendesk.calls["uploads.create"] == 1  # found by its external_id, nothing uploaded again
    assert world.sim.zendesk.calls["tickets.create"] == 2  # the first ticket, the follow-up
    assert sum("follow-up" in t for t in world.bot_texts(ts)) == 1
    assert stm.Intent.select().count() == 0


def test_a_follow_up_refused_for_sure_is_retried_with_the_same_upload(world):
    ts, old = closed_thread(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "refused", "again.png", PNG, thread_ts=ts)
    world.sim.zendesk.inject("tickets.create", "500")
    assert world.sync().exit_code != 0
    world.sync_until_clean()
    first = world.comments(followup(world, old)["id"])[0]
    assert len(first["attachments"]) == 1 and len(world.tickets()) == 2
    assert world.sim.zendesk.calls["uploads.create"] == 1


def test_killed_between_the_follow_up_and_its_record(world):
    ts, old = closed_thread(world)
    world.write_config(http_timeout=30.0)
    world.sim.slack.post_file(CHANNEL, "UANN", "crash", "again.png", PNG, thread_ts=ts)
    world.sim.zendesk.inject("tickets.create", "slow", delay=30)
    world.kill_sync_when(lambda: len(world.tickets()) == 2, "the follow-up ticket")
    [intent] = stm.Intent.select()
    assert intent.key.startswith("followup:") and intent.data["files"]["tokens"]
    world.write_config(http_timeout=1.0)
    world.sim.zendesk.clear_faults()
    world.sync_until_clean()
    world.sync()
    assert len(world.tickets()) == 2
    first = world.comments(followup(world, old)["id"])[0]
    assert len(first["attachments"]) == 1
    assert world.sim.zendesk.calls["uploads.create"] == 1
    assert sum("follow-up" in t for t in world.bot_texts(ts)) == 1
    assert stm.Intent.select().count() == 0


# ---------------------------------------------------------------- reaction mode

def test_a_reaction_mode_ticket_carries_the_files_of_its_message_and_earlier_replies(world, clock):
    world.sim.slack.add_channel("CPLATFORM", "platform")
    world.write_config(extra='[[channels]]\nid = "CPLATFORM"\nmode = "reaction"\nreaction = "ticket"\n')
    sync_ok(world)
    ts = world.sim.slack.post_file("CPLATFORM", "UANN", "cache corrupt?", "cache.png", PNG)
    world.sim.slack.post_file("CPLATFORM", "UBOB", "same here", "log.pdf", PDF, mimetype="application/pdf",
                              thread_ts=ts)
    clock.tick(2)
    sync_ok(world)
    assert world.tickets() == []
    world.sim.slack.react("CPLATFORM", ts, "UCAT", "ticket")
    clock.tick(2)
    sync_ok(world)
    clock.tick(2)
    sync_ok(world)
    ticket = world.only_ticket()
    first = world.comments(ticket["id"])[0]
    assert "cache corrupt?" in first["body"] and "same here" in first["body"]
    assert sorted(a["file_name"] for a in first["attachments"]) == ["cache.png", "log.pdf"]
    assert world.sim.zendesk.calls["uploads.create"] == 2
    assert sum(len(c["attachments"]) for c in world.comments(ticket["id"])) == 2


def test_an_emails_attachment_that_keeps_failing_is_parked_alone(world, clock):
    """The attachment's download keeps failing: the set-up goes on without it (the
    Slack-link note, the agents' answers reach the thread) and, after [sync]
    park_after_attempts and park_after_minutes (2 and 5 here: each failing poll pays
    the transient retries' real backoff), the files alone are parked -- the ticket is not."""
    world.write_config(park_after_attempts=2, park_after_minutes=5)
    sync_ok(world)
    ticket_id = email_with_files(world, [("screen.png", PNG, "image/png")])
    clock.tick(61)
    world.sim.zendesk.inject("attachments.content", "malformed", times=1000)  # bytes of the wrong size, for good
    assert world.sync().exit_code == 1  # the files failed; the rest of the set-up went through
    ts = the_thread(world)
    assert [c for c in world.comments(ticket_id) if not c["public"] and "Slack thread: " in c["body"]]
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Looking into it")
    clock.tick(6 * 60)
    world.sync()  # the second attempt, 6 minutes after the first: parked
    assert any("Looking into it" in t for t in world.bot_texts(ts))
    assert stm.FailingItem.get(stm.FailingItem.key == keys.email_files_item(ticket_id)).parked_at is not None
    assert not stm.FailingItem.select().where(stm.FailingItem.key == keys.ticket_item(ticket_id)).count()
    assert thread_files(world, ts) == []
    calls = world.sim.zendesk.calls["attachments.content"]
    clock.tick(61)
    sync_ok(world)  # parked: not tried again until `check-missing --fix`
    assert world.sim.zendesk.calls["attachments.content"] == calls


def test_an_emails_owed_attachments_stay_out_while_its_ticket_is_outside_the_group(world, clock):
    """The first email's file could not be copied at set-up; the ticket then moves to
    another group (HR, legal): its content no longer reaches Slack, owed files included."""
    sync_ok(world)
    ticket_id = email_with_files(world, [("secret.png", PNG, "image/png")])
    clock.tick(61)
    world.sim.zendesk.inject("attachments.content", "malformed", times=4)  # the first try and its retries
    assert world.sync().exit_code == 1  # the file failed; the thread is mapped
    fetched = world.sim.zendesk.calls["attachments.content"]
    hr = world.sim.zendesk.add_group("HR", agent_ids=[world.other_agent])
    world.sim.zendesk.move_to_group(ticket_id, hr)
    for _ in range(3):
        clock.tick(61)
        world.sync()
    ts = the_thread(world)
    assert any("moved to another team" in t for t in world.bot_texts(ts))
    assert thread_files(world, ts) == []
    assert world.sim.zendesk.calls["attachments.content"] == fetched  # not fetched again while outside
