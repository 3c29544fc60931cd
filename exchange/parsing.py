"""Lenient-but-exact parsers for what people type into office spreadsheets.

Each parser raises ``ValueError`` with a short Chinese message; the import
layer shows that message next to the row and column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

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
    """"甲公司；乙公司、丙公司" → three names (；;、,， and new lines all separate)."""
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
