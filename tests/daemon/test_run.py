"""`zsc run` doing its job: a dry-run daemon describes and writes nothing anywhere,
and may run beside the real one."""

from __future__ import annotations

import signal
import sqlite3

from tests.daemon.conftest import wait_until


def test_a_dry_run_daemon_writes_nothing_anywhere(world, start_zsc):
    world.sync()  # a real store, with a start position
    real = start_zsc("run", name="real")
    real.wait_log("zsc active")
    real.signal(signal.SIGSTOP)  # present (holding the lock) but not working, so it cannot interfere
    try:
        world.write_config(dry_run=True)
        dry = start_zsc("run", name="dry")
        dry.wait_log("zsc active")  # beside the real one: a dry run takes no lock
        world.ask("Would you open a ticket?")
        # the subject is customer text: the log gives only its size
        dry.wait_log(f"dry run: would create a Zendesk ticket: [{len('Would you open a ticket?')} chars]", timeout=10)
        # Every cycle describes it again: nothing was recorded that would say it is done.
        wait_until(lambda: len([e for e in dry.logs() if "would create a Zendesk ticket" in e["message"]]) >= 2,
                   timeout=10, what="the next cycle describing it again")
        dry.signal(signal.SIGTERM)
        assert dry.wait(5) == 0
    finally:
        real.signal(signal.SIGCONT)
    assert world.tickets() == [] and world.sim.slack.calls["chat.postMessage"] == 0
    db = sqlite3.connect(world.tmp / "zsc.db")
    try:
        assert db.execute("SELECT count(*) FROM issue").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM intent").fetchone() == (0,)
    finally:
        db.close()
    # The real one then does the work, once.
    wait_until(lambda: len(world.tickets()) == 1, timeout=10, what="the real ticket")
