"""`zsc run` under systemd's eyes: the sd_notify conversation of a Type=notify
service, and unit files that systemd accepts."""

from __future__ import annotations

import configparser
import shutil
import signal
import subprocess
import sys

import pytest

from tests.daemon.conftest import ROOT, START_TIMEOUT
from tests.flow.world import CHANNEL

UNITS = ROOT / "systemd"


def is_cycle(message: dict) -> bool:
    return "STATUS" in message and "READY" not in message and "RELOADING" not in message


def test_systemd_hears_ready_status_watchdog_and_stopping(world, start_zsc, notify):
    zsc = start_zsc("run", env={"NOTIFY_SOCKET": notify.env, "WATCHDOG_USEC": "30000000"})

    # READY=1 comes first, once config, credentials, lock and store checked out.
    first = notify.wait_for(lambda m: True, what="the first message")
    assert first["READY"] == "1"
    assert "polled" in first["STATUS"]
    # Each successful cycle: a one-line status, and the watchdog ping.
    ok = notify.wait_for(lambda m: is_cycle(m) and m.get("WATCHDOG") == "1", what="a successful cycle")
    assert "slack" in ok["STATUS"] and "zendesk" in ok["STATUS"] and "open issues" in ok["STATUS"]
    assert "\n" not in ok["STATUS"]

    # The bot is removed from the channel: Slack polls fail, and the watchdog ping is
    # withheld for as long as they do (a hung or failing poll must trip WatchdogSec=).
    world.sim.slack.channels[CHANNEL].is_member = False
    mark = len(notify.collect())
    failing = notify.wait_for(lambda m: "FAILING slack" in m.get("STATUS", ""), after=mark, what="a failing status")
    assert "last error" in failing["STATUS"] and "not a member" in failing["STATUS"]
    first_failing = notify.messages.index(failing)
    notify.wait_for(lambda m: is_cycle(m), after=first_failing + 2, timeout=10, what="more failed cycles")
    world.sim.slack.channels[CHANNEL].is_member = True
    recovered = notify.wait_for(lambda m: m.get("WATCHDOG") == "1", after=first_failing, timeout=10,
                                what="the watchdog after recovery")
    withheld = notify.messages[first_failing:notify.messages.index(recovered)]
    assert len(withheld) >= 3
    assert all("WATCHDOG" not in m and "FAILING slack" in m["STATUS"] for m in withheld)
    assert "FAILING" not in recovered["STATUS"]

    zsc.signal(signal.SIGTERM)
    assert zsc.wait(5) == 0
    assert notify.collect()[-1] == {"STOPPING": "1"}
    assert [m for m in notify.messages if "READY" in m] == [first]  # never "ready" twice without a reload


def test_a_refused_credential_at_start_is_one_line_and_exit_1(world, start_zsc, notify):
    world.sim.slack.revoke_token()
    zsc = start_zsc("run", env={"NOTIFY_SOCKET": notify.env})
    assert zsc.wait(START_TIMEOUT) == 1
    err = zsc.err_path.read_text()
    assert "zsc: Slack: auth.test: the token was refused (token_revoked)" in err
    assert "Traceback" not in err
    assert not any("READY" in m for m in notify.collect())  # systemd sees a failed start


# ---------------------------------------------------------------- unit files


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(UNITS / name)
    return parser


def test_the_service_is_a_hardened_notify_service():
    service = unit("zsc.service")["Service"]
    assert service["Type"] == "notify"
    assert service["ExecStart"].endswith(" run")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["Restart"] == "on-failure" and service["WatchdogSec"]
    assert service["DynamicUser"] == "yes" and service["StateDirectory"] == "zsc"
    text = (UNITS / "zsc.service").read_text()
    for name in ("ZSC_SLACK_TOKEN", "ZSC_ZENDESK_TOKEN", "ZSC_PAGERDUTY_TOKEN"):
        assert f"LoadCredential={name}:" in text
    for setting in ("ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
                    "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                    "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "CapabilityBoundingSet=\n",
                    "SystemCallArchitectures=native", "UMask=0077", "ProtectProc=invisible"):
        assert setting in text
    sync = unit("zsc-sync.service")["Service"]
    assert sync["Type"] == "oneshot" and sync["ExecStart"].endswith(" sync-once")
    assert unit("zsc-sync.timer")["Install"]["WantedBy"] == "timers.target"


def test_a_config_error_is_not_restarted(world, start_zsc):
    """Issue 9: a config error exits 2, which the unit does not restart every 30 s."""
    assert unit("zsc.service")["Service"]["RestartPreventExitStatus"] == "2"
    world.config_path.write_text(world.config_path.read_text().replace('channel = "CSUPPORT"', 'channel = "CNOPE"'))
    refused = start_zsc("run")
    assert refused.wait(20) == 2, refused.text()


def test_systemd_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; cannot verify the unit files")
    # verify insists that ExecStart's binary exists: point it at this checkout's zsc.
    here = f"{sys.executable} -m zsc"
    for name in ("zsc.service", "zsc-sync.service", "zsc-sync.timer"):
        (tmp_path / name).write_text((UNITS / name).read_text().replace("/usr/local/bin/zsc", here))
    names = ["zsc.service", "zsc-sync.service", "zsc-sync.timer"]
    done = subprocess.run([analyze, "verify", *names], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    # verify exits 0 on unknown keys and bad values, only saying so: any word about our files is a failure.
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if any(n in line for n in names)]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr
