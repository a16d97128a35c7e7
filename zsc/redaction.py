"""Redaction of secrets from any text zsc shows or keeps: log lines (at the sink),
errors printed by the command line, `zsc status` and the store's error column.

Known secret values are replaced wherever they appear, also percent-encoded and
inside base64 (HTTP Basic); credentials zsc was never told of are caught by their
shape. Kept free of loguru so that commands which only read the store (`zsc status`)
start fast."""

from __future__ import annotations

import base64
import binascii
import functools
import re
import threading
from typing import Callable, Iterable
from urllib.parse import quote, quote_plus, unquote

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
