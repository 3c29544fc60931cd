"""ORM tables. The store is the record: Prefect's ephemeral run history is gone when a process exits.

Natural keys carry unique constraints so a re-run tick or a crash-and-retry can never create
anything twice. Calendar dates (deadlines, as-of days) are local dates; instants are UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from domain import limits
from domain.assignment import AssignmentStatus, PhaseState, SubmissionState
from domain.delivery import DeliveryState, OutboxState
from domain.extension import ExtensionState
from domain.lead import LeadStatus
from domain.problem import ProblemStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC in, aware UTC out, on every backend (SQLite forgets time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Campaign(Base):
    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(limits.CODE_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(limits.TITLE_MAX))
    issuer: Mapped[str] = mapped_column(String(limits.TITLE_MAX))
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date] = mapped_column(Date)
    spec_json: Mapped[str] = mapped_column(Text)
    spec_sha256: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str | None] = mapped_column(String(limits.PATH_MAX))
    last_tick_on: Mapped[dt.date | None] = mapped_column(Date)
    launched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SpecVersion(Base):
    """Every campaign spec ever handed to a launch, stored once by digest (0011): flows take the
    campaign code and this digest, never the spec itself (Prefect refuses parameters over 512 KB, and
    a spec copied into every flow run's parameters would fill Prefect's database)."""

    __tablename__ = "campaign_spec_version"
    __table_args__ = (UniqueConstraint("campaign_code", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_code: Mapped[str] = mapped_column(String(limits.CODE_MAX))
    sha256: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Department(Base):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(limits.CODE_MAX))
    name: Mapped[str] = mapped_column(String(limits.NAME_MAX))
    kind: Mapped[str] = mapped_column(String(30))
    tags: Mapped[str] = mapped_column(String(limits.TAGS_JOINED_MAX), default="")  # 、-joined, for display
    contact_name: Mapped[str | None] = mapped_column(String(limits.PERSON_NAME_MAX))
    contact_phone: Mapped[str | None] = mapped_column(String(limits.PHONE_MAX))
    contact_email: Mapped[str | None] = mapped_column(String(limits.EMAIL_MAX))
    is_office: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Phase(Base):
    __tablename__ = "phase"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(limits.CODE_MAX))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(limits.NAME_MAX))
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default=PhaseState.pending.value)  # domain.assignment.PHASE_STATE
    ordinal: Mapped[int] = mapped_column(Integer, default=0)


class TaskTemplate(Base):
    __tablename__ = "task_template"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(limits.CODE_MAX))
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("phase.id"))
    title: Mapped[str] = mapped_column(String(limits.TITLE_MAX))
    deliverable: Mapped[str] = mapped_column(String(20))
    review_required: Mapped[bool] = mapped_column(Boolean, default=True)
    recurring_day: Mapped[int | None] = mapped_column(Integer)
    # Added by 0014 (issue 16): how often a recurring report is due (domain.spec.Period; NULL for a phase
    # task), the deliveries a counted task asks of each department, an ongoing duty (持续推进) and the
    # recurring reports (、-joined keys) it is reported through, and the department that proposed a 自选事项.
    every: Mapped[str | None] = mapped_column(String(10))
    required_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reported_in: Mapped[str] = mapped_column(String(limits.TAGS_JOINED_MAX), default="", server_default="")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))


class Assignment(Base):
    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("template_id", "department_id", "period"),
        Index("ix_assignment_campaign_status_due", "campaign_id", "status", "due_on"),
        Index("ix_assignment_department", "department_id", "status"),
        Index("ix_assignment_phase_status_due", "phase_id", "status", "due_on"),  # every tick step filters so
        Index("ix_assignment_phase_status_opens", "phase_id", "status", "opens_on"),  # the phase check
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    template_id: Mapped[int] = mapped_column(ForeignKey("task_template.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id"))
    # A month, or a sampled project code.
    period: Mapped[str] = mapped_column(String(limits.PROJECT_CODE_MAX), default="")
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    nominal_due_on: Mapped[dt.date] = mapped_column(Date)
    review_required: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(12), default=AssignmentStatus.scheduled.value)
    overdue_days: Mapped[int] = mapped_column(Integer, default=0)  # working days, as of the last tick
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_on: Mapped[dt.date | None] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    # Added by 0014: the delivery (1..count) of a counted task, and an ongoing duty's assignment, whose
    # due_on is how long it lasts, not a deadline (never overdue, escalated or reminded).
    batch: Mapped[int | None] = mapped_column(Integer)
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Added by 0013: where the assignment came from (domain.instruction.AssignmentSource): the plan, or a 批示
    # (the instruction row names its assignment).
    source: Mapped[str] = mapped_column(String(12), default="plan", server_default="plan")
    # Added by 0012: 签收 (who signed for it, when) and the deadline before the first approved extension
    # (due_on is then the extended, effective deadline; NULL: never extended).
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(limits.USERNAME_MAX))
    original_due_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock for concurrent reviewers

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class Submission(Base):
    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("assignment_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text, default="")
    rows_json: Mapped[str] = mapped_column(Text, default="[]")
    state: Mapped[str] = mapped_column(
        String(10), default=SubmissionState.pending.value
    )  # domain.assignment.SUBMISSION
    reviewed_by: Mapped[str | None] = mapped_column(String(limits.USERNAME_MAX))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    late_reason: Mapped[str | None] = mapped_column(Text)  # 逾期原因, required when handed in after the deadline (0012)


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (
        UniqueConstraint("submission_id", "sha256", "filename"),
        Index("ix_attachment_extension_request", "extension_request_id"),  # deleted with its assignment (0021)
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    problem_event_id: Mapped[int | None] = mapped_column(ForeignKey("problem_event.id", ondelete="CASCADE"))
    extension_request_id: Mapped[int | None] = mapped_column(  # 0012: a 延期申请's supporting file
        ForeignKey("extension_request.id", ondelete="CASCADE")
    )
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(limits.FILENAME_MAX))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)


class Escalation(Base):
    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("assignment_id", "level"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(limits.ESCALATION_NAME_MAX))
    overdue_days: Mapped[int] = mapped_column(Integer)
    reached_on: Mapped[dt.date] = mapped_column(Date)


class Outbox(Base):
    """A reminder or escalation notice owed to someone. Delivery (another flow) reads it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("natural_key"),
        Index("ix_outbox_campaign_state", "campaign_id", "state"),
        Index("ix_outbox_assignment", "assignment_id"),  # a deleted assignment's rows (migration 0021)
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    natural_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))  # domain.delivery.OutboxKind
    # None: an event about no assignment (a lead, a problem; `thread_key` names it). Migration 0016.
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    audience: Mapped[str] = mapped_column(String(20))  # department / department_head / office / leaders
    level: Mapped[int] = mapped_column(Integer, default=0)
    created_on: Mapped[dt.date] = mapped_column(Date)  # the day of the event (the as-of day that owed it)
    state: Mapped[str] = mapped_column(String(10), default=OutboxState.pending.value)  # domain.delivery.OUTBOX
    # Added by 0016 (services.delivery.events): an event message's own text, what it is about, and
    # whether it chases unfinished work (then it is stale once the work is handed in).
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    thread_key: Mapped[str | None] = mapped_column(String(120))
    chases: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    in_app_on: Mapped[dt.date | None] = mapped_column(Date)  # put in the in-app inboxes by the tick


