"""The read models (services.views) against the records they summarise, on SQLite and PostgreSQL.

The campaign is yanjiang-2020 launched and ticked (conftest), ticked on to 2020-06-29 so work is
overdue and escalated. Every expected number is counted from the spec or from the records with a
query of its own, never typed in.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import func, select

from domain.access import Forbidden
from domain.assignment import ACTIVE, ASSIGNMENT, PHASE_STATE, UNFINISHED, AssignmentStatus
from domain.department import DEPARTMENT_KIND
from domain.rollup import Counts, criticised, praised
from services import leads as lead_service
from services import problems as problem_service
from services import submissions as sub
from services.views import boards, campaigns, ledger
from store.models import Assignment, AuditEntry, Department

AS_OF = dt.date(2020, 6, 29)
AT = dt.datetime(2020, 6, 29, 2, tzinfo=dt.UTC)


@pytest.fixture
def campaign(launched_campaign, tick, users):
    tick(AS_OF)
    return launched_campaign


def _assignments_by_department(s, statuses: tuple[str, ...], **where) -> dict[str, int]:
    q = (
        select(Department.code, func.count(Assignment.id))
        .join(Assignment, Assignment.department_id == Department.id)
        .where(Assignment.status.in_(statuses))
        .group_by(Department.code)
    )
    for column, value in where.items():
        q = q.where(getattr(Assignment, column) > value)
    return dict(s.execute(q).all())


def test_campaign_phases_and_departments_follow_the_spec(uow_factory, campaign, actors):
    spec = campaign.spec
    with uow_factory() as uow:
        s = uow.session
        listed = campaigns.campaigns(s, actor=actors["leader"])
        assert list(listed["code"]) == [spec.id]
        assert campaigns.campaign_spec(s, actor=actors["dept_zjj"], campaign_code=spec.id) == spec
        assert campaigns.escalation_names(s, actor=actors["office"], campaign_code=spec.id) == {
            e.level: e.name for e in spec.escalation
        }
        phases = campaigns.phases(s, actor=actors["leader"], campaign_code=spec.id)
        assert list(phases["key"]) == [p.key for p in spec.phases]
        assert set(phases["state_label"]) <= set(PHASE_STATE.labels.values())
        everyone = campaigns.departments(s, actor=actors["office"], campaign_code=spec.id)
        assert sorted(everyone["code"]) == sorted(d.code for d in spec.departments)
        assert list(everyone["kind_label"]) == [DEPARTMENT_KIND.label(k) for k in everyone["kind"]]
        own = campaigns.departments(s, actor=actors["dept_zjj"], campaign_code=spec.id)
        assert list(own["code"]) == ["zjj"]


def test_board_counts_are_the_records_counts(uow_factory, campaign, actors):
    code = campaign.code
    with uow_factory() as uow:
        s = uow.session
        day = boards.rollup_day(s, actor=actors["leader"], campaign_code=code, as_of=AS_OF + dt.timedelta(days=30))
        assert day == AS_OF  # the newest snapshot on or before the day asked
        assert boards.rollup_day(s, actor=actors["leader"], campaign_code=code, as_of=dt.date(2020, 1, 1)) is None
        board = boards.department_board(s, actor=actors["leader"], campaign_code=code, day=day)
        assigned = _assignments_by_department(s, ACTIVE)
        overdue = _assignments_by_department(s, UNFINISHED, overdue_days=0)
        assert dict(zip(board["code"], board["assigned"], strict=False)) == {
            c: assigned.get(c, 0) for c in board["code"]
        }
        assert set(assigned) <= set(board["code"])
        assert dict(zip(board["code"], board["overdue"], strict=False)) == {c: overdue.get(c, 0) for c in board["code"]}
        assert sum(overdue.values()) > 0, "the tick to 06-29 left work overdue"
        assert set(board["grade"]) <= {"正常", "滞后", "严重滞后"}
        # The trend's last day is the board's totals.
        trend = boards.trend(s, actor=actors["office"], campaign_code=code)
        last = trend[trend["as_of"] == day].iloc[0]
        assert int(last["assigned"]) == int(board["assigned"].sum())
        assert int(last["overdue"]) == int(board["overdue"].sum())
        # Per phase: the heat map's cells add up to the department totals.
        heat = boards.heatmap(s, actor=actors["leader"], campaign_code=code, day=day)
        per_dept = heat.groupby("code")["assigned"].sum().to_dict()
        assert per_dept == {c: n for c, n in zip(board["code"], board["assigned"], strict=False) if c in per_dept}
        # The board asks only for the departments it shows: the same cells as theirs in the whole grid.
        shown = ("zjj", "swj")
        few = boards.heatmap(s, actor=actors["leader"], campaign_code=code, day=day, departments=shown)
        assert set(few["code"]) == set(shown)
        whole = heat[heat["code"].isin(shown)].reset_index(drop=True)
        pd.testing.assert_frame_equal(few.reset_index(drop=True), whole)
        # A department asking for others' rows still gets only its own.
        own = boards.heatmap(s, actor=actors["dept_zjj"], campaign_code=code, day=day, departments=shown)
        assert set(own["code"]) == {"zjj"}


def test_overdue_list_and_drill_down(uow_factory, campaign, actors):
    code = campaign.code
    with uow_factory() as uow:
        s = uow.session
        late = boards.overdue(s, actor=actors["leader"], campaign_code=code)
        expected = s.scalar(
            select(func.count(Assignment.id)).where(Assignment.status.in_(UNFINISHED), Assignment.overdue_days > 0)
        )
        assert len(late) == expected > 0
        assert set(late["status_label"]) <= {ASSIGNMENT.label(x) for x in UNFINISHED}
        names = {e.level: e.name for e in campaign.spec.escalation}
        for row in late.itertuples():
            assert row.escalation == (names[int(row.escalation_level)] if row.escalation_level else "—")
        levels = list(zip(late["escalation_level"], late["overdue_days"], strict=False))
        assert levels == sorted(levels, reverse=True)  # worst first
        drill = boards.department_assignments(s, actor=actors["leader"], campaign_code=code, department_code="zjj")
        service = [
            a
            for a in sub.list_assignments(s, actor=actors["office"], campaign_code=code, department_code="zjj")
            if a.status != AssignmentStatus.cancelled
        ]
        assert sorted(drill["id"]) == sorted(a.id for a in service)
        assert list(drill["status_label"]) == [ASSIGNMENT.label(x) for x in drill["status"]]
        own = boards.department_assignments(s, actor=actors["dept_zjj"], campaign_code=code, department_code="zjj")
        assert sorted(own["id"]) == sorted(drill["id"])


def test_bulletin_lists_follow_the_domain_rules(uow_factory, campaign, actors):
    code = campaign.code
    with uow_factory() as uow:
        s = uow.session
        board = boards.department_board(s, actor=actors["office"], campaign_code=code, day=AS_OF)
        praise, criticise = boards.bulletin_lists(s, actor=actors["office"], campaign_code=code, day=AS_OF)
        counts = {
            r.code: Counts(
                int(r.assigned),
                int(r.submitted),
                int(r.accepted),
                int(r.on_time),
                int(r.overdue),
                int(r.escalation_level),
            )
            for r in board.itertuples()
        }
        assert set(praise["code"]) == {c for c, n in counts.items() if praised(n)}
        assert set(criticise["code"]) == {c for c, n in counts.items() if criticised(n)}


def test_ledger_boards_count_problems_and_leads(uow_factory, campaign, actors):
    code, office, zjj = campaign.code, actors["office"], actors["dept_zjj"]
    recorded = {"zjj": 2, "jyj": 1}
    with uow_factory() as uow:
        s = uow.session
        made = [
            problem_service.record_problem(
                s,
                actor=office,
                at=AT,
                campaign_code=code,
                department_code=dept,
                phase_key="self_check",
                category="规避招标",
                description=f"{dept} 问题 {i}",
                handling_class="限时整改",
                deadline_on=AS_OF + dt.timedelta(days=30),
            )
            for dept, n in recorded.items()
            for i in range(n)
        ]
        first = made[0]
        first = problem_service.request_close(
            s, actor=zjj, at=AT, problem_id=first.id, expected_version=first.version, evidence="已整改"
        )
        lead = lead_service.intake_lead(
            s,
            actor=office,
            at=AT,
            campaign_code=code,
            source="举报",
            received_on=AS_OF,
            category="围标串标",
            summary="串标",
        )
        lead_service.assign_lead(
            s,
            actor=office,
            at=AT,
            lead_id=lead.id,
            expected_version=lead.version,
            department_code="zjj",
            working_days=10,
        )
        lead_service.intake_lead(
            s,
            actor=office,
            at=AT,
            campaign_code=code,
            source="举报",
            received_on=AS_OF,
            category="其他",
            summary="未交办",
        )
        uow.commit()
    with uow_factory() as uow:
        s = uow.session
        probs = ledger.problems_by_department(s, actor=actors["leader"], campaign_code=code)
        assert dict(zip(probs["code"], probs["total"], strict=False)) == recorded
        assert dict(zip(probs["code"], probs["closing"], strict=False)) == {"zjj": 1, "jyj": 0}
        assert set(probs["close_rate"]) == {0.0}
        own = ledger.problems_by_department(s, actor=zjj, campaign_code=code)
        assert list(own["code"]) == ["zjj"]
        funnel = ledger.lead_funnel(s, actor=actors["leader"], campaign_code=code)
        assert int(funnel["n"].sum()) == 2
        assert set(funnel["status_label"]) == {"查办中", "已受理"}
        mine = ledger.lead_funnel(s, actor=zjj, campaign_code=code)
        assert int(mine["n"].sum()) == 1 and set(mine["status"]) == {"assigned"}
        assert ledger.lead_funnel(s, actor=actors["dept_jyj"], campaign_code=code).empty


def test_a_department_is_refused_another_departments_drill_down_and_it_is_audited(uow_factory, campaign, actors):
    with pytest.raises(Forbidden), uow_factory() as uow:  # the unit of work sees the refusal and records it
        boards.department_assignments(
            uow.session, actor=actors["dept_zjj"], campaign_code=campaign.code, department_code="jyj", at=AT
        )
    with uow_factory() as uow:
        refused = uow.session.execute(
            select(AuditEntry.actor, AuditEntry.entity_key).where(AuditEntry.outcome == "refused")
        ).all()
        assert refused == [("dept_zjj", f"{campaign.code}/jyj")]
