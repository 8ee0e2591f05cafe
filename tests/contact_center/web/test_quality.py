"""Quality monitoring over the desk socket: the weekly sample, a review of a finished chat, the agent's view,
the report's scores; agents refused every supervisor request; the form checked."""

from __future__ import annotations

import aiohttp
import pytest

from contact_center.model import Role
from contact_center.quality import QualityForm, Review, weekly_sample
from contact_center.store import Store
from tests.clients import desk, login, offered_chat
from tests.conftest import Server

ALL_FOURS = {"greeting": 4, "understanding": 4, "solution": 4, "tone": 4, "writing": 4, "closing": 4}


def test_a_review_scores_the_weighted_mean_on_a_hundred():
    """All at the top is 100, all at the bottom 0; the weights count; a missing or wrong score is named."""
    form = QualityForm()
    assert form.score(dict.fromkeys(ALL_FOURS, 5)) == 100 and form.score(dict.fromkeys(ALL_FOURS, 1)) == 0
    assert form.score(ALL_FOURS) == 75
    assert form.score({**dict.fromkeys(ALL_FOURS, 1), "solution": 5}) == pytest.approx(100 * 3 / 10, abs=0.05)
    with pytest.raises(ValueError, match=r"scores\.closing: a whole number from 1 to 5"):
        form.check({k: v for k, v in ALL_FOURS.items() if k != "closing"})
    with pytest.raises(ValueError, match="no criterion 'speed'"):
        form.check({**ALL_FOURS, "speed": 3})
    with pytest.raises(ValueError, match=r"scores\.tone"):
        form.check({**ALL_FOURS, "tone": 6})


def test_the_weekly_sample_is_the_same_all_week_and_per_agent():
    """Two of each agent's contacts, the same however the list is ordered; a later contact never pushes one out
    unless it ranks before it."""
    handled = [(f"c{n}", "ayu" if n % 2 else "budi") for n in range(20)]
    first = weekly_sample("2026-11-30", handled, 2)
    assert first == weekly_sample("2026-11-30", list(reversed(handled)), 2)
    assert {a: len(ids) for a, ids in first.items()} == {"ayu": 2, "budi": 2}
    assert weekly_sample("2026-12-07", handled, 2) != first  # another week, another sample
    more = weekly_sample("2026-11-30", [*handled, ("c99", "ayu")], 2)
    assert more["budi"] == first["budi"] and set(more["ayu"]) <= {*first["ayu"], "c99"}


async def test_both_stores_keep_one_review_per_contact(store: Store):
    """A new review of a contact replaces the old; an agent's reviews newest first; by time for reports."""
    one = Review("c1", "ayu", "sari", 100.0, "chat", ALL_FOURS, 75.0, "Bagus")
    await store.put_review(one)
    await store.put_review(Review("c2", "ayu", "sari", 200.0, "email", ALL_FOURS, 75.0))
    again = Review("c1", "ayu", "lead", 300.0, "chat", {**ALL_FOURS, "tone": 2}, 65.0, "Nada kurang ramah")
    await store.put_review(again)
    assert await store.review_of("c1") == again and await store.review_of("nope") is None
    assert [r.contact_id for r in await store.reviews_of("ayu")] == ["c1", "c2"]
    assert [r.contact_id for r in await store.reviews(150.0, 400.0)] == ["c2", "c1"]


async def closed_chat(server: Server) -> tuple[object, str]:
    agent, customer, _, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    await agent.send({"type": "reply", "contact_id": contact_id, "text": "Baik, saya bantu cek", "client_id": "a1"})
    await agent.expect("ack")
    await agent.send({"type": "close", "contact_id": contact_id, "disposition": "resolved"})
    await agent.expect("contact_state", contact_id=contact_id, state="closed", timeout=10)
    return agent, contact_id


async def test_a_supervisor_reviews_a_finished_chat_and_the_agent_sees_it(server: Server):
    """The closed chat is in the week's sample; opened whole with the form; saved, the agent is told at once and
    finds it in my_reviews; the service report counts its score."""
    agent, contact_id = await closed_chat(server)
    await server.add_agent("sari", role=Role.SUPERVISOR)
    sup, _ = await desk(server, "sari", available=False)
    await sup.send({"type": "quality_sample"})
    sample = await sup.expect("quality_sample")
    [ayu] = [a for a in sample["agents"] if a["name"] == "ayu"]
    assert [c["id"] for c in ayu["contacts"]] == [contact_id] and ayu["contacts"][0]["review"] is None

    await sup.send({"type": "review_open", "contact_id": contact_id})
    opened = await sup.expect("review_open")
    assert [m["text"] for m in opened["messages"]] == ["Halo, pesanan saya belum sampai", "Baik, saya bantu cek"]
    assert [c["id"] for c in opened["form"]["criteria"]] == list(ALL_FOURS) and opened["review"] is None
    assert "contact.closed" in [e["kind"] for e in opened["events"]]

    scores = {**ALL_FOURS, "closing": 2}
    await sup.send({"type": "review_save", "contact_id": contact_id, "scores": scores, "comment": "Tutup lebih rapi"})
    saved = (await sup.expect("review_saved"))["review"]
    assert saved["score"] == QualityForm().score(scores) and saved["reviewer_name"] == "sari"
    told = await agent.expect("review_added")
    assert told["review"]["comment"] == "Tutup lebih rapi" and told["review"]["contact_id"] == contact_id
    await agent.send({"type": "my_reviews"})
    mine = await agent.expect("my_reviews")
    assert [r["contact_id"] for r in mine["reviews"]] == [contact_id]

    token = await login(server, "sari")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/api/reports/service?period=week",
                            headers={"Authorization": f"Bearer {token}"}) as r:  # fmt: skip
            quality = (await r.json())["quality"]
    assert quality["reviews"] == 1 and quality["mean_score"] == saved["score"]
    assert quality["agents"] == [{"agent_id": saved["agent_id"], "reviews": 1, "mean_score": saved["score"]}]


async def test_an_agent_is_refused_every_review_request_and_bad_scores_are_named(server: Server):
    """An agent asking for the sample, opening or saving a review gets forbidden; a supervisor's review of an
    open chat or with a score out of range is refused, naming why, and nothing is recorded."""
    agent, contact_id = await closed_chat(server)
    for n, ask in enumerate([{"type": "quality_sample"}, {"type": "review_open", "contact_id": contact_id},
                             {"type": "review_save", "contact_id": contact_id, "scores": ALL_FOURS}]):  # fmt: skip
        await agent.send({**ask, "ref": f"r{n}"})
        assert (await agent.expect("error", ref=f"r{n}"))["code"] == "forbidden"
    await server.add_agent("sari", role=Role.SUPERVISOR)
    sup, _ = await desk(server, "sari", available=False)
    await sup.send({"type": "review_save", "contact_id": contact_id, "scores": {**ALL_FOURS, "tone": 9}, "ref": "x"})
    bad = await sup.expect("error", ref="x")
    assert bad["code"] == "invalid_field" and "scores.tone" in bad["message"]
    await sup.send({"type": "review_open", "contact_id": "nope", "ref": "y"})
    assert (await sup.expect("error", ref="y"))["code"] == "not_found"
    assert await server.engine.store.review_of(contact_id) is None
