"""Bad input gets ONE readable line on stderr, the right exit code (2 usage or
config, 1 run time), no traceback unless --debug, and never a secret.

Every test drives the real CLI (click's CliRunner, exceptions caught so a traceback
shows up as `result.exception` instead of failing the test from inside) against the
simulator. Tests marked "Regression (was a defect)" failed on the code as first
reviewed and pin the fixes."""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.flow.world import PD_TOKEN, SLACK_TOKEN, ZD_TOKEN
from zsc import runtime
from zsc.cli import main
from zsc.config import to_toml
from zsc.locks import FileLock
from zsc.simulator.team import pagerduty_section

SECRETS = (SLACK_TOKEN, ZD_TOKEN, PD_TOKEN,
           base64.b64encode(f"bot@example.com/token:{ZD_TOKEN}".encode()).decode())  # the Basic auth header
PG_PASSWORD = "hunter2-pg-password"


# ---------------------------------------------------------------- helpers

def zsc(world, *args: str, input: str | None = None, env: dict | None = None) -> Result:
    """Like world.zsc, but an unhandled exception is caught (result.exception) rather
    than raised into the test, so a traceback is reported as a failed assertion."""
    return CliRunner().invoke(main, ["--config", str(world.config_path), *args], input=input, env=env,
                              catch_exceptions=True)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def no_traceback(r: Result) -> None:
    exc = r.exception
    if exc is not None and not isinstance(exc, SystemExit):
        import traceback

        frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
        pytest.fail(f"unhandled {type(exc).__name__} (a traceback for the user):\n" + "".join(frames[-3:]))
    assert "Traceback" not in r.output


def one_line_error(r: Result, code: int, *wanted: str, prefix: str = "zsc: ") -> str:
    """The rule: no traceback, exit `code`, exactly one non-empty line on stderr,
    starting with `prefix`, containing each of `wanted`, and no secret anywhere."""
    no_traceback(r)
    assert r.exit_code == code, f"exit {r.exit_code}, expected {code}; stderr:\n{r.stderr}"
    err = lines(r.stderr)
    assert len(err) == 1, f"expected one line on stderr, got {len(err)}:\n" + "\n".join(err)
    assert err[0].startswith(prefix), err[0]
    for word in wanted:
        assert word in err[0], f"{word!r} not in {err[0]!r}"
    no_secrets(r)
    return err[0]


def no_secrets(r: Result) -> None:
    for secret in (*SECRETS, PG_PASSWORD):
        assert secret not in r.output, f"secret {secret[:6]}… shown"


def set_config(world, old: str, new: str) -> None:
    text = world.config_path.read_text()
    assert old in text, old
    world.config_path.write_text(text.replace(old, new))


def set_database(world, url: str) -> None:
    set_config(world, f'url = "sqlite:///{world.tmp}/zsc.db"', f'url = "{url}"')


@pytest.fixture
def no_backoff(monkeypatch):
    """The API gate backs off 0.5+1+2 s before giving up on a dead API: skip the waits."""
    monkeypatch.setattr(runtime, "sleep", lambda seconds: runtime.check())



def stop_after(seconds: float) -> threading.Timer:
    """A daemon that should have refused to start is stopped after `seconds` instead."""
    timer = threading.Timer(seconds, runtime.request_stop)
    timer.start()
    return timer


# ---------------------------------------------------------------- the config file

@pytest.mark.parametrize("name, content, wanted", [
    ("missing", None, ["config file not found", "--config"]),
    ("syntax", '[slack\nchannel = "C1"\n', ["line 1", "invalid TOML"]),
    ("wrong type", None, ["[sync] slack_interval", "without quotes"]),
    ("unknown section", "[slak]\nchannel = \"C1\"\n", ["[slak]", "did you mean [slack]"]),
    ("unknown key", None, ["[slack] chanel", "did you mean channel"]),
    ("not utf-8", b"\xff\xfe[slack]", ["not UTF-8"]),
])
def test_config_file_problems_are_one_line_exit_2(world, name, content, wanted):
    path = world.tmp / "other.toml"
    if name == "unknown key":
        path.write_text(world.config_path.read_text().replace('channel = "CSUPPORT"', 'chanel = "CSUPPORT"'))
    elif name == "wrong type":
        path.write_text(world.config_path.read_text().replace("slack_interval = 1", 'slack_interval = "10"'))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    r = CliRunner().invoke(main, ["--config", str(path), "status"], catch_exceptions=True)
    one_line_error(r, 2, *wanted)


