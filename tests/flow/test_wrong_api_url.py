"""Issue 9: an api_url that points at the wrong place (the simulator's root without
/api/, another service) says to check api_url, in `zsc auth check` and in the one
line `zsc run` refuses to start with (exit 2: the config must change)."""

from __future__ import annotations

import pytest

from tests.flow.test_error_messages import one_line_error, set_config, stop_after, zsc  # noqa: F401


def _slack_at(world, url: str) -> None:
    set_config(world, f'api_url = "{world.sim.slack.url}/api/"', f'api_url = "{url}"')


@pytest.mark.parametrize("where", ["root without /api/ (unknown_method)", "another server (HTTP 404)"])
def test_a_wrong_slack_api_url_says_to_check_it(world, where, keep_signals):  # noqa: F811
    _slack_at(world, f"{world.sim.slack.url}/" if "root" in where else f"{world.sim.zendesk.url}/api/")
    check = zsc(world, "auth", "check")
    assert check.exit_code == 1
    slack_row = next(line for line in check.output.splitlines() if "Slack token" in line)
    assert "✗" in slack_row and ("unknown_method" in slack_row or "HTTP 404" in slack_row), slack_row
    assert "fix: check [slack] api_url (normally https://slack.com/api/)" in check.output
    timer = stop_after(10)
    try:
        run = zsc(world, "run")
    finally:
        timer.cancel()
    one_line_error(run, 2, "[slack] api_url")


def test_a_wrong_zendesk_api_url_says_to_check_it(world, keep_signals):
    set_config(world, f'api_url = "{world.sim.zendesk.url}"', f'api_url = "{world.sim.zendesk.url}/api/v2"')
    check = zsc(world, "auth", "check")
    assert check.exit_code == 1
    assert "fix: check [zendesk] api_url" in check.output, check.output
    assert "HTTP 404" in check.output
    timer = stop_after(10)
    try:
        run = zsc(world, "run")
    finally:
        timer.cancel()
    one_line_error(run, 2, "[zendesk] api_url")
