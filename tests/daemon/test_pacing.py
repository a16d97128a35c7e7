"""`zsc run` and Slack's post pace: a poll that stopped at its share of the pace goes on
soon (after the other side's turn), not a whole poll interval later."""

from __future__ import annotations

import signal

from tests.daemon.conftest import wait_until


def test_a_paced_backlog_is_posted_in_polls_that_follow_soon(world, start_zsc):
    # One post every 0.05 s: a poll may wait 10 turns (0.5 s), i.e. 13 posts a poll. The
    # Zendesk interval is a minute: only polls that follow at once can post 30 in time.
    world.post_interval = 0.05
    world.write_config(zendesk_interval=60)
    ts, ticket_id = world.conversation()
    for n in range(30):
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, f"note {n}")
    zsc = start_zsc("run")
    expected = [f"*Zoe Agent* (Zendesk): note {n}" for n in range(30)]
    wait_until(lambda: [t for t in world.bot_texts(ts) if "note" in t] == expected, timeout=20,
               what="all 30 comments, each once and in order")
    zsc.wait_log("the rest follows in the next poll", timeout=1)
    zsc.signal(signal.SIGTERM)
    assert zsc.wait(10) == 0
    assert [t for t in world.bot_texts(ts) if "note" in t] == expected
