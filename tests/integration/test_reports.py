"""Monthly reports from the store: figures, tables, narratives, documents, PDF, and the filing flow.

One scenario on the 雁江区 campaign, written through the services with dated `at` values, gives
the July 2020 reports known figures: the 区住建局 (zjj) report covers 2020-06-21 … 2020-07-20, the
office rollup 2020-06-26 … 2020-07-25 (departments report by the 20th, the office by the 25th).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy import func, select

from domain.access import Forbidden
from domain.errors import Conflict, Invalid
from domain.localtime import LOCAL_TZ
from exchange.reports import SECTION_HEADINGS, Narrative, figures_sentence
from services import leads as lead_service
from services import problems as problem_service
from services import reports
from services import submissions as sub
from services.imports import import_file
from store.models import (
    Assignment,
    AuditEntry,
    Department,
    GeneratedReport,
    Submission,
    TaskTemplate,
)

CODE = "yanjiang-2020"
ZJJ_AT = dt.datetime(2020, 7, 21, 4, tzinfo=dt.UTC)  # 12:00 on the 21st: the zjj report is made
ROLLUP_AT = dt.datetime(2020, 7, 27, 4, tzinfo=dt.UTC)  # the rollup (the 25th was a Saturday)
REGISTER = (
    "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"
    "Z-1,城东道路工程,zjj,2019-03-01,1200,甲建设公司,甲建设公司；乙路桥公司\n"
    "Z-2,城西管网工程,zjj,2019-04-01,800,乙路桥公司,乙路桥公司\n"
    "Z-3,学校改扩建工程,zjj,2019-05-01,650.5,丙建筑公司,丙建筑公司\n"
    "Z-4,安置房工程,zjj,2019-06-01,3000,甲建设公司,甲建设公司\n"
    "Z-5,河堤工程,zjj,2019-07-01,450,丁水利公司,丁水利公司\n"
    "Z-6,城区道路提升工程,zjj,2020-07-10,2860,,\n"
    "J-1,农村公路一期,jyj,2019-02-01,300,戊交通公司,戊交通公司\n"
    "J-2,农村公路二期,jyj,2019-03-01,320,戊交通公司,戊交通公司\n"
    "J-3,客运站改造,jyj,2019-08-01,900,己建设公司,己建设公司\n"
)


def at(day: str, hour: int = 10) -> dt.datetime:
    """`hour` o'clock Beijing time on `day`, as an aware UTC instant."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), LOCAL_TZ).astimezone(dt.UTC)


@dataclass(frozen=True)
class Scenario:
    problems: dict[str, int]  # label -> problem id
    leads: dict[str, int]


def _problem(s, actor, dept, phase, found, project=None, text="问题"):
    return problem_service.record_problem(
        s,
        actor=actor,
        at=at(found),
        campaign_code=CODE,
        department_code=dept,
        phase_key=phase,
        category="规避招标",
        description=text,
        handling_class="限时整改",
        deadline_on=dt.date(2020, 8, 31),
        found_on=dt.date.fromisoformat(found),
        project_code=project,
        responsible_person="负责人",
        measure="责令整改",
    )


def _step(s, fn, pid, actor, day, **kw):
    version = problem_service.get_problem(s, actor=actor, problem_id=pid)[0].version
    return fn(s, actor=actor, at=at(day), problem_id=pid, expected_version=version, **kw)


def _lead(s, office, received, dept=None):
    lead = lead_service.intake_lead(
        s,
        actor=office,
        at=at(received),
        campaign_code=CODE,
        source="举报",
        received_on=dt.date.fromisoformat(received),
        category="围标串标",
        summary="反映投标人串通投标",
        reporter_name="王某",
        reporter_phone="13900000000",
    )
    if dept:
        lead = lead_service.assign_lead(
            s,
            actor=office,
            at=at(received),
            lead_id=lead.id,
            expected_version=lead.version,
            department_code=dept,
            working_days=15,
        )
    return lead


