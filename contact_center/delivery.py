"""Each conversation a socket follows, given to its client in ``seq`` order, each number once.

Live delivery is the bus: fast, but at most once, and two nodes' messages of one conversation
can cross on their way. So a socket keeps, for every conversation it follows, ``delivered``:
the highest ``seq`` it has given its client with none missing below. A message that comes
early is held until the ones before it are given; a copy of one given already is dropped.
What is missing is read from the store, the record of every acknowledged message:

- a message came beyond ``delivered + 1`` (one before it is late, or lost): after
  ``gap_wait_s``, if it has not come meanwhile, the conversation is read after ``delivered``;
- the node's :class:`Watch` asks the store, every ``check_s``, for the last ``seq`` of every
  conversation its sockets follow; one a socket has not reached (a message whose node died
  before it was published, a publish lost while Redis was away, the last message of a burst)
  is read the same way, after the same wait.

A sender's own acknowledgement tells its socket that the client has that ``seq`` (it is not
sent again), and nothing else: the messages below it still come. A resend acknowledged as a
repeat is published again by the engine, so the other side has it at once if it had not.

Cost: nothing on the live path but a dictionary look-up; one store read per gap; one store
round trip per node per ``check_s`` for all its conversations (BENCHMARKS.md).

A socket lets go of a conversation it may no longer follow (over, or no longer its own) once
nothing of it is pending: a desk open all day follows hundreds, and kept every one of them.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import structlog

from contact_center.clock import Clock, Timer
from contact_center.model import HistoryEvent

__all__ = ["Conversations", "Watch"]

log = structlog.get_logger("contact_center.delivery")

Message = HistoryEvent  # a message of a conversation; the socket makes its JSON when it gives it
Give = Callable[[Message], None]
Read = Callable[[str, int], Awaitable[Sequence[Message]]]


def _give_nothing(message: Message) -> None:
    """A closed socket's: gives nothing."""


async def _read_nothing(contact_id: str, after: int) -> Sequence[Message]:
    return ()


def _follow_nothing(contact_id: str) -> bool:
    return False


class _Followed:
    """One conversation of one socket: what was given, what waits, and the fill under way."""

    __slots__ = ("delivered", "held", "loading", "reading", "recorded", "timer")

    def __init__(self, delivered: int) -> None:
        self.delivered = delivered  # given (or known to the client), with nothing missing below
        self.held: dict[int, Message | None] = {}  # came early, waiting for the ones before (None: the client has it)
        self.loading = 0  # a payload of the conversation is being read: give nothing meanwhile
        self.reading = False
        self.timer: Timer | None = None
        self.recorded = 0  # the last seq the store was seen to hold


_PRUNE_FROM = 8  # conversations a socket follows before it looks for ones to let go


