"""Logging: redaction at the sink whatever logs what, JSON lines for shippers,
journal priorities under systemd, human lines on a terminal, and message bodies
only when asked for twice (trace level and [logging] message_bodies)."""

from __future__ import annotations

import base64
import http.server
import io
import json
import logging
import os
import sys
import threading
import warnings
from urllib.parse import quote, quote_plus

import pytest
import requests
from loguru import logger

from tests.flow.conftest import sim, world  # noqa: F401 - the simulated team
from tests.flow.world import PD_TOKEN, SLACK_TOKEN, ZD_TOKEN
from zsc import logs
from zsc.adapters.zendesk import _error_text


@pytest.fixture(autouse=True)
def quiet_afterwards():
    hooks = sys.excepthook, __import__("threading").excepthook
    yield
    logs.setup(level="warning", stream=sys.stderr)
    logs._show_bodies = False
    sys.excepthook, __import__("threading").excepthook = hooks


def lines_of(stream) -> list[str]:
    stream.seek(0)
    return stream.read().splitlines()


@pytest.mark.parametrize("text,kept", [
    ("token xoxb-1234-5678-abcdefghijkl refused", "token [redacted] refused"),
    ("Authorization: Bearer abcdef0123456789", "Authorization: Bearer [redacted]"),
    ("Authorization: Basic Ym90QGV4YW1wbGUuY29tL3Rva2VuOnNlY3JldA==", "Authorization: Basic [redacted]"),
    ("POST /oauth/token code=Zq9Yx8Wv7U&client_secret=s3cr3tValue", "POST /oauth/token code=[redacted]&client_secret=[redacted]"),
    ('{"access_token": "abcdefghij", "refresh_token": "klmnopqrst"}', '{"access_token": "[redacted]", "refresh_token": "[redacted]"}'),
    ("connect postgresql://zsc:hunter2pass@db.example.com/zsc", "connect postgresql://zsc:[redacted]@db.example.com/zsc"),
    ("PagerDuty: Token token=u+abcdefghijk", "PagerDuty: Token token=[redacted]"),
])
def test_secret_shapes_are_redacted_without_knowing_them(text, kept):
    assert logs.Redactor()(text) == kept


def test_known_secrets_are_redacted_anywhere_in_a_line():
    redactor = logs.Redactor()
    redactor.add(["zd-secret-token-1234", None, "", "abc"])  # empty and very short values are ignored
    assert redactor("zenpy: 401 for zd-secret-token-1234 (abc)") == "zenpy: 401 for [redacted] (abc)"


def test_json_lines_carry_the_bound_fields_and_a_redacted_error():
    out = io.StringIO()
    logs.setup(level="info", style="json", stream=out, secrets=["zd-secret-token-1234"])
    try:
        raise RuntimeError("HTTP 401 with zd-secret-token-1234")
    except RuntimeError:
        logger.bind(channel="C1", thread_ts="1.2", ticket_id=7).opt(exception=True).error("ticket #7 failed")
    (line,) = lines_of(out)
    entry = json.loads(line)
    assert entry["level"] == "error" and entry["message"] == "ticket #7 failed"
    assert (entry["channel"], entry["thread_ts"], entry["ticket_id"]) == ("C1", "1.2", 7)
    assert entry["error"] == "RuntimeError: HTTP 401 with [redacted]"
    assert entry["time"].endswith("+00:00") or "T" in entry["time"]


def test_auto_is_json_in_a_pipe_or_file_and_human_on_a_terminal(tmp_path):
    with open(tmp_path / "log", "w+") as file:
        logs.setup(level="info", style="auto", stream=file)
        logger.info("to a file")
        assert json.loads(lines_of(file)[0])["message"] == "to a file"
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as tty:
        logs.setup(level="info", style="auto", stream=tty)
        logger.info("to a terminal")
        text = os.read(leader, 4096).decode()
    os.close(leader)
    assert "INFO    to a terminal" in text and not text.lstrip().startswith("{")


def test_under_systemd_each_line_carries_its_journal_priority(tmp_path, monkeypatch):
    with open(tmp_path / "journal", "w+") as stream:
        st = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        logs.setup(level="debug", style="auto", stream=stream)
        logger.debug("d")
        logger.info("i")
        logger.warning("w")
        logger.error("e")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.bind(_traceback=True).opt(exception=True).critical("c")
        lines = lines_of(stream)
    assert lines[:4] == ["<7>DEBUG   d", "<6>INFO    i", "<4>WARNING w", "<3>ERROR   e"]  # the journal adds the time
    assert lines[4] == "<2>CRITICAL c"
    assert len(lines) > 5 and all(line.startswith("<2>") for line in lines[5:])  # the traceback, line by line


