"""Files both ways against the simulator, with the real clients: a screenshot posted in
Slack becomes an attachment of the mirroring comment (exactly once, also after a lost
answer and a kill -9), an agent's attachment is uploaded into the thread (exactly once,
also after a lost answer); files that cannot be copied are named with their link."""

from __future__ import annotations

import json

from tests.flow.world import CHANNEL, SLACK_TOKEN
from zsc.simulator.slack import DEFAULT_SCOPES
from zsc.store import models as stm

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def attachments(world, ticket_id):
    return [a for c in world.comments(ticket_id) for a in c.get("attachments") or []]


def thread_files(world, ts):
    return [f for m in world.thread(ts) for f in m.get("files") or []]


def opened(world, text="Build broken"):
    world.sync()
    ts = world.ask(text)
    world.sync_until_clean()
    return ts, world.only_ticket()["id"]


# ---------------------------------------------------------------- Slack -> Zendesk

def test_a_screenshot_opening_an_issue_is_attached_to_the_first_comment(world):
    world.sync()
    world.sim.slack.post_file(CHANNEL, "UANN", "see this", "screen.png", PNG)
    world.sync_until_clean()
    ticket = world.only_ticket()
    first = world.comments(ticket["id"])[0]
    assert "see this" in first["body"] and "📎" not in first["body"]
    [att] = first["attachments"]
    assert att["file_name"] == "screen.png"
    assert world.sim.zendesk.attachment_content(att["id"]) == PNG


def test_a_screenshot_in_a_reply_is_attached_to_its_comment_once(world):
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UBOB", "here it is", "shot.png", PNG, thread_ts=ts)
    world.sync_until_clean()
    world.sync()
    with_files = [c for c in world.comments(ticket_id) if c["attachments"]]
    assert len(with_files) == 1 and "here it is" in with_files[0]["body"]  # files and text: one comment
    assert [a["file_name"] for a in with_files[0]["attachments"]] == ["shot.png"]
    assert world.sim.zendesk.calls["uploads.create"] == 1


def test_a_lost_answer_never_attaches_twice(world):
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "", "shot.png", PNG, thread_ts=ts)
    world.sim.zendesk.inject("tickets.update", "drop")
    assert world.sync().exit_code != 0
    world.sync_until_clean()
    world.sync()
    assert len(attachments(world, ticket_id)) == 1
    assert world.sim.zendesk.calls["uploads.create"] == 1  # found by its audit key: no second upload
    assert stm.Intent.select().count() == 0


def test_killed_between_upload_and_comment(world):
    """kill -9 while Zendesk holds the upload but zsc has not heard back: the next run
    uploads again and attaches one copy (the orphan upload is harmless)."""
    ts, ticket_id = opened(world)
    world.write_config(http_timeout=30.0)
    world.sim.slack.post_file(CHANNEL, "UANN", "crash", "shot.png", PNG, thread_ts=ts)
    world.sim.zendesk.inject("uploads.create", "slow", delay=30)
    world.kill_sync_when(lambda: bool(world.sim.zendesk.desk.files.uploads), "the upload")
    world.write_config(http_timeout=1.0)
    world.sync_until_clean()
    world.sync()
    assert len(attachments(world, ticket_id)) == 1
    assert sum("crash" in c["body"] for c in world.comments(ticket_id)) == 1


def test_killed_after_the_comment_before_its_record(world):
    """kill -9 after Zendesk added the comment (with the upload): found by its audit key."""
    ts, ticket_id = opened(world)
    world.write_config(http_timeout=30.0)
    world.sim.slack.post_file(CHANNEL, "UANN", "crash", "shot.png", PNG, thread_ts=ts)
    world.sim.zendesk.inject("tickets.update", "slow", delay=30)
    world.kill_sync_when(lambda: bool(attachments(world, ticket_id)), "the comment")
    assert stm.Intent.select().count() == 1
    assert stm.Intent.get().data["files"]["tokens"]  # the token was kept before the comment
    world.write_config(http_timeout=1.0)
    world.sync_until_clean()
    world.sync()
    assert len(attachments(world, ticket_id)) == 1
    assert world.sim.zendesk.calls["uploads.create"] == 1


def test_an_oversize_file_is_linked_and_says_why(world):
    world.write_config(extra="[files]\nmax_bytes = 100\n")
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "big one", "huge.png", PNG, thread_ts=ts)
    world.sync_until_clean()
    [comment] = [c for c in world.comments(ticket_id) if "big one" in c["body"]]
    assert comment["attachments"] == []
    assert "📎 huge.png: " in comment["body"] and "over the 100 bytes limit" in comment["body"]
    assert world.sim.slack.calls["files.download"] == 0  # its size said so: not downloaded


