"""Fixtures shared by the simulator tests: each test gets freshly started fakes."""

import os

import pytest

from zsc.simulator.pagerduty import PagerDutySim
from zsc.simulator.slack import SlackSim

# The fakes listen on 127.0.0.1; a proxy from the environment must not intercept them.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


@pytest.fixture
def slack_sim():
    sim = SlackSim()
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def pagerduty_sim():
    sim = PagerDutySim()
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def zendesk_sim(monkeypatch):
    """A started ZendeskSim; zenpy (which only takes its base URL from the environment)
    is pointed at it for the duration of the test."""
    from zsc.simulator.zendesk import ZendeskSim

    sim = ZendeskSim()
    sim.start()
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", sim.url.split("://", 1)[1])
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    yield sim
    sim.stop()
