"""Logging: loguru to stderr, human on a TTY or JSON lines, secrets redacted at the sink.

Redaction happens on the final text of every line (message, fields and exception
text alike), so a token that a client library puts in an error still never leaves
the process."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from typing import Any, Iterable, TextIO

from loguru import logger

# Shapes of credentials we may not know by value (e.g. a token in a library's error).
SECRET_PATTERNS = [
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(token[=:]\s*)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:client_secret|code|access_token|password)[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9._~+/=-]{6,}"),
]
REDACTED = "[redacted]"
# systemd journal priorities by loguru level (sd-daemon(3) "<N>" prefixes).
JOURNAL_PRIORITY = {"TRACE": 7, "DEBUG": 7, "INFO": 6, "SUCCESS": 5, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str | None]) -> None:
        with self._lock:
            self._secrets.update(v for v in values if v and len(v) >= 4)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern in SECRET_PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
        return text


redact = Redactor()


def _json_line(record: dict[str, Any]) -> str:
    entry: dict[str, Any] = {
        "time": record["time"].isoformat(),
        "level": record["level"].name.lower(),
        "message": record["message"],
    }
    entry.update({k: v for k, v in record["extra"].items() if not k.startswith("_")})
    if record["exception"] is not None:
        exc = record["exception"]
        entry["error"] = f"{exc.type.__name__}: {exc.value}" if exc.type else ""
    return json.dumps(entry, default=str, ensure_ascii=False)


def _human_line(record: dict[str, Any], color: bool) -> str:
    fields = " ".join(f"{k}={v}" for k, v in record["extra"].items() if not k.startswith("_"))
    time = record["time"].strftime("%Y-%m-%d %H:%M:%S")
    level = record["level"].name
    text = f"{time} {level:<7} {record['message']}" + (f"  [{fields}]" if fields else "")
    if record["exception"] is not None and record["extra"].get("_traceback"):
        import traceback

        exc = record["exception"]
        text += "\n" + "".join(traceback.format_exception(exc.type, exc.value, exc.traceback)).rstrip()
    if color and level in ("ERROR", "CRITICAL", "WARNING"):
        text = ("\x1b[31m" if level != "WARNING" else "\x1b[33m") + text + "\x1b[0m"
    return text


def make_sink(stream: TextIO, style: str, journal: bool):
    color = style == "human" and getattr(stream, "isatty", lambda: False)()

    def sink(message) -> None:
        record = message.record
        line = _json_line(record) if style == "json" else _human_line(record, color)
        if journal:
            line = f"<{JOURNAL_PRIORITY.get(record['level'].name, 6)}>{line}"
        stream.write(redact(line) + "\n")
        stream.flush()

    return sink


class _Intercept(logging.Handler):
    """Send the client libraries' stdlib logging through our (redacting) sinks."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6).log(level, "{}: {}", record.name, record.getMessage())


def setup(level: str = "info", style: str = "auto", stream: TextIO | None = None,
          secrets: Iterable[str | None] = (), log_file: str | None = None) -> None:
    """Configure logging for the process; safe to call again (on reload)."""
    import os

    stream = stream or sys.stderr
    if style == "auto":
        style = "human"
    journal = bool(os.environ.get("JOURNAL_STREAM")) and style == "human" and log_file is None
    redact.add(secrets)
    logger.remove()
    logger.add(make_sink(stream, style, journal), level=level.upper(), backtrace=False, diagnose=False)
    if log_file:
        logger.add(make_sink(open(log_file, "a", encoding="utf-8"), style, False), level=level.upper(),
                   backtrace=False, diagnose=False)
    logging.basicConfig(handlers=[_Intercept()], level=logging.WARNING, force=True)
    for noisy in ("urllib3", "slack_sdk", "zenpy", "pdpyras", "requests"):
        logging.getLogger(noisy).setLevel(logging.WARNING if level.lower() not in ("trace", "debug") else logging.DEBUG)
