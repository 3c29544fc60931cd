"""Excel exports: Chinese headers, bold frozen header row, sensible widths, and a print setup
(A4, landscape when wide, fit to the page width, the header row repeated on every page)."""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from domain.localtime import LOCAL_TZ

MIN_WIDTH, MAX_WIDTH = 6, 60
WIDTH_SAMPLE_ROWS = 1000
EXCEL_MAX_CHARS = 32_767
LINE_HEIGHT_PT = 15
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
DATA_STYLE = "数据单元格"
PORTRAIT_MAX_WIDTH = 95  # column widths (character units) that fit an A4 portrait page at 100 %

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INVALID_SHEET_CHARS = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))

SheetData = tuple[Sequence[str], Sequence[Sequence[Any]]]


class Percent(float):
    """A ratio (0.25) that Excel should show as 25.0%."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.float_schema())


def display_width(value: object) -> int:
    """Width in Excel character units; CJK/full-width characters count double."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return max(
        (sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) for line in text.split("\n")),
        default=0,
    )


def china_time(moment: datetime) -> datetime:
    """Excel has no time zones: show aware datetimes as Beijing wall-clock time."""
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None) if moment.tzinfo else moment


def to_xlsx(sheets: Mapping[str, SheetData]) -> bytes:
    """Workbook with one sheet per entry: ``{sheet name: (headers, rows)}``."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for name, (headers, rows) in sheets.items():
        write_sheet(book.create_sheet(_sheet_name(name, used)), headers, rows)
    if not book.worksheets:
        book.create_sheet("Sheet1")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_sheet(
    sheet: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, wrap_columns: Iterable[int] = ()
) -> None:
    """Write a header row and data rows; ``wrap_columns`` are 1-based indexes to always wrap."""
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=col, value=_clean_text(str(header)))
        cell.font, cell.fill, cell.border = _HEADER_FONT, _HEADER_FILL, _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [display_width(h) for h in headers]
    style = _data_style(sheet)
    texts: list[list[str]] = []
    for r, values in enumerate(rows, start=2):
        texts.append([_write_cell(sheet, r, c, v, style) for c, v in enumerate(values, start=1)])
        if r <= WIDTH_SAMPLE_ROWS:
            widths = _widen(widths, texts[-1])
    final = [min(max(w + 2, MIN_WIDTH), MAX_WIDTH) for w in widths]
    for col, width in enumerate(final, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _wrap_long_cells(sheet, texts, final, set(wrap_columns))
    sheet.freeze_panes = "A2"
    _print_setup(sheet, sum(final))


def _print_setup(sheet: Worksheet, total_width: float) -> None:
    """Print on A4 at the page's width (as many pages down as needed), header row on every page."""
    setup = sheet.page_setup
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.orientation = sheet.ORIENTATION_LANDSCAPE if total_width > PORTRAIT_MAX_WIDTH else sheet.ORIENTATION_PORTRAIT
    setup.fitToWidth, setup.fitToHeight = 1, 0  # 0: no limit on the number of pages down
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4  # inches
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def _widen(widths: list[int], texts: Sequence[str]) -> list[int]:
    widths = widths + [0] * (len(texts) - len(widths))
    return [max(w, display_width(texts[i]) if i < len(texts) else 0) for i, w in enumerate(widths)]


def _data_style(sheet: Worksheet) -> str:
    """The data cells' border and alignment as one named style: set per cell, it is several times
    cheaper than a border and an alignment each (a province-wide annex has ~10^5 cells)."""
    book = sheet.parent
    if DATA_STYLE not in book.named_styles:
        book.add_named_style(NamedStyle(name=DATA_STYLE, border=_BORDER, alignment=Alignment(vertical="top")))
    return DATA_STYLE


def _write_cell(sheet: Worksheet, row: int, col: int, value: Any, style: str) -> str:
    """Write one value with its number format; return its text for sizing."""
    converted, number_format = _excel_value(value)
    cell = sheet.cell(row=row, column=col, value=converted)
    if isinstance(converted, str):
        cell.data_type = "s"  # user text starting with "=" must never become a formula
    cell.style = style
    if number_format:
        cell.number_format = number_format
    if isinstance(converted, (date, datetime)):
        return "2020-06-20 00:00" if isinstance(converted, datetime) else "2020-06-20"
    if isinstance(value, Percent):
        return "100.0%"
    return "" if converted is None else str(converted)


