"""The service report: each definition counted on a history built here, both stores' facts, the engine's answer time."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from contact_center.cli import main
from contact_center.contact_facts import facts_of, facts_row
from contact_center.model import Channel, Contact, ContactState, Customer
from contact_center.service_figures import Rules, figures_of, hourly_of, measured_of
from contact_center.service_report import CSV_COLUMNS, read_facts, rules_of, service_report
from contact_center.sla import BusinessCalendar, Period, Promise
from contact_center.store import Changes, NewEvent, SqliteStore, Store
from tests.conftest import EngineEnv

ZONE = ZoneInfo("Asia/Jakarta")
CAL = BusinessCalendar("Asia/Jakarta")  # Monday to Friday, 08:00-17:00
RULES = Rules(
    thresholds={"chat": 30.0, "call": 30.0, "callback": 900.0, "email": 7200.0},
    promise=Promise(within_s=7200.0, target=0.9),
    short_abandon_s=5.0,
    callback_instead_s=600.0,
    fcr_days=7.0,
)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).timestamp()


def contact(cid: str, channel: str, arrived: str, customer: str = "ana", **kw: object) -> Contact:
    created = at(arrived)
    if "slot" in kw:  # a booked callback's hour is in its details
        kw["details"] = {"slot": kw.pop("slot")}
    fields: dict[str, object] = {
        "id": cid, "channel": Channel(channel), "customer_id": customer, "state": ContactState.CLOSED,
        "created_at": created, "enqueued_at": created, "skills": [("general", 1)],
    } | kw  # fmt: skip
    return Contact(**fields)  # type: ignore[arg-type]


def history() -> list[Contact]:
    """A Monday and Tuesday of every channel, each contact one case of a definition."""
    t = at
    return [
        # chat: answered in 10 s and handled 5 min by ayu; answered late (45 s) by budi; two abandons
        contact("c1", "chat", "2026-11-30T09:00:00", "ana", agent_id="ayu", accepted_at=t("2026-11-30T09:00:10"),
                closed_at=t("2026-11-30T09:05:10"), rating=5, disposition="resolved"),
        contact("c2", "chat", "2026-11-30T09:10:00", "budi", agent_id="budi", accepted_at=t("2026-11-30T09:10:45"),
                closed_at=t("2026-11-30T09:12:45"), rating=3),
        contact("c3", "chat", "2026-11-30T09:20:00", "citra", state=ContactState.ABANDONED,
                closed_at=t("2026-11-30T09:20:03")),  # short abandon: 3 s
        contact("c4", "chat", "2026-11-30T09:30:00", "dewi", state=ContactState.ABANDONED,
                closed_at=t("2026-11-30T09:30:40")),  # abandoned after 40 s: counted
        # call: abandoned, but the customer asked for a callback while waiting: not abandoned
        contact("k1", "call", "2026-11-30T10:00:00", "eka", state=ContactState.ABANDONED,
                closed_at=t("2026-11-30T10:02:30")),
        contact("b1", "callback", "2026-11-30T10:02:00", "eka", agent_id="ayu", accepted_at=t("2026-11-30T10:10:00"),
                closed_at=t("2026-11-30T10:14:00"), disposition="reached"),
        # a callback booked for 14:00, dialled at 14:20 (past 15 minutes: late); one still booked for Wednesday
        contact("b2", "callback", "2026-11-30T11:00:00", "fajar", agent_id="ayu", slot=t("2026-11-30T14:00:00"),
                accepted_at=t("2026-11-30T14:20:00"), closed_at=t("2026-11-30T14:25:00"), disposition="no_answer"),
        contact("b3", "callback", "2026-11-30T11:30:00", "gita", state=ContactState.SCHEDULED,
                slot=t("2026-12-02T10:00:00")),
        # email: answered in 1 working hour; one at 16:30 answered 08:45 next day (1 h 15 working); one late
        contact("e1", "email", "2026-11-30T09:00:00", "ana", agent_id="ayu", accepted_at=t("2026-11-30T09:30:00"),
                answered_at=t("2026-11-30T10:00:00"), closed_at=t("2026-11-30T10:00:00")),
        contact("e2", "email", "2026-11-30T16:30:00", "hadi", agent_id="budi", accepted_at=t("2026-12-01T08:30:00"),
                answered_at=t("2026-12-01T08:45:00"), closed_at=t("2026-12-01T08:50:00")),
        contact("e3", "email", "2026-12-01T08:00:00", "indah", agent_id="budi", accepted_at=t("2026-12-01T11:00:00"),
                answered_at=t("2026-12-01T11:00:00"), closed_at=t("2026-12-01T11:05:00")),
        # email still waiting at 'now' (Tuesday 12:00), due 13:00: pending, left out of the share
        contact("e4", "email", "2026-12-01T11:00:00", "joko", state=ContactState.QUEUED),
    ]  # fmt: skip


NOW = at("2026-12-01T12:00:00")
MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


def report(contacts: list[Contact], period: Period = Period.DAY, rules: Rules = RULES):  # type: ignore[no-untyped-def]
    since, until = at("2026-11-30T00:00:00"), at("2026-12-02T00:00:00")
    facts = facts_of(facts_row(c) for c in contacts)
    return figures_of(facts, CAL, rules, NOW, period, MONDAY, TUESDAY, since, until)


def row(figures, channel: str, start: date | None = None):  # type: ignore[no-untyped-def]
    rows = figures.totals if start is None else [r for r in figures.channels if r.start == start]
    return next(r for r in rows if r.channel == channel)


def test_chat_service_level_leaves_short_abandons_out_and_counts_the_rest():
    """Chat: 4 arrived, the 3 s abandon is not offered; of 3 offered one was answered within 30 s."""
    chat = row(report(history()), "chat")
    assert (chat.arrived, chat.offered, chat.answered, chat.in_time) == (4, 3, 2, 1)
    assert (chat.abandoned, chat.short_abandoned) == (1, 1)
    assert chat.service_level == pytest.approx(1 / 3)
    assert chat.abandon_rate == pytest.approx(1 / 3)
    assert chat.asa_s == pytest.approx((10 + 45) / 2)
    assert chat.aht_s == pytest.approx((300 + 120) / 2)


def test_counting_short_abandons_is_a_choice():
    """With count_short_abandons the 3 s abandon is offered and abandoned: 1 of 4 in time, 2 of 4 abandoned."""
    chat = row(report(history(), rules=dataclasses.replace(RULES, count_short_abandons=True)), "chat")
    assert (chat.offered, chat.abandoned, chat.in_time) == (4, 2, 1)
    assert chat.service_level == pytest.approx(1 / 4) and chat.abandon_rate == pytest.approx(2 / 4)


def test_a_call_left_for_a_callback_is_not_abandoned():
    """The caller who asked for a callback while waiting is neither offered nor abandoned on the call channel."""
    call = row(report(history()), "call")
    assert (call.arrived, call.offered, call.abandoned, call.to_callback) == (1, 0, 0, 1)
    assert call.service_level is None
    late = dataclasses.replace(RULES, callback_instead_s=0.0)
    far = [c if c.id != "b1" else dataclasses.replace(c, created_at=at("2026-11-30T10:20:00")) for c in history()]
    assert row(report(far, rules=late), "call").abandoned == 1  # asked 17.5 min after leaving: abandoned


def test_callbacks_are_timed_from_their_hour_and_give_their_outcomes():
    """The 'as soon as possible' one dialled 8 min after it was asked: in time; the booked one 20 min after its hour:
    late; the one booked for Wednesday is pending."""
    figures = report(history())
    cb = row(figures, "callback")
    assert (cb.offered, cb.answered, cb.in_time, cb.pending) == (3, 2, 1, 1)
    assert cb.service_level == pytest.approx(1 / 2)
    assert cb.asa_s == pytest.approx((8 * 60 + 20 * 60) / 2)
    assert figures.callback_outcomes == {"reached": 1, "no_answer": 1, "scheduled": 1}


def test_the_email_promise_counts_working_time_per_arrival():
    """Email: 1 h, 1 h 15 (overnight) and 3 h of working time; the one still within its 2 h is pending."""
    figures = report(history())
    email = row(figures, "email")
    assert (email.arrived, email.answered, email.in_time, email.pending) == (4, 3, 2, 1)
    assert email.service_level == pytest.approx(2 / 3)
    assert email.asa_s == pytest.approx((3600 + 4500 + 3 * 3600) / 3)
    monday, tuesday = row(figures, "email", MONDAY), row(figures, "email", TUESDAY)
    assert (monday.arrived, monday.in_time, tuesday.arrived, tuesday.in_time) == (2, 2, 2, 0)
    assert monday.service_level == 1.0 and tuesday.service_level == 0.0


def test_first_contact_resolution_looks_at_the_customer_on_every_channel():
    """Ana's chat is followed by her email the same morning, within 7 days: not resolved at first contact."""
    contacts = history()
    contacts.append(
        contact("c9", "chat", "2026-11-30T12:00:00", "ana", agent_id="ayu", accepted_at=at("2026-11-30T12:00:05"),
                closed_at=at("2026-11-30T12:01:05"))
    )  # fmt: skip
    figures = report(contacts)
    chat = row(figures, "chat")
    # c1 closed 09:05: ana's email arrived before that (09:00) and is no repeat; c9 at 12:00 is.
    assert (chat.resolvable, chat.resolved_first) == (3, 2)
    assert chat.fcr == pytest.approx(2 / 3)
    ayu = next(a for a in figures.agents if a.agent_id == "ayu")
    assert (ayu.handled, ayu.rated, ayu.mean_rating) == (5, 1, 5.0)


