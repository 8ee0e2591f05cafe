"""The built pages: the widget stays small, and every text exists in every language."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from contact_center.web.pages import BUILD

UI = Path(__file__).parents[3] / "contact_center" / "web" / "ui"
LOCALES = sorted((UI / "locales").glob("*.json"))


def test_the_widget_with_its_dependencies_is_at_most_40_kb_gzipped():
    size = len(gzip.compress((BUILD / "widget.js").read_bytes(), compresslevel=9))
    assert size <= 40 * 1024, f"widget.js is {size / 1024:.1f} KB gzipped"


def test_every_language_has_every_text_and_names_the_same_values():
    tables = {path.stem: json.loads(path.read_text()) for path in LOCALES}
    assert set(tables) >= {"en", "id"}
    english = tables["en"]
    for language, table in tables.items():
        assert set(table) == set(english), f"{language}: {sorted(set(table) ^ set(english))}"
        for key, text in table.items():
            forms = text.values() if isinstance(text, dict) else [text]
            assert all(isinstance(f, str) and f.strip() for f in forms), f"{language}: {key} is empty"
            if isinstance(text, dict):
                assert "other" in text, f"{language}: {key} has no 'other' form"
            values = {v for f in forms for v in re.findall(r"\{(\w+)\}", f)}
            english_forms = english[key].values() if isinstance(english[key], dict) else [english[key]]
            assert values == {v for f in english_forms for v in re.findall(r"\{(\w+)\}", f)}, f"{language}: {key}"


def test_every_text_the_pages_ask_for_is_in_the_translations():
    english = json.loads((UI / "locales" / "en.json").read_text())
    asked: set[str] = set()
    for source in (p for p in UI.rglob("*.js*") if p.name != "i18n.js"):  # i18n.js defines t
        asked |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", source.read_text()))
    assert asked, "no t(...) call found"
    assert sorted(asked - set(english)) == []
