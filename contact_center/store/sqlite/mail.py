"""The embedded store's email tables: statements the SQLite store runs inside its transactions.

Every function takes the connection of the transaction it is part of, so a mail is written in
the same transaction as the contact and the history event it brought (see
:meth:`~contact_center.store.sqlite.SqliteStore.commit`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from contact_center.exceptions import Conflict
from contact_center.mail import FilingContext, MailRecord, Outbound, OutboundState, ThreadEntry, TicketView

__all__ = [
    "filing_context",
    "mail",
    "mailbox_cursor",
    "mails_of",
    "next_ticket",
    "outbound_due",
    "quarantined",
    "thread",
    "update_outbound",
    "write_mails",
    "write_outbound",
]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def write_mails(db: sqlite3.Connection, mails: Sequence[MailRecord]) -> None:
    """Record mails, their parts, their Message-IDs and their mailboxes' cursors.

    Raises:
        Conflict: a fetched mail's place in its mailbox is recorded already.
    """
    for m in mails:
        _insert_mail(db, m)
        db.executemany(
            "INSERT INTO mail_parts (mail_id, idx, data) VALUES (?, ?, ?)",
            [(m.id, i, a.data) for i, a in enumerate(m.attachments)],
        )
        db.executemany(
            "INSERT OR IGNORE INTO thread_ids (message_id, mail_id, digest, contact_id, ticket) VALUES (?, ?, ?, ?, ?)",
            [(mid, m.id, m.digest, m.contact_id, m.ticket) for mid in m.thread_ids],
        )
        if m.ticket and m.contact_id:
            db.execute(
                "INSERT INTO tickets (ticket, contact_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (ticket) DO UPDATE SET contact_id = excluded.contact_id, created_at = excluded.created_at"
                " WHERE excluded.created_at >= tickets.created_at",
                (m.ticket, m.contact_id, m.at),
            )
        if m.source is not None:
            src = m.source
            db.execute(
                "INSERT INTO mailboxes (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)"
                " ON CONFLICT (mailbox) DO UPDATE SET"
                " last_uid = CASE WHEN uidvalidity = excluded.uidvalidity"
                " THEN MAX(last_uid, excluded.last_uid) ELSE excluded.last_uid END,"
                " uidvalidity = excluded.uidvalidity",
                (src.mailbox, src.uidvalidity, src.uid),
            )


def _insert_mail(db: sqlite3.Connection, m: MailRecord) -> None:
    src = m.source
    row = (
        m.id, m.direction.value, m.at, m.message_id, m.digest,
        src.mailbox if src else None, src.uidvalidity if src else None, src.uid if src else None,
        m.contact_id, m.quarantine, _json(m.meta()), m.raw,
    )  # fmt: skip
    try:
        db.execute(
            "INSERT INTO mails (id, direction, at, message_id, digest, mailbox, uidvalidity, uid,"
            " contact_id, quarantine, meta, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
    except sqlite3.IntegrityError as exc:
        where = f"{src.mailbox} UID {src.uid} (UIDVALIDITY {src.uidvalidity})" if src else m.id
        raise Conflict(f"mail {where} is recorded already") from exc


def write_outbound(db: sqlite3.Connection, items: Sequence[Outbound]) -> None:
    """Queue mails to send.

    Raises:
        Conflict: one's key is in the outbox already (this reply or acknowledgement is queued).
    """
    for o in items:
        try:
            db.execute(
                "INSERT INTO outbox (id, key, kind, recipient, created_at, next_at, state, meta, raw)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    o.id,
                    o.key,
                    o.kind,
                    o.recipients[0] if o.recipients else "",
                    o.created_at,
                    o.next_at,
                    o.state.value,
                    _json(o.meta()),
                    o.raw,
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"outbox: {o.key} is queued already") from exc


def update_outbound(db: sqlite3.Connection, o: Outbound) -> None:
    db.execute(
        "UPDATE outbox SET next_at = ?, state = ?, meta = ? WHERE id = ?",
        (o.next_at, o.state.value, _json(o.meta()), o.id),
    )


def mailbox_cursor(db: sqlite3.Connection, mailbox: str) -> tuple[int, int] | None:
    row = db.execute("SELECT uidvalidity, last_uid FROM mailboxes WHERE mailbox = ?", (mailbox,)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def thread(db: sqlite3.Connection, message_ids: Sequence[str]) -> list[ThreadEntry]:
    found = []
    for mid in dict.fromkeys(message_ids):
        row = db.execute(
            "SELECT message_id, mail_id, digest, contact_id, ticket FROM thread_ids WHERE message_id = ?", (mid,)
        ).fetchone()
        if row is not None:
            found.append(ThreadEntry(*row))
    return found


def next_ticket(db: sqlite3.Connection) -> int:
    n = int(db.execute("INSERT INTO ticket_numbers DEFAULT VALUES").lastrowid or 0)
    db.execute("DELETE FROM ticket_numbers WHERE n < ?", (n,))  # the counter lives on in sqlite_sequence
    return n


def _mail(db: sqlite3.Connection, row: sqlite3.Row | tuple[Any, ...]) -> MailRecord:
    meta = orjson.loads(row[0])
    parts = dict(db.execute("SELECT idx, data FROM mail_parts WHERE mail_id = ?", (meta["id"],)).fetchall())
    return MailRecord.from_meta(meta, bytes(row[1]), [parts.get(i) for i in range(len(meta["attachments"]))])


def mail(db: sqlite3.Connection, mail_id: str) -> MailRecord | None:
    row = db.execute("SELECT meta, raw FROM mails WHERE id = ?", (mail_id,)).fetchone()
    return None if row is None else _mail(db, row)


def mails_of(db: sqlite3.Connection, contact_id: str, whole: bool) -> list[MailRecord]:
    if whole:
        rows = db.execute("SELECT meta, raw FROM mails WHERE contact_id = ? ORDER BY at, id", (contact_id,)).fetchall()
        return [_mail(db, r) for r in rows]
    rows = db.execute("SELECT meta FROM mails WHERE contact_id = ? ORDER BY at, id", (contact_id,)).fetchall()
    return [_light(orjson.loads(r[0])) for r in rows]


def _light(meta: dict[str, Any]) -> MailRecord:
    """A mail without its bytes: ``raw`` empty, attachments without data (``refused`` still says which were kept)."""
    return MailRecord.from_meta(meta, b"", [None] * len(meta["attachments"]))


def quarantined(db: sqlite3.Connection, limit: int) -> list[MailRecord]:
    rows = db.execute(
        "SELECT meta, raw FROM mails WHERE quarantine IS NOT NULL ORDER BY at DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_mail(db, r) for r in rows]


def outbound_due(db: sqlite3.Connection, now: float, limit: int) -> list[Outbound]:
    rows = db.execute(
        "SELECT meta, raw FROM outbox WHERE state = ? AND next_at <= ? ORDER BY next_at LIMIT ?",
        (OutboundState.QUEUED.value, now, limit),
    ).fetchall()
    return [Outbound.from_meta(orjson.loads(r[0]), bytes(r[1])) for r in rows]


def _acks_since(db: sqlite3.Connection, address: str, since: float) -> tuple[int, int]:
    """How many acknowledgements were queued after ``since`` to ``address``, and to any address at its domain."""
    to_address = db.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND recipient = ? AND created_at > ?", (address, since)
    ).fetchone()[0]
    # The same expression as the index outbox_ack_domains, so SQLite reads the index.
    to_domain = db.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND substr(recipient, instr(recipient, '@') + 1) = ?"
        " AND created_at > ?",
        (address.rsplit("@", 1)[-1], since),
    ).fetchone()[0]
    return int(to_address), int(to_domain)


def _ticket_view(db: sqlite3.Connection, ticket: str, customer_id: str | None) -> TicketView | None:
    """The ticket's latest contact and its customer; whom its mails went to only if that is not ``customer_id``."""
    row = db.execute(
        "SELECT t.contact_id, c.customer_id FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.ticket = ?",
        (ticket,),
    ).fetchone()
    if row is None:
        return None
    latest, owner = str(row[0]), str(row[1])
    copied: frozenset[str] = frozenset()
    if owner != customer_id:
        metas = db.execute("SELECT meta FROM mails WHERE contact_id = ? AND direction = 'out'", (latest,)).fetchall()
        sent = [orjson.loads(meta)["summary"] for (meta,) in metas]
        copied = frozenset(a for summary in sent for key in ("to", "cc") for a in summary.get(key, ()))
    return TicketView(ticket, latest, owner, copied)


def filing_context(
    db: sqlite3.Connection, message_ids: Sequence[str], address: str, ticket_ref: str, acks_to: str, since: float
) -> FilingContext:
    entries = thread(db, message_ids)
    row = db.execute(
        "SELECT c.id, c.value FROM identities i JOIN customers c ON c.id = i.customer_id"
        " WHERE i.kind = 'email' AND i.value = ?",
        (address,),
    ).fetchone()
    customer_id, value = (str(row[0]), float(row[1])) if row is not None else (None, 0.0)
    named = dict.fromkeys([*(e.ticket for e in entries if e.ticket), *([ticket_ref] if ticket_ref else [])])
    tickets = {t: view for t in named if (view := _ticket_view(db, t, customer_id)) is not None}
    to_address, to_domain = _acks_since(db, acks_to, since)
    return FilingContext(tuple(entries), customer_id, value, tickets, to_address, to_domain)
