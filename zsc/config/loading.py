"""Loading: find the file, read the TOML, take each value from the source of highest
precedence, validate it and build the Config.

Secrets may come from, highest precedence first: an environment variable, a systemd
credential file, the config file, the token file written by `zsc auth`. Every problem
raises ConfigError with one line naming the place, what is wrong and how to fix it.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zsc.config.quoting import Raw, invalid_message, kind_of, toml_value
from zsc.config.sections import SECTION_CLASSES, Config
from zsc.config.settings import SECTION_BY_NAME, SECTIONS, Derived, Section, Setting
from zsc.config.tokens import load_token_file, token_file_path
from zsc.config.types import REFERENCE_DOC, Invalid, suggest
from zsc.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/zsc/config.toml")


def load_config(
    path: str | Path | None = None, env: Mapping[str, str] = os.environ, *, require_secrets: bool = True
) -> Config:
    """Read and validate the config file: `path`, else $ZSC_CONFIG, else /etc/zsc/config.toml.

    require_secrets=False skips the checks that credentials are present, for `zsc auth`,
    which runs precisely because a token is still missing.
    """
    source, origin = _config_path(path, env)
    return parse_config(_read_toml(source, origin), source=source, env=env, require_secrets=require_secrets)


def reload(config: Config) -> Config:
    """Re-read the file `config` came from, with the same environment (e.g. on SIGHUP)."""
    if config.source is None:
        raise ConfigError("cannot reload: this configuration was not read from a file; restart zsc instead")
    return load_config(config.source, config.env)


def parse_config(
    data: Mapping[str, Any],
    *,
    source: Path | None = None,
    env: Mapping[str, str] = os.environ,
    require_secrets: bool = True,
) -> Config:
    """Validate already-parsed TOML data; also handy for building a Config in tests."""
    label = str(source) if source else "<config>"
    _check_layout(data, label)
    state_dir = default_state_dir(env)
    src = Sources(label, env, state_dir, load_token_file(state_dir), require_secrets)
    sections: dict[str, Any] = {}
    for sec in SECTIONS:
        if sec.array:
            sections[sec.name] = tuple(
                _parse_table(sec, entry, f"{sec.header} #{i}", src) for i, entry in enumerate(data.get(sec.name, []), 1)
            )
        else:
            sections[sec.name] = _parse_table(sec, data.get(sec.name, {}), sec.header, src)
    config = Config(**sections, source=source, state_dir=state_dir, env=env)
    _check_channels(config, label)
    return config


def _check_channels(config: Config, label: str) -> None:
    """At least one channel, each listed once."""
    if not config.channel_list:
        raise ConfigError(f"{label}: [slack] channel: missing required key; add it to [slack], e.g. "
                          'channel = "C0123ABCD", or list the channels in [[channels]] entries')
    seen: set[str] = set()
    for i, entry in enumerate(config.channels, 1):
        if entry.id in seen:
            raise ConfigError(f"{label}: [[channels]] #{i} id: channel {entry.id} is listed twice; "
                              "remove one of the entries")
        seen.add(entry.id)


def default_state_dir(env: Mapping[str, str] = os.environ) -> Path:
    """$STATE_DIRECTORY (systemd's StateDirectory=, maybe colon-separated), else ~/.local/state/zsc."""
    first = env.get("STATE_DIRECTORY", "").split(":")[0]
    if first:
        return Path(first)
    # HOME from `env` first, so tests with an explicit env never touch the real home.
    return Path(env.get("HOME") or Path.home()) / ".local" / "state" / "zsc"


def _config_path(path: str | Path | None, env: Mapping[str, str]) -> tuple[Path, str]:
    """The file to read and, for messages, why that one. Absolute, because a daemon
    changes directory to / and reload() must still find it."""
    if path:
        return Path(path).absolute(), ""
    if env.get("ZSC_CONFIG"):
        return Path(env["ZSC_CONFIG"]).absolute(), " (named by ZSC_CONFIG)"
    return DEFAULT_CONFIG_PATH, " (the default location)"


def _read_toml(source: Path, origin: str) -> dict[str, Any]:
    try:
        text = source.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{source}: config file not found{origin}; create it from config.example.toml "
            f"(cp config.example.toml {shlex.quote(str(source))}), "
            "or name another file with --config PATH or ZSC_CONFIG"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, not a file{origin}; give the path of the TOML file") from None
    except PermissionError:
        quoted = shlex.quote(str(source))
        raise ConfigError(
            f"{source}: permission denied reading the config file; let zsc's user read it, "
            f"e.g. chgrp zsc {quoted} && chmod 640 {quoted}"
        ) from None
    except OSError as e:
        raise ConfigError(f"{source}: cannot read the config file: {e.strerror}{origin}; check the path") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{source}: not UTF-8 text (bad byte at offset {e.start}); save the file as UTF-8") from None
    if text.startswith("\ufeff"):
        # Some Windows editors add one; tomllib would only say "Invalid statement" at line 1.
        raise ConfigError(
            f"{source}: starts with a UTF-8 byte-order mark (BOM), which Python's TOML reader rejects; "
            f"save the file as UTF-8 without BOM, or run: sed -i '1s/^\\xEF\\xBB\\xBF//' {shlex.quote(str(source))}"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_toml_error(source, str(e))) from None


def _toml_error(source: Path, message: str) -> str:
    """tomllib says "Invalid value (at line 3, column 9)"; lead with the place instead."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message)
    where, what = (f"{source}: line {m[2]}, column {m[3]}", m[1]) if m else (str(source), message)
    fix = 'fix the syntax there (text values need double quotes, e.g. channel = "C0123")'
    return f"{where}: invalid TOML: {what}; {fix}"


def _check_layout(data: Mapping[str, Any], label: str) -> None:
    """Unknown sections and keys first: a typo there explains a "missing" key better."""
    for name, table in data.items():
        sec = SECTION_BY_NAME.get(name)
        if sec is None:
            raise ConfigError(_unknown_section(name, table, label))
        for i, entry in enumerate(_entries(sec, table, label), 1):
            at = f"{sec.header} #{i}" if sec.array else sec.header
            keys = [s.key for s in sec.settings]
            for key in entry:
                if key not in keys:
                    guess = suggest(key, keys)
                    fix = f"did you mean {guess}?" if guess else f"valid keys: {', '.join(keys)}"
                    raise ConfigError(f"{label}: {at} {key}: unknown key; {fix}")


def _entries(sec: Section, table: Any, label: str) -> list[Mapping[str, Any]]:
    if sec.array:
        if not (isinstance(table, list) and all(isinstance(t, dict) for t in table)):
            raise ConfigError(
                f"{label}: {sec.name}: expected a list of tables; write each entry under its own {sec.header}"
            )
        return table
    if not isinstance(table, dict):
        raise ConfigError(
            f"{label}: {sec.name}: expected a table, found {kind_of(table)}; write it as a {sec.header} section"
        )
    return [table]


def _unknown_section(name: str, value: Any, label: str) -> str:
    tables = value if isinstance(value, list) else [value]
    if not tables or not all(isinstance(t, dict) for t in tables):  # a bare key above the first [section]
        homes = [s.header for s in SECTIONS if any(x.key == name for x in s.settings)]
        if homes:
            return f"{label}: {name}: key outside any section; move it under {' or '.join(homes)}"
        return f"{label}: {name}: unknown key outside any section; settings go inside sections, see {REFERENCE_DOC}"
    names = [s.name for s in SECTIONS]
    guess = suggest(name, names)
    fix = f"did you mean [{guess}]?" if guess else "valid sections: " + ", ".join(s.header for s in SECTIONS)
    return f"{label}: [{name}]: unknown section; {fix}"

class Sources:
    """Everything a value can come from, in precedence order, plus what is parsed so far."""

    def __init__(
        self, label: str, env: Mapping[str, str], state_dir: Path, tokens: Mapping[str, str], require_secrets: bool
    ) -> None:
        self.label, self.env, self.tokens, self.require_secrets = label, env, tokens, require_secrets
        self.token_path = token_file_path(state_dir)
        self.creds_dir = env.get("CREDENTIALS_DIRECTORY") or None
        self.known: dict[str, Any] = {"state_dir": str(state_dir)}  # for Derived defaults

    def lookup(self, s: Setting, table: Mapping[str, Any], at: str) -> Raw | None:
        """The value of highest precedence: env > credentials > config file > token file."""
        if s.secret and self.env.get(s.env_var):  # empty counts as unset, as with systemd's Environment=
            return Raw(self.env[s.env_var], f"environment variable {s.env_var}")
        if s.secret and self.creds_dir:
            found = _read_credential(Path(self.creds_dir) / s.env_var)
            if found:
                return found
        if s.key in table:
            return Raw(table[s.key], f"{self.label}: {at} {s.key}")
        if s.secret and s.token_name in self.tokens:
            return Raw(self.tokens[s.token_name], f"{self.token_path}: {s.token_name}")
        return None

    def ways(self, s: Setting) -> str:
        """How to supply a missing secret, all four ways."""
        return (
            f"supply it one of four ways: environment variable {s.env_var}; a systemd credential named {s.env_var} "
            f'(LoadCredential=); {s.key} = "…" under [{s.section}] in {self.label}; '
            f'or "{s.token_name}" in {self.token_path} (written by `zsc auth`)'
        )


def _read_credential(path: Path) -> Raw | None:
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")  # files usually end in a newline
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read the credential: {reason}; check LoadCredential= in the unit") from None
    return Raw(value, str(path)) if value else None


def _parse_table(sec: Section, table: Mapping[str, Any], at: str, src: Sources) -> Any:
    values = {s.key: _parse_setting(s, table, at, src) for s in sec.settings}
    if sec.check:
        try:
            sec.check(values, src)
        except Invalid as e:
            key = f" {e.key}" if e.key else ""
            raise ConfigError(f"{src.label}: {at}{key}: {e.problem}; {e.fix}") from None
    return SECTION_CLASSES[sec.name](**values)


def _parse_setting(s: Setting, table: Mapping[str, Any], at: str, src: Sources) -> Any:
    raw = src.lookup(s, table, at)
    # An empty derived setting means "work it out", like an absent one.
    if raw is None or (isinstance(s.default, Derived) and raw.value == ""):
        if s.required and (src.require_secrets or not s.secret):
            raise ConfigError(_missing(s, at, src))
        default = s.default.resolve(src.known) if isinstance(s.default, Derived) else s.default
        raw = Raw("" if default is None else default, f"{src.label}: {at} {s.key} (default)")
    try:
        value = s.type.parse(raw.value)
    except Invalid as e:
        raise ConfigError(invalid_message(raw, e, s.secret)) from None
    src.known[f"{s.section}.{s.key}"] = value
    return value


def _missing(s: Setting, at: str, src: Sources) -> str:
    if s.secret:
        return f"{src.label}: {at} {s.key}: not set; {src.ways(s)}"
    where = f"each {at.split(' #')[0]} entry" if SECTION_BY_NAME[s.section].array else f"[{s.section}]"
    return f"{src.label}: {at} {s.key}: missing required key; add it to {where}, e.g. {s.key} = {toml_value(s.example)}"