def _submit_and_accept(s, actors, dept, period, submitted, accepted, late_reason=None):
    aid = s.scalar(
        select(Assignment.id)
        .join(TaskTemplate)
        .join(Department, Department.id == Assignment.department_id)
        .where(TaskTemplate.key == "monthly_report", Department.code == dept, Assignment.period == period)
    )
    sub.submit(
        s,
        actor=actors[f"dept_{dept}"],
        at=at(submitted),
        assignment_id=aid,
        text="本月工作情况见附件",
        late_reason=late_reason,
    )
    version = s.get(Assignment, aid).version
    sub.accept(s, actor=actors["office"], at=at(accepted), assignment_id=aid, expected_version=version)


@pytest.fixture
def scenario(uow_factory, launched_campaign, actors, tick) -> Scenario:
    office = actors["office"]
    with uow_factory() as uow:
        import_file(
            uow.session,
            actor=office,
            at=at("2020-06-02"),
            campaign_code=CODE,
            kind="projects",
            data=REGISTER.encode(),
            filename="register.csv",
        )
        uow.commit()
    problems: dict[str, int] = {}
    with uow_factory() as uow:
        s = uow.session
        z, j = actors["dept_zjj"], actors["dept_jyj"]
        problems["P1"] = _problem(s, z, "zjj", "self_check", "2020-06-15", text="自查：未公开招标").id
        _step(s, problem_service.request_close, problems["P1"], z, "2020-06-18", evidence="已整改")
        _step(s, problem_service.approve_close, problems["P1"], office, "2020-06-19")
        problems["P4"] = _problem(s, z, "zjj", "self_check", "2020-06-16", text="自查：资格条件不当").id
        _step(s, problem_service.request_close, problems["P4"], z, "2020-06-20", evidence="已整改")
        _step(s, problem_service.reject_close, problems["P4"], office, "2020-06-22", reason="佐证不足")
        problems["P5"] = _problem(s, j, "jyj", "self_check", "2020-06-10", text="自查：拆分发包").id
        _step(s, problem_service.request_close, problems["P5"], j, "2020-06-11", evidence="已整改")
        _step(s, problem_service.approve_close, problems["P5"], office, "2020-06-12")
        leads = {"L4": _lead(s, office, "2020-06-05").id, "L1": _lead(s, office, "2020-06-23", "zjj").id}
        uow.commit()
    tick(dt.date(2020, 7, 1))  # verification opens: the draw; July's monthly reports open
    with uow_factory() as uow:
        s = uow.session
        problems["P2"] = _problem(s, office, "zjj", "verify", "2020-07-06", "Z-1", "核查：围标迹象").id
        problems["P3"] = _problem(s, office, "zjj", "verify", "2020-07-08", "Z-6", "招标文件排斥潜在投标人").id
        _step(s, problem_service.request_close, problems["P2"], z, "2020-07-10", evidence="已重新招标")
        _step(s, problem_service.approve_close, problems["P2"], office, "2020-07-14")
        _step(s, problem_service.reopen_rebound, problems["P5"], office, "2020-07-02", reason="回头看发现反弹")
        problems["P6"] = _problem(s, z, "zjj", "verify", "2020-07-25", text="核查：评标专家违规").id
        lead = lead_service.get_lead(s, actor=office, lead_id=leads["L1"])
        lead = lead_service.report_outcome(
            s,
            actor=z,
            at=at("2020-07-02"),
            lead_id=lead.id,
            expected_version=lead.version,
            outcome="查实",
            measures=["罚款", "移送公安机关"],
            fine_wan="5.5",
            enterprises_involved=2,
            people_dealt_with=1,
        )
        lead_service.close_lead(s, actor=office, at=at("2020-07-03"), lead_id=lead.id, expected_version=lead.version)
        leads["L2"] = _lead(s, office, "2020-07-05", "zjj").id
        leads["L3"] = _lead(s, office, "2020-07-22", "jyj").id
        _submit_and_accept(s, actors, "zjj", "2020-07", "2020-07-16", "2020-07-17")
        _submit_and_accept(s, actors, "jyj", "2020-07", "2020-07-22", "2020-07-23", late_reason="汛期抢险，延后报送")
        uow.commit()
    return Scenario(problems, leads)


