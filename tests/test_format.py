"""Tests for zsc.format: Slack <-> Zendesk text conversion."""

import re

import pytest

from zsc.format import (
    NO_TEXT,
    SLACK_CHUNK_LIMIT,
    ZWSP,
    cap_posts,
    files_block,
    plain_from_html,
    slack_reply_to_zendesk,
    slack_to_plain,
    split_for_slack,
    subject_from_slack,
    truncate,
    zendesk_comment_to_slack,
    zendesk_to_slack,
)

Z = ZWSP

USERS = {"U1": "Bob", "U2": "Alice Smith"}
CHANNELS = {"C1": "support"}


def user_name(uid):
    return USERS.get(uid)


def channel_name(cid):
    return CHANNELS.get(cid)


# ---------------------------------------------------------------------------
# slack_to_plain
# ---------------------------------------------------------------------------

SLACK_TO_PLAIN = [
    # empty / plain
    ("", ""),
    ("hello world", "hello world"),
    ("line1\nline2", "line1\nline2"),
    ("crlf\r\nline", "crlf\nline"),
    ("nul\x00bell\x07", "nulbell"),
    # user mentions: callback > label > id
    ("hi <@U1>", "hi @Bob"),
    ("hi <@U1|bobby>", "hi @Bob"),
    ("hi <@U9|carol>", "hi @carol"),
    ("hi <@U9>", "hi @U9"),
    ("<@U2> and <@U1>", "@Alice Smith and @Bob"),
    # channels
    ("see <#C1>", "see #support"),
    ("see <#C9|general>", "see #general"),
    ("see <#C9>", "see #C9"),
    # broadcasts and groups
    ("<!here> help", "@here help"),
    ("<!here|@here> help", "@here help"),
    ("<!channel>", "@channel"),
    ("<!everyone>", "@everyone"),
    ("<!group>", "@channel"),
    ("<!subteam^S1|@team> ping", "@team ping"),
    ("<!subteam^S1|team>", "@team"),
    ("<!subteam^S1>", "@S1"),
    ("<!date^1392734382^{date_num}|Feb 18, 2014>", "Feb 18, 2014"),
    ("<!date^1392734382^{date_num}>", "date"),
    # links
    ("<https://x.com|label>", "label (https://x.com)"),
    ("<https://x.com>", "https://x.com"),
    ("<https://x.com|https://x.com>", "https://x.com"),
    ("<http://example.com|example.com>", "example.com"),
    ("<https://example.com/|example.com>", "example.com"),
    ("<https://x.com/?a=1&amp;b=2|a &amp; b>", "a & b (https://x.com/?a=1&b=2)"),
    ("<mailto:a@b.com|a@b.com>", "a@b.com"),
    ("<mailto:a@b.com>", "a@b.com"),
    ("<mailto:a@b.com|Alice>", "Alice (a@b.com)"),
    ("<https://x.com|:tada: party>", "🎉 party (https://x.com)"),
    # escaping: single pass
    ("a &amp; b &lt;c&gt;", "a & b <c>"),
    ("&amp;lt; stays escaped once", "&lt; stays escaped once"),
    ("&quot;not slack&quot;", "&quot;not slack&quot;"),
    # emoji
    (":white_check_mark: done", "✅ done"),
    (":thumbsup::+1:", "👍👍"),
    (":simple_smile:", ":simple_smile:"),
    (":custom-emoji:", ":custom-emoji:"),
    (":wave::skin-tone-2:", "👋🏻"),
    (":+1::skin-tone-6:", "👍🏿"),
    (":wave::skin-tone-1:", "👋"),
    (":heart::skin-tone-3:", "❤️"),
    (":simple_smile::skin-tone-3:", ":simple_smile::skin-tone-3:"),
    (":man-shrugging::skin-tone-4:", "🤷🏽\u200d♂️"),
    (":flag-us:", "🇺🇸"),
    ("at 10:30:45 ok", "at 10:30:45 ok"),
    ("key:b: no", "key:b: no"),
    ("std::vector", "std::vector"),
    # unicode passes through
    ("naïve 日本語 👩‍👩‍👧", "naïve 日本語 👩‍👩‍👧"),
    # formatting is kept in plain text
    ("*bold* _it_ ~s~ `code`", "*bold* _it_ ~s~ `code`"),
    # shortcodes inside URLs are not emoji
    ("<https://x.com/:smile:|x>", "x (https://x.com/:smile:)"),
]


