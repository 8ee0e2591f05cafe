"""Whose word on a sender counts: the trusted server's Authentication-Results only, topmost verdict per method."""

from __future__ import annotations

import pytest

from channels.email.authentication import check_sender

MX = "mx.shop.test"
FROM = "ana@pelanggan.test"


@pytest.mark.parametrize(
    ("headers", "authenticated", "said"),
    [
        ([f"{MX}; dmarc=pass header.from=pelanggan.test"], True, "DMARC passed"),
        ([f"{MX}; dmarc=fail header.from=pelanggan.test; spf=pass smtp.mailfrom=ana@pelanggan.test"], False, "DMARC"),
        ([f"{MX}; spf=pass smtp.mailfrom=bounce@mail.pelanggan.test"], True, "SPF passed"),
        ([f"{MX}; spf=pass smtp.mailfrom=ana@evil.test"], False, "did not authenticate"),
        ([f"{MX}; dkim=pass header.d=pelanggan.test header.s=s1"], True, "DKIM passed"),
        ([f"{MX}; dkim=pass header.d=evil.test"], False, "did not authenticate"),
        ([f"{MX}; dkim=pass header.d=test"], True, "DKIM passed"),  # a parent domain aligns (relaxed)
        ([f"{MX}; dkim=pass header.d=xpelanggan.test"], False, "did not authenticate"),  # not a parent
        ([f"{MX}; none"], False, "did not authenticate"),
        (["mx.evil.test; dmarc=pass header.from=pelanggan.test"], False, f"no Authentication-Results from {MX}"),
        ([], False, f"no Authentication-Results from {MX}"),
        (["this is not a header ;;; =="], False, "could be read"),
        # The server's own verdict (topmost) stands; a copy the sender wrote further down does not overrule it.
        (
            [f"{MX}; dmarc=fail header.from=pelanggan.test", f"{MX}; dmarc=pass header.from=pelanggan.test"],
            False,
            "fail",
        ),
        # Milters write one header each: their methods add up.
        ([f"{MX}; spf=none", f"{MX}; dkim=pass header.d=pelanggan.test"], True, "DKIM passed"),
        # DMARC for another From domain says nothing of this one.
        ([f"{MX}; dmarc=pass header.from=other.test"], False, "did not authenticate"),
        ([f"{MX.upper()}; dmarc=pass header.from=pelanggan.test"], True, "DMARC passed"),
    ],
)
def test_the_trusted_servers_verdict_decides(headers: list[str], authenticated: bool, said: str):
    """Each case: authenticated or not, with the reason in words."""
    check = check_sender(headers, FROM, MX)
    assert check.authenticated is authenticated and said in check.reason, check.reason


def test_without_a_trusted_server_no_mail_is_authenticated():
    """email.trusted_authserv_id empty: every mail is unauthenticated, and the reason says why."""
    check = check_sender([f"{MX}; dmarc=pass header.from=pelanggan.test"], FROM, "")
    assert not check.authenticated and "trusted_authserv_id" in check.reason
