"""The campaign spec: what an office writes in YAML, validated strictly.

Pure pydantic; loading YAML (and mapping errors to file:line:col) lives in services.spec_files.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from domain import limits
from domain.assignment import DEFAULT_YELLOW_WITHIN_WORKING_DAYS
from domain.department import DepartmentKind
from domain.extension import ExtensionApprover
from domain.risk.policy import RiskSection
from domain.vocabulary import Vocabulary

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

    # Keys added after campaigns were stored (issue 16). While at their default they stay out of the dump, so a
    # YAML written for the older schema dumps, digests (services.campaigns.spec_digest) and plans as before.
    added_keys: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _leave_out_added_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for key in self.added_keys:
                if key in data and getattr(self, key) == type(self).model_fields[key].default:
                    del data[key]
        return data


class PhaseKind(StrEnum):
    """What a phase is called in the documents: a label for boards and reports, never a behaviour.

    What a phase does beyond holding tasks is switched on by explicit keys (`sampling.phase` names the phase
    whose projects are drawn for verification; `optional_items` lets departments add their own items)."""

    mobilization = "mobilization"  # 动员部署
    self_check = "self_check"  # 自查自纠
    verification = "verification"  # 重点核查
    case_handling = "case_handling"  # 案件查处
    review = "review"  # 回头看
    summary = "summary"  # 总结
    implementation = "implementation"  # 组织实施
    consolidation = "consolidation"  # 巩固提升
    custom = "custom"  # 其他：the phase's own title says what it is


_PHASE_KIND_LABELS: dict[PhaseKind, str] = {
    PhaseKind.mobilization: "动员部署",
    PhaseKind.self_check: "自查自纠",
    PhaseKind.verification: "重点核查",
    PhaseKind.case_handling: "案件查处",
    PhaseKind.review: "回头看",
    PhaseKind.summary: "总结",
    PhaseKind.implementation: "组织实施",
    PhaseKind.consolidation: "巩固提升",
    PhaseKind.custom: "其他",
}
PHASE_KIND = Vocabulary(PhaseKind, _PHASE_KIND_LABELS)


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


# `due: ongoing` (动态推进，长期坚持): a duty with no single deadline, reported through recurring reports.
ONGOING = "ongoing"
Ongoing = Literal["ongoing"]
BATCHES_MAX = 50  # deliveries one task may require (`count`)


class Period(StrEnum):
    """How often a recurring report is due."""

    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


PERIOD_LABELS: dict[Period, str] = {
    Period.week: "每周",
    Period.month: "每月",
    Period.quarter: "每季度",
    Period.year: "每年",
}
PERIOD = Vocabulary(Period, PERIOD_LABELS)


# The template of the verification assignments the tick creates per sampled project. It is not in
# the YAML: applying a changed YAML leaves its assignments alone, and no YAML task may use the key.
SAMPLE_TEMPLATE_KEY = "verify_sample"
# The template of the assignments a leader's 批示 creates (services.instructions): not in the YAML either.
INSTRUCTION_TEMPLATE_KEY = "leader_instruction"
# Template keys of the 自选事项 departments add (services make them OPTIONAL_ITEM_PREFIX + a number); no YAML key
# may start with it, so an added item can never take the key of, and so replace, a mandatory one.
OPTIONAL_ITEM_PREFIX = "optional-"
# Template keys of the assignments a meeting's decisions become (services.meetings); reserved the same way.
MEETING_DECISION_PREFIX = "meeting-"


class TaskTemplate(Strict):
    """One item of the plan: each assigned department delivers it (`count` times, if given) by `due`."""

    added_keys = frozenset({"count", "batches", "reported_in"})

    key: Code
    title: Title
    deliverable: Deliverable
    assignees: Assignees
    due: dt.date | RelativeDue | Ongoing = Field(
        description=(
            "截止日期（YYYY-MM-DD）、相对截止 {working_days_after, days}，"
            "或 ongoing（动态推进，长期坚持：无单一截止日期）"
        )
    )
    review_required: bool = True
    description: Description | None = None
    count: int = Field(
        default=1,
        ge=1,
        le=BATCHES_MAX,
        description="须完成的次数/批次（如“2个批次以上集中收网”写 2），进度显示为 1/2、2/2",
    )
    batches: tuple[dt.date, ...] = Field(
        default=(), description="各批次的截止日期（按先后，可只写前几批）；未写日期的批次以 due 为准"
    )
    reported_in: tuple[Code, ...] = Field(
        default=(), description="due: ongoing 的事项通过哪些定期报告（recurring_reports 的 key）报送进展"
    )

    @property
    def ongoing(self) -> bool:
        return self.due == ONGOING

    @model_validator(mode="after")
    def _counted_and_reported(self) -> TaskTemplate:
        if self.batches:
            if self.count < 2:
                raise ValueError("batches: 只有 count 不少于 2 的任务才分批次，请写 count")
            if len(self.batches) > self.count:
                raise ValueError(f"batches: 写了 {len(self.batches)} 个批次日期，多于 count {self.count}")
            for i, (earlier, later) in enumerate(itertools.pairwise(self.batches), 1):
                if later < earlier:
                    raise ValueError(f"batches[{i}]: 第 {i + 1} 批的日期 {later} 早于第 {i} 批的 {earlier}")
            if isinstance(self.due, dt.date) and self.batches[-1] > self.due:
                raise ValueError(
                    f"batches[{len(self.batches) - 1}]: 批次日期 {self.batches[-1]} 晚于整体截止日期 {self.due}"
                )
        if self.ongoing and not self.reported_in:
            raise ValueError(
                "reported_in: 持续推进（due: ongoing）的事项须写明通过哪个定期报告报送，如 [monthly_report]"
            )
        if self.reported_in and not self.ongoing:
            raise ValueError(
                "reported_in: 只有持续推进（due: ongoing）的事项通过定期报告报送；有截止日期的任务请删除此项"
            )
        return self


class OptionalItems(Strict):
    """自选事项: departments may add their own items to the phase beside the mandatory ones, reviewed by the
    office like any task; they count in progress but never replace or cancel a mandatory item."""

    assignees: Assignees | None = Field(default=None, description="哪些部门可以添加自选事项；默认全部成员单位")
    max_per_department: int = Field(default=20, ge=1, le=200, description="每个部门在本阶段最多添加的自选事项数")
    deliverables: tuple[Deliverable, ...] = Field(default=(), description="自选事项可用的报送形式；默认不限")
    note: Description | None = Field(
        default=None, description="添加时向部门显示的要求，如“不允许以自选事项清理整改取代本方案规定的事项整改”"
    )


class Phase(Strict):
    added_keys = frozenset({"optional_items"})

    key: Code
    kind: PhaseKind = Field(
        default=PhaseKind.custom, description="阶段类别（只作标签，不决定行为）；不属于已知类别时省略并写 title"
    )
    title: Name | None = None
    start: dt.date
    end: dt.date
    tasks: tuple[TaskTemplate, ...] = ()
    optional_items: OptionalItems | None = Field(default=None, description="允许部门在本阶段添加自选事项")

    @property
    def label(self) -> str:
        return self.title or PHASE_KIND.label(self.kind)

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end < self.start:
            raise ValueError(f"结束日期 {self.end} 早于开始日期 {self.start}")
        if self.kind is PhaseKind.custom and self.title is None:
            raise ValueError("title: 阶段须写 title（如“组织实施”），或写已知的 kind")
        return self


class RecurringReport(Strict):
    """A report due every period: every month on a day (departments by the 20th, the office by the 25th), every
    week on a weekday, every quarter or year on a day of the month after the period ends (季报次月10日前)."""

    added_keys = frozenset({"every", "weekday"})

    key: Code
    title: Title
    deliverable: Deliverable = Deliverable.report
    assignees: Assignees
    every: Period = Field(
        default=Period.month, description="周期：week 每周、month 每月（默认）、quarter 每季度、year 每年"
    )
    day_of_month: int | None = Field(
        default=None, ge=1, le=28, description="每月：当月第几日前；每季度、每年：周期结束后次月第几日前"
    )
    weekday: int | None = Field(default=None, ge=1, le=7, description="每周：周几前（1 = 周一 … 7 = 周日）")
    # Any day in the first / last period (month, week, quarter or year); default: campaign start / end.
    first_month: dt.date | None = None
    last_month: dt.date | None = None
    review_required: bool = True
    phase: Code | None = None  # attribute to this phase; default: the phase running on the due date

    @model_validator(mode="after")
    def _day_fits_period(self) -> RecurringReport:
        if self.every is Period.week:
            if self.weekday is None:
                raise ValueError("weekday: 每周的报告须写 weekday（1 = 周一 … 7 = 周日）")
            if self.day_of_month is not None:
                raise ValueError("day_of_month: 每周的报告用 weekday 指定周几，不用 day_of_month")
        else:
            if self.day_of_month is None:
                raise ValueError(f"day_of_month: {PERIOD_LABELS[self.every]}的报告须写 day_of_month")
            if self.weekday is not None:
                raise ValueError("weekday: 只有每周（every: week）的报告用 weekday")
        return self


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


class ExtensionPolicy(Strict):
    """延期申请: how often and how far an assignment's deadline may be extended, and who approves."""

    max_per_assignment: int = Field(default=2, ge=0, le=20)  # requests not rejected, per assignment
    max_working_days: int = Field(default=20, ge=1, le=250)  # counted from the original deadline
    approver: ExtensionApprover = ExtensionApprover.office


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


