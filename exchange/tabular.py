"""Strict import of departments / users / projects / leads from .xlsx or .csv.

All or nothing: either every row is valid and models are returned, or
``ImportRejected`` lists every bad row by its spreadsheet row number.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TypeVar

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel, ValidationError

from domain.access import PERSON_ROLES, ROLE
from domain.department import DEPARTMENT_KIND
from domain.lead import LEAD_SOURCE
from domain.problem import PROBLEM_CATEGORY
from domain.project import TENDER_METHOD
from exchange.errors import ImportProblem, ImportRejected, RowError
from exchange.parsing import cell_text, check_xlsx_archive, header_key, key_form
from exchange.rows import (
    DEPARTMENT_HEADERS,
    LEAD_HEADERS,
    PROJECT_HEADERS,
    REQUIRED,
    USER_HEADERS,
    DepartmentRow,
    ImportRow,
    LeadRow,
    ProjectRow,
    UserRow,
    choice_labels,
    header_map_for,
)
from exchange.xlsx_export import display_width

__all__ = [
    "DEPARTMENT_HEADERS",
    "KINDS",
    "LEAD_HEADERS",
    "PROJECT_HEADERS",
    "USER_HEADERS",
    "DepartmentRow",
    "ImportProblem",
    "ImportRejected",
    "LeadRow",
    "ProjectRow",
    "RowError",
    "TableRow",
    "UserRow",
    "header_map_for",
    "import_numbered",
    "import_table",
    "read_table",
    "template_xlsx",
    "validate_rows",
]

M = TypeVar("M", bound=BaseModel)
Source = str | os.PathLike[str] | bytes | bytearray | IO[bytes]

KINDS: dict[str, type[ImportRow]] = {
    "departments": DepartmentRow,
    "users": UserRow,
    "projects": ProjectRow,
    "leads": LeadRow,
}
INSTRUCTIONS_SHEET = "说明"
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 20  # offices often put a title line or two above the header
XLSX_EXTS = (".xlsx", ".xlsm")
CSV_EXTS = (".csv", ".txt")


class TableRow(dict[str, str]):
    """Header → cell text, plus the row's number as the user sees it in Excel."""

    def __init__(self, values: Mapping[str, str], row_number: int) -> None:
        super().__init__(values)
        self.row_number = row_number


# --- reading -------------------------------------------------------------------


def read_table(
    path_or_bytes: Source,
    *,
    filename: str,
    sheet: str | None = None,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
    allow_empty: bool = False,
) -> list[TableRow]:
    """Read the first table of an .xlsx or .csv file as text cells.

    Headers matching ``required``/``optional`` up to width, spaces and '*' are
    renamed to the expected spelling; blank rows are skipped.
    """
    data = _load_bytes(path_or_bytes, filename)
    grid = _xlsx_grid(data, filename, sheet) if _is_xlsx(data, filename) else _csv_grid(data, filename)
    header_row, headers = _find_header(grid, filename, [*required, *optional])
    _check_required(headers, required, filename)
    rows = [_make_row(headers, cells, number) for number, cells in grid if number > header_row]
    rows = [row for row in rows if any(row.values())]
    if not rows and not allow_empty:
        raise ImportProblem(filename, f"「{filename}」只有表头，没有数据行（是否上传了空模板？）")
    if len(rows) > MAX_ROWS:
        raise ImportProblem(filename, f"「{filename}」超过 {MAX_ROWS} 行，请分批导入")
    return rows


def _load_bytes(source: Source, filename: str) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            path = Path(source)
            if path.stat().st_size > MAX_BYTES:
                raise ImportProblem(filename, f"「{filename}」超过 20MB，请拆分后再导入")
            data = path.read_bytes()
        except OSError:
            raise ImportProblem(filename, f"无法读取文件「{filename}」，文件不存在或没有权限") from None
    else:
        data = source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ImportProblem(filename, f"「{filename}」超过 20MB，请拆分后再导入")
    if not data.strip():
        raise ImportProblem(filename, f"「{filename}」是空文件")
    return data


