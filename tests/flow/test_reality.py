"""What real Slack and Zendesk send that the first simulator did not (issue 9): unknown
people, garbled and wrong-shaped answers, re-rendered text, tickets leaving the group,
floods, items that keep failing. Real clients over HTTP against the simulator."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.flow.test_idempotency_probes import assert_quiet, bodies, open_thread, refs
from tests.flow.test_notices import pagerduty_config
from tests.flow.world import CHANNEL
from zsc import store as st
from zsc.store import models as stm

START = datetime(2026, 3, 2, 10, 0, 0)


def issue_of(world, ts: str) -> st.Issue:
    with st.opened(f"sqlite:///{world.tmp}/zsc.db"):
        return st.Issue.get(st.Issue.thread_ts == ts)


def failing_items(world) -> list[stm.FailingItem]:
    with st.opened(f"sqlite:///{world.tmp}/zsc.db"):
        return list(stm.FailingItem.select())


# ---------------------------------------------------------------- 1. unknown people

@pytest.mark.parametrize("kind", ["external", "deactivated", "not visible"])
def test_an_unknown_person_is_mirrored_in_the_same_cycle_with_the_name_the_message_carries(world, kind):
    ts, ticket_id = open_thread(world)
    if kind == "external":
        world.sim.slack.add_external_user("UEXT", "ext", real_name="Erin External", display_name="Erin")
    else:
        world.sim.slack.add_user("UEXT", "ext", email="erin@example.com", real_name="Erin External",
                                 display_name="Erin", deleted=kind == "deactivated", visible=kind != "not visible")
    world.reply(ts, "same problem here", user="UEXT")
    world.reply(ts, "and a second reply", user="UANN")
    result = world.sync()
    assert result.exit_code == 0, result.output
    texts = bodies(world, ticket_id)
    assert texts.count("Erin (Slack): same problem here") == 1
    assert texts.count("and a second reply") == 1
    assert_quiet(world)


def test_a_whole_conversation_with_an_external_person_is_mirrored_exactly_once(world):
    world.sim.slack.add_external_user("UEXT", "ext", real_name="Erin External", display_name="Erin")
    world.sync()
    ts = world.ask("Our integration returns 500s", user="UEXT")
    world.sync_until_clean()
    ticket = world.only_ticket()
    assert ticket["requester_id"] == world.agent_id  # no email: the agent asks on their behalf
    assert "(Raised in Slack by Erin)" in bodies(world, ticket["id"])[0]
    world.reply(ts, "since 9:00 <@UEXT>", user="UEXT")
    world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "Looking now")
    world.sync_until_clean()
    assert bodies(world, ticket["id"]).count("Erin (Slack): since 9:00 @Erin") == 1
    assert world.bot_texts(ts).count("*Zoe Agent* (Zendesk): Looking now") == 1
    assert_quiet(world)


# ---------------------------------------------------------------- 2. garbled and wrong-shaped answers

# Each endpoint the sync uses answers once with a garbled (non-JSON) 200, or with JSON of
# the wrong shape, in the middle of a conversation. zsc neither crashes nor takes it for
# success: everything is mirrored exactly once in the end.
SLACK_CALLS = ["conversations.history", "conversations.replies", "users.info", "chat.postMessage"]
ZENDESK_CALLS = ["tickets.create", "tickets.update", "tickets.show_many", "tickets.comments", "users.search",
                 "users.show", "incremental.tickets"]
WRONG_SHAPE = {"slack": {"ok": True, "messages": "x", "user": [], "ts": 5, "file": {"id": 7}},
               "zendesk": {"tickets": 5, "comments": {"a": 1}, "user": [], "ticket": "x", "upload": {"token": 7}},
               "pagerduty": {"oncalls": "x", "escalation_policy": {"name": ["x"]}}}


@pytest.mark.parametrize("fault", ["malformed", "shape"])
@pytest.mark.parametrize("service,endpoint", [("slack", e) for e in SLACK_CALLS] + [("zendesk", e) for e in ZENDESK_CALLS])
def test_a_garbled_or_wrong_shaped_answer_is_never_success_nor_a_traceback(world, service, endpoint, fault):
    with freeze_time(START, tick=True) as clock:
        world.sync()
        ts = world.ask("Disk full on build-07")
        getattr(world.sim, service).inject(endpoint, fault, body=WRONG_SHAPE[service])
        clock.tick(2)
        result = world.sync()
        assert "Traceback" not in result.output
        clock.tick(70)  # the export's minute
        world.sync_until_clean(clock=clock)
        ticket = world.only_ticket()
        world.reply(ts, "it is at 100%", user="UBOB")
        world.sim.zendesk.agent_comment(ticket["id"], world.other_agent, "Cleaning up")
        getattr(world.sim, service).inject(endpoint, fault, body=WRONG_SHAPE[service])
        clock.tick(2)
        assert "Traceback" not in world.sync().output
        clock.tick(2)
        world.sync_until_clean(clock=clock)
    assert bodies(world, ticket["id"]).count("Bob (Slack): it is at 100%") == 1
    # (a garbled user look-up names the agent "user N" this once: a name is not worth a failure)
    assert len([t for t in world.bot_texts(ts) if t.endswith("(Zendesk): Cleaning up")]) == 1
    assert len(world.tickets()) == 1
    assert [r for r in refs(world, ts) if r and r.startswith("confirm:")] == [f"confirm:{ticket['id']}"]


def test_a_garbled_answer_to_resolve_never_says_resolved_while_the_ticket_is_open(world):
    ts, ticket_id = open_thread(world)
    world.sim.zendesk.inject("tickets.update", "shape", body={"ok": False})  # a proxy's answer: no ticket, no audit
    world.reply(ts, "resolve", user="UANN")
    world.sync()
    said = [t for t in world.bot_texts(ts) if t.startswith("Resolved")]
    assert said == [] or world.sim.zendesk.ticket(ticket_id)["status"] == "solved"
    world.sync_until_clean()
    assert world.sim.zendesk.ticket(ticket_id)["status"] == "solved"
    assert len([t for t in world.bot_texts(ts) if t.startswith("Resolved")]) == 1


def test_an_export_answering_ok_false_is_a_failed_poll_not_nothing_to_do(world):
    world.sync()
    world.sim.zendesk.inject("incremental.tickets", "shape", body={"ok": False})
    result = world.sync()
    assert result.exit_code == 1 and "malformed answer" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- 3. recovery by ids, never by text

def test_a_lost_comment_write_is_found_by_its_key_although_zendesk_rewrote_its_text(world):
    ts, ticket_id = open_thread(world)
    assert world.sim.zendesk.render_markdown  # plain_body is Zendesk's rendering, not what zsc sent
    world.sim.zendesk.inject("tickets.update", "drop", times=1)  # applied, answer lost
    world.reply(ts, "It is *really* down, see <https://status.example.com|the status page>")
    assert world.sync().exit_code == 1
    world.sync_until_clean()
    texts = bodies(world, ticket_id)
    assert sum("really" in t for t in texts) == 1
    assert not any("really" in t for t in world.bot_texts(ts))  # not echoed back to Slack
    assert_quiet(world)


# ---------------------------------------------------------------- 5. the group is the boundary

def test_a_ticket_that_leaves_the_group_stops_reaching_slack_and_resumes_when_back(world):
    ts, ticket_id = open_thread(world)
    billing = world.sim.zendesk.add_group("Billing", agent_ids=[world.other_agent])
    world.sim.zendesk.move_to_group(ticket_id, billing, world.other_agent)
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Billing here: your card details are ...")
    world.sync_until_clean()  # zsc sees the move (within one Zendesk poll)
    world.reply(ts, "hi billing", user="UBOB")
    world.reply(ts, "anyone?", user="UBOB")
    world.sync_until_clean()
    texts = world.bot_texts(ts)
    assert not any("Billing here" in t for t in texts)
    assert sum("moved to another team" in t for t in texts) == 2  # the move, and where replies can go: once each
    assert not any("hi billing" in b or "anyone?" in b for b in bodies(world, ticket_id))
    assert_quiet(world)

    # Back in the group: new comments and replies flow again; what was said outside never does.
    world.sim.zendesk.move_to_group(ticket_id, world.group_id, world.other_agent)
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Support again")
    world.reply(ts, "thanks", user="UBOB")
    world.sync_until_clean()
    texts = world.bot_texts(ts)
    assert texts.count("*Zoe Agent* (Zendesk): Support again") == 1 and not any("Billing here" in t for t in texts)
    assert bodies(world, ticket_id).count("Bob (Slack): thanks") == 1
    assert_quiet(world)


def test_a_solve_outside_the_group_is_followed_quietly(world):
    ts, ticket_id = open_thread(world)
    billing = world.sim.zendesk.add_group("Billing", agent_ids=[world.other_agent])
    world.sim.zendesk.move_to_group(ticket_id, billing, world.other_agent)
    world.sim.zendesk.solve(ticket_id, world.other_agent)
    world.sync_until_clean()
    assert not any("marked solved" in t for t in world.bot_texts(ts))
    assert issue_of(world, ts).status == "solved"


# ---------------------------------------------------------------- 8. no flood

@pytest.mark.parametrize("body", ["word " * 20_000, "\n".join(f"line {n}" for n in range(5000))],
                         ids=["100k characters", "5000 lines"])
def test_a_huge_comment_is_cut_cleanly_after_three_posts(world, body):
    ts, ticket_id = open_thread(world)
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, body)
    world.sync_until_clean()
    posts = [t for t in world.bot_texts(ts) if not t.startswith("Thanks!")]
    assert len(posts) == 3
    assert posts[-1].endswith(f"… continued in Zendesk: {world.sim.zendesk.url}/agent/tickets/{ticket_id}")
    assert_quiet(world)


# ---------------------------------------------------------------- no item blocks the others forever

def test_a_reply_that_keeps_failing_is_parked_and_the_thread_moves_on(world):
    with freeze_time(START, tick=True) as clock:
        ts, ticket_id = open_thread(world)
        # Slack refuses this one post for good (say, a message Slack will not take).
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "poison")
        world.sim.slack.inject("chat.postMessage", "refuse", times=100, body={"ok": False, "error": "msg_too_long"})
        for _ in range(5):
            clock.tick(4 * 60)
            assert world.sync().exit_code == 1
        world.sim.slack.clear_faults()
        clock.tick(60)
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "after the poison")
        world.reply(ts, "still there?", user="UBOB")
        clock.tick(2)
        world.sync_until_clean(clock=clock)

        [parked] = failing_items(world)
        assert parked.parked_at is not None and parked.attempts == 5 and "msg_too_long" in parked.error
        texts = world.bot_texts(ts)
        assert texts.count("*Zoe Agent* (Zendesk): after the poison") == 1 and not any("poison" == t for t in texts)
        status = world.zsc("status")
        assert "1 parked" in status.output, status.output
        missing = world.zsc("check-missing", "--json")
        assert "parked" in missing.output
        fixed = world.zsc("check-missing", "--fix")
        assert fixed.exit_code == 0, fixed.output
        assert world.bot_texts(ts).count("*Zoe Agent* (Zendesk): poison") == 1
        assert failing_items(world) == []


def test_a_failing_item_is_not_parked_before_its_time(world):
    with freeze_time(START, tick=True) as clock:
        ts, ticket_id = open_thread(world)
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "poison")
        world.sim.slack.inject("chat.postMessage", "refuse", times=100, body={"ok": False, "error": "msg_too_long"})
        for _ in range(8):  # many attempts, but within the 15 minutes
            clock.tick(30)
            world.sync()
        items = {i.key: i for i in failing_items(world)}
        comment = next(i for key, i in items.items() if key.startswith(f"zendesk:{ticket_id}:"))
        assert comment.attempts >= 5 and all(i.parked_at is None for i in items.values())


def test_a_poll_with_failing_items_still_counts_as_alive(world):
    ts, ticket_id = open_thread(world)
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "poison")
    world.sim.slack.inject("chat.postMessage", "refuse", times=100, body={"ok": False, "error": "msg_too_long"})
    world.sync()
    with st.opened(f"sqlite:///{world.tmp}/zsc.db") as store:
        zendesk = store.source_status("zendesk")
        assert zendesk.last_success_at is not None and zendesk.last_success_at == zendesk.last_attempt_at
        assert "msg_too_long" in zendesk.last_error


# ---------------------------------------------------------------- Slack's limited rate tier

def test_a_whole_conversation_completes_on_slacks_limited_tier(world):
    world.sim.slack.limited_tier = True
    with freeze_time(START, tick=True) as clock:
        world.sync()
        ts = world.ask("Disk full on build-07")
        for n in range(20):
            world.ask(f"noise {n}", user="UCAT")  # more than one page of 15
        clock.tick(61)
        world.sync_until_clean(attempts=10, clock=FakeMinute(clock))
        ticket_id = next(t["id"] for t in world.tickets() if t["subject"] == "Disk full on build-07")
        world.reply(ts, "it is at 100%", user="UBOB")
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Cleaning up")
        clock.tick(61)
        world.sync_until_clean(attempts=10, clock=FakeMinute(clock))
    assert len(world.tickets()) == 21
    assert bodies(world, ticket_id).count("Bob (Slack): it is at 100%") == 1
    assert world.bot_texts(ts).count("*Zoe Agent* (Zendesk): Cleaning up") == 1


class FakeMinute:
    """sync_until_clean ticks its clock by 2 s between tries; the limited tier needs a minute."""

    def __init__(self, clock) -> None:
        self.clock = clock

    def tick(self, _seconds: float) -> None:
        self.clock.tick(timedelta(seconds=61))


def test_channel_is_in_the_config(world):
    assert CHANNEL in world.config_path.read_text()


# The calls `zsc auth check` and `zsc run`'s preflight make, and the look-up after a lost
# comment write: a garbled or wrong-shaped 200 is one line of failure, never a traceback.
CHECK_CALLS = [("slack", "auth.test"), ("slack", "conversations.info"), ("zendesk", "users.me"),
               ("zendesk", "users.show"), ("zendesk", "groups.show"), ("zendesk", "group_memberships"),
               ("pagerduty", "escalation_policies.show")]


@pytest.mark.parametrize("fault", ["malformed", "shape"])
@pytest.mark.parametrize("service,endpoint", CHECK_CALLS)
def test_auth_check_meets_a_garbled_or_wrong_shaped_answer_with_a_failed_row(world, service, endpoint, fault):
    if service == "pagerduty":
        world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Cat Staff", "cat@example.com")])
        world.write_config(extra=pagerduty_config(world))
        assert world.zsc("auth", "check").exit_code == 0  # (the check passes on a good answer)
    getattr(world.sim, service).inject(endpoint, fault, times=10, body=WRONG_SHAPE[service])
    result = world.zsc("auth", "check")
    assert "Traceback" not in result.output
    assert result.exit_code == 1 and "✗" in result.output, result.output


@pytest.mark.parametrize("fault", ["malformed", "shape"])
def test_a_garbled_audit_list_leaves_the_lost_write_to_be_found_later(world, fault):
    ts, ticket_id = open_thread(world)
    world.sim.zendesk.inject("tickets.update", "drop", times=1)  # applied, answer lost
    world.reply(ts, "it is at 100%", user="UBOB")
    world.sync()
    world.sim.zendesk.inject("tickets.audits", fault, body=WRONG_SHAPE["zendesk"])
    result = world.sync()
    assert "Traceback" not in result.output
    world.sync_until_clean()
    assert bodies(world, ticket_id).count("Bob (Slack): it is at 100%") == 1
    assert_quiet(world)


@pytest.mark.parametrize("fault", ["500", "malformed", "shape"])
def test_a_pagerduty_blip_never_fails_the_ticket(world, fault):
    world.write_config(extra=f'[pagerduty]\ntoken = "pd-secret-key-5678"\nescalation_policy_id = "PPOLICY"\n'
                             f'api_url = "{world.sim.pagerduty.url}"\n')
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Priya Primary", "priya@example.com")])
    world.sim.pagerduty.inject("oncalls", fault, body={"oncalls": "x"})
    ts, ticket_id = open_thread(world)
    assert bodies(world, ticket_id)[0] == "Disk full on build-07"


# The calls added with files, status reactions and the nudge, each in the flow that makes
# it: it answers once garbled or wrong-shaped, the flow ends with everything exactly once
# (the file attached or uploaded once, with its real bytes), and another question asked
# meanwhile gets its ticket in that same poll. A flow sets the scene and returns its check.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
GLANCE_SCOPES = ("channels:history", "groups:history", "channels:read", "groups:read", "chat:write",
                 "users:read", "users:read.email", "reactions:write")


def slack_file_in_a_reply(world, clock=None):
    ts, ticket_id = open_thread(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "see this", "shot.png", PNG, thread_ts=ts)
    return lambda: _slack_file_arrived(world, ticket_id)


def _slack_file_arrived(world, ticket_id):
    [comment] = [c for c in world.comments(ticket_id) if "see this" in c["body"]]
    assert [world.sim.zendesk.attachment_content(a["id"]) for a in comment["attachments"]] == [PNG]


def slack_connect_file_in_a_reply(world, clock=None):
    ts, ticket_id = open_thread(world)
    world.sim.slack.post_file(CHANNEL, "UANN", "see this", "shot.png", PNG, thread_ts=ts, file_access="check_file_info")
    return lambda: _slack_file_arrived(world, ticket_id)


def agents_attachment(world, clock=None):
    ts, ticket_id = open_thread(world)
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Here is the fix",
                                    attachments=[("fix.png", PNG, "image/png")])
    return lambda: _attachment_arrived(world, ts)


def _attachment_arrived(world, ts):
    assert sum("Here is the fix" in t for t in world.bot_texts(ts)) == 1
    files = [f for m in world.thread(ts) for f in m.get("files") or []]
    assert [world.sim.slack.file_content(f["id"]) for f in files] == [PNG]


def status_change(world, clock=None):
    world.sim.slack.add_token(world.sim.slack.bot_token, GLANCE_SCOPES)
    world.write_config(extra="[status_reactions]\nenabled = true\n")
    ts, ticket_id = open_thread(world)
    world.sim.zendesk.set_status(ticket_id, "pending")
    me = world.sim.slack.workspace.bot_user_id

    def check():
        [parent] = [m for m in world.sim.slack.messages(CHANNEL) if m["ts"] == ts]
        assert [r["name"] for r in parent.get("reactions", []) if me in r["users"]] == ["hourglass_flowing_sand"]
    return check


def nudge_with_oncall(world, clock):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Cat Staff", "cat@example.com")])
    world.write_config(extra="[nudge]\nafter_minutes = 30\n" + pagerduty_config(world))
    ts, _ = open_thread(world)
    clock.tick(31 * 60)

    def check():  # once; by their Slack account, or by name when the look-up failed
        nudges = [t for t in world.bot_texts(ts) if t.startswith("Nobody has answered")]
        assert len(nudges) == 1 and nudges[0].endswith(("<@UCAT>, you are on call.", "Cat Staff, you are on call."))
    return check


LATER_CALLS = [("slack", "files.info", slack_connect_file_in_a_reply),
               ("slack", "files.download", slack_file_in_a_reply), ("zendesk", "uploads.create", slack_file_in_a_reply),
               ("zendesk", "attachments.download", agents_attachment),
               ("slack", "files.getUploadURLExternal", agents_attachment), ("slack", "files.upload", agents_attachment),
               ("slack", "files.completeUploadExternal", agents_attachment),
               ("slack", "reactions.add", status_change), ("slack", "reactions.remove", status_change),
               ("slack", "users.lookupByEmail", nudge_with_oncall)]


@pytest.mark.parametrize("fault", ["malformed", "shape"])
@pytest.mark.parametrize("service,endpoint,flow", LATER_CALLS, ids=[e for _, e, _ in LATER_CALLS])
def test_a_garbled_or_wrong_shaped_answer_to_a_later_call_is_never_success(world, service, endpoint, flow, fault):
    with freeze_time(START, tick=True) as clock:
        check = flow(world, clock)
        world.ask("Printer on fire", user="UCAT")
        getattr(world.sim, service).inject(endpoint, fault, body=WRONG_SHAPE[service])
        result = world.sync()
        assert "Traceback" not in result.output
        assert [t["subject"] for t in world.tickets()].count("Printer on fire") == 1, result.output
        clock.tick(2)
        world.sync_until_clean(clock=clock)
        assert getattr(world.sim, service).calls[endpoint] >= 1
        check()
        assert_quiet(world)


# A file address answering Slack's or Zendesk's sign-in page (a token without files:read,
# a refused credential) is not the file: the file is named with its link, saying why.
@pytest.mark.parametrize("service,endpoint,flow", [c for c in LATER_CALLS if c[1].endswith(".download")],
                         ids=["slack", "zendesk"])
def test_a_sign_in_page_is_never_taken_for_the_file(world, service, endpoint, flow):
    flow(world)
    getattr(world.sim, service).inject(endpoint, "login", times=10)
    world.sync_until_clean()
    ticket_id, ts = world.only_ticket()["id"], world.sim.slack.messages(CHANNEL)[-1]["ts"]
    said = [c["body"] for c in world.comments(ticket_id)] + world.bot_texts(ts)
    assert any("sign-in page" in t and ("shot.png" in t or "fix.png" in t) for t in said), said
    assert not any(c["attachments"] for c in world.comments(ticket_id) if "see this" in c["body"])
    assert not [f for m in world.thread(ts) if m.get("bot_id") for f in m.get("files") or []]
    assert_quiet(world)


# A file call that answers garbled for good: its item is parked after [sync]
# park_after_attempts and park_after_minutes (2 and 5 here, so fewer polls pay the
# transient retries' real backoff), nothing half-done shows, and what came after it in
# the thread goes through.
# (Not files.completeUploadExternal: the simulator's garbled answer comes after the file
# is shared, which the next poll finds by its id -- the first table covers that.)
PARKING_CALLS = [c for c in LATER_CALLS if c[2] in (slack_connect_file_in_a_reply, slack_file_in_a_reply, agents_attachment)
                 and c[1] != "files.completeUploadExternal"]


@pytest.mark.parametrize("service,endpoint,flow", PARKING_CALLS, ids=[e for _, e, _ in PARKING_CALLS])
def test_a_file_call_garbled_for_good_parks_its_item_and_the_thread_moves_on(world, service, endpoint, flow):
    world.write_config(park_after_attempts=2, park_after_minutes=5)
    with freeze_time(START, tick=True) as clock:
        flow(world, clock)
        ts, ticket_id = world.sim.slack.messages(CHANNEL)[-1]["ts"], world.only_ticket()["id"]
        getattr(world.sim, service).inject(endpoint, "malformed", times=1000)
        clock.tick(6 * 60)
        assert world.sync().exit_code == 1
        assert failing_items(world)[0].parked_at is None  # one attempt: not parked yet
        clock.tick(6 * 60)
        assert world.sync().exit_code == 1
        assert failing_items(world)[0].parked_at is not None  # two, 6 minutes apart: parked
        world.reply(ts, "anything new?", user="UBOB")
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Still on it")
        clock.tick(60)
        world.sync_until_clean(clock=clock)
        [parked] = failing_items(world)
        assert parked.parked_at is not None and parked.error
        assert bodies(world, ticket_id).count("Bob (Slack): anything new?") == 1
        assert world.bot_texts(ts).count("*Zoe Agent* (Zendesk): Still on it") == 1
        assert not [f for m in world.thread(ts) if m.get("bot_id") for f in m.get("files") or []]
        assert not any(a for c in world.comments(ticket_id) for a in c.get("attachments") or [] if "see this" in c["body"])
