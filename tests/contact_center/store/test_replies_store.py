"""The team's dictionary and the replies agents used, kept by either store across a restart."""

from __future__ import annotations

import pytest

from contact_center.exceptions import Conflict
from contact_center.store.base import ReplyUse, ReplyVersion
from tests.stores import Opener

HOUR = 3600.0
DAY0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC


async def test_a_word_is_added_once_kept_after_a_restart_and_removed(reopen: Opener) -> None:
    store = await reopen()
    assert await store.add_word("BankKu", "ana", DAY0)
    assert not await store.add_word("BankKu", "budi", DAY0 + 1)  # there already: the first adder stays
    assert await store.add_word("e-Statement", "budi", DAY0 + 2)
    await store.close()
    store = await reopen()
    assert await store.team_words() == ["BankKu", "e-Statement"]
    assert await store.remove_word("BankKu")
    assert not await store.remove_word("BankKu")
    assert await store.team_words() == ["e-Statement"]


async def test_uses_are_counted_per_reply_in_the_period_asked_and_phrasings_kept_in_order(reopen: Opener) -> None:
    store = await reopen()
    uses = [("card_lost", DAY0 + 10, "I lost my card"), ("card_lost", DAY0 + HOUR + 5, "kartu saya hilang"),
            ("pin_reset", DAY0 + 2 * HOUR, ""), ("card_lost", DAY0 + 30 * HOUR, "my card is gone")]  # fmt: skip
    for reply_id, at, message in uses:
        await store.record_reply_use(ReplyUse(reply_id, "ana", "c1", message, "en", at))
    await store.close()
    store = await reopen()
    assert await store.reply_uses(DAY0, DAY0 + 24 * HOUR) == {"card_lost": 2, "pin_reset": 1}
    assert await store.reply_uses(DAY0 + 24 * HOUR, DAY0 + 48 * HOUR) == {"card_lost": 1}
    assert await store.reply_uses(DAY0 - 48 * HOUR, DAY0) == {}
    assert await store.learned_phrasings(10) == [
        ("card_lost", "I lost my card"), ("card_lost", "kartu saya hilang"), ("card_lost", "my card is gone")
    ]  # fmt: skip
    assert await store.learned_phrasings(1) == [("card_lost", "my card is gone")]


async def test_a_replys_versions_are_kept_in_order_and_a_version_is_written_once(reopen: Opener) -> None:
    store = await reopen()
    await store.add_reply_version(ReplyVersion("card-lost", 1, "files", DAY0, "title = 'a'"))
    await store.add_reply_version(ReplyVersion("card-lost", 2, "lead", DAY0 + 5, "title = 'b'"))
    await store.add_reply_version(ReplyVersion("pin", 1, "files", DAY0, "title = 'p'"))
    with pytest.raises(Conflict):  # two supervisors saved on the same version: the second is refused
        await store.add_reply_version(ReplyVersion("card-lost", 2, "ana", DAY0 + 6, "title = 'c'"))
    await store.add_reply_version(ReplyVersion("pin", 2, "lead", DAY0 + 7, ""))  # deleted
    await store.close()
    store = await reopen()
    history = await store.reply_history("card-lost")
    assert [(v.n, v.author, v.source) for v in history] == [(1, "files", "title = 'a'"), (2, "lead", "title = 'b'")]
    latest = await store.latest_reply_versions()
    assert {k: (v.n, v.source) for k, v in latest.items()} == {"card-lost": (2, "title = 'b'"), "pin": (2, "")}
    assert await store.reply_history("none") == []
