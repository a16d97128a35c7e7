"""Steady memory of the real `zsc run` on SQLite under light traffic: its VmRSS
after a warm-up, and how fast it grows over the cycles that follow (a leak shows
as growth per 1,000 cycles; the target is about zero).

The intervals are short (many cycles in a few minutes) and the round-trip time is
0: memory depends on what zsc keeps, not on how long it waits."""

from __future__ import annotations

import random
import time
from pathlib import Path

from bench.child import ZscRun
from bench.team import Team
from zsc.simulator import Simulator

MAX_THREADS = 30  # light traffic: a bounded set of conversations


def steady_rss(workdir: Path, seed: int, interval: float = 0.2, warmup: float = 30.0, measure: float = 120.0,
               sample_every: float = 5.0, event_every: float = 1.5) -> dict:
    rng = random.Random(seed)
    with Simulator() as sim:
        team = Team(sim, workdir / "rss", paced=True, slack_interval=interval, zendesk_interval=interval)
        with ZscRun(team.config_file(), sim) as zsc:
            threads: list[str] = []
            samples: list[dict] = []
            start = time.monotonic()
            next_event = next_sample = start
            while (elapsed := time.monotonic() - start) < warmup + measure:
                now = time.monotonic()
                if now >= next_event:
                    light_traffic(team, rng, threads)
                    next_event = now + rng.expovariate(1 / event_every)
                if elapsed >= warmup and now >= next_sample:
                    samples.append({"seconds": round(elapsed, 1), "cycles": cycles(sim), "rss_kib": zsc.rss_kib(),
                                    "slack_reads": sim.slack.calls["conversations.history"]})
                    next_sample = now + sample_every
                zsc.check_alive()
                time.sleep(0.05)
            samples.append({"seconds": round(time.monotonic() - start, 1), "cycles": cycles(sim),
                            "rss_kib": zsc.rss_kib(), "slack_reads": sim.slack.calls["conversations.history"]})
    first, last = samples[0], samples[-1]
    measured = last["cycles"] - first["cycles"]
    slope = fitted_slope([s["cycles"] for s in samples], [s["rss_kib"] for s in samples])
    return {"interval_seconds": interval, "rtt_ms": 0, "warmup_seconds": warmup, "threads": len(threads),
            "cycles_at_warmup": first["cycles"], "cycles_measured": measured,
            "rss_after_warmup_mib": mib(first["rss_kib"]), "steady_rss_mib": mib(last["rss_kib"]),
            "growth_mib_per_1000_cycles": round(slope * 1000 / 1024, 2) if slope is not None else None,
            "samples": samples, "target_rss_mib": 45, "target_growth_mib_per_1000_cycles": 1.0}


def light_traffic(team: Team, rng: random.Random, threads: list[str]) -> None:
    """One thing a person does: ask (while there are few conversations), reply in a
    thread, or answer in Zendesk."""
    tickets = [t["id"] for t in team.sim.zendesk.tickets() if t["status"] not in ("solved", "closed")]
    roll = rng.random()
    if not threads or (roll < 0.2 and len(threads) < MAX_THREADS):
        threads.append(team.ask(f"question {len(threads)}"))
    elif roll < 0.6 or not tickets:
        team.reply(rng.choice(threads), f"more detail {rng.randrange(10**6)} :thumbsup:")  # shortcodes, as people type
    else:
        team.comment(rng.choice(tickets), f"an answer {rng.randrange(10**6)}")


def cycles(sim: Simulator) -> int:
    """The daemon's cycles so far, counted as its Zendesk polls (one show_many each while
    tickets are open). Its Slack job runs as often, but reads history at most every
    1.5 s: zsc keeps within Slack's budget for conversations.history."""
    return sim.zendesk.calls["tickets.show_many"]


def fitted_slope(xs: list[int], ys: list[int]) -> float | None:
    """Least-squares slope of ys over xs (KiB per cycle): one noisy sample moves it little."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def mib(kib: int) -> float:
    return round(kib / 1024, 1)