def _excel_value(value: Any) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("是" if value else "否"), None
    if isinstance(value, Percent):
        return float(value), PERCENT_FORMAT
    if isinstance(value, datetime):
        return china_time(value), DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, Enum):
        return _clean_text(str(value.value)), None
    if isinstance(value, (int, float, Decimal)):
        return value, None
    if isinstance(value, (list, tuple, set, frozenset)):
        return _clean_text("、".join(str(v) for v in value)), None
    return _clean_text(str(value)), None


def _clean_text(text: str) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > EXCEL_MAX_CHARS:
        text = text[: EXCEL_MAX_CHARS - 20] + "……（内容过长已截断）"
    return text


def _wrap_long_cells(sheet: Worksheet, texts: list[list[str]], widths: list[int], always: set[int]) -> None:
    """Wrap multi-line or over-wide cells and give their rows enough height."""
    for r, row in enumerate(texts, start=2):
        lines = 1
        for c, text in enumerate(row, start=1):
            if c in always or "\n" in text or display_width(text) > widths[c - 1]:
                sheet.cell(row=r, column=c).alignment = Alignment(vertical="top", wrap_text=True)
                usable = max(widths[c - 1] - 1, 1)
                lines = max(lines, sum(max(1, math.ceil(display_width(t) / usable)) for t in text.split("\n")))
        if lines > 1:
            sheet.row_dimensions[r].height = min(409, lines * LINE_HEIGHT_PT)


def _sheet_name(name: str, used: set[str]) -> str:
    base = (name.translate(_INVALID_SHEET_CHARS).strip("' ") or "Sheet")[:31]
    candidate, n = base, 2
    while candidate.casefold() in used:
        suffix = f"({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.casefold())
    return candidate


# --- problem ledger ----------------------------------------------------------------

HISTORY_KEY = "history"
HISTORY_HEADER = "销号过程"
# Chinese headers for the usual problem fields; unknown keys are shown as-is.
LEDGER_HEADERS: dict[str, str] = {
    "code": "问题编号",
    "project_code": "项目编号",
    "project_name": "项目名称",
    "department": "责任单位",
    "department_name": "责任单位",
    "category": "问题类别",
    "description": "问题描述",
    "source": "发现方式",
    "found_on": "发现日期",
    "measures": "整改措施",
    "deadline": "整改时限",
    "status": "整改状态",
    "rectified_on": "整改完成日期",
    "closed_on": "销号日期",
    "responsible_person": "责任人",
    "note": "备注",
}


def ledger_to_xlsx(
    problems: Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[tuple[str, str]] | None = None,
    sheet_name: str = "整改台账",
) -> bytes:
    """One row per problem; the whole close-out history goes into a final 销号过程 column.

    ``columns`` is ``[(key, Chinese header)]``; by default every key except
    ``history`` in first-seen order, labelled via ``LEDGER_HEADERS``.
    """
    columns = list(columns) if columns is not None else _default_columns(problems)
    headers = ["序号", *(label for _, label in columns), HISTORY_HEADER]
    rows = [
        [index, *(problem.get(key) for key, _ in columns), format_history(problem.get(HISTORY_KEY) or [])]
        for index, problem in enumerate(problems, start=1)
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = _sheet_name(sheet_name, set())
    write_sheet(sheet, headers, rows, wrap_columns=[len(headers)])
    sheet.column_dimensions[get_column_letter(len(headers))].width = MAX_WIDTH
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _default_columns(problems: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    keys = dict.fromkeys(k for p in problems for k in p if k != HISTORY_KEY)
    return [(key, LEDGER_HEADERS.get(key, key)) for key in keys]


def format_history(events: Iterable[Any]) -> str:
    """Events (dicts or objects with time/actor/action/note) → one line each, oldest first."""
    items = [_event_fields(e) for e in events]
    if all(isinstance(t, (datetime, date)) for t, *_ in items):
        items.sort(key=lambda item: _sort_key(item[0]))
    return "\n".join(_event_line(*item) for item in items)


def _event_fields(event: Any) -> tuple[Any, str, str, str]:
    get = event.get if isinstance(event, Mapping) else (lambda k: getattr(event, k, None))
    return get("time"), str(get("actor") or ""), str(get("action") or ""), str(get("note") or "")


def _sort_key(moment: date) -> datetime:
    if isinstance(moment, datetime):
        return china_time(moment)
    return datetime(moment.year, moment.month, moment.day)  # noqa: DTZ001 - beside china_time's wall-clock values


def _event_line(moment: Any, actor: str, action: str, note: str) -> str:
    if isinstance(moment, datetime):
        when = china_time(moment).strftime("%Y-%m-%d %H:%M")
    elif isinstance(moment, date):
        when = moment.isoformat()
    else:
        when = str(moment or "")
    head = " ".join(part for part in (when, actor, action) if part)
    return f"{head}：{note}" if note else head
