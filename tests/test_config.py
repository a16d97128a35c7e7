"""zsc.config: loading, defaults, secret sources, error messages and generated files.

Every test passes an explicit `env`, so the real environment never leaks in.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import shlex
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from zsc import config as cfg
from zsc.config import loading
from zsc.config import (
    Config,
    Derived,
    Keyword,
    load_config,
    load_token_file,
    mask,
    parse_config,
    reload,
    render_example,
    render_reference_markdown,
    save_token,
)
from zsc.config.settings import find_setting
from zsc.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]

SLACK_TOKEN = "xoxb-1111-2222-SLACKSECRETa1b2"
ZENDESK_TOKEN = "ZDSECRETtoken0123456789"

MINIMAL = """\
[slack]
channel = "C0123ABCD"

[zendesk]
subdomain = "acme"
email = "agent@acme.test"
agent_user_id = 11
group_id = 22
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Secrets from the environment, state under tmp_path; tests add or remove keys."""
    return {
        "HOME": str(tmp_path / "home"),
        "STATE_DIRECTORY": str(tmp_path / "state"),
        "ZSC_SLACK_TOKEN": SLACK_TOKEN,
        "ZSC_ZENDESK_TOKEN": ZENDESK_TOKEN,
    }


@pytest.fixture
def write(tmp_path: Path):
    def write(text: str, name: str = "config.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def load(write, env):
    """Load config text (MINIMAL plus `extra`, by default) with the fixture env."""

    def load(extra: str = "", *, text: str | None = None, **kwargs) -> Config:
        return load_config(write(MINIMAL + extra if text is None else text), kwargs.pop("env", env), **kwargs)

    return load


def error_of(func, *args, **kwargs) -> str:
    """The ConfigError message; every one must be a single line."""
    with pytest.raises(ConfigError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


# ---------------------------------------------------------------- defaults


def test_minimal_config_gets_documented_defaults(load, tmp_path):
    c = load()
    assert c.slack.token == SLACK_TOKEN
    assert c.slack.channel == "C0123ABCD"
    assert c.slack.workspace_uri == ""
    assert c.slack.api_url == "https://slack.com/api/"
    assert c.slack.allowed_bot_ids == ()
    assert c.slack.scopes == ("channels:history", "groups:history", "channels:read", "groups:read", "chat:write",
                              "users:read", "users:read.email", "files:read", "files:write", "reactions:read",
                              "reactions:write", "chat:write.customize")
    assert c.files.enabled is True and c.files.max_bytes == 20971520
    assert c.zendesk.oauth_token == ""
    assert c.zendesk.requester_from_slack is True
    assert c.zendesk.scopes == ("read", "write", "impersonate")
    assert c.pagerduty.enabled is False
    assert c.pagerduty.api_url == "https://api.pagerduty.com"
    assert c.pagerduty.token_url == "https://identity.pagerduty.com/oauth/token"
    assert (c.pagerduty.cache_seconds, c.pagerduty.timeout) == (300, 5.0)
    assert c.sync == cfg.SyncConfig(
        slack_interval=10.0, zendesk_interval=30.0, dry_run=False, thread_window_days=14, http_timeout=20.0,
        park_after_attempts=5, park_after_minutes=15, max_slack_posts_per_comment=3,
    )
    assert c.commands.resolve_status == "solved"
    assert c.keywords == ()
    assert c.email == cfg.EmailConfig(allow_domains=(), deny_domains=(), deny_addresses=())
    assert c.hours.enabled is False
    assert (c.hours.start, c.hours.end, c.hours.message) == (None, None, "")
    assert c.hours.days == frozenset({0, 1, 2, 3, 4})
    assert c.hours.timezone.key == "UTC"
    assert c.report.enabled is True
    assert c.report.time == datetime.time(9, 0)
    assert c.daemon == cfg.DaemonConfig(ha=False, pidfile="")
    assert c.logging == cfg.LoggingConfig(level="info", format="auto", message_bodies=False)
    assert c.source == tmp_path / "config.toml"
    assert c.state_dir == tmp_path / "state"
    assert c.token_file == tmp_path / "state" / "tokens.json"


def test_derived_defaults(load, tmp_path):
    c = load()
    assert c.zendesk.api_url == "https://acme.zendesk.com"
    assert c.zendesk.ticket_uri == "https://acme.zendesk.com/agent/tickets/"
    assert c.database.url == f"sqlite:///{tmp_path}/state/zsc.db"
    assert c.report.channel == "C0123ABCD"


def test_ticket_uri_follows_a_custom_api_url_without_doubling_slashes(load):
    c = load('api_url = "https://support.acme.test/"\n')
    assert c.zendesk.api_url == "https://support.acme.test"
    assert c.zendesk.ticket_uri == "https://support.acme.test/agent/tickets/"


def test_empty_derived_setting_means_default(load):
    c = load('\n[report]\nchannel = ""\n[database]\nurl = ""\n')
    assert c.report.channel == "C0123ABCD"
    assert c.database.url.endswith("/state/zsc.db")


def test_explicit_values_override_derived_defaults(load):
    c = load('ticket_uri = "https://acme.test/t/"\n[report]\nchannel = "C999"\n[database]\nurl = "sqlite:///:memory:"\n')
    assert c.zendesk.ticket_uri == "https://acme.test/t/"
    assert (c.report.channel, c.database.url) == ("C999", "sqlite:///:memory:")


def test_url_trailing_slashes_are_normalised(load):
    extra = 'api_url = "http://127.0.0.1:9/api"\nworkspace_uri = "https://acme.slack.com"\n'
    c = load(text=replace_line(MINIMAL, "[slack]\n", "[slack]\n" + extra))
    assert c.slack.api_url == "http://127.0.0.1:9/api/"
    assert c.slack.workspace_uri == "https://acme.slack.com/"


def test_state_dir_takes_first_of_systemds_list_else_home(env, tmp_path):
    env["STATE_DIRECTORY"] = f"{tmp_path}/one:{tmp_path}/two"
    assert cfg.default_state_dir(env) == tmp_path / "one"
    del env["STATE_DIRECTORY"]
    assert cfg.default_state_dir(env) == tmp_path / "home" / ".local" / "state" / "zsc"


def test_state_dir_sets_database_default(load, env, tmp_path):
    del env["STATE_DIRECTORY"]
    assert load().database.url == f"sqlite:///{tmp_path}/home/.local/state/zsc/zsc.db"


def test_values_are_typed(load):
    c = load('\n[sync]\nslack_interval = 2\ndry_run = true\n[hours]\nstart = "8:30"\nend = 17:00:00\n'
             'message = "closed"\ntimezone = "Europe/Berlin"\ndays = "Mon, Wed-Thu"\n[logging]\nlevel = "DEBUG"\n')
    assert c.sync.slack_interval == 2.0 and isinstance(c.sync.slack_interval, float)
    assert c.sync.dry_run is True
    assert (c.hours.start, c.hours.end) == (datetime.time(8, 30), datetime.time(17, 0))
    assert c.hours.enabled and c.hours.timezone.key == "Europe/Berlin"
    assert c.hours.days == frozenset({0, 2, 3})
    assert c.logging.level == "debug"


@pytest.mark.parametrize(
    "spec, days",
    [("mon-fri", {0, 1, 2, 3, 4}), ("mon,wed,fri", {0, 2, 4}), ("sat-sun", {5, 6}), ("fri-mon", {4, 5, 6, 0}),
     ("sun", {6}), ("mon-sun", set(range(7)))],
)  # fmt: skip
def test_day_specs(spec, days):
    assert cfg.Days().parse(spec) == frozenset(days)


@pytest.mark.parametrize(
    "url",
    ["sqlite:///zsc.db", "sqlite:////var/lib/zsc/zsc.db", "sqlite:///:memory:", "postgresql://zsc@db.internal/zsc",
     "postgresql://zsc@db.internal:5433/zsc?sslmode=require", "postgres://zsc:pw@localhost/zsc"],
)  # fmt: skip
def test_database_urls_accepted(load, url):
    assert load(f'\n[database]\nurl = "{url}"\n').database.url == url


def test_config_is_frozen_and_keeps_secrets_out_of_repr(load):
    c = load()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.slack.channel = "C1"  # type: ignore[misc]
    assert SLACK_TOKEN not in repr(c) and ZENDESK_TOKEN not in repr(c)


def test_parse_config_builds_without_a_file(env):
    data = tomllib.loads(MINIMAL)
    c = parse_config(data, env=env)
    assert c.source is None and c.slack.channel == "C0123ABCD"
    assert "cannot reload" in error_of(reload, c)


# ---------------------------------------------------------------- keywords


def test_keywords_parse_to_frozen_entries(load):
    c = load('\n[[keywords]]\nmatch = ["vpn", "remote access"]\nreply = "See the VPN guide."\n'
             '\n[[keywords]]\nmatch = ["password"]\nreply = "Reset it here."\n')
    assert c.keywords == (Keyword(match=("vpn", "remote access"), reply="See the VPN guide."),
                          Keyword(match=("password",), reply="Reset it here."))  # fmt: skip


@pytest.mark.parametrize(
    "entry, fragments",
    [
        ('match = []\nreply = "x"', ["[[keywords]] #1 match: must not be empty"]),
        ('match = ["vpn"]', ["[[keywords]] #1 reply: missing required key", "add it to each [[keywords]] entry"]),
        ('match = "vpn"\nreply = "x"', ["match: expected a list of strings", 'found "vpn"', "brackets"]),
        ('match = ["vpn", ""]\nreply = "x"', ["match: item 2: must not be empty"]),
        ('match = ["vpn"]\nreply = "x"\nanswer = "y"', ["[[keywords]] #1 answer: unknown key; valid keys: match, reply"]),
    ],
)
def test_keyword_errors(load, entry, fragments):
    message = error_of(load, f"\n[[keywords]]\n{entry}\n")
    for fragment in fragments:
        assert fragment in message


def test_keywords_must_be_an_array_of_tables(load):
    message = error_of(load, '\n[keywords]\nmatch = ["vpn"]\n')
    assert "keywords: expected a list of tables" in message and "[[keywords]]" in message


# ---------------------------------------------------------------- finding and reading the file


def test_explicit_path_beats_zsc_config(write, env, tmp_path):
    env["ZSC_CONFIG"] = str(write("[slack]\n", name="other.toml"))
    assert load_config(write(MINIMAL), env).slack.channel == "C0123ABCD"


def test_zsc_config_is_used_when_no_path(write, env):
    env["ZSC_CONFIG"] = str(write(MINIMAL, name="via-env.toml"))
    assert load_config(None, env).source.name == "via-env.toml"


@pytest.mark.parametrize(
    "how, fragment",
    [("path", ""), ("ZSC_CONFIG", " (named by ZSC_CONFIG)"), ("default", " (the default location)")],
)
def test_missing_file_says_how_to_fix(env, tmp_path, monkeypatch, how, fragment):
    missing = tmp_path / "nope.toml"
    monkeypatch.setattr(loading, "DEFAULT_CONFIG_PATH", missing)  # where _config_path looks it up
    if how == "ZSC_CONFIG":
        env["ZSC_CONFIG"] = str(missing)
    message = error_of(load_config, missing if how == "path" else None, env)
    assert message.startswith(f"{missing}: config file not found{fragment}")
    assert f"cp config.example.toml {missing}" in message
    assert "--config" in message and "ZSC_CONFIG" in message


def test_directory_instead_of_file(env, tmp_path):
    assert "is a directory" in error_of(load_config, tmp_path, env)


def test_unreadable_file(write, env, monkeypatch):
    path = write(MINIMAL)

    def deny(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)  # chmod 000 does not stop root
    message = error_of(load_config, path, env)
    assert f"{path}: permission denied" in message and f"chmod 640 {path}" in message


def test_not_utf8(tmp_path, env):
    path = tmp_path / "config.toml"
    path.write_bytes(b'[slack]\nchannel = "\xff"\n')
    assert "not UTF-8" in error_of(load_config, path, env)


def test_byte_order_mark_is_named_with_its_fix(tmp_path, env):
    """Some Windows editors start UTF-8 files with a BOM; tomllib alone says only
    "Invalid statement" at line 1."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    message = error_of(load_config, path, env)
    assert message.startswith(f"{path}: starts with a UTF-8 byte-order mark (BOM)")
    assert "save the file as UTF-8 without BOM" in message
    command = message.split("run: ", 1)[1]
    assert command == f"sed -i '1s/^\\xEF\\xBB\\xBF//' {path}"
    if shutil.which("sed"):  # the suggested command really fixes the file
        subprocess.run(shlex.split(command), check=True)
        assert load_config(path, env).slack.channel == "C0123ABCD"


