"""Expand a campaign spec into the dated assignments it implies, working-day adjusted.

The plan is the single source for `campaign plan`, for launch (which stores it) and for applying a
changed YAML to a live campaign (which diffs it against the store).

Beyond one dated deliverable per task and department, the plan says (issue 16):
- counted tasks (`count: N`): N assignments per department, periods `batch-01` … `batch-NN`, each due on its own
  batch date or the task's `due`; progress is how many of them are handed in (1/2, 2/2), and overdue and reminders
  apply to each missing batch exactly as to any assignment;
- ongoing duties (`due: ongoing`): `ongoing=True`, `due_on` is the end of their phase (how long they last, not a
  deadline): they are never overdue and never reminded, and their progress is the recurring reports in
  `PlannedTemplate.reported_in`;
- recurring reports every week, month, quarter or year: periods `2025-W27`, `2020-06`, `2025-Q3`, `2025`;
- where departments may add 自选事项 (`CampaignPlan.optional_items`) and what an added item must respect
  (`optional_item_refusal`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.calendar import WorkingCalendar
from domain.spec import (
    DELIVERABLE_LABELS,
    INSTRUCTION_TEMPLATE_KEY,
    MEETING_DECISION_PREFIX,
    ONGOING,
    OPTIONAL_ITEM_PREFIX,
    SAMPLE_TEMPLATE_KEY,
    Anchor,
    Assignees,
    CalendarOverrides,
    CampaignSpec,
    Deliverable,
    Period,
    Phase,
    RecurringReport,
    RelativeDue,
    TaskTemplate,
    period_bounds,
)

ONE_OFF = ""  # period of a task that happens once
BATCH_PREFIX = "batch-"  # period of one delivery of a counted task: batch-01, batch-02, …


def batch_period(number: int) -> str:
    """The period of the `number`-th (1-based) delivery of a counted task; sorts in batch order."""
    return f"{BATCH_PREFIX}{number:02d}"


def period_label(period: str) -> str:
    """How a period reads to a user: 2020年6月, 2025年第27周, 2025年第3季度, 2025年度, 第1批; a project code as is."""
    if period.startswith(BATCH_PREFIX) and period[len(BATCH_PREFIX) :].isdigit():
        return f"第{int(period[len(BATCH_PREFIX) :])}批"
    year, _, rest = period.partition("-")
    if not year.isdigit() or len(year) != 4:
        return period
    if not rest:
        return f"{year}年度"
    if rest.startswith("W") and rest[1:].isdigit():
        return f"{year}年第{int(rest[1:])}周"
    if rest.startswith("Q") and rest[1:].isdigit():
        return f"{year}年第{int(rest[1:])}季度"
    if rest.isdigit():
        return f"{year}年{int(rest)}月"
    return period


@dataclass(frozen=True, slots=True)
class PlannedTemplate:
    key: str
    phase_key: str | None  # None for recurring reports (each occurrence picks its phase)
    title: str
    deliverable: Deliverable
    review_required: bool
    recurring_day: int | None  # a recurring report's day_of_month, or its weekday when `every` is week
    every: Period | None = None  # how often a recurring report is due; None for phase tasks
    count: int = 1  # deliveries each department owes (one assignment per batch when more than one)
    ongoing: bool = False  # 持续推进: no single deadline
    reported_in: tuple[str, ...] = ()  # the recurring reports an ongoing duty is reported through


@dataclass(frozen=True, slots=True)
class PlannedAssignment:
    template_key: str
    department_code: str
    period: str  # "" for one-off tasks, "2020-06" for a monthly report
    phase_key: str
    is_lead: bool
    opens_on: dt.date
    due_on: dt.date  # the binding deadline, rolled to a working day; for an ongoing duty the end of its phase
    nominal_due_on: dt.date  # what the document says
    review_required: bool
    batch: int | None = None  # 1..count for one delivery of a counted task
    ongoing: bool = False  # never overdue, never reminded: `due_on` is how long it lasts, not a deadline

    @property
    def natural_key(self) -> tuple[str, str, str]:
        return (self.template_key, self.department_code, self.period)


@dataclass(frozen=True, slots=True)
class OptionalItemWindow:
    """Where departments may add 自选事项: to this phase, with a due date inside it, up to a number each."""

    phase_key: str
    opens_on: dt.date
    closes_on: dt.date
    department_codes: tuple[str, ...]
    max_per_department: int
    deliverables: tuple[Deliverable, ...]  # empty: any
    note: str | None


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    templates: tuple[PlannedTemplate, ...]
    assignments: tuple[PlannedAssignment, ...]
    optional_items: tuple[OptionalItemWindow, ...] = ()

    def template(self, key: str) -> PlannedTemplate:
        return next(t for t in self.templates if t.key == key)


def build_calendar(overrides: CalendarOverrides, base: WorkingCalendar) -> WorkingCalendar:
    """The statutory calendar with a campaign's own holidays, working days and declared years."""
    return base.with_overrides(
        {h.date: h.name for h in overrides.extra_holidays},
        overrides.extra_workdays,
        overrides.declared_years,
    )


