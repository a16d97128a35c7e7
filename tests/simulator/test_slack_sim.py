"""The fake Slack Web API, driven through the real slack_sdk WebClient over HTTP."""

import http.client
import socket
from urllib.error import URLError

import pytest
from freezegun import freeze_time
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

CHANNEL = "C0SUPPORT"


def client(sim, token=None, **kwargs) -> WebClient:
    return WebClient(token=token or sim.bot_token, base_url=f"{sim.url}/api/", **kwargs)


@pytest.fixture
def slack(slack_sim):
    slack_sim.add_channel(CHANNEL, "support")
    slack_sim.add_user("UALICE", "alice", email="alice@example.com", real_name="Alice Doe", display_name="ally")
    slack_sim.add_user("UBOB", "bob", real_name="Bob Roe")  # no email on file
    return slack_sim


def error_of(excinfo) -> str:
    return excinfo.value.response["error"]


def pages(response) -> list[dict]:
    # Iterating a SlackResponse fetches the next page into the same object, so copy each.
    return [dict(page.data) for page in response]


# ---- identity and auth ----

def test_auth_test_names_the_bot(slack):
    data = client(slack).auth_test()
    assert (data["user_id"], data["bot_id"], data["team_id"]) == ("UBOT", "BBOT", "T0SIM")
    assert data["url"] == "https://sim.slack.com/"


@pytest.mark.parametrize("token, error", [(None, "not_authed"), ("xoxb-nope", "invalid_auth")])
def test_missing_or_unknown_token_is_refused(slack, token, error):
    web = WebClient(token=token, base_url=f"{slack.url}/api/")
    with pytest.raises(SlackApiError) as exc:
        web.conversations_history(channel=CHANNEL)
    assert error_of(exc) == error


def test_revoked_token_fails_with_token_revoked(slack):
    web = client(slack)
    web.auth_test()
    slack.revoke_token()
    with pytest.raises(SlackApiError) as exc:
        web.auth_test()
    assert error_of(exc) == "token_revoked"


def test_token_without_a_scope_gets_missing_scope(slack):
    slack.add_token("xoxb-read-only", scopes=["channels:history"])
    with pytest.raises(SlackApiError) as exc:
        client(slack, token="xoxb-read-only").chat_postMessage(channel=CHANNEL, text="hi")
    assert error_of(exc) == "missing_scope"
    assert exc.value.response["needed"] == "chat:write"


# ---- history ----

def test_history_is_newest_first_with_exclusive_bounds(slack):
    ts = [slack.post(CHANNEL, "UALICE", f"m{i}") for i in range(5)]
    web = client(slack)

    everything = web.conversations_history(channel=CHANNEL)
    assert [m["ts"] for m in everything["messages"]] == ts[::-1]
    assert everything["has_more"] is False

    between = web.conversations_history(channel=CHANNEL, oldest=ts[1], latest=ts[3])
    assert [m["text"] for m in between["messages"]] == ["m2"]

    inclusive = web.conversations_history(channel=CHANNEL, oldest=ts[1], latest=ts[3], inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]


def test_history_pages_with_cursor_until_next_cursor_is_empty(slack):
    ts = [slack.post(CHANNEL, "UALICE", f"m{i}") for i in range(7)]
    got = pages(client(slack).conversations_history(channel=CHANNEL, limit=3))
    assert [len(p["messages"]) for p in got] == [3, 3, 1]
    assert [p["has_more"] for p in got] == [True, True, False]
    assert got[0]["response_metadata"]["next_cursor"]
    assert got[-1]["response_metadata"]["next_cursor"] == ""
    assert [m["ts"] for p in got for m in p["messages"]] == ts[::-1]


def test_page_size_cap_clamps_the_limit_like_the_limited_tier(slack):
    slack.page_size_cap = 15
    for i in range(40):
        slack.post(CHANNEL, "UALICE", f"m{i}")
    got = pages(client(slack).conversations_history(channel=CHANNEL, limit=200))
    assert [len(p["messages"]) for p in got] == [15, 15, 10]
    assert slack.calls["conversations.history"] == 3


def test_history_shows_thread_parents_with_a_summary_never_replies(slack):
    parent = slack.post(CHANNEL, "UALICE", "help")
    slack.post(CHANNEL, "UBOB", "on it", thread_ts=parent)
    last = slack.post(CHANNEL, "UALICE", "thanks", thread_ts=parent)
    lone = slack.post(CHANNEL, "UBOB", "unrelated")

    messages = client(slack).conversations_history(channel=CHANNEL)["messages"]
    assert [m["ts"] for m in messages] == [lone, parent]
    top = messages[1]
    assert top["thread_ts"] == parent
    assert top["reply_count"] == 2
    assert top["latest_reply"] == last
    assert top["reply_users"] == ["UBOB", "UALICE"]
    assert "thread_ts" not in messages[0] and "reply_count" not in messages[0]


