"""The ``[quality]`` section: the review form and the weekly sample."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contact_center.config.checks import Table, integer
from contact_center.exceptions import ConfigError
from contact_center.quality import DEFAULT_CRITERIA, Criterion, QualityForm

__all__ = ["QualityConfig", "read_quality"]


@dataclass(frozen=True, slots=True)
class QualityConfig:
    """Supervisors score finished conversations on ``form`` (``[[quality.criteria]]``: an ``id``, a ``weight``
    and a ``label`` in each language, scored 1 to ``scale``); ``sample_per_agent`` of each agent's contacts
    handled in a week are offered for review."""

    form: QualityForm = field(default_factory=QualityForm)
    sample_per_agent: int = 2


def _criterion(t: Table, languages: tuple[str, ...]) -> Criterion:
    raw: Any = t.get("id", None, lambda v: isinstance(v, str) and v.isidentifier(), "a short name like greeting")
    weight = t.get("weight", 1, lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0, "> 0")
    labels: Any = t.get("label", None, lambda v: isinstance(v, dict), "a table of a text per language")
    t.done()
    missing = [lang for lang in languages if not isinstance(labels.get(lang), str) or not labels[lang].strip()]
    if missing:
        raise ConfigError(f"{t.key('label')}: a text in {', '.join(missing)} is needed")
    return Criterion(str(raw), float(weight), {lang: str(labels[lang]) for lang in languages})


def read_quality(t: Table, languages: tuple[str, ...] = ("en", "id")) -> QualityConfig:
    d = QualityConfig()
    scale = t.get("scale", d.form.scale, lambda v: integer(2)(v) and v <= 10, "an integer 2-10")
    per_agent = t.get("sample_per_agent", d.sample_per_agent, integer(0), "an integer >= 0")
    raw: list[Any] = t.get("criteria", [], lambda v: isinstance(v, list), "an array of tables ([[quality.criteria]])")
    tables = [Table(item, f"{t.key('criteria')}[{n}]") for n, item in enumerate(raw)]
    criteria = tuple(_criterion(ct, languages) for ct in tables) or DEFAULT_CRITERIA
    t.done()
    if len({c.id for c in criteria}) != len(criteria):
        raise ConfigError("quality.criteria: each criterion needs an id of its own")
    return QualityConfig(QualityForm(criteria, scale), per_agent)
