"""The YAML's `risk:` section (issue 14): absent, a campaign dumps and plans as before; present, it plans the same
tasks and carries the documented defaults; credit standings and expert ratings follow the thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.credit import CreditRules, Standing
from domain.plan import build_plan
from domain.risk.policy import RiskSection
from domain.risk.thresholds import RiskSettings
from domain.spec import CampaignSpec
from services.holidays import campaign_calendar
from services.spec_files import json_schema, load_spec

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "config" / "campaigns").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_risk_section_changes_no_plan_and_its_absence_no_dump(path):
    spec = load_spec(path)
    assert "risk" not in spec.model_dump() and '"risk"' not in spec.model_dump_json()
    data = spec.model_dump(mode="json")
    data["risk"] = {"alert_score": 50, "lead_working_days": 5}
    screened = CampaignSpec.model_validate(data)
    assert screened.risk is not None and screened.risk.alert_score == 50
    before = build_plan(spec, campaign_calendar(spec))
    after = build_plan(screened, campaign_calendar(screened))
    assert before.templates == after.templates and before.assignments == after.assignments


def test_the_section_keeps_the_scan_defaults_and_refuses_unknown_keys():
    section = RiskSection()
    assert section.model_dump(exclude={"lead_working_days", "credit"}) == RiskSettings().model_dump()
    assert section.lead_working_days == 10 and section.credit == CreditRules()
    with pytest.raises(ValidationError):
        RiskSection.model_validate({"alert_scor": 50})
    with pytest.raises(ValidationError):
        RiskSection.model_validate({"weights": {"R999": 0.5}})
    assert "RiskSection" in json_schema() and "限时办结" in json_schema()


def test_standing_and_expert_rating_follow_the_thresholds():
    rules = CreditRules(watch_points=10, blacklist_points=30, expert_rating_b=1, expert_rating_c=10, expert_rating_d=20)
    assert [rules.standing(p) for p in (0, 9, 10, 29, 30)] == [
        Standing.normal,
        Standing.normal,
        Standing.watch,
        Standing.watch,
        Standing.blacklist,
    ]
    assert [rules.expert_rating(p) for p in (0, 1, 9, 10, 19, 20)] == ["A", "B", "B", "C", "C", "D"]
    with pytest.raises(ValidationError):
        CreditRules(watch_points=30, blacklist_points=10)
    with pytest.raises(ValidationError):
        CreditRules(expert_rating_c=30, expert_rating_d=20)
