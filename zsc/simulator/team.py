"""The config sections that point zsc at a running simulator; shared by `make demo`,
the standalone simulator and the flow tests."""

from __future__ import annotations

from typing import Any


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
