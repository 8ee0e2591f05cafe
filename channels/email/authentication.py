"""Whether the receiving mail server authenticated a mail's sender (RFC 8601 ``Authentication-Results``).

A ``From`` header is a claim anyone can write. The server that took the mail in checked SPF,
DKIM and DMARC and wrote down what it found in an ``Authentication-Results`` header naming
itself (its *authserv-id*). Only headers naming the server configured as trusted
(``email.trusted_authserv_id``) are read: any other copy, which a sender can put in the
message, is ignored. Read top to bottom, the first verdict of each method counts, so a copy a
sender wrote lower down cannot overrule what the server said; a server that does not strip
incoming copies of its own header (RFC 8601 section 5) could still be fooled into trusting a
method it did not report, which is why the deployment must name a server that strips them.

A mail is *authenticated* when DMARC passed for its ``From`` domain, or, where the server
reported no DMARC result, when SPF passed for an envelope sender (``smtp.mailfrom``) or DKIM
passed for a signing domain (``header.d``) aligned with the ``From`` domain: the same domain,
or one a subdomain of the other (DMARC's relaxed alignment without a public-suffix list; two
sibling domains are never aligned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import authres
import authres.core

__all__ = ["SenderCheck", "check_sender"]


@dataclass(frozen=True, slots=True)
class SenderCheck:
    """The verdict on a mail's ``From``: ``authenticated`` or not, and the reason in words."""

    authenticated: bool
    reason: str


def _aligned(domain: str, from_domain: str) -> bool:
    domain, from_domain = domain.strip().lower().rstrip("."), from_domain.strip().lower().rstrip(".")
    if not domain or not from_domain:
        return False
    return domain == from_domain or domain.endswith("." + from_domain) or from_domain.endswith("." + domain)


def _domain_of(value: str | None) -> str:
    value = (value or "").strip()
    return value.rsplit("@", 1)[-1] if value else ""


def _property(result: Any, kind: str, name: str) -> str:
    for prop in result.properties:
        if prop.type == kind and prop.name == name:
            return str(prop.value or "")
    return ""


def _trusted_results(headers: Sequence[str], trusted_id: str) -> tuple[dict[str, list[Any]], list[str], bool]:
    """The results of each method in the trusted server's headers, the topmost first; what could not be
    read; and whether the trusted server wrote any header at all."""
    found: dict[str, list[Any]] = {}
    unreadable: list[str] = []
    seen_methods: set[str] = set()
    trusted = False
    for value in headers:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(value)
        except authres.core.AuthResError as exc:
            unreadable.append(str(exc))
            continue
        if str(header.authserv_id).lower() != trusted_id.lower():
            continue
        trusted = True
        in_this = set()
        for result in header.results:
            method = str(getattr(result, "method", "") or "").lower()
            if not method or method in seen_methods:
                continue  # a verdict given higher up stands
            found.setdefault(method, []).append(result)
            in_this.add(method)
        seen_methods |= in_this
    return found, unreadable, trusted


def check_sender(headers: Sequence[str], from_address: str, trusted_id: str) -> SenderCheck:
    """Whether the trusted server authenticated ``from_address`` by the mail's ``Authentication-Results``.

    Args:
        headers: every ``Authentication-Results`` header of the mail, as written, topmost first.
        from_address: the ``From`` address, lower-cased.
        trusted_id: the authserv-id of the server whose verdict counts; empty: none does.
    """
    if not trusted_id:
        return SenderCheck(False, "no mail server is trusted to authenticate senders (email.trusted_authserv_id)")
    from_domain = _domain_of(from_address)
    results, unreadable, trusted = _trusted_results(headers, trusted_id)
    if not trusted:
        why = f"no Authentication-Results from {trusted_id}"
        return SenderCheck(False, why + (f" that could be read ({unreadable[0]})" if unreadable else ""))
    for dmarc in results.get("dmarc", ()):
        said_from = _property(dmarc, "header", "from")
        if said_from and not _aligned(said_from, from_domain):
            continue
        if dmarc.result == "pass":
            return SenderCheck(True, f"DMARC passed for {from_domain} at {trusted_id}")
        return SenderCheck(False, f"DMARC {dmarc.result} for {from_domain} at {trusted_id}")
    for spf in results.get("spf", ()):
        domain = _domain_of(_property(spf, "smtp", "mailfrom"))
        if spf.result == "pass" and _aligned(domain, from_domain):
            return SenderCheck(True, f"SPF passed for {domain}, aligned with {from_domain}, at {trusted_id}")
    for dkim in results.get("dkim", ()):
        domain = _property(dkim, "header", "d") or _domain_of(_property(dkim, "header", "i"))
        if dkim.result == "pass" and _aligned(domain, from_domain):
            return SenderCheck(True, f"DKIM passed for {domain}, aligned with {from_domain}, at {trusted_id}")
    said = ", ".join(f"{method}={r[0].result}" for method, r in sorted(results.items())) or "no result"
    return SenderCheck(False, f"{trusted_id} did not authenticate {from_domain} ({said})")
