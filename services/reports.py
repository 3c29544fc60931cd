"""Monthly reports (seed 001, 四(三)): each department's report and the office rollup.

Every figure and every table row is computed from the store for the report's window; the four
narrative sections (开展情况和主要做法, 发现的问题及处理情况, 可复制推广的典型经验, 下一步工作打算和意见建议)
are text that the department — or, for the rollup, the office — writes and saves here with an
optimistic version. Nobody can edit a figure: there is nowhere to store one.

Reporting window of period 'YYYY-MM'
  A report due on day D of each month (the spec's recurring_reports: departments by the 20th, the
  office by the 25th) covers the day after the previous month's D up to this month's D
  (e.g. 2020-05-21 … 2020-06-20), so consecutive reports neither overlap nor leave a gap. The
  first reported month starts on the campaign's first day; the month holding the campaign's last
  day runs to that day; a campaign without recurring reports uses calendar months. The data
  cut-off is the window's last day, or the day of `at` when the report is made before then.
  Figures are "as of the cut-off": submissions, acceptances and ledger events count only when
  their recorded time is before the end of the cut-off day (Asia/Shanghai), so a June report made
  in August still shows June.

Figures (per department; the rollup adds every department and the leads not yet assigned)
  tasks_*       the period's work: assignments whose nominal due date falls in the window
                (cancelled ones excluded). submitted / accepted = by the cut-off; on_time =
                accepted and judged on time; overdue = the binding deadline passed (before the
                cut-off) without a submission on or before it.
  problems_*    running totals since the campaign began, as they stood at the cut-off: found;
                rectified (the department finished and asked for 销号, or 销号 is done); closed
                (销号); rebound (回头看 reopened it). *_in_period: found / 销号 within the window.
  projects_*    the register (supervised) and the projects drawn for verification by the cut-off.
  leads_*       running totals at the cut-off: received; closed; of the closed: substantiated
                (查实), enterprises, people, fines (万元), transfers. *_in_period: within the window.
  So rates (销号率, 办结率) never pass 100 %, and "this period" is stated beside each total.

Tables
  核查项目情况表   every project drawn for verification by the cut-off (a running register).
  信访举报办理情况表 leads received by the cut-off and not closed before the window (no reporter details).
  整改台账         problems found by the cut-off and not already 销号 before the window.
  事中监管 / 事后检查及整改台账: the same problems that name a registered project, split by when they
                were caught: a problem found while the tender was still undecided — the project
                has no winning bidder recorded, or the problem was found on or before its tender
                date — is in-process supervision (事中监管); one found after the tender date of a
                project with a winner is a post-tender check (事后检查). Problems without a
                registered project appear in 整改台账 only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.access import SYSTEM, Actor, Role, can_act_for_department, can_administer, can_read_department
from domain.spec import PHASE_KIND_LABELS, SAMPLE_TEMPLATE_KEY, CampaignSpec, PhaseKind
from exchange.reports import (CheckedProjectRow, DepartmentProgressRow, InProcessSupervisionRow, LeadHandlingRow,
                              Narrative, PostCheckRow, RectificationRow, ReportData, ReportFigures, build_annex_xlsx,
                              build_docx, progress_chart_png)
from store import audit
from services.campaigns import get_campaign, stored_spec
from domain.errors import Conflict, Invalid, NotFound
from services.guard import check, fail
from domain.assignment import AssignmentStatus
from store.models import (
    Assignment,
    Campaign,
    Department,
    GeneratedReport,
    Lead,
    Phase,
    Problem,
    ProblemEvent,
    Project,
    ReportNarrative,
    SampleDraw,
    Submission,
    TaskTemplate,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
MAX_SECTION_CHARS = 20_000
CHART_MAX_UNITS = 30  # a chart of 2,000 units would be 200,000 px tall; the table lists them all
ROLLUP_KEY = ""  # department_code of the office rollup in report_narrative / generated_report
NARRATIVE_STALE = "该报告的文字已被{who}于{when}修改，请刷新后在最新内容上编辑"
PROBLEM_STATUS = {"open": "整改中", "closing": "待销号审核", "closed": "已销号"}
FINDINGS = {"查实": "属实", "不实": "不属实"}
LEAD_STATUS = {"received": "已受理", "assigned": "办理中", "reported": "待办结审核", "closed": "已办结"}
TRANSFER_POLICE, TRANSFER_DISCIPLINE = "移送公安机关", "移送纪检监察机关"

__all__ = [
    "NarrativeDTO", "RenderedReport", "ReportWindow", "DueReport", "FiledReport",
    "report_window", "report_periods", "report_data", "render_report", "save_narrative", "get_narrative",
    "due_reports", "file_report", "report_moment",
]


# --- values handed out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportWindow:
    period: str  # YYYY-MM
    start: dt.date  # first day counted
    end: dt.date  # last day counted: the window's end, or the day the report was made if earlier
    window_end: dt.date  # where the window ends when complete
    due_day: int | None  # the recurring report's day of month; None: calendar months

    @property
    def start_instant(self) -> dt.datetime:
        return _local_midnight(self.start)

    @property
    def end_instant(self) -> dt.datetime:
        """Exclusive: the start of the day after the cut-off, Beijing time."""
        return _local_midnight(self.end + dt.timedelta(days=1))

    @property
    def label(self) -> str:
        year, month = _parse_period(self.period)
        return f"{year}年{month}月"


@dataclass(frozen=True)
class NarrativeDTO:
    campaign_code: str
    period: str
    department_code: str | None  # None: the office rollup
    narrative: Narrative
    version: int  # 0: nothing saved yet (pass 0 as expected_version to create it)
    updated_by: str | None
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class RenderedReport:
    docx: bytes
    xlsx: bytes
    filename_stem: str  # e.g. yanjiang-2020_2020-06_zjj; the rollup ends in _office-rollup


@dataclass(frozen=True)
class DueReport:
    campaign_code: str
    period: str
    department_code: str | None  # None: the office rollup
    due_on: dt.date


@dataclass(frozen=True)
class FiledReport:
    campaign_code: str
    period: str
    department_code: str | None
    docx_path: str
    xlsx_path: str
    docx_sha256: str
    xlsx_sha256: str


# --- time helpers ---------------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.timezone.utc)


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def report_moment(as_of: dt.date) -> dt.datetime:
    """The `at` the scheduled flow makes a report with: the end of the as-of day, Beijing time."""
    return dt.datetime.combine(as_of, dt.time(23, 59, 59), SHANGHAI).astimezone(dt.timezone.utc)


def _parse_period(period: str) -> tuple[int, int]:
    match = PERIOD_PATTERN.match(period or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise Invalid(f"报告期 {period!r} 格式不对，应为 YYYY-MM（例如 2020-06）")
    return int(match.group(1)), int(match.group(2))


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


# --- the window -------------------------------------------------------------------------------------


def _due_rule(spec: CampaignSpec, department_code: str | None) -> tuple[int | None, dt.date | None]:
    """(day of month, first month) of the recurring report this report answers."""
    wanted = spec.office if department_code is None else department_code
    for report in spec.recurring_reports:
        if wanted in spec.resolve(report.assignees):
            return report.day_of_month, report.first_month
    if spec.recurring_reports:
        report = max(spec.recurring_reports, key=lambda r: r.day_of_month) if department_code is None \
            else spec.recurring_reports[0]
        return report.day_of_month, report.first_month
    return None, None


def report_window(spec: CampaignSpec, period: str, department_code: str | None, at: dt.datetime) -> ReportWindow:
    year, month = _parse_period(period)
    day, first_month = _due_rule(spec, department_code)
    if day is None:
        start, end = dt.date(year, month, 1), _month_end(year, month)
    else:
        start = dt.date(*_previous_month(year, month), day) + dt.timedelta(days=1)
        end = dt.date(year, month, day)
    first = (first_month or spec.start).replace(day=1)
    if (year, month) < (first.year, first.month) or (year, month) > (spec.end.year, spec.end.month):
        raise Invalid(f"报告期 {period} 不在报送期间内（{first:%Y-%m} 至 {spec.end:%Y-%m}，每月一期）")
    if (year, month) == (first.year, first.month) or start < spec.start:
        start = spec.start
    if (year, month) == (spec.end.year, spec.end.month) or end > spec.end:
        end = spec.end
    if end < spec.start or start > spec.end or start > end:
        raise Invalid(f"报告期 {period} 不在专项行动期间（{spec.start} ～ {spec.end}）内")
    made_on = _local_day(at)
    if made_on < start:
        raise Invalid(f"报告期 {period} 尚未开始（自 {start} 起统计），现在还不能生成")
    return ReportWindow(period, start, min(end, made_on), end, day)


def report_periods(session: Session, *, campaign_code: str, department_code: str | None, as_of: dt.date) -> list[str]:
    """The periods (YYYY-MM, newest first) whose report can be made on `as_of`: every reported
    month whose window has begun. For period pickers; it reads no department's data."""
    spec = stored_spec(get_campaign(session, campaign_code))
    _day, first_month = _due_rule(spec, department_code)
    year, month = (first_month or spec.start).year, (first_month or spec.start).month
    out: list[str] = []
    last = min(as_of.replace(day=1) + dt.timedelta(days=62), spec.end)  # a window can open the month before
    while (year, month) <= (last.year, last.month):
        period = f"{year:04d}-{month:02d}"
        try:
            report_window(spec, period, department_code, report_moment(as_of))
            out.append(period)
        except Invalid:
            pass
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out[::-1]


