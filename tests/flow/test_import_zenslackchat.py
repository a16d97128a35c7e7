"""`zsc import zenslackchat`: threads the old bot mapped keep mirroring to the same
tickets after the switch, with nothing old posted again. The old bot's database is
built as its Django migrations create it, in SQLite and in Postgres; zsc runs for
real (CLI, slack-sdk, zenpy, pdpyras) against the simulator."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from tests import pg
from tests.flow.world import CHANNEL
from tests.zenslackchat_db import OldRow, OldState, build_postgres, build_sqlite
from zsc.store import Store

OLD_SLACK_TOKEN = "xoxb-old-bot-token-00000001"
OLDER_SLACK_TOKEN = "xoxb-older-bot-token-000099"
OLD_ZENDESK_TOKEN = "zd-old-oauth-token-0000000002"
OLD_PAGERDUTY_TOKEN = "pd-old-oauth-token-0000000003"
GONE_TS = "1600000000.000100"


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


@pytest.fixture(params=["sqlite", "postgres"])
def old_db(request, tmp_path):
    """build(state) -> the URL of the old bot's database on each backend."""
    if request.param == "sqlite":
        yield lambda state: build_sqlite(tmp_path / "zenslackchat.sqlite3", state)
    else:
        with pg.fresh_database() as url:
            yield lambda state: build_postgres(url, state)


@pytest.fixture
def old_sqlite(tmp_path):
    return lambda state: build_sqlite(tmp_path / "zenslackchat.sqlite3", state)


# ---------------------------------------------------------------- the old bot's world

@dataclass
class Scene:
    state: OldState
    open_ts: str
    open_ticket: int
    solved_ts: str
    solved_ticket: int
    closed_ts: str
    closed_ticket: int
    foreign_ts: str
    gone_ticket: int


def old_ticket(world, ts: str, text: str) -> int:
    """What the old bot did for a new message: a ticket through the API, and its
    confirmation in the thread."""
    zd = world.sim.zendesk
    with zd.lock:
        ticket, _ = zd.desk.create_ticket(world.agent_id, "api", {
            "subject": text, "comment": {"body": text, "public": True}, "assignee_id": world.agent_id,
            "group_id": world.group_id})
    world.sim.slack.workspace.post_as_bot(CHANNEL, f"Ticket {ticket.id} is open", thread_ts=ts)
    return ticket.id


def old_reply(world, ts: str, ticket_id: int, text: str) -> None:
    """A reply in Slack, copied by the old bot to the ticket."""
    world.reply(ts, text)
    zd = world.sim.zendesk
    with zd.lock:
        zd.desk.update_ticket(ticket_id, world.agent_id, "api",
                              {"comment": {"body": f"(Ann) {text}", "public": True, "author_id": world.agent_id}})


def old_comment(world, ts: str, ticket_id: int, text: str) -> None:
    """An agent's public comment, copied by the old bot to the thread."""
    world.sim.zendesk.agent_comment(ticket_id, world.other_agent, text)
    world.sim.slack.workspace.post_as_bot(CHANNEL, f"Zoe: {text}", thread_ts=ts)


def old_bot_scene(world) -> Scene:
    now = utcnow()
    open_ts = world.ask("Printer on fire")
    open_ticket = old_ticket(world, open_ts, "Printer on fire")
    old_reply(world, open_ts, open_ticket, "it is still burning")
    old_comment(world, open_ts, open_ticket, "On my way with an extinguisher")
    world.sim.zendesk.internal_note(open_ticket, world.other_agent, "internal: never shown")

    solved_ts = world.ask("VPN is down")
    solved_ticket = old_ticket(world, solved_ts, "VPN is down")
    old_comment(world, solved_ts, solved_ticket, "Restarted the VPN")
    world.sim.zendesk.solve(solved_ticket)

    closed_ts = world.ask("Need a new mouse")
    closed_ticket = old_ticket(world, closed_ts, "Need a new mouse")
    old_comment(world, closed_ts, closed_ticket, "Mouse on your desk")
    world.sim.zendesk.solve(closed_ticket)
    world.sim.zendesk.close(closed_ticket)

    foreign_ts = world.sim.slack.post("COTHER", "UANN", "wrong channel")
    foreign_ticket = old_ticket_elsewhere(world, "wrong channel")
    gone_ticket = old_ticket_elsewhere(world, "its Slack message was deleted")

    state = OldState(
        rows=[
            OldRow(CHANNEL, open_ts, str(open_ticket), True, now - timedelta(hours=5)),
            OldRow(CHANNEL, solved_ts, str(solved_ticket), False, now - timedelta(days=3), now - timedelta(days=1)),
            OldRow(CHANNEL, closed_ts, str(closed_ticket), False, now - timedelta(days=4), now - timedelta(days=2)),
            OldRow("COTHER", foreign_ts, str(foreign_ticket), True, now - timedelta(hours=2)),
            OldRow(CHANNEL, world.ask("its ticket was deleted"), "99999", True, now - timedelta(hours=1)),
            OldRow(CHANNEL, GONE_TS, str(gone_ticket), True, now - timedelta(hours=1)),
        ],
        slack_apps=[("TSIM", "UOLDBOT", OLDER_SLACK_TOKEN, now - timedelta(days=300)),
                    ("TSIM", "UOLDBOT", OLD_SLACK_TOKEN, now - timedelta(days=30))],
        zendesk_tokens=[(OLD_ZENDESK_TOKEN, now - timedelta(days=30))],
        pagerduty_tokens=[(OLD_PAGERDUTY_TOKEN, now - timedelta(days=30))],
        hours=[(time(8, 0), time(16, 0), "old message", now - timedelta(days=90)),
               (time(9, 0), time(17, 30), 'We are closed; "urgent"? call the desk', now - timedelta(days=10))],
    )
    return Scene(state, open_ts, open_ticket, solved_ts, solved_ticket, closed_ts, closed_ticket, foreign_ts,
                 gone_ticket)


