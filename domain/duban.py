"""督办单 (supervision notices): their vocabulary, number and colour, and the answer they ask for.

One 督办单 per assignment and escalation level reached ("一事一单"); the department answers (反馈) by
its 反馈期限, a deadline counted in working days like any other."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from domain.calendar import WorkingCalendar
from domain.spec import DubanColour, DubanLevel, DubanPolicy
from domain.vocabulary import Vocabulary

DUBAN_COLOUR = Vocabulary(
    DubanColour,
    {DubanColour.blue: "蓝", DubanColour.yellow: "黄", DubanColour.orange: "橙", DubanColour.red: "红"},
)


class DubanState(StrEnum):
    issued = "issued"  # waiting for the department's 反馈
    answered = "answered"


DUBAN = Vocabulary(
    DubanState,
    {DubanState.issued: "待反馈", DubanState.answered: "已反馈"},
    transitions={DubanState.issued: (DubanState.answered,)},
)

# Colours by rung when the YAML names none for a level: 蓝 → 黄 → 红.
_DEFAULT_COLOURS = {1: DubanColour.blue, 2: DubanColour.yellow}


def level_style(policy: DubanPolicy, level: int) -> DubanLevel:
    """The prefix and colour of the 督办单 issued at an escalation level."""
    named = next((style for style in policy.levels if style.level == level), None)
    return named or DubanLevel(level=level, colour=_DEFAULT_COLOURS.get(level, DubanColour.red))


NUMBER_END = "号"


def number_head(prefix: str, year: int) -> str:
    """The part of a document number before its sequence: 雁督〔2020〕 (the tick numbers a set in SQL)."""
    return f"{prefix}〔{year}〕"


def duban_number(prefix: str, year: int, seq: int) -> str:
    """The document number as printed on the notice: 雁督〔2020〕7号."""
    return f"{number_head(prefix, year)}{seq}{NUMBER_END}"


# The message that tells a department of its 督办单 (natural key evt:duban:<assignment>:<level>), and the
# one that chases an answer past its 反馈期限 (the same key + LATE_ANSWER). Owed by the tick as sets of
# rows; their text is written when they are delivered (services.delivery.planning), from the notice.
MESSAGE_KEY = "evt:duban:"
LATE_ANSWER = "-late"


def notice_message(
    *, colour: str, number: str, level_name: str, overdue_days: int, respond_due_on: dt.date
) -> tuple[str, list[tuple[str, str]], str]:
    """(tag, facts, action) of the message that delivers a 督办单."""
    return (
        f"{DUBAN_COLOUR.label(colour)}色督办单",
        [("督办单编号", number), ("逾期工作日", str(overdue_days))],
        f"请于{respond_due_on:%Y年%m月%d日}前在系统中反馈办理情况（{number}，{level_name}）。",
    )


def late_answer_message(*, number: str, respond_due_on: dt.date) -> tuple[str, list[tuple[str, str]], str]:
    """(tag, facts, action) of the message sent once when a 督办单's 反馈期限 passed unanswered."""
    return (
        "督办单逾期未反馈",
        [("督办单编号", number)],
        f"督办单 {number} 的反馈期限（{respond_due_on:%Y年%m月%d日}）已过，请立即反馈办理情况，逾期未反馈纳入考核。",
    )


def respond_due(issued_on: dt.date, policy: DubanPolicy, cal: WorkingCalendar) -> dt.date:
    """反馈期限: the given number of working days after the day the notice was issued."""
    return cal.add_workdays(issued_on, policy.respond_within_working_days)


def unanswered_by(respond_due_on: dt.date, answered_on: dt.date | None, as_of: dt.date) -> bool:
    """Whether, on `as_of`, the notice is past its 反馈期限 with no answer given by then."""
    return as_of > respond_due_on and (answered_on is None or answered_on > respond_due_on)
