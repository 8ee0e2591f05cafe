"""The embedded store's customers: records, identities (proven) and claims (not), merges."""

from __future__ import annotations

import sqlite3

from contact_center.exceptions import Conflict
from contact_center.model import (
    Customer,
    IdentityKind,
)
from contact_center.store.base import NewEvent
from contact_center.store.sqlite.units import SqliteUnits

__all__ = ["SqliteCustomers"]


class SqliteCustomers(SqliteUnits):
    """Customers on the file."""

    async def create_customer(self, customer: Customer) -> None:
        def op(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO customers (id, name, value, created_at) VALUES (?, ?, ?, ?)",
                    (customer.id, customer.name, customer.value, customer.created_at),
                )
                for kind, value in customer.identities:
                    db.execute(
                        "INSERT INTO identities (kind, value, customer_id) VALUES (?, ?, ?)",
                        (kind.value, value, customer.id),
                    )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"customer {customer.id} or one of its identities exists already") from exc

        await self._enqueue(op)

    async def get_customer(self, customer_id: str) -> Customer | None:
        row = self._db.execute(
            "SELECT id, name, value, created_at FROM customers WHERE id = ? AND merged_into IS NULL",
            (customer_id,),
        ).fetchone()
        if row is None:
            return None
        ids = self._db.execute(
            "SELECT kind, value FROM identities WHERE customer_id = ? ORDER BY kind, value", (customer_id,)
        ).fetchall()
        identities = [(IdentityKind(r["kind"]), r["value"]) for r in ids]
        claimed = self._db.execute(
            "SELECT kind, value FROM claims WHERE customer_id = ? ORDER BY at", (customer_id,)
        ).fetchall()
        return Customer(
            id=row["id"],
            name=row["name"],
            value=row["value"],
            created_at=row["created_at"],
            identities=identities,
            claims=[c for c in ((IdentityKind(r[0]), r[1]) for r in claimed) if c not in identities],
        )

    async def find_customer(self, kind: IdentityKind, value: str) -> str | None:
        row = self._db.execute(
            "SELECT customer_id FROM identities WHERE kind = ? AND value = ?", (kind.value, value)
        ).fetchone()
        return None if row is None else str(row[0])

    async def customers_named(self, prefix: str, limit: int = 20) -> list[str]:
        word = prefix.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        if not word:
            return []
        rows = self._db.execute(
            "SELECT id FROM customers WHERE merged_into IS NULL"
            " AND (lower(name) LIKE ? ESCAPE '\\' OR lower(name) LIKE ? ESCAPE '\\') ORDER BY created_at DESC LIMIT ?",
            (f"{word}%", f"% {word}%", limit),
        ).fetchall()
        return [str(r[0]) for r in rows]

    async def add_identity(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None:
        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR IGNORE INTO identities (kind, value, customer_id) VALUES (?, ?, ?)",
                (kind.value, value, customer_id),
            )
            self._insert_events(db, [event])

        await self._enqueue(op)

    async def merge_customers(self, keep: str, gone: str, event: NewEvent) -> None:
        def op(db: sqlite3.Connection) -> None:
            for table in ("identities", "contacts", "events"):
                db.execute(f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?", (keep, gone))  # noqa: S608
            db.execute("UPDATE OR IGNORE claims SET customer_id = ? WHERE customer_id = ?", (keep, gone))
            db.execute("DELETE FROM claims WHERE customer_id = ?", (gone,))
            db.execute("UPDATE sessions SET subject_id = ? WHERE kind = 'customer' AND subject_id = ?", (keep, gone))
            db.execute(
                "UPDATE customers SET value = MAX(value, (SELECT value FROM customers WHERE id = ?)) WHERE id = ?",
                (gone, keep),
            )
            db.execute("UPDATE customers SET merged_into = ? WHERE id = ?", (keep, gone))
            self._insert_events(db, [event])

        await self._enqueue(op)

    async def add_claim(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None:
        """Note what the customer said of itself, unproven; a claim said again is kept once."""

        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR IGNORE INTO claims (customer_id, kind, value, at) VALUES (?, ?, ?, ?)",
                (customer_id, kind.value, value, event.at),
            )
            self._insert_events(db, [event])

        await self._enqueue(op)

    async def set_customer(self, customer_id: str, *, name: str | None, value: float | None) -> None:
        def op(db: sqlite3.Connection) -> None:
            if name is not None:
                db.execute("UPDATE customers SET name = ? WHERE id = ?", (name, customer_id))
            if value is not None:
                db.execute("UPDATE customers SET value = ? WHERE id = ?", (value, customer_id))

        await self._enqueue(op)
