"""Store methods about what was mirrored and the intents of writes under way: the hot
path of a catch-up, served from per-cycle caches. (A part of zsc.store.Store.)"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


from zsc.store.models import (TO_ZENDESK, Intent, Issue, MirroredItem,
                              utcnow)


class _Recorded:
    """What is already recorded for one issue, so the hot path asks sets, not SQL."""

    __slots__ = ("slack_ts", "comment_ids", "refs")

    def __init__(self) -> None:
        self.slack_ts: set[str] = set()
        self.comment_ids: set[int] = set()
        self.refs: set[str] = set()


class MirroredQueries:
    _exec: Any
    _recorded: dict[int, _Recorded]
    _pending: set[str] | None

    # ---- mirrored items ----
    def slack_item(self, channel: str, ts: str) -> MirroredItem | None:
        return MirroredItem.get_or_none((MirroredItem.channel == channel) & (MirroredItem.slack_ts == ts))

    def comment_item(self, comment_id: int) -> MirroredItem | None:
        return MirroredItem.get_or_none(MirroredItem.zendesk_comment_id == comment_id)

    def record_item(self, issue: Issue, direction: str, kind: str, *, slack_ts: str | None = None,
                    comment_id: int | None = None, ref: str | None = None) -> None:
        self._exec('INSERT INTO mirrored_item (issue_id, direction, kind, channel, slack_ts, zendesk_comment_id, '
                   'ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                   (issue.id, direction, kind, issue.channel if slack_ts else None, slack_ts, comment_id, ref, utcnow()))
        recorded = self._recorded.get(issue.id)
        if recorded is not None:
            _remember(recorded, slack_ts, comment_id, ref)

    def set_item_comment(self, issue: Issue, slack_ts: str, comment_id: int) -> None:
        """Fill in the comment id of an item recorded without one (its answer was lost)."""
        MirroredItem.update(zendesk_comment_id=comment_id).where(
            (MirroredItem.issue == issue) & (MirroredItem.slack_ts == slack_ts)).execute()
        recorded = self._recorded.get(issue.id)
        if recorded is not None:
            recorded.comment_ids.add(comment_id)

    def recorded(self, issue: Issue) -> _Recorded:
        """Ids and refs already recorded for this issue (cached for the cycle)."""
        recorded = self._recorded.get(issue.id)
        if recorded is None:
            recorded = self._recorded[issue.id] = _Recorded()
            rows = self._exec("SELECT slack_ts, zendesk_comment_id, ref FROM mirrored_item WHERE issue_id = ?", (issue.id,))
            for slack_ts, comment_id, ref in rows:
                _remember(recorded, slack_ts, comment_id, ref)
        return recorded

    def mapped_comment_ids(self, issue: Issue) -> set[int]:
        return set(self.recorded(issue).comment_ids)

    def mapped_slack_ts(self, issue: Issue) -> set[str]:
        return set(self.recorded(issue).slack_ts)

    def mirrored_since(self, direction: str, since: datetime) -> int:
        return MirroredItem.select().where((MirroredItem.direction == direction)
                                           & (MirroredItem.created_at >= since)).count()

    # ---- intents ----
    def _pending_keys(self) -> set[str]:
        if self._pending is None:
            self._pending = {key for (key,) in self._exec('SELECT "key" FROM intent', ())}
        return self._pending

    def intent(self, key: str) -> Intent | None:
        if key not in self._pending_keys():
            return None
        return Intent.get_or_none(Intent.key == key)

    def begin_intent(self, key: str, kind: str, issue: Issue | None, payload: dict[str, Any],
                     created_at: datetime | None = None, attempts: int = 1) -> None:
        """Record that we are about to write; committed before the write happens.
        (`attempts=0` marks a write that may have happened without our knowing.)"""
        if key in self._pending_keys():
            self._exec('UPDATE intent SET attempts = attempts + 1 WHERE "key" = ?', (key,))
            return
        self._exec('INSERT INTO intent ("key", kind, issue_id, payload, created_at, attempts) VALUES (?, ?, ?, ?, ?, ?)',
                   (key, kind, issue.id if issue is not None else None, json.dumps(payload), created_at or utcnow(),
                    attempts))
        self._pending_keys().add(key)

    def finish_intent(self, key: str) -> None:
        """Call inside the transaction that records the write's result."""
        self._exec('DELETE FROM intent WHERE "key" = ?', (key,))
        self._pending_keys().discard(key)

    def drop_unattempted(self, keys: list[str]) -> None:
        """Remove marks (attempts = 0) that no write ever used."""
        if keys:
            Intent.delete().where(Intent.key.in_(keys) & (Intent.attempts == 0)).execute()
            self._pending = None

    def pending_keys(self, issue: Issue) -> set[str]:
        """Keys of this issue's writes of unknown outcome."""
        if not self.has_pending():
            return set()
        return {row.key for row in Intent.select(Intent.key).where(Intent.issue == issue)}

    def has_pending(self) -> bool:
        return bool(self._pending_keys())

    def pending_intents(self) -> list[Intent]:
        if not self.has_pending():
            return []
        return list(Intent.select().order_by(Intent.id))

    def pending_count(self) -> int:
        return Intent.select().count()

    def mirrored_comment_of(self, issue: Issue, slack_ts: str) -> int | None:
        """The comment a Slack message (the opening message or a reply) became on this
        issue's ticket; None when it was not mirrored there."""
        rows = self._exec("SELECT zendesk_comment_id FROM mirrored_item WHERE issue_id = ? AND direction = ? "
                          "AND slack_ts = ? AND kind IN ('message', 'reply') AND zendesk_comment_id IS NOT NULL",
                          (issue.id, TO_ZENDESK, slack_ts))
        return next((row[0] for row in rows), None)

    def mirrored_replies(self, issue: Issue) -> dict[str, int | None]:
        """Slack ts -> comment id of every thread reply mirrored to this issue's ticket."""
        rows = self._exec("SELECT slack_ts, zendesk_comment_id FROM mirrored_item WHERE issue_id = ? AND direction = ? "
                          "AND kind = 'reply' AND slack_ts IS NOT NULL", (issue.id, TO_ZENDESK))
        return {ts: comment_id for ts, comment_id in rows}

    def set_intent_payload(self, key: str, payload: dict[str, Any]) -> None:
        """Replace a pending intent's payload (e.g. the upload tokens a retry may reuse)."""
        self._exec('UPDATE intent SET payload = ? WHERE "key" = ?', (json.dumps(payload), key))


def _remember(recorded: _Recorded, slack_ts: str | None, comment_id: int | None, ref: str | None) -> None:
    if slack_ts:
        recorded.slack_ts.add(slack_ts)
    if comment_id is not None:
        recorded.comment_ids.add(comment_id)
    if ref:
        recorded.refs.add(ref)
