"""Rollup math: rates and grades derived from counted rollup rows (the store does the counting)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Counts:
    assigned: int = 0
    submitted: int = 0
    accepted: int = 0
    on_time: int = 0
    overdue: int = 0
    escalation_level: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.assigned + other.assigned,
            self.submitted + other.submitted,
            self.accepted + other.accepted,
            self.on_time + other.on_time,
            self.overdue + other.overdue,
            max(self.escalation_level, other.escalation_level),
        )


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def completion_rate(c: Counts) -> float:
    return rate(c.accepted, c.assigned)


def on_time_rate(c: Counts) -> float:
    """Share of accepted work that was submitted by its deadline."""
    return rate(c.on_time, c.accepted)


CRITICISM_LEVEL = 2  # 通报批评 in the ladders of the seeds: from this level a department is named in the 通报


def praised(c: Counts) -> bool:
    """Named for praise in a 通报: everything assigned so far accepted, and on time."""
    return c.assigned > 0 and c.on_time == c.assigned


def criticised(c: Counts) -> bool:
    """Named for criticism in a 通报: outstanding work has reached 通报批评 or beyond."""
    return c.escalation_level >= CRITICISM_LEVEL


class Grade(StrEnum):
    green = "正常"
    yellow = "滞后"
    red = "严重滞后"


def grade(c: Counts) -> Grade:
    """Traffic light for a department board: red once escalated to 通报批评 or beyond, or a third overdue."""
    if criticised(c) or (c.assigned and c.overdue / c.assigned >= 1 / 3):
        return Grade.red
    if c.overdue or c.escalation_level == 1:
        return Grade.yellow
    return Grade.green
