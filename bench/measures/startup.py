"""Start-up wall time of `zsc --help` and `zsc status` (a fresh process each time).

As installed zsc runs: with its bytecode cached (pip compiles a package when it
installs it). A development checkout may run with PYTHONDONTWRITEBYTECODE set, so the
runs here drop it, and a first run that writes the bytecode is not counted."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def start_time(args: list[str], runs: int = 7, ok_codes: tuple[int, ...] = (0,)) -> dict:
    exe = Path(sys.executable).with_name("zsc")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples = []
    for run in range(runs + 1):
        t0 = time.perf_counter()
        done = subprocess.run([str(exe), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        if run:  # the first run writes the bytecode
            samples.append((time.perf_counter() - t0) * 1000)
        if done.returncode not in ok_codes or "Traceback" in done.stderr:
            raise RuntimeError(f"zsc {' '.join(args)} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return {"median_ms": round(statistics.median(samples)), "samples_ms": [round(s) for s in samples],
            "target_ms": 150}


def help_time(workdir: Path) -> dict:
    return start_time(["--help"])


def status_time(workdir: Path) -> dict:
    from zsc.store import open_store

    url = f"sqlite:///{workdir}/status.db"
    open_store(url).close()  # a store that exists, as status meets it beside a daemon
    config = workdir / "status.toml"
    config.write_text('[slack]\ntoken = "xoxb-bench"\nchannel = "CBENCH"\n[zendesk]\nsubdomain = "bench"\n'
                      'email = "a@example.com"\ntoken = "bench"\nagent_user_id = 1\ngroup_id = 2\n'
                      f'[database]\nurl = "{url}"\n')
    # Exit 1: the sources were never polled (no daemon ran on this store), which status reports.
    return start_time(["--config", str(config), "status"], ok_codes=(0, 1))
