"""The lead's (线索) one vocabulary: states, sources, findings and measures, in Chinese."""

from __future__ import annotations

from enum import StrEnum

from domain.vocabulary import Vocabulary


class LeadStatus(StrEnum):
    received = "received"  # 已受理: waiting for the office to assign it
    assigned = "assigned"  # 查办中 at the responsible department
    reported = "reported"  # the department reported its finding: 待办结审核
    closed = "closed"


L = LeadStatus
LEAD = Vocabulary(
    LeadStatus,
    {L.received: "已受理", L.assigned: "查办中", L.reported: "待办结审核", L.closed: "已办结"},
    transitions={
        L.received: (L.assigned,),
        L.assigned: (L.assigned, L.reported, L.closed),  # re-assigned; reported; closed by the office itself
        L.reported: (L.closed,),
    },
)


class LeadSource(StrEnum):
    """Stored as the Chinese word (the column has always held it)."""

    report = "举报"
    inspection = "核查发现"
    big_data = "大数据预警"
    assigned = "上级交办"


LEAD_SOURCE = Vocabulary(
    LeadSource,
    {s: s.value for s in LeadSource},
    aliases={
        "信访举报": LeadSource.report,
        "投诉举报": LeadSource.report,
        "投诉": LeadSource.report,
        "信访": LeadSource.report,
        "核查": LeadSource.inspection,
        "自查发现": LeadSource.inspection,
        "大数据": LeadSource.big_data,
        "预警": LeadSource.big_data,
        "交办": LeadSource.assigned,
        "上级转办": LeadSource.assigned,
        "转办": LeadSource.assigned,
    },
)


class LeadOutcome(StrEnum):
    confirmed = "查实"
    partly = "部分属实"  # some of what the lead alleged was found (issue 14 item 5); measures as for 查实
    unfounded = "不实"


# How a finding reads in a report's table (属实 / 部分属实 / 不属实).
LEAD_OUTCOME = Vocabulary(
    LeadOutcome,
    {LeadOutcome.confirmed: "属实", LeadOutcome.partly: "部分属实", LeadOutcome.unfounded: "不属实"},
)

# The outcomes that count as substantiated (查实 in figures, credit points, rule hit rates): 部分属实 counts in
# full, like 查实 — the lead was borne out, even if only in part.
SUBSTANTIATED: frozenset[str] = frozenset({LeadOutcome.confirmed.value, LeadOutcome.partly.value})


class LeadMeasure(StrEnum):
    fine = "罚款"
    bar_from_bidding = "取消投标资格"
    blacklist = "列入黑名单"
    refer_police = "移送公安机关"
    refer_discipline = "移送纪检监察机关"


LEAD_MEASURE = Vocabulary(LeadMeasure, {m: m.value for m in LeadMeasure})
