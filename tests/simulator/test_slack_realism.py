"""Slack behaviours learned from real answers (API-NOTES, "Learned since..."), through
the real slack_sdk WebClient."""

from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from slack_sdk.errors import SlackApiError

from tests.simulator.test_slack_sim import CHANNEL, client, error_of, pages


@pytest.fixture
def slack(slack_sim):
    slack_sim.add_channel(CHANNEL, "support")
    slack_sim.add_user("UALICE", "alice", email="alice@example.com", real_name="Alice Doe", display_name="ally")
    return slack_sim


# ---- people users.info cannot show ----

@pytest.mark.parametrize("kind, error", [("external", "user_not_found"), ("deleted", "user_not_found"),
                                         ("invisible", "user_not_visible")])
def test_users_info_fails_for_some_posters_whose_messages_carry_a_profile(slack, kind, error):
    options = {"external": {"external": True}, "deleted": {"deleted": True}, "invisible": {"visible": False}}[kind]
    slack.add_user("UOUT", "olga", email="olga@partner.example", real_name="Olga Out", display_name="olga",
                   **options)
    ts = slack.post(CHANNEL, "UOUT", "hello from outside")
    web = client(slack)
    with pytest.raises(SlackApiError) as exc:
        web.users_info(user="UOUT")
    assert error_of(exc) == error

    message = web.conversations_history(channel=CHANNEL)["messages"][0]
    assert message["ts"] == ts and message["user"] == "UOUT"
    profile = message["user_profile"]
    assert (profile["real_name"], profile["display_name"], profile["name"]) == ("Olga Out", "olga", "olga")
    assert "email" not in profile
    assert web.conversations_replies(channel=CHANNEL, ts=ts)["messages"][0]["user_profile"] == profile


def test_external_user_helper_and_deactivation(slack):
    slack.add_external_user("UEXT", "ext", real_name="Ext Person")
    ts = slack.post(CHANNEL, "UEXT", "hi")
    assert slack.messages(CHANNEL)[0]["team"] != slack.team_id
    web = client(slack)
    assert web.users_info(user="UALICE")["user"]["profile"]["email"] == "alice@example.com"
    slack.deactivate_user("UALICE")
    for user in ("UEXT", "UALICE"):
        with pytest.raises(SlackApiError) as exc:
            web.users_info(user=user)
        assert error_of(exc) == "user_not_found"
    assert web.conversations_replies(channel=CHANNEL, ts=ts)["messages"][0]["user_profile"]["real_name"] == "Ext Person"


def test_members_messages_carry_a_profile_too(slack):
    slack.post(CHANNEL, "UALICE", "hi")
    profile = client(slack).conversations_history(channel=CHANNEL)["messages"][0]["user_profile"]
    assert profile["real_name"] == "Alice Doe" and "email" not in profile


# ---- thread_broadcast ----

def test_a_broadcast_reply_shows_in_history_and_in_its_thread(slack):
    parent = slack.post(CHANNEL, "UALICE", "help")
    reply = slack.post(CHANNEL, "UALICE", "also for everyone", thread_ts=parent, reply_broadcast=True)
    web = client(slack)

    history = web.conversations_history(channel=CHANNEL)["messages"]
    assert [m["ts"] for m in history] == [reply, parent]
    broadcast = history[0]
    assert broadcast["subtype"] == "thread_broadcast"
    assert broadcast["thread_ts"] == parent != broadcast["ts"]
    assert history[1]["reply_count"] == 1

    thread = web.conversations_replies(channel=CHANNEL, ts=parent)["messages"]
    assert [m["ts"] for m in thread] == [parent, reply]
    assert thread[1]["subtype"] == "thread_broadcast"


def test_the_bot_can_broadcast_a_reply(slack):
    parent = slack.post(CHANNEL, "UALICE", "help")
    client(slack).chat_postMessage(channel=CHANNEL, text="fixed", thread_ts=parent, reply_broadcast=True)
    top = slack.messages(CHANNEL)
    assert top[-1]["subtype"] == "thread_broadcast" and top[-1]["bot_id"] == slack.bot_id


# ---- deletions ----