def test_external_and_slack_connect_files_are_linked(world):
    ts, ticket_id = opened(world)
    world.reply(ts, "two links", files=[
        {"name": "doc.gdoc", "is_external": True, "permalink": "https://docs.example.com/d/1"},
        {"name": "theirs.png", "file_access": "check_file_info", "permalink": "https://sim.slack.com/files/X/F1"}])
    world.sync_until_clean()
    [comment] = [c for c in world.comments(ticket_id) if "two links" in c["body"]]
    assert comment["attachments"] == []
    assert "doc.gdoc: https://docs.example.com/d/1 (not attached: an external file" in comment["body"]
    assert "theirs.png" in comment["body"] and "Slack Connect" in comment["body"]


def test_a_slack_connect_file_is_described_by_files_info_and_attached(world):
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "from a partner", "theirs.png", PNG, thread_ts=ts,
                              file_access="check_file_info")
    [stub] = world.thread(ts)[-1]["files"]
    assert stub["file_access"] == "check_file_info" and "url_private" not in stub  # the message carries a stub
    world.sync_until_clean()
    [comment] = [c for c in world.comments(ticket_id) if "from a partner" in c["body"]]
    assert [(a["file_name"], world.sim.zendesk.attachment_content(a["id"])) for a in comment["attachments"]] \
        == [("theirs.png", PNG)]
    assert world.sim.slack.calls["files.info"] == 1


def test_a_failed_download_is_linked(world):
    world.sim.slack.add_token(SLACK_TOKEN, [s for s in DEFAULT_SCOPES if s != "files:read"])
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "no scope", "shot.png", PNG, thread_ts=ts)
    world.sync_until_clean()
    [comment] = [c for c in world.comments(ticket_id) if "no scope" in c["body"]]
    assert comment["attachments"] == [] and "not attached: the download failed" in comment["body"]


def test_files_off_keeps_the_links(world):
    world.write_config(extra="[files]\nenabled = false\n")
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "off", "shot.png", PNG, thread_ts=ts)
    world.sync_until_clean()
    [comment] = [c for c in world.comments(ticket_id) if "off" in c["body"]]
    assert comment["attachments"] == [] and "📎 shot.png: " in comment["body"]
    assert world.sim.zendesk.calls["uploads.create"] == 0


# ---------------------------------------------------------------- Zendesk -> Slack

def agent_sends_file(world, ticket_id, body="Here is the fix", name="fix.png", data=PNG, public=True):
    zd = world.sim.zendesk
    if public:
        return zd.agent_comment(ticket_id, world.other_agent, body, attachments=[(name, data, "image/png")])
    return zd.internal_note(ticket_id, world.other_agent, body, attachments=[(name, data, "image/png")])


def test_an_agents_attachment_arrives_in_the_thread_once(world):
    ts, ticket_id = opened(world)
    agent_sends_file(world, ticket_id)
    world.sync_until_clean()
    world.sync()
    [shared] = thread_files(world, ts)
    assert shared["name"] == "fix.png"
    assert world.sim.slack.file_content(shared["id"]) == PNG
    assert sum("Here is the fix" in t for t in world.bot_texts(ts)) == 1


def test_a_lost_answer_of_the_slack_upload_is_found_by_file_id(world):
    ts, ticket_id = opened(world)
    agent_sends_file(world, ticket_id)
    world.sim.slack.inject("files.completeUploadExternal", "drop")
    world.sync()
    assert stm.Intent.select().where(stm.Intent.key.startswith("post:attachment:")).count() == 1
    world.sync_until_clean()
    world.sync()
    assert len(thread_files(world, ts)) == 1
    assert world.sim.slack.calls["files.completeUploadExternal"] == 1
    assert stm.Intent.select().count() == 0


def test_an_oversize_attachment_is_named_with_its_link(world):
    world.write_config(extra="[files]\nmax_bytes = 100\n")
    ts, ticket_id = opened(world)
    agent_sends_file(world, ticket_id)
    world.sync_until_clean()
    assert thread_files(world, ts) == []
    [post] = [t for t in world.bot_texts(ts) if "Here is the fix" in t]
    assert "fix.png" in post and "/attachments/token/" in post and "over the 100 bytes limit" in post


def test_without_files_write_the_attachment_is_named(world):
    world.sim.slack.add_token(SLACK_TOKEN, [s for s in DEFAULT_SCOPES if s != "files:write"])
    ts, ticket_id = opened(world)
    agent_sends_file(world, ticket_id)
    world.sync_until_clean()
    assert thread_files(world, ts) == []
    [post] = [t for t in world.bot_texts(ts) if "Here is the fix" in t]
    assert "fix.png" in post and "files:write" in post


def test_internal_note_attachments_never_reach_slack(world):
    ts, ticket_id = opened(world)
    agent_sends_file(world, ticket_id, body="secret", public=False)
    world.sync_until_clean()
    assert thread_files(world, ts) == []
    assert not any("secret" in t for t in world.bot_texts(ts))
    assert world.sim.zendesk.calls["attachments.download"] == 0
    assert world.sim.slack.calls["files.getUploadURLExternal"] == 0


