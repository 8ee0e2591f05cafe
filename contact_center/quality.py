"""Quality monitoring: a supervisor scores a finished conversation on the configured form, the agent sees it.

A form is criteria with weights, each scored 1 to ``scale`` (5); a review's score is the weighted
mean put on 0-100 (every criterion at 1 is 0, every one at the top is 100). Each week a sample of
each agent's finished contacts is offered for review: the same sample on every node and for every
supervisor (ranked by a hash of the week, the agent and the contact), reviewed or not (it is marked).

Pure: the form, the scores and the contacts are given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_CRITERIA", "Criterion", "QualityForm", "Review", "weekly_sample"]


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    weight: float
    labels: Mapping[str, str]  # language -> what the reviewer reads

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "weight": self.weight, "labels": dict(self.labels)}


DEFAULT_CRITERIA = (
    Criterion("greeting", 1, {"en": "Greeting and name", "id": "Salam dan nama"}),
    Criterion("understanding", 2, {"en": "Understood the request", "id": "Memahami permintaan"}),
    Criterion("solution", 3, {"en": "Right and complete answer", "id": "Jawaban benar dan lengkap"}),
    Criterion("tone", 2, {"en": "Courteous, clear tone", "id": "Nada sopan dan jelas"}),
    Criterion("writing", 1, {"en": "Spelling and grammar", "id": "Ejaan dan tata bahasa"}),
    Criterion("closing", 1, {"en": "Closing and next steps", "id": "Penutup dan langkah berikutnya"}),
)


@dataclass(frozen=True, slots=True)
class QualityForm:
    criteria: tuple[Criterion, ...] = DEFAULT_CRITERIA
    scale: int = 5

    def check(self, scores: object) -> dict[str, int]:
        """Every criterion scored once, 1 to ``scale``; anything else is a ValueError naming what was wrong."""
        if not isinstance(scores, dict):
            raise ValueError("scores: an object of criterion id to a score")
        known = {c.id for c in self.criteria}
        unknown = sorted(set(scores) - known)
        if unknown:
            raise ValueError(f"scores: no criterion {unknown[0]!r} on the form")
        out = {}
        for c in self.criteria:
            value = scores.get(c.id)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= self.scale:
                raise ValueError(f"scores.{c.id}: a whole number from 1 to {self.scale}, got {value!r}")
            out[c.id] = value
        return out

    def score(self, scores: Mapping[str, int]) -> float:
        """The weighted mean on 0-100."""
        total = sum(c.weight for c in self.criteria)
        mean = sum(c.weight * (scores[c.id] - 1) for c in self.criteria) / total
        return round(100 * mean / (self.scale - 1), 1)

    def to_json(self) -> dict[str, Any]:
        return {"scale": self.scale, "criteria": [c.to_json() for c in self.criteria]}


@dataclass(frozen=True, slots=True)
class Review:
    """One review of one contact (a contact has at most one: a new one replaces it)."""

    contact_id: str
    agent_id: str
    reviewer_id: str
    at: float
    channel: str
    scores: dict[str, int]
    score: float
    comment: str = ""
    reviewer_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id, "agent_id": self.agent_id, "reviewer_id": self.reviewer_id,
            "reviewer_name": self.reviewer_name, "at": self.at, "channel": self.channel, "scores": self.scores,
            "score": self.score, "comment": self.comment,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Review:
        return cls(
            d["contact_id"], d["agent_id"], d["reviewer_id"], float(d["at"]), d.get("channel", ""),
            {k: int(v) for k, v in d["scores"].items()}, float(d["score"]), d.get("comment", ""),
            d.get("reviewer_name", ""),
        )  # fmt: skip


def _rank(week: str, agent_id: str, contact_id: str) -> str:
    return hashlib.sha256(f"{week}|{agent_id}|{contact_id}".encode()).hexdigest()


def weekly_sample(week: str, handled: Iterable[tuple[str, str]], per_agent: int) -> dict[str, list[str]]:
    """``per_agent`` contacts of each agent's ``handled`` (contact id, agent id), the same all week.

    ``week`` names the week (its Monday); a contact handled later in the week may take a place in the sample
    only by ranking before those in it, so what was offered stays offered (reviewed or not).
    """
    by_agent: dict[str, list[str]] = {}
    for contact_id, agent_id in handled:
        if agent_id:
            by_agent.setdefault(agent_id, []).append(contact_id)
    return {
        agent: sorted(ids, key=lambda cid, a=agent: _rank(week, a, cid))[:per_agent]  # type: ignore[misc]
        for agent, ids in sorted(by_agent.items())
    }
