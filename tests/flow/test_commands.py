"""Thread commands and keyword replies, end to end: people write in the simulated
Slack, `zsc sync-once` runs, and we look at Slack, Zendesk and the store."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.flow.world import CHANNEL
from zsc.sync import commands
from zsc import store as st
from zsc.store import models as stm

START = datetime(2024, 6, 3, 9, 0, 0)
RUN_AT = START + timedelta(seconds=30)  # when the first `say` in a `thread` syncs
RESOLVE_ALIASES = commands.find_command("resolve").aliases
KEYWORDS = """
[[keywords]]
match = ["password reset", "forgot my password"]
reply = "You can reset your password yourself at https://example.com/reset."

[[keywords]]
match = ["vpn"]
reply = "Is the VPN client up to date?"
"""


@pytest.fixture
def clock():
    with freeze_time(START) as frozen:
        yield frozen


@pytest.fixture
def thread(world, clock):
    """An open issue: (thread ts, ticket id). The first sync sets the start position."""
    world.sync()
    clock.tick(5)
    ts = world.ask("My laptop will not boot")
    clock.tick(5)
    world.sync()
    return ts, world.only_ticket()["id"]


def issue_of(world, ts: str) -> st.Issue:
    with st.opened(f"sqlite:///{world.tmp}/zsc.db"):
        return st.Issue.get((st.Issue.channel == CHANNEL) & (st.Issue.thread_ts == ts))


def trail_of(world, ts: str) -> list[stm.CommandRun]:
    with st.opened(f"sqlite:///{world.tmp}/zsc.db") as store:
        return store.command_runs(st.Issue.get(st.Issue.thread_ts == ts))


def link(ticket_id: int) -> str:
    return f"/agent/tickets/{ticket_id}|#{ticket_id}>"


def say(world, clock, ts: str, text: str, user: str = "UANN") -> str:
    """Reply in the thread a little later, then run one sync cycle."""
    clock.tick(10)
    message = world.reply(ts, text, user=user)
    clock.tick(10)
    result = world.sync()
    assert result.exit_code == 0, result.output
    return message


def assert_quiet(world, clock) -> None:
    """Another cycle over the same messages writes nothing anywhere."""
    before = world.writes()
    clock.tick(30)
    assert world.sync().exit_code == 0
    assert world.writes() == before


# ---------------------------------------------------------------- resolve


@pytest.mark.parametrize("alias", [*RESOLVE_ALIASES, "  Resolve Ticket \n"])
def test_each_resolve_alias_solves_the_ticket_closes_the_issue_and_links_it(world, clock, thread, alias):
    ts, ticket_id = thread
    comments = world.comments(ticket_id)
    say(world, clock, ts, alias)

    assert world.sim.zendesk.ticket(ticket_id)["status"] == "solved"
    issue = issue_of(world, ts)
    assert (issue.status, issue.closed_at) == ("solved", RUN_AT)
    reply = world.bot_texts(ts)[-1]
    assert reply.startswith("Resolved: ticket <") and link(ticket_id) in reply and "now solved" in reply
    assert world.comments(ticket_id) == comments  # the command is not a comment
    assert_quiet(world, clock)


def test_resolving_twice_says_so_and_keeps_the_first_close_time(world, clock, thread):
    ts, ticket_id = thread
    say(world, clock, ts, "resolve")
    closed_at = issue_of(world, ts).closed_at
    updates = world.sim.zendesk.calls["tickets.update"]

    clock.tick(3600)
    say(world, clock, ts, "✅", user="UCAT")

    reply = world.bot_texts(ts)[-1]
    assert reply.startswith("Ticket <") and reply.endswith(f"{link(ticket_id)} is already resolved.")
    issue = issue_of(world, ts)
    assert (issue.status, issue.closed_at) == ("solved", closed_at)
    assert world.sim.zendesk.calls["tickets.update"] == updates  # Zendesk not asked again
    assert [run.result for run in trail_of(world, ts)][-1].endswith("is already resolved.")
    assert_quiet(world, clock)


def test_resolve_status_closed_closes_the_ticket(world, clock, thread):
    world.write_config(extra='[commands]\nresolve_status = "closed"\n')
    ts, ticket_id = thread
    say(world, clock, ts, "resolve ticket")

    assert world.sim.zendesk.ticket(ticket_id)["status"] == "closed"
    assert issue_of(world, ts).status == "closed"
    reply = world.bot_texts(ts)[-1]
    assert "now closed" in reply and link(ticket_id) in reply and "follow-up" in reply
    assert_quiet(world, clock)


def test_resolving_a_ticket_already_closed_in_zendesk_closes_the_issue_and_says_so(world, clock, thread):
    ts, ticket_id = thread
    world.sim.zendesk.close(ticket_id)  # Zendesk refuses any update of a closed ticket
    say(world, clock, ts, "resolve")

    issue = issue_of(world, ts)
    assert (issue.status, issue.closed_at) == ("closed", RUN_AT)
    texts = world.bot_texts(ts)
    assert len(texts) == 2 and texts[-1].endswith(f"{link(ticket_id)} is already resolved.")
    assert world.sim.zendesk.ticket(ticket_id)["status"] == "closed"
    assert_quiet(world, clock)


def test_a_reply_after_resolve_reopens_the_ticket(world, clock, thread):
    ts, ticket_id = thread
    say(world, clock, ts, "resolve")
    say(world, clock, ts, "Sorry, it broke again")

    assert world.sim.zendesk.ticket(ticket_id)["status"] == "open"
    assert issue_of(world, ts).is_open
    assert world.comments(ticket_id)[-1]["body"].endswith("Sorry, it broke again")


# ---------------------------------------------------------------- crash safety


def test_a_resolve_whose_answer_was_lost_is_finished_without_asking_zendesk_again(world, clock, thread):
    ts, ticket_id = thread
    updates = world.sim.zendesk.calls["tickets.update"]
    world.sim.zendesk.inject("tickets.update", "drop")  # Zendesk solves it, zsc never hears back
    clock.tick(10)
    world.reply(ts, "resolve")
    clock.tick(10)
    assert world.sync().exit_code == 1  # outcome unknown: this cycle fails, the thread cursor stays

    assert world.sim.zendesk.ticket(ticket_id)["status"] == "solved"
    assert not any(text.startswith("Resolved") for text in world.bot_texts(ts))
    assert trail_of(world, ts) == []
    clock.tick(10)
    assert world.sync().exit_code == 0  # the pending intent is looked up, not repeated

    assert world.sim.zendesk.calls["tickets.update"] == updates + 1
    assert issue_of(world, ts).status == "solved"
    assert world.bot_texts(ts)[-1].startswith("Resolved: ticket")
    assert [run.command for run in trail_of(world, ts)] == ["resolve"]
    with st.opened(f"sqlite:///{world.tmp}/zsc.db") as store:
        assert store.pending_intents() == []
    assert_quiet(world, clock)


def test_a_recorded_command_is_never_run_again_only_its_reply_posted(world, clock, thread):
    ts, ticket_id = thread
    message = world.reply(ts, "resolve")
    # A crash after the run was recorded, before the reply and the thread cursor.
    with st.opened(f"sqlite:///{world.tmp}/zsc.db"):
        stm.CommandRun.create(issue=issue_of(world, ts), channel=CHANNEL, slack_ts=message, slack_user_id="UANN",
                             command="resolve", result="Resolved earlier.")
    clock.tick(10)
    world.sync()

    assert world.bot_texts(ts)[-1] == "Resolved earlier."
    assert world.sim.zendesk.ticket(ticket_id)["status"] != "solved"  # not run a second time
    assert len(trail_of(world, ts)) == 1
    assert_quiet(world, clock)


def test_resolving_a_ticket_zendesk_no_longer_has_is_answered_once_not_retried(world, clock, thread):
    ts, _ = thread
    with st.opened(f"sqlite:///{world.tmp}/zsc.db"):  # as if the ticket had been deleted in Zendesk
        st.Issue.update(ticket_id=999).where(st.Issue.thread_ts == ts).execute()
    say(world, clock, ts, "resolve")

    [reply] = [t for t in world.bot_texts(ts) if t.startswith("Zendesk refused to resolve ticket <")]
    assert "not found" in reply
    assert [run.result for run in trail_of(world, ts)] == [reply]
    # The Zendesk poll notices the ticket is gone: said once, and the issue is done.
    assert len([t for t in world.bot_texts(ts) if "was deleted in Zendesk" in t]) == 1
    assert issue_of(world, ts).status == "deleted"
    assert_quiet(world, clock)


# ---------------------------------------------------------------- help, mirroring, audit


def test_help_replies_with_the_registered_commands(world, clock, thread):
    ts, ticket_id = thread
    say(world, clock, ts, " HELP ")

    assert world.bot_texts(ts)[-1] == commands.help_text()
    assert "`resolve`" in commands.help_text() and "`help`" in commands.help_text()
    assert issue_of(world, ts).is_open
    assert_quiet(world, clock)


def test_commands_are_not_mirrored_but_other_replies_are(world, clock, thread):
    ts, ticket_id = thread
    comments = len(world.comments(ticket_id))
    say(world, clock, ts, "help")
    say(world, clock, ts, "can you help me")
    say(world, clock, ts, ":ok:")

    bodies = [c["body"] for c in world.comments(ticket_id)[comments:]]
    assert len(bodies) == 1 and bodies[0].endswith("can you help me")
    assert world.sim.zendesk.ticket(ticket_id)["status"] == "solved"
    assert_quiet(world, clock)


def test_every_command_run_is_in_the_audit_trail(world, clock, thread):
    ts, ticket_id = thread
    asked = say(world, clock, ts, "help", user="UBOB")
    resolved = say(world, clock, ts, "resolve", user="UANN")
    again = say(world, clock, ts, ":white_check_mark:", user="UCAT")

    trail = trail_of(world, ts)
    assert [(r.command, r.slack_user_id, r.slack_ts, r.channel) for r in trail] == [
        ("help", "UBOB", asked, CHANNEL), ("resolve", "UANN", resolved, CHANNEL), ("resolve", "UCAT", again, CHANNEL)]
    assert {r.issue_id for r in trail} == {issue_of(world, ts).id}
    assert [r.result for r in trail] == world.bot_texts(ts)[1:]  # each result is the reply posted
    assert [r.created_at for r in trail] == [RUN_AT, START.replace(second=50),
                                             START.replace(second=70 - 60, minute=1)]
    assert_quiet(world, clock)


# ---------------------------------------------------------------- keywords


def test_a_keyword_gets_its_reply_once_per_thread_and_the_message_is_still_mirrored(world, clock):
    world.write_config(extra=KEYWORDS)
    world.sync()
    clock.tick(5)
    first, second = world.ask("Laptop trouble"), world.ask("Email trouble")
    clock.tick(10)
    world.sync()
    ids = {t["external_id"]: t["id"] for t in world.tickets()}
    first_ticket = ids[f"slack:{CHANNEL}:{first}"]
    comments = len(world.comments(first_ticket))

    say(world, clock, first, "I think I need a Password Reset")
    say(world, clock, first, "still waiting for that password  reset, and I forgot my password")
    say(world, clock, second, "password reset here too, over VPN")

    reset = "You can reset your password yourself at https://example.com/reset."
    assert world.bot_texts(first)[1:] == [reset]
    assert world.bot_texts(second)[1:] == [reset, "Is the VPN client up to date?"]
    bodies = [c["body"] for c in world.comments(first_ticket)[comments:]]
    assert len(bodies) == 2 and "Password Reset" in bodies[0] and "forgot my password" in bodies[1]
    assert_quiet(world, clock)


def test_a_command_is_not_checked_for_keywords(world, clock, thread):
    world.write_config(extra='[[keywords]]\nmatch = ["help"]\nreply = "See the wiki."\n')
    ts, _ = thread
    say(world, clock, ts, "help")
    assert world.bot_texts(ts)[-1] == commands.help_text()
    say(world, clock, ts, "please help")
    assert world.bot_texts(ts)[-1] == "See the wiki."