def test_config_path_that_is_a_directory(world):
    r = CliRunner().invoke(main, ["--config", str(world.tmp), "sync-once"], catch_exceptions=True)
    one_line_error(r, 2, "is a directory")


def test_missing_token_says_the_four_ways_and_exits_2(world):
    set_config(world, f'token = "{SLACK_TOKEN}"\n', "")
    one_line_error(zsc(world, "sync-once"), 2, "[slack] token", "ZSC_SLACK_TOKEN", "zsc auth")


# Regression (was a defect): the CLI's pattern redactor rewrites "token: expected"/"token: contains" to "token: [redacted]", garbling the fix.
@pytest.mark.parametrize("where", ["config", "env"])
def test_a_bad_secret_value_is_described_not_garbled(world, where):
    bad = "xoxb-has space-abcdef123456"
    if where == "config":
        set_config(world, f'token = "{SLACK_TOKEN}"', f'token = "{bad}"')
        r, named = zsc(world, "status"), "[slack] token"
    else:
        r, named = zsc(world, "status", env={"ZSC_SLACK_TOKEN": bad}), "ZSC_SLACK_TOKEN"
    line = one_line_error(r, 2, named)
    assert bad not in line and "has space" not in line
    assert "[redacted]" not in line, line  # nothing secret in it: the words are zsc's own
    assert "contains spaces" in line, line


# Regression (was a defect): same redactor: "[slack] token: expected a secret" becomes "[slack] token: [redacted] a secret".
def test_a_secret_of_the_wrong_type_is_described_not_garbled(world):
    set_config(world, f'token = "{SLACK_TOKEN}"', "token = 12345")
    line = one_line_error(zsc(world, "status"), 2, "[slack] token", "double quotes")
    assert "expected" in line and "[redacted]" not in line, line


def test_token_file_readable_by_others_is_refused_with_the_chmod(world):
    state = Path(os.environ["STATE_DIRECTORY"])
    state.mkdir(parents=True, exist_ok=True)
    (state / "tokens.json").write_text('{"slack_token": "xoxb-from-the-token-file-abcdef"}')
    (state / "tokens.json").chmod(0o644)
    line = one_line_error(zsc(world, "sync-once"), 2, "chmod 600", "0644")
    assert "xoxb-from-the-token-file" not in line


def test_token_file_that_is_not_json(world):
    state = Path(os.environ["STATE_DIRECTORY"])
    state.mkdir(parents=True, exist_ok=True)
    (state / "tokens.json").write_text("{not json")
    (state / "tokens.json").chmod(0o600)
    one_line_error(zsc(world, "status"), 2, "not valid JSON", "zsc auth")


def test_debug_shows_the_traceback(world):
    set_config(world, 'channel = "CSUPPORT"', 'chanel = "CSUPPORT"')
    r = CliRunner().invoke(main, ["--config", str(world.config_path), "--debug", "status"], catch_exceptions=True)
    assert r.exit_code != 0 and r.exception is not None and not isinstance(r.exception, SystemExit)


# ---------------------------------------------------------------- command-line values

@pytest.mark.parametrize("args", [
    pytest.param(["report", "--date", "nonsense"], id="report-date-nonsense"),
    pytest.param(["report", "--date", "2026-02-30"], id="report-date-feb30"),
    # Regression (was a defect): click's BadParameter/UsageError print a 4-line usage block (report --date shows it can be one line).
    pytest.param(["check-missing", "--days", "-1"], id="days-negative"),
    pytest.param(["check-missing", "--days", "abc"], id="days-not-a-number"),  # Regression (was a defect): as above
    pytest.param(["sync-once", "--since", "nonsense"], id="since-nonsense"),  # Regression (was a defect): as above
    pytest.param(["run", "--since", "nonsense"], id="run-since-nonsense"),  # Regression (was a defect): as above
    pytest.param(["--log-level", "bogus", "status"], id="log-level-bogus"),  # Regression (was a defect): as above
])
def test_bad_command_line_value_is_one_line_exit_2(world, args, keep_signals):
    one_line_error(zsc(world, *args), 2)


