"""Issue 9: `zsc status` stops naming a daemon that stopped cleanly."""

from __future__ import annotations

import signal

from zsc.store import Store


def test_a_clean_stop_clears_the_leader_in_status(world, start_zsc):
    daemon = start_zsc("run")
    daemon.wait_log("zsc active")
    running = world.zsc("status").output
    assert f"pid {daemon.pid}, since" in running, running
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(10) == 0
    stopped = world.zsc("status")
    line = next(line for line in stopped.output.splitlines() if line.startswith("Leader:"))
    assert line.startswith("Leader:       none (stopped "), line
    assert f"pid {daemon.pid})" in line  # who it was, for the operator
    assert world.zsc("status", "--json").output.count('"stopped"') == 1


def test_clear_leader_only_clears_its_own_record(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/zsc.db")
    try:
        store.set_leader({"host": "a", "pid": 1, "since": "2026-11-29T10:00:00Z"})
        assert store.active_leader() is not None
        assert not store.clear_leader("a", 2)  # a standby that took over is not cleared by the old one
        assert not store.clear_leader("b", 1)
        assert store.active_leader()["pid"] == 1
        assert store.clear_leader("a", 1)
        assert store.active_leader() is None
        assert store.leader()["stopped"].endswith("Z")
        assert not store.clear_leader("a", 1)  # once
    finally:
        store.close()
