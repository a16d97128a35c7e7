"""The fake PagerDuty REST API, driven through the real pdpyras APISession over HTTP."""

import pytest
import requests
from freezegun import freeze_time
from pdpyras import APISession, PDHTTPError, PDServerError


def session(sim, key=None, auth_type="token") -> APISession:
    s = APISession(key or sim.api_key, auth_type=auth_type)
    s.url = sim.url
    return s


def oncalls(s, *policies, users=True):
    params = {"escalation_policy_ids": list(policies)}
    if users:
        params["include"] = ["users"]
    return s.list_all("/oncalls", params=params)


def emails_by_level(entries):
    levels = {}
    for entry in entries:
        levels.setdefault(entry["escalation_level"], []).append(entry["user"]["email"])
    return levels


def test_oncalls_by_level_with_none_one_two_and_more_people(pagerduty_sim):
    pd = pagerduty_sim
    pd.add_policy("PEMPTY", "Nobody home")
    pd.set_oncall("PONE", 1, [("Ann", "ann@example.com")])
    pd.set_oncall("PTWO", 1, [("Ann", "ann@example.com"), ("Ben", "ben@example.com")])
    pd.set_oncall("PTWO", 2, [("Cat", "cat@example.com")])
    crowd = [(f"P{i}", f"p{i}@example.com") for i in range(4)]
    pd.set_oncall("PMANY", 1, crowd)
    s = session(pd)

    assert oncalls(s, "PEMPTY") == []
    assert emails_by_level(oncalls(s, "PONE")) == {1: ["ann@example.com"]}
    assert emails_by_level(oncalls(s, "PTWO")) == {1: ["ann@example.com", "ben@example.com"], 2: ["cat@example.com"]}
    assert emails_by_level(oncalls(s, "PMANY")) == {1: [email for _, email in crowd]}

    entry = oncalls(s, "PTWO")[0]
    assert entry["escalation_policy"]["id"] == "PTWO"
    assert entry["user"]["name"] == entry["user"]["summary"] == "Ann"
    # The same person keeps one id across policies.
    assert entry["user"]["id"] == oncalls(s, "PONE")[0]["user"]["id"]


def test_oncalls_without_include_users_give_references(pagerduty_sim):
    pagerduty_sim.set_oncall("P1", 1, [("Ann", "ann@example.com")])
    user = oncalls(session(pagerduty_sim), "P1", users=False)[0]["user"]
    assert user["type"] == "user_reference" and user["summary"] == "Ann"
    assert "email" not in user


def test_clearing_levels_and_policies(pagerduty_sim):
    pd = pagerduty_sim
    pd.set_oncall("P1", 1, [("Ann", "ann@example.com")])
    pd.set_oncall("P1", 2, [("Ben", "ben@example.com")])
    pd.set_oncall("P1", 1, [])
    s = session(pd)
    assert emails_by_level(oncalls(s, "P1")) == {2: ["ben@example.com"]}
    pd.clear_oncall("P1")
    assert oncalls(s, "P1") == []


def test_iter_all_walks_classic_pages(pagerduty_sim):
    people = [(f"Person {i}", f"p{i}@example.com") for i in range(30)]
    pagerduty_sim.set_oncall("PBIG", 1, people)
    pagerduty_sim.set_oncall("POTHER", 1, [("Zed", "zed@example.com")])  # filtered out
    s = session(pagerduty_sim)
    got = list(s.iter_all("/oncalls", params={"escalation_policy_ids": ["PBIG"], "include": ["users"]},
                          page_size=25))
    assert [e["user"]["email"] for e in got] == [email for _, email in people]
    assert pagerduty_sim.calls["oncalls"] == 2

    first = s.get("/oncalls", params={"escalation_policy_ids": ["PBIG"], "limit": 25, "total": True}).json()
    assert (first["more"], len(first["oncalls"]), first["total"]) == (True, 25, 30)
    last = s.get("/oncalls", params={"escalation_policy_ids": ["PBIG"], "limit": 25, "offset": 25}).json()
    assert (last["more"], last["offset"], len(last["oncalls"]), last["total"]) == (False, 25, 5, None)


