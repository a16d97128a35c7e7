"""The real `zsc run` in a child process, as `make demo` runs it: the same daemon
loop, schedule and store a deployment has, pointed at the bench's simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from zsc.simulator import Simulator


class ZscRun:
    def __init__(self, config: Path, sim: Simulator) -> None:
        self.config, self.sim = config, sim
        self.log_path = config.with_name("zsc-run.log")
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "ZscRun":
        env = dict(os.environ, STATE_DIRECTORY=str(self.config.parent), NO_PROXY="127.0.0.1,localhost")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "zsc", "--config", str(self.config), "run"],
                                         env=env, stdout=log, stderr=subprocess.STDOUT)
        before = self.sim.zendesk.calls["tickets.show_many"] + self.sim.zendesk.calls["incremental.tickets"]
        self.wait_for("zsc run to poll both sides",
                      lambda: self.sim.slack.calls["conversations.history"] > 0
                      and self.sim.zendesk.calls["tickets.show_many"] + self.sim.zendesk.calls["incremental.tickets"]
                      > before, timeout=60)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_kib(self) -> int:
        """The child's resident set size now (VmRSS, in KiB)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc status")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"zsc run exited with {self.proc.returncode}:\n{self.log_tail()}")

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}; zsc run's log ends:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return "(no log)"
