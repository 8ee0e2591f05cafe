"""How a chat visitor comes to be known as a customer: claims, proof, and an agent's word.

A visitor who types an email address or a phone number has made a *claim*, not given a proof.
A claim is noted on the visitor's own customer (``identity.claimed``) and shown to agents as
unverified; it gives the visitor nothing of any customer who holds that identity: no history,
no conversation, no value, no rename. An identity becomes *verified*, and the visitor becomes
the customer who holds it (the two are merged, and the visitor's token opens that customer's
conversation), only when

- the host site vouches for it: the widget is given the site's ``identifier`` for its signed-in
  user and ``identifier_hash``, the HMAC-SHA256 of it under ``identity.secret`` (checked in
  constant time); what the identifier is (an email address, a phone number or the site's own
  user id) is ``identity.identifier``;
- the visitor proves an email address by typing a code mailed to it (:meth:`send_code`,
  :meth:`check_code`): six digits, valid ``identity.code_ttl_s``, ``identity.code_attempts``
  tries, at most ``identity.codes_per_hour`` codes per visitor and per address;
- an agent holding the visitor's contact, or a supervisor, confirms it (:meth:`link`).

The same service admits anonymous visitors: one client address may start at most
``webchat.new_visitors_per_min`` a minute on each node. The count is the node's own, in memory:
it guards the node's work (each new visitor writes a customer and a session), and a store write
per new visitor to count them across nodes cost about a tenth more engine CPU per chat in the
end-to-end benchmark. Behind a balancer of N nodes an address gets up to N times the allowance.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

import structlog

from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine import Engine
from contact_center.exceptions import ClientError, Forbidden, NotFound, Throttled
from contact_center.fields import normalise_email, normalise_phone, require_text
from contact_center.model import Customer, IdentityKind, Role
from contact_center.store import NewEvent, Store
from contact_center.store.base import Challenge

__all__ = ["Identified", "Identities", "identifier_hash"]

log = structlog.get_logger("contact_center.identities")

_CLAIMABLE = {"email": IdentityKind.EMAIL, "phone": IdentityKind.PHONE}
_KIND_OF_IDENTIFIER = {"email": IdentityKind.EMAIL, "phone": IdentityKind.PHONE, "user_id": IdentityKind.USER_ID}
_HOUR_S = 3600.0


def identifier_hash(secret: str, identifier: str) -> str:
    """What the host site puts beside the identifier: HMAC-SHA256 of it under the shared secret, hex."""
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _normalised(kind: IdentityKind, value: object) -> str:
    if kind == IdentityKind.EMAIL:
        return normalise_email(value)
    if kind == IdentityKind.PHONE:
        return normalise_phone(value)
    return require_text("identifier", value, 200).strip()


@dataclass(frozen=True, slots=True)
class Identified:
    """The customer a visitor now is, with what was verified and what was only claimed."""

    customer_id: str
    verified: list[tuple[IdentityKind, str]] = field(default_factory=list)
    claimed: list[tuple[IdentityKind, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "type": "identified",
            "customer_id": self.customer_id,
            "verified": [[k.value, v] for k, v in self.verified],
            "claimed": [[k.value, v] for k, v in self.claimed],
        }


class Identities:
    """Claims, the host site's vouching, mailed codes, agents' confirmations, and the gate for new visitors."""

    def __init__(self, engine: Engine, store: Store, clock: Clock, config: Config) -> None:
        self._engine = engine
        self._store = store
        self._clock = clock
        self._config = config.identity
        self._visitors_per_min = config.webchat.new_visitors_per_min
        # client address -> (the start of its minute, visitors in it), in the order the minutes began
        self._visitors: OrderedDict[str, tuple[float, int]] = OrderedDict()

    # ---------------------------------------------------------------- new visitors

    def admit_visitor(self, client: str) -> None:
        """Count a new anonymous visitor from ``client``; :class:`Throttled` beyond the minute's allowance."""
        now, windows = self._clock.now(), self._visitors
        started, count = windows.get(client, (now, 0))
        if now - started >= 60.0 or count == 0:  # a new minute: to the back, in the order minutes began
            started, count = now, 0
            windows.pop(client, None)
        windows[client] = (started, count + 1)
        while windows and now - next(iter(windows.values()))[0] >= 60.0:  # minutes that ended, oldest first
            windows.popitem(last=False)
        if count + 1 > self._visitors_per_min:
            log.warning("webchat.visitors_throttled", client=client, count=count + 1)
            raise Throttled(
                f"more than {self._visitors_per_min} new chats from this address in a minute; "
                "try again shortly, or keep your token",
                60.0,
                "rate_limited",
            )

    # ---------------------------------------------------------------- what a visitor says

    async def identify(
        self,
        customer_id: str,
        *,
        email: object = "",
        phone: object = "",
        name: object = "",
        identifier: object = "",
        identifier_hash: object = "",
    ) -> Identified:
        """Take what the widget says of its visitor: a vouched identifier, claims, a name.

        Raises:
            ClientError: ``identity_unverified`` (the hash does not match), ``verification_unavailable``
                (no secret is configured), ``invalid_field`` (a malformed value); nothing is recorded then.
        """
        said = ((IdentityKind.EMAIL, email), (IdentityKind.PHONE, phone))
        claims = [(kind, _normalised(kind, raw)) for kind, raw in said if raw]
        new_name = require_text("name", name, 120) if name else None
        verified: list[tuple[IdentityKind, str]] = []
        if identifier or identifier_hash:
            kind, value = self._vouched(identifier, identifier_hash)
            customer_id = await self.verified(customer_id, kind, value, "site")
            verified.append((kind, value))
        claimed = []
        for kind, value in claims:
            if (kind, value) not in verified:
                claimed += await self._claim(customer_id, kind, value)
        if new_name is not None:  # the visitor's own customer (or, proven, the one it is)
            await self._store.set_customer(customer_id, name=new_name, value=None)
        return Identified(customer_id, verified, claimed)

    def _vouched(self, identifier: object, given: object) -> tuple[IdentityKind, str]:
        if not self._config.secret:
            raise ClientError(
                "this engine takes no identifiers from the site (identity.secret is not set)",
                "verification_unavailable",
            )
        raw = require_text("identifier", identifier, 254)
        mac = require_text("identifier_hash", given, 128).strip().lower()
        if not hmac.compare_digest(identifier_hash(self._config.secret, raw), mac):
            log.warning("identity.hash_mismatch", kind=self._config.identifier)
            raise ClientError(
                "identifier_hash: does not match the identifier; nothing was changed", "identity_unverified"
            )
        kind = _KIND_OF_IDENTIFIER[self._config.identifier]
        return kind, _normalised(kind, raw)

    async def _claim(self, customer_id: str, kind: IdentityKind, value: str) -> list[tuple[IdentityKind, str]]:
        mine = await self._store.get_customer(customer_id)
        if mine is None:
            raise NotFound(f"customer {customer_id} does not exist")
        if (kind, value) in mine.identities:
            return []  # proven already
        held = await self._store.find_customer(kind, value)
        event = NewEvent(
            customer_id,
            None,
            None,
            "identity.claimed",
            self._clock.now(),
            "customer",
            {"kind": kind.value, "value": value, "known_customer": held is not None},
        )
        await self._store.add_claim(customer_id, kind, value, event)
        log.info("identity.claimed", customer_id=customer_id, kind=kind.value, known=held is not None)
        return [(kind, value)]

    # ---------------------------------------------------------------- proof

    async def verified(self, customer_id: str, kind: IdentityKind, value: str, by: str) -> str:
        """``customer_id`` has proven ``kind:value``: it joins the customer holding it, or takes it.

        Returns the customer id that now stands for this person.
        """
        owner = await self._store.find_customer(kind, value)
        if owner == customer_id:
            return customer_id
        if owner is None:
            event = NewEvent(
                customer_id,
                None,
                None,
                "identity.verified",
                self._clock.now(),
                by,
                {"kind": kind.value, "value": value},
            )
            await self._store.add_identity(customer_id, kind, value, event)
            log.info("identity.verified", customer_id=customer_id, kind=kind.value, by=by)
            return customer_id
        await self._engine.merge_customers(owner, customer_id, kind, value, by)
        return owner

    async def send_code(self, customer_id: str, email: object, language: str) -> float:
        """Mail a one-time code to ``email`` for this visitor; when it lapses.

        Raises:
            ClientError: ``verification_unavailable`` (no SMTP), ``invalid_field``.
            Throttled: more than ``codes_per_hour`` codes for this visitor or to this address.
        """
        address = normalise_email(email)
        now, cfg = self._clock.now(), self._config
        for key in (f"codes:customer:{customer_id}", f"codes:address:{address}"):
            sent = await self._store.strike(key, now, _HOUR_S)
            if sent.count > cfg.codes_per_hour:
                raise Throttled(f"at most {cfg.codes_per_hour} codes an hour; try again later", _HOUR_S, "rate_limited")
        code = f"{secrets.randbelow(1_000_000):06d}"
        salt = secrets.token_hex(8)
        expires = now + cfg.code_ttl_s
        challenge = Challenge(customer_id, address, salt, _digest(salt, code), expires)
        await self._store.put_challenge(f"verify:{customer_id}", challenge, now)
        await self._store.forgive(f"code_tries:{customer_id}")
        event = NewEvent(customer_id, None, None, "identity.code_sent", now, "customer", {"address": address})
        await self._engine.send_code(address, code, language, max(1, round(cfg.code_ttl_s / 60)), event)
        log.info("identity.code_sent", customer_id=customer_id)
        return expires

    async def check_code(self, customer_id: str, code: object) -> Identified:
        """The visitor typed a code: right, the address is verified (and the visitor may become its customer).

        Raises:
            ClientError: ``code_wrong`` (with the tries left), ``code_expired`` (none waiting, lapsed, or out of tries).
        """
        typed = require_text("code", code, 12).strip()
        now, key = self._clock.now(), f"verify:{customer_id}"
        challenge = await self._store.challenge(key, now)
        if challenge is None:
            raise ClientError(
                "no code is waiting (it lapsed, was used, or none was sent); ask for a new one", "code_expired"
            )
        tries = await self._store.strike(f"code_tries:{customer_id}", now, self._config.code_ttl_s)
        if tries.count > self._config.code_attempts:
            await self._store.drop_challenge(key)
            raise ClientError("too many wrong codes; ask for a new one", "code_expired")
        if not hmac.compare_digest(_digest(challenge.salt, typed), challenge.digest):
            left = self._config.code_attempts - tries.count
            if left <= 0:
                await self._store.drop_challenge(key)
                raise ClientError("code: wrong, and no tries are left; ask for a new one", "code_expired")
            raise ClientError(f"code: wrong; {left} {'try' if left == 1 else 'tries'} left", "code_wrong")
        await self._store.drop_challenge(key)
        await self._store.forgive(f"code_tries:{customer_id}")
        joined = await self.verified(customer_id, IdentityKind.EMAIL, challenge.address, "code")
        return Identified(joined, [(IdentityKind.EMAIL, challenge.address)])

    # ---------------------------------------------------------------- an agent's word

    async def link(self, actor_id: str, customer_id: str, kind: object, value: object) -> str:
        """An agent confirms what the customer claimed (holding a contact of theirs), or a supervisor any identity.

        Returns the customer id that now stands for this person.
        """
        actor = self._engine.agent(actor_id)
        try:
            identity_kind = IdentityKind(str(kind))
        except ValueError:
            raise ClientError(f"kind: must be email or phone, got {kind!r}", "invalid_field") from None
        if identity_kind not in (IdentityKind.EMAIL, IdentityKind.PHONE):
            raise ClientError(f"kind: must be email or phone, got {kind!r}", "invalid_field")
        normal = _normalised(identity_kind, value)
        customer = await self._customer(customer_id)
        if actor.role != Role.SUPERVISOR:
            if not self._engine.works_for(actor_id, customer_id):
                raise Forbidden(f"you hold no contact of customer {customer_id}")
            if (identity_kind, normal) not in customer.claims:
                raise Forbidden(f"the customer did not say {normal}; only a supervisor links another identity")
        log.info("identity.linked", customer_id=customer.id, kind=identity_kind.value, agent_id=actor_id)
        return await self.verified(customer.id, identity_kind, normal, f"agent:{actor_id}")

    async def _customer(self, customer_id: str) -> Customer:
        customer = await self._store.get_customer(customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} does not exist")
        return customer
