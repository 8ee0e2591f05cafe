"""The embedded store: one SQLite file in the data directory.

The database runs in write-ahead-log mode with ``synchronous=NORMAL``: a committed
transaction survives the engine being killed (SIGKILL) at any moment; only a crash of
the operating system itself may lose the last transactions. Statements are short and
run on the event loop's thread; each public method is one transaction.

One module per aggregate: :mod:`.customers`, :mod:`.contacts` (conversations and history),
:mod:`.units` (a unit of work's commit), :mod:`.mailbox` (its statements in :mod:`.mail`),
:mod:`.accounts`, :mod:`.reports`, :mod:`.files`, :mod:`.replies`; every write goes through
:mod:`.writer`'s group commit; the tables are :mod:`.schema`, how records map onto them :mod:`.codec`.
"""

from __future__ import annotations

from contact_center.store.sqlite.accounts import SqliteAccounts
from contact_center.store.sqlite.contacts import SqliteContacts
from contact_center.store.sqlite.customers import SqliteCustomers
from contact_center.store.sqlite.files import SqliteFiles
from contact_center.store.sqlite.mailbox import SqliteMail
from contact_center.store.sqlite.quality import SqliteQuality
from contact_center.store.sqlite.replies import SqliteReplies
from contact_center.store.sqlite.reports import SqliteReports
from contact_center.store.sqlite.writer import BUSY_BATCH

__all__ = ["BUSY_BATCH", "SqliteStore"]


class SqliteStore(
    SqliteContacts,
    SqliteCustomers,
    SqliteMail,
    SqliteAccounts,
    SqliteReports,
    SqliteFiles,
    SqliteReplies,
    SqliteQuality,
):
    """The :class:`~contact_center.store.base.Store` port on one SQLite file.

    One engine node: its lock orders every change, so commits have no versions to check, and
    what only a running engine needs (offers, presences) is not kept (a restart re-queues).
    """
