"""Thread commands: alias matching, the registry and its help text, keyword phrases,
and the audit trail read from the store."""

import pytest
from freezegun import freeze_time

from zsc.sync import commands
from zsc import store as st
from zsc.store import models as stm

RESOLVE_ALIASES = ("resolve", "resolve ticket", "✅", ":white_check_mark:", "🆗", ":ok:")


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize("alias", RESOLVE_ALIASES)
@pytest.mark.parametrize("dress", [str, str.upper, str.title, lambda a: f"  {a}\n", lambda a: f"\t{a.upper()} "])
def test_every_resolve_alias_matches_in_any_case_and_spacing(alias, dress):
    assert commands.find_command(dress(alias)).name == "resolve"


def test_every_registered_alias_finds_its_own_command():
    for entry in commands.registered():
        for alias in entry.aliases:
            assert commands.find_command(alias) is entry, alias


@pytest.mark.parametrize("text", ["help", "HELP", " Help ", "\nhelp\t"])
def test_help_matches_in_any_case_and_spacing(text):
    assert commands.find_command(text).name == "help"


@pytest.mark.parametrize("typed, sent", [
    ("✅", ":white_check_mark:"),
    ("✅\ufe0f", ":white_check_mark:"),  # with an emoji variation selector
    ("🆗", ":ok:"),
    ("🆗", ":OK:"),
])
def test_an_emoji_and_its_slack_shortcode_are_the_same_alias(typed, sent):
    assert commands.normalise(typed) == commands.normalise(sent)
    assert commands.find_command(typed) is commands.find_command(sent) is commands.find_command("resolve")


def test_inner_whitespace_of_a_several_word_alias_does_not_matter():
    assert commands.find_command("resolve \n  ticket").name == "resolve"


@pytest.mark.parametrize("text", [
    "can you help me", "help me", "helpful", "resolved", "resolve it", "please resolve",
    "resolve ticket now", "✅ done", ":white_check_mark: thanks", "✅✅", ":white_check_mark", "", "   ", ":+1:",
])
def test_only_a_whole_message_that_is_an_alias_is_a_command(text):
    assert commands.find_command(text) is None


def test_skin_tone_shortcodes_do_not_change_the_emoji():
    assert commands.normalise(":+1::skin-tone-3:") == commands.normalise("👍") == commands.normalise("👍🏽")


# ---------------------------------------------------------------- the registry


@pytest.fixture
def temporary_command():
    @commands.command("escalate", "page someone", "🚨", help="Page the on-call person.")
    def escalate(inv):
        return "paged"

    try:
        yield escalate
    finally:
        if "escalate" in [c.name for c in commands.registered()]:
            commands.unregister("escalate")


def test_help_lists_every_registered_command_with_aliases_and_help():
    text = commands.help_text()
    assert "• `help` — List these commands." in text
    line = next(line for line in text.splitlines() if "`resolve`" in line)
    # ✅ and :white_check_mark: are one alias, shown once; likewise 🆗 and :ok:.
    assert line == "• `resolve` | `resolve ticket` | ✅ | 🆗 — " + commands.find_command("resolve").help


def test_a_registered_command_appears_in_help_and_matches_until_removed(temporary_command):
    assert commands.find_command(":rotating_light:").name == "escalate"
    assert commands.find_command("Page  Someone").run is temporary_command
    assert "• `escalate` | `page someone` | 🚨 — Page the on-call person." in commands.help_text().splitlines()
    assert [c.name for c in commands.registered()][-1] == "escalate"

    commands.unregister("escalate")
    assert commands.find_command("escalate") is None and commands.find_command("🚨") is None
    assert "escalate" not in commands.help_text()
    assert "escalate" not in [c.name for c in commands.registered()]


@pytest.mark.parametrize("name, aliases", [
    ("help", ()),  # a name taken
    ("finish", (":OK:",)),  # an alias of resolve, spelt as a shortcode in capitals
    ("finish", ("Resolve  Ticket",)),
    ("finish", ("  ",)),  # nothing left after trimming
])
def test_an_alias_cannot_be_registered_twice(name, aliases):
    before = commands.help_text()
    with pytest.raises(ValueError, match="already taken"):
        commands.command(name, *aliases, help="clash")(lambda inv: "")
    assert commands.help_text() == before
    assert commands.find_command("finish") is None


# ---------------------------------------------------------------- keyword phrases


@pytest.mark.parametrize("text", [
    "I need a password reset", "PASSWORD RESET please", "password\n  reset!", "(password reset)",
    "is <https://example.com/help|password reset> the page?",  # a Slack link's label is its text
])
def test_a_phrase_matches_whole_words_in_any_case_and_spacing(text):
    assert commands.mentions(text, ["password reset"])


@pytest.mark.parametrize("text", ["my passwords reset", "password-resetting", "reset password", "preset"])
def test_a_phrase_does_not_match_parts_of_words_or_another_order(text):
    assert not commands.mentions(text, ["password reset", "set"])


def test_any_phrase_of_a_keyword_is_enough_and_shortcodes_match_emoji():
    assert commands.mentions("My laptop is on :fire:", ["vpn", "🔥"])
    assert commands.mentions("My laptop is on 🔥", ["vpn", ":fire:"])
    assert not commands.mentions("My laptop is fine", ["vpn", ":fire:"])


# ---------------------------------------------------------------- audit trail


@pytest.fixture
def store(store_url):
    s = st.Store(store_url)
    yield s
    s.close()


def test_audit_trail_lists_runs_oldest_first_for_all_or_one_issue(store):
    first = st.Issue.create(channel="C1", thread_ts="1.000001", ticket_id=1, origin="slack")
    second = st.Issue.create(channel="C1", thread_ts="2.000001", ticket_id=2, origin="slack")
    with freeze_time("2024-05-02 10:00:00"):
        stm.CommandRun.create(issue=second, channel="C1", slack_ts="2.000003", slack_user_id="UANN",
                             command="resolve", result="Resolved")
    with freeze_time("2024-05-01 09:00:00"):
        stm.CommandRun.create(issue=first, channel="C1", slack_ts="1.000002", slack_user_id="UBOB",
                             command="help", result="Reply with…")

    trail = store.command_runs()
    assert [(r.command, r.slack_user_id, r.issue_id) for r in trail] == [
        ("help", "UBOB", first.id), ("resolve", "UANN", second.id)]
    assert [r.created_at.isoformat() for r in trail] == ["2024-05-01T09:00:00", "2024-05-02T10:00:00"]
    assert [r.result for r in store.command_runs(second)] == ["Resolved"]
    assert store.command_runs(st.Issue.create(channel="C1", thread_ts="3.1", origin="slack")) == []