def test_escalation_policy_show_and_404(pagerduty_sim):
    pagerduty_sim.add_policy("PABC", "Support L1/L2")
    s = session(pagerduty_sim)
    policy = s.rget("/escalation_policies/PABC")
    assert (policy["id"], policy["name"], policy["summary"]) == ("PABC", "Support L1/L2", "Support L1/L2")
    with pytest.raises(PDHTTPError) as exc:
        s.rget("/escalation_policies/PNOPE")
    assert exc.value.response.status_code == 404


def test_unknown_and_revoked_keys_get_401(pagerduty_sim):
    with pytest.raises(PDHTTPError) as exc:
        session(pagerduty_sim, key="not-a-key").rget("/oncalls")
    assert exc.value.response.status_code == 401
    assert exc.value.response.json()["error"]["code"] == 2006

    pagerduty_sim.add_api_key("second-key")
    s = session(pagerduty_sim, key="second-key")
    assert s.rget("/oncalls") == []
    pagerduty_sim.revoke("second-key")
    with pytest.raises(PDHTTPError):
        s.rget("/oncalls")


# ---- OAuth client credentials ----

def fetch_token(sim, secret="pd-secret"):
    return requests.post(f"{sim.url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "zsc-client", "client_secret": secret,
        "scope": "as_account-us.example oncalls.read",
    }, timeout=5)


def test_oauth_client_credentials_token_works_as_bearer(pagerduty_sim):
    pagerduty_sim.register_oauth_client("zsc-client", "pd-secret")
    pagerduty_sim.set_oncall("P1", 1, [("Ann", "ann@example.com")])
    answer = fetch_token(pagerduty_sim)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    s = session(pagerduty_sim, key=body["access_token"], auth_type="oauth2")
    assert emails_by_level(oncalls(s, "P1")) == {1: ["ann@example.com"]}
    assert pagerduty_sim.requests[-1][1].header("authorization") == f"Bearer {body['access_token']}"


def test_oauth_bad_secret_is_refused(pagerduty_sim):
    pagerduty_sim.register_oauth_client("zsc-client", "pd-secret")
    answer = fetch_token(pagerduty_sim, secret="wrong")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_oauth_token_expires(pagerduty_sim):
    pagerduty_sim.register_oauth_client("zsc-client", "pd-secret")
    with freeze_time("2024-05-01 12:00:00") as clock:
        s = session(pagerduty_sim, key=fetch_token(pagerduty_sim).json()["access_token"], auth_type="oauth2")
        assert s.rget("/oncalls") == []
        clock.tick(3601)
        with pytest.raises(PDHTTPError) as exc:
            s.rget("/oncalls")
    assert exc.value.response.status_code == 401


# ---- faults ----

def test_rate_limit_is_retried_by_pdpyras(pagerduty_sim):
    pagerduty_sim.set_oncall("P1", 1, [("Ann", "ann@example.com")])
    pagerduty_sim.inject("oncalls", "429")
    s = session(pagerduty_sim)
    s.sleep_timer = 0.01  # pdpyras backs off on its own clock, not Retry-After
    assert len(oncalls(s, "P1")) == 1
    assert pagerduty_sim.calls["oncalls"] == 2


def test_server_error_and_malformed_answers_raise(pagerduty_sim):
    pagerduty_sim.add_policy("P1", "Support")
    s = session(pagerduty_sim)
    pagerduty_sim.inject("escalation_policies.show", "500")
    with pytest.raises(PDServerError) as exc:
        s.rget("/escalation_policies/P1")
    assert exc.value.response.json()["error"]["message"] == "Internal Server Error"
    pagerduty_sim.inject("escalation_policies.show", "malformed")
    with pytest.raises(PDServerError, match="invalid JSON"):
        s.rget("/escalation_policies/P1")
    assert s.rget("/escalation_policies/P1")["id"] == "P1"