def old_ticket_elsewhere(world, text: str) -> int:
    zd = world.sim.zendesk
    with zd.lock:
        ticket, _ = zd.desk.create_ticket(world.agent_id, "api", {"subject": text, "comment": {"body": text}})
    return ticket.id


def run_import(world, url: str, *args: str):
    return world.zsc("import", "zenslackchat", url, *args)


def store(world) -> Store:
    return Store(f"sqlite:///{world.tmp}/zsc.db")


def snapshot(world) -> dict:
    """Everything visible on both sides."""
    slack = {ts: [m["ts"] for m in world.thread(ts)] for ts in [m["ts"] for m in world.sim.slack.messages(CHANNEL)]}
    zendesk = {t["id"]: [(c["id"], c["body"]) for c in world.comments(t["id"])] for t in world.tickets()}
    return {"slack": slack, "zendesk": zendesk, "tickets": len(world.tickets())}


# ---------------------------------------------------------------- the import itself

def test_threads_keep_their_tickets_and_nothing_old_is_posted_again(world, old_db):
    scene = old_bot_scene(world)
    url = old_db(scene.state)
    result = run_import(world, url)
    out = result.output
    assert result.exit_code == 1, out  # two rows cannot be imported, and say so
    assert f"imported: {CHANNEL}/{scene.open_ts} -> #{scene.open_ticket} (open; 3 replies, 2 comment(s)" in out
    assert f"imported: {CHANNEL}/{scene.solved_ts} -> #{scene.solved_ticket} (solved" in out
    assert f"imported: {CHANNEL}/{scene.closed_ts} -> #{scene.closed_ticket} (closed" in out
    assert f"skipped: COTHER/{scene.foreign_ts}" in out and "is not [slack] channel CSUPPORT" in out
    assert "#99999: ticket #99999 no longer exists in Zendesk" in out
    assert f"{CHANNEL}/{GONE_TS} -> #{scene.gone_ticket}: the Slack message is gone" in out
    assert "zsc check-missing" in out
    assert "6 row(s): 3 imported, 0 already in zsc, 1 in other channels (skipped), 2 not importable." in out

    rows = {r.chat_id: r for r in scene.state.rows}
    s = store(world)
    try:
        opened = s.issue_by_thread(CHANNEL, scene.open_ts)
        assert (opened.ticket_id, opened.status, opened.closed_at) == (scene.open_ticket, "open", None)
        assert opened.opened_at == rows[scene.open_ts].opened
        assert opened.subject == "Printer on fire"
        solved = s.issue_by_thread(CHANNEL, scene.solved_ts)
        assert (solved.ticket_id, solved.status) == (scene.solved_ticket, "solved")
        assert (solved.opened_at, solved.closed_at) == (rows[scene.solved_ts].opened, rows[scene.solved_ts].closed)
        closed = s.issue_by_thread(CHANNEL, scene.closed_ts)
        assert (closed.status, closed.closed_at) == ("closed", rows[scene.closed_ts].closed)
        assert s.issue_by_thread("COTHER", scene.foreign_ts) is None
        assert s.issue_by_thread(CHANNEL, GONE_TS) is None and s.issue_by_ticket(99999) is None
        # exactly what the sync records for an issue it opened, plus what existed then
        recorded = s.recorded(opened)
        first = world.comments(scene.open_ticket)[0]["id"]
        assert first in recorded.comment_ids and scene.open_ts in recorded.slack_ts
        assert {f"permalink:{scene.open_ticket}", f"confirm:{scene.open_ticket}"} <= recorded.refs
        assert {m["ts"] for m in world.thread(scene.open_ts)} <= recorded.slack_ts
        assert opened.slack_reply_cursor == world.thread(scene.open_ts)[-1]["ts"]
        assert opened.zendesk_updated_at <= world.sim.zendesk.ticket(scene.open_ticket)["updated_at"]
    finally:
        s.close()

    before = snapshot(world)
    for _ in range(2):
        assert world.sync().exit_code == 0
    assert snapshot(world) == before  # no ticket for an old message, no reply or comment again, no confirmation


