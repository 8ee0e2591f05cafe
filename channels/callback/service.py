"""The call-me button's callbacks: asked for, booked, cancelled, moved, and how each try went.

A callback is a contact of channel ``callback``. "As soon as possible" queues it now; "at a date
and hour" schedules it for a slot (:mod:`.slots`), offered ``lead_s`` before the slot starts, in
the integrated queue at its original place. Each has the day's queue number (``C-001``, ...),
kept whatever happens to it. A number has one open callback: the unit that makes one takes the
number's only place (a :class:`~contact_center.store.Seat`), so two requests for it, on any nodes,
make one callback; a booked one also takes a place of its slot, of the slot's room, so a slot is
never booked past its capacity. Both places are given back when the callback is over. The
customer's links (:mod:`.links`) cancel or move it; the agent who called records how it went
(:mod:`.attempts`): over (wrap-up follows), or due again later.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import structlog

from channels.callback.attempts import Outcome, after, outcome_of
from channels.callback.links import Purpose, new_nonce, read_token, token_for
from channels.callback.numbers import callable_number
from channels.callback.slots import Slot, Slots
from contact_center.call_figures import quality
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine import Engine
from contact_center.engine.channel_work import ChannelWork
from contact_center.exceptions import ClientError, Conflict, Forbidden, NotFound, NotHeld
from contact_center.fields import require_text
from contact_center.mail import Composer
from contact_center.model import OPEN_STATES, Channel, Contact, ContactState, IdentityKind
from contact_center.ports import CallbackBook, DeskAction
from templates_responses.callback_mail import callback_mail

__all__ = ["Booking", "Callbacks"]

log = structlog.get_logger("channels.callback")

T = TypeVar("T")

LINK_KEY = "callback-links"
_HELD = (ContactState.ASSIGNED, ContactState.WRAP_UP)


def _slot_seat(start: float) -> str:
    return f"callback-slot:{start:.0f}"


def _phone_seat(phone: str) -> str:
    return f"callback-phone:{phone}"


class CallbackExists(ClientError):
    """A callback to this number is arranged already, by someone else: nothing of it is told."""

    http_status = 409


@dataclass(frozen=True, slots=True)
class Booking:
    """A callback as its customer sees it: ``links`` (purpose to token) only for the customer who asked."""

    contact_id: str
    queue_number: str
    phone: str
    state: str
    slot: float | None
    due_at: float | None
    place: int | None = None
    expected_wait_s: float | None = None
    links: dict[str, str] = dataclasses.field(default_factory=dict)
    merged: bool = False
    outcome: str | None = None

    def described(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Callbacks:
    """The callback channel's service (see the module's docstring)."""

    def __init__(
        self, engine: Engine, book: CallbackBook, config: Config, clock: Clock, composer: Composer | None = None
    ) -> None:
        """``composer``: the email channel's, for the confirmation (None: no mail is sent)."""
        self._engine = engine
        self._composer = composer
        server = config.server
        self._page = config.callback.page_url or f"http://{server.host}:{server.port}/callback"
        self._book = book
        self._config = config.callback
        self._calendar = config.sla.calendar
        self._clock = clock
        self.slots = Slots(config.sla.calendar, config.callback)
        self._key = ""

    async def start(self) -> None:
        """Read the deployment's key for the links (made by the first node that asks)."""
        self._key = await self._book.secret(LINK_KEY)

    # ---------------------------------------------------------------- the customer's side

    async def open_slots(self) -> list[Slot]:
        """The slots a customer may book now, each with the room it has left."""
        now = self._clock.now()
        every = self.slots.open(now, {})
        taken = await self._book.seats_taken([_slot_seat(s.start) for s in every])
        return self.slots.open(now, {s.start: taken[_slot_seat(s.start)] for s in every})

    async def _bookable(self, at: object) -> Slot:
        if not isinstance(at, int | float) or isinstance(at, bool):
            return self.slots.bookable(at, self._clock.now(), {})  # names what is wrong with it
        taken = await self._book.seats_taken([_slot_seat(at)])
        return self.slots.bookable(at, self._clock.now(), {float(at): taken[_slot_seat(at)]})

    async def request(
        self, customer_id: str, phone: object, at: object = None, *, language: object = "id", topic: object = "general"
    ) -> Booking:
        """A callback to ``phone`` as soon as possible (``at`` None) or at the slot starting ``at``; the one
        open already for the number if it is this customer's (``merged``)."""
        number = callable_number(phone, self._config.default_region, self._config.countries)
        lang, subject = require_text("language", language, 16), require_text("topic", topic, 64)
        skills = self._engine.chat_skills(subject, lang)  # names a bad topic or language
        slot = None if at is None else await self._bookable(at)
        value = await self._engine.worth(customer_id)
        address = await self._address(customer_id)
        now = self._clock.now()
        day = datetime.fromtimestamp(now, self._calendar.zone).date().isoformat()
        queue_number = f"C-{await self._book.next_in_series(f'callback:{day}'):03d}"

        def change(w: ChannelWork) -> tuple[Contact, bool]:
            mine = 0  # one pass over the channel's open contacts: the number's callback, and the customer's count
            same = None
            for c in w.open_contacts():
                same = c if c.details.get("phone") == number else same
                mine += c.customer_id == customer_id
            if same is not None:
                if same.customer_id != customer_id:
                    raise _exists()
                return same, True
            self._room_for(mine)
            details = {"phone": number, "queue_number": queue_number, "slot": slot.start if slot else None,
                       "failed": 0, "language": lang, "links": _nonces()}  # fmt: skip
            contact = Contact.arriving(Channel.CALLBACK, customer_id, skills, value, now,
                                       subject=f"Call back {number}", details=details)  # fmt: skip
            w.take_seat(contact, _phone_seat(number), 1)
            if slot is not None:
                contact.state, contact.due_at = ContactState.SCHEDULED, slot.start - self._config.lead_s
                w.take_seat(contact, _slot_seat(slot.start), slot.capacity)
            w.add(contact, f"customer:{customer_id}", phone=number, queue_number=queue_number, slot=details["slot"])
            self._confirm(w, contact, address)
            return contact, False

        contact, merged = await self._stage(change, "phone")
        log.info("callback.requested", contact_id=contact.id, merged=merged, booked=slot is not None)
        return self._booking(contact, with_links=True, merged=merged)

    async def status(self, customer_id: str, contact_id: object) -> Booking:
        """The customer's own callback as it is now; anyone else's is "not found"."""
        cid = require_text("contact_id", contact_id, 64)
        contact = self._engine.contact(cid) or await self._book.get_contact(cid)
        if contact is None or contact.customer_id != customer_id or contact.channel != Channel.CALLBACK:
            raise NotFound(f"you have no callback {cid!r}")
        return self._booking(contact, with_links=contact.state in OPEN_STATES)

    async def cancel(self, token: object) -> Booking:
        """The callback a cancel link names, closed as cancelled (its slot's place given back)."""
        contact_id, nonce = read_token(self._key, token, Purpose.CANCEL)

        def change(w: ChannelWork) -> Contact:
            contact = self._linked(w, contact_id, Purpose.CANCEL, nonce)
            over = dataclasses.replace(contact, disposition="cancelled", details={**contact.details, "links": {}})
            return w.move(over, ContactState.CLOSED, "callback.cancelled", f"customer:{contact.customer_id}")

        contact = await self._stage(change, "at")
        log.info("callback.cancelled", contact_id=contact.id)
        return self._booking(contact)

    async def reschedule(self, token: object, at: object) -> Booking:
        """The callback a reschedule link names, moved to the slot starting ``at``; new links for it."""
        contact_id, nonce = read_token(self._key, token, Purpose.RESCHEDULE)
        slot = await self._bookable(at)
        found = self._engine.contact(contact_id)
        address = await self._address(found.customer_id) if found is not None else None

        def change(w: ChannelWork) -> Contact:
            contact = self._linked(w, contact_id, Purpose.RESCHEDULE, nonce)
            moved = self._to_slot(w, contact, slot)
            actor = f"customer:{contact.customer_id}"
            if contact.state == ContactState.SCHEDULED:
                w.put(moved, "callback.rescheduled", actor, slot=slot.start)
            else:
                moved = w.move(moved, ContactState.SCHEDULED, "callback.rescheduled", actor, slot=slot.start)
            self._confirm(w, moved, address)
            return moved

        contact = await self._stage(change, "at")
        return self._booking(contact, with_links=True)

    # ---------------------------------------------------------------- the agent's side

    async def outcome(self, agent_id: str, contact_id: object, outcome: object, at: object = None) -> Contact:
        """How the agent's call went: over (wrap-up follows), or due again later (the agent freed)."""
        cid, result = require_text("contact_id", contact_id, 64), outcome_of(outcome)
        later = await self._bookable(at) if result == Outcome.CALL_BACK_LATER and at is not None else None

        def change(w: ChannelWork) -> Contact:
            contact = self._engine.held(agent_id, cid)
            if contact.channel != Channel.CALLBACK or contact.state != ContactState.ASSIGNED:
                raise NotHeld(f"contact {cid!r} is not a callback you are calling", contact_id=cid)
            failed = int(contact.details.get("failed", 0))
            due = later.start - self._config.lead_s if later is not None else None
            step = after(result, failed, w.now(), self._config, self._calendar.add, due)
            tried = dataclasses.replace(contact, details={**contact.details, "failed": step.attempts})
            actor = f"agent:{agent_id}"
            w.note(tried, "callback.outcome", actor, outcome=result.value, tries=failed + 1, due_at=step.due_at)
            if step.due_at is None:
                return w.wrap_up(tried, step.reason, actor)
            if later is not None:
                tried = self._to_slot(w, tried, later, links=False)
            tried.due_at = step.due_at
            return w.move(tried, ContactState.SCHEDULED, "callback.retry", actor, due_at=step.due_at)

        contact = await self._stage(change, "at")
        log.info("callback.outcome", contact_id=cid, outcome=result.value, state=contact.state.value)
        return contact

    def desk_actions(self) -> dict[str, DeskAction]:
        """What the channel adds to the agent's desk: ``callback_outcome`` {contact_id, outcome, at?}."""

        async def recorded(agent_id: str, msg: dict[str, Any]) -> dict[str, Any]:
            contact = await self.outcome(agent_id, msg.get("contact_id"), msg.get("outcome"), msg.get("at"))
            return {"type": "callback_outcome", "contact_id": contact.id, "outcome": msg.get("outcome"),
                    "state": contact.state.value, "due_at": contact.due_at}  # fmt: skip

        async def dialled(agent_id: str, msg: dict[str, Any]) -> None:
            await self.dialled(agent_id, msg)

        return {"callback_outcome": recorded, "callback_dialled": dialled}

    async def dialled(self, agent_id: str, msg: dict[str, Any]) -> None:
        """The desk's call of the number through the gateway ended: who hung up, why, how long it talked, and
        the line's figures (``getStats``), in the customer's history (``callback.dialled``)."""
        cid, figures = require_text("contact_id", msg.get("contact_id"), 64), quality(msg)
        by, cause = msg.get("by"), require_text("cause", msg.get("cause", ""), 64, allow_empty=True)
        talked = msg.get("duration_s", 0)
        if by not in ("agent", "customer"):
            raise ClientError("by: agent or customer", "invalid_field", field="by")
        if not isinstance(talked, int | float) or isinstance(talked, bool) or not 0 <= talked <= 86_400:
            raise ClientError("duration_s: seconds from 0 to a day", "invalid_field", field="duration_s")

        def change(w: ChannelWork) -> None:
            contact = self._engine.held(agent_id, cid)
            if contact.channel != Channel.CALLBACK:
                raise NotHeld(f"contact {cid!r} is not a callback you are calling", contact_id=cid)
            w.note(contact, "callback.dialled", f"agent:{agent_id}", by=by, cause=cause,
                   duration_s=round(float(talked), 3), **figures)  # fmt: skip

        await self._engine.stage(Channel.CALLBACK, change)

    # ---------------------------------------------------------------- within a unit

    async def _address(self, customer_id: str) -> str | None:
        """The customer's proven email address, where the confirmation goes (a claim is not enough)."""
        if self._composer is None:
            return None
        customer = await self._book.get_customer(customer_id)
        emails = [v for kind, v in (customer.identities if customer else ()) if kind == IdentityKind.EMAIL]
        return emails[0] if emails else None

    def _confirm(self, w: ChannelWork, contact: Contact, address: str | None) -> None:
        """Within the unit: the confirmation with the callback's live links, mailed to ``address`` (if any)."""
        if address is None or self._composer is None:
            return
        d = contact.details
        links = {p: quote(token_for(self._key, contact.id, Purpose(p), n)) for p, n in d.get("links", {}).items()}
        slot = d.get("slot")
        when = None if slot is None else datetime.fromtimestamp(float(slot), self._calendar.zone)
        mail = callback_mail(str(d.get("language", "id")), str(d.get("queue_number", "")), str(d.get("phone", "")),
                             when, f"{self._page}#cancel={links['cancel']}",
                             f"{self._page}#reschedule={links['reschedule']}")  # fmt: skip
        key = f"callback:{contact.id}:{d['links']['cancel']}"
        w.send_mail(self._composer.notice(address, mail.subject, mail.text, key, w.now()))
        w.note(contact, "callback.confirmation", "system", to=address)

    def _room_for(self, open_already: int) -> None:
        """Refuse a customer who has as many callbacks open as they may (each another number to call)."""
        most = self._config.per_customer
        if open_already >= most:
            raise ClientError(f"phone: at most {most} callbacks open at once; cancel one first",
                              "too_many_callbacks", field="phone", limit=most)  # fmt: skip

    def _linked(self, w: ChannelWork, contact_id: str, purpose: Purpose, nonce: str) -> Contact:
        """The open callback a link names, if the link is still live and nobody is calling it now."""
        try:
            contact = w.contact(contact_id)
        except NotFound:
            raise Forbidden("this link was used already, or its callback is over") from None
        if contact.details.get("links", {}).get(purpose.value) != nonce:
            raise Forbidden("this link was used already, or its callback is over")
        if contact.state in _HELD:
            raise ClientError("an agent is calling this number now", "invalid_transition")
        return contact

    def _to_slot(self, w: ChannelWork, contact: Contact, slot: Slot, *, links: bool = True) -> Contact:
        """A copy of ``contact`` booked for ``slot``: its old slot's place given back, the new one's taken."""
        moved = dataclasses.replace(contact, due_at=slot.start - self._config.lead_s)
        old = moved.details.get("slot")
        if isinstance(old, int | float) and old != slot.start:
            w.give_seat(moved, _slot_seat(old))
        w.take_seat(moved, _slot_seat(slot.start), slot.capacity)
        moved.details = {**moved.details, "slot": slot.start} | ({"links": _nonces()} if links else {})
        return moved

    async def _stage(self, change: Callable[[ChannelWork], T], field: str) -> T:
        """The change as one unit; a place in a full set (raced by another request) named on ``field``."""
        try:
            return await self._engine.stage(Channel.CALLBACK, change)
        except Conflict as exc:
            if "callback-phone:" in str(exc):
                raise _exists() from None
            raise ClientError("at: that slot is full: choose another", "invalid_field", field=field,
                              problem="full") from None  # fmt: skip

    def _booking(self, contact: Contact, *, with_links: bool = False, merged: bool = False) -> Booking:
        d = contact.details
        place = self._engine.places(Channel.CALLBACK).get(contact.id)
        links = d.get("links", {}) if with_links else {}
        return Booking(
            contact.id, str(d.get("queue_number", "")), str(d.get("phone", "")), contact.state.value,
            d.get("slot"), contact.due_at, place,
            None if place is None else self._engine.expected_wait(Channel.CALLBACK, place),
            {p: token_for(self._key, contact.id, Purpose(p), n) for p, n in links.items()}, merged,
            contact.disposition,
        )  # fmt: skip


def _exists() -> CallbackExists:
    return CallbackExists("phone: a call to this number is arranged already", "callback_exists", field="phone")


def _nonces() -> dict[str, str]:
    return {p.value: new_nonce() for p in Purpose}