# ---- replies ----

def test_replies_give_the_parent_first_then_replies_oldest_first(slack):
    parent = slack.post(CHANNEL, "UALICE", "help")
    replies = [slack.post(CHANNEL, "UBOB", f"r{i}", thread_ts=parent) for i in range(5)]
    web = client(slack)

    got = pages(web.conversations_replies(channel=CHANNEL, ts=parent, limit=2))
    assert [[m["ts"] for m in p["messages"]] for p in got] == [
        [parent, replies[0]], replies[1:3], replies[3:5]]
    assert got[0]["messages"][1]["thread_ts"] == parent

    # The parent leads even when it is older than `oldest`.
    newer = web.conversations_replies(channel=CHANNEL, ts=parent, oldest=replies[2])["messages"]
    assert [m["ts"] for m in newer] == [parent, replies[3], replies[4]]


def test_replies_of_an_unknown_thread(slack):
    with pytest.raises(SlackApiError) as exc:
        client(slack).conversations_replies(channel=CHANNEL, ts="1.000001")
    assert error_of(exc) == "thread_not_found"


# ---- posting ----

def test_bot_posts_in_a_thread_and_metadata_round_trips(slack):
    web = client(slack)
    parent = slack.post(CHANNEL, "UALICE", "my printer is on fire")
    metadata = {"event_type": "zsc_ticket", "event_payload": {"ticket_id": 42}}
    posted = web.chat_postMessage(channel=CHANNEL, text="Ticket #42 opened", thread_ts=parent,
                                  metadata=metadata, unfurl_links=False, mrkdwn=True)

    assert posted["channel"] == CHANNEL
    message = posted["message"]
    assert (message["user"], message["bot_id"], message["thread_ts"]) == ("UBOT", "BBOT", parent)
    assert "subtype" not in message

    top = web.conversations_history(channel=CHANNEL)["messages"][0]
    assert (top["reply_count"], top["latest_reply"], top["reply_users"]) == (1, posted["ts"], ["UBOT"])

    plain = web.conversations_replies(channel=CHANNEL, ts=parent)["messages"]
    assert "metadata" not in plain[1]
    full = web.conversations_replies(channel=CHANNEL, ts=parent, include_all_metadata=True)["messages"]
    assert full[1]["metadata"] == metadata
    assert [m["ts"] for m in slack.bot_posts(CHANNEL)] == [posted["ts"]]


def test_form_encoded_post_with_metadata_string_works_too(slack):
    # Slack accepts form posts, where structured arguments are JSON strings.
    web = client(slack)
    web.api_call("chat.postMessage", data={"channel": CHANNEL, "text": "hi",
                                           "metadata": '{"event_type": "e", "event_payload": {"a": 1}}'})
    assert slack.messages(CHANNEL)[0]["metadata"] == {"event_type": "e", "event_payload": {"a": 1}}


def test_long_text_is_truncated_at_40000_characters(slack):
    ts = client(slack).chat_postMessage(channel=CHANNEL, text="x" * 40_010)["ts"]
    assert [len(m["text"]) for m in slack.messages(CHANNEL) if m["ts"] == ts] == [40_000]


@pytest.mark.parametrize("kwargs, error", [
    ({"channel": "CNOPE"}, "channel_not_found"),
    ({"channel": "COUTSIDE"}, "not_in_channel"),
    ({"channel": CHANNEL, "thread_ts": "1.000001"}, "thread_not_found"),
])
def test_post_message_errors(slack, kwargs, error):
    slack.add_channel("COUTSIDE", "elsewhere", bot_is_member=False)
    with pytest.raises(SlackApiError) as exc:
        client(slack).chat_postMessage(text="hello", **kwargs)
    assert error_of(exc) == error
    assert slack.bot_posts(CHANNEL) == []


def test_history_of_a_channel_the_bot_is_not_in(slack):
    slack.add_channel("COUTSIDE", "elsewhere", bot_is_member=False)
    slack.add_channel("GSECRET", "secret", bot_is_member=False, is_private=True)
    web = client(slack)
    with pytest.raises(SlackApiError) as exc:
        web.conversations_history(channel="COUTSIDE")
    assert error_of(exc) == "not_in_channel"
    with pytest.raises(SlackApiError) as exc:
        web.conversations_info(channel="GSECRET")
    assert error_of(exc) == "channel_not_found"
    assert web.conversations_info(channel="COUTSIDE")["channel"]["is_member"] is False