def test_a_stream_that_is_not_the_journal_gets_no_priorities(tmp_path, monkeypatch):
    monkeypatch.setenv("JOURNAL_STREAM", "1:1")  # inherited, but stderr was redirected elsewhere
    with open(tmp_path / "log", "w+") as stream:
        logs.setup(level="info", style="human", stream=stream)
        logger.info("hello")
        (line,) = lines_of(stream)
    assert not line.startswith("<") and line.endswith("INFO    hello")


def test_library_logging_warnings_and_crashes_go_through_the_redacting_sink():
    out = io.StringIO()
    logs.setup(level="info", style="json", stream=out, secrets=[SLACK_TOKEN])
    logging.getLogger("some.library").warning("retrying with token=abcdefgh12345")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"deprecated call with {SLACK_TOKEN}", UserWarning)
    try:
        raise ConnectionError(f"refused {SLACK_TOKEN}")
    except ConnectionError:
        sys.excepthook(*sys.exc_info())
    entries = [json.loads(line) for line in lines_of(out)]
    assert entries[0]["message"] == "some.library: retrying with token=[redacted]"
    assert "deprecated call with [redacted]" in entries[1]["message"]
    assert entries[2]["message"] == "unhandled error" and entries[2]["error"] == "ConnectionError: refused [redacted]"
    assert "Traceback" in entries[2]["traceback"]
    assert SLACK_TOKEN not in out.getvalue()


def test_message_bodies_need_both_trace_and_the_setting():
    out = io.StringIO()
    logs.setup(level="info", style="json", stream=out)
    assert logs.body("my password is hunter2") == "[22 chars]"
    logs.setup(level="debug", style="json", stream=out, message_bodies=True)
    assert logs.body("my password is hunter2") == "[22 chars]"
    logs.setup(level="trace", style="json", stream=out, message_bodies=True)
    assert logs.body("my password is hunter2") == "my password is hunter2"
    messages = [(e["level"], e["message"]) for e in map(json.loads, lines_of(out))]
    assert ("info", "[logging] message_bodies = true has no effect below level trace (--log-level trace)") in messages
    assert messages[-1][0] == "warning" and "message bodies are logged" in messages[-1][1]
    # The client libraries dump whole requests at debug: only allowed with bodies on.
    assert logging.getLogger("slack_sdk").level == logging.DEBUG
    logs.setup(level="debug", style="json", stream=out)
    assert logging.getLogger("slack_sdk").level == logging.WARNING
    assert logging.getLogger("urllib3").level == logging.DEBUG


def test_client_libraries_are_silent_below_critical_unless_debugging():
    """The adapters turn each failure into one zsc error: slack_sdk's own "Failed to
    send a request" ERROR per attempt (or urllib3's retries) would only repeat it."""
    out = io.StringIO()
    logs.setup(level="info", style="json", stream=out)
    for name in ("slack_sdk.web.base_client", "zenpy", "pdpyras", "urllib3.connectionpool", "requests"):
        logging.getLogger(name).error("Failed to send a request to the API server")
    assert lines_of(out) == []
    logs.setup(level="debug", style="json", stream=out)
    logging.getLogger("slack_sdk.web.base_client").error("Failed to send a request to the API server")
    assert len(lines_of(out)) == 1  # debugging: the library's own words too


@pytest.mark.parametrize("text", [
    "[slack] token: expected a secret, found an integer; put the value in double quotes",
    "ZSC_SLACK_TOKEN: contains spaces or line breaks; remove them",
    "[pagerduty] client_secret: expected a secret",
    "exit code: 1",
])
def test_zsc_own_words_after_a_secret_name_are_kept(text):
    assert logs.Redactor()(text) == text


@pytest.mark.parametrize("text,kept", [
    ("token: zd0123456789abcdef", "token: [redacted]"),
    ("X-Api-Token: abcdefghijklmnopqrstuvwxyz0", "X-Api-Token: [redacted]"),
    ("{'token': 'abcdef'}", "{'token': '[redacted]'}"),
    ("password: hunter2xx", "password: [redacted]"),
])
def test_token_looking_values_after_a_colon_are_redacted(text, kept):
    assert logs.Redactor()(text) == kept


