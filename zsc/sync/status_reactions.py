"""Status at a glance: one reaction of zsc's on each thread's top message saying
where its ticket stands ([status_reactions]: open / pending / solved).

Changing it: add the new one first, then take back every other status reaction zsc
may have set (the configured ones and the one last recorded), then record the new
one. Each Slack answer "already_reacted"/"no_reaction" counts as done, so after a
crash anywhere in between the next Zendesk poll redoes the whole step harmlessly and
the thread ends with exactly one. Tickets outside their channel's group show nothing
new (DESIGN rule 9). Without the scope reactions:write zsc says so once and goes on
without reactions."""

from __future__ import annotations

from loguru import logger

from zsc.adapters.records import Ticket
from zsc.errors import AuthError
from zsc.store import Issue
from zsc.sync import group_boundary
from zsc.sync.context import SyncContext


def follow(ctx: SyncContext, issue: Issue | None, ticket: Ticket) -> None:
    settings = ctx.config.status_reactions
    if not settings.enabled or ctx.reactions_off:
        return
    issue = issue or ctx.store.issue_by_ticket(ticket.id)  # an emailed ticket just set up
    if issue is None or issue.ticket_id != ticket.id or group_boundary.is_outside(ctx, ticket):
        return
    wanted = settings.for_status(ticket.status)
    if wanted is None or ctx.store.status_reaction(issue) == wanted:
        return
    try:
        show(ctx, issue, wanted)
    except AuthError as exc:
        if exc.needed is None:
            raise  # the token itself was refused: the whole poll stops
        ctx.reactions_off = True
        logger.warning("status reactions are off until restart: {}", exc)


def show(ctx: SyncContext, issue: Issue, wanted: str) -> None:
    settings = ctx.config.status_reactions
    ctx.slack.react(issue.channel, issue.thread_ts, wanted)
    others = {settings.open, settings.pending, settings.solved, ctx.store.status_reaction(issue)} - {wanted, None}
    for name in sorted(others):
        ctx.slack.unreact(issue.channel, issue.thread_ts, name)
    ctx.store.set_status_reaction(issue, wanted)
    ctx.result.did(f"Slack {issue.channel}/{issue.thread_ts}: status reaction :{wanted}:",
                   channel=issue.channel, thread_ts=issue.thread_ts, ticket_id=issue.ticket_id)
