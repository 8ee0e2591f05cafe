"""The roots an Indonesian word may be built on, so that a dictionary of roots accepts its forms.

Indonesian builds words by affixes a dictionary cannot list in full: particles (*-lah*, *-kah*,
*-pun*), possessives (*-nya*, *-ku*, *-mu*), suffixes (*-kan*, *-an*, *-i*) and prefixes, some
of which change the root's first sound (*meny-* + *sapa*, *mem-* + *pakai*). hunspell's Indonesian
dictionary lists many forms but not all ("rekeningnya", "diproses", "ketidaknyamanan"), so a
word it does not know is tried once more through its possible roots (:func:`roots`): a form is
accepted when one of them is known. Reduplication ("kartu-kartu") is the speller's: each part.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["roots"]

_ENDINGS = ("lah", "kah", "tah", "pun", "nya", "ku", "mu")
_SUFFIXES = ("kan", "an", "i")
# A prefix and the sound it may have replaced (meN- and peN- drop p, t, k and s).
_PREFIXES = (
    ("ketidak", ""), ("memper", ""), ("diper", ""), ("meny", "s"), ("meng", "k"), ("meng", ""), ("mem", "p"),
    ("mem", ""), ("men", "t"), ("men", ""), ("me", ""), ("peny", "s"), ("peng", "k"), ("peng", ""), ("pem", "p"),
    ("pem", ""), ("pen", "t"), ("pen", ""), ("per", ""), ("pe", ""), ("ber", ""), ("be", ""), ("ter", ""),
    ("di", ""), ("ke", ""), ("se", ""),
)  # fmt: skip
_SHORTEST = 3  # letters of a root
_VOWELS = frozenset("aiueo")


def _without_endings(word: str) -> Iterator[str]:
    yield word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _SHORTEST:
            stem = word[: -len(ending)]
            yield stem
            for possessive in ("nya", "ku", "mu"):  # "rekeningnyalah": a possessive before a particle
                if stem.endswith(possessive) and len(stem) - len(possessive) >= _SHORTEST:
                    yield stem[: -len(possessive)]


def _without_suffix(word: str) -> Iterator[str]:
    yield word
    for suffix in _SUFFIXES:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= _SHORTEST and not (suffix == "i" and stem.endswith("i")):
            yield stem  # ("-i" never follows an i: "verifikasii" is no form of "verifikasi")


def _without_prefixes(word: str, depth: int = 2) -> Iterator[str]:
    yield word
    if depth == 0:
        return
    for prefix, sound in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) + len(sound) >= _SHORTEST:
            yield from _without_prefixes(sound + word[len(prefix) :], depth - 1)


def roots(word: str) -> Iterator[str]:
    """The forms ``word`` (lower case) may be built on, the word itself first; some repeat.

    Every root has a vowel ("sedng" is not se- and "dng").
    """
    for stem in _without_endings(word):
        for base in _without_suffix(stem):
            yield from (root for root in _without_prefixes(base) if _VOWELS.intersection(root))