class DubanColour(StrEnum):
    """The colour of a 督办单 (蓝 → 黄 → 红 as the rung rises); labels in domain.duban."""

    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"


_DUBAN_COLOUR_WORDS = {"蓝": "blue", "蓝色": "blue", "黄": "yellow", "黄色": "yellow", "橙": "orange", "橙色": "orange"}
_DUBAN_COLOUR_WORDS |= {"红": "red", "红色": "red"}
DocumentPrefix = Annotated[str, Field(min_length=1, max_length=limits.DOCUMENT_PREFIX_MAX), AfterValidator(_named)]


def _colour_word(value: object) -> object:
    return _DUBAN_COLOUR_WORDS.get(value, value) if isinstance(value, str) else value


class DubanLevel(Strict):
    """How the 督办单 of one escalation level is numbered and coloured: 雁督〔2020〕7号, 蓝."""

    level: int = Field(ge=1, le=9, description="升级级别（escalation 中的 level）")
    prefix: DocumentPrefix = "督办"
    colour: Annotated[DubanColour, BeforeValidator(_colour_word)] = DubanColour.blue


class DubanPolicy(Strict):
    """督办单: one per assignment and escalation level reached; the department answers by its 反馈期限."""

    levels: tuple[DubanLevel, ...] = Field(
        default=(), description="按升级级别：编号前缀与颜色；未列出的级别用“督办”、按级别蓝/黄/红"
    )
    respond_within_working_days: int = Field(default=5, ge=1, le=60, description="反馈期限：签发后几个工作日")
    bulletin_prefix: DocumentPrefix = Field(default="通报", description="专项行动通报的编号前缀：雁通〔2020〕2号")
    requirement: Description = Field(
        default="请责任单位接单后立即组织办理，于反馈期限前书面反馈办理情况；逾期未反馈的，纳入考核并予以通报。",
        description="督办要求（印在督办单上）",
    )


