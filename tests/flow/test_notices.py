"""Notices in a new issue's thread: who is on call (PagerDuty) and the out-of-hours
message, through `zsc sync-once` against the simulated Slack, Zendesk and PagerDuty."""

from freezegun import freeze_time

from tests.flow.world import PD_TOKEN

OUT_OF_HOURS = "Thanks! We are out of the office and will answer on the next working day."


def pagerduty_config(world, timeout: float = 1.0) -> str:
    return f"""
[pagerduty]
api_url = "{world.sim.pagerduty.url}"
token = "{PD_TOKEN}"
escalation_policy_id = "PPOLICY"
timeout = {timeout}
"""


HOURS_CONFIG = f"""
[hours]
start = "09:00"
end = "17:00"
days = "mon-fri"
timezone = "Europe/London"
message = "{OUT_OF_HOURS}"
"""


def confirmation(texts: list[str]) -> list[str]:
    return [t for t in texts if t.startswith("Thanks! Ticket")]


def test_new_issue_gets_the_oncall_message_once(world):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Ann Example", "ann@example.com"), ("Ben", "ben@example.com")])
    world.sim.pagerduty.set_oncall("PPOLICY", 2, [("Cat Staff", "cat@example.com")])
    world.write_config(extra=pagerduty_config(world))
    assert world.sync().exit_code == 0
    ts = world.ask("The VPN is down for the whole office")

    result = world.sync()
    assert result.exit_code == 0, result.output
    oncall = "Primary on call: Ann Example, Ben · Secondary on call: Cat Staff"
    texts = world.bot_texts(ts)
    assert len(confirmation(texts)) == 1
    assert texts[-1] == oncall  # after the confirmation
    assert world.only_ticket()["external_id"] == f"slack:CSUPPORT:{ts}"

    lookups = world.sim.pagerduty.calls["oncalls"]
    assert world.sync().exit_code == 0
    assert world.bot_texts(ts) == texts  # a second cycle adds nothing
    assert world.sim.pagerduty.calls["oncalls"] == lookups


def test_nobody_on_call_means_no_message(world):
    world.write_config(extra=pagerduty_config(world))
    world.sync()
    ts = world.ask("Printer on fire")
    assert world.sync().exit_code == 0
    texts = world.bot_texts(ts)
    assert len(texts) == 1 and confirmation(texts)
    assert world.sim.pagerduty.calls["oncalls"] == 1


def test_pagerduty_down_does_not_stop_the_ticket(world):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Ann Example", "ann@example.com")])
    world.write_config(extra=pagerduty_config(world))
    world.sync()
    world.sim.pagerduty.inject("oncalls", "503", times=10)
    ts = world.ask("Cannot log in to the wiki")

    result = world.sync()
    assert result.exit_code == 0, result.output  # a missing on-call line is not an item failure
    assert world.only_ticket()["external_id"] == f"slack:CSUPPORT:{ts}"
    texts = world.bot_texts(ts)
    assert len(texts) == 1 and confirmation(texts)
    assert not any("on call" in t for t in texts)
    assert "failed:" not in result.output
    (warning,) = [line for line in result.output.splitlines() if "On-call lookup failed" in line]
    assert "HTTP 503" in warning and PD_TOKEN not in result.output


def test_slow_pagerduty_is_given_up_on_within_its_timeout(world):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Ann Example", "ann@example.com")])
    world.write_config(extra=pagerduty_config(world, timeout=0.3))
    world.sync()
    world.sim.pagerduty.inject("oncalls", "slow", delay=1.0)
    ts = world.ask("Email is slow")

    assert world.sync().exit_code == 0
    assert confirmation(world.bot_texts(ts)) and len(world.bot_texts(ts)) == 1


def test_out_of_hours_message_on_saturday(world):
    world.write_config(extra=HOURS_CONFIG)
    # Saturday 2024-06-15, 12:00 in London (BST)
    with freeze_time("2024-06-15 11:00:00", tick=True):
        world.sync()
        ts = world.ask("Is anyone there?")
        assert world.sync().exit_code == 0
        texts = world.bot_texts(ts)
        assert len(confirmation(texts)) == 1 and texts[-1] == OUT_OF_HOURS
        assert world.sync().exit_code == 0
        assert world.bot_texts(ts) == texts


def test_no_out_of_hours_message_on_a_weekday_at_ten(world):
    world.write_config(extra=HOURS_CONFIG)
    # Wednesday 2024-06-12, 10:00 in London (BST): 09:00 UTC
    with freeze_time("2024-06-12 09:00:00", tick=True):
        world.sync()
        ts = world.ask("Quick question about invoices")
        assert world.sync().exit_code == 0
        texts = world.bot_texts(ts)
        assert texts == confirmation(texts) and len(texts) == 1


def test_out_of_hours_and_oncall_together_in_that_order(world):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Ann Example", "ann@example.com")])
    world.write_config(extra=pagerduty_config(world) + HOURS_CONFIG)
    with freeze_time("2024-06-15 11:00:00", tick=True):
        world.sync()
        ts = world.ask("Site down on a Saturday")
        assert world.sync().exit_code == 0
        assert world.bot_texts(ts)[1:] == [OUT_OF_HOURS, "Primary on call: Ann Example"]


def test_dry_run_describes_the_notices_and_posts_nothing(world):
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Ann Example", "ann@example.com")])
    world.write_config(extra=pagerduty_config(world) + HOURS_CONFIG)
    with freeze_time("2024-06-15 11:00:00", tick=True):
        world.sync()
        ts = world.ask("Anyone around?")
        result = world.sync("--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would post in Slack CSUPPORT thread {ts}: {OUT_OF_HOURS}" in result.output
    assert f"would post in Slack CSUPPORT thread {ts}: Primary on call: Ann Example" in result.output
    assert world.bot_texts(ts) == [] and world.tickets() == []
