"""Row models for the four spreadsheets departments send to the office.

Each field's ``title`` is the exact Chinese column header, so the header maps
and the blank templates are derived from one definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from domain.access import PERSON_ROLES, ROLE, USERNAME_HINT, USERNAME_PATTERN, Role
from domain.department import DEPARTMENT_KIND, DepartmentKind
from domain.lead import LEAD_SOURCE, LeadSource
from domain.problem import PROBLEM_CATEGORY, ProblemCategory
from domain.project import TENDER_METHOD, TenderMethod
from domain.spec import CODE_HINT, CODE_PATTERN
from domain.vocabulary import Vocabulary
from exchange.parsing import (
    cell_text,
    key_form,
    nfkc,
    parse_amount,
    parse_date,
    parse_email,
    parse_phone,
    split_list,
)

REQUIRED = "必填，不能为空"
T = TypeVar("T")

# --- choice lists -----------------------------------------------------------
# Every choice column reads through the domain's one vocabulary of its entity: the stored value,
# the Chinese label or a listed alias; what the service accepts is exactly what an import accepts.


def _choice(vocabulary: Vocabulary[Any], members: Collection[StrEnum] | None = None) -> Callable[[Any], StrEnum]:
    allowed = list(members) if members is not None else vocabulary.choices()
    shown = [vocabulary.label(m) for m in allowed]

    def parse(value: Any) -> StrEnum:
        text = re.sub(r"[\s*]+", "", nfkc(_text(value)))
        member = vocabulary.parse(text) or vocabulary.parse(text.casefold())
        if member is None or member not in allowed:
            raise ValueError("取值无效，应为以下之一：" + "、".join(shown))
        return member

    return parse


def choice_labels(vocabulary: Vocabulary[Any], members: Collection[StrEnum] | None = None) -> list[str]:
    """The labels a template's dropdown offers for a choice column."""
    return [vocabulary.label(m) for m in (members if members is not None else vocabulary.choices())]


# --- field types --------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _required(parse: Callable[[Any], T]) -> Callable[[Any], T]:
    def validate(value: Any) -> T:
        if _blank(value):
            raise ValueError(REQUIRED)
        return parse(value)

    return validate


def _optional(parse: Callable[[Any], T]) -> Callable[[Any], T | None]:
    def validate(value: Any) -> T | None:
        return None if _blank(value) else parse(value)

    return validate


def _text(value: Any) -> str:
    return cell_text(value) if not isinstance(value, str) else value.strip()


def _code(value: Any) -> str:
    text = nfkc(_text(value)).strip()
    if re.search(r"\s", text):
        raise ValueError("编号/代码中不能有空格")
    return text


def _username(value: Any) -> str:
    text = nfkc(_text(value)).strip()
    if not re.fullmatch(USERNAME_PATTERN, text):
        raise ValueError(USERNAME_HINT)
    return text


def _department_code(value: Any) -> str:
    """A department's own code is a campaign spec code (the YAML's rule)."""
    text = _code(value)
    if not re.fullmatch(CODE_PATTERN, text):
        raise ValueError(CODE_HINT)
    return text


def _password(value: Any) -> str:
    text = _text(value)
    if len(text) < 8:
        raise ValueError("初始密码至少 8 位")
    return text


def _email(value: Any) -> str:
    return parse_email(_text(value))


def _phone(value: Any) -> str:
    return parse_phone(_text(value))


Text = Annotated[str, BeforeValidator(_required(_text)), Field(max_length=200)]
LongText = Annotated[str, BeforeValidator(_required(_text)), Field(max_length=4000)]
# The length limit sits on the inner str so it is skipped for None.
OptText = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_optional(_text))]
Code = Annotated[str, BeforeValidator(_required(_code)), Field(max_length=64)]
OptCode = Annotated[Annotated[str, Field(max_length=64)] | None, BeforeValidator(_optional(_code))]
Day = Annotated[date, BeforeValidator(_required(parse_date))]
Amount = Annotated[Decimal, BeforeValidator(_required(parse_amount))]
OptEmail = Annotated[str | None, BeforeValidator(_optional(_email))]
OptPhone = Annotated[str | None, BeforeValidator(_optional(_phone))]
NameList = Annotated[list[str], BeforeValidator(split_list)]


def _working_days(value: Any) -> int:
    text = nfkc(_text(value)).strip()
    if not re.fullmatch(r"\d+(\.0+)?", text) or not 1 <= int(float(text)) <= 250:
        raise ValueError("应为 1 至 250 之间的整数（工作日）")
    return int(float(text))


