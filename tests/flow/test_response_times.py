"""First responses and resolution times: recorded by the sync (an agent's public
comment, a thread reply by someone other than the asker; never zsc's own posts),
shown in the report and printed by `zsc report --json`. Clocks are frozen."""

from __future__ import annotations

import json
from datetime import datetime

from freezegun import freeze_time

from zsc import store as st


def issue_row(world) -> st.Issue:
    with st.opened(f"sqlite:///{world.tmp}/zsc.db") as store:
        return store.issue_by_ticket(world.only_ticket()["id"])


def test_an_agent_comment_is_the_first_response_and_zscs_own_posts_are_not(world):
    with freeze_time("2024-03-04 10:00:00") as clock:
        world.sync()
        clock.tick(5)
        ts = world.ask("The printer is on fire")
        clock.tick(60)
        world.sync_until_clean()
        clock.tick(60)
        world.reply(ts, "it is still burning")  # the asker again: not an answer
        world.sync_until_clean()
        assert world.bot_texts(ts)  # zsc's confirmation is in the thread...
        assert issue_row(world).first_response_at is None  # ...and does not count
        clock.tick(600)
        ticket_id = world.only_ticket()["id"]
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "On my way")  # at 10:12:05
        clock.tick(120)
        world.sync_until_clean()
        assert issue_row(world).first_response_at == datetime(2024, 3, 4, 10, 12, 5)
        clock.tick(600)
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Fixed")
        world.sync_until_clean()
        assert issue_row(world).first_response_at == datetime(2024, 3, 4, 10, 12, 5)  # set once, the earliest


def test_a_customers_public_comment_is_no_answer(world):
    with freeze_time("2024-03-04 10:00:00") as clock:
        world.sync()
        clock.tick(5)
        world.ask("The printer is on fire")
        world.sync_until_clean()
        ticket_id = world.only_ticket()["id"]
        customer = world.sim.zendesk.add_user("Carl Customer", "carl@customer.test")
        world.sim.zendesk.end_user_comment(ticket_id, customer, "Same here!")
        clock.tick(60)
        world.sync_until_clean()
        assert issue_row(world).first_response_at is None
        world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "On it")  # 10:01:05
        clock.tick(60)
        world.sync_until_clean()
        assert issue_row(world).first_response_at == datetime(2024, 3, 4, 10, 1, 5)


def test_a_reply_by_another_person_is_the_first_response(world):
    with freeze_time("2024-03-04 10:00:00") as clock:
        world.sync()
        clock.tick(5)
        ts = world.ask("Disk full on build-07")
        world.sync_until_clean()
        clock.tick(300)
        world.reply(ts, "looking", user="UCAT")  # 10:05:05
        clock.tick(60)
        world.sync_until_clean()
        assert issue_row(world).first_response_at == datetime(2024, 3, 4, 10, 5, 5)


def test_report_shows_response_times_and_json_prints_them(world):
    with freeze_time("2024-03-01 10:00:00") as clock:  # a Friday
        world.sync()
        clock.tick(5)
        ts = world.ask("VPN down")
        world.sync_until_clean()
        clock.tick(30 * 60)
        world.reply(ts, "on it", user="UCAT")  # answered after 30 min
        world.sync_until_clean()
        clock.tick(90 * 60)
        world.sim.zendesk.set_status(world.only_ticket()["id"], "solved")
        world.ask("Printer jammed")  # still waiting (asked at 12:00:05)
        clock.tick(60)
        world.sync_until_clean()  # the quiet ticket's solve comes with the export, a minute late: 2h 1m
    with freeze_time("2024-03-04 09:00:00"):  # Monday's report covers Friday to Sunday
        data = json.loads(world.zsc("report", "--json").output)
        text = world.zsc("report", "--dry-run").output
    assert data["date"] == "2024-03-04" and data["opened"] == 2 and data["closed"] == 1
    assert data["first_response_seconds"] == {"median": 1800.0, "p90": 1800.0}
    assert data["resolution_seconds"]["median"] == data["resolution_seconds"]["p90"] == 7260.0
    assert data["last_7_days"]["first_response_seconds"] == {"median": 1800.0, "p90": 1800.0}
    assert data["clock"] == "wall_clock"
    [waiting] = data["open"]
    waited = datetime(2024, 3, 4, 9) - datetime(2024, 3, 1, 12, 0, 5)
    assert waiting["waiting_for_first_response_seconds"] == waited.total_seconds()
    assert "Time to first response (wall-clock time): Fri 1 Mar – Sun 3 Mar median 30m, 90% within 30m (1)" in text
    assert "Time to resolution (wall-clock time): Fri 1 Mar – Sun 3 Mar median 2h 1m, 90% within 2h 1m (1)" in text
    assert "*no first response* for 2d 20h" in text
    assert not [m for m in world.sim.slack.messages("CSUPPORT") if "Support report" in m.get("text", "")]


def test_json_has_nulls_when_there_is_nothing_to_measure(world):
    with freeze_time("2024-03-04 09:00:00"):
        data = json.loads(world.zsc("report", "--json").output)
    assert data["first_response_seconds"] == {"median": None, "p90": None}
    assert data["last_7_days"]["resolution_seconds"] == {"median": None, "p90": None}
    assert data["open"] == []
