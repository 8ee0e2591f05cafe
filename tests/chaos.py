"""Customers and agents who keep talking while engine nodes die: the chaos test's actors and what they saw.

Each actor behaves as the shipped widget and desk do (docs/protocol.md): it connects to a node
the balancer picks, resumes after a dropped socket on another node, and sends again, with the
same ``client_id``, whatever was not acknowledged. Each keeps what it saw, with the time it saw
it (``time.monotonic()`` of the test process), and checks every socket as it goes: on one socket
a conversation's messages come in ``seq`` order, with none missing below the one that comes, and
no number twice. What an actor finds wrong goes to ``faults``; the test asserts there are none.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from tests.clients import login
from tests.nodes import Node

__all__ = ["SHOP", "Agent", "Customer", "Sent"]

SHOP = "http://shop.test"  # the page every widget is on, whichever node it reaches


@dataclass
class Sent:
    """A message an actor sent, and its acknowledgement."""

    client_id: str
    text: str
    contact_id: str | None = None
    seq: int | None = None
    acked_at: float | None = None


@dataclass
class Conversation:
    """What one actor got of one conversation: each ``seq`` with the moment it first had it."""

    arrived: dict[int, float] = field(default_factory=dict)
    since: float = 0.0  # when this actor first had the conversation (an agent: when it was assigned)

    def have(self, seq: int, at: float) -> None:
        self.arrived.setdefault(seq, at)

    def unbroken(self) -> int:
        n = 0
        while n + 1 in self.arrived:
            n += 1
        return n


class _SocketCheck:
    """One socket's view of one conversation: in order, nothing missing below, no number twice."""

    def __init__(self, known: set[int]) -> None:
        self.known = set(known)
        self.given: set[int] = set()

    def message(self, seq: int) -> str | None:
        if seq in self.given:
            return f"seq {seq} given twice"
        missing = [s for s in range(1, seq) if s not in self.known and s not in self.given]
        self.given.add(seq)
        if missing:
            return f"seq {seq} came before {missing[:5]}"
        return None


