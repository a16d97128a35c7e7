"""One active zsc per store, and pid files for --detach.

Two bridges polling the same store would both mirror every message, so the daemon
must lead before it polls:

* SQLite: an exclusive flock(2) on "<db>.lock" next to the database. The kernel drops
  it when the process dies, however it dies, so there is never a stale lock to clean.
* Postgres: a session-level advisory lock held by a dedicated connection. The server
  drops it when that session ends (process killed, connection lost), and server-side
  TCP keepalives bound how long a vanished host keeps it.

Each lock answers `try_acquire()` (non-blocking), `held()` (checked before each poll,
so a leader that lost its lock stops polling) and `holder()` (who has it, for messages).
With `[daemon] ha = true` the daemon retries `try_acquire()` as a hot standby.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from loguru import logger

from zsc.errors import UserError, first_line, os_reason, path_error, path_fix, process_user
from zsc.private_files import create_private, make_parent_directory


def _key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key, so no other application's
    small integers collide with ours."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


LEADER_KEY = _key("zsc daemon leader")


class LockUnavailable(UserError):
    """The database holding the lock cannot be asked (down, unreachable)."""


def identity() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


class FileLock:
    """An exclusive, non-blocking flock on `path`; the file holds the owner's pid.

    `setting` names what chose the path ("[database] url", "--pidfile"), for the one
    line shown when the file cannot be created."""

    def __init__(self, path: str | Path, guards: str | None = None, setting: str | None = None) -> None:
        self.path = Path(path)
        self.fd: int | None = None
        self.where = f"{guards} (lock file {self.path})" if guards else str(self.path)
        self.setting = setting

    def unusable(self, exc: OSError) -> UserError:
        """The file cannot be created or opened: what, where, why, and the fix."""
        return path_error(exc, f"{self.setting or 'lock file'}: cannot create the lock file {self.path}: "
                               f"{os_reason(exc, self.path)}; check that {self.path.parent} is a directory "
                               f"writable by {process_user()}")

    def try_acquire(self) -> bool:
        if self.fd is not None:
            return True
        while True:
            try:
                fd = create_private(self.path)
            except OSError as exc:
                raise self.unusable(exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return False
                raise
            # A pid file is unlinked by its owner on exit; if that happened between our
            # open and our flock, we locked a file nobody else will ever open: retry.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                self._acquired()
                return True
            os.close(fd)

    def _acquired(self) -> None:
        self.write_pid()

    def write_pid(self, pid: int | None = None) -> None:
        """Record the owner; called again in the child after --detach forks."""
        assert self.fd is not None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{pid or os.getpid()}\n".encode(), 0)

    def held(self) -> bool:
        return self.fd is not None

    def holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            return "unknown pid"
        return f"pid {pid}" if pid.isdigit() else "unknown pid"

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the last descriptor drops the flock
            self.fd = None


class PidFile(FileLock):
    """The pid lock file of `zsc run --detach`, used as python-daemon's `pidfile`.

    `claim()` locks it in the parent, before the fork, so a second start fails on the
    terminal with a clear message; the lock lives on in the daemon (the descriptor is
    inherited and preserved), which writes its own pid when DaemonContext enters it."""

    def unusable(self, exc: OSError) -> UserError:
        return path_error(exc, f"{self.setting or 'pidfile'} {self.path}: cannot create it: {os_reason(exc, self.path)}; "
                               f"{path_fix(exc)}")

    def _acquired(self) -> None:
        # Empty until the daemon writes its own pid: the parent's would soon be stale.
        os.ftruncate(self.fd, 0)

    def claim(self) -> None:
        stale = self.holder() if self.path.exists() else None
        if not self.try_acquire():
            raise UserError(f"zsc is already running ({self.holder()}, pidfile {self.path}); stop it first")
        if stale and stale != "unknown pid":
            logger.info("cleared the stale pidfile {} of {} (no longer running)", self.path, stale)

    on_enter: Callable[[], None] | None = None  # run in the daemon just before its pid is written

    def __enter__(self) -> "PidFile":
        if self.on_enter is not None:
            self.on_enter()
        self.write_pid()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self.release()


class NoLock:
    """An in-memory SQLite store cannot be shared: there is nothing to lock."""

    where = "an in-memory database"

    def try_acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def holder(self) -> str:
        return "nobody"

    def release(self) -> None:
        pass


class PgLock:
    """The Postgres advisory lock, on a connection of its own: the store's connection
    may be closed and reopened by peewee, which would silently drop a session lock."""

    # Let the server notice a vanished leader (host down, cable cut) within ~30s rather
    # than the kernel's two hours; these are per-session settings any user may change.
    SERVER_OPTIONS = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
    APP = "zsc leader lock"  # the lock session's application_name: names the holder, counts the live instances

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgres://", "postgresql://", 1)
        self.conn = None
        self.leading = False

    @property
    def where(self) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)  # never the password
        return f"Postgres database {parts.path.lstrip('/')} on {parts.hostname}"

    def _connect(self):
        import psycopg2

        if self.conn is None or self.conn.closed:
            try:
                self.conn = psycopg2.connect(
                    self.url, connect_timeout=10, application_name=f"{self.APP} ({identity()})"[:63],
                    keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
                    options=self.SERVER_OPTIONS,
                )
            except psycopg2.Error as exc:
                raise LockUnavailable(f"[database] url: cannot connect to {self.where} for the leader lock: {first_line(exc)}") from None
            self.conn.autocommit = True
            self.leading = False
        return self.conn

    def _query(self, sql: str, args: tuple = ()):
        with self._connect().cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone()

    ACQUIRE = "SELECT pg_try_advisory_lock(%s)"  # exclusive: one leader
    KIND = "leader lock"

    def try_acquire(self) -> bool:
        """True when we lead; LockUnavailable when the database cannot be asked."""
        import psycopg2

        if self.leading:
            return True
        try:
            self.leading = bool(self._query(self.ACQUIRE, (LEADER_KEY,))[0])
        except psycopg2.Error as exc:
            self._drop()
            raise LockUnavailable(f"{self.KIND} on {self.where}: {first_line(exc)}") from None
        self._acquired()
        return self.leading

    def _acquired(self) -> None:
        """After a try: what a subclass keeps per session starts afresh."""

    def held(self) -> bool:
        """A session lock lasts as long as the session: check the session is alive."""
        import psycopg2

        if not self.leading:
            return False
        try:
            self._query("SELECT 1")
        except psycopg2.Error as exc:
            logger.error("leader lock: lost the connection to {} ({}); no longer leading", self.where, first_line(exc))
            self._drop()
        return self.leading

    def holder(self) -> str:
        return self._holder_of(LEADER_KEY)

    def _holder_of(self, key: int, nobody: str = "unknown") -> str:
        """The instance (its name and address) holding advisory lock `key`; `nobody`
        when none does."""
        import psycopg2

        try:
            row = self._query(
                "SELECT a.application_name, a.client_addr::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                # A bigint key is stored as classid (high half) and objid (low half).
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND ((l.classid::bigint << 32) | l.objid::bigint) = %s",
                (key,),
            )
        except (psycopg2.Error, LockUnavailable):
            return "unknown"
        if not row:
            return nobody
        name, addr = row
        name = (name or "").removeprefix(f"{self.APP} (").rstrip(")")
        return f"{name or 'unknown'}{f' from {addr}' if addr else ''}"

    def _drop(self) -> None:
        self.leading = False
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # already broken: nothing left to release
                pass
            self.conn = None

    def release(self) -> None:
        self._drop()  # ending the session releases the lock at once


@contextmanager
def exclusive(database_url: str, action: str) -> Iterator[object]:
    """For one-shot commands that write (sync-once, check-missing --fix): hold the
    leader lock while `action` runs, or stop with one line naming who holds it."""
    lock = leader_lock(database_url)
    if not lock.try_acquire():
        raise UserError(f"another zsc ({lock.holder()}) is active on {lock.where}; {action} would race it: "
                        "stop that one first")
    try:
        yield lock
    finally:
        lock.release()


def leader_lock(database_url: str):
    """The lock that makes this process the one active zsc on `database_url`."""
    if database_url.startswith("sqlite:///"):
        path = database_url[len("sqlite:///"):]
        if path == ":memory:":
            return NoLock()
        make_parent_directory(path)
        return FileLock(path + ".lock", guards=f"the SQLite database {path}", setting="[database] url")
    return PgLock(database_url)


class SharedWork(PgLock):
    """`[daemon] ha = true` on Postgres: every live instance polls, each its share.

    Each instance holds LEADER_KEY *shared* (so a one-shot `sync-once` or
    `check-missing --fix`, which takes it exclusively, still cannot race the daemons,
    and a non-HA daemon keeps them out), and one advisory lock per piece of work it
    does: "zendesk" (the Zendesk poll and the report; whoever takes it first) and
    "channel:<id>" for each channel it polls. The server drops a dead instance's locks
    with its session, so its work is free at once.

    Channels are spread evenly and deterministically: the live instances (their lock
    sessions, named "zsc leader lock (...)") sorted by server pid, the channels sorted, channel i
    belongs to instance i mod N. Before each Slack poll an instance gives up channels
    that now belong to another live instance and takes its own once they are free; a
    channel is only ever handed over between two polls, so two instances never poll
    the same channel at once, and its cursors are in the store, so nothing is lost."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.mine: set[str] = set()

    # Joining the instances sharing the work: False while a non-HA zsc holds the store.
    ACQUIRE = "SELECT pg_try_advisory_lock_shared(%s)"
    KIND = "shared lock"

    def _acquired(self) -> None:
        self.mine = set()

    @contextmanager
    def setting_up(self) -> Iterator[None]:
        """One instance at a time opens (creates, upgrades) the store and sets the start positions."""
        self._query("SELECT pg_advisory_lock(%s)", (_key("zsc store set-up"),))
        try:
            yield
        finally:
            self._query("SELECT pg_advisory_unlock(%s)", (_key("zsc store set-up"),))

    def take(self, name: str) -> bool:
        """Hold `name` (already held: True)."""
        if name in self.mine:
            return True
        if self._query("SELECT pg_try_advisory_lock(%s)", (_key(name),))[0]:
            self.mine.add(name)
            return True
        return False

    def give_up(self, name: str) -> None:
        if name in self.mine:
            self._query("SELECT pg_advisory_unlock(%s)", (_key(name),))
            self.mine.discard(name)

    def instances(self) -> list[int]:
        """Server pids of the live instances (their lock sessions), sorted; ours included."""
        with self._connect().cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND application_name LIKE %s ORDER BY pid", (f"{self.APP} (%",))
            return [row[0] for row in cur.fetchall()]

    def my_pid(self) -> int:
        return self._query("SELECT pg_backend_pid()")[0]

    def share(self, channels: list[str]) -> tuple[set[str], set[str], set[str]]:
        """Rebalance: (channels to poll now, newly taken, given up)."""
        live = self.instances()
        me = self.my_pid()
        ordered = sorted(channels)
        owner = {c: live[i % len(live)] for i, c in enumerate(ordered)} if live else {}
        given = set()
        for channel in sorted(self.mine):
            name = channel.removeprefix("channel:")
            if channel.startswith("channel:") and owner.get(name, me) != me:
                self.give_up(channel)
                given.add(name)
        taken = set()
        for channel in ordered:
            if owner.get(channel) == me and f"channel:{channel}" not in self.mine and self.take(f"channel:{channel}"):
                taken.add(channel)
        polled = {n.removeprefix("channel:") for n in self.mine if n.startswith("channel:")}
        return polled, taken, given

    def holder(self) -> str:
        """Who polls Zendesk (the instance holding "zendesk")."""
        return self._holder_of(_key("zendesk"), nobody="nobody yet")

    def _drop(self) -> None:
        super()._drop()
        self.mine = set()