@pytest.mark.parametrize("text,expected", SLACK_TO_PLAIN)
def test_slack_to_plain(text, expected):
    assert slack_to_plain(text, user_name, channel_name) == expected


def test_slack_to_plain_default_callbacks():
    assert slack_to_plain("<@U1> in <#C1>") == "@U1 in #C1"
    assert slack_to_plain("<@U1|bob> in <#C1|general>") == "@bob in #general"


def test_slack_to_plain_empty_callback_name_falls_back_to_label():
    assert slack_to_plain("<@U1|bob>", lambda uid: "") == "@bob"


# ---------------------------------------------------------------------------
# subject_from_slack
# ---------------------------------------------------------------------------

LONG_WORDS = " ".join(["word"] * 40)  # 199 chars
SUBJECTS = [
    ("", NO_TEXT),
    ("   \n\n  ", NO_TEXT),
    ("``` ```", NO_TEXT),
    ("Printer is down", "Printer is down"),
    ("*Urgent*: printer _on fire_ ~not~ `code`", "Urgent: printer on fire not code"),
    ("\n\n  first   line  \nsecond", "first line"),
    ("```\n\n*hello*   world\nsecond", "hello world"),
    ("> quoted *text*\nmore", "quoted text"),
    ("&gt; escaped quote", "escaped quote"),
    ("<@U1> needs help with snake_case_name", "@Bob needs help with snake_case_name"),
    ("see *<https://x.com/a_b_|docs>*", "see docs (https://x.com/a_b_)"),
    ("see *https://x.com/a_b_* _now_", "see https://x.com/a_b_ now"),
    ("*_nested_*", "nested"),
    ("2 * 3 * 4", "2 * 3 * 4"),
    ("<!here> :fire: server down", "@here 🔥 server down"),
    ("tab\tseparated", "tab separated"),
    (LONG_WORDS, " ".join(["word"] * 30) + "…"),
    ("x" * 200, "x" * 149 + "…"),
    ("y" * 150, "y" * 150),
    ("a" * 100 + " " + "b" * 100, "a" * 100 + "…"),
]


@pytest.mark.parametrize("text,expected", SUBJECTS)
def test_subject_from_slack(text, expected):
    assert subject_from_slack(text, user_name) == expected


def test_subject_never_longer_than_150():
    text = "lorem ipsum " * 100
    out = subject_from_slack(text)
    assert out == ("lorem ipsum " * 12).strip() + " lorem…"
    assert len(out) == 150


def test_subject_custom_limit_and_channel_lookup():
    assert subject_from_slack("In <#C1> it broke badly", channel_name=channel_name, limit=16) == "In #support it…"


# ---------------------------------------------------------------------------
# zendesk_to_slack
# ---------------------------------------------------------------------------