def _expected_tasks(s, dept: str | None, start: dt.date, end: dt.date) -> tuple[int, int, int, int, int]:
    """The task figures recomputed plainly from the rows, by the definitions in services.reports."""
    q = (
        select(Assignment, Department.code)
        .join(Department, Department.id == Assignment.department_id)
        .where(Assignment.status != "cancelled", Assignment.nominal_due_on.between(start, end))
    )
    if dept:
        q = q.where(Department.code == dept)
    cut = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), LOCAL_TZ)
    assigned = submitted = accepted = on_time = overdue = 0
    for a, _code in s.execute(q):
        first = s.scalar(select(func.min(Submission.submitted_at)).where(Submission.assignment_id == a.id))
        assigned += 1
        submitted += first is not None and first < cut
        ok = a.status == "accepted" and a.accepted_at is not None and a.accepted_at < cut
        accepted += ok
        on_time += ok and bool(a.on_time)
        overdue += a.due_on < end and not (
            first is not None and first < cut and first.astimezone(LOCAL_TZ).date() <= a.due_on
        )
    return assigned, submitted, accepted, on_time, overdue


def test_department_report_figures_and_tables(uow_factory, scenario, actors):
    with uow_factory() as uow:
        data = reports.report_data(
            uow.session,
            actor=actors["dept_zjj"],
            campaign_code=CODE,
            period="2020-07",
            department_code="zjj",
            at=ZJJ_AT,
        )
        tasks = _expected_tasks(uow.session, "zjj", dt.date(2020, 6, 21), dt.date(2020, 7, 20))
    assert (data.period_start, data.period_end) == (dt.date(2020, 6, 21), dt.date(2020, 7, 20))
    assert data.unit_name == "区住建局" and not data.is_rollup and data.period_label == "2020年7月"
    f = data.figures
    assert (f.tasks_assigned, f.tasks_submitted, f.tasks_accepted, f.tasks_on_time, f.tasks_overdue) == tasks
    assert f.tasks_assigned >= 1 and f.tasks_accepted >= 1  # the July monthly report, accepted on time
    # problems found by the 20th: P1 (销号 in June), P4 (rejected), P2 (销号 in July), P3 (open)
    assert (f.problems_found, f.problems_found_in_period) == (4, 2)
    assert (f.problems_rectified, f.problems_closed, f.problems_closed_in_period, f.problems_rebound) == (2, 2, 1, 0)
    assert (f.projects_supervised, f.projects_sampled) == (6, 2) and f.sampled_ratio == pytest.approx(1 / 3)
    assert (f.leads_received, f.leads_received_in_period, f.leads_closed, f.leads_substantiated) == (2, 2, 1, 1)
    assert (f.enterprises_involved, f.people_dealt_with, f.fines_wan_yuan) == (2, 1, Decimal("5.5"))
    assert (f.transfers_police, f.transfers_discipline) == (1, 0)

    assert len(data.checked_projects) == 2 and {r.regulator for r in data.checked_projects} == {"区住建局"}
    assert [r.lead_code for r in data.lead_handling] == ["XS-0002", "XS-0003"]
    closed, open_ = data.lead_handling
    assert (closed.status, closed.finding, closed.closed_on) == ("已办结", "属实", dt.date(2020, 7, 3))
    assert "罚款5.5万元" in closed.result and "移送公安机关" in closed.result and open_.status == "查办中"
    assert not hasattr(closed, "reporter_name")  # the report leaves the office: no whistle-blower identity
    by_desc = {r.description: r for r in data.rectification_ledger}
    assert set(by_desc) == {
        "自查：资格条件不当",
        "核查：围标迹象",
        "招标文件排斥潜在投标人",
    }  # P1 closed before the window
    assert by_desc["核查：围标迹象"].status == "已销号" and by_desc["核查：围标迹象"].closed_on == dt.date(2020, 7, 14)
    assert by_desc["自查：资格条件不当"].status == "整改中"
    assert [(r.project_code, r.stage) for r in data.in_process_ledger] == [("Z-6", "招标文件及公告")]  # no winner yet
    assert [(r.project_code, r.check_method) for r in data.post_check_ledger] == [("Z-1", "重点核查")]
    assert data.department_rows == []