def test_toml_syntax_error_gives_line_and_column(load, tmp_path):
    message = error_of(load, "requester_from_slack = yes\n")
    assert message.startswith(f"{tmp_path}/config.toml: line 9, column 24: invalid TOML: Invalid value;")
    assert "double quotes" in message


# ---------------------------------------------------------------- unknown names


@pytest.mark.parametrize(
    "extra, fragments",
    [
        ("\n[slakc]\n", ["[slakc]: unknown section; did you mean [slack]?"]),
        ("\n[frobnicate]\n", ["[frobnicate]: unknown section; valid sections: [slack], [zendesk]", "[[keywords]]"]),
        ('groupid = 3\n', ["[zendesk] groupid: unknown key; did you mean group_id?"]),
        ('\n[sync]\nxyzzy = 3\n', ["[sync] xyzzy: unknown key; valid keys: slack_interval, zendesk_interval"]),
        ('\n[hours.extra]\n', ["[hours] extra: unknown key"]),
    ],
)
def test_unknown_names(load, tmp_path, extra, fragments):
    message = error_of(load, extra)
    assert message.startswith(f"{tmp_path}/config.toml: ")
    for fragment in fragments:
        assert fragment in message


def test_key_outside_any_section_says_where_it_belongs(load, tmp_path):
    message = error_of(load, text="dry_run = true\n" + MINIMAL)
    assert message == f"{tmp_path}/config.toml: dry_run: key outside any section; move it under [sync]"
    assert "move it under [slack] or [zendesk] or [pagerduty]" in error_of(load, text='api_url = "x"\n' + MINIMAL)
    assert "unknown key outside any section" in error_of(load, text="foo = 1\n" + MINIMAL)


