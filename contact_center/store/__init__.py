"""Where the engine keeps what it must not lose.

:class:`Store` is the port, one protocol per aggregate (customers, contacts, mail, accounts,
reports: :mod:`.base`); :class:`SqliteStore` the embedded backend (the default),
:class:`RedisStore` the one several engine nodes share. :func:`open_store` opens the one
``config.toml`` names.
"""

from collections.abc import Callable

from contact_center.config import StoreConfig
from contact_center.store.base import (
    AccountStore,
    Changes,
    ContactStore,
    CustomerStore,
    MailStore,
    NewEvent,
    ReportStore,
    Seat,
    Session,
    Store,
    Written,
)
from contact_center.store.redis import RedisStore
from contact_center.store.sqlite import SqliteStore

__all__ = [
    "AccountStore",
    "Changes",
    "ContactStore",
    "CustomerStore",
    "MailStore",
    "NewEvent",
    "RedisStore",
    "ReportStore",
    "Seat",
    "Session",
    "SqliteStore",
    "Store",
    "Written",
    "open_store",
]


async def open_store(config: StoreConfig, node_id: str = "", *, count: Callable[[], None] | None = None) -> Store:
    """The store ``[store] backend`` names, ready for use.

    ``node_id`` names this engine node to the others; ``count`` is told of each Redis round trip.
    """
    if config.backend == "redis":
        return await RedisStore(config.redis_url, config.redis_prefix, node_id, count=count).open()
    return SqliteStore(config.data_dir / "contact-center.sqlite3", wal_limit_bytes=round(config.wal_limit_mib * 2**20))
