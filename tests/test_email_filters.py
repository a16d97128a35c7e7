"""Which email senders may reach Slack: [email] allow_domains / deny_domains / deny_addresses."""

from __future__ import annotations

import pytest

from zsc.config import EmailConfig
from zsc.sync.email import denial_reason, sender_allowed


def rules(allow=(), deny_domains=(), deny_addresses=()) -> EmailConfig:
    return EmailConfig(allow_domains=tuple(allow), deny_domains=tuple(deny_domains),
                       deny_addresses=tuple(deny_addresses))


def test_no_rules_allow_everyone_even_without_an_address():
    assert sender_allowed("anyone@anywhere.test", rules())
    assert sender_allowed(None, rules())
    assert sender_allowed("", rules())


@pytest.mark.parametrize("address", ["spam@junk.test", "SPAM@JUNK.TEST", "x@mail.junk.test", " x@Junk.Test "])
def test_deny_domains_cover_subdomains_and_ignore_case(address):
    assert denial_reason(address, rules(deny_domains=["junk.test"])) == "deny_domains"


@pytest.mark.parametrize("address", ["x@notjunk.test", "x@junk.test.example", "junk.test@ok.test"])
def test_deny_domains_match_whole_labels_of_the_domain_only(address):
    assert sender_allowed(address, rules(deny_domains=["junk.test"]))


def test_deny_addresses_match_the_whole_address_ignoring_case():
    r = rules(deny_addresses=["Mallory@Example.com"])
    assert denial_reason("mallory@EXAMPLE.com", r) == "deny_addresses"
    assert sender_allowed("mallory2@example.com", r)
    assert sender_allowed("alice@example.com", r)


def test_allow_list_admits_only_its_domains_and_their_subdomains():
    r = rules(allow=["Customer.test"])
    assert sender_allowed("a@customer.test", r)
    assert sender_allowed("a@eu.CUSTOMER.test", r)
    assert denial_reason("a@other.test", r) == "not in allow_domains"
    assert denial_reason("a@customer.test.evil", r) == "not in allow_domains"


def test_allow_list_refuses_senders_without_an_address():
    assert denial_reason(None, rules(allow=["customer.test"])) == "not in allow_domains"
    assert denial_reason("no-at-sign", rules(allow=["customer.test"])) == "not in allow_domains"


def test_deny_wins_over_allow():
    r = rules(allow=["customer.test"], deny_domains=["bad.customer.test"], deny_addresses=["boss@customer.test"])
    assert denial_reason("x@bad.customer.test", r) == "deny_domains"
    assert denial_reason("boss@customer.test", r) == "deny_addresses"
    assert sender_allowed("staff@customer.test", r)