def test_periods_split_by_the_offices_days_and_weeks():
    """By day Monday and Tuesday are apart; by week (from Monday) they are one row per channel."""
    by_day = report(history(), Period.DAY)
    assert sorted({(r.start, r.channel) for r in by_day.channels}) == sorted(
        [(MONDAY, "chat"), (MONDAY, "call"), (MONDAY, "callback"), (MONDAY, "email"), (TUESDAY, "email")]
    )
    by_week = report(history(), Period.WEEK)
    assert {r.start for r in by_week.channels} == {MONDAY}
    assert row(by_week, "email", MONDAY).arrived == 4


def test_contacts_measured_once_give_each_spans_figures_as_measured_alone():
    """The dashboard measures a week's contacts once and takes the day, the week and the hours from it: each span's
    figures are those of the span measured alone (Tuesday's email still pending, Monday's callback taken for the
    call, Ana's later email deciding her chat's first-contact resolution)."""
    contacts = history()
    contacts.append(contact("c9", "chat", "2026-12-01T09:00:00", "ana", state=ContactState.QUEUED))
    facts = facts_of(facts_row(c) for c in contacts)
    measured = measured_of(facts, CAL, RULES, NOW)
    spans = [
        (Period.DAY, MONDAY, MONDAY, at("2026-11-30T00:00:00"), at("2026-12-01T00:00:00")),
        (Period.DAY, TUESDAY, TUESDAY, at("2026-12-01T00:00:00"), at("2026-12-02T00:00:00")),
        (Period.WEEK, MONDAY, TUESDAY, at("2026-11-30T00:00:00"), at("2026-12-02T00:00:00")),
    ]
    for period, first, last, since, until in spans:
        alone = figures_of(facts, CAL, RULES, NOW, period, first, last, since, until)
        assert figures_of(facts, CAL, RULES, NOW, period, first, last, since, until, measured) == alone
        assert alone.totals  # each span has contacts
    for day in (MONDAY, TUESDAY):
        assert hourly_of(facts, CAL, RULES, NOW, day, measured) == hourly_of(facts, CAL, RULES, NOW, day)
    tuesday = hourly_of(facts, CAL, RULES, NOW, TUESDAY, measured)
    assert tuesday["chat"][9].arrived == 1 and tuesday["email"][11].pending == 1


