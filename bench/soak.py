"""The soak benchmark: one engine on the embedded store, kept busy the way a day keeps it, for minutes or hours.

Ten desks accept every chat, answer it and close it. New visitors arrive at a steady rate; each says
hello and a first message and then, in turn: waits for the agent's answer and leaves (six in ten), goes
without a word (two in ten), or drops its socket and comes back with its token, resuming (two in ten).
A probe socket pings once a second. Every ``sample_s`` the engine's resident memory, open files, the
database's and its write-ahead log's size, the cyclic collector's pauses (from ``/metrics``) and the
probe's round trips are sampled.

The figures a long run is judged by: memory growth after the first ``settle_s`` (per hour), the largest
log, the longest collector pause, and the probe's p99 in the last tenth of the run against the first
tenth after settling. ``python -m bench soak`` runs the short default (``SOAK_MINUTES``, 4 minutes);
``SOAK_MINUTES=60`` is the hour the targets speak of. The chart goes to ``docs/soak.png``.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
from tqdm import tqdm

from bench.e2e import dumps, percentile
from bench.engine_proc import EngineProcess, messages

__all__ = ["run", "section", "write_chart"]

DESKS = 10
_ANSWER = "Baik, kami bantu cek sekarang"


class Desks:
    """Agents that accept each offer, answer it once and close it."""

    def __init__(self) -> None:
        self.answered = 0

    async def desk(
        self, http: aiohttp.ClientSession, url: str, token: str, ready: asyncio.Event, up: list[int]
    ) -> None:
        async with http.ws_connect(f"{url}/ws/desk") as ws:
            await ws.send_json({"type": "hello", "token": token})
            await ws.send_json({"type": "set_status", "status": "available"})
            async for frame in ws:
                for m in messages(frame.data):
                    await self._handle(ws, m, ready, up)

    async def _handle(self, ws: Any, m: dict[str, Any], ready: asyncio.Event, up: list[int]) -> None:
        kind = m["type"]
        if kind == "status" and m["status"] == "available":
            up[0] += 1
            if up[0] == DESKS:
                ready.set()
        elif kind == "offer":
            await ws.send_json({"type": "accept", "offer_id": m["offer_id"]})
        elif kind == "assigned":
            contact_id = m["contact"]["id"]
            await ws.send_json({"type": "reply", "contact_id": contact_id, "text": _ANSWER, "client_id": contact_id})
            await ws.send_json({"type": "close", "contact_id": contact_id, "disposition": "resolved"})
            self.answered += 1


async def _until(ws: aiohttp.ClientWebSocketResponse, wanted: str, timeout: float = 30.0) -> dict[str, Any] | None:
    async with asyncio.timeout(timeout):
        async for frame in ws:
            for m in messages(frame.data):
                if m["type"] == wanted or (wanted == "answer" and m["type"] == "message" and m.get("text") == _ANSWER):
                    return m
    return None


async def visitor(http: aiohttp.ClientSession, url: str, i: int, counts: dict[str, int]) -> None:
    """One new visitor: hello, a first message, then one of the three ways to go (see the module's docstring)."""
    try:
        async with http.ws_connect(f"{url}/ws/chat", origin=url) as ws:
            await ws.send_json({"type": "hello", "language": "id"})
            welcome = await _until(ws, "welcome")
            assert welcome is not None
            first = {"type": "message", "client_id": f"v{i}", "text": f"Halo, pesanan {i} belum sampai"}
            await ws.send_str(dumps(first))
            ack = await _until(ws, "ack")
            assert ack is not None
            if i % 10 in (6, 7):
                counts["silent"] += 1
                return  # gone without a word
            if i % 10 in (8, 9):
                await ws.close()
                async with http.ws_connect(f"{url}/ws/chat", origin=url) as again:
                    resume = {"token": welcome["token"], "contact_id": ack["contact_id"], "last_seq": ack["seq"]}
                    await again.send_json({"type": "hello", "language": "id", **resume})
                    back = await _until(again, "welcome")
                    if back is not None and back["contact"] is not None:  # still open: the answer comes, or came
                        await _until(again, "answer")
                counts["resumed"] += 1
                return
            await _until(ws, "answer")
            await ws.send_json({"type": "leave"})
            counts["left"] += 1
    except (TimeoutError, aiohttp.ClientError, AssertionError):
        counts["failed"] += 1


async def probe(http: aiohttp.ClientSession, url: str, rtts: list[tuple[float, float]], stop: asyncio.Event) -> None:
    """A socket that pings once a second: (when, round trip in ms) for each pong."""
    async with http.ws_connect(f"{url}/ws/chat", origin=url) as ws:
        await ws.send_json({"type": "hello", "language": "en"})
        await _until(ws, "welcome")
        while not stop.is_set():
            sent = time.perf_counter()
            await ws.send_json({"type": "ping"})
            await _until(ws, "pong", timeout=10)
            rtts.append((time.monotonic(), (time.perf_counter() - sent) * 1000))
            await asyncio.sleep(1.0)


def _gc_figures(text: str) -> tuple[float, int, int]:
    """The longest collector pause so far (s), how many collections, and the objects they found in cycles, from
    ``/metrics``."""

    def each(name: str) -> list[float]:
        return [float(v) for v in re.findall(rf'^{name}\{{generation="\d"\}} (\S+)$', text, re.M)]

    longest, counts = each("cc_gc_longest_pause_seconds"), each("cc_gc_pause_seconds_count")
    return max(longest, default=0.0), int(sum(counts)), int(sum(each("cc_gc_collected_objects")))


async def _sample(http: aiohttp.ClientSession, engine: EngineProcess, since: float) -> dict[str, Any]:
    assert engine.proc is not None
    data = engine.workdir / "data"
    async with http.get(f"{engine.url}/metrics") as r:
        longest, collections, in_cycles = _gc_figures(await r.text())

    def size(name: str) -> int:
        path = data / name
        return path.stat().st_size if path.exists() else 0

    return {
        "t_s": round(time.monotonic() - since, 1),
        "rss_mib": round(engine.rss_kib() / 1024, 2),
        "open_files": len(os.listdir(f"/proc/{engine.proc.pid}/fd")),
        "db_mib": round(size("contact-center.sqlite3") / 2**20, 2),
        "wal_mib": round(size("contact-center.sqlite3-wal") / 2**20, 2),
        "gc_longest_ms": round(longest * 1000, 2),
        "gc_collections": collections,
        "gc_in_cycles": in_cycles,
    }


async def _arrivals(http: aiohttp.ClientSession, url: str, rate: float, seconds: float, counts: dict[str, int]) -> int:
    started, n, going = time.monotonic(), 0, set()
    with tqdm(total=int(rate * seconds), desc=f"visitors at {rate:g}/s", unit="visitor", mininterval=2.0) as bar:
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) + 1
            while n < due:
                task = asyncio.create_task(visitor(http, url, n, counts))
                going.add(task)
                task.add_done_callback(going.discard)
                n += 1
                bar.update()
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
    await asyncio.gather(*going, return_exceptions=True)
    return n