def _is_xlsx(data: bytes, filename: str) -> bool:
    ext = Path(filename).suffix.lower()
    head = data[:512].lstrip().lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportProblem(filename, f"「{filename}」是旧版 Excel（.xls）格式，请在 Excel 中另存为 .xlsx 后再导入")
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
        raise ImportProblem(
            filename, f"「{filename}」实际是网页/XML 格式，不是表格文件，请在 Excel 中另存为 .xlsx 后再导入"
        )
    if ext not in XLSX_EXTS + CSV_EXTS and not (ext == ".xls" and data.startswith(b"PK")):
        raise ImportProblem(filename, f"不支持「{filename}」的文件类型，请上传 .xlsx 或 .csv 文件")
    if data.startswith(b"PK\x03\x04"):
        return True  # a zip is an xlsx even when renamed to .csv
    if ext in XLSX_EXTS:
        raise ImportProblem(filename, f"「{filename}」不是有效的 Excel 文件（可能已损坏），请重新保存后再导入")
    return False


Grid = list[tuple[int, list[str]]]  # (spreadsheet row number, cell texts)


def _xlsx_grid(data: bytes, filename: str, sheet: str | None) -> Grid:
    check_xlsx_archive(data, filename)  # measured before openpyxl inflates anything
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many types for a damaged zip/xml
        raise ImportProblem(filename, f"「{filename}」无法作为 Excel 文件打开（可能已损坏或加密）") from None
    try:
        worksheet = _pick_sheet(book, filename, sheet)
        grid: Grid = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
                raise ImportProblem(filename, f"「{filename}」超过 {MAX_ROWS} 行，请分批导入")
            grid.append((number, [cell_text(v) for v in values]))
        return grid
    except ImportProblem:
        raise
    except Exception:  # noqa: BLE001 - as above: any reading error of a damaged sheet
        raise ImportProblem(filename, f"「{filename}」的工作表内容无法读取（文件可能已损坏）") from None
    finally:
        book.close()


def _pick_sheet(book: Any, filename: str, sheet: str | None) -> Any:
    sheets = list(book.worksheets)
    if sheet is None:
        # The templates carry a 说明 sheet; never import the instructions.
        data_sheets = [ws for ws in sheets if ws.title.strip() != INSTRUCTIONS_SHEET] or sheets
        if not data_sheets:
            raise ImportProblem(filename, f"「{filename}」中没有工作表")
        return data_sheets[0]
    for ws in sheets:
        if ws.title == sheet or ws.title.strip() == sheet.strip():
            return ws
    names = "、".join(f"「{ws.title}」" for ws in sheets) or "（无）"
    raise ImportProblem(filename, f"「{filename}」中没有名为「{sheet}」的工作表，现有工作表：{names}")


def _csv_grid(data: bytes, filename: str) -> Grid:
    text = _decode(data, filename)
    if "\x00" in text:
        raise ImportProblem(filename, f"「{filename}」不是文本表格（含有二进制内容），请上传 .xlsx 或 .csv 文件")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count) if any(d in first_line for d in ",\t;") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        grid: Grid = []
        for number, cells in enumerate(reader, start=1):
            if number > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
                raise ImportProblem(filename, f"「{filename}」超过 {MAX_ROWS} 行，请分批导入")
            grid.append((number, [c.strip() for c in cells]))
        return grid
    except csv.Error as exc:
        raise ImportProblem(filename, f"「{filename}」不是有效的 CSV 表格（第 {reader.line_num} 行格式错误）") from exc


def _decode(data: bytes, filename: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Unicode text" export
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK/GB2312
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportProblem(
        filename,
        f"无法识别「{filename}」的文字编码（已尝试 UTF-8 和 GBK/GB18030），"
        "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx 格式后再导入",
    )


def _find_header(grid: Grid, filename: str, expected: Sequence[str]) -> tuple[int, list[str]]:
    candidates = [(n, cells) for n, cells in grid if any(cells)][:HEADER_SEARCH_ROWS]
    if not candidates:
        raise ImportProblem(filename, f"「{filename}」没有内容，不是一张表格")
    wanted = {header_key(h) for h in expected}
    number, cells = next(((n, c) for n, c in candidates if wanted & {header_key(x) for x in c}), candidates[0])
    canonical = {header_key(h): h for h in expected}
    headers = [canonical.get(header_key(c), c.strip()) for c in cells]
    seen: set[str] = set()
    for header in headers:
        if header and header in seen:
            raise ImportProblem(filename, f"「{filename}」第 {number} 行表头中「{header}」重复出现，请删除多余的列")
        seen.add(header)
    return number, headers


def _check_required(headers: Sequence[str], required: Iterable[str], filename: str) -> None:
    present = {header_key(h) for h in headers if h}
    missing = [h for h in required if header_key(h) not in present]
    if missing:
        found = "、".join(h for h in headers if h)[:200] or "（空）"
        raise ImportProblem(
            filename,
            f"「{filename}」缺少必需的列：{'、'.join(missing)}。当前表头为：{found}。请使用系统提供的模板。",
        )


def _make_row(headers: Sequence[str], cells: Sequence[str], number: int) -> TableRow:
    values = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h}
    return TableRow(values, number)