class OutboxDelivery(Base):
    """One message to one recipient over one channel; the natural key stops a second send."""

    __tablename__ = "outbox_delivery"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_delivery_campaign_state", "campaign_id", "state"),
        Index("ix_outbox_delivery_outbox", "outbox_id"),  # a deleted outbox row's deliveries (0021)
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(200))  # channel|target|recipient|digest-day or outbox key
    channel: Mapped[str] = mapped_column(String(20))  # inbox / email / webhook
    target: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=DeliveryState.pending.value)  # domain.delivery.DELIVERY
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_on: Mapped[dt.date] = mapped_column(Date)
    # Added by 0003: the campaign (a digest covers several outbox rows), retry timing, the
    # instant the row was claimed for sending (a stale 'sending' row means a crash), and the
    # natural keys of the outbox rows the message covers (JSON list).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outbox_keys: Mapped[str] = mapped_column(Text, default="[]")
    # Added by 0016: an unread in-app message found untrue since (the work it chased was handed in).
    obsolete_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ScheduledRun(Base):
    """A day the embedded scheduler has completed for a job: the proof that each day ran once."""

    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("job", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    day: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, default="")


class RollupSnapshot(Base):
    """Counts per department and phase on an as-of day; phase_key '' is the department total.

    The primary key is the natural key, so re-ticking a day rewrites identical rows.
    """

    __tablename__ = "rollup_snapshot"
    # a department's own rows over the days (its trend); the key leads with campaign and day
    __table_args__ = (Index("ix_rollup_snapshot_department", "department_id", "phase_key", "as_of"),)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), primary_key=True)
    phase_key: Mapped[str] = mapped_column(String(limits.CODE_MAX), primary_key=True)
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # deadline come by as_of (0016)
    problems_open: Mapped[int] = mapped_column(Integer, default=0)
    problems_closed: Mapped[int] = mapped_column(Integer, default=0)
    problems_overdue: Mapped[int] = mapped_column(Integer, default=0)
    problems_rebound: Mapped[int] = mapped_column(Integer, default=0)
    projects_supervised: Mapped[int] = mapped_column(Integer, default=0)
    projects_sampled: Mapped[int] = mapped_column(Integer, default=0)
    leads_open: Mapped[int] = mapped_column(Integer, default=0)
    leads_closed: Mapped[int] = mapped_column(Integer, default=0)
    leads_overdue: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(limits.USERNAME_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(limits.PERSON_NAME_MAX))
    role: Mapped[str] = mapped_column(String(12))  # domain.access.Role (a person's: PERSON_ROLES)
    department_code: Mapped[str | None] = mapped_column(String(limits.CODE_MAX))
    # Added by 0009: a department account belongs to one department of one campaign (campaign.code);
    # office and leader accounts have none (every campaign).
    campaign_code: Mapped[str | None] = mapped_column(String(limits.CODE_MAX))
    email: Mapped[str | None] = mapped_column(String(limits.EMAIL_MAX))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Every login attempt, for throttling per username and per client address (0010)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))  # as typed, cut to the column
    address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)