def test_rollup_figures_tables_and_sentence(uow_factory, scenario, actors):
    with uow_factory() as uow:
        data = reports.report_data(
            uow.session,
            actor=actors["leader"],
            campaign_code=CODE,
            period="2020-07",
            department_code=None,
            at=ROLLUP_AT,
        )
        tasks = _expected_tasks(uow.session, None, dt.date(2020, 6, 26), dt.date(2020, 7, 25))
    assert data.is_rollup and data.unit_name == "区发改局（联席会议办公室）"
    assert (data.period_start, data.period_end) == (dt.date(2020, 6, 26), dt.date(2020, 7, 25))
    f = data.figures
    assert (f.tasks_assigned, f.tasks_submitted, f.tasks_accepted, f.tasks_on_time, f.tasks_overdue) == tasks
    assert f.tasks_overdue >= 1  # jyj reported late, the others not at all
    assert (f.problems_found, f.problems_found_in_period, f.problems_rectified, f.problems_closed) == (6, 3, 2, 2)
    assert (f.problems_closed_in_period, f.problems_rebound) == (1, 1)  # P2 销号 in July; P5 rebounded
    assert (f.projects_supervised, f.projects_sampled) == (9, 3)
    assert (f.leads_received, f.leads_received_in_period, f.leads_closed, f.leads_closed_in_period) == (4, 2, 1, 1)
    rows = {r.department: r for r in data.department_rows}
    assert len(rows) == 7 and rows["区住建局"].projects_sampled == 2 and rows["区交运局"].problems_found == 1
    assert sum(r.tasks_assigned for r in rows.values()) == f.tasks_assigned
    assert {r.lead_code for r in data.lead_handling} == {"XS-0001", "XS-0002", "XS-0003", "XS-0004"}
    assert next(r for r in data.lead_handling if r.lead_code == "XS-0001").handling_department == "未交办"
    rebound = next(r for r in data.rectification_ledger if r.description == "自查：拆分发包")
    assert rebound.status == "整改中（反弹）" and "销号后反弹" in rebound.note
    sentence = figures_sentence(data)
    for fragment in (
        "2020年6月26日至2020年7月25日",
        f"全区共下达工作任务{f.tasks_assigned}项",
        "累计监管项目9个",
        "核查3个",
        "发现问题6个（本期新发现3个）",
        "销号后反弹1个",
        "问题线索4件（本期新受理2件）",
    ):
        assert fragment in sentence


def test_reading_is_checked_and_bad_periods_are_refused(uow_factory, scenario, actors):
    # A refusal leaves the unit of work (which records it after rolling back), as at every edge.
    with pytest.raises(Forbidden), uow_factory() as uow:
        reports.report_data(
            uow.session,
            actor=actors["dept_jyj"],
            campaign_code=CODE,
            period="2020-07",
            department_code="zjj",
            at=ZJJ_AT,
        )
    with pytest.raises(Forbidden), uow_factory() as uow:
        reports.report_data(
            uow.session,
            actor=actors["dept_zjj"],
            campaign_code=CODE,
            period="2020-07",
            department_code=None,
            at=ROLLUP_AT,
        )
    with uow_factory() as uow:
        s = uow.session
        for period, message in (
            ("2020-7", "格式不对"),
            ("2020-05", "不在报送期间"),
            ("2020-11", "不在报送期间"),
            ("2020-09", "尚未开始"),
        ):
            with pytest.raises(Invalid, match=message):
                reports.report_data(
                    s, actor=actors["office"], campaign_code=CODE, period=period, department_code="zjj", at=ZJJ_AT
                )
        assert reports.report_periods(s, campaign_code=CODE, department_code="zjj", as_of=dt.date(2020, 7, 21)) == [
            "2020-08",
            "2020-07",
            "2020-06",
        ]
    with uow_factory() as uow:  # the refusals were recorded although the reads failed
        refused = uow.session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "report.read", AuditEntry.outcome == "refused")
        ).all()
        assert {"dept_jyj", "dept_zjj"} <= set(refused)


