"""zsc.metrics and the rate gates' observer, in process (the daemon scraping over HTTP
is tests/daemon/test_metrics.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from zsc import store as st
from zsc.adapters.ratelimit import Limited, RateGate, Transient, endpoint_of
from zsc.errors import ConfigError, NotFound, RateLimited, Unavailable
from zsc.metrics import Metrics, parse_listen
from zsc.sync.context import CycleResult


def values(metrics: Metrics) -> dict[tuple, float]:
    from prometheus_client import generate_latest

    out = {}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for sample in family.samples:
            out[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return out


@pytest.fixture
def metrics():
    m = Metrics()
    RateGate.observe(m.api_call)
    yield m
    RateGate.observe(None)


def test_every_gate_call_is_counted_by_outcome(metrics, monkeypatch):
    monkeypatch.setattr("zsc.runtime.sleep", lambda _s: None)
    gate = RateGate("Zendesk", retries=1, backoff=0)
    assert gate.call(lambda: 1, what="ticket 12 comments") == 1

    def not_found():
        raise NotFound("Zendesk", "ticket 13: not found")

    with pytest.raises(NotFound):
        gate.call(not_found, what="ticket 13")
    with pytest.raises(Unavailable):
        gate.call(lambda: (_ for _ in ()).throw(Transient("HTTP 503")), what="tickets/show_many")
    with pytest.raises(Unavailable):
        gate.call(lambda: (_ for _ in ()).throw(Transient("refused", network=True)), what="users/me")
    gate._blocked_until = 0
    with pytest.raises(RateLimited):
        RateGate("Slack", retries=0).call(lambda: (_ for _ in ()).throw(Limited(0)), what="chat.postMessage")

    v = values(metrics)
    calls = lambda api, endpoint, outcome: v.get(("zsc_api_calls_total", ("api", api), ("endpoint", endpoint),  # noqa: E731
                                                  ("outcome", outcome)))
    assert calls("zendesk", "ticket {id} comments", "ok") == 1
    assert calls("zendesk", "ticket {id}", "client_error") == 1
    assert calls("zendesk", "tickets/show_many", "server_error") == 2  # each attempt is a call
    assert calls("zendesk", "users/me", "network") == 2
    assert calls("slack", "chat.postMessage", "rate_limited") == 1


def test_pagerduty_calls_are_counted_by_outcome(metrics):
    """PagerDuty's calls go through a gate like Slack's and Zendesk's, the real pdpyras over
    HTTP against the simulator: each answer is counted once, under its outcome."""
    from zsc.adapters.pagerduty import PagerDutyAdapter
    from zsc.simulator.pagerduty import PagerDutySim

    sim = PagerDutySim(api_key="pd-key")
    sim.start()
    try:
        sim.set_oncall("PSUPPORT", 1, [("Ann", "ann@example.com")])
        adapter = PagerDutyAdapter(sim.url, token="pd-key", timeout=2.0)
        assert adapter.oncall("PSUPPORT") == [(1, "Ann")]
        assert adapter.policy("PSUPPORT").levels == 1
        for fault in ("500", "drop", "malformed"):
            sim.inject("oncalls", fault)
            with pytest.raises(Unavailable):
                adapter.oncall("PSUPPORT")
        sim.inject("oncalls", "429", retry_after=0)  # waited out (0 s) and retried once: then ok
        assert adapter.oncall("PSUPPORT") == [(1, "Ann")]
        with pytest.raises(NotFound):
            adapter.policy("PNOSUCH")
    finally:
        sim.stop()
    v = values(metrics)
    calls = lambda endpoint, outcome: v.get(("zsc_api_calls_total", ("api", "pagerduty"), ("endpoint", endpoint),  # noqa: E731
                                             ("outcome", outcome)))
    assert calls("oncalls", "ok") == 2
    assert calls("oncalls", "server_error") == 2  # the 500 and the garbled 200: one try each
    assert calls("oncalls", "network") == 1
    assert calls("oncalls", "rate_limited") == 1
    assert calls("escalation policy", "ok") == 1 and calls("escalation policy", "client_error") == 1
    assert sim.calls["oncalls"] == 6


def test_endpoints_carry_no_ids():
    assert endpoint_of("tickets external_id=slack:C1:1700000000.000100") == "tickets external_id"
    assert endpoint_of("set ticket 4711 solved") == "set ticket {id} solved"
    assert endpoint_of("conversations.replies") == "conversations.replies"


def test_a_poll_result_feeds_the_counters_and_gauges(metrics):
    result = CycleResult()
    result.mirrored_one("slack_to_zendesk")
    result.mirrored_one("slack_to_zendesk")
    result.item_failed("slack_to_zendesk", seen_at=1000.0)
    result.failed("Slack C1/1000.0: boom")
    result.nudges = 1
    metrics.poll_done("slack", result, 0.3, now=1600.0)
    metrics.poll_done("zendesk", CycleResult(), 0.1, now=1700.0)
    v = values(metrics)
    assert v[("zsc_items_mirrored_total", ("direction", "slack_to_zendesk"))] == 2
    assert v[("zsc_item_failures_total", ("direction", "slack_to_zendesk"))] == 1
    assert v[("zsc_oldest_unmirrored_age_seconds", ("source", "slack"))] == 600
    assert v[("zsc_oldest_unmirrored_age_seconds", ("source", "zendesk"))] == 0
    assert v[("zsc_last_successful_poll_timestamp_seconds", ("source", "slack"))] == 0  # that poll failed
    assert v[("zsc_last_successful_poll_timestamp_seconds", ("source", "zendesk"))] == 1700
    assert v[("zsc_polls_total", ("source", "slack"))] == 1
    assert v[("zsc_nudges_total",)] == 1
    assert v[("zsc_poll_duration_seconds_sum", ("source", "slack"))] == pytest.approx(0.3)


def test_store_gauges(metrics, tmp_path):
    store = st.Store(f"sqlite:///{tmp_path}/zsc.db")
    try:
        asked = datetime(2024, 3, 4, 10, 0)
        store.create_issue(channel="C1", thread_ts="1.1", ticket_id=1, origin="slack", opened_at=asked)
        answered = store.create_issue(channel="C1", thread_ts="1.2", ticket_id=2, origin="slack", opened_at=asked)
        store.note_first_response(answered, asked + timedelta(minutes=5))
        store.record_report("2024-03-04", "1.3", late=False)
        now = (asked - datetime(1970, 1, 1)).total_seconds() + 3600  # an hour after it was asked (UTC)
        metrics.from_store(store, now=now)
    finally:
        store.close()
    v = values(metrics)
    assert v[("zsc_open_issues",)] == 2 and v[("zsc_issues_awaiting_first_response",)] == 1
    assert v[("zsc_oldest_awaiting_first_response_age_seconds",)] == 3600
    assert v[("zsc_report_last_post_timestamp_seconds",)] > 0


def test_the_textfile_is_replaced_whole(metrics, tmp_path):
    path = tmp_path / "zsc.prom"
    metrics.set_leader(True)
    metrics.write_textfile(str(path))
    with path.open() as reader:  # a reader in the middle of the old file...
        metrics.set_leader(False)
        metrics.write_textfile(str(path))
        assert "zsc_leader 1.0" in reader.read()  # ...still reads the whole old file (a rename, not a rewrite)
    assert "zsc_leader 0.0" in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["zsc.prom"]  # no temporary file left behind


@pytest.mark.parametrize("value, expected", [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:9464", ("::1", 9464)), ("localhost:1", ("localhost", 1)),
])
def test_listen_addresses(value, expected):
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["9464", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":9464"])
def test_bad_listen_addresses_are_one_line(value):
    with pytest.raises(ConfigError, match=r"\[metrics\] listen: .* is not HOST:PORT"):
        parse_listen(value)


def test_the_config_refuses_a_listen_address_without_a_port():
    from zsc.config import parse_config
    from zsc.errors import UserError

    data = {"slack": {"channel": "C0123ABCD"}, "zendesk": {"subdomain": "acme", "agent_user_id": 1, "group_id": 2},
            "metrics": {"listen": "9464"}}
    with pytest.raises(UserError, match=r"\[metrics\] listen: not a valid HOST:PORT address"):
        parse_config(data, env={"STATE_DIRECTORY": "/nonexistent/zsc"}, require_secrets=False)
    data["metrics"] = {"listen": "[::1]:9464", "textfile": "/tmp/zsc.prom"}
    metrics = parse_config(data, env={"STATE_DIRECTORY": "/nonexistent/zsc"}, require_secrets=False).metrics
    assert (metrics.listen, metrics.textfile) == ("[::1]:9464", "/tmp/zsc.prom")