class CampaignCounter(Base):
    """A per-campaign counter (added by 0009): the next problem (WT-nnnn) or lead (XS-nnnn) number, and the
    row a sampling draw locks. Taken with UPDATE … RETURNING, so concurrent callers queue instead of
    both reading the same count."""

    __tablename__ = "campaign_counter"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(20), primary_key=True)  # problem / lead / draw
    value: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Append-only, hash-chained: each row's hash covers its content and the previous hash."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(120))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(10), default="ok")  # ok / refused
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- department and office work (problems, projects, sampling, leads) -------------------------


class Problem(Base):
    """A row of the 问题台账 / 整改台账."""

    __tablename__ = "problem"
    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        Index("ix_problem_department", "department_id"),  # the rollup's per-department counts
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(limits.LEDGER_CODE_MAX))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    phase_key: Mapped[str] = mapped_column(String(limits.CODE_MAX))
    project_code: Mapped[str | None] = mapped_column(String(limits.PROJECT_CODE_MAX))
    category: Mapped[str] = mapped_column(String(limits.CATEGORY_MAX))
    description: Mapped[str] = mapped_column(Text)
    responsible_person: Mapped[str | None] = mapped_column(String(limits.PERSON_NAME_MAX))
    measure: Mapped[str | None] = mapped_column(Text)
    handling_class: Mapped[str] = mapped_column(String(20))  # domain.problem.HandlingClass
    deadline_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ProblemStatus.open.value)  # domain.problem.PROBLEM
    rebound: Mapped[bool] = mapped_column(Boolean, default=False)
    found_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class ProblemEvent(Base):
    __tablename__ = "problem_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))
    action: Mapped[str] = mapped_column(String(20))  # domain.problem.ProblemEvent
    note: Mapped[str] = mapped_column(Text, default="")


