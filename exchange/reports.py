"""Monthly progress report: DTO, Word document, Excel annex and the progress chart for paper.

The 雁江区 plan asks each member unit for a monthly report (开展情况和主要做法,
发现的问题及处理情况, 可复制推广的典型经验, 下一步工作打算和意见建议) together
with 核查项目情况表 and 信访举报办理情况表; the office rolls them up for the
市发改委 and 区纪委监委. No database access here: callers fill ``ReportData``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from copy import deepcopy
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

import pandas as pd
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from pydantic import BaseModel, Field, NonNegativeInt, computed_field, model_validator

from domain.problem import PROBLEM, ProblemStatus
from exchange.docx_style import (
    TABLE_STYLE,
    TITLE_FONT,
    ReportTableRow,
    set_fonts,
    setup_page_and_styles,
)
from exchange.figures import DEFAULT_EXPORT, PROGRESS_TITLE, StaticExport, department_progress, to_png
from exchange.xlsx_export import Percent, SheetData, china_time, display_width, to_xlsx

MIN_SAMPLED_RATIO = 0.2  # 核查比例不低于监管项目总数的20%
NO_PROJECTS = "无监管项目"  # a unit with no supervised projects has no 核查比例 (not 0 %), as on the boards
NOT_FILLED = "（未填写）"
NO_ROWS = "本期无数据"
CHINESE_NUMERALS = "一二三四五六七八九十"

CHART_MAX_UNITS = 30  # a chart of 2,000 units would be 80,000 px tall; the table lists them all
CHART_WIDTH_PX = 1000  # CSS pixels, drawn at twice that for print; placed 15 cm wide
# Annex table columns (landscape A4, 2 cm margins): a display-width unit (half a CJK character at 五号)
# is about 0.19 cm, plus the cell's own padding.
ANNEX_WIDTH_CM = 25.7
UNIT_CM, CELL_PADDING_CM = 0.19, 0.4
MIN_COLUMN_CM, MAX_NATURAL_CM = 1.2, 9.0
WIDTH_SAMPLE_ROWS = 300


# --- figures & narrative ---------------------------------------------------------


class ReportFigures(BaseModel):
    tasks_assigned: NonNegativeInt = 0
    tasks_submitted: NonNegativeInt = 0
    tasks_accepted: NonNegativeInt = 0
    tasks_on_time: NonNegativeInt = 0
    tasks_overdue: NonNegativeInt = 0
    problems_found: NonNegativeInt = 0
    problems_rectified: NonNegativeInt = 0
    problems_closed: NonNegativeInt = 0  # 销号
    problems_rebound: NonNegativeInt = 0  # 销号后反弹
    projects_supervised: NonNegativeInt = 0
    projects_sampled: NonNegativeInt = 0
    sampled_ratio: float | None = Field(default=None, ge=0)  # computed when omitted
    leads_received: NonNegativeInt = 0
    leads_closed: NonNegativeInt = 0
    leads_substantiated: NonNegativeInt = 0
    enterprises_involved: NonNegativeInt = 0
    people_dealt_with: NonNegativeInt = 0
    fines_wan_yuan: Decimal = Field(default=Decimal(0), ge=0)
    transfers_police: NonNegativeInt = 0
    transfers_discipline: NonNegativeInt = 0
    # What happened within the report's own period, beside the running totals above (None: not given).
    problems_found_in_period: NonNegativeInt | None = None
    problems_closed_in_period: NonNegativeInt | None = None
    leads_received_in_period: NonNegativeInt | None = None
    leads_closed_in_period: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _fill_ratio(self) -> ReportFigures:
        if self.sampled_ratio is None and self.projects_supervised:
            self.sampled_ratio = self.projects_sampled / self.projects_supervised
        return self


# The 汇总 sheet's row headings, one per figure.
FIGURE_HEADINGS: dict[str, str] = {
    "tasks_assigned": "下达任务（项）",
    "tasks_submitted": "已报送（项）",
    "tasks_accepted": "审核通过（项）",
    "tasks_on_time": "按期完成（项）",
    "tasks_overdue": "逾期未完成（项）",
    "problems_found": "发现问题（个）",
    "problems_rectified": "已整改（个）",
    "problems_closed": "已销号（个）",
    "problems_rebound": "销号后反弹（个）",
    "projects_supervised": "监管项目（个）",
    "projects_sampled": "核查项目（个）",
    "sampled_ratio": "核查比例",
    "leads_received": "受理线索（件）",
    "leads_closed": "办结线索（件）",
    "leads_substantiated": "查实线索（件）",
    "enterprises_involved": "涉及企业（家）",
    "people_dealt_with": "处理人员（人）",
    "fines_wan_yuan": "罚款（万元）",
    "transfers_police": "移送公安机关（件）",
    "transfers_discipline": "移送纪检监察机关（件）",
    "problems_found_in_period": "其中本期新发现问题（个）",
    "problems_closed_in_period": "其中本期销号（个）",
    "leads_received_in_period": "其中本期新受理线索（件）",
    "leads_closed_in_period": "其中本期办结线索（件）",
}


FIGURE_LABELS = FIGURE_HEADINGS  # the old name, still imported by dashboard/pages/reports.py


class Narrative(BaseModel):
    """Free text written by the unit, one field per required heading."""

    practices: str = ""
    problems: str = ""
    experience: str = ""
    next_steps: str = ""


SECTION_HEADINGS: tuple[tuple[str, str], ...] = (
    ("practices", "开展情况和主要做法"),
    ("problems", "发现的问题及处理情况"),
    ("experience", "可复制推广的典型经验"),
    ("next_steps", "下一步工作打算和意见建议"),
)


# --- table rows ---------------------------------------------------------------------


class DepartmentProgressRow(ReportTableRow):
    table_title: ClassVar[str] = "各单位工作推进情况表"

    department: str = Field(title="单位")
    # domain.grading's grade (its label) and reason, from the rollup the boards read for the report's day
    grade: str = Field(default="", title="评级")
    grade_reason: str = Field(default="", title="评级依据")
    tasks_assigned: NonNegativeInt = Field(default=0, title="下达任务")
    tasks_submitted: NonNegativeInt = Field(default=0, title="已报送")
    tasks_accepted: NonNegativeInt = Field(default=0, title="审核通过")
    tasks_on_time: NonNegativeInt = Field(default=0, title="按期完成")  # the chart's 按时 bar, in the table too
    tasks_overdue: NonNegativeInt = Field(default=0, title="逾期")
    projects_supervised: NonNegativeInt = Field(default=0, title="监管项目")
    projects_sampled: NonNegativeInt = Field(default=0, title="核查项目")
    problems_found: NonNegativeInt = Field(default=0, title="发现问题")
    problems_closed: NonNegativeInt = Field(default=0, title=PROBLEM.label(ProblemStatus.closed))
    leads_received: NonNegativeInt = Field(default=0, title="受理线索")
    leads_closed: NonNegativeInt = Field(default=0, title="办结线索")

    @computed_field(title="任务完成率")  # type: ignore[prop-decorator]
    @property
    def task_completion_rate(self) -> Percent | None:
        return _ratio(self.tasks_accepted, self.tasks_assigned)

    @computed_field(title="核查比例")  # type: ignore[prop-decorator]
    @property
    def sampled_ratio(self) -> Percent | str:
        ratio = _ratio(self.projects_sampled, self.projects_supervised)
        return NO_PROJECTS if ratio is None else ratio

    @computed_field(title="问题销号率")  # type: ignore[prop-decorator]
    @property
    def closure_rate(self) -> Percent | None:
        return _ratio(self.problems_closed, self.problems_found)


def _ratio(part: int, whole: int) -> Percent | None:
    return Percent(part / whole) if whole else None


class CheckedProjectRow(ReportTableRow):
    table_title: ClassVar[str] = "核查项目情况表"

    project_code: str = Field(default="", title="项目编号")
    project_name: str = Field(title="项目名称")
    regulator: str = Field(default="", title="监管部门")
    tender_date: date | None = Field(default=None, title="招标日期")
    estimated_price_wan: Decimal | None = Field(default=None, title="合同估算价（万元）")
    winning_bidder: str = Field(default="", title="中标人")
    check_method: str = Field(default="", title="核查方式")  # 资料核实 / 现场核查
    checked_on: date | None = Field(default=None, title="核查日期")
    problem_found: bool = Field(default=False, title="是否发现问题")
    problems: str = Field(default="", title="发现问题")
    handling: str = Field(default="", title="处理情况")


class LeadHandlingRow(ReportTableRow):
    """No reporter identity here: the report leaves the office (whistle-blower protection)."""

    table_title: ClassVar[str] = "信访举报办理情况表"

    lead_code: str = Field(title="线索编号")
    source: str = Field(default="", title="来源")
    received_on: date | None = Field(default=None, title="收到日期")
    project_name: str = Field(default="", title="涉及项目")
    handling_department: str = Field(default="", title="承办单位")
    category: str = Field(default="", title="问题类别")
    summary: str = Field(default="", title="反映主要问题")
    status: str = Field(default="", title="办理状态")
    finding: str = Field(default="", title="核查结论")  # 属实 / 部分属实 / 不属实
    result: str = Field(default="", title="处理结果")
    closed_on: date | None = Field(default=None, title="办结日期")


class RectificationRow(ReportTableRow):
    table_title: ClassVar[str] = "整改台账"

    problem_code: str = Field(default="", title="问题编号")
    project_name: str = Field(default="", title="项目名称")
    responsible_unit: str = Field(default="", title="责任单位")
    category: str = Field(default="", title="问题类别")
    description: str = Field(title="问题描述")
    measures: str = Field(default="", title="整改措施")
    deadline: date | None = Field(default=None, title="整改时限")
    status: str = Field(default="", title="整改进展")
    closed_on: date | None = Field(default=None, title="销号日期")
    note: str = Field(default="", title="备注")


class InProcessSupervisionRow(ReportTableRow):
    table_title: ClassVar[str] = "事中监管及整改台账"

    project_code: str = Field(default="", title="项目编号")
    project_name: str = Field(title="项目名称")
    stage: str = Field(default="", title="监管环节")  # 开标 / 评标 / 定标 …
    supervised_on: date | None = Field(default=None, title="监管日期")
    problems: str = Field(default="", title="发现问题")
    requirement: str = Field(default="", title="整改要求")
    rectification: str = Field(default="", title="整改情况")
    responsible_unit: str = Field(default="", title="责任单位")


class PostCheckRow(ReportTableRow):
    table_title: ClassVar[str] = "事后检查及整改台账"

    project_code: str = Field(default="", title="项目编号")
    project_name: str = Field(title="项目名称")
    checked_on: date | None = Field(default=None, title="检查日期")
    check_method: str = Field(default="", title="检查方式")
    problems: str = Field(default="", title="发现问题")
    measures: str = Field(default="", title="处理措施")
    rectification: str = Field(default="", title="整改情况")
    responsible_unit: str = Field(default="", title="责任单位")


class ExtendedTaskRow(ReportTableRow):
    """A task whose deadline an approved 延期申请 moved: the original deadline stays on record beside the
    effective one (issue 13 item 2)."""

    table_title: ClassVar[str] = "已批准延期的任务"

    department: str = Field(title="部门")
    task: str = Field(title="任务")
    original_due_on: date = Field(title="原定期限")
    extended_due_on: date = Field(title="延期后期限")
    reason: str = Field(default="", title="理由")
    approved_on: date | None = Field(default=None, title="批准日期")


# --- report DTO ----------------------------------------------------------------------


class ReportData(BaseModel):
    area: str = "雁江区"
    campaign_title: str = "工程招标投标领域突出问题系统治理"
    unit_name: str  # e.g. 区住建局, or 区发改局（联席会议办公室） for the rollup
    is_rollup: bool = False  # True: the office's area-wide report
    title: str | None = None  # overrides the generated title
    period_label: str  # e.g. 2020年6月
    period_start: date
    period_end: date
    generated_at: datetime
    figures: ReportFigures = Field(default_factory=ReportFigures)
    narrative: Narrative = Field(default_factory=Narrative)
    department_rows: list[DepartmentProgressRow] = Field(default_factory=list)
    graded_on: date | None = None  # the tick day whose rollup gave department_rows their 评级 (None: never ticked)
    checked_projects: list[CheckedProjectRow] = Field(default_factory=list)
    lead_handling: list[LeadHandlingRow] = Field(default_factory=list)
    rectification_ledger: list[RectificationRow] = Field(default_factory=list)
    in_process_ledger: list[InProcessSupervisionRow] = Field(default_factory=list)
    post_check_ledger: list[PostCheckRow] = Field(default_factory=list)
    rule_hits: list[ReportTableRow] = Field(default_factory=list)  # issue 14: exchange.bids_report.RuleHitRow
    ranking: list[ReportTableRow] = Field(default_factory=list)  # issue 13: exchange.notices.ScoreRankRow (rollup)
    extensions: list[ExtendedTaskRow] = Field(default_factory=list)  # issue 13: approved 延期, both deadlines

    @model_validator(mode="after")
    def _period_in_order(self) -> ReportData:
        if self.period_end < self.period_start:
            raise ValueError("报告期间的结束日期早于开始日期")
        return self

    @property
    def report_title(self) -> str:
        if self.title:
            return self.title
        if self.is_rollup:
            return f"{self.area}{self.campaign_title}工作推进情况报告（{self.period_label}）"
        return f"{self.unit_name}{self.campaign_title}工作情况报告（{self.period_label}）"

    def tables(self) -> list[tuple[str, list[str], list[ReportTableRow]]]:
        """(title, headers, rows) in report order; the per-unit table only when present."""
        tables: list[tuple[str, type[ReportTableRow], Sequence[ReportTableRow]]] = [
            (CheckedProjectRow.table_title, CheckedProjectRow, self.checked_projects),
            (LeadHandlingRow.table_title, LeadHandlingRow, self.lead_handling),
            (RectificationRow.table_title, RectificationRow, self.rectification_ledger),
            (InProcessSupervisionRow.table_title, InProcessSupervisionRow, self.in_process_ledger),
            (PostCheckRow.table_title, PostCheckRow, self.post_check_ledger),
        ]
        if self.department_rows:
            tables.insert(0, (DepartmentProgressRow.table_title, DepartmentProgressRow, self.department_rows))
        if self.ranking:  # the office rollup: 考核排名 after the progress table
            ranked = (self.ranking[0].table_title, type(self.ranking[0]), self.ranking)
            tables.insert(1 if self.department_rows else 0, ranked)
        if self.extensions:  # only when an approved extension moved a deadline that mattered in the period
            tables.append((ExtendedTaskRow.table_title, ExtendedTaskRow, self.extensions))
        if self.rule_hits:  # only where the campaign screens its bid register
            tables.append((self.rule_hits[0].table_title, type(self.rule_hits[0]), self.rule_hits))
        return [(title, model.headers(), list(rows)) for title, model, rows in tables]


# --- text helpers -----------------------------------------------------------------------


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _number(value: Decimal | float) -> str:
    text = format(Decimal(str(value)).quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def period_text(data: ReportData) -> str:
    return f"{_cn_date(data.period_start)}至{_cn_date(data.period_end)}"


def figures_sentence(data: ReportData) -> str:
    """The figures paragraph; generated from the numbers, never edited by hand."""
    f = data.figures
    subject = "全区共下达" if data.is_rollup else f"{data.unit_name}共承接"
    moment = china_time(data.generated_at)
    return (
        f"{period_text(data)}，{subject}工作任务{f.tasks_assigned}项，已报送{f.tasks_submitted}项、"
        # 逾期 counts unfinished work past its deadline, so it is not a part of 审核通过.
        f"审核通过{f.tasks_accepted}项（其中按期完成{f.tasks_on_time}项），逾期未完成{f.tasks_overdue}项；"
        f"截至{_cn_date(data.period_end)}，累计监管项目{f.projects_supervised}个，核查{f.projects_sampled}个，"
        f"{_ratio_text(f)}；"
        f"发现问题{f.problems_found}个{_in_period('新发现', f.problems_found_in_period, '个')}，"
        f"已整改{f.problems_rectified}个、已销号{f.problems_closed}个"
        f"{_in_period('销号', f.problems_closed_in_period, '个')}，"
        f"销号后反弹{f.problems_rebound}个；受理信访举报等问题线索{f.leads_received}件"
        f"{_in_period('新受理', f.leads_received_in_period, '件')}，办结{f.leads_closed}件"
        f"{_in_period('办结', f.leads_closed_in_period, '件')}，"
        f"其中查实{f.leads_substantiated}件；涉及企业{f.enterprises_involved}家，处理人员{f.people_dealt_with}人，"
        f"罚款{_number(f.fines_wan_yuan)}万元，移送公安机关{f.transfers_police}件、"
        f"移送纪检监察机关{f.transfers_discipline}件。"
        f"（数据截至{_cn_date(moment)} {moment:%H:%M}，由系统自动统计）"
    )


def _in_period(verb: str, count: int | None, unit: str) -> str:
    return "" if count is None else f"（本期{verb}{count}{unit}）"


def _ratio_text(f: ReportFigures) -> str:
    if f.sampled_ratio is None:
        return "核查比例无法计算（无监管项目）"
    text = f"核查比例{_number(f.sampled_ratio * 100)}%"
    if f.sampled_ratio < MIN_SAMPLED_RATIO:
        text += f"，未达到不低于{MIN_SAMPLED_RATIO:.0%}的要求"
    return text


def grading_day_text(data: ReportData) -> str:
    """Which day the per-unit 评级 is as of: the boards' last tick on or before the report's cut-off."""
    if data.graded_on is None:
        return "暂无（截至报告期末尚未巡检）"
    return f"按{_cn_date(data.graded_on)}巡检数据评定"


def cell_text(value: Any) -> str:
    """How a table value reads in the Word document."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Percent):
        return f"{value * 100:.1f}%"
    if isinstance(value, datetime):
        return f"{china_time(value):%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, float)):
        return _number(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


# --- Word document --------------------------------------------------------------------------


def build_docx(data: ReportData, chart_png: bytes | None = None) -> bytes:
    document = Document()
    setup_page_and_styles(document)
    _title(document, data)
    _body_paragraph(document, figures_sentence(data))
    for index, (key, heading) in enumerate(SECTION_HEADINGS):
        document.add_heading(f"{CHINESE_NUMERALS[index]}、{heading}", level=1)
        _narrative(document, getattr(data.narrative, key))
    if chart_png:
        _chart(document, chart_png, "各单位工作推进情况" if data.is_rollup else f"{data.unit_name}工作推进情况")
    _annex_tables(document, data)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _title(document: DocxDocument, data: ReportData) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(12)
    run = paragraph.add_run(data.report_title)
    run.bold, run.font.size = True, Pt(22)  # 二号
    set_fonts(run._r, TITLE_FONT)
    byline = document.add_paragraph(f"报告单位：{data.unit_name}　　报告期间：{period_text(data)}")
    byline.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in byline.runs:
        run.font.size = Pt(14)


def _body_paragraph(document: DocxDocument, text: str) -> Paragraph:
    paragraph = document.add_paragraph(text)
    paragraph.paragraph_format.first_line_indent = Pt(32)  # two characters at 三号
    paragraph.paragraph_format.line_spacing = Pt(28)
    return paragraph


def _narrative(document: DocxDocument, text: str) -> None:
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    for line in lines or [NOT_FILLED]:
        _body_paragraph(document, line)


def _chart(document: DocxDocument, png: bytes, caption: str) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(15))
    picture = document.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True  # the caption never lands alone on the next page
    document.add_paragraph(f"图1　{caption}").alignment = WD_ALIGN_PARAGRAPH.CENTER


