"""OnCall against the fake PagerDuty, through the real pdpyras over HTTP."""

import logging
import time

import pytest
from freezegun import freeze_time
from loguru import logger

from zsc.config import PagerDutyConfig
from zsc.errors import RateLimited
from zsc.sync.oncall import OnCall
from zsc.simulator.pagerduty import PagerDutySim

POLICY = "PSUPPORT"
TOKEN = "pd-unit-secret-4242"
CLIENT_ID, CLIENT_SECRET = "zsc-app", "pd-client-secret-7777"


@pytest.fixture
def pd():
    sim = PagerDutySim(api_key=TOKEN)
    sim.start()
    sim.add_policy(POLICY, "Support")
    sim.register_oauth_client(CLIENT_ID, CLIENT_SECRET)
    yield sim
    sim.stop()


@pytest.fixture
def logs(caplog):
    """Every line zsc logs (loguru) and every stdlib record (pdpyras, requests)."""
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["level"].name + " " + m.record["message"]), level="DEBUG")
    caplog.set_level(logging.DEBUG)
    yield lambda: lines + [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records]
    logger.remove(sink)


def oncall(sim, *, cache_seconds=300, timeout=2.0, token=TOKEN, oauth=False, secret=CLIENT_SECRET) -> OnCall:
    config = PagerDutyConfig(
        token="" if oauth else token, oauth_token="", escalation_policy_id=POLICY, api_url=sim.url,
        client_id=CLIENT_ID if oauth else "", client_secret=secret if oauth else "",
        token_url=f"{sim.url}/oauth/token", cache_seconds=cache_seconds, timeout=timeout, retry_minutes=10,
    )
    return OnCall.from_config(config)


def people(*names):
    return [(name, f"{name.lower()}@example.com") for name in names]


def warnings_in(lines):
    return [line for line in lines if line.split(" ", 1)[0] in ("WARNING", "ERROR", "CRITICAL")]


# ---------------------------------------------------------------- the message


@pytest.mark.parametrize("levels, expected", [
    ({}, None),
    ({1: ["Ann"]}, "Primary on call: Ann"),
    ({1: ["Ann"], 2: ["Cat"]}, "Primary on call: Ann · Secondary on call: Cat"),
    ({1: ["Ben", "Ann"], 2: ["Cat"]}, "Primary on call: Ann, Ben · Secondary on call: Cat"),
    ({1: ["Zed", "ann", "Mia", "Bob"]}, "Primary on call: ann, Bob, Mia, Zed"),  # 3+: all, sorted
    ({2: ["Cat"]}, "Secondary on call: Cat"),  # nobody at level 1: left out
    ({3: ["Dan"]}, None),  # level 3 is escalation, not on call
    ({1: ["Ann"], 3: ["Dan"]}, "Primary on call: Ann"),
])
def test_message_names_people_by_level(pd, levels, expected):
    for level, names in levels.items():
        pd.set_oncall(POLICY, level, people(*names))
    assert oncall(pd).message() == expected


def test_names_cannot_ping_or_break_the_line(pd):
    pd.set_oncall(POLICY, 1, [("Eve <!channel>\n@here", "eve@example.com")])
    text = oncall(pd).message()
    assert text.startswith("Primary on call: Eve &lt;!")  # escaped, and the broadcast word broken
    assert "\n" not in text and "<!channel>" not in text and "@here" not in text


# ---------------------------------------------------------------- caching


def test_answer_is_cached_then_asked_again_after_cache_seconds(pd):
    pd.set_oncall(POLICY, 1, people("Ann"))
    with freeze_time("2024-06-12 10:00:00") as clock:
        lookup = oncall(pd, cache_seconds=300)
        assert lookup.message() == "Primary on call: Ann"
        pd.set_oncall(POLICY, 1, people("Ben"))
        clock.tick(299)
        assert lookup.message() == "Primary on call: Ann"
        assert pd.calls["oncalls"] == 1
        clock.tick(1)
        assert lookup.message() == "Primary on call: Ben"
        assert pd.calls["oncalls"] == 2


def test_cache_seconds_zero_asks_every_time(pd):
    pd.set_oncall(POLICY, 1, people("Ann"))
    lookup = oncall(pd, cache_seconds=0)
    lookup.message()
    lookup.message()
    assert pd.calls["oncalls"] == 2


def test_a_failure_is_not_retried_for_a_minute(pd, logs):
    pd.set_oncall(POLICY, 1, people("Ann"))
    pd.inject("oncalls", "500")
    with freeze_time("2024-06-12 10:00:00") as clock:
        lookup = oncall(pd)
        assert lookup.message() is None
        clock.tick(59)
        assert lookup.message() is None  # no second wait on a PagerDuty that just failed
        assert pd.calls["oncalls"] == 1
        assert len(warnings_in(logs())) == 1
        clock.tick(1)
        assert lookup.message() == "Primary on call: Ann"
        assert pd.calls["oncalls"] == 2


# ---------------------------------------------------------------- credentials


def test_api_token(pd):
    pd.set_oncall(POLICY, 1, people("Ann"))
    assert oncall(pd).message() == "Primary on call: Ann"
    assert pd.calls["oauth.token"] == 0