# --- permission ------------------------------------------------------------------------------------


def _can_read(actor: Actor, department_code: str | None) -> bool:
    if department_code is None:
        return actor.role in (Role.office, Role.leader, Role.system)
    return can_read_department(actor, department_code)


def _can_write(actor: Actor, department_code: str | None) -> bool:
    if department_code is None:
        return can_administer(actor)
    return can_act_for_department(actor, department_code)


def _key(campaign_code: str, period: str, department_code: str | None) -> str:
    return f"{campaign_code}/{period}/{department_code or '汇总'}"


def _department(session: Session, campaign: Campaign, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.campaign_id == campaign.id, Department.code == code))
    if dept is None:
        raise NotFound(f"部门代码 {code!r} 不在专项行动 {campaign.code} 中")
    return dept


def _check_read(session: Session, actor: Actor, at: dt.datetime | None, campaign_code: str, period: str,
                department_code: str | None, action: str) -> None:
    what = "全区汇总报告" if department_code is None else f"部门 {department_code} 的报告"
    reason = "汇总报告由牵头办公室编写，领导可查看。" if department_code is None else "责任部门只能查看本部门的报告。"
    check(_can_read(actor, department_code), actor=actor, at=at, action=action, entity="report",
          entity_key=_key(campaign_code, period, department_code), label=f"查看{what}", reason=reason)


