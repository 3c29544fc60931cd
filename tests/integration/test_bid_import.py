"""The bid register import (issue 14 item 1), SQLite and PostgreSQL: a 公共资源交易平台 export as UTF-8 and GBK CSV
and as .xlsx from the template; all or nothing with every bad row numbered; departments import their own only;
a re-import replaces a project's bids; the old register keeps loading."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from domain.errors import Forbidden, RowsRejected
from exchange.bids import BID_HEADERS, template_xlsx
from exchange.tabular import INSTRUCTIONS_SHEET
from services.projects import list_projects
from services.risk.register import import_bids, load_register
from store.models import AuditEntry, Bid, EvaluationExpert, Project
from store.uow import UnitOfWork

AT = dt.datetime(2020, 6, 2, 2, 0, tzinfo=dt.UTC)
HEADER = (
    "项目编号,项目名称,监管部门代码,招标方式,公告日期,投标截止时间,定标日期,招标控制价（元）,评标办法,招标人,"
    "招标代理机构,评标专家,投标人名称,统一社会信用代码,投标报价（元）,是否有效,否决原因,是否中标,递交时间,IP地址,"
    "MAC地址,文件哈希,文件作者,保证金缴纳账户,项目经理\n"
)
PROJECT = (
    "YJ-B-001,雁江区某道路改造工程,zjj,公开招标,2020-03-02,2020-03-25 09:30,2020-04-01,"
    '"12,500,000",综合评估法,某区交通局,某招标代理有限公司'
)
ROWS = [
    PROJECT + ",张三；李四,甲建设有限公司,91510000MA6200001X,11980000,是,,是,2020-03-24 16:02,113.45.6.7,"
    "00-1A-2B-3C-4D-5E,ab12,张工,6222000011112222,王五（川1512345678）",
    PROJECT + ",,乙路桥有限公司,91510000MA6200002X,12010000,是,,否,2020-03-24 17:00,113.45.6.7,"
    "00-1a-2b-3c-4d-5e,cd34,李工,6222000033334444,赵六",
    PROJECT + ",王五,丙市政有限公司,91510000MA6200003X,12100000,否,资格不符,否,2020-03-25 08:00,,,,,,",
    "YJ-B-002,某学校改造,fgj,邀请招标,2020-04-01,2020-04-10 09:00,,800000,经评审的最低投标价法,某学校,,"
    ",丁装饰有限公司,91510000MA6200004X,790000,是,,是,,,,,,,",
]


def _csv(rows: list[str]) -> str:
    return HEADER + "\n".join(rows) + "\n"


def _import(engine, actor, data: bytes, filename: str):
    with UnitOfWork(engine) as uow:
        report = import_bids(
            uow.session, actor=actor, at=AT, campaign_code="yanjiang-2020", data=data, filename=filename
        )
        uow.commit()
    return report


def _count(engine, model) -> int:
    with UnitOfWork(engine) as uow:
        return uow.session.scalar(select(func.count(model.id)))


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_platform_export_loads_in_utf8_and_gbk(engine, launched_campaign, actors, encoding):
    report = _import(engine, actors["office"], _csv(ROWS).encode(encoding), "交易平台导出.csv")
    assert (report.projects_added, report.projects_updated, report.bids, report.experts) == (2, 0, 4, 3)
    with UnitOfWork(engine) as uow:
        s = uow.session
        project = s.scalar(select(Project).where(Project.code == "YJ-B-001"))
        assert project.procedure == "open" and project.award_criterion == "comprehensive"
        assert project.bid_deadline_at == dt.datetime(2020, 3, 25, 1, 30, tzinfo=dt.UTC)  # 09:30 Beijing time
        assert float(project.estimated_price) == 12_500_000 and float(project.award_price) == 11_980_000
        assert project.winner_code == "91510000MA6200001X" and project.winner == "甲建设有限公司"
        assert project.agent == "某招标代理有限公司" and float(project.amount_wan) == 1250
        register = load_register(s, project.campaign_id)
        bids = {b.bidder_code: b for b in register.bids("YJ-B-001")}
        assert bids["91510000MA6200002X"].mac == "00-1A-2B-3C-4D-5E" == bids["91510000MA6200001X"].mac
        assert bids["91510000MA6200003X"].valid is False and bids["91510000MA6200003X"].disqualify_reason == "资格不符"
        assert register.evaluations["YJ-B-001"].experts == ("张三", "李四", "王五")
        listed = list_projects(s, actor=actors["office"], campaign_code="yanjiang-2020")
        assert {"甲建设有限公司", "乙路桥有限公司", "丙市政有限公司"} == set(
            next(p for p in listed if p.code == "YJ-B-001").bidders
        )


def test_every_bad_row_is_named_and_nothing_is_written(engine, launched_campaign, actors):
    bad = list(ROWS)
    bad[1] = bad[1].replace(",否,2020-03-24 17:00", ",是,2020-03-24 17:00")  # row 3: a second winner
    bad[2] = bad[2].replace("雁江区某道路改造工程", "另一个名称")  # row 4: the project's name differs
    bad[3] = bad[3].replace(",fgj,", ",nosuch,").replace("91510000MA6200004X", "1234")  # row 5: two mistakes
    with pytest.raises(RowsRejected) as caught:
        _import(engine, actors["office"], _csv(bad).encode("utf-8"), "坏.csv")
    named = {(e.row_number, e.column) for e in caught.value.rows}
    assert {(3, "是否中标"), (4, "项目名称"), (5, "监管部门代码"), (5, "统一社会信用代码")} <= named
    assert "整个文件未导入" in str(caught.value)
    assert _count(engine, Bid) == 0 and _count(engine, EvaluationExpert) == 0
    with UnitOfWork(engine) as uow:
        refused = uow.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "bid.import", AuditEntry.outcome == "refused")
        )
    assert refused == 1


def test_the_template_reads_back_and_a_reimport_replaces_the_bids(engine, launched_campaign, actors):
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx()))
    assert INSTRUCTIONS_SHEET in book.sheetnames
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers == list(BID_HEADERS)
    for values in csv.DictReader(io.StringIO(_csv(ROWS[:2]))):
        sheet.append([values.get(h, "") for h in headers])  # the template's column order
    buffer = io.BytesIO()
    book.save(buffer)
    first = _import(engine, actors["office"], buffer.getvalue(), "交易平台导出.xlsx")
    assert (first.projects_added, first.bids) == (1, 2)
    again = _import(engine, actors["office"], _csv(ROWS[:1]).encode(), "更正.csv")
    assert (again.projects_added, again.projects_updated, again.bids) == (0, 1, 1)
    assert _count(engine, Bid) == 1


def test_a_department_imports_only_its_own_projects(engine, launched_campaign, actors):
    with pytest.raises(Forbidden, match="第 5 行不属于本部门"):
        _import(engine, actors["dept_zjj"], _csv(ROWS).encode(), "部门.csv")
    report = _import(engine, actors["dept_zjj"], _csv(ROWS[:3]).encode(), "部门.csv")
    assert report.bids == 3
    with pytest.raises(Forbidden):
        _import(engine, actors["leader"], _csv(ROWS[:3]).encode(), "领导.csv")


def test_imported_bid_texts_reveal_near_duplicate_documents(engine, launched_campaign, actors):
    from services.risk.screening import scan_campaign

    text = "".join(
        f"第{i}节 本项目第{i}段路基采用{i * 3}吨压路机分层碾压，每层厚度{20 + i}厘米，压实度不低于{90 + i % 5}%。"
        for i in range(1, 25)
    )
    header = "项目编号,项目名称,监管部门代码,招标方式,投标人名称,统一社会信用代码,投标报价（元）,投标文件文本\n"
    rows = [
        f"YJ-S-1,某安置房工程,zjj,公开招标,甲公司,91510000MA6200011X,1000000,{text}",
        f"YJ-S-1,某安置房工程,zjj,公开招标,乙公司,91510000MA6200012X,1010000,{text}补充说明。",
        "YJ-S-1,某安置房工程,zjj,公开招标,丙公司,91510000MA6200013X,1020000,本公司拟派项目部按照质量管理体系组织施工，确保工期。",
    ]
    _import(engine, actors["office"], (header + "\n".join(rows) + "\n").encode("gbk"), "标书.csv")
    with UnitOfWork(engine) as uow:
        report = scan_campaign(uow.session, actor=actors["office"], at=AT, campaign_code="yanjiang-2020")
        similar = next(s for s in report.summary if s.rule_id == "C40-SIMILAR")
        assert similar.flags == 1
        flagged = next(r for r in report.risks if r.project_code == "YJ-S-1")
        hit = next(f for f in flagged.flags if f.rule_id == "C40-SIMILAR")
        assert hit.entities == ("91510000MA6200011X", "91510000MA6200012X")
