"""The long-running loop behind `zsc run`: schedules the pollers (and the daily
report) with `schedule`, handles signals, and never lets one failure stop the rest."""

from __future__ import annotations

import signal
import time
from datetime import datetime
from typing import Any, Callable

from loguru import logger

from zsc import runtime
from zsc.errors import AuthError, UserError
from zsc.runtime import Stopping

AUTH_PAUSE = 300.0  # after a refused credential, wait this long instead of hammering the API

# Extra jobs (the daily report...) register here: fn(daemon, scheduler) -> None.
job_installers: list[Callable[["Daemon", Any], None]] = []


class Daemon:
    def __init__(self, config, config_path: str | None = None, since: datetime | None = None,
                 notifier: Any = None) -> None:
        self.config = config
        self.config_path = config_path
        self.since = since
        self.notifier = notifier
        self.ctx = None
        self.scheduler = None
        self.paused_until: dict[str, float] = {}
        self.last_error: dict[str, str | None] = {}
        self._reload_requested = False

    # ---- set-up ----
    def start(self) -> None:
        from zsc.service import build_context
        from zsc.sync import engine

        self.ctx = build_context(self.config)
        engine.start_position(self.ctx, self.since)
        self.install_jobs()

    def install_jobs(self) -> None:
        import schedule

        sync = self.config.sync
        self.scheduler = schedule.Scheduler()
        self.scheduler.every(sync.slack_interval).seconds.do(self.poll, "slack")
        self.scheduler.every(sync.zendesk_interval).seconds.do(self.poll, "zendesk")
        for install in job_installers:
            install(self, self.scheduler)

    # ---- work ----
    def poll(self, source: str) -> bool:
        from zsc.sync import engine

        if time.monotonic() < self.paused_until.get(source, 0.0):
            return False
        fn = engine.poll_slack if source == "slack" else engine.poll_zendesk
        result = engine.run_source(self.ctx, source, fn)
        self.last_error[source] = result.failures[-1] if result.failures else None
        if result.auth_refused:
            self.paused_until[source] = time.monotonic() + AUTH_PAUSE
            logger.error("{}: credentials refused; pausing this source for {:.0f}s (fix them and send SIGHUP)",
                         source, AUTH_PAUSE)
        return result.ok

    def run(self) -> int:
        """Run until SIGTERM/SIGINT. Returns the exit status."""
        self._install_signals()
        self.start()
        logger.info("zsc running: channel {} every {}s, Zendesk every {}s", self.config.slack.channel,
                    self.config.sync.slack_interval, self.config.sync.zendesk_interval)
        try:
            self.poll("slack")
            self.poll("zendesk")
            self.after_cycle()
            while not runtime.stop_event.is_set():
                if self._reload_requested:
                    self.reload()
                self.scheduler.run_pending()
                self.after_cycle()
                idle = self.scheduler.idle_seconds
                runtime.sleep(min(max(idle if idle is not None else 1.0, 0.05), 1.0))
        except Stopping:
            pass
        finally:
            self.stop()
        return 0

    def after_cycle(self) -> None:
        """Hook for the systemd notifier (status line, watchdog)."""
        if self.notifier:
            self.notifier.cycle(self)

    def stop(self) -> None:
        logger.info("zsc stopping")
        if self.notifier:
            self.notifier.stopping()
        if self.ctx:
            self.ctx.store.close()

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
        """Re-read the config; a bad one is logged and the old one keeps running."""
        from zsc.config import load_config

        self._reload_requested = False
        if self.notifier:
            self.notifier.reloading()
        try:
            new = load_config(self.config_path)
        except UserError as exc:
            logger.error("reload refused, keeping the running config: {}", exc)
        else:
            old_store = self.config.database.url
            self.config = new
            if new.database.url != old_store:
                logger.warning("[database] url changed; restart zsc to switch stores")
            self.ctx.config = new
            self.paused_until.clear()
            self.install_jobs()
            logger.info("configuration reloaded")
        if self.notifier:
            self.notifier.ready()


def run_forever(config, config_path: str | None = None, since: datetime | None = None, detach: bool = False,
                pidfile: str | None = None, log_file: str | None = None, log_overrides: dict | None = None) -> int:
    runtime.reset()
    daemon = Daemon(config, config_path=config_path, since=since)
    try:
        return daemon.run()
    except AuthError as exc:
        raise UserError(str(exc)) from None
