"""The extension request's (延期申请) one vocabulary, and the YAML policy's rule for a new request (pure).

A department asks for a later deadline with a reason; the approver named by the YAML
(`extensions.approver`: the office or the leaders) approves, possibly with an earlier date than
asked, or rejects. Only an approved request moves the assignment's deadline; the first deadline
stays on record as the assignment's `original_due_on`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from domain.calendar import WorkingCalendar
from domain.vocabulary import Vocabulary


class ExtensionState(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


EXTENSION = Vocabulary(
    ExtensionState,
    {ExtensionState.pending: "待审批", ExtensionState.approved: "已批准", ExtensionState.rejected: "已驳回"},
    transitions={ExtensionState.pending: (ExtensionState.approved, ExtensionState.rejected)},
)
# Requests that count against `extensions.max_per_assignment` (a rejected one does not).
COUNTED: tuple[str, ...] = (ExtensionState.pending.value, ExtensionState.approved.value)


class ExtensionApprover(StrEnum):
    office = "office"
    leaders = "leaders"


APPROVER = Vocabulary(ExtensionApprover, {ExtensionApprover.office: "牵头办公室", ExtensionApprover.leaders: "领导"})


def request_refusal(
    *,
    asked_until: dt.date,
    current_due: dt.date,
    original_due: dt.date,
    counted_requests: int,
    has_pending: bool,
    max_per_assignment: int,
    max_working_days: int,
    cal: WorkingCalendar,
) -> str | None:
    """Why a new request may not be made (None: it may). The limit on working days is counted from
    the original deadline, so several extensions together never exceed it."""
    if has_pending:
        return "该任务已有一份待审批的延期申请，请等待审批结果"
    if counted_requests >= max_per_assignment:
        return f"每项任务最多申请延期 {max_per_assignment} 次，已达上限"
    return date_refusal(asked_until, current_due, original_due, max_working_days, cal)


def date_refusal(
    until: dt.date, current_due: dt.date, original_due: dt.date, max_working_days: int, cal: WorkingCalendar
) -> str | None:
    """Why `until` cannot be the new deadline (None: it can)."""
    if until <= current_due:
        return f"延期后的日期 {until} 应晚于当前截止日期 {current_due}"
    latest = cal.add_workdays(original_due, max_working_days)
    if until > latest:
        return (
            f"延期最多 {max_working_days} 个工作日（自原定截止日期 {original_due} 起算，最晚 {latest}），"
            f"申请的 {until} 超出上限"
        )
    if not cal.is_workday(until):
        return f"延期后的日期 {until} 不是工作日"
    return None