def test_oauth_client_credentials_and_refresh_before_expiry(pd):
    pd.set_oncall(POLICY, 1, people("Ann"))
    with freeze_time("2024-06-12 10:00:00") as clock:
        lookup = oncall(pd, oauth=True, cache_seconds=0)
        assert lookup.message() == "Primary on call: Ann"
        assert lookup.message() == "Primary on call: Ann"
        assert pd.calls["oauth.token"] == 1  # one token for both lookups
        clock.tick(3600 - 61)
        lookup.message()
        assert pd.calls["oauth.token"] == 1
        clock.tick(2)  # within a minute of the hour-long token's expiry: renewed first
        assert lookup.message() == "Primary on call: Ann"
        assert pd.calls["oauth.token"] == 2
        clock.tick(3 * 3600)  # long idle: the token PagerDuty gave has expired there too
        assert lookup.message() == "Primary on call: Ann"
        assert pd.calls["oauth.token"] == 3


def test_refused_client_secret_gives_no_message_and_no_secret_in_logs(pd, logs):
    pd.set_oncall(POLICY, 1, people("Ann"))
    assert oncall(pd, oauth=True, secret="pd-wrong-secret-1111").message() is None
    assert pd.calls["oncalls"] == 0
    (line,) = warnings_in(logs())
    assert "client credentials refused" in line
    assert "pd-wrong-secret-1111" not in "\n".join(logs())


def test_refused_api_token_gives_no_message_and_no_token_in_logs(pd, logs):
    pd.set_oncall(POLICY, 1, people("Ann"))
    bad = "pd-revoked-token-9876"
    assert oncall(pd, token=bad).message() is None
    (line,) = warnings_in(logs())
    assert "HTTP 401" in line
    everything = "\n".join(logs())
    assert bad not in everything and "9876" not in everything  # pdpyras quotes a key's last 4


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize("fault, reason", [
    ("500", "HTTP 500"),
    ("503", "HTTP 503"),
    ("malformed", "malformed answer"),
    ("drop", "connection failed"),
    ("429", "rate limited"),
])
def test_pagerduty_failure_gives_none_and_one_log_line(pd, logs, fault, reason):
    pd.set_oncall(POLICY, 1, people("Ann"))
    pd.inject("oncalls", fault, times=5, retry_after=0)  # (a 429 asking to wait 0 s: retried at once)
    assert oncall(pd).message() is None
    (line,) = warnings_in(logs())
    assert reason in line and TOKEN not in "\n".join(logs())
    # A 429 is retried once, nothing else is: an outage never holds up the sync loop.
    assert pd.calls["oncalls"] == (2 if fault == "429" else 1)


def test_a_429s_wait_is_honoured_before_pagerduty_is_asked_again(pd):
    """PagerDuty says how long to wait (ratelimit-reset, in seconds): a wait longer than
    a call may sit out fails the call at once, and no call reaches PagerDuty before it
    has passed; then the next one goes through."""
    pd.set_oncall(POLICY, 1, people("Ann"))
    pd.inject("oncalls", "429", retry_after=30)
    adapter = oncall(pd).adapter
    with freeze_time("2024-06-12 10:00:00") as clock:
        with pytest.raises(RateLimited, match="retry after 30s"):
            adapter.oncall(POLICY)
        clock.tick(20)
        with pytest.raises(RateLimited):
            adapter.oncall(POLICY)
        assert pd.calls["oncalls"] == 1  # the second call never left zsc
        clock.tick(11)
        assert adapter.oncall(POLICY) == [(1, "Ann")]
        assert pd.calls["oncalls"] == 2


def test_slow_pagerduty_is_cut_off_at_the_timeout(pd, logs):
    pd.set_oncall(POLICY, 1, people("Ann"))
    pd.inject("oncalls", "slow", delay=1.0)
    started = time.monotonic()
    assert oncall(pd, timeout=0.3).message() is None
    assert time.monotonic() - started < 0.9  # gave up before the answer came
    (line,) = warnings_in(logs())
    assert "no answer within 0.3s" in line


def test_oauth_token_endpoint_down_gives_none(pd, logs):
    pd.set_oncall(POLICY, 1, people("Ann"))
    pd.inject("oauth.token", "503")
    assert oncall(pd, oauth=True).message() is None
    (line,) = warnings_in(logs())
    assert "OAuth token: HTTP 503" in line and CLIENT_SECRET not in "\n".join(logs())


def test_primary_people_come_with_their_emails_and_the_pairs_stay_as_they_were(pd):
    pd.set_oncall(POLICY, 1, [("Ann", "Ann@Example.com")])
    pd.set_oncall(POLICY, 2, people("Ben"))
    on = oncall(pd)
    assert [(p.level, p.name, p.email) for p in on.primary()] == [(1, "Ann", "Ann@Example.com")]
    assert sorted(on.adapter.oncall(POLICY)) == [(1, "Ann"), (2, "Ben")]


def test_primary_is_empty_when_pagerduty_fails(pd, logs):
    pd.inject("oncalls", "500", times=5)
    assert oncall(pd).primary() == []