# Regression (was a defect): date - timedelta overflows in report.previous_report_day: OverflowError traceback.
def test_report_on_year_one_is_refused_not_a_traceback(world):
    one_line_error(zsc(world, "report", "--dry-run", "--date", "0001-01-01"), 2, "--date")


# Regression (was a defect): IntRange(min=1) has no max; utcnow() - timedelta(days=N) raises OverflowError.
@pytest.mark.parametrize("days", ["1000000", "99999999999"])
def test_check_missing_with_absurd_days_is_refused(world, days):
    one_line_error(zsc(world, "check-missing", "--days", days), 2, "--days")


# Regression (was a defect): a future --since is accepted; the Slack cursor then sits in the future and new messages are never mirrored.
def test_since_in_the_future_is_refused_so_nothing_is_lost(world):
    r = zsc(world, "sync-once", "--since", "2099-01-01")
    if r.exit_code == 0:  # show the loss it causes
        world.ask("Printer on fire")
        after = zsc(world, "sync-once")
        assert world.tickets(), f"--since in the future was accepted and a new message was never mirrored: {after.stdout!r}"
    one_line_error(r, 2, "--since")


def test_help_never_shows_a_secret(world):
    env = {"ZSC_SLACK_TOKEN": SLACK_TOKEN, "ZSC_ZENDESK_TOKEN": ZD_TOKEN, "ZSC_PAGERDUTY_TOKEN": PD_TOKEN,
           "ZSC_CONFIG": str(world.config_path)}
    for cmd in ([], ["sync-once"], ["run"], ["report"], ["auth"], ["auth", "slack"], ["auth", "zendesk"],
                ["auth", "pagerduty"], ["auth", "check"], ["check-missing"], ["status"]):
        r = CliRunner().invoke(main, [*cmd, "--help"], env=env, catch_exceptions=True)
        assert r.exit_code == 0, (cmd, r.output)
        no_secrets(r)


# Regression (was a defect): an empty --token is a bad command-line value but exits 1 (run-time failure) instead of 2.
def test_empty_token_option_is_a_usage_error(world):
    one_line_error(zsc(world, "auth", "slack", "--token", ""), 2, "token")


# ---------------------------------------------------------------- refused credentials, channels

def test_revoked_slack_token_one_shot_commands(world):
    world.sim.slack.revoke_token()
    one_line_error(zsc(world, "report"), 1, "zsc auth slack")
    one_line_error(zsc(world, "check-missing"), 1, "zsc auth slack")
    r = zsc(world, "auth", "check")
    assert r.exit_code == 1 and "fix: run `zsc auth slack`" in r.stdout
    no_secrets(r)


def test_revoked_zendesk_token_one_shot_commands(world):
    world.sim.zendesk.revoke_api_token(ZD_TOKEN)
    one_line_error(zsc(world, "check-missing"), 1, "zsc auth zendesk")
    r = zsc(world, "auth", "check")
    assert r.exit_code == 1 and "zd-…1234" in r.stdout
    no_secrets(r)


def test_unknown_channel_one_shot_commands(world):
    set_config(world, 'channel = "CSUPPORT"', 'channel = "CNOPE"')
    one_line_error(zsc(world, "check-missing"), 1, "[slack] channel")
    one_line_error(zsc(world, "report"), 1, "[slack] channel")


# Regression (was a defect): sync-once prints each failure twice on stderr: a JSON log line from CycleResult.failed(), then "failed: …".
@pytest.mark.parametrize("fault", ["slack revoked", "zendesk revoked", "unknown channel", "bot not in channel"])
def test_sync_once_names_each_failure_once(world, fault):
    if fault == "slack revoked":
        world.sim.slack.revoke_token()
    elif fault == "zendesk revoked":
        world.sim.zendesk.revoke_api_token(ZD_TOKEN)
    elif fault == "unknown channel":
        set_config(world, 'channel = "CSUPPORT"', 'channel = "CNOPE"')
    else:
        world.sim.slack.add_channel("CNOTIN", "elsewhere", bot_is_member=False)
        set_config(world, 'channel = "CSUPPORT"', 'channel = "CNOTIN"')
    one_line_error(zsc(world, "sync-once"), 1, prefix="failed: ")


