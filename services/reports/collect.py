"""The figures and tables of a monthly report, read from the store for the report's window.

Figures are "as of the cut-off" (domain.reporting): submissions, acceptances and ledger events
count only when their recorded time is before the end of the cut-off day (Asia/Shanghai), so a
June report made in August still shows June.

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
                (查实, counting 部分属实), enterprises, people, fines (万元), transfers. *_in_period: within the window.
  So rates (销号率, 办结率) never pass 100 %, and "this period" is stated beside each total.

Tables
  核查项目情况表   every project drawn for verification by the cut-off (a running register).
  信访举报办理情况表 leads received by the cut-off and not closed before the window (no reporter details).
  整改台账         problems found by the cut-off and not already 销号 before the window.
  已批准延期的任务 each 延期申请 approved by the cut-off whose new deadline falls on or after the window's
                first day: 部门, 任务, 原定期限 (the assignment's first deadline), 延期后期限, 理由 (the
                department's), 批准日期 — only when there is one, so the original deadline stays on record.
  事中监管 / 事后检查及整改台账: the same problems that name a registered project, split by when they
                were caught: a problem found while the tender was still undecided — the project
                has no winning bidder recorded, or the problem was found on or before its tender
                date — is in-process supervision (事中监管); one found after the tender date of a
                project with a winner is a post-tender check (事后检查). Problems without a
                registered project appear in 整改台账 only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from domain import rollup
from domain.access import Actor
from domain.assignment import AssignmentStatus
from domain.errors import Invalid, NotFound
from domain.extension import ExtensionState
from domain.grading import GRADE_REASONS
from domain.lead import LEAD, LEAD_OUTCOME, SUBSTANTIATED, LeadMeasure, LeadOutcome, LeadStatus
from domain.localtime import local_day
from domain.problem import EVENT_MOVES, PROBLEM, ProblemEvent, ProblemStatus
from domain.reporting import ReportWindow, report_window
from domain.reporting import report_periods as periods_open_on
from domain.spec import PHASE_KIND, SAMPLE_TEMPLATE_KEY, CampaignSpec
from exchange.bids_report import RuleHitRow
from exchange.reports import (
    CheckedProjectRow,
    DepartmentProgressRow,
    ExtendedTaskRow,
    InProcessSupervisionRow,
    LeadHandlingRow,
    PostCheckRow,
    RectificationRow,
    ReportData,
    ReportFigures,
)
from services.campaigns import get_campaign, stored_spec
from services.guard import fail
from services.reports.access import check_read, department, report_key
from services.reports.narratives import narrative_dto, narrative_row
from services.risk.screening import rule_hit_rates
from services.scoring import ranking_rows
from store import models as m
from store.models import (
    Assignment,
    Campaign,
    Department,
    ExtensionRequest,
    Lead,
    Phase,
    Problem,
    Project,
    SampleDraw,
    Submission,
    TaskTemplate,
)

ACTION_READ = "report.read"


@dataclass
class Counts:
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

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> ReportFigures:
        return ReportFigures(**{name: getattr(self, name) for name in self.__dataclass_fields__})

    def progress_row(self, name: str, graded: tuple[str, str]) -> DepartmentProgressRow:
        return DepartmentProgressRow(
            department=name,
            grade=graded[0],
            grade_reason=graded[1],
            tasks_assigned=self.tasks_assigned,
            tasks_submitted=self.tasks_submitted,
            tasks_accepted=self.tasks_accepted,
            tasks_on_time=self.tasks_on_time,
            tasks_overdue=self.tasks_overdue,
            projects_supervised=self.projects_supervised,
            projects_sampled=self.projects_sampled,
            problems_found=self.problems_found,
            problems_closed=self.problems_closed,
            leads_received=self.leads_received,
            leads_closed=self.leads_closed,
        )


@dataclass(frozen=True)
class ProblemState:
    status: ProblemStatus  # as of the cut-off
    closed_on: dt.date | None
    rebound: bool

    @property
    def text(self) -> str:
        label = PROBLEM.label(self.status)
        return f"{label}（反弹）" if self.rebound and self.status != ProblemStatus.closed else label


def problem_state(events: list[m.ProblemEvent], end: dt.datetime) -> ProblemState:
    """A problem's state at `end`, replayed from its events."""
    status, closed_on, rebound = ProblemStatus.open, None, False
    for e in events:
        if e.at >= end:
            break
        if e.action == ProblemEvent.found:
            status = ProblemStatus.open
        elif e.action in EVENT_MOVES:
            status = EVENT_MOVES[ProblemEvent(e.action)][1]
            closed_on = local_day(e.at) if e.action == ProblemEvent.approve else None
            rebound = rebound or e.action == ProblemEvent.rebound
    return ProblemState(status, closed_on if status == ProblemStatus.closed else None, rebound)


