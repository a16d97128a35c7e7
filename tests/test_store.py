"""The store on SQLite and Postgres: schema, upgrade, uniqueness, checkpoints, intents."""

import pytest

from zsc import store as st
from zsc.store import schema as stm_schema
from zsc.store import models as stm
from zsc.errors import ConfigError, UserError


@pytest.fixture
def store(store_url):
    s = st.Store(store_url)
    yield s
    s.close()


def make_issue(store, ts="1700000000.000100", ticket=None):
    return st.Issue.create(channel="C1", thread_ts=ts, ticket_id=ticket, origin="slack", subject="help")


def test_fresh_store_is_at_current_schema(store):
    assert store.schema_version() == st.SCHEMA_VERSION
    for model in stm.V1_MODELS + stm.V2_MODELS + stm.V3_MODELS + stm.V4_MODELS + stm.V6_MODELS:
        assert store.db.table_exists(model._meta.table_name), model


def test_upgrade_from_v1_in_place(store_url):
    s = st.Store(store_url)
    issue = make_issue(s, ticket=7)
    # Put the database back to how schema v1 shipped: no v2 or v3 tables, no followup_of column.
    s.db.drop_tables(stm.V2_MODELS + stm.V3_MODELS + stm.V4_MODELS + stm.V6_MODELS)
    stm_schema.migrate(stm_schema.migrator(s.db).drop_column("issue", "followup_of"))
    stm.upsert(stm.Meta, key="schema_version", value="1")
    s.close()

    s = st.Store(store_url)
    assert s.schema_version() == st.SCHEMA_VERSION
    assert "followup_of" in {c.name for c in s.db.get_columns("issue")}
    again = s.issue_by_ticket(7)
    assert again.id == issue.id and again.followup_of is None
    s.mark_source("slack")
    assert s.source_status("slack").last_success_at is not None
    s.close()


def test_upgrade_from_v2_moves_ticket_flags_out_of_the_checkpoints(store_url):
    s = st.Store(store_url)
    # How schema v2 kept per-ticket flags: checkpoint names with the ticket id in them.
    s.db.drop_tables(stm.V3_MODELS + stm.V4_MODELS + stm.V6_MODELS)
    for name, value in (("email:denied:41", "deny_domains"), ("email:denied:42", "deny_addresses"),
                        ("email:denied_count", "2"), ("email:thread:43", "1700000000.000100"),
                        ("slack:C1:top", "1700000000.000000")):
        s.set_checkpoint(name, value)
    stm.upsert(stm.Meta, key="schema_version", value="2")
    s.close()

    s = st.Store(store_url)
    assert s.schema_version() == st.SCHEMA_VERSION
    assert s.flag(41, st.EMAIL_DENIED) == "deny_domains" and s.count_flags(st.EMAIL_DENIED) == 2
    assert s.flag(43, st.EMAIL_THREAD) == "1700000000.000100"
    assert [name for name, _, _ in s.cursors(("email:", "slack:"))] == ["slack:C1:top"]  # only the real cursor stays
    s.close()


def test_upgrade_from_v5_adds_the_owed_oncall_lines(store_url):
    s = st.Store(store_url)
    issue = make_issue(s, ticket=9)
    s.db.drop_tables(stm.V6_MODELS)
    stm.upsert(stm.Meta, key="schema_version", value="5")
    s.close()

    s = st.Store(store_url)
    try:
        assert s.schema_version() == st.SCHEMA_VERSION
        s.owe_oncall(s.issue_by_ticket(9))
        s.owe_oncall(s.issue_by_ticket(9))  # once per ticket
        assert [(ticket, owed.id) for ticket, owed, _ in s.owed_oncalls()] == [(9, issue.id)]
        assert s.owes_oncall(9) and s.count_owed_oncalls() == 1
        s.tried_oncall(9)
        s.settle_oncall(9)
        assert not s.owes_oncall(9) and s.owed_oncalls() == []
    finally:
        s.close()


