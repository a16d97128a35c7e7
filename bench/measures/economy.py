"""API economy, counted with the simulator's call counters (so machine speed does
not matter): the reads of an idle cycle, of the cycle after mirroring, the Zendesk
cycles a quiet ticket waits, and the incremental export's busiest minute and 429s."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from freezegun import freeze_time

from bench.team import CHANNEL, Team, open_threads, reads, settle
from zsc.simulator import Simulator
from zsc.sync import build_engine


def idle_cycle(workdir: Path, threads: int = 200) -> dict:
    """Read calls of one idle cycle with `threads` open threads (target: 3 + one
    show_many per 100 open tickets)."""
    start = datetime.now(timezone.utc)
    with Simulator() as sim:
        team = Team(sim, workdir / "idle")
        engine = build_engine(team.config)
        issues = open_threads(team, engine, threads)
        # 40 minutes later nothing has happened. The first cycle then still sees the
        # tickets' creation arrive through Zendesk's (one-minute-late) export; the
        # cycle after that is the steady idle state we measure.
        with freeze_time(start + timedelta(minutes=40), tick=True):
            engine.cycle()
            sim.reset_calls()
            engine.cycle()
            calls = reads(sim)
        engine.close()
    return {"open_threads": len(issues), "read_calls": sum(calls.values()), "by_endpoint": calls,
            "target": 3 + -(-len(issues) // 100)}


def after_mirroring(workdir: Path, threads: int = 20) -> dict:
    """Read calls of the cycle after zsc mirrored a reply and a comment in each of
    `threads` threads: nothing of its own is read back (target 3 + one show_many)."""
    with Simulator() as sim:
        team = Team(sim, workdir / "after")
        engine = build_engine(team.config)
        issues = open_threads(team, engine, threads)
        for issue in issues:
            team.reply(issue.thread_ts, "one more detail")
            team.comment(issue.ticket_id, "an answer")
        settle(engine)
        sim.reset_calls()
        engine.cycle()
        calls = reads(sim)
        engine.close()
    return {"mirrored": 2 * threads, "read_calls": sum(calls.values()), "by_endpoint": calls,
            "target": 3 + -(-threads // 100)}


def quiet_ticket(workdir: Path) -> dict:
    """Zendesk polls until a comment on a ticket untouched for a day is in its thread
    (target 1: seen within one interval)."""
    start = datetime.now(timezone.utc)
    with Simulator() as sim, freeze_time(start, tick=True) as clock:
        team = Team(sim, workdir / "quiet")
        engine = build_engine(team.config)
        [issue] = open_threads(team, engine, 1)
        clock.tick(timedelta(days=1))
        settle(engine)
        team.comment(issue.ticket_id, "answered a day later")
        polls = 0
        while polls < 10 and not any("answered a day later" in m["text"]
                                     for m in sim.slack.thread(CHANNEL, issue.thread_ts)):
            polls += 1
            engine.poll("zendesk")
            clock.tick(1)
        engine.close()
    return {"zendesk_polls": polls, "target": 1}


def export_budget(workdir: Path, rtt: float, threads: int = 5, seconds: int = 120) -> dict:
    """Two simulated minutes of polls every second, both sides, against Zendesk's real
    rate limits (the export's 10 calls a minute, the account's global limit): the
    export's busiest minute (target <= 10) and every 429 zsc was answered (target 0)."""
    start = datetime.now(timezone.utc)
    with Simulator() as sim, freeze_time(start, tick=True) as clock:
        team = Team(sim, workdir / "export", real_limits=True, slack_interval=1, zendesk_interval=1)
        engine = build_engine(team.config)
        issues = open_threads(team, engine, threads)
        sim.set_latency(rtt)
        sim.reset_calls()
        per_minute: dict[int, int] = {}
        for second in range(seconds):
            before = sim.zendesk.calls["incremental.tickets"]
            engine.poll("slack")
            engine.poll("zendesk")
            per_minute[second // 60] = per_minute.get(second // 60, 0) + sim.zendesk.calls["incremental.tickets"] - before
            if second % 10 == 0:  # a little traffic: a comment on one of the tickets
                team.comment(issues[second // 10 % len(issues)].ticket_id, f"update {second}")
            clock.tick(1)
        refused = {f"{endpoint} {status}": n for service in sim.services
                   for (endpoint, status), n in service.answers.items() if status == 429}
        engine.close()
    return {"busiest_minute_calls": max(per_minute.values()), "per_minute": list(per_minute.values()),
            "answers_429": sum(refused.values()), "by_endpoint_429": refused, "rtt_ms": round(rtt * 1000),
            "target_calls": 10, "target_429": 0}
