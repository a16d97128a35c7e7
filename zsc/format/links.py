"""Links from Zendesk text: they must say where they go.

Anyone who can email support writes Zendesk text, so a link there may show one
address and open another (``[https://bank.example](https://evil.example)``).
Slack's ``<url|label>`` would make that a live, convincing link.  So text from
Zendesk never becomes a labelled Slack link: a link whose label is not its URL
reads ``label (url)`` with the URL shown as itself, and a link whose label is
its URL is just the URL.
"""

from __future__ import annotations

import re

from zsc.format.text import _slack_escape

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.\-]*:(?://)?", re.I)


def safe_link_url(url: str) -> bool:
    """Only http(s) and mailto become links; javascript:, data:... stay text."""
    return bool(re.match(r"(?:https?://[^\s/]|mailto:[^\s])", url, re.I))


def _bare(address: str) -> str:
    return _SCHEME_RE.sub("", address.strip(), count=1).rstrip("/")


def label_is_target(label: str, url: str) -> bool:
    """Does the label show the URL itself (up to the scheme and a trailing slash)?"""
    return _bare(label).lower() == _bare(url).lower() if label.strip() else True


def defuse_pipes(url: str) -> str:
    """A "|" in a URL would read as Slack's url|label separator: percent-encode it
    (the same URL to a server), so no typed text can carry a label."""
    return url.replace("|", "%7C")


def slack_url(url: str) -> str:
    """A label-less Slack link ``<url>`` from a *raw* (unescaped) safe URL."""
    return f"<{_slack_escape(defuse_pipes(url))}>"


_BARE_URL_RE = re.compile(r"(?:https?://|mailto:)[^\s<>]+", re.I)


def defuse_bare_urls(text: str) -> str:
    """``defuse_pipes`` for every URL typed in plain text (a link label, a name)."""
    return _BARE_URL_RE.sub(lambda m: defuse_pipes(m.group(0)), text) if "|" in text else text