# Regression (was a defect): the channel error hard-codes "check [slack] channel" even when the bad one is [report] channel.
def test_unknown_report_channel_names_report_channel(world):
    world.write_config(extra='[report]\nchannel = "CNOPE123"\n')
    line = one_line_error(zsc(world, "report"), 1)
    assert "[report] channel" in line or "CNOPE123" in line, line


# Regression (was a defect): `zsc run` checks credentials at start but not the channel: it goes active and fails every poll forever.
def test_run_with_an_unknown_channel_refuses_to_start(world, keep_signals):
    set_config(world, 'channel = "CSUPPORT"', 'channel = "CNOPE"')
    timer = stop_after(3)
    try:
        r = zsc(world, "run")
    finally:
        timer.cancel()
    assert r.exit_code != 0, f"zsc run went active on an unknown channel and exited {r.exit_code}:\n{r.stderr[-800:]}"
    one_line_error(r, r.exit_code, "[slack] channel")


# Regression (was a defect): Daemon.run()'s finally logs "zsc stopping" (a JSON info line) even when it never started.
@pytest.mark.parametrize("why", ["revoked token", "lock held"])
def test_run_refusing_to_start_prints_one_line(world, why, keep_signals):
    lock = FileLock(f"{world.tmp}/zsc.db.lock")
    if why == "revoked token":
        world.sim.slack.revoke_token()
        wanted = "zsc auth slack"
    else:
        assert lock.try_acquire()
        wanted = "another zsc"
    timer = stop_after(10)
    try:
        r = zsc(world, "run")
    finally:
        timer.cancel()
        lock.release()
    one_line_error(r, 1, wanted)


def test_one_shot_writers_refuse_beside_a_running_zsc(world):
    lock = FileLock(f"{world.tmp}/zsc.db.lock")
    assert lock.try_acquire()
    try:
        one_line_error(zsc(world, "sync-once"), 1, "another zsc", "stop that one first")
        one_line_error(zsc(world, "check-missing", "--fix"), 1, "another zsc")
    finally:
        lock.release()


# ---------------------------------------------------------------- unreachable or broken APIs

def test_zendesk_faults_in_check_missing_are_one_line(world, no_backoff):
    for kind in ("500", "malformed", "drop"):
        world.sim.zendesk.inject("incremental.tickets", kind, times=10)
        one_line_error(zsc(world, "check-missing"), 1, "Zendesk")
        world.sim.zendesk.clear_faults()


# Regression (was a defect): slack_sdk's own logger adds an ERROR line per attempt ("Failed to send a request to Slack API server").
@pytest.mark.parametrize("kind", ["unreachable", "malformed", "drop"])
def test_slack_faults_in_check_missing_are_one_line(world, kind, no_backoff):
    if kind == "unreachable":
        set_config(world, world.sim.slack.url, "http://127.0.0.1:1")
    else:
        world.sim.slack.inject("conversations.history", kind, times=10)
    one_line_error(zsc(world, "check-missing"), 1, "Slack")


# Regression (was a defect): an unreachable API gives "conversations.history: conversations.history: URLError: …" / "…: ConnectionError",
# naming neither the address nor what to check.
@pytest.mark.parametrize("side", ["slack", "zendesk"])
def test_unreachable_api_says_what_to_check(world, side, no_backoff):
    set_config(world, getattr(world.sim, side).url, "http://127.0.0.1:1")
    r = zsc(world, "check-missing")
    no_traceback(r)
    assert r.exit_code == 1
    last = lines(r.stderr)[-1]
    assert f"[{side}] api_url" in last or "127.0.0.1:1" in last, last
    assert "conversations.history: conversations.history" not in last, last


# Regression (was a defect): auth check calls an unreachable Slack "refused", which sends people to replace a good token.
def test_auth_check_does_not_call_an_unreachable_api_a_refusal(world, no_backoff):
    set_config(world, world.sim.slack.url, "http://127.0.0.1:1")
    r = zsc(world, "auth", "check")
    assert r.exit_code == 1
    row = next(line for line in r.stdout.splitlines() if "Slack token" in line)
    # Not the token "refused: …" of a credential refusal; the OS's own "Connection refused"
    # in the reason is accurate and names the network, so the word alone is not the test.
    assert "could not be checked" in row and "refused:" not in row, row
    assert "[slack] api_url" in r.stdout, r.stdout


