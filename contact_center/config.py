"""``config.toml``, parsed once into typed, frozen dataclasses.

A wrong type, an unknown key or a bad value fails at load with a :class:`ConfigError`
naming the key (``routing.offer_timeout_s: must be a number > 0, got 'x'``). Config
objects are passed down to whoever needs them; nothing reads a global.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from contact_center.exceptions import ConfigError
from contact_center.sla import DAY_NAMES, BusinessCalendar, Promise, Span, parse_span
from routing import RoutingPolicy, WideningStep

__all__ = [
    "AuthConfig",
    "Config",
    "DeskConfig",
    "EmailConfig",
    "LoggingConfig",
    "RoutingConfig",
    "ServerConfig",
    "SlaConfig",
    "StoreConfig",
    "TopicConfig",
    "WebchatConfig",
    "load_config",
    "parse_config",
]

T = TypeVar("T")
CHANNELS = ("chat", "email", "callback", "call")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True)
class StoreConfig:
    backend: str = "sqlite"
    data_dir: Path = Path("data")
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "cc:"
    node_id: str = ""  # this engine node's name among those sharing Redis; empty: made up at start
    lease_s: float = 3.0  # a node silent this long is taken for dead; its work passes to the others


@dataclass(frozen=True, slots=True)
class AuthConfig:
    session_ttl_s: float = 8 * 3600.0
    customer_token_ttl_s: float = 30 * 86400.0


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
    service_level_s: float = 30.0
    at_risk_fraction: float = 0.8
    languages: tuple[str, ...] = ("en", "id")
    topics: Mapping[str, TopicConfig] = field(
        default_factory=lambda: {"general": TopicConfig("General question", (("general", 1),))}
    )


@dataclass(frozen=True, slots=True)
class DeskConfig:
    reconnect_grace_s: float = 30.0
    default_capacity: Mapping[str, int] = field(
        default_factory=lambda: {"chat": 3, "email": 5, "callback": 1, "call": 1}
    )
    default_wrap_up_s: float = 30.0
    dispositions: tuple[str, ...] = ("resolved", "follow_up", "no_response", "spam")


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    offer_timeout_s: float = 20.0
    leader: bool = True  # nodes sharing Redis: one routes for all (False: every node routes, racing)
    policy: RoutingPolicy = field(default_factory=RoutingPolicy)


@dataclass(frozen=True)
class SlaConfig:
    """The business calendar of the SLA clock (see :mod:`contact_center.sla`)."""

    time_zone: str = "Asia/Jakarta"
    holidays: str = "ID"  # country whose public holidays close the office ("" for none)
    holiday_subdivision: str = ""
    week: tuple[tuple[Span, ...], ...] = field(default_factory=lambda: BusinessCalendar().week)
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)

    @cached_property
    def calendar(self) -> BusinessCalendar:
        closed: Container[date] = frozenset()
        if self.holidays:
            closed = holidays.country_holidays(self.holidays, subdiv=self.holiday_subdivision or None)
        return BusinessCalendar(self.time_zone, self.week, closed, self.exceptions)


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
    ack_window_min: float = 60.0  # ... within this many minutes, at most
    retry_max_h: float = 48.0  # a mail not sent by then is given up (failed)
    retry_first_s: float = 30.0  # the first retry of a mail the server deferred; each next one waits twice as long
    language: str = "id"  # of acknowledgements when a customer's language cannot be told
    domain: str = ""  # of the Message-IDs the engine makes; empty: the first mailbox's

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset(m.address for m in self.mailboxes)

    @property
    def promise(self) -> Promise:
        return Promise(self.first_response_h * 3600, self.target, self.at_risk_min * 60)


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = "info"
    format: str = "auto"


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = ServerConfig()
    store: StoreConfig = StoreConfig()
    auth: AuthConfig = AuthConfig()
    webchat: WebchatConfig = WebchatConfig()
    desk: DeskConfig = DeskConfig()
    routing: RoutingConfig = RoutingConfig()
    sla: SlaConfig = field(default_factory=SlaConfig)
    email: EmailConfig = EmailConfig()
    logging: LoggingConfig = LoggingConfig()


class _Table:
    """One TOML table being read; remembers its dotted path for error messages."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path}: must be a table")
        self.data = data
        self.path = path
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, default: T, check: Callable[[Any], bool], want: str) -> T:
        self.seen.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        if not check(value):
            raise ConfigError(f"{self.key(name)}: must be {want}, got {value!r}")
        return value  # type: ignore[no-any-return]

    def table(self, name: str) -> _Table:
        self.seen.add(name)
        return _Table(self.data.get(name, {}), self.key(name))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise ConfigError(f"{self.key(unknown[0])}: unknown key")


