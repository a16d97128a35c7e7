"""Who is on call: a one-line Slack message naming the primary and secondary on-call
people of one PagerDuty escalation policy.

A nicety beside the ticket flow, so it never gets in its way: any PagerDuty failure
is logged once (one line, no secret) and gives no message now; `lookup` says it
failed, so the caller can retry later (zsc.sync.notices). Answers are cached for
`cache_seconds`; a failure is remembered for a shorter while (at most a minute), so
a burst of new issues during an outage costs one timeout, not one each, and a retry
asks PagerDuty at most once a minute.
"""

from __future__ import annotations

import time
from typing import Iterable

from loguru import logger

from zsc import format as fmt
from zsc.adapters import OnCallApi
from zsc.adapters.records import OnCallPerson
from zsc.errors import ApiError

LEVEL_NAMES = {1: "Primary", 2: "Secondary"}  # deeper levels are escalation, not "on call"
FAILURE_BACKOFF = 60.0  # seconds before asking a failing PagerDuty again (capped by cache_seconds)


def format_message(entries: Iterable[tuple[int, str]]) -> str | None:
    """The line "Primary on call: Ann, Ben · Secondary on call: Cat". A level nobody
    holds is left out; with nobody on levels 1 and 2 there is no message (None)."""
    names: dict[int, set[str]] = {level: set() for level in LEVEL_NAMES}
    for level, name in entries:
        if level in names:
            # One line, and safe: a name from PagerDuty must not ping @channel or a user.
            names[level].add(fmt.zendesk_to_slack(" ".join(name.split())))
    parts = [f"{LEVEL_NAMES[level]} on call: {', '.join(sorted(people, key=str.casefold))}"
             for level, people in names.items() if people]
    return " · ".join(parts) or None


class OnCall:
    def __init__(self, adapter: OnCallApi, policy_id: str, cache_seconds: float = 300) -> None:
        self.adapter = adapter
        self.policy_id = policy_id
        self.cache_seconds = cache_seconds
        self._text: str | None = None
        self._failed = False  # the cached answer is a failure
        self._valid_until = float("-inf")  # time.time() until which _text is the answer
        self._people: list[OnCallPerson] = []
        self._people_valid_until = float("-inf")

    @classmethod
    def from_config(cls, pd) -> "OnCall":
        """From the [pagerduty] section (zsc.config.PagerDutyConfig)."""
        from zsc.adapters.factory import pagerduty_from

        return cls(pagerduty_from(pd), pd.escalation_policy_id, pd.cache_seconds)

    def message(self, now: float | None = None) -> str | None:
        """The on-call line for a new issue, or None (nobody on call, or PagerDuty failed).
        `now` is in time.time() seconds."""
        return self.lookup(now)[0]

    def lookup(self, now: float | None = None) -> tuple[str | None, bool]:
        """(the on-call line or None, whether PagerDuty answered). `now` is in
        time.time() seconds."""
        now = time.time() if now is None else now
        if now < self._valid_until:
            return self._text, not self._failed
        failed = True
        try:
            text, ttl, failed = format_message(self.adapter.oncall(self.policy_id)), self.cache_seconds, False
        except ApiError as exc:  # messages written by the adapter: never a secret
            self._log_failure(str(exc))
            text, ttl = None, min(self.cache_seconds, FAILURE_BACKOFF)
        except Exception as exc:  # noqa: BLE001 - a bug or surprise here must not stop a ticket
            self._log_failure(f"unexpected {type(exc).__name__}")  # its text might quote a header
            text, ttl = None, min(self.cache_seconds, FAILURE_BACKOFF)
        self._text, self._failed, self._valid_until = text, failed, now + max(ttl, 0)
        return text, not failed

    def primary(self, now: float | None = None) -> list[OnCallPerson]:
        """The people on call at level 1 (with their emails), [] when nobody is or
        PagerDuty failed (logged once, as for message()); cached like message()."""
        now = time.time() if now is None else now
        if now < self._people_valid_until:
            return self._people
        try:
            people, ttl = self.adapter.oncall_people(self.policy_id), self.cache_seconds
        except ApiError as exc:
            self._log_failure(str(exc))
            people, ttl = [], min(self.cache_seconds, FAILURE_BACKOFF)
        except Exception as exc:  # noqa: BLE001 - a surprise here must not stop the poll
            self._log_failure(f"unexpected {type(exc).__name__}")
            people, ttl = [], min(self.cache_seconds, FAILURE_BACKOFF)
        self._people = [person for person in people if person.level == 1]
        self._people_valid_until = now + ttl
        return self._people

    def _log_failure(self, reason: str) -> None:
        logger.bind(policy_id=self.policy_id).warning(
            "On-call lookup failed, so no on-call message for now: {}", reason)