def test_narrative_permissions_versions_and_conflict(uow_factory, launched_campaign, actors):
    text = Narrative(
        practices="召开专题会议。\n完成自查。", problems="发现问题已登记。", experience="", next_steps="继续整改。"
    )
    kw = {"campaign_code": CODE, "period": "2020-06"}
    with uow_factory() as uow:
        s = uow.session
        empty = reports.get_narrative(s, actor=actors["leader"], department_code="zjj", **kw)
        assert empty.version == 0 and empty.narrative == Narrative()
        saved = reports.save_narrative(
            s, actor=actors["dept_zjj"], at=at("2020-06-18"), department_code="zjj", narrative=text, **kw
        )
        uow.commit()
    assert saved.version == 1 and saved.updated_by == "dept_zjj"
    refusals = [("leader", "zjj"), ("office", "zjj"), ("dept_jyj", "zjj"), ("dept_zjj", None), ("leader", None)]
    for who, dept in refusals:
        with uow_factory() as uow, pytest.raises(Forbidden):
            reports.save_narrative(
                uow.session, actor=actors[who], at=at("2020-06-18"), department_code=dept, narrative=text, **kw
            )
    with uow_factory() as uow, pytest.raises(Forbidden):
        reports.get_narrative(uow.session, actor=actors["dept_jyj"], department_code="zjj", **kw)
    # Two editors started from version 1: the first save wins, the second is told and changes nothing.
    with uow_factory() as uow:
        reports.save_narrative(
            uow.session,
            actor=actors["dept_zjj"],
            at=at("2020-06-19"),
            department_code="zjj",
            narrative=text.model_copy(update={"experience": "甲的经验"}),
            expected_version=1,
            **kw,
        )
        uow.commit()
    with uow_factory() as uow, pytest.raises(Conflict, match="dept_zjj"):
        reports.save_narrative(
            uow.session,
            actor=actors["dept_zjj"],
            at=at("2020-06-19", 11),
            department_code="zjj",
            narrative=text.model_copy(update={"experience": "乙的经验"}),
            expected_version=1,
            **kw,
        )
    with uow_factory() as uow, pytest.raises(Conflict):  # a second "first save" is a conflict too
        reports.save_narrative(
            uow.session,
            actor=actors["dept_zjj"],
            at=at("2020-06-19", 12),
            department_code="zjj",
            narrative=text,
            expected_version=0,
            **kw,
        )
    with uow_factory() as uow:
        s = uow.session
        current = reports.get_narrative(s, actor=actors["office"], department_code="zjj", **kw)
        assert current.version == 2 and current.narrative.experience == "甲的经验"
        rollup = reports.save_narrative(
            s,
            actor=actors["office"],
            at=at("2020-06-24"),
            department_code=None,
            narrative=Narrative(practices="全区推进顺利。"),
            **kw,
        )
        uow.commit()
        assert rollup.version == 1 and rollup.department_code is None
        saves = s.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "report.narrative", AuditEntry.outcome == "ok")
        )
        assert saves == 3
        data = reports.report_data(s, actor=actors["office"], department_code="zjj", at=at("2020-06-24"), **kw)
        assert data.narrative.experience == "甲的经验"


def _docx_tables(document) -> dict[str, list[list[str]]]:
    """Heading text of each annex table → its body rows (as cell texts)."""
    headings = [p.text.split("　", 1)[1] for p in document.paragraphs if p.style.name == "Heading 2"]
    return {
        h: [[c.text for c in row.cells] for row in t.rows[1:]] for h, t in zip(headings, document.tables, strict=False)
    }


