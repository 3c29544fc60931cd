"""批示 (a leader's instruction): what it is written on, whether it asks for action, and its state.

An instruction that asks for action (a due date given, or the YAML default) becomes a tracked
assignment of the addressed department (source 批示); one that does not is a note the department
answers with a reply."""

from __future__ import annotations

from enum import StrEnum

from domain.vocabulary import Vocabulary


class InstructionSubject(StrEnum):
    """What the leader wrote the instruction on."""

    department = "department"
    assignment = "assignment"
    problem = "problem"
    report = "report"


INSTRUCTION_SUBJECT = Vocabulary(
    InstructionSubject,
    {
        InstructionSubject.department: "部门工作",
        InstructionSubject.assignment: "任务",
        InstructionSubject.problem: "问题",
        InstructionSubject.report: "报告",
    },
)


class InstructionKind(StrEnum):
    task = "task"  # 交办：a new tracked assignment, answered by its submission
    note = "note"  # 阅知：answered by a reply


INSTRUCTION_KIND = Vocabulary(InstructionKind, {InstructionKind.task: "交办办理", InstructionKind.note: "阅知"})


class InstructionState(StrEnum):
    open = "open"
    answered = "answered"


INSTRUCTION_STATE = Vocabulary(
    InstructionState,
    {InstructionState.open: "待办理", InstructionState.answered: "已答复"},
    transitions={InstructionState.open: (InstructionState.answered,)},
)


class AssignmentSource(StrEnum):
    """Where an assignment came from (Assignment.source): the plan, or a leader's 批示."""

    plan = "plan"
    instruction = "instruction"


ASSIGNMENT_SOURCE = Vocabulary(
    AssignmentSource, {AssignmentSource.plan: "方案任务", AssignmentSource.instruction: "批示"}
)

INSTRUCTION_TEXT_MAX = 2000  # characters of one instruction or reply (kept in a TEXT column)