ZENDESK_TO_SLACK = [
    ("", ""),
    ("Thanks, fixed.", "Thanks, fixed."),
    # hostile control sequences are shown literally
    ("<!channel> please", f"&lt;!{Z}channel&gt; please"),
    ("<!here>", f"&lt;!{Z}here&gt;"),
    ("<@U123> hi", f"&lt;@{Z}U123&gt; hi"),
    ("<#C123|general>", "&lt;#C123|general&gt;"),
    ("<https://evil.com|bank>", "&lt;https://evil.com%7Cbank&gt;"),  # was: "|" kept (links.py)
    # broadcast words
    ("@here look", f"@{Z}here look"),
    ("@channel @everyone @group", f"@{Z}channel @{Z}everyone @{Z}group"),
    ("@Here @CHANNEL", f"@{Z}Here @{Z}CHANNEL"),
    ("!channel !here !everyone", f"!{Z}channel !{Z}here !{Z}everyone"),
    ("hello!here", "hello!here"),
    ("(@channel)", f"(@{Z}channel)"),
    ("_@here_ *@here*", f"_@{Z}here_ *@{Z}here*"),
    ("@@here", f"@@{Z}here"),
    ("@hereafter", f"@{Z}hereafter"),
    # other @mentions, e-mail addresses untouched
    ("ask @bob", f"ask @{Z}bob"),
    ("mail bob@example.com or a.b@c.d", "mail bob@example.com or a.b@c.d"),
    ("user@here.com", "user@here.com"),
    ("email me @ noon", "email me @ noon"),
    # escaping, including already escaped text
    ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
    ("&lt; already", "&amp;lt; already"),
    ("&amp;", "&amp;amp;"),
    # markdown bold
    ("**bold** text", "*bold* text"),
    ("__bold__ text", "*bold* text"),
    ("snake__case__name", "snake__case__name"),
    ("** not bold **", "** not bold **"),
    ("**a** and **b**", "*a* and *b*"),
    # markdown links: only http(s)/mailto, built from escaped parts, never labelled:
    # "label (<url>)" (these were "<url|label>" before labels could hide the target)
    ("[site](https://x.com)", "site (<https://x.com>)"),
    ("[site](http://x.com/a?b=1&c=2)", "site (<http://x.com/a?b=1&amp;c=2>)"),
    ("[mail](mailto:a@b.com)", "mail (<mailto:a@b.com>)"),
    ("[wiki](https://en.wikipedia.org/wiki/Foo_(bar))", "wiki (<https://en.wikipedia.org/wiki/Foo_(bar)>)"),
    ("[pipe](https://x.com/a|b)", "pipe (<https://x.com/a%7Cb>)"),
    ("[<b>x</b>](https://x.com)", "&lt;b&gt;x&lt;/b&gt; (<https://x.com>)"),
    ("[@here](https://x.com)", f"@{Z}here (<https://x.com>)"),
    ("[**b**](https://x.com)", "*b* (<https://x.com>)"),
    ("**[x](http://a.com)**", "*x (<http://a.com>)*"),
    ("[click](javascript:alert(1))", "[click](javascript:alert(1))"),
    ("[x](JavaScript:alert('@here'))", f"[x](JavaScript:alert('@{Z}here'))"),
    ("[x](data:text/html,<script>)", "[x](data:text/html,&lt;script&gt;)"),
    ("[ftp](ftp://x.com/f)", "[ftp](ftp://x.com/f)"),
    ("[x](https://)", "[x](https://)"),
    ("<https://x.com>", "<https://x.com>"),
    ("<javascript:alert(1)>", "&lt;javascript:alert(1)&gt;"),
    # bare URLs are escaped but never rewritten
    ("https://medium.com/@bob/post", "https://medium.com/@bob/post"),
    ("https://x.com/?a=1&b=2", "https://x.com/?a=1&amp;b=2"),
    ("https://x.com/**a**", "https://x.com/**a**"),
    # code is escaped, broadcasts neutralised, nothing else rewritten
    ("`@here`", f"`@{Z}here`"),
    ("`**x** <b>`", "`**x** &lt;b&gt;`"),
    ("```\n@property\ndef f(): return a<b\n```", "```\n@property\ndef f(): return a&lt;b\n```"),
    ("```[a](https://x.com)```", "```[a](https://x.com)```"),
    # newlines
    ("line1\r\nline2\rline3", "line1\nline2\nline3"),
    ("a\n\n\nb", "a\n\n\nb"),
    ("a\n\n\n\nb", "a\n\n\nb"),
    ("a\r\n\r\n\r\n\r\n\r\n\r\nb", "a\n\n\nb"),
    ("a\n  \n\t\n \n \nb", "a\n\n\nb"),
    ("\n\n  hi  \n\n", "  hi"),
    # unicode and emoji
    ("Merci 🙏 — ça marche", "Merci 🙏 — ça marche"),
    (":smile:", ":smile:"),
    ("control\x00chars\x1b", "controlchars"),
]


