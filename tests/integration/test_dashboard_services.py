"""Service calls added for the dashboard: the 整改台账 with its history, re-enabling users, the inbox
'mark all read' and unread count. On SQLite and PostgreSQL, as the neighbouring service tests."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from domain.access import Forbidden
from services import delivery, problems, users
from store.models import AuditEntry

AT = dt.datetime(2020, 6, 10, 2, 0, tzinfo=dt.UTC)


def _problem(s, actor, code: str, dept: str, description: str):
    return problems.record_problem(
        s,
        actor=actor,
        at=AT,
        campaign_code=code,
        department_code=dept,
        phase_key="self_check",
        category="规避招标",
        description=description,
        handling_class="限时整改",
        deadline_on=dt.date(2020, 7, 10),
    )


def _refused(s, action: str) -> int:
    return s.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == action, AuditEntry.outcome == "refused")
    )


def test_problem_ledger_has_every_problem_with_its_history(uow_factory, launched_campaign, actors):
    code, office, zjj = launched_campaign.code, actors["office"], actors["dept_zjj"]
    with uow_factory() as uow:
        s = uow.session
        p1 = _problem(s, office, code, "zjj", "化整为零规避招标")
        p2 = _problem(s, office, code, "jyj", "评标专家违规打分")
        p1 = problems.request_close(
            s,
            actor=zjj,
            at=AT + dt.timedelta(hours=1),
            problem_id=p1.id,
            expected_version=p1.version,
            evidence="已重新公开招标",
        )
        p1 = problems.reject_close(
            s,
            actor=office,
            at=AT + dt.timedelta(hours=2),
            problem_id=p1.id,
            expected_version=p1.version,
            reason="缺少招标公告",
        )
        p1 = problems.request_close(
            s,
            actor=zjj,
            at=AT + dt.timedelta(hours=3),
            problem_id=p1.id,
            expected_version=p1.version,
            evidence="补充招标公告",
        )
        problems.approve_close(
            s, actor=office, at=AT + dt.timedelta(hours=4), problem_id=p1.id, expected_version=p1.version
        )
        uow.commit()
    with uow_factory() as uow:
        ledger = problems.problem_ledger(uow.session, actor=office, campaign_code=code)
        assert [p.code for p, _ in ledger] == [p1.code, p2.code]
        history = {p.code: [e.action for e in events] for p, events in ledger}
        assert history[p1.code] == ["found", "request_close", "reject", "request_close", "approve"]
        assert history[p2.code] == ["found"]
        # The leader reads everything; a department only its own.
        assert len(problems.problem_ledger(uow.session, actor=actors["leader"], campaign_code=code)) == 2
        own = problems.problem_ledger(uow.session, actor=zjj, campaign_code=code)
        assert [p.department_code for p, _ in own] == ["zjj"]


def test_problem_ledger_refuses_another_departments_rows_and_audits(uow_factory, launched_campaign, actors):
    with pytest.raises(Forbidden), uow_factory() as uow:  # the unit of work records the refusal on its way out
        problems.problem_ledger(
            uow.session, actor=actors["dept_zjj"], campaign_code=launched_campaign.code, department_code="jyj", at=AT
        )
    with uow_factory() as uow:
        assert _refused(uow.session, "problem.list") == 1


def test_ledger_download_keeps_one_row_per_problem_with_the_close_out_history(uow_factory, launched_campaign, actors):
    from services.exports import ledger_xlsx  # what the dashboard's 整改台账 download serves

    code, office, zjj = launched_campaign.code, actors["office"], actors["dept_zjj"]
    with uow_factory() as uow:
        p = _problem(uow.session, office, code, "zjj", "化整为零规避招标")
        p = problems.request_close(
            uow.session,
            actor=zjj,
            at=AT + dt.timedelta(hours=1),
            problem_id=p.id,
            expected_version=p.version,
            evidence="已重新公开招标",
        )
        problems.approve_close(
            uow.session,
            actor=office,
            at=AT + dt.timedelta(hours=2),
            problem_id=p.id,
            expected_version=p.version,
            note="同意销号",
        )
        _problem(uow.session, office, code, "zjj", "未按规定公开招标文件")
        uow.commit()
    with uow_factory() as uow:
        data = ledger_xlsx(uow.session, actor=zjj, campaign_code=code)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "整改台账"
    assert rows[0][0] == "序号" and "问题编号" in rows[0] and rows[0][-1] == "销号过程"
    assert len(rows) == 3  # the header and one row per problem
    first = dict(zip(rows[0], rows[1], strict=False))
    assert first["整改状态"] == "已销号" and first["责任单位"] == "区住建局"
    lines = first["销号过程"].split("\n")
    assert len(lines) == 3 and "登记问题" in lines[0] and "申请销号：已重新公开招标" in lines[1]
    assert "同意销号：同意销号" in lines[2] and lines[1].startswith("2020-06-10 11:00")


def test_office_re_enables_a_user_and_others_cannot(uow_factory, actors):
    office = actors["office"]
    with uow_factory() as uow:
        users.disable_user(uow.session, actor=office, at=AT, username="dept_zjj")
        uow.commit()
    with pytest.raises(Forbidden), uow_factory() as uow:
        users.enable_user(uow.session, actor=actors["leader"], at=AT, username="dept_zjj")
    with uow_factory() as uow:
        assert _refused(uow.session, "user.enable") == 1
        dto = users.enable_user(uow.session, actor=office, at=AT, username="dept_zjj")
        assert not dto.disabled
        uow.commit()
    with uow_factory() as uow:
        assert users.actor_for(uow.session, "dept_zjj").department_code == "zjj"
        enabled = uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "user.enable", AuditEntry.outcome == "ok")
        )
        assert enabled is not None and enabled.actor == "office"
        # Enabling an active account changes nothing and records nothing.
        users.enable_user(uow.session, actor=office, at=AT, username="dept_zjj")
        assert (
            uow.session.scalar(
                select(func.count(AuditEntry.id)).where(AuditEntry.action == "user.enable", AuditEntry.outcome == "ok")
            )
            == 1
        )


def test_enable_unknown_user_is_a_clear_error(uow_factory, actors):
    from domain.errors import NotFound

    with uow_factory() as uow, pytest.raises(NotFound, match="nobody"):
        users.enable_user(uow.session, actor=actors["office"], at=AT, username="nobody")


def test_unread_count_and_mark_all_read_touch_only_the_owner(uow_factory, launched_campaign, actors, tick):
    from settings import Settings

    tick(dt.date(2020, 6, 29))
    with uow_factory() as uow:
        report = delivery.plan_deliveries(
            uow.session, launched_campaign.code, dt.date(2020, 6, 29), Settings(smtp_host=None, webhooks=[]), at=AT
        )
        uow.commit()
    assert report.outbox_rows > 0  # its in-app items: the tick put them in the inboxes already
    zjj, office = actors["dept_zjj"], actors["office"]
    with uow_factory() as uow:
        s = uow.session
        mine = delivery.unread_count(s, actor=zjj)
        office_unread = delivery.unread_count(s, actor=office)
        assert mine == len(delivery.inbox_for(s, actor=zjj, unread_only=True)) > 0
        assert delivery.mark_all_read(s, actor=zjj, at=AT) == mine
        uow.commit()
    with uow_factory() as uow:
        assert delivery.unread_count(uow.session, actor=zjj) == 0
        assert delivery.unread_count(uow.session, actor=office) == office_unread
        assert delivery.mark_all_read(uow.session, actor=zjj, at=AT) == 0