def test_a_reopened_log_file_gets_the_lines_after_rotation(tmp_path):
    path = tmp_path / "zsc.log"
    logs.setup(level="info", style="json", stream=io.StringIO(), log_file=str(path))
    logger.info("before")
    path.rename(tmp_path / "zsc.log.1")  # logrotate
    logs.setup(level="info", style="json", stream=io.StringIO(), log_file=str(path))  # what SIGHUP does
    logger.info("after")
    assert [json.loads(line)["message"] for line in path.read_text().splitlines()] == ["after"]
    assert json.loads((tmp_path / "zsc.log.1").read_text())["message"] == "before"


# ---------------------------------------------------------------- end to end


def secrets_of_world(world) -> list[str]:
    basic = base64.b64encode(f"bot@example.com/token:{ZD_TOKEN}".encode()).decode()
    return [SLACK_TOKEN, ZD_TOKEN, PD_TOKEN, basic]


def test_no_secret_reaches_any_output_through_failures(world):
    """The most verbose settings there are, a whole conversation, then every kind of
    failure: whatever zsc or a client library says, no credential is in it."""
    world.write_config(extra='[logging]\nmessage_bodies = true\n\n[pagerduty]\ntoken = "%s"\n' % PD_TOKEN)
    outputs = []

    def sync(*extra):
        result = world.zsc("--log-level", "trace", "--log-format", "json", *extra, "sync-once")
        outputs.append(result.output)
        return result

    sync()
    ts = world.ask("Printer on fire")
    sync()
    ticket = world.only_ticket()["id"]
    world.reply(ts, "it smells of smoke")
    world.sim.zendesk.agent_comment(ticket, world.other_agent, "On my way")
    sync()
    assert any("urllib3.connectionpool" in o for o in outputs)  # the libraries' own debug lines

    world.sim.zendesk.inject("tickets.update", "500")  # a write: outcome unknown, looked up later
    world.sim.slack.inject("conversations.history", "503", times=4)  # a read: every retry fails
    world.reply(ts, "still burning")
    failed = sync()
    assert failed.exit_code == 1 and "HTTP 503" in failed.output
    sync()
    world.sim.clear_faults()
    world.sim.slack.revoke_token()
    world.sim.zendesk.revoke_api_token(ZD_TOKEN)
    refused = sync()
    assert refused.exit_code != 0
    assert "token_revoked" in refused.output and "401" in refused.output

    everything = "\n".join(outputs)
    for secret in secrets_of_world(world):
        assert secret not in everything


# ---------------------------------------------------------------- redaction, precisely


@pytest.mark.parametrize("text", [
    "copy it from api.slack.com/apps → Basic Information",
    "Basic Auth is not supported; use an API token",
    "a basic test of the setup",
    "Bearer of bad news",
    "Bearer tokens are refused by this endpoint",
    "the token was refused (invalid_auth)",
    "[slack] token: expected a secret",
    "token=expected a value",
    "password: required",
])
def test_ordinary_sentences_zsc_prints_come_out_unchanged(text):
    redactor = logs.Redactor()
    redactor.add(["zd-secret-token-1234"])  # with known secrets too: the base64 scan runs
    assert redactor(text) == text


TOKEN = "Zd0Tok3nAbCdEfGhIjKlMnOpQrStUvWxYz012345"  # the shape of a Zendesk API token
EMAIL = "agent@example.com"
BASIC = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()


@pytest.mark.parametrize("text,kept", [
    # shapes, value unknown
    ("Authorization: Bearer ya29.a0AfH6SMBx", "Authorization: Bearer [redacted]"),
    ("Authorization: Bearer abcdefghijklmnopqrstuvwxyzabcd", "Authorization: Bearer [redacted]"),
    (f"Authorization: Basic {base64.b64encode(b'client-id:s3cret').decode()}", "Authorization: Basic [redacted]"),
    ("GET /x?access_token=AbCdEfGh&x=1", "GET /x?access_token=[redacted]&x=1"),
    ('{"client_secret":"whatever-it-is"}', '{"client_secret":"[redacted]"}'),
    ("token='plainwords'", "token='[redacted]'"),
    ("https://bot:pa55word@zendesk.example/api", "https://bot:[redacted]@zendesk.example/api"),
])
def test_credentials_in_headers_json_query_strings_and_urls_are_redacted(text, kept):
    assert logs.Redactor()(text) == kept


