"""[[channels]]: resolving the channel list, its checks, and the shared Slack budget."""

import pytest

from zsc.config import ChannelConfig, parse_config
from zsc.errors import ConfigError
from zsc.sync.channels import channel_intervals, effective_interval

BASE = {"slack": {"token": "xoxb-1"},
        "zendesk": {"subdomain": "acme", "email": "a@example.com", "token": "t", "agent_user_id": 1, "group_id": 5}}


def config(channels=(), slack_channel=None, **sync):
    data = {k: dict(v) for k, v in BASE.items()}
    if slack_channel:
        data["slack"]["channel"] = slack_channel
    data["channels"] = list(channels)
    if sync:
        data["sync"] = sync
    return parse_config(data, env={})


def test_slack_channel_alone_is_one_channel_with_the_defaults():
    assert config(slack_channel="C01").channel_list == (ChannelConfig("C01", 5),)


def test_channels_entries_then_slack_channel_with_defaults():
    c = config([{"id": "C02", "group_id": 7, "mode": "reaction", "reaction": "raised_hand", "tags": ["x"],
                 "report": True}, {"id": "C03"}], slack_channel="C01")
    assert c.channel_list == (ChannelConfig("C02", 7, "reaction", "raised_hand", ("x",), True),
                              ChannelConfig("C03", 5), ChannelConfig("C01", 5))
    assert c.channel_for_group(5).id == "C03" and c.channel_for_group(7).id == "C02"
    assert c.channel_for_group(99) is None
    assert c.channel_config("COLD") == ChannelConfig("COLD", 5)  # a thread of a channel no longer listed


def test_no_channel_at_all_is_a_one_line_error():
    with pytest.raises(ConfigError, match=r"\[slack\] channel: missing required key.*\[\[channels\]\]"):
        config()


def test_a_channel_listed_twice_is_an_error():
    with pytest.raises(ConfigError, match=r"\[\[channels\]\] #2 id: channel C02 is listed twice"):
        config([{"id": "C02"}, {"id": "C02"}])


def test_bad_mode_names_the_entry():
    with pytest.raises(ConfigError, match=r"\[\[channels\]\] #1 mode"):
        config([{"id": "C02", "mode": "some"}])


def test_intervals_stretch_evenly_to_fit_slacks_budget():
    one = config(slack_channel="C01", slack_interval=10)
    assert effective_interval(one) == 10.0  # 6 calls a minute: fits
    many = config([{"id": f"C{i:02d}"} for i in range(20)], slack_interval=10)
    # 20 channels every 10 s = 120 history calls a minute; 40 a minute fit (80% of Tier 3's 50)
    assert channel_intervals(many) == {f"C{i:02d}": 30.0 for i in range(20)}