# --- narratives ----------------------------------------------------------------------------------------


def _narrative_row(session: Session, campaign_id: int, period: str, department_code: str | None,
                   *, for_update: bool = False) -> ReportNarrative | None:
    q = select(ReportNarrative).where(ReportNarrative.campaign_id == campaign_id, ReportNarrative.period == period,
                                      ReportNarrative.department_code == (department_code or ROLLUP_KEY))
    if for_update:
        q = q.with_for_update().execution_options(populate_existing=True)
    return session.scalar(q)


def _narrative_dto(campaign_code: str, period: str, department_code: str | None,
                   row: ReportNarrative | None) -> NarrativeDTO:
    if row is None:
        return NarrativeDTO(campaign_code, period, department_code, Narrative(), 0, None, None)
    text = Narrative(practices=row.practices, problems=row.problems, experience=row.experience,
                     next_steps=row.next_steps)
    return NarrativeDTO(campaign_code, period, department_code, text, row.version, row.updated_by, row.updated_at)


def get_narrative(session: Session, *, actor: Actor, campaign_code: str, period: str, department_code: str | None,
                  at: dt.datetime | None = None) -> NarrativeDTO:
    """The saved text of a report (empty, version 0, when nothing has been saved)."""
    _parse_period(period)
    _check_read(session, actor, at, campaign_code, period, department_code, "report.narrative.read")
    campaign = get_campaign(session, campaign_code)
    return _narrative_dto(campaign_code, period, department_code,
                          _narrative_row(session, campaign.id, period, department_code))


