"""Issue 9: the state directory zsc creates is 0700, the database, its -wal/-shm and
lock files 0600, whatever the umask; a database others can read gets one warning."""

from __future__ import annotations

import os
import stat

import pytest
from loguru import logger

from zsc.locks import FileLock, leader_lock
from zsc.store import Store
from zsc.store import schema


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def permissive_umask():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def warnings_seen():
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(m.record["message"]), level="WARNING")
    yield lines
    logger.remove(handler)


def test_created_state_is_private(tmp_path, permissive_umask):
    db = tmp_path / "state" / "zsc" / "zsc.db"
    lock = leader_lock(f"sqlite:///{db}")
    assert lock.try_acquire()
    store = Store(f"sqlite:///{db}")
    try:
        store.set_checkpoint("x", "1")  # something written: the -wal exists
        assert _mode(tmp_path / "state") == 0o700
        assert _mode(db.parent) == 0o700
        assert _mode(db) == 0o600
        for suffix in ("-wal", "-shm", ".lock"):
            assert (tmp_path / "state" / "zsc" / f"zsc.db{suffix}").exists(), suffix
            assert _mode(f"{db}{suffix}") == 0o600, suffix
    finally:
        store.close()
        lock.release()


def test_an_existing_directory_keeps_its_mode(tmp_path, permissive_umask):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    store = Store(f"sqlite:///{shared}/zsc.db")
    store.close()
    assert _mode(shared) == 0o755
    assert _mode(shared / "zsc.db") == 0o600


def test_pid_and_lock_files_are_private(tmp_path, permissive_umask):
    lock = FileLock(tmp_path / "zsc.pid")
    assert lock.try_acquire()
    lock.release()
    assert _mode(tmp_path / "zsc.pid") == 0o600


def test_a_readable_database_is_warned_about_once(tmp_path, permissive_umask, warnings_seen):
    db = tmp_path / "zsc.db"
    Store(f"sqlite:///{db}").close()
    os.chmod(db, 0o644)
    schema._warned_modes.discard(str(db))
    for _ in range(3):
        Store(f"sqlite:///{db}").close()
    about = [line for line in warnings_seen if str(db) in line]
    assert len(about) == 1
    assert f"chmod 600 {db}" in about[0]
    assert _mode(db) == 0o644  # zsc tells; it does not change an operator's choice


def test_a_private_database_is_not_warned_about(tmp_path, warnings_seen):
    db = tmp_path / "zsc.db"
    Store(f"sqlite:///{db}").close()
    Store(f"sqlite:///{db}").close()
    assert not [line for line in warnings_seen if str(db) in line]
