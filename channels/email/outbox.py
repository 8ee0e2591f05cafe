"""Outbound email: the outbox delivered over SMTP, each mail once, retried while the server is away.

A mail is in the outbox, its bytes made, from the unit that decided to send it. The sender
takes what is due, and **before** each SMTP transaction records the attempt and when to try
next; after the server's 250 it records the mail sent. So only a crash between the server taking
a mail and that record's commit (milliseconds) sends the mail again, at its next attempt, with
the same bytes and the same Message-ID, which mail programs show once. Nothing is sent twice
otherwise, and nothing queued is forgotten.

A server that answers 4xx, refuses the connection or times out is tried again with backoff
(``retry_first_s``, 30 s by default, doubling, at most 30 min apart) until ``retry_max_h``
after the mail was queued; a 5xx answer fails the mail at once. A failed mail is a history
event of its contact, for the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable

import aiosmtplib
import structlog

from contact_center.clock import Clock
from contact_center.config import SmtpConfig
from contact_center.engine import Engine
from contact_center.mail import Outbound, OutboundState
from contact_center.ports import MailPorts

__all__ = ["OutboxSender", "backoff_s"]

log = structlog.get_logger("channels.email")

_MAX_RETRY_S = 30 * 60.0
_IDLE_S = 2.0  # how often the outbox is looked at when nothing woke the sender


def backoff_s(attempts: int, first_s: float = 30.0) -> float:
    """Seconds to wait after the ``attempts``-th attempt: 30, 60, 120, ... up to 30 minutes."""
    return min(_MAX_RETRY_S, first_s * 2.0 ** max(0, attempts - 1))


class OutboxSender:
    """Delivers the outbox for the engine, for as long as it runs."""

    def __init__(
        self,
        engine: Engine,
        ports: MailPorts,
        smtp: SmtpConfig,
        clock: Clock,
        retry_max_h: float = 48.0,
        retry_first_s: float = 30.0,
        may_send: Callable[[], bool] = lambda: True,
    ) -> None:
        self.engine = engine
        self.ports = ports
        self.smtp = smtp
        self.clock = clock
        self.retry_max_s = retry_max_h * 3600
        self.retry_first_s = retry_first_s
        self.may_send = may_send
        self.sent = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._client: aiosmtplib.SMTP | None = None  # open while a drain sends

    def wake(self) -> None:
        """Look at the outbox now: something was queued."""
        self._wake.set()

    def stop_soon(self) -> None:
        """Finish the attempt under way (its outcome recorded), then return from :meth:`run`."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            if self.may_send():
                try:
                    await self.drain()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the store away: next time
                    log.warning("email.outbox_failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _IDLE_S)
            self._wake.clear()

    async def drain(self) -> int:
        """Attempt every mail due now, oldest first, over one SMTP connection; how many the server took.

        Mails go in batches of 50: the attempts of a batch are recorded in one commit before its
        first transaction; each outcome is queued for the store as soon as the server answered,
        and the next transaction does not wait for that commit (all are awaited at the batch's end).
        """
        took = 0
        try:
            while not self._stopping:
                now = self.clock.now()
                due = await self.ports.outbox.outbound_due(now, 50)
                if not due:
                    break
                pending = [self._next_attempt(o, now) for o in due]
                await asyncio.gather(*(self.ports.outbox.update_outbound(p) for p in pending))
                outcomes = []
                for outbound in pending:
                    if self._stopping:
                        break
                    outcomes.append(await self.attempt(outbound))
                took += sum(await asyncio.gather(*outcomes))
        finally:
            await self._hang_up()
        return took

    def _next_attempt(self, outbound: Outbound, now: float) -> Outbound:
        """``outbound`` as recorded before its next SMTP transaction: one attempt more, and when to try again."""
        tries = outbound.attempts + 1
        return dataclasses.replace(outbound, attempts=tries, next_at=now + backoff_s(tries, self.retry_first_s))

    async def attempt(self, pending: Outbound) -> asyncio.Future[bool]:
        """One SMTP transaction for ``pending`` (its attempt recorded already); the recording of its
        outcome, under way, resolves to True if the server took the mail."""
        bound = structlog.contextvars.bound_contextvars(outbox_id=pending.id, contact_id=pending.contact_id)
        with bound:
            try:
                await self._send(pending)
            except aiosmtplib.SMTPResponseException as exc:
                error = f"{exc.code} {exc.message}"
                return asyncio.ensure_future(self._failed(pending, error, permanent=exc.code >= 500))
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                return asyncio.ensure_future(self._failed(pending, repr(exc), permanent=False))
            self.sent += 1
            self.ports.metrics.inc("cc_mails_sent_total", kind=pending.kind)
            log.info("email.sent", kind=pending.kind, attempts=pending.attempts)
            sent = dataclasses.replace(pending, state=OutboundState.SENT, sent_at=self.clock.now(), last_error="")
            return asyncio.ensure_future(self._recorded(self.ports.outbox.update_outbound(sent)))

    @staticmethod
    async def _recorded(write: Awaitable[None]) -> bool:
        await write
        return True

    async def _send(self, outbound: Outbound) -> None:
        """One transaction on the open connection (connecting first if there is none).

        A refusal leaves the connection usable after RSET; anything else closes it, and the
        next mail connects afresh. A mail whose transaction failed is not sent again now,
        only at its next attempt: the server may have taken it before the connection broke.
        """
        if self._client is None:
            smtp = self.smtp
            client = aiosmtplib.SMTP(
                hostname=smtp.host,
                port=smtp.port,
                username=smtp.username or None,
                password=smtp.password or None,
                use_tls=smtp.tls == "tls",
                start_tls=smtp.tls == "starttls",
                timeout=smtp.timeout_s,
            )
            try:
                await client.connect()
            except BaseException:  # refused, timed out or cancelled half-way: nothing left open
                client.close()
                raise
            self._client = client
        try:
            await self._client.sendmail(outbound.sender, list(outbound.recipients), outbound.raw)
        except aiosmtplib.SMTPResponseException:
            try:
                await self._client.rset()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                await self._hang_up()
            raise
        except BaseException:
            await self._hang_up()
            raise

    async def _hang_up(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()
            client.close()

    async def _failed(self, pending: Outbound, error: str, *, permanent: bool) -> bool:
        out_of_time = pending.next_at > pending.created_at + self.retry_max_s
        if not (permanent or out_of_time):
            log.warning("email.send_deferred", error=error, attempts=pending.attempts, next_at=pending.next_at)
            self.ports.metrics.inc("cc_mails_deferred_total")
            await self.ports.outbox.update_outbound(dataclasses.replace(pending, last_error=error))
            return False
        log.error("email.send_failed", error=error, attempts=pending.attempts)
        await self.engine.mail_failed(pending, error)
        return False
