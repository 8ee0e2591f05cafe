"""Spelling in a draft, against a dictionary behind the port: what is judged, what is never, and the fixes."""

from __future__ import annotations

from collections.abc import Sequence

from templates_responses.checks import check
from templates_responses.spelling import MAX_SUGGESTED, misspellings
from templates_responses.word_forms import roots


class Words:
    """A dictionary of a few words, its suggestions given by hand (what the port promises, no more)."""

    def __init__(self, words: str, suggestions: dict[str, Sequence[str]] | None = None) -> None:
        self.words = set(words.split())
        self.suggestions = suggestions or {}
        self.asked: list[str] = []

    def known(self, word: str, *, strict: bool = False) -> bool:
        return word in self.words or word.lower() in self.words

    def suggest(self, word: str) -> Sequence[str]:
        self.asked.append(word)
        return self.suggestions.get(word.lower(), ())


EN = Words("we have your card and will send it the thank you for it's see or ref", {"recieved": ["received", "relief"]})
ID = Words("kartu anda sudah kami kirim rekening blokir nyaman tidak proses hubung", {"kirm": ["kirim"]})


def spelt(text: str, language: str = "en", keep: Sequence[str] = ()) -> list[tuple[str, tuple[str, ...]]]:
    return [(text[a:b], fixes) for a, b, fixes in misspellings(text, language, {"en": EN, "id": ID}, keep)]


def test_a_misspelt_word_is_found_with_what_was_meant_and_its_case_kept() -> None:
    assert spelt("We have recieved your card.") == [("recieved", ("received", "relief"))]
    assert spelt("Recieved your card.") == [("Recieved", ("Received", "Relief"))]


def test_what_a_dictionary_cannot_judge_is_left_alone() -> None:
    text = (
        "Thank you Budi, we have your card: see https://bank.example/kartu?x=qq or cs@bank.example, "
        "your PIN 1234 and ref ABC12X, {{customer_name}} and [[lastdigits]] <b>x</b>. مرحبا 日本語 😀"
    )
    assert spelt(text) == []


def test_the_teams_words_are_never_flagged_in_any_case() -> None:
    assert spelt("Thank you for BankKu.", keep=["bankku"]) == []
    assert spelt("Thank you for BankKu.") == []  # inside a sentence and capitalised: a name
    assert spelt("Bankku thank you.") == [("Bankku", ())]
    assert spelt("Bankku thank you.", keep=["bankku"]) == []


def test_indonesian_forms_are_accepted_through_their_roots_and_mixed_english_is_accepted() -> None:
    assert spelt("Kartunya sudah kami blokir, rekeningnya diproses, mohon hubungi kami.", "id") == [("mohon", ())]
    assert spelt("Ketidaknyamanan kami, kartu anda sudah we send.", "id") == []
    assert spelt("Kartu anda sudah kami kirm.", "id") == [("kirm", ("kirim",))]


def test_hyphenated_words_are_known_when_each_part_is() -> None:
    assert spelt("Kartu-kartu anda sudah kami kirim.", "id") == []
    assert spelt("Kartu-kartv anda.", "id") == [("Kartu-kartv", ())]


def test_suggestions_are_asked_once_a_word_and_for_a_bounded_number_of_words() -> None:
    words = Words("ok")
    many = " ".join(f"zq{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(MAX_SUGGESTED + 8))
    found = list(misspellings(f"{many} {many}", "en", {"en": words}))
    assert len(found) == 2 * (MAX_SUGGESTED + 8)
    assert len(words.asked) == MAX_SUGGESTED


def test_spelling_gives_way_to_a_rule_at_the_same_place_and_chat_slang_is_not_misspelt() -> None:
    found = check("Silahkan dikirm, udah.", "id", "chat", dictionaries={"id": ID})
    assert [(f.rule, f.fixes[:1]) for f in found] == [("non_standard", ("Silakan",)), ("spelling", ())]
    assert [f.rule for f in check("Kartu anda udah kami kirim.", "id", "email", dictionaries={"id": ID})] == [
        "slang_in_email"
    ]


def test_roots_undo_the_affixes_and_the_changed_first_sound() -> None:
    assert "kirim" in set(roots("dikirimkannya"))
    assert "sapa" in set(roots("menyapa"))
    assert "pakai" in set(roots("memakai"))
    assert "nyaman" in set(roots("ketidaknyamanan"))
    assert all(len(r) >= 3 for r in roots("dia"))
