"""Subprocess tests of `zsc run`: a real process against the in-process simulator
(served over real HTTP on 127.0.0.1), observed the way an operator or systemd would:
its exit status, its log lines (JSON on stderr), the sd_notify datagrams it sends,
and what it did in Slack and Zendesk.

No fixed sleeps: every wait polls for a condition with a bounded timeout."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.flow.conftest import sim, world  # noqa: F401 - the same simulated team as the flow tests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0  # a cold interpreter imports slack_sdk, zenpy, peewee...


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "", interval: float = 0.02) -> Any:
    """Poll `predicate` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def zsc_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                                                             "JOURNAL_STREAM", "ZSC_CONFIG")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def zsc_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "zsc", "--config", str(config), "--log-format", "json", "--log-level", "debug", *args]


class Zsc:
    """One `zsc` process; stderr goes to a file so nothing blocks on a full pipe."""

    def __init__(self, args: list[str], env: dict[str, str], workdir: Path, name: str) -> None:
        self.err_path = workdir / f"{name}.stderr"
        self.out_path = workdir / f"{name}.stdout"
        self.proc = subprocess.Popen(args, env=env, cwd=workdir, stdin=subprocess.DEVNULL,
                                     stdout=self.out_path.open("wb"), stderr=self.err_path.open("wb"))
        self.pid = self.proc.pid

    # ---- what it said ----
    def text(self) -> str:
        return self.err_path.read_text(errors="replace") + self.out_path.read_text(errors="replace")

    def logs(self) -> list[dict]:
        lines = []
        for line in self.err_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                lines.append({"level": "raw", "message": line})
        return lines

    def find_log(self, fragment: str, level: str | None = None) -> dict | None:
        return next((entry for entry in self.logs() if fragment in entry.get("message", "")
                     and (level is None or entry.get("level") == level)), None)

    def wait_log(self, fragment: str, timeout: float = START_TIMEOUT, level: str | None = None) -> dict:
        return wait_until(lambda: self._alive_or_fail() and self.find_log(fragment, level), timeout,
                          f"log line {fragment!r}")

    def _alive_or_fail(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"zsc exited ({self.proc.returncode}) early:\n{self.text()}")
        return True

    # ---- controlling it ----
    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"zsc still running after {timeout}s:\n{self.text()[-3000:]}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def start_zsc(world, tmp_path):
    """start_zsc("run", env={...}) -> Zsc. Every process is killed at the end."""
    procs: list[Zsc] = []

    def start(*args: str, env: dict[str, str] | None = None, config: Path | None = None, name: str = "") -> Zsc:
        proc = Zsc(zsc_command(config or world.config_path, *args), zsc_env(**(env or {})), tmp_path,
                   name or f"zsc{len(procs)}")
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()


class NotifySocket:
    """What systemd would receive: the datagram socket named by $NOTIFY_SOCKET, as a
    path or as an abstract name ("@...")."""

    def __init__(self, kind: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"zsc-test-{uuid.uuid4().hex[:12]}"
        if kind == "abstract":
            self.sock.bind("\0" + name)
            self.env = "@" + name
            self._dir = None
        else:
            # A short directory: socket paths are limited to 107 bytes.
            self._dir = tempfile.mkdtemp(prefix="zsc-notify-")
            path = os.path.join(self._dir, "notify")
            self.sock.bind(path)
            self.env = path
        self.sock.setblocking(False)
        self.messages: list[dict[str, str]] = []

    def collect(self) -> list[dict[str, str]]:
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return self.messages
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(fields)

    def wait_for(self, predicate: Callable[[dict[str, str]], bool], timeout: float = START_TIMEOUT,
                 after: int = 0, what: str = "") -> dict[str, str]:
        """The first message from index `after` on that satisfies `predicate`."""
        return wait_until(lambda: next((m for m in self.collect()[after:] if predicate(m)), None), timeout,
                          what or "an sd_notify message")

    def close(self) -> None:
        self.sock.close()
        if self._dir:
            import shutil

            shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture(params=["path", "abstract"])
def notify(request):
    """Both kinds of $NOTIFY_SOCKET, for the tests about the protocol itself."""
    sock = NotifySocket(request.param)
    yield sock
    sock.close()


@pytest.fixture
def notify_socket():
    """One $NOTIFY_SOCKET, for tests about something else."""
    sock = NotifySocket("abstract")
    yield sock
    sock.close()


def pid_alive(pid: int) -> bool:
    """Alive and not a zombie (a detached daemon is reaped by init, maybe late)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def kill_quietly(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def edit_config(world, old: str, new: str) -> None:
    """Change the world's config file in place (World writes the intervals itself)."""
    text = world.config_path.read_text()
    assert old in text, f"{old!r} not in the config"
    world.config_path.write_text(text.replace(old, new))
