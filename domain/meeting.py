"""Meetings (会商 / 例会, seed 002 二(二)2、二(三)3): the kinds of meeting the office records, and the
template keys of the assignments a meeting's decisions become."""

from __future__ import annotations

from enum import StrEnum

from domain.vocabulary import Vocabulary


class MeetingKind(StrEnum):
    consultation = "consultation"  # 会商：several departments settle a matter together
    regular = "regular"  # 例会：the standing meeting (办公会议、数据分析例会)


MEETING_KIND = Vocabulary(
    MeetingKind,
    {MeetingKind.consultation: "会商", MeetingKind.regular: "例会"},
    aliases={"会商会": MeetingKind.consultation, "办公会议": MeetingKind.regular, "数据分析例会": MeetingKind.regular},
)

ATTENDEES_MAX = 50  # people or units named as present at one meeting
DECISIONS_MAX = 30  # decisions one meeting records


def meeting_code(number: int) -> str:
    """The code of a campaign's `number`-th recorded meeting: HY-0001 (会议)."""
    return f"HY-{number:04d}"
