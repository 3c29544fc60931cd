"""Lenient-but-exact parsers for what people type into office spreadsheets.

Each parser raises ``ValueError`` with a short Chinese message; the import
layer shows that message next to the row and column. `check_xlsx_archive` is the one check of an
.xlsx as a whole, before anything parses it.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from exchange.errors import ImportProblem

EXCEL_EPOCH = date(1899, 12, 30)  # Excel serial day 1 = 1900-01-01 (with the leap-year bug)
MIN_YEAR, MAX_YEAR = 1990, 2100

DATE_HINT = "不是有效日期（可写作 2020-06-20、2020/6/20 或 2020年6月20日）"
NUMBER_HINT = "不是有效数字"

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GROUPED_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_LIST_SEPARATORS = re.compile(r"[;,、\n\r]+")  # after NFKC: ；→; ，→,
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
_PHONE = re.compile(r"^[0-9+\-() 转#]{5,40}$")
_SIX_PLACES = Decimal("0.000001")


def nfkc(text: str) -> str:
    """Full-width digits/letters/punctuation → ASCII (１２３，５ → 123,5)."""
    return unicodedata.normalize("NFKC", text)


def header_key(text: str) -> str:
    """Comparison form of a column header: ignores width, spaces, '*' marks, case."""
    return re.sub(r"[\s*]+", "", nfkc(text)).casefold()


def key_form(text: str) -> str:
    """Comparison form of a natural key (项目编号 etc.) for duplicate detection."""
    return re.sub(r"\s+", "", nfkc(text)).casefold()


def cell_text(value: object) -> str:
    """Render a spreadsheet cell as the text a person would see."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # phone numbers / codes typed as numbers
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def parse_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = nfkc(str(value)).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return _checked_date(*(int(g) for g in match.groups()))
    serial = _EXCEL_SERIAL.match(text)
    if serial:  # a date cell whose format was lost shows as e.g. 43997
        result = EXCEL_EPOCH + timedelta(days=int(serial.group(1)))
        return _checked_date(result.year, result.month, result.day)
    raise ValueError(DATE_HINT)


def _checked_date(year: int, month: int, day: int) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"年份 {year} 不合理")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"日期不存在（{year}年{month}月{day}日）") from None


def parse_amount(value: object, *, maximum: Decimal = Decimal("100000000")) -> Decimal:
    """Non-negative amount such as "12.5", "1,234.5", "1234.5万元"."""
    if isinstance(value, bool):
        raise ValueError(NUMBER_HINT)
    if isinstance(value, (int, float, Decimal)):
        text = cell_text(value)
    else:
        text = re.sub(r"\s+", "", nfkc(str(value)))
        text = re.sub(r"(万元|万|元)$", "", text)
    if _GROUPED_NUMBER.match(text):
        text = text.replace(",", "")
    if not _PLAIN_NUMBER.match(text):
        raise ValueError(NUMBER_HINT)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(NUMBER_HINT) from None
    if amount < 0:
        raise ValueError("不能为负数")
    if amount >= maximum:
        raise ValueError("数值过大，请确认单位是否为万元")
    return _tidy(amount.quantize(_SIX_PLACES))  # float noise like 12.300000000000001


def _tidy(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal(1)) if amount == amount.to_integral() else amount.normalize()