def resolve_due(task: TaskTemplate, phase: Phase, spec: CampaignSpec, cal: WorkingCalendar) -> tuple[dt.date, dt.date]:
    """(binding due date, nominal due date). A deadline on a holiday moves to the next working day
    (期间届满的最后一日为法定节假日的，以节假日后的第一日为届满日). An ongoing duty lasts to its phase's end."""
    if task.due == ONGOING:
        return phase.end, phase.end
    if isinstance(task.due, RelativeDue):
        anchor = task.due.working_days_after
        base = {
            Anchor.campaign_start: spec.start,
            Anchor.phase_start: phase.start,
            Anchor.phase_end: phase.end,
        }.get(anchor, anchor)  # type: ignore[arg-type]
        due = cal.add_workdays(base, task.due.days)
        return due, due
    assert isinstance(task.due, dt.date)
    return cal.next_workday(task.due), task.due


def resolve_batches(
    task: TaskTemplate, phase: Phase, spec: CampaignSpec, cal: WorkingCalendar
) -> list[tuple[dt.date, dt.date, bool]]:
    """(binding, nominal, ongoing) for each delivery a department owes: its batch date if the YAML gives one,
    else the task's own due (so with `due: ongoing` an undated batch has no deadline either)."""
    due, nominal = resolve_due(task, phase, spec, cal)
    out = []
    for number in range(1, task.count + 1):
        if number <= len(task.batches):
            batch = task.batches[number - 1]
            out.append((cal.next_workday(batch), batch, False))
        else:
            out.append((due, nominal, task.ongoing))
    return out


def _phase_for_day(spec: CampaignSpec, day: dt.date) -> Phase:
    running = [p for p in spec.phases if p.start <= day <= p.end]
    if running:
        return max(running, key=lambda p: p.start)  # the most specific (latest started) phase
    started = [p for p in spec.phases if p.start <= day]
    return max(started, key=lambda p: p.start) if started else spec.phases[0]


def _period_key(every: Period, start: dt.date) -> str:
    if every is Period.week:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if every is Period.month:
        return start.strftime("%Y-%m")
    if every is Period.quarter:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _nominal_due(report: RecurringReport, start: dt.date, end: dt.date) -> dt.date:
    """Weeks: the weekday of the week; months: the day of the month; quarters and years: the day of the month
    after the period ends (季度报告次月10日前)."""
    if report.every is Period.week:
        assert report.weekday is not None  # the spec demands it for weeks
        return start + dt.timedelta(days=report.weekday - 1)
    assert report.day_of_month is not None  # the spec demands it for the other periods
    if report.every is Period.month:
        return start.replace(day=report.day_of_month)
    return (end + dt.timedelta(days=1)).replace(day=report.day_of_month)


def report_periods(spec: CampaignSpec, report: RecurringReport) -> list[tuple[str, dt.date, dt.date]]:
    """(period, opens on, nominal due) of each occurrence: every period from the first to the last whose due
    date falls inside the campaign; a period's report opens when the period (or the campaign) starts."""
    out: list[tuple[str, dt.date, dt.date]] = []
    cursor, _ = period_bounds(report.every, report.first_month or spec.start)
    last, _ = period_bounds(report.every, report.last_month or spec.end)
    while cursor <= last:
        start, end = period_bounds(report.every, cursor)
        nominal = _nominal_due(report, start, end)
        if spec.start <= nominal <= spec.end:
            out.append((_period_key(report.every, start), max(start, spec.start), nominal))
        cursor = end + dt.timedelta(days=1)
    return out


def plan_size(spec: CampaignSpec) -> int:
    """How many assignments launch creates, without a calendar (what the loader bounds)."""
    tasks = sum(len(spec.resolve(t.assignees)) * t.count for p in spec.phases for t in p.tasks)
    reports = sum(len(report_periods(spec, r)) * len(spec.resolve(r.assignees)) for r in spec.recurring_reports)
    return tasks + reports


def _assignees(spec: CampaignSpec, rule: Assignees) -> list[tuple[str, bool]]:
    codes = spec.resolve(rule)
    lead = rule.lead or (codes[0] if len(codes) == 1 else None)
    return [(code, code == lead) for code in codes]


