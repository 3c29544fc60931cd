"""Report documents (docx, annex xlsx, chart) and the generic Excel exports.

The chart tests draw with the installed Chromium (/usr/bin/chromium, as the report does)."""

from __future__ import annotations

import io
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from pydantic import ValidationError

from dashboard import charts
from exchange import figures
from exchange.figures import ChartUnavailable, StaticExport
from exchange.reports import (
    ANNEX_WIDTH_CM,
    CHART_MAX_UNITS,
    CHART_WIDTH_PX,
    NO_PROJECTS,
    SECTION_HEADINGS,
    CheckedProjectRow,
    DepartmentProgressRow,
    InProcessSupervisionRow,
    LeadHandlingRow,
    Narrative,
    PostCheckRow,
    RectificationRow,
    ReportData,
    ReportFigures,
    build_annex_xlsx,
    build_docx,
    figures_sentence,
    progress_chart_png,
)
from exchange.xlsx_export import Percent, ledger_to_xlsx, to_xlsx

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_MAGIC)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return width, height


def department_rows() -> list[DepartmentProgressRow]:
    return [
        DepartmentProgressRow(
            department="区住建局",
            tasks_assigned=10,
            tasks_accepted=7,
            projects_supervised=40,
            projects_sampled=6,
            problems_found=5,
            problems_closed=2,
        ),
        DepartmentProgressRow(
            department="区交运局", tasks_assigned=4, tasks_accepted=4, projects_supervised=10, projects_sampled=3
        ),
        DepartmentProgressRow(department="区公安分局"),
    ]


def report(**overrides: object) -> ReportData:
    values: dict[str, object] = {
        "unit_name": "区发改局（联席会议办公室）",
        "is_rollup": True,
        "period_label": "2020年6月",
        "period_start": date(2020, 6, 1),
        "period_end": date(2020, 6, 30),
        "generated_at": datetime(2020, 6, 20, 2, 30, tzinfo=UTC),
        "figures": ReportFigures(
            tasks_assigned=37,
            tasks_submitted=31,
            tasks_accepted=29,
            tasks_on_time=27,
            tasks_overdue=4,
            problems_found=23,
            problems_rectified=19,
            problems_closed=17,
            problems_rebound=2,
            projects_supervised=150,
            projects_sampled=41,
            leads_received=13,
            leads_closed=11,
            leads_substantiated=7,
            enterprises_involved=9,
            people_dealt_with=6,
            fines_wan_yuan=Decimal("35.5"),
            transfers_police=3,
            transfers_discipline=5,
        ),
        "narrative": Narrative(
            practices="召开联席会议2次。\n分行业完成自查。", experience="建立插手干预登记报告制度。"
        ),
        "department_rows": department_rows(),
        "checked_projects": [
            CheckedProjectRow(
                project_code="YJ-001",
                project_name="某道路改造工程",
                regulator="区住建局",
                tender_date=date(2020, 3, 15),
                estimated_price_wan=Decimal("1234.5"),
                check_method="现场核查",
                problem_found=True,
                problems="围标串标",
            )
        ],
        "lead_handling": [
            LeadHandlingRow(
                lead_code="XS-001", source="举报", received_on=date(2020, 6, 10), summary="反映串通投标", finding="属实"
            )
        ],
        "rectification_ledger": [
            RectificationRow(
                problem_code="WT-001", description="规避招标", status="已销号", closed_on=date(2020, 6, 18)
            )
        ],
        "in_process_ledger": [InProcessSupervisionRow(project_name="某水厂工程", stage="评标")],
        "post_check_ledger": [PostCheckRow(project_name="某学校工程", check_method="资料核实")],
    }
    values.update(overrides)
    return ReportData.model_validate(values)


# --- report data ------------------------------------------------------------------------