def test_rendered_documents_match_the_store(uow_factory, scenario, actors):
    with uow_factory() as uow:
        s = uow.session
        reports.save_narrative(
            s,
            actor=actors["office"],
            at=ROLLUP_AT,
            campaign_code=CODE,
            period="2020-07",
            department_code=None,
            narrative=Narrative(practices="建立周调度机制。\n按比例随机抽查。", next_steps="开展回头看。"),
        )
        uow.commit()
        data = reports.report_data(
            s, actor=actors["office"], campaign_code=CODE, period="2020-07", department_code=None, at=ROLLUP_AT
        )
        rendered = reports.render_report(
            s, actor=actors["office"], campaign_code=CODE, period="2020-07", department_code=None, at=ROLLUP_AT
        )
    assert rendered.filename_stem == "yanjiang-2020_2020-07_office-rollup"
    document = docx.Document(io.BytesIO(rendered.docx))
    texts = [p.text for p in document.paragraphs]
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [f"{n}、{title}" for n, (_, title) in zip("一二三四", SECTION_HEADINGS, strict=True)]
    assert texts[0] == "雁江区工程招标投标领域突出问题系统治理工作推进情况报告（2020年7月）"
    assert figures_sentence(data) in texts
    assert "建立周调度机制。" in texts and "开展回头看。" in texts and texts.count("（未填写）") == 2
    assert len(document.inline_shapes) == 1  # the progress chart
    tables = _docx_tables(document)
    assert [row[0] for row in tables["各单位工作推进情况表"]][:2] == ["区发改局", "区住建局"]
    assert sorted(row[0] for row in tables["信访举报办理情况表"]) == ["XS-0001", "XS-0002", "XS-0003", "XS-0004"]
    assert all("王某" not in cell and "13900000000" not in cell for row in tables["信访举报办理情况表"] for cell in row)
    assert [row[0] for row in tables["事中监管及整改台账"]] == ["Z-6"]
    assert len(tables["整改台账"]) == len(data.rectification_ledger)
    assert len(tables["核查项目情况表"]) == 3

    book = openpyxl.load_workbook(io.BytesIO(rendered.xlsx))
    assert book.sheetnames == [
        "汇总",
        "各单位工作推进情况表",
        "各单位考核排名表",
        "核查项目情况表",
        "信访举报办理情况表",
        "整改台账",
        "事中监管及整改台账",
        "事后检查及整改台账",
    ]
    summary = {row[0].value: row[1].value for row in book["汇总"].iter_rows(min_row=2)}
    f = data.figures
    assert summary["下达任务（项）"] == f.tasks_assigned and summary["发现问题（个）"] == 6
    assert summary["监管项目（个）"] == 9 and summary["其中本期新发现问题（个）"] == 3
    assert summary["核查比例"] == pytest.approx(3 / 9)
    ledger = book["整改台账"]
    assert ledger.max_row - 1 == len(data.rectification_ledger)
    assert {ledger.cell(row=r, column=5).value for r in range(2, ledger.max_row + 1)} == {
        r.description for r in data.rectification_ledger
    }


def test_department_document_has_its_own_chart_and_no_unit_table(uow_factory, scenario, actors):
    with uow_factory() as uow:
        rendered = reports.render_report(
            uow.session,
            actor=actors["dept_zjj"],
            campaign_code=CODE,
            period="2020-07",
            department_code="zjj",
            at=ZJJ_AT,
        )
    document = docx.Document(io.BytesIO(rendered.docx))
    assert document.paragraphs[0].text.startswith("区住建局")
    assert len(document.inline_shapes) == 1 and "图1　区住建局工作推进情况" in [p.text for p in document.paragraphs]
    assert "各单位工作推进情况表" not in _docx_tables(document)
    assert openpyxl.load_workbook(io.BytesIO(rendered.xlsx)).sheetnames[1] == "核查项目情况表"


# --- PDF through LibreOffice ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def soffice() -> str:
    """LibreOffice's soffice; installed from Debian (tests/machine.py) when missing."""
    from tests.machine import ensure_libreoffice

    try:
        ensure_libreoffice()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"LibreOffice is needed to prove the report opens outside Python: {exc}", pytrace=False)
    found = shutil.which("soffice")
    assert found, "soffice is not on PATH after installing libreoffice-writer-nogui"
    return found