def _clean(text: str, heading: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_SECTION_CHARS:
        raise Invalid(f"「{heading}」超过 {MAX_SECTION_CHARS} 字，请精简")
    return text


def save_narrative(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    campaign_code: str,
    period: str,
    department_code: str | None,
    narrative: Narrative,
    expected_version: int = 0,
) -> NarrativeDTO:
    """Save the four text sections of a report. A department writes its own report's text, the
    office the rollup's; leaders read only. `expected_version` is the version the editor started
    from (0 for a first save): if someone saved in between, Conflict, and nothing is overwritten."""
    key = _key(campaign_code, period, department_code)
    action = "report.narrative"
    label = "编写全区汇总报告" if department_code is None else f"编写部门 {department_code} 的报告"
    reason = "汇总报告的文字由牵头办公室编写。" if department_code is None else "责任部门只能编写本部门的报告。"
    check(_can_write(actor, department_code), actor=actor, at=at, action=action, entity="report",
          entity_key=key, label=label, reason=reason)
    try:
        _parse_period(period)
        campaign = get_campaign(session, campaign_code)
        if department_code is not None:
            _department(session, campaign, department_code)
        from exchange.reports import SECTION_HEADINGS

        text = {name: _clean(getattr(narrative, name), heading) for name, heading in SECTION_HEADINGS}
        row = _narrative_row(session, campaign.id, period, department_code, for_update=True)
        current = row.version if row is not None else 0
        if current != expected_version:
            raise Conflict(NARRATIVE_STALE.format(who=row.updated_by if row else "他人",
                                                  when=_when(row.updated_at) if row else ""))
    except (Invalid, Conflict, NotFound) as exc:
        fail(exc, actor=actor, at=at, action=action, entity="report", entity_key=key)
    except LookupError as exc:
        fail(NotFound(str(exc)), actor=actor, at=at, action=action, entity="report", entity_key=key)
    before = None if row is None else _narrative_dto(campaign_code, period, department_code, row).narrative.model_dump()
    if row is None:
        row = ReportNarrative(campaign_id=campaign.id, period=period, department_code=department_code or ROLLUP_KEY)
        session.add(row)
    for name, value in text.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = actor.username, at
    try:
        session.flush()
    except (IntegrityError, StaleDataError):  # another editor saved first, between our read and write
        session.rollback()
        fail(Conflict(NARRATIVE_STALE.format(who="他人", when="刚才")), actor=actor, at=at, action=action,
             entity="report", entity_key=key)
    audit.record(session, at=at, actor=actor, action=action, entity="report", entity_key=key, before=before,
                 after={**text, "version": row.version})
    return _narrative_dto(campaign_code, period, department_code, row)


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""


# --- figures and tables ------------------------------------------------------------------------------


@dataclass
class _Counts:
    tasks_assigned: int = 0
    tasks_submitted: int = 0
    tasks_accepted: int = 0
    tasks_on_time: int = 0
    tasks_overdue: int = 0
    problems_found: int = 0
    problems_rectified: int = 0
    problems_closed: int = 0
    problems_rebound: int = 0
    projects_supervised: int = 0
    projects_sampled: int = 0
    leads_received: int = 0
    leads_closed: int = 0
    leads_substantiated: int = 0
    enterprises_involved: int = 0
    people_dealt_with: int = 0
    fines_wan_yuan: Decimal = field(default_factory=Decimal)
    transfers_police: int = 0
    transfers_discipline: int = 0
    problems_found_in_period: int = 0
    problems_closed_in_period: int = 0
    leads_received_in_period: int = 0
    leads_closed_in_period: int = 0

    def add(self, other: _Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> ReportFigures:
        return ReportFigures(**{name: getattr(self, name) for name in self.__dataclass_fields__})


@dataclass(frozen=True)
class _ProblemState:
    status: str  # open / closing / closed, as of the cut-off
    closed_on: dt.date | None
    rebound: bool


def _problem_states(events: list[ProblemEvent], end: dt.datetime) -> _ProblemState:
    status, closed_on, rebound = "open", None, False
    for e in events:
        if e.at >= end:
            break
        if e.action == "request_close":
            status = "closing"
        elif e.action == "approve":
            status, closed_on = "closed", _local_day(e.at)
        elif e.action in ("reject", "found"):
            status = "open"
        elif e.action == "rebound":
            status, closed_on, rebound = "open", None, True
    return _ProblemState(status, closed_on, rebound)


class _Collector:
    """Reads a campaign's work for one window once; the department report and the rollup share it."""

    def __init__(self, session: Session, campaign: Campaign, window: ReportWindow, department_id: int | None):
        self.s, self.campaign, self.w, self.only = session, campaign, window, department_id
        self.depts = {d.id: d for d in session.scalars(select(Department).where(Department.campaign_id == campaign.id)
                                                          .order_by(Department.id))}
        self.counts: dict[int | None, _Counts] = defaultdict(_Counts)
        self.projects = {p.code: p for p in session.scalars(select(Project).where(Project.campaign_id == campaign.id))}
        self.phases = {p.key: p for p in session.scalars(select(Phase).where(Phase.campaign_id == campaign.id))}

    def _mine(self, column: Any) -> Any:
        return true() if self.only is None else column == self.only

    def name(self, dept_id: int | None) -> str:
        return self.depts[dept_id].name if dept_id in self.depts else ""

    # figures ---------------------------------------------------------------------------------

    def tasks(self) -> None:
        w = self.w
        first = (select(Submission.assignment_id, func.min(Submission.submitted_at).label("first_at"))
                 .group_by(Submission.assignment_id).subquery())
        rows = self.s.execute(
            select(Assignment.department_id, Assignment.due_on, Assignment.status, Assignment.accepted_at,
                   Assignment.on_time, first.c.first_at)
            .outerjoin(first, first.c.assignment_id == Assignment.id)
            .where(Assignment.campaign_id == self.campaign.id, self._mine(Assignment.department_id),
                   Assignment.status != AssignmentStatus.cancelled.value,
                   Assignment.nominal_due_on >= w.start, Assignment.nominal_due_on <= w.window_end)
        ).all()
        end = w.end_instant
        for dept_id, due_on, status, accepted_at, on_time, first_at in rows:
            c = self.counts[dept_id]
            c.tasks_assigned += 1
            submitted = first_at is not None and first_at < end
            accepted = status == AssignmentStatus.accepted.value and accepted_at is not None and accepted_at < end
            c.tasks_submitted += submitted
            c.tasks_accepted += accepted
            c.tasks_on_time += accepted and bool(on_time)
            in_time = submitted and _local_day(first_at) <= due_on
            c.tasks_overdue += due_on < w.end and not in_time

    def problems(self) -> list[tuple[Problem, _ProblemState]]:
        """Every problem found by the cut-off, with its state then; counts the window's flows."""
        w = self.w
        problems = list(self.s.scalars(select(Problem).where(
            Problem.campaign_id == self.campaign.id, self._mine(Problem.department_id), Problem.found_on <= w.end)
            .order_by(Problem.code)))
        events: dict[int, list[ProblemEvent]] = defaultdict(list)
        if problems:
            in_campaign = select(Problem.id).where(Problem.campaign_id == self.campaign.id)
            for e in self.s.scalars(select(ProblemEvent).where(ProblemEvent.problem_id.in_(in_campaign))
                                    .order_by(ProblemEvent.problem_id, ProblemEvent.at, ProblemEvent.id)):
                events[e.problem_id].append(e)
        start, end = w.start_instant, w.end_instant
        out = []
        for p in problems:
            c = self.counts[p.department_id]
            state = _problem_states(events[p.id], end)
            c.problems_found += 1
            c.problems_found_in_period += w.start <= p.found_on
            c.problems_rectified += state.status in ("closing", "closed")
            c.problems_closed += state.status == "closed"
            c.problems_rebound += state.rebound
            c.problems_closed_in_period += any(e.action == "approve" and start <= e.at < end for e in events[p.id])
            out.append((p, state))
        return out

    def sampled(self) -> list[Project]:
        drawn = dict(self.s.execute(select(SampleDraw.department_id, SampleDraw.drawn_on)
                                    .where(SampleDraw.campaign_id == self.campaign.id)).all())
        out = []
        for p in sorted(self.projects.values(), key=lambda p: p.code):
            if self.only is not None and p.department_id != self.only:
                continue
            c = self.counts[p.department_id]
            c.projects_supervised += 1
            if p.sampled and drawn.get(p.department_id) is not None and drawn[p.department_id] <= self.w.end:
                c.projects_sampled += 1
                out.append(p)
        return out

    def leads(self) -> list[Lead]:
        w = self.w
        leads = list(self.s.scalars(select(Lead).where(
            Lead.campaign_id == self.campaign.id, self._mine(Lead.department_id), Lead.received_on <= w.end)
            .order_by(Lead.code)))
        out = []
        for lead in leads:
            c = self.counts[lead.department_id]
            c.leads_received += 1
            c.leads_received_in_period += w.start <= lead.received_on
            closed = lead.status == "closed" and lead.closed_on is not None
            if closed and lead.closed_on <= w.end:
                c.leads_closed += 1
                c.leads_closed_in_period += w.start <= lead.closed_on
                if lead.outcome == "查实":
                    c.leads_substantiated += 1
                c.enterprises_involved += lead.enterprises_involved or 0
                c.people_dealt_with += lead.people_dealt_with or 0
                c.fines_wan_yuan += Decimal(str(lead.fine_wan or 0))
                measures = (lead.measures or "").split("、")
                c.transfers_police += TRANSFER_POLICE in measures
                c.transfers_discipline += TRANSFER_DISCIPLINE in measures
            if not (closed and lead.closed_on < w.start):
                out.append(lead)
        return out

    # tables ------------------------------------------------------------------------------------

    def checked_rows(self, sampled: list[Project],
                     all_found: dict[str, list[tuple[Problem, _ProblemState]]]) -> list[CheckedProjectRow]:
        template = self.s.scalar(select(TaskTemplate.id).where(TaskTemplate.campaign_id == self.campaign.id,
                                                               TaskTemplate.key == SAMPLE_TEMPLATE_KEY))
        checked: dict[str, dt.datetime] = {}
        if template is not None:
            checked = {period: at for period, at in self.s.execute(
                select(Assignment.period, Assignment.accepted_at).where(
                    Assignment.template_id == template, Assignment.accepted_at.is_not(None)))
                if at < self.w.end_instant}
        rows = []
        for p in sampled:
            found = all_found.get(p.code, [])
            rows.append(CheckedProjectRow(
                project_code=p.code, project_name=p.name, regulator=self.name(p.department_id),
                tender_date=p.tender_on, estimated_price_wan=_decimal(p.amount_wan), winning_bidder=p.winner or "",
                check_method="随机抽查核查", checked_on=_local_day(checked[p.code]) if p.code in checked else None,
                problem_found=bool(found),
                problems="；".join(f"{q.category}：{q.description}" for q, _ in found),
                handling="；".join(f"{q.code}{_status_text(st)}" for q, st in found),
            ))
        return rows

    def lead_rows(self, leads: list[Lead]) -> list[LeadHandlingRow]:
        rows = []
        for lead in leads:
            closed = lead.status == "closed" and lead.closed_on is not None and lead.closed_on <= self.w.end
            project = self.projects.get(lead.project_code or "")
            status = "已办结" if closed else ("办理中" if lead.department_id else "已受理")
            rows.append(LeadHandlingRow(
                lead_code=lead.code, source=lead.source, received_on=lead.received_on,
                project_name=project.name if project else (lead.project_code or ""),
                handling_department=self.name(lead.department_id) or "未交办", category=lead.category,
                summary=lead.summary, status=status,
                finding=FINDINGS.get(lead.outcome or "", lead.outcome or "") if closed else "",
                result=_lead_result(lead) if closed else "", closed_on=lead.closed_on if closed else None,
            ))
        return rows

    def ledger_rows(self, problems: list[tuple[Problem, _ProblemState]]) -> tuple[
            list[RectificationRow], list[InProcessSupervisionRow], list[PostCheckRow]]:
        rectification, in_process, post_check = [], [], []
        for p, state in problems:
            project = self.projects.get(p.project_code or "")
            unit = self.name(p.department_id)
            status = _status_text(state)
            rectification.append(RectificationRow(
                problem_code=p.code, project_name=project.name if project else (p.project_code or ""),
                responsible_unit=unit, category=p.category, description=p.description, measures=p.measure or "",
                deadline=p.deadline_on, status=status, closed_on=state.closed_on,
                note="；".join(x for x in (p.handling_class, "销号后反弹" if state.rebound else "") if x),
            ))
            if project is None:
                continue
            problem_text = f"{p.category}：{p.description}"
            if _in_process(p, project):
                in_process.append(InProcessSupervisionRow(
                    project_code=project.code, project_name=project.name, stage=_stage(p, project),
                    supervised_on=p.found_on, problems=problem_text,
                    requirement="；".join(x for x in (p.handling_class, p.measure or "") if x),
                    rectification=status, responsible_unit=unit))
            else:
                post_check.append(PostCheckRow(
                    project_code=project.code, project_name=project.name, checked_on=p.found_on,
                    check_method=self._phase_label(p.phase_key), problems=problem_text, measures=p.measure or "",
                    rectification=status, responsible_unit=unit))
        return rectification, in_process, post_check

    def _phase_label(self, key: str) -> str:
        phase = self.phases.get(key)
        if phase is None:
            return ""
        try:
            return PHASE_KIND_LABELS[PhaseKind(phase.kind)]
        except ValueError:
            return phase.title


def _in_process(p: Problem, project: Project) -> bool:
    """事中监管: caught while the tender was undecided (no winner yet, or on/before the tender date)."""
    return not project.winner or (project.tender_on is not None and p.found_on <= project.tender_on)


def _stage(p: Problem, project: Project) -> str:
    if project.tender_on is None:
        return "招标投标过程"
    if p.found_on < project.tender_on:
        return "招标文件及公告"
    if p.found_on == project.tender_on:
        return "开标"
    return "评标定标"


def _status_text(state: _ProblemState) -> str:
    text = PROBLEM_STATUS[state.status]
    return f"{text}（反弹）" if state.rebound and state.status != "closed" else text


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _lead_result(lead: Lead) -> str:
    parts = [m for m in (lead.measures or "").split("、") if m]
    fine = Decimal(str(lead.fine_wan or 0))
    if fine:
        parts = [f"罚款{_plain(fine)}万元" if m == "罚款" else m for m in parts]
    if lead.enterprises_involved:
        parts.append(f"涉及企业{lead.enterprises_involved}家")
    if lead.people_dealt_with:
        parts.append(f"处理人员{lead.people_dealt_with}人")
    return "；".join(parts) or ("经核查不属实，予以了结" if lead.outcome == "不实" else "")


def _plain(value: Decimal) -> str:
    text = format(value.quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _progress_row(name: str, c: _Counts) -> DepartmentProgressRow:
    return DepartmentProgressRow(
        department=name, tasks_assigned=c.tasks_assigned, tasks_submitted=c.tasks_submitted,
        tasks_accepted=c.tasks_accepted, tasks_overdue=c.tasks_overdue, projects_supervised=c.projects_supervised,
        projects_sampled=c.projects_sampled, problems_found=c.problems_found, problems_closed=c.problems_closed,
        leads_received=c.leads_received, leads_closed=c.leads_closed)


# --- the report ---------------------------------------------------------------------------------------


def report_data(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    period: str,
    department_code: str | None,
    at: dt.datetime,
) -> ReportData:
    """Figures, tables and saved text of a department's monthly report (department_code given) or of
    the office rollup (None). Departments read their own; the office and leaders read all."""
    _check_read(session, actor, at, campaign_code, period, department_code, "report.read")
    key = _key(campaign_code, period, department_code)
    try:
        campaign = get_campaign(session, campaign_code)
        spec = stored_spec(campaign)
        window = report_window(spec, period, department_code, at)
        dept = _department(session, campaign, department_code) if department_code is not None else None
    except (Invalid, NotFound) as exc:
        fail(exc, actor=actor, at=at, action="report.read", entity="report", entity_key=key)
    except LookupError as exc:
        fail(NotFound(str(exc)), actor=actor, at=at, action="report.read", entity="report", entity_key=key)
    data = _collect(session, campaign, spec, window, dept)
    narrative = _narrative_row(session, campaign.id, period, department_code)
    data["narrative"] = _narrative_dto(campaign_code, period, department_code, narrative).narrative
    generated = min(at, window.end_instant - dt.timedelta(seconds=1))
    return ReportData(area="", campaign_title=spec.title, period_label=window.label, period_start=window.start,
                      period_end=window.end, generated_at=generated, **data)


def _collect(session: Session, campaign: Campaign, spec: CampaignSpec, window: ReportWindow,
             dept: Department | None) -> dict[str, Any]:
    c = _Collector(session, campaign, window, dept.id if dept else None)
    c.tasks()
    found = c.problems()
    # The ledgers list what was still being worked on in the window: not 销号 before it began.
    live_problems = [(p, st) for p, st in found if st.status != "closed" or (st.closed_on or p.found_on) >= window.start]
    sampled = c.sampled()
    leads = c.leads()
    by_project: dict[str, list[tuple[Problem, _ProblemState]]] = defaultdict(list)
    for p, state in found:
        if p.project_code:
            by_project[p.project_code].append((p, state))
    rectification, in_process, post_check = c.ledger_rows(live_problems)
    total = _Counts()
    for counts in c.counts.values():
        total.add(counts)
    out: dict[str, Any] = dict(
        figures=total.figures(),
        checked_projects=c.checked_rows(sampled, by_project),
        lead_handling=c.lead_rows(leads),
        rectification_ledger=rectification,
        in_process_ledger=in_process,
        post_check_ledger=post_check,
    )
    if dept is None:
        office = next((d for d in c.depts.values() if d.code == spec.office), None)
        out["unit_name"] = f"{office.name}（联席会议办公室）" if office else spec.issuer
        out["is_rollup"] = True
        out["title"] = f"{spec.title}工作推进情况报告（{window.label}）"
        out["department_rows"] = [_progress_row(d.name, c.counts.get(d.id, _Counts()))
                                  for d in c.depts.values() if d.active]
    else:
        out["unit_name"] = dept.name
        out["title"] = f"{dept.name}{spec.title}工作情况报告（{window.label}）"
    return out


def filename_stem(campaign_code: str, period: str, department_code: str | None) -> str:
    return f"{campaign_code}_{period}_{department_code or 'office-rollup'}"


def render_report(
    session: Session,
    *,
    actor: Actor,
    campaign_code: str,
    period: str,
    department_code: str | None,
    at: dt.datetime,
) -> RenderedReport:
    """The report as a Word document (with the progress chart) and its Excel annex."""
    data = report_data(session, actor=actor, campaign_code=campaign_code, period=period,
                       department_code=department_code, at=at)
    if data.is_rollup:
        chart = _rollup_chart(data.department_rows)
    else:
        f = data.figures
        own = _progress_row(data.unit_name, _Counts(**{k: getattr(f, k) for k in _Counts.__dataclass_fields__}))
        chart = progress_chart_png([own], title=f"{data.unit_name}工作推进情况")
    return RenderedReport(build_docx(data, chart), build_annex_xlsx(data),
                          filename_stem(campaign_code, period, department_code))


def _rollup_chart(rows: list[DepartmentProgressRow]) -> bytes:
    """Every unit's bars; past CHART_MAX_UNITS (a province), the units furthest behind on their tasks."""
    if len(rows) <= CHART_MAX_UNITS:
        return progress_chart_png(rows)
    behind = sorted(rows, key=lambda r: (r.task_completion_rate is None, r.task_completion_rate or 0.0,
                                         -r.tasks_overdue))[:CHART_MAX_UNITS]
    return progress_chart_png(behind, title=f"任务完成率最低的{CHART_MAX_UNITS}个单位（共{len(rows)}个单位，全部见附表1）")


# --- the scheduled filing ----------------------------------------------------------------------------


def due_reports(session: Session, campaign_code: str, as_of: dt.date) -> list[DueReport]:
    """Reports due on `as_of` by the campaign's recurring reports: the office's occurrence is the
    rollup, every other department's its own monthly report (binding, working-day adjusted dates)."""
    campaign = get_campaign(session, campaign_code)
    rows = session.execute(
        select(Assignment.period, Department.code, Department.is_office)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .join(Department, Department.id == Assignment.department_id)
        .where(Assignment.campaign_id == campaign.id, Assignment.due_on == as_of,
               TaskTemplate.recurring_day.is_not(None), Assignment.status != AssignmentStatus.cancelled.value,
               Department.active.is_(True))
        .order_by(Assignment.period, Department.is_office, Department.code)
    ).all()
    out = {(period, None if is_office else code): DueReport(campaign_code, period, None if is_office else code, as_of)
           for period, code, is_office in rows if PERIOD_PATTERN.match(period or "")}
    return list(out.values())


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_report(session: Session, *, due: DueReport, out_dir: Path, at: dt.datetime) -> FiledReport | None:
    """Write a due report's .docx and .xlsx under out_dir/<campaign>/ and record it; None when it
    was already filed (the record's natural key), so a re-run writes nothing. The caller commits."""
    campaign = get_campaign(session, due.campaign_code)
    dept_key = due.department_code or ROLLUP_KEY
    done = session.scalar(select(GeneratedReport.id).where(
        GeneratedReport.campaign_id == campaign.id, GeneratedReport.period == due.period,
        GeneratedReport.department_code == dept_key))
    if done is not None:
        return None
    rendered = render_report(session, actor=SYSTEM, campaign_code=due.campaign_code, period=due.period,
                             department_code=due.department_code, at=at)
    folder = Path(out_dir) / due.campaign_code
    docx_path, xlsx_path = folder / f"{rendered.filename_stem}.docx", folder / f"{rendered.filename_stem}.xlsx"
    _write_atomically(docx_path, rendered.docx)
    _write_atomically(xlsx_path, rendered.xlsx)
    docx_sha, xlsx_sha = hashlib.sha256(rendered.docx).hexdigest(), hashlib.sha256(rendered.xlsx).hexdigest()
    session.add(GeneratedReport(campaign_id=campaign.id, period=due.period, department_code=dept_key,
                                due_on=due.due_on, docx_path=str(docx_path), xlsx_path=str(xlsx_path),
                                docx_sha256=docx_sha, xlsx_sha256=xlsx_sha, generated_at=at))
    try:
        session.flush()
    except IntegrityError:  # a concurrent run filed it first (same names, same content): nothing to record
        session.rollback()
        return None
    audit.record(session, at=at, actor=SYSTEM, action="report.file", entity="report",
                 entity_key=_key(due.campaign_code, due.period, due.department_code),
                 after={"docx": str(docx_path), "xlsx": str(xlsx_path), "docx_sha256": docx_sha,
                        "xlsx_sha256": xlsx_sha, "due_on": str(due.due_on)})
    return FiledReport(due.campaign_code, due.period, due.department_code, str(docx_path), str(xlsx_path),
                       docx_sha, xlsx_sha)
