"""The sections that say how the engine runs: ``[server]``, ``[store]`` and ``[logging]``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contact_center.config.checks import Table, integer, number, text, text_list
from contact_center.exceptions import ConfigError

__all__ = [
    "LoggingConfig",
    "ServerConfig",
    "StoreConfig",
    "read_logging",
    "read_server",
    "read_store",
    "read_store_url",
]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Where the engine listens, and what one connection may cost it.

    ``header_timeout_s`` bounds how long a new connection may take to send its first request
    head; ``idle_timeout_s`` how long a kept-alive connection may wait for the next (a request
    head dribbled in after a response counts as waiting). ``max_connections_per_client`` caps
    the connections one client address holds at once; a load balancer named in
    ``trusted_proxies`` is not capped (it caps its own clients), and its ``X-Forwarded-For``
    names the client for every limit that counts per address. ``GET /metrics`` answers only clients
    in ``metrics_from`` (the Prometheus server; loopback by default), anyone else gets 403.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    header_timeout_s: float = 10.0
    idle_timeout_s: float = 75.0
    max_connections_per_client: int = 64
    trusted_proxies: tuple[str, ...] = ()
    metrics_from: tuple[str, ...] = ("127.0.0.1/32", "::1/128")


@dataclass(frozen=True, slots=True)
class StoreConfig:
    backend: str = "sqlite"
    data_dir: Path = Path("data")
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "cc:"
    node_id: str = ""  # this engine node's name among those sharing Redis; empty: made up at start
    lease_s: float = 3.0  # a node silent this long is taken for dead; its work passes to the others
    wal_limit_mib: float = 64.0  # the embedded store's write-ahead log stays below this


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = "info"
    format: str = "auto"


def _network(v: Any) -> bool:
    try:
        ipaddress.ip_network(v, strict=False)
    except (TypeError, ValueError):
        return False
    return True


def read_server(t: Table) -> ServerConfig:
    d = ServerConfig()
    proxies: list[str] = t.get(
        "trusted_proxies", [], lambda v: v == [] or text_list(v), "a list of addresses or networks"
    )
    for proxy in proxies:
        if not _network(proxy):
            raise ConfigError(f"{t.key('trusted_proxies')}: {proxy!r} is not an IP address or network")
    scrapers: list[str] = t.get(
        "metrics_from", list(d.metrics_from), lambda v: v == [] or text_list(v), "a list of addresses or networks"
    )
    for scraper in scrapers:
        if not _network(scraper):
            raise ConfigError(f"{t.key('metrics_from')}: {scraper!r} is not an IP address or network")
    cfg = ServerConfig(
        host=t.get("host", d.host, text, "a host name"),
        port=t.get("port", d.port, lambda v: integer(0)(v) and v < 65536, "a port 0-65535"),
        header_timeout_s=float(t.get("header_timeout_s", d.header_timeout_s, number(0), "a number of seconds > 0")),
        idle_timeout_s=float(t.get("idle_timeout_s", d.idle_timeout_s, number(0), "a number of seconds > 0")),
        max_connections_per_client=t.get(
            "max_connections_per_client", d.max_connections_per_client, integer(1), "an integer >= 1"
        ),
        trusted_proxies=tuple(proxies),
        metrics_from=tuple(scrapers),
    )
    t.done()
    return cfg


_REDIS_URL = ("redis://", "rediss://", "unix://")


def read_store_url(root: Table, base: Path) -> StoreConfig:
    """``store = "redis://..."`` (or ``"sqlite"``): the store named in one line, every other key at its default."""
    url = root.get(
        "store", "", lambda v: isinstance(v, str) and (v == "sqlite" or v.startswith(_REDIS_URL)), _STORE_URL
    )
    if url == "sqlite":
        return read_store(Table({}, "store"), base)
    return read_store(Table({"backend": "redis", "redis_url": url}, "store"), base)


_STORE_URL = 'a [store] table, "sqlite", or a redis://, rediss:// or unix:// URL'


def read_store(t: Table, base: Path) -> StoreConfig:
    d = StoreConfig()
    backend = t.get("backend", d.backend, lambda v: v in ("sqlite", "redis"), '"sqlite" or "redis"')
    data_dir = Path(t.get("data_dir", d.data_dir, text, "a directory path"))
    redis_url = t.get(
        "redis_url",
        d.redis_url,
        lambda v: isinstance(v, str) and v.startswith(_REDIS_URL),
        "a redis://, rediss:// or unix:// URL",
    )
    redis_prefix = t.get("redis_prefix", d.redis_prefix, text, "a key prefix")
    node_id = t.get(
        "node_id",
        d.node_id,
        lambda v: isinstance(v, str) and len(v) <= 64 and "\x1f" not in v,
        "a name of up to 64 characters",
    )
    lease_s = float(t.get("lease_s", d.lease_s, number(0.2), "a number of seconds > 0.2"))
    wal_limit_mib = float(t.get("wal_limit_mib", d.wal_limit_mib, number(1), "a number of MiB > 1"))
    t.done()
    return StoreConfig(
        backend=backend,
        data_dir=data_dir if data_dir.is_absolute() else base / data_dir,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        node_id=node_id,
        lease_s=lease_s,
        wal_limit_mib=wal_limit_mib,
    )


def read_logging(t: Table) -> LoggingConfig:
    d = LoggingConfig()
    levels = ("debug", "info", "warning", "error")
    cfg = LoggingConfig(
        level=t.get("level", d.level, lambda v: v in levels, " or ".join(levels)),
        format=t.get("format", d.format, lambda v: v in ("auto", "json", "console"), "auto, json or console"),
    )
    t.done()
    return cfg
