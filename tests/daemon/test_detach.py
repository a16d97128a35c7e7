"""`zsc run --detach` without systemd: python-daemon, a pid lock file, a log file."""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.daemon.conftest import START_TIMEOUT, kill_quietly, pid_alive, wait_until, zsc_command, zsc_env


def detach(world, tmp_path, pidfile, *extra: str) -> subprocess.CompletedProcess:
    args = zsc_command(world.config_path, "run", "--detach", "--pidfile", str(pidfile), *extra)
    return subprocess.run(args, env=zsc_env(), cwd=tmp_path, capture_output=True, text=True, timeout=START_TIMEOUT)


@pytest.fixture
def daemons():
    """Pids of detached daemons, killed at the end whatever happened."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        kill_quietly(pid)


def read_pid(path) -> int:
    return int(path.read_text().strip()) if path.exists() and path.read_text().strip() else 0


def test_detach_writes_a_locked_pidfile_and_refuses_a_second_daemon(world, tmp_path, daemons):
    pidfile, log = tmp_path / "zsc.pid", tmp_path / "zsc.log"
    started = detach(world, tmp_path, pidfile, "--log-file", str(log))
    assert started.returncode == 0, started.stderr  # the parent returns once the daemon is off
    pid = wait_until(lambda: read_pid(pidfile), START_TIMEOUT, what="the daemon's pid in the pidfile")
    daemons.append(pid)
    assert pid_alive(pid)
    # It works, logging to the file: stdin/stdout/stderr are gone.
    wait_until(lambda: log.exists() and "zsc active" in log.read_text(), START_TIMEOUT, what="the daemon's log")
    ts = world.ask("Keyboard stuck")
    wait_until(lambda: world.bot_texts(ts), timeout=10, what="the ticket confirmation")
    assert "opened ticket #1" in log.read_text()

    second = detach(world, tmp_path, pidfile)
    assert second.returncode == 1
    assert f"zsc: zsc is already running (pid {pid}, pidfile {pidfile}); stop it first" in second.stderr
    assert read_pid(pidfile) == pid and pid_alive(pid)

    kill_quietly(pid, signal.SIGTERM)
    wait_until(lambda: not pid_alive(pid), timeout=5, what="the daemon to stop")
    assert not pidfile.exists()  # removed on the way out
    assert "zsc stopping" in log.read_text()
    assert len(world.tickets()) == 1


def test_a_stale_pidfile_of_a_dead_process_is_cleared(world, tmp_path, daemons):
    dead = subprocess.Popen(["true"])
    dead.wait()
    pidfile = tmp_path / "zsc.pid"
    pidfile.write_text(f"{dead.pid}\n")
    started = detach(world, tmp_path, pidfile, "--log-file", str(tmp_path / "zsc.log"))
    assert started.returncode == 0, started.stderr
    assert f"cleared the stale pidfile {pidfile} of pid {dead.pid}" in started.stderr
    pid = wait_until(lambda: (p := read_pid(pidfile)) != dead.pid and p, START_TIMEOUT, what="the new pid")
    daemons.append(pid)
    assert pid_alive(pid)
    kill_quietly(pid, signal.SIGTERM)
    wait_until(lambda: not pid_alive(pid), timeout=5, what="the daemon to stop")


def test_a_refused_credential_is_reported_before_detaching(world, tmp_path, daemons):
    world.sim.zendesk.revoke_api_token("zd-secret-token-1234")
    pidfile = tmp_path / "zsc.pid"
    started = detach(world, tmp_path, pidfile, "--log-file", str(tmp_path / "zsc.log"))
    assert started.returncode == 1
    assert "zsc: Zendesk: GET /api/v2/users/me.json: HTTP 401" in started.stderr
    assert "zd-secret-token-1234" not in started.stderr
    assert not pidfile.exists()
