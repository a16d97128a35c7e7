"""zsc.auth without a network: reading what the operator pastes back, and the URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from zsc.adapters import oauth
from zsc.auth import code_from
from zsc.errors import UserError

STATE = "s3cr3t-state"


def test_a_bare_code_is_taken_as_it_is():
    assert code_from("  1234.abcd\n", STATE, "slack") == "1234.abcd"


def test_the_redirected_address_gives_its_code_when_the_state_is_ours():
    pasted = f"https://localhost/zsc?code=XYZ&state={STATE}"
    assert code_from(pasted, STATE, "slack") == "XYZ"


def test_just_the_query_string_works_too():
    assert code_from(f"code=XYZ&state={STATE}", STATE, "zendesk") == "XYZ"


@pytest.mark.parametrize("pasted", [
    "https://localhost/zsc?code=XYZ&state=someone-elses",
    "https://localhost/zsc?code=XYZ",  # a provider always sends our state back
])
def test_an_address_without_this_runs_state_is_refused(pasted):
    with pytest.raises(UserError, match="state") as err:
        code_from(pasted, STATE, "slack")
    assert "XYZ" not in str(err.value)


def test_a_refusal_in_the_browser_is_reported():
    with pytest.raises(UserError, match="did not authorize zsc .access_denied."):
        code_from(f"https://localhost/zsc?error=access_denied&state={STATE}", STATE, "zendesk")


@pytest.mark.parametrize("pasted, problem", [
    ("", "nothing pasted"),
    ("two words", "does not look like a code"),
    (f"https://localhost/zsc?state={STATE}", "has no code"),
])
def test_unusable_answers_say_what_to_paste(pasted, problem):
    with pytest.raises(UserError, match=problem):
        code_from(pasted, STATE, "slack")


def test_slack_authorize_url_is_on_the_api_host_and_encodes_everything():
    url = oauth.slack_authorize_url("http://127.0.0.1:9/api/", "123.456", ("chat:write", "users:read"),
                                    "https://example.com/cb?x=1&y=2", "st")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:9", "/oauth/v2/authorize")
    assert parse_qs(parts.query) == {"client_id": ["123.456"], "scope": ["chat:write,users:read"],
                                     "redirect_uri": ["https://example.com/cb?x=1&y=2"], "state": ["st"]}
    real = oauth.slack_authorize_url("https://slack.com/api/", "1", ("chat:write",), "", "st")
    assert real.startswith("https://slack.com/oauth/v2/authorize?") and "redirect_uri" not in real


def test_zendesk_authorize_url_asks_for_a_code():
    url = oauth.zendesk_authorize_url("https://acme.zendesk.com", "zsc", ("read", "write"), "https://x/cb", "st")
    parts = urlsplit(url)
    assert parts.path == "/oauth/authorizations/new"
    assert parse_qs(parts.query) == {"response_type": ["code"], "client_id": ["zsc"], "redirect_uri": ["https://x/cb"],
                                     "scope": ["read write"], "state": ["st"]}
