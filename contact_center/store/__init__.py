"""Where the engine keeps what it must not lose.

:class:`Store` is the port; :class:`SqliteStore` the embedded backend (the default).
"""

from contact_center.store.base import NewEvent, Session, Store, Written
from contact_center.store.sqlite import SqliteStore

__all__ = ["NewEvent", "Session", "SqliteStore", "Store", "Written"]