@pytest.mark.parametrize("text,expected", ZENDESK_TO_SLACK)
def test_zendesk_to_slack(text, expected):
    assert zendesk_to_slack(text) == expected


LINKS_SAY_WHERE_THEY_GO = [
    # the phishing shape: a label that is another address
    ("[https://login.company.example](https://evil.example/phish)",
     "https://login.company.example (<https://evil.example/phish>)"),
    ("Reset it [here](https://evil.example/reset) today", "Reset it here (<https://evil.example/reset>) today"),
    # a label that is the URL itself: just the URL
    ("[https://x.com/a](https://x.com/a)", "<https://x.com/a>"),
    ("[https://x.com/](https://x.com)", "<https://x.com>"),
    ("[x.com/docs](https://x.com/docs/)", "<https://x.com/docs/>"),
    ("[a@b.com](mailto:a@b.com)", "<mailto:a@b.com>"),
    ("[ ](https://x.com)", "<https://x.com>"),  # no label: the URL
    # typed Slack link syntax and pipes in URLs never give a label
    ("<https://evil.example|https://good.example>", "&lt;https://evil.example%7Chttps://good.example&gt;"),
    ("https://evil.example/|https://good.example", "https://evil.example/%7Chttps://good.example"),
    ("<https://evil.example/|good>", "&lt;https://evil.example/%7Cgood&gt;"),
    ("[https://good.example|x](https://evil.example)", "https://good.example%7Cx (<https://evil.example>)"),
]


@pytest.mark.parametrize("text,expected", LINKS_SAY_WHERE_THEY_GO)
def test_zendesk_links_never_show_one_address_and_open_another(text, expected):
    out = zendesk_to_slack(text)
    assert out == expected
    assert "|" not in out  # the only way to label a Slack link


def test_a_subject_or_sender_name_with_a_spoofed_link_is_shown_as_it_goes():
    # the email path and the daily report pass subjects and names through zendesk_to_slack
    subject = "Your account: [https://login.company.example](https://evil.example/phish)"
    assert zendesk_to_slack(subject) == "Your account: https://login.company.example (<https://evil.example/phish>)"
    name = "[IT Support](https://evil.example) <https://evil.example|https://good.example>"
    assert zendesk_to_slack(name) == (
        "IT Support (<https://evil.example>) &lt;https://evil.example%7Chttps://good.example&gt;")
    head = zendesk_comment_to_slack("https://evil.example/|https://good.example", "[bank](https://evil.example)")
    assert head == "*https://evil.example/%7Chttps://good.example* (Zendesk): bank (<https://evil.example>)"


def test_zendesk_to_slack_output_has_no_raw_controls():
    hostile = "<!channel> <!here|here> <@U1> <#C1> &lt;!everyone&gt; @here [x](javascript:alert(1))"
    out = zendesk_to_slack(hostile)
    assert out == (
        f"&lt;!{Z}channel&gt; &lt;!{Z}here|here&gt; &lt;@{Z}U1&gt; &lt;#C1&gt; "
        f"&amp;lt;!{Z}everyone&amp;gt; @{Z}here [x](javascript:alert(1))"
    )
    assert "<" not in out and ">" not in out


# ---------------------------------------------------------------------------
# zendesk_comment_to_slack
# ---------------------------------------------------------------------------

ZENDESK_COMMENTS = [
    ("Ann Agent", "Fixed it.", "*Ann Agent* (Zendesk): Fixed it."),
    ("Ann", "line1\r\nline2", "*Ann* (Zendesk): line1\nline2"),
    ("Ann <@U1> *boss*\n", "hi", f"*Ann &lt;@{Z}U1&gt; boss* (Zendesk): hi"),
    ("@here", "x", f"*@{Z}here* (Zendesk): x"),
    ("Tom & Jerry", "<b>", "*Tom &amp; Jerry* (Zendesk): &lt;b&gt;"),
    ("Ann", "> quoted\nok", "*Ann* (Zendesk):\n&gt; quoted\nok"),
    ("Ann", "```\ncode\n```", "*Ann* (Zendesk):\n```\ncode\n```"),
    ("Ann", "", "*Ann* (Zendesk):"),
    ("", "hi", "*Zendesk user* (Zendesk): hi"),
    ("Zoë 👩‍💻", "**done**", "*Zoë 👩‍💻* (Zendesk): *done*"),
]


