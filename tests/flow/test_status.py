"""`zsc status`: what the store says about the bridge, as text and JSON, and exit 1
when a source has not polled successfully for more than 5x its interval."""

from __future__ import annotations

import json
from pathlib import Path

from freezegun import freeze_time

from tests.flow.world import CHANNEL
from zsc.store import SCHEMA_VERSION, opened

MONDAY = "2026-03-02 10:00:00"  # the world polls every second; the report is 09:00 mon-fri UTC


def status(world) -> tuple[int, dict]:
    result = world.zsc("status", "--json")
    return result.exit_code, json.loads(result.stdout)


def test_before_any_sync_nothing_has_polled(world):
    result = world.zsc("status")
    assert result.exit_code == 1
    assert "not created yet" in result.output
    assert result.output.count("never polled successfully") == 2
    assert not Path(world.tmp, "zsc.db").exists()  # looking creates nothing

    code, data = status(world)
    assert code == 1 and data["ok"] is False
    assert [(s["source"], s["last_success_at"], s["stale"]) for s in data["sources"]] == [
        ("slack", None, True), ("zendesk", None, True)]
    assert data["open_issues"] == 0 and data["cursors"] == [] and data["leader"] is None


def test_after_a_sync(world):
    with freeze_time(MONDAY, tick=True):
        world.sync()
        world.ask("The VPN is down")
        world.sync()
        code, data = status(world)
        text = world.zsc("status").output
    assert code == 0 and data["ok"] is True
    slack = data["sources"][0]
    assert slack["source"] == "slack" and slack["last_success_at"].startswith("2026-03-02T10:00:0")
    assert slack["interval"] == 1.0 and slack["last_error"] is None
    assert {c["name"] for c in data["cursors"]} == {f"slack:{CHANNEL}:top", "zendesk:export_start",
                                                    "zendesk:export_cursor"}
    assert data["open_issues"] == 1
    assert data["mirrored_24h"] == {"to_zendesk": 2, "to_slack": 1}  # message + Slack-link note; confirmation
    assert data["schema_version"] == {"store": SCHEMA_VERSION, "code": SCHEMA_VERSION}
    assert data["next_report"] == "2026-03-03T09:00:00+00:00"
    assert data["store_exists"] is True and data["pending_writes"] == 0

    assert "✓ slack     last success 2026-03-02 10:00:0" in text
    assert f"slack:{CHANNEL}:top" in text and "Open issues:  1" in text
    assert "Last 24 h:    2 mirrored Slack → Zendesk, 1 Zendesk → Slack" in text and "Next report:  2026-03-03 09:00 UTC (in 22h" in text


def test_a_source_failing_for_more_than_5_intervals_is_stale(world):
    with freeze_time(MONDAY) as clock:
        world.sync()
        clock.tick(4)
        assert status(world)[0] == 0  # 4s: within 5x the 1s interval
        world.sim.slack.revoke_token()
        clock.tick(2)
        world.sync()  # Slack fails now; Zendesk still polls fine
        code, data = status(world)
        text = world.zsc("status").output
    assert code == 1
    slack, zendesk = data["sources"]
    assert slack["stale"] is True and zendesk["stale"] is False
    assert slack["last_error_at"] == "2026-03-02T10:00:06Z" and "token_revoked" in slack["last_error"]
    assert "✗ slack     last success 2026-03-02 10:00:00Z (6s ago)" in text
    assert "stale: no successful poll for more than 5x its interval" in text
    assert "last error 2026-03-02 10:00:06Z (0s ago)" in text


def test_the_leader_is_shown(world):
    world.sync()
    with opened(f"sqlite:///{world.tmp}/zsc.db") as store:
        with store.atomic():
            store.set_checkpoint("daemon:leader", json.dumps({"host": "zsc-1", "pid": 4242, "since": "2026-03-02T09:00:00Z"}))
    _, data = status(world)
    assert data["leader"] == {"host": "zsc-1", "pid": 4242, "since": "2026-03-02T09:00:00Z"}
    assert "daemon:leader" not in [c["name"] for c in data["cursors"]]
    assert "Leader:       zsc-1 pid 4242, since 2026-03-02T09:00:00Z" in world.zsc("status").output


def test_status_needs_no_secrets(world):
    text = world.config_path.read_text().replace('token = "xoxb-sim-token"\n', "")
    world.config_path.write_text(text)
    result = world.zsc("status")
    assert result.exit_code == 1 and "Sources:" in result.output  # stale, but it answers


def test_a_checkpoint_older_versions_kept_is_gone_after_the_next_start(world):
    """One old-thread sweep turn for all channels (until each channel had its own) is
    deleted as zsc starts, so status no longer lists it among the cursors."""
    world.sync()
    with opened(f"sqlite:///{world.tmp}/zsc.db") as store:
        store.set_checkpoint("slack:old_thread_sweep", "1700000000.000100")
    assert "slack:old_thread_sweep" in {c["name"] for c in status(world)[1]["cursors"]}
    world.sync()
    assert "slack:old_thread_sweep" not in {c["name"] for c in status(world)[1]["cursors"]}