def test_new_activity_in_an_imported_open_thread_mirrors_once(world, old_sqlite):
    scene = old_bot_scene(world)
    run_import(world, old_sqlite(scene.state))
    world.sync()
    tickets = len(world.tickets())
    world.reply(scene.open_ts, "now the toner is melting")
    world.sync_until_clean()
    world.sync()
    bodies = [c["body"] for c in world.comments(scene.open_ticket)]
    assert sum("now the toner is melting" in b for b in bodies) == 1
    assert len(world.tickets()) == tickets  # the same ticket, no new one
    world.sim.zendesk.agent_comment(scene.open_ticket, world.other_agent, "Fire brigade called")
    world.sync_until_clean()
    world.sync()
    assert sum("Fire brigade called" in t for t in world.bot_texts(scene.open_ts)) == 1
    # zsc's thread commands work on it too
    world.reply(scene.open_ts, "resolve")
    world.sync_until_clean()
    assert world.sim.zendesk.ticket(scene.open_ticket)["status"] == "solved"


def test_replies_in_imported_closed_threads_follow_the_closed_ticket_rules(world, old_sqlite):
    scene = old_bot_scene(world)
    run_import(world, old_sqlite(scene.state))
    world.sync()
    world.reply(scene.solved_ts, "the VPN is down again")
    world.reply(scene.closed_ts, "this mouse has no wheel")
    world.sync_until_clean()
    world.sync()
    # solved: reopened by the reply, which lands on the same ticket
    assert world.sim.zendesk.ticket(scene.solved_ticket)["status"] == "open"
    assert sum("the VPN is down again" in c["body"] for c in world.comments(scene.solved_ticket)) == 1
    # closed: Zendesk cannot reopen it, so a follow-up ticket carries the reply
    followups = [t for t in world.tickets() if "zsc_followup" in t["tags"]]
    assert len(followups) == 1 and followups[0]["subject"].startswith(f"Follow-up to #{scene.closed_ticket}")
    assert "this mouse has no wheel" in world.comments(followups[0]["id"])[0]["body"]
    assert any("follow-up" in t for t in world.bot_texts(scene.closed_ts))


def test_a_second_import_changes_nothing(world, old_db):
    scene = old_bot_scene(world)
    url = old_db(scene.state)
    run_import(world, url)
    world.sync()
    s = store(world)
    try:
        counts = (len(s.open_issues()), sum(len(s.recorded(i).refs) for i in s.open_issues()), s.pending_count())
    finally:
        s.close()
    db_before = (world.tmp / "zsc.db").stat().st_size
    result = run_import(world, url)
    assert "Nothing changed: 3 thread(s) already in zsc, 1 in other channels, 2 not importable." in result.output
    s = store(world)
    try:
        assert (len(s.open_issues()), sum(len(s.recorded(i).refs) for i in s.open_issues()), s.pending_count()) == counts
    finally:
        s.close()
    assert (world.tmp / "zsc.db").stat().st_size == db_before


def test_dry_run_writes_nothing(world, old_db):
    scene = old_bot_scene(world)
    url = old_db(scene.state)
    before = snapshot(world)
    result = run_import(world, url, "--dry-run", "--tokens")
    out = result.output
    assert f"would import: {CHANNEL}/{scene.open_ts} -> #{scene.open_ticket}" in out
    assert "Dry run: nothing was written." in out
    assert not (world.tmp / "zsc.db").exists()
    assert not (Path(os.environ["STATE_DIRECTORY"]) / "tokens.json").exists()
    assert snapshot(world) == before
    assert OLD_SLACK_TOKEN not in out and OLD_ZENDESK_TOKEN not in out


def test_the_old_database_is_only_read(world, old_sqlite):
    scene = old_bot_scene(world)
    url = old_sqlite(scene.state)
    path = Path(url[len("sqlite:///"):])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    run_import(world, url, "--tokens")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)) == [path.name]