def test_report_data_rules() -> None:
    data = report()
    assert data.report_title == "雁江区工程招标投标领域突出问题系统治理工作推进情况报告（2020年6月）"
    assert data.figures.sampled_ratio == pytest.approx(41 / 150)
    assert report(is_rollup=False, unit_name="区住建局").report_title.startswith("区住建局")
    with pytest.raises(ValidationError):
        report(period_end=date(2020, 5, 1))
    with pytest.raises(ValidationError):
        ReportFigures(tasks_assigned=-1)


def test_figures_sentence_contains_every_number() -> None:
    sentence = figures_sentence(report())
    for fragment in (
        "2020年6月1日至2020年6月30日",
        "全区共下达工作任务37项",
        "已报送31项",
        "审核通过29项",
        "按期完成27项",
        "逾期未完成4项",
        "监管项目150个",
        "核查41个",
        "核查比例27.33%",
        "发现问题23个",
        "已整改19个",
        "已销号17个",
        "反弹2个",
        "线索13件",
        "办结11件",
        "查实7件",
        "企业9家",
        "人员6人",
        "罚款35.5万元",
        "移送公安机关3件",
        "移送纪检监察机关5件",
        "2020年6月20日 10:30",
    ):
        assert fragment in sentence
    low = report(figures=ReportFigures(projects_supervised=100, projects_sampled=10))
    assert "未达到不低于20%的要求" in figures_sentence(low)
    assert "无法计算" in figures_sentence(report(figures=ReportFigures()))


# --- Word document ---------------------------------------------------------------------------


def test_docx_has_title_figures_sections_chart_and_tables() -> None:
    data = report()
    document = docx.Document(io.BytesIO(build_docx(data, progress_chart_png(data.department_rows))))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == data.report_title
    assert figures_sentence(data) in texts
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [f"{n}、{title}" for n, (_, title) in zip("一二三四", SECTION_HEADINGS, strict=True)]
    assert "召开联席会议2次。" in texts and "分行业完成自查。" in texts
    after_problems = texts[texts.index("二、发现的问题及处理情况") + 1]
    assert after_problems == "（未填写）"
    assert len(document.inline_shapes) == 1

    tables = {tuple(c.text for c in t.rows[0].cells): t for t in document.tables}
    for model in (
        DepartmentProgressRow,
        CheckedProjectRow,
        LeadHandlingRow,
        RectificationRow,
        InProcessSupervisionRow,
        PostCheckRow,
    ):
        assert tuple(model.headers()) in tables
    checked = tables[tuple(CheckedProjectRow.headers())]
    assert [c.text for c in checked.rows[1].cells][:5] == [
        "YJ-001",
        "某道路改造工程",
        "区住建局",
        "2020-03-15",
        "1234.5",
    ]
    progress = tables[tuple(DepartmentProgressRow.headers())]
    assert [c.text for c in progress.rows[1].cells][-3:] == ["70.0%", "15.0%", "40.0%"]
    assert len(progress.rows) == 4

    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋"


def test_docx_without_chart_and_with_empty_tables() -> None:
    data = report(department_rows=[], checked_projects=[], narrative=Narrative())
    document = docx.Document(io.BytesIO(build_docx(data, None)))
    assert len(document.inline_shapes) == 0
    assert [p.text for p in document.paragraphs].count("（未填写）") == 4
    checked = next(
        t for t in document.tables if t.rows[0].cells[0].text == "项目编号" and t.rows[0].cells[2].text == "监管部门"
    )
    assert checked.rows[1].cells[0].text == "本期无数据"
    assert all(t.rows[0].cells[0].text != "单位" for t in document.tables)


# --- Excel annex --------------------------------------------------------------------------------