def test_section_must_be_a_table(load):
    assert "sync: expected a table, found an integer; write it as a [sync] section" in error_of(
        load, text="sync = 3\n" + MINIMAL
    )


# ---------------------------------------------------------------- types, required keys, values


@pytest.mark.parametrize(
    "extra, fragments",
    [
        ('\n[sync]\nslack_interval = "10s"\n', ['[sync] slack_interval: expected a number, found "10s"',
                                                 "write the number without quotes"]),
        ('\n[sync]\ndry_run = "yes"\n', ['expected true or false, found "yes"', "write true or false without quotes"]),
        ("\n[hours]\nmessage = 3\n", ["[hours] message: expected a string, found 3; put the value in double quotes"]),
        ('\n[email]\ndeny_domains = "spam.test"\n', ["expected a list of domains", "brackets"]),
        ('\n[email]\ndeny_domains = ["ok.test", 7]\n', ["deny_domains: item 2: expected a domain, found 7"]),
        ("\n[sync]\nthread_window_days = 1.5\n", ["expected an integer, found 1.5"]),
        ("\n[sync]\nthread_window_days = true\n", ["expected an integer, found true"]),
    ],
)  # fmt: skip
def test_wrong_types_show_expected_and_found(load, tmp_path, extra, fragments):
    message = error_of(load, extra)
    assert message.startswith(f"{tmp_path}/config.toml: [")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    "remove, message_part",
    [
        ('channel = "C0123ABCD"\n', '[slack] channel: missing required key; add it to [slack], e.g. channel = "C0123ABCD"'),
        ('subdomain = "acme"\n', '[zendesk] subdomain: missing required key; add it to [zendesk], e.g. subdomain = "example"'),
        ("agent_user_id = 11\n", "[zendesk] agent_user_id: missing required key; add it to [zendesk], e.g. agent_user_id = "),
        ("group_id = 22\n", "[zendesk] group_id: missing required key"),
    ],
)  # fmt: skip
def test_missing_required_keys(load, tmp_path, remove, message_part):
    message = error_of(load, text=replace_line(MINIMAL, remove, ""))
    assert message.startswith(f"{tmp_path}/config.toml: {message_part}")


