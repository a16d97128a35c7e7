"""No credential in any output of a running `zsc run`: stderr, the log file and the
status lines systemd shows, at the most verbose settings, through failures."""

from __future__ import annotations

import base64
import signal

from tests.daemon.conftest import wait_until
from tests.flow.world import SLACK_TOKEN, ZD_TOKEN


def test_no_secret_in_any_sink_of_a_running_zsc(world, start_zsc, notify_socket, tmp_path):
    notify = notify_socket
    world.write_config(extra="[logging]\nmessage_bodies = true\n")
    log_file = tmp_path / "zsc.log"
    zsc = start_zsc("--log-level", "trace", "run", "--log-file", str(log_file), env={"NOTIFY_SOCKET": notify.env})
    zsc.wait_log("message bodies are logged", level="warning")
    zsc.wait_log("zsc active")

    ts = world.ask("Printer on fire, my badge number is 4711")
    wait_until(lambda: world.bot_texts(ts), timeout=10, what="the confirmation")
    assert "my badge number is 4711" in log_file.read_text()  # bodies on: the text is there

    world.sim.slack.inject("conversations.history", "503", times=4)  # every retry fails
    zsc.wait_log("HTTP 503", level="error", timeout=20)
    world.sim.clear_faults()
    world.sim.slack.revoke_token()
    world.sim.zendesk.revoke_api_token(ZD_TOKEN)
    zsc.wait_log("credentials refused", level="error", timeout=10)
    notify.wait_for(lambda m: "token_revoked" in m.get("STATUS", ""), what="the refusal in the status line")
    zsc.signal(signal.SIGTERM)
    assert zsc.wait(5) == 0

    basic = base64.b64encode(f"bot@example.com/token:{ZD_TOKEN}".encode()).decode()
    sinks = {"stderr": zsc.text(), "log file": log_file.read_text(), "status": repr(notify.collect())}
    for name, text in sinks.items():
        for secret in (SLACK_TOKEN, ZD_TOKEN, basic):
            assert secret not in text, f"{secret} in {name}"
