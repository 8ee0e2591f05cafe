"""hunspell's dictionaries for English and Indonesian, read once at start (the offline spell checker).

Through the compiled binding (PyPI ``hunspell`` over Debian's ``libhunspell``): a word is looked
up in about half a microsecond. English is American or British (``en_US`` and ``en_GB``: agents
here write both). hunspell's suggestions are good but its n-gram pass over the whole dictionary
takes 20-40 ms a word here, so the dictionary is opened with that pass off (``MAXNGRAMSUGS 0``,
added to a copy of the affix file): edits, the affix file's replacement table and compound splits
remain, 1-6 ms a word. A word they leave without a suggestion (two letters wrong: "tommorow")
gets the dictionary's roots of about its length that rapidfuzz finds most alike, within two edits.
The candidates are then ordered by how few edits they are away and, among equals, by how common
they are in the language (``wordfreq``): "adress" gives "address" before "dress".

Indonesian's dictionary misses common words ("ponsel", "struk"), so there a word that is common in
written Indonesian (wordfreq's Zipf frequency at least :data:`COMMON_ID`: once in a million words)
is known too; English's dictionaries need no such help, and there the web's common misspellings
("dont", "alot") would get through. Suggestions are kept for the words seen last, since a draft
is checked again each time the agent pauses.
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hunspell
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from wordfreq import zipf_frequency

from contact_center.exceptions import ConfigError
from templates_responses.spelling import Dictionary

__all__ = ["COMMON_ID", "DICTIONARY_FILES", "HunspellDictionary", "open_dictionaries"]

# Each language's hunspell dictionaries, the first giving suggestions: (name, Debian package).
DICTIONARY_FILES = {
    "en": (("en_US", "hunspell-en-us"), ("en_GB", "hunspell-en-gb")),
    "id": (("id_ID", "hunspell-id"),),
}
COMMON_ID = 3.0  # Zipf frequency (log10 of uses per billion words) from which an Indonesian word is known
_REMEMBERED = 4096  # words whose suggestions are kept
_NEAR = 2  # letters a root may be longer or shorter, and edits it may be away
_PHRASE = 4.8  # Zipf frequency of two words that are a phrase, not a word split


def _opened(base: Path) -> tuple[object, Path]:
    dic, aff = base.with_suffix(".dic"), base.with_suffix(".aff")
    with tempfile.TemporaryDirectory(prefix="cc-hunspell-") as folder:
        fast = Path(folder) / aff.name
        fast.write_bytes(aff.read_bytes() + b"\nMAXNGRAMSUGS 0\n")
        return hunspell.HunSpell(str(dic), str(fast)), dic  # read whole here


class HunspellDictionary:
    """One language's hunspell dictionaries (``.dic`` and ``.aff`` of each of ``bases``), the first suggesting."""

    def __init__(self, bases: Sequence[Path], language: str) -> None:
        opened = [_opened(base) for base in bases]
        self._spellers: list[Any] = [speller for speller, _ in opened]
        self._speller = self._spellers[0]
        self._language = language
        self._by_length = _roots_by_length(opened[0][1], self._speller.get_dic_encoding())
        self._suggested: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    def known(self, word: str, *, strict: bool = False) -> bool:
        """Whether a dictionary has ``word`` (Indonesian, not ``strict``: or it is common); another alphabet's is."""
        for speller in self._spellers:
            try:
                if speller.spell(word):
                    return True
            except UnicodeEncodeError:
                return True
        return not strict and self._language == "id" and zipf_frequency(word, "id") >= COMMON_ID

    def suggest(self, word: str) -> Sequence[str]:
        if word in self._suggested:
            self._suggested.move_to_end(word)
            return self._suggested[word]
        try:
            found = self._ranked(word, self._speller.suggest(word)) or self._alike(word)
        except UnicodeEncodeError:
            found = ()
        self._suggested[word] = found
        if len(self._suggested) > _REMEMBERED:
            self._suggested.popitem(last=False)
        return found

    def forget_suggestions(self) -> None:
        """Drop the suggestions kept (the benchmark measures each draft as if new)."""
        self._suggested.clear()

    def _ranked(self, word: str, candidates: Sequence[str]) -> tuple[str, ...]:
        """Fewest edits first (case aside), then the most common; hunspell's own order breaks ties.

        A word split in two counts half an edit more unless the two are a common phrase ("up to",
        not "transfer ed").
        """
        lower = word.lower()
        order = {c: i for i, c in reversed(list(enumerate(candidates)))}

        def cost(c: str) -> tuple[float, float, int]:
            common = zipf_frequency(c, self._language)
            split = 0.5 if (" " in c or "-" in c) and not (" " in word or "-" in word) and common < _PHRASE else 0.0
            return OSA.distance(lower, c.lower()) + split, -common, order[c]

        return tuple(sorted(order, key=cost))

    def _alike(self, word: str) -> tuple[str, ...]:
        lower = word.lower()
        pool = self._by_length.get(min(len(lower), max(self._by_length, default=0)), [])
        near = process.extract(lower, pool, scorer=fuzz.ratio, score_cutoff=75, limit=8)
        return self._ranked(word, [w for w, _, _ in near if OSA.distance(lower, w) <= _NEAR])[:3]


def _roots_by_length(dic: Path, encoding: str) -> dict[int, list[str]]:
    """For each length, the dictionary's lower-case roots within :data:`_NEAR` letters of it."""
    exact: defaultdict[int, list[str]] = defaultdict(list)
    with dic.open(encoding=encoding, errors="replace") as lines:
        next(lines, None)  # the count
        for line in lines:
            fields = line.split("/", 1)[0].split()
            root = fields[0] if fields else ""
            if root and root.isalpha() and root.islower():
                exact[len(root)].append(root)
    longest = max(exact, default=0)
    return {n: [w for k in range(n - _NEAR, n + _NEAR + 1) for w in exact.get(k, ())] for n in range(1, longest + 1)}


def open_dictionaries(folder: Path, languages: Sequence[str]) -> Mapping[str, Dictionary]:
    """The dictionaries of ``languages`` in ``folder`` (Debian's: /usr/share/hunspell), or a clear error."""
    opened: dict[str, Dictionary] = {}
    for language in languages:
        if language not in DICTIONARY_FILES:
            raise ConfigError(f"desk.spelling_dir: no hunspell dictionary is known for language {language!r}")
        for name, package in DICTIONARY_FILES[language]:
            base = folder / name
            if not base.with_suffix(".dic").is_file() or not base.with_suffix(".aff").is_file():
                raise ConfigError(
                    f"desk.spelling_dir: {base}.dic or .aff is missing"
                    f" (Debian package {package}: apt-get install {package})"
                )
        opened[language] = HunspellDictionary([folder / name for name, _ in DICTIONARY_FILES[language]], language)
    return opened