class Conversations:
    """The conversations one socket follows (see the module's docstring). One per socket: kept small."""

    __slots__ = (
        "_clock", "_filled", "_followed", "_gap_wait_s", "_give", "_prune_at", "_read", "_tasks", "closed",
        "may_follow",
    )  # fmt: skip

    def __init__(
        self,
        give: Give,
        read: Read,
        may_follow: Callable[[str], bool],
        clock: Clock,
        gap_wait_s: float,
        filled: Callable[[int], None] | None = None,
    ) -> None:
        self._give = give
        self._read = read
        self.may_follow = may_follow  # the conversation is open and still this socket's to see
        self._clock = clock
        self._gap_wait_s = gap_wait_s
        self._filled = filled
        self._followed: dict[str, _Followed] = {}
        self._prune_at = _PRUNE_FROM  # followed conversations at which those let go of are looked for
        self._tasks: set[asyncio.Task[None]] | None = None  # fills under way: made when the first is
        self.closed = False

    def start(self, contact_id: str, delivered: int) -> None:
        """Follow ``contact_id`` from ``delivered`` (what the client said it has); a new start replaces the old."""
        old = self._followed.pop(contact_id, None)
        if old is not None and old.timer is not None:
            old.timer.cancel()
        self._add(contact_id, delivered)

    def live(self, message: Message) -> None:
        """A message of a conversation, from the bus or a read: given in order, once."""
        contact_id, seq = message.contact_id or "", message.seq or 0
        followed = self._followed.get(contact_id)
        if followed is None:  # a conversation first heard of now: followed from its beginning
            followed = self._add(contact_id, 0)
        if seq <= followed.delivered or seq in followed.held:
            return
        followed.held[seq] = message
        self._drain(contact_id, followed)

    def own(self, contact_id: str, seq: int) -> None:
        """The client has message ``seq`` already (its own, acknowledged): it is not given again."""
        followed = self._followed.get(contact_id) or self._add(contact_id, 0)
        if seq > followed.delivered:
            followed.held[seq] = None
            self._drain(contact_id, followed)

    def hold(self, contact_id: str) -> None:
        """A payload with the conversation's messages is being read: give none of them meanwhile."""
        followed = self._followed.get(contact_id) or self._add(contact_id, 0)
        followed.loading += 1

    def given(self, contact_id: str, seqs: Iterable[int]) -> None:
        """The client was sent the conversation's messages whole (``seqs``): what is held beyond them follows."""
        followed = self._followed.get(contact_id) or self._add(contact_id, 0)
        followed.loading = max(0, followed.loading - 1)
        followed.delivered = max(followed.delivered, *seqs, 0)
        self._drain(contact_id, followed)

    def behind(self, contact_id: str, recorded: int) -> None:
        """The store holds the conversation up to ``recorded``: fill what this socket has not given."""
        followed = self._followed.get(contact_id)
        if followed is None:
            return
        followed.recorded = max(followed.recorded, recorded)
        if followed.recorded > followed.delivered:
            self._arm(contact_id, followed)

    def _add(self, contact_id: str, delivered: int) -> _Followed:
        """A conversation followed from now; first, once there are a few, those let go of are dropped."""
        if len(self._followed) >= self._prune_at:
            self._prune()
            self._prune_at = max(_PRUNE_FROM, 2 * len(self._followed))  # each look paid for by as many adds
        followed = self._followed[contact_id] = _Followed(delivered)
        return followed

    def _prune(self) -> None:
        """Drop each conversation this socket may no longer follow that has nothing pending (held, read, timed)."""
        for contact_id, f in list(self._followed.items()):
            idle = not f.held and f.timer is None and not f.reading and not f.loading
            if idle and not self.may_follow(contact_id):
                del self._followed[contact_id]

    def following(self) -> Iterable[tuple[str, int]]:
        """Each conversation followed, with what was given of it."""
        return ((contact_id, f.delivered) for contact_id, f in self._followed.items())

    def close(self) -> None:
        """Nothing more is given; the socket's callbacks are let go (they hold the socket's session, which holds
        this: a reference cycle that only the collector's full passes would free)."""
        self.closed = True
        for followed in self._followed.values():
            if followed.timer is not None:
                followed.timer.cancel()
        for task in self._tasks or ():
            task.cancel()
        self._followed.clear()
        self._give, self._read, self.may_follow = _give_nothing, _read_nothing, _follow_nothing

    # ---------------------------------------------------------------- in order, and filling gaps

    def _drain(self, contact_id: str, followed: _Followed) -> None:
        if followed.loading:
            return
        held = followed.held
        for seq in [s for s in held if s <= followed.delivered]:
            del held[seq]
        while held:
            message = held.pop(followed.delivered + 1, _MISSING)
            if message is _MISSING:
                break
            followed.delivered += 1
            if message is not None:
                self._give(message)
        if held or followed.recorded > followed.delivered:
            self._arm(contact_id, followed)
        elif followed.timer is not None:
            followed.timer.cancel()
            followed.timer = None

    def _arm(self, contact_id: str, followed: _Followed) -> None:
        if followed.timer is None and not followed.reading and not self.closed:
            followed.timer = self._clock.call_later(self._gap_wait_s, lambda: self._due(contact_id, followed))

    def _due(self, contact_id: str, followed: _Followed) -> None:
        followed.timer = None
        if self._followed.get(contact_id) is not followed or self.closed:
            return
        task = asyncio.get_running_loop().create_task(self._fill(contact_id, followed), context=contextvars.Context())
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fill(self, contact_id: str, followed: _Followed) -> None:
        """Read the conversation after what was given, and give what was missing, in order."""
        if not followed.held and followed.recorded <= followed.delivered:
            return  # it came on the bus meanwhile
        followed.reading = True
        after = followed.delivered
        try:
            messages = await self._read(contact_id, after)
        except Exception as exc:  # the store away: try again after the wait
            log.warning("delivery.fill_failed", contact_id=contact_id, error=repr(exc))
            messages = []
        finally:
            followed.reading = False
        if self._followed.get(contact_id) is not followed or self.closed:
            return
        if not self.may_follow(contact_id):  # over, or no longer this socket's, while it was read
            del self._followed[contact_id]
            return
        before = followed.delivered
        for message in messages:
            seq = message.seq or 0
            if seq > followed.delivered and followed.held.get(seq) is None:
                followed.held.setdefault(seq, message)
        self._drain(contact_id, followed)
        if followed.delivered > before and self._filled is not None:
            self._filled(followed.delivered - before)
            log.info("delivery.gap_filled", contact_id=contact_id, after=after, upto=followed.delivered)


