"""Signals to a running `zsc run`: SIGHUP reloads the config without a restart (a bad
one is refused and the old one keeps running); SIGTERM and SIGINT stop it within
moments, even while it waits out a rate limit."""

from __future__ import annotations

import signal

from tests.daemon.conftest import edit_config, wait_until

KEYWORD = '[[keywords]]\nmatch = ["password reset"]\nreply = "Reset it at https://example.com/reset."\n'


def history_calls(world) -> int:
    return world.sim.slack.calls["conversations.history"]


def test_sighup_applies_new_intervals_and_keywords_without_restart(world, start_zsc, notify_socket):
    notify = notify_socket
    edit_config(world, "slack_interval = 1\nzendesk_interval = 1\n", "slack_interval = 60\nzendesk_interval = 60\n")
    zsc = start_zsc("run", env={"NOTIFY_SOCKET": notify.env})
    notify.wait_for(lambda m: "WATCHDOG" in m or "polled slack 0s" in m.get("STATUS", ""), what="the first cycle")
    before = history_calls(world)

    world.write_config(extra=KEYWORD)  # back to 1s intervals, plus a keyword reply
    mark = len(notify.collect())
    zsc.signal(signal.SIGHUP)
    zsc.wait_log("configuration reloaded", timeout=10)
    # systemd hears about the reload: RELOADING=1 with the time, then READY=1 again.
    reloading = notify.wait_for(lambda m: "RELOADING" in m, after=mark)
    assert int(reloading["MONOTONIC_USEC"]) > 0
    notify.wait_for(lambda m: m.get("READY") == "1", after=mark + 1)

    # Every 1s now, where 60s would have left Slack alone for a minute.
    wait_until(lambda: history_calls(world) >= before + 3, timeout=6, what="polls at the new interval")
    ts = world.ask("VPN login fails")
    wait_until(lambda: world.bot_texts(ts), timeout=10, what="the ticket confirmation")
    world.reply(ts, "maybe I need a password reset?")
    wait_until(lambda: "Reset it at https://example.com/reset." in world.bot_texts(ts), timeout=10,
               what="the keyword reply from the reloaded config")
    assert zsc.proc.pid == zsc.pid and zsc.proc.poll() is None  # the same process all along


def test_a_bad_config_on_sighup_is_refused_and_the_old_one_keeps_running(world, start_zsc):
    zsc = start_zsc("run")
    zsc.wait_log("zsc active")
    edit_config(world, "slack_interval = 1\n", 'slack_interval = "fast"\n')
    zsc.signal(signal.SIGHUP)
    refused = zsc.wait_log("reload refused", level="error", timeout=10)
    assert "[sync] slack_interval: expected a number" in refused["message"]
    assert "\n" not in refused["message"]

    ts = world.ask("Printer on fire")  # still mirroring, with the old config
    wait_until(lambda: world.tickets() and world.bot_texts(ts), timeout=10, what="a ticket after the refused reload")

    edit_config(world, 'slack_interval = "fast"\n', "slack_interval = 1\n")
    zsc.signal(signal.SIGHUP)
    zsc.wait_log("configuration reloaded", timeout=10)
    assert zsc.proc.poll() is None


def test_sigterm_while_waiting_out_a_rate_limit_exits_0_at_once(world, start_zsc):
    zsc = start_zsc("run")
    zsc.wait_log("zsc active")
    # 5 s: the longest Retry-After a poll waits out in place (a longer one ends the poll)
    world.sim.slack.inject("conversations.history", "429", retry_after=5)
    zsc.wait_log("s for the rate limit", timeout=10)
    zsc.signal(signal.SIGTERM)
    assert zsc.wait(2) == 0  # not 5s later
    assert zsc.find_log("zsc stopping")


def test_sigint_stops_it_too(world, start_zsc):
    zsc = start_zsc("run")
    zsc.wait_log("zsc active")
    ts = world.ask("Mouse is broken")
    wait_until(lambda: world.bot_texts(ts), timeout=10, what="the ticket confirmation")
    zsc.signal(signal.SIGINT)
    assert zsc.wait(3) == 0
    assert zsc.find_log("received SIGINT")
    assert len(world.tickets()) == 1