def test_annex_xlsx_has_summary_and_one_sheet_per_table() -> None:
    book = openpyxl.load_workbook(io.BytesIO(build_annex_xlsx(report())))
    assert book.sheetnames == [
        "汇总",
        "各单位工作推进情况表",
        "核查项目情况表",
        "信访举报办理情况表",
        "整改台账",
        "事中监管及整改台账",
        "事后检查及整改台账",
    ]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["下达任务（项）"] == 37
    assert summary["罚款（万元）"] == 35.5
    assert summary["核查比例"] == pytest.approx(41 / 150)
    assert summary["生成时间"] == datetime(2020, 6, 20, 10, 30)  # noqa: DTZ001 - Excel holds Beijing wall-clock time
    checked = book["核查项目情况表"]
    assert [c.value for c in checked[1]] == CheckedProjectRow.headers()
    assert checked["B2"].value == "某道路改造工程"
    assert checked["D2"].value == datetime(2020, 3, 15)  # noqa: DTZ001 - a date cell reads back naive
    assert checked["D2"].number_format == "yyyy-mm-dd"
    assert checked["I2"].value == "是"
    progress = book["各单位工作推进情况表"]
    completion = openpyxl.utils.get_column_letter(DepartmentProgressRow.headers().index("任务完成率") + 1)
    assert progress["A3"].value == "区交运局" and progress[f"{completion}2"].number_format == "0.0%"
    ratio = DepartmentProgressRow.headers().index("核查比例")
    assert [c.value for c in progress[4]][ratio] == NO_PROJECTS  # 区公安分局 supervises no project: not 0 %
    assert book["信访举报办理情况表"]["A2"].value == "XS-001"


# --- chart ------------------------------------------------------------------------------------------


def test_the_report_chart_is_the_dashboards_figure_drawn_by_chromium() -> None:
    assert charts.department_progress is figures.department_progress  # one figure function, screen and paper
    png = progress_chart_png(department_rows())
    width, height = png_size(png)
    assert width == 2 * CHART_WIDTH_PX and height > 200  # drawn at twice the CSS size, for print
    many = [DepartmentProgressRow(department=f"单位{i}", tasks_assigned=4, tasks_accepted=i % 5) for i in range(80)]
    capped = png_size(progress_chart_png(many))[1]
    assert capped == png_size(progress_chart_png(many[:CHART_MAX_UNITS]))[1] > height  # the furthest behind only
    assert png_size(progress_chart_png([]))[1] > 0  # "暂无数据", still a picture


def test_the_progress_chart_lists_the_furthest_behind_at_the_top() -> None:
    rows = department_rows()
    board = figures.pd.DataFrame(
        {
            "code": [r.department for r in rows],
            "name": [r.department for r in rows],
            "assigned": [r.tasks_assigned for r in rows],
            "accepted": [r.tasks_accepted for r in rows],
            "on_time": [r.tasks_on_time for r in rows],
            "overdue": [r.tasks_overdue for r in rows],
            "completion": [r.task_completion_rate for r in rows],
        }
    )
    axis = figures.department_progress(board).layout.yaxis
    behind = min((r for r in rows if r.task_completion_rate is not None), key=lambda r: r.task_completion_rate)
    # a reversed axis draws its first category at the top
    assert axis.autorange == "reversed" and axis.categoryarray[0] == behind.department


def test_the_configured_cjk_font_is_tried_first() -> None:
    plain = progress_chart_png(department_rows())
    mono = progress_chart_png(department_rows(), export=StaticExport(font_family="WenQuanYi Zen Hei Mono"))
    assert png_size(mono) == png_size(plain) and mono != plain  # same chart, other glyphs


def test_a_missing_browser_is_said_plainly() -> None:
    with pytest.raises(ChartUnavailable, match="Chromium"):
        progress_chart_png(department_rows(), export=StaticExport(browser=figures.Path("/nonexistent/chromium")))


def test_a_browser_that_fails_to_start_is_an_error_and_the_next_chart_still_draws() -> None:
    not_a_browser = figures.Path(figures.shutil.which("true") or "/bin/true")  # exits at once
    with pytest.raises(ChartUnavailable, match="未能生成"):
        progress_chart_png(department_rows(), export=StaticExport(browser=not_a_browser))
    assert png_size(progress_chart_png(department_rows()))[0] == 2 * CHART_WIDTH_PX