def test_people_posts_files_joins_legacy_bots_and_edits(slack):
    join = slack.post(CHANNEL, "UBOB", "<@UBOB> has joined the channel", subtype="channel_join")
    shared = slack.post(CHANNEL, "UALICE", "log attached", files=[{"name": "log.txt", "permalink": "https://f/log"}])
    legacy = slack.post(CHANNEL, None, "build failed", subtype="bot_message", bot_id="BJENKINS")
    slack.edit(CHANNEL, shared, "log attached (edited)")

    by_ts = {m["ts"]: m for m in client(slack).conversations_history(channel=CHANNEL)["messages"]}
    assert by_ts[join]["subtype"] == "channel_join"
    assert by_ts[shared]["subtype"] == "file_share"
    assert by_ts[shared]["files"][0]["permalink"] == "https://f/log"
    assert by_ts[shared]["text"] == "log attached (edited)"
    assert by_ts[shared]["edited"]["user"] == "UALICE"
    assert float(by_ts[shared]["edited"]["ts"]) > float(legacy)
    assert by_ts[legacy]["bot_id"] == "BJENKINS" and "user" not in by_ts[legacy]
    assert slack.bot_posts(CHANNEL) == []  # other bots' posts are not ours


def test_ts_strictly_increase_while_the_clock_is_frozen(slack):
    with freeze_time("2024-05-01 12:00:00"):
        first = slack.post(CHANNEL, "UALICE", "a")
        second = client(slack).chat_postMessage(channel=CHANNEL, text="b")["ts"]
    assert first == "1714564800.000000"
    assert second == "1714564800.000001"


# ---- permalinks, users, channels ----

def test_permalinks_for_messages_and_replies(slack):
    parent = slack.post(CHANNEL, "UALICE", "help")
    reply = slack.post(CHANNEL, "UBOB", "on it", thread_ts=parent)
    web = client(slack)
    link = web.chat_getPermalink(channel=CHANNEL, message_ts=parent)["permalink"]
    assert link == f"https://sim.slack.com/archives/{CHANNEL}/p{parent.replace('.', '')}"
    reply_link = web.chat_getPermalink(channel=CHANNEL, message_ts=reply)["permalink"]
    assert reply_link == (f"https://sim.slack.com/archives/{CHANNEL}/p{reply.replace('.', '')}"
                          f"?thread_ts={parent}&cid={CHANNEL}")


def test_users_info_with_and_without_email(slack):
    web = client(slack)
    alice = web.users_info(user="UALICE")["user"]
    assert alice["profile"] == {"email": "alice@example.com", "display_name": "ally", "real_name": "Alice Doe"}
    assert alice["is_bot"] is False
    bob = web.users_info(user="UBOB")["user"]
    assert "email" not in bob["profile"] and bob["profile"]["display_name"] == ""
    assert web.users_info(user="UBOT")["user"]["is_bot"] is True
    with pytest.raises(SlackApiError) as exc:
        web.users_info(user="UNOBODY")
    assert error_of(exc) == "user_not_found"


def test_users_lookup_by_email(slack):
    web = client(slack)
    assert web.users_lookupByEmail(email="ALICE@example.com")["user"]["id"] == "UALICE"
    with pytest.raises(SlackApiError) as exc:
        web.users_lookupByEmail(email="nobody@example.com")
    assert error_of(exc) == "users_not_found"
    slack.add_token("xoxb-no-email", scopes=["users:read"])
    with pytest.raises(SlackApiError) as exc:
        client(slack, token="xoxb-no-email").users_lookupByEmail(email="alice@example.com")
    assert error_of(exc) == "missing_scope"


def test_users_info_hides_email_without_the_email_scope(slack):
    slack.add_token("xoxb-no-email", scopes=["users:read"])
    alice = client(slack, token="xoxb-no-email").users_info(user="UALICE")["user"]
    assert "email" not in alice["profile"]
    assert alice["real_name"] == "Alice Doe"


def test_conversations_info(slack):
    channel = client(slack).conversations_info(channel=CHANNEL)["channel"]
    assert (channel["id"], channel["name"], channel["is_member"], channel["is_private"]) == (
        CHANNEL, "support", True, False)


# ---- faults ----

