"""The built pages: the widget stays small, and every text exists in every language."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from contact_center.web.pages import BUILD

UI = Path(__file__).parents[3] / "contact_center" / "web" / "ui"
PARTS = ("common", "widget", "desk")  # each page bundles its own texts and the common ones


def table(part: str, language: str) -> dict[str, object]:
    return dict(json.loads((UI / "locales" / part / f"{language}.json").read_text()))


def test_the_widget_with_its_dependencies_is_at_most_40_kb_gzipped():
    size = len(gzip.compress((BUILD / "widget.js").read_bytes(), compresslevel=9))
    assert size <= 40 * 1024, f"widget.js is {size / 1024:.1f} KB gzipped"


@pytest.mark.parametrize("part", PARTS)
def test_every_language_has_every_text_and_names_the_same_values(part: str):
    english = table(part, "en")
    for language in ("en", "id"):
        texts = table(part, language)
        assert set(texts) == set(english), f"{language}: {sorted(set(texts) ^ set(english))}"
        for key, text in texts.items():
            forms = text.values() if isinstance(text, dict) else [text]
            assert all(isinstance(f, str) and f.strip() for f in forms), f"{language}: {key} is empty"
            if isinstance(text, dict):
                assert "other" in text, f"{language}: {key} has no 'other' form"
            values = {v for f in forms for v in re.findall(r"\{(\w+)\}", f)}
            english_forms = english[key].values() if isinstance(english[key], dict) else [english[key]]
            assert values == {v for f in english_forms for v in re.findall(r"\{(\w+)\}", f)}, f"{language}: {key}"


@pytest.mark.parametrize("page", ["widget", "desk"])
def test_every_text_a_page_asks_for_is_in_its_translations(page: str):
    known = {**table("common", "en"), **table(page, "en")}
    asked: set[str] = set()
    for source in (UI / page).rglob("*.js*"):
        asked |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", source.read_text()))
    assert asked, "no t(...) call found"
    assert sorted(asked - set(known)) == []
