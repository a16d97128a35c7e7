"""`make bench`: the speed and memory targets, measured against the in-process
simulator (no timed tests; these figures are printed and written to
bench/results.json for a person to judge).

- idle cycle: API read calls of one idle cycle with 200 open threads
  (target <= 3 + one show_many per 100 open tickets)
- after mirroring: read calls of the cycle after zsc mirrored 20 replies and 20
  comments (target: no read caused by its own writes: <= 3 + 1 show_many)
- quiet ticket: Zendesk cycles until a comment on a ticket untouched for a day is in
  its thread (target 1: as fast as the poll interval)
- export budget: incremental-export calls in the busiest minute of 2 simulated minutes
  of 1-second cycles (target <= 10: never refused)
- catch-up: 5,000 Slack replies + 5,000 Zendesk comments backlog (target >= 2,000
  mirrored items/s of zsc-side work: CPU time of the syncing thread outside the API
  client libraries; the totals with them and by the wall clock are printed too)
- peak RSS of that run, `zsc --help` and `zsc status` wall time (target <= 150 ms)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from freezegun import freeze_time

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from zsc.config import parse_config  # noqa: E402
from zsc.simulator import Simulator  # noqa: E402
from zsc.store import TO_SLACK, TO_ZENDESK  # noqa: E402
from zsc.sync import build_engine  # noqa: E402

CHANNEL = "CBENCH"
WRITE_ENDPOINTS = {"chat.postMessage", "tickets.create", "tickets.update", "users.create"}


def make_team(sim: Simulator, workdir: Path):
    sim.slack.add_channel(CHANNEL, "support")
    sim.slack.add_user("UASK", "asker", email="asker@example.com", real_name="Asker")
    zd = sim.zendesk
    zd.set_rate_limit(10**9)  # the benchmark measures zsc, not Zendesk's budget
    agent = zd.add_agent("Bench Bot", "bot@example.com")
    helper = zd.add_agent("Helper", "helper@example.com")
    group = zd.add_group("Support", agent_ids=[agent, helper])
    zd.add_api_token("bot@example.com", "bench-token")
    config = parse_config({
        "slack": {"token": sim.slack.bot_token, "channel": CHANNEL, "workspace_uri": "https://bench.slack.com/",
                  "api_url": f"{sim.slack.url}/api/"},
        "zendesk": {"subdomain": "bench", "email": "bot@example.com", "token": "bench-token",
                    "api_url": sim.zendesk.url, "agent_user_id": agent, "group_id": group},
        "database": {"url": f"sqlite:///{workdir}/bench.db"},
        "sync": {"http_timeout": 30.0},
    }, env={"STATE_DIRECTORY": str(workdir)})
    return config, helper


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


def reads(sim: Simulator) -> dict[str, int]:
    calls: dict[str, int] = {}
    for service in sim.services:
        for name, n in service.calls.items():
            if name not in WRITE_ENDPOINTS:
                calls[name] = calls.get(name, 0) + n
    return calls


def open_threads(engine, sim: Simulator, n: int) -> list:
    engine.cycle()
    for i in range(n):
        sim.slack.post(CHANNEL, "UASK", f"request {i}")
    while True:
        result = engine.cycle()
        if result.ok and not result.actions:
            break
    return engine.store.open_issues()


def mirrored(engine) -> int:
    epoch = datetime(1970, 1, 1)
    return sum(engine.store.mirrored_since(direction, epoch) for direction in (TO_SLACK, TO_ZENDESK))


def idle_cycle(workdir: Path) -> dict:
    start = datetime.now(timezone.utc)
    with Simulator() as sim:
        config, _ = make_team(sim, workdir / "idle")
        engine = build_engine(config)
        issues = open_threads(engine, sim, 200)
        # 40 minutes later nothing has happened. The first cycle then still sees the
        # tickets' creation arrive through Zendesk's (one-minute-late) export; the
        # cycle after that is the steady idle state we measure.
        with freeze_time(start + timedelta(minutes=40), tick=True):
            engine.cycle()
            sim.reset_calls()
            engine.cycle()
            calls = reads(sim)
        engine.close()
    return {"open_threads": len(issues), "read_calls": sum(calls.values()), "by_endpoint": calls, "target": 5}


def catch_up(workdir: Path, threads: int = 100, per_thread: int = 50) -> dict:
    with Simulator() as sim:
        config, helper = make_team(sim, workdir / "catchup")
        engine = build_engine(config)
        issues = open_threads(engine, sim, threads)
        # zsc is down while 5,000 replies and 5,000 comments arrive.
        for issue in issues:
            for j in range(per_thread):
                sim.slack.post(CHANNEL, "UASK", f"reply {j}", thread_ts=issue.thread_ts)
                sim.zendesk.agent_comment(issue.ticket_id, helper, f"comment {j}")
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
        after = mirrored(engine)
        engine.close()
    count = after - before
    return {
        "backlog": threads * per_thread * 2, "mirrored": count, "cycles": cycles,
        "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "client_library_cpu_seconds": round(api.cpu, 2),
        "zsc_own_cpu_seconds": round(own, 2),
        "items_per_second_wall": round(count / wall), "items_per_second_cpu": round(count / cpu),
        "items_per_second_zsc_side": round(count / own),
        "target_items_per_second": 2000,
    }


def after_mirroring(workdir: Path) -> dict:
    with Simulator() as sim:
        config, helper = make_team(sim, workdir / "after")
        engine = build_engine(config)
        issues = open_threads(engine, sim, 20)
        for issue in issues:
            sim.slack.post(CHANNEL, "UASK", "one more detail", thread_ts=issue.thread_ts)
            sim.zendesk.agent_comment(issue.ticket_id, helper, "an answer")
        settle(engine)
        sim.reset_calls()
        engine.cycle()
        calls = reads(sim)
        engine.close()
    return {"read_calls": sum(calls.values()), "by_endpoint": calls, "target": 4}


def quiet_ticket(workdir: Path) -> dict:
    start = datetime.now(timezone.utc)
    with Simulator() as sim, freeze_time(start, tick=True) as clock:
        config, helper = make_team(sim, workdir / "quiet")
        engine = build_engine(config)
        [issue] = open_threads(engine, sim, 1)
        clock.tick(timedelta(days=1))
        settle(engine)
        sim.zendesk.agent_comment(issue.ticket_id, helper, "answered a day later")
        cycles = 0
        while cycles < 10 and not any("answered a day later" in m["text"] for m in sim.slack.thread(CHANNEL, issue.thread_ts)):
            cycles += 1
            engine.poll("zendesk")
            clock.tick(1)
        engine.close()
    return {"zendesk_cycles": cycles, "target": 1}


def export_budget(workdir: Path) -> dict:
    start = datetime.now(timezone.utc)
    with Simulator() as sim, freeze_time(start, tick=True) as clock:
        config, _ = make_team(sim, workdir / "export")
        engine = build_engine(config)
        engine.start()
        per_minute: dict[int, int] = {}
        for second in range(120):
            before = sim.zendesk.calls["incremental.tickets"]
            engine.poll("zendesk")
            per_minute[second // 60] = per_minute.get(second // 60, 0) + sim.zendesk.calls["incremental.tickets"] - before
            clock.tick(1)
        engine.close()
    return {"busiest_minute_calls": max(per_minute.values()), "target": 10}


def settle(engine) -> None:
    for _ in range(10):
        result = engine.cycle()
        if result.ok and not result.actions:
            return


def start_time(args: list[str], runs: int = 7) -> dict:
    exe = Path(sys.executable).with_name("zsc")
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([str(exe), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(samples)), "target_ms": 150}


def status_time(workdir: Path) -> dict:
    config = workdir / "status.toml"
    config.write_text('[slack]\ntoken = "xoxb-bench"\nchannel = "CBENCH"\n[zendesk]\nsubdomain = "bench"\n'
                      'email = "a@example.com"\ntoken = "bench"\nagent_user_id = 1\ngroup_id = 2\n'
                      f'[database]\nurl = "sqlite:///{workdir}/status.db"\n')
    return start_time(["--config", str(config), "status"])


def main() -> None:
    from zsc import logs

    # Log as the daemon does (info, one line per mirrored item), but not to the terminal.
    logs.setup(level="info", style="human", stream=open(os.devnull, "w"))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results = {"idle_cycle": idle_cycle(workdir), "after_mirroring": after_mirroring(workdir),
                   "quiet_ticket": quiet_ticket(workdir), "export_budget": export_budget(workdir),
                   "catch_up": catch_up(workdir), "status": status_time(workdir)}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["help"] = start_time(["--help"])
    idle, catch, help_ = results["idle_cycle"], results["catch_up"], results["help"]
    after, quiet, export = results["after_mirroring"], results["quiet_ticket"], results["export_budget"]
    rows = [
        ("idle cycle read calls (200 open threads)", idle["read_calls"], "<= 5", idle["read_calls"] <= 5),
        ("reads of the cycle after mirroring 40 items", after["read_calls"], "<= 4", after["read_calls"] <= 4),
        ("Zendesk cycles to mirror a quiet ticket", quiet["zendesk_cycles"], "1", quiet["zendesk_cycles"] == 1),
        ("export calls in the busiest minute (1 s cycles)", export["busiest_minute_calls"], "<= 10",
         export["busiest_minute_calls"] <= 10),
        ("catch-up items/s, zsc-side work", catch["items_per_second_zsc_side"], ">= 2000",
         catch["items_per_second_zsc_side"] >= 2000),
        ("catch-up items/s, all CPU of the sync thread", catch["items_per_second_cpu"], "-", None),
        ("catch-up items/s, wall clock incl. simulator", catch["items_per_second_wall"], "-", None),
        ("peak RSS (MB)", results["peak_rss_mb"], "-", None),
        ("zsc --help (ms, median)", help_["median_ms"], "<= 150", help_["median_ms"] <= 150),
        ("zsc status (ms, median)", results["status"]["median_ms"], "<= 150", results["status"]["median_ms"] <= 150),
    ]
    print(f"{'measure':<44} {'value':>10}  {'target':<8} met")
    for name, value, target, met in rows:
        print(f"{name:<44} {value:>10}  {target:<8} {'' if met is None else ('yes' if met else 'NO')}")
    print(f"idle read calls by endpoint: {idle['by_endpoint']}")
    print(f"after-mirroring read calls by endpoint: {after['by_endpoint']}")
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