def test_missing_slack_token_names_all_four_ways(load, env, tmp_path):
    del env["ZSC_SLACK_TOKEN"]
    message = error_of(load)
    assert message.startswith(f"{tmp_path}/config.toml: [slack] token: not set; supply it one of four ways:")
    for way in ["environment variable ZSC_SLACK_TOKEN", "systemd credential named ZSC_SLACK_TOKEN (LoadCredential=)",
                'token = "…" under [slack]', f'"slack_token" in {tmp_path}/state/tokens.json', "zsc auth"]:  # fmt: skip
        assert way in message


@pytest.mark.parametrize(
    "extra, fragments",
    [
        ('\n[hours]\nstart = "9am"\n', ['[hours] start: not a time of day, found "9am"', '"09:00"']),
        ('\n[report]\ntime = "24:00"\n', ["[report] time: not a time of day"]),
        ('\n[hours]\ntimezone = "Europe/Berln"\n', ['[hours] timezone: unknown timezone, found "Europe/Berln"; did you mean "Europe/Berlin"?']),
        ('\n[report]\ntimezone = "utc"\n', ['did you mean "UTC"?']),
        ('\n[report]\ntimezone = "Nowhere/Special"\n', ['use an IANA name such as "UTC"']),
        ('\n[report]\ndays = "mon-fry"\n', ['[report] days: not a list or range of days, found "mon-fry"', '"mon,wed,fri"']),
        ('\n[hours]\ndays = "weekdays"\n', ["not a list or range of days"]),
        ('\n[database]\nurl = "mysql://db/zsc"\n', ["[database] url: not a supported database URL", "postgresql://USER@HOST"]),
        ('\n[database]\nurl = "sqlite://host/zsc.db"\n', ["three slashes"]),
        ('\n[database]\nurl = "sqlite:///"\n', ["no file path"]),
        ('\n[database]\nurl = "postgresql://zsc@/zsc"\n', ["needs a host and a database name"]),
        ('\n[database]\nurl = "postgresql://zsc@db:99999/zsc"\n', ["port is not a number"]),
        ('\n[commands]\nresolve_status = "open"\n', ['[commands] resolve_status: must be one of "solved", "closed", found "open"']),
        ('\n[commands]\nresolve_status = "solve"\n', ['did you mean "solved"?']),
        ('api_url = "ftp://acme.test"\n', ['[zendesk] api_url: not an http(s) URL, found "ftp://acme.test"', "https://"]),
        ('\n[pagerduty]\napi_url = "api.pagerduty.com"\n', ["[pagerduty] api_url: not an http(s) URL"]),
        ('\n[pagerduty]\ntoken_url = "https://[::1/token"\n', ["[pagerduty] token_url: not an http(s) URL"]),
        ('\n[database]\nurl = "postgresql://zsc@[::1/zsc"\n', ["[database] url: not a valid URL"]),
        ('\n[logging]\nformat = "xml"\n', ['must be one of "auto", "human", "json"']),
        ('\n[sync]\nslack_interval = 0\n', ["must be a positive number, found 0"]),
        ('\n[sync]\nhttp_timeout = nan\n', ["must be a positive number"]),
        ('\n[pagerduty]\ncache_seconds = -1\n', ["must be at least 0"]),
        ('\n[email]\nallow_domains = ["@acme.test"]\n', ['allow_domains: item 1: not a valid domain, found "@acme.test"', "without @"]),
        ('\n[email]\ndeny_addresses = ["bob"]\n', ["item 1: not a valid email address"]),
        ('\n[report]\nchannel = "#support"\n', ['[report] channel: not a valid Slack channel ID, found "#support"', "not its #name"]),
    ],
)  # fmt: skip
def test_invalid_values(load, tmp_path, extra, fragments):
    message = error_of(load, extra)
    assert message.startswith(f"{tmp_path}/config.toml: ")
    for fragment in fragments:
        assert fragment in message


