"""`make demo`: the whole flow against the bundled simulator, no accounts needed.

Starts the simulated Slack, Zendesk and PagerDuty, writes a throw-away config,
runs the real `zsc run` daemon in a child process against them, plays a short
support conversation as people would, and prints what appeared where."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from zsc.config import to_toml
from zsc.simulator import Simulator
from zsc.simulator.team import api_sections, pagerduty_section

CHANNEL = "CSUPPORT"
PLATFORM = "CPLATFORM"
SCOPES = ("channels:history", "groups:history", "channels:read", "groups:read", "chat:write", "users:read",
          "users:read.email", "files:read", "files:write", "reactions:read", "reactions:write", "chat:write.customize")
STEP_TIMEOUT = 20.0
SCREENSHOT = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048  # stands in for a real screenshot


class Demo:
    def __init__(self, sim: Simulator, workdir: Path) -> None:
        self.sim = sim
        self.workdir = workdir
        self.seen: set[tuple] = set()
        zd = sim.zendesk
        sim.slack.add_channel(CHANNEL, "support")
        sim.slack.add_channel(PLATFORM, "platform")
        sim.slack.add_token(sim.slack.bot_token, SCOPES)  # status reactions need reactions:write
        sim.slack.add_user("UANN", "ann", email="ann@example.com", real_name="Ann Example", display_name="Ann")
        self.bot = zd.add_agent("zsc bot", "zsc-bot@example.com")
        self.agent = zd.add_agent("Zoe (support)", "zoe@example.com")
        self.group = zd.add_group("Support", agent_ids=[self.bot, self.agent])
        self.platform_group = zd.add_group("Platform", agent_ids=[self.bot, self.agent])
        zd.add_api_token("zsc-bot@example.com", "demo-zendesk-token")
        sim.pagerduty.add_api_key("demo-pagerduty-key")
        sim.pagerduty.set_oncall("PDEMO", 1, [("Priya Primary", "priya@example.com")])
        sim.pagerduty.set_oncall("PDEMO", 2, [("Sam Secondary", "sam@example.com")])
        self.config = workdir / "config.toml"
        sections = api_sections(sim, channel=CHANNEL, zendesk_email="zsc-bot@example.com",
                                zendesk_token="demo-zendesk-token", agent_user_id=self.bot, group_id=self.group)
        sections["slack"]["workspace_uri"] = "https://demo.slack.com/"
        sections["pagerduty"] = pagerduty_section(sim, "demo-pagerduty-key", "PDEMO")
        sections["database"] = {"url": f"sqlite:///{workdir}/zsc.db"}
        sections["sync"] = {"slack_interval": 0.5, "zendesk_interval": 0.5}
        sections["report"] = {"enabled": False}
        sections["status_reactions"] = {"enabled": True}
        self.config.write_text(to_toml(sections) + f'\n[[channels]]\nid = "{PLATFORM}"\n'
                               f'group_id = {self.platform_group}\ntags = ["platform"]\n')

    # ---- showing what happened ----
    def show_new(self) -> None:
        slack, zd = self.sim.slack, self.sim.zendesk
        for channel, name in ((CHANNEL, "#support"), (PLATFORM, "#platform")):
            for message in slack.messages(channel):
                self._print(("slack", message["ts"]), f"Slack {name}", self.who(message), with_files(message))
                shown = self.status_reactions(channel, message["ts"])
                if shown:
                    self._print(("reaction", message["ts"], *shown), f"Slack {name}", "zsc reacts",
                                " ".join(f":{r}:" for r in shown))
                for reply in slack.thread(channel, message["ts"]):
                    self._print(("slack", reply["ts"]), "Slack thread", self.who(reply), with_files(reply))
        groups = {self.group: "Support", self.platform_group: "Platform"}
        for ticket in zd.tickets():
            self._print(("ticket", ticket["id"], ticket["status"]), f"Zendesk #{ticket['id']}", "status",
                        f"{ticket['status']} — {ticket['subject']} (group {groups.get(ticket['group_id'], '?')})")
            for comment in zd.comments(ticket["id"]):
                kind = "public" if comment["public"] else "internal note"
                author = zd.user(comment["author_id"])["name"]
                files = "".join(f"\n📎 attached: {a['file_name']} ({a['size']} bytes)" for a in comment["attachments"])
                self._print(("comment", comment["id"]), f"Zendesk #{ticket['id']}", f"{author} ({kind})",
                            comment["body"] + files)

    def _print(self, key: tuple, where: str, who: str, text: str) -> None:
        if key in self.seen:
            return
        self.seen.add(key)
        first, *rest = (text or "").splitlines() or [""]
        print(f"  {where:<14} │ {who}: {first}")
        for line in rest[:4]:
            print(f"  {'':<14} │   {line}")

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            self.show_new()
            if condition():
                return
            time.sleep(0.1)
        raise SystemExit(f"demo: timed out waiting for {what}")

    def who(self, message: dict) -> str:
        if message.get("bot_id"):
            return "zsc"
        user = self.sim.slack.users.get(message.get("user"), {})
        return user.get("real_name") or message.get("user", "?")

    def status_reactions(self, channel: str, ts: str) -> list[str]:
        me = self.sim.slack.workspace.bot_user_id
        [message] = [m for m in self.sim.slack.messages(channel) if m["ts"] == ts] or [{}]
        return [r["name"] for r in message.get("reactions", []) if me in r["users"]]

    def bot_replies(self, thread_ts: str) -> list[str]:
        return [m["text"] for m in self.sim.slack.thread(CHANNEL, thread_ts) if m.get("bot_id")]

    # ---- the conversation ----
    def play(self) -> None:
        slack, zd = self.sim.slack, self.sim.zendesk
        step("Ann asks for help in #support")
        ts = slack.post(CHANNEL, "UANN", "Deploys to staging fail with a 502 since this morning :sob:")
        self.wait_for("the ticket and the on-call message",
                      lambda: zd.tickets() and any("on call" in t for t in self.bot_replies(ts)))
        ticket = zd.tickets()[0]["id"]

        step("Zoe answers in Zendesk (a public reply and an internal note)")
        zd.agent_comment(ticket, self.agent, "Looking at it now. Can you send the deploy id? Where to find it:",
                         attachments=[("where-is-the-deploy-id.png", SCREENSHOT, "image/png")])
        zd.internal_note(ticket, self.agent, "Probably the load balancer again (internal, never shown in Slack)")
        self.wait_for("Zoe's reply and screenshot in the thread",
                      lambda: any("deploy id" in t for t in self.bot_replies(ts))
                      and any(m.get("files") for m in slack.thread(CHANNEL, ts)))

        step("Ann replies in the thread with a screenshot, then asks zsc for help")
        slack.post_file(CHANNEL, "UANN", "It is deploy 4242", "deploy-4242.png", SCREENSHOT, thread_ts=ts)
        self.wait_for("Ann's reply and screenshot on the ticket",
                      lambda: any("4242" in c["body"] and c["attachments"] for c in zd.comments(ticket)))
        slack.post(CHANNEL, "UANN", "help", thread_ts=ts)
        self.wait_for("the help reply", lambda: any("resolve" in t and "help" in t for t in self.bot_replies(ts)))

        step("Zoe sets the ticket pending: the thread's status reaction follows")
        zd.set_status(ticket, "pending", self.agent)
        self.wait_for("the pending reaction",
                      lambda: self.status_reactions(CHANNEL, ts) == ["hourglass_flowing_sand"])

        step("Zoe solves the ticket in Zendesk")
        zd.solve(ticket, self.agent)
        self.wait_for("the solved notice", lambda: any("solved" in t for t in self.bot_replies(ts)))
        self.wait_for("the solved reaction", lambda: self.status_reactions(CHANNEL, ts) == ["white_check_mark"])

        step("Bob asks in #platform: a second channel, its own Zendesk group")
        slack.add_user("UBOB", "bob", email="bob@example.com", real_name="Bob Builder", display_name="Bob")
        slack.post(PLATFORM, "UBOB", "The build cache is full on runner-3")
        self.wait_for("the platform ticket",
                      lambda: any(t["group_id"] == self.platform_group for t in zd.tickets()))
        step("Ann asks something else; nobody has answered it yet (the report marks it)")
        slack.post(CHANNEL, "UANN", "Can I get access to the billing dashboard?")
        self.wait_for("the third ticket", lambda: len(zd.tickets()) == 3)
        internal = any("load balancer" in t for t in self.bot_replies(ts))
        print("\n  The internal note stayed in Zendesk." if not internal else "\n  BUG: the internal note leaked!")
        if internal:
            raise SystemExit(1)


def with_files(message: dict) -> str:
    """A Slack message's text and the files shared with it."""
    files = "".join(f"\n📎 {f['name']} ({f.get('size', '?')} bytes)" for f in message.get("files") or [])
    return (message.get("text") or "") + files if files else message.get("text") or ""


