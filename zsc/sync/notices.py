"""Notices in a new issue's thread, after its confirmation: the out-of-hours message
and who is on call. `after_new_issue` is called by both ways an issue opens (a
Slack message, an email).

Each is posted at most once per ticket (post_once, keyed by ticket id), so a cycle
that re-reads the issue after a crash adds nothing.

The on-call line survives a PagerDuty blip: a failed lookup leaves the line owed in
the store, and `retry_oncall_notices` (once per Zendesk poll) asks again -- at most
once a minute (OnCall's failure cache) for `[pagerduty] retry_minutes` -- then posts
it late, saying so. The ticket flow never waits for it."""

from __future__ import annotations

from datetime import timedelta

from loguru import logger

from zsc.errors import ApiError, AuthError, RateLimited
from zsc.store import Issue, utcnow
from zsc.sync import keys
from zsc.sync.context import SyncContext
from zsc.sync.effects import post_once
from zsc.sync.hours import is_out_of_hours

LATE = "(late: PagerDuty did not answer at first) "


def after_new_issue(ctx: SyncContext, issue: Issue) -> None:
    post_hours_notice(ctx, issue)
    post_oncall_notice(ctx, issue)


def post_hours_notice(ctx: SyncContext, issue: Issue) -> None:
    hours = ctx.config.hours
    # opened_at, not now: a set-up resumed after a crash decides as the first attempt did.
    if is_out_of_hours(issue.opened_at, hours):
        post_once(ctx, issue, keys.hours_ref(issue.ticket_id), "hours", hours.message)


def post_oncall_notice(ctx: SyncContext, issue: Issue) -> None:
    ref = keys.oncall_ref(issue.ticket_id)
    if ctx.oncall is None or ref in ctx.store.recorded(issue).refs or ctx.store.owes_oncall(issue.ticket_id):
        return  # checked first so a resumed issue costs no PagerDuty call (an owed line is retried)
    pending = ctx.store.intent(keys.post_key(ref))
    if pending:  # a post whose answer was lost is finished with the text it had, whoever is on call now
        text, answered = pending.data.get("text"), True
    else:
        text, answered = ctx.oncall.lookup()  # text None: nobody on call, or PagerDuty failed
    if not answered and ctx.config.pagerduty.retry_minutes > 0:
        ctx.store.owe_oncall(issue)
    elif text:
        post_once(ctx, issue, ref, "oncall", text)


def retry_oncall_notices(ctx: SyncContext) -> None:
    """Called once per Zendesk poll: ask PagerDuty again for each new issue whose
    lookup failed, post the line late once it answers, give up after
    `[pagerduty] retry_minutes`. A failure here is logged, never the poll's: the
    line is a nicety, and the next poll tries again."""
    owed = ctx.store.owed_oncalls()
    if not owed:
        return
    limit = timedelta(minutes=ctx.config.pagerduty.retry_minutes)
    for ticket_id, issue, since in owed:
        try:
            _retry_one(ctx, ticket_id, issue, since, limit)
        except (AuthError, RateLimited) as exc:  # Slack refuses or asks to wait: next poll
            logger.warning("late on-call line for ticket #{} not posted yet: {}", ticket_id, exc)
            return
        except ApiError as exc:
            logger.warning("late on-call line for ticket #{} not posted yet: {}", ticket_id, exc)


def _retry_one(ctx: SyncContext, ticket_id: int, issue: Issue, since, limit: timedelta) -> None:
    ref = keys.oncall_ref(ticket_id)
    pending = ctx.store.intent(keys.post_key(ref))
    if ref in ctx.store.recorded(issue).refs or (pending is None and ctx.oncall is None):
        ctx.store.settle_oncall(ticket_id)  # posted (a crash came before settling), or PagerDuty turned off
        return
    if pending is not None:  # posted with an answer lost: finish it as it was meant
        post_once(ctx, issue, ref, "oncall", pending.data.get("text") or "")
        ctx.store.settle_oncall(ticket_id)
        return
    if utcnow() - since > limit:
        logger.bind(ticket_id=ticket_id).warning(
            "PagerDuty did not answer for {} minute(s); no on-call line for ticket #{}", int(limit.total_seconds() // 60),
            ticket_id)
        ctx.store.settle_oncall(ticket_id)
        return
    text, answered = ctx.oncall.lookup()
    if not answered:
        ctx.store.tried_oncall(ticket_id)
        return
    if text:  # nobody on call now: nothing to post, nothing owed
        post_once(ctx, issue, ref, "oncall", LATE + text)
    ctx.store.settle_oncall(ticket_id)