def test_invalid_slack_values(load):
    text = replace_line(MINIMAL, "[slack]\n", '[slack]\nallowed_bot_ids = ["B01", "U123"]\n')
    assert '[slack] allowed_bot_ids: item 2: not a valid Slack bot ID, found "U123"; bot IDs start with B' in error_of(
        load, text=text
    )
    text = replace_line(MINIMAL, 'channel = "C0123ABCD"', 'channel = "support"')
    assert "[slack] channel: not a valid Slack channel ID" in error_of(load, text=text)
    text = replace_line(MINIMAL, 'subdomain = "acme"', 'subdomain = "acme.zendesk.com"')
    assert 'write just the subdomain: "acme" for acme.zendesk.com' in error_of(load, text=text)
    assert load(text=replace_line(MINIMAL, 'subdomain = "acme"', 'subdomain = "ACME"')).zendesk.subdomain == "acme"


def test_database_password_is_never_quoted(load):
    message = error_of(load, '\n[database]\nurl = "postgresql://zsc:hunter2pw@db:nope/zsc"\n')
    assert "hunter2pw" not in message and "postgresql://zsc:***@db:nope/zsc" in message


# ---------------------------------------------------------------- cross-key checks


def test_zendesk_needs_some_credentials(load, env, tmp_path):
    del env["ZSC_ZENDESK_TOKEN"]
    no_email = replace_line(MINIMAL, 'email = "agent@acme.test"\n', "")
    message = error_of(load, text=no_email)
    assert message.startswith(f"{tmp_path}/config.toml: [zendesk]: no Zendesk credentials; set email plus token")
    assert "ZSC_ZENDESK_TOKEN" in message and "oauth_token" in message and "ZSC_ZENDESK_OAUTH_TOKEN" in message


def test_zendesk_email_without_token(load, env):
    del env["ZSC_ZENDESK_TOKEN"]
    message = error_of(load)
    assert "[zendesk] token: email is set but the API token is missing; supply it one of four ways" in message


def test_zendesk_token_without_email(load):
    message = error_of(load, text=replace_line(MINIMAL, 'email = "agent@acme.test"\n', ""))
    assert "[zendesk] email: token is set but email is missing" in message


def test_zendesk_oauth_token_alone_is_enough(load, env):
    del env["ZSC_ZENDESK_TOKEN"]
    env["ZSC_ZENDESK_OAUTH_TOKEN"] = "oauth0123456789abcdef"
    assert load(text=replace_line(MINIMAL, 'email = "agent@acme.test"\n', "")).zendesk.oauth_token.startswith("oauth")


def test_pagerduty_needs_credentials_once_enabled(load, env):
    message = error_of(load, '\n[pagerduty]\nescalation_policy_id = "P123"\n')
    assert "[pagerduty] token: escalation_policy_id is set but there are no PagerDuty credentials" in message
    assert load('\n[pagerduty]\nescalation_policy_id = "P123"\nclient_id = "id"\n',
                env={**env, "ZSC_PAGERDUTY_CLIENT_SECRET": "pdclientsecret00000"}).pagerduty.enabled  # fmt: skip
    env["ZSC_PAGERDUTY_TOKEN"] = "pdtoken0123456789"
    assert load('\n[pagerduty]\nescalation_policy_id = "P123"\n').pagerduty.enabled


@pytest.mark.parametrize(
    "hours, fragment",
    [
        ('start = "09:00"', "[hours] end: start set but end is empty; set start, end and message"),
        ('start = "09:00"\nend = "17:00"', "[hours] message: start and end set but message is empty"),
        ('message = "closed"', "[hours] start: message set but start is empty"),
        ('start = "09:00"\nend = "09:00"\nmessage = "x"', "[hours] end: start and end are the same time"),
    ],
)
def test_hours_all_or_nothing(load, hours, fragment):
    assert fragment in error_of(load, f"\n[hours]\n{hours}\n")


def test_require_secrets_false_is_for_zsc_auth(load, env):
    del env["ZSC_SLACK_TOKEN"], env["ZSC_ZENDESK_TOKEN"]
    c = load(require_secrets=False)
    assert (c.slack.token, c.zendesk.token) == ("", "")
    assert "[slack] channel: missing" in error_of(
        load, text=replace_line(MINIMAL, 'channel = "C0123ABCD"\n', ""), require_secrets=False
    )


# ---------------------------------------------------------------- secret sources


def _make_sources(tmp_path: Path, env: dict[str, str], sources: set[str]) -> str:
    """Give slack token a different value in each chosen source; return the config text."""
    if "env" in sources:
        env["ZSC_SLACK_TOKEN"] = "xoxb-from-env-000000000"
    else:
        del env["ZSC_SLACK_TOKEN"]
    if "creds" in sources:
        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "ZSC_SLACK_TOKEN").write_text("xoxb-from-creds-000000\n")
        env["CREDENTIALS_DIRECTORY"] = str(creds)
    if "tokens" in sources:
        save_token(tmp_path / "state", "slack_token", "xoxb-from-tokens-00000")
    token_line = 'token = "xoxb-from-file-0000000"\n' if "file" in sources else ""
    return replace_line(MINIMAL, "[slack]\n", "[slack]\n" + token_line)


