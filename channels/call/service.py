"""Click-to-call: a call placed from the customer's page, queued, answered on a desk, talked, hung up.

A call is a contact of channel ``call``, placed by one widget socket (the page whose browser holds
the sound) and routed like any contact; the router gives an agent on a call no other work. Once an
agent accepts it the customer's browser is told (``agent_joined``) and offers the media; the two
browsers then talk WebRTC, the engine carrying their signalling (:mod:`.signals`) on the bus to
wherever the other side's socket is, recording none of it. What the call goes through is recorded:
placed, offered (ringing), answered, connected (the set-up time), held and resumed, transferred
(the customer's browser offers again to the next agent), hung up (by whom, why, how long it
lasted) and each side's call quality; then the agent's wrap-up gives the outcome. A customer who
hangs up while waiting, or whose page closes, abandons the call; a call whose media failed says so
to both sides, and the customer's widget offers a callback instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import structlog

from channels.call import signals
from contact_center import events, topics
from contact_center.call_figures import quality
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine import Engine
from contact_center.engine.channel_work import ChannelWork
from contact_center.exceptions import ClientError, ContactCenterError, Forbidden, NotHeld
from contact_center.fields import require_text
from contact_center.ice import ice_servers
from contact_center.model import Channel, Contact, ContactState
from contact_center.ports import DeskAction, Visitor, WidgetAction

__all__ = ["Calls"]

log = structlog.get_logger("channels.call")

T = TypeVar("T")

WAITING, TALKING, HELD, ENDED = "waiting", "talking", "held", "ended"
_REASONS = frozenset({"hung_up", "media_failed", "no_media", "left_page"})
_FROM_CUSTOMER = frozenset({"offer", "candidate"})
_FROM_AGENT = frozenset({"answer", "candidate"})


def _call(contact: Contact) -> dict[str, Any]:
    call: dict[str, Any] = contact.details.get("call", {})
    return call


def _with(contact: Contact, **changes: Any) -> Contact:
    """A copy of ``contact`` whose call has ``changes`` (records are never changed in place)."""
    return dataclasses.replace(contact, details={**contact.details, "call": {**_call(contact), **changes}})


def _reason(value: object) -> str:
    reason = "hung_up" if value is None else value
    if reason not in _REASONS:
        raise ClientError(f"reason: one of {', '.join(sorted(_REASONS))}, got {value!r}", "invalid_field",
                          field="reason")  # fmt: skip
    return str(reason)


class Calls:
    """The call channel's service (see the module's docstring)."""

    def __init__(
        self, engine: Engine, config: Config, clock: Clock, office: Callable[[], dict[str, Any]] | None = None
    ) -> None:
        """``office``: whether the office is open now (``{"open", "opens_at", "time_zone"}``; None: always)."""
        self._engine = engine
        self._config = config.call
        self._clock = clock
        self._office = office or (lambda: {"open": True})
        self._placed: dict[str, str] = {}  # socket id -> the call it placed, on this node
        self._tasks: set[asyncio.Task[None]] = set()

    # ---------------------------------------------------------------- the customer's side

    async def place(self, visitor: Visitor) -> dict[str, Any]:
        """A call from the visitor's page, queued for an agent: ``call_placed`` (or the page's open call)."""
        office = self._office()
        if not office.get("open", True):
            raise ClientError("calls are answered in office hours; ask to be called back instead", "office_closed",
                              opens_at=office.get("opens_at"))  # fmt: skip
        skills = self._engine.chat_skills(visitor.topic, visitor.language)
        value = await self._engine.worth(visitor.customer_id)
        now = self._clock.now()

        def change(w: ChannelWork) -> Contact:
            for c in w.open_contacts():
                if c.customer_id == visitor.customer_id and _call(c).get("phase") != ENDED:
                    if _call(c).get("socket") != visitor.socket_id:
                        raise ClientError("you are on a call in another window already", "call_exists")
                    return c
            details = {"language": visitor.language, "call": {"phase": WAITING, "socket": visitor.socket_id,
                                                               "placed_at": now}}  # fmt: skip
            contact = Contact.arriving(Channel.CALL, visitor.customer_id, skills, value, now,
                                       subject="Call from the web page", details=details)  # fmt: skip
            w.add(contact, f"customer:{visitor.customer_id}", topic=visitor.topic, language=visitor.language)
            return contact

        contact = await self._engine.stage(Channel.CALL, change)
        self._placed[visitor.socket_id] = contact.id
        log.info("call.placed", contact_id=contact.id)
        return {"type": "call_placed", **self._status(self._engine.contact(contact.id) or contact),
                "ice_servers": ice_servers(self._config, f"customer-{contact.id}", now),
                "ice_transport_policy": self._config.ice_transport_policy,
                "offer_callback_after_s": self._config.offer_callback_after_s,
                "connect_timeout_s": self._config.connect_timeout_s}  # fmt: skip

    async def status(self, visitor: Visitor, msg: dict[str, Any]) -> dict[str, Any]:
        """The visitor's call as it is now: ``call_status`` (its place while it waits)."""
        return {"type": "call_status", **self._status(self._customers(visitor, msg, live=False))}

    def _status(self, contact: Contact) -> dict[str, Any]:
        place = self._engine.places(Channel.CALL).get(contact.id)
        wait = None if place is None else self._engine.expected_wait(Channel.CALL, place)
        call = _call(contact)
        return {"contact_id": contact.id, "state": contact.state.value, "phase": call.get("phase", WAITING),
                "position": place, "expected_wait_s": wait, "placed_at": call.get("placed_at")}  # fmt: skip

    def _customers(self, visitor: Visitor, msg: dict[str, Any], *, live: bool) -> Contact:
        """The call ``contact_id`` names, if the visitor's page placed it (and, ``live``, it is being talked)."""
        cid = require_text("contact_id", msg.get("contact_id"), 64)
        contact = self._engine.contact(cid)
        if (
            contact is None
            or contact.channel != Channel.CALL
            or contact.customer_id != visitor.customer_id
            or _call(contact).get("socket") != visitor.socket_id
        ):
            raise Forbidden(f"contact {cid!r} is not a call this page placed")
        if live:
            self._live(contact)
        return contact

    @staticmethod
    def _live(contact: Contact) -> None:
        if contact.state != ContactState.ASSIGNED or _call(contact).get("phase") == ENDED:
            why = "has ended" if _call(contact).get("phase") == ENDED else "is not answered yet"
            raise ClientError(f"the call {why}", "call_not_live", contact_id=contact.id, state=contact.state.value)

    async def customer_signal(self, visitor: Visitor, msg: dict[str, Any]) -> None:
        """The customer's browser to the agent's: an offer or an ICE candidate."""
        contact = self._customers(visitor, msg, live=True)
        signal = _signal(msg.get("signal"), _FROM_CUSTOMER)
        self._tell(topics.agent(contact.agent_id or ""), {"type": "call_signal", "contact_id": contact.id,
                                                          "signal": signal})  # fmt: skip
        if signal["type"] == "offer" and _call(contact).get("offered_at") is None:
            await self._offered(contact.id)  # after it is passed on: the set-up does not wait for the record

    async def _offered(self, contact_id: str) -> None:
        """The customer's browser offered its sound (the agent had answered): the set-up time counts from here."""

        def change(w: ChannelWork) -> None:
            contact = w.contact(contact_id)
            if _call(contact).get("offered_at") is None:
                w.put(_with(contact, offered_at=w.now()), "call.answered", "system")

        await self._engine.stage(Channel.CALL, change)

    async def customer_hangup(self, visitor: Visitor, msg: dict[str, Any]) -> dict[str, Any]:
        """The customer hangs up: a call still waiting is abandoned; an answered one ends."""
        contact = self._customers(visitor, msg, live=False)
        return await self._hang_up(
            contact.id, "customer", _reason(msg.get("reason")), f"customer:{visitor.customer_id}"
        )

    async def customer_connected(self, visitor: Visitor, msg: dict[str, Any]) -> None:
        await self._connected(self._customers(visitor, msg, live=True).id)

    async def customer_stats(self, visitor: Visitor, msg: dict[str, Any]) -> None:
        await self._quality(self._customers(visitor, msg, live=False).id, "customer", msg)

    async def socket_gone(self, visitor: Visitor) -> None:
        """The socket of the page that placed a call closed: unless the page takes the call back on a new
        socket within ``resume_grace_s`` (``call_resume``: a dropped connection), the call ends with it."""
        contact_id = self._placed.pop(visitor.socket_id, None)
        if contact_id is not None:
            self._clock.call_later(self._config.resume_grace_s, lambda: self._spawn(self._left(contact_id, visitor)))

    async def _left(self, contact_id: str, visitor: Visitor) -> None:
        contact = self._engine.contact(contact_id)
        call = {} if contact is None else _call(contact)
        if contact is None or call.get("socket") != visitor.socket_id or call.get("phase") == ENDED:
            return
        try:
            await self._hang_up(contact_id, "customer", "left_page", f"customer:{visitor.customer_id}")
        except ContactCenterError as exc:  # the store away: the agent's side ends it (no media)
            log.warning("call.left_unrecorded", contact_id=contact_id, error=repr(exc))

    async def resume(self, visitor: Visitor, msg: dict[str, Any]) -> dict[str, Any]:
        """The page's new socket takes back the call its dropped one placed (the same customer's)."""
        cid = require_text("contact_id", msg.get("contact_id"), 64)
        found = self._engine.contact(cid)
        if found is None or found.channel != Channel.CALL or found.customer_id != visitor.customer_id:
            raise Forbidden(f"contact {cid!r} is not a call of yours")

        def change(w: ChannelWork) -> Contact:
            contact = w.contact(cid)
            if _call(contact).get("phase") == ENDED:
                return contact
            moved = _with(contact, socket=visitor.socket_id)
            w.put(moved, "call.page_back", f"customer:{visitor.customer_id}")
            return moved

        contact = await self._engine.stage(Channel.CALL, change)
        if _call(contact).get("phase") != ENDED:
            self._placed[visitor.socket_id] = cid
        return {"type": "call_status", **self._status(contact)}

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- the agent's side

    def _agents(self, agent_id: str, msg: dict[str, Any], *, live: bool) -> Contact:
        cid = require_text("contact_id", msg.get("contact_id"), 64)
        contact = self._engine.held(agent_id, cid)
        if contact.channel != Channel.CALL:
            raise NotHeld(f"contact {cid!r} is not a call", contact_id=cid)
        if live:
            self._live(contact)
        return contact

    async def ice(self, agent_id: str, msg: dict[str, Any]) -> dict[str, Any]:
        """The ICE servers for the agent's side of a call it holds: ``call_ice``."""
        contact = self._agents(agent_id, msg, live=False)
        servers = ice_servers(self._config, f"agent-{agent_id}", self._clock.now())
        return {"type": "call_ice", "contact_id": contact.id, "ice_servers": servers,
                "ice_transport_policy": self._config.ice_transport_policy}  # fmt: skip

    async def agent_signal(self, agent_id: str, msg: dict[str, Any]) -> None:
        """The agent's browser to the customer's: an answer or an ICE candidate."""
        contact = self._agents(agent_id, msg, live=True)
        signal = _signal(msg.get("signal"), _FROM_AGENT)
        self._tell(topics.customer(contact.customer_id), {"type": "call_signal", "contact_id": contact.id,
                                                          "signal": signal})  # fmt: skip

    async def agent_connected(self, agent_id: str, msg: dict[str, Any]) -> None:
        await self._connected(self._agents(agent_id, msg, live=True).id)

    async def agent_stats(self, agent_id: str, msg: dict[str, Any]) -> None:
        await self._quality(self._agents(agent_id, msg, live=False).id, "agent", msg)

    async def hold(self, agent_id: str, msg: dict[str, Any]) -> dict[str, Any]:
        """The agent puts the call on hold (``on``: true) or takes it back; the customer is told."""
        on = msg.get("on")
        if not isinstance(on, bool):
            raise ClientError("on: true to hold the call, false to take it back", "invalid_field", field="on")
        cid = self._agents(agent_id, msg, live=True).id

        def change(w: ChannelWork) -> Contact:
            contact = w.contact(cid)
            self._live(contact)
            if (_call(contact).get("phase") == HELD) == on:
                return contact
            held = _with(contact, phase=HELD if on else TALKING)
            w.put(held, "call.held" if on else "call.resumed", f"agent:{agent_id}")
            return held

        contact = await self._engine.stage(Channel.CALL, change)
        self._tell(topics.customer(contact.customer_id), {"type": "call_held", "contact_id": cid, "on": on})
        return {"type": "call_held", "contact_id": cid, "on": on}

    async def agent_hangup(self, agent_id: str, msg: dict[str, Any]) -> dict[str, Any]:
        contact = self._agents(agent_id, msg, live=False)
        return await self._hang_up(contact.id, "agent", _reason(msg.get("reason")), f"agent:{agent_id}")

    # ---------------------------------------------------------------- both

    async def _connected(self, contact_id: str) -> None:
        """Media flows: recorded once, with the set-up time (since the customer's browser offered its sound,
        once the agent answered) and the time since the call was placed (its wait included)."""

        def change(w: ChannelWork) -> None:
            contact = w.contact(contact_id)
            call = _call(contact)
            if call.get("connected_at") is not None or call.get("phase") == ENDED:
                return
            now = w.now()
            setup, placed = now - float(call.get("offered_at") or now), now - float(call.get("placed_at", now))
            w.put(_with(contact, phase=TALKING, connected_at=now), "call.connected", "system",
                  setup_s=round(setup, 3), since_placed_s=round(placed, 3))  # fmt: skip

        await self._engine.stage(Channel.CALL, change)

    async def _quality(self, contact_id: str, side: str, msg: dict[str, Any]) -> None:
        """One side's figures of the call (round-trip time, jitter, packets lost): the latest kept."""
        figures = quality(msg)

        def change(w: ChannelWork) -> None:
            contact = w.contact(contact_id)
            quality = {**_call(contact).get("quality", {}), side: figures}
            w.put(_with(contact, quality=quality), "call.quality", side, side=side, **figures)

        await self._engine.stage(Channel.CALL, change)

    async def _hang_up(self, contact_id: str, by: str, reason: str, actor: str) -> dict[str, Any]:
        """The call ends (``by`` the customer or the agent): abandoned if nobody had it yet; else wrap-up
        follows, in which the agent records the outcome. The other side is told; a second hang-up is a no-op."""

        def change(w: ChannelWork) -> Contact:
            contact = w.contact(contact_id)
            call = _call(contact)
            if call.get("phase") == ENDED:
                return contact
            now = w.now()
            connected = call.get("connected_at")
            duration = 0.0 if connected is None else round(now - float(connected), 3)
            ended = _with(contact, phase=ENDED, ended_at=now, ended_by=by, reason=reason, duration_s=duration)
            if contact.state == ContactState.ASSIGNED:
                return w.talk_over(ended, "call.ended", actor, by=by, reason=reason, duration_s=duration)
            if contact.state in (ContactState.QUEUED, ContactState.OFFERED):  # nobody had it yet
                waited = round(now - contact.enqueued_at, 3)
                return w.talk_over(ended, "call.abandoned", actor, by=by, reason=reason, waited_s=waited)
            w.put(ended, "call.ended", actor, by=by, reason=reason, duration_s=duration)  # in wrap-up already
            return ended

        contact = await self._engine.stage(Channel.CALL, change)
        call = _call(contact)
        if self._placed.get(str(call.get("socket"))) == contact.id:
            del self._placed[str(call.get("socket"))]
        told = {"type": "call_ended", "contact_id": contact.id, "by": call.get("ended_by", by),
                "reason": call.get("reason", reason), "duration_s": call.get("duration_s", 0.0)}  # fmt: skip
        other = topics.agent(contact.agent_id) if by == "customer" and contact.agent_id else None
        if by == "agent":
            other = topics.customer(contact.customer_id)
        if other is not None:
            self._tell(other, told)
        log.info("call.ended", contact_id=contact.id, by=by, reason=reason, state=contact.state.value)
        return told

    def _tell(self, topic: str, message: dict[str, Any]) -> None:
        self._engine.bus.publish(topic, events.ChannelNews(message))

    # ---------------------------------------------------------------- registration

    def widget_actions(self) -> dict[str, WidgetAction]:
        """What the channel adds to the widget's socket (docs/protocol.md, "Calls")."""

        async def place(visitor: Visitor, msg: dict[str, Any]) -> dict[str, Any]:
            return await self.place(visitor)

        return {
            "call_place": place,
            "call_status": self.status,
            "call_signal": self.customer_signal,
            "call_connected": self.customer_connected,
            "call_stats": self.customer_stats,
            "call_hangup": self.customer_hangup,
            "call_resume": self.resume,
        }

    def desk_actions(self) -> dict[str, DeskAction]:
        """What the channel adds to the agent's desk (docs/protocol.md, "Calls")."""
        return {
            "call_ice": self.ice,
            "call_signal": self.agent_signal,
            "call_connected": self.agent_connected,
            "call_stats": self.agent_stats,
            "call_hold": self.hold,
            "call_hangup": self.agent_hangup,
        }


def _signal(raw: object, allowed: frozenset[str]) -> dict[str, Any]:
    """A checked signal this side may send (see :mod:`.signals`)."""
    if not isinstance(raw, dict):
        raise ClientError("signal: an object with its type (offer, answer or candidate)", "invalid_field",
                          field="signal", problem="not_signal")  # fmt: skip
    kind = raw.get("type")
    if kind not in allowed:
        raise ClientError(f"signal: this side sends {' or '.join(sorted(allowed))}, not {kind!r}", "invalid_field",
                          field="signal", problem="wrong_signal")  # fmt: skip
    if kind == "candidate":
        return signals.candidate(raw)
    return signals.description(raw, str(kind))
