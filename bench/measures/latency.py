"""Latency each way, measured end to end: the real `zsc run` polls a simulator whose
every call takes the round-trip time; people's messages and comments arrive at
random (seeded) moments, and the bench times each until it is on the other side.

Hot tickets had activity in the last 30 minutes (they were opened just before the
run). Quiet ones were opened a day earlier (simulated: the Slack thread, the ticket
and zsc's records all date from then) and get exactly one event each, so they are
still quiet when it comes. The intervals are shortened for the run; the targets
scale with them (interval + 2 s)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from freezegun import freeze_time

from bench.child import ZscRun
from bench.team import CHANNEL, Team, open_threads, percentile, settle
from zsc.simulator import Simulator
from zsc.sync import build_engine

DIRECTIONS = {"slack_to_zendesk": "slack_interval", "zendesk_to_slack": "zendesk_interval"}
HOT_TICKETS = 10
POLL_EVERY = 0.05  # seconds between the bench's looks at the far side


@dataclass
class Event:
    at: float  # seconds into the run
    direction: str
    kind: str  # "hot" or "quiet"
    issue: object
    text: str = ""
    sent: float = 0.0
    latency: float | None = None


def latency(workdir: Path, rtt: float, seed: int, per_kind: int = 20, window: float = 90.0,
            slack_interval: float = 2.0, zendesk_interval: float = 3.0, give_up: float = 60.0) -> dict:
    rng = random.Random(seed)
    with Simulator() as sim:
        team = Team(sim, workdir / "latency", paced=True, slack_interval=slack_interval, zendesk_interval=zendesk_interval)
        quiet, hot = prepare(team, quiet_count=2 * per_kind)
        events = [Event(rng.uniform(0, window), "slack_to_zendesk" if n < per_kind else "zendesk_to_slack", "quiet", issue)
                  for n, issue in enumerate(quiet)]
        events += [Event(rng.uniform(0, window), direction, "hot", rng.choice(hot))
                   for direction in DIRECTIONS for _ in range(per_kind)]
        events.sort(key=lambda e: e.at)
        for n, event in enumerate(events):
            event.text = f"bench {event.direction} {event.kind} event {n:03d} done"
        sim.set_latency(rtt)
        with ZscRun(team.config_file(), sim) as zsc:
            sim.reset_calls()
            play(team, zsc, events, give_up)
            calls = dict(sim.slack.calls) | dict(sim.zendesk.calls)
            refused = {f"{endpoint} {status}": n for service in sim.services
                       for (endpoint, status), n in service.answers.items() if status == 429}
    intervals = {"slack_interval": slack_interval, "zendesk_interval": zendesk_interval}
    results: dict = {"rtt_ms": round(rtt * 1000), "seed": seed, "window_seconds": window, **intervals,
                     "answers_429": sum(refused.values()), "by_endpoint_429": refused,
                     "slack_polls": calls.get("conversations.history", 0), "show_many_calls": calls.get("tickets.show_many", 0)}
    for direction, interval in DIRECTIONS.items():
        for kind in ("hot", "quiet"):
            mine = [e for e in events if e.direction == direction and e.kind == kind]
            seen = [e.latency for e in mine if e.latency is not None]
            results[f"{direction}_{kind}"] = {
                "events": len(mine), "missing": len(mine) - len(seen),
                "p50_s": rounded(percentile(seen, 50)), "p95_s": rounded(percentile(seen, 95)),
                "max_s": rounded(max(seen, default=None)), "target_p95_s": intervals[interval] + 2}
    return results


def prepare(team: Team, quiet_count: int) -> tuple[list, list]:
    """The quiet threads (opened a day ago) and the hot ones (opened now), mirrored by
    an in-process engine on the store `zsc run` will use, without round-trip time."""
    day_ago = datetime.now(timezone.utc) - timedelta(days=1)
    with freeze_time(day_ago, tick=True):
        engine = build_engine(team.config)
        quiet = open_threads(team, engine, quiet_count)
        engine.close()
    engine = build_engine(team.config)
    settle(engine)
    hot = open_threads(team, engine, HOT_TICKETS)
    engine.close()
    stale = [i.ticket_id for i in quiet if updated_at(team, i.ticket_id) > day_ago + timedelta(hours=1)]
    if stale:
        raise RuntimeError(f"quiet tickets {stale} were updated after they were opened: they are not quiet")
    return quiet, hot


def play(team: Team, zsc: ZscRun, events: list[Event], give_up: float) -> None:
    """Fire each event at its moment; time it until it is on the other side."""
    start = time.monotonic()
    waiting: list[Event] = []
    upcoming = list(events)
    while upcoming or waiting:
        now = time.monotonic()
        while upcoming and upcoming[0].at <= now - start:
            event = upcoming.pop(0)
            if event.direction == "slack_to_zendesk":
                team.reply(event.issue.thread_ts, event.text)
            else:
                team.comment(event.issue.ticket_id, event.text)
            event.sent = time.monotonic()
            waiting.append(event)
        for event in list(waiting):
            if arrived(team, event):
                event.latency = time.monotonic() - event.sent
                waiting.remove(event)
            elif time.monotonic() - event.sent > give_up:
                waiting.remove(event)  # counted as missing
        zsc.check_alive()
        time.sleep(POLL_EVERY)


def arrived(team: Team, event: Event) -> bool:
    if event.direction == "slack_to_zendesk":
        return any(event.text in c["body"] for c in team.sim.zendesk.comments(event.issue.ticket_id))
    return any(event.text in m.get("text", "") for m in team.sim.slack.thread(CHANNEL, event.issue.thread_ts)
               if m.get("bot_id"))


def updated_at(team: Team, ticket_id: int) -> datetime:
    stamp = team.sim.zendesk.ticket(ticket_id)["updated_at"]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)
