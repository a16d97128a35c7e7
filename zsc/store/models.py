"""The tables zsc keeps. Only zsc.store imports this module: everything else asks
the Store (zsc.store.Store) by name, so a query lives in exactly one place."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from zsc.lean_imports import without

# peewee probes for psycopg2 when it is imported; a SQLite store never needs it (6 MB
# and 30 ms for nothing), so the probe is answered "not installed" here, and
# zsc.store.schema.open_database hands psycopg2 to peewee when a Postgres URL asks.
with without("psycopg2"):
    import peewee as pw

db_proxy = pw.DatabaseProxy()

# Directions of a mirrored item.
TO_ZENDESK = "to_zendesk"
TO_SLACK = "to_slack"

OPEN_STATUSES = ("new", "open", "pending", "hold")
DONE_STATUSES = ("solved", "closed", "deleted")


def utcnow() -> datetime:
    """Naive UTC: what we store, the same on SQLite and Postgres."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = db_proxy


class Meta(BaseModel):
    key = pw.CharField(primary_key=True, max_length=64)
    value = pw.TextField()

    class Meta:
        table_name = "zsc_meta"


class Issue(BaseModel):
    """One support request: a Slack thread tied to a Zendesk ticket. Read its fields
    anywhere; change it only through Store methods."""

    channel = pw.CharField(max_length=32)
    thread_ts = pw.CharField(max_length=32)
    ticket_id = pw.BigIntegerField(null=True, unique=True)
    origin = pw.CharField(max_length=8)  # "slack" | "email"
    status = pw.CharField(max_length=16, default="new")
    subject = pw.TextField(default="")
    requester_name = pw.CharField(null=True)
    requester_email = pw.CharField(null=True)
    requester_slack_id = pw.CharField(null=True, max_length=32)
    opened_at = pw.DateTimeField(default=utcnow)
    closed_at = pw.DateTimeField(null=True)
    # Newest Slack reply ts whose effects are all recorded (per-thread cursor).
    slack_reply_cursor = pw.CharField(null=True, max_length=32)
    # Zendesk updated_at (ISO string) up to which every comment was handled.
    zendesk_updated_at = pw.CharField(null=True, max_length=32)
    last_activity_at = pw.DateTimeField(default=utcnow)
    followup_of = pw.BigIntegerField(null=True)  # ticket this one follows up (v2)
    # Slack's reply_count of the thread as of its last complete read, plus zsc's own posts
    # since: while history shows the same count, the thread has nothing new to read (v5).
    slack_reply_count = pw.IntegerField(null=True)
    # The same for the ticket: its comment count as of its last complete read, plus zsc's
    # own comments since; while Zendesk shows that count, no comment is new (v8).
    zendesk_comment_count = pw.IntegerField(null=True)
    # The first answer by someone other than the asker and zsc: an agent's public
    # comment or another person's thread reply (v7). None: nobody has answered yet.
    first_response_at = pw.DateTimeField(null=True)
    # The status reaction zsc last set on the thread's top message ([status_reactions]); None: none yet.
    status_reaction = pw.CharField(null=True, max_length=64)

    class Meta:
        table_name = "issue"
        indexes = ((("channel", "thread_ts"), True),)

    @property
    def is_open(self) -> bool:
        return self.status not in DONE_STATUSES


class MirroredItem(BaseModel):
    """One thing mirrored (or posted) for an issue, keyed by ids so it happens once.

    Slack -> Zendesk: slack_ts is the source message, zendesk_comment_id the comment
    written. Zendesk -> Slack: the reverse. `ref` keys effects that have no natural
    id on one side (confirmation, status notice, on-call, keyword reply)."""

    issue = pw.ForeignKeyField(Issue, backref="items", on_delete="CASCADE")
    direction = pw.CharField(max_length=16)
    kind = pw.CharField(max_length=24)
    channel = pw.CharField(null=True, max_length=32)
    slack_ts = pw.CharField(null=True, max_length=32)
    zendesk_comment_id = pw.BigIntegerField(null=True, unique=True)
    ref = pw.CharField(null=True, unique=True, max_length=255)
    created_at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "mirrored_item"
        indexes = ((("channel", "slack_ts"), True),)


class Intent(BaseModel):
    """Written before an external write; deleted in the transaction that records the
    write's result. A row left behind means the write's fate is unknown: it is
    resolved by looking the key up on the far side, not by repeating blindly."""

    key = pw.CharField(unique=True, max_length=255)
    kind = pw.CharField(max_length=24)
    issue = pw.ForeignKeyField(Issue, null=True, backref="intents", on_delete="CASCADE")
    payload = pw.TextField(default="{}")
    created_at = pw.DateTimeField(default=utcnow)
    attempts = pw.IntegerField(default=0)

    class Meta:
        table_name = "intent"

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload or "{}")


