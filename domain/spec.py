"""The campaign spec: what an office writes in YAML, validated strictly.

Pure pydantic; loading YAML (and mapping errors to file:line:col) lives in services.spec_files.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from domain import limits
from domain.department import DepartmentKind

# Department, phase and task codes.
CODE_PATTERN = rf"^[A-Za-z][A-Za-z0-9_\-]{{0,{limits.CODE_MAX - 1}}}$"
CODE_HINT = f"代码须以字母开头，由字母、数字、_、- 组成，最长 {limits.CODE_MAX} 个字符"
Code = Annotated[str, Field(pattern=CODE_PATTERN)]


def _clean_line(text: str) -> str:
    problem = limits.unsafe_character(text)
    if problem:
        raise ValueError(problem)
    return text


def _clean_paragraph(text: str) -> str:
    problem = limits.unsafe_character(text, multiline=True)
    if problem:
        raise ValueError(problem)
    return text


def _named(text: str) -> str:
    """A name or title: one clean line with something visible in it."""
    _clean_line(text)
    if limits.is_blank(text):
        raise ValueError("不能为空白（只有空格或零宽字符）")
    return text


def _email(text: str) -> str:
    _clean_line(text)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise ValueError(f"不是有效的邮箱地址: {text!r}")
    return text


# Texts that end up in a column are no longer than that column (domain.limits) and hold no control characters.
Title = Annotated[str, Field(min_length=1, max_length=limits.TITLE_MAX), AfterValidator(_named)]
Name = Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX), AfterValidator(_named)]
Tag = Annotated[str, Field(min_length=1, max_length=limits.TAG_MAX), AfterValidator(_named)]
PersonName = Annotated[str, Field(min_length=1, max_length=limits.PERSON_NAME_MAX), AfterValidator(_named)]
Phone = Annotated[str, Field(max_length=limits.PHONE_MAX), AfterValidator(_clean_line)]
Email = Annotated[str, Field(max_length=limits.EMAIL_MAX), AfterValidator(_email)]
LegalBasis = Annotated[str, Field(min_length=1, max_length=limits.LEGAL_BASIS_MAX), AfterValidator(_named)]
Description = Annotated[str, Field(max_length=limits.DESCRIPTION_MAX), AfterValidator(_clean_paragraph)]
EscalationName = Annotated[str, Field(min_length=1, max_length=limits.ESCALATION_NAME_MAX), AfterValidator(_named)]


class Strict(BaseModel):
    # Unknown keys are errors: a typo in a YAML key must not silently drop a deadline.
    model_config = ConfigDict(extra="forbid", frozen=True)


class PhaseKind(StrEnum):
    mobilization = "mobilization"  # 动员部署
    self_check = "self_check"  # 自查自纠
    verification = "verification"  # 重点核查
    case_handling = "case_handling"  # 案件查处
    review = "review"  # 回头看
    summary = "summary"  # 总结


PHASE_KIND_LABELS: dict[PhaseKind, str] = {
    PhaseKind.mobilization: "动员部署",
    PhaseKind.self_check: "自查自纠",
    PhaseKind.verification: "重点核查",
    PhaseKind.case_handling: "案件查处",
    PhaseKind.review: "回头看",
    PhaseKind.summary: "总结",
}


class Deliverable(StrEnum):
    report = "report"  # 报告
    ledger = "ledger"  # 台账
    table = "table"  # 表格
    form = "form"  # 表单


DELIVERABLE_LABELS: dict[Deliverable, str] = {
    Deliverable.report: "报告",
    Deliverable.ledger: "台账",
    Deliverable.table: "表格",
    Deliverable.form: "表单",
}


class Contact(Strict):
    name: PersonName | None = None
    phone: Phone | None = None
    email: Email | None = None


class Department(Strict):
    code: Code
    name: Name
    kind: DepartmentKind
    contact: Contact = Contact()
    tags: tuple[Tag, ...] = ()

    @field_validator("tags")
    @classmethod
    def _tags_fit(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        if len("、".join(tags)) > limits.TAGS_JOINED_MAX:
            raise ValueError(f"标签合计过长：用“、”连接后最多 {limits.TAGS_JOINED_MAX} 个字符")
        return tags


class Assignees(Strict):
    """Who does a task: listed departments, departments carrying a tag or of a kind, or all members.

    `lead` names the department that leads (牵头); the others cooperate (配合).
    """

    departments: tuple[Code, ...] = ()
    tags: tuple[Tag, ...] = ()
    kinds: tuple[DepartmentKind, ...] = ()
    all_members: bool = False
    lead: Code | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Assignees:
        if not (self.departments or self.tags or self.kinds or self.all_members):
            raise ValueError("至少指定 departments、tags、kinds 或 all_members 之一")
        return self


class Anchor(StrEnum):
    campaign_start = "campaign_start"
    phase_start = "phase_start"
    phase_end = "phase_end"


class RelativeDue(Strict):
    """ "N working days after X": X is an anchor name or a date."""

    working_days_after: Anchor | dt.date
    days: int = Field(ge=0, le=250)


# The template of the verification assignments the tick creates per sampled project. It is not in
# the YAML: applying a changed YAML leaves its assignments alone, and no YAML task may use the key.
SAMPLE_TEMPLATE_KEY = "verify_sample"


class TaskTemplate(Strict):
    key: Code
    title: Title
    deliverable: Deliverable
    assignees: Assignees
    due: dt.date | RelativeDue
    review_required: bool = True
    description: Description | None = None


class Phase(Strict):
    key: Code
    kind: PhaseKind
    title: Name | None = None
    start: dt.date
    end: dt.date
    tasks: tuple[TaskTemplate, ...] = ()

    @property
    def label(self) -> str:
        return self.title or PHASE_KIND_LABELS[self.kind]

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end < self.start:
            raise ValueError(f"结束日期 {self.end} 早于开始日期 {self.start}")
        return self


class RecurringReport(Strict):
    """A report due every month on a day (e.g. departments by the 20th, the office by the 25th)."""

    key: Code
    title: Title
    deliverable: Deliverable = Deliverable.report
    assignees: Assignees
    day_of_month: int = Field(ge=1, le=28)
    first_month: dt.date | None = None  # any day in the first month; default: campaign start
    last_month: dt.date | None = None  # default: campaign end
    review_required: bool = True
    phase: Code | None = None  # attribute to this phase; default: the phase running on the due date


class ReminderPolicy(Strict):
    before_due_working_days: tuple[Annotated[int, Field(ge=1, le=30)], ...] = (3, 1)
    on_due_day: bool = True
    overdue_every_working_days: int = Field(default=2, ge=1, le=30)


class EscalationAudience(StrEnum):
    department = "department"  # the responsible department's liaison
    department_head = "department_head"  # 一把手
    office = "office"
    leaders = "leaders"


class EscalationLevel(Strict):
    level: int = Field(ge=1, le=9)
    name: EscalationName  # 预警 / 通报批评 / 约谈 / 问责
    after_overdue_working_days: int = Field(ge=1, le=250)
    notify: tuple[EscalationAudience, ...] = (EscalationAudience.department, EscalationAudience.office)


class SamplingRule(Strict):
    phase: Code
    min_ratio: float = Field(gt=0, le=1)
    seed: int = Field(default=0, ge=0, lt=limits.SEED_LIMIT)  # stored in a 32-bit INTEGER column
    due_working_days: int = Field(default=10, ge=1, le=120)


class HolidayOverride(Strict):
    date: dt.date
    name: Name = "节假日"


class CalendarOverrides(Strict):
    """Extra holidays and 调休 working days, e.g. for years chinese-calendar does not know yet."""

    extra_holidays: tuple[HolidayOverride, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()
    # Years whose full schedule is given here (weekends + the overrides are then authoritative).
    declared_years: tuple[int, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarOverrides:
        both = {h.date for h in self.extra_holidays} & set(self.extra_workdays)
        if both:
            raise ValueError(f"同一天既是节假日又是调休工作日: {sorted(both)[0]}")
        return self


DEFAULT_ESCALATION = (
    EscalationLevel(level=1, name="预警", after_overdue_working_days=3),
    EscalationLevel(
        level=2,
        name="通报批评",
        after_overdue_working_days=5,
        notify=(EscalationAudience.department, EscalationAudience.office, EscalationAudience.leaders),
    ),
    EscalationLevel(
        level=3,
        name="约谈",
        after_overdue_working_days=10,
        notify=(
            EscalationAudience.department_head,
            EscalationAudience.office,
            EscalationAudience.leaders,
        ),
    ),
)


class CampaignSpec(Strict):
    id: Code
    title: Title
    issuer: Title
    legal_basis: tuple[LegalBasis, ...] = ()
    timezone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    start: dt.date
    end: dt.date
    office: Code
    departments: tuple[Department, ...] = Field(min_length=1, max_length=limits.DEPARTMENTS_MAX)
    phases: tuple[Phase, ...] = Field(min_length=1)
    recurring_reports: tuple[RecurringReport, ...] = ()
    reminders: ReminderPolicy = ReminderPolicy()
    escalation: tuple[EscalationLevel, ...] = DEFAULT_ESCALATION
    sampling: SamplingRule | None = None
    calendar: CalendarOverrides = CalendarOverrides()

    @field_validator("escalation")
    @classmethod
    def _ladder_increases(cls, ladder: tuple[EscalationLevel, ...]) -> tuple[EscalationLevel, ...]:
        for lower, higher in itertools.pairwise(ladder):
            if higher.level <= lower.level or higher.after_overdue_working_days <= lower.after_overdue_working_days:
                raise ValueError("升级梯度必须按级别和逾期工作日数递增")
        return ladder

    @model_validator(mode="after")
    def _consistent(self) -> CampaignSpec:
        if self.end < self.start:
            raise ValueError(f"end: 结束日期 {self.end} 早于开始日期 {self.start}")
        self._check_window()
        codes = [d.code for d in self.departments]
        _no_duplicates(codes, "departments", "部门代码")
        _no_duplicates([p.key for p in self.phases], "phases", "阶段 key")
        template_keys = [t.key for p in self.phases for t in p.tasks] + [r.key for r in self.recurring_reports]
        _no_duplicates(template_keys, "tasks", "任务 key")
        if SAMPLE_TEMPLATE_KEY in template_keys:
            raise ValueError(
                f"tasks: 任务 key {SAMPLE_TEMPLATE_KEY!r} 由系统保留（重点核查抽取项目的核查任务），请换一个"
            )
        if self.office not in codes:
            raise ValueError(f"office: 牵头办公室 {self.office!r} 不在 departments 中")
        for i, phase in enumerate(self.phases):
            if phase.start < self.start or phase.end > self.end:
                raise ValueError(f"phases[{i}]: 阶段 {phase.key} 的时间超出专项行动起止日期 {self.start}～{self.end}")
            for j, task in enumerate(phase.tasks):
                self._check_assignees(task.assignees, f"phases[{i}].tasks[{j}].assignees")
                if isinstance(task.due, dt.date) and not self.start <= task.due <= self.end:
                    raise ValueError(
                        f"phases[{i}].tasks[{j}].due: 截止日期 {task.due} 不在专项行动起止日期 "
                        f"{self.start}～{self.end} 之内"
                    )
                anchor = task.due.working_days_after if isinstance(task.due, RelativeDue) else None
                if isinstance(anchor, dt.date) and not self.start <= anchor <= self.end:
                    raise ValueError(
                        f"phases[{i}].tasks[{j}].due.working_days_after: 起算日期 {anchor} 不在专项行动起止日期 "
                        f"{self.start}～{self.end} 之内"
                    )
        for i, report in enumerate(self.recurring_reports):
            self._check_assignees(report.assignees, f"recurring_reports[{i}].assignees")
            for name in ("first_month", "last_month"):
                month = getattr(report, name)
                if month is not None and not _month(self.start) <= _month(month) <= _month(self.end):
                    raise ValueError(
                        f"recurring_reports[{i}].{name}: {month} 不在专项行动起止月份 "
                        f"{self.start:%Y-%m}～{self.end:%Y-%m} 之内"
                    )
            if report.first_month and report.last_month and _month(report.first_month) > _month(report.last_month):
                raise ValueError(
                    f"recurring_reports[{i}].last_month: 末月 {report.last_month:%Y-%m} 早于首月 "
                    f"{report.first_month:%Y-%m}，报告将永远不会派发"
                )
            if report.phase and report.phase not in {p.key for p in self.phases}:
                raise ValueError(f"recurring_reports[{i}].phase: 没有 key 为 {report.phase!r} 的阶段")
        if self.sampling:
            kinds = {p.key: p.kind for p in self.phases}
            if self.sampling.phase not in kinds:
                raise ValueError(f"sampling.phase: 没有 key 为 {self.sampling.phase!r} 的阶段")
            if kinds[self.sampling.phase] is not PhaseKind.verification:
                raise ValueError(
                    f"sampling.phase: 抽查只能在重点核查（verification）阶段进行，{self.sampling.phase!r} 不是"
                )
        return self

    def _check_window(self) -> None:
        """Dates a campaign can really mean: no year 1 or 9999, no century-long campaign, and calendar
        overrides only around the campaign's own years (the tick and the holiday tables depend on it)."""
        for name in ("start", "end"):
            day: dt.date = getattr(self, name)
            if not limits.YEAR_MIN <= day.year <= limits.YEAR_MAX:
                raise ValueError(f"{name}: 日期 {day} 应在 {limits.YEAR_MIN}～{limits.YEAR_MAX} 年之间")
        if self.end.year - self.start.year >= limits.CAMPAIGN_YEARS_MAX:
            raise ValueError(f"end: 专项行动最长 {limits.CAMPAIGN_YEARS_MAX} 年（{self.start}～{self.end} 过长）")
        first, last = self.start.year - limits.CALENDAR_YEAR_MARGIN, self.end.year + limits.CALENDAR_YEAR_MARGIN
        window = f"应在 {first}～{last} 年之间（专项行动所在年份及前后各 {limits.CALENDAR_YEAR_MARGIN} 年）"
        for i, year in enumerate(self.calendar.declared_years):
            if not first <= year <= last:
                raise ValueError(f"calendar.declared_years[{i}]: 年份 {year} {window}")
        for i, holiday in enumerate(self.calendar.extra_holidays):
            if not first <= holiday.date.year <= last:
                raise ValueError(f"calendar.extra_holidays[{i}].date: 日期 {holiday.date} {window}")
        for i, workday in enumerate(self.calendar.extra_workdays):
            if not first <= workday.year <= last:
                raise ValueError(f"calendar.extra_workdays[{i}]: 日期 {workday} {window}")

    def _check_assignees(self, assignees: Assignees, where: str) -> None:
        known = {d.code for d in self.departments}
        for code in assignees.departments:
            if code not in known:
                raise ValueError(f"{where}.departments: 未定义的部门代码 {code!r}")
        tags = {t for d in self.departments for t in d.tags}
        for tag in assignees.tags:
            if tag not in tags:
                raise ValueError(f"{where}.tags: 没有部门带有标签 {tag!r}")
        resolved = self.resolve(assignees)
        if not resolved:
            raise ValueError(f"{where}: 没有匹配到任何部门")
        if assignees.lead and assignees.lead not in resolved:
            raise ValueError(f"{where}.lead: 牵头部门 {assignees.lead!r} 不在承办部门之中")

    # --- queries used by planning and the UI -------------------------------------------------
    def department(self, code: str) -> Department:
        return next(d for d in self.departments if d.code == code)

    def phase(self, key: str) -> Phase:
        return next(p for p in self.phases if p.key == key)

    def resolve(self, assignees: Assignees) -> tuple[str, ...]:
        """Department codes a rule selects, in spec order. `all_members` excludes the office."""
        chosen: list[str] = []
        for d in self.departments:
            if (
                d.code in assignees.departments
                or any(t in d.tags for t in assignees.tags)
                or d.kind in assignees.kinds
                or (assignees.all_members and d.code != self.office)
            ):
                chosen.append(d.code)
        return tuple(chosen)


def _no_duplicates(values: list[str], field: str, what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{field}: {what} {v!r} 重复")
        seen.add(v)


def _month(day: dt.date) -> tuple[int, int]:
    """(year, month), for comparing dates by calendar month."""
    return (day.year, day.month)
