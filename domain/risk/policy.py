"""The campaign YAML's `risk:` section: the scan's thresholds (RiskSettings, every default documented there),
what a 预警 becomes (a lead with a time limit in working days) and the credit rules (domain.credit)."""

from __future__ import annotations

from pydantic import Field

from domain.credit import CreditRules
from domain.risk.thresholds import RiskSettings


class RiskSection(RiskSettings):
    """A campaign with this section screens its bid register: projects scoring at least `alert_score` become
    大数据预警 leads, the verification draw is risk-weighted, and market entities accumulate credit points."""

    lead_working_days: int = Field(
        10, ge=1, le=250, description="预警线索交办责任部门后的办理时限（工作日，限时办结）；默认 10 个工作日"
    )
    credit: CreditRules = Field(default_factory=CreditRules, description="量化记分与黑名单规则")
