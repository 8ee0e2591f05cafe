"""What a supervisor's desk can do besides an agent's: set an agent's status, move a contact, listen in.

- ``set_agent_status`` {agent_id, status}: as the agent could (to available only while a desk of
  theirs is open); the agent's desks are told, with the reason ``by_supervisor:{id}``.
- ``move_contact`` {contact_id, agent_id | skill}: a held contact is handed on as its agent would;
  a waiting one is offered to the agent now, or waits at its place for the other skill.
- ``staffing_advice`` {arrivals_per_hour, handle_s, target, within_s, patience_s?, max_occupancy?, shrinkage?},
  or {workload: "email", arrivals_per_hour, handle_s, backlog, clear_within_h?, max_occupancy?}: the agents
  entered figures need (:mod:`contact_center.staffing`), worked out off the event loop; each figure is
  bounded so that no request costs more than a few seconds of one core.
- ``monitor`` {contact_id}: the open conversation as it stands (``monitoring``: the contact, its
  customer, its messages, an email's mails), then each new message as ``monitored_message`` in
  order, once, until ``stop_monitoring`` or the socket closes. Reading only: nothing is sent to
  the customer, and the agent's conversation is untouched.

An agent is refused each with ``forbidden``; the engine checks the role again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog

from channels.wire import message_json
from contact_center import events, topics
from contact_center.engine import Engine
from contact_center.exceptions import ClientError, Forbidden
from contact_center.fields import require_int, require_number, require_text
from contact_center.model import Contact, HistoryEvent
from contact_center.ports import DeskPorts
from contact_center.staffing import Demand, advise, email_workload

__all__ = ["DeskSupervision"]

log = structlog.get_logger("contact_center.desk")

Handler = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


class DeskSupervision:
    """The supervisor's requests of one desk socket (``who``: its signed-in user and whether a supervisor)."""

    def __init__(
        self, engine: Engine, ports: DeskPorts, send: Callable[[dict[str, Any]], None],
        who: Callable[[], tuple[str | None, bool | None]], payload: Callable[[Contact], Awaitable[dict[str, Any]]],
    ) -> None:  # fmt: skip
        self._engine = engine
        self._ports = ports
        self._send = send
        self._who = who
        self._payload = payload
        self._watching: dict[str, Callable[[], None]] = {}  # contact id -> unsubscribe
        self.conversations = ports.watch.follow(self._give, self._read, self._may_follow)

    @property
    def handlers(self) -> dict[str, Handler]:
        """Made when asked, not kept: an object holding its own bound methods is a reference cycle."""
        return {
            "set_agent_status": self.set_agent_status,
            "move_contact": self.move_contact,
            "monitor": self.monitor,
            "stop_monitoring": self.stop_monitoring,
            "staffing_advice": self.staffing_advice,
        }

    def _supervisor(self) -> str:
        user, supervisor = self._who()
        if user is None or not supervisor:
            raise Forbidden("only a supervisor may do this")
        return user

    async def set_agent_status(self, msg: dict[str, Any]) -> None:
        by = self._supervisor()
        status = await self._engine.set_status_of(
            by, msg.get("agent_id"), require_text("status", msg.get("status"), 32)
        )
        self._send({"type": "agent_status_set", "agent_id": msg.get("agent_id"), "status": status.value})

    async def move_contact(self, msg: dict[str, Any]) -> None:
        by = self._supervisor()
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        if msg.get("agent_id") is None and msg.get("skill") is None:
            raise ClientError("move_contact: say the agent_id or the skill to move it to", "invalid_field")
        moved = await self._engine.move(by, contact_id, to_agent=msg.get("agent_id"), skill=msg.get("skill"))
        self._send({"type": "contact_moved", "contact_id": moved.id, "agent_id": msg.get("agent_id"),
                    "skill": msg.get("skill")})  # fmt: skip

    async def staffing_advice(self, msg: dict[str, Any]) -> None:
        self._supervisor()
        work = _email_advice if msg.get("workload") == "email" else _queue_advice
        self._send({"type": "staffing_advice", "ref": msg.get("ref"), **await asyncio.to_thread(work, msg)})

    async def monitor(self, msg: dict[str, Any]) -> None:
        by = self._supervisor()
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        contact = self._engine.contact(contact_id)
        if contact is None:
            raise ClientError(f"contact_id: {contact_id!r} is not open (finished ones: the quality review)",
                              "invalid_field", field="contact_id")  # fmt: skip
        if contact_id not in self._watching:
            self._watching[contact_id] = self._ports.topics.subscribe(
                topics.customer(contact.customer_id), lambda event: self._heard(contact_id, event)
            )
        self.conversations.hold(contact_id)
        seqs: list[int] = []
        try:
            payload = await self._payload(contact)
            self._send({"type": "monitoring", **payload})
            seqs = [m["seq"] for m in payload["messages"]]
        finally:
            self.conversations.given(contact_id, seqs)
        log.info("desk.monitoring", contact_id=contact_id, supervisor_id=by)

    async def stop_monitoring(self, msg: dict[str, Any]) -> None:
        self._supervisor()
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        unsubscribe = self._watching.pop(contact_id, None)
        if unsubscribe is not None:
            unsubscribe()
        self._send({"type": "monitoring_stopped", "contact_id": contact_id})

    def _heard(self, contact_id: str, event: events.Event) -> None:
        if isinstance(event, events.MessagePosted) and event.message.contact_id == contact_id:
            self.conversations.live(event.message)

    def _give(self, message: HistoryEvent) -> None:
        self._send({**message_json(message), "type": "monitored_message"})

    async def _read(self, contact_id: str, after: int) -> list[HistoryEvent]:
        return await self._ports.log.messages(contact_id, after)

    def _may_follow(self, contact_id: str) -> bool:
        return contact_id in self._watching and self._engine.contact(contact_id) is not None

    def close(self) -> None:
        """Stop listening in, and let go of the desk's callbacks (they hold the desk's session, which holds this)."""
        for unsubscribe in self._watching.values():
            unsubscribe()
        self._watching.clear()
        self._ports.watch.unfollow(self.conversations)
        self._who, self._payload = _nobody, _no_payload


