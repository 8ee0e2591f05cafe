"""Reading one TOML table of ``config.toml``: each key checked as it is read, with its dotted path in every error."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from contact_center.exceptions import ConfigError
from contact_center.model import Channel

__all__ = ["CHANNELS", "Table", "default_of", "integer", "level", "number", "skills_table", "text", "text_list"]

T = TypeVar("T")
CHANNELS = tuple(channel.value for channel in Channel)


class Table:
    """One TOML table being read; remembers its dotted path for error messages."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path}: must be a table")
        self.data = data
        self.path = path
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, default: T, check: Callable[[Any], bool], want: str) -> T:
        self.seen.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        if not check(value):
            raise ConfigError(f"{self.key(name)}: must be {want}, got {value!r}")
        return value  # type: ignore[no-any-return]

    def table(self, name: str) -> Table:
        self.seen.add(name)
        return Table(self.data.get(name, {}), self.key(name))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise ConfigError(f"{self.key(unknown[0])}: unknown key")


def default_of(cls: type, name: str) -> Any:
    """The default a config dataclass gives field ``name``: each default is written once, in the dataclass."""
    f = cls.__dataclass_fields__[name]  # type: ignore[attr-defined]
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def number(minimum: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > minimum


def integer(minimum: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def text(v: Any) -> bool:
    return isinstance(v, str) and bool(v)


def text_list(v: Any) -> bool:
    return isinstance(v, list) and all(text(x) for x in v)


def level(v: Any) -> bool:
    return integer(1)(v) and v <= 5


def skills_table(table: Table, name: str) -> tuple[tuple[str, int], ...]:
    if name not in table.data:
        raise ConfigError(f"{table.key(name)}: required (a table of skill = minimum level)")
    raw: dict[str, Any] = table.get(name, {}, lambda v: isinstance(v, Mapping) and bool(v), "a non-empty table")
    for skill, value in raw.items():
        if not level(value):
            raise ConfigError(f"{table.key(name)}.{skill}: must be a level 1-5, got {value!r}")
    return tuple(raw.items())
