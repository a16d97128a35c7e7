"""The long-running loop behind `zsc run`: a thin driver of the sync Engine. It
schedules the pollers and the daily report with `schedule`, handles signals, talks
to systemd, and never lets one failure stop the rest.

Start-up, in this order, so every problem a person must fix stops zsc with one line
before it does anything: the preflight checks (zsc.preflight: credentials, the Slack
channel), the leader lock (one active zsc per store, see zsc.locks), the store. Then
READY=1, and a cycle whenever a poll is due. With `[daemon] ha = true` a process that
finds the lock taken waits as a hot standby (config and credentials checked, lock
retried every poll interval) and takes over when the active one goes away."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import time
from contextlib import nullcontext
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from loguru import logger

from zsc import runtime
from zsc.errors import UserError
from zsc.locks import FileLock, LockUnavailable, NoLock, PidFile, SharedWork, leader_lock
from zsc.notify import Notifier
from zsc.runtime import Stopping
from zsc.store import StoreError, utcnow
from zsc.timefmt import duration

AUTH_PAUSE = 300.0  # after a refused credential, wait this long instead of hammering the API
SOURCES = ("slack", "zendesk")
REPORT_TICK = 30  # seconds: how often the loop asks whether the daily report is due
REPORT_RETRY = timedelta(minutes=5)  # after a failed report post, before trying again
PACED_AGAIN = 1.0  # seconds: a poll stopped at Slack's post pace goes on this soon (a due poll of the other side first)


class LostLeadership(Exception):
    """The leader lock is gone (database connection lost): stop polling at once."""


def check_credentials(config) -> None:
    """The preflight at start and on reload (zsc.preflight.require_essentials)."""
    from zsc.preflight import require_essentials

    require_essentials(config)


class Daemon:
    def __init__(self, config, since: datetime | None = None, notifier: Notifier | None = None, lock: Any = None,
                 log_file: str | None = None, log_overrides: dict | None = None) -> None:
        self.config = config  # knows its own file (config.source), which reload() re-reads
        self.since = since
        self.notifier = notifier or Notifier()  # a no-op outside systemd
        # A dry run writes nothing, so it may run beside the real one: it takes no lock.
        self.lock = lock or (NoLock() if config.sync.dry_run else daemon_lock(config))
        self._shared_standby = False  # sharing the work: told that this instance has none yet
        self.log_file = log_file
        self.log_overrides = {k: v for k, v in (log_overrides or {}).items() if v}
        self.credentials_checked = False
        self.engine = None  # zsc.sync.Engine, while this process leads
        self.scheduler = None
        self.jobs: dict[str, Any] = {}  # source -> its scheduled poll
        self.paused_until: dict[str, float] = {}
        self.healthy: dict[str, bool] = {}  # outcome of each source's latest poll
        self.last_ok: dict[str, float] = {}  # monotonic time of each source's latest good poll
        self.last_error: tuple[float, str] | None = None
        self._polled = False  # a poll ran since the last after_cycle()
        self._paced: set[str] = set()  # sources whose latest poll stopped at Slack's post pace
        self._ready_sent = False
        self._reload_requested = False
        self.standby_status = "starting"
        self.active_since: datetime | None = None  # when this process last became the active zsc
        self.started = False  # start-up finished: active, or waiting as a standby
        self.metrics = None  # zsc.metrics.Metrics when [metrics] listen or textfile is set
        self._textfile_problem: str | None = None

    # ---- set-up ----
    def setup_logging(self, reloading: bool = False) -> None:
        """(Re)configure logging from the config; command-line options win. Also
        reopens --log-file, so SIGHUP after logrotate moves to the new file; if that
        fails on a reload, the logging stays as it was (a start refuses instead)."""
        from zsc import logs
        from zsc.config.credentials import basic_credentials_of, secrets_of

        try:
            logs.setup(level=self.log_overrides.get("level") or self.config.logging.level,
                       style=self.log_overrides.get("style") or self.config.logging.format,
                       secrets=secrets_of(self.config), basic=basic_credentials_of(self.config), log_file=self.log_file,
                       message_bodies=self.config.logging.message_bodies)
        except UserError as exc:
            if not reloading:
                raise
            logger.error("{}; still logging as before", exc)

    def claim_lead(self) -> bool:
        """Try the leader lock once. Taken and no standby wanted: one clear line."""
        if self.lock.try_acquire():
            return True
        if not self.config.daemon.ha:
            raise UserError(f"another zsc ({self.lock.holder()}) is already active on {self.lock.where}; "
                            "stop it first, or set [daemon] ha = true to run this one as a hot standby")
        return False

    def become_leader(self) -> None:
        """Return once this process holds the leader lock, with the store open and the
        jobs installed; until then wait as a standby."""
        standby = False
        while True:
            try:
                if self.claim_lead():
                    break
                status = f"standby: {self.lock.holder()} is active; taking over when it stops"
                healthy = True  # the lock could be asked: the standby is doing its job
            except LockUnavailable:
                if not standby and not self._ready_sent:
                    raise  # at start-up the database must answer
                status, healthy = "standby: the database does not answer; retrying", False
            if not standby:
                logger.info(status)
                standby = True
                self.started = True
            self.standby_status = status
            self._ready(status)
            self.notifier.cycle(status, healthy)
            self.export_metrics()
            runtime.sleep(self.standby_interval)
            if self._reload_requested:
                self.reload()
        if standby:
            logger.info("took over as the active zsc")
        self.open()

    @property
    def standby_interval(self) -> float:
        # Retrying once per poll interval takes over within two of them.
        return min(self.config.sync.slack_interval, self.config.sync.zendesk_interval)

    def open(self) -> None:
        """Store, context and jobs: only for the leader, and only after a fork, so no
        database connection is ever shared with a parent process."""
        from zsc.sync import build_engine

        with self.lock.setting_up() if self.sharing else nullcontext():
            self.engine = build_engine(self.config)
            # Sharing the work, the record names who polls Zendesk: set when that is taken.
            self.engine.start(self.since, leader=None if self.sharing else self._leader_record())
        self.since = None  # a takeover after a lost lock must not rewind again
        self.active_since = utcnow()
        self.install_jobs()
        self.started = True
        logger.info("zsc active: channel {} every {}s, Zendesk every {}s",
                    ", ".join(c.id for c in self.config.channel_list),
                    self.config.sync.slack_interval, self.config.sync.zendesk_interval)

    @property
    def sharing(self) -> bool:
        return isinstance(self.lock, SharedWork)

    def _leader_record(self) -> dict[str, Any]:
        return {"host": socket.gethostname(), "pid": os.getpid(), "since": utcnow().isoformat(timespec="seconds") + "Z"}

    def take_share(self, source: str) -> bool:
        """[daemon] ha on Postgres: whether this instance polls `source` now (its share
        of the channels, or the Zendesk side), taking and giving up work as instances
        come and go (zsc.locks.SharedWork)."""
        from zsc.sync import keys

        store = self.engine.store
        if source == "zendesk":
            had = "zendesk" in self.lock.mine
            if not self.lock.take("zendesk"):
                return False
            if not had:
                logger.info("took over the Zendesk poll and the daily report")
                store.set_leader(self._leader_record())
            return True
        polled, taken, given = self.lock.share([c.id for c in self.config.channel_list])
        for channel in sorted(given):
            logger.info("handed channel {} over to another instance", channel)
        for channel in sorted(taken):
            logger.info("took over channel {}", channel)
            store.set_checkpoint(keys.channel_poller(channel), f"{socket.gethostname()} pid {os.getpid()}")
        self.engine.ctx.only_channels = polled
        if not polled and "zendesk" not in self.lock.mine:
            if not self._shared_standby:
                status = f"standby: {self.lock.holder()} is active; taking over its share when it stops"
                logger.info(status)
                self.standby_status = status
            self._shared_standby = True
        else:
            self._shared_standby = False
        return bool(polled)

    def install_jobs(self) -> None:
        import schedule

        sync = self.config.sync
        self.scheduler = schedule.Scheduler()
        self.jobs = {source: self.scheduler.every(interval).seconds.do(self.poll, source)
                     for source, interval in (("slack", sync.slack_interval), ("zendesk", sync.zendesk_interval))}
        if self.config.report.enabled:
            self.scheduler.every(REPORT_TICK).seconds.do(ReportJob(self, self.active_since or utcnow()))

    # ---- work ----
    def poll(self, source: str) -> bool:
        if time.monotonic() < self.paused_until.get(source, 0.0):
            return False
        if not self.lock.held():
            raise LostLeadership()
        if self.sharing and not self.take_share(source):
            self.healthy[source] = True  # another instance does this: nothing failed here
            return True
        started = time.monotonic()
        try:
            result = self.engine.poll(source)
        except Stopping:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug or a lost database must not end the daemon
            result = self._crashed(source, exc)
        if self.metrics:
            self.metrics.poll_done(source, result, time.monotonic() - started)
        self._polled = True
        if result.paced:
            self._paced.add(source)
        self.healthy[source] = result.alive
        if result.alive:
            self.last_ok[source] = time.monotonic()
        if result.failures:  # the poll's own failure, or single items' (STATUS= names the last)
            self.last_error = (time.monotonic(), result.failures[-1])
        if result.auth_refused:
            self.paused_until[source] = time.monotonic() + AUTH_PAUSE
            logger.error("{}: credentials refused; pausing this source for {:.0f}s (fix them and send SIGHUP)",
                         source, AUTH_PAUSE)
        return result.ok

    def _crashed(self, source: str, exc: Exception):
        """An unexpected error in a poll: logged with its traceback, counted as a failed
        poll (no watchdog ping), and the store's connection dropped so that the next
        poll reconnects if the database was the problem."""
        from zsc.sync import CycleResult

        logger.bind(_traceback=True).opt(exception=exc).error("{} poll crashed: {}", source, exc)
        self.engine.close()
        result = CycleResult(incomplete=True)
        result.failures.append(f"{source} poll crashed: {type(exc).__name__}: {exc}")
        return result

    def run(self) -> int:
        """Run until SIGTERM/SIGINT. Returns the exit status."""
        self._install_signals()
        try:
            if not self.credentials_checked:
                check_credentials(self.config)
                self.credentials_checked = True
            self.start_metrics()
            while True:
                try:
                    self.become_leader()
                    self._ready(self.status_line())
                    self._loop()
                except LostLeadership:
                    self.step_down()
        except Stopping:
            pass
        finally:
            self.stop()
        return 0

    def _loop(self) -> None:
        self.poll("slack")  # at once, then as scheduled
        self.poll("zendesk")
        self.after_cycle()
        while True:
            if self._reload_requested:
                self.reload()
            self.scheduler.run_pending()
            self.hurry_paced()
            self.after_cycle()
            idle = self.scheduler.idle_seconds
            runtime.sleep(min(max(idle if idle is not None else 1.0, 0.05), 1.0))

    def hurry_paced(self) -> None:
        """A poll that stopped at its share of Slack's post pace has more to post: its next
        poll comes in PACED_AGAIN seconds, not a whole interval later. The other side's
        due poll still runs first (the scheduler runs the most overdue first)."""
        soon = datetime.now() + timedelta(seconds=PACED_AGAIN)  # the scheduler's clock: local, naive
        for source in self._paced:
            job = self.jobs.get(source)
            if job is not None and job.next_run is not None:
                job.next_run = min(job.next_run, soon)
        self._paced.clear()

    def step_down(self) -> None:
        logger.error("lost the leader lock; stopped polling, waiting to lead again")
        self.lock.release()
        if self.engine:
            self._clear_leader()
            self.engine.close()
            self.engine = None

    def _clear_leader(self) -> None:
        """`zsc status` must not name a daemon that stopped: clear our record (only
        ours: a standby may have taken over). The database may be what failed."""
        try:
            self.engine.store.clear_leader(socket.gethostname(), os.getpid())
        except StoreError as exc:
            logger.debug("could not clear the leader record: {}", exc)

    def after_cycle(self) -> None:
        """After polls ran: the status line for systemd, and the watchdog ping only if
        every source's latest poll succeeded (a hung or failing poll trips WatchdogSec=)."""
        if not self._polled:
            return
        self._polled = False
        self.notifier.cycle(self.status_line(), all(self.healthy.values()))
        self.export_metrics()

    # ---- metrics ----
    def start_metrics(self) -> None:
        """[metrics]: count every API call, and serve /metrics if `listen` is set."""
        cfg = self.config.metrics
        if not (cfg.listen or cfg.textfile) or self.metrics is not None:
            return
        from zsc.adapters.ratelimit import RateGate
        from zsc.metrics import Metrics

        self.metrics = Metrics()
        if cfg.listen:
            self.metrics.serve(cfg.listen)
            logger.info("serving metrics at http://{}/metrics", cfg.listen)
        RateGate.observe(self.metrics.api_call)

    def export_metrics(self) -> None:
        """The gauges read from the store, then the textfile (a failure is logged, once per
        kind of problem: metrics must never stop the mirroring)."""
        if self.metrics is None:
            return
        self.metrics.set_leader(self.engine is not None)
        if self.engine is not None:
            try:
                self.metrics.from_store(self.engine.store)
            except StoreError:
                pass  # the database is down: the polls say so already
            except Exception as exc:  # noqa: BLE001 - a bug in the metrics must not stop the mirroring
                logger.bind(_traceback=True).opt(exception=exc).error("metrics not updated: {}", exc)
        path = self.config.metrics.textfile
        if not path:
            return
        try:
            self.metrics.write_textfile(path)
            self._textfile_problem = None
        except OSError as exc:
            problem = f"[metrics] textfile: cannot write {path} ({exc.strerror or exc}); check the directory exists and zsc may write there"
            if problem != self._textfile_problem:
                logger.error("{}", problem)
            self._textfile_problem = problem

    def status_line(self) -> str:
        """One line: how long ago each source was polled, open issues, the last error."""
        if self.engine is None:
            return self.standby_status
        now = time.monotonic()
        polled = ", ".join(f"{s} {duration(now - self.last_ok[s]) + ' ago' if s in self.last_ok else 'not yet'}"
                           for s in SOURCES)
        try:
            count = self.engine.store.count_open_issues()
            issues = f"{count} open issue{'' if count == 1 else 's'}"
        except StoreError:  # the database is down: the polls say so already
            issues = "open issues unknown"
        parts = [f"polled {polled}", issues]
        failing = [s for s in SOURCES if self.healthy.get(s) is False]
        if failing:
            parts.insert(0, "FAILING " + ", ".join(failing))
        if self.last_error:
            parts.append(f"last error {duration(now - self.last_error[0])} ago: {self.last_error[1]}")
        return "; ".join(parts)

    def _ready(self, status: str) -> None:
        if not self._ready_sent:
            self.notifier.ready(status)
            self._ready_sent = True
        else:
            self.notifier.status(status)

    def stop(self) -> None:
        if self.started:  # a start refused has said why in one line already
            logger.info("zsc stopping")
        self.notifier.stopping()
        if self.engine:
            self._clear_leader()
            self.engine.close()
        if self.metrics:
            from zsc.adapters.ratelimit import RateGate

            RateGate.observe(None)
            self.metrics.set_leader(False)
            self.metrics.close()
        self.lock.release()
        self.notifier.close()

    # ---- signals and reload ----
    def _install_signals(self) -> None:
        def stop(signum, _frame):
            logger.info("received {}; finishing the item in hand", signal.Signals(signum).name)
            runtime.request_stop()

        def hup(_signum, _frame):
            self._reload_requested = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hup)

    def reload(self) -> None:
        """Re-read and check the config (and the credentials it names); a bad one is
        logged and the old one keeps running. Intervals, filters, channel, tokens and
        logging apply at once; the database URL only on restart."""
        from zsc.config import reload as reread

        self._reload_requested = False
        self.notifier.reloading()
        logger.info("reloading the configuration")
        try:
            new = reread(self.config)
            # The store and the lock were chosen at start: these two need a restart.
            if new.database.url != self.config.database.url:
                logger.warning("[database] url changed; restart zsc to switch stores (keeping the current one)")
                new = dataclasses.replace(new, database=self.config.database)
            if new.metrics.listen != self.config.metrics.listen:
                logger.warning("[metrics] listen changed; restart zsc to serve on the new address (keeping the current one)")
                new = dataclasses.replace(new, metrics=dataclasses.replace(new.metrics, listen=self.config.metrics.listen))
            if new.sync.dry_run != self.config.sync.dry_run:
                logger.warning("[sync] dry_run changed; restart zsc to switch it (keeping the current value)")
                new = dataclasses.replace(new, sync=dataclasses.replace(new.sync, dry_run=self.config.sync.dry_run))
            check_credentials(new)
        except UserError as exc:
            logger.error("reload refused, keeping the running config: {}", exc)
        else:
            self.apply(new)
            logger.info("configuration reloaded")
        self.notifier.ready(self.status_line())

    def apply(self, config) -> None:
        from zsc.sync import build_engine

        self.config = config
        self.setup_logging(reloading=True)
        self.paused_until.clear()
        self.start_metrics()  # a textfile named by the new config starts now
        if self.engine is not None:
            # New adapters (tokens, URLs, timeouts) over the same store; a new channel starts at now.
            self.engine = build_engine(config, store=self.engine.store)
            self.engine.start(None)
            self.install_jobs()


