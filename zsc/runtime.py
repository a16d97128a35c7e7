"""Process-wide run state: the stop flag every wait honours, so SIGTERM ends a
backoff or a sleep within moments instead of after it."""

from __future__ import annotations

import threading

stop_event = threading.Event()


class Stopping(Exception):
    """Raised out of a wait when zsc has been asked to stop."""


def sleep(seconds: float) -> None:
    """Wait up to `seconds`; raise Stopping at once if a stop is requested."""
    if seconds > 0 and stop_event.wait(seconds):
        raise Stopping()
    if stop_event.is_set():
        raise Stopping()


def request_stop() -> None:
    stop_event.set()


def reset() -> None:
    """For tests and for a fresh `run` in the same process."""
    stop_event.clear()


def check() -> None:
    """Between items: stop here, with everything so far committed."""
    if stop_event.is_set():
        raise Stopping()
