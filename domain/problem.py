"""The problem's (整改台账问题) one vocabulary: states and close-out (销号) moves, categories,
handling classes and the events of its history."""

from __future__ import annotations

from enum import StrEnum

from domain.vocabulary import Vocabulary


class ProblemStatus(StrEnum):
    open = "open"  # 整改中
    closing = "closing"  # 销号 requested, waiting for the office
    closed = "closed"  # 已销号


P = ProblemStatus
PROBLEM = Vocabulary(
    ProblemStatus,
    {P.open: "整改中", P.closing: "待销号审核", P.closed: "已销号"},
    transitions={P.open: (P.closing,), P.closing: (P.closed, P.open), P.closed: (P.open,)},  # closed→open: 反弹
)


class ProblemCategory(StrEnum):
    """Stored as the Chinese word. 转包 and 违法分包 are two categories (招标投标法 第五十八条)."""

    evasion = "规避招标"
    collusion = "围标串标"
    fraud = "弄虚作假"
    subcontract_transfer = "转包"
    illegal_subcontracting = "违法分包"
    expert_misconduct = "评标专家违规"
    agent_misconduct = "代理机构违规"
    interference = "插手干预"
    other = "其他"


PROBLEM_CATEGORY = Vocabulary(
    ProblemCategory,
    {c: c.value for c in ProblemCategory},
    aliases={
        "其它": ProblemCategory.other,
        "串通投标": ProblemCategory.collusion,
        "围标": ProblemCategory.collusion,
        "串标": ProblemCategory.collusion,
        # The retired combined word: stored rows were split to 违法分包 by migration 0006, old files read the same.
        "转包/违法分包": ProblemCategory.illegal_subcontracting,
    },
)


class HandlingClass(StrEnum):
    immediate = "立行立改"
    time_limited = "限时整改"
    roadmap = "制定时间表路线图"


HANDLING_CLASS = Vocabulary(HandlingClass, {h: h.value for h in HandlingClass})


class ProblemEvent(StrEnum):
    found = "found"
    request_close = "request_close"
    approve = "approve"
    reject = "reject"
    rebound = "rebound"


PROBLEM_EVENT = Vocabulary(
    ProblemEvent,
    {
        ProblemEvent.found: "登记问题",
        ProblemEvent.request_close: "申请销号",
        ProblemEvent.approve: "同意销号",
        ProblemEvent.reject: "驳回销号申请",
        ProblemEvent.rebound: "回头看认定反弹",
    },
)

# Which event moves a problem from which state to which.
EVENT_MOVES: dict[ProblemEvent, tuple[ProblemStatus, ProblemStatus]] = {
    ProblemEvent.request_close: (P.open, P.closing),
    ProblemEvent.approve: (P.closing, P.closed),
    ProblemEvent.reject: (P.closing, P.open),
    ProblemEvent.rebound: (P.closed, P.open),
}