_MISSING: Any = object()


class Watch:
    """The node's check of every followed conversation against the store's record, every ``check_s``.

    One store call a round for all the node's sockets: a socket whose conversation the store
    holds further than it gave is told (:meth:`Conversations.behind`) and fills the gap. Only
    conversations a socket may still follow are asked about (an agent's, while it holds them; a
    customer's, while they are open).
    """

    def __init__(
        self,
        last_seqs: Callable[[Sequence[str]], Awaitable[dict[str, int]]],
        clock: Clock,
        *,
        gap_wait_s: float,
        check_s: float,
        filled: Callable[[int], None] | None = None,
    ) -> None:
        self._last_seqs = last_seqs
        self._clock = clock
        self._gap_wait_s = gap_wait_s
        self._check_s = check_s
        self._filled = filled
        self._sockets: set[Conversations] = set()
        self._task: asyncio.Task[None] | None = None

    def follow(self, give: Give, read: Read, may_follow: Callable[[str], bool]) -> Conversations:
        """A socket's conversations, checked by this watch until :meth:`unfollow`."""
        conversations = Conversations(give, read, may_follow, self._clock, self._gap_wait_s, self._filled)
        self._sockets.add(conversations)
        return conversations

    def unfollow(self, conversations: Conversations) -> None:
        conversations.close()
        self._sockets.discard(conversations)

    def start(self) -> None:
        """Check every ``check_s`` (nodes that share a store; alone, nothing published is lost)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), context=contextvars.Context())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._check_s)
            try:
                await self.check()
            except Exception as exc:  # the store away: next round
                log.warning("delivery.check_failed", error=repr(exc))

    async def check(self) -> int:
        """One round; returns how many conversations were asked about."""
        wanted: dict[str, list[tuple[Conversations, int]]] = {}
        for sock in list(self._sockets):
            for contact_id, delivered in list(sock.following()):
                if sock.may_follow(contact_id):  # one that is over, or not the socket's now, is left
                    wanted.setdefault(contact_id, []).append((sock, delivered))
        if not wanted:
            return 0
        recorded = await self._last_seqs(list(wanted))
        for contact_id, last in recorded.items():
            for sock, delivered in wanted.get(contact_id, ()):
                if last > delivered:
                    sock.behind(contact_id, last)
        return len(wanted)
