"""Prometheus metrics of the daemon (`zsc run`), in a registry of their own.

Fed by the daemon after each poll (the engine's CycleResult counts what was mirrored
and what failed; the store answers the gauges) and by the adapters' rate gates,
which tell an observer of every API call (zsc.adapters.ratelimit.RateGate.observe).
Served at /metrics on `[metrics] listen` (prometheus_client's WSGI server, bound to
that address only, answering nothing but /metrics) and/or written to `[metrics]
textfile` for node_exporter (prometheus_client writes a temporary file in the same
directory and renames it, so a reader never sees half a file)."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app, write_to_textfile
from prometheus_client.exposition import ThreadingWSGIServer

from zsc.errors import ConfigError, UserError

SOURCES = ("slack", "zendesk")
DIRECTIONS = ("slack_to_zendesk", "zendesk_to_slack")
DIRECTION_OF = {"slack": "slack_to_zendesk", "zendesk": "zendesk_to_slack"}
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


def parse_listen(value: str) -> tuple[str, int]:
    """"127.0.0.1:9464", "[::1]:9464" or "localhost:9464" -> (host, port)."""
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"[metrics] listen: {value!r} is not HOST:PORT; write e.g. \"127.0.0.1:9464\"")
    return host, int(port)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # scrapes every few seconds would flood the log


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter("zsc_polls", "Completed polls.", ["source"], registry=r)
        self.poll_duration = Histogram("zsc_poll_duration_seconds", "How long each poll took.", ["source"],
                                       buckets=POLL_BUCKETS, registry=r)
        self.api_calls = Counter("zsc_api_calls", "API calls made, by outcome.", ["api", "endpoint", "outcome"],
                                 registry=r)
        self.mirrored = Counter("zsc_items_mirrored", "Messages, replies and comments mirrored "
                                "(an opened ticket counts once, as its first message).", ["direction"], registry=r)
        self.failures = Counter("zsc_item_failures", "Failed attempts at mirroring an item.", ["direction"],
                                registry=r)
        self.nudges = Counter("zsc_nudges", "Nudges posted in threads nobody had answered.", registry=r)
        self.parked = Gauge("zsc_parked_items", "Items parked after repeated failures.", registry=r)
        self.open_issues = Gauge("zsc_open_issues", "Open issues.", registry=r)
        self.awaiting = Gauge("zsc_issues_awaiting_first_response", "Open issues nobody has answered yet.",
                              registry=r)
        self.oldest_awaiting = Gauge("zsc_oldest_awaiting_first_response_age_seconds",
                                     "Wall-clock time the longest-waiting unanswered open issue has waited (0 when none).",
                                     registry=r)
        self.oldest_unmirrored = Gauge("zsc_oldest_unmirrored_age_seconds",
                                       "Age of the oldest item seen but not yet mirrored (0 when none).", ["source"],
                                       registry=r)
        self.last_poll = Gauge("zsc_last_successful_poll_timestamp_seconds", "Unix time of the last good poll.",
                               ["source"], registry=r)
        self.leader = Gauge("zsc_leader", "1 when this instance polls, else 0.", registry=r)
        self.report_posted = Gauge("zsc_report_last_post_timestamp_seconds",
                                   "Unix time the last daily report was posted.", registry=r)
        for source in SOURCES:  # every series exists from the start, at 0
            self.polls.labels(source)
            self.poll_duration.labels(source)
            self.oldest_unmirrored.labels(source)
            self.last_poll.labels(source)
        for direction in DIRECTIONS:
            self.mirrored.labels(direction)
            self.failures.labels(direction)
        self.server: Any = None

    # ---- feeding ----
    def api_call(self, api: str, endpoint: str, outcome: str) -> None:
        """The rate gates' observer."""
        self.api_calls.labels(api, endpoint, outcome).inc()

    def poll_done(self, source: str, result: Any, seconds: float, now: float | None = None) -> None:
        """After a poll: `result` is its zsc.sync.CycleResult."""
        now = time.time() if now is None else now
        self.polls.labels(source).inc()
        self.poll_duration.labels(source).observe(seconds)
        for direction, count in result.mirrored.items():
            self.mirrored.labels(direction).inc(count)
        for direction, count in result.item_failures.items():
            self.failures.labels(direction).inc(count)
        self.nudges.inc(result.nudges)
        oldest = result.oldest_unmirrored
        self.oldest_unmirrored.labels(source).set(max(0.0, now - oldest) if oldest is not None else 0.0)
        if result.ok:
            self.last_poll.labels(source).set(now)

    def from_store(self, store: Any, now: float | None = None) -> None:
        """The gauges the store answers (four small queries)."""
        now = time.time() if now is None else now
        self.open_issues.set(store.count_open_issues())
        self.parked.set(store.count_parked())
        self.awaiting.set(store.count_awaiting_first_response())
        asked = store.oldest_awaiting_first_response()
        if isinstance(asked, str):  # SQLite hands an aggregate back as text
            asked = datetime.fromisoformat(asked)
        self.oldest_awaiting.set(max(0.0, now - asked.replace(tzinfo=timezone.utc).timestamp()) if asked else 0.0)
        posted = store.last_report_posted_at()
        if posted is not None:
            self.report_posted.set(posted.timestamp())

    def set_leader(self, leading: bool) -> None:
        self.leader.set(1 if leading else 0)

    # ---- exposing ----
    def serve(self, listen: str) -> None:
        """Serve /metrics on `listen` (HOST:PORT) from a daemon thread; nothing else is served."""
        host, port = parse_listen(listen)
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict, start_response: Any) -> Any:
            if environ.get("PATH_INFO") != "/metrics":
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"only /metrics is served here\n"]
            return metrics_app(environ, start_response)

        class Server(ThreadingWSGIServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        try:
            self.server = make_server(host, port, app, Server, handler_class=_Quiet)
        except OSError as exc:
            raise UserError(f"[metrics] listen: cannot serve on {listen} ({exc.strerror or exc}); "
                            "pick a free port on an address of this machine") from None
        import threading

        threading.Thread(target=self.server.serve_forever, name="zsc-metrics", daemon=True).start()

    @property
    def address(self) -> tuple[str, int] | None:
        return self.server.server_address[:2] if self.server else None

    def write_textfile(self, path: str) -> None:
        """Write every metric to `path` atomically (a temporary file beside it, renamed)."""
        write_to_textfile(path, self.registry)

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