async def test_both_stores_give_the_facts_the_report_counts(store: Store):
    """Written through a unit of work, read back for a span: every fact; a merge moves them to the survivor."""
    contacts = history()
    for name in {c.customer_id for c in contacts}:
        await store.create_customer(Customer(id=name, created_at=1.0))
    await store.commit(Changes(contacts=tuple(contacts), expected={f"contact:{c.id}": 0 for c in contacts}))
    facts = await store.contact_facts(at("2026-11-30T00:00:00"), at("2026-12-02T00:00:00"))
    assert sorted(zip(facts.created.tolist(), facts.id.tolist(), strict=True)) == sorted(
        (c.created_at, c.id) for c in contacts
    )
    assert (facts.created[1:] >= facts.created[:-1]).all()  # in arrival order
    expected = report(contacts)
    got = figures_of(facts, CAL, RULES, NOW, Period.DAY, MONDAY, TUESDAY, at("2026-11-30T00:00:00"),
                     at("2026-12-02T00:00:00"))  # fmt: skip
    assert got == expected
    b2 = facts.take(facts.id == "b2")
    assert (b2.slot[0], b2.agent[0], b2.disposition[0]) == (at("2026-11-30T14:00:00"), "ayu", "no_answer")
    event = NewEvent("ana", None, None, "customer.merged", 1.0, "agent:ayu", {"merged": "budi"})
    await store.merge_customers("ana", "budi", event)
    moved = await store.contact_facts(at("2026-11-30T09:10:00"), at("2026-11-30T09:10:01"))
    assert moved.customer.tolist() == ["ana"] and moved.accepted[0] == at("2026-11-30T09:10:45")


