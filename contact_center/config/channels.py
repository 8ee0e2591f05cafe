"""The sections of the channels: ``[webchat]`` (with its topics) and ``[email]`` (mailboxes, SMTP, the promise)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contact_center.config.checks import Table, default_of, integer, number, skills_table, text, text_list
from contact_center.exceptions import ConfigError
from contact_center.sla import Promise

__all__ = ["EmailConfig", "MailboxConfig", "SmtpConfig", "TopicConfig", "WebchatConfig", "read_email", "read_webchat"]


@dataclass(frozen=True, slots=True)
class TopicConfig:
    label: str
    skills: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class WebchatConfig:
    allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8080", "http://localhost:8080")
    max_frame_bytes: int = 64 * 1024
    max_message_chars: int = 4000
    max_frames_per_s: float = 20.0
    frame_burst: int = 40
    new_visitors_per_min: int = 60  # anonymous visitors one client address may start, per minute
    gap_wait_s: float = 0.5  # a message missing below one that came: waited for on the bus, then read from the store
    delivery_check_s: float = 1.0  # nodes sharing a store compare what their sockets gave with it this often
    leave_grace_s: float = 60.0  # a customer whose every socket closed has left, unless back within this
    heartbeat_s: float = 30.0  # a websocket quiet this long is pinged, and cut if still quiet half of it later
    left_messages_per_hour: int = 3  # messages one customer may leave in the widget (each an email contact)
    attachment_max_mb: float = 10.0  # one file a customer sends in the chat
    attachment_types: tuple[str, ...] = (  # the files a customer may send: content types
        "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
    )  # fmt: skip
    service_level_s: float = 30.0
    at_risk_fraction: float = 0.8
    languages: tuple[str, ...] = ("en", "id")
    topics: Mapping[str, TopicConfig] = field(
        default_factory=lambda: {"general": TopicConfig("General question", (("general", 1),))}
    )


@dataclass(frozen=True, slots=True)
class MailboxConfig:
    """An IMAP mailbox the email channel reads; its mail needs ``skills``."""

    name: str
    host: str
    port: int
    username: str
    password: str
    address: str  # the address customers write to; replies go out from it
    folder: str = "INBOX"
    tls: bool = True
    skills: tuple[tuple[str, int], ...] = (("general", 1),)
    idle: bool = True  # wait in IMAP IDLE where the server offers it; False: poll every email.poll_s


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    username: str = ""
    password: str = ""
    tls: str = "none"  # "none", "starttls" or "tls"
    timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """The email channel; its promise: ``first_response_h`` working hours for ``target`` of emails."""

    first_response_h: float = 2.0
    target: float = 0.9
    at_risk_min: float = 30.0
    mailboxes: tuple[MailboxConfig, ...] = ()
    smtp: SmtpConfig = SmtpConfig()
    ticket_prefix: str = "CS"
    poll_s: float = 30.0  # how often a mailbox without IDLE is looked at (IDLE: at most this long idle)
    max_attachment_mb: float = 25.0
    acks_per_sender: int = 3  # acknowledgements to one address ...
    acks_per_domain: int = 200  # ... and to one domain ...
    ack_window_min: float = 60.0  # ... within this many minutes, at most
    retry_max_h: float = 48.0  # a mail not sent by then is given up (failed)
    retry_first_s: float = 30.0  # the first retry of a mail the server deferred; each next one waits twice as long
    language: str = "id"  # of acknowledgements when a customer's language cannot be told
    domain: str = ""  # of the Message-IDs the engine makes; empty: the first mailbox's
    # The authserv-id of the mail server whose Authentication-Results count (channels.email.authentication);
    # empty: no mail counts as authenticated, and only Message-IDs thread a mail.
    trusted_authserv_id: str = ""

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset(m.address for m in self.mailboxes)

    @property
    def promise(self) -> Promise:
        return Promise(self.first_response_h * 3600, self.target, self.at_risk_min * 60)


def _topics(t: Table) -> dict[str, TopicConfig]:
    topics = {}
    for name in t.data:
        sub = t.table(name)
        topics[name] = TopicConfig(label=sub.get("label", name, text, "a text"), skills=skills_table(sub, "skills"))
        sub.done()
    if not topics:
        raise ConfigError(f"{t.path}: at least one topic is required")
    return topics


def read_webchat(t: Table) -> WebchatConfig:
    default = WebchatConfig()
    cfg = WebchatConfig(
        allowed_origins=tuple(t.get("allowed_origins", list(default.allowed_origins), text_list, "a list of origins")),
        max_frame_bytes=t.get("max_frame_bytes", default.max_frame_bytes, integer(256), "an integer >= 256"),
        max_message_chars=t.get("max_message_chars", default.max_message_chars, integer(1), "an integer >= 1"),
        max_frames_per_s=float(t.get("max_frames_per_s", default.max_frames_per_s, number(0), "a number > 0")),
        frame_burst=t.get("frame_burst", default.frame_burst, integer(1), "an integer >= 1"),
        new_visitors_per_min=t.get("new_visitors_per_min", default.new_visitors_per_min, integer(1), "an integer >= 1"),
        gap_wait_s=float(t.get("gap_wait_s", default.gap_wait_s, number(0), "a number > 0")),
        delivery_check_s=float(t.get("delivery_check_s", default.delivery_check_s, number(0), "a number > 0")),
        leave_grace_s=float(t.get("leave_grace_s", default.leave_grace_s, number(0), "a number > 0")),
        heartbeat_s=float(t.get("heartbeat_s", default.heartbeat_s, number(0), "a number > 0")),
        left_messages_per_hour=t.get(
            "left_messages_per_hour", default.left_messages_per_hour, integer(1), "an integer >= 1"
        ),
        attachment_max_mb=float(t.get("attachment_max_mb", default.attachment_max_mb, number(0), "a number > 0")),
        attachment_types=tuple(
            t.get("attachment_types", list(default.attachment_types), text_list, "a list of content types")
        ),
        service_level_s=float(t.get("service_level_s", default.service_level_s, number(0), "a number > 0")),
        at_risk_fraction=float(
            t.get("at_risk_fraction", default.at_risk_fraction, lambda v: number(0)(v) and v <= 1, "a number in (0, 1]")
        ),
        languages=tuple(t.get("languages", list(default.languages), text_list, "a list of language codes")),
        topics=_topics(t.table("topics")) if "topics" in t.data else default.topics,
    )
    t.done()
    return cfg


_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_TICKET_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


def _address(v: Any) -> bool:
    return isinstance(v, str) and bool(_ADDRESS.match(v))


def _mailbox(t: Table, names: set[str]) -> MailboxConfig:
    name = t.get("name", "", lambda v: text(v) and ":" not in v, "a name without ':'")
    if not name:
        raise ConfigError(f"{t.key('name')}: required")
    if name in names:
        raise ConfigError(f"{t.key('name')}: {name!r} is used by another mailbox")
    names.add(name)
    for required in ("host", "username", "password", "address"):
        if required not in t.data:
            raise ConfigError(f"{t.key(required)}: required")
    tls = t.get("tls", default_of(MailboxConfig, "tls"), lambda v: isinstance(v, bool), "true or false")
    cfg = MailboxConfig(
        name=name,
        host=t.get("host", "", text, "a host name"),
        port=t.get("port", 993 if tls else 143, lambda v: integer(1)(v) and v < 65536, "a port 1-65535"),
        username=t.get("username", "", text, "a user name"),
        password=t.get("password", "", lambda v: isinstance(v, str), "a string"),
        address=t.get("address", "", _address, "an email address").lower(),
        folder=t.get("folder", default_of(MailboxConfig, "folder"), text, "a folder name"),
        tls=tls,
        skills=skills_table(t, "skills") if "skills" in t.data else default_of(MailboxConfig, "skills"),
        idle=t.get("idle", default_of(MailboxConfig, "idle"), lambda v: isinstance(v, bool), "true or false"),
    )
    t.done()
    return cfg


def _smtp(t: Table) -> SmtpConfig:
    d = SmtpConfig()
    cfg = SmtpConfig(
        host=t.get("host", d.host, text, "a host name"),
        port=t.get("port", d.port, lambda v: integer(1)(v) and v < 65536, "a port 1-65535"),
        username=t.get("username", d.username, lambda v: isinstance(v, str), "a string"),
        password=t.get("password", d.password, lambda v: isinstance(v, str), "a string"),
        tls=t.get("tls", d.tls, lambda v: v in ("none", "starttls", "tls"), "none, starttls or tls"),
        timeout_s=float(t.get("timeout_s", d.timeout_s, number(0), "a number of seconds > 0")),
    )
    t.done()
    return cfg


def read_email(t: Table) -> EmailConfig:
    d = EmailConfig()
    raw_boxes: list[Any] = t.get(
        "mailboxes", [], lambda v: isinstance(v, list), "an array of tables ([[email.mailboxes]])"
    )
    t.seen.add("mailboxes")
    names: set[str] = set()
    boxes = tuple(_mailbox(Table(box, f"{t.key('mailboxes')}[{i}]"), names) for i, box in enumerate(raw_boxes))
    cfg = EmailConfig(
        first_response_h=float(
            t.get("first_response_h", d.first_response_h, number(0), "a number of working hours > 0")
        ),
        target=float(t.get("target", d.target, lambda v: number(0)(v) and v <= 1, "a share in (0, 1]")),
        at_risk_min=float(t.get("at_risk_min", d.at_risk_min, number(-1), "a number of working minutes >= 0")),
        mailboxes=boxes,
        smtp=_smtp(t.table("smtp")),
        ticket_prefix=t.get(
            "ticket_prefix",
            d.ticket_prefix,
            lambda v: isinstance(v, str) and bool(_TICKET_PREFIX.match(v)),
            "1-8 capital letters or digits, starting with a letter",
        ),
        poll_s=float(t.get("poll_s", d.poll_s, number(0), "a number of seconds > 0")),
        max_attachment_mb=float(
            t.get("max_attachment_mb", d.max_attachment_mb, number(0), "a number of megabytes > 0")
        ),
        acks_per_sender=t.get("acks_per_sender", d.acks_per_sender, integer(0), "a whole number >= 0"),
        acks_per_domain=t.get("acks_per_domain", d.acks_per_domain, integer(0), "a whole number >= 0"),
        ack_window_min=float(t.get("ack_window_min", d.ack_window_min, number(0), "a number of minutes > 0")),
        retry_max_h=float(t.get("retry_max_h", d.retry_max_h, number(0), "a number of hours > 0")),
        retry_first_s=float(t.get("retry_first_s", d.retry_first_s, number(0), "a number of seconds > 0")),
        language=t.get("language", d.language, lambda v: v in ("en", "id"), "en or id"),
        domain=t.get("domain", d.domain, lambda v: isinstance(v, str) and "@" not in v, "a domain name"),
        trusted_authserv_id=t.get(
            "trusted_authserv_id",
            d.trusted_authserv_id,
            lambda v: isinstance(v, str) and not any(c in v for c in " ;\t"),
            "a host name",
        ),
    )
    t.done()
    return cfg