def split_list(value: object) -> list[str]:
    """ "甲公司；乙公司、丙公司" → three names (；;、,， and new lines all separate)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items: Iterable[str] = (str(v) for v in value)
    else:
        # Only the separators are width-normalised; names keep their own punctuation.
        text = str(value).replace("；", ";").replace("，", ",")
        items = _LIST_SEPARATORS.split(text)
    seen: dict[str, str] = {}
    for item in items:
        name = item.strip()
        if name and key_form(name) not in seen:
            seen[key_form(name)] = name
    return list(seen.values())


def parse_choice(value: object, aliases: Mapping[str, str], shown: Iterable[str]) -> str:
    """Map an English code or a Chinese name to the canonical code."""
    text = header_key(str(value))
    for alias, code in aliases.items():
        if header_key(alias) == text:
            return code
    raise ValueError("取值无效，应为以下之一：" + "、".join(shown))


def parse_email(value: str) -> str:
    text = nfkc(value).strip()
    if not _EMAIL.match(text):
        raise ValueError("不是有效的邮箱地址")
    return text.lower()


def parse_phone(value: str) -> str:
    text = nfkc(value).strip()
    if not _PHONE.match(text) or sum(c.isdigit() for c in text) < 5:
        raise ValueError("不是有效的电话号码")
    return text


# --- spreadsheet archives: limits checked before openpyxl parses anything ---------------------------
#
# An .xlsx is a zip of XML files. openpyxl keeps every shared string in memory and pads each row of
# a read-only sheet to the sheet's declared width, so a small upload can cost gigabytes (a 413 KB
# file whose sharedStrings inflate to 900 MB; a sheet that declares A1:XFD1048576). Python's
# zipfile never inflates a member past the size its directory declares, so checking the declared
# sizes bounds what openpyxl can read; the cell count is measured by streaming the sheets.

XLSX_MAX_MEMBERS = 500
XLSX_MAX_UNCOMPRESSED = 120 * 1024 * 1024  # all members together
XLSX_MAX_SHARED_STRINGS = 40 * 1024 * 1024
XLSX_MAX_SHEET = 100 * 1024 * 1024
XLSX_MAX_RATIO = 200  # inflated / compressed, for members over XLSX_RATIO_FROM (real XML stays far below)
XLSX_RATIO_FROM = 1024 * 1024
XLSX_MAX_CELLS = 2_000_000  # 50,000 rows x 40 columns
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?\"")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - ord("A") + 1)
    return number


def _refusal(filename: str, why: str, hint: str = "可能是损坏或恶意构造的文件") -> ImportProblem:
    return ImportProblem(filename, f"「{filename}」{why}，拒绝导入（{hint}）")


def check_xlsx_archive(data: bytes, filename: str) -> None:
    """Refuse an .xlsx whose archive would inflate, or whose sheets would expand, beyond the limits
    above: raises exchange.errors.ImportProblem naming the file. Reads the zip directory, the start
    of each sheet, and the sheets' XML streamed in 1 MB pieces to count cells."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    # NotImplementedError: a directory entry claiming a zip version zipfile cannot read (one flipped byte)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError, EOFError):
        raise ImportProblem(
            filename, f"「{filename}」不是有效的 Excel 文件（可能已损坏），请重新保存后再导入"
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > XLSX_MAX_MEMBERS:
            raise _refusal(filename, f"包含 {len(members)} 个内部文件，超过 {XLSX_MAX_MEMBERS} 个")
        total = sum(m.file_size for m in members)
        if total > XLSX_MAX_UNCOMPRESSED:
            limit = XLSX_MAX_UNCOMPRESSED // (1024 * 1024)
            raise _refusal(filename, f"解压后有 {total // (1024 * 1024)}MB，超过 {limit}MB 的上限")
        if not {"[content_types].xml", "xl/workbook.xml"} <= {m.filename.lower() for m in members}:
            raise ImportProblem(filename, f"「{filename}」不是有效的 Excel 文件（可能已损坏），请重新保存后再导入")
        sheets = [m for m in members if _is_sheet(m.filename)]
        for m in members:
            ratio = m.file_size // max(m.compress_size, 1)
            if m.file_size > XLSX_RATIO_FROM and ratio > XLSX_MAX_RATIO:
                raise _refusal(filename, f"的内部文件 {m.filename} 压缩比异常（{ratio} 倍）")
            if m.filename.lower().endswith("sharedstrings.xml") and m.file_size > XLSX_MAX_SHARED_STRINGS:
                raise _refusal(filename, f"的共享文本超过 {XLSX_MAX_SHARED_STRINGS // (1024 * 1024)}MB")
            if m in sheets and m.file_size > XLSX_MAX_SHEET:
                raise _refusal(filename, f"的工作表 {m.filename} 解压后超过 {XLSX_MAX_SHEET // (1024 * 1024)}MB")
        try:
            declared = sum(_declared_cells(archive, m) for m in sheets)
            if declared > XLSX_MAX_CELLS:
                raise _refusal(filename, f"的工作表范围超过 {XLSX_MAX_CELLS} 个单元格", "请删除多余的行列后另存")
            counted = 0
            for m in sheets:
                counted += _counted_cells(archive, m, XLSX_MAX_CELLS - counted)
                if counted > XLSX_MAX_CELLS:
                    raise _refusal(filename, f"的单元格超过 {XLSX_MAX_CELLS} 个", "请分批导入")
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError, OSError, EOFError):
            # a damaged or encrypted member, an unsupported compression method, a bad CRC
            raise ImportProblem(filename, f"「{filename}」无法作为 Excel 文件打开（可能已损坏或加密）") from None


def _is_sheet(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("xl/worksheets/") and lowered.endswith(".xml")


def _declared_cells(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """rows x columns of the sheet's <dimension> (the width openpyxl pads every row to)."""
    with archive.open(member) as stream:
        head = stream.read(8192)
    found = _DIMENSION.search(head)
    if not found:
        return 0
    last_col = _column_number(found.group(3) or found.group(1))
    last_row = int(found.group(4) or found.group(2))
    return last_col * last_row


def _counted_cells(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> int:
    """<c> elements in the sheet, streamed; stops counting once past `budget`."""
    cells, tail = 0, b""
    with archive.open(member) as stream:
        while piece := stream.read(1024 * 1024):
            window = tail + piece
            cells += len(_CELL_TAG.findall(window)) - len(_CELL_TAG.findall(tail))
            if cells > budget:
                break
            tail = window[-16:]
    return cells