class ReportJob:
    """The scheduled tick that asks the engine whether the daily report is due. It
    never raises (one failing post must not stop the mirroring) and waits
    REPORT_RETRY after a failure instead of retrying every tick."""

    def __init__(self, daemon: Daemon, up_since: datetime) -> None:
        self.daemon, self.up_since = daemon, up_since
        self.retry_at: datetime | None = None
        self.dry_done: date | None = None

    def __call__(self) -> None:
        from zsc.report import local_today

        engine = self.daemon.engine
        now = utcnow().replace(tzinfo=timezone.utc)
        if engine is None or (self.retry_at and now < self.retry_at):
            return
        if not self.daemon.lock.held():
            return  # only the active zsc posts; its next poll notices and steps down
        if self.daemon.sharing and "zendesk" not in self.daemon.lock.mine:
            return  # sharing the work: the instance polling Zendesk posts it
        day = local_today(engine.config.report, now)
        if engine.dry_run and self.dry_done == day:
            return  # a dry run records nothing, so remember here that today is done
        try:
            if engine.report_if_due(now, up_since=self.up_since) and engine.dry_run:
                self.dry_done = day
            self.retry_at = None
        except Stopping:
            raise
        except Exception as exc:  # noqa: BLE001 - logged; the daemon keeps mirroring
            self.retry_at = now + REPORT_RETRY
            log = logger.bind(channel=engine.report_channel())
            (log.error if isinstance(exc, UserError) else log.exception)(  # a bug gets its traceback
                "daily report for {} not posted, trying again in {:.0f} min: {}", day,
                REPORT_RETRY.total_seconds() / 60, exc)