async def test_an_accepted_chat_is_answered_when_first_accepted(env: EngineEnv):
    """The engine keeps the moment an agent accepted a chat: the report's speed of answer is that wait."""
    a = await env.add_agent("a", wrap_up_s=5.0)
    await env.online(a)
    customer = await env.engine.new_visitor()
    chat, _ = await env.engine.customer_message(customer.id, "Halo, saya perlu bantuan", "m1")
    await env.settle()
    env.clock.advance(12)
    await env.engine.accept(a.id, env.of(f"agent:{a.id}", "offer")[0]["offer_id"])
    env.clock.advance(60)
    await env.engine.close(a.id, chat.id, "resolved")
    env.clock.advance(5)
    await env.settle()
    day = env.config.sla.calendar.local_date(env.clock.now())
    got = await service_report(env.store, env.config.sla.calendar, rules_of(env.config), env.clock.now(),
                               Period.DAY, day, day)  # fmt: skip
    chat_row = next(r for r in got.figures.totals if r.channel == "chat")
    assert (chat_row.answered, chat_row.in_time, chat_row.asa_s) == (1, 1, pytest.approx(12))
    assert chat_row.aht_s == pytest.approx(65)
    [agent] = got.to_json()["agents"]  # staffed from going online; handling 65 of its 77 s
    assert agent["handled"] == 1 and agent["occupancy"] == pytest.approx(65 / 77, abs=1e-4)
    lines = got.to_csv().splitlines()
    assert lines[0].split(",") == list(CSV_COLUMNS)
    assert lines[1].split(",")[:6] == [day.isoformat(), "chat", "1", "1", "1", "1"]


