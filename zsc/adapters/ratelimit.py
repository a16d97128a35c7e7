"""One rate budget per API: every caller waits on the same gate, which honours the
last Retry-After and backs off exponentially on transient failures."""

from __future__ import annotations

import re
import threading
import time
from typing import Callable, ClassVar, TypeVar

from loguru import logger

from zsc import runtime
from zsc.errors import Ambiguous, ApiError, RateLimited, Unavailable

T = TypeVar("T")

# Told of every API call made: (api, endpoint, outcome), outcome one of OUTCOMES.
CallObserver = Callable[[str, str, str], None]
OUTCOMES = ("ok", "client_error", "rate_limited", "server_error", "network")


class Transient(Exception):
    """Raised by an adapter's call wrapper for failures that may pass (5xx, network).
    `network`: no answer at all (refused, timed out, unresolvable), so if it lasts the
    address or the network is what to check."""

    def __init__(self, message: str, network: bool = False) -> None:
        super().__init__(message)
        self.network = network


class Limited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class RateGate:
    """Shared by every call to one API.

    `max_wait` bounds how long one call may wait for the gate; past it the call
    raises RateLimited so the cycle moves on and the daemon comes back later.
    `per_method`: the API limits each method on its own (Slack's tiers), so a 429 on
    conversations.history does not hold back chat.postMessage; else one budget for all
    (Zendesk's per-account limit). `transient_retries` (default: `retries`) bounds the
    retries of transient failures alone, for an API not worth a second timeout (PagerDuty)."""

    # One for the process (the daemon's metrics), so gates an adapter makes later report too.
    observer: ClassVar[CallObserver | None] = None

    @classmethod
    def observe(cls, observer: CallObserver | None) -> None:
        """Tell `observer` of every call any gate makes (None: stop)."""
        cls.observer = observer

    def __init__(self, api: str, max_wait: float = 60.0, retries: int = 3, backoff: float = 0.5,
                 per_method: bool = False, transient_retries: int | None = None) -> None:
        self.api = api
        self.max_wait = max_wait
        self.retries = retries
        self.transient_retries = retries if transient_retries is None else transient_retries
        self.backoff = backoff
        self.per_method = per_method
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def _scope(self, what: str) -> str:
        return what if self.per_method else ""

    def block(self, seconds: float, what: str = "") -> None:
        with self._lock:
            scope = self._scope(what)
            until = time.monotonic() + max(seconds, 0.0)
            self._blocked_until[scope] = max(self._blocked_until.get(scope, 0.0), until)

    def remaining(self, what: str = "") -> float:
        return max(0.0, self._blocked_until.get(self._scope(what), 0.0) - time.monotonic())

    def _wait_turn(self, what: str = "") -> None:
        wait = self.remaining(what)
        if wait > self.max_wait:
            raise RateLimited(self.api, wait)
        if wait > 0:
            logger.debug("{api}: waiting {wait:.1f}s for the rate limit", api=self.api, wait=wait)
            runtime.sleep(wait)

    def call(self, fn: Callable[[], T], *, write: bool = False, what: str = "") -> T:
        """Run `fn` under the gate. `fn` raises Limited or Transient for the
        wrapper to handle; anything else passes through.

        A write is never repeated after a Transient failure (it may have been applied):
        it raises Ambiguous. A 429 guarantees nothing was applied, so writes retry it."""
        attempt = 0
        while True:
            self._wait_turn(what)
            try:
                result = fn()
            except Limited as exc:
                self._observe(what, "rate_limited")
                self.block(exc.retry_after, what)
                attempt += 1
                if attempt > self.retries:
                    raise RateLimited(self.api, exc.retry_after) from None
            except Transient as exc:
                self._observe(what, "network" if exc.network or isinstance(exc.__context__, OSError) else "server_error")
                if write:
                    raise Ambiguous(self.api, f"{what}: outcome unknown ({exc}); will check before retrying") from None
                attempt += 1
                if attempt > self.transient_retries:
                    raise Unavailable(self.api, self._gave_up(what, exc)) from None
                runtime.sleep(self.backoff * (2 ** (attempt - 1)))
            except ApiError:
                self._observe(what, "client_error")  # refused, not found, not allowed: the answer said so
                raise
            else:
                self._observe(what, "ok")
                return result

    def _observe(self, what: str, outcome: str) -> None:
        observer = RateGate.observer
        if observer is not None:
            observer(self.api.split()[0].lower(), endpoint_of(what), outcome)

    def _gave_up(self, what: str, exc: Transient) -> str:
        """"{what}: {exc}", without repeating a `what` the adapter already put first,
        and for a network error what to check: "[slack] api_url and the network"."""
        text = str(exc)
        if what and not text.startswith(f"{what}:"):
            text = f"{what}: {text}"
        # An adapter may raise Transient from the network error itself (`from None` keeps it as the context).
        network = exc.network or isinstance(exc.__context__, OSError)
        if network and "api_url" not in text:
            text += f"; check [{self.api.split()[0].lower()}] api_url and the network"
        return text


def endpoint_of(what: str) -> str:
    """A call's description without the ids in it ("ticket 12 comments" -> "ticket {id}
    comments", "tickets external_id=slack:C1:1.2" -> "tickets external_id"), so the
    metrics' endpoint label stays a short list."""
    what = what.split("=", 1)[0].split(":", 1)[0]
    return re.sub(r"\d+", "{id}", what).strip() or "other"


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


__all__ = ["RateGate", "Limited", "Transient", "ApiError", "describe"]
