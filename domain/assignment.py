"""The assignment's (任务) one vocabulary: its states, their Chinese labels, the legal moves; and
the review state of a submission (报送材料) and the state of a phase (阶段)."""

from __future__ import annotations

from enum import StrEnum

from domain.vocabulary import Vocabulary


class AssignmentStatus(StrEnum):
    scheduled = "scheduled"  # planned, its phase or period has not opened yet
    open = "open"
    submitted = "submitted"  # waiting for office review
    returned = "returned"  # sent back by the office, reminders resume
    accepted = "accepted"
    cancelled = "cancelled"  # removed from the plan after work had started; kept for the record


S = AssignmentStatus
ASSIGNMENT = Vocabulary(
    AssignmentStatus,
    {
        S.scheduled: "未开始",
        S.open: "办理中",
        S.submitted: "待审核",
        S.returned: "已退回",
        S.accepted: "已通过",
        S.cancelled: "已撤销",
    },
    transitions={
        S.scheduled: (S.open, S.cancelled),
        S.open: (S.submitted, S.accepted, S.cancelled),  # accepted at once when the task needs no review
        S.submitted: (S.accepted, S.returned, S.cancelled),
        S.returned: (S.submitted, S.accepted, S.cancelled),
        S.accepted: (S.cancelled,),
    },
)

# Work the department still owes (reminders, overdue, escalation apply).
UNFINISHED: tuple[str, ...] = (S.open.value, S.returned.value)
# Work that counts as assigned on the boards (opened and not cancelled).
ACTIVE: tuple[str, ...] = (S.open.value, S.submitted.value, S.returned.value, S.accepted.value)
# Work handed in: waiting for review or accepted.
HANDED_IN: tuple[str, ...] = (S.submitted.value, S.accepted.value)


class SubmissionState(StrEnum):
    pending = "pending"
    accepted = "accepted"
    returned = "returned"


SUBMISSION = Vocabulary(
    SubmissionState,
    {SubmissionState.pending: "待审核", SubmissionState.accepted: "已通过", SubmissionState.returned: "已退回"},
    transitions={SubmissionState.pending: (SubmissionState.accepted, SubmissionState.returned)},
)


class PhaseState(StrEnum):
    pending = "pending"
    open = "open"
    closed = "closed"


PHASE_STATE = Vocabulary(
    PhaseState,
    {PhaseState.pending: "未开始", PhaseState.open: "进行中", PhaseState.closed: "已结束"},
    transitions={
        PhaseState.pending: (PhaseState.open, PhaseState.closed),
        PhaseState.open: (PhaseState.closed,),
        PhaseState.closed: (PhaseState.open,),
    },  # a changed YAML may move a phase's end later
)
