"""Deadline rules: how overdue a deadline is on a day, which reminder and escalation it triggers.

Everything is computed per distinct due date, so the store can apply it to all assignments sharing
that date in one set-based statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.calendar import WorkingCalendar
from domain.spec import EscalationLevel, ReminderPolicy


@dataclass(frozen=True, slots=True)
class DeadlineStanding:
    due_on: dt.date
    working_days_left: int  # > 0 before the deadline, 0 on the day
    overdue_working_days: int  # > 0 once past the deadline

    @property
    def overdue(self) -> bool:
        return self.overdue_working_days > 0


def standing(due_on: dt.date, as_of: dt.date, cal: WorkingCalendar) -> DeadlineStanding:
    if as_of <= due_on:
        return DeadlineStanding(due_on, cal.workdays_between(as_of, due_on), 0)
    # Past the due date: count working days after it. A deadline is overdue from the next day
    # even when that day is a holiday, but it only grows on working days; at least 1 once passed.
    return DeadlineStanding(due_on, 0, max(1, cal.workdays_between(due_on, as_of)))


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: str  # before / due / overdue
    key: str  # natural key part, unique per assignment: "before3@2020-06-22"

    @property
    def label(self) -> str:
        return {"before": "临期提醒", "due": "到期提醒", "overdue": "逾期催办"}[self.kind]


def reminder_due(due_on: dt.date, as_of: dt.date, policy: ReminderPolicy, cal: WorkingCalendar) -> Reminder | None:
    """The reminder that falls on `as_of` for an unfinished assignment due on `due_on`, if any.

    Reminders only go out on working days, so a holiday never triggers one; the key carries the due
    date so moving a deadline re-arms its reminders instead of silencing them.
    """
    if not cal.is_workday(as_of):
        return None
    s = standing(due_on, as_of, cal)
    if as_of == due_on:
        return Reminder("due", f"due@{due_on}") if policy.on_due_day else None
    if not s.overdue:
        if s.working_days_left in policy.before_due_working_days:
            return Reminder("before", f"before{s.working_days_left}@{due_on}")
        return None
    if s.overdue_working_days % policy.overdue_every_working_days == 0:
        return Reminder("overdue", f"overdue{s.overdue_working_days}@{due_on}")
    return None


def escalation_level(overdue_working_days: int, ladder: tuple[EscalationLevel, ...]) -> EscalationLevel | None:
    """The highest rung reached; rungs are cumulative, so reaching 约谈 implies 预警 and 通报批评 happened."""
    reached = [rung for rung in ladder if overdue_working_days >= rung.after_overdue_working_days]
    return reached[-1] if reached else None


def rungs_reached(overdue_working_days: int, ladder: tuple[EscalationLevel, ...]) -> tuple[EscalationLevel, ...]:
    return tuple(rung for rung in ladder if overdue_working_days >= rung.after_overdue_working_days)


def on_time(submitted_local_day: dt.date, due_on: dt.date) -> bool:
    return submitted_local_day <= due_on