async def run(minutes: float | None = None, rate: float | None = None) -> dict[str, Any]:
    minutes = float(os.environ.get("SOAK_MINUTES", 4)) if minutes is None else minutes
    rate = float(os.environ.get("SOAK_RATE", 5)) if rate is None else rate
    seconds = minutes * 60
    settle_s = min(600.0, seconds / 6)  # the first ten minutes of an hour; a sixth of a shorter run
    sample_s = 5.0 if seconds <= 900 else 30.0
    engine = await EngineProcess.create(DESKS, capacity_chat=10)
    await engine.start()
    counts = {"left": 0, "silent": 0, "resumed": 0, "failed": 0}
    samples: list[dict[str, Any]] = []
    rtts: list[tuple[float, float]] = []
    stop = asyncio.Event()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), json_serialize=dumps) as http:
            floor, ready, up = Desks(), asyncio.Event(), [0]
            desks = [asyncio.create_task(floor.desk(http, engine.url, t, ready, up)) for t in engine.tokens or []]
            await asyncio.wait_for(ready.wait(), 60)
            since = time.monotonic()
            pinger = asyncio.create_task(probe(http, engine.url, rtts, stop))

            async def sampling() -> None:
                while not stop.is_set():
                    samples.append(await _sample(http, engine, since))
                    await asyncio.sleep(sample_s)

            sampler = asyncio.create_task(sampling())
            visitors = await _arrivals(http, engine.url, rate, seconds, counts)
            stop.set()
            await asyncio.gather(pinger, sampler, return_exceptions=True)
            samples.append(await _sample(http, engine, since))
            for task in desks:
                task.cancel()
            await asyncio.gather(*desks, return_exceptions=True)
    finally:
        engine.stop()
    return _summary(samples, [(t - since, ms) for t, ms in rtts], visitors, counts, floor.answered, seconds, settle_s,
                    rate)  # fmt: skip


