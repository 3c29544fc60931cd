"""Imports of departments, users, projects and leads: all or nothing, every bad row named, on both stores."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from domain.access import Forbidden
from domain.errors import Invalid, RowsRejected
from services import exports, imports
from services.campaigns import get_campaign, stored_spec
from services.leads import list_leads
from services.problems import approve_close, record_problem, request_close
from services.spec_files import parse_spec
from services.users import authenticate
from store.models import (
    Assignment,
    AuditEntry,
    Department,
    Lead,
    Project,
    User,
)

CODE = "yanjiang-2020"
AT = dt.datetime(2020, 6, 15, 2, tzinfo=dt.UTC)


def xlsx(rows: list[list[object]], title: str = "数据", extra_sheets: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name in extra_sheets:
        book.create_sheet(name)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run(uow_factory, actor, kind, data, filename, sheet=None, commit=True):
    with uow_factory() as uow:
        report = imports.import_file(
            uow.session, actor=actor, at=AT, campaign_code=CODE, kind=kind, data=data, filename=filename, sheet=sheet
        )
        if commit:
            uow.commit()
        return report


def count(uow_factory, model) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count(model.id)))


PROJECT_HEADERS = [
    "项目编号",
    "项目名称",
    "监管部门代码",
    "招标日期",
    "合同估算价（万元）",
    "中标人",
    "投标人",
    "招标方式",
]


def test_projects_from_the_filled_template(uow_factory, launched_campaign, actors):
    book = openpyxl.load_workbook(io.BytesIO(imports.template("projects")))
    assert book.sheetnames == ["项目", "说明"] and [c.value for c in book["项目"][1]] == PROJECT_HEADERS
    sheet = book["项目"]
    sheet.append(["YJ-001", "某道路工程", "ZJJ", dt.datetime(2020, 3, 15), 1234.5, None, "甲公司；乙公司", "公开招标"])  # noqa: DTZ001 - a cell's date
    sheet.append(["YJ-002", "某水厂工程", "swj", "2020/4/2", "88", "丙公司", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = run(uow_factory, actors["office"], "projects", buffer.getvalue(), "项目.xlsx")
    assert (report.added, report.updated) == (2, 0) and report.lines() == ["项目台账导入完成：新增 2 个，更新 0 个"]
    again = run(uow_factory, actors["office"], "projects", buffer.getvalue(), "项目.xlsx")
    assert (again.added, again.updated) == (0, 2)
    with uow_factory() as uow:
        p = uow.session.scalar(select(Project).where(Project.code == "YJ-001"))
        assert p.winner is None and p.bidders == "甲公司、乙公司" and float(p.amount_wan) == 1234.5
        dept = uow.session.get(Department, p.department_id)
        assert dept.code == "zjj"  # the code matched whatever its case


def test_bad_rows_are_all_named_and_nothing_is_imported(uow_factory, launched_campaign, actors):
    rows = [
        [
            "线索编号",
            "来源",
            "收到日期",
            "涉及项目编号",
            "承办部门代码",
            "问题类别",
            "内容摘要",
            "举报人姓名",
            "举报人电话",
            "办理时限（工作日）",
        ],
        ["XS-1", "举报", "2020-06-10", None, "zjj", "围标串标", "反映串通投标", "王五", "13900000000", 10],
        ["XS-2", "传闻", "2020-06-11", None, "zjj", "围标串标", "某项目", None, None, None],  # row 3: source
        ["XS-3", "举报", "2020-07-01", None, "zjj", "围标串标", "未来的线索", None, None, None],  # row 4: future
        ["XS-4", "举报", "2020-06-11", "NOPE", "xxx", "围标串标", "某项目", None, None, 999],  # row 5: 3 errors
        ["XS-1", "举报", "2020-06-12", None, "zjj", "其他", None, None, None, None],
    ]  # row 6: dup, summary
    with pytest.raises(RowsRejected) as caught:
        run(uow_factory, actors["office"], "leads", xlsx(rows, "线索"), "线索.xlsx")
    assert {r.row_number for r in caught.value.rows} == {3, 4, 5, 6}
    assert {r.column for r in caught.value.rows if r.row_number == 5} == {
        "涉及项目编号",
        "承办部门代码",
        "办理时限（工作日）",
    }
    message = str(caught.value)
    assert "整个文件未导入" in message and "线索.xlsx：第 4 行: 列「收到日期」: 收到日期不能晚于今天" in message
    assert count(uow_factory, Lead) == 0
    with uow_factory() as uow:
        refused = uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "lead.import", AuditEntry.outcome == "refused")
        )
        assert refused is not None and "第 6 行" in refused.after_json
    clean = [*rows[:2], ["XS-2", "大数据预警", "2020-06-11", None, "jyj", "规避招标", "拆分发包", None, None, None]]
    report = run(uow_factory, actors["office"], "leads", xlsx(clean, "线索"), "线索.xlsx")
    assert (report.added, report.unchanged) == (2, 0)
    with uow_factory() as uow:
        s = uow.session
        seen = {x.code: x for x in list_leads(s, actor=actors["office"], campaign_code=CODE)}
        assert seen["XS-1"].status == "assigned" and seen["XS-1"].department_code == "zjj"
        assert seen["XS-1"].due_on == dt.date(
            2020, 6, 30
        )  # 10 working days from 15 June (25–26 June 端午, 28 June 调休)
        assert seen["XS-1"].reporter_name == "王五" and seen["XS-2"].due_on == dt.date(2020, 7, 7)  # default 15
        hidden = list_leads(s, actor=actors["dept_zjj"], campaign_code=CODE)
        assert [x.code for x in hidden] == ["XS-1"] and hidden[0].reporter_name is None
    same = run(uow_factory, actors["office"], "leads", xlsx(clean, "线索"), "线索.xlsx")
    assert (same.added, same.unchanged) == (0, 2)
    changed = [rows[0], ["XS-2", "大数据预警", "2020-06-11", None, "jyj", "规避招标", "另一件事", None, None, None]]
    with pytest.raises(RowsRejected, match="已存在且内容不同"):
        run(uow_factory, actors["office"], "leads", xlsx(changed, "线索"), "线索.xlsx")


def test_wrong_sheet_and_unreadable_files_get_plain_messages(uow_factory, launched_campaign, actors):
    data = xlsx(
        [PROJECT_HEADERS, ["P-1", "某工程", "zjj", "2020-03-01", 100, None, None, None]], "项目", extra_sheets=("说明",)
    )
    with pytest.raises(Invalid, match="没有名为「台账」的工作表，现有工作表：「项目」、「说明」"):
        run(uow_factory, actors["office"], "projects", data, "r.xlsx", sheet="台账")
    assert run(uow_factory, actors["office"], "projects", data, "r.xlsx", sheet="项目").added == 1
    with pytest.raises(Invalid, match=r"无法识别.*编码"):
        run(uow_factory, actors["office"], "projects", "项目编号,项目名称\n".encode("gbk") + b"\x80\xff\x80\n", "r.csv")
    with pytest.raises(Invalid, match="旧版 Excel"):
        run(uow_factory, actors["office"], "projects", b"\xd0\xcf\x11\xe0" + b"\0" * 600, "r.xls")
    with pytest.raises(Invalid, match="导入类型"):
        run(uow_factory, actors["office"], "budgets", b"x", "r.csv")


def test_gbk_csv_departments_update_the_spec_like_a_changed_yaml(uow_factory, launched_campaign, actors):
    csv_text = (
        "代码,名称,类型,联系人,电话,邮箱,标签\n"
        "zjj,区住房和城乡建设局,行业监管部门,王五,,,\n"  # tags left blank: kept
        "scjgj,区市场监管局,行业监管部门,赵六,028-26000001,,联席会议成员、行业监管\n"
        "jyzx,区公共资源交易中心,交易中心,,,,\n"
    )  # same as before: unchanged
    report = run(uow_factory, actors["office"], "departments", csv_text.encode("gbk"), "部门.csv")
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    assert any("新增部门 1 个：区市场监管局" in line for line in report.launch_lines)
    with uow_factory() as uow:
        s = uow.session
        spec = stored_spec(get_campaign(s, CODE))
        zjj, new = spec.department("zjj"), spec.department("scjgj")
        assert zjj.name == "区住房和城乡建设局" and "行业监管" in zjj.tags and zjj.contact.name == "王五"
        assert zjj.contact.email == "zjj@yanjiang.example.gov.cn"  # blank cell: kept
        assert new.kind.value == "industry_regulator" and new.contact.phone == "028-26000001"
        # like a changed YAML: the new regulator has the tasks its tag selects, the old work is untouched
        tasks = s.scalar(
            select(func.count(Assignment.id))
            .join(Department, Department.id == Assignment.department_id)
            .where(Department.code == "scjgj")
        )
        assert tasks > 0 and s.scalar(select(Department.name).where(Department.code == "zjj")) == "区住房和城乡建设局"
    # the YAML to save back is the campaign's own file with only the departments changed (comments kept)
    assert parse_spec(report.spec_yaml).model_dump() == spec.model_dump()
    assert "# 二(二)：6月20日前向区发改局报送" in report.spec_yaml and "name: 区市场监管局" in report.spec_yaml
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "campaign.apply")) == 1
    bad = "代码,名称,类型\n1abc,某单位,其他\nok,,其他\nok2,某单位,部委\n"
    with pytest.raises(RowsRejected) as caught:
        run(uow_factory, actors["office"], "departments", bad.encode("gbk"), "部门.csv")
    assert [(r.row_number, r.column) for r in caught.value.rows] == [(2, "代码"), (3, "名称"), (4, "类型")]


def test_users_import_generates_passwords_and_updates(uow_factory, launched_campaign, actors):
    csv_text = (
        "用户名,姓名,角色,部门代码,邮箱,初始密码\n"
        "zhangsan,张三,部门,ZJJ,ZS@Example.gov.cn,Chushi#2020\n"
        "lisi,李四,领导,,,\n"
        "leader,分管区领导,领导,,,\n"
    )  # exists: renamed, password untouched
    report = run(uow_factory, actors["office"], "users", csv_text.encode("utf-8-sig"), "用户.csv")
    assert (report.added, report.updated) == (2, 1) and list(report.passwords) == ["lisi"]
    assert "Chushi#2020" not in repr(report) and report.passwords["lisi"] not in repr(report)
    with uow_factory() as uow:
        s = uow.session
        assert authenticate(s, "zhangsan", "Chushi#2020", at=AT).department_code == "zjj"
        assert authenticate(s, "lisi", report.passwords["lisi"], at=AT).role == "leader"
        assert s.scalar(select(User.display_name).where(User.username == "leader")) == "分管区领导"
    bad = "用户名,姓名,角色,部门代码\n9lives,某人,领导,\nwangwu,王五,部门,nope\nzhaoliu,赵六,领导,zjj\n"
    with pytest.raises(RowsRejected) as caught:
        run(uow_factory, actors["office"], "users", bad.encode(), "用户.csv")
    assert [r.row_number for r in caught.value.rows] == [2, 3, 4]
    assert "不属于某个部门" in str(caught.value) and "用户名须以字母开头" in str(caught.value)


@pytest.mark.parametrize("kind", ["departments", "users", "leads", "projects"])
def test_only_the_office_imports_and_departments_only_their_projects(uow_factory, launched_campaign, actors, kind):
    data = imports.template(kind)
    with pytest.raises(Forbidden):
        run(uow_factory, actors["leader"], kind, data, "t.xlsx")
    if kind != "projects":
        with pytest.raises(Forbidden):
            run(uow_factory, actors["dept_zjj"], kind, data, "t.xlsx")
    else:
        rows = [
            PROJECT_HEADERS,
            ["P-1", "甲", "zjj", "2020-03-01", 1, None, None, None],
            ["P-2", "乙", "jyj", "2020-03-01", 1, None, None, None],
            ["P-3", "丙", "swj", "2020-03-01", 1, None, None, None],
        ]
        with pytest.raises(Forbidden, match="第 3、4 行不属于本部门"):
            run(uow_factory, actors["dept_zjj"], kind, xlsx(rows, "项目"), "t.xlsx")
        assert run(uow_factory, actors["dept_zjj"], kind, xlsx(rows[:2], "项目"), "t.xlsx").added == 1


def test_ledger_export_has_one_row_per_problem_with_its_history(uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        s = uow.session
        kw = {
            "campaign_code": CODE,
            "phase_key": "self_check",
            "category": "规避招标",
            "handling_class": "限时整改",
            "deadline_on": dt.date(2020, 7, 31),
        }
        p = record_problem(s, actor=actors["dept_zjj"], at=AT, department_code="zjj", description="拆分发包", **kw)
        record_problem(s, actor=actors["dept_jyj"], at=AT, department_code="jyj", description="资格条件不当", **kw)
        p = request_close(
            s,
            actor=actors["dept_zjj"],
            at=AT + dt.timedelta(days=1),
            problem_id=p.id,
            expected_version=p.version,
            evidence="已重新招标",
        )
        approve_close(
            s,
            actor=actors["office"],
            at=AT + dt.timedelta(days=2),
            problem_id=p.id,
            expected_version=p.version,
            note="佐证充分",
        )
        uow.commit()
        book = openpyxl.load_workbook(io.BytesIO(exports.ledger_xlsx(s, actor=actors["leader"], campaign_code=CODE)))
        sheet = book["整改台账"]
        headers = [c.value for c in sheet[1]]
        assert headers[:3] == ["序号", "问题编号", "责任单位"] and headers[-1] == "销号过程" and sheet.max_row == 3
        history = sheet.cell(row=2, column=len(headers)).value.split("\n")
        assert len(history) == 3 and history[1].endswith("申请销号：已重新招标") and "同意销号" in history[2]
        own = openpyxl.load_workbook(io.BytesIO(exports.ledger_xlsx(s, actor=actors["dept_jyj"], campaign_code=CODE)))
        assert own.active.max_row == 2 and own.active.cell(row=2, column=3).value == "区交运局"
        with pytest.raises(Forbidden):
            exports.ledger_xlsx(s, actor=actors["dept_jyj"], campaign_code=CODE, department_code="zjj")
