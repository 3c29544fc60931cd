"""A seeded model of departments and the office, for `campaign simulate` and the demo.

Departments are prompt, late or silent; each assignment's submission day follows from the seed
and its natural key, so a simulation is reproducible. Everything goes through the same services
the dashboard uses (submit, accept, return), so a simulated campaign is an ordinary campaign.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.access import SYSTEM, Actor, Role
from domain.assignment import AssignmentStatus
from domain.calendar import WorkingCalendar
from domain.lead import LeadMeasure, LeadOutcome, LeadSource, LeadStatus
from domain.localtime import local_midnight
from domain.problem import HandlingClass, ProblemCategory, ProblemStatus
from services import leads, problems, projects, simulation_plan_shapes, simulation_supervision, submissions, users
from services.campaigns import get_campaign, stored_spec
from services.holidays import campaign_calendar
from services.risk import demo as risk_demo
from services.supervision import simulation as supervision_simulation
from store.models import (
    Assignment,
    Department,
    Lead,
    Problem,
    Project,
    Submission,
    TaskTemplate,
    User,
)

OFFICE_ACTOR_NAME = "sim-office"


def _unit(seed: int, *parts: object) -> float:
    digest = hashlib.sha256("|".join([str(seed), *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class DayActivity:
    submitted: int = 0
    accepted: int = 0
    returned: int = 0


def profile(seed: int, department_code: str) -> str:
    u = _unit(seed, "profile", department_code)
    return "prompt" if u < 0.55 else ("late" if u < 0.85 else "silent")


def planned_submission_day(
    seed: int, department_code: str, key: str, due_on: dt.date, cal: WorkingCalendar
) -> dt.date | None:
    kind = profile(seed, department_code)
    u = _unit(seed, "submit", department_code, key)
    if kind == "silent" and u < 0.6:
        return None
    if kind == "prompt" or (kind == "late" and u < 0.3):
        back = int(u * 5)  # 0..4 working days early
        day = due_on
        for _ in range(back):
            day -= dt.timedelta(days=1)
            while not cal.is_workday(day):
                day -= dt.timedelta(days=1)
        return day
    return cal.add_workdays(due_on, 1 + int(u * 8))  # 1..8 working days late


def simulated_moment(day: dt.date) -> dt.datetime:
    """10:00 Beijing time on the simulated day (aware UTC): when the simulated people act and tick."""
    return local_midnight(day) + dt.timedelta(hours=10)


@dataclass(frozen=True)
class SimulationTotals:
    submitted: int = 0
    accepted: int = 0
    returned: int = 0
    projects: int = 0
    problems_found: int = 0
    problems_closed: int = 0
    leads_received: int = 0
    leads_closed: int = 0

    def add(self, day: DayActivity, work: WorkActivity) -> SimulationTotals:
        return SimulationTotals(
            self.submitted + day.submitted,
            self.accepted + day.accepted,
            self.returned + day.returned,
            self.projects + work.projects,
            self.problems_found + work.problems_found,
            self.problems_closed + work.problems_closed,
            self.leads_received + work.leads_received,
            self.leads_closed + work.leads_closed,
        )


def enlist_simulated_people(session: Session, campaign_code: str, at: dt.datetime) -> int:
    """The accounts the model acts through — the office (sim-office) and each department
    (sim-<code>) — created by the system where missing: services act only for recorded users.
    They get no password (users.NO_PASSWORD: the model never logs in). Returns accounts created."""
    spec = stored_spec(get_campaign(session, campaign_code))
    existing = set(session.scalars(select(User.username).where(User.username.like("sim-%"))))
    people: list[tuple[str, str, Role, str | None]] = [(OFFICE_ACTOR_NAME, "办公室（模拟）", Role.office, None)]
    # the office's own department too: it has assignments of its own to hand in
    people += [(f"sim-{d.code}", f"{d.name}（模拟）", Role.department, d.code) for d in spec.departments]
    created = 0
    for username, name, role, department in people:
        if username in existing:
            continue
        users.add_user(
            session,
            actor=SYSTEM,
            at=at,
            username=username,
            display_name=name,
            role=role,
            department_code=department,
            email=None,
            password=None,
            campaign_code=campaign_code if department else None,
        )
        created += 1
    return created


def simulate_day(session: Session, campaign_code: str, day: dt.date, seed: int) -> DayActivity:
    """Departments submit what their profile says is due today; the office reviews yesterday's work."""
    campaign = get_campaign(session, campaign_code)
    cal = campaign_calendar(stored_spec(campaign))
    if not cal.is_workday(day):
        return DayActivity()
    at = simulated_moment(day)
    rows = session.execute(
        select(
            Assignment.id,
            Assignment.status,
            Assignment.due_on,
            Assignment.period,
            Department.code,
            TaskTemplate.key,
            TaskTemplate.title,
        )
        .join(Department, Department.id == Assignment.department_id)
        .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
        .where(
            Assignment.campaign_id == campaign.id,
            Assignment.status.in_(
                (AssignmentStatus.open.value, AssignmentStatus.returned.value, AssignmentStatus.submitted.value)
            ),
            Assignment.ongoing.is_(False),  # 持续推进: reported through the monthly reports, never handed in
        )
        .order_by(Assignment.id)
    ).all()
    office = Actor(OFFICE_ACTOR_NAME, Role.office, None, "办公室（模拟）")
    submitted = accepted = returned = 0
    for r in rows:
        key = f"{r.key}/{r.period}"
        if r.status == AssignmentStatus.submitted.value:
            last = session.scalar(
                select(Submission.submitted_at)
                .where(Submission.assignment_id == r.id)
                .order_by(Submission.seq.desc())
                .limit(1)
            )
            if last is not None and last.date() < day:  # reviewed the next working day
                version = session.get_one(Assignment, r.id).version
                attempts = (
                    session.scalar(
                        select(Submission.seq)
                        .where(Submission.assignment_id == r.id)
                        .order_by(Submission.seq.desc())
                        .limit(1)
                    )
                    or 1
                )
                if attempts == 1 and _unit(seed, "return", r.code, key) < 0.15:
                    submissions.return_submission(
                        session,
                        actor=office,
                        at=at,
                        assignment_id=r.id,
                        expected_version=version,
                        reason="材料不完整，请补充整改台账中的整改措施和完成时限。",
                    )
                    returned += 1
                else:
                    submissions.accept(session, actor=office, at=at, assignment_id=r.id, expected_version=version)
                    accepted += 1
            continue
        planned = planned_submission_day(seed, r.code, key, r.due_on, cal)
        if r.status == AssignmentStatus.returned.value:
            planned = day  # returned work comes back promptly
        if planned is None or planned > day:
            continue
        actor = Actor(f"sim-{r.code}", Role.department, r.code, f"{r.code}（模拟）")
        submissions.submit(
            session,
            actor=actor,
            at=at,
            assignment_id=r.id,
            text=f"{r.title}：已按要求完成，详见附表。（模拟数据）",
            late_reason="" if day <= r.due_on else "核查对象较多、人员不足，未能按期完成（模拟数据）",
        )
        submitted += 1
    return DayActivity(submitted, accepted, returned)


