"""Word documents of the supervision loop: a 督办单 and the campaign's numbered 通报 (praise and criticism
from the score). Pure rendering: the services hand in what to print and get the .docx bytes."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor
from pydantic import Field

from exchange.docx_style import TITLE_FONT, ReportTableRow, set_fonts, setup_page_and_styles

# The colour a 督办单's title is printed in, by its DubanColour value.
_INK = {"blue": RGBColor(0x1F, 0x4E, 0x9A), "yellow": RGBColor(0xBF, 0x8F, 0x00)}
_INK |= {"orange": RGBColor(0xD0, 0x5A, 0x00), "red": RGBColor(0xC0, 0x00, 0x00)}


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class DubanNotice:
    number: str  # 雁督〔2020〕7号
    colour: str  # domain.spec.DubanColour value
    colour_label: str  # 蓝 / 黄 / 红
    level_name: str  # 预警 / 通报批评 / 约谈
    campaign_title: str
    issuer: str
    matter: str  # 督办事项
    department_name: str  # 责任单位
    original_due_on: dt.date  # 原定期限
    due_on: dt.date  # 延期后期限 when different
    overdue_days: int
    requirement: str  # 督办要求
    respond_due_on: dt.date  # 反馈期限
    issued_on: dt.date
    answer: str | None = None


@dataclass(frozen=True)
class RankingLine:
    rank: int
    department_name: str
    score: str
    light: str
    reasons: str


class ScoreRankRow(ReportTableRow):
    """One department's line of the 考核排名 in the monthly rollup report."""

    table_title: ClassVar[str] = "各单位考核排名表"

    rank: int = Field(title="名次")
    department: str = Field(title="单位")
    score: str = Field(title="得分")
    light: str = Field(title="灯")
    reasons: str = Field(title="说明")


@dataclass(frozen=True)
class Bulletin:
    number: str  # 雁通〔2020〕2号
    title: str
    issuer: str
    as_of: dt.date
    opening: str
    praised: Sequence[str]
    criticised: Sequence[tuple[str, str]]  # department name, why
    ranking: Sequence[RankingLine]
    closing: str


def _heading(document: DocxDocument, text: str, *, colour: RGBColor | None = None, size: int = 22) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold, run.font.size = True, Pt(size)
    if colour is not None:
        run.font.color.rgb = colour
    set_fonts(run._r, TITLE_FONT)


def _centered(document: DocxDocument, text: str) -> None:
    paragraph = document.add_paragraph(text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _body(document: DocxDocument, text: str) -> None:
    paragraph = document.add_paragraph(text)
    paragraph.paragraph_format.first_line_indent = Pt(32)
    paragraph.paragraph_format.line_spacing = Pt(28)


def _grid(document: DocxDocument, rows: Sequence[Sequence[str]], widths_cm: Sequence[float]) -> None:
    table = document.add_table(rows=0, cols=len(widths_cm))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for values in rows:
        cells = table.add_row().cells
        for cell, text, width in zip(cells, values, widths_cm, strict=True):
            cell.width = Cm(width)
            cell.paragraphs[0].text = text
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(12)


def _save(document: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def duban_docx(notice: DubanNotice) -> bytes:
    """The 督办单 on one page: the number, a table of the matter, and the answer once given."""
    document = Document()
    setup_page_and_styles(document)
    _heading(document, f"{notice.issuer}督办单", colour=_INK.get(notice.colour))
    _centered(document, f"{notice.number}　（{notice.colour_label}色督办·{notice.level_name}）")
    deadline = _cn_date(notice.original_due_on)
    if notice.due_on != notice.original_due_on:
        deadline += f"（延期后：{_cn_date(notice.due_on)}）"
    rows = [
        ("专项行动", notice.campaign_title),
        ("督办事项", notice.matter),
        ("责任单位", notice.department_name),
        ("原定期限", deadline),
        ("逾期工作日", f"{notice.overdue_days} 个工作日"),
        ("督办要求", notice.requirement),
        ("反馈期限", _cn_date(notice.respond_due_on)),
        ("签发日期", _cn_date(notice.issued_on)),
        ("办理反馈", notice.answer or "（尚未反馈）"),
    ]
    _grid(document, rows, (3.5, 12.0))
    return _save(document)


def bulletin_docx(bulletin: Bulletin) -> bytes:
    """The campaign's numbered 通报: what was done, who is praised and criticised, the ranking."""
    document = Document()
    setup_page_and_styles(document)
    _heading(document, bulletin.issuer, colour=_INK["red"], size=26)
    _centered(document, bulletin.number)
    _heading(document, bulletin.title, size=18)
    _body(document, bulletin.opening)
    document.add_heading("一、通报表扬", level=1)
    if bulletin.praised:
        _body(
            document,
            f"{'、'.join(bulletin.praised)}等{len(bulletin.praised)}个单位工作推进有力、按时保质完成任务，予以通报表扬。",
        )
    else:
        _body(document, "本期无通报表扬的单位。")
    document.add_heading("二、通报批评", level=1)
    if bulletin.criticised:
        _body(document, "以下单位任务逾期、督办事项落实不力，予以通报批评，请于收到通报后认真整改：")
        for name, why in bulletin.criticised:
            _body(document, f"{name}：{why}")
    else:
        _body(document, "本期无通报批评的单位。")
    document.add_heading("三、考核排名", level=1)
    rows = [("名次", "单位", "得分", "灯", "说明")]
    rows += [(str(r.rank), r.department_name, r.score, r.light, r.reasons) for r in bulletin.ranking]
    _grid(document, rows, (1.4, 4.0, 1.6, 1.0, 7.5))
    _body(document, bulletin.closing)
    signature = document.add_paragraph(f"{bulletin.issuer}\n{_cn_date(bulletin.as_of)}")
    signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return _save(document)