OptWorkingDays = Annotated[int | None, BeforeValidator(_optional(_working_days))]


def _check_known(code: str | None, info: ValidationInfo, key: str, what: str) -> str | None:
    """Cross-file reference check, active only when the caller passes the known codes."""
    known: Collection[str] | None = (info.context or {}).get(key)
    if code is None or known is None:
        return code
    if key_form(code) not in {key_form(k) for k in known}:
        raise ValueError(f"{what}「{code}」在系统中不存在")
    return code


# --- row models -------------------------------------------------------------------


class ImportRow(BaseModel):
    """Base for imported rows; ``natural_key`` names the fields that must be unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    natural_key: ClassVar[tuple[str, ...]] = ()
    sheet_title: ClassVar[str] = "数据"


class DepartmentRow(ImportRow):
    natural_key: ClassVar[tuple[str, ...]] = ("code",)
    sheet_title: ClassVar[str] = "部门"

    code: Annotated[str, BeforeValidator(_required(_department_code))] = Field(
        title="代码",
        description="部门代码，全区唯一，字母开头，由字母、数字、_、- 组成，如 ZJJ（区住建局）",
        examples=["ZJJ"],
    )
    name: Text = Field(title="名称", description="部门全称或规范简称", examples=["区住建局"])
    type: Annotated[DepartmentKind, BeforeValidator(_required(_choice(DEPARTMENT_KIND)))] = Field(
        title="类型",
        description=" / ".join(choice_labels(DEPARTMENT_KIND)),
        examples=["行业监管部门"],
    )
    contact_person: OptText = Field(
        default=None, title="联系人", description="工作联络员姓名，可不填（已有部门留空则保持原值）", examples=["张三"]
    )
    phone: OptPhone = Field(
        default=None, title="电话", description="联系电话，可不填（已有部门留空则保持原值）", examples=["028-26000000"]
    )
    email: OptEmail = Field(
        default=None,
        title="邮箱",
        description="接收通知的邮箱，可不填（已有部门留空则保持原值）",
        examples=["zjj@example.gov.cn"],
    )
    tags: NameList = Field(
        default_factory=list,
        title="标签",
        description="多个标签用顿号、逗号或分号隔开；标签决定部门承担哪些任务。已有部门留空则保持原标签",
        examples=["成员单位、行业监管"],
    )


class UserRow(ImportRow):
    natural_key: ClassVar[tuple[str, ...]] = ("username",)
    sheet_title: ClassVar[str] = "用户"

    username: Annotated[str, BeforeValidator(_required(_username))] = Field(
        title="用户名",
        description="登录名，字母开头，由字母、数字和 _ . - 组成，2–50 位，全区唯一",
        examples=["zhangsan"],
    )
    full_name: Text = Field(title="姓名", description="真实姓名", examples=["张三"])
    role: Annotated[Role, BeforeValidator(_required(_choice(ROLE, PERSON_ROLES)))] = Field(
        title="角色",
        description=f"{ROLE.label(Role.office)}（联席会议办公室工作人员）/ {ROLE.label(Role.department)}"
        f"（成员单位联络员）/ {ROLE.label(Role.leader)}（只读查看）",
        examples=[ROLE.label(Role.department)],
    )
    department_code: OptCode = Field(
        default=None, title="部门代码", description="所属部门代码；角色为“部门”时必填", examples=["ZJJ"]
    )
    email: OptEmail = Field(default=None, title="邮箱", description="可不填", examples=["zhangsan@example.gov.cn"])
    initial_password: Annotated[SecretStr | None, BeforeValidator(_optional(_password))] = Field(
        default=None,
        title="初始密码",
        description="至少 8 位；不填则由系统生成。首次登录须修改，导入后请删除本文件中的密码",
        examples=["Chushi#2020"],
    )

    @field_validator("department_code", mode="after")
    @classmethod
    def _department_user_needs_department(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("role") == Role.department:
            raise ValueError("角色为“部门”时必须填写部门代码")
        return _check_known(value, info, "known_department_codes", "部门代码")


class ProjectRow(ImportRow):
    natural_key: ClassVar[tuple[str, ...]] = ("code",)
    sheet_title: ClassVar[str] = "项目"

    code: Code = Field(title="项目编号", description="项目编号，全区唯一", examples=["YJ-2020-001"])
    name: Text = Field(title="项目名称", description="与招标公告一致", examples=["雁江区某道路改造工程"])
    regulator_code: Code = Field(title="监管部门代码", description="负责监管的部门代码（见部门表）", examples=["ZJJ"])
    tender_date: Day = Field(
        title="招标日期", description="如 2020-06-20、2020/6/20 或 2020年6月20日", examples=["2020-03-15"]
    )
    estimated_price_wan: Amount = Field(
        title="合同估算价（万元）", description="单位万元，可带千分位，如 1,234.5", examples=["1,234.5"]
    )
    winning_bidder: OptText = Field(
        default=None, title="中标人", description="尚未定标可不填", examples=["某建设有限公司"]
    )
    bidders: NameList = Field(
        default_factory=list,
        title="投标人",
        description="全部投标人，用；、或逗号隔开",
        examples=["某建设有限公司；某路桥有限公司"],
    )
    tender_method: Annotated[TenderMethod | None, BeforeValidator(_optional(_choice(TENDER_METHOD)))] = Field(
        default=None,
        title="招标方式",
        description=" / ".join(choice_labels(TENDER_METHOD)) + "，可不填",
        examples=[TENDER_METHOD.label(TenderMethod.open)],
    )

    @field_validator("regulator_code", mode="after")
    @classmethod
    def _regulator_exists(cls, value: str, info: ValidationInfo) -> str | None:
        return _check_known(value, info, "known_department_codes", "部门代码")


class LeadRow(ImportRow):
    natural_key: ClassVar[tuple[str, ...]] = ("code",)
    sheet_title: ClassVar[str] = "线索"

    code: Code = Field(title="线索编号", description="线索编号，全区唯一", examples=["XS-2020-001"])
    source: Annotated[LeadSource, BeforeValidator(_required(_choice(LEAD_SOURCE)))] = Field(
        title="来源",
        description=" / ".join(choice_labels(LEAD_SOURCE)),
        examples=[LEAD_SOURCE.label(LeadSource.report)],
    )
    received_on: Day = Field(title="收到日期", description="如 2020-06-20", examples=["2020-06-10"])
    project_code: OptCode = Field(default=None, title="涉及项目编号", description="可不填", examples=["YJ-2020-001"])
    handling_department_code: Code = Field(
        title="承办部门代码", description="承办部门代码（见部门表）", examples=["ZJJ"]
    )
    category: Annotated[ProblemCategory, BeforeValidator(_required(_choice(PROBLEM_CATEGORY)))] = Field(
        title="问题类别",
        description="、".join(choice_labels(PROBLEM_CATEGORY)),
        examples=[PROBLEM_CATEGORY.label(ProblemCategory.collusion)],
    )
    summary: LongText = Field(
        title="内容摘要", description="反映的主要问题", examples=["反映某项目投标人之间存在串通投标行为"]
    )
    # Whistle-blower identity is confidential: kept out of repr/logs.
    reporter_name: OptText = Field(
        default=None, repr=False, title="举报人姓名", description="可不填（匿名）；严格保密", examples=[""]
    )
    reporter_phone: OptPhone = Field(
        default=None, repr=False, title="举报人电话", description="可不填；严格保密", examples=[""]
    )
    time_limit_working_days: OptWorkingDays = Field(
        default=None,
        title="办理时限（工作日）",
        description="交办承办部门后几个工作日内办结，1–250；可不填（默认 15 个工作日）",
        examples=["15"],
    )

    @field_validator("received_on", mode="after")
    @classmethod
    def _not_in_future(cls, value: date, info: ValidationInfo) -> date:
        # The caller passes context["today"] (the import's own date); exchange never reads a clock.
        today: date | None = (info.context or {}).get("today")
        if today is not None and value > today:
            raise ValueError("收到日期不能晚于今天")
        return value

    @field_validator("project_code", mode="after")
    @classmethod
    def _project_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _check_known(value, info, "known_project_codes", "项目编号")

    @field_validator("handling_department_code", mode="after")
    @classmethod
    def _department_exists(cls, value: str, info: ValidationInfo) -> str | None:
        return _check_known(value, info, "known_department_codes", "部门代码")


def header_map_for(model: type[BaseModel]) -> dict[str, str]:
    """Chinese header → field name, from each field's ``title``."""
    return {field.title or name: name for name, field in model.model_fields.items()}


DEPARTMENT_HEADERS = header_map_for(DepartmentRow)
USER_HEADERS = header_map_for(UserRow)
PROJECT_HEADERS = header_map_for(ProjectRow)
LEAD_HEADERS = header_map_for(LeadRow)
