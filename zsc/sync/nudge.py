"""A nudge in threads nobody has answered: `[nudge] after_minutes` after the person
asked (office minutes when [hours] is set, and only posted within office hours), one
message in the thread, mentioning the PagerDuty primary when their email matches a
Slack account (else naming them).

Called explicitly at the end of each Slack poll. Cheap when idle: one store query
finds the candidates (open, unanswered, not nudged yet, asked long enough ago on the
wall clock, which is never less than office time). Once per ticket and crash-safe:
post_once with the ref `nudge:<ticket>`; a post whose answer was lost is finished
with the text it had."""

from __future__ import annotations

from datetime import timedelta

from zsc import format as fmt
from zsc.errors import ApiError, AuthError, RateLimited
from zsc.store import Issue, utcnow
from zsc.sync import keys
from zsc.sync.context import SyncContext
from zsc.sync.effects import post_once
from zsc.sync.hours import elapsed_seconds, in_office_hours

LOOKBACK = timedelta(days=14)  # older unanswered issues are not nudged (e.g. those from before an upgrade)


def nudge_unanswered(ctx: SyncContext) -> None:
    cfg = ctx.config.nudge
    if not cfg.enabled:
        return
    now = utcnow()
    hours = ctx.config.hours
    if not in_office_hours(now, hours):
        return  # counted in office time, the wait cannot have grown since the shift ended
    wait = cfg.after_minutes * 60
    for issue in ctx.store.awaiting_first_response(now - timedelta(seconds=wait), now - LOOKBACK, keys.NUDGE_PREFIX):
        if issue.channel != ctx.channel:
            continue  # each channel's poll nudges its own threads (another instance may poll the others)
        if elapsed_seconds(issue.opened_at, now, hours) >= wait:
            nudge(ctx, issue)


def nudge(ctx: SyncContext, issue: Issue) -> None:
    ref = keys.nudge_ref(issue.ticket_id)
    pending = ctx.store.intent(keys.post_key(ref))
    text = pending.data.get("text") if pending else nudge_text(ctx)
    try:
        if post_once(ctx, issue, ref, "nudge", text) is not None:
            ctx.result.nudges += 1
            ctx.result.did(f"Slack {issue.channel}/{issue.thread_ts}: nudged (no answer yet)",
                           channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=issue.ticket_id)
    except (AuthError, RateLimited):
        raise  # not this issue's: it ends the poll
    except ApiError as exc:  # one issue's nudge must not stop the others, nor the poll
        ctx.result.failed(f"Slack {issue.channel}/{issue.thread_ts}: nudge: {exc}",
                          channel=issue.channel, thread_ts=issue.thread_ts)


def nudge_text(ctx: SyncContext) -> str:
    cfg = ctx.config.nudge
    if not cfg.mention_oncall or ctx.oncall is None:
        return cfg.message
    people = [mention(ctx, person.name, person.email) for person in ctx.oncall.primary()]
    return f"{cfg.message} {', '.join(people)}, you are on call." if people else cfg.message


def mention(ctx: SyncContext, name: str, email: str | None) -> str:
    """<@U…> for the Slack account with this email, else the name (made safe: a name from
    PagerDuty must not ping anyone)."""
    if email:
        try:
            person = ctx.slack.user_by_email(email)
        except ApiError:
            person = None  # no lookup (scope missing, Slack down): the name still tells who
        if person is not None:
            return f"<@{person.id}>"
    return fmt.zendesk_to_slack(" ".join(name.split()))
