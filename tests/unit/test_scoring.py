"""考核评分 rules (pure): deductions and the bonus capped per item, lights by threshold, shared ranks."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.assignment import Light
from domain.duban import duban_number, level_style, unanswered_by
from domain.scoring import DepartmentRecord, light_of, rank, score_one
from domain.spec import DubanColour, DubanLevel, DubanPolicy, InstructionPolicy, ScoreRule, ScoringPolicy
from services.spec_files import load_spec
from tests.conftest import SPEC_PATH

POLICY = ScoringPolicy(
    base=100,
    overdue_day=ScoreRule(points=1, cap=20),
    escalation_level=ScoreRule(points=3, cap=9),
    returned_submission=ScoreRule(points=2, cap=10),
    unsigned=ScoreRule(points=1, cap=5),
    duban_unanswered=ScoreRule(points=4, cap=8),
    early_completion=ScoreRule(points=0.5, cap=2),
)


def test_each_item_moves_the_score_by_its_points_up_to_its_cap():
    record = DepartmentRecord(
        "a", "甲", overdue_days=30, escalation_levels=2, returned=1, unsigned=1, duban_unanswered=5, early=10
    )
    score, reasons = score_one(record, POLICY)
    assert score == 100 - 20 - 6 - 2 - 1 - 8 + 2
    assert reasons == (
        "逾期 30 个工作日 −20",
        "升级 2 级次 −6",
        "退回 1 次 −2",
        "超时未签收 1 项 −1",
        "督办单逾期未反馈 5 份 −8",
        "提前完成 10 项 +2",
    )


def test_a_clean_record_keeps_the_base_and_says_so():
    assert score_one(DepartmentRecord("a", "甲"), POLICY) == (100, ())
    assert rank([DepartmentRecord("a", "甲")], POLICY)[0].reasons == ("无扣分",)


@pytest.mark.parametrize(
    ("score", "light"),
    [(100, Light.green), (90, Light.green), (89.5, Light.yellow), (75, Light.yellow), (74.9, Light.red)],
)
def test_lights_follow_the_thresholds(score, light):
    assert light_of(score, POLICY) == light


def test_equal_scores_share_a_rank_and_the_next_rank_skips():
    records = [
        DepartmentRecord("c", "丙", overdue_days=5),
        DepartmentRecord("a", "甲"),
        DepartmentRecord("b", "乙"),
        DepartmentRecord("d", "丁", overdue_days=30, duban_unanswered=2),
    ]
    ranked = rank(records, POLICY)
    assert [(r.code, r.rank, r.score, r.light) for r in ranked] == [
        ("a", 1, 100, Light.green),
        ("b", 1, 100, Light.green),
        ("c", 3, 95, Light.green),
        ("d", 4, 72, Light.red),
    ]


def test_yaml_thresholds_must_be_ordered():
    with pytest.raises(ValueError, match="yellow"):
        ScoringPolicy.model_validate({"lights": {"green": 70, "yellow": 80}})


def test_the_defaults_stay_out_of_the_dump_so_older_specs_keep_their_digest():
    spec = load_spec(SPEC_PATH).model_copy(
        update={"duban": DubanPolicy(), "instructions": InstructionPolicy(), "scoring": ScoringPolicy()}
    )
    assert not {"duban", "instructions", "scoring"} & set(spec.model_dump())
    changed = spec.model_copy(update={"scoring": POLICY})
    assert "scoring" in changed.model_dump()


def test_duban_style_number_and_late_answer_rules():
    policy = DubanPolicy(levels=(DubanLevel(level=2, prefix="雁督", colour="红"),))
    assert (level_style(policy, 2).prefix, level_style(policy, 2).colour) == ("雁督", DubanColour.red)
    assert (level_style(policy, 1).prefix, level_style(policy, 1).colour) == ("督办", DubanColour.blue)  # defaults
    assert level_style(DubanPolicy(), 3).colour == DubanColour.red
    assert duban_number("雁督", 2020, 7) == "雁督〔2020〕7号"
    due = dt.date(2020, 7, 10)
    assert not unanswered_by(due, None, due)  # on the day itself it may still be answered
    assert unanswered_by(due, None, due + dt.timedelta(days=1))
    assert unanswered_by(due, due + dt.timedelta(days=2), due + dt.timedelta(days=5))  # answered late: still counts
    assert not unanswered_by(due, due, due + dt.timedelta(days=5))