class Project(Base):
    """A supervised tendering project from the register the departments import."""

    __tablename__ = "project"
    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        Index("ix_project_department", "department_id"),  # the rollup's per-department counts
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(limits.PROJECT_CODE_MAX))
    name: Mapped[str] = mapped_column(String(limits.TITLE_MAX))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    tender_on: Mapped[dt.date | None] = mapped_column(Date)
    amount_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    winner: Mapped[str | None] = mapped_column(String(limits.TITLE_MAX))
    bidders: Mapped[str] = mapped_column(Text, default="")
    sampled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Added by 0015 (issue 14): the bid-level register, as a 公共资源交易平台 export carries it. NULL on
    # projects imported from the old register; domain.risk.register.Project is what the rules read.
    procedure: Mapped[str | None] = mapped_column(String(20))  # domain.project.TenderMethod
    notice_on: Mapped[dt.date | None] = mapped_column(Date)
    bid_deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    award_on: Mapped[dt.date | None] = mapped_column(Date)
    estimated_price: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 招标控制价, yuan
    award_price: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 中标价, yuan
    award_criterion: Mapped[str | None] = mapped_column(String(20))  # domain.risk.register.AwardCriterion
    tenderer: Mapped[str | None] = mapped_column(String(limits.TITLE_MAX))
    agent: Mapped[str | None] = mapped_column(String(limits.TITLE_MAX))
    winner_code: Mapped[str | None] = mapped_column(String(limits.ENTITY_CODE_MAX))


class SampleDraw(Base):
    """The record of one department's verification draw, with the seed, so it can be re-run and audited."""

    __tablename__ = "sample_draw"
    # Round 1 is the first draw; a later round tops the sample up after the register grew.
    __table_args__ = (UniqueConstraint("campaign_id", "department_id", "round"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    seed: Mapped[int] = mapped_column(Integer)
    min_ratio: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    population: Mapped[int] = mapped_column(Integer)
    sampled_codes: Mapped[str] = mapped_column(Text)  # JSON list in draw order (this round's)
    drawn_on: Mapped[dt.date] = mapped_column(Date)
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    population_codes: Mapped[str | None] = mapped_column(Text)  # JSON: the register drawn from, for replay
    # Added by 0015: a risk-weighted round's method, settings, the scores it drew with and why each
    # project was chosen (JSON); NULL for a uniform round.
    risk_json: Mapped[str | None] = mapped_column(Text)


class Lead(Base):
    """A 线索 and the 案件 it becomes."""

    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        Index("ix_lead_department", "department_id"),  # the rollup's per-department counts
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(limits.LEDGER_CODE_MAX))
    source: Mapped[str] = mapped_column(String(20))  # domain.lead.LeadSource
    received_on: Mapped[dt.date] = mapped_column(Date)
    project_code: Mapped[str | None] = mapped_column(String(limits.PROJECT_CODE_MAX))
    category: Mapped[str] = mapped_column(String(limits.CATEGORY_MAX))
    summary: Mapped[str] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(limits.PERSON_NAME_MAX))  # confidential: office only
    reporter_phone: Mapped[str | None] = mapped_column(String(limits.PHONE_MAX))  # confidential: office only
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=LeadStatus.received.value)  # domain.lead.LEAD
    outcome: Mapped[str | None] = mapped_column(String(10))  # domain.lead.LeadOutcome
    enterprises_involved: Mapped[int] = mapped_column(Integer, default=0)
    people_dealt_with: Mapped[int] = mapped_column(Integer, default=0)
    fine_wan: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    measures: Mapped[str] = mapped_column(String(300), default="")  # 、-joined domain.lead.LeadMeasure values
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