# ---------------------------------------------------------------- the database

@pytest.mark.parametrize("cmd", [["status"], ["sync-once"], ["report"], ["check-missing"], ["check-missing", "--fix"]])
def test_postgres_not_listening_is_one_line_without_the_password(world, cmd):
    pytest.importorskip("psycopg2")
    set_database(world, f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:1/zsc")
    one_line_error(zsc(world, *cmd), 1, "[database] url")


# Regression (was a defect): leader_lock()/open_database() call mkdir() and os.open() unguarded: FileExistsError/NotADirectoryError traceback.
@pytest.mark.parametrize("cmd", [["sync-once"], ["report"], ["check-missing", "--fix"], ["run"]])
def test_sqlite_path_under_a_file_is_one_line(world, cmd, keep_signals):
    (world.tmp / "afile").write_text("x")
    set_database(world, f"sqlite:///{world.tmp}/afile/zsc.db")
    timer = stop_after(10)
    try:
        r = zsc(world, *cmd)
    finally:
        timer.cancel()
    one_line_error(r, r.exit_code if r.exit_code in (1, 2) else 1, "[database] url", "afile")


def _sys_is_read_only() -> bool:
    try:
        Path("/sys/zsc-review-probe").touch()
    except OSError:
        return Path("/sys").is_dir()
    Path("/sys/zsc-review-probe").unlink()
    return False


# Regression (was a defect): FileLock.try_acquire() lets PermissionError out (traceback) for sync-once and run;
# report says only "cannot open the store: unable to open database file", no path, no fix.
@pytest.mark.skipif(not _sys_is_read_only(), reason="needs a directory zsc cannot write (/sys)")
@pytest.mark.parametrize("cmd", [["sync-once"], ["report"], ["run"]])
def test_sqlite_in_a_directory_zsc_cannot_write(world, cmd, keep_signals):
    set_database(world, "sqlite:////sys/zsc.db")
    timer = stop_after(10)
    try:
        r = zsc(world, *cmd)
    finally:
        timer.cancel()
    one_line_error(r, 1, "[database] url", "/sys")


# Regression (was a defect): Store() catches only peewee.OperationalError; "file is not a database" is a DatabaseError: traceback.
@pytest.mark.parametrize("cmd", [["status"], ["sync-once"], ["report", "--dry-run"]])
def test_a_file_that_is_not_a_database(world, cmd):
    (world.tmp / "zsc.db").write_text("this is not an SQLite database, just text long enough for a header...\n")
    one_line_error(zsc(world, *cmd), 1, "[database] url")


# ---------------------------------------------------------------- daemon files

# Regression (was a defect): --pidfile / --log-file in a missing directory: FileNotFoundError traceback (PidFile.claim, logs.setup).
@pytest.mark.parametrize("option", ["--pidfile", "--log-file"])
def test_run_with_an_unusable_pidfile_or_log_file(world, option, keep_signals):
    timer = stop_after(10)
    try:
        r = zsc(world, "run", option, str(world.tmp / "no" / "such" / "dir" / "zsc.x"))
    finally:
        timer.cancel()
    one_line_error(r, r.exit_code if r.exit_code in (1, 2) else 1, option)


# ---------------------------------------------------------------- secrets in logs

def test_no_secret_in_trace_logs_or_output(world):
    world.write_config(extra=to_toml({"pagerduty": pagerduty_section(world.sim, PD_TOKEN, "PPOLICY")}))
    world.sync()
    world.ask("Printer on fire")
    for args in (["sync-once"], ["check-missing"], ["auth", "check"], ["status"], ["report", "--dry-run"]):
        r = zsc(world, "--log-level", "trace", *args)
        no_traceback(r)
        no_secrets(r)
    world.sim.slack.revoke_token()
    world.sim.zendesk.revoke_api_token(ZD_TOKEN)
    for args in (["sync-once"], ["auth", "check"], ["report"]):
        r = zsc(world, "--log-level", "trace", *args)
        no_traceback(r)
        no_secrets(r)
