"""sd_notify(3) in a few lines of stdlib: tell systemd (Type=notify) when zsc is ready,
what it is doing, that it is alive, and that it is reloading or stopping.

The protocol is one datagram of newline-separated VAR=value lines to the unix socket
named by $NOTIFY_SOCKET ("@name" is an abstract socket). Without that variable every
call is a no-op, so the daemon calls the notifier unconditionally. A failed send is
logged and ignored: the bridge must never stop because systemd did not listen."""

from __future__ import annotations

import os
import socket
import time
from typing import Mapping

from loguru import logger

STATUS_MAX = 200  # `systemctl status` shows one line; keep it readable


class Notifier:
    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        raw = env.get("NOTIFY_SOCKET", "")
        # Abstract sockets are spelled "@name" in the variable and "\0name" on the wire.
        self.address = "\0" + raw[1:] if raw.startswith("@") else raw
        # The watchdog is for us only if WATCHDOG_PID (when set) names this process.
        pid = env.get("WATCHDOG_PID")
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_usec = int(usec) if usec.isdigit() and (not pid or pid == str(os.getpid())) else 0
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, *assignments: str) -> bool:
        if not self.address or not assignments:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(assignments).encode("utf-8", "replace"), self.address)
            return True
        except OSError as exc:
            logger.debug("sd_notify to {} failed: {}", os.environ.get("NOTIFY_SOCKET"), exc)
            return False

    # ---- the messages zsc sends ----
    def ready(self, status: str | None = None) -> None:
        self.send("READY=1", *([_status(status)] if status else []))

    def reloading(self) -> None:
        # systemd >= 253 wants the time of the request with RELOADING=1 (Type=notify-reload);
        # older ones ignore the extra field.
        self.send("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def status(self, text: str) -> None:
        self.send(_status(text))

    def cycle(self, status: str, ok: bool) -> None:
        """After each polling cycle: the status line, and the watchdog ping only when the
        cycle succeeded, so a hung or failing poll lets WatchdogSec= restart zsc."""
        self.send(_status(status), *(["WATCHDOG=1"] if ok and self.watchdog_usec else []))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _status(text: str) -> str:
    from zsc.redaction import redact

    line = redact(" ".join(text.split()))  # one line, and never a secret
    return "STATUS=" + (line if len(line) <= STATUS_MAX else line[: STATUS_MAX - 1] + "…")