def _number(minimum: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > minimum


def _int(minimum: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def _str(v: Any) -> bool:
    return isinstance(v, str) and bool(v)


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(_str(x) for x in v)


def _level(v: Any) -> bool:
    return _int(1)(v) and v <= 5


def _skills(table: _Table, name: str) -> tuple[tuple[str, int], ...]:
    if name not in table.data:
        raise ConfigError(f"{table.key(name)}: required (a table of skill = minimum level)")
    raw: dict[str, Any] = table.get(name, {}, lambda v: isinstance(v, Mapping) and bool(v), "a non-empty table")
    for skill, level in raw.items():
        if not _level(level):
            raise ConfigError(f"{table.key(name)}.{skill}: must be a level 1-5, got {level!r}")
    return tuple(raw.items())


def _server(t: _Table) -> ServerConfig:
    cfg = ServerConfig(
        host=t.get("host", "127.0.0.1", _str, "a host name"),
        port=t.get("port", 8080, lambda v: _int(0)(v) and v < 65536, "a port 0-65535"),
    )
    t.done()
    return cfg


_REDIS_URL = ("redis://", "rediss://", "unix://")


def _store_url(root: _Table, base: Path) -> StoreConfig:
    """``store = "redis://..."`` (or ``"sqlite"``): the store named in one line, every other key at its default."""
    url = root.get(
        "store", "", lambda v: isinstance(v, str) and (v == "sqlite" or v.startswith(_REDIS_URL)), _STORE_URL
    )
    if url == "sqlite":
        return _store(_Table({}, "store"), base)
    return _store(_Table({"backend": "redis", "redis_url": url}, "store"), base)


_STORE_URL = 'a [store] table, "sqlite", or a redis://, rediss:// or unix:// URL'


def _store(t: _Table, base: Path) -> StoreConfig:
    backend = t.get("backend", "sqlite", lambda v: v in ("sqlite", "redis"), '"sqlite" or "redis"')
    data_dir = Path(t.get("data_dir", "data", _str, "a directory path"))
    redis_url = t.get(
        "redis_url",
        "redis://127.0.0.1:6379/0",
        lambda v: isinstance(v, str) and v.startswith(_REDIS_URL),
        "a redis://, rediss:// or unix:// URL",
    )
    redis_prefix = t.get("redis_prefix", "cc:", _str, "a key prefix")
    node_id = t.get(
        "node_id",
        "",
        lambda v: isinstance(v, str) and len(v) <= 64 and "\x1f" not in v,
        "a name of up to 64 characters",
    )
    lease_s = float(t.get("lease_s", 3.0, _number(0.2), "a number of seconds > 0.2"))
    t.done()
    return StoreConfig(
        backend=backend,
        data_dir=data_dir if data_dir.is_absolute() else base / data_dir,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        node_id=node_id,
        lease_s=lease_s,
    )


def _auth(t: _Table) -> AuthConfig:
    cfg = AuthConfig(
        session_ttl_s=float(t.get("session_ttl_s", 8 * 3600.0, _number(0), "a number > 0")),
        customer_token_ttl_s=float(t.get("customer_token_ttl_s", 30 * 86400.0, _number(0), "a number > 0")),
    )
    t.done()
    return cfg


def _topics(t: _Table) -> dict[str, TopicConfig]:
    topics = {}
    for name in t.data:
        sub = t.table(name)
        topics[name] = TopicConfig(label=sub.get("label", name, _str, "a text"), skills=_skills(sub, "skills"))
        sub.done()
    if not topics:
        raise ConfigError(f"{t.path}: at least one topic is required")
    return topics


def _webchat(t: _Table) -> WebchatConfig:
    default = WebchatConfig()
    cfg = WebchatConfig(
        allowed_origins=tuple(t.get("allowed_origins", list(default.allowed_origins), _str_list, "a list of origins")),
        max_frame_bytes=t.get("max_frame_bytes", default.max_frame_bytes, _int(256), "an integer >= 256"),
        max_message_chars=t.get("max_message_chars", default.max_message_chars, _int(1), "an integer >= 1"),
        max_frames_per_s=float(t.get("max_frames_per_s", default.max_frames_per_s, _number(0), "a number > 0")),
        frame_burst=t.get("frame_burst", default.frame_burst, _int(1), "an integer >= 1"),
        service_level_s=float(t.get("service_level_s", 30.0, _number(0), "a number > 0")),
        at_risk_fraction=float(
            t.get("at_risk_fraction", 0.8, lambda v: _number(0)(v) and v <= 1, "a number in (0, 1]")
        ),
        languages=tuple(t.get("languages", ["en", "id"], _str_list, "a list of language codes")),
        topics=_topics(t.table("topics")) if "topics" in t.data else default.topics,
    )
    t.done()
    return cfg


def _capacity(t: _Table, name: str, default: Mapping[str, int]) -> dict[str, int]:
    raw: dict[str, Any] = t.get(name, dict(default), lambda v: isinstance(v, Mapping), "a table")
    for channel, n in raw.items():
        if channel not in CHANNELS:
            raise ConfigError(f"{t.key(name)}.{channel}: unknown channel (one of {', '.join(CHANNELS)})")
        if not _int(0)(n):
            raise ConfigError(f"{t.key(name)}.{channel}: must be an integer >= 0, got {n!r}")
    return dict(raw)


def _desk(t: _Table) -> DeskConfig:
    default = DeskConfig()
    cfg = DeskConfig(
        reconnect_grace_s=float(t.get("reconnect_grace_s", 30.0, _number(-1), "a number >= 0")),
        default_capacity=_capacity(t, "default_capacity", default.default_capacity),
        default_wrap_up_s=float(t.get("default_wrap_up_s", 30.0, _number(-1), "a number >= 0")),
        dispositions=tuple(
            t.get("dispositions", list(default.dispositions), lambda v: _str_list(v) and bool(v), "a non-empty list")
        ),
    )
    t.done()
    return cfg


def _widening(t: _Table) -> tuple[WideningStep, ...]:
    default = [{"after_s": 30, "relax_levels": 1}, {"after_s": 60, "relax_levels": 4, "drop_secondary": True}]
    raw = t.get("widening", default, lambda v: isinstance(v, list), "an array of tables")
    steps = []
    for i, item in enumerate(raw):
        sub = _Table(item, f"{t.key('widening')}[{i}]")
        steps.append(
            WideningStep(
                after_s=float(sub.get("after_s", 0.0, _number(-1), "a number >= 0")),
                relax_levels=sub.get("relax_levels", 0, lambda v: _int(0)(v) and v <= 4, "0-4"),
                drop_secondary=sub.get("drop_secondary", False, lambda v: isinstance(v, bool), "true or false"),
            )
        )
        sub.done()
    if [s.after_s for s in steps] != sorted(s.after_s for s in steps):
        raise ConfigError(f"{t.key('widening')}: steps must be in increasing after_s")
    return tuple(steps)


def _routing(t: _Table) -> RoutingConfig:
    bands = t.get(
        "value_bands",
        [100, 1000],
        lambda v: isinstance(v, list) and all(_number(-1e18)(x) for x in v),
        "a list of numbers",
    )
    if bands != sorted(bands):
        raise ConfigError(f"{t.key('value_bands')}: must be ascending")
    exclusive = t.get("exclusive_channels", ["call", "callback"], _str_list, "a list of channels")
    for channel in exclusive:
        if channel not in CHANNELS:
            raise ConfigError(f"{t.key('exclusive_channels')}: unknown channel {channel!r}")
    cfg = RoutingConfig(
        offer_timeout_s=float(t.get("offer_timeout_s", 20.0, _number(0), "a number > 0")),
        leader=t.get("leader", True, lambda v: isinstance(v, bool), "true or false"),
        policy=RoutingPolicy(
            widening=_widening(t),
            value_bands=tuple(float(b) for b in bands),
            exclusive_channels=frozenset(exclusive),
        ),
    )
    t.done()
    return cfg


def _spans(t: _Table, name: str, raw: Any) -> tuple[Span, ...]:
    if not _str_list(raw) and raw != []:
        raise ConfigError(f'{t.key(name)}: must be a list of spans like "08:00-17:00", got {raw!r}')
    try:
        return tuple(parse_span(text) for text in raw)
    except ValueError as exc:
        raise ConfigError(f"{t.key(name)}: {exc}") from None


def _week(t: _Table) -> tuple[tuple[Span, ...], ...]:
    for name in t.data:
        if name not in DAY_NAMES:
            raise ConfigError(f"{t.key(name)}: unknown day (one of {', '.join(DAY_NAMES)})")
    return tuple(_spans(t, name, t.data.get(name, [])) for name in DAY_NAMES)


def _exceptions(t: _Table) -> dict[date, tuple[Span, ...]]:
    found = {}
    for name, raw in t.data.items():
        try:
            day = date.fromisoformat(name)
        except ValueError:
            raise ConfigError(f"{t.key(name)}: not a date like 2026-12-24") from None
        found[day] = _spans(t, name, raw)
    return found


def _sla(t: _Table) -> SlaConfig:
    default = SlaConfig()
    zone = t.get("time_zone", default.time_zone, _str, "an IANA time zone like Asia/Jakarta")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{t.key('time_zone')}: unknown time zone {zone!r}") from None
    country = t.get("holidays", default.holidays, lambda v: isinstance(v, str), 'a country code or ""')
    if country and country not in holidays.list_supported_countries():
        raise ConfigError(f"{t.key('holidays')}: no public holidays known for {country!r} (a code like ID)")
    subdivision = t.get("holiday_subdivision", "", lambda v: isinstance(v, str), "a subdivision code")
    if subdivision and subdivision not in holidays.list_supported_countries()[country]:
        raise ConfigError(f"{t.key('holiday_subdivision')}: {country} has no subdivision {subdivision!r}")
    cfg = SlaConfig(
        time_zone=zone,
        holidays=country,
        holiday_subdivision=subdivision,
        week=_week(t.table("hours")) if "hours" in t.data else default.week,
        exceptions=_exceptions(t.table("exceptions")) if "exceptions" in t.data else {},
    )
    t.done()
    return cfg


_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_TICKET_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


def _address(v: Any) -> bool:
    return isinstance(v, str) and bool(_ADDRESS.match(v))


def _mailbox(t: _Table, names: set[str]) -> MailboxConfig:
    name = t.get("name", "", lambda v: _str(v) and ":" not in v, "a name without ':'")
    if not name:
        raise ConfigError(f"{t.key('name')}: required")
    if name in names:
        raise ConfigError(f"{t.key('name')}: {name!r} is used by another mailbox")
    names.add(name)
    for required in ("host", "username", "password", "address"):
        if required not in t.data:
            raise ConfigError(f"{t.key(required)}: required")
    tls = t.get("tls", True, lambda v: isinstance(v, bool), "true or false")
    cfg = MailboxConfig(
        name=name,
        host=t.get("host", "", _str, "a host name"),
        port=t.get("port", 993 if tls else 143, lambda v: _int(1)(v) and v < 65536, "a port 1-65535"),
        username=t.get("username", "", _str, "a user name"),
        password=t.get("password", "", lambda v: isinstance(v, str), "a string"),
        address=t.get("address", "", _address, "an email address").lower(),
        folder=t.get("folder", "INBOX", _str, "a folder name"),
        tls=tls,
        skills=_skills(t, "skills") if "skills" in t.data else (("general", 1),),
        idle=t.get("idle", True, lambda v: isinstance(v, bool), "true or false"),
    )
    t.done()
    return cfg


def _smtp(t: _Table) -> SmtpConfig:
    cfg = SmtpConfig(
        host=t.get("host", "127.0.0.1", _str, "a host name"),
        port=t.get("port", 25, lambda v: _int(1)(v) and v < 65536, "a port 1-65535"),
        username=t.get("username", "", lambda v: isinstance(v, str), "a string"),
        password=t.get("password", "", lambda v: isinstance(v, str), "a string"),
        tls=t.get("tls", "none", lambda v: v in ("none", "starttls", "tls"), "none, starttls or tls"),
        timeout_s=float(t.get("timeout_s", 30.0, _number(0), "a number of seconds > 0")),
    )
    t.done()
    return cfg


def _email(t: _Table) -> EmailConfig:
    raw_boxes: list[Any] = t.get(
        "mailboxes", [], lambda v: isinstance(v, list), "an array of tables ([[email.mailboxes]])"
    )
    t.seen.add("mailboxes")
    names: set[str] = set()
    boxes = tuple(_mailbox(_Table(box, f"{t.key('mailboxes')}[{i}]"), names) for i, box in enumerate(raw_boxes))
    cfg = EmailConfig(
        first_response_h=float(t.get("first_response_h", 2.0, _number(0), "a number of working hours > 0")),
        target=float(t.get("target", 0.9, lambda v: _number(0)(v) and v <= 1, "a share in (0, 1]")),
        at_risk_min=float(t.get("at_risk_min", 30.0, _number(-1), "a number of working minutes >= 0")),
        mailboxes=boxes,
        smtp=_smtp(t.table("smtp")),
        ticket_prefix=t.get(
            "ticket_prefix",
            "CS",
            lambda v: isinstance(v, str) and bool(_TICKET_PREFIX.match(v)),
            "1-8 capital letters or digits, starting with a letter",
        ),
        poll_s=float(t.get("poll_s", 30.0, _number(0), "a number of seconds > 0")),
        max_attachment_mb=float(t.get("max_attachment_mb", 25.0, _number(0), "a number of megabytes > 0")),
        acks_per_sender=t.get("acks_per_sender", 3, _int(0), "a whole number >= 0"),
        ack_window_min=float(t.get("ack_window_min", 60.0, _number(0), "a number of minutes > 0")),
        retry_max_h=float(t.get("retry_max_h", 48.0, _number(0), "a number of hours > 0")),
        retry_first_s=float(t.get("retry_first_s", 30.0, _number(0), "a number of seconds > 0")),
        language=t.get("language", "id", lambda v: v in ("en", "id"), "en or id"),
        domain=t.get("domain", "", lambda v: isinstance(v, str) and "@" not in v, "a domain name"),
    )
    t.done()
    return cfg


def _logging(t: _Table) -> LoggingConfig:
    levels = ("debug", "info", "warning", "error")
    cfg = LoggingConfig(
        level=t.get("level", "info", lambda v: v in levels, " or ".join(levels)),
        format=t.get("format", "auto", lambda v: v in ("auto", "json", "console"), "auto, json or console"),
    )
    t.done()
    return cfg


def parse_config(data: Mapping[str, Any], base: Path = Path(".")) -> Config:
    """Build a :class:`Config` from parsed TOML; relative paths are taken from ``base``."""
    root = _Table(data, "")
    cfg = Config(
        server=_server(root.table("server")),
        store=_store_url(root, base) if isinstance(data.get("store"), str) else _store(root.table("store"), base),
        auth=_auth(root.table("auth")),
        webchat=_webchat(root.table("webchat")),
        desk=_desk(root.table("desk")),
        routing=_routing(root.table("routing")),
        sla=_sla(root.table("sla")),
        email=_email(root.table("email")),
        logging=_logging(root.table("logging")),
    )
    root.done()
    return cfg


def load_config(path: Path) -> Config:
    """Read and check ``path``.

    Raises:
        ConfigError: the file is missing, is not TOML, or a key is wrong.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path.resolve().parent)