def test_a_deleted_parent_with_replies_stays_as_a_tombstone(slack):
    parent = slack.post(CHANNEL, "UALICE", "secret")
    replies = [slack.post(CHANNEL, "UALICE", f"r{i}", thread_ts=parent) for i in range(2)]
    slack.delete(CHANNEL, parent)
    web = client(slack)

    (tomb,) = web.conversations_history(channel=CHANNEL)["messages"]
    assert (tomb["ts"], tomb["subtype"], tomb["user"], tomb["hidden"]) == (parent, "tombstone", "USLACKBOT", True)
    assert tomb["text"] == "This message was deleted."
    assert (tomb["reply_count"], tomb["latest_reply"]) == (2, replies[-1])
    assert "user_profile" not in tomb
    thread = web.conversations_replies(channel=CHANNEL, ts=parent)["messages"]
    assert [m["ts"] for m in thread] == [parent] + replies


def test_deleting_replies_and_lone_messages_removes_them(slack):
    parent = slack.post(CHANNEL, "UALICE", "q")
    keep = slack.post(CHANNEL, "UALICE", "keep", thread_ts=parent)
    gone = slack.post(CHANNEL, "UALICE", "gone", thread_ts=parent, reply_broadcast=True)
    lone = slack.post(CHANNEL, "UALICE", "lone")
    slack.delete(CHANNEL, gone)
    slack.delete(CHANNEL, lone)
    web = client(slack)
    assert [m["ts"] for m in web.conversations_history(channel=CHANNEL)["messages"]] == [parent]
    assert [m["ts"] for m in web.conversations_replies(channel=CHANNEL, ts=parent)["messages"]] == [parent, keep]

    # A tombstone leaves with its last reply.
    slack.delete(CHANNEL, parent)
    slack.delete(CHANNEL, keep)
    assert web.conversations_history(channel=CHANNEL)["messages"] == []


# ---- reactions ----

def test_reactions_show_on_messages_and_can_be_added_and_removed(slack):
    slack.add_token("xoxb-react", scopes=["channels:history", "reactions:write"])
    parent = slack.post(CHANNEL, "UALICE", "help")
    reply = slack.post(CHANNEL, "UALICE", "more", thread_ts=parent)
    slack.react(CHANNEL, parent, "UALICE", "eyes")
    slack.react(CHANNEL, reply, "UALICE", "thumbsup")
    web = client(slack, token="xoxb-react")
    web.reactions_add(channel=CHANNEL, timestamp=parent, name="eyes")

    (top,) = web.conversations_history(channel=CHANNEL)["messages"]
    assert top["reactions"] == [{"name": "eyes", "users": ["UALICE", "UBOT"], "count": 2}]
    thread = web.conversations_replies(channel=CHANNEL, ts=parent)["messages"]
    assert thread[1]["reactions"] == [{"name": "thumbsup", "users": ["UALICE"], "count": 1}]

    with pytest.raises(SlackApiError) as exc:
        web.reactions_add(channel=CHANNEL, timestamp=parent, name="eyes")
    assert error_of(exc) == "already_reacted"
    web.reactions_remove(channel=CHANNEL, timestamp=parent, name="eyes")
    with pytest.raises(SlackApiError) as exc:
        web.reactions_remove(channel=CHANNEL, timestamp=parent, name="eyes")
    assert error_of(exc) == "no_reaction"
    slack.unreact(CHANNEL, parent, "UALICE", "eyes")
    assert "reactions" not in slack.messages(CHANNEL)[0]


def test_reactions_need_their_scope(slack):
    ts = slack.post(CHANNEL, "UALICE", "help")
    with pytest.raises(SlackApiError) as exc:
        client(slack).reactions_add(channel=CHANNEL, timestamp=ts, name="eyes")
    assert (error_of(exc), exc.value.response["needed"]) == ("missing_scope", "reactions:write")


def test_custom_username_and_icon_need_chat_write_customize(slack):
    with pytest.raises(SlackApiError) as exc:
        client(slack).chat_postMessage(channel=CHANNEL, text="hi", username="Zoe via zsc", icon_url="https://x/i.png")
    assert (error_of(exc), exc.value.response["needed"]) == ("missing_scope", "chat:write.customize")

    slack.add_token("xoxb-custom", scopes=["chat:write", "chat:write.customize"])
    client(slack, token="xoxb-custom").chat_postMessage(channel=CHANNEL, text="hi", username="Zoe via zsc",
                                                        icon_url="https://x/i.png")
    (post,) = slack.bot_posts(CHANNEL)
    assert (post["bot_id"], post["username"]) == (slack.bot_id, "Zoe via zsc")


