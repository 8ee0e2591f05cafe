"""hunspell's dictionaries for English and Indonesian, read once at start (the offline spell checker).

Through the compiled binding (PyPI ``hunspell`` over Debian's ``libhunspell``): a word is looked
up in about half a microsecond. hunspell's suggestions are good but its n-gram pass over the whole
dictionary takes 20-40 ms a word here, so the dictionary is opened with that pass off
(``MAXNGRAMSUGS 0``, added to a copy of the affix file): edits, the affix file's replacement table
and compound splits remain, 1-6 ms a word. A word they leave without a suggestion (two letters
wrong: "tommorow") gets the dictionary's roots of about its length that rapidfuzz finds most
alike, within two edits. Suggestions are kept for the words seen last, since a draft is checked
again each time the agent pauses.
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import hunspell
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from contact_center.exceptions import ConfigError
from templates_responses.spelling import Dictionary

__all__ = ["DICTIONARY_FILES", "HunspellDictionary", "open_dictionaries"]

DICTIONARY_FILES = {"en": ("en_US", "hunspell-en-us"), "id": ("id_ID", "hunspell-id")}  # name, Debian package
_REMEMBERED = 4096  # words whose suggestions are kept
_NEAR = 2  # letters a root may be longer or shorter, and edits it may be away


class HunspellDictionary:
    """One language's hunspell dictionary (``.dic`` and ``.aff`` of ``base``)."""

    def __init__(self, base: Path) -> None:
        dic, aff = base.with_suffix(".dic"), base.with_suffix(".aff")
        with tempfile.TemporaryDirectory(prefix="cc-hunspell-") as folder:
            fast = Path(folder) / aff.name
            fast.write_bytes(aff.read_bytes() + b"\nMAXNGRAMSUGS 0\n")
            self._speller = hunspell.HunSpell(str(dic), str(fast))  # read whole here
        self._encoding = self._speller.get_dic_encoding()
        self._by_length = _roots_by_length(dic, self._encoding)
        self._suggested: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    def known(self, word: str) -> bool:
        """Whether the dictionary has ``word``; one it cannot even spell (another alphabet) is not judged."""
        try:
            return bool(self._speller.spell(word))
        except UnicodeEncodeError:
            return True

    def suggest(self, word: str) -> Sequence[str]:
        if word in self._suggested:
            self._suggested.move_to_end(word)
            return self._suggested[word]
        try:
            found = tuple(self._speller.suggest(word)) or self._alike(word)
        except UnicodeEncodeError:
            found = ()
        self._suggested[word] = found
        if len(self._suggested) > _REMEMBERED:
            self._suggested.popitem(last=False)
        return found

    def _alike(self, word: str) -> tuple[str, ...]:
        lower = word.lower()
        pool = self._by_length.get(min(len(lower), max(self._by_length, default=0)), [])
        near = process.extract(lower, pool, scorer=fuzz.ratio, score_cutoff=75, limit=5)
        return tuple(w for w, _, _ in near if OSA.distance(lower, w) <= _NEAR)[:3]


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
        name, package = DICTIONARY_FILES[language]
        base = folder / name
        if not base.with_suffix(".dic").is_file() or not base.with_suffix(".aff").is_file():
            raise ConfigError(
                f"desk.spelling_dir: {base}.dic or .aff is missing"
                f" (Debian package {package}: apt-get install {package})"
            )
        opened[language] = HunspellDictionary(base)
    return opened
