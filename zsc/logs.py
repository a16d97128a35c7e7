"""Logging: loguru to stderr, human on a TTY or JSON lines, secrets redacted at the sink.

Redaction happens on the final text of every line (message, fields and exception
text alike), so a token that a client library puts in an error still never leaves
the process. Stdlib logging (the client libraries), warnings and uncaught exceptions
are routed through the same sinks for the same reason.

Style "auto": human on a terminal and in the systemd journal (where each line starts
with its sd-daemon(3) priority "<N>" and the journal adds the time), JSON lines
everywhere else (pipes and files, i.e. log shippers).

Message and ticket text is customer data: log it through `body(text)`, which gives
only its size unless `[logging] message_bodies = true` *and* the level is trace."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from typing import Any, Iterable, TextIO

from loguru import logger

from zsc.errors import UsageError, os_reason, path_fix
from zsc.redaction import REDACTED, SECRET_PATTERNS, Redactor, redact  # noqa: F401  (re-exported)

# systemd journal priorities by loguru level (sd-daemon(3) "<N>" prefixes).
JOURNAL_PRIORITY = {"TRACE": 7, "DEBUG": 7, "INFO": 6, "SUCCESS": 5, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}


_show_bodies = False


def body(text: str | None) -> str:
    """Customer text for a log line: the text itself only with
    `[logging] message_bodies = true` at level trace, else just its size."""
    text = text or ""
    return text if _show_bodies else f"[{len(text)} chars]"


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
        if record["extra"].get("_traceback"):
            entry["traceback"] = _traceback(exc)
    return json.dumps(entry, default=str, ensure_ascii=False)


def _human_line(record: dict[str, Any], color: bool, stamp: bool) -> str:
    fields = " ".join(f"{k}={v}" for k, v in record["extra"].items() if not k.startswith("_"))
    level = record["level"].name
    text = f"{level:<7} {record['message']}" + (f"  [{fields}]" if fields else "")
    if stamp:
        text = record["time"].strftime("%Y-%m-%d %H:%M:%S ") + text
    if record["exception"] is not None and record["extra"].get("_traceback"):
        text += "\n" + _traceback(record["exception"])
    if color and level in ("ERROR", "CRITICAL", "WARNING"):
        text = ("\x1b[31m" if level != "WARNING" else "\x1b[33m") + text + "\x1b[0m"
    return text


def _traceback(exc) -> str:
    import traceback

    return "".join(traceback.format_exception(exc.type, exc.value, exc.traceback)).rstrip()


def is_journal(stream: TextIO) -> bool:
    """Is `stream` connected to the journal? systemd sets JOURNAL_STREAM to the
    "device:inode" of the stream it gave us; a redirected stderr no longer matches."""
    expected = os.environ.get("JOURNAL_STREAM")
    if not expected:
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError):
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def make_sink(stream: TextIO, style: str):
    journal = is_journal(stream)
    if style == "auto":
        style = "human" if journal or _isatty(stream) else "json"
    color = style == "human" and _isatty(stream)

    def sink(message) -> None:
        record = message.record
        line = _json_line(record) if style == "json" else _human_line(record, color, stamp=not journal)
        if journal:
            # journald takes one entry per line: continuation lines get the priority too.
            prefix = f"<{JOURNAL_PRIORITY.get(record['level'].name, 6)}>"
            line = "\n".join(prefix + part for part in line.split("\n"))
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


def _uncaught(exc_type, exc, tb) -> None:
    """A crash traceback can quote a token from a library's error: redact it too."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logger.opt(exception=(exc_type, exc, tb)).bind(_traceback=True).critical("unhandled error")


def _uncaught_in_thread(args) -> None:
    if args.exc_type is not SystemExit:  # as the default hook: a thread may exit quietly
        _uncaught(args.exc_type, args.exc_value, args.exc_traceback)


_log_files: list[TextIO] = []


def file_descriptors() -> list[int]:
    """The log files' descriptors, for --detach to keep open across its fork."""
    return [f.fileno() for f in _log_files]


def is_result_line(record: dict[str, Any]) -> bool:
    """A line recording an item's outcome (CycleResult.did/failed), which a one-shot
    command such as `sync-once` prints itself."""
    return bool(record["extra"].get("_result"))


def setup(level: str = "info", style: str = "auto", stream: TextIO | None = None,
          secrets: Iterable[str | None] = (), log_file: str | None = None, message_bodies: bool = False,
          hide_results: bool = False, basic: Iterable[tuple[str, str | None]] = ()) -> None:
    """Configure logging for the process; safe to call again (on reload, which also
    reopens `log_file`: send SIGHUP after rotating it). `log_file` is --log-file: if it
    cannot be opened, UsageError, and the logging set up before stays as it was.
    `hide_results`: leave out the lines of `is_result_line` (the command prints them).
    `basic`: (user, secret) pairs sent as HTTP Basic (Redactor.add_basic)."""
    global _show_bodies

    handle = None
    if log_file:
        try:
            handle = open(log_file, "a", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--log-file {log_file}: cannot open it: {os_reason(exc, log_file)}; "
                             f"{path_fix(exc)}") from None
    stream = stream or sys.stderr
    redact.add(secrets)
    for user, secret in basic:
        redact.add_basic(user, secret)
    logger.remove()
    while _log_files:
        _log_files.pop().close()
    shown = (lambda record: not is_result_line(record)) if hide_results else None
    logger.add(make_sink(stream, style), level=level.upper(), filter=shown, backtrace=False, diagnose=False)
    if handle is not None:
        _log_files.append(handle)
        logger.add(make_sink(handle, style), level=level.upper(), filter=shown, backtrace=False, diagnose=False)
    logging.basicConfig(handlers=[_Intercept()], level=logging.WARNING, force=True)
    # warnings.warn() from libraries: through the sinks too. Off and on again, because
    # captureWarnings(True) does nothing if it ran before, even if the hook was replaced since.
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    _show_bodies = message_bodies and level.lower() == "trace"
    verbose = level.lower() in ("trace", "debug")
    # The adapters turn every failure into one zsc error; the client libraries' own lines
    # (slack_sdk logs an ERROR per failed attempt) would only repeat it, so they are
    # silenced below CRITICAL unless debugging. urllib3 and requests log request lines;
    # slack_sdk, zenpy and pdpyras log whole request and response bodies at debug, which
    # are customer data: those need message bodies on (level trace), else WARNING at most.
    for name, debug_ok in (("urllib3", verbose), ("requests", verbose), ("slack_sdk", _show_bodies),
                           ("zenpy", _show_bodies), ("pdpyras", _show_bodies)):
        quiet = logging.WARNING if verbose else logging.CRITICAL
        logging.getLogger(name).setLevel(logging.DEBUG if debug_ok else quiet)
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread
    if _show_bodies:
        logger.warning("message bodies are logged ([logging] message_bodies = true at level trace): "
                       "these logs now hold customer data")
    elif message_bodies:
        logger.info("[logging] message_bodies = true has no effect below level trace (--log-level trace)")