def test_docx_unit_column_is_wide_enough_for_a_unit_name() -> None:
    longest = "区公共资源交易服务中心"
    rows = [*department_rows(), DepartmentProgressRow(department=longest, tasks_assigned=1)]
    document = docx.Document(io.BytesIO(build_docx(report(department_rows=rows), None)))
    progress = next(t for t in document.tables if t.rows[0].cells[0].text == "单位")
    widths = [column.width for column in progress.columns]
    assert widths[0] >= Pt(10.5) * len(longest)  # one line at 五号: never a character per line
    assert sum(widths) <= Cm(ANNEX_WIDTH_CM) + Cm(0.05)  # and the table stays on the landscape page
    ledger = next(t for t in document.tables if t.rows[0].cells[0].text == "问题编号")
    assert all(column.width >= Cm(1) for column in ledger.columns)


# --- generic Excel exports -----------------------------------------------------------------------------


def test_to_xlsx_formats_headers_dates_widths_and_keeps_formulas_as_text() -> None:
    moment = datetime(2020, 6, 20, 1, 0, tzinfo=UTC)
    content = to_xlsx(
        {
            "项目": (
                ["项目名称", "招标日期", "更新时间", "比例", "备注"],
                [["雁江区某道路改造工程", date(2020, 6, 20), moment, Percent(0.25), "=1+1"]],
            ),
            "bad/name:": (["a"], []),
        }
    )
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["项目", "bad_name_"]
    sheet = book["项目"]
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 20  # ten CJK characters count double
    assert sheet["B2"].value == datetime(2020, 6, 20) and sheet["B2"].is_date  # noqa: DTZ001 - Excel is naive
    assert sheet["C2"].value == datetime(2020, 6, 20, 9, 0)  # noqa: DTZ001 - Beijing wall-clock time
    assert sheet["D2"].number_format == "0.0%"
    assert sheet["E2"].value == "=1+1" and sheet["E2"].data_type == "s"


def test_annex_sheets_print_on_a_page_width_with_the_header_on_every_page() -> None:
    book = openpyxl.load_workbook(io.BytesIO(build_annex_xlsx(report())))
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and (setup.fitToWidth, setup.fitToHeight) == (1, 0)
        assert sheet.print_title_rows == "$1:$1" and sheet.freeze_panes == "A2"
        assert int(setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert book["整改台账"].page_setup.orientation == "landscape"  # ten columns of text
    assert book["汇总"].page_setup.orientation == "portrait"  # two columns


def test_ledger_puts_full_history_in_last_column() -> None:
    start = datetime(2020, 6, 1, 1, 0, tzinfo=UTC)
    problems = [
        {
            "code": "WT-001",
            "project_name": "某道路改造工程",
            "status": "已销号",
            "history": [
                {"time": start + timedelta(days=10), "actor": "区发改局", "action": "审核销号", "note": "同意销号"},
                {"time": start, "actor": "区住建局", "action": "登记问题", "note": ""},
                {"time": start + timedelta(days=5), "actor": "区住建局", "action": "提交整改", "note": "已重新招标"},
            ],
        },
        {"code": "WT-002", "project_name": "某水厂工程", "status": "整改中"},
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(ledger_to_xlsx(problems))).active
    headers = [c.value for c in sheet[1]]
    assert headers == ["序号", "问题编号", "项目名称", "整改状态", "销号过程"]
    assert sheet.max_row == 3
    history = sheet["E2"].value.split("\n")
    assert history == [
        "2020-06-01 09:00 区住建局 登记问题",
        "2020-06-06 09:00 区住建局 提交整改：已重新招标",
        "2020-06-11 09:00 区发改局 审核销号：同意销号",
    ]
    assert sheet["E2"].alignment.wrap_text
    assert sheet["E3"].value is None and sheet["B3"].value == "WT-002"
