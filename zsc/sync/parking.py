"""No single item blocks its thread, its cursor or the daemon forever (DESIGN rule 8).

Each item (a Slack message or reply, a Zendesk ticket or comment) is handled through
`attempt`. A failure is counted in the store; an item that has failed on
[sync] park_after_attempts polls over at least [sync] park_after_minutes is parked:
recorded with its error, shown by `zsc status` and `zsc check-missing`, retried by
`check-missing --fix` -- and the sync moves past it. A refused credential or a rate
limit is never the item's fault: those end the whole poll and count against nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from loguru import logger

from zsc.errors import ApiError, AuthError, RateLimited
from zsc.store import FailingItem, utcnow
from zsc.sync.context import SyncContext


def attempt(ctx: SyncContext, key: str, label: str, handle: Callable[[], Any], *, nested: bool = False,
            channel: str | None = None, ts: str | None = None, ticket_id: int | None = None,
            direction: str | None = None, seen_at: float | None = None) -> bool:
    """Handle one item. True: it went through, or it is parked (move past it). False:
    it failed this time and will be retried; the failure is in ctx.result (and, with
    `direction` and `seen_at` -- the item's own Unix time -- in the metrics' counts).

    `nested`: an item inside another (a reply in a thread): a failure that does not
    park it is raised again, so the enclosing item stops where it is."""
    if ctx.store.is_parked(key):
        return True  # waits for `check-missing --fix`
    try:
        handle()
    except (AuthError, RateLimited):
        raise
    except ApiError as exc:
        row = ctx.store.note_failure(key, label, str(exc)[:500], channel=channel, ts=ts, ticket_id=ticket_id)
        if direction:
            ctx.result.item_failed(direction, seen_at)
        if should_park(ctx, row):
            ctx.store.park(key)
            ctx.result.parked.append(label)
            ctx.result.failed(f"{label}: parked after {row.attempts} failed attempts: {exc}")
            logger.bind(channel=channel, ts=ts, ticket_id=ticket_id).error(
                "{} parked after {} failed attempts (last: {}); the sync moves on. `zsc check-missing --fix` "
                "retries it", label, row.attempts, exc)
            return True
        if nested:
            raise
        fields = {k: v for k, v in (("channel", channel), ("thread_ts", ts), ("ticket_id", ticket_id)) if v}
        ctx.result.failed(f"{label}: {exc}", **fields)
        return False
    ctx.store.clear_failure(key)
    return True


def should_park(ctx: SyncContext, row: FailingItem) -> bool:
    sync = ctx.config.sync
    return (row.attempts >= sync.park_after_attempts
            and utcnow() - row.first_failed_at >= timedelta(minutes=sync.park_after_minutes))
