"""Configuration: one table of `Setting`s (settings.py) drives validation, the checks
on the frozen dataclasses (sections.py), config.example.toml and
docs/config-reference.md (docs.py). To add a setting, add a row to SETTINGS and a
field to its class, then regenerate:

    zsc config example > config.example.toml
    zsc config reference > docs/config-reference.md
    zsc config readme README.md

Where values come from: the TOML file (`--config`, else $ZSC_CONFIG, else
/etc/zsc/config.toml). Secrets may instead come from, highest precedence first: an
environment variable, a systemd credential file, the config file, the token file
written by `zsc auth`.

Every problem raises ConfigError with one line naming the place (file and key, or the
variable), what is wrong and how to fix it. Secret values never appear in messages
or in reprs.

Modules: types (value types), settings (the table), sections (the dataclasses),
loading, tokens (token file, mask), docs (generated files). This package re-exports
what the rest of zsc imports, so `from zsc.config import load_config` keeps working.
"""

from zsc.config.loading import DEFAULT_CONFIG_PATH, default_state_dir, load_config, parse_config, reload
from zsc.config.sections import (
    ChannelConfig,
    ChannelEntry,
    StatusReactionsConfig,
    CommandsConfig,
    Config,
    DaemonConfig,
    DatabaseConfig,
    EmailConfig,
    HoursConfig,
    Keyword,
    LoggingConfig,
    MetricsConfig,
    NudgeConfig,
    PagerDutyConfig,
    ReportConfig,
    SlackConfig,
    SyncConfig,
    ZendeskConfig,
)
from zsc.config.settings import SECTIONS, SETTINGS, Derived, Section, Setting
from zsc.config.tokens import TOKEN_FILE_NAME, load_token_file, mask, save_token, token_file_path
from zsc.config.types import (
    ADDRESS,
    BOT_ID,
    CHANNEL,
    DOMAIN,
    REFERENCE_DOC,
    SECRET,
    STRING,
    TEXT_REQUIRED,
    Boolean,
    Choice,
    DatabaseUrl,
    Days,
    Integer,
    ListOf,
    Number,
    Text,
    Time,
    Timezone,
    Url,
    ValueType,
)

__all__ = [
    "ADDRESS", "BOT_ID", "CHANNEL", "DEFAULT_CONFIG_PATH", "DOMAIN", "README_END", "README_START", "REFERENCE_DOC",
    "SECRET", "SECTIONS", "SETTINGS", "STRING", "TEXT_REQUIRED", "TOKEN_FILE_NAME",
    "Boolean", "ChannelConfig", "ChannelEntry", "Choice", "StatusReactionsConfig", "CommandsConfig", "Config", "DaemonConfig", "DatabaseConfig", "DatabaseUrl", "Days",
    "Derived", "EmailConfig", "HoursConfig", "Integer", "Keyword", "ListOf", "LoggingConfig", "MetricsConfig", "NudgeConfig", "Number",
    "PagerDutyConfig", "ReportConfig", "Section", "Setting", "SlackConfig", "SyncConfig", "Text", "Time",
    "Timezone", "Url", "ValueType", "ZendeskConfig",
    "default_state_dir", "load_config", "load_token_file", "mask", "parse_config", "reload", "render_example",
    "render_readme", "render_reference_markdown", "save_token", "to_toml", "token_file_path",
]  # fmt: skip


_DOCS = ("README_END", "README_START", "render_example", "render_readme", "render_reference_markdown", "to_toml")


def __getattr__(name: str):
    """The generated documents are loaded on first use: only `zsc config` and tests need them."""
    if name in _DOCS:
        from zsc.config import docs

        return getattr(docs, name)
    raise AttributeError(f"module 'zsc.config' has no attribute {name!r}")
