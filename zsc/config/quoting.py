"""How values appear in messages and generated files: as TOML source, or, for
secrets, only by their TOML type."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

from zsc.config.types import UNSET, Invalid


@dataclasses.dataclass(frozen=True)
class Raw:
    value: Any
    where: str  # names the place in messages: "FILE: [slack] token", "environment variable ZSC_SLACK_TOKEN"...


def invalid_message(raw: Raw, e: Invalid, secret: bool) -> str:
    """Quote the offending value, unless it is secret: then only its TOML type."""
    shown = raw.value if e.value is UNSET else e.value
    if not secret:
        found = f", found {_show(shown)}"
    elif e.wrong_type:
        found = f", found {kind_of(shown)}"
    else:
        found = ""
    return f"{raw.where}: {e.problem}{found}; {e.fix}"


def _show(value: Any) -> str:
    text = toml_value(value)
    return text if len(text) <= 60 else text[:59] + "…"


def kind_of(value: Any) -> str:
    kinds = [
        (bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"), (list, "an array"),
        (dict, "a table"), (datetime.datetime, "a date-time"), (datetime.date, "a date"), (datetime.time, "a time"),
    ]  # fmt: skip
    return next((name for t, name in kinds if isinstance(value, t)), type(value).__name__)


def toml_value(value: Any) -> str:
    """A value as TOML source (for the example file and for quoting values in messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return repr(value)