@pytest.mark.parametrize("author,body,expected", ZENDESK_COMMENTS)
def test_zendesk_comment_to_slack(author, body, expected):
    assert zendesk_comment_to_slack(author, body) == expected


# ---------------------------------------------------------------------------
# split_for_slack
# ---------------------------------------------------------------------------

SPLITS = [
    ("", 10, []),
    ("  \n ", 10, []),
    ("short", 10, ["short"]),
    ("exactly10!", 10, ["exactly10!"]),
    ("para one here.\n\npara two is here\nline two", 20, ["para one here.", "para two is here", "line two"]),
    ("aaaa bbbb cccc dddd eeee", 10, ["aaaa bbbb", "cccc dddd", "eeee"]),
    ("aaaa bbbb\ncc dd ee ff", 12, ["aaaa bbbb", "cc dd ee ff"]),
    ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
    # paragraph preferred over a later line break when at least half full
    ("a" * 6 + "\n\n" + "b" * 3 + "\n" + "c" * 10, 12, ["a" * 6, "b" * 3, "c" * 10]),
    # a paragraph break too early loses to a later word break
    ("ab\n\ncd ef gh ij kl", 12, ["ab\n\ncd ef gh", "ij kl"]),
    # never inside a <...|...> link when avoidable
    ("see <https://x.co|a b c> ok", 20, ["see", "<https://x.co|a b c>", "ok"]),
    ("word <https://x.co/abc|lbl>", 15, ["word", "<https://x.co/a", "bc|lbl>"]),
    # never inside an entity
    ("ab&amp;cd" * 3, 10, ["ab&amp;cda", "b&amp;cdab", "&amp;cd"]),
    ("abcdefgh&lt;ijk", 10, ["abcdefgh", "&lt;ijk"]),
    # never inside a grapheme
    ("👍🏽" * 10, 5, ["👍🏽👍🏽"] * 5),
    ("🇺🇸" * 5, 5, ["🇺🇸🇺🇸", "🇺🇸🇺🇸", "🇺🇸"]),
    ("e\u0301" * 6, 5, ["e\u0301e\u0301", "e\u0301e\u0301", "e\u0301e\u0301"]),
    ("👩‍👩‍👧" * 3, 6, ["👩‍👩‍👧", "👩‍👩‍👧", "👩‍👩‍👧"]),
    # code blocks cut in two are closed and reopened
    (
        "```\n" + "\n".join(f"line {i}" for i in range(10)) + "\n```\nafter",
        30,
        [
            "```\nline 0\nline 1\nline 2\n```",
            "```\nline 3\nline 4\nline 5\n```",
            "```\nline 6\nline 7\nline 8\n```",
            "```\nline 9\n```\nafter",
        ],
    ),
    ("```\n" + "x" * 20 + "\n```", 20, ["```\n" + "x" * 12 + "\n```", "```\n" + "x" * 8 + "\n```"]),
]


@pytest.mark.parametrize("text,limit,expected", SPLITS)
def test_split_for_slack(text, limit, expected):
    chunks = split_for_slack(text, limit)
    assert chunks == expected
    assert all(len(c) <= limit for c in chunks)


def test_split_40k_paragraphs():
    paras = [f"p{i:02d} " + "x" * 996 for i in range(40)]  # 1000 chars each
    text = "\n\n".join(paras)
    assert len(text) == 40078
    expected = ["\n\n".join(paras[i:i + 3]) for i in range(0, 40, 3)]
    chunks = split_for_slack(text)
    assert chunks == expected
    assert [len(c) for c in chunks] == [3004] * 13 + [1000]


def test_split_40k_words():
    text = "word " * 8000
    assert len(text) == 40000
    chunks = split_for_slack(text)
    assert chunks == ["word " * 699 + "word"] * 11 + ["word " * 299 + "word"]


