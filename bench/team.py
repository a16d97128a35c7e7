"""The simulated support team every measure runs against, and the small helpers
they share: the config (in-process or as a file for a `zsc run` child), read
counts, settling, percentiles."""

from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from zsc.config import parse_config, to_toml  # noqa: E402
from zsc.simulator import Simulator  # noqa: E402
from zsc.store import TO_SLACK, TO_ZENDESK  # noqa: E402

CHANNEL = "CBENCH"
ASKER = "UASK"
WRITE_ENDPOINTS = {"chat.postMessage", "tickets.create", "tickets.update", "users.create"}


class Team:
    """A Slack channel with one person, a Zendesk group with zsc's agent and a human
    helper, and the config sections that point zsc at them."""

    def __init__(self, sim: Simulator, workdir: Path, real_limits: bool = False, paced: bool = False,
                 **sync: Any) -> None:
        """`paced`: Slack's per-channel post limit on in the simulator and zsc's own pacing
        at its default (the runs of the real daemon); off, zsc posts as fast as it can
        (the measures of CPU and call counts, where waiting would only add wall time)."""
        self.sim, self.workdir = sim, workdir
        workdir.mkdir(parents=True, exist_ok=True)
        sim.slack.add_channel(CHANNEL, "support")
        sim.slack.add_user(ASKER, "asker", email="asker@example.com", real_name="Asker")
        zd = sim.zendesk
        if not real_limits:
            zd.set_rate_limit(10**9)  # these measures are of zsc, not of Zendesk's global budget
        if paced:
            sim.slack.set_post_limit()  # as Slack: about one message a second per channel
        self.agent = zd.add_agent("Bench Bot", "bot@example.com")
        self.helper = zd.add_agent("Helper", "helper@example.com")
        self.group = zd.add_group("Support", agent_ids=[self.agent, self.helper])
        zd.add_api_token("bot@example.com", "bench-token")
        self.sections: dict[str, dict[str, Any]] = {
            "slack": {"token": sim.slack.bot_token, "channel": CHANNEL, "workspace_uri": "https://bench.slack.com/",
                      "api_url": f"{sim.slack.url}/api/", **({} if paced else {"channel_post_interval": 0})},
            "zendesk": {"subdomain": "bench", "email": "bot@example.com", "token": "bench-token",
                        "api_url": sim.zendesk.url, "agent_user_id": self.agent, "group_id": self.group},
            "database": {"url": f"sqlite:///{workdir}/bench.db"},
            "sync": {"http_timeout": 30.0, **sync},
            "report": {"enabled": False},
        }

    @property
    def config(self):
        return parse_config(self.sections, env={"STATE_DIRECTORY": str(self.workdir)})

    def config_file(self) -> Path:
        path = self.workdir / "config.toml"
        path.write_text(to_toml(self.sections))
        return path

    def ask(self, text: str) -> str:
        return self.sim.slack.post(CHANNEL, ASKER, text)

    def reply(self, thread_ts: str, text: str) -> str:
        return self.sim.slack.post(CHANNEL, ASKER, text, thread_ts=thread_ts)

    def comment(self, ticket_id: int, text: str) -> None:
        self.sim.zendesk.agent_comment(ticket_id, self.helper, text)


def reads(sim: Simulator) -> dict[str, int]:
    """Read calls since the last reset, by endpoint."""
    calls: dict[str, int] = {}
    for service in sim.services:
        for name, n in service.calls.items():
            if name not in WRITE_ENDPOINTS:
                calls[name] = calls.get(name, 0) + n
    return calls


def settle(engine, attempts: int = 10) -> None:
    """Cycles until one has nothing left to do."""
    for _ in range(attempts):
        result = engine.cycle()
        if result.ok and not result.actions:
            return
    raise RuntimeError(f"zsc did not settle in {attempts} cycles: {result}")


def open_threads(team: Team, engine, n: int) -> list:
    """`n` new questions in the channel, each mirrored to a ticket; their issues."""
    engine.cycle()  # start positions (on a new store): only what is asked from now on is zsc's
    known = {issue.id for issue in engine.store.open_issues()}
    for i in range(n):
        team.ask(f"request {i}")
    settle(engine, attempts=20)
    issues = [issue for issue in engine.store.open_issues() if issue.id not in known]
    if len(issues) != n:
        raise RuntimeError(f"asked {n} questions, zsc opened {len(issues)} issues")
    return issues


def mirrored(engine) -> int:
    epoch = datetime(1970, 1, 1)
    return sum(engine.store.mirrored_since(direction, epoch) for direction in (TO_SLACK, TO_ZENDESK))


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile (p in 0..100); None without values."""
    if not values:
        return None
    ranked = sorted(values)
    return ranked[max(0, math.ceil(p / 100 * len(ranked)) - 1)]