def step(text: str) -> None:
    print(f"\n▶ {text}")


def main() -> int:
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with tempfile.TemporaryDirectory(prefix="zsc-demo-") as tmp, Simulator() as sim:
        sim.slack.set_post_limit()  # Slack's pace for posts per channel: zsc keeps to it
        demo = Demo(sim, Path(tmp))
        print("zsc demo: simulated Slack, Zendesk and PagerDuty are up; starting `zsc run`.")
        env = dict(os.environ, STATE_DIRECTORY=tmp)
        log = open(Path(tmp) / "zsc.log", "w")
        daemon = subprocess.Popen([sys.executable, "-m", "zsc", "--config", str(demo.config), "run"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            demo.wait_for("zsc to start", lambda: sim.slack.calls["conversations.history"] > 0)
            demo.sim.slack.calls.clear()
            demo.play()
        except SystemExit as exc:
            print(exc, file=sys.stderr)
            print((Path(tmp) / "zsc.log").read_text()[-3000:], file=sys.stderr)
            return 1
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=15)
        print(f"\nzsc stopped cleanly (exit {code}). Everything above was mirrored by the real daemon, over HTTP.")
        refused = sum(sim.slack.post_limited.values())
        if refused:  # zsc paces its posts per channel: Slack should never have to refuse one
            print(f"Slack refused {refused} post(s) for going faster than one a second per channel", file=sys.stderr)
        show_report(demo.config)
        return 0 if code == 0 and not refused else 1


def show_report(config_path: Path) -> None:
    """What `zsc report --dry-run` prints now: the day so far, with response times."""
    from zsc.config import load_config
    from zsc.report import as_of
    from zsc.store import utcnow
    from zsc.sync.runs import report

    config = load_config(config_path)
    day, at = as_of(config, utcnow())
    text, _ = report(config, day, at, dry_run=True)
    step("The daily report, as `zsc report --dry-run` prints it")
    for line in (text or "").splitlines():
        print(f"  {line}")


if __name__ == "__main__":
    sys.exit(main())
