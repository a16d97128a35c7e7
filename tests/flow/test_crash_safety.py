"""Nothing lost, nothing doubled: writes whose answer is lost, and crashes between
an effect and its record, must converge to exactly one of everything."""

from __future__ import annotations

import pytest

from zsc import store as st
from zsc.store import models as stm


def assert_converged(world, ts, ticket_id):
    assert [t["id"] for t in world.tickets()] == [ticket_id]
    bodies = [c["body"] for c in world.comments(ticket_id)]
    assert bodies.count("Bob (Slack): it is at 100%") == 1
    assert sum("Slack thread:" in b for b in bodies) == 1
    texts = world.bot_texts(ts)
    assert sum(t.startswith("Thanks! Ticket") for t in texts) == 1
    assert texts.count("*Zoe Agent* (Zendesk): Cleaning up now") == 1
    # zsc's own comment did not come back as a Slack reply (no echo)
    assert not any("it is at 100%" in t for t in texts)
    assert stm.Intent.select().count() == 0
    before = world.writes()
    world.sync()
    assert world.writes() == before


@pytest.mark.parametrize("endpoint,service", [
    ("tickets.create", "zendesk"),
    ("tickets.update", "zendesk"),
    ("chat.postMessage", "slack"),
])
@pytest.mark.parametrize("fault", ["drop", "slow"])
def test_lost_answers_are_found_not_repeated(world, endpoint, service, fault):
    getattr(world.sim, service).inject(endpoint, fault, times=1, delay=1.5)
    ts, ticket_id = world.conversation()
    assert_converged(world, ts, ticket_id)


@pytest.mark.parametrize("nth", range(5))
@pytest.mark.parametrize("endpoint,service", [("chat.postMessage", "slack"), ("tickets.update", "zendesk")])
def test_a_lost_answer_at_any_write(world, endpoint, service, nth):
    """Drop the answer of the n-th write to each API: every place it can happen."""
    getattr(world.sim, service).inject(endpoint, "drop", times=1, after=nth)
    ts, ticket_id = world.conversation()
    assert_converged(world, ts, ticket_id)


def test_server_error_on_create_is_retried_not_doubled(world):
    world.sim.zendesk.inject("tickets.create", "500", times=1)
    ts, ticket_id = world.conversation()
    assert_converged(world, ts, ticket_id)


def test_rate_limit_is_waited_out(world):
    world.sim.slack.inject("conversations.history", "429", times=1, retry_after=1)
    world.sim.zendesk.inject("tickets.update", "429", times=1, retry_after=1)
    ts, ticket_id = world.conversation()
    assert_converged(world, ts, ticket_id)


def test_killed_after_effect_before_record(world):
    """A real crash: `zsc sync-once` is killed -9 while Zendesk has created the
    ticket but before zsc heard back. The next run finds the ticket by external_id."""
    world.write_config(extra="", http_timeout=30.0)
    world.sync()
    world.ask("crash me")
    world.sim.zendesk.inject("tickets.create", "slow", times=1, delay=30)
    world.kill_sync_when(lambda: bool(world.tickets()), "the ticket's creation")
    assert stm.Intent.select().count() == 1  # the crash left the intent behind
    world.write_config(extra="", http_timeout=1.0)
    world.sync_until_clean()
    assert len(world.tickets()) == 1
    assert st.Issue.select().count() == 1 and stm.Intent.select().count() == 0
    assert sum(t.startswith("Thanks! Ticket") for t in world.bot_texts(world.tickets()[0]["external_id"].split(":")[-1])) == 1
