"""Inbound email: each new message of a mailbox, fetched over IMAP and filed by the engine exactly once.

:class:`MailboxPoller` holds one IMAP session per mailbox. It asks the store for the mailbox's
cursor (the UIDVALIDITY and the highest UID recorded under it), fetches every message above it
(``BODY.PEEK[]``: nothing is marked read by fetching), and hands each to the engine, which
records the mail with its place in the mailbox in the same unit as what the mail did. Only
then is the message flagged ``\\Seen``; nothing is ever deleted or moved. A crash between the
two leaves a message recorded and unflagged, and the cursor makes the next session skip it.
A new UIDVALIDITY (a mailbox rebuilt) fetches everything again; mail already filed is
recognised by its Message-ID and bytes and files nothing twice.

Between sweeps the poller waits in IDLE where the server offers it (woken by new mail), or
sleeps ``poll_s``. It works only while ``may_poll`` says so: with several engine nodes, the
one that routes (:mod:`contact_center.leases`) also reads the mailboxes, and a survivor takes
over when it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import structlog
from aioimaplib import aioimaplib

from channels.email.authentication import check_sender
from channels.email.compose import ticket_in_subject
from channels.email.loops import refusal
from channels.email.parse import Limits, ParsedMail, parse
from contact_center.clock import Clock
from contact_center.config import EmailConfig, MailboxConfig
from contact_center.engine import Engine
from contact_center.exceptions import StoreUnavailable, Unparseable
from contact_center.mail import Arrival, Direction, MailOutcome, MailRecord, MailSource, StoredAttachment
from contact_center.ports import MailboxCursors

__all__ = ["MailboxPoller", "read_mail"]

log = structlog.get_logger("channels.email")

_FETCH = re.compile(rb"^\d+ FETCH \(.*?\{(\d+)\}$")
_UID = re.compile(rb"UID (\d+)")
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_BATCH = 50  # messages per UID FETCH


def read_mail(
    raw: bytes, source: MailSource, box: MailboxConfig, config: EmailConfig, now: float
) -> Arrival | MailRecord:
    """What the engine needs of a fetched message: an :class:`Arrival`, or, when it cannot be read
    as an email, a quarantined :class:`MailRecord` with the reason."""
    limits = Limits(attachment_bytes=int(config.max_attachment_mb * 1024 * 1024))
    try:
        mail = parse(raw, limits)
    except Unparseable as exc:
        digest = hashlib.sha256(raw).hexdigest()
        return MailRecord(
            id=uuid.uuid4().hex[:20],
            direction=Direction.IN,
            at=now,
            message_id=f"<{digest[:40]}@quarantine.invalid>",
            digest=digest,
            raw=raw,
            summary={"mailbox_address": box.address},
            source=source,
            quarantine=str(exc),
        )
    sender = check_sender(mail.auth_results, mail.from_addr, config.trusted_authserv_id)
    record = MailRecord(
        id=uuid.uuid4().hex[:20],
        direction=Direction.IN,
        at=now,
        message_id=mail.message_id,
        digest=mail.digest,
        raw=raw,
        summary={**_summary(mail, box), "sender_authenticated": sender.authenticated, "sender_check": sender.reason},
        attachments=tuple(
            StoredAttachment(a.filename, a.content_type, a.size, a.data, a.content_id, a.inline, a.refused)
            for a in mail.attachments
        ),
        source=source,
    )
    nearest_first = tuple(dict.fromkeys([*mail.in_reply_to, *reversed(mail.references)]))
    return Arrival(
        record=record,
        address=mail.from_addr,
        name=mail.from_name,
        subject=mail.subject,
        text=mail.visible_text,
        thread_ids=nearest_first,
        ticket_ref=ticket_in_subject(mail.subject, config.ticket_prefix),
        skills=box.skills,
        mailbox_address=box.address,
        ack_refusal=refusal(mail.headers, mail.from_addr, config.own_addresses, mail.from_name),
        authenticated=sender.authenticated,
    )


def _summary(mail: ParsedMail, box: MailboxConfig) -> dict[str, Any]:
    return {
        "subject": mail.subject,
        "from": mail.from_addr,
        "from_name": mail.from_name,
        "to": list(mail.to),
        "cc": list(mail.cc),
        "reply_to": list(mail.reply_to),
        "date": mail.date,
        "text": mail.text,
        "visible_text": mail.visible_text,
        "folded_text": mail.folded_text,
        "html": mail.html,
        "in_reply_to": list(mail.in_reply_to),
        "references": list(mail.references),
        "problems": list(mail.problems),
        "mailbox_address": box.address,
    }


def fetched_messages(lines: list[Any]) -> Iterator[tuple[int, bytes]]:
    """``(uid, bytes)`` of each message in a ``UID FETCH (UID BODY.PEEK[])`` response."""
    i = 0
    while i < len(lines):
        head = bytes(lines[i])
        found = _FETCH.match(head)
        if found is None or i + 1 >= len(lines):
            i += 1
            continue
        raw = bytes(lines[i + 1])
        uid = _UID.search(head) or (_UID.search(bytes(lines[i + 2])) if i + 2 < len(lines) else None)
        if uid is not None:
            yield int(uid.group(1)), raw
        i += 2


def _hang_up(client: Any) -> None:
    """Close an IMAP client's connection (aioimaplib's logout leaves that to the server)."""
    transport = getattr(getattr(client, "protocol", None), "transport", None)
    if transport is not None and not transport.is_closing():
        transport.close()


class MailboxPoller:
    """Reads one mailbox for the engine, for as long as it runs."""

    def __init__(
        self,
        engine: Engine,
        cursors: MailboxCursors,
        box: MailboxConfig,
        config: EmailConfig,
        clock: Clock,
        may_poll: Callable[[], bool] = lambda: True,
    ) -> None:
        self.engine = engine
        self.cursors = cursors
        self.box = box
        self.config = config
        self.clock = clock
        self.may_poll = may_poll
        self.filed = 0  # messages handed to the engine by this poller
        self.sweeps = 0  # looks at the mailbox, since the start
        self.started_at = clock.now()
        self.swept_at: float | None = None  # the last time the mailbox was read to its end
        self._wake = asyncio.Event()

    def lag(self) -> float:
        """Seconds since the mailbox was last read to its end (since the start, if never)."""
        return max(0.0, self.clock.now() - (self.swept_at if self.swept_at is not None else self.started_at))

    def wake(self) -> None:
        """Sweep now (a test, or a supervisor's button), not at the next IDLE push or poll."""
        self._wake.set()

    async def run(self) -> None:
        """Sessions, one after another: a lost connection or a server error waits and starts again."""
        backoff = 1.0
        while True:
            if not self.may_poll():
                await self._sleep(self.config.poll_s)
                continue
            try:
                await self._session()
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server away or refusing: log, wait, again
                log.warning("email.mailbox_failed", mailbox=self.box.name, error=repr(exc), retry_s=backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, 60.0)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _connect(self) -> Any:
        box = self.box
        imap = aioimaplib.IMAP4_SSL if box.tls else aioimaplib.IMAP4
        client = imap(host=box.host, port=box.port, timeout=30)
        try:
            await client.wait_hello_from_server()
            login = await client.login(box.username, box.password)
        except BaseException:
            _hang_up(client)
            raise
        if login.result != "OK":
            _hang_up(client)
            raise ConnectionError(f"IMAP login to {box.host} as {box.username} refused: {login.lines[-1]!r}")
        return client

    async def _session(self) -> None:
        client = await self._connect()
        try:
            selected = await client.select(self.box.folder)
            if selected.result != "OK":
                raise ConnectionError(f"IMAP folder {self.box.folder!r} cannot be selected: {selected.lines[-1]!r}")
            found = next((m for line in selected.lines if (m := _UIDVALIDITY.search(bytes(line)))), None)
            if found is None:
                raise ConnectionError(f"IMAP folder {self.box.folder!r} has no UIDVALIDITY")
            uidvalidity = int(found.group(1))
            idle = self.box.idle and client.has_capability("IDLE")
            while self.may_poll():
                await self.sweep(client, uidvalidity)
                if idle:
                    await self._idle(client)
                else:
                    await self._sleep(self.config.poll_s)
                    await client.noop()
        finally:
            try:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.logout(), 5)
            finally:  # also when cancelled while logging out: the connection never outlives the session
                _hang_up(client)

    async def _idle(self, client: Any) -> None:
        """Wait for the server to tell of new mail, for ``poll_s`` at most, or until woken."""
        waiting = await client.idle_start(timeout=self.config.poll_s)
        pushed = asyncio.ensure_future(client.wait_server_push(timeout=self.config.poll_s))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({pushed, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            self._wake.clear()
            client.idle_done()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(waiting, 5)
            if not pushed.done():
                pushed.cancel()
            with contextlib.suppress(BaseException):
                await pushed

    async def sweep(self, client: Any, uidvalidity: int) -> int:
        """File every message above the cursor, in UID order; returns how many were handed over."""
        self.sweeps += 1
        cursor = await self.cursors.mailbox_cursor(self.box.name)
        last = cursor[1] if cursor is not None and cursor[0] == uidvalidity else 0
        found = await client.uid_search(f"UID {last + 1}:*", charset=None)
        if found.result != "OK":
            raise ConnectionError(f"IMAP UID SEARCH failed: {found.lines[-1]!r}")
        uids = sorted(int(u) for u in bytes(found.lines[0]).split() if u.isdigit() and int(u) > last)
        handed = 0
        for start in range(0, len(uids), _BATCH):
            batch = uids[start : start + _BATCH]
            fetched = await client.uid("fetch", ",".join(map(str, batch)), "(UID BODY.PEEK[])")
            if fetched.result != "OK":
                raise ConnectionError(f"IMAP UID FETCH failed: {fetched.lines[-1]!r}")
            done = []
            for uid, raw in sorted(fetched_messages(fetched.lines)):
                await self.file(raw, MailSource(self.box.name, uidvalidity, uid))
                done.append(uid)
            handed += len(done)
            if done:  # only now, each one recorded: flag them for people reading the mailbox too
                await client.uid("store", ",".join(map(str, done)), "+FLAGS.SILENT (\\Seen)")
        self.swept_at = self.clock.now()
        return handed

    async def file(self, raw: bytes, source: MailSource) -> MailOutcome:
        """Hand one message to the engine; a message it cannot read is quarantined, never in the way."""
        read = read_mail(raw, source, self.box, self.config, self.clock.now())
        with structlog.contextvars.bound_contextvars(mailbox=self.box.name, uid=source.uid, channel="email"):
            if isinstance(read, MailRecord):
                outcome = await self.engine.quarantine_mail(read)
            else:
                try:
                    outcome = await self.engine.receive_mail(read)
                except (StoreUnavailable, OSError):  # the store away: this session ends, the mail waits
                    raise
                except Exception as exc:  # this mail, not the mailbox: set it aside, go on with the next
                    log.exception("email.not_filed", mail_id=read.record.id)
                    aside = dataclasses.replace(read.record, quarantine=f"could not be filed: {exc!r}"[:500])
                    outcome = await self.engine.quarantine_mail(aside)
        self.filed += 1
        return outcome