# --- validation ---------------------------------------------------------------


def validate_rows(
    rows: Sequence[Mapping[str, str]],
    model: type[M],
    *,
    filename: str,
    header_map: Mapping[str, str],
    context: Mapping[str, Any] | None = None,
) -> list[M]:
    """Validate every row; return models only if all rows are clean.

    ``context`` is passed to pydantic; the row models understand
    ``known_department_codes`` and ``known_project_codes``.
    """
    columns = {header_key(h): (h, field) for h, field in header_map.items()}
    _check_required_fields(rows, model, header_map, filename)
    header_of = {field: h for h, field in header_map.items()}
    errors: list[RowError] = []
    models: list[tuple[int, M]] = []
    for index, row in enumerate(rows):
        number = getattr(row, "row_number", index + 2)
        data = {columns[header_key(h)][1]: v for h, v in row.items() if header_key(h) in columns}
        try:
            models.append((number, model.model_validate(data, context=dict(context or {}))))
        except ValidationError as exc:
            errors += [_row_error(number, err, header_of) for err in exc.errors()]
    errors += _duplicate_errors(rows, model, header_map)
    if errors:
        duplicated = {e.row_number for e in errors}
        raise ImportRejected(filename, errors, [(n, m) for n, m in models if n not in duplicated])
    return [m for _, m in models]


def _check_required_fields(
    rows: Sequence[Mapping[str, str]], model: type[BaseModel], header_map: Mapping[str, str], filename: str
) -> None:
    if not rows:
        return
    required = [h for h, f in header_map.items() if model.model_fields[f].is_required()]
    _check_required(list(dict.fromkeys(h for row in rows for h in row)), required, filename)


_MESSAGES = {
    "missing": REQUIRED,
    "string_too_long": "内容过长（最多 {max_length} 个字）",
    "too_long": "内容过长（最多 {max_length} 个字）",
    "string_too_short": "内容过短（至少 {min_length} 个字）",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "int_parsing": "不是有效整数",
    "decimal_parsing": "不是有效数字",
    "float_parsing": "不是有效数字",
    "date_parsing": "不是有效日期",
    "date_from_datetime_parsing": "不是有效日期",
    "enum": "取值无效",
    "extra_forbidden": "不认识的列",
}


def _row_error(number: int, err: Mapping[str, Any], header_of: Mapping[str, str]) -> RowError:
    field = str(err["loc"][0]) if err.get("loc") else None
    column = header_of.get(field, field) if field else None
    ctx = err.get("ctx") or {}
    if err["type"] == "value_error" and "error" in ctx:
        message = str(ctx["error"])
    else:
        message = _MESSAGES.get(err["type"], "格式不正确").format(**{k: str(v) for k, v in ctx.items()})
    return RowError(row_number=number, column=column, message=message)


def _duplicate_errors(
    rows: Sequence[Mapping[str, str]], model: type[BaseModel], header_map: Mapping[str, str]
) -> list[RowError]:
    key_fields: tuple[str, ...] = getattr(model, "natural_key", ())
    header_of = {field: h for h, field in header_map.items()}
    key_headers = [header_of[f] for f in key_fields if f in header_of]
    if not key_headers:
        return []
    lookup = [{header_key(h): v for h, v in row.items()} for row in rows]
    first_seen: dict[tuple[str, ...], int] = {}
    errors: list[RowError] = []
    for index, (row, values) in enumerate(zip(rows, lookup, strict=True)):
        number = getattr(row, "row_number", index + 2)
        raw = [values.get(header_key(h), "").strip() for h in key_headers]
        if not all(raw):
            continue  # a blank key is already reported as 必填
        key = tuple(key_form(v) for v in raw)
        if key in first_seen:
            shown = "、".join(f"{h}「{v}」" for h, v in zip(key_headers, raw, strict=True))
            errors.append(
                RowError(row_number=number, column=key_headers[0], message=f"与第 {first_seen[key]} 行重复（{shown}）")
            )
        else:
            first_seen[key] = number
    return errors