def test_split_40k_no_whitespace():
    text = "abcdefghij" * 4000
    chunks = split_for_slack(text)
    assert chunks == [text[i:i + 3500] for i in range(0, 40000, 3500)]
    assert "".join(chunks) == text


def test_split_40k_emoji_never_broken():
    text = "👍🏽" * 20000  # 40k code points, 2 per cluster
    chunks = split_for_slack(text)
    assert chunks == ["👍🏽" * 1750] * 11 + ["👍🏽" * 750]


# clusters the old hand-written approximation did not know, and the usual ones
CLUSTERS = [
    "👨‍👩‍👧‍👦",  # ZWJ family
    "🏳️‍🌈",  # flag with variation selector and ZWJ
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland: tag sequence
    "🇫🇷",  # regional indicator pair
    "👋🏾",  # skin tone
    "1️⃣",  # keycap
    "e\u0301\u0323",  # two combining marks
    "\u1100\u1161\u11a8",  # Hangul syllable from conjoining jamo
    "\u0915\u094d\u0937\u093f",  # Devanagari conjunct with a spacing vowel sign
]


# (a cluster longer than the limit is cut: see the zalgo test)
@pytest.mark.parametrize("cluster,limit", [(c, n) for c in CLUSTERS for n in (3, 7, 10, 16) if len(c) <= n])
def test_split_and_truncate_never_cut_a_grapheme_cluster(cluster, limit):
    text = "ab" + cluster * 12
    chunks = split_for_slack(text, limit)
    assert "".join(chunks) == text and all(len(c) <= limit for c in chunks)
    for chunk in chunks:
        assert chunk.replace("ab", "").replace(cluster, "") == ""  # whole clusters only
    cut = truncate(text, limit)
    assert len(cut) <= limit and cut.endswith("…")
    assert cut[:-1].replace("ab", "").replace(cluster, "") == ""


