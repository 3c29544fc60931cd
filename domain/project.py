"""The supervised project's (监管项目) vocabulary: how it was tendered (招标方式)."""

from __future__ import annotations

from enum import StrEnum

from domain.vocabulary import Vocabulary


class TenderMethod(StrEnum):
    open = "open"
    invited = "invited"
    negotiation = "negotiation"
    consultation = "consultation"
    single_source = "single_source"
    inquiry = "inquiry"
    direct = "direct"
    other = "other"


T = TenderMethod
TENDER_METHOD = Vocabulary(
    TenderMethod,
    {
        T.open: "公开招标",
        T.invited: "邀请招标",
        T.negotiation: "竞争性谈判",
        T.consultation: "竞争性磋商",
        T.single_source: "单一来源",
        T.inquiry: "询价",
        T.direct: "直接发包",
        T.other: "其他",
    },
    aliases={
        "公开": T.open,
        "邀请": T.invited,
        "单一来源采购": T.single_source,
        "询价采购": T.inquiry,
        "其它": T.other,
    },
)
