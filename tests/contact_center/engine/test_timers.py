"""The engine's timers by kind, on a manual clock: replaced, disarmed, another node's run only once it is gone."""

from __future__ import annotations

import asyncio
from typing import Any

from contact_center.clock import ManualClock
from contact_center.engine.timers import Timers


class Lease:
    takeover_s = 3.0

    def __init__(self) -> None:
        self.alive_nodes = {"b"}
        self.asked: list[str] = []

    async def alive(self, node_id: str) -> bool:
        self.asked.append(node_id)
        return node_id in self.alive_nodes


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def timers(clock: ManualClock, lease: Lease | None = None) -> tuple[Timers, list[tuple[str, str]]]:
    ran: list[tuple[str, str]] = []
    tasks: set[asyncio.Task[Any]] = set()

    def spawn(work: Any) -> None:
        tasks.add(asyncio.get_running_loop().create_task(work))

    t = Timers(clock, "a", lease, spawn)
    for kind in ("offer", "wrap"):

        async def work(argument: str, kind: str = kind) -> None:
            ran.append((kind, argument))

        t.handle(kind, work)
    return t, ran


async def test_a_timer_runs_its_kinds_work_once_due_and_arming_again_replaces_it():
    clock = ManualClock()
    t, ran = timers(clock)
    t.arm("offer", "c1", "a", clock.now() + 20, "o1")
    t.arm("offer", "c1", "a", clock.now() + 30, "o2")  # a new offer for the same contact
    t.arm("wrap", "c2", "a", clock.now() + 5)
    assert sorted(t) == ["offer:c1", "wrap:c2"]
    clock.advance(25)
    await settle()
    assert ran == [("wrap", "c2")]
    t.disarm("offer", "c1")
    clock.advance(10)
    await settle()
    assert ran == [("wrap", "c2")] and list(t) == []


async def test_another_nodes_timer_runs_here_only_once_that_node_is_gone():
    clock, lease = ManualClock(), Lease()
    t, ran = timers(clock, lease)
    t.arm("wrap", "c1", "b", clock.now() + 5)
    clock.advance(5)
    await settle()
    assert lease.asked == [] and ran == []  # its owner gets a lease's head start
    clock.advance(3)
    await settle()
    assert lease.asked == ["b"] and ran == [] and list(t) == ["wrap:c1"]  # b is alive: it does it; look again later
    lease.alive_nodes.clear()
    clock.advance(3)
    await settle()
    assert ran == [("wrap", "c1")] and list(t) == []
