"""The one mechanism behind every entity's vocabulary: an enum, its Chinese labels, the words an
import may use for it, and the legal moves between its values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

E = TypeVar("E", bound=StrEnum)


class Vocabulary(Generic[E]):
    """Labels, aliases and transitions of one StrEnum.

    `parse` accepts the stored value, the Chinese label or a listed alias (imports, CLI);
    `allows(a, b)` says whether a record may move from a to b (pure, tested once)."""

    def __init__(
        self,
        enum: type[E],
        labels: Mapping[E, str],
        *,
        aliases: Mapping[str, E] | None = None,
        transitions: Mapping[E, Iterable[E]] | None = None,
    ) -> None:
        missing = [m.value for m in enum if m not in labels]
        if missing:
            raise ValueError(f"{enum.__name__}: no label for {missing}")
        self.enum = enum
        self.labels: dict[E, str] = dict(labels)
        self.transitions: dict[E, frozenset[E]] = {m: frozenset((transitions or {}).get(m, ())) for m in enum}
        self._lookup: dict[str, E] = {}
        for member in enum:
            self._lookup[member.value] = member
            self._lookup[member.name] = member
            self._lookup[self.labels[member]] = member
        for word, member in (aliases or {}).items():
            self._lookup.setdefault(word, member)

    def label(self, value: str | E | None) -> str:
        """The Chinese label of a stored value (an unknown value reads as itself, never a crash)."""
        if value is None:
            return ""
        try:
            return self.labels[self.enum(value)]
        except ValueError:
            return str(value)

    def parse(self, text: str) -> E | None:
        """The member named by a value, a label or an alias; None when the word is not known."""
        return self._lookup.get(text.strip())

    def choices(self) -> list[E]:
        return list(self.enum)

    def choice_labels(self) -> list[str]:
        return [self.labels[m] for m in self.enum]

    def allows(self, source: str | E, target: str | E) -> bool:
        return self.enum(target) in self.transitions[self.enum(source)]

    def sources_of(self, target: str | E) -> tuple[str, ...]:
        """The stored values from which `target` may be reached (for WHERE status IN (...))."""
        wanted = self.enum(target)
        return tuple(m.value for m in self.enum if wanted in self.transitions[m])
