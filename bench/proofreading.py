"""The draft checker: precision and recall on agent drafts with marked mistakes, and its latency.

The drafts are ``bench/data/drafts_{en,id}.txt``, written for this benchmark: each mistake marked
``⟨as written|as meant⟩``. The checker was tuned while looking at them (so their figures flatter
it); ``drafts_{en,id}_heldout.txt`` were written afterwards and never used to change it. A
finding is right when it overlaps a marked mistake; a mistake is found when a finding overlaps
it; its fix is right when applying the finding's first fix gives the meant text. The baseline,
in the same run: hunspell alone, as it comes (every word its dictionary does not know, with its
default suggestions), no rules. Latency: drafts of about 100 words (the marked drafts joined in
order), each checked with no suggestion remembered, on one core.

    .venv/bin/python -m bench proofreading
"""

from __future__ import annotations

import os
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hunspell
from tqdm import tqdm

from contact_center.spelling import DICTIONARY_FILES, HunspellDictionary
from templates_responses.checks import check

DATA = Path(__file__).parent / "data"
DICTIONARIES = Path("/usr/share/hunspell")
PRODUCTS = frozenset({"bankku"})
_MARK = re.compile(r"⟨([^|⟩]*)\|([^⟩]*)⟩")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    channel: str
    mistakes: tuple[tuple[int, int, str], ...]  # span of the text as written, and what was meant

    def meant(self) -> str:
        out, at = [], 0
        for start, end, fix in self.mistakes:
            out += [self.text[at:start], fix]
            at = end
        return "".join([*out, self.text[at:]])


def drafts(language: str, part: str = "") -> list[Draft]:
    """The marked drafts of ``language``; ``part`` "heldout": those written after the checker was tuned."""
    found = []
    name = f"drafts_{language}_{part}.txt" if part else f"drafts_{language}.txt"
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        channel = "email" if line.startswith("@email ") else "chat"
        line = line.removeprefix("@email ")
        text, mistakes, at = [], [], 0
        for m in _MARK.finditer(line):
            text.append(line[at : m.start()])
            start = sum(map(len, text))
            text.append(m.group(1))
            mistakes.append((start, start + len(m.group(1)), m.group(2)))
            at = m.end()
        text.append(line[at:])
        found.append(Draft("".join(text), channel, tuple(mistakes)))
    return found


def _score(found: list[list[tuple[int, int, str]]], corpus: list[Draft]) -> dict[str, float]:
    """Precision, recall and right first fixes of ``found`` (per draft: span and first fix)."""
    right = flagged = caught = fixed = 0
    marked = sum(len(d.mistakes) for d in corpus)
    for draft, findings in zip(corpus, found, strict=True):
        flagged += len(findings)
        right += sum(any(a < fe and fs < b for a, b, _ in draft.mistakes) for fs, fe, _ in findings)
        for a, b, meant in draft.mistakes:
            over = [f for f in findings if a < f[1] and f[0] < b]
            caught += bool(over)
            if over and over[0][2]:
                fs, fe, fix = over[0]
                with_fix = draft.text[:fs] + fix + draft.text[fe:]
                fixed += with_fix == draft.text[:a] + meant + draft.text[b:]
    return {
        "drafts": len(corpus), "mistakes": marked, "findings": flagged,
        "precision": right / flagged if flagged else 1.0, "recall": caught / marked, "fixed": fixed / marked,
    }  # fmt: skip


def _ours(dictionaries: dict[str, Any], language: str) -> Any:
    def run(text: str, channel: str) -> list[tuple[int, int, str]]:
        findings = check(text, language, channel, PRODUCTS, dictionaries)
        return [(f.start, f.end, f.fixes[0] if f.fixes else "") for f in findings]

    return run


def _plain(speller: Any) -> Any:
    def run(text: str, channel: str) -> list[tuple[int, int, str]]:
        out = []
        for m in _WORD.finditer(text):
            if not speller.spell(m.group()):
                fixes = speller.suggest(m.group())
                out.append((m.start(), m.end(), fixes[0] if fixes else ""))
        return out

    return run


def _latency(checker: Any, corpus: list[Draft], forget: Any) -> dict[str, float]:
    """p50/p95 over drafts of about 100 words (with their mistakes), nothing remembered between them."""
    texts, words, current = [], 0, []
    for draft in corpus * 3:
        current.append(draft.text)
        words += len(draft.text.split())
        if words >= 100:
            texts.append(" ".join(current))
            current, words = [], 0
    times = []
    for text in texts:
        forget()
        start = time.perf_counter()
        checker(text, "chat")
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p95_ms": times[int(len(times) * 0.95)], "samples": len(times),
            "words": statistics.mean(len(t.split()) for t in texts)}  # fmt: skip


def run() -> dict[str, Any]:
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})  # one core
    try:
        ours = {lang: HunspellDictionary([DICTIONARIES / name for name, _ in files], lang)
                for lang, files in DICTIONARY_FILES.items()}  # fmt: skip
        result: dict[str, Any] = {}
        for language, ((name, _), *_) in tqdm(DICTIONARY_FILES.items(), desc="checker", unit="language"):
            corpus, heldout = drafts(language), drafts(language, "heldout")
            plain = hunspell.HunSpell(str(DICTIONARIES / f"{name}.dic"), str(DICTIONARIES / f"{name}.aff"))
            mine, baseline = _ours(ours, language), _plain(plain)
            result[language] = {
                "ours": _score([mine(d.text, d.channel) for d in corpus], corpus),
                "baseline": _score([baseline(d.text, d.channel) for d in corpus], corpus),
                "ours_heldout": _score([mine(d.text, d.channel) for d in heldout], heldout),
                "baseline_heldout": _score([baseline(d.text, d.channel) for d in heldout], heldout),
                "ours_latency": _latency(mine, corpus, lambda: [d.forget_suggestions() for d in ours.values()]),
                # the baseline's suggestions are not remembered at all
                "baseline_latency": _latency(baseline, corpus, lambda: None),
            }
    finally:
        os.sched_setaffinity(0, before)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
