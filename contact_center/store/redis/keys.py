"""Every Redis key the engine uses, in one place.

All keys start with a prefix (``cc:`` by default), so one Redis can hold several deployments
or test runs side by side. Sorted-set scores are event ids or sequence numbers, never floats
that could collide. The Lua scripts in :mod:`contact_center.store.redis` build some of these
keys from the prefix themselves (identities, contacts and sessions found while merging two
customers, the indexes a unit updates): they write ``{{shape(argument)}}`` and
:func:`lua_template` puts in the Lua expression of that shape, so every shape is written here
alone. One Redis, not a Cluster.

=============================  ======  ==========================================================
key                            type    holds
=============================  ======  ==========================================================
``customer:{id}``              hash    name, value, created_at, merged_into
``customer:{id}:identities``   set     ``{kind}:{value}`` of each identity
``customer:{id}:contacts``     set     ids of the customer's contacts
``customer:{id}:sessions``     set     token hashes of the customer's (chat visitor) sessions
``customer:{id}:claims``       zset    ``{kind}:{value}`` the customer claimed without proof, by time (ms)
``identity:{kind}:{value}``    string  the customer id the identity belongs to
``names``                      zset    ``{word}\x00{customer id}`` for each word of each customer's name
                                      (lower case, all scores 0): what a search by name reads by prefix
``contact:{id}``               hash    ``v``: version, ``customer_id``, ``record``: the contact as JSON
``contacts:open``              zset    ids of unfinished contacts, scored by original arrival
``events:next``                string  the last event id given out
``history:{customer}``         zset    the customer's events, scored by event id
``messages:{contact}``         zset    a conversation's messages, scored by sequence number
``conversation:{contact}``     hash    ``last``: last sequence number; ``c:{client_id}``: its number
``user:{id}``                  hash    an agent's or supervisor's account
``agent:{id}``                 hash    ``v``: version, ``record``: the agent's presence as JSON
``users``                      hash    username -> user id
``session:{token hash}``       hash    kind, subject_id, expires_at, issued_at (expires with the session)
``user:{id}:sessions``         set     token hashes of a user's sessions
``sessions:expiry``            zset    token hashes of every session, scored by its expiry (ms): what a purge drops
``strikes:{key}``              hash    a throttle's count under a key: n, last, until (a lockout), exp (ms)
``challenge:{key}``            hash    a one-time code waiting: customer_id, address, salt, digest, expires_at
``bus:{topic}``                pubsub  engine events of ``topic`` (``agent:{id}``, ``customer:{id}``);
                                      ``bus:state``: records a node committed, for the others
``lease:{node id}``            string  present while the node is alive (expires unless renewed)
``router``                     string  the id of the node that routes for all (expires unless renewed)
``node:{node id}``             pubsub  a node's own channel (keeps its subscriber connection open)
``mail:{id}``                  hash    ``meta``: the mail as JSON, ``raw``: its bytes, ``p:{n}``: attachment n
``mailsrc:{mb}:{uidv}:{uid}``  string  the id of the mail fetched from that place in a mailbox
``mailbox:{name}``             hash    ``uidvalidity``, ``last_uid``: the highest UID recorded under it
``threadid:{message id}``      string  JSON [mail id, digest, contact id, ticket]: where replies belong
``ticket:{ref}``               hash    ``contact_id``, ``at``: the ticket's latest contact
``tickets:next``               string  the last ticket number given out
``contact:{id}:mails``         zset    the contact's mails, scored by time (ms)
``mails:quarantined``          zset    ids of fetched mails that could not be read, by time (ms)
``outbox:{id}``                hash    ``meta``: a mail to send as JSON, ``raw``: its bytes
``outbox:key:{key}``           string  the outbox id queued under a once-only key (``ack:{ticket}``)
``outbox:due``                 zset    ids of queued mails, scored by their next attempt (ms)
``acks:{address}``             zset    outbox ids of acknowledgements to an address, by time (ms)
``acks:domain:{domain}``       zset    outbox ids of acknowledgements to addresses at a domain, by time (ms)
``seat:{name}``                set     ids of the contacts holding a place in a set of limited room (a slot)
``secret:{name}``              string  a random key made once, shared by every node (what links are signed with)
``series:{name}``              string  the last number a series gave out (a day's callback queue numbers)
``sla:email``                  zset    email contacts, scored by arrival (ms): what the SLA clock reports on
``sla:email:answered``         hash    email contact id -> its first response (seconds since the epoch)
``report:facts:{month}``       hash    contact id -> JSON of its facts (:mod:`contact_center.contact_facts`), for
                                      the contacts that arrived in that month (UTC, ``year * 12 + month - 1``;
                                      a contact's hash names it in ``fm``): what the service reports read
``reviews``                    hash    contact id -> its review (quality monitoring) as JSON
``reviews:at``                 zset    reviewed contacts, scored by the review's time (ms)
``reviews:agent:{id}``         zset    the contacts of an agent reviewed, scored the same
``statuses``                   zset    ``{agent id}|{status}|{ms}`` of each change of an agent's status, by time (ms)
=============================  ======  ==========================================================

An event is stored as one string, ``{id}:{seq}:{json}`` (``seq`` empty for events that are not
messages), the same string in ``history`` and, for messages, in ``messages``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Keys", "lua_key", "lua_template", "ms"]


def ms(at: float) -> int:
    """A time (seconds since the epoch) as the millisecond score every sorted set here keeps."""
    return round(at * 1000)


@dataclass(frozen=True, slots=True)
class Keys:
    """The keyspace under one prefix."""

    prefix: str = "cc:"

    def customer(self, customer_id: str) -> str:
        return f"{self.prefix}customer:{customer_id}"

    def customer_identities(self, customer_id: str) -> str:
        return f"{self.prefix}customer:{customer_id}:identities"

    def customer_contacts(self, customer_id: str) -> str:
        return f"{self.prefix}customer:{customer_id}:contacts"

    def customer_sessions(self, customer_id: str) -> str:
        return f"{self.prefix}customer:{customer_id}:sessions"

    def customer_claims(self, customer_id: str) -> str:
        return f"{self.prefix}customer:{customer_id}:claims"

    def identity(self, kind: str, value: str) -> str:
        return self.identity_member(f"{kind}:{value}")

    def identity_member(self, member: str) -> str:
        """The identity key of a ``{kind}:{value}`` member of ``customer:{id}:identities``."""
        return f"{self.prefix}identity:{member}"

    def contact(self, contact_id: str) -> str:
        return f"{self.prefix}contact:{contact_id}"

    @property
    def open_contacts(self) -> str:
        return f"{self.prefix}contacts:open"

    @property
    def event_ids(self) -> str:
        return f"{self.prefix}events:next"

    def history(self, customer_id: str) -> str:
        return f"{self.prefix}history:{customer_id}"

    def messages(self, contact_id: str) -> str:
        return f"{self.prefix}messages:{contact_id}"

    def conversation(self, contact_id: str) -> str:
        return f"{self.prefix}conversation:{contact_id}"

    def user(self, user_id: str) -> str:
        return f"{self.prefix}user:{user_id}"

    def agent(self, agent_id: str) -> str:
        return f"{self.prefix}agent:{agent_id}"

    def lease(self, node_id: str) -> str:
        return f"{self.prefix}lease:{node_id}"

    @property
    def router(self) -> str:
        return f"{self.prefix}router"

    @property
    def users(self) -> str:
        return f"{self.prefix}users"

    def session(self, token_hash: str) -> str:
        return f"{self.prefix}session:{token_hash}"

    @property
    def session_expiry(self) -> str:
        return f"{self.prefix}sessions:expiry"

    def user_sessions(self, user_id: str) -> str:
        return f"{self.prefix}user:{user_id}:sessions"

    def strikes(self, key: str) -> str:
        return f"{self.prefix}strikes:{key}"

    def challenge(self, key: str) -> str:
        return f"{self.prefix}challenge:{key}"

    def bus(self, topic: str) -> str:
        return f"{self.prefix}bus:{topic}"

    def node(self, node_id: str) -> str:
        return f"{self.prefix}node:{node_id}"

    def mail(self, mail_id: str) -> str:
        return f"{self.prefix}mail:{mail_id}"

    def mail_source(self, mailbox: str, uidvalidity: int, uid: int) -> str:
        return f"{self.prefix}mailsrc:{mailbox}:{uidvalidity}:{uid}"

    def mailbox(self, name: str) -> str:
        return f"{self.prefix}mailbox:{name}"

    def thread_id(self, message_id: str) -> str:
        return f"{self.prefix}threadid:{message_id}"

    def ticket(self, ref: str) -> str:
        return f"{self.prefix}ticket:{ref}"

    @property
    def ticket_numbers(self) -> str:
        return f"{self.prefix}tickets:next"

    def contact_mails(self, contact_id: str) -> str:
        return f"{self.prefix}contact:{contact_id}:mails"

    @property
    def quarantined(self) -> str:
        return f"{self.prefix}mails:quarantined"

    def outbox(self, outbound_id: str) -> str:
        return f"{self.prefix}outbox:{outbound_id}"

    def outbox_key(self, key: str) -> str:
        return f"{self.prefix}outbox:key:{key}"

    @property
    def names(self) -> str:
        return f"{self.prefix}names"

    @property
    def outbox_due(self) -> str:
        return f"{self.prefix}outbox:due"

    def seat(self, name: str) -> str:
        return f"{self.prefix}seat:{name}"

    def secret(self, name: str) -> str:
        return f"{self.prefix}secret:{name}"

    def series(self, name: str) -> str:
        return f"{self.prefix}series:{name}"

    @property
    def sla_email(self) -> str:
        return f"{self.prefix}sla:email"

    @property
    def sla_answered(self) -> str:
        return f"{self.prefix}sla:email:answered"

    def report_facts(self, month: str) -> str:
        return f"{self.prefix}report:facts:{month}"

    @property
    def reviews(self) -> str:
        return f"{self.prefix}reviews"

    @property
    def reviews_at(self) -> str:
        return f"{self.prefix}reviews:at"

    def agent_reviews(self, agent_id: str) -> str:
        return f"{self.prefix}reviews:agent:{agent_id}"

    @property
    def statuses(self) -> str:
        return f"{self.prefix}statuses"

    def file(self, file_id: str) -> str:
        return f"{self.prefix}file:{file_id}"

    @property
    def ratings(self) -> str:
        return f"{self.prefix}ratings"

    @property
    def rating_scores(self) -> str:
        return f"{self.prefix}ratings:score"

    @property
    def team_words(self) -> str:
        return f"{self.prefix}team_words"

    def reply_uses(self, hour: int) -> str:
        return f"{self.prefix}reply_uses:{hour}"

    @property
    def reply_use_hours(self) -> str:
        return f"{self.prefix}reply_uses:hours"

    def reply_versions(self, reply_id: str) -> str:
        return f"{self.prefix}reply_versions:{reply_id}"

    @property
    def reply_version_ids(self) -> str:
        return f"{self.prefix}reply_versions"

    @property
    def reply_phrasings(self) -> str:
        return f"{self.prefix}reply_phrasings"

    def acks(self, address: str) -> str:
        return f"{self.prefix}acks:{address}"

    def acks_domain(self, domain: str) -> str:
        return f"{self.prefix}acks:domain:{domain}"


_MARK = "\x00"
_SHAPE = re.compile(r"\{\{(\w+)(?:\(([^)]*)\))?\}\}")


def lua_key(shape: str, *args: str) -> str:
    """The key ``Keys.<shape>(*args)`` as a Lua expression: the prefix is the variable ``p``, each argument Lua."""
    keys = Keys(f"{_MARK}p{_MARK}")
    attr = getattr(keys, shape)
    text = attr(*(f"{_MARK}{i}{_MARK}" for i in range(len(args)))) if callable(attr) else attr
    pieces = []
    for i, part in enumerate(text.split(_MARK)):
        if i % 2:  # a mark: the prefix, or an argument
            pieces.append("p" if part == "p" else args[int(part)])
        elif part:
            assert "'" not in part and "\\" not in part, part
            pieces.append(f"'{part}'")
    return " .. ".join(pieces)


def lua_template(source: str) -> str:
    """Lua source with each ``{{shape(arg, ...)}}`` (or ``{{shape}}``) replaced by :func:`lua_key`."""

    def expand(found: re.Match[str]) -> str:
        args = [a.strip() for a in found.group(2).split(",")] if found.group(2) else []
        return lua_key(found.group(1), *args)

    return _SHAPE.sub(expand, source)
