"""Standalone simulator: `python -m zsc.simulator [--slack-port N --zendesk-port N
--pagerduty-port N --latency-ms N]` serves fake Slack, Zendesk and PagerDuty APIs with a small
support team in them, prints a config that points zsc at them, and takes commands
on stdin to act as the people (type `help`) until Ctrl-C or `quit`. Handy for
trying zsc by hand: save the config, run `zsc --config FILE run` in another terminal."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from zsc.simulator import Simulator
from zsc.simulator.team import api_sections, pagerduty_section, to_toml

CHANNEL = "CSUPPORT"


def seed(sim: Simulator) -> dict[str, int]:
    sim.slack.add_channel(CHANNEL, "support")
    sim.slack.add_user("UANN", "ann", email="ann@example.com", real_name="Ann Example", display_name="Ann")
    bot = sim.zendesk.add_agent("zsc bot", "zsc-bot@example.com")
    agent = sim.zendesk.add_agent("Zoe (support)", "zoe@example.com")
    group = sim.zendesk.add_group("Support", agent_ids=[bot, agent])
    sim.zendesk.add_api_token("zsc-bot@example.com", "sim-zendesk-token")
    sim.pagerduty.add_api_key("sim-pagerduty-key")
    sim.pagerduty.set_oncall("PSIM", 1, [("Priya Primary", "priya@example.com")])
    return {"bot": bot, "agent": agent, "group": group}


def config_for(sim: Simulator, ids: dict[str, int], scratch: Path) -> str:
    """The config for zsc. Its database is a throw-away file in `scratch`: the simulated
    accounts vanish with this process, so their state must not land in (or mix with)
    the user's default state directory."""
    sections = api_sections(sim, channel=CHANNEL, zendesk_email="zsc-bot@example.com",
                            zendesk_token="sim-zendesk-token", agent_user_id=ids["bot"], group_id=ids["group"])
    sections["pagerduty"] = pagerduty_section(sim, "sim-pagerduty-key", "PSIM")
    sections["database"] = {"url": f"sqlite:///{scratch / 'zsc.db'}"}
    return to_toml(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("slack", "zendesk", "pagerduty"):
        parser.add_argument(f"--{name}-port", type=int, default=0, help=f"port for the fake {name} API (0: any free one)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="simulated round-trip time of every API call, in milliseconds (default 0)")
    args = parser.parse_args()
    sim = Simulator()
    sim.slack.set_post_limit()  # as Slack: about one message a second per channel
    sim.set_latency(args.latency_ms / 1000)
    sim.slack.start(args.slack_port)
    sim.zendesk.start(args.zendesk_port)
    sim.pagerduty.start(args.pagerduty_port)
    ids = seed(sim)
    done = threading.Event()
    # Before anything is printed: whoever reads the config may stop us at once, and the
    # scratch directory must still be removed.
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    scratch = Path(tempfile.mkdtemp(prefix="zsc-simulator-"))
    try:
        print("# Simulated Slack, Zendesk and PagerDuty are up. A config for zsc")
        print(f"# (its database is a throw-away file in {scratch}, removed when the simulator stops):\n")
        print(config_for(sim, ids, scratch))
        print("# Type `help` for the commands that act as people; Ctrl-C or `quit` stops the simulator.", flush=True)
        if sys.stdin.isatty():
            console(sim, ids, done)
        else:
            done.wait()
    except (KeyboardInterrupt, EOFError):
        pass
    finally:
        sim.stop()
        shutil.rmtree(scratch, ignore_errors=True)

HELP = """ask TEXT                 Ann posts TEXT in #support (prints its ts)
reply TS TEXT            Ann replies in the thread TS
comment TICKET TEXT      Zoe adds a public comment in Zendesk
note TICKET TEXT         Zoe adds an internal note
solve TICKET             Zoe solves the ticket;  close TICKET closes it
email ADDRESS SUBJECT    an email ticket arrives in the group
show                     what is in Slack and Zendesk now
quit"""


def console(sim: Simulator, ids: dict[str, int], done: threading.Event) -> None:
    slack, zd = sim.slack, sim.zendesk
    actions = {
        "ask": lambda rest: print(slack.post(CHANNEL, "UANN", rest)),
        "reply": lambda rest: print(slack.post(CHANNEL, "UANN", rest.split(" ", 1)[1], thread_ts=rest.split(" ", 1)[0])),
        "comment": lambda rest: zd.agent_comment(int(rest.split(" ", 1)[0]), ids["agent"], rest.split(" ", 1)[1]),
        "note": lambda rest: zd.internal_note(int(rest.split(" ", 1)[0]), ids["agent"], rest.split(" ", 1)[1]),
        "solve": lambda rest: zd.solve(int(rest), ids["agent"]),
        "close": lambda rest: zd.close(int(rest)),
        "email": lambda rest: print(zd.receive_email(rest.split(" ", 1)[0].split("@")[0], rest.split(" ", 1)[0],
                                                     rest.split(" ", 1)[1], rest.split(" ", 1)[1], group_id=ids["group"])),
        "show": lambda rest: show(sim),
        "help": lambda rest: print(HELP),
    }
    while not done.is_set():
        word, _, rest = input("sim> ").strip().partition(" ")
        if word in ("quit", "exit"):
            return
        try:
            actions.get(word, lambda rest: print("unknown command; type help"))(rest)
        except (IndexError, ValueError, KeyError) as exc:
            print(f"could not do that: {exc!r}; type help")


def show(sim: Simulator) -> None:
    for message in sim.slack.messages(CHANNEL):
        print(f"slack {message['ts']}: {message['text']}")
        for reply in sim.slack.thread(CHANNEL, message["ts"]):
            print(f"    {reply['ts']}: {reply['text']}")
    for ticket in sim.zendesk.tickets():
        print(f"zendesk #{ticket['id']} [{ticket['status']}] {ticket['subject']}")
        for comment in sim.zendesk.comments(ticket["id"]):
            print(f"    {'public' if comment['public'] else 'note  '}: {comment['body'][:100]}")


if __name__ == "__main__":
    main()
