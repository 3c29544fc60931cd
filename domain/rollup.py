"""Rollup math: rates and grades derived from counted rollup rows (the store does the counting).
The grade itself is domain.grading's one rule; `grade(Counts)` reads it from a rollup row."""

from __future__ import annotations

from dataclasses import dataclass

from domain import grading
from domain.grading import CRITICISM_LEVEL, Grade

__all__ = ["CRITICISM_LEVEL", "Counts", "Grade", "completion_rate", "criticised", "grade", "on_time_rate", "praised"]


@dataclass(frozen=True, slots=True)
class Counts:
    assigned: int = 0
    submitted: int = 0
    accepted: int = 0
    on_time: int = 0
    overdue: int = 0
    escalation_level: int = 0
    due: int = 0  # assigned work whose deadline has come by the rollup's day

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.assigned + other.assigned,
            self.submitted + other.submitted,
            self.accepted + other.accepted,
            self.on_time + other.on_time,
            self.overdue + other.overdue,
            max(self.escalation_level, other.escalation_level),
            self.due + other.due,
        )


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def completion_rate(c: Counts) -> float:
    return rate(c.accepted, c.assigned)


def on_time_rate(c: Counts) -> float:
    """Share of accepted work that was submitted by its deadline."""
    return rate(c.on_time, c.accepted)


def praised(c: Counts) -> bool:
    """Named for praise in a 通报: everything assigned so far accepted, and on time."""
    return c.assigned > 0 and c.on_time == c.assigned


def criticised(c: Counts) -> bool:
    """Named for criticism in a 通报: outstanding work has reached 通报批评 or beyond."""
    return grading.criticised(c.escalation_level)


def grade(c: Counts) -> Grade:
    """The grade of a rollup row: domain.grading's one rule."""
    return grading.grade(grading.Standing(c.assigned, c.due, c.overdue, c.escalation_level))