# --- the supervision loop (0012, issue 13): 延期申请 and 催办 -------------------------------------


class ExtensionRequest(Base):
    """A department's request for a later deadline (domain.extension.EXTENSION); `seq` numbers the
    requests of one assignment, so two requests made at once cannot both be the next one."""

    __tablename__ = "extension_request"
    __table_args__ = (
        UniqueConstraint("assignment_id", "seq"),
        Index("ix_extension_request_campaign_state", "campaign_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_before: Mapped[dt.date] = mapped_column(Date)  # the effective deadline when asked
    asked_until: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=ExtensionState.pending.value)  # domain.extension.EXTENSION
    decided_by: Mapped[str | None] = mapped_column(String(limits.USERNAME_MAX))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_until: Mapped[dt.date | None] = mapped_column(Date)
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Urge(Base):
    """One 催办 of one assignment; the natural key (the assignment and the command that urged it) keeps
    a repeated click or a re-run command from urging twice."""

    __tablename__ = "urge"
    __table_args__ = (UniqueConstraint("natural_key"), Index("ix_urge_assignment", "assignment_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    natural_key: Mapped[str] = mapped_column(String(120))
    urged_by: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))
    urged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default="")


# --- bid register, red flags, credit (0015, issue 14) ----------------------------------------


class Bid(Base):
    """One bid of a project, with what the trading platform recorded when it was uploaded."""

    __tablename__ = "bid"
    __table_args__ = (
        UniqueConstraint("project_id", "bidder_code"),
        Index("ix_bid_campaign", "campaign_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    bidder_code: Mapped[str] = mapped_column(String(limits.ENTITY_CODE_MAX))  # 统一社会信用代码
    bidder_name: Mapped[str] = mapped_column(String(limits.TITLE_MAX))
    price: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # yuan
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    disqualify_reason: Mapped[str] = mapped_column(String(limits.REASON_MAX), default="")
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(limits.BID_IDENTIFIER_MAX))
    mac: Mapped[str | None] = mapped_column(String(limits.BID_IDENTIFIER_MAX))
    document_hash: Mapped[str | None] = mapped_column(String(limits.BID_IDENTIFIER_MAX))
    document_author: Mapped[str | None] = mapped_column(String(limits.BID_IDENTIFIER_MAX))
    deposit_account: Mapped[str | None] = mapped_column(String(limits.BID_IDENTIFIER_MAX))
    project_manager: Mapped[str | None] = mapped_column(String(limits.BID_IDENTIFIER_MAX))
    document_signature: Mapped[str | None] = mapped_column(Text)  # JSON MinHash signature of the bid's text


class EvaluationExpert(Base):
    """One member of a project's evaluation committee (评标委员会)."""

    __tablename__ = "evaluation_expert"
    __table_args__ = (UniqueConstraint("project_id", "expert"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    expert: Mapped[str] = mapped_column(String(limits.ENTITY_CODE_MAX))


class RiskFlag(Base):
    """One red flag of the campaign's latest scan (a scan replaces the previous scan's flags)."""

    __tablename__ = "risk_flag"
    __table_args__ = (Index("ix_risk_flag_campaign_rule", "campaign_id", "rule_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(limits.RULE_ID_MAX))
    entities: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of bidder codes
    evidence: Mapped[str] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 3))
    link_value: Mapped[str] = mapped_column(String(limits.BID_IDENTIFIER_MAX), default="")


class RiskAlert(Base):
    """A project whose risk score reached the alert score: the 预警 and the lead it became. The natural key
    (campaign, project) makes a project one lead however often the scan or the tick runs."""

    __tablename__ = "risk_alert"
    __table_args__ = (UniqueConstraint("campaign_id", "project_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    rules: Mapped[str] = mapped_column(String(300))  # 、-joined rule ids that raised it
    entities: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of bidder codes named by its flags
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    raised_on: Mapped[dt.date] = mapped_column(Date)


class MarketEntity(Base):
    """A bidder, agent or evaluation expert with its credit (量化记分) standing in a campaign."""

    __tablename__ = "market_entity"
    __table_args__ = (UniqueConstraint("campaign_id", "kind", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # domain.credit.EntityKind
    code: Mapped[str] = mapped_column(String(limits.ENTITY_CODE_MAX))
    name: Mapped[str] = mapped_column(String(limits.TITLE_MAX))
    points: Mapped[int] = mapped_column(Integer, default=0)  # valid points as of `updated_on`
    standing: Mapped[str] = mapped_column(String(10), default="normal")  # domain.credit.Standing
    rating: Mapped[str | None] = mapped_column(String(1))  # experts: A–D
    updated_on: Mapped[dt.date | None] = mapped_column(Date)


class CreditEvent(Base):
    """Points an entity received for one record (a confirmed lead, a problem); counted until `expires_on`."""

    __tablename__ = "credit_event"
    __table_args__ = (UniqueConstraint("campaign_id", "natural_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("market_entity.id", ondelete="CASCADE"))
    natural_key: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(limits.LEDGER_CODE_MAX))  # the lead or problem code
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)


# --- meetings (0014, issue 16) --------------------------------------------------------------


class Meeting(Base):
    """A 会商 or 例会 the office recorded (seed 002 二(二)2、二(三)3); numbered HY-nnnn per campaign."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(limits.LEDGER_CODE_MAX))
    kind: Mapped[str] = mapped_column(String(20))  # domain.meeting.MeetingKind
    title: Mapped[str] = mapped_column(String(limits.TITLE_MAX))
    held_on: Mapped[dt.date] = mapped_column(Date)
    attendees: Mapped[str] = mapped_column(Text, default="")  # 、-joined people or units present
    recorded_by: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class MeetingDecision(Base):
    """One decision of a meeting; once the office turns it into work, the template its assignments share."""

    __tablename__ = "meeting_decision"
    __table_args__ = (UniqueConstraint("meeting_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("task_template.id"))


# --- reports ---------------------------------------------------------------------------------


class ReportNarrative(Base):
    """The editable text of one monthly report; the figures and tables are computed, never stored.

    department_code '' is the office rollup (NULL would not be unique under a UNIQUE constraint).
    `version` is the optimistic lock: two editors of one report cannot silently overwrite each other.
    """

    __tablename__ = "report_narrative"
    __table_args__ = (UniqueConstraint("campaign_id", "period", "department_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    department_code: Mapped[str] = mapped_column(String(limits.CODE_MAX), default="")
    practices: Mapped[str] = mapped_column(Text, default="")  # 开展情况和主要做法
    problems: Mapped[str] = mapped_column(Text, default="")  # 发现的问题及处理情况
    experience: Mapped[str] = mapped_column(Text, default="")  # 可复制推广的典型经验
    next_steps: Mapped[str] = mapped_column(Text, default="")  # 下一步工作打算和意见建议
    updated_by: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: Mapping[str, Any] = {"version_id_col": version}


class GeneratedReport(Base):
    """A report the scheduled flow filed on its due date; the natural key stops a re-run filing it twice."""

    __tablename__ = "generated_report"
    __table_args__ = (UniqueConstraint("campaign_id", "period", "department_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    department_code: Mapped[str] = mapped_column(String(limits.CODE_MAX), default="")  # '' = the office rollup
    due_on: Mapped[dt.date] = mapped_column(Date)
    docx_path: Mapped[str] = mapped_column(String(limits.PATH_MAX))
    xlsx_path: Mapped[str] = mapped_column(String(limits.PATH_MAX))
    docx_sha256: Mapped[str] = mapped_column(String(64))
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# --- 督办单, 批示, 考核评分 (0013, issue 13) -------------------------------------------------------


class Duban(Base):
    """A 督办单: one per assignment and escalation level reached (一事一单), numbered per campaign."""

    __tablename__ = "duban"
    __table_args__ = (
        UniqueConstraint("assignment_id", "level"),
        UniqueConstraint("campaign_id", "seq"),
        Index("ix_duban_campaign_state", "campaign_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    level: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)  # from the campaign's "duban" counter
    number: Mapped[str] = mapped_column(String(limits.DOCUMENT_NUMBER_MAX))  # 雁督〔2020〕7号
    colour: Mapped[str] = mapped_column(String(10))  # domain.spec.DubanColour
    issued_on: Mapped[dt.date] = mapped_column(Date)
    nominal_due_on: Mapped[dt.date] = mapped_column(Date)  # 原定期限
    due_on: Mapped[dt.date] = mapped_column(Date)  # the deadline in force when issued (延期后期限 if moved)
    overdue_days: Mapped[int] = mapped_column(Integer)
    requirement: Mapped[str] = mapped_column(Text)  # 督办要求
    respond_due_on: Mapped[dt.date] = mapped_column(Date)  # 反馈期限
    state: Mapped[str] = mapped_column(String(10))  # domain.duban.DubanState
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(limits.USERNAME_MAX))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The office's 审阅 of the answer (已阅): it leaves the office's 待办 (services.duban.review).
    reviewed_by: Mapped[str | None] = mapped_column(String(limits.USERNAME_MAX))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Instruction(Base):
    """A leader's 批示 on a department's work, an assignment, a problem or a report. One that asks for
    action names the assignment it created (task_assignment_id); a note is answered by a reply."""

    __tablename__ = "instruction"
    __table_args__ = (
        UniqueConstraint("campaign_id", "seq"),
        Index("ix_instruction_department", "department_id", "state"),
        Index("ix_instruction_assignment", "assignment_id"),  # cleared when the assignment is deleted (0021)
        Index("ix_instruction_task_assignment", "task_assignment_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # from the campaign's "instruction" counter
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    subject: Mapped[str] = mapped_column(String(12))  # domain.instruction.InstructionSubject
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id", ondelete="SET NULL"))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problem.id", ondelete="SET NULL"))
    report_period: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM of the report written on
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # domain.instruction.InstructionKind
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    task_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id", ondelete="SET NULL"))
    written_by: Mapped[str] = mapped_column(String(limits.USERNAME_MAX))
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10))  # domain.instruction.InstructionState
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(limits.USERNAME_MAX))
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ScoreSnapshot(Base):
    """A department's 考核评分 on a day, computed from the records as of that day; the primary key is
    the natural key, so re-ticking a day rewrites identical rows."""

    __tablename__ = "score_snapshot"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), primary_key=True)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    rank: Mapped[int] = mapped_column(Integer)
    light: Mapped[str] = mapped_column(String(10))  # domain.assignment.Light
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of Chinese phrases
    overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    escalation_levels: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    unsigned: Mapped[int] = mapped_column(Integer, default=0)
    duban_unanswered: Mapped[int] = mapped_column(Integer, default=0)
    early: Mapped[int] = mapped_column(Integer, default=0)


class WebSession(Base):
    """A browser's login (0017): the cookie's token is kept only as its SHA-256; `handoff_hash` is the
    one-minute code the browser exchanges for that cookie; `ended_at` ends it in every tab."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DownloadTicket(Base):
    """A single-use download URL (0017), valid for minutes, bound to one web session and its user."""

    __tablename__ = "download_ticket"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("web_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # services.web_sessions.TicketKind
    attachment_id: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(limits.FILENAME_MAX))
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