def _summary(
    samples: list[dict[str, Any]], rtts: list[tuple[float, float]], visitors: int, counts: dict[str, int],
    answered: int, seconds: float, settle_s: float, rate: float,
) -> dict[str, Any]:  # fmt: skip
    settled = next(s for s in samples if s["t_s"] >= settle_s)
    last = samples[-1]
    hours = max(1e-9, (last["t_s"] - settled["t_s"]) / 3600)
    window = (seconds - settle_s) / 10
    first = [ms for t, ms in rtts if settle_s <= t < settle_s + window]
    late = [ms for t, ms in rtts if t >= seconds - window]
    return {
        "minutes": seconds / 60, "rate_per_s": rate, "visitors": visitors, "answered": answered, **counts,
        "settle_s": settle_s,
        "rss_settled_mib": settled["rss_mib"], "rss_last_mib": last["rss_mib"],
        "rss_growth_mib": round(last["rss_mib"] - settled["rss_mib"], 2),
        "rss_growth_mib_per_hour": round((last["rss_mib"] - settled["rss_mib"]) / hours, 2),
        "wal_max_mib": max(s["wal_mib"] for s in samples), "db_last_mib": last["db_mib"],
        "open_files_settled": settled["open_files"], "open_files_last": last["open_files"],
        "gc_longest_ms": last["gc_longest_ms"], "gc_collections": last["gc_collections"],
        "gc_in_cycles": last["gc_in_cycles"] - settled["gc_in_cycles"],
        "gc_in_cycles_per_visitor": round(
            (last["gc_in_cycles"] - settled["gc_in_cycles"]) / max(1.0, rate * (last["t_s"] - settled["t_s"])), 3
        ),
        "probe_p99_first_ms": round(percentile(first, 99), 2) if first else None,
        "probe_p99_last_ms": round(percentile(late, 99), 2) if late else None,
        "probe_p50_ms": round(percentile([ms for _, ms in rtts], 50), 2) if rtts else None,
        "samples": samples, "probe": [(round(t, 1), round(ms, 2)) for t, ms in rtts],
    }  # fmt: skip


def write_chart(result: dict[str, Any], path: Path) -> None:
    """Memory, the log and the database, the collector's longest pause, and the probe's round trip, over the run."""
    from matplotlib.figure import Figure

    samples = result["samples"]
    minutes = [s["t_s"] / 60 for s in samples]
    fig = Figure(figsize=(9, 8), layout="constrained")
    rss, files, gc_axis, probe_axis = fig.subplots(4, 1, sharex=True)
    rss.plot(minutes, [s["rss_mib"] for s in samples], color="#1f6feb")
    rss.axvline(result["settle_s"] / 60, color="#888", linestyle=":")
    rss.set_ylabel("engine RSS (MiB)")
    files.plot(minutes, [s["wal_mib"] for s in samples], label="write-ahead log", color="#cf222e")
    files.plot(minutes, [s["db_mib"] for s in samples], label="database", color="#1a7f37")
    files.set_ylabel("MiB")
    files.legend(loc="upper left")
    gc_axis.plot(minutes, [s["gc_longest_ms"] for s in samples], color="#8250df")
    gc_axis.axhline(20, color="#cf222e", linestyle="--", label="target 20 ms")
    gc_axis.set_ylabel("longest GC pause (ms)")
    gc_axis.legend(loc="upper left")
    probe_axis.plot([t / 60 for t, _ in result["probe"]], [ms for _, ms in result["probe"]], ".", markersize=2)
    probe_axis.set_ylabel("probe round trip (ms)")
    probe_axis.set_xlabel("minutes")
    fig.suptitle(f"Soak: {result['rate_per_s']:g} new visitors a second, {DESKS} desks, {result['minutes']:g} minutes")
    fig.savefig(path, dpi=100)


