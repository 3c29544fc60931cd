"""Strict tabular import: CSV/xlsx reading, row validation, templates."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from domain.access import PERSON_ROLES, ROLE, Role
from domain.department import DepartmentKind
from domain.lead import LeadSource
from domain.problem import PROBLEM_CATEGORY, ProblemCategory
from domain.project import TenderMethod
from exchange.errors import ImportProblem, ImportRejected
from exchange.tabular import (
    DEPARTMENT_HEADERS,
    KINDS,
    PROJECT_HEADERS,
    DepartmentRow,
    LeadRow,
    ProjectRow,
    UserRow,
    import_table,
    read_table,
    template_xlsx,
    validate_rows,
)

PROJECT_COLUMNS = [
    "项目编号",
    "项目名称",
    "监管部门代码",
    "招标日期",
    "合同估算价（万元）",
    "中标人",
    "投标人",
    "招标方式",
]


def write_xlsx(path: Path, rows: list[list[object]], title: str = "项目") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


# --- clean imports -----------------------------------------------------------------


def test_clean_csv_projects_accept_date_and_amount_variants(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "projects.csv",
        [
            ",".join(PROJECT_COLUMNS),
            "YJ-001,某道路改造工程,ZJJ,2020-06-20,12.5,甲公司,甲公司；乙公司、丙公司,公开招标",
            'YJ-002,某水厂工程,SWJ,2020/6/2,"1,234.5",,,',
            'YJ-003,某学校工程,ZJJ,2020年6月3日,８８,乙公司,"甲公司,乙公司",邀请招标',
        ],
    )
    rows = import_table(path, "projects", filename="projects.csv")
    assert [r.code for r in rows] == ["YJ-001", "YJ-002", "YJ-003"]
    first, second, third = rows
    assert isinstance(first, ProjectRow)
    assert first.tender_date == date(2020, 6, 20)
    assert first.estimated_price_wan == Decimal("12.5")
    assert first.bidders == ["甲公司", "乙公司", "丙公司"]
    assert first.tender_method is TenderMethod.open
    assert second.tender_date == date(2020, 6, 2)
    assert second.estimated_price_wan == Decimal("1234.5")
    assert second.winning_bidder is None and second.bidders == [] and second.tender_method is None
    assert third.tender_date == date(2020, 6, 3)
    assert third.estimated_price_wan == Decimal("88")  # full-width digits
    assert third.tender_method is TenderMethod.invited


def test_gbk_csv_departments(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "部门.csv",
        [
            "代码,名称,类型,联系人,电话,邮箱,标签",
            "FGJ,区发改局,联席会议办公室,李四,028-26000001,fgj@example.gov.cn,牵头单位、成员单位",
            "ZJJ,区住建局,行业监管部门,张三,13800000000,,成员单位;行业监管",
            "GAJ,区公安分局,police,,,,",
        ],
        encoding="gbk",
    )
    rows = import_table(path, "departments", filename="部门.csv")
    assert [(r.code, r.name, r.type) for r in rows] == [
        ("FGJ", "区发改局", DepartmentKind.office),
        ("ZJJ", "区住建局", DepartmentKind.industry_regulator),
        ("GAJ", "区公安分局", DepartmentKind.police),
    ]
    assert rows[0].tags == ["牵头单位", "成员单位"]
    assert rows[1].tags == ["成员单位", "行业监管"]
    assert rows[2].contact_person is None and rows[2].tags == []


def test_read_table_keeps_spreadsheet_row_numbers_and_skips_blank_rows(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [["雁江区核查项目情况表"], PROJECT_COLUMNS[:3], ["A", "甲", "ZJJ"], [None, None, None], ["B", "乙", "ZJJ"]],
    )
    rows = read_table(path, filename="t.xlsx", required=["项目编号"])
    assert [dict(r) for r in rows] == [
        {"项目编号": "A", "项目名称": "甲", "监管部门代码": "ZJJ"},
        {"项目编号": "B", "项目名称": "乙", "监管部门代码": "ZJJ"},
    ]
    assert [r.row_number for r in rows] == [3, 5]


def test_xlsx_excel_date_and_number_cells(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "p.xlsx",
        [
            PROJECT_COLUMNS[:5],
            [1001, "某工程", "ZJJ", datetime(2020, 6, 20), 1234.5],  # noqa: DTZ001 - a spreadsheet cell's date
            ["X2", "某工程二", "ZJJ", 43997, 7],
        ],
    )
    rows = import_table(path.read_bytes(), "projects", filename="p.xlsx")
    assert rows[0].code == "1001"
    assert rows[0].tender_date == date(2020, 6, 20)
    assert rows[0].estimated_price_wan == Decimal("1234.5")
    assert rows[1].tender_date == date(2020, 6, 15)  # serial number of a date cell that lost its format


# --- rejections -----------------------------------------------------------------------


def test_xlsx_bad_rows_are_all_reported_and_nothing_imported(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            PROJECT_COLUMNS,
            ["P1", "好项目", "ZJJ", "2020-06-01", "10", "", "", ""],
            ["P2", "坏金额", "ZJJ", "2020-06-01", "abc", "", "", ""],
            ["P3", "", "ZJJ", "2020-13-01", "10", "", "", ""],
            ["P4", "好项目", "ZJJ", "2020-06-01", "10", "", "", "公开招标"],
            ["P5", "负数", "ZJJ", "2020-06-01", "-3", "", "", "抽签"],
        ],
    )
    with pytest.raises(ImportRejected) as caught:
        import_table(path, "projects", filename="bad.xlsx")
    error = caught.value
    assert {e.row_number for e in error.errors} == {3, 4, 6}
    text = str(error)
    assert "bad.xlsx：第 3 行: 列「合同估算价（万元）」: 不是有效数字" in text
    assert "bad.xlsx：第 4 行: 列「项目名称」: 必填，不能为空" in text
    assert "bad.xlsx：第 4 行: 列「招标日期」:" in text
    assert "bad.xlsx：第 6 行: 列「合同估算价（万元）」: 不能为负数" in text
    assert "bad.xlsx：第 6 行: 列「招标方式」: 取值无效" in text
    assert "Traceback" not in text and "pydantic" not in text


def test_wrong_sheet_name_lists_existing_sheets(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "p.xlsx", [PROJECT_COLUMNS], title="项目")
    with pytest.raises(ImportProblem) as caught:
        import_table(path, "projects", filename="p.xlsx", sheet="Sheet1")
    assert "「Sheet1」" in str(caught.value) and "「项目」" in str(caught.value)
    assert "p.xlsx" in str(caught.value)


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", ["项目编号,项目名称,中标人", "P1,某工程,甲公司"])
    with pytest.raises(ImportProblem) as caught:
        import_table(path, "projects", filename="p.csv")
    message = str(caught.value)
    assert "p.csv" in message
    for column in ("监管部门代码", "招标日期", "合同估算价（万元）"):
        assert column in message
    assert not isinstance(caught.value, ImportRejected)


def test_duplicate_natural_keys_inside_the_file(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "d.csv",
        [
            "代码,名称,类型",
            "ZJJ,区住建局,行业监管部门",
            "SWJ,区水务局,行业监管部门",
            " zjj ,区住建局（重复）,行业监管部门",
        ],
    )
    with pytest.raises(ImportRejected) as caught:
        import_table(path, "departments", filename="d.csv")
    assert len(caught.value.errors) == 1
    assert "d.csv：第 4 行: 列「代码」: 与第 2 行重复" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"", "empty.csv", "空文件"),
        (b"a,b\n\x80\xff\xfe\x80\n", "garbled.csv", "编码"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old.xls", ".xls"),
        (b"not a zip", "fake.xlsx", "不是有效的 Excel 文件"),
        (b"%PDF-1.4", "scan.pdf", "不支持"),
        ("代码,名称,类型\n".encode(), "header_only.csv", "没有数据行"),
        (b"<html><table></table></html>", "export.xls", "网页"),
    ],
)
def test_unreadable_input_gives_a_clear_message(content: bytes, filename: str, expected: str) -> None:
    with pytest.raises(ImportProblem) as caught:
        import_table(content, "departments", filename=filename)
    assert expected in str(caught.value)
    assert filename in str(caught.value)


def test_missing_file_is_an_import_problem(tmp_path: Path) -> None:
    with pytest.raises(ImportProblem, match="无法读取"):
        read_table(tmp_path / "nope.csv", filename="nope.csv")


def test_validate_rows_works_on_plain_dicts() -> None:
    rows = [
        {"代码": "ZJJ", "名称": "区住建局", "类型": "行业监管部门"},
        {"代码": "X", "名称": "某单位", "类型": "部委"},
    ]
    with pytest.raises(ImportRejected) as caught:
        validate_rows(rows, DepartmentRow, filename="inline", header_map=DEPARTMENT_HEADERS)
    assert [(e.row_number, e.column) for e in caught.value.errors] == [(3, "类型")]
    assert validate_rows(rows[:1], DepartmentRow, filename="inline", header_map=DEPARTMENT_HEADERS)[0].code == "ZJJ"


def test_users_department_role_needs_department_and_password_stays_secret(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "u.csv",
        [
            "用户名,姓名,角色,部门代码,邮箱,初始密码",
            "zhangsan,张三,部门,ZJJ,ZS@Example.gov.cn,Secret#2020",
            "lisi,李四,部门,,,",
        ],
    )
    with pytest.raises(ImportRejected) as caught:
        import_table(path, "users", filename="u.csv")
    assert "u.csv：第 3 行: 列「部门代码」: 角色为“部门”时必须填写部门代码" in str(caught.value)
    good = import_table(path.read_bytes().rsplit(b"\n", 2)[0] + b"\n", "users", filename="u.csv")
    user = good[0]
    assert isinstance(user, UserRow) and user.role is Role.department and user.email == "zs@example.gov.cn"
    assert user.initial_password is not None and user.initial_password.get_secret_value() == "Secret#2020"
    assert "Secret#2020" not in repr(user)


def test_leads_reference_checks_with_context_and_reporter_kept_out_of_repr() -> None:
    csv_text = (
        "线索编号,来源,收到日期,涉及项目编号,承办部门代码,问题类别,内容摘要,举报人姓名,举报人电话\n"
        "XS-1,举报,2020-06-10,YJ-001,ZJJ,围标串标,反映投标人串通投标,王五,13900000000\n"
        "XS-2,上级交办,2020-06-11,YJ-999,JTJ,围标串标,反映某项目问题,,\n"
    )
    context = {"known_department_codes": ["ZJJ"], "known_project_codes": ["YJ-001"]}
    with pytest.raises(ImportRejected) as caught:
        import_table(csv_text.encode("utf-8-sig"), "leads", filename="leads.csv", context=context)
    assert [(e.row_number, e.column) for e in caught.value.errors] == [(3, "涉及项目编号"), (3, "承办部门代码")]
    rows = import_table(csv_text.encode(), "leads", filename="leads.csv")  # no context: references unchecked
    lead = rows[0]
    assert isinstance(lead, LeadRow) and lead.source is LeadSource.report
    assert lead.reporter_name == "王五" and "王五" not in repr(lead)


# --- templates ---------------------------------------------------------------------------

SAMPLES: dict[str, dict[str, object]] = {
    "departments": {"代码": "ZJJ", "名称": "区住建局", "类型": "行业监管部门", "标签": "成员单位"},
    "users": {"用户名": "zhangsan", "姓名": "张三", "角色": "部门", "部门代码": "ZJJ", "初始密码": "Chushi#2020"},
    "projects": {
        "项目编号": "0012",
        "项目名称": "某工程",
        "监管部门代码": "ZJJ",
        "招标日期": datetime(2020, 3, 15),  # noqa: DTZ001 - a spreadsheet cell's date
        "合同估算价（万元）": 1234.5,
        "投标人": "甲公司；乙公司",
    },
    "leads": {
        "线索编号": "XS-1",
        "来源": "大数据预警",
        "收到日期": "2020年6月1日",
        "承办部门代码": "ZJJ",
        "问题类别": "规避招标",
        "内容摘要": "某项目拆分规避招标",
    },
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_template_filled_in_imports_cleanly(kind: str, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(kind)))
    assert book.sheetnames[1] == "说明"
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers == [f.title for f in KINDS[kind].model_fields.values()]
    for column, header in enumerate(headers, start=1):
        sheet.cell(row=2, column=column, value=SAMPLES[kind].get(header))
    path = tmp_path / f"{kind}.xlsx"
    book.save(path)
    rows = import_table(path, kind, filename=path.name)
    assert len(rows) == 1 and isinstance(rows[0], KINDS[kind])


def test_blank_template_is_rejected_as_empty() -> None:
    with pytest.raises(ImportProblem, match="没有数据行"):
        import_table(template_xlsx("projects"), "projects", filename="项目模板.xlsx")


def test_project_header_map_uses_chinese_headers() -> None:
    assert PROJECT_HEADERS["合同估算价（万元）"] == "estimated_price_wan"
    assert list(PROJECT_HEADERS) == PROJECT_COLUMNS


# --- blank optional cells, shared vocabularies ----------------------------------------------------

REQUIRED_ONLY: dict[str, dict[str, object]] = {
    "departments": {"code": "ZJJ", "name": "区住建局", "type": "行业监管部门"},
    "users": {"username": "zhangsan", "full_name": "张三", "role": "领导"},
    "projects": {
        "code": "P-1",
        "name": "某工程",
        "regulator_code": "ZJJ",
        "tender_date": "2020-03-01",
        "estimated_price_wan": "100",
    },
    "leads": {
        "code": "XS-1",
        "source": "举报",
        "received_on": "2020-06-01",
        "handling_department_code": "ZJJ",
        "category": "其他",
        "summary": "某事",
    },
}


@pytest.mark.parametrize("blank", ["", "   ", None, "\u3000", "\t"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_blank_optional_cells_are_none_not_errors(kind: str, blank: object) -> None:
    """Regression: a blank optional text cell once raised TypeError (a length limit applied to None)."""
    model = KINDS[kind]
    optional = [name for name, f in model.model_fields.items() if not f.is_required()]
    row = model.model_validate({**REQUIRED_ONLY[kind], **dict.fromkeys(optional, blank)})
    for name in optional:
        assert getattr(row, name) in (None, []), name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_blank_optional_columns_in_a_file(kind: str) -> None:
    model = KINDS[kind]
    titles = [f.title for f in model.model_fields.values()]
    values = [str(REQUIRED_ONLY[kind].get(name, "")) for name in model.model_fields]
    csv_bytes = (",".join(titles) + "\n" + ",".join(values) + "\n").encode("gbk")
    [row] = import_table(csv_bytes, kind, filename=f"{kind}.csv")
    assert isinstance(row, model)
    book = openpyxl.Workbook()
    book.active.append(titles)
    book.active.append([REQUIRED_ONLY[kind].get(name) for name in model.model_fields])  # None cells
    buffer = io.BytesIO()
    book.save(buffer)
    assert import_table(buffer.getvalue(), kind, filename=f"{kind}.xlsx") == [row]


def test_department_types_are_the_spec_kinds_and_codes_follow_the_spec_rule() -> None:
    from domain.spec import Department

    assert Department.model_fields["kind"].annotation is DepartmentRow.model_fields["type"].annotation
    rows = [
        {"代码": "CGDW", "名称": "某项目法人", "类型": "采购单位"},
        {"代码": "2abc", "名称": "某单位", "类型": "其他"},
    ]
    with pytest.raises(ImportRejected) as caught:
        validate_rows(rows, DepartmentRow, filename="d.csv", header_map=DEPARTMENT_HEADERS)
    assert [(e.row_number, e.column) for e in caught.value.errors] == [(3, "代码")]
    assert [(n, m.type) for n, m in caught.value.valid] == [(2, DepartmentKind.purchaser)]  # the rows that passed


def test_lead_dates_are_checked_against_the_callers_today() -> None:
    row = {
        "code": "XS-1",
        "source": "举报",
        "received_on": "2020-06-02",
        "handling_department_code": "ZJJ",
        "category": "其他",
        "summary": "某事",
    }
    assert LeadRow.model_validate(row).received_on == date(2020, 6, 2)  # no today given: not checked
    assert LeadRow.model_validate(row, context={"today": date(2020, 6, 2)}).received_on == date(2020, 6, 2)
    with pytest.raises(ValueError, match="收到日期不能晚于今天"):
        LeadRow.model_validate(row, context={"today": date(2020, 6, 1)})


def test_choice_columns_read_the_domain_vocabularies() -> None:
    """Labels, stored values and aliases of one vocabulary, nothing else; 系统 is not a person's role."""
    base = {
        "code": "XS-1",
        "source": "举报",
        "received_on": "2020-06-02",
        "handling_department_code": "ZJJ",
        "summary": "某事",
    }
    for member in ProblemCategory:
        for word in {PROBLEM_CATEGORY.label(member), member.value}:
            assert LeadRow.model_validate({**base, "category": word}).category is member
    assert LeadRow.model_validate({**base, "category": "串通投标"}).category is ProblemCategory.collusion  # alias
    with pytest.raises(ValueError, match="取值无效，应为以下之一：" + "、".join(PROBLEM_CATEGORY.choice_labels())):
        LeadRow.model_validate({**base, "category": "乱填"})
    user = {"username": "zhangsan", "full_name": "张三"}
    for role in PERSON_ROLES:
        assert (
            UserRow.model_validate(
                {**user, "role": ROLE.label(role), "department_code": "ZJJ" if role == Role.department else None}
            ).role
            is role
        )
    for word in ("system", ROLE.label(Role.system)):
        with pytest.raises(ValueError, match="取值无效"):
            UserRow.model_validate({**user, "role": word})
