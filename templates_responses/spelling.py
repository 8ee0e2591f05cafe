"""Spelling: each word of a draft against its language's dictionary, with the likely words instead.

The dictionary is a port (:class:`Dictionary`: whether a word is known, and what it may have
meant); the engine gives hunspell's English and Indonesian ones. What is never flagged, because a
dictionary cannot judge it or the team has said so: the team's words and product names (``keep``,
in any case), the customer's and agent's names (the desk adds them to ``keep``), capitalised
words inside a sentence (names), acronyms and words in capitals, words with digits, addresses and
links, ``{{variables}}`` and ``[[placeholders]]``, words of another script, and chat slang (the
Indonesian rules judge that, in email only). Customers and agents mix the two languages, so a word
either dictionary knows is accepted; suggestions come from the draft's own language.

An Indonesian word the dictionary does not list is tried through its roots
(:func:`templates_responses.word_forms.roots`), since no dictionary lists every affixed form.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Protocol

from templates_responses.word_forms import roots

__all__ = ["MAX_SUGGESTED", "Dictionary", "misspellings"]

MAX_SUGGESTED = 12  # distinct misspelt words a check finds fixes for; later ones are flagged without
_FIXES = 3
_LONGEST = 40  # letters of a word a dictionary is asked about: a longer one is no word (and costs it seconds)

_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_SKIPPED_SPANS = re.compile(r"\{\{.*?\}\}|\[\[.*?\]\]|<[^<>\n]*>")
_CHUNK = re.compile(r"\S+")
_LINKISH = ("://", "www.", "@")  # a chunk with one of these is a link or an address, not words
_SENTENCE_END = re.compile(r"(?:^|[.!?\n:;]|[.!?][\"')\]»”’]+)[\s\"'(«“‘]*$")
_LATIN_LAST = "\u024f"  # Latin Extended-B: English and Indonesian words are in the Latin script


class Dictionary(Protocol):
    """A language's dictionary: whether it knows a word, and the words meant, best first.

    ``strict``: by its lists alone, when the word is only looked up as mixed in from this language
    (a dictionary may otherwise also accept what is common in the language's writing).
    """

    def known(self, word: str, *, strict: bool = False) -> bool: ...

    def suggest(self, word: str) -> Sequence[str]: ...


def _judged(token: str, text: str, start: int, keep: Collection[str]) -> bool:
    """Whether a dictionary should judge ``token`` (found at ``start`` in ``text``)."""
    if len(token) < 2 or token.lower() in keep or any(c.isdigit() or c > _LATIN_LAST for c in token):
        return False
    if token.isupper():
        return False  # an acronym, or shouting (another rule's)
    if token[0].isupper() and not _SENTENCE_END.search(text, max(0, start - 12), start):
        return False  # a name inside a sentence
    return True


def _known_in(dictionary: Dictionary, word: str, language: str, strict: bool) -> bool:
    if dictionary.known(word, strict=strict):
        return True
    if language == "id":
        lower = word.lower()
        return any(dictionary.known(root, strict=True) for root in roots(lower) if root != lower)
    return False


def _known(word: str, language: str, dictionaries: Mapping[str, Dictionary]) -> bool:
    """Known in the draft's language (or, mixed in, in another); a hyphenated word if each part is."""
    word = word.replace("’", "'")
    order = [language, *(other for other in dictionaries if other != language)]
    for lang in order:
        if lang in dictionaries and _known_in(dictionaries[lang], word, lang, strict=lang != language):
            return True
    parts = word.split("-")
    if len(parts) > 1:
        return all(not part or _known(part, language, dictionaries) for part in parts)
    return False


def _cased(word: str, fixes: Sequence[str]) -> tuple[str, ...]:
    shown: list[str] = []
    for fix in fixes:
        if word[:1].isupper() and fix[:1].islower():
            fix = fix[:1].upper() + fix[1:]
        if fix != word and fix not in shown:
            shown.append(fix)
    return tuple(shown[:_FIXES])


def _skipped(text: str) -> list[tuple[int, int]]:
    """Variables, placeholders, tags, links and addresses: never spelt. (Links are found chunk by chunk: a
    pattern like ``\\S*://\\S*`` backtracks over a long run of letters in time that grows with its square.)"""
    spans = [m.span() for m in _SKIPPED_SPANS.finditer(text)]
    spans += [m.span() for m in _CHUNK.finditer(text) if any(mark in m.group() for mark in _LINKISH)]
    return sorted(spans)


def misspellings(
    text: str, language: str, dictionaries: Mapping[str, Dictionary], keep: Collection[str] = ()
) -> Iterator[tuple[int, int, tuple[str, ...]]]:
    """Each word ``text`` misspells: its span and the words it may have meant (``keep`` in lower case)."""
    if language not in dictionaries:
        return
    skipped = _skipped(text)
    fixes_for: dict[str, tuple[str, ...]] = {}
    verdicts: dict[str, bool] = {}
    for m in _TOKEN.finditer(text):
        token, start = m.group(), m.start()
        if any(a <= start < b for a, b in skipped) or not _judged(token, text, start, keep):
            continue
        if token not in verdicts:
            verdicts[token] = len(token) <= _LONGEST and _known(token, language, dictionaries)
        if verdicts[token]:
            continue
        if token not in fixes_for:
            asking = len(fixes_for) < MAX_SUGGESTED and len(token) <= _LONGEST
            suggested = dictionaries[language].suggest(token) if asking else ()
            fixes_for[token] = _cased(token, suggested)
        yield start, m.end(), fixes_for[token]