def test_the_reader_refuses_to_write(old_db):
    from zsc.store.zenslackchat import open_old

    old = open_old(old_db(OldState(rows=[OldRow(CHANNEL, "1700000000.000100", "1", True, utcnow())])))
    try:
        with pytest.raises(Exception, match="(?i)read.only|readonly"):
            old.db.execute_sql("DELETE FROM zenslackchat_zenslackchat")
    finally:
        old.close()


# ---------------------------------------------------------------- tokens and hours

def test_tokens_are_copied_checked_and_never_shown_whole(world, old_db):
    scene = old_bot_scene(world)
    world.sim.slack.add_token(OLD_SLACK_TOKEN)
    world.sim.zendesk.add_oauth_token(OLD_ZENDESK_TOKEN, user_id=world.agent_id)
    world.sim.pagerduty.add_api_key(OLD_PAGERDUTY_TOKEN)  # the simulator takes any known token as Bearer too
    result = run_import(world, old_db(scene.state), "--tokens")
    out = result.output
    for secret in (OLD_SLACK_TOKEN, OLDER_SLACK_TOKEN, OLD_ZENDESK_TOKEN, OLD_PAGERDUTY_TOKEN):
        assert secret not in out
    assert "Slack bot token xoxb-…0001: saved as slack_token" in out
    assert "Zendesk OAuth token zd-…0002: saved as zendesk_oauth_token" in out
    assert "PagerDuty OAuth token pd-…0003: saved as pagerduty_oauth_token" in out
    path = Path(os.environ["STATE_DIRECTORY"]) / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"slack_token": OLD_SLACK_TOKEN, "zendesk_oauth_token": OLD_ZENDESK_TOKEN,
                                            "pagerduty_oauth_token": OLD_PAGERDUTY_TOKEN}
    # zsc uses the PagerDuty OAuth token (as Bearer) once the policy is configured
    world.write_config(extra=f'[pagerduty]\nescalation_policy_id = "PPOLICY"\napi_url = "{world.sim.pagerduty.url}"\n')
    check = world.zsc("auth", "check")
    assert re.search(r"✓ PagerDuty credentials +OAuth token pd-…0003", check.output), check.output


def test_a_refused_token_is_not_saved(world, old_sqlite):
    scene = old_bot_scene(world)
    world.sim.slack.add_token(OLD_SLACK_TOKEN)  # the Zendesk one was revoked since
    result = run_import(world, old_sqlite(scene.state), "--tokens")
    assert result.exit_code == 1
    assert "Zendesk OAuth token zd-…0002: not saved:" in result.output and "refused" in result.output
    assert OLD_ZENDESK_TOKEN not in result.output
    saved = json.loads((Path(os.environ["STATE_DIRECTORY"]) / "tokens.json").read_text())
    assert "zendesk_oauth_token" not in saved and saved["slack_token"] == OLD_SLACK_TOKEN


def test_without_tokens_no_secret_is_read(world, old_sqlite):
    """Without --tokens the app tables are never touched: a database without them imports."""
    scene = old_bot_scene(world)
    scene.state.app_tables = False
    result = run_import(world, old_sqlite(scene.state))
    assert f"imported: {CHANNEL}/{scene.open_ts}" in result.output
    assert not (Path(os.environ["STATE_DIRECTORY"]) / "tokens.json").exists()
    result = run_import(world, old_sqlite_again(world, scene), "--tokens")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "has no zenslackchat_slackapp table" in result.output


def old_sqlite_again(world, scene) -> str:
    path = world.tmp / "again.sqlite3"
    return build_sqlite(path, scene.state)


def test_out_of_hours_becomes_an_hours_block(world, old_sqlite):
    scene = old_bot_scene(world)
    result = run_import(world, old_sqlite(scene.state), "--dry-run")
    block = result.output[result.output.index("[hours]"):]
    hours = tomllib.loads(block)["hours"]
    assert hours == {"start": "09:00", "end": "17:30", "days": "mon-fri", "timezone": "UTC",
                     "message": 'We are closed; "urgent"? call the desk'}
    # pasted into the config, zsc accepts it
    world.write_config(extra=block)
    assert world.zsc("config", "check").exit_code in (0, 2) and world.sync().exit_code == 0


# ---------------------------------------------------------------- one-line errors

