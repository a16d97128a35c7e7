import os
import signal

import pytest

from tests.flow.world import World
from zsc import runtime
from zsc.simulator import Simulator


@pytest.fixture
def sim():
    with Simulator() as simulator:
        yield simulator
    # zenpy reads its base URL from the environment (set by our adapter); do not leak it
    os.environ.pop("ZENPY_FORCE_NETLOC", None)
    os.environ.pop("ZENPY_FORCE_SCHEME", None)


@pytest.fixture
def world(sim, tmp_path, monkeypatch):
    for name in ("ZSC_CONFIG", "ZSC_SLACK_TOKEN", "ZSC_ZENDESK_TOKEN", "ZSC_ZENDESK_OAUTH_TOKEN",
                 "ZSC_PAGERDUTY_TOKEN", "ZSC_PAGERDUTY_OAUTH_TOKEN", "CREDENTIALS_DIRECTORY", "STATE_DIRECTORY", "JOURNAL_STREAM", "NOTIFY_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))  # never the real token file
    runtime.reset()
    yield World(sim, tmp_path)
    runtime.reset()


@pytest.fixture
def keep_signals():
    """`zsc run` installs its SIGTERM/SIGINT/SIGHUP handlers in the test process."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)
    runtime.reset()