def _recurring(spec: CampaignSpec, report: RecurringReport, cal: WorkingCalendar) -> list[PlannedAssignment]:
    out: list[PlannedAssignment] = []
    for period, opens, nominal in report_periods(spec, report):
        due = cal.next_workday(nominal)
        phase_key = report.phase or _phase_for_day(spec, nominal).key
        for code, is_lead in _assignees(spec, report.assignees):
            out.append(
                PlannedAssignment(
                    template_key=report.key,
                    department_code=code,
                    period=period,
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
                PlannedTemplate(
                    task.key,
                    phase.key,
                    task.title,
                    task.deliverable,
                    task.review_required,
                    None,
                    count=task.count,
                    ongoing=task.ongoing,
                    reported_in=task.reported_in,
                )
            )
            assignments.extend(_phase_task(spec, phase, task, cal))
    for report in spec.recurring_reports:
        templates.append(
            PlannedTemplate(
                report.key,
                None,
                report.title,
                report.deliverable,
                report.review_required,
                report.day_of_month if report.every is not Period.week else report.weekday,
                every=report.every,
            )
        )
        assignments.extend(_recurring(spec, report, cal))
    assignments.sort(key=lambda a: (a.due_on, a.template_key, a.department_code, a.period))
    return CampaignPlan(tuple(templates), tuple(assignments), _optional_windows(spec))


def _phase_task(spec: CampaignSpec, phase: Phase, task: TaskTemplate, cal: WorkingCalendar) -> list[PlannedAssignment]:
    deliveries: list[tuple[str, int | None, dt.date, dt.date, bool]]
    if task.count == 1:
        due, nominal = resolve_due(task, phase, spec, cal)
        deliveries = [(ONE_OFF, None, due, nominal, task.ongoing)]
    else:
        deliveries = [
            (batch_period(number), number, due, nominal, ongoing)
            for number, (due, nominal, ongoing) in enumerate(resolve_batches(task, phase, spec, cal), 1)
        ]
    return [
        PlannedAssignment(
            template_key=task.key,
            department_code=code,
            period=period,
            phase_key=phase.key,
            is_lead=is_lead,
            opens_on=phase.start,
            due_on=due,
            nominal_due_on=nominal,
            review_required=task.review_required,
            batch=batch,
            ongoing=ongoing,
        )
        for code, is_lead in _assignees(spec, task.assignees)
        for period, batch, due, nominal, ongoing in deliveries
    ]


def _optional_windows(spec: CampaignSpec) -> tuple[OptionalItemWindow, ...]:
    return tuple(
        OptionalItemWindow(
            phase_key=phase.key,
            opens_on=phase.start,
            closes_on=phase.end,
            department_codes=spec.resolve(phase.optional_items.assignees or Assignees(all_members=True)),
            max_per_department=phase.optional_items.max_per_department,
            deliverables=phase.optional_items.deliverables,
            note=phase.optional_items.note,
        )
        for phase in spec.phases
        if phase.optional_items is not None
    )


def optional_item_key(number: int) -> str:
    """The template key of the `number`-th 自选事项 added in a campaign; never the key of a YAML task."""
    return f"{OPTIONAL_ITEM_PREFIX}{number}"


def optional_item_refusal(
    plan: CampaignPlan,
    *,
    phase_key: str,
    department_code: str,
    deliverable: Deliverable,
    due_on: dt.date,
    already_added: int,
) -> str | None:
    """Why a department may not add this 自选事项 (a sentence for the user), or None when it may.

    Replacing or cancelling a mandatory item is a different refusal the services make: an added item gets its
    own key (`optional_item_key`) and never touches the plan's assignments."""
    window = next((w for w in plan.optional_items if w.phase_key == phase_key), None)
    if window is None:
        return f"阶段 {phase_key} 不允许添加自选事项"
    if department_code not in window.department_codes:
        return f"本单位不在阶段 {phase_key} 可添加自选事项的单位之中"
    if not window.opens_on <= due_on <= window.closes_on:
        return f"自选事项的截止日期 {due_on} 须在本阶段 {window.opens_on}～{window.closes_on} 之内"
    if window.deliverables and deliverable not in window.deliverables:
        allowed = "、".join(DELIVERABLE_LABELS[d] for d in window.deliverables)
        return f"本阶段的自选事项只能以{allowed}报送"
    if already_added >= window.max_per_department:
        return f"本阶段每个单位最多添加 {window.max_per_department} 项自选事项，已添加 {already_added} 项"
    return None


@dataclass(frozen=True, slots=True)
class PlanChange:
    added: tuple[PlannedAssignment, ...]
    removed: tuple[tuple[str, str, str], ...]
    moved: tuple[tuple[tuple[str, str, str], dt.date, dt.date], ...]  # key, old due, new due

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.moved)


def from_the_yaml(template_key: str) -> bool:
    """Whether assignments of this template come from the YAML: not the tick's verification samples, not a
    department's 自选事项, not a meeting decision's. Only these may a changed YAML add, move or remove."""
    return template_key not in (SAMPLE_TEMPLATE_KEY, INSTRUCTION_TEMPLATE_KEY) and not template_key.startswith(
        (OPTIONAL_ITEM_PREFIX, MEETING_DECISION_PREFIX)
    )


def diff_plan(stored: dict[tuple[str, str, str], dt.date], plan: CampaignPlan) -> PlanChange:
    """What applying `plan` to a campaign whose live assignments are `stored` (key -> due) changes.
    Stored assignments the YAML did not make (samples, 自选事项) are left alone whatever the plan says."""
    stored = {k: due for k, due in stored.items() if from_the_yaml(k[0])}
    planned = {a.natural_key: a for a in plan.assignments}
    added = tuple(a for k, a in planned.items() if k not in stored)
    removed = tuple(sorted(k for k in stored if k not in planned))
    moved = tuple(sorted((k, stored[k], a.due_on) for k, a in planned.items() if k in stored and stored[k] != a.due_on))
    return PlanChange(added, removed, moved)
