"""The embedded store's tables, and how a file written by an earlier version is brought up to them."""

from __future__ import annotations

import sqlite3

__all__ = ["SCHEMA", "prepare"]


SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, value REAL NOT NULL, created_at REAL NOT NULL,
    merged_into TEXT
);
CREATE TABLE IF NOT EXISTS identities (
    kind TEXT NOT NULL, value TEXT NOT NULL, customer_id TEXT NOT NULL, PRIMARY KEY (kind, value)
);
CREATE INDEX IF NOT EXISTS identities_customer ON identities (customer_id);
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, customer_id TEXT NOT NULL, state TEXT NOT NULL,
    created_at REAL NOT NULL, enqueued_at REAL NOT NULL, skills TEXT NOT NULL,
    priority INTEGER NOT NULL, subject TEXT NOT NULL, agent_id TEXT, disposition TEXT,
    closed_at REAL, ticket TEXT NOT NULL DEFAULT '', answered_at REAL, breached_at REAL, left_at REAL,
    rating INTEGER, due_at REAL, details TEXT NOT NULL DEFAULT '{}', accepted_at REAL
);
CREATE INDEX IF NOT EXISTS contacts_state ON contacts (state);
CREATE INDEX IF NOT EXISTS contacts_customer ON contacts (customer_id);
-- The SLA reports read each email contact's arrival and first response; a partial index, so
-- that chats, whose rows change at every step of their lives, never write to it.
DROP INDEX IF EXISTS contacts_sla;
CREATE INDEX IF NOT EXISTS contacts_email_sla ON contacts (channel, created_at, answered_at) WHERE channel = 'email';
-- The ratings report reads each rated chat's start and score; only a rating writes to it.
CREATE INDEX IF NOT EXISTS contacts_rated ON contacts (created_at, rating) WHERE rating IS NOT NULL;
-- The service reports read every contact that arrived in a span; arrival never changes, so
-- the rows' later writes leave this index alone.
CREATE INDEX IF NOT EXISTS contacts_created ON contacts (created_at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL, contact_id TEXT,
    channel TEXT, kind TEXT NOT NULL, at REAL NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL,
    seq INTEGER, client_id TEXT
);
-- A message touches one index, events_seq; every other event, events_by_customer. Each
-- open conversation writes to its own page of an index, and a commit writes every page
-- it changed to the log in full, so a second index on messages doubled the bytes (and the
-- CPU) of each commit. A customer's history joins the two (see history()).
CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events (contact_id, seq) WHERE seq IS NOT NULL;
DROP INDEX IF EXISTS events_customer;
CREATE INDEX IF NOT EXISTS events_by_customer ON events (customer_id, id) WHERE seq IS NULL;
-- Resends are recognised by the writer's per-conversation record (_Conversation), not by an
-- index: one index fewer to update for every message.
DROP INDEX IF EXISTS events_client;
CREATE TABLE IF NOT EXISTS claims (
    customer_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (customer_id, kind, value)
);
-- Email. A fetched mail's place (mailbox, uidvalidity, uid) is unique: the same message is
-- never recorded twice; mails sent have no place (NULLs are distinct).
CREATE TABLE IF NOT EXISTS mails (
    id TEXT PRIMARY KEY, direction TEXT NOT NULL, at REAL NOT NULL, message_id TEXT NOT NULL,
    digest TEXT NOT NULL, mailbox TEXT, uidvalidity INTEGER, uid INTEGER, contact_id TEXT,
    quarantine TEXT, meta TEXT NOT NULL, raw BLOB NOT NULL, UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX IF NOT EXISTS mails_contact ON mails (contact_id, at) WHERE contact_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS mails_quarantined ON mails (at) WHERE quarantine IS NOT NULL;
CREATE TABLE IF NOT EXISTS mail_parts (
    mail_id TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB, PRIMARY KEY (mail_id, idx)
);
-- Files customers sent in chats; a message names them (its data's "files").
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, filename TEXT NOT NULL, content_type TEXT NOT NULL,
    size INTEGER NOT NULL, at REAL NOT NULL, data BLOB NOT NULL
);
-- The team's dictionary (words the spell checker never flags), and each pre-written reply an agent used.
-- Each change of an agent's status, when it happened: what occupancy is measured against.
CREATE TABLE IF NOT EXISTS agent_statuses (
    agent_id TEXT NOT NULL, at REAL NOT NULL, status TEXT NOT NULL, PRIMARY KEY (agent_id, at)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agent_statuses_at ON agent_statuses (at);
-- Reviews of conversations (quality monitoring): the latest of each contact.
CREATE TABLE IF NOT EXISTS reviews (
    contact_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_agent ON reviews (agent_id, at);
CREATE INDEX IF NOT EXISTS reviews_at ON reviews (at);
CREATE TABLE IF NOT EXISTS team_words (word TEXT PRIMARY KEY, added_by TEXT NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reply_uses (
    n INTEGER PRIMARY KEY AUTOINCREMENT, reply_id TEXT NOT NULL, agent_id TEXT NOT NULL, contact_id TEXT NOT NULL,
    message TEXT NOT NULL, language TEXT NOT NULL, at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reply_uses_at ON reply_uses (at);
CREATE TABLE IF NOT EXISTS reply_versions (
    reply_id TEXT NOT NULL, n INTEGER NOT NULL, author TEXT NOT NULL, at REAL NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (reply_id, n)
);
CREATE TABLE IF NOT EXISTS thread_ids (
    message_id TEXT PRIMARY KEY, mail_id TEXT NOT NULL, digest TEXT NOT NULL, contact_id TEXT,
    ticket TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    ticket TEXT PRIMARY KEY, contact_id TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ticket_numbers (n INTEGER PRIMARY KEY AUTOINCREMENT);
-- The places held in sets of limited room (a booked slot's callbacks), by the contacts holding them.
CREATE TABLE IF NOT EXISTS seats (name TEXT NOT NULL, holder TEXT NOT NULL, PRIMARY KEY (name, holder));
CREATE TABLE IF NOT EXISTS series (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mailboxes (
    mailbox TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, recipient TEXT NOT NULL,
    created_at REAL NOT NULL, next_at REAL NOT NULL, state TEXT NOT NULL, meta TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_at) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS outbox_acks ON outbox (recipient, created_at) WHERE kind = 'ack';
CREATE INDEX IF NOT EXISTS outbox_ack_domains
    ON outbox (substr(recipient, instr(recipient, '@') + 1), created_at) WHERE kind = 'ack';
"""


ACCOUNTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
    role TEXT NOT NULL, password_hash TEXT NOT NULL, skills TEXT NOT NULL, capacity TEXT NOT NULL,
    wrap_up_s REAL NOT NULL, status TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, subject_id TEXT NOT NULL,
    expires_at REAL NOT NULL, issued_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_subject ON sessions (subject_id);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
-- A throttle's count under a key (a username, a client address), forgotten at expires_at.
CREATE TABLE IF NOT EXISTS strikes (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, last_at REAL NOT NULL, locked_until REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS challenges (
    key TEXT PRIMARY KEY, customer_id TEXT NOT NULL, address TEXT NOT NULL, salt TEXT NOT NULL,
    digest TEXT NOT NULL, expires_at REAL NOT NULL
);
"""


def migrate_accounts(db: sqlite3.Connection) -> None:
    """Columns added since a file was written: ``users.disabled``, ``sessions.issued_at``."""
    have = {row[1] for row in db.execute("PRAGMA table_info(users)")}
    if have and "disabled" not in have:
        db.execute("ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0")
    have = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    if have and "issued_at" not in have:
        db.execute("ALTER TABLE sessions ADD COLUMN issued_at REAL NOT NULL DEFAULT 0")


def prepare(db: sqlite3.Connection) -> None:
    """Bring the file up to the schema: columns added since it was written, then every table and index."""
    have = {row[1] for row in db.execute("PRAGMA table_info(contacts)")}
    if have and "ticket" not in have:
        db.execute("ALTER TABLE contacts ADD COLUMN ticket TEXT NOT NULL DEFAULT ''")
        db.execute("ALTER TABLE contacts ADD COLUMN answered_at REAL")
        db.execute("ALTER TABLE contacts ADD COLUMN breached_at REAL")
    if have and "left_at" not in have:
        db.execute("ALTER TABLE contacts ADD COLUMN left_at REAL")
    if have and "rating" not in have:
        db.execute("ALTER TABLE contacts ADD COLUMN rating INTEGER")
    if have and "due_at" not in have:
        db.execute("ALTER TABLE contacts ADD COLUMN due_at REAL")
        db.execute("ALTER TABLE contacts ADD COLUMN details TEXT NOT NULL DEFAULT '{}'")
    if have and "accepted_at" not in have:
        db.execute("ALTER TABLE contacts ADD COLUMN accepted_at REAL")
    migrate_accounts(db)
    db.executescript(SCHEMA)
    db.executescript(ACCOUNTS_SCHEMA)