# --- the ledger, the register and the leads: the rest of a campaign's work --------------------

REGISTER_HEADER = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"
PROJECT_KINDS = ("道路改造工程", "污水管网工程", "安置房建设项目", "河道整治工程", "学校改扩建工程", "农村公路工程")
BIDDERS = ("四川某建设工程有限公司", "资阳某路桥有限公司", "成都某市政工程有限公司", "某水利水电建设有限公司")
DEMO_PROBLEMS = (
    (ProblemCategory.evasion, "将依法必须招标的项目拆分发包，规避公开招标", HandlingClass.time_limited),
    (ProblemCategory.collusion, "不同投标人的投标文件由同一单位编制，存在串通投标迹象", HandlingClass.immediate),
    (ProblemCategory.fraud, "中标人提供的项目经理业绩证明与实际不符", HandlingClass.time_limited),
    (ProblemCategory.agent_misconduct, "招标代理机构擅自修改招标文件评分标准", HandlingClass.immediate),
    (ProblemCategory.expert_misconduct, "评标专家未按评标办法打分，评分畸高畸低", HandlingClass.time_limited),
    (ProblemCategory.illegal_subcontracting, "中标后将主体工程违法分包给无资质单位", HandlingClass.roadmap),
)
LEAD_SOURCES = (LeadSource.report, LeadSource.big_data, LeadSource.assigned, LeadSource.inspection)