@pytest.mark.parametrize(
    "sources, winner",
    [
        ({"env", "creds", "file", "tokens"}, "env"),
        ({"creds", "file", "tokens"}, "creds"),
        ({"file", "tokens"}, "file"),
        ({"tokens"}, "tokens"),
        ({"env", "tokens"}, "env"),
        ({"creds", "tokens"}, "creds"),
    ],
)
def test_secret_precedence(load, env, tmp_path, sources, winner):
    text = _make_sources(tmp_path, env, sources)
    assert load(text=text).slack.token.startswith(f"xoxb-from-{winner}-")


def test_empty_env_var_counts_as_unset(load, env, tmp_path):
    text = _make_sources(tmp_path, env, {"file"})
    env["ZSC_SLACK_TOKEN"] = ""
    assert load(text=text).slack.token == "xoxb-from-file-0000000"


def test_every_secret_has_its_env_var(load, env):
    names = {
        "ZSC_SLACK_CLIENT_SECRET": ("slack", "client_secret"),
        "ZSC_ZENDESK_OAUTH_TOKEN": ("zendesk", "oauth_token"),
        "ZSC_ZENDESK_CLIENT_SECRET": ("zendesk", "client_secret"),
        "ZSC_PAGERDUTY_TOKEN": ("pagerduty", "token"),
        "ZSC_PAGERDUTY_CLIENT_SECRET": ("pagerduty", "client_secret"),
    }
    env.update({name: f"value-of-{name}" for name in names})
    c = load()
    for name, (section, key) in names.items():
        assert getattr(getattr(c, section), key) == f"value-of-{name}"


def test_secret_with_whitespace_is_refused_without_quoting_it(load, env):
    env["ZSC_SLACK_TOKEN"] = SLACK_TOKEN + "\nextra"
    message = error_of(load)
    assert message.startswith("environment variable ZSC_SLACK_TOKEN: contains spaces or line breaks; remove them")
    assert SLACK_TOKEN not in message


def test_secret_of_wrong_type_names_only_its_type(load, env):
    del env["ZSC_SLACK_TOKEN"]
    message = error_of(load, text=replace_line(MINIMAL, "[slack]\n", "[slack]\ntoken = 123456789\n"))
    assert "[slack] token: expected a secret, found an integer; put the value in double quotes" in message
    assert "123456789" not in message


# ---------------------------------------------------------------- token file


def test_save_token_creates_private_dir_and_file(tmp_path):
    state = tmp_path / "deep" / "state"
    path = save_token(state, "slack_token", "xoxb-one")
    save_token(state, "zendesk_oauth_token", "zd-two")
    assert path == state / "tokens.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"slack_token": "xoxb-one", "zendesk_oauth_token": "zd-two"}
    assert load_token_file(state) == {"slack_token": "xoxb-one", "zendesk_oauth_token": "zd-two"}
    assert sorted(p.name for p in state.iterdir()) == ["tokens.json"]  # no temp file left behind


def test_save_token_replaces_a_value(tmp_path):
    save_token(tmp_path, "slack_token", "xoxb-old")
    save_token(tmp_path, "slack_token", "xoxb-new")
    assert load_token_file(tmp_path) == {"slack_token": "xoxb-new"}


def test_save_token_rejects_bad_names_and_values(tmp_path):
    message = error_of(save_token, tmp_path, "slack_tokn", "x")
    assert "slack_tokn: unknown token name; did you mean slack_token?" in message
    assert "refusing to save an empty token" in error_of(save_token, tmp_path, "slack_token", "")
    message = error_of(save_token, tmp_path, "slack_token", "xoxb-secret value")
    assert "contains spaces" in message and "xoxb-secret" not in message


def test_no_token_file_is_fine(tmp_path):
    assert load_token_file(tmp_path / "absent") == {}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_token_file_readable_by_others_is_refused_with_chmod_hint(tmp_path, mode):
    path = save_token(tmp_path, "slack_token", SLACK_TOKEN)
    path.chmod(mode)
    message = error_of(load_token_file, tmp_path)
    assert message == (
        f"{path}: other users can access this token file (mode {mode:04o}); run: chmod 600 {path}"
    )
    path.chmod(0o600)
    assert load_token_file(tmp_path) == {"slack_token": SLACK_TOKEN}


def test_load_config_refuses_open_token_file_even_when_env_has_the_token(load, env, tmp_path):
    save_token(tmp_path / "state", "slack_token", SLACK_TOKEN).chmod(0o644)
    assert "chmod 600" in error_of(load)


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("{nope", "not valid JSON (line 1, column 2); delete it and run `zsc auth` again"),
        ("[]", "expected a JSON object, found an array"),
        ('{"slack_tokn": "x"}', "slack_tokn: unknown token name; did you mean slack_token?"),
        (json.dumps({"slack_token": 5}), "slack_token: expected a string, found an integer"),
    ],
)
def test_bad_token_file(tmp_path, content, fragment):
    path = tmp_path / "tokens.json"
    path.write_text(content)
    path.chmod(0o600)
    assert fragment in error_of(load_token_file, tmp_path)


def test_credentials_file_trailing_newline_is_stripped(load, env, tmp_path):
    del env["ZSC_SLACK_TOKEN"]
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "ZSC_SLACK_TOKEN").write_text(SLACK_TOKEN + "\n")
    env["CREDENTIALS_DIRECTORY"] = str(creds)
    assert load().slack.token == SLACK_TOKEN


# ---------------------------------------------------------------- secrets never leak

