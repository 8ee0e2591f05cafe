"""The embedded store's mail, as the port has it: each read and write a statement of :mod:`.mail`."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from contact_center.mail import FilingContext, MailRecord, Outbound
from contact_center.store.sqlite import mail as mail_sql
from contact_center.store.sqlite.writer import SqliteWriter

__all__ = ["SqliteMail"]


class SqliteMail(SqliteWriter):
    """Mail on the file."""

    async def mailbox_cursor(self, mailbox: str) -> tuple[int, int] | None:
        """The mailbox's UIDVALIDITY and the highest UID recorded under it; None before its first mail."""
        return mail_sql.mailbox_cursor(self._db, mailbox)

    async def filing_context(
        self, message_ids: Sequence[str], address: str, ticket_ref: str, acks_to: str, acks_since: float
    ) -> FilingContext:
        """What filing a fetched mail depends on (see :class:`~contact_center.mail.FilingContext`), in one read."""
        return mail_sql.filing_context(self._db, message_ids, address, ticket_ref, acks_to, acks_since)

    async def next_ticket(self) -> int:
        """A ticket number never given out before (numbers taken and not used leave gaps)."""
        result: int = await self._enqueue(mail_sql.next_ticket)
        return result

    async def mail(self, mail_id: str) -> MailRecord | None:
        return mail_sql.mail(self._db, mail_id)

    async def mails_of(self, contact_id: str, *, whole: bool = False) -> list[MailRecord]:
        """A contact's mails, received and sent, oldest first; their bytes too only if ``whole``."""
        return mail_sql.mails_of(self._db, contact_id, whole)

    async def quarantined(self, limit: int = 100) -> list[MailRecord]:
        """Fetched mails that could not be read, newest first."""
        return mail_sql.quarantined(self._db, limit)

    async def outbound_due(self, now: float, limit: int = 100) -> list[Outbound]:
        """Queued mails whose next attempt is due at ``now``, earliest first."""
        return mail_sql.outbound_due(self._db, now, limit)

    async def update_outbound(self, outbound: Outbound) -> None:
        """Record an attempt's outcome: state, attempts, next attempt, error, time sent."""
        await self._enqueue(partial(mail_sql.update_outbound, o=outbound))