def import_table(
    path_or_bytes: Source,
    kind: str,
    *,
    filename: str,
    sheet: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[ImportRow]:
    """read_table + validate_rows for one of ``KINDS``."""
    return [row for _, row in import_numbered(path_or_bytes, kind, filename=filename, sheet=sheet, context=context)]


def import_numbered(
    path_or_bytes: Source,
    kind: str,
    *,
    filename: str,
    sheet: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[tuple[int, ImportRow]]:
    """Like ``import_table``, each row with its spreadsheet row number (for errors found later)."""
    model = _model_for(kind)
    header_map = header_map_for(model)
    required = [h for h, f in header_map.items() if model.model_fields[f].is_required()]
    optional = [h for h in header_map if h not in required]
    rows = read_table(path_or_bytes, filename=filename, sheet=sheet, required=required, optional=optional)
    models = validate_rows(rows, model, filename=filename, header_map=header_map, context=context)
    return [(getattr(row, "row_number", index + 2), m) for index, (row, m) in enumerate(zip(rows, models, strict=True))]


def _model_for(kind: str) -> type[ImportRow]:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {sorted(KINDS)}") from None


# --- templates ------------------------------------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TEMPLATE_ROWS = 2000  # rows that get dropdowns / text formatting


def _choice_labels(kind: str) -> dict[str, list[str]]:
    choices: dict[str, dict[str, list[str]]] = {
        "departments": {"type": choice_labels(DEPARTMENT_KIND)},
        "users": {"role": choice_labels(ROLE, PERSON_ROLES)},
        "projects": {"tender_method": choice_labels(TENDER_METHOD)},
        "leads": {"source": choice_labels(LEAD_SOURCE), "category": choice_labels(PROBLEM_CATEGORY)},
    }
    return choices[kind]


def template_xlsx(kind: str) -> bytes:
    """Blank import template: header row only, plus a 说明 sheet describing each column."""
    model = _model_for(kind)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = model.sheet_title
    fields = list(model.model_fields.items())
    choices = _choice_labels(kind)
    for col, (name, field) in enumerate(fields, start=1):
        _template_column(sheet, col, name, field, choices.get(name))
    sheet.freeze_panes = "A2"
    _instructions_sheet(book.create_sheet(INSTRUCTIONS_SHEET), model)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _template_column(sheet: Any, col: int, name: str, field: Any, choices: list[str] | None) -> None:
    title = field.title or name
    cell = sheet.cell(row=1, column=col, value=title)
    cell.font = Font(bold=True, color="C00000" if field.is_required() else "000000")
    cell.fill = _HEADER_FILL
    cell.alignment = Alignment(horizontal="center", vertical="center")
    letter = get_column_letter(col)
    example = cell_text((field.examples or [""])[0])
    sheet.column_dimensions[letter].width = min(max(display_width(title), display_width(example), 8) + 4, 50)
    if field.annotation not in (date, Decimal):
        # Text format keeps codes like 0012 and phone numbers exactly as typed.
        sheet.column_dimensions[letter].number_format = "@"
    if choices:
        rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        rule.errorStyle = "warning"  # still allow the accepted aliases
        rule.error = "建议从下拉列表中选择：" + "、".join(choices)
        rule.showErrorMessage = True
        sheet.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{_TEMPLATE_ROWS}")


def _instructions_sheet(sheet: Any, model: type[ImportRow]) -> None:
    notes = [
        f"1. 在「{model.sheet_title}」工作表第 2 行起逐行填写，第 1 行表头请勿修改；红色表头为必填列。",
        "2. 日期可写作 2020-06-20、2020/6/20 或 2020年6月20日；金额单位为万元，可带千分位（如 1,234.5）。",
        "3. 导入时逐行检查，只要有一行不合格，整个文件都不导入，系统会列出每一处错误所在的行号和列名。",
        "4. 也可另存为 CSV（UTF-8 或 GBK 编码均可）后导入。",
    ]
    for row, note in enumerate(notes, start=1):
        sheet.cell(row=row, column=1, value=note)
    start = len(notes) + 2
    for col, header in enumerate(("列名", "是否必填", "填写说明", "示例"), start=1):
        sheet.cell(row=start, column=col, value=header).font = Font(bold=True)
    for offset, (name, field) in enumerate(model.model_fields.items(), start=1):
        example = cell_text((field.examples or [""])[0])
        values = (field.title or name, "必填" if field.is_required() else "选填", field.description or "", example)
        for col, value in enumerate(values, start=1):
            sheet.cell(row=start + offset, column=col, value=value).alignment = Alignment(
                wrap_text=True, vertical="top"
            )
    for letter, width in zip("ABCD", (18, 10, 60, 30), strict=True):
        sheet.column_dimensions[letter].width = width