def test_redacted_comments_and_attachments_are_not_posted_again(world):
    ts, ticket_id = opened(world)
    comment_id = agent_sends_file(world, ticket_id, body="password is hunter2")
    world.sync_until_clean()
    posts, files = len(world.thread(ts)), len(thread_files(world, ts))
    att_id = next(c for c in world.comments(ticket_id) if c["id"] == comment_id)["attachments"][0]["id"]
    world.sim.zendesk.redact_comment(ticket_id, comment_id, "hunter2")
    world.sim.zendesk.redact_attachment(ticket_id, comment_id, att_id)
    assert "▇" in next(c for c in world.comments(ticket_id) if c["id"] == comment_id)["body"]
    world.sync_until_clean()
    assert len(world.thread(ts)) == posts and len(thread_files(world, ts)) == files


def test_a_retry_reuses_the_upload_token_within_the_hour(world):
    """The comment's write failed with an unknown outcome after the upload: the retry
    attaches the same upload (its token kept in the intent), not a second copy."""
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "retry", "shot.png", PNG, thread_ts=ts)
    world.sim.zendesk.inject("tickets.update", "500")
    assert world.sync().exit_code != 0
    [intent] = stm.Intent.select()
    assert len(intent.data["files"]["tokens"]) == 1
    world.sync_until_clean()
    assert len(attachments(world, ticket_id)) == 1
    assert world.sim.zendesk.calls["uploads.create"] == 1


def test_an_old_upload_token_is_not_reused(world):
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "late retry", "shot.png", PNG, thread_ts=ts)
    world.sim.zendesk.inject("tickets.update", "500")
    assert world.sync().exit_code != 0
    intent = stm.Intent.get()
    data = intent.data
    data["files"]["at"] -= 51 * 60  # past the 50 minutes zsc trusts a token for
    stm.Intent.update(payload=json.dumps(data)).where(stm.Intent.id == intent.id).execute()
    world.sync_until_clean()
    assert len(attachments(world, ticket_id)) == 1
    assert world.sim.zendesk.calls["uploads.create"] == 2


def test_a_dry_run_downloads_and_uploads_nothing(world):
    ts, ticket_id = opened(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "dry", "shot.png", PNG, thread_ts=ts)
    agent_sends_file(world, ticket_id)
    result = world.sync("--dry-run")
    assert result.exit_code == 0, result.output
    assert "with 1 file(s) to ticket" in result.output and "upload the file fix.png" in result.output
    calls = world.sim.slack.calls, world.sim.zendesk.calls
    assert calls[0]["files.download"] == calls[0]["files.getUploadURLExternal"] == 0
    assert calls[1]["uploads.create"] == calls[1]["attachments.download"] == 0


def test_the_bot_token_never_goes_to_another_host(world):
    """A file whose download address is not on Slack is linked, never fetched with the token."""
    ts, ticket_id = opened(world)
    world.reply(ts, "odd file", files=[{"name": "x.png", "size": 10, "url_private_download": "http://127.0.0.2:9/x.png",
                                        "permalink": "https://sim.slack.com/files/UANN/F9/x.png"}])
    world.sync_until_clean()
    [comment] = [c for c in world.comments(ticket_id) if "odd file" in c["body"]]
    assert comment["attachments"] == []
    assert "x.png: https://sim.slack.com/files/UANN/F9/x.png (not attached: the download failed" in comment["body"]


def test_zendesk_credentials_never_go_to_another_host(world):
    """An attachment whose address is not on this Zendesk is named, not downloaded."""
    ts, ticket_id = opened(world)
    agent_sends_file(world, ticket_id)
    with world.sim.zendesk.lock:
        world.sim.zendesk.desk.comments[ticket_id][-1].attachments[0]["content_url"] = "http://127.0.0.2:9/fix.png"
    world.sync_until_clean()
    assert thread_files(world, ts) == []
    [post] = [t for t in world.bot_texts(ts) if "Here is the fix" in t]
    assert "fix.png" in post and "could not be copied" in post and "not on this Zendesk" in post


def test_killed_while_the_slack_upload_completes(world):
    """kill -9 after Slack shared the file but before zsc heard back: the next run finds
    the file id it kept in the thread and does not upload again."""
    ts, ticket_id = opened(world)
    world.write_config(http_timeout=30.0)
    agent_sends_file(world, ticket_id)
    world.sim.slack.inject("files.completeUploadExternal", "slow", delay=30)
    world.kill_sync_when(lambda: bool(thread_files(world, ts)), "the file in the thread")
    [intent] = stm.Intent.select().where(stm.Intent.key.startswith("post:attachment:"))
    assert intent.data["file_id"] == thread_files(world, ts)[0]["id"]
    world.write_config(http_timeout=1.0)
    world.sync_until_clean()
    world.sync()
    assert len(thread_files(world, ts)) == 1
    assert world.sim.slack.calls["files.getUploadURLExternal"] == 1
    assert sum("Here is the fix" in t for t in world.bot_texts(ts)) == 1
    assert stm.Intent.select().count() == 0
