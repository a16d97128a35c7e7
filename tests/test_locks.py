"""The locks that keep one zsc active per store, and the pid file of --detach."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import pg
from tests.daemon.conftest import wait_until
from zsc.errors import UserError
from zsc.locks import FileLock, NoLock, PgLock, PidFile, exclusive, identity, leader_lock

ROOT = Path(__file__).resolve().parents[1]


def test_the_lock_follows_the_database_url(tmp_path):
    lock = leader_lock(f"sqlite:///{tmp_path}/sub/zsc.db")
    assert isinstance(lock, FileLock) and lock.path == tmp_path / "sub" / "zsc.db.lock"
    assert lock.where == f"the SQLite database {tmp_path}/sub/zsc.db (lock file {tmp_path}/sub/zsc.db.lock)"
    assert isinstance(leader_lock("sqlite:///:memory:"), NoLock)
    pg_lock = leader_lock("postgresql://zsc:hunter2@db.example.com:5432/zsc")
    assert isinstance(pg_lock, PgLock) and "hunter2" not in pg_lock.where


def test_a_file_lock_is_exclusive_and_names_its_holder(tmp_path):
    first, second = FileLock(tmp_path / "db.lock"), FileLock(tmp_path / "db.lock")
    assert first.try_acquire() and first.held()
    assert not second.try_acquire() and not second.held()
    assert second.holder() == f"pid {os.getpid()}"
    first.release()
    assert second.try_acquire()
    second.release()


def test_a_file_lock_dies_with_its_process(tmp_path):
    path = tmp_path / "db.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from zsc.locks import FileLock; "
         "assert FileLock(sys.argv[1]).try_acquire(); print('locked', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "locked"
        lock = FileLock(path)
        assert not lock.try_acquire() and lock.holder() == f"pid {holder.pid}"
        holder.kill()  # SIGKILL: no clean-up code runs
        holder.wait(10)
        assert lock.try_acquire()  # the kernel dropped the lock; nothing stale to clear
        lock.release()
    finally:
        holder.kill()
        holder.stdout.close()


def test_a_one_shot_writer_holds_the_lock_or_names_who_does(tmp_path):
    url = f"sqlite:///{tmp_path}/zsc.db"
    with exclusive(url, "sync-once") as lock:
        assert lock.held()
        with pytest.raises(UserError) as refused:
            with exclusive(url, "sync-once"):
                pass
        assert str(refused.value) == (f"another zsc (pid {os.getpid()}) is active on the SQLite database {tmp_path}/zsc.db "
                                      f"(lock file {tmp_path}/zsc.db.lock); sync-once would race it: stop that one first")
    assert not lock.held()
    with exclusive(url, "sync-once"):  # free again
        pass


def test_a_pidfile_refuses_a_second_daemon_and_clears_a_stale_one(tmp_path):
    path = tmp_path / "zsc.pid"
    path.write_text("999999999\n")  # a process that is long gone left this behind
    first = PidFile(path)
    first.claim()
    with first:
        assert path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(UserError, match=rf"zsc is already running \(pid {os.getpid()}, pidfile {path}\); stop it first"):
            PidFile(path).claim()
    assert not path.exists()  # removed on the way out


def test_a_pidfile_removed_while_being_locked_is_not_trusted(tmp_path, monkeypatch):
    """Between our open() and our flock() the owner may unlink the file on exit: the
    lock would then be on a file nobody else sees. try_acquire must notice and retry."""
    path = tmp_path / "zsc.pid"
    lock = PidFile(path)
    real_flock = __import__("fcntl").flock
    calls = []

    def flock_after_unlink(fd, op):
        if not calls:
            path.unlink()  # the old daemon exits right now
        calls.append(op)
        return real_flock(fd, op)

    monkeypatch.setattr("zsc.locks.fcntl.flock", flock_after_unlink)
    assert lock.try_acquire()
    assert len(calls) == 2 and os.fstat(lock.fd).st_ino == os.stat(path).st_ino
    lock.release()


# ---------------------------------------------------------------- Postgres


@pytest.fixture
def pg_url():
    with pg.fresh_database() as url:
        yield url


def test_one_postgres_leader_at_a_time_and_the_next_one_after_it(pg_url):
    first, second = PgLock(pg_url), PgLock(pg_url)
    try:
        assert first.try_acquire() and first.held()
        assert not second.try_acquire() and not second.held()
        assert second.holder().startswith(identity())  # "host pid N from addr"
        first.release()  # ending the session frees the lock (the server needs a moment)
        wait_until(second.try_acquire, timeout=5, what="the lock after the leader left")
    finally:
        first.release()
        second.release()


def test_a_leader_whose_session_is_killed_knows_it_is_no_longer_leading(pg_url):
    leader, other = PgLock(pg_url), PgLock(pg_url)
    try:
        assert leader.try_acquire()
        admin = pg._connect(pg_url)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (leader.conn.get_backend_pid(),))
        admin.close()
        assert not leader.held()  # so the daemon stops polling
        wait_until(other.try_acquire, timeout=5, what="the lock after the session died")  # someone else may lead
        assert not leader.try_acquire()
    finally:
        leader.release()
        other.release()
