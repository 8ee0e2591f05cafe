"""The email channel: IMAP in, SMTP out, parsing, threading and automatic replies (see its modules).

:class:`EmailChannel` is what the composition root starts: a :class:`MailboxPoller` for each
configured mailbox and the :class:`OutboxSender`. The :class:`MailComposer`, which writes the mails
the engine sends, is given to the engine by the composition root. Polling and sending happen on
the node that leads (see ``Engine.leading``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars

from channels.email.compose import MailComposer
from channels.email.inbound import MailboxPoller
from channels.email.outbox import OutboxSender
from contact_center.clock import Clock
from contact_center.config import EmailConfig
from contact_center.engine import Engine
from contact_center.ports import MailPorts

__all__ = ["EmailChannel", "MailComposer", "MailboxPoller", "OutboxSender"]


class EmailChannel:
    def __init__(self, engine: Engine, ports: MailPorts, email: EmailConfig, clock: Clock) -> None:
        self.engine = engine
        self.pollers = [
            MailboxPoller(engine, ports.cursors, box, email, clock, engine.leading) for box in email.mailboxes
        ]
        self.sender = OutboxSender(
            engine, ports, email.smtp, clock, email.retry_max_h, email.retry_first_s, engine.leading
        )
        self._tasks: list[asyncio.Task[None]] = []

    def lags(self) -> dict[str, float]:
        """Each mailbox's lag (:meth:`MailboxPoller.lag`), by name: for ``cc_mailbox_lag_seconds``."""
        return {poller.box.name: poller.lag() for poller in self.pollers if poller.may_poll()}

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        runs = [poller.run() for poller in self.pollers] + [self.sender.run()]
        self._tasks.extend(loop.create_task(run, context=contextvars.Context()) for run in runs)

    def wake(self) -> None:
        """Read every mailbox and the outbox now."""
        for poller in self.pollers:
            poller.wake()
        self.sender.wake()

    async def stop(self) -> None:
        """Stop reading mailboxes; let a mail being sent finish, so its outcome is recorded."""
        self.sender.stop_soon()
        sending = self._tasks[-1:] if self._tasks else []
        if sending:
            await asyncio.wait(sending, timeout=self.sender.smtp.timeout_s + 5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