class Collector:
    """Reads a campaign's work for one window once; the department report and the rollup share it."""

    def __init__(self, session: Session, campaign: Campaign, window: ReportWindow, department_id: int | None):
        self.s, self.campaign, self.w, self.only = session, campaign, window, department_id
        self.depts = {
            d.id: d
            for d in session.scalars(
                select(Department).where(Department.campaign_id == campaign.id).order_by(Department.id)
            )
        }
        self.counts: dict[int | None, Counts] = defaultdict(Counts)
        self.projects = {p.code: p for p in session.scalars(select(Project).where(Project.campaign_id == campaign.id))}
        self.phases = {p.key: p for p in session.scalars(select(Phase).where(Phase.campaign_id == campaign.id))}

    def _mine(self, column: Any) -> Any:
        return true() if self.only is None else column == self.only

    def name(self, dept_id: int | None) -> str:
        return self.depts[dept_id].name if dept_id in self.depts else ""

    # figures ---------------------------------------------------------------------------------

    def tasks(self) -> None:
        w = self.w
        first = (
            select(Submission.assignment_id, func.min(Submission.submitted_at).label("first_at"))
            .group_by(Submission.assignment_id)
            .subquery()
        )
        rows = self.s.execute(
            select(
                Assignment.department_id,
                Assignment.due_on,
                Assignment.status,
                Assignment.accepted_at,
                Assignment.on_time,
                first.c.first_at,
            )
            .outerjoin(first, first.c.assignment_id == Assignment.id)
            .where(
                Assignment.campaign_id == self.campaign.id,
                self._mine(Assignment.department_id),
                Assignment.status != AssignmentStatus.cancelled.value,
                Assignment.ongoing.is_(False),  # an ongoing duty has no deadline in any window (持续推进)
                Assignment.nominal_due_on >= w.start,
                Assignment.nominal_due_on <= w.window_end,
            )
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
            in_time = submitted and local_day(first_at) <= due_on
            c.tasks_overdue += due_on < w.end and not in_time

    def problems(self) -> list[tuple[Problem, ProblemState]]:
        """Every problem found by the cut-off, with its state then; counts the window's flows."""
        w = self.w
        problems = list(
            self.s.scalars(
                select(Problem)
                .where(
                    Problem.campaign_id == self.campaign.id,
                    self._mine(Problem.department_id),
                    Problem.found_on <= w.end,
                )
                .order_by(Problem.code)
            )
        )
        events: dict[int, list[m.ProblemEvent]] = defaultdict(list)
        if problems:
            in_campaign = select(Problem.id).where(Problem.campaign_id == self.campaign.id)
            for e in self.s.scalars(
                select(m.ProblemEvent)
                .where(m.ProblemEvent.problem_id.in_(in_campaign))
                .order_by(m.ProblemEvent.problem_id, m.ProblemEvent.at, m.ProblemEvent.id)
            ):
                events[e.problem_id].append(e)
        start, end = w.start_instant, w.end_instant
        out = []
        for p in problems:
            c = self.counts[p.department_id]
            state = problem_state(events[p.id], end)
            c.problems_found += 1
            c.problems_found_in_period += w.start <= p.found_on
            c.problems_rectified += state.status in (ProblemStatus.closing, ProblemStatus.closed)
            c.problems_closed += state.status == ProblemStatus.closed
            c.problems_rebound += state.rebound
            c.problems_closed_in_period += any(
                e.action == ProblemEvent.approve and start <= e.at < end for e in events[p.id]
            )
            out.append((p, state))
        return out

    def sampled(self) -> list[Project]:
        rows = self.s.execute(
            select(SampleDraw.department_id, SampleDraw.drawn_on).where(SampleDraw.campaign_id == self.campaign.id)
        )
        drawn: dict[int, dt.date] = dict(rows.tuples().all())
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
        leads = list(
            self.s.scalars(
                select(Lead)
                .where(Lead.campaign_id == self.campaign.id, self._mine(Lead.department_id), Lead.received_on <= w.end)
                .order_by(Lead.code)
            )
        )
        out = []
        for lead in leads:
            c = self.counts[lead.department_id]
            c.leads_received += 1
            c.leads_received_in_period += w.start <= lead.received_on
            closed_on = lead.closed_on if lead.status == LeadStatus.closed else None
            if closed_on is not None and closed_on <= w.end:
                c.leads_closed += 1
                c.leads_closed_in_period += w.start <= closed_on
                c.leads_substantiated += lead.outcome in SUBSTANTIATED  # 部分属实 included
                c.enterprises_involved += lead.enterprises_involved or 0
                c.people_dealt_with += lead.people_dealt_with or 0
                c.fines_wan_yuan += Decimal(str(lead.fine_wan or 0))
                measures = (lead.measures or "").split("、")
                c.transfers_police += LeadMeasure.refer_police in measures
                c.transfers_discipline += LeadMeasure.refer_discipline in measures
            if closed_on is None or closed_on >= w.start:
                out.append(lead)
        return out

    def grades(self) -> tuple[dt.date | None, dict[int, tuple[str, str]]]:
        """(day, department → (grade, reason)): domain.grading's rule on the department totals of the
        rollup snapshot the boards read for the cut-off: the newest on or before both the cut-off and
        the campaign's last tick (services.views.boards.board_day), so report and board agree."""
        last = min(self.w.end, self.campaign.last_tick_on) if self.campaign.last_tick_on else None
        R = m.RollupSnapshot
        day = (
            self.s.scalar(select(func.max(R.as_of)).where(R.campaign_id == self.campaign.id, R.as_of <= last))
            if last is not None
            else None
        )
        if day is None:
            return None, {}
        out = {}
        for r in self.s.scalars(select(R).where(R.campaign_id == self.campaign.id, R.as_of == day, R.phase_key == "")):
            g = rollup.grade(
                rollup.Counts(r.assigned, r.submitted, r.accepted, r.on_time, r.overdue, r.escalation_level, r.due)
            )
            out[r.department_id] = (g.value, GRADE_REASONS[g])
        return day, out

    # tables ------------------------------------------------------------------------------------

    def checked_rows(
        self, sampled: list[Project], all_found: dict[str, list[tuple[Problem, ProblemState]]]
    ) -> list[CheckedProjectRow]:
        template = self.s.scalar(
            select(m.TaskTemplate.id).where(
                m.TaskTemplate.campaign_id == self.campaign.id, m.TaskTemplate.key == SAMPLE_TEMPLATE_KEY
            )
        )
        checked: dict[str, dt.datetime] = {}
        if template is not None:
            checked = {
                period: at
                for period, at in self.s.execute(
                    select(Assignment.period, Assignment.accepted_at).where(
                        Assignment.template_id == template, Assignment.accepted_at.is_not(None)
                    )
                )
                if at < self.w.end_instant
            }
        rows = []
        for p in sampled:
            found = all_found.get(p.code, [])
            rows.append(
                CheckedProjectRow(
                    project_code=p.code,
                    project_name=p.name,
                    regulator=self.name(p.department_id),
                    tender_date=p.tender_on,
                    estimated_price_wan=_decimal(p.amount_wan),
                    winning_bidder=p.winner or "",
                    check_method="随机抽查核查",
                    checked_on=local_day(checked[p.code]) if p.code in checked else None,
                    problem_found=bool(found),
                    problems="；".join(f"{q.category}：{q.description}" for q, _ in found),
                    handling="；".join(f"{q.code}{st.text}" for q, st in found),
                )
            )
        return rows

    def lead_rows(self, leads: list[Lead]) -> list[LeadHandlingRow]:
        rows = []
        for lead in leads:
            closed = lead.status == LeadStatus.closed and lead.closed_on is not None and lead.closed_on <= self.w.end
            project = self.projects.get(lead.project_code or "")
            # The state at the cut-off: a finding reported but not yet closed then is still being handled.
            state = (
                LeadStatus.closed if closed else (LeadStatus.assigned if lead.department_id else LeadStatus.received)
            )
            rows.append(
                LeadHandlingRow(
                    lead_code=lead.code,
                    source=lead.source,
                    received_on=lead.received_on,
                    project_name=project.name if project else (lead.project_code or ""),
                    handling_department=self.name(lead.department_id) or "未交办",
                    category=lead.category,
                    summary=lead.summary,
                    status=LEAD.label(state),
                    finding=LEAD_OUTCOME.label(lead.outcome) if closed else "",
                    result=_lead_result(lead) if closed else "",
                    closed_on=lead.closed_on if closed else None,
                )
            )
        return rows

    def ledger_rows(
        self, problems: list[tuple[Problem, ProblemState]]
    ) -> tuple[list[RectificationRow], list[InProcessSupervisionRow], list[PostCheckRow]]:
        rectification, in_process, post_check = [], [], []
        for p, state in problems:
            project = self.projects.get(p.project_code or "")
            unit = self.name(p.department_id)
            rectification.append(
                RectificationRow(
                    problem_code=p.code,
                    project_name=project.name if project else (p.project_code or ""),
                    responsible_unit=unit,
                    category=p.category,
                    description=p.description,
                    measures=p.measure or "",
                    deadline=p.deadline_on,
                    status=state.text,
                    closed_on=state.closed_on,
                    note="；".join(x for x in (p.handling_class, "销号后反弹" if state.rebound else "") if x),
                )
            )
            if project is None:
                continue
            problem_text = f"{p.category}：{p.description}"
            if _in_process(p, project):
                in_process.append(
                    InProcessSupervisionRow(
                        project_code=project.code,
                        project_name=project.name,
                        stage=_stage(p, project),
                        supervised_on=p.found_on,
                        problems=problem_text,
                        requirement="；".join(x for x in (p.handling_class, p.measure or "") if x),
                        rectification=state.text,
                        responsible_unit=unit,
                    )
                )
            else:
                post_check.append(
                    PostCheckRow(
                        project_code=project.code,
                        project_name=project.name,
                        checked_on=p.found_on,
                        check_method=self._phase_label(p.phase_key),
                        problems=problem_text,
                        measures=p.measure or "",
                        rectification=state.text,
                        responsible_unit=unit,
                    )
                )
        return rectification, in_process, post_check

    def _phase_label(self, key: str) -> str:
        phase = self.phases.get(key)
        if phase is None:
            return ""
        try:
            return PHASE_KIND.label(phase.kind)
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


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _lead_result(lead: Lead) -> str:
    parts = [measure for measure in (lead.measures or "").split("、") if measure]
    fine = Decimal(str(lead.fine_wan or 0))
    if fine:
        parts = [f"罚款{_plain(fine)}万元" if measure == LeadMeasure.fine else measure for measure in parts]
    if lead.enterprises_involved:
        parts.append(f"涉及企业{lead.enterprises_involved}家")
    if lead.people_dealt_with:
        parts.append(f"处理人员{lead.people_dealt_with}人")
    return "；".join(parts) or ("经核查不属实，予以了结" if lead.outcome == LeadOutcome.unfounded else "")


def _plain(value: Decimal) -> str:
    text = format(value.quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- the report's data ------------------------------------------------------------------------------


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
    actor = check_read(session, actor, at, campaign_code, period, department_code, ACTION_READ)
    try:
        campaign = get_campaign(session, campaign_code)
        spec = stored_spec(campaign)
        window = report_window(spec, period, department_code, at)
        dept = department(session, campaign, department_code) if department_code is not None else None
    except (Invalid, NotFound) as exc:
        fail(
            exc,
            actor=actor,
            at=at,
            action=ACTION_READ,
            entity="report",
            entity_key=report_key(campaign_code, period, department_code),
        )
    data = _collect(session, campaign, spec, window, dept)
    if dept is None:  # issue 13: the rollup ranks the departments by the YAML's 考核评分
        data["ranking"] = ranking_rows(session, campaign, window.end)
    narrative = narrative_row(session, campaign.id, period, department_code)
    data["narrative"] = narrative_dto(campaign_code, period, department_code, narrative).narrative
    generated = min(at, window.end_instant - dt.timedelta(seconds=1))
    return ReportData(
        area="",
        campaign_title=spec.title,
        period_label=window.label,
        period_start=window.start,
        period_end=window.end,
        generated_at=generated,
        **data,
    )


def _collect(
    session: Session, campaign: Campaign, spec: CampaignSpec, window: ReportWindow, dept: Department | None
) -> dict[str, Any]:
    c = Collector(session, campaign, window, dept.id if dept else None)
    c.tasks()
    found = c.problems()
    # The ledgers list what was still being worked on in the window: not 销号 before it began.
    live_problems = [
        (p, st) for p, st in found if st.status != ProblemStatus.closed or (st.closed_on or p.found_on) >= window.start
    ]
    sampled = c.sampled()
    leads = c.leads()
    by_project: dict[str, list[tuple[Problem, ProblemState]]] = defaultdict(list)
    for p, state in found:
        if p.project_code:
            by_project[p.project_code].append((p, state))
    rectification, in_process, post_check = c.ledger_rows(live_problems)
    extended = _extended_tasks(session, campaign.id, window, dept.id if dept else None)
    total = Counts()
    for counts in c.counts.values():
        total.add(counts)
    out: dict[str, Any] = {
        "figures": total.figures(),
        "checked_projects": c.checked_rows(sampled, by_project),
        "lead_handling": c.lead_rows(leads),
        "rectification_ledger": rectification,
        "in_process_ledger": in_process,
        "post_check_ledger": post_check,
        "extensions": extended,
    }
    if dept is None:
        office = next((d for d in c.depts.values() if d.code == spec.office), None)
        out["unit_name"] = f"{office.name}（联席会议办公室）" if office else spec.issuer
        out["is_rollup"] = True
        out["title"] = f"{spec.title}工作推进情况报告（{window.label}）"
        graded_on, grades = c.grades()
        out["graded_on"] = graded_on
        out["department_rows"] = [
            c.counts.get(d.id, Counts()).progress_row(d.name, grades.get(d.id, ("", "")))
            for d in c.depts.values()
            if d.active
        ]
        out["rule_hits"] = [  # issue 14: the red-flag rules' hit rates, so the office can tune the thresholds
            RuleHitRow(
                rule_id=h.rule_id,
                title=h.title,
                alerts=h.alerts,
                closed=h.closed,
                confirmed=h.confirmed,
                rate=f"{h.rate:.0%}" if h.rate is not None else "—",
            )
            for h in rule_hit_rates(session, campaign.id)
        ]
    else:
        out["unit_name"] = dept.name
        out["title"] = f"{dept.name}{spec.title}工作情况报告（{window.label}）"
    return out


def _extended_tasks(
    session: Session, campaign_id: int, window: ReportWindow, department_id: int | None
) -> list[ExtendedTaskRow]:
    """已批准延期的任务: approvals by the cut-off whose new deadline is on or after the window's first day."""
    q = (
        select(ExtensionRequest, Assignment, Department.name, TaskTemplate.title)
        .join(Assignment, Assignment.id == ExtensionRequest.assignment_id)
        .join(Department, Department.id == Assignment.department_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(
            ExtensionRequest.campaign_id == campaign_id,
            ExtensionRequest.state == ExtensionState.approved.value,
            ExtensionRequest.decided_at < window.end_instant,
            ExtensionRequest.approved_until >= window.start,
        )
        .order_by(Department.id, Assignment.id, ExtensionRequest.seq)
    )
    if department_id is not None:
        q = q.where(Assignment.department_id == department_id)
    return [
        ExtendedTaskRow(
            department=name,
            task=f"{title} · {a.period}" if a.period else title,
            original_due_on=a.original_due_on or r.due_before,
            extended_due_on=r.approved_until,
            reason=r.reason,
            approved_on=local_day(r.decided_at) if r.decided_at else None,
        )
        for r, a, name, title in session.execute(q)
        if r.approved_until is not None
    ]


def report_periods(session: Session, *, campaign_code: str, department_code: str | None, as_of: dt.date) -> list[str]:
    """The periods (YYYY-MM, newest first) whose report can be made on `as_of`. For period pickers;
    it reads no department's data."""
    return periods_open_on(stored_spec(get_campaign(session, campaign_code)), department_code, as_of)
