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

import base64
import binascii
import functools
import json
import logging
import os
import re
import sys
import threading
from typing import Any, Callable, Iterable, TextIO
from urllib.parse import quote, quote_plus, unquote

from loguru import logger

from zsc.errors import UsageError, os_reason, path_fix

# Shapes of credentials we may not know by value (e.g. a token in a library's error):
# (words, pattern, check) in _SHAPES below. Group 1 is kept, it names what was redacted; group 2 is the value,
# redacted when `check` (if any) says it is a credential and not one of zsc's own words.
_NAMES = r"(?:client_secret|access_token|refresh_token|password|token|code)"
_VALUE = r"[A-Za-z0-9._~+/=-]"
# a base64 character and its padding, also percent-encoded (in a URL)
_B64 = r"(?:[A-Za-z0-9+/]|%2[BbFf])"
_PAD = r"(?:(?:%3[Dd]){1,2}|={0,2})"


def _tokenish(value: str) -> bool:
    """A credential rather than a word: a digit, a base64/URL symbol, a capital
    inside, or longer than any word ("Bearer of bad news", "token: expected")."""
    return (len(value) >= 24 or any(c.isdigit() or c in "+/=~" for c in value)
            or value[1:] != value[1:].lower())


def _basic_credential(value: str) -> bool:
    """base64 of "user:secret", as HTTP Basic sends it ("Basic Information" is not)."""
    value = unquote(value)  # in a URL: "Basic%20dXNlcjpzZWNyZXQ%3D"
    if len(value) % 4:
        return False
    try:
        return b":" in base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False


def _redact_value(match: re.Match, check: Callable[[str], bool] | None) -> str:
    if check is None or check(match.group(2)):
        return match.group(1) + REDACTED
    return match.group(0)


_NAME_WORDS = ("secret", "token", "password", "code")
# (words one of which a line must hold for the pattern to be tried: most lines hold
# none, which keeps redaction cheap; pattern; check)
_SHAPES: list[tuple[tuple[str, ...], re.Pattern, Callable[[str], bool] | None]] = [
    (("xox",), re.compile(r"()(xox[abposre]-[A-Za-z0-9-]{6,})"), None),  # Slack tokens
    (("bearer",), re.compile(r"(?i)(\bbearer(?:\s+|%20|\+))([A-Za-z0-9._~+/=-]{8,})"), _tokenish),
    (("basic",), re.compile(rf"(?i)(\bbasic(?:\s+|%20|\+))({_B64}{{4,}}{_PAD})(?![A-Za-z0-9+/=%])"),
     _basic_credential),
    # "name": "VALUE" (JSON, a repr), name="VALUE": quoted, so a value whatever it looks like.
    (_NAME_WORDS, re.compile(rf"(?i)({_NAMES}(?:\s*=\s*|[\"']?\s*:\s*)[\"'])({_VALUE}{{6,}})"), None),
    # name=VALUE (a query string, `Token token=…`), name: VALUE (a header): only when VALUE
    # looks like a credential, so zsc's own words stay: "[slack] token: expected a secret".
    (_NAME_WORDS, re.compile(rf"(?i)({_NAMES}\s*=\s*)({_VALUE}{{6,}})"), _tokenish),
    (_NAME_WORDS, re.compile(rf"(?i)({_NAMES}:\s*)({_VALUE}{{8,}})"), _tokenish),
    (("://",), re.compile(r"(://[^:/@\s]+:)([^@\s/]+)(?=@)"), None),  # the password of a URL (postgresql://u:PASS@host)
]
SECRET_PATTERNS = [pattern for _, pattern, _ in _SHAPES]
# the replacement function of each shape, made once (this runs on every log line)
_SUBS = [(words, pattern.sub, functools.partial(_redact_value, check=check)) for words, pattern, check in _SHAPES]
REDACTED = "[redacted]"
# systemd journal priorities by loguru level (sd-daemon(3) "<N>" prefixes).
JOURNAL_PRIORITY = {"TRACE": 7, "DEBUG": 7, "INFO": 6, "SUCCESS": 5, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}


def _percent_forms(value: str) -> set[str]:
    """How a value reads in a URL or a form body."""
    return {value, quote(value, safe=""), quote_plus(value, safe=""), quote(value)}


def _base64_forms(raw: bytes) -> set[str]:
    """How HTTP Basic (or a URL) carries `raw`: base64, padded or not, standard or
    URL-safe, and percent-encoded."""
    forms = set()
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms |= _percent_forms(encoded) | {encoded.rstrip("=")}
    return forms


# A run that may be base64 (standard or URL-safe), for finding known secrets inside it.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_%-]{16,}=?=?")  # one character class: fast on every line


class Redactor:
    """Redacts known secret values (and their encoded forms) and the shapes of
    credentials it does not know, from one line of text."""

    def __init__(self) -> None:
        self._values: set[bytes] = set()  # the secrets themselves, to look for in decoded base64
        self._secrets: set[str] = set()  # ... and every form in which they are written
        self._longest_first: tuple[str, ...] = ()  # a secret containing another goes first
        self._lock = threading.Lock()

    def add(self, values: Iterable[str | None]) -> None:
        """Known secret values: redacted as they are and percent-encoded, and wherever
        they are inside base64 (an HTTP Basic header made from them)."""
        self._update({v for v in values if v and len(v) >= 4}, set())

    def add_basic(self, user: str, secret: str | None) -> None:
        """A secret sent as HTTP Basic base64("{user}:{secret}"): Zendesk API tokens
        (user "{email}/token"), OAuth client credentials (user the client id)."""
        if secret and len(secret) >= 4:
            self._update({secret}, _base64_forms(f"{user}:{secret}".encode()))

    def _update(self, values: set[str], extra_forms: set[str]) -> None:
        with self._lock:
            for value in values:
                self._values.add(value.encode())
                self._secrets |= _percent_forms(value)
            self._secrets |= extra_forms
            self._longest_first = tuple(sorted(self._secrets, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if self._values:
            text = _BASE64_RUN.sub(self._hidden_in_base64, text)
        lowered = text.lower()
        for words, sub, replace in _SUBS:
            if any(word in lowered for word in words):
                text = sub(replace, text)
        return text

    def _hidden_in_base64(self, match: re.Match) -> str:
        """The run itself, or [redacted] when it decodes to bytes holding a known secret
        (base64 of "email/token:TOKEN" whose email we were never told)."""
        run = unquote(match.group(0)).rstrip("=").replace("-", "+").replace("_", "/")
        for start in range(4):  # the run may begin mid-quantum ("auth=Ym90…" read as one run)
            part = run[start:]
            part = part[: len(part) - len(part) % 4 if len(part) % 4 == 1 else len(part)]
            try:
                raw = base64.b64decode(part + "=" * (-len(part) % 4))
            except (binascii.Error, ValueError):
                continue
            if any(value in raw for value in self._values):
                return REDACTED
        return match.group(0)


redact = Redactor()

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