@dataclass(frozen=True)
class WorkActivity:
    projects: int = 0
    problems_found: int = 0
    problems_closed: int = 0
    leads_received: int = 0
    leads_closed: int = 0


def _first_workday_from(cal: WorkingCalendar, day: dt.date) -> dt.date:
    while not cal.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def _measures(found: bool, u: float) -> list[str]:
    if not found:
        return []
    measures: list[str] = [LeadMeasure.fine, LeadMeasure.blacklist]
    return measures + ([LeadMeasure.refer_police] if u < 0.15 else [])


def simulate_work(session: Session, campaign_code: str, day: dt.date, seed: int) -> WorkActivity:
    """Register, 整改台账 with 销号, and leads, through the same services the dashboard calls.

    - the office imports the project register on the first working day of 自查自纠;
    - each regulator records its self-check problems two weeks into 自查自纠, the office records
      verification findings on sampled projects ten days into 重点核查;
    - departments ask for 销号 some working days after finding (a silent department often never
      does), the office approves the next working day, rejecting a first request now and then;
    - leads arrive on some working days, are assigned the next working day, reported and closed.
    """
    campaign = get_campaign(session, campaign_code)
    spec = stored_spec(campaign)
    cal = campaign_calendar(spec)
    if not cal.is_workday(day):
        return WorkActivity()
    at = simulated_moment(day)
    office = Actor(OFFICE_ACTOR_NAME, Role.office, None, "办公室（模拟）")
    regulators = [d.code for d in spec.departments if d.kind == "industry_regulator"]
    by_kind = {p.kind.value: p for p in spec.phases}
    out = {"projects": 0, "problems_found": 0, "problems_closed": 0, "leads_received": 0, "leads_closed": 0}

    self_check = by_kind.get("self_check")
    if self_check and regulators and day == _first_workday_from(cal, self_check.start):
        lines = [REGISTER_HEADER]
        for code in regulators:
            for i in range(1, 6 + int(_unit(seed, "projects", code) * 10)):
                u = _unit(seed, "project", code, i)
                lines.append(
                    f"{code.upper()}-2019-{i:03d},{code.upper()}-{PROJECT_KINDS[int(u * 6)]}{i},{code},"
                    f"2019-{1 + int(u * 12):02d}-{1 + int(u * 27):02d},{50 + int(u * 5000)},"
                    f"{BIDDERS[int(u * 4)]},{'；'.join(BIDDERS[: 2 + int(u * 3)])}\n"
                )
        report = projects.import_projects(
            session,
            actor=office,
            at=at,
            campaign_code=campaign_code,
            data="".join(lines).encode(),
            filename="监管项目台账.csv",
        )
        out["projects"] = report.added

    def record(dept: str, phase_key: str, n: int, project_code: str | None, actor: Actor) -> None:
        u = _unit(seed, "problem", dept, phase_key, n)
        category, text, handling = DEMO_PROBLEMS[int(u * len(DEMO_PROBLEMS))]
        problems.record_problem(
            session,
            actor=actor,
            at=at,
            campaign_code=campaign_code,
            department_code=dept,
            phase_key=phase_key,
            category=category,
            description=text,
            handling_class=handling,
            deadline_on=cal.add_workdays(day, 10 + int(u * 20)),
            found_on=day,
            project_code=project_code,
            responsible_person=f"{dept}科室负责人",
            measure="责令限期整改，约谈相关责任人",
        )
        out["problems_found"] += 1

    if self_check and day == _first_workday_from(cal, self_check.start + dt.timedelta(days=14)):
        for dept in regulators:
            actor = Actor(f"sim-{dept}", Role.department, dept, f"{dept}（模拟）")
            for n in range(1 + int(_unit(seed, "found", dept) * 4)):
                record(dept, self_check.key, n, None, actor)
    verification = by_kind.get("verification")
    if verification and day == _first_workday_from(cal, verification.start + dt.timedelta(days=10)):
        sampled = session.execute(
            select(Department.code, Project.code)
            .join(Department, Department.id == Project.department_id)
            .where(Project.campaign_id == campaign.id, Project.sampled.is_(True))
            .order_by(Project.code)
        ).all()
        for n, (dept, project_code) in enumerate(sampled):
            if _unit(seed, "verified", project_code) < 0.4:
                record(dept, verification.key, n, project_code, office)

    for p in session.scalars(
        select(Problem)
        .where(Problem.campaign_id == campaign.id, Problem.status != ProblemStatus.closed.value)
        .order_by(Problem.id)
    ).all():
        dept = session.get_one(Department, p.department_id).code
        if p.status == ProblemStatus.closing.value:
            if _unit(seed, "reject", p.code, p.version) < 0.15:
                problems.reject_close(
                    session,
                    actor=office,
                    at=at,
                    problem_id=p.id,
                    expected_version=p.version,
                    reason="整改佐证不充分，请补充整改前后对比材料",
                )
            else:
                problems.approve_close(session, actor=office, at=at, problem_id=p.id, expected_version=p.version)
                out["problems_closed"] += 1
            continue
        if profile(seed, dept) == "silent" and _unit(seed, "never", p.code) < 0.6:
            continue
        if day >= cal.add_workdays(p.found_on, 3 + int(_unit(seed, "fix", p.code, p.version) * 20)):
            problems.request_close(
                session,
                actor=Actor(f"sim-{dept}", Role.department, dept, f"{dept}（模拟）"),
                at=at,
                problem_id=p.id,
                expected_version=p.version,
                evidence="已完成整改：责令重新招标，对相关责任人进行约谈，整改报告附后。",
            )

    for lead in session.scalars(
        select(Lead).where(Lead.campaign_id == campaign.id, Lead.status != LeadStatus.closed.value).order_by(Lead.id)
    ).all():
        u = _unit(seed, "lead", lead.code)
        if lead.status == LeadStatus.received.value and regulators:
            dept = (
                "gafj"
                if lead.category == ProblemCategory.collusion.value and "gafj" in {d.code for d in spec.departments}
                else regulators[int(u * len(regulators))]
            )
            leads.assign_lead(
                session,
                actor=office,
                at=at,
                lead_id=lead.id,
                expected_version=lead.version,
                department_code=dept,
                working_days=15,
            )
        elif lead.status == LeadStatus.assigned.value and day >= cal.add_workdays(lead.received_on, 4 + int(u * 14)):
            dept = session.get_one(Department, lead.department_id).code
            found = u < 0.6
            leads.report_outcome(
                session,
                actor=Actor(f"sim-{dept}", Role.department, dept, f"{dept}（模拟）"),
                at=at,
                lead_id=lead.id,
                expected_version=lead.version,
                outcome=LeadOutcome.confirmed if found else LeadOutcome.unfounded,
                measures=_measures(found, u),
                fine_wan=round(2 + u * 30, 2) if found else 0,
                enterprises_involved=1 + int(u * 3) if found else 0,
                people_dealt_with=int(u * 4) if found else 0,
            )
        elif lead.status == LeadStatus.reported.value:
            leads.close_lead(session, actor=office, at=at, lead_id=lead.id, expected_version=lead.version)
            out["leads_closed"] += 1
    if spec.start <= day and _unit(seed, "new-lead", day) < 0.15:
        u = _unit(seed, "lead-kind", day)
        category, text, _handling = DEMO_PROBLEMS[int(u * len(DEMO_PROBLEMS))]
        leads.intake_lead(
            session,
            actor=office,
            at=at,
            campaign_code=campaign_code,
            source=LEAD_SOURCES[int(u * len(LEAD_SOURCES))],
            received_on=day,
            category=category,
            summary=f"反映：{text}（模拟线索）",
            reporter_name="（实名举报人）" if u < 0.3 else None,
        )
        out["leads_received"] += 1
    simulation_supervision.simulate_supervision(session, campaign_code, day, seed)  # 督办单 answers, 批示 (issue 13)
    simulation_plan_shapes.simulate_plan_shapes(session, campaign_code, day)  # 自选事项, a meeting decision (issue 16)
    risk_demo.simulate_risk(session, campaign_code, day, at, office)  # 大数据预警: planted rings, 预警 leads (issue 14)
    supervision_simulation.simulate_loop(session, campaign_code, day, seed, at)  # 签收, 延期申请, 催办 (issue 13)
    return WorkActivity(**out)
