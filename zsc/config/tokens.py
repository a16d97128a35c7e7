"""The token file written by `zsc auth` ({state_dir}/tokens.json), and masking secrets
for display. The file is refused when other users could read it."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from zsc.config.quoting import Raw, invalid_message, kind_of
from zsc.config.settings import SECRETS
from zsc.config.types import SECRET, Invalid, suggest
from zsc.errors import ConfigError

TOKEN_FILE_NAME = "tokens.json"


def token_file_path(state_dir: Path) -> Path:
    return Path(state_dir) / TOKEN_FILE_NAME


def load_token_file(state_dir: Path) -> dict[str, str]:
    """Tokens saved by `zsc auth`, {"slack_token": "…", …}; {} if there is no file.

    Refused if other users could read it: those tokens act as the bot.
    """
    path = token_file_path(state_dir)
    try:
        with open(path, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode & 0o777  # fstat: the file actually read
            if mode & 0o077:
                raise ConfigError(
                    f"{path}: other users can access this token file (mode {mode:04o}); "
                    f"run: chmod 600 {shlex.quote(str(path))}"
                )
            raw = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(
            f"{path}: cannot read the token file: {e.strerror}; check its owner, or run `zsc auth` again"
        ) from None
    return _parse_tokens(path, raw)


def _parse_tokens(path: Path, raw: bytes) -> dict[str, str]:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = f" (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) else ""
        raise ConfigError(f"{path}: not valid JSON{where}; delete it and run `zsc auth` again") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object, found {kind_of(data)}; delete it and run `zsc auth` again")
    for name, value in data.items():
        _check_token_name(path, name)
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {name}: expected a string, found {kind_of(value)}; run `zsc auth` again")
    return data


def _check_token_name(path: Path, name: str) -> None:
    if name not in SECRETS:
        guess = suggest(name, SECRETS)
        fix = f"did you mean {guess}?" if guess else f"valid names: {', '.join(SECRETS)}"
        raise ConfigError(f"{path}: {name}: unknown token name; {fix}")


def save_token(state_dir: Path, name: str, value: str) -> Path:
    """Store one secret in the token file, for `zsc auth`. Atomic, so a crash leaves the
    old file or the new one; the directory is created 0700 and the file is 0600."""
    state_dir = Path(state_dir)
    path = token_file_path(state_dir)
    _check_token_name(path, name)
    try:
        SECRET.parse(value)
    except Invalid as e:
        raise ConfigError(invalid_message(Raw(value, f"{path}: {name}"), e, secret=True)) from None
    if not value:
        raise ConfigError(f"{path}: {name}: refusing to save an empty token; check what the OAuth exchange returned")
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # No mode check on the old file: a 0600 file replaces it.
        tokens = _parse_tokens(path, path.read_bytes()) if path.exists() else {}
        tokens[name] = value
        _write_private(path, json.dumps(tokens, indent=2, sort_keys=True) + "\n")
    except OSError as e:
        raise ConfigError(
            f"{path}: cannot save the token: {e.strerror}; check who owns {state_dir}, or set STATE_DIRECTORY"
        ) from None
    return path


def _write_private(path: Path, text: str) -> None:
    import tempfile  # only when a token is saved: `zsc status` need not load it

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def mask(secret: str) -> str:
    """Enough of a secret to tell which one is in use, not enough to use it: "xoxb-…a1b2".

    Keeps the prefix up to the first dash (Slack's xoxb-, xoxp-…) and the last four
    characters, and only when at least eight characters stay hidden; else "****".
    An empty secret stays "" so "not set" remains visible.
    """
    if not secret:
        return ""
    dash = secret.find("-")
    prefix = secret[: dash + 1] if 0 < dash <= 8 else ""
    if len(secret) - len(prefix) < 12:
        return "****"
    return f"{prefix}…{secret[-4:]}"