@pytest.mark.slow
def test_report_converts_to_pdf_with_libreoffice(uow_factory, scenario, actors, soffice, tmp_path):
    with uow_factory() as uow:
        rendered = reports.render_report(
            uow.session,
            actor=actors["office"],
            campaign_code=CODE,
            period="2020-07",
            department_code=None,
            at=ROLLUP_AT,
        )
    source = tmp_path / f"{rendered.filename_stem}.docx"
    source.write_bytes(rendered.docx)
    profile = tmp_path / "lo-profile"  # a private profile: parallel test workers never share one
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    pdf = source.with_suffix(".pdf")
    assert result.returncode == 0 and pdf.is_file(), result.stderr
    content = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", content))
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    assert pages >= 3  # the text and chart, then the landscape annex tables


# --- the filing flow ---------------------------------------------------------------------------------------


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_flow_files_reports_on_their_due_dates_once(prefect_harness, engine, launched_campaign, uow_factory, tmp_path):
    from flows.report_flows import monthly_reports

    out = tmp_path / "reports"
    with uow_factory() as uow:
        dues = {
            d: reports.due_reports(uow.session, CODE, d)
            for d in (dt.date(2020, 6, 19), dt.date(2020, 6, 22), dt.date(2020, 6, 28))
        }
    assert dues[dt.date(2020, 6, 19)] == []
    # the 20th was a Saturday: the departments' June reports fell due on Monday the 22nd
    assert [d.department_code for d in dues[dt.date(2020, 6, 22)]] == ["gafj", "gtfj", "jyj", "swj", "zjj"]
    # the 25th–27th were the Dragon Boat holiday and Sunday the 28th a 调休 working day: the rollup's date
    assert [d.department_code for d in dues[dt.date(2020, 6, 28)]] == [None]

    assert monthly_reports(CODE, dt.date(2020, 6, 19), _url(engine), str(out)) == []
    written = monthly_reports(CODE, dt.date(2020, 6, 22), _url(engine), str(out))
    assert sorted(Path(p).name for p in written) == sorted(
        f"yanjiang-2020_2020-06_{c}.{ext}" for c in ("gafj", "gtfj", "jyj", "swj", "zjj") for ext in ("docx", "xlsx")
    )
    stamps = {p: Path(p).stat().st_mtime_ns for p in written}
    assert monthly_reports(CODE, dt.date(2020, 6, 22), _url(engine), str(out)) == []  # re-run: nothing new
    assert {p: Path(p).stat().st_mtime_ns for p in written} == stamps
    rollup = monthly_reports(CODE, dt.date(2020, 6, 28), _url(engine), str(out))
    assert sorted(Path(p).name for p in rollup) == [
        "yanjiang-2020_2020-06_office-rollup.docx",
        "yanjiang-2020_2020-06_office-rollup.xlsx",
    ]
    assert sorted(p.name for p in (out / CODE).iterdir()) == sorted(
        Path(p).name for p in written + rollup
    )  # no temp files
    with uow_factory() as uow:
        rows = uow.session.scalars(select(GeneratedReport).order_by(GeneratedReport.department_code)).all()
        assert [(r.period, r.department_code) for r in rows] == [
            ("2020-06", c) for c in ("", "gafj", "gtfj", "jyj", "swj", "zjj")
        ]
        zjj_docx = next(r.docx_path for r in rows if r.department_code == "zjj")
    document = docx.Document(zjj_docx)
    assert document.paragraphs[0].text.startswith("区住建局") and "2020年6月20日" in document.paragraphs[1].text


def test_a_machine_without_chromium_still_gets_its_report_without_the_chart(uow_factory, scenario, actors):
    """The chart needs an installed browser; the report's figures do not: without one the
    document is complete but for the picture (the operator's log says why)."""
    from exchange.figures import StaticExport

    with uow_factory() as uow:
        rendered = reports.render_report(
            uow.session,
            actor=actors["office"],
            campaign_code=CODE,
            period="2020-07",
            department_code=None,
            at=ROLLUP_AT,
            export=StaticExport(browser=Path("/nonexistent/chromium")),
        )
    document = docx.Document(io.BytesIO(rendered.docx))
    assert len(document.inline_shapes) == 0
    assert "各单位工作推进情况表" in _docx_tables(document)
    assert openpyxl.load_workbook(io.BytesIO(rendered.xlsx)).sheetnames[0] == "汇总"
