"""The monthly report's table of the red-flag rules' hit rates (issue 14): the office tunes the `risk:` thresholds
with it. A row per rule that raised a 预警; the rate is 查实 over closed leads."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from domain.lead import LEAD, LeadStatus
from exchange.docx_style import ReportTableRow


class RuleHitRow(ReportTableRow):
    table_title: ClassVar[str] = "大数据预警规则命中情况表"

    rule_id: str = Field(title="规则")
    title: str = Field(title="规则名称")
    alerts: int = Field(title="预警项目")
    closed: int = Field(title=LEAD.label(LeadStatus.closed))
    confirmed: int = Field(title="查实")
    rate: str = Field(title="命中率")
