"""The embedded store's accounts: users, sessions, throttles and one-time codes.

A part of :class:`~contact_center.store.sqlite.SqliteStore` (it inherits these methods): every
write goes through the store's group commit (``_enqueue``), every read straight to the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson

from contact_center.exceptions import Conflict
from contact_center.model import Agent, AgentStatus, Role
from contact_center.store.base import Challenge, Session, Strikes
from contact_center.store.sqlite.writer import SqliteWriter

__all__ = ["SqliteAccounts"]

T = TypeVar("T")


def _agent(row: sqlite3.Row) -> Agent:
    return Agent(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        skills=orjson.loads(row["skills"]),
        capacity=orjson.loads(row["capacity"]),
        wrap_up_s=row["wrap_up_s"],
        status=AgentStatus(row["status"]),
        disabled=bool(row["disabled"]),
    )


def _strike(db: sqlite3.Connection, key: str, now: float, window_s: float, lock_after: int, lock_s: float) -> Strikes:
    row = db.execute("SELECT count, locked_until, expires_at FROM strikes WHERE key = ?", (key,)).fetchone()
    if row is None or row[2] <= now:  # a row lasts as long as its lockout: lapsed, it locks no more
        count, locked, expires = 1, 0.0, now + window_s
    else:
        count, locked, expires = row[0] + 1, row[1], row[2]
    if lock_after and count >= lock_after:
        locked = max(locked, now + lock_s)
    expires = max(expires, locked)
    db.execute(
        "INSERT INTO strikes (key, count, last_at, locked_until, expires_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET count = excluded.count, last_at = excluded.last_at,"
        " locked_until = excluded.locked_until, expires_at = excluded.expires_at",
        (key, count, now, locked, expires),
    )
    return Strikes(count, now, locked)


class SqliteAccounts(SqliteWriter):
    """Users, sessions, throttles and one-time codes on the store's file."""

    async def create_user(self, agent: Agent, password_hash: str) -> None:
        row = (
            agent.id,
            agent.username,
            agent.display_name,
            agent.role.value,
            password_hash,
            orjson.dumps(agent.skills).decode(),
            orjson.dumps(agent.capacity).decode(),
            agent.wrap_up_s,
            agent.status.value,
            int(agent.disabled),
        )

        def op(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO users (id, username, display_name, role, password_hash, skills, capacity,"
                    " wrap_up_s, status, disabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"username {agent.username!r} is taken") from exc

        await self._enqueue(op)

    async def user_by_name(self, username: str) -> tuple[Agent, str] | None:
        row = self._db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        return None if row is None else (_agent(row), str(row["password_hash"]))

    async def get_agent(self, agent_id: str) -> Agent | None:
        row = self._db.execute("SELECT * FROM users WHERE id = ?", (agent_id,)).fetchone()
        return None if row is None else _agent(row)

    async def list_agents(self) -> list[Agent]:
        return [_agent(r) for r in self._db.execute("SELECT * FROM users ORDER BY username").fetchall()]

    async def set_user(self, user_id: str, *, password_hash: str | None = None, disabled: bool | None = None) -> None:
        """Change an account's password (its hash) or whether it is disabled."""

        def op(db: sqlite3.Connection) -> None:
            if password_hash is not None:
                db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
            if disabled is not None:
                db.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id))

        await self._enqueue(op)

    # sessions

    async def create_session(self, token_hash: str, session: Session) -> None:
        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO sessions (token_hash, kind, subject_id, expires_at, issued_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash, session.kind, session.subject_id, session.expires_at, session.issued_at),
            )

        await self._enqueue(op)

    async def get_session(self, token_hash: str) -> Session | None:
        row = self._db.execute(
            "SELECT kind, subject_id, expires_at, issued_at FROM sessions WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return None if row is None else Session(row[0], row[1], row[2], row[3])

    async def delete_session(self, token_hash: str) -> None:
        def op(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

        await self._enqueue(op)

    async def delete_sessions_of(self, subject_id: str) -> int:
        """End every session of a user (or customer); how many there were."""

        def op(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM sessions WHERE subject_id = ?", (subject_id,)).rowcount

        result: int = await self._enqueue(op)
        return result

    async def purge_sessions(self, now: float) -> int:
        """Forget sessions that expired by ``now`` (and lapsed throttles and codes); how many sessions."""

        def op(db: sqlite3.Connection) -> int:
            db.execute("DELETE FROM strikes WHERE expires_at <= ?", (now,))
            db.execute("DELETE FROM challenges WHERE expires_at <= ?", (now,))
            return db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount

        result: int = await self._enqueue(op)
        return result

    # throttles and one-time codes

    async def strike(
        self, key: str, now: float, window_s: float, *, lock_after: int = 0, lock_s: float = 0.0
    ) -> Strikes:
        """Count one strike under ``key`` (see :class:`~contact_center.store.base.Strikes`)."""

        def op(db: sqlite3.Connection) -> Strikes:
            return _strike(db, key, now, window_s, lock_after, lock_s)

        result: Strikes = await self._enqueue(op)
        return result

    async def strikes(self, keys: Sequence[str], now: float) -> list[Strikes]:
        """Each key's count as it stands at ``now`` (nothing counted: zeros), in the order asked."""
        found: dict[str, Any] = {}
        if keys:
            marks = ", ".join("?" * len(keys))
            rows = self._db.execute(
                f"SELECT key, count, last_at, locked_until, expires_at FROM strikes WHERE key IN ({marks})",  # noqa: S608
                tuple(keys),
            ).fetchall()
            found = {r[0]: r for r in rows}
        out = []
        for key in keys:
            row = found.get(key)
            if row is None or row[4] <= now:
                out.append(Strikes())
            else:
                out.append(Strikes(row[1], row[2], row[3] if row[3] > now else 0.0))
        return out

    async def forgive(self, key: str) -> None:
        """Forget what was counted under ``key`` (a lockout too)."""

        def op(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM strikes WHERE key = ?", (key,))

        await self._enqueue(op)

    async def put_challenge(self, key: str, challenge: Challenge, now: float) -> None:
        """Keep ``challenge`` under ``key``, in place of any earlier one."""
        c = challenge

        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO challenges (key, customer_id, address, salt, digest, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key, c.customer_id, c.address, c.salt, c.digest, c.expires_at),
            )

        await self._enqueue(op)

    async def challenge(self, key: str, now: float) -> Challenge | None:
        row = self._db.execute(
            "SELECT customer_id, address, salt, digest, expires_at FROM challenges WHERE key = ?", (key,)
        ).fetchone()
        if row is None or row[4] <= now:
            return None
        return Challenge(row[0], row[1], row[2], row[3], row[4])

    async def drop_challenge(self, key: str) -> None:
        def op(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM challenges WHERE key = ?", (key,))

        await self._enqueue(op)
