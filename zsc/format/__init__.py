"""Text conversion between Slack mrkdwn and Zendesk comment bodies.

Everything here is a pure function: no network, no Slack/Zendesk SDK imports.
Modules: ``slack_text`` (Slack -> Zendesk), ``zendesk_text`` and ``links``
(Zendesk -> Slack), ``split`` (truncate, split_for_slack, cap_posts), ``html``,
``replies``, ``emoji_codes`` and ``text`` (shared helpers); import from here.

Direction Slack -> Zendesk (``slack_to_plain``, ``subject_from_slack``,
``slack_reply_to_zendesk``, ``files_block``) produces *plain text*: Slack control
sequences (``<@U1>``, ``<#C1|x>``, ``<!here>``, ``<url|label>``) are resolved to
readable text, Slack's ``&amp; &lt; &gt;`` are unescaped, emoji shortcodes become
Unicode emoji.

Direction Zendesk -> Slack (``zendesk_to_slack``, ``zendesk_comment_to_slack``)
treats the Zendesk text as *untrusted literal text* and produces Slack mrkdwn that
cannot ping anybody and cannot contain a Slack control sequence other than the
label-less ``<url>`` links this package builds itself:

* A link never shows one address and opens another: ``[label](url)`` and
  ``<a href=url>label</a>`` read ``label (url)``, and a ``|`` in a typed URL is
  percent-encoded so nothing can pose as Slack's ``url|label`` (links.py).

* ``&``, ``<``, ``>`` are escaped (Slack's rule), so typed ``<!channel>`` or
  ``<@U123>`` are shown literally.  Text that is *already* escaped (``&lt;``) is
  escaped again (``&amp;lt;``) so Slack shows exactly what the agent typed.
* A ZERO WIDTH SPACE (U+200B) is inserted after the ``@`` of every bare
  ``@word`` mention and after the ``@``/``!`` of ``@here``/``@channel``/
  ``@everyone``/``@group`` (and ``!here`` etc).  Why: escaping only protects
  against the ``<!here>`` form; Slack *also* turns plain ``@here``/``@name``
  into real mentions when a message is posted with ``link_names=1`` or
  ``parse=full`` (and when a user edits/re-posts the text).  The invisible
  character breaks the token so no mention parser can match it while the text
  still reads the same.  U+200B is used rather than ZERO WIDTH JOINER (U+200D)
  because ZWJ has a meaning (it glues emoji sequences together) and may be
  normalised away; ZWSP is the conventional "break this token" character.
  Inside code spans/blocks only the broadcast words are neutralised, so code
  such as ``@property`` survives copy-paste.
"""

from zsc.format.emoji_codes import emojize, is_emoji, strip_variants
from zsc.format.replies import files_block, slack_reply_to_zendesk
from zsc.format.slack_text import slack_to_plain, subject_from_slack
from zsc.format.split import CONTINUED, cap_posts, split_for_slack, truncate
from zsc.format.text import NO_TEXT, SLACK_CHUNK_LIMIT, SUBJECT_LIMIT, ZWSP
from zsc.format.zendesk_text import one_line_name, zendesk_comment_as_agent, zendesk_comment_to_slack, zendesk_to_slack

__all__ = [
    "ZWSP",
    "NO_TEXT",
    "SUBJECT_LIMIT",
    "SLACK_CHUNK_LIMIT",
    "slack_to_plain",
    "subject_from_slack",
    "zendesk_to_slack",
    "split_for_slack",
    "cap_posts",
    "CONTINUED",
    "truncate",
    "slack_reply_to_zendesk",
    "files_block",
    "zendesk_comment_to_slack",
    "zendesk_comment_as_agent",
    "one_line_name",
    "plain_from_html",
    "emojize",
    "is_emoji",
    "strip_variants",
]


def plain_from_html(html: str) -> str:
    """Readable plain text from an HTML email body (zsc.format.html); html.parser is
    loaded by the first emailed ticket, not by every daemon."""
    from zsc.format.html import plain_from_html as convert

    return convert(html)