def test_a_cluster_longer_than_the_limit_is_still_cut_so_splitting_progresses():
    zalgo = "Z" + "\u0336\u0301\u0317" * 40  # one cluster of 121 code points
    text = "ok " + zalgo + " done"
    chunks = split_for_slack(text, 50)
    assert all(len(c) <= 50 for c in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")
    assert chunks[0] == "ok" and chunks[-1].endswith("done")
    assert len(truncate(zalgo, 20)) == 20


def test_split_rejects_bad_limit():
    with pytest.raises(ValueError):
        split_for_slack("abc", 0)


# ---------------------------------------------------------------------------
# truncate
# ---------------------------------------------------------------------------

TRUNCATES = [
    ("", 10, "…", ""),
    ("hello", 5, "…", "hello"),
    ("hello world foo bar", 12, "…", "hello world…"),
    ("hello world foo bar", 12, "...", "hello..."),
    ("helloworld", 5, "…", "hell…"),
    ("abcdef", 3, "…", "ab…"),
    ("abcdef", 0, "…", ""),
    ("abcdef", 1, "…", "…"),
    ("one two\nthree four", 12, "…", "one two…"),
    # the only space is too early: hard cut instead of a 2-char excerpt
    ("ab " + "c" * 20, 10, "…", "ab cccccc…"),
    ("👍🏽👍🏽👍🏽", 4, "…", "👍🏽…"),
    ("naïve café au lait", 12, "…", "naïve café…"),
]


@pytest.mark.parametrize("text,limit,marker,expected", TRUNCATES)
def test_truncate(text, limit, marker, expected):
    assert truncate(text, limit, marker) == expected


def test_truncate_email_excerpt_1000():
    text = "word " * 300  # 1500 chars
    out = truncate(text, 1000)
    assert out == ("word " * 199).rstrip() + " word…"
    assert len(out) == 1000


# ---------------------------------------------------------------------------
# slack_reply_to_zendesk / files_block
# ---------------------------------------------------------------------------

FILE_A = {"name": "a.png", "permalink": "https://s.slack.com/files/a"}
FILE_B = {"title": "Report", "url_private": "https://files.slack.com/b"}
FILE_C = {"id": "F1"}

REPLIES = [
    ("Bob", "hello", [], "Bob (Slack): hello"),
    ("Bob", "hello\nworld", None, "Bob (Slack): hello\nworld"),
    ("Bob", "see this", [FILE_A], "Bob (Slack): see this\n📎 a.png: https://s.slack.com/files/a"),
    (
        "Bob Smith\n",
        "",
        [FILE_A, FILE_B, FILE_C],
        "Bob Smith (Slack):\n📎 a.png: https://s.slack.com/files/a\n📎 Report: https://files.slack.com/b\n📎 file",
    ),
    ("", "hi", [], "Slack user (Slack): hi"),
    ("Zoë", "  ✅ done  ", [], "Zoë (Slack): ✅ done"),
]


@pytest.mark.parametrize("name,text,files,expected", REPLIES)
def test_slack_reply_to_zendesk(name, text, files, expected):
    assert slack_reply_to_zendesk(name, text, files) == expected


FILES_BLOCKS = [
    ([], "", ""),
    (None, "", ""),
    ([FILE_A], "", "📎 a.png: https://s.slack.com/files/a"),
    ([FILE_A, FILE_B], "", "📎 a.png: https://s.slack.com/files/a\n📎 Report: https://files.slack.com/b"),
    ([FILE_A], "my text\n", "my text\n📎 a.png: https://s.slack.com/files/a"),
    ([], "only text", "only text"),
    ([{"name": "two\nlines.txt", "permalink": "https://x"}], "", "📎 two lines.txt: https://x"),
]


@pytest.mark.parametrize("files,text,expected", FILES_BLOCKS)
def test_files_block(files, text, expected):
    assert files_block(files, text) == expected


def test_files_block_single_argument():
    assert files_block([FILE_A]) == "📎 a.png: https://s.slack.com/files/a"


# ---------------------------------------------------------------------------
# plain_from_html
# ---------------------------------------------------------------------------

HTMLS = [
    ("", ""),
    ("just text &amp; more", "just text & more"),
    ("<p>Hello <b>there</b>,</p><p>second</p>", "Hello there,\n\nsecond"),
    ("line<br>two<br/>three<br />four", "line\ntwo\nthree\nfour"),
    ("<ul>\n  <li>one</li>\n  <li>two</li>\n</ul>\n<p>after</p>", "- one\n- two\n\nafter"),
    ("<ol><li>a</li><li>b</li></ol>", "- a\n- b"),
    ("<p>\n  Para\n  text\n</p>", "Para text"),
    ("<div><div><p>deep</p></div></div>", "deep"),
    ("a<br><br><br><br>b", "a\n\nb"),
    ("<script>alert(1)</script><style>p{}</style>visible", "visible"),
    ("<a href='https://x.com'>site</a>", "site (https://x.com)"),
    ("<a href='https://x.com'>https://x.com</a>", "https://x.com"),
    ("<a href='https://x.com'></a>", "https://x.com"),
    ("<a href='mailto:a@b.c'>a@b.c</a>", "a@b.c"),
    ("<a href='mailto:a@b.c'>Ann</a>", "Ann (a@b.c)"),
    ("<a href='javascript:alert(1)'>click</a>", "click"),
    ("<a href='https://evil.example/phish'>https://login.company.example</a>",
     "https://login.company.example (https://evil.example/phish)"),
    ("<a href='https://x.com/docs/'>x.com/docs</a>", "https://x.com/docs/"),
    ("&lt;tag&gt;&nbsp;x &#x1F44D; &eacute;", "<tag> x 👍 é"),
    ("<pre>  code\n    indented</pre>", "  code\n    indented"),
    ("<p>x</p><pre>a\n  b</pre>", "x\n\na\n  b"),
    ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
    ("<h1>Title</h1>body", "Title\n\nbody"),
    ("<img src='x.png' alt='screenshot'>", "screenshot"),
    ("<p>@here &lt;!channel&gt;</p>", "@here <!channel>"),
    ("<p>unclosed <b>bold", "unclosed bold"),
]


@pytest.mark.parametrize("html_text,expected", HTMLS)
def test_plain_from_html(html_text, expected):
    assert plain_from_html(html_text) == expected


def test_an_email_layout_table_reads_as_lines_not_a_padded_grid():
    html_text = (
        "<html><head><style>td{padding:4px}</style></head><body><table width='100%'>"
        "<tr><td><img src='logo.png' alt='ACME'></td><td align='right'>Order #1234</td></tr>"
        "<tr><td colspan='2'><table><tr><td><p>Hi team,</p><p>The printer is <b>on fire</b>.</p>"
        "<p>Thanks,<br>Jane</p></td><td>Call 555-0100</td></tr></table></td></tr>"
        "<tr><td>Unsubscribe</td><td>Privacy</td></tr></table></body></html>")
    assert plain_from_html(html_text) == (
        "ACME Order #1234\n\nHi team,\n\nThe printer is on fire.\n\nThanks,\nJane\n\nCall 555-0100\n\n"
        "Unsubscribe Privacy")


def test_html_link_then_slack_says_where_it_goes():
    html_text = "<p>Log in at <a href='https://evil.example/phish'>https://login.company.example</a></p>"
    out = zendesk_to_slack(plain_from_html(html_text))
    assert out == "Log in at https://login.company.example (https://evil.example/phish)"
    assert "<" not in out and "|" not in out


def test_html_then_slack_is_safe():
    html_text = "<p>@here &lt;!channel&gt;</p>"
    assert zendesk_to_slack(plain_from_html(html_text)) == f"@{Z}here &lt;!{Z}channel&gt;"


# ---------------------------------------------------------------------------
# cap_posts
# ---------------------------------------------------------------------------

LINK = "<https://acme.zendesk.com/agent/tickets/7|#7>"
TAIL = "\n… continued in Zendesk: " + LINK


def assert_capped(chunks, max_posts):
    assert 1 <= len(chunks) <= max_posts
    assert all(len(c) <= SLACK_CHUNK_LIMIT for c in chunks)
    assert chunks[-1].endswith(TAIL)
    head = chunks[-1][: -len(TAIL)]
    assert head.strip() and head == head.rstrip()
    assert head.count("```") % 2 == 0  # no open code block
    assert head.count("<") == head.count(">")  # no token cut in half (all "<" in mrkdwn start one)
    assert not re.search(r"&[#\w]*$", head)  # no entity cut in half
    return head


def test_a_100k_character_comment_is_capped_with_a_continuation_line():
    body = "Logs & <details> at https://x.com/a?b=1&c=2 and [the runbook](https://wiki.example/run) ok. " * 1100
    assert len(body) > 100_000
    whole = split_for_slack(zendesk_comment_to_slack("Ann", body))
    chunks = cap_posts(whole, 5, LINK)
    assert len(whole) > 25 and len(chunks) == 5 and chunks[:4] == whole[:4]
    head = assert_capped(chunks, 5)
    assert whole[4].startswith(head) and whole[4][len(head)] == " "  # cut at a word


def test_a_5000_line_code_block_is_capped_with_its_block_closed():
    body = "```\n" + "\n".join(f"line {i} x<y && z" for i in range(5000)) + "\n```"
    chunks = cap_posts(split_for_slack(zendesk_comment_to_slack("Ann", body)), 3, LINK)
    assert len(chunks) == 3
    head = assert_capped(chunks, 3)
    assert head.endswith("\n```") and re.search(r"line \d+ x&lt;y &amp;&amp; z\n```$", head)


def test_few_chunks_are_left_alone_and_a_full_last_chunk_is_cut_at_a_word():
    assert cap_posts(["a", "b"], 2, LINK) == ["a", "b"]
    words = "word " * 699 + "word"  # 3499 chars: no room for the tail
    chunks = cap_posts([words, words, words], 2, LINK)
    assert chunks[0] == words and chunks[1].startswith("word word") and chunks[1].endswith(" word" + TAIL)
    assert len(chunks[1]) <= SLACK_CHUNK_LIMIT
    with pytest.raises(ValueError):
        cap_posts(["a", "b"], 0, LINK)
