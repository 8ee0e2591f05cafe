"""What a socket gives its client of each conversation: in order, each number once, gaps filled from the record.

The record is a dictionary standing for the store (the stores' own ``last_seqs`` and ``messages``
are tested against both backends in test_store_conformance); time is a manual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from contact_center.clock import ManualClock
from contact_center.delivery import Watch
from contact_center.model import HistoryEvent

WAIT = 0.5


def message(seq: int, contact_id: str = "c1", sender: str = "agent:ayu") -> HistoryEvent:
    return HistoryEvent(100 + seq, "ana", contact_id, "chat", "message", float(seq), sender, {"text": f"m{seq}"}, seq)


class Record:
    """The store's messages, and what was asked of it."""

    def __init__(self) -> None:
        self.messages: dict[str, list[HistoryEvent]] = {}
        self.reads: list[tuple[str, int]] = []
        self.failing = False

    def add(self, *seqs: int, contact_id: str = "c1") -> list[HistoryEvent]:
        added = [message(s, contact_id) for s in seqs]
        self.messages.setdefault(contact_id, []).extend(added)
        return added

    async def read(self, contact_id: str, after: int) -> list[HistoryEvent]:
        self.reads.append((contact_id, after))
        if self.failing:
            raise ConnectionError("store away")
        return [m for m in self.messages.get(contact_id, []) if (m.seq or 0) > after]

    async def last_seqs(self, contact_ids: Sequence[str]) -> dict[str, int]:
        return {c: max((m.seq or 0 for m in self.messages.get(c, [])), default=0) for c in contact_ids}


class Socket:
    def __init__(self, record: Record, clock: ManualClock, *, open_: set[str] | None = None) -> None:
        self.given: list[int] = []
        self.open = open_ if open_ is not None else {"c1"}
        self.watch = Watch(record.last_seqs, clock, gap_wait_s=WAIT, check_s=1.0, filled=self._filled)
        self.filled = 0
        self.conversations = self.watch.follow(
            lambda m: self.given.append(m.seq or 0), record.read, self.open.__contains__
        )

    def _filled(self, count: int) -> None:
        self.filled += count


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_messages_that_cross_on_the_way_are_given_in_order_without_reading_the_store():
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock)
    for seq in (1, 3, 2, 2, 1, 4):
        sock.conversations.live(message(seq))
    assert sock.given == [1, 2, 3, 4]
    clock.advance(WAIT * 2)
    await settle()
    assert record.reads == []


async def test_a_message_the_bus_lost_is_read_from_the_record_after_the_wait():
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock)
    first, lost, third = record.add(1, 2, 3)
    sock.conversations.live(first)
    sock.conversations.live(third)  # 2 died with its node
    assert sock.given == [1]
    clock.advance(WAIT - 0.01)
    await settle()
    assert record.reads == [] and sock.given == [1]  # still waiting: it may yet come
    clock.advance(0.02)
    await settle()
    assert record.reads == [("c1", 1)] and sock.given == [1, 2, 3] and sock.filled == 2
    sock.conversations.live(lost)  # late after all: not given twice
    assert sock.given == [1, 2, 3]


async def test_the_senders_own_ack_does_not_hide_the_other_sides_messages_before_it():
    """The agent's replies 5-8 are on their way when the customer's message is acked as 9."""
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock)
    for seq in range(1, 5):
        sock.conversations.live(message(seq))
    sock.conversations.own("c1", 9)
    for seq in range(5, 9):
        sock.conversations.live(message(seq))
    sock.conversations.live(message(9, sender="customer"))  # its own, from the bus: the ack said it
    sock.conversations.live(message(10))
    assert sock.given == [1, 2, 3, 4, 5, 6, 7, 8, 10]


async def test_the_watch_finds_what_no_later_message_would_show():
    """The last message of a conversation committed, then its node died before publishing it."""
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock)
    for m in record.add(1, 2):
        sock.conversations.live(m)
    record.add(3)
    assert await sock.watch.check() == 1
    clock.advance(WAIT)
    await settle()
    assert sock.given == [1, 2, 3]
    assert await sock.watch.check() == 1
    clock.advance(WAIT)
    await settle()
    assert record.reads == [("c1", 2)], "a socket that has everything reads nothing"


async def test_a_conversation_no_longer_followed_is_neither_asked_about_nor_filled():
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock)
    sock.conversations.live(record.add(1)[0])
    record.add(2, 3)
    sock.conversations.live(record.messages["c1"][2])  # a gap: the fill is armed
    sock.open.discard("c1")  # the contact went to another agent meanwhile
    clock.advance(WAIT)
    await settle()
    assert sock.given == [1]
    assert await sock.watch.check() == 0


async def test_a_payload_being_read_holds_live_messages_and_then_they_follow_it():
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock)
    sock.conversations.hold("c1")
    sock.conversations.live(message(5))
    sock.conversations.live(message(6))
    assert sock.given == []
    sock.conversations.given("c1", [1, 2, 3, 4, 5])  # the payload had 1-5
    assert sock.given == [6]


async def test_a_fill_that_fails_is_tried_again():
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock)
    record.add(1, 2)
    sock.conversations.live(record.messages["c1"][1])
    record.failing = True
    clock.advance(WAIT)
    await settle()
    assert sock.given == []
    record.failing = False
    clock.advance(WAIT)
    await settle()
    assert sock.given == [1, 2] and len(record.reads) == 2


async def test_a_resumed_conversation_starts_after_what_the_client_has():
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock)
    sock.conversations.start("c1", 3)
    for seq in (2, 3, 4):
        sock.conversations.live(message(seq))
    assert sock.given == [4]
    sock.watch.unfollow(sock.conversations)
    sock.conversations.live(message(6))
    clock.advance(WAIT)
    await settle()
    assert record.reads == [], "a closed socket reads nothing"


async def test_a_socket_lets_go_of_conversations_it_no_longer_follows_once_nothing_is_pending():
    """A desk open all day: of hundreds of chats handled one after another it keeps only the few it may still
    follow (and one whose gap is still being filled); one kept open throughout still goes on in order."""
    record, clock = Record(), ManualClock()
    sock = Socket(record, clock, open_={"kept"})
    for m in record.add(1, 2, contact_id="kept"):
        sock.conversations.live(m)
    for n in range(300):
        contact_id = f"chat{n}"
        sock.open.add(contact_id)
        for m in record.add(1, 2, 3, contact_id=contact_id):
            sock.conversations.live(m)
        sock.open.discard(contact_id)  # closed: over for this socket
        assert len(list(sock.conversations.following())) <= 8
    gap = record.add(1, 2, contact_id="gap")
    sock.open.add("gap")
    sock.conversations.live(gap[1])  # 1 is late: a fill is armed
    sock.open.discard("gap")
    for n in range(300, 320):
        sock.open.add(f"chat{n}")
        sock.conversations.live(record.add(1, contact_id=f"chat{n}")[0])
        sock.open.discard(f"chat{n}")
    assert {"kept", "gap"} <= dict(sock.conversations.following()).keys()
    clock.advance(WAIT)
    await settle()  # the fill finds the conversation over: it is given nothing, and let go of
    assert "gap" not in dict(sock.conversations.following())
    assert len(list(sock.conversations.following())) <= 8
    sock.given.clear()
    for m in [*record.messages["kept"], *record.add(3, contact_id="kept")]:
        sock.conversations.live(m)
    assert sock.given == [3]
