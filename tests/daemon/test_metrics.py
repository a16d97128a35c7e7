"""`zsc run` with [metrics]: /metrics scraped over HTTP after real work, with values
that match what happened, and the textfile written atomically after each cycle."""

from __future__ import annotations

import signal
import socket
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.daemon.conftest import wait_until
from tests.flow.test_notices import pagerduty_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def samples(text: str) -> dict[tuple, float]:
    """{(name, (label, value), ...): value} of a metrics page."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return out


def scrape(url: str) -> dict[tuple, float]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return samples(answer.read().decode())


def test_metrics_over_http_and_in_the_textfile_match_what_happened(world, start_zsc, tmp_path):
    port = free_port()
    textfile = tmp_path / "prom" / "zsc.prom"
    textfile.parent.mkdir()
    # With PagerDuty: each new issue's on-call lookup is an API call like the others.
    world.sim.pagerduty.set_oncall("PPOLICY", 1, [("Priya Primary", "priya@example.com")])
    world.write_config(extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\ntextfile = "{textfile}"\n'
                             + pagerduty_config(world))
    world.sync()
    zsc = start_zsc("run")
    zsc.wait_log("zsc active")
    ts = world.ask("The wiki is down")
    wait_until(lambda: len(world.tickets()) == 1, timeout=15, what="the ticket")
    ticket_id = world.only_ticket()["id"]
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, "Restarting it")
    wait_until(lambda: any("Restarting it" in t for t in world.bot_texts(ts)), timeout=15, what="the comment")
    url = f"http://127.0.0.1:{port}/metrics"

    def settled():
        page = scrape(url)
        # (0 awaiting alone is also the state before the ticket: wait for the poll that mirrored the answer)
        done = page.get(("zsc_items_mirrored_total", ("direction", "zendesk_to_slack")), 0) >= 1
        exported = page[("zsc_open_issues",)] == 1  # the gauges were read after the ticket was made
        # (and a second poll of each side: when the question made the very first poll, all of this can
        # happen within one poll interval)
        polled = all(page.get(("zsc_polls_total", ("source", s)), 0) >= 2 for s in ("slack", "zendesk"))
        return page if done and exported and polled and page[("zsc_issues_awaiting_first_response",)] == 0 else None

    page = wait_until(settled, timeout=15, what="the answer counted")
    assert page[("zsc_items_mirrored_total", ("direction", "slack_to_zendesk"))] == 1  # the ticket, once
    assert page[("zsc_items_mirrored_total", ("direction", "zendesk_to_slack"))] == 1  # the agent's comment
    assert page[("zsc_item_failures_total", ("direction", "slack_to_zendesk"))] == 0
    assert page[("zsc_open_issues",)] == 1
    assert page[("zsc_oldest_awaiting_first_response_age_seconds",)] == 0
    assert page[("zsc_leader",)] == 1
    assert page[("zsc_parked_items",)] == 0
    assert page[("zsc_oldest_unmirrored_age_seconds", ("source", "slack"))] == 0
    for source in ("slack", "zendesk"):
        polls = page[("zsc_polls_total", ("source", source))]
        assert polls >= 1
        assert page[("zsc_poll_duration_seconds_count", ("source", source))] == polls
        assert page[("zsc_last_successful_poll_timestamp_seconds", ("source", source))] > 1.7e9
    # Every call went through a rate gate; the ticket's creation was one of them.
    assert page[("zsc_api_calls_total", ("api", "zendesk"), ("endpoint", "create ticket"), ("outcome", "ok"))] == 1
    assert page[("zsc_api_calls_total", ("api", "slack"), ("endpoint", "chat.postMessage"), ("outcome", "ok"))] \
        == world.sim.slack.calls["chat.postMessage"]
    assert page[("zsc_api_calls_total", ("api", "pagerduty"), ("endpoint", "oncalls"), ("outcome", "ok"))] \
        == world.sim.pagerduty.calls["oncalls"] >= 1
    # Nothing but /metrics is served.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        raise AssertionError("/ was served")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404

    # The textfile: complete after each cycle, and only ever replaced whole (no partial file left beside it).
    on_disk = wait_until(lambda: textfile.exists() and samples(textfile.read_text()), timeout=10, what="the textfile")
    assert on_disk[("zsc_items_mirrored_total", ("direction", "slack_to_zendesk"))] == 1
    assert [p.name for p in textfile.parent.iterdir()] == ["zsc.prom"]
    zsc.signal(signal.SIGTERM)
    assert zsc.wait(10) == 0


def test_a_textfile_that_cannot_be_written_is_one_log_line_and_the_mirroring_goes_on(world, start_zsc, tmp_path):
    world.write_config(extra=f'[metrics]\ntextfile = "{tmp_path}/missing/zsc.prom"\n')
    world.sync()
    zsc = start_zsc("run")
    zsc.wait_log("[metrics] textfile: cannot write", level="error")
    world.ask("Still mirrored?")
    wait_until(lambda: len(world.tickets()) == 1, timeout=15, what="the ticket")
    assert len([e for e in zsc.logs() if "[metrics] textfile" in e.get("message", "")]) == 1
    zsc.signal(signal.SIGTERM)
    assert zsc.wait(10) == 0


def test_a_listen_address_in_use_stops_the_start_with_one_line(world, start_zsc):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        world.write_config(extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
        zsc = start_zsc("run")
        assert zsc.wait(20) != 0
    assert "[metrics] listen: cannot serve on 127.0.0.1:" in zsc.text()
    assert "Traceback" not in zsc.text()