class Actor:
    """Connects, talks, reconnects elsewhere when its node dies, until told to stop and nothing is unacked."""

    kind = ""

    def __init__(self, name: str, live: Callable[[], list[Node]], rng: random.Random) -> None:
        self.name = name
        self._live = live
        self.rng = rng
        self.sent: dict[str, Sent] = {}
        self.conversations: dict[str, Conversation] = {}
        self.intervals: list[list[float]] = []  # [welcomed at, closed at (inf while open)]
        self.faults: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.sockets = 0
        self.talking = True  # False: nothing new is written (what is unacknowledged is still sent again)
        self.finished = asyncio.Event()  # set: close the socket and stop
        self._checks: dict[str, _SocketCheck] = {}
        self._counter = 0
        self.trail: list[Any] = []  # (socket, type, seq, client_id, from) of everything received: a fault shows its end

    def conversation(self, contact_id: str) -> Conversation:
        if contact_id not in self.conversations:
            self.conversations[contact_id] = Conversation(since=time.monotonic())
        return self.conversations[contact_id]

    def unacked(self) -> list[Sent]:
        return [s for s in self.sent.values() if s.acked_at is None]

    async def run(self) -> None:
        """Until ``finished`` is set: on a node the balancer picks, then, when that socket drops, another."""
        while not self.finished.is_set():
            node = self.rng.choice(self._live())
            try:
                async with connect(self.url(node), origin=SHOP, open_timeout=5) as ws:  # type: ignore[arg-type]
                    self.sockets += 1
                    self._checks = {}
                    await self.session(ws)
            except (OSError, WebSocketException, TimeoutError):
                pass
            finally:
                if self.intervals and self.intervals[-1][1] == float("inf"):
                    self.intervals[-1][1] = time.monotonic()
            await asyncio.sleep(self.rng.uniform(0.05, 0.3))

    def url(self, node: Node) -> str:
        raise NotImplementedError

    async def hello(self, ws: ClientConnection) -> None:
        raise NotImplementedError

    async def talk(self, ws: ClientConnection) -> None:
        raise NotImplementedError

    def handle(self, ws: ClientConnection, m: dict[str, Any]) -> None:
        raise NotImplementedError

    async def session(self, ws: ClientConnection) -> None:
        await self.hello(ws)
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(self.talk(ws)),
            loop.create_task(self._read(ws)),
            loop.create_task(self.finished.wait()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _read(self, ws: ClientConnection) -> None:
        async for frame in ws:
            decoded = json.loads(frame)
            for m in decoded if isinstance(decoded, list) else [decoded]:
                self.trail.append((self.sockets, m.get("type"), m.get("seq"), m.get("client_id"), m.get("from")))
                self.handle(ws, m)

    def welcomed(self) -> None:
        self.intervals.append([time.monotonic(), float("inf")])

    def check(self, contact_id: str, seq: int, known: set[int] | None = None) -> None:
        check = self._checks.get(contact_id)
        if check is None:
            check = self._checks[contact_id] = _SocketCheck(known or set())
        fault = check.message(seq)
        if fault is not None:
            self.faults.append(f"{self.name} socket {self.sockets}, contact {contact_id}: {fault} {self.trail[-12:]}")

    def knows(self, contact_id: str, seqs: set[int]) -> None:
        """This socket was given these numbers otherwise (a payload, an ack, a resume point)."""
        check = self._checks.get(contact_id)
        if check is None:
            check = self._checks[contact_id] = _SocketCheck(set())
        check.known |= seqs

    def new_id(self) -> str:
        self._counter += 1
        return f"{self.name}-{self._counter}"

    def acked(self, m: dict[str, Any]) -> Sent | None:
        sent = self.sent.get(m["client_id"])
        if sent is None:
            self.faults.append(f"{self.name}: ack for a message never sent: {m}")
            return None
        if sent.acked_at is None:
            sent.contact_id, sent.seq, sent.acked_at = m["contact_id"], m["seq"], time.monotonic()
        elif sent.seq != m["seq"]:
            self.faults.append(f"{self.name}: {sent.client_id} acked as {sent.seq} and then as {m['seq']}")
        self.conversation(m["contact_id"]).have(m["seq"], time.monotonic())
        self.knows(m["contact_id"], {m["seq"]})
        return sent

    def error(self, m: dict[str, Any]) -> None:
        self.errors.append(m)


class Customer(Actor):
    """A visitor on the shop's page: writes every so often, resumes from the highest unbroken seq."""

    kind = "customer"

    def __init__(self, name: str, live: Callable[[], list[Node]], rng: random.Random, language: str) -> None:
        super().__init__(name, live, rng)
        self.language = language
        self.token: str | None = None
        self.customer_id: str | None = None
        self.contact_id: str | None = None

    def url(self, node: Node) -> str:
        return f"{node.ws_url}/ws/chat"

    async def hello(self, ws: ClientConnection) -> None:
        hello: dict[str, Any] = {"type": "hello", "topic": "general", "language": self.language}
        if self.token:
            hello["token"] = self.token
        if self.contact_id:
            resume = self.conversation(self.contact_id).unbroken()
            hello |= {"contact_id": self.contact_id, "last_seq": resume}
            self._checks[self.contact_id] = _SocketCheck(set(range(1, resume + 1)))
        await ws.send(json.dumps(hello))

    async def talk(self, ws: ClientConnection) -> None:
        while True:  # the socket's life
            await asyncio.sleep(self.rng.uniform(0.1, 0.5))
            if not self.talking or self.token is None:
                continue
            sent = Sent(self.new_id(), f"{self.name} says {self._counter}")
            self.sent[sent.client_id] = sent
            await ws.send(json.dumps({"type": "message", "client_id": sent.client_id, "text": sent.text}))

    def handle(self, ws: ClientConnection, m: dict[str, Any]) -> None:
        kind = m["type"]
        if kind == "welcome":
            self.token, self.customer_id = m["token"], m["customer_id"]
            self.welcomed()
            for sent in self.unacked():  # as the widget does: again, same client_id
                asyncio.get_running_loop().create_task(
                    ws.send(json.dumps({"type": "message", "client_id": sent.client_id, "text": sent.text}))
                )
        elif kind == "ack":
            self.acked(m)
            self.contact_id = m["contact_id"]
        elif kind == "message":
            self.check(m["contact_id"], m["seq"])
            self.conversation(m["contact_id"]).have(m["seq"], time.monotonic())
            if m["from"] == "customer" and m["client_id"] not in self.sent:
                self.faults.append(f"{self.name}: a customer message not its own: {m}")
        elif kind == "error":
            self.error(m)


class Agent(Actor):
    """An agent at the desk: takes every offer, answers one of its chats every so often."""

    kind = "agent"

    def __init__(self, name: str, live: Callable[[], list[Node]], rng: random.Random) -> None:
        super().__init__(name, live, rng)
        self.token: str | None = None
        self.held: set[str] = set()

    async def sign_in(self, node: Node) -> None:
        self.token = await login(node, self.name)  # type: ignore[arg-type]

    def url(self, node: Node) -> str:
        return f"{node.ws_url}/ws/desk"

    async def hello(self, ws: ClientConnection) -> None:
        await ws.send(json.dumps({"type": "hello", "token": self.token}))

    async def talk(self, ws: ClientConnection) -> None:
        while True:  # the socket's life
            await asyncio.sleep(self.rng.uniform(0.05, 0.3))
            if not self.talking or not self.held:
                continue
            contact_id = self.rng.choice(sorted(self.held))
            sent = Sent(self.new_id(), f"{self.name} answers {self._counter}", contact_id=contact_id)
            self.sent[sent.client_id] = sent
            await ws.send(json.dumps(self._reply(sent)))

    @staticmethod
    def _reply(sent: Sent) -> dict[str, Any]:
        return {"type": "reply", "contact_id": sent.contact_id, "client_id": sent.client_id, "text": sent.text}

    def _payload(self, payload: dict[str, Any]) -> None:
        contact_id = payload["contact"]["id"]
        self.held.add(contact_id)
        conversation = self.conversation(contact_id)
        now = time.monotonic()
        seqs = {m["seq"] for m in payload["messages"]}
        for seq in seqs:
            conversation.have(seq, now)
        self.knows(contact_id, seqs)

    def handle(self, ws: ClientConnection, m: dict[str, Any]) -> None:
        kind, loop = m["type"], asyncio.get_running_loop()
        if kind == "welcome":
            self.welcomed()
            for payload in m["contacts"]:
                self._payload(payload)
            for offer in m["offers"]:
                loop.create_task(ws.send(json.dumps({"type": "accept", "offer_id": offer["offer_id"]})))
            if m["agent"]["status"] != "available":
                loop.create_task(ws.send(json.dumps({"type": "set_status", "status": "available"})))
            for sent in self.unacked():
                loop.create_task(ws.send(json.dumps(self._reply(sent))))
        elif kind == "offer":
            loop.create_task(ws.send(json.dumps({"type": "accept", "offer_id": m["offer_id"]})))
        elif kind == "assigned":
            self._payload(m)
        elif kind == "ack":
            self.acked(m)
        elif kind == "message":
            self.check(m["contact_id"], m["seq"])
            self.conversation(m["contact_id"]).have(m["seq"], time.monotonic())
        elif kind == "error":
            self.error(m)