def daemon_lock(config):
    """The leader lock; with [daemon] ha on Postgres, the work shared among the instances."""
    url = config.database.url
    if config.daemon.ha and not url.startswith("sqlite:"):
        return SharedWork(url)
    return leader_lock(url)


def run_forever(config, since: datetime | None = None, detach: bool = False, pidfile: str | None = None,
                log_file: str | None = None, log_overrides: dict | None = None) -> int:
    """`zsc run`: in the foreground (systemd, a terminal), or detached with --detach.
    A reload re-reads the file the config came from."""
    runtime.reset()
    setting = "--pidfile" if pidfile else "[daemon] pidfile"
    pidfile = pidfile or config.daemon.pidfile or None
    log_file = str(Path(log_file).absolute()) if log_file else None
    daemon = Daemon(config, since=since, log_file=log_file, log_overrides=log_overrides)
    pid = PidFile(Path(pidfile).absolute(), setting=setting) if pidfile else None
    if pid:
        pid.claim()  # a second start fails here, on the terminal
    if not detach:
        daemon.setup_logging()
        with pid or nullcontext():
            return daemon.run()
    try:
        preserve = _before_detaching(daemon)
    except BaseException:
        if pid:
            pid.__exit__(None, None, None)  # we never ran: leave no pidfile behind
        raise
    from zsc.detach import detach_process

    if pid:
        # The pid becomes visible (and a SIGTERM possible) when the daemon enters the
        # pidfile: have our handlers in place by then, not python-daemon's, whose
        # SystemExit is lost if it lands in a weakref callback or a __del__.
        pid.on_enter = daemon._install_signals
    detach_process(pid, preserve)
    if isinstance(daemon.lock, FileLock) and daemon.lock.held():
        daemon.lock.write_pid()  # the daemon's pid, not the parent's
    daemon.setup_logging()  # reopen the log file in the daemon
    try:
        return daemon.run()
    except UserError as exc:
        logger.error("{}", exc)  # stderr is gone: the log file is the only witness
        return exc.exit_code


def _before_detaching(daemon: Daemon) -> list[int]:
    """Check on the terminal whatever a person must fix, instead of in a log nobody
    reads yet; return the descriptors the daemon keeps (log files, the SQLite lock)."""
    from zsc import logs

    check_credentials(daemon.config)
    daemon.credentials_checked = True
    preserve = logs.file_descriptors()
    if isinstance(daemon.lock, FileLock) and daemon.claim_lead():
        preserve.append(daemon.lock.fd)  # the flock lives on in the daemon
    if not daemon.log_file:
        logger.warning("--detach without --log-file: the daemon's logs are discarded")
    return preserve
