"""Pre-written replies: what one is, and its text for a customer, in their language.

A reply's body is written once per language. In it:

- ``{{variable}}`` or ``{{variable|fallback}}`` is filled by the engine from what it knows
  (:data:`VARIABLES`: the customer's name, the agent's, the ticket, ...). With no value, the
  fallback is used (``{{x|}}``: nothing); with no fallback either, the variable is left for the
  agent to fill.
- ``[[what to fill]]`` is a placeholder only the agent can fill (an amount, a date the customer
  asked about): the desk asks for it before the reply can go out.

Nothing here reads a file or a clock: values come in, text goes out (:func:`render`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["VARIABLES", "Filled", "Reply", "Token", "render", "tokens"]

# What the engine can fill, with what each means (the library's documentation lists the same).
VARIABLES: Mapping[str, str] = {
    "customer_name": "the customer's name, as the engine knows it",
    "agent_name": "the name of the agent who sends the reply",
    "ticket": "the contact's ticket (an email's)",
    "answer_by": "when the promise says an email is answered, in the office's time zone",
    "office_hours": "the office's working hours, as the calendar has them",
    "opens_at": "when the office opens next, in the office's time zone",
    "company": "the company's name (config)",
}

# One token of a body: a variable, a placeholder, or something that looks like one and is broken.
_TOKEN = re.compile(r"\{\{(?P<var>[^{}]*)\}\}|\[\[(?P<slot>[^\[\]]*)\]\]|(?P<open>\{\{|\[\[)|(?P<close>\}\}|\]\])")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Token:
    """A variable (``kind`` "variable", with ``name`` and ``fallback``), a placeholder ("placeholder",
    ``name`` is what to fill), or a broken one ("broken", ``name`` says what is wrong); at ``start`` in the text."""

    kind: str
    name: str
    fallback: str | None
    start: int
    end: int


def tokens(body: str) -> list[Token]:
    """Every variable and placeholder in ``body``, in order, and what looks like one but is broken."""
    found = []
    for m in _TOKEN.finditer(body):
        if m.group("var") is not None:
            name, bar, fallback = m.group("var").partition("|")
            name = name.strip()
            if not _NAME.match(name):
                found.append(
                    Token("broken", f"variable {name!r} is not a name (a-z, 0-9, _)", None, m.start(), m.end())
                )
            else:
                found.append(Token("variable", name, fallback.strip() if bar else None, m.start(), m.end()))
        elif m.group("slot") is not None:
            label = " ".join(m.group("slot").split())
            if not label:
                found.append(Token("broken", "a placeholder [[...]] must say what to fill", None, m.start(), m.end()))
            else:
                found.append(Token("placeholder", label, None, m.start(), m.end()))
        else:
            mark = m.group("open") or m.group("close")
            found.append(Token("broken", f"{mark!r} is not closed or not opened", None, m.start(), m.end()))
    return found


@dataclass(frozen=True, slots=True)
class Reply:
    """One pre-written reply of the library.

    ``skills`` are who may use it: an agent with any of them (none: everyone). ``examples`` are
    customer messages it answers, in any language, which suggestions learn from. ``owner`` is
    the agent whose personal reply it is (None: the team's).
    """

    id: str
    title: str
    code: str
    bodies: Mapping[str, str]
    tags: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    owner: str | None = None

    def may_use(self, agent_id: str, agent_skills: Mapping[str, int]) -> bool:
        if self.owner is not None:
            return self.owner == agent_id
        return not self.skills or any(agent_skills.get(s, 0) > 0 for s in self.skills)

    def body(self, language: str, fallback_language: str = "en") -> str:
        """The body in ``language``, or in ``fallback_language`` when it has none (a library checks it has all)."""
        return self.bodies.get(language) or self.bodies.get(fallback_language) or next(iter(self.bodies.values()))


@dataclass(frozen=True, slots=True)
class Filled:
    """A reply's text for one customer: what is left for the agent to fill (placeholders, and variables
    with neither a value nor a fallback), in order, each once."""

    text: str
    to_fill: tuple[str, ...] = field(default=())


def render(body: str, values: Mapping[str, str]) -> Filled:
    """``body`` with its variables filled from ``values`` (or their fallbacks); placeholders are kept.

    A variable with no value and no fallback is turned into a placeholder named after it, so the
    agent is asked for it like for any other.
    """
    out: list[str] = []
    to_fill: dict[str, None] = {}
    at = 0
    for token in tokens(body):
        out.append(body[at : token.start])
        at = token.end
        if token.kind == "variable":
            value = values.get(token.name) or token.fallback  # an empty fallback ({{x|}}) stands for nothing
            if value or token.fallback is not None:
                out.append(value or "")
                continue
            label = token.name.replace("_", " ")
            out.append(f"[[{label}]]")
            to_fill[label] = None
        elif token.kind == "placeholder":
            out.append(body[token.start : token.end])
            to_fill[token.name] = None
        else:
            out.append(body[token.start : token.end])
    out.append(body[at:])
    return Filled("".join(out), tuple(to_fill))