class Checkpoint(BaseModel):
    """The engine's cursors and a few process-wide facts (the leader)."""

    name = pw.CharField(primary_key=True, max_length=128)
    value = pw.TextField()
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "checkpoint"


class SlackUser(BaseModel):
    """Cache of Slack people and their Zendesk counterparts (saves a lookup per message)."""

    slack_user_id = pw.CharField(primary_key=True, max_length=32)
    name = pw.CharField(default="")
    email = pw.CharField(null=True)
    zendesk_user_id = pw.BigIntegerField(null=True)
    fetched_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "slack_user"


class ZendeskUser(BaseModel):
    zendesk_user_id = pw.BigIntegerField(primary_key=True)
    name = pw.CharField(default="")
    email = pw.CharField(null=True)
    fetched_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "zendesk_user"


class SourceStatus(BaseModel):
    """Health of each poller, for `zsc status` and the systemd STATUS line."""

    source = pw.CharField(primary_key=True, max_length=32)
    last_attempt_at = pw.DateTimeField(null=True)
    last_success_at = pw.DateTimeField(null=True)
    last_error_at = pw.DateTimeField(null=True)
    last_error = pw.TextField(null=True)

    class Meta:
        table_name = "source_status"


class CommandRun(BaseModel):
    """Audit trail of thread commands: who ran what, when, on which issue, result."""

    issue = pw.ForeignKeyField(Issue, null=True, backref="commands", on_delete="SET NULL")
    channel = pw.CharField(max_length=32)
    slack_ts = pw.CharField(max_length=32)
    slack_user_id = pw.CharField(max_length=32, null=True)
    command = pw.CharField(max_length=64)
    result = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "command_run"
        indexes = ((("channel", "slack_ts"), True),)


class ReportRun(BaseModel):
    """One row per scheduled report day, so the daily report is posted exactly once."""

    day = pw.CharField(primary_key=True, max_length=10)  # YYYY-MM-DD in report tz
    posted_at = pw.DateTimeField(default=utcnow)
    late = pw.BooleanField(default=False)
    slack_ts = pw.CharField(null=True, max_length=32)

    class Meta:
        table_name = "report_run"


class TicketFlag(BaseModel):
    """A fact about a ticket that has no issue (yet): the Slack thread an emailed
    ticket's set-up has posted, or the decision not to post an email (v3)."""

    ticket_id = pw.BigIntegerField()
    name = pw.CharField(max_length=32)
    value = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "ticket_flag"
        primary_key = pw.CompositeKey("ticket_id", "name")


class FailingItem(BaseModel):
    """An item (a Slack message or reply, a ticket, a comment) whose handling failed,
    and how often; parked once it has failed long enough, so it blocks nothing (v4)."""

    key = pw.CharField(primary_key=True, max_length=255)  # "slack:<channel>:<ts>", "zendesk:<ticket>"...
    label = pw.CharField(max_length=255)  # where, for people: "Slack C123/1700000000.000100"
    channel = pw.CharField(null=True, max_length=32)
    ts = pw.CharField(null=True, max_length=32)
    ticket_id = pw.BigIntegerField(null=True)
    error = pw.TextField(default="")
    attempts = pw.IntegerField(default=0)
    first_failed_at = pw.DateTimeField(default=utcnow)
    last_failed_at = pw.DateTimeField(default=utcnow)
    parked_at = pw.DateTimeField(null=True, index=True)

    class Meta:
        table_name = "failing_item"


class PendingOnCall(BaseModel):
    """A new issue whose on-call line is still owed: PagerDuty did not answer when the
    issue opened, so the lookup is retried for a while (v6)."""

    ticket_id = pw.BigIntegerField(primary_key=True)  # the on-call line's ref is per ticket
    issue = pw.ForeignKeyField(Issue, backref="pending_oncall", on_delete="CASCADE")
    since = pw.DateTimeField(default=utcnow)  # the first failed lookup
    tries = pw.IntegerField(default=1)
    last_try_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "pending_oncall"


V1_MODELS = [Meta, Issue, MirroredItem, Intent, Checkpoint, SlackUser, ZendeskUser]
V2_MODELS = [SourceStatus, CommandRun, ReportRun]
V3_MODELS = [TicketFlag]
V4_MODELS = [FailingItem]
V6_MODELS = [PendingOnCall]


def upsert(model: type[pw.Model], **values: Any) -> None:
    """Insert or overwrite by primary key; portable across SQLite and Postgres."""
    pk = model._meta.primary_key
    rest = {k: v for k, v in values.items() if k != pk.name}
    model.insert(**values).on_conflict(conflict_target=[pk], update=rest).execute()