def section(r: dict[str, Any]) -> list[str]:
    # The target: under 10 MiB of growth after the first ten minutes of an hour; a shorter run is held to its
    # rate (10 MiB an hour), a longer one to what its hour would have grown.
    hour = r["minutes"] >= 60
    growth_ok = r["rss_growth_mib_per_hour"] * (50 / 60 if hour else 1) < 10
    growth_target = "under 10 MiB after the first ten minutes of the hour" if hour else "under 10 MiB an hour"
    first, last = r["probe_p99_first_ms"], r["probe_p99_last_ms"]
    flat = first is not None and last is not None and last <= 2 * first
    return [
        "## Runs for weeks: the soak",
        "",
        f"`bench/soak.py`: one engine on the embedded store, {DESKS} desks, {r['rate_per_s']:g} new visitors a second "
        f"for {r['minutes']:g} minutes ({r['visitors']:,} in all: {r['left']:,} waited for the answer and left, "
        f"{r['silent']:,} went without a word, {r['resumed']:,} dropped their socket and resumed; "
        f"{r['failed']} failed). "
        f"Figures after the first {r['settle_s'] / 60:g} minutes. `SOAK_MINUTES=60 python -m bench soak` is the hour "
        "the targets speak of; the default is a short run.",
        "",
        "| figure | measured | target |",
        "|---|---|---|",
        f"| RSS growth after settling | {r['rss_growth_mib']:.1f} MiB ({r['rss_growth_mib_per_hour']:.1f} MiB an hour; "
        f"{r['rss_settled_mib']:.0f} to {r['rss_last_mib']:.0f} MiB) | {growth_target}: "
        f"{'met' if growth_ok else 'missed'} |",
        f"| largest write-ahead log | {r['wal_max_mib']:.1f} MiB | at most 64 MiB (the configured limit): "
        f"{'met' if r['wal_max_mib'] <= 64 else 'missed'} |",
        f"| longest collector pause | {r['gc_longest_ms']:.1f} ms ({r['gc_collections']:,} collections) | under 20 ms: "
        f"{'met' if r['gc_longest_ms'] < 20 else 'missed'} |",
        f"| objects the collector found in cycles after settling | {r['gc_in_cycles']:,} "
        f"({r['gc_in_cycles_per_visitor']:g} a visitor) | none: reference counting frees a closed socket |",
        f"| probe p99, first and last tenth | {first} ms, {last} ms (p50 {r['probe_p50_ms']} ms) | flat within 2×: "
        f"{'met' if flat else 'missed'} |",
        f"| open files | {r['open_files_settled']} then {r['open_files_last']} | flat |",
        "",
        *_slow_probes(r["probe"], 2 * first if first else None),
        "![soak](docs/soak.png)",
        "",
    ]


def _slow_probes(probe: list[tuple[float, float]], over_ms: float | None) -> list[str]:
    """When the probe was slow (over twice the first tenth's p99), and how regularly: a stall that comes back at
    a fixed spacing is periodic work on the event loop."""
    slow = [(t, ms) for t, ms in probe if over_ms is not None and ms > over_ms]
    if len(slow) < 2:
        return []
    spacing = sorted(b - a for (a, _), (b, _) in pairwise(slow))[(len(slow) - 1) // 2]
    return [
        f"Round trips over {over_ms:.1f} ms: {len(slow)} of {len(probe):,}, the first at minute {slow[0][0] / 60:.0f}, "
        f"the longest {max(ms for _, ms in slow):.1f} ms, {spacing:.1f} s apart (median).",
        "",
    ]