async def stored_history(tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """The history above in an embedded store, and a config file naming it."""
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{data}"\n[logging]\nformat = "json"\n')
    data.mkdir()
    store = SqliteStore(data / "contact-center.sqlite3")
    contacts = history()
    for name in {c.customer_id for c in contacts}:
        await store.create_customer(Customer(id=name, created_at=1.0))
    await store.commit(Changes(contacts=tuple(contacts), expected={f"contact:{c.id}": 0 for c in contacts}))
    await store.close()
    return config


async def test_the_report_command_writes_csv_json_and_a_png(tmp_path, capsys, monkeypatch):
    """contact-center report: a row per day and channel in CSV; the same figures in JSON; a PNG chart to a file."""
    monkeypatch.setattr("contact_center.cli.configure_logging", lambda _: None)  # the suite's logging stays
    config = await stored_history(tmp_path)
    base = ["--config", str(config), "report", "--period", "day", "--from", "2026-11-30", "--to", "2026-12-01"]
    assert await asyncio.to_thread(main, [*base, "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split(",") == list(CSV_COLUMNS)
    rows = {(r.split(",")[0], r.split(",")[1]): r.split(",") for r in out[1:]}
    assert set(rows) == {("2026-11-30", ch) for ch in ("call", "callback", "chat", "email")} | {("2026-12-01", "email")}
    chat = dict(zip(CSV_COLUMNS, rows["2026-11-30", "chat"], strict=True))
    assert (chat["arrived"], chat["offered"], chat["answered_in_time"], chat["abandoned"]) == ("4", "3", "1", "1")
    assert await asyncio.to_thread(main, [*base, "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert {t["channel"]: t["arrived"] for t in got["totals"]} == {"call": 1, "callback": 3, "chat": 4, "email": 4}
    png = tmp_path / "days.png"
    assert await asyncio.to_thread(main, [*base, "--format", "png", "--out", str(png), "--language", "id"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


async def test_a_long_span_is_read_a_month_at_a_time_and_told(store: Store):
    """Seventy days are three reads; each is told as it is done; the facts are all there, in arrival order."""
    for name in {c.customer_id for c in history()}:
        await store.create_customer(Customer(id=name, created_at=1.0))
    contacts = history()
    await store.commit(Changes(contacts=tuple(contacts), expected={f"contact:{c.id}": 0 for c in contacts}))
    told: list[tuple[int, int]] = []
    since = at("2026-10-20T00:00:00")
    facts = await read_facts(store, since, since + 70 * 86_400, lambda done, total: told.append((done, total)))
    assert told == [(1, 3), (2, 3), (3, 3)]
    assert sorted(zip(facts.created.tolist(), facts.id.tolist(), strict=True)) == sorted(
        (c.created_at, c.id) for c in contacts
    )
    assert (facts.created[1:] >= facts.created[:-1]).all()  # in arrival order


def test_the_report_command_refuses_a_span_backwards(tmp_path, monkeypatch):
    """--from after --to says so and writes nothing."""
    monkeypatch.setattr("contact_center.cli.configure_logging", lambda _: None)
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path}"\n')
    with pytest.raises(SystemExit, match="report: --from 2026-12-02 is after --to 2026-12-01"):
        main(["--config", str(config), "report", "--from", "2026-12-02", "--to", "2026-12-01"])


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25), date(2026, 7, 1)])
def test_arrivals_are_counted_in_their_local_hour_on_days_the_clocks_change_too(day: date):
    """A day of 23 hours (clocks forward), of 25 (back) and of 24 in Berlin: each arrival in the hour its clock
    showed, as the dashboard's hourly table counts them (arithmetic on an even day, one by one on the others)."""
    berlin = ZoneInfo("Europe/Berlin")
    calendar = BusinessCalendar("Europe/Berlin")
    since = datetime.combine(day, datetime.min.time(), berlin).timestamp()
    until = datetime.combine(date.fromordinal(day.toordinal() + 1), datetime.min.time(), berlin).timestamp()
    arrivals = [since + s for s in range(0, int(until - since), 1234)]
    chats = [Contact(f"c{i}", Channel.CHAT, "ana", ContactState.CLOSED, t, t, []) for i, t in enumerate(arrivals)]
    hourly = hourly_of(facts_of(facts_row(c) for c in chats), calendar, RULES, until, day)
    expected = [0] * 24
    for t in arrivals:
        expected[datetime.fromtimestamp(t, berlin).hour] += 1
    assert [h.arrived for h in hourly["chat"]] == expected
    assert sum(expected) == len(arrivals) and (until - since) / 3600 == {29: 23, 25: 25, 1: 24}[day.day]
