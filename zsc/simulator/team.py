"""The config sections that point zsc at a running simulator; shared by `make demo`,
the standalone simulator and the flow tests."""

from __future__ import annotations

import json
import math
from typing import Any, Mapping


def api_sections(sim: Any, *, channel: str, zendesk_email: str, zendesk_token: str, agent_user_id: int,
                 group_id: int) -> dict[str, dict[str, Any]]:
    return {
        "slack": {"token": sim.slack.bot_token, "channel": channel,
                  "workspace_uri": sim.slack.workspace_url, "api_url": f"{sim.slack.url}/api/"},
        "zendesk": {"subdomain": "sim", "email": zendesk_email, "token": zendesk_token, "api_url": sim.zendesk.url,
                    "agent_user_id": agent_user_id, "group_id": group_id},
    }


def pagerduty_section(sim: Any, token: str, policy_id: str) -> dict[str, Any]:
    return {"token": token, "escalation_policy_id": policy_id, "api_url": sim.pagerduty.url}


def to_toml(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """A config file from flat {section: {key: value}}: strings, ints, floats, bools and
    lists of strings are all these sections hold. Kept here so the simulator needs
    nothing of zsc."""
    blocks = []
    for name, values in sections.items():
        lines = [f"[{name}]"] + [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML has no {value!r} here")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a flat TOML value")
