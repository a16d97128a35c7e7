"""`zsc auth`: the terminal OAuth flows against the simulator's OAuth endpoints, plain
tokens, the token file, and `zsc auth check` with each kind of failure."""

from __future__ import annotations

import html
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from click.testing import CliRunner
from freezegun import freeze_time

from tests.flow.world import CHANNEL, PD_TOKEN, SLACK_TOKEN, ZD_TOKEN
from zsc import runtime
from zsc.cli import main
from zsc.simulator.slack import DEFAULT_SCOPES

REPO = Path(__file__).resolve().parents[2]
SLACK_APP = ("111.222", "slack-client-secret-0001")
ZD_CLIENT = ("zsc", "zendesk-client-secret-0002")
REDIRECT = "https://localhost/zsc-callback"


# ---------------------------------------------------------------- helpers

def edit_config(world, old: str, new: str) -> None:
    text = world.config_path.read_text()
    assert old in text, old
    world.config_path.write_text(text.replace(old, new, 1))


def add_pagerduty(world, token: str = PD_TOKEN, **extra: str) -> None:
    lines = "".join(f'{k} = "{v}"\n' for k, v in {"token": token, **extra}.items() if v)
    world.write_config(extra=f'[pagerduty]\n{lines}escalation_policy_id = "PPOLICY"\n'
                             f'api_url = "{world.sim.pagerduty.url}"\ntoken_url = "{world.sim.pagerduty.url}/oauth/token"\n')


@pytest.fixture
def slack_app(world):
    """The config has the Slack app's OAuth settings and no bot token yet."""
    world.sim.slack.register_oauth_app(*SLACK_APP, redirect_uri=REDIRECT)
    edit_config(world, f'token = "{SLACK_TOKEN}"\n',
                f'client_id = "{SLACK_APP[0]}"\nclient_secret = "{SLACK_APP[1]}"\nredirect_uri = "{REDIRECT}"\n')
    return world


@pytest.fixture
def zendesk_client(world):
    """The config has a Zendesk OAuth client and no API token."""
    world.sim.zendesk.register_oauth_client(*ZD_CLIENT, REDIRECT)
    edit_config(world, f'email = "bot@example.com"\ntoken = "{ZD_TOKEN}"\n',
                f'client_id = "{ZD_CLIENT[0]}"\nclient_secret = "{ZD_CLIENT[1]}"\nredirect_uri = "{REDIRECT}"\n')
    return world


def token_file(world) -> Path:
    return Path(os.environ["STATE_DIRECTORY"]) / "tokens.json"


def saved_tokens(world) -> dict:
    path = token_file(world)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text())