def test_rate_limit_answers_429_with_retry_after(slack):
    slack.inject("conversations.history", "429", retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        client(slack, retry_handlers=[]).conversations_history(channel=CHANNEL)
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert error_of(exc) == "ratelimited"


def test_rate_limit_retry_handler_recovers(slack):
    slack.post(CHANNEL, "UALICE", "hello")
    slack.inject("conversations.history", "429", retry_after=1)
    web = client(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert [m["text"] for m in web.conversations_history(channel=CHANNEL)["messages"]] == ["hello"]
    assert slack.calls["conversations.history"] == 2


@pytest.mark.parametrize("kind, error", [("500", "internal_error"), ("503", "service_unavailable")])
def test_server_errors(slack, kind, error):
    slack.inject("auth.test", kind)
    web = client(slack, retry_handlers=[])
    with pytest.raises(SlackApiError) as exc:
        web.auth_test()
    assert exc.value.response.status_code == int(kind)
    assert error_of(exc) == error
    assert web.auth_test()["ok"] is True  # the fault was used up


def test_dropped_post_still_lands(slack):
    slack.inject("chat.postMessage", "drop")
    with pytest.raises((http.client.RemoteDisconnected, URLError, ConnectionError)):
        client(slack, retry_handlers=[]).chat_postMessage(channel=CHANNEL, text="did it go?")
    assert [m["text"] for m in slack.bot_posts(CHANNEL)] == ["did it go?"]


def test_connection_retry_handler_duplicates_a_dropped_post(slack):
    # slack_sdk's default handlers retry connection errors, which repeats writes.
    slack.inject("chat.postMessage", "drop")
    fast_retry = ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.01))
    client(slack, retry_handlers=[fast_retry]).chat_postMessage(channel=CHANNEL, text="once")
    assert [m["text"] for m in slack.bot_posts(CHANNEL)] == ["once", "once"]


def test_slow_answer_times_out_but_the_post_lands(slack):
    slack.inject("chat.postMessage", "slow", delay=1.0)
    with pytest.raises((TimeoutError, socket.timeout)):
        client(slack, timeout=0.3, retry_handlers=[]).chat_postMessage(channel=CHANNEL, text="slowly")
    assert [m["text"] for m in slack.bot_posts(CHANNEL)] == ["slowly"]


def test_malformed_answer(slack):
    slack.inject("conversations.history", "malformed")
    with pytest.raises(SlackApiError) as exc:
        client(slack).conversations_history(channel=CHANNEL)
    assert error_of(exc).startswith("Received a response in a non-JSON format")


def test_unknown_method(slack):
    with pytest.raises(SlackApiError) as exc:
        client(slack).api_call("chat.teleport")
    assert exc.value.response.status_code == 404
    assert error_of(exc) == "unknown_method"


# ---- OAuth v2 ----

@pytest.fixture
def app(slack):
    slack.register_oauth_app("123.456", "s3cret", redirect_uri="https://zsc.example/callback")
    return slack


def oauth(sim, code, client_id="123.456", client_secret="s3cret", **kwargs):
    return WebClient(base_url=f"{sim.url}/api/").oauth_v2_access(
        client_id=client_id, client_secret=client_secret, code=code, **kwargs)


def test_oauth_code_exchange_gives_a_working_token(app):
    granted = oauth(app, app.issue_oauth_code(), redirect_uri="https://zsc.example/callback")
    assert granted["token_type"] == "bot" and granted["access_token"].startswith("xoxb-")
    assert granted["bot_user_id"] == "UBOT" and granted["team"]["id"] == "T0SIM"
    assert "users:read.email" in granted["scope"].split(",")
    web = client(app, token=granted["access_token"])
    assert web.auth_test()["bot_id"] == "BBOT"
    assert web.conversations_history(channel=CHANNEL)["ok"] is True


def test_oauth_client_credentials_as_form_fields(app):
    data = {"client_id": "123.456", "client_secret": "s3cret", "code": app.issue_oauth_code(scopes=["users:read"])}
    granted = WebClient(base_url=f"{app.url}/api/").api_call("oauth.v2.access", data=data)
    alice = client(app, token=granted["access_token"]).users_info(user="UALICE")["user"]
    assert "email" not in alice["profile"]  # the granted scopes are the token's scopes


def test_oauth_code_is_single_use(app):
    code = app.issue_oauth_code()
    oauth(app, code)
    with pytest.raises(SlackApiError) as exc:
        oauth(app, code)
    assert error_of(exc) == "code_already_used"


def test_oauth_code_expires_after_ten_minutes(app):
    with freeze_time("2024-05-01 12:00:00") as clock:
        code = app.issue_oauth_code()
        clock.tick(601)
        with pytest.raises(SlackApiError) as exc:
            oauth(app, code)
    assert error_of(exc) == "invalid_code"


@pytest.mark.parametrize("kwargs, error", [
    ({"client_secret": "wrong"}, "bad_client_secret"),
    ({"client_id": "999.999"}, "invalid_client_id"),
    ({"redirect_uri": "https://evil.example/"}, "bad_redirect_uri"),
    ({"code": "made-up"}, "invalid_code"),
])
def test_oauth_errors(app, kwargs, error):
    kwargs.setdefault("code", app.issue_oauth_code())
    with pytest.raises(SlackApiError) as exc:
        oauth(app, **kwargs)
    assert error_of(exc) == error
