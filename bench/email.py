"""Email: messages filed per second from a real Dovecot, and the SLA report over a million events.

**Ingest.** N mails wait in a private Dovecot mailbox; the engine (its own process, embedded
store) starts and files them: fetch over IMAP, parse, store the mail with its contact and
history, queue the acknowledgement. Throughput is N over the time from the engine's start to
the last mail filed (read from its database); the acknowledgements reach an aiosmtpd sink.
The baseline in the same run is a bare IMAP client fetching the same N mails and doing
nothing with them: what the mailbox alone allows. Then, with the engine idle in IDLE, mails
arrive one by one at a steady rate, and each one's latency is the time from the server
accepting it (APPEND answered) to its history event.

**Report.** A store holds 515,000 email contacts over one year (about 1,000,000 history
events: each arrival and each first response); the time is for one whole report (read from
the store, deadlines in working hours, counted per month), best of three. The baseline in the
same run is the per-contact calendar walk (:func:`contact_center.sla.attainment`) on the same
contacts.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from aioimaplib import aioimaplib
from tqdm import tqdm

from bench.engine_proc import EngineProcess, cpu_seconds
from contact_center.config import parse_config
from contact_center.reports import email_attainment
from contact_center.sla import FirstResponse, Period, attainment
from contact_center.store import SqliteStore
from tests.mailserver import Dovecot, Mailbox, SmtpSink

__all__ = ["run"]

_BATCH = 200  # mails per IMAP connection while filling the mailbox


def _mail(n: int, tag: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Pelanggan {n % 500} <pelanggan{n % 500}@contoh.test>"
    msg["To"] = "support@shop.test"
    msg["Subject"] = f"Pesanan {n} belum sampai"
    msg["Message-ID"] = f"<{tag}-{n}@contoh.test>"
    msg.set_content(
        f"Halo,\n\npesanan nomor {n} belum sampai sejak minggu lalu. Mohon dicek, terima kasih.\n\n"
        "Salam,\nPelanggan\n\n-- \nDikirim dari iPhone saya\n"
    )
    return msg.as_bytes()


async def _client(box: Mailbox) -> Any:
    client = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(box.user, box.password)
    return client


async def _fill(box: Mailbox, n: int, tag: str) -> None:
    bar = tqdm(total=n, desc="filling the mailbox", unit="mail", mininterval=1.0)
    for start in range(0, n, _BATCH):
        client = await _client(box)
        for i in range(start, min(n, start + _BATCH)):
            await client.append(_mail(i, tag), mailbox="INBOX")
            bar.update()
        await client.logout()
    bar.close()


async def _bare_fetch(box: Mailbox, n: int) -> float:
    """Seconds a bare client takes to fetch all n mails in batches of 50 (the engine's batch)."""
    client = await _client(box)
    await client.select("INBOX")
    started = time.perf_counter()
    found = await client.uid_search("ALL", charset=None)
    uids = bytes(found.lines[0]).split()
    got = 0
    for start in range(0, len(uids), 50):
        batch = b",".join(uids[start : start + 50]).decode()
        fetched = await client.uid("fetch", batch, "(UID BODY.PEEK[])")
        got += sum(1 for line in fetched.lines if isinstance(line, bytearray))
    elapsed = time.perf_counter() - started
    await client.logout()
    assert got >= n, f"fetched {got} of {n}"
    return elapsed


def _email_config(box: Mailbox, sink: SmtpSink) -> str:
    return f"""
[email]
poll_s = 5
acks_per_sender = 100000
acks_per_domain = 100000
[email.smtp]
port = {sink.port}
{box.toml()}"""


def _filed(db: Path) -> dict[str, float]:
    """Message-ID -> when its email.received event was recorded."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute(
                "SELECT m.message_id, e.at FROM events e JOIN mails m ON m.id = json_extract(e.data, '$.mail_id')"
                " WHERE e.kind = 'email.received'"
            ).fetchall()
    except sqlite3.Error:
        return {}
    return dict(rows)


async def ingest(n: int = 2000, paced: int = 200, rate: float = 20.0) -> dict[str, Any]:
    dovecot, sink = Dovecot(), SmtpSink()
    dovecot.start()
    sink.start()
    engine = EngineProcess.on('data_dir = "data"', log_level="warning")
    try:
        box = dovecot.mailbox()
        await _fill(box, n, "bulk")
        bare_s = min([await _bare_fetch(box, n) for _ in range(3)])
        config = engine.workdir / "config.toml"
        config.write_text(config.read_text().replace("[logging]", _email_config(box, sink) + "\n[logging]"))
        db = engine.workdir / "data" / "contact-center.sqlite3"
        started = time.perf_counter()
        await engine.start()
        assert engine.proc is not None
        cpu_before = cpu_seconds(engine.proc.pid)
        bar = tqdm(total=n, desc="filing", unit="mail", mininterval=1.0)
        done = 0
        while done < n:
            await asyncio.sleep(0.05)
            now_done = len(_filed(db))
            bar.update(now_done - done)
            done = now_done
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"only {done} of {n} mails filed in 10 minutes")
        filed_s = time.perf_counter() - started
        bar.close()
        cpu_s = cpu_seconds(engine.proc.pid) - cpu_before
        await sink.wait_for(n, timeout=300)
        acked_s = time.perf_counter() - started
        latencies = await _paced(box, db, paced, rate)
        rss = engine.rss_kib()
    finally:
        engine.stop()
        sink.stop()
        dovecot.stop()
    return {
        "mails": n,
        "filed_per_s": n / filed_s,
        "acknowledged_per_s": n / acked_s,
        "engine_cpu_ms_per_mail": cpu_s * 1000 / n,
        "bare_fetch_per_s": n / bare_s,
        "ratio_to_bare_fetch": (n / filed_s) / (n / bare_s),
        "paced": {"mails": paced, "per_s": rate, **_percentiles(latencies)},
        "engine_rss_mib": rss / 1024,
    }


async def _paced(box: Mailbox, db: Path, n: int, rate: float) -> list[float]:
    """Deliver n mails at ``rate`` per second; each one's seconds from APPEND answered to filed."""
    client = await _client(box)
    delivered: dict[str, float] = {}
    tag = f"paced{uuid.uuid4().hex[:6]}"
    for i in tqdm(range(n), desc="paced arrivals", unit="mail", mininterval=1.0):
        tick = time.perf_counter()
        await client.append(_mail(i, tag), mailbox="INBOX")
        delivered[f"<{tag}-{i}@contoh.test>"] = time.time()
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - tick)))
    await client.logout()
    deadline = time.perf_counter() + 60
    while True:
        filed = _filed(db)
        if all(mid in filed for mid in delivered) or time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.2)
    return [filed[mid] - at for mid, at in delivered.items() if mid in filed]


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100)
    return {"filed": len(ordered), "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000, "p99_ms": q[98] * 1000}


# ---------------------------------------------------------------------------- the report


def _history(contacts: int, seed: int = 7) -> list[tuple[float, float | None]]:
    """A year of email: arrivals mostly in office hours, most answered within hours, some never."""
    rng = random.Random(seed)
    zone = ZoneInfo("Asia/Jakarta")
    start = datetime(2026, 1, 1, tzinfo=zone).timestamp()
    year = 365 * 86400
    pairs: list[tuple[float, float | None]] = []
    for _ in range(contacts):
        arrived = start + rng.random() * year
        roll = rng.random()
        answered = None if roll < 0.03 else arrived + rng.expovariate(1 / (3 * 3600))
        pairs.append((arrived, answered))
    return pairs


def _seed_store(path: Path, pairs: list[tuple[float, float | None]]) -> None:
    SqliteStore(path)  # the schema
    skills = orjson.dumps([["general", 1]]).decode()
    rows = [
        (
            uuid.uuid4().hex[:16],
            "email",
            f"cust{i % 50_000}",
            "closed",
            a,
            a,
            skills,
            0,
            "",
            None,
            None,
            a,
            f"CS-{i}",
            b,
        )
        for i, (a, b) in enumerate(pairs)
    ]
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO contacts (id, channel, customer_id, state, created_at, enqueued_at, skills, priority,"
            " subject, agent_id, disposition, closed_at, ticket, answered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


async def report(contacts: int = 515_000, baseline_contacts: int = 50_000) -> dict[str, Any]:
    pairs = _history(contacts)
    events = contacts + sum(1 for _, b in pairs if b is not None)
    config = parse_config({})
    calendar, promise = config.sla.calendar, config.email.promise
    now = datetime(2027, 1, 15, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()
    first, last = datetime(2026, 1, 1).date(), datetime(2026, 12, 31).date()
    with tempfile.TemporaryDirectory(prefix="cc-bench-report-") as tmp:
        path = Path(tmp) / "contact-center.sqlite3"
        _seed_store(path, pairs)
        store = SqliteStore(path)
        times = {}
        rows: Any = None
        for period in (Period.MONTH, Period.DAY, Period.YEAR):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                rows = await email_attainment(store, calendar, promise, now, period, first, last)
                best = min(best, time.perf_counter() - started)
            times[period.value] = best
            if period == Period.MONTH:
                monthly = rows
        await store.close()
    sample = [FirstResponse(a, b) for a, b in pairs[:baseline_contacts]]
    started = time.perf_counter()
    attainment(sample, calendar, promise, now, Period.MONTH)
    walk_us = (time.perf_counter() - started) * 1e6 / baseline_contacts
    report_us = times["month"] * 1e6 / contacts
    return {
        "contacts": contacts,
        "events": events,
        "seconds": times,
        "us_per_contact": report_us,
        "walk_us_per_contact": walk_us,
        "ratio_to_walk": walk_us / report_us,
        "year_share_met": sum(r.met for r in monthly.rows) / max(1, sum(r.met + r.breached for r in monthly.rows)),
    }


async def run() -> dict[str, Any]:
    return {"ingest": await ingest(), "report": await report()}
