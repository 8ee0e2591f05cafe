"""When an automatic reply must not be sent (RFC 3834 and the habits of real mail systems).

The engine acknowledges a customer's new email once per thread. It must never answer a
machine: another auto-responder (two of them would write to each other for ever), a mailing
list, a bounce, or itself. :func:`refusal` says why not, or None when an acknowledgement may
go; :func:`over_rate` limits how many go to one sender in a window, whatever the headers say.
Our own automatic mail carries :data:`AUTO_HEADERS`, so others' responders leave it alone too.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

__all__ = ["AUTO_HEADERS", "over_rate", "refusal"]

AUTO_HEADERS: Mapping[str, str] = {
    "Auto-Submitted": "auto-replied",
    "X-Auto-Response-Suppress": "All",
    "Precedence": "auto_reply",
}

_MACHINE_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|mail-?daemon|autoresponder|auto-?reply)"
    r"([+\-._].*)?$",
    re.IGNORECASE,
)
# List command and owner addresses (RFC 3834 section 2), and list servers.
_LIST_COMMAND = re.compile(r"^(owner-.+|.+-(request|owner|bounces?)|listserv|majordomo|mailman)$", re.IGNORECASE)
# What bounce senders call themselves, when their address or Return-Path does not say.
_DAEMON_NAME = re.compile(
    r"\b(mail delivery (subsystem|system|service)|mailer[ -]?daemon|postmaster|"
    r"delivery status notification|undeliverable mail|microsoft outlook)\b",
    re.IGNORECASE,
)
_REPORT = re.compile(r"^\s*(multipart/report|message/delivery-status|message/disposition-notification)\b", re.I)
_BULK = {"bulk", "list", "junk", "auto_reply"}
_SUPPRESS = re.compile(r"\b(all|autoreply|oof)\b", re.IGNORECASE)


def refusal(
    headers: Mapping[str, str], sender: str, own_addresses: Collection[str], sender_name: str = ""
) -> str | None:
    """Why no automatic reply may answer this mail; None if one may.

    Args:
        headers: the mail's headers, names lower-cased (as :class:`ParsedMail` has them).
        sender: the From address, lower-cased.
        own_addresses: the engine's own mailbox addresses, lower-cased.
        sender_name: the From display name, decoded.
    """
    report = _REPORT.match(headers.get("content-type", ""))
    if report:
        return f"a delivery or read report ({report.group(1).lower()})"
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _BULK:
        return f"Precedence: {precedence}"
    if "x-loop" in headers:
        return "X-Loop is set"
    suppress = headers.get("x-auto-response-suppress", "")
    if _SUPPRESS.search(suppress):
        return f"X-Auto-Response-Suppress: {suppress}"
    for name in ("list-id", "list-unsubscribe", "list-post"):
        if name in headers:
            return f"mailing list ({name})"
    if headers.get("return-path", "").strip() == "<>":
        return "empty Return-Path (a bounce)"
    local = sender.split("@", 1)[0]
    if _MACHINE_SENDER.match(local):
        return f"sender {sender} is a machine"
    if _LIST_COMMAND.match(local):
        return f"sender {sender} is a mailing list's command or owner address"
    if _DAEMON_NAME.search(sender_name):
        return f"sender calls itself {sender_name!r}: a mail system's report"
    if sender in own_addresses:
        return f"sender {sender} is our own address"
    return None


def over_rate(sent_at: Sequence[float], now: float, limit: int, window_s: float) -> bool:
    """True when ``limit`` automatic replies already went to this sender in the last ``window_s`` seconds."""
    return sum(1 for t in sent_at if now - window_s < t <= now) >= limit