def run_in_terminal(world, *args: str, answer) -> tuple[int, str, str, str]:
    """Run `zsc ARGS` as its own process, as an operator would: read the authorize URL
    it prints, and type back `answer(url)`. Returns (exit code, stdout, stderr, url)."""
    proc = subprocess.Popen([sys.executable, "-m", "zsc", "--config", str(world.config_path), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=REPO, env=os.environ.copy())
    seen, url = [], ""
    while not url:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "://" in line:
            url = line.strip()
    out, err = proc.communicate((answer(url) if url else "") + "\n", timeout=60)
    return proc.returncode, "".join(seen) + out, err, url


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def assert_no_secrets(text: str, *secrets: str) -> None:
    for secret in (SLACK_APP[1], ZD_CLIENT[1], ZD_TOKEN, PD_TOKEN, *secrets):
        assert secret not in text


# ---------------------------------------------------------------- Slack OAuth

def test_slack_oauth_in_the_terminal_saves_a_working_token(slack_app):
    world = slack_app

    def approve(url: str) -> str:
        code = world.sim.slack.issue_oauth_code(client_id=SLACK_APP[0])
        return f"{REDIRECT}?{urlencode({'code': code, 'state': query(url)['state']})}"

    code, out, err, url = run_in_terminal(world, "auth", "slack", answer=approve)
    assert code == 0, out + err
    assert url.startswith(f"{world.sim.slack.url}/oauth/v2/authorize?")
    asked = query(url)
    assert asked["client_id"] == SLACK_APP[0] and asked["redirect_uri"] == REDIRECT
    assert "users:read.email" in asked["scope"].split(",") and len(asked["state"]) >= 20
    token = saved_tokens(world)["slack_token"]
    assert token.startswith("xoxb-")
    assert f"xoxb-…{token[-4:]}" in out and "Simulated Workspace" in out
    assert_no_secrets(out + err, token)

    check = world.zsc("auth", "check")  # the config has no token: the saved one is used
    assert check.exit_code == 0, check.output
    assert "✓ Slack token" in check.output and f"xoxb-…{token[-4:]}" in check.output

    world.sim.slack.revoke_token(token)  # the app is uninstalled afterwards
    check = world.zsc("auth", "check")
    assert check.exit_code == 1
    assert "✗ Slack token" in check.output and "token_revoked" in check.output
    assert "fix: run `zsc auth slack`" in check.output
    assert_no_secrets(check.output, token)


def test_a_new_state_each_run(slack_app):
    urls = [slack_app.zsc("auth", "slack", input="\n").output for _ in range(2)]
    states = [re.search(r"state=([\w-]+)", u).group(1) for u in urls]
    assert states[0] != states[1]


def test_an_address_from_another_run_is_refused_before_any_exchange(slack_app):
    world = slack_app
    code = world.sim.slack.issue_oauth_code(client_id=SLACK_APP[0])
    result = world.zsc("auth", "slack", input=f"{REDIRECT}?code={code}&state=forged\n")
    assert result.exit_code == 1
    assert "does not carry this run's state" in result.output
    assert world.sim.slack.calls["oauth.v2.access"] == 0 and not token_file(world).exists()
    assert "Traceback" not in result.output


@pytest.mark.parametrize("wait", [601, 0])
def test_an_expired_or_unknown_code_is_refused(slack_app, wait):
    world = slack_app
    with freeze_time("2026-03-02 10:00:00") as clock:
        code = world.sim.slack.issue_oauth_code(client_id=SLACK_APP[0]) if wait else "not-a-real-code"
        clock.tick(wait)
        result = world.zsc("auth", "slack", input=code + "\n")
    assert result.exit_code == 1
    assert "oauth.v2.access: the code is invalid or has expired" in result.output
    assert "run `zsc auth slack` again" in result.output
    assert not token_file(world).exists()
    assert_no_secrets(result.output)


def test_a_used_code_cannot_be_replayed(slack_app):
    world = slack_app
    code = world.sim.slack.issue_oauth_code(client_id=SLACK_APP[0])
    assert world.zsc("auth", "slack", input=code + "\n").exit_code == 0
    again = world.zsc("auth", "slack", input=code + "\n")
    assert again.exit_code == 1 and "already used" in again.output


def test_a_wrong_client_secret_names_the_setting(slack_app):
    world = slack_app
    edit_config(world, SLACK_APP[1], "wrong-secret-value-9999")
    code = world.sim.slack.issue_oauth_code(client_id=SLACK_APP[0])
    result = world.zsc("auth", "slack", input=code + "\n")
    assert result.exit_code == 1 and "refused [slack] client_secret" in result.output
    assert "wrong-secret-value-9999" not in result.output


def test_oauth_without_a_client_id_says_where_to_get_one(world):
    result = world.zsc("auth", "slack")
    assert result.exit_code == 2
    assert "[slack] client_id, client_secret: not set" in result.output and "--token" in result.output


# ---------------------------------------------------------------- Zendesk OAuth

def test_zendesk_oauth_through_the_consent_page(zendesk_client):
    world = zendesk_client

    def approve(url: str) -> str:
        page = requests.get(url, timeout=5).text  # what the browser shows
        allow = html.unescape(re.search(r'id="allow" href="([^"]+)"', page).group(1))
        return allow  # the address the browser lands on

    code, out, err, url = run_in_terminal(world, "auth", "zendesk", answer=approve)
    assert code == 0, out + err
    asked = query(url)
    assert urlsplit(url).path == "/oauth/authorizations/new"
    assert (asked["response_type"], asked["client_id"], asked["redirect_uri"]) == ("code", ZD_CLIENT[0], REDIRECT)
    assert asked["scope"] == "read write impersonate"
    token = saved_tokens(world)["zendesk_oauth_token"]
    assert_no_secrets(out + err, token)
    assert f"…{token[-4:]}" in out

    check = world.zsc("auth", "check")
    assert "✓ Zendesk credentials" in check.output, check.output
    world.sim.zendesk.revoke_oauth_token(token)
    check = world.zsc("auth", "check")
    assert check.exit_code == 1 and "✗ Zendesk credentials" in check.output
    assert "fix: run `zsc auth zendesk`" in check.output
    assert_no_secrets(check.output, token)


def test_an_expired_zendesk_code_is_refused(zendesk_client):
    world = zendesk_client
    with freeze_time("2026-03-02 10:00:00") as clock:
        code = world.sim.zendesk.issue_oauth_code(ZD_CLIENT[0])
        clock.tick(121)
        result = world.zsc("auth", "zendesk", input=code + "\n")
    assert result.exit_code == 1
    assert "invalid_grant: The authorization code has expired" in result.output
    assert not token_file(world).exists()


# ---------------------------------------------------------------- plain tokens and the token file

def test_a_bot_token_from_stdin_is_checked_then_saved_privately(slack_app):
    world = slack_app
    world.sim.slack.add_token("xoxb-pasted-token-abcd1234")
    result = world.zsc("auth", "slack", "--token", "-", input="xoxb-pasted-token-abcd1234\n")
    assert result.exit_code == 0, result.output
    assert saved_tokens(world) == {"slack_token": "xoxb-pasted-token-abcd1234"}
    assert "xoxb-…1234" in result.output
    assert_no_secrets(result.output, "xoxb-pasted-token-abcd1234")


def test_a_refused_token_is_not_saved_over_a_working_one(slack_app):
    world = slack_app
    world.sim.slack.add_token("xoxb-good-token-000000001")
    assert world.zsc("auth", "slack", "--token", "xoxb-good-token-000000001").exit_code == 0
    result = world.zsc("auth", "slack", "--token", "-", input="xoxb-typo-token-000000002\n")
    assert result.exit_code == 1 and "invalid_auth" in result.output and "not saved" in result.output
    assert saved_tokens(world) == {"slack_token": "xoxb-good-token-000000001"}
    assert_no_secrets(result.output, "xoxb-typo-token-000000002")


def test_saving_a_token_the_config_overrides_says_so(world):
    world.sim.slack.add_token("xoxb-second-token-00000003")
    result = world.zsc("auth", "slack", "--token", "-", input="xoxb-second-token-00000003\n")
    assert result.exit_code == 0
    assert "zsc will keep using [slack] token from a higher-precedence place" in result.output


def test_zendesk_api_token_and_pagerduty_key(world):
    world.sim.zendesk.add_api_token("bot@example.com", "zd-another-token-5555")
    world.sim.pagerduty.add_api_key("pd-another-key-6666")
    add_pagerduty(world, token="")
    assert world.zsc("auth", "zendesk", "--token", "-", input="zd-another-token-5555\n").exit_code == 0
    assert world.zsc("auth", "pagerduty", "--token", "-", input="pd-another-key-6666\n").exit_code == 0
    bad = world.zsc("auth", "pagerduty", "--token", "-", input="pd-not-a-key-77777777\n")
    assert bad.exit_code == 1 and "not saved" in bad.output
    assert saved_tokens(world) == {"zendesk_token": "zd-another-token-5555", "pagerduty_token": "pd-another-key-6666"}
    assert_no_secrets(bad.output, "pd-not-a-key-77777777", "pd-another-key-6666")


def test_pagerduty_client_credentials_are_checked_and_the_secret_kept(world):
    world.sim.pagerduty.register_oauth_client("pd-client", "pd-client-secret-8888")
    add_pagerduty(world, token="", client_id="pd-client")
    wrong = world.zsc("auth", "pagerduty", input="pd-wrong-secret-0000\n")
    assert wrong.exit_code == 1 and "client credentials refused" in wrong.output
    assert not token_file(world).exists()
    result = world.zsc("auth", "pagerduty", input="pd-client-secret-8888\n")
    assert result.exit_code == 0, result.output
    assert saved_tokens(world) == {"pagerduty_client_secret": "pd-client-secret-8888"}
    assert_no_secrets(result.output + wrong.output, "pd-client-secret-8888", "pd-wrong-secret-0000")
    assert world.zsc("auth", "check").exit_code == 0  # the daemon's own token fetch works with it


def test_a_token_file_others_can_read_is_refused_with_the_chmod(slack_app):
    world = slack_app
    world.sim.slack.add_token("xoxb-good-token-000000001")
    assert world.zsc("auth", "slack", "--token", "xoxb-good-token-000000001").exit_code == 0
    token_file(world).chmod(0o644)
    result = world.zsc("auth", "check")
    assert result.exit_code == 2
    assert f"run: chmod 600 {token_file(world)}" in result.output
    assert_no_secrets(result.output, "xoxb-good-token-000000001")


# ---------------------------------------------------------------- zsc auth check

def test_everything_configured_passes(world):
    add_pagerduty(world)
    world.ask("hello")  # someone whose email the scope check can look up
    result = world.zsc("auth", "check")
    assert result.exit_code == 0, result.output
    rows = [line[:1] for line in result.output.splitlines() if line[:1] in "✓✗" and line]
    assert rows == ["✓"] * 10
    assert "emails visible (looked up UANN)" in result.output
    assert "10 of 10 checks passed" in result.output
    assert_no_secrets(result.output)


def test_pagerduty_rows_only_when_configured(world):
    assert "PagerDuty" not in world.zsc("auth", "check").output


def use_slack_token(world, scopes) -> None:
    world.sim.slack.add_token("xoxb-scoped-token-0000001", scopes)
    edit_config(world, f'token = "{SLACK_TOKEN}"', 'token = "xoxb-scoped-token-0000001"')


def test_missing_email_scope(world):
    use_slack_token(world, ["channels:history", "channels:read", "chat:write", "users:read"])
    world.ask("hello")
    result = world.zsc("auth", "check")
    assert result.exit_code == 1
    assert "✗ Slack users:read.email" in result.output and "no email visible for UANN" in result.output
    assert "fix: add users:read.email to the app's bot scopes" in result.output


def test_missing_users_read_scope(world):
    use_slack_token(world, ["channels:history", "channels:read", "chat:write"])
    result = world.zsc("auth", "check")
    assert result.exit_code == 1
    assert "✗ Slack users:read.email" in result.output and "scope users:read not granted" in result.output


def test_missing_file_scopes_say_which_to_add_and_where(world):
    use_slack_token(world, [s for s in DEFAULT_SCOPES if s != "files:write"])
    world.ask("hello")
    result = world.zsc("auth", "check")
    assert result.exit_code == 1
    [row] = [line for line in result.output.splitlines() if line.startswith("✗")]
    assert "Slack file scopes" in row and "scope files:write not granted" in row
    assert "Zendesk attachments reach threads only as links" in row
    fix = result.output.splitlines()[result.output.splitlines().index(row) + 1]
    assert "fix: add files:write at api.slack.com/apps" in fix and "OAuth & Permissions" in fix and "reinstall" in fix



def test_run_starts_without_a_file_scope_and_says_so_once(world, keep_signals):
    """As for the other non-essential scopes: `zsc run` warns in one line and works on,
    files named with their links meanwhile."""
    use_slack_token(world, [s for s in DEFAULT_SCOPES if s != "files:read"])
    world.ask("Printer on fire")

    def stop_once_mirrored() -> None:
        deadline = time.monotonic() + 20
        while not world.tickets() and time.monotonic() < deadline:
            time.sleep(0.05)
        runtime.request_stop()

    watcher = threading.Thread(target=stop_once_mirrored, daemon=True)
    watcher.start()
    result = CliRunner().invoke(main, ["--config", str(world.config_path), "run", "--since", "2020-01-01"],
                                catch_exceptions=False)
    watcher.join()
    assert result.exit_code == 0, result.stderr
    assert len(world.tickets()) == 1  # it ran
    warnings = [line for line in result.stderr.splitlines() if "files:read" in line]
    assert len(warnings) == 1, result.stderr
    assert "scope files:read not granted" in warnings[0] and "continuing without it" in warnings[0]
    assert "api.slack.com/apps" in warnings[0]


def test_file_scopes_are_not_asked_for_with_files_off(world):
    world.write_config(extra="[files]\nenabled = false\n")
    use_slack_token(world, [s for s in DEFAULT_SCOPES if not s.startswith("files:")])
    world.ask("hello")
    result = world.zsc("auth", "check")
    assert result.exit_code == 0, result.output
    assert "file scopes" not in result.output


def test_wrong_channel(world):
    edit_config(world, f'channel = "{CHANNEL}"', 'channel = "CNOSUCH"')
    result = world.zsc("auth", "check")
    assert result.exit_code == 1
    assert "✗ Slack channel CNOSUCH" in result.output and "check [slack] channel" in result.output


def test_bot_not_in_channel(world):
    world.sim.slack.add_channel(CHANNEL, "support", bot_is_member=False)
    result = world.zsc("auth", "check")
    assert result.exit_code == 1
    assert "✗ Slack channel CSUPPORT" in result.output and "the bot is not a member" in result.output
    assert "fix: in #support type `/invite @zsc`" in result.output
    assert "✓ Slack users:read.email" in result.output  # still checked, on the bot's own user


def test_agent_not_in_group(world):
    world.group_id = world.sim.zendesk.add_group("Billing", agent_ids=[world.other_agent])
    world.write_config()
    result = world.zsc("auth", "check")
    assert result.exit_code == 1
    assert re.search(rf"✗ Zendesk agent in group +agent {world.agent_id} is not in group {world.group_id}", result.output)
    assert "fix: add the agent to group Billing" in result.output


def test_unknown_agent_and_group(world):
    world.agent_id, world.group_id = 999, 998
    world.write_config()
    result = world.zsc("auth", "check")
    assert "✗ Zendesk agent 999" in result.output and "✗ Zendesk group 998" in result.output
    assert "Zendesk agent in group" not in result.output  # nothing to check it against


def test_revoked_zendesk_token(world):
    world.sim.zendesk.revoke_api_token(ZD_TOKEN)
    result = world.zsc("auth", "check")
    assert result.exit_code == 1 and "✗ Zendesk credentials" in result.output and "HTTP 401" in result.output
    assert "✓ Slack token" in result.output  # one service failing hides nothing of the others
    assert_no_secrets(result.output)


def test_bad_pagerduty_key_and_unknown_policy(world):
    add_pagerduty(world, token="pd-bad-key-000000000")
    result = world.zsc("auth", "check")
    assert result.exit_code == 1
    assert "✗ PagerDuty credentials" in result.output and "credentials refused (HTTP 401)" in result.output
    assert_no_secrets(result.output, "pd-bad-key-000000000")

    add_pagerduty(world)
    world.config_path.write_text(world.config_path.read_text().replace('"PPOLICY"', '"PNOSUCH"'))
    result = world.zsc("auth", "check")
    assert "✓ PagerDuty credentials" in result.output and "✗ PagerDuty policy PNOSUCH" in result.output
