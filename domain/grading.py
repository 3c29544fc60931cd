"""The one grade rule: how far behind a department (or a department × phase cell) is, from its
counted work on a day. Boards (overview donut, department table, heat map, drill-down), the 通报
draft and `campaign status` all call `grade`; the lights are its colours.

The rule, in order (first match wins):

1. 未布置 — nothing is assigned: the cell is blank, with this as its reason (not 0 %).
2. 严重滞后 — outstanding work has reached the escalation rung 通报批评 or beyond
   (`CRITICISM_LEVEL`), or a third or more of the work due by the day is overdue.
3. 滞后 — any work is overdue, or outstanding work has reached the first rung (预警).
4. 未到期 — work is assigned but none of it is due yet: neutral (grey), neither good nor bad.
5. 正常 — everything due is handed in or still within its deadline.

Only overdue and escalated work makes a grade worse: work not yet due never does, and the
completion rate (accepted / assigned) is shown beside the grade, not folded into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CRITICISM_LEVEL = 2  # 通报批评 in the ladders of the seeds: from this level a department is named in the 通报
SERIOUS_OVERDUE_SHARE = 1 / 3  # overdue / due from which work is seriously behind


class Grade(StrEnum):
    """The grade's value is its Chinese label (the boards and the reports print it as is)."""

    green = "正常"
    yellow = "滞后"
    red = "严重滞后"
    not_due = "未到期"
    unassigned = "未布置"


# What each grade says, for a tooltip or a legend.
GRADE_REASONS: dict[Grade, str] = {
    Grade.green: "到期任务均已按时提交或仍在期限内",
    Grade.yellow: "有逾期任务，或已达预警",
    Grade.red: "逾期任务达到期任务的三分之一，或已达通报批评及以上",
    Grade.not_due: "已布置任务均未到截止日期",
    Grade.unassigned: "本阶段未给该部门布置任务",
}

# Grades that say how a department is doing (the others say there is nothing to judge yet).
JUDGED: tuple[Grade, ...] = (Grade.green, Grade.yellow, Grade.red)


@dataclass(frozen=True, slots=True)
class Standing:
    """What the rule reads: work assigned, due by the day, overdue (unfinished), and the highest
    escalation rung reached by work still outstanding."""

    assigned: int = 0
    due: int = 0
    overdue: int = 0
    escalation_level: int = 0


def grade(s: Standing) -> Grade:
    """The grade of one department or one department × phase cell (the module's rule)."""
    if s.assigned <= 0:
        return Grade.unassigned
    due = max(s.due, s.overdue)  # overdue work is due work, whatever an older snapshot counted
    if s.escalation_level >= CRITICISM_LEVEL or (due and s.overdue / due >= SERIOUS_OVERDUE_SHARE):
        return Grade.red
    if s.overdue > 0 or s.escalation_level >= 1:
        return Grade.yellow
    if due == 0:
        return Grade.not_due
    return Grade.green


def criticised(escalation_level: int) -> bool:
    """Named for criticism in a 通报: outstanding work has reached 通报批评 or beyond."""
    return escalation_level >= CRITICISM_LEVEL