SECRET = "xoxb-9999-8888-TOPSECRETVALUE"


_SLACK = replace_line(MINIMAL, "[slack]\n", f'[slack]\ntoken = "{SECRET}"\n')
_FILE = {"ZSC_SLACK_TOKEN": ""}  # empty: the config file's token is the one used
_CREDS = "use the credentials directory"

# Each case fails while SECRET sits in some source: (config text, env overrides).
LEAKY_CASES = {
    "wrong type in a list": (_SLACK.replace(f'"{SECRET}"', f'["{SECRET}"]'), _FILE),
    "wrong type as table": (_SLACK.replace(f'"{SECRET}"', f'{{ v = "{SECRET}" }}'), _FILE),
    "whitespace in file": (_SLACK.replace(SECRET, SECRET + " x"), _FILE),
    "whitespace in env": (MINIMAL, {"ZSC_SLACK_TOKEN": f"{SECRET}\n\n"}),
    "whitespace in credential": (MINIMAL, {"ZSC_SLACK_TOKEN": "", "CREDENTIALS_DIRECTORY": _CREDS}),
    "unknown key next to secret": (_SLACK + "tokn = 1\n", _FILE),
    "typo holding the secret": (replace_line(MINIMAL, "[slack]\n", f'[slack]\ntokn = "{SECRET}"\n'), {}),
    "other error later": (_SLACK + '\n[hours]\nstart = "nope"\n', _FILE),
    "zendesk token without email": (
        replace_line(MINIMAL, 'email = "agent@acme.test"\n', f'token = "{SECRET}"\n'), {"ZSC_ZENDESK_TOKEN": ""}),
    "zendesk token from env without email": (
        replace_line(MINIMAL, 'email = "agent@acme.test"\n', ""), {"ZSC_ZENDESK_TOKEN": SECRET}),
    "secret in wrong section": (MINIMAL + f'\n[sync]\ntoken = "{SECRET}"\n', {}),
    "secret at top level": (f'token = "{SECRET}"\n' + MINIMAL, {}),
    "toml syntax near secret": (_SLACK.replace(f'"{SECRET}"', f'"{SECRET}" x'), _FILE),
    "unterminated secret": (_SLACK.replace(f'"{SECRET}"', f'"{SECRET}'), _FILE),
    "pagerduty client secret only": (
        MINIMAL + f'\n[pagerduty]\nescalation_policy_id = "P1"\nclient_secret = "{SECRET}"\n', {}),
    "database password": (MINIMAL + f'\n[database]\nurl = "postgres://u:{SECRET}@h:x/db"\n', {}),
    "database password, broken URL": (MINIMAL + f'\n[database]\nurl = "postgres://u:{SECRET}/@[h/db"\n', {}),
}  # fmt: skip


@pytest.mark.parametrize("case", list(LEAKY_CASES))
def test_secret_values_never_appear_in_errors(load, env, tmp_path, case):
    text, overrides = LEAKY_CASES[case]
    env.update(overrides)
    if env.get("CREDENTIALS_DIRECTORY") == _CREDS:
        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "ZSC_SLACK_TOKEN").write_text(f"{SECRET} and more\n")
        env["CREDENTIALS_DIRECTORY"] = str(creds)
    message = error_of(load, text=text)
    assert "TOPSECRET" not in message


def test_secret_in_token_file_never_appears_in_errors(load, env, tmp_path):
    path = tmp_path / "state" / "tokens.json"
    path.parent.mkdir()
    for content in [{"slack_token": SECRET + " x"}, {"slack_token": [SECRET]}, {"slack_tokn": SECRET}]:
        path.write_text(json.dumps(content))
        path.chmod(0o600)
        del env["ZSC_SLACK_TOKEN"]
        message = error_of(load)
        assert "TOPSECRET" not in message
        env["ZSC_SLACK_TOKEN"] = SLACK_TOKEN
    path.write_text(json.dumps({"slack_token": SECRET}))
    path.chmod(0o644)
    assert "TOPSECRET" not in error_of(load)


# ---------------------------------------------------------------- mask


@pytest.mark.parametrize(
    "secret, masked",
    [
        ("xoxb-1234-5678-abcdefa1b2", "xoxb-…a1b2"),
        ("xoxp-000000000000-wxyz", "xoxp-…wxyz"),
        ("ZDSECRETtoken0123456789", "…6789"),
        ("u+ABCDEFGHIJKLmnop", "…mnop"),
        ("short", "****"),
        ("xoxb-12345678", "****"),  # would show 4 of 8 hidden characters
        ("averyveryverylongprefix-0123456789abcdef", "…cdef"),  # a dash this late is no prefix
        ("", ""),
    ],
)
def test_mask(secret, masked):
    assert mask(secret) == masked


# ---------------------------------------------------------------- reload


def test_reload_rereads_the_file_with_the_same_env(write, env):
    path = write(MINIMAL)
    first = load_config(path, env)
    path.write_text(MINIMAL + '\n[logging]\nlevel = "debug"\n')
    second = reload(first)
    assert (first.logging.level, second.logging.level) == ("info", "debug")
    assert second.slack.token == SLACK_TOKEN and second.source == path