def one_line_error(result, exit_code: int, *fragments: str) -> None:
    assert result.exit_code == exit_code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zsc: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def test_unreachable_databases(world, tmp_path):
    one_line_error(run_import(world, "postgresql://old:s3cret-pw@127.0.0.1:1/zenslackchat"), 1,
                   "cannot open the zenslackchat database postgresql://127.0.0.1:1/zenslackchat")
    assert "s3cret" not in run_import(world, "postgresql://old:s3cret-pw@127.0.0.1:1/zenslackchat").output
    one_line_error(run_import(world, f"sqlite:///{tmp_path}/nope.sqlite3"), 1, "no such file")
    one_line_error(run_import(world, "mysql://old@db/zenslackchat"), 2, "unsupported scheme 'mysql'")
    assert not (world.tmp / "zsc.db").exists()


def test_not_a_zenslackchat_database(world, tmp_path):
    import sqlite3

    path = tmp_path / "other.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE django_migrations (id integer)")
    con.commit()
    con.close()
    one_line_error(run_import(world, f"sqlite:///{path}"), 1, "is not a zenslackchat database",
                   "no zenslackchat_zenslackchat table")
    text = tmp_path / "text.sqlite3"
    text.write_text("hello, not a database" * 100)
    one_line_error(run_import(world, f"sqlite:///{text}"), 1, "cannot open the zenslackchat database")


def test_a_column_zsc_cannot_read(world, tmp_path):
    import sqlite3

    path = tmp_path / "odd.sqlite3"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE "zenslackchat_zenslackchat" ("id" integer PRIMARY KEY, "channel_id" varchar(22), '
                '"chat_id" varchar(22), "ticket_id" varchar(22), "active" bool, "opened" integer, "closed" datetime)')
    con.commit()
    con.close()
    one_line_error(run_import(world, f"sqlite:///{path}"), 1, "zenslackchat_zenslackchat.opened",
                   "column type 'INTEGER' is not one zsc can read as a timestamp")
    # right type, unreadable value
    path2 = tmp_path / "odd2.sqlite3"
    build_sqlite(path2, OldState(rows=[OldRow(CHANNEL, "1700000000.000100", "1", True, utcnow())]))
    con = sqlite3.connect(path2)
    con.execute("UPDATE zenslackchat_zenslackchat SET opened = 'yesterday-ish'")
    con.commit()
    con.close()
    one_line_error(run_import(world, f"sqlite:///{path2}"), 1, "zenslackchat_zenslackchat.opened",
                   "cannot read 'yesterday-ish'")
    path3 = tmp_path / "odd3.sqlite3"
    con = sqlite3.connect(path3)
    con.execute('CREATE TABLE "zenslackchat_zenslackchat" ("id" integer PRIMARY KEY, "channel_id" varchar(22))')
    con.commit()
    con.close()
    one_line_error(run_import(world, f"sqlite:///{path3}"), 1, "zenslackchat_zenslackchat.chat_id: no such column")


def test_a_close_the_old_bot_missed_is_announced_once_and_odd_rows_are_reported(world, old_sqlite):
    ts = world.ask("Laptop will not boot")
    ticket = old_ticket(world, ts, "Laptop will not boot")
    world.sim.zendesk.solve(ticket)  # after the old bot stopped: it never saw this
    state = OldState(rows=[OldRow(CHANNEL, ts, str(ticket), True, utcnow()),
                           OldRow(CHANNEL, world.ask("odd row"), "ZD-12", True, utcnow())])
    result = run_import(world, old_sqlite(state))
    assert f"imported: {CHANNEL}/{ts} -> #{ticket} (open;" in result.output
    assert "the next cycle says so in the thread" in result.output
    assert "ticket_id 'ZD-12' is not a Zendesk ticket number" in result.output
    world.sync_until_clean()
    world.sync()
    notices = [t for t in world.bot_texts(ts) if "marked solved" in t]
    assert len(notices) == 1
    s = store(world)
    try:
        assert s.issue_by_thread(CHANNEL, ts).status == "solved"
    finally:
        s.close()


def test_a_progress_bar_on_a_terminal(world, tmp_path):
    """A large import draws a bar on stderr when it is a terminal (and only then)."""
    import pty
    import subprocess
    import sys

    rows = [OldRow("COTHER", f"17000000{i:02d}.000100", str(i), True, datetime(2026, 1, 1)) for i in range(25)]
    url = build_sqlite(tmp_path / "old.sqlite3", OldState(rows=rows))
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "zsc", "--config", str(world.config_path), "import",
                               "zenslackchat", url], stdout=subprocess.PIPE, stderr=slave, env=os.environ.copy(),
                              timeout=60)
        os.close(slave)
        err = os.read(master, 100000).decode()
    finally:
        os.close(master)
    assert proc.returncode == 0 and "importing" in err and "100%" in err
    assert "importing" not in run_import(world, url).output  # not a terminal: no bar
