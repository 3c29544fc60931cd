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
        # back to open (or returned) when the department withdraws a submission not yet reviewed (撤回)
        S.submitted: (S.accepted, S.returned, S.cancelled, S.open),
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
    withdrawn = "withdrawn"  # taken back by the department before review (撤回)


SUBMISSION = Vocabulary(
    SubmissionState,
    {
        SubmissionState.pending: "待审核",
        SubmissionState.accepted: "已通过",
        SubmissionState.returned: "已退回",
        SubmissionState.withdrawn: "已撤回",
    },
    transitions={
        SubmissionState.pending: (SubmissionState.accepted, SubmissionState.returned, SubmissionState.withdrawn)
    },
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


# --- the assignment's light (红黄绿灯), issue 13 -------------------------------------------------


class Light(StrEnum):
    green = "green"  # on track (or handed in)
    yellow = "yellow"  # due within the YAML's warning window, or returned for rework
    red = "red"  # overdue


LIGHT = Vocabulary(Light, {Light.green: "绿", Light.yellow: "黄", Light.red: "红"})

# Working days before the deadline from which an unfinished assignment shows yellow, when the YAML's
# `yellow_light_within_working_days` is not given.
DEFAULT_YELLOW_WITHIN_WORKING_DAYS = 3


def light(
    status: str,
    working_days_left: int,
    overdue_working_days: int,
    yellow_within: int = DEFAULT_YELLOW_WITHIN_WORKING_DAYS,
) -> Light | None:
    """The light of one assignment from its standing on a day (domain.rules.standing of its
    effective deadline): red when work still owed is overdue, yellow when it was returned or is due
    within `yellow_within` working days, green otherwise. A cancelled assignment has none."""
    if status == S.cancelled:
        return None
    if status not in UNFINISHED:
        return Light.green
    if overdue_working_days > 0:
        return Light.red
    if status == S.returned or working_days_left <= yellow_within:
        return Light.yellow
    return Light.green
