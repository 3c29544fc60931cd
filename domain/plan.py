"""Expand a campaign spec into the dated assignments it implies, working-day adjusted.

The plan is the single source for `campaign plan`, for launch (which stores it) and for applying a
changed YAML to a live campaign (which diffs it against the store).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.calendar import WorkingCalendar
from domain.spec import (
    Anchor,
    Assignees,
    CampaignSpec,
    Deliverable,
    Phase,
    RecurringReport,
    RelativeDue,
    TaskTemplate,
)

ONE_OFF = ""  # period of a task that happens once


@dataclass(frozen=True, slots=True)
class PlannedTemplate:
    key: str
    phase_key: str | None  # None for recurring reports (each occurrence picks its phase)
    title: str
    deliverable: Deliverable
    review_required: bool
    recurring_day: int | None


@dataclass(frozen=True, slots=True)
class PlannedAssignment:
    template_key: str
    department_code: str
    period: str  # "" for one-off tasks, "2020-06" for a monthly report
    phase_key: str
    is_lead: bool
    opens_on: dt.date
    due_on: dt.date  # the binding deadline, rolled to a working day
    nominal_due_on: dt.date  # what the document says
    review_required: bool

    @property
    def natural_key(self) -> tuple[str, str, str]:
        return (self.template_key, self.department_code, self.period)


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    templates: tuple[PlannedTemplate, ...]
    assignments: tuple[PlannedAssignment, ...]


def build_calendar(spec: CampaignSpec, base: WorkingCalendar) -> WorkingCalendar:
    return base.with_overrides(
        {h.date: h.name for h in spec.calendar.extra_holidays},
        spec.calendar.extra_workdays,
        spec.calendar.declared_years,
    )


def resolve_due(task: TaskTemplate, phase: Phase, spec: CampaignSpec, cal: WorkingCalendar) -> tuple[dt.date, dt.date]:
    """(binding due date, nominal due date). A deadline on a holiday moves to the next working day
    (期间届满的最后一日为法定节假日的，以节假日后的第一日为届满日)."""
    if isinstance(task.due, RelativeDue):
        anchor = task.due.working_days_after
        base = {
            Anchor.campaign_start: spec.start,
            Anchor.phase_start: phase.start,
            Anchor.phase_end: phase.end,
        }.get(anchor, anchor)  # type: ignore[arg-type]
        due = cal.add_workdays(base, task.due.days)
        return due, due
    return cal.next_workday(task.due), task.due


def _phase_for_day(spec: CampaignSpec, day: dt.date) -> Phase:
    running = [p for p in spec.phases if p.start <= day <= p.end]
    if running:
        return max(running, key=lambda p: p.start)  # the most specific (latest started) phase
    started = [p for p in spec.phases if p.start <= day]
    return max(started, key=lambda p: p.start) if started else spec.phases[0]


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, cursor = [], first.replace(day=1)
    while cursor <= last:
        months.append(cursor)
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    return months


def _assignees(spec: CampaignSpec, rule: Assignees) -> list[tuple[str, bool]]:
    codes = spec.resolve(rule)
    lead = rule.lead or (codes[0] if len(codes) == 1 else None)
    return [(code, code == lead) for code in codes]


def _recurring(spec: CampaignSpec, report: RecurringReport, cal: WorkingCalendar) -> list[PlannedAssignment]:
    out: list[PlannedAssignment] = []
    first = report.first_month or spec.start
    last = report.last_month or spec.end
    for month in _months(first, last):
        nominal = month.replace(day=report.day_of_month)
        if nominal < spec.start or nominal > spec.end:
            continue
        due = cal.next_workday(nominal)
        phase_key = report.phase or _phase_for_day(spec, nominal).key
        opens = max(month, spec.start)
        for code, is_lead in _assignees(spec, report.assignees):
            out.append(
                PlannedAssignment(
                    template_key=report.key,
                    department_code=code,
                    period=month.strftime("%Y-%m"),
                    phase_key=phase_key,
                    is_lead=is_lead,
                    opens_on=opens,
                    due_on=due,
                    nominal_due_on=nominal,
                    review_required=report.review_required,
                )
            )
    return out


def build_plan(spec: CampaignSpec, cal: WorkingCalendar) -> CampaignPlan:
    templates: list[PlannedTemplate] = []
    assignments: list[PlannedAssignment] = []
    for phase in spec.phases:
        for task in phase.tasks:
            templates.append(
                PlannedTemplate(task.key, phase.key, task.title, task.deliverable, task.review_required, None)
            )
            due, nominal = resolve_due(task, phase, spec, cal)
            for code, is_lead in _assignees(spec, task.assignees):
                assignments.append(
                    PlannedAssignment(
                        template_key=task.key,
                        department_code=code,
                        period=ONE_OFF,
                        phase_key=phase.key,
                        is_lead=is_lead,
                        opens_on=phase.start,
                        due_on=due,
                        nominal_due_on=nominal,
                        review_required=task.review_required,
                    )
                )
    for report in spec.recurring_reports:
        templates.append(
            PlannedTemplate(
                report.key, None, report.title, report.deliverable, report.review_required, report.day_of_month
            )
        )
        assignments.extend(_recurring(spec, report, cal))
    assignments.sort(key=lambda a: (a.due_on, a.template_key, a.department_code, a.period))
    return CampaignPlan(tuple(templates), tuple(assignments))


@dataclass(frozen=True, slots=True)
class PlanChange:
    added: tuple[PlannedAssignment, ...]
    removed: tuple[tuple[str, str, str], ...]
    moved: tuple[tuple[tuple[str, str, str], dt.date, dt.date], ...]  # key, old due, new due

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.moved)


def diff_plan(stored: dict[tuple[str, str, str], dt.date], plan: CampaignPlan) -> PlanChange:
    """What applying `plan` to a campaign whose live assignments are `stored` (key -> due) changes."""
    planned = {a.natural_key: a for a in plan.assignments}
    added = tuple(a for k, a in planned.items() if k not in stored)
    removed = tuple(sorted(k for k in stored if k not in planned))
    moved = tuple(sorted((k, stored[k], a.due_on) for k, a in planned.items() if k in stored and stored[k] != a.due_on))
    return PlanChange(added, removed, moved)