def _nobody() -> tuple[str | None, bool | None]:
    """A closed desk's: nobody is signed in."""
    return None, None


async def _no_payload(contact: Contact) -> dict[str, Any]:
    raise ClientError("this desk is closed", "closed")


def _share(msg: dict[str, Any], name: str, default: float, most: float, *, above: bool = True) -> float:
    """An optional share (``default`` when absent or null) above 0 (from 0 unless ``above``), at most ``most``."""
    value = msg.get(name)
    return default if value is None else require_number(name, value, 0, most, above=above)


def _queue_advice(msg: dict[str, Any]) -> dict[str, Any]:
    """Erlang C (Erlang A with ``patience_s``) for entered figures; each named when out of its range."""
    patience = msg.get("patience_s")
    demand = Demand(
        require_number("arrivals_per_hour", msg.get("arrivals_per_hour"), 0, 10_000),
        require_number("handle_s", msg.get("handle_s"), 0, 7_200, above=True),
        None if patience is None else require_number("patience_s", patience, 0, 3_600, above=True),
    )  # fmt: skip
    target = require_number("target", msg.get("target"), 0, 0.999, above=True)
    within_s = require_number("within_s", msg.get("within_s"), 0, 3_600)
    max_occupancy, shrinkage = _share(msg, "max_occupancy", 1.0, 1.0), _share(msg, "shrinkage", 0.0, 0.9, above=False)
    try:
        advice = advise(demand, target, within_s, max_occupancy, shrinkage)
    except ValueError as exc:  # no number of agents meets the target under the occupancy cap
        message = f"max_occupancy: {exc} with an occupancy of at most {max_occupancy:.0%}"
        raise ClientError(message, "invalid_field", field="max_occupancy", problem="unmet") from None
    return {"workload": "queue", "arrivals_per_hour": demand.arrivals_per_hour, "handle_s": demand.handle_s,
            "patience_s": demand.patience_s, "target": target, "within_s": within_s, **advice.to_json()}  # fmt: skip


def _email_advice(msg: dict[str, Any]) -> dict[str, Any]:
    """Email's workload per working hour for entered arrivals, handle time and backlog."""
    workload = email_workload(
        require_number("arrivals_per_hour", msg.get("arrivals_per_hour"), 0, 10_000),
        require_number("handle_s", msg.get("handle_s"), 0, 7_200, above=True),
        int(require_number("backlog", require_int("backlog", msg.get("backlog")), 0, 1_000_000)),
        require_number("clear_within_h", msg.get("clear_within_h", 2.0), 0, 24, above=True),
        _share(msg, "max_occupancy", 0.85, 1.0),
    )  # fmt: skip
    return {"workload": "email", **workload.to_json(), "max_occupancy": workload.max_occupancy}
