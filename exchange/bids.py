"""The bid register as a 公共资源交易平台 exports it: one row per bid, the project's columns repeated on each of its
rows (issue 14 item 1). Read from .xlsx or .csv (UTF-8 or GBK) with exchange.tabular's reader and validator, so
the rules of every other import hold: Chinese headers, spreadsheet row numbers, all or nothing.

Besides each row's own checks, the rows of one project must agree on the project's columns and name at most one
winner (`project_conflicts`); the service adds its rules (departments, ownership) before anything is written.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from domain import limits
from domain.localtime import LOCAL_TZ
from domain.project import TENDER_METHOD, TenderMethod
from domain.risk.register import AWARD_CRITERION, AwardCriterion
from exchange.errors import ImportRejected, RowError
from exchange.parsing import nfkc, parse_amount, parse_date
from exchange.rows import (
    Code,
    ImportRow,
    NameList,
    Text,
    _check_known,
    _choice,
    _code,
    _optional,
    _required,
    _text,
    choice_labels,
    header_map_for,
)
from exchange.tabular import INSTRUCTIONS_SHEET, Source, read_table, validate_rows
from exchange.xlsx_export import display_width

KIND = "bids"
TITLE = "投标记录"
MAX_PRICE = Decimal("1000000000000")  # yuan: a trillion is past any single bid
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_DATETIME = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})秒?)?)?"
)
_YES = {"是", "有效", "y", "yes", "true", "1", "中标", "√"}
_NO = {"否", "无效", "废标", "被否决", "否决", "n", "no", "false", "0", "未中标", "×"}


def _credit_code(value: Any) -> str:
    text = re.sub(r"\s+", "", nfkc(_text(value))).upper()
    if not _CREDIT_CODE.fullmatch(text):
        raise ValueError("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）")
    return text


def _moment(value: Any) -> dt.datetime:
    """A local (Asia/Shanghai) date and time, as the platform writes it, to aware UTC."""
    if isinstance(value, dt.datetime):
        local = value
    else:
        match = _DATETIME.fullmatch(nfkc(str(value)).strip())
        if match is None:
            raise ValueError("不是有效的日期时间，应如 2020-06-20 09:30 或 2020/6/20 9:30:00")
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        try:
            local = dt.datetime(year, month, day, hour, minute, second, tzinfo=LOCAL_TZ)
        except ValueError:
            raise ValueError("日期时间不存在") from None
    if not limits.YEAR_MIN <= local.year <= limits.YEAR_MAX:
        raise ValueError(f"年份 {local.year} 不合理")
    return local.replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC) if local.tzinfo is None else local.astimezone(dt.UTC)


def _yes_no(value: Any) -> bool:
    text = re.sub(r"\s+", "", nfkc(_text(value))).casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError("应填“是”或“否”")


def _price(value: Any) -> Decimal:
    return parse_amount(value, maximum=MAX_PRICE)


def _identifier(value: Any) -> str:
    return nfkc(_text(value)).strip()


ProjectCode = Annotated[str, BeforeValidator(_required(_code)), Field(max_length=limits.PROJECT_CODE_MAX)]
CreditCode = Annotated[str, BeforeValidator(_required(_credit_code))]
OptMoment = Annotated[dt.datetime | None, BeforeValidator(_optional(_moment))]
OptDay = Annotated[dt.date | None, BeforeValidator(_optional(parse_date))]
OptPrice = Annotated[Decimal | None, BeforeValidator(_optional(_price))]
OptYesNo = Annotated[bool | None, BeforeValidator(_optional(_yes_no))]
OptIdentifier = Annotated[
    Annotated[str, Field(max_length=limits.BID_IDENTIFIER_MAX)] | None, BeforeValidator(_optional(_identifier))
]
OptTitle = Annotated[Annotated[str, Field(max_length=limits.TITLE_MAX)] | None, BeforeValidator(_optional(_text))]
OptLongText = Annotated[
    Annotated[str, Field(max_length=limits.LONG_TEXT_MAX)] | None, BeforeValidator(_optional(_text))
]
OptReason = Annotated[Annotated[str, Field(max_length=limits.REASON_MAX)] | None, BeforeValidator(_optional(_text))]

# The columns that describe the project (repeated on each of its bids); they must agree across its rows.
PROJECT_FIELDS = (
    "project_name",
    "regulator_code",
    "procedure",
    "notice_date",
    "bid_deadline",
    "award_date",
    "estimated_price",
    "award_price",
    "award_criterion",
    "tenderer",
    "agent",
)


class BidRow(ImportRow):
    natural_key: ClassVar[tuple[str, ...]] = ("project_code", "bidder_code")
    sheet_title: ClassVar[str] = TITLE

    project_code: ProjectCode = Field(
        title="项目编号", description="交易平台的项目（标段）编号；同一项目的每份投标各占一行", examples=["YJ-2020-001"]
    )
    project_name: Text = Field(title="项目名称", description="与招标公告一致", examples=["雁江区某道路改造工程"])
    regulator_code: Code = Field(title="监管部门代码", description="负责监管的部门代码（见部门表）", examples=["ZJJ"])
    procedure: Annotated[TenderMethod, BeforeValidator(_required(_choice(TENDER_METHOD)))] = Field(
        title="招标方式", description=" / ".join(choice_labels(TENDER_METHOD)), examples=["公开招标"]
    )
    notice_date: OptDay = Field(default=None, title="公告日期", description="招标公告发布日期", examples=["2020-03-02"])
    bid_deadline: OptMoment = Field(
        default=None, title="投标截止时间", description="北京时间，如 2020-03-25 09:30", examples=["2020-03-25 09:30"]
    )
    award_date: OptDay = Field(default=None, title="定标日期", description="未定标可不填", examples=["2020-04-01"])
    estimated_price: OptPrice = Field(
        default=None, title="招标控制价（元）", description="最高投标限价或预算，单位元", examples=["12,500,000"]
    )
    award_price: OptPrice = Field(
        default=None, title="中标价（元）", description="不填则取中标人的投标报价", examples=[""]
    )
    award_criterion: Annotated[AwardCriterion | None, BeforeValidator(_optional(_choice(AWARD_CRITERION)))] = Field(
        default=None,
        title="评标办法",
        description=" / ".join(choice_labels(AWARD_CRITERION)) + "，不填为综合评估法",
        examples=["综合评估法"],
    )
    tenderer: OptTitle = Field(default=None, title="招标人", examples=["某区交通运输局"])
    agent: OptTitle = Field(default=None, title="招标代理机构", examples=["某招标代理有限公司"])
    experts: NameList = Field(
        default_factory=list,
        title="评标专家",
        description="评标委员会成员（姓名或专家证号），用；、或逗号隔开；同一项目写在任一行即可",
        examples=["张三；李四；王五"],
    )
    bidder_name: Text = Field(title="投标人名称", examples=["某建设有限公司"])
    bidder_code: CreditCode = Field(
        title="统一社会信用代码", description="18 位，同一项目内不能重复", examples=["91510000MA6200001X"]
    )
    price: OptPrice = Field(default=None, title="投标报价（元）", description="单位元", examples=["11,980,000"])
    valid: OptYesNo = Field(
        default=None, title="是否有效", description="是 / 否（被否决填“否”）；不填为有效", examples=["是"]
    )
    disqualify_reason: OptReason = Field(default=None, title="否决原因", description="被否决时填写", examples=[""])
    winner: OptYesNo = Field(
        default=None, title="是否中标", description="中标人填“是”；每个项目最多一个", examples=["否"]
    )
    received_at: OptMoment = Field(
        default=None, title="递交时间", description="投标文件递交（上传）时间，北京时间", examples=["2020-03-24 16:02"]
    )
    ip: OptIdentifier = Field(default=None, title="IP地址", description="上传投标文件的 IP", examples=["113.45.6.7"])
    mac: OptIdentifier = Field(
        default=None, title="MAC地址", description="编制投标文件的计算机网卡地址", examples=["00-1A-2B-3C-4D-5E"]
    )
    document_hash: OptIdentifier = Field(default=None, title="文件哈希", description="投标文件的哈希值（MD5/SHA）")
    document_author: OptIdentifier = Field(default=None, title="文件作者", description="投标文件属性中的作者")
    deposit_account: OptIdentifier = Field(
        default=None, title="保证金缴纳账户", description="投标保证金转出账户", examples=["6222020200001234567"]
    )
    project_manager: OptIdentifier = Field(
        default=None, title="项目经理", description="姓名，最好带注册证书号", examples=["张三（川1512345678）"]
    )
    document_text: OptLongText = Field(
        default=None,
        title="投标文件文本",
        description="可选：投标文件正文或技术标摘录；只保存其相似度指纹（MinHash），用于识别“异常一致”的标书",
        examples=[""],
    )

    @field_validator("experts", mode="after")
    @classmethod
    def _experts_fit(cls, value: list[str]) -> list[str]:
        long = [e for e in value if len(e) > limits.ENTITY_CODE_MAX]
        if long:
            raise ValueError(f"评标专家「{long[0][:20]}…」过长（每人最多 {limits.ENTITY_CODE_MAX} 个字）")
        return value

    @field_validator("regulator_code", mode="after")
    @classmethod
    def _regulator_exists(cls, value: str, info: ValidationInfo) -> str | None:
        return _check_known(value, info, "known_department_codes", "部门代码")


BID_HEADERS = header_map_for(BidRow)


def _differing(first: BidRow, row: BidRow) -> list[str]:
    return [
        BidRow.model_fields[name].title or name
        for name in PROJECT_FIELDS
        if getattr(row, name) is not None
        and getattr(first, name) is not None
        and getattr(row, name) != getattr(first, name)
    ]


def project_conflicts(rows: list[tuple[int, BidRow]]) -> list[RowError]:
    """Rows of one project that contradict its first row, and second winners."""
    first: dict[str, tuple[int, BidRow]] = {}
    winner_row: dict[str, int] = {}
    errors: list[RowError] = []
    for number, row in rows:
        key = row.project_code
        if key not in first:
            first[key] = (number, row)
        else:
            anchor, earlier = first[key]
            for title in _differing(earlier, row):
                errors.append(
                    RowError(row_number=number, column=title, message=f"与第 {anchor} 行同一项目的「{title}」不一致")
                )
        if row.winner:
            if key in winner_row:
                errors.append(
                    RowError(
                        row_number=number,
                        column="是否中标",
                        message=f"项目 {key} 已在第 {winner_row[key]} 行标明中标人，每个项目只能有一个中标人",
                    )
                )
            else:
                winner_row[key] = number
        if row.winner and row.valid is False:
            errors.append(RowError(row_number=number, column="是否中标", message="被否决的投标不能中标"))
    return errors


def read_bids(
    data: Source, *, filename: str, sheet: str | None = None, context: Mapping[str, Any] | None = None
) -> tuple[list[tuple[int, BidRow]], list[RowError]]:
    """(rows that validated with their numbers, every row error); a file that cannot be read raises
    ImportProblem. Nothing is returned as valid for a caller to write unless the errors are empty."""
    required = [h for h, f in BID_HEADERS.items() if BidRow.model_fields[f].is_required()]
    optional = [h for h in BID_HEADERS if h not in required]
    table = read_table(data, filename=filename, sheet=sheet, required=required, optional=optional)
    try:
        models = validate_rows(table, BidRow, filename=filename, header_map=BID_HEADERS, context=context)
        numbered = [(row.row_number, m) for row, m in zip(table, models, strict=True)]
        errors: list[RowError] = []
    except ImportRejected as exc:
        numbered, errors = [(n, m) for n, m in exc.valid if isinstance(m, BidRow)], list(exc.errors)
    return numbered, errors + project_conflicts(numbered)


# --- template ---------------------------------------------------------------------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def template_xlsx() -> bytes:
    """The blank template: one header row (required columns red) and a 说明 sheet describing every column."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = TITLE
    for col, (name, field) in enumerate(BidRow.model_fields.items(), start=1):
        title = field.title or name
        cell = sheet.cell(row=1, column=col, value=title)
        cell.font = Font(bold=True, color="C00000" if field.is_required() else "000000")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        example = str((field.examples or [""])[0])
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = min(max(display_width(title), display_width(example), 8) + 4, 40)
        sheet.column_dimensions[letter].number_format = "@"  # codes, accounts and hashes stay as typed
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    lines = [
        f"1. 按公共资源交易平台导出的格式，在「{TITLE}」工作表中每份投标占一行；",
        "   项目的列在该项目每一行重复填写（须一致）。",
        "2. 红色表头为必填列。日期写作 2020-06-20；时间写作 2020-06-20 09:30（北京时间）；金额单位为元，可带千分位。",
        "3. 重新导入同一项目时，以本文件为准替换该项目的全部投标记录和评标专家。",
        "4. 导入时逐行检查，只要有一行不合格，整个文件都不导入，系统会列出每一处错误所在的行号和列名。",
        "5. 也可另存为 CSV（UTF-8 或 GBK 编码均可）后导入。",
    ]
    for row, line in enumerate(lines, start=1):
        notes.cell(row=row, column=1, value=line)
    start = len(lines) + 2
    for col, header in enumerate(("列名", "是否必填", "填写说明", "示例"), start=1):
        notes.cell(row=start, column=col, value=header).font = Font(bold=True)
    for offset, (name, field) in enumerate(BidRow.model_fields.items(), start=1):
        values = (
            field.title or name,
            "必填" if field.is_required() else "选填",
            field.description or "",
            str((field.examples or [""])[0]),
        )
        for col, value in enumerate(values, start=1):
            notes.cell(row=start + offset, column=col, value=value).alignment = Alignment(
                wrap_text=True, vertical="top"
            )
    for letter, width in zip("ABCD", (18, 10, 60, 30), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


__all__ = ["BID_HEADERS", "KIND", "TITLE", "BidRow", "project_conflicts", "read_bids", "template_xlsx"]
