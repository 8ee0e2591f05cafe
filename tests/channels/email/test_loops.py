"""No automatic reply to machines, lists, bounces or ourselves; and not too many to anyone."""

from __future__ import annotations

import pytest

from channels.email.loops import AUTO_HEADERS, over_rate, refusal

OWN = {"support@shop.example", "billing@shop.example"}


@pytest.mark.parametrize(
    ("headers", "sender", "why"),
    [
        ({"auto-submitted": "auto-replied"}, "budi@example.co.id", "Auto-Submitted"),
        ({"auto-submitted": "auto-generated; owner-email=x@y"}, "budi@example.co.id", "Auto-Submitted"),
        ({"precedence": "bulk"}, "news@shop-other.example", "Precedence"),
        ({"precedence": "List"}, "a@b.example", "Precedence"),
        ({"precedence": "junk"}, "a@b.example", "Precedence"),
        ({"x-loop": "helpdesk@other.example"}, "a@b.example", "X-Loop"),
        ({"x-auto-response-suppress": "DR, RN, NRN, OOF, AutoReply"}, "a@b.example", "X-Auto-Response-Suppress"),
        ({"x-auto-response-suppress": "All"}, "a@b.example", "X-Auto-Response-Suppress"),
        ({"list-id": "<promo.lists.example>"}, "a@b.example", "mailing list"),
        ({"list-unsubscribe": "<mailto:u@x>"}, "a@b.example", "mailing list"),
        ({"return-path": "<>"}, "a@b.example", "bounce"),
        ({}, "MAILER-DAEMON@mx.example.co.id", "machine"),
        ({}, "postmaster@example.co.id", "machine"),
        ({}, "noreply@bank.example", "machine"),
        ({}, "no-reply+orders@marketplace.example", "machine"),
        ({}, "do-not-reply@airline.example", "machine"),
        ({}, "donotreply@airline.example", "machine"),
        ({}, "support@shop.example", "our own address"),
        ({"content-type": "multipart/report; report-type=delivery-status"}, "x@mx.example", "delivery or read report"),
        ({"content-type": "message/delivery-status"}, "x@mx.example", "delivery or read report"),
        ({}, "news-request@lists.example", "command or owner"),
        ({}, "owner-promo@lists.example", "command or owner"),
        ({}, "promo-bounces@lists.example", "command or owner"),
    ],
)
def test_no_acknowledgement_goes_to_what_a_machine_sent(headers: dict[str, str], sender: str, why: str):
    """Each kind of automatic or list mail is refused, with the reason named."""
    reason = refusal(headers, sender.lower(), OWN)
    assert reason is not None and why in reason


@pytest.mark.parametrize("name", ["Mail Delivery Subsystem", "Mail Delivery System", "MAILER DAEMON", "Postmaster"])
def test_a_bounce_is_known_by_its_senders_name_when_its_address_does_not_say(name: str):
    """A delivery notice from an ordinary-looking address, without Return-Path: <>, is still a machine's."""
    reason = refusal({}, "notice7731@mx.example.co.id", OWN, name)
    assert reason is not None and "mail system" in reason
    assert refusal({}, "rina@example.co.id", OWN, "Rina Delivery") is None


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({}, "budi@example.co.id"),
        ({"auto-submitted": "no"}, "budi@example.co.id"),
        ({"precedence": "first-class"}, "budi@example.co.id"),
        ({"x-auto-response-suppress": "DR, RN"}, "budi@example.co.id"),  # delivery and read receipts only
        ({}, "norbert@example.com"),  # a name that starts like "no..." is a person
        ({}, "replies@example.com"),
    ],
)
def test_a_person_gets_an_acknowledgement(headers: dict[str, str], sender: str):
    """Ordinary mail from a person, and headers that do not forbid a reply, let one go."""
    assert refusal(headers, sender, OWN) is None


def test_our_own_automatic_mail_is_refused_by_our_own_rules():
    """What the engine stamps on its acknowledgements makes another engine (or itself) stay silent: no ping-pong."""
    stamped = {name.lower(): value for name, value in AUTO_HEADERS.items()}
    assert refusal(stamped, "support@other-shop.example", OWN) is not None


def test_rate_limit_counts_replies_in_the_window_only():
    """Three in the last hour is the limit; older ones do not count."""
    now = 10_000.0
    assert not over_rate([now - 4000, now - 3500], now, limit=3, window_s=3600)
    assert not over_rate([now - 10, now - 20], now, limit=3, window_s=3600)
    assert over_rate([now - 10, now - 20, now - 3599], now, limit=3, window_s=3600)
    assert not over_rate([now - 10, now - 20, now - 3600], now, limit=3, window_s=3600)
