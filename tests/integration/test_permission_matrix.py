"""Every service call as every role and department: only the allowed succeed, every refusal is audited.

The target of every call belongs to department zjj. A call is allowed for the office (administers),
the leader (reads only) and zjj's own user as the matrix says; every other department user must be
refused with Forbidden, and each refusal must leave exactly one committed audit record
(outcome 'refused') even though the unit of work is rolled back. Unfiltered lists and the read
models (services.views) run as a department must only ever contain that department's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from domain.access import SYSTEM, Actor, Forbidden, Role
from exchange.reports import Narrative
from services import credit as cr
from services import delivery as dl
from services import duban as dn
from services import exports as ex
from services import imports as im
from services import instructions as ins
from services import leads as ld
from services import meetings as mt
from services import optional_items as oi
from services import problems as pb
from services import projects as pj
from services import reports as rp
from services import scoring as sc
from services import submissions as sub
from services import users as us
from services.attachments import Upload
from services.risk import register as rk_register
from services.risk import screening as rk_screening
from services.supervision import acknowledge as sv_ack
from services.supervision import extensions as sv_ext
from services.supervision import todo as sv_todo
from services.supervision import urging as sv_urge
from services.views import boards as vb
from services.views import campaigns as vc
from services.views import ledger as vl
from store.models import AuditEntry, Department, Duban

UTC = dt.UTC
AT = dt.datetime(2020, 7, 6, 2, tzinfo=UTC)
CSV = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）\nZJ-9,住建项目,zjj,2020-03-01,10\n".encode()

BIDS_CSV = (
    "项目编号,项目名称,监管部门代码,招标方式,投标人名称,统一社会信用代码\nZJ-B1,住建项目,zjj,公开招标,甲公司,91510000MA6200001X\n"
).encode()
USERS_CSV = "用户名,姓名,角色,部门代码,初始密码\nnewuser,新同事,部门联络员,zjj,Passw0rd!2020x\n".encode()

OFFICE, LEADER, OWN = "office", "leader", "dept_zjj"
ADMIN = {OFFICE}
READ = {OFFICE, LEADER, OWN}
OWN_ONLY = {OWN}
ADMIN_OR_OWN = {OFFICE, OWN}
ADMIN_OR_LEADER = {OFFICE, LEADER}


class _Everyone:
    """Reads every role may make: what they return is scoped (test_views_show_a_department_only_its_own_rows)."""

    def __contains__(self, name: object) -> bool:
        return True


EVERYONE = _Everyone()
DAY = dt.date(2020, 6, 1)  # the launched campaign's rollup day (conftest.TICK_TO)


@dataclass
class World:
    code: str
    open_assignment: int
    submitted: tuple[int, int]
    problem_open: tuple[int, int]
    problem_closing: tuple[int, int]
    problem_closed: tuple[int, int]
    lead_assigned: tuple[int, int]
    lead_reported: tuple[int, int]
    attachment: int
    attachment_dir: Path
    optional_item: str = ""  # a 自选事项 zjj added (issue 16)


@pytest.fixture
def world(uow_factory, launched_campaign, actors, attachment_dir) -> World:
    code, office, dept = launched_campaign.code, actors[OFFICE], actors[OWN]
    with uow_factory() as uow:
        s = uow.session
        mine = sub.list_assignments(s, actor=dept, campaign_code=code)
        opened = next(a for a in mine if a.template_key == "self_check_ledger")
        to_submit = next(a for a in mine if a.template_key == "self_check_report")
        handed_in = sub.submit(
            s,
            actor=dept,
            at=AT,
            assignment_id=to_submit.id,
            text="自查报告",
            late_reason="核查对象增多",  # handed in after its deadline (22 June)
            attachments=[Upload("自查报告.pdf", "application/pdf", b"%PDF-1.4 zjj")],
            attachment_dir=attachment_dir,
        )
        submitted = sub.get_assignment(s, actor=office, assignment_id=to_submit.id)[0]

        def problem():
            return pb.record_problem(
                s,
                actor=office,
                at=AT,
                campaign_code=code,
                department_code="zjj",
                phase_key="self_check",
                category="弄虚作假",
                description="资质造假",
                handling_class="立行立改",
                deadline_on=dt.date(2020, 7, 31),
            )

        p_open, p_closing, p_closed = problem(), problem(), problem()
        p_closing = pb.request_close(
            s, actor=dept, at=AT, problem_id=p_closing.id, expected_version=p_closing.version, evidence="已整改"
        )
        p_closed = pb.request_close(
            s, actor=dept, at=AT, problem_id=p_closed.id, expected_version=p_closed.version, evidence="已整改"
        )
        p_closed = pb.approve_close(s, actor=office, at=AT, problem_id=p_closed.id, expected_version=p_closed.version)

        def lead():
            x = ld.intake_lead(
                s,
                actor=office,
                at=AT,
                campaign_code=code,
                source="举报",
                received_on=dt.date(2020, 7, 1),
                category="围标串标",
                summary="串标",
                reporter_name="王五",
                reporter_phone="13900000000",
            )
            return ld.assign_lead(
                s, actor=office, at=AT, lead_id=x.id, expected_version=x.version, department_code="zjj", working_days=10
            )

        l_assigned, l_reported = lead(), lead()
        l_reported = ld.report_outcome(
            s, actor=dept, at=AT, lead_id=l_reported.id, expected_version=l_reported.version, outcome="不实"
        )
        pj.import_projects(s, actor=office, at=AT, campaign_code=code, data=CSV, filename="r.csv")
        item = oi.add_item(
            s,
            actor=dept,
            at=AT,
            campaign_code=code,
            department_code="zjj",
            phase_key="self_check",
            title="自选自查",
            deliverable="report",
            due_on=dt.date(2020, 6, 24),
        )
        _meeting(s, office, code)
        uow.commit()
    v = lambda x: (x.id, x.version)  # noqa: E731
    return World(
        code,
        opened.id,
        v(submitted),
        v(p_open),
        v(p_closing),
        v(p_closed),
        v(l_assigned),
        v(l_reported),
        handed_in.attachments[0].id,
        attachment_dir,
        item.key,
    )


def _meeting(s, actor, code):
    return mt.record_meeting(
        s,
        actor=actor,
        at=AT,
        campaign_code=code,
        kind="会商",
        title="联席会议会商",
        held_on=dt.date(2020, 7, 3),
        attendees=["区发改局", "区住建局"],
        decisions=["住建局报送专家抽取情况"],
    )


def _operations(w: World):
    c = w.code
    return [
        (
            "user.add",
            ADMIN,
            lambda s, a: us.add_user(
                s,
                actor=a,
                at=AT,
                username="newbie",
                display_name="新人",
                role="department",
                department_code="zjj",
                email=None,
                password="long-enough-1",
            ),
        ),
        ("user.list", ADMIN_OR_LEADER, lambda s, a: us.list_users(s, actor=a, at=AT)),
        ("user.disable", ADMIN, lambda s, a: us.disable_user(s, actor=a, at=AT, username="dept_swj")),
        (
            "user.set_password",
            ADMIN_OR_OWN,
            lambda s, a: us.set_password(s, actor=a, at=AT, username=OWN, password="another-pass-1"),
        ),
        (
            "assignment.list",
            READ,
            lambda s, a: sub.list_assignments(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        ("assignment.read", READ, lambda s, a: sub.get_assignment(s, actor=a, assignment_id=w.submitted[0], at=AT)),
        (
            "submission.submit",
            OWN_ONLY,
            lambda s, a: sub.submit(
                s, actor=a, at=AT, assignment_id=w.open_assignment, text="台账", late_reason="核查延误"
            ),
        ),
        (
            "submission.accept",
            ADMIN,
            lambda s, a: sub.accept(s, actor=a, at=AT, assignment_id=w.submitted[0], expected_version=w.submitted[1]),
        ),
        (
            "submission.return",
            ADMIN,
            lambda s, a: sub.return_submission(
                s, actor=a, at=AT, assignment_id=w.submitted[0], expected_version=w.submitted[1], reason="补充"
            ),
        ),
        ("review.queue", ADMIN_OR_LEADER, lambda s, a: sub.review_queue(s, actor=a, campaign_code=c, at=AT)),
        (
            "problem.record",
            ADMIN_OR_OWN,
            lambda s, a: pb.record_problem(
                s,
                actor=a,
                at=AT,
                campaign_code=c,
                department_code="zjj",
                phase_key="self_check",
                category="规避招标",
                description="x",
                handling_class="限时整改",
                deadline_on=dt.date(2020, 8, 1),
            ),
        ),
        (
            "problem.list",
            READ,
            lambda s, a: pb.list_problems(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        ("problem.read", READ, lambda s, a: pb.get_problem(s, actor=a, problem_id=w.problem_open[0], at=AT)),
        (
            "problem.request_close",
            OWN_ONLY,
            lambda s, a: pb.request_close(
                s, actor=a, at=AT, problem_id=w.problem_open[0], expected_version=w.problem_open[1], evidence="佐证"
            ),
        ),
        (
            "problem.approve",
            ADMIN,
            lambda s, a: pb.approve_close(
                s, actor=a, at=AT, problem_id=w.problem_closing[0], expected_version=w.problem_closing[1]
            ),
        ),
        (
            "problem.reject",
            ADMIN,
            lambda s, a: pb.reject_close(
                s, actor=a, at=AT, problem_id=w.problem_closing[0], expected_version=w.problem_closing[1], reason="不足"
            ),
        ),
        (
            "problem.rebound",
            ADMIN,
            lambda s, a: pb.reopen_rebound(
                s, actor=a, at=AT, problem_id=w.problem_closed[0], expected_version=w.problem_closed[1], reason="反弹"
            ),
        ),
        (
            "project.import",
            ADMIN_OR_OWN,
            lambda s, a: pj.import_projects(s, actor=a, at=AT, campaign_code=c, data=CSV, filename="r.csv"),
        ),
        (
            "project.list",
            READ,
            lambda s, a: pj.list_projects(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        ("sampling.verify", ADMIN_OR_LEADER, lambda s, a: pj.verify_draws(s, actor=a, campaign_code=c)),
        (
            "lead.intake",
            ADMIN,
            lambda s, a: ld.intake_lead(
                s,
                actor=a,
                at=AT,
                campaign_code=c,
                source="举报",
                received_on=dt.date(2020, 7, 1),
                category="其他",
                summary="x",
            ),
        ),
        ("lead.list", READ, lambda s, a: ld.list_leads(s, actor=a, campaign_code=c, department_code="zjj", at=AT)),
        ("lead.read", READ, lambda s, a: ld.get_lead(s, actor=a, lead_id=w.lead_assigned[0], at=AT)),
        (
            "lead.assign",
            ADMIN,
            lambda s, a: ld.assign_lead(
                s,
                actor=a,
                at=AT,
                lead_id=w.lead_assigned[0],
                expected_version=w.lead_assigned[1],
                department_code="jyj",
                working_days=5,
            ),
        ),
        (
            "lead.report",
            OWN_ONLY,
            lambda s, a: ld.report_outcome(
                s, actor=a, at=AT, lead_id=w.lead_assigned[0], expected_version=w.lead_assigned[1], outcome="不实"
            ),
        ),
        (
            "lead.close",
            ADMIN,
            lambda s, a: ld.close_lead(
                s, actor=a, at=AT, lead_id=w.lead_reported[0], expected_version=w.lead_reported[1]
            ),
        ),
        ("lead.figures", READ, lambda s, a: ld.lead_figures(s, actor=a, campaign_code=c, department_code="zjj", at=AT)),
        ("user.enable", ADMIN, lambda s, a: us.enable_user(s, actor=a, at=AT, username="dept_swj")),
        (
            "problem.ledger",
            READ,
            lambda s, a: pb.problem_ledger(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        ("export.ledger", READ, lambda s, a: ex.ledger_xlsx(s, actor=a, campaign_code=c, department_code="zjj", at=AT)),
        (
            "report.department",
            READ,
            lambda s, a: rp.report_data(s, actor=a, campaign_code=c, period="2020-06", department_code="zjj", at=AT),
        ),
        (
            "report.rollup",
            ADMIN_OR_LEADER,
            lambda s, a: rp.report_data(s, actor=a, campaign_code=c, period="2020-06", department_code=None, at=AT),
        ),
        (
            "report.narrative.save",
            OWN_ONLY,
            lambda s, a: rp.save_narrative(
                s,
                actor=a,
                at=AT,
                campaign_code=c,
                period="2020-06",
                department_code="zjj",
                narrative=Narrative(practices="住建局自查情况"),
            ),
        ),
        (
            "import.users",
            ADMIN,
            lambda s, a: im.import_file(
                s, actor=a, at=AT, campaign_code=c, kind="users", data=USERS_CSV, filename="users.csv"
            ),
        ),
        ("delivery.list", ADMIN, lambda s, a: dl.problems(s, actor=a, campaign_code=c, at=AT)),
        (
            "attachment.read",
            READ,
            lambda s, a: sub.read_attachment(
                s, actor=a, attachment_id=w.attachment, attachment_dir=w.attachment_dir, at=AT
            ),
        ),
        ("delivery.inbox", EVERYONE, lambda s, a: dl.inbox_for(s, actor=a)),
        ("delivery.threads", EVERYONE, lambda s, a: dl.threads_for(s, actor=a)),
        ("project.draws", EVERYONE, lambda s, a: pj.list_draws(s, actor=a, campaign_code=c, at=AT)),
        (
            "report.narrative.read",
            READ,
            lambda s, a: rp.get_narrative(s, actor=a, campaign_code=c, period="2020-06", department_code="zjj", at=AT),
        ),
        *_plan_shapes(w),
        *_supervision(w),
        *_duban_and_instructions(w),
        *_risk(w),
        *((f"view.{name}", allowed, call) for name, allowed, call in _views(w)),
    ]


def _risk(w: World):
    """The bid register, red-flag screening and credit (issue 14)."""
    c = w.code
    return [
        (
            "bid.import",
            ADMIN_OR_OWN,
            lambda s, a: rk_register.import_bids(
                s, actor=a, at=AT, campaign_code=c, data=BIDS_CSV, filename="bids.csv"
            ),
        ),
        ("risk.scan", ADMIN, lambda s, a: rk_screening.scan_campaign(s, actor=a, at=AT, campaign_code=c)),
        (
            "risk.flags",
            READ,
            lambda s, a: rk_screening.list_flags(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        (
            "risk.network",
            ADMIN_OR_LEADER,
            lambda s, a: rk_screening.collusion_network(s, actor=a, campaign_code=c, at=AT),
        ),
        ("risk.hit_rates", ADMIN_OR_LEADER, lambda s, a: rk_screening.hit_rates(s, actor=a, campaign_code=c, at=AT)),
        ("credit.refresh", ADMIN, lambda s, a: cr.refresh_credit(s, actor=a, at=AT, campaign_code=c)),
        ("credit.list", EVERYONE, lambda s, a: cr.list_credit(s, actor=a, campaign_code=c, at=AT)),
    ]


def _zjj_task(s, code: str, key: str) -> int:
    rows = sub.list_assignments(s, actor=SYSTEM, campaign_code=code, department_code="zjj", at=AT)
    return next(r.id for r in rows if r.template_key == key)


def _decide_fresh_request(s, a, code: str):
    """A request zjj makes in the same (never committed) unit of work, decided by `a`."""
    asked = sv_ext.request_extension(
        s,
        actor=Actor(OWN, Role.department),
        at=AT,
        assignment_id=_zjj_task(s, code, "monthly_report"),
        until=dt.date(2020, 7, 10),
        reason="延期",
    )
    return sv_ext.decide_extension(s, actor=a, at=AT, request_id=asked.id, approve=True, reason="同意")


def _supervision(w: World):
    """签收, 延期申请, 撤回, 催办 and the office's 待办 (issue 13)."""
    c = w.code
    return [
        ("assignment.sign", OWN_ONLY, lambda s, a: sv_ack.sign(s, actor=a, at=AT, assignment_ids=[w.open_assignment])),
        (
            "extension.request",
            OWN_ONLY,
            lambda s, a: sv_ext.request_extension(
                s, actor=a, at=AT, assignment_id=w.open_assignment, until=dt.date(2020, 7, 10), reason="延期"
            ),
        ),
        ("extension.decide", ADMIN, lambda s, a: _decide_fresh_request(s, a, c)),
        (
            "extension.list",
            READ,
            lambda s, a: sv_ext.list_extensions(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        ("submission.withdraw", OWN_ONLY, lambda s, a: sub.withdraw(s, actor=a, at=AT, assignment_id=w.submitted[0])),
        (
            "assignment.previous_draft",
            READ,
            lambda s, a: sub.previous_draft(s, actor=a, assignment_id=w.submitted[0], at=AT),
        ),
        (
            "assignment.urge",
            ADMIN_OR_LEADER,
            lambda s, a: sv_urge.urge(
                s, actor=a, at=AT, campaign_code=c, assignment_id=w.open_assignment, message="请尽快报送"
            ),
        ),
        (
            "urge.list",
            READ,
            lambda s, a: sv_urge.list_urges(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        ("office.todo", ADMIN, lambda s, a: sv_todo.office_todo(s, actor=a, campaign_code=c, at=AT)),
    ]


def _plan_shapes(w: World):
    """自选事项 and meetings (issue 16)."""
    c = w.code
    return [
        (
            "optional_item.add",
            ADMIN_OR_OWN,
            lambda s, a: oi.add_item(
                s,
                actor=a,
                at=AT,
                campaign_code=c,
                department_code="zjj",
                phase_key="self_check",
                title="再加一项",
                deliverable="表格",
                due_on=dt.date(2020, 6, 29),
            ),
        ),
        (
            "optional_item.withdraw",
            ADMIN_OR_OWN,
            lambda s, a: oi.withdraw_item(s, actor=a, at=AT, campaign_code=c, template_key=w.optional_item),
        ),
        ("optional_item.list", READ, lambda s, a: oi.list_items(s, actor=a, campaign_code=c, department_code="zjj")),
        (
            "optional_item.windows",
            READ,
            lambda s, a: oi.windows(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        ("meeting.record", ADMIN, lambda s, a: _meeting(s, a, c)),
        (
            "meeting.assign",
            ADMIN,
            lambda s, a: mt.assign_decision(
                s,
                actor=a,
                at=AT,
                campaign_code=c,
                meeting_code="HY-0001",
                seq=1,
                department_codes=["zjj"],
                due_on=dt.date(2020, 7, 20),
            ),
        ),
        ("meeting.list", EVERYONE, lambda s, a: mt.list_meetings(s, actor=a, campaign_code=c, at=AT)),
    ]


def _duban_and_instructions(w: World):
    """督办单, 批示, 考核排名 (issue 13)."""
    c = w.code
    return [
        ("duban.issue", ADMIN, lambda s, a: dn.issue_dubans(s, campaign_code=c, as_of=DAY, actor=a, at=AT)),
        ("duban.list", READ, lambda s, a: dn.list_dubans(s, actor=a, campaign_code=c, department_code="zjj", at=AT)),
        ("duban.read", READ, lambda s, a: dn.get_duban(s, actor=a, duban_id=_zjj_duban(s), at=AT)),
        ("duban.document", READ, lambda s, a: dn.duban_document(s, actor=a, duban_id=_zjj_duban(s), at=AT)),
        ("duban.respond", OWN_ONLY, lambda s, a: dn.respond(s, actor=a, at=AT, duban_id=_zjj_duban(s), text="已办结")),
        ("duban.review", ADMIN, _review_fresh_answer),
        ("instruction.write", ADMIN_OR_LEADER, lambda s, a: _instruct(s, a, c, due=dt.date(2020, 7, 20))),
        (
            "instruction.list",
            READ,
            lambda s, a: ins.list_instructions(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        (
            "instruction.reply",
            OWN_ONLY,
            lambda s, a: ins.reply(s, actor=a, at=AT, instruction_id=_instruct(s, None, c).id, text="已落实"),
        ),
        ("score.write", ADMIN, lambda s, a: sc.write_scores(s, campaign_code=c, as_of=DAY, actor=a, at=AT)),
        ("score.read", ADMIN_OR_LEADER, lambda s, a: sc.ranking(s, actor=a, campaign_code=c, as_of=DAY, at=AT)),
        ("score.trend", ADMIN_OR_LEADER, lambda s, a: sc.score_trend(s, actor=a, campaign_code=c, at=AT)),
    ]


def _zjj_duban(s) -> int:
    """A 督办单 of zjj's (the launch fixture's tick to 1 June issued some)."""
    return s.scalar(
        select(Duban.id).join(Department, Department.id == Duban.department_id).where(Department.code == "zjj")
    )


def _review_fresh_answer(s, a):
    """zjj answers one of its 督办单 in the same (never committed) unit of work; `a` marks the answer 已阅."""
    target = _zjj_duban(s)
    dn.respond(s, actor=Actor(OWN, Role.department), at=AT, duban_id=target, text="已办结")
    return dn.review(s, actor=a, at=AT, duban_id=target)


def _instruct(s, actor, code, due=None):
    """A 批示 to zjj, written by `actor` (None: the leader, as the set-up of a reply)."""
    leader = us.actor_for(s, LEADER)
    return ins.instruct(
        s, actor=actor or leader, at=AT, campaign_code=code, department_code="zjj", text="请抓紧办理", due_on=due
    )


def _views(w: World):
    """Every read of services.views: scoped reads for everyone, a named department for its readers."""
    c = w.code
    return [
        ("campaigns", EVERYONE, lambda s, a: vc.campaigns(s, actor=a, at=AT)),
        ("spec", EVERYONE, lambda s, a: vc.campaign_spec(s, actor=a, campaign_code=c, at=AT)),
        ("escalation_names", EVERYONE, lambda s, a: vc.escalation_names(s, actor=a, campaign_code=c, at=AT)),
        ("phases", EVERYONE, lambda s, a: vc.phases(s, actor=a, campaign_code=c, at=AT)),
        ("departments", EVERYONE, lambda s, a: vc.departments(s, actor=a, campaign_code=c, at=AT)),
        ("rollup_day", EVERYONE, lambda s, a: vb.rollup_day(s, actor=a, campaign_code=c, as_of=DAY, at=AT)),
        ("department_board", EVERYONE, lambda s, a: vb.department_board(s, actor=a, campaign_code=c, day=DAY, at=AT)),
        ("heatmap", EVERYONE, lambda s, a: vb.heatmap(s, actor=a, campaign_code=c, day=DAY, at=AT)),
        ("trend", EVERYONE, lambda s, a: vb.trend(s, actor=a, campaign_code=c, at=AT)),
        ("overdue", EVERYONE, lambda s, a: vb.overdue(s, actor=a, campaign_code=c, at=AT)),
        ("bulletin_lists", EVERYONE, lambda s, a: vb.bulletin_lists(s, actor=a, campaign_code=c, day=DAY, at=AT)),
        (
            "department_assignments",
            READ,
            lambda s, a: vb.department_assignments(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
        (
            "problems_by_department",
            EVERYONE,
            lambda s, a: vl.problems_by_department(s, actor=a, campaign_code=c, at=AT),
        ),
        ("lead_funnel", EVERYONE, lambda s, a: vl.lead_funnel(s, actor=a, campaign_code=c, at=AT)),
        ("board_day", EVERYONE, lambda s, a: vb.board_day(s, actor=a, campaign_code=c, at=AT)),
        ("simulated", EVERYONE, lambda s, a: vb.simulated(s, actor=a, campaign_code=c, at=AT)),
        (
            "department_why",
            READ,
            lambda s, a: vb.department_why(s, actor=a, campaign_code=c, department_code="zjj", at=AT),
        ),
    ]


def _refused(uow_factory) -> list[tuple[str, str]]:
    with uow_factory() as uow:
        return [
            tuple(r)
            for r in uow.session.execute(
                select(AuditEntry.actor, AuditEntry.action)
                .where(AuditEntry.outcome == "refused")
                .order_by(AuditEntry.id)
            )
        ]


def test_permission_matrix(uow_factory, world, actors):
    everyone = [name for name in actors if name != "system"]
    assert len(everyone) == 9  # office, leader, seven department users
    failures = []
    calls = 0
    for op, allowed, call in _operations(world):
        for name in everyone:
            before = len(_refused(uow_factory))
            expected = name in allowed
            try:  # outside the unit of work, which records a refusal on its way out
                with uow_factory() as uow:  # never committed: every call starts from the same world
                    result = call(uow.session, actors[name])
                outcome = "ok"
            except Forbidden:
                outcome = "forbidden"
            calls += 1
            after = _refused(uow_factory)
            if outcome != ("ok" if expected else "forbidden"):
                failures.append(f"{op} as {name}: {outcome}, expected {'ok' if expected else 'forbidden'}")
            elif not expected and (len(after) != before + 1 or after[-1][0] != name):
                failures.append(f"{op} as {name}: refusal not audited ({after[-1:]})")
            elif expected and op == "lead.read" and name != OFFICE and result.reporter_name is not None:
                failures.append(f"{op} as {name}: confidential reporter shown")
    assert calls == len(_operations(world)) * 9
    assert not failures, "\n".join(failures)


def test_department_lists_never_show_other_departments(uow_factory, world, actors):
    c = world.code
    for name, actor in actors.items():
        if not name.startswith("dept_"):
            continue
        own = actor.department_code
        with uow_factory() as uow:
            s = uow.session
            assert {a.department_code for a in sub.list_assignments(s, actor=actor, campaign_code=c)} <= {own}
            assert {p.department_code for p in pb.list_problems(s, actor=actor, campaign_code=c)} <= {own}
            assert {p.department_code for p in pj.list_projects(s, actor=actor, campaign_code=c)} <= {own}
            assert {x.department_code for x in ld.list_leads(s, actor=actor, campaign_code=c)} <= {own}
            assert all(x.reporter_name is None for x in ld.list_leads(s, actor=actor, campaign_code=c))
            assert {d.department_code for d in pj.list_draws(s, actor=actor, campaign_code=c)} <= {own}
    with uow_factory() as uow:
        office_view = ld.list_leads(uow.session, actor=actors[OFFICE], campaign_code=c)
        assert office_view and all(x.reporter_name == "王五" for x in office_view)
        leader_view = ld.list_leads(uow.session, actor=actors[LEADER], campaign_code=c)
        assert leader_view and all(x.reporter_name is None for x in leader_view)
        assert uow.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.outcome == "refused")) == 0


def test_failed_logins_are_audited(uow_factory, users, actors):
    with uow_factory() as uow:
        assert us.authenticate(uow.session, OWN, users[OWN], at=AT).department_code == "zjj"
        us.disable_user(uow.session, actor=actors[OFFICE], at=AT, username="dept_swj")
        uow.commit()
    # Each refused login leaves its unit of work with the error, which records the refusal.
    with pytest.raises(us.AuthFailed, match="用户名或密码错误"), uow_factory() as uow:
        us.authenticate(uow.session, OWN, "wrong-password", at=AT)
    with pytest.raises(us.AuthFailed, match="用户名或密码错误"), uow_factory() as uow:
        us.authenticate(uow.session, "nobody", "whatever1", at=AT)
    with pytest.raises(us.AuthFailed, match="已停用"), uow_factory() as uow:
        us.authenticate(uow.session, "dept_swj", users["dept_swj"], at=AT)
    assert [a for _u, a in _refused(uow_factory)] == ["user.login"] * 3


def test_user_rules(uow_factory, users, actors):
    from domain.errors import Invalid

    base = {"at": AT, "display_name": "某人", "email": None}
    with uow_factory() as uow:
        s = uow.session
        with pytest.raises(Invalid, match="已存在"):
            us.add_user(
                s,
                actor=actors[OFFICE],
                username=OWN,
                role="department",
                department_code="zjj",
                password="long-enough-1",
                **base,
            )
        with pytest.raises(Invalid, match="必须指定所属部门"):
            us.add_user(
                s,
                actor=actors[OFFICE],
                username="x1",
                role="department",
                department_code=None,
                password="long-enough-1",
                **base,
            )
        with pytest.raises(Invalid, match="至少需要 8"):
            us.add_user(
                s, actor=actors[OFFICE], username="x2", role="leader", department_code=None, password="short", **base
            )
        with pytest.raises(Invalid, match="角色"):
            us.add_user(
                s,
                actor=actors[OFFICE],
                username="x3",
                role="boss",
                department_code=None,
                password="long-enough-1",
                **base,
            )
        u = us.add_user(
            s,
            actor=actors[OFFICE],
            username="x4",
            role="leader",
            department_code=None,
            password="long-enough-1",
            **base,
        )
        assert u == us.UserDTO("x4", "某人", "leader", None, None, False)
        assert "long-enough-1" not in s.scalar(select(us.User.password_hash).where(us.User.username == "x4"))


def test_usernames_differing_only_in_case_are_one_name(uow_factory, users, actors):
    from domain.errors import Invalid

    with uow_factory() as uow, pytest.raises(Invalid, match="不区分大小写"):
        us.add_user(
            uow.session,
            actor=actors[OFFICE],
            at=AT,
            username="Dept_ZJJ",
            display_name="另一个",
            role="department",
            department_code="zjj",
            email=None,
            password="Passw0rd!2020",
        )


def _departments_in(result) -> set[str]:
    """The department codes (or names) a view's frame shows."""
    frames = result if isinstance(result, tuple) else (result,)
    out: set[str] = set()
    for df in frames:
        for column in ("code", "name"):
            if column in df.columns:
                out |= {str(v) for v in df[column]}
    return out


def test_views_show_a_department_only_its_own_rows(uow_factory, world, actors):
    """Every read model as every department user: its own department's rows or nothing; the office
    and the leader see more than one department in the department-wise views."""
    with uow_factory() as uow:
        depts = vc.departments(uow.session, actor=actors[OFFICE], campaign_code=world.code)
    names = dict(zip(depts["code"], depts["name"], strict=False))
    department_wise = {"departments", "department_board", "heatmap", "overdue"}
    for view, _allowed, call in _views(world):
        for name, actor in actors.items():
            try:
                with uow_factory() as uow:
                    result = call(uow.session, actor)
            except Forbidden:
                assert view in ("department_assignments", "department_why")
                assert actor.department_code not in (None, "zjj")
                continue
            if view == "campaigns" or not isinstance(result, (pd.DataFrame, tuple)):
                continue  # campaigns, a day, a spec, names: no department rows to show
            shown = _departments_in(result)
            if name.startswith("dept_"):
                own = {actor.department_code, names[actor.department_code]}
                assert shown <= own, f"{view} as {name} shows {shown - own}"
            elif view in department_wise and name != "system":
                assert len(shown) > 2, f"{view} as {name} shows {shown}"