# ---- the limited rate tier ----

def test_limited_tier_allows_one_history_call_a_minute_and_15_messages_a_page(slack):
    slack.limited_tier = True
    for i in range(20):
        slack.post(CHANNEL, "UALICE", f"m{i}")
    web = client(slack)
    start = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    with freeze_time(start) as clock:
        first = web.conversations_history(channel=CHANNEL, limit=200)
        assert len(first["messages"]) == 15 and first["has_more"]
        clock.tick(timedelta(seconds=20))
        with pytest.raises(SlackApiError) as exc:
            web.conversations_history(channel=CHANNEL, cursor=first["response_metadata"]["next_cursor"])
        assert exc.value.response.status_code == 429
        assert exc.value.response.headers["Retry-After"] in ("40", ["40"])
        # Another method has its own minute.
        parent = first["messages"][0]["ts"]
        web.conversations_replies(channel=CHANNEL, ts=parent)
        clock.tick(timedelta(seconds=40))
        rest = web.conversations_history(channel=CHANNEL, cursor=first["response_metadata"]["next_cursor"])
        assert len(rest["messages"]) == 5 and not rest["has_more"]


def test_limited_tier_is_off_by_default_and_can_be_set_at_construction(slack):
    for i in range(20):
        slack.post(CHANNEL, "UALICE", f"m{i}")
    assert [len(p["messages"]) for p in pages(client(slack).conversations_history(channel=CHANNEL, limit=10))] == [10, 10]
    from zsc.simulator.slack import SlackSim
    assert SlackSim(limited_tier=True).limited_tier is True


# ---- the per-channel post limit ----

def test_posts_beyond_a_short_burst_per_channel_are_refused_with_retry_after(slack):
    slack.add_channel("COTHER", "other")
    slack.set_post_limit(per_second=1, burst=4)
    web = client(slack)
    with freeze_time("2026-03-01 12:00:00") as clock:
        for i in range(4):
            web.chat_postMessage(channel=CHANNEL, text=f"burst {i}")
        with pytest.raises(SlackApiError) as exc:
            web.chat_postMessage(channel=CHANNEL, text="one too many")
        assert exc.value.response.status_code == 429 and error_of(exc) == "ratelimited"
        assert exc.value.response.headers["Retry-After"] in ("1", ["1"])
        web.chat_postMessage(channel="COTHER", text="another channel has its own pace")
        clock.tick(1)
        web.chat_postMessage(channel=CHANNEL, text="one a second again")
        with pytest.raises(SlackApiError):
            web.chat_postMessage(channel=CHANNEL, text="but not two")
    assert slack.post_limited == {CHANNEL: 2}
    assert [m["text"] for m in slack.bot_posts(CHANNEL)] == [f"burst {i}" for i in range(4)] + ["one a second again"]


def test_sharing_a_file_in_a_channel_counts_as_a_message(slack):
    slack.set_post_limit(per_second=1, burst=1)
    web = client(slack)
    with freeze_time("2026-03-01 12:00:00"):
        web.chat_postMessage(channel=CHANNEL, text="first")
        upload = web.files_getUploadURLExternal(filename="a.txt", length=2)
        import requests
        requests.post(upload["upload_url"], data=b"hi", timeout=5)
        with pytest.raises(SlackApiError) as exc:
            web.files_completeUploadExternal(files=[{"id": upload["file_id"], "title": "a"}], channel_id=CHANNEL)
        assert exc.value.response.status_code == 429
    assert slack.post_limited == {CHANNEL: 1}


def test_the_post_limit_is_off_by_default_and_can_be_turned_off(slack):
    web = client(slack)
    with freeze_time("2026-03-01 12:00:00"):
        for i in range(10):
            web.chat_postMessage(channel=CHANNEL, text=f"m{i}")
        slack.set_post_limit(per_second=1, burst=1)
        web.chat_postMessage(channel=CHANNEL, text="the burst of one")
        with pytest.raises(SlackApiError):
            web.chat_postMessage(channel=CHANNEL, text="limited now")
        assert slack.post_limited == {CHANNEL: 1}
        slack.set_post_limit(None)
        web.chat_postMessage(channel=CHANNEL, text="free again")
    assert slack.post_limited == {}
    from zsc.simulator.slack import SlackSim
    assert SlackSim(post_limit=True).post_limit is not None