def test_database_errors_reach_callers_as_store_errors(store):
    make_issue(store, ticket=1)
    store.db.execute_sql("DROP TABLE mirrored_item")
    with pytest.raises(st.StoreError):
        store.mirrored_since(st.TO_SLACK, st.utcnow())


def test_newer_schema_is_refused(store_url):
    s = st.Store(store_url)
    stm.upsert(stm.Meta, key="schema_version", value=str(st.SCHEMA_VERSION + 1))
    s.close()
    with pytest.raises(UserError, match="upgrade zsc"):
        st.Store(store_url)


def test_thread_and_ticket_are_unique(store):
    make_issue(store, ticket=1)
    with pytest.raises(st.StoreError):
        with store.atomic():
            make_issue(store, ticket=2)  # same thread
    with pytest.raises(st.StoreError):
        with store.atomic():
            make_issue(store, ts="1700000001.000100", ticket=1)  # same ticket


def test_an_item_is_mirrored_once(store):
    issue = make_issue(store, ticket=1)
    store.record_item(issue, st.TO_ZENDESK, "reply", slack_ts="1.2", comment_id=10)
    assert store.slack_item("C1", "1.2").zendesk_comment_id == 10
    assert store.comment_item(10).slack_ts == "1.2"
    with pytest.raises(st.StoreError):
        with store.atomic():
            store.record_item(issue, st.TO_SLACK, "comment", slack_ts="9.9", comment_id=10)
    with pytest.raises(st.StoreError):
        with store.atomic():
            store.record_item(issue, st.TO_ZENDESK, "reply", slack_ts="1.2", comment_id=11)
    # items with only a ref never collide on their empty ids
    store.record_item(issue, st.TO_SLACK, "confirmation", ref="confirm:1")
    store.record_item(issue, st.TO_SLACK, "status", ref="status:1:1")
    assert store.mapped_comment_ids(issue) == {10}
    assert store.mapped_slack_ts(issue) == {"1.2"}


def test_checkpoint_moves_only_with_its_transaction(store):
    issue = make_issue(store, ticket=1)
    store.set_checkpoint("slack:C1", "100.0")
    with pytest.raises(RuntimeError):
        with store.atomic():
            store.record_item(issue, st.TO_ZENDESK, "reply", slack_ts="101.0", comment_id=5)
            store.set_checkpoint("slack:C1", "101.0")
            raise RuntimeError("crash before commit")
    assert store.checkpoint("slack:C1") == "100.0"
    assert store.slack_item("C1", "101.0") is None
    assert store.checkpoint("missing") is None


def test_intent_lifecycle(store):
    issue = make_issue(store, ticket=1)
    store.begin_intent("comment:C1:1.2", "comment", issue, {"body": "hi"})
    store.begin_intent("comment:C1:1.2", "comment", issue, {"body": "hi"})
    again = store.intent("comment:C1:1.2")
    assert again.attempts == 2 and again.data == {"body": "hi"} and again.issue_id == issue.id
    assert [i.key for i in store.pending_intents()] == ["comment:C1:1.2"]
    with store.atomic():
        store.record_item(issue, st.TO_ZENDESK, "reply", slack_ts="1.2", comment_id=3)
        store.finish_intent("comment:C1:1.2")
    assert store.pending_intents() == []
    # a fresh cycle reads the same from the database
    store.reset_caches()
    assert store.intent("comment:C1:1.2") is None and not store.has_pending()


def test_recorded_cache_follows_writes(store):
    issue = make_issue(store, ticket=1)
    assert store.recorded(issue).slack_ts == set()
    store.record_item(issue, st.TO_SLACK, "comment", slack_ts="5.5", comment_id=9, ref="comment:9")
    cached = store.recorded(issue)
    assert cached.slack_ts == {"5.5"} and cached.comment_ids == {9} and cached.refs == {"comment:9"}
    store.reset_caches()
    fresh = store.recorded(issue)
    assert (fresh.slack_ts, fresh.comment_ids, fresh.refs) == ({"5.5"}, {9}, {"comment:9"})
    store.record_item(issue, st.TO_ZENDESK, "message", slack_ts="1.0")
    store.set_item_comment(issue, "1.0", 77)
    assert 77 in store.recorded(issue).comment_ids
    store.reset_caches()
    assert 77 in store.mapped_comment_ids(issue)