class InstructionPolicy(Strict):
    default_due_working_days: int = Field(default=5, ge=1, le=120, description="批示要求办理时，默认几个工作日内办结")


class ScoreRule(Strict):
    """Points per occurrence and the most one item may take (or give)."""

    points: float = Field(ge=0, le=100)
    cap: float = Field(ge=0, le=100)


class LightThresholds(Strict):
    """A score at or above `green` is 绿, at or above `yellow` is 黄, below it 红."""

    green: float = Field(default=90, ge=0, le=200)
    yellow: float = Field(default=75, ge=0, le=200)

    @model_validator(mode="after")
    def _ordered(self) -> LightThresholds:
        if self.yellow > self.green:
            raise ValueError("lights: yellow 阈值不能高于 green 阈值")
        return self


class ScoringPolicy(Strict):
    """考核评分: base, minus capped deductions, plus a capped bonus; lights by thresholds."""

    base: float = Field(default=100, ge=0, le=200)
    overdue_day: ScoreRule = ScoreRule(points=0.5, cap=30)  # per overdue working day
    escalation_level: ScoreRule = ScoreRule(points=2, cap=20)  # per escalation rung reached
    returned_submission: ScoreRule = ScoreRule(points=1, cap=10)  # per submission returned
    unsigned: ScoreRule = ScoreRule(points=1, cap=10)  # per assignment not signed for in time
    duban_unanswered: ScoreRule = ScoreRule(points=2, cap=20)  # per 督办单 not answered by its 反馈期限
    early_completion: ScoreRule = ScoreRule(points=0.5, cap=5)  # per task handed in before its due day
    lights: LightThresholds = LightThresholds()


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
    # 签收 (issue 13): an assignment unsigned this many working days after it opened gets one reminder.
    acknowledge_within_working_days: int | None = Field(default=None, ge=1, le=30)
    extensions: ExtensionPolicy = ExtensionPolicy()
    # An unfinished assignment shows yellow from this many working days before its deadline.
    yellow_light_within_working_days: int = Field(default=DEFAULT_YELLOW_WITHIN_WORKING_DAYS, ge=0, le=30)
    # Issue 14: red-flag screening of the bid register, 预警分办, the risk-weighted draw and credit. Without it
    # nothing changes (the draw stays uniform); left out of the dump while absent (added_keys).
    risk: RiskSection | None = None

    duban: DubanPolicy = DubanPolicy()  # issue 13: 督办单
    instructions: InstructionPolicy = InstructionPolicy()  # issue 13: 批示
    scoring: ScoringPolicy = ScoringPolicy()  # issue 13: 考核评分
    added_keys = frozenset(
        {"duban", "instructions", "scoring"}  # 督办单, 批示, 考核评分
        | {"acknowledge_within_working_days", "extensions", "yellow_light_within_working_days"}  # 签收, 延期, 灯
        | {"risk"}  # issue 14: 大数据预警
    )

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
        if INSTRUCTION_TEMPLATE_KEY in template_keys:
            raise ValueError(f"tasks: 任务 key {INSTRUCTION_TEMPLATE_KEY!r} 由系统保留（领导批示交办的任务），请换一个")
        keyed = [(f"phases[{i}].tasks[{j}]", t.key) for i, p in enumerate(self.phases) for j, t in enumerate(p.tasks)]
        keyed += [(f"recurring_reports[{i}]", r.key) for i, r in enumerate(self.recurring_reports)]
        for where, key in keyed:
            if key.startswith(OPTIONAL_ITEM_PREFIX):
                raise ValueError(
                    f"{where}.key: 任务 key {key!r} 以 {OPTIONAL_ITEM_PREFIX!r} 开头，"
                    "这一前缀留给部门的自选事项，请换一个"
                )
            if key.startswith(MEETING_DECISION_PREFIX):
                raise ValueError(
                    f"{where}.key: 任务 key {key!r} 以 {MEETING_DECISION_PREFIX!r} 开头，"
                    "这一前缀留给会商、例会决定交办的任务，请换一个"
                )
        reports = {r.key: r for r in self.recurring_reports}
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
                for k, batch in enumerate(task.batches):
                    if not self.start <= batch <= self.end:
                        raise ValueError(
                            f"phases[{i}].tasks[{j}].batches[{k}]: 批次日期 {batch} 不在专项行动起止日期 "
                            f"{self.start}～{self.end} 之内"
                        )
                self._check_reported_in(task, reports, f"phases[{i}].tasks[{j}].reported_in")
            if phase.optional_items and phase.optional_items.assignees:
                self._check_assignees(phase.optional_items.assignees, f"phases[{i}].optional_items.assignees")
        for i, report in enumerate(self.recurring_reports):
            self._check_assignees(report.assignees, f"recurring_reports[{i}].assignees")
            for name in ("first_month", "last_month"):
                month = getattr(report, name)
                if month is None:
                    continue
                if report.every is Period.month and not _month(self.start) <= _month(month) <= _month(self.end):
                    raise ValueError(
                        f"recurring_reports[{i}].{name}: {month} 不在专项行动起止月份 "
                        f"{self.start:%Y-%m}～{self.end:%Y-%m} 之内"
                    )
                near = abs(month.year - self.start.year) <= 1 or abs(month.year - self.end.year) <= 1
                first_day, last_day = period_bounds(report.every, month) if near else (month, month)
                if last_day < self.start or first_day > self.end:
                    raise ValueError(
                        f"recurring_reports[{i}].{name}: {month} 所在的周期 {first_day}～{last_day} "
                        f"不在专项行动起止日期 {self.start}～{self.end} 之内"
                    )
            first, last = report.first_month, report.last_month
            if first and last and report.every is Period.month and _month(first) > _month(last):
                raise ValueError(
                    f"recurring_reports[{i}].last_month: 末月 {last:%Y-%m} 早于首月 {first:%Y-%m}，报告将永远不会派发"
                )
            if first and last and report.every is not Period.month and last < first:  # reversed, surely a slip
                raise ValueError(f"recurring_reports[{i}].last_month: 末期 {last} 早于首期 {first}")
            if report.phase and report.phase not in {p.key for p in self.phases}:
                raise ValueError(f"recurring_reports[{i}].phase: 没有 key 为 {report.phase!r} 的阶段")
        # Sampling happens in the phase `sampling.phase` names, whatever that phase's kind (a label only).
        if self.sampling and self.sampling.phase not in {p.key for p in self.phases}:
            raise ValueError(f"sampling.phase: 没有 key 为 {self.sampling.phase!r} 的阶段")
        return self

    def _check_reported_in(self, task: TaskTemplate, reports: dict[str, RecurringReport], where: str) -> None:
        """An ongoing duty is reported through recurring reports that exist and reach every department doing it."""
        if not task.reported_in:
            return
        for k, key in enumerate(task.reported_in):
            if key not in reports:
                raise ValueError(f"{where}[{k}]: 没有 key 为 {key!r} 的定期报告（recurring_reports）")
        reporting = {code for key in task.reported_in for code in self.resolve(reports[key].assignees)}
        silent = [code for code in self.resolve(task.assignees) if code not in reporting]
        if silent:
            raise ValueError(
                f"{where}: 承办部门 {'、'.join(silent)} 不在这些定期报告的报送部门之中，其持续推进的进展无处报送"
            )

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

    @property
    def sampling_phase_key(self) -> str | None:
        """The phase whose supervised projects are drawn for verification (重点核查抽查), if any."""
        return self.sampling.phase if self.sampling else None

    def draws_samples(self, phase_key: str) -> bool:
        """Whether the tick draws verification samples in this phase: `sampling.phase` says so, not the kind."""
        return phase_key == self.sampling_phase_key

    def may_add_items(self, phase_key: str, department_code: str) -> bool:
        """Whether a department may add 自选事项 to a phase (the phase allows them and names it, or names no one)."""
        rule = self.phase(phase_key).optional_items
        if rule is None:
            return False
        return department_code in self.resolve(rule.assignees or Assignees(all_members=True))

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


def _month_start(year: int, month: int) -> dt.date:
    """The first day of a month counted from January of `year` (month 13 is next January)."""
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def period_bounds(every: Period, day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the period (ISO week from Monday, month, quarter or year) that holds `day`."""
    if every is Period.week:
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    if every is Period.month:
        first = day.replace(day=1)
        return first, _month_start(day.year, day.month + 1) - dt.timedelta(days=1)
    if every is Period.quarter:
        first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return first, _month_start(first.year, first.month + 3) - dt.timedelta(days=1)
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