def test_reload_reports_errors_like_load(write, env):
    path = write(MINIMAL)
    c = load_config(path, env)
    path.write_text(MINIMAL + "\n[slakc]\n")
    assert "did you mean [slack]?" in error_of(reload, c)


def test_relative_path_is_made_absolute(write, env, tmp_path, monkeypatch):
    write(MINIMAL)
    monkeypatch.chdir(tmp_path)
    assert load_config("config.toml", env).source == tmp_path / "config.toml"


# ---------------------------------------------------------------- the table and generated files


def test_derived_defaults_only_use_earlier_settings():
    seen = {"state_dir"}
    for s in cfg.SETTINGS:
        if isinstance(s.default, Derived):
            s.default.resolve({name: "x" for name in seen})  # KeyError if it looks ahead
        seen.add(f"{s.section}.{s.key}")


def test_plain_defaults_are_valid_values():
    for s in cfg.SETTINGS:
        if not s.required and not isinstance(s.default, Derived):
            s.type.parse(s.default)
        if s.example is not None:
            s.type.parse(s.example)


def test_every_setting_belongs_to_a_section_once():
    names = [(s.section, s.key) for s in cfg.SETTINGS]
    assert len(names) == len(set(names))
    assert {s.section for s in cfg.SETTINGS} == {sec.name for sec in cfg.SECTIONS}


def test_example_file_is_in_sync():
    committed = (REPO / "config.example.toml").read_text()
    assert committed == render_example(), "regenerate: zsc config example > config.example.toml"


def test_reference_doc_is_in_sync():
    committed = (REPO / "docs" / "config-reference.md").read_text()
    assert committed == render_reference_markdown(), (
        "regenerate: zsc config reference > docs/config-reference.md"
    )


def test_example_loads_once_secrets_are_supplied(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(render_example())
    env = {"HOME": str(tmp_path), "ZSC_SLACK_TOKEN": SLACK_TOKEN, "ZSC_ZENDESK_OAUTH_TOKEN": "oauth0123456789abcdef"}
    c = load_config(path, env)
    assert (c.slack.channel, c.zendesk.subdomain, c.report.channel) == ("C0123ABCD", "example", "C0123ABCD")
    assert c.zendesk.api_url == "https://example.zendesk.com"


def test_example_commented_values_are_valid_and_equal_defaults(tmp_path):
    """Uncommenting every setting must load and change nothing (derived ones aside,
    which the example shows for its sample values and /var/lib/zsc)."""
    setting = re.compile(r"# (\w+ = .*|\[\[\w+\]\])")
    lines = [line[2:] if setting.fullmatch(line) else line for line in render_example().splitlines()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines))
    env = {"STATE_DIRECTORY": "/var/lib/zsc", "ZSC_ZENDESK_OAUTH_TOKEN": "oauth0123456789abcdef"}
    everything = load_config(path, env)
    path.write_text(render_example())
    plain = load_config(path, {**env, "ZSC_SLACK_TOKEN": "xoxb-…"})
    sample = Keyword(match=("password reset", "reset my password"), reply=find_setting("keywords", "reply").example)
    assert everything.keywords == (sample,)
    entry = cfg.ChannelEntry(id="C0PLATFORM", group_id=360000000001, mode="all", reaction="ticket",
                             tags=("platform",), report=False)
    assert everything.channels == (entry,)
    assert dataclasses.replace(everything, keywords=(), channels=()) == plain


def test_every_setting_is_documented_in_both_files():
    example, reference = render_example(), render_reference_markdown()
    for s in cfg.SETTINGS:
        assert f"{s.key} = " in example
        assert f"| `{s.key}` |" in reference
        assert s.help in reference
        if s.secret:
            assert s.env_var in example and s.env_var in reference


def test_unreadable_credential_is_named(load, env, tmp_path):
    del env["ZSC_SLACK_TOKEN"]
    (tmp_path / "creds" / "ZSC_SLACK_TOKEN").mkdir(parents=True)  # reading a directory fails
    env["CREDENTIALS_DIRECTORY"] = str(tmp_path / "creds")
    message = error_of(load)
    assert message.startswith(f"{tmp_path}/creds/ZSC_SLACK_TOKEN: cannot read the credential")
    assert "LoadCredential=" in message


def test_readme_configuration_section_is_in_sync():
    """README documents every key: its Configuration section is generated from the table
    (refresh it with `zsc config readme README.md`)."""
    from zsc.config import SETTINGS, render_readme

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert readme == render_readme(readme)
    for setting in SETTINGS:
        assert f"`{setting.key}`" in readme


def test_channel_post_interval_is_one_second_and_may_be_0_for_a_test_double(load):
    assert load().slack.channel_post_interval == 1.0
    off = replace_line(MINIMAL, "[slack]\n", "[slack]\nchannel_post_interval = 0\n")
    assert load(text=off).slack.channel_post_interval == 0.0
    slower = replace_line(MINIMAL, "[slack]\n", "[slack]\nchannel_post_interval = 1.5\n")
    assert load(text=slower).slack.channel_post_interval == 1.5
    negative = replace_line(MINIMAL, "[slack]\n", "[slack]\nchannel_post_interval = -1\n")
    assert "[slack] channel_post_interval: must be 0 or a positive number, found -1" in error_of(load, text=negative)
