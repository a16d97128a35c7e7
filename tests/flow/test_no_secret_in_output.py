"""Issue 9: an API that echoes the Authorization header in its error body must not
get the credential into anything zsc prints or stores (auth check, sync-once,
status, status --json, the database file)."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from zsc.logs import redact

TOKEN = "zd-echoed-token-9f8e7d6c"
EMAIL = "bot@example.com"


class EchoingZendesk:
    """A stand-in for Zendesk that answers every request with `status` and a JSON
    error body quoting the Authorization header it was sent."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                header = self.headers.get("Authorization", "")
                outer.seen.append(header)
                body = json.dumps({"error": "Denied", "description": f"bad Authorization: {header}"}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _point_zendesk_at(world, url: str) -> None:
    text = world.config_path.read_text()
    text = text.replace(f'api_url = "{world.sim.zendesk.url}"', f'api_url = "{url}"')
    assert url in text
    text = text.replace('token = "zd-secret-token-1234"', f'token = "{TOKEN}"')
    assert TOKEN in text
    world.config_path.write_text(text)


def _secret_forms() -> list[str]:
    basic = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
    return [TOKEN, basic, basic.rstrip("=")]


@pytest.mark.parametrize("status", [400, 401, 500])
def test_an_echoed_credential_is_never_printed_nor_stored(world, status):
    server = EchoingZendesk(status)
    try:
        _point_zendesk_at(world, server.url)
        outputs = [world.zsc("auth", "check"), world.sync(), world.zsc("status"), world.zsc("status", "--json")]
    finally:
        server.close()
    # the server did echo the credential: the test shows something
    assert any(_secret_forms()[1] in header for header in server.seen)
    texts = [r.output + (r.stderr if r.stderr_bytes is not None else "") for r in outputs]
    stored = b"".join(p.read_bytes() for p in world.tmp.glob("zsc.db*") if p.is_file())
    assert stored, "the sync stored nothing"
    for form in _secret_forms():
        for text in texts:
            assert form not in text
        assert form.encode() not in stored
    if status == 400:  # a body zsc quotes: redacted, not dropped
        assert "[redacted]" in texts[0]
        assert b"[redacted]" in stored
    assert "Zendesk" in texts[0] and outputs[0].exit_code == 1


def test_ordinary_words_stay():
    line = "Slack does not know [slack] client_id; copy it from api.slack.com/apps → Basic Information"
    assert redact(line) == line
