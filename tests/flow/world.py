"""A simulated support team for flow tests: a Slack workspace with a support
channel and people, a Zendesk with an agent and a group, PagerDuty with a policy,
a config file pointing zsc at all three, and helpers to run the real CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner, Result

from zsc.cli import main
from zsc.config import to_toml
from zsc.simulator import Simulator
from zsc.simulator.team import api_sections

CHANNEL = "CSUPPORT"
ZD_TOKEN = "zd-secret-token-1234"
PD_TOKEN = "pd-secret-key-5678"
SLACK_TOKEN = "xoxb-sim-token"


@dataclass
class World:
    sim: Simulator
    tmp: Path
    config_path: Path = field(init=False)
    agent_id: int = 0
    group_id: int = 0
    extra_config: str = ""
    # zsc's own pace for posts to one channel: off here, as the simulator's post limit is
    # off (tests freeze the clock and post many messages at one instant); the pacing
    # tests (test_pacing.py) turn both on.
    post_interval: float = 0.0

    def __post_init__(self) -> None:
        slack, zd = self.sim.slack, self.sim.zendesk
        slack.add_channel(CHANNEL, "support")
        slack.add_channel("COTHER", "random")
        slack.add_user("UANN", "ann", email="ann@example.com", real_name="Ann Example", display_name="Ann")
        slack.add_user("UBOB", "bob", email=None, real_name="Bob NoEmail", display_name="Bob")
        slack.add_user("UCAT", "cat", email="cat@example.com", real_name="Cat Staff", display_name="Cat")
        self.agent_id = zd.add_agent("Support Bot", "bot@example.com")
        self.other_agent = zd.add_agent("Zoe Agent", "zoe@example.com")
        self.group_id = zd.add_group("Support", agent_ids=[self.agent_id, self.other_agent])
        zd.add_api_token("bot@example.com", ZD_TOKEN)
        self.sim.pagerduty.add_api_key(PD_TOKEN)
        self.sim.pagerduty.add_policy("PPOLICY", "Support on call")
        self.config_path = self.tmp / "config.toml"
        self.write_config()

    def write_config(self, extra: str | None = None, **sync: object) -> None:
        """The config file: the simulator's APIs, a store in the test's directory,
        fast polling, `sync` overrides for [sync], and `extra` TOML appended."""
        if extra is not None:
            self.extra_config = extra
        sections = api_sections(self.sim, channel=CHANNEL, zendesk_email="bot@example.com", zendesk_token=ZD_TOKEN,
                                agent_user_id=self.agent_id, group_id=self.group_id)
        sections["slack"]["channel_post_interval"] = self.post_interval
        sections["database"] = {"url": f"sqlite:///{self.tmp}/zsc.db"}
        sections["sync"] = {"slack_interval": 1, "zendesk_interval": 1, "http_timeout": 1.0, **sync}
        self.config_path.write_text(to_toml(sections) + "\n" + self.extra_config)

    # ---- running zsc ----
    def zsc(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["--config", str(self.config_path), *args], input=input, catch_exceptions=False)

    def sync(self, *args: str) -> Result:
        return self.zsc("sync-once", *args)

    def sync_until_clean(self, attempts: int = 5, clock=None) -> None:
        """Run `sync-once` until a cycle completes without failures (a lost answer is
        resolved on the next cycle); `clock` (freezegun) moves on between tries."""
        for _ in range(attempts):
            result = self.sync()
            if result.exit_code == 0:
                return
            if clock is not None:
                clock.tick(2)
        raise AssertionError(f"sync never came clean:\n{result.output}")

    def conversation(self) -> tuple[str, int]:
        """A whole conversation (a question, a reply by someone without a Zendesk
        account, an agent's answer); returns the thread ts and the ticket id."""
        self.sync()
        ts = self.ask("Disk full on build-07")
        self.sync_until_clean()
        ticket_id = self.only_ticket()["id"]
        self.reply(ts, "it is at 100%", user="UBOB")
        self.sim.zendesk.agent_comment(ticket_id, self.other_agent, "Cleaning up now")
        self.sync_until_clean()
        return ts, ticket_id

    def kill_sync_when(self, happened, what: str, timeout: float = 20.0) -> None:
        """A real crash: run `zsc sync-once` in a child process and kill -9 it as soon
        as `happened()` is true on the simulator (the effect is applied, zsc has not
        heard back yet: pair it with a "slow" fault)."""
        env = dict(os.environ, NO_PROXY="127.0.0.1,localhost")
        proc = subprocess.Popen([sys.executable, "-m", "zsc", "--config", str(self.config_path), "sync-once"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + timeout
            while not happened() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert happened(), f"{what} never happened"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    # ---- acting as people ----
    def ask(self, text: str, user: str = "UANN", **kwargs) -> str:
        return self.sim.slack.post(CHANNEL, user, text, **kwargs)

    def reply(self, thread_ts: str, text: str, user: str = "UANN", **kwargs) -> str:
        return self.sim.slack.post(CHANNEL, user, text, thread_ts=thread_ts, **kwargs)

    def thread(self, thread_ts: str) -> list[dict]:
        return self.sim.slack.thread(CHANNEL, thread_ts)

    def bot_texts(self, thread_ts: str) -> list[str]:
        return [m["text"] for m in self.thread(thread_ts) if m.get("bot_id")]

    def tickets(self) -> list[dict]:
        return self.sim.zendesk.tickets()

    def only_ticket(self) -> dict:
        tickets = self.tickets()
        assert len(tickets) == 1, tickets
        return tickets[0]

    def comments(self, ticket_id: int) -> list[dict]:
        return self.sim.zendesk.comments(ticket_id)

    def writes(self) -> int:
        """API calls that change something, on every service."""
        slack = self.sim.slack.calls["chat.postMessage"]
        zd = sum(n for name, n in self.sim.zendesk.calls.items() if name in ("tickets.create", "tickets.update", "users.create"))
        return slack + zd
