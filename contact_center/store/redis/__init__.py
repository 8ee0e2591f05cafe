"""The Redis store: what the embedded store keeps, in one Redis that engine nodes can share.

Writes queued in one turn of the event loop go to Redis as one MULTI/EXEC transaction, one
round trip; the next batch waits for it, so writes land in the order they were asked
(:mod:`.pipeline`). Redis does not roll a transaction back when one command in it fails, so
every write that can fail (a customer or a user that exists already, a record another node
changed first) is a single function call (:mod:`.library`), recorded whole or not at all, and
only its own caller hears of the failure. Message numbers and the once-per-``client_id`` check
are kept in Redis by a function (``cc_add_message``), so they hold across nodes. The functions
(Redis 7) are loaded when the store opens.

One module per aggregate: :mod:`.customers`, :mod:`.contacts` (conversations and history),
:mod:`.units` (a unit of work's commit), :mod:`.mail`, :mod:`.accounts`, :mod:`.reports`, :mod:`.files`,
:mod:`.replies`; the keyspace is :mod:`.keys`, the codec :mod:`.codec`.

A caller is told once EXEC has answered. What Redis keeps through a crash of its own depends
on its persistence settings (the README says which a deployment needs).
"""

from __future__ import annotations

from contact_center.store.redis.accounts import ACCOUNTS_LIBRARY, RedisAccounts
from contact_center.store.redis.contacts import RedisContacts
from contact_center.store.redis.customers import RedisCustomers
from contact_center.store.redis.files import RedisFiles
from contact_center.store.redis.library import LIBRARY
from contact_center.store.redis.mail import RedisMail
from contact_center.store.redis.quality import RedisQuality
from contact_center.store.redis.replies import RedisReplies
from contact_center.store.redis.reports import RedisReports

__all__ = ["RedisStore"]


class RedisStore(
    RedisContacts, RedisCustomers, RedisMail, RedisAccounts, RedisReports, RedisFiles, RedisReplies, RedisQuality
):
    """The :class:`~contact_center.store.base.Store` port on Redis (redis-py asyncio)."""

    libraries = (LIBRARY, ACCOUNTS_LIBRARY)
