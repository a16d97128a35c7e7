"""Notices in a new issue's thread, after its confirmation: the out-of-hours message
and who is on call. `after_new_issue` is called by both ways an issue opens (a
Slack message, an email).

Each is posted at most once per ticket (post_once, keyed by ticket id), so a cycle
that re-reads the issue after a crash adds nothing."""

from __future__ import annotations

from zsc.store import Issue
from zsc.sync import keys
from zsc.sync.context import SyncContext
from zsc.sync.effects import post_once
from zsc.sync.hours import is_out_of_hours


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
    if ctx.oncall is None or ref in ctx.store.recorded(issue).refs:
        return  # checked first so a resumed issue costs no PagerDuty call
    pending = ctx.store.intent(keys.post_key(ref))
    # A post whose answer was lost is finished with the text it had, whoever is on call now.
    text = pending.data.get("text") if pending else ctx.oncall.message()  # None: nobody on call, or PagerDuty failed
    if text:
        post_once(ctx, issue, ref, "oncall", text)