def test_known_secrets_are_redacted_in_their_encoded_forms():
    redactor = logs.Redactor()
    secret = "s3cr3t/with+symbols="
    redactor.add([secret, TOKEN])
    redactor.add_basic("client-id-123", "oauth-client-secret-xyz")
    percent = quote(secret, safe="")
    assert percent != secret and redactor(f"POST body client_id=1&x={percent}") == "POST body client_id=1&x=[redacted]"
    assert redactor(f"form {quote_plus(secret)} end") == "form [redacted] end"
    # base64 of "email/token:TOKEN" is found though the email was never given
    assert redactor(f"echo: {BASIC}") == "echo: [redacted]"
    assert redactor(f"echo: {BASIC.rstrip('=')}") == "echo: [redacted]"
    assert redactor(f"?auth={quote(BASIC, safe='')}&y=2") == "?auth=[redacted]&y=2"
    assert TOKEN not in redactor(f"x=abc{BASIC}")  # glued to other text: still found
    oauth = base64.b64encode(b"client-id-123:oauth-client-secret-xyz").decode()
    assert redactor(f"credentials {oauth} sent") == "credentials [redacted] sent"
    assert redactor(f"credentials {quote(oauth, safe='')} sent") == "credentials [redacted] sent"
    urlsafe = base64.urlsafe_b64encode(b"client-id-123:oauth-client-secret-xyz").decode()
    assert "oauth-client-secret" not in redactor(urlsafe) and redactor(urlsafe) == "[redacted]"


class _EchoAuth(http.server.BaseHTTPRequestHandler):
    """A fake API that quotes the request's Authorization header in its error, as
    some proxies and badly written APIs do."""

    def do_GET(self):  # noqa: N802 - http.server's name
        auth = self.headers.get("Authorization", "")
        status = 401 if self.path.startswith("/api/v2/users/me") else 500
        if self.path.endswith(".json"):
            body = json.dumps({"error": "Unauthorized", "description": f"bad credentials in '{auth}'"})
            kind = "application/json"
        else:
            body, kind = f"upstream failed for Authorization: {auth} ({quote(auth, safe='')})", "text/plain"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoAuth)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def _quoted_errors(response) -> list[str]:
    """The error text as zsc's adapters quote it: the Zendesk adapter's reading of
    the body, requests' own exception, the body itself (debug logging)."""
    try:
        response.raise_for_status()
    except requests.HTTPError as exc:
        raised = str(exc)
    return [f"GET /api/v2/users/me.json: HTTP {response.status_code} {_error_text(response)}",
            raised, response.text]


@pytest.mark.parametrize("registered", ["basic pair", "token only"])
def test_a_fake_api_echoing_the_authorization_header_leaks_nothing(echo_api, registered):
    redactor = logs.Redactor()
    if registered == "basic pair":
        redactor.add_basic(f"{EMAIL}/token", TOKEN)
    else:  # what zsc.auth registers today: the value alone
        redactor.add([TOKEN])
    bearer = "oauthAcc3ssT0kenValue9876543210"
    redactor.add([bearer])
    with requests.Session() as session:
        session.trust_env = False
        answers = [
            session.get(f"{echo_api}/api/v2/users/me.json", auth=(f"{EMAIL}/token", TOKEN), timeout=5),
            session.get(f"{echo_api}/api/v2/tickets", auth=(f"{EMAIL}/token", TOKEN), timeout=5),
            session.get(f"{echo_api}/api/v2/users/me.json", headers={"Authorization": f"Bearer {bearer}"}, timeout=5),
            session.get(f"{echo_api}/api/v2/search", headers={"Authorization": f"Bearer {bearer}"}, timeout=5),
        ]
    assert [r.status_code for r in answers] == [401, 500, 401, 500]
    assert BASIC in answers[0].text and bearer in answers[2].text  # the API did echo them
    for response in answers:
        for text in _quoted_errors(response):
            out = redactor(text)
            for leaked in (TOKEN, BASIC, BASIC.rstrip("="), quote(BASIC, safe=""), bearer):
                assert leaked not in out, (text, out)
    # and with no value registered at all, the shapes still catch the headers
    for response in answers:
        out = logs.Redactor()(response.text)
        assert BASIC.rstrip("=") not in out and bearer not in out
