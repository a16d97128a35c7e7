"""sd_notify: the datagrams systemd would receive, on a path or an abstract socket."""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

from zsc.logs import redact
from zsc.notify import STATUS_MAX, Notifier


@pytest.fixture(params=["path", "abstract"])
def listener(request, tmp_path_factory):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "abstract":
        name = f"zsc-test-{uuid.uuid4().hex[:12]}"
        sock.bind("\0" + name)
        env = "@" + name
    else:
        env = str(tmp_path_factory.mktemp("n") / "s")
        if len(env) > 100:
            pytest.skip("temporary path too long for a unix socket")
        sock.bind(env)
    sock.settimeout(2)
    yield sock, env
    sock.close()


def received(sock) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_each_message_is_one_datagram_of_assignments(listener):
    sock, address = listener
    n = Notifier({"NOTIFY_SOCKET": address})
    n.ready("starting")
    assert received(sock) == ["READY=1", "STATUS=starting"]
    n.status("polled slack 2s ago")
    assert received(sock) == ["STATUS=polled slack 2s ago"]
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    n.reloading()
    reloading, stamp = received(sock)
    assert reloading == "RELOADING=1"
    assert before <= int(stamp.removeprefix("MONOTONIC_USEC=")) <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    n.stopping()
    assert received(sock) == ["STOPPING=1"]
    n.close()


def test_the_watchdog_is_pinged_only_after_a_good_cycle_and_only_when_asked_for(listener):
    sock, address = listener
    n = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())})
    n.cycle("all good", ok=True)
    assert received(sock) == ["STATUS=all good", "WATCHDOG=1"]
    n.cycle("FAILING slack", ok=False)
    assert received(sock) == ["STATUS=FAILING slack"]
    # A watchdog meant for another process (WATCHDOG_PID) or none at all: no pings.
    for env in ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, {}):
        Notifier({"NOTIFY_SOCKET": address, **env}).cycle("fine", ok=True)
        assert received(sock) == ["STATUS=fine"]


def test_the_status_is_one_short_line_without_secrets(listener):
    sock, address = listener
    redact.add(["zd-status-secret-9876"])
    Notifier({"NOTIFY_SOCKET": address}).status("last error:\nHTTP 401 for zd-status-secret-9876 " + "x" * 500)
    (line,) = received(sock)
    assert line.startswith("STATUS=last error: HTTP 401 for [redacted] xxx")
    assert len(line) == len("STATUS=") + STATUS_MAX and line.endswith("…")


def test_without_systemd_nothing_is_sent_and_nothing_fails(tmp_path):
    assert not Notifier({}).send("READY=1")
    Notifier({}).cycle("x", ok=True)
    # A socket that went away must not stop the bridge either.
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert gone.enabled and not gone.send("READY=1")