def _annex_tables(document: DocxDocument, data: ReportData) -> None:
    section = document.add_section()
    # Wide ledgers read better on landscape pages.
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin = section.right_margin = Cm(2)
    for number, (title, headers, rows) in enumerate(data.tables(), start=1):
        document.add_heading(f"附表{number}　{title}", level=2)
        if title == DepartmentProgressRow.table_title:
            document.add_paragraph(
                f"注：各单位评级{grading_day_text(data)}，规则和数据与进度看板相同。", style=TABLE_STYLE
            )
        _table(document, headers, [[cell_text(value) for value in row.cells()] for row in rows])


def column_widths_cm(
    headers: Sequence[str], rows: Sequence[Sequence[str]], total_cm: float = ANNEX_WIDTH_CM
) -> list[float]:
    """Column widths that fill the page: a column whose text is short (单位, 日期, 编号, numbers) gets its
    whole text's width, so it never wraps character by character; the long text columns share what is
    left in proportion to their text. A header may wrap onto two lines."""
    natural = []
    for index, header in enumerate(headers):
        cells = [row[index] for row in rows[:WIDTH_SAMPLE_ROWS] if index < len(row)]
        units = max([(display_width(header) + 1) // 2, *(display_width(text) for text in cells)])
        natural.append(min(max(units * UNIT_CM + CELL_PADDING_CM, MIN_COLUMN_CM), MAX_NATURAL_CM))
    if sum(natural) <= total_cm:  # everything fits on one line: widen all alike
        return [width * total_cm / sum(natural) for width in natural]
    kept: set[int] = set()
    while True:  # water filling: a column narrower than an equal share of the room keeps its width
        flexible = [i for i in range(len(natural)) if i not in kept]
        room = total_cm - sum(natural[i] for i in kept)
        narrow = [i for i in flexible if natural[i] <= room / len(flexible)]
        if narrow and len(narrow) < len(flexible):
            kept.update(narrow)
            continue
        scale = room / sum(natural[i] for i in flexible)
        return [natural[i] if i in kept else max(natural[i] * scale, MIN_COLUMN_CM) for i in range(len(natural))]


def _table(document: DocxDocument, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # fixed layout: Word and LibreOffice keep the widths below
    widths = [Cm(w) for w in column_widths_cm(headers, rows)]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    style = document.styles[TABLE_STYLE]
    for cell, header, width in zip(table.rows[0].cells, headers, widths, strict=True):
        _cell(cell, header, style, bold=True)
        _shade(cell, "D9D9D9")
        cell.width = Emu(width)
    _repeat_header(table.rows[0])
    if rows:
        # One empty styled row, copied for every data row: python-docx's add_row per row costs
        # about a millisecond each, a copy of the XML a few microseconds.
        template = table.add_row()
        for cell, width in zip(template.cells, widths, strict=True):
            cell.paragraphs[0].style = style
            cell.width = Emu(width)
        blank = deepcopy(template._tr)
        template._tr.getparent().remove(template._tr)
        for values in rows:
            tr = deepcopy(blank)
            table._tbl.append(tr)
            for tc, text in zip(tr.tc_lst, values, strict=True):
                _lines(tc.p_lst[0], text)
    else:
        cells = table.add_row().cells
        merged = cells[0].merge(cells[-1])
        _cell(merged, NO_ROWS, style)
    return table


def _cell(cell: Any, text: str, style: Any, *, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.style = style
    for run in _lines(paragraph._p, text):
        if bold:
            run.get_or_add_rPr().get_or_add_b()


def _lines(p: Any, text: str) -> list[Any]:
    """Text into a cell paragraph, one run per line (keeps multi-line cells such as 销号过程 apart)."""
    runs = []
    for index, line in enumerate(text.split("\n")):
        r = p.add_r()
        if index:
            r.add_br()
        r.add_t(line)
        runs.append(r)
    return runs


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_header(row: Any) -> None:
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


# --- Excel annex & chart ---------------------------------------------------------------------


def build_annex_xlsx(data: ReportData) -> bytes:
    """汇总 sheet of figures, then one sheet per table (headers even when empty)."""
    sheets: dict[str, SheetData] = {"汇总": (["项目", "数值"], _summary_rows(data))}
    for title, headers, rows in data.tables():
        sheets[title] = (headers, [row.cells() for row in rows])
    return to_xlsx(sheets)


def _summary_rows(data: ReportData) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["报告名称", data.report_title],
        ["报告单位", data.unit_name],
        ["报告期间", f"{data.period_start.isoformat()} 至 {data.period_end.isoformat()}"],
        ["生成时间", data.generated_at],
    ]
    for field, label in FIGURE_HEADINGS.items():
        value = getattr(data.figures, field)
        if field == "sampled_ratio":
            value = NO_PROJECTS if value is None else Percent(value)
        rows.append([label, value])
    if data.department_rows:
        rows.append(["各单位评级", grading_day_text(data)])
    return rows


def progress_chart_png(
    department_rows: Sequence[DepartmentProgressRow],
    *,
    title: str = PROGRESS_TITLE,
    export: StaticExport = DEFAULT_EXPORT,
) -> bytes:
    """The dashboard's 各部门任务进度 chart (exchange.figures.department_progress) for paper: the units
    furthest behind on their tasks first; past CHART_MAX_UNITS (a province) only those, and the title
    says so (the annex table lists them all)."""
    board = pd.DataFrame(
        {
            "code": [str(i) for i in range(len(department_rows))],
            "name": [r.department for r in department_rows],
            "assigned": [r.tasks_assigned for r in department_rows],
            "accepted": [r.tasks_accepted for r in department_rows],
            "on_time": [r.tasks_on_time for r in department_rows],
            "overdue": [r.tasks_overdue for r in department_rows],
            "completion": [r.task_completion_rate for r in department_rows],
        }
    )
    if len(department_rows) > CHART_MAX_UNITS:
        title = f"任务完成率最低的{CHART_MAX_UNITS}个单位（共{len(department_rows)}个单位，全部见附表1）"
    figure = department_progress(board, "completion", True, CHART_MAX_UNITS, title=title)
    return to_png(figure, width=CHART_WIDTH_PX, export=export)
