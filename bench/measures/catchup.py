"""The CPU zsc spends per mirrored item, in a catch-up of 5,000 Slack replies and
5,000 Zendesk comments that arrived while it was down. Run with no simulated
round-trip time: this measures CPU, not waiting."""

from __future__ import annotations

import time
from pathlib import Path

from bench.team import Team, mirrored, open_threads
from zsc.simulator import Simulator
from zsc.sync import build_engine


class ApiClock:
    """CPU time the syncing thread spends inside API calls (the client libraries'
    encoding, HTTP and decoding), so zsc's own work can be told apart."""

    def __init__(self) -> None:
        self.cpu = 0.0

    def __enter__(self):
        from zsc.adapters import ratelimit

        self._real = real = ratelimit.RateGate.call
        clock = self

        def timed(gate, fn, **kwargs):
            t0 = time.thread_time()
            try:
                return real(gate, fn, **kwargs)
            finally:
                clock.cpu += time.thread_time() - t0

        ratelimit.RateGate.call = timed
        return self

    def __exit__(self, *exc) -> None:
        from zsc.adapters import ratelimit

        ratelimit.RateGate.call = self._real


def catch_up(workdir: Path, threads: int = 100, per_thread: int = 50) -> dict:
    with Simulator() as sim:
        team = Team(sim, workdir / "catchup")
        engine = build_engine(team.config)
        issues = open_threads(team, engine, threads)
        # zsc is down while 5,000 replies and 5,000 comments arrive.
        for issue in issues:
            for j in range(per_thread):
                team.reply(issue.thread_ts, f"reply {j}")
                team.comment(issue.ticket_id, f"comment {j}")
        before = mirrored(engine)
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        cycles = 0
        with ApiClock() as api:
            while True:
                cycles += 1
                result = engine.cycle()
                if result.ok and not result.actions:
                    break
        wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
        own = cpu - api.cpu
        count = mirrored(engine) - before
        engine.close()
    return {
        "backlog": threads * per_thread * 2, "mirrored": count, "cycles": cycles, "rtt_ms": 0,
        "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "client_library_cpu_seconds": round(api.cpu, 2),
        "zsc_own_cpu_seconds": round(own, 2),
        "zsc_cpu_ms_per_item": round(own / count * 1000, 3), "cpu_ms_per_item": round(cpu / count * 1000, 3),
        "items_per_second_wall": round(count / wall), "items_per_second_cpu": round(count / cpu),
        "items_per_second_zsc_side": round(count / own),
        "target_zsc_cpu_ms_per_item": 1.0,
    }
