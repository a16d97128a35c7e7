"""`make bench` (`python -m bench.run`): issue 10's speed, economy and memory targets,
measured against zsc's simulator and printed as a table, each with its target and
whether it is met; everything measured goes to bench/results.json. Benchmarks for
a person to judge, not tests: nothing in `make test` depends on machine speed.

    python -m bench.run [--rtt-ms 100] [--seed 10] [--only latency,rss,...]

Counted measures (API calls, 429s) do not depend on the machine; the latency, RSS,
CPU and start-up figures do, and are lower on a loaded machine. What each measure
does is in its module under bench/measures/."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Callable

from bench.measures import catchup, economy, latency, memory, startup
from bench.table import print_table

RESULTS = Path(__file__).with_name("results.json")


def measures(args: argparse.Namespace) -> dict[str, Callable[[Path], dict]]:
    rtt = args.rtt_ms / 1000
    # Start-up first: timed on a quiet machine, before the heavy runs leave their
    # databases' writes for the disk to flush (seen to add 50 ms to `zsc status`).
    return {
        "help": startup.help_time,
        "status": startup.status_time,
        "idle_cycle": economy.idle_cycle,
        "after_mirroring": economy.after_mirroring,
        "quiet_ticket": economy.quiet_ticket,
        "export_budget": lambda workdir: economy.export_budget(workdir, rtt),
        "latency": lambda workdir: latency.latency(workdir, rtt, args.seed),
        "rss": lambda workdir: memory.steady_rss(workdir, args.seed),
        "catch_up": catchup.catch_up,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt-ms", type=float, default=100.0,
                        help="simulated round-trip time of every API call, in ms (default 100; the catch-up "
                             "and RSS runs use 0: they measure CPU and memory)")
    parser.add_argument("--seed", type=int, default=10, help="seed of the random moments of the latency run")
    parser.add_argument("--only", metavar="NAMES", help="comma-separated measures to run (default all): "
                        "help, status, idle_cycle, after_mirroring, quiet_ticket, export_budget, latency, rss, catch_up")
    args = parser.parse_args(argv)
    quiet_logging()
    todo = measures(args)
    chosen = args.only.split(",") if args.only else list(todo)
    unknown = [name for name in chosen if name not in todo]
    if unknown:
        parser.error(f"unknown measure(s) {', '.join(unknown)}; choose from {', '.join(todo)}")
    # A partial run (--only) refreshes its measures in the results of the last full one.
    results: dict = json.loads(RESULTS.read_text()) if args.only and RESULTS.exists() else {}
    results.update({"rtt_ms": args.rtt_ms, "seed": args.seed})
    failed = []
    with tempfile.TemporaryDirectory(prefix="zsc-bench-") as tmp:
        for name in chosen:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            workdir = Path(tmp) / name
            workdir.mkdir()
            try:
                results[name] = todo[name](workdir)
            except Exception as exc:  # noqa: BLE001 - one broken measure must not hide the others
                traceback.print_exc()
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                failed.append(name)
    if not args.only:
        results["bench_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print_table(results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS}")
    if failed:
        print(f"bench: {', '.join(failed)} crashed (tracebacks above)", file=sys.stderr)
        return 1
    return 0


def quiet_logging() -> None:
    """Log as the daemon does (info, one line per mirrored item, so that cost is in the
    figures), but not to the terminal -- and keep a crash's traceback on stderr:
    zsc's logging routes uncaught errors to its (here silenced) sinks."""
    from zsc import logs

    logs.setup(level="info", style="human", stream=open(os.devnull, "w"))
    sys.excepthook = sys.__excepthook__
    threading.excepthook = threading.__excepthook__


if __name__ == "__main__":
    sys.exit(main())