def test_close_keeps_first_close_time(store):
    from datetime import datetime

    issue = make_issue(store, ticket=1)
    store.close_issue(issue, "solved", when=datetime(2026, 1, 1, 10))
    store.close_issue(issue, "closed", when=datetime(2026, 1, 5, 10))
    issue = store.issue_by_ticket(1)
    assert issue.status == "closed" and issue.closed_at == datetime(2026, 1, 1, 10)
    store.reopen_issue(issue)
    assert store.issue_by_ticket(1).closed_at is None
    assert [i.ticket_id for i in store.open_issues()] == [1]


def test_people_cache(store):
    store.save_slack_user("U1", "Ann", "ann@example.com", 55)
    store.save_slack_user("U1", "Ann B", "ann@example.com", 55)
    assert store.slack_user("U1").name == "Ann B"
    store.save_zendesk_user(55, "Ann", None)
    assert store.zendesk_user(55).email is None


def test_health_rows(store):
    store.mark_source("zendesk", error="429 from incremental export")
    row = store.source_status("zendesk")
    assert row.last_success_at is None and "429" in row.last_error
    store.mark_source("zendesk")
    assert store.source_status("zendesk").last_success_at is not None


def test_sqlite_uses_wal(tmp_path):
    s = st.Store(f"sqlite:///{tmp_path}/sub/dir/zsc.db")
    assert s.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert s.sqlite_path == tmp_path / "sub/dir/zsc.db"
    s.close()


def test_unsupported_url_is_a_config_error():
    with pytest.raises(ConfigError, match="sqlite:///PATH or postgresql://"):
        st.Store("mysql://root@localhost/x")


def test_upgrade_from_v7_adds_the_status_reaction_in_place(store_url):
    s = st.Store(store_url)
    make_issue(s, ticket=11)
    # Schema v7: no status_reaction column.
    stm_schema.migrate(stm_schema.migrator(s.db).drop_column("issue", "status_reaction"))
    stm.upsert(stm.Meta, key="schema_version", value="7")
    s.close()

    s = st.Store(store_url)
    assert s.schema_version() == st.SCHEMA_VERSION
    issue = s.issue_by_ticket(11)
    assert s.status_reaction(issue) is None
    s.set_status_reaction(issue, "eyes")
    assert s.status_reaction(s.issue_by_ticket(11)) == "eyes"
    s.close()


def test_upgrade_from_v6_adds_first_response_in_place(store_url):
    s = st.Store(store_url)
    make_issue(s, ticket=9)
    # Schema v6: no first_response_at column.
    stm_schema.migrate(stm_schema.migrator(s.db).drop_column("issue", "first_response_at"))
    stm.upsert(stm.Meta, key="schema_version", value="6")
    s.close()

    s = st.Store(store_url)
    assert s.schema_version() == st.SCHEMA_VERSION
    issue = s.issue_by_ticket(9)
    assert issue.first_response_at is None and s.count_awaiting_first_response() == 1
    from datetime import datetime
    s.note_first_response(issue, datetime(2024, 3, 4, 10, 5))
    s.note_first_response(issue, datetime(2024, 3, 4, 11, 0))  # a later answer does not move it
    s.note_first_response(s.issue_by_ticket(9), datetime(2024, 3, 4, 10, 0))  # an earlier one does
    assert s.issue_by_ticket(9).first_response_at == datetime(2024, 3, 4, 10, 0)
    assert s.count_awaiting_first_response() == 0
    s.close()
