"""考核评分 and 红黄绿灯: a department's score from its record, its rank and its light, with reasons.

Pure: the counts come from the store (services.scoring, as of a date); the rules from the YAML
(`scoring:`, domain.spec.ScoringPolicy). Score = base − capped deductions + a capped bonus."""

from __future__ import annotations

from dataclasses import dataclass

from domain.assignment import Light
from domain.spec import ScoreRule, ScoringPolicy


@dataclass(frozen=True, slots=True)
class DepartmentRecord:
    """What a department's score is computed from, counted as of one day."""

    code: str
    name: str
    overdue_days: int = 0  # working days late, summed over its tasks
    escalation_levels: int = 0  # escalation rungs reached, summed over its tasks
    returned: int = 0  # submissions returned by the office
    unsigned: int = 0  # tasks not signed for within the time allowed
    duban_unanswered: int = 0  # 督办单 not answered by their 反馈期限
    early: int = 0  # tasks handed in before their due day


@dataclass(frozen=True, slots=True)
class DepartmentScore:
    code: str
    name: str
    score: float
    rank: int
    light: Light
    reasons: tuple[str, ...]


# (record field, YAML rule, wording, sign): the items of the score in the order reasons are given.
_ITEMS: tuple[tuple[str, str, str, int], ...] = (
    ("overdue_days", "overdue_day", "逾期 {n} 个工作日", -1),
    ("escalation_levels", "escalation_level", "升级 {n} 级次", -1),
    ("returned", "returned_submission", "退回 {n} 次", -1),
    ("unsigned", "unsigned", "超时未签收 {n} 项", -1),
    ("duban_unanswered", "duban_unanswered", "督办单逾期未反馈 {n} 份", -1),
    ("early", "early_completion", "提前完成 {n} 项", 1),
)


def _points(rule: ScoreRule, n: int) -> float:
    return round(min(rule.points * n, rule.cap), 2)


def _number(x: float) -> str:
    return f"{x:g}"


def light_of(score: float, policy: ScoringPolicy) -> Light:
    if score >= policy.lights.green:
        return Light.green
    return Light.yellow if score >= policy.lights.yellow else Light.red


def score_one(record: DepartmentRecord, policy: ScoringPolicy) -> tuple[float, tuple[str, ...]]:
    """The score and the reasons for it (each item that moved it, with its points)."""
    score = policy.base
    reasons: list[str] = []
    for attr, rule_name, wording, sign in _ITEMS:
        n = getattr(record, attr)
        if n <= 0:
            continue
        points = _points(getattr(policy, rule_name), n)
        if points == 0:
            continue
        score += sign * points
        reasons.append(f"{wording.format(n=n)} {'+' if sign > 0 else '−'}{_number(points)}")
    return round(score, 2), tuple(reasons)


def rank(records: list[DepartmentRecord], policy: ScoringPolicy) -> list[DepartmentScore]:
    """Every department's score, best first; equal scores share a rank (1, 2, 2, 4), ties listed by code."""
    scored = [(record, *score_one(record, policy)) for record in records]
    scored.sort(key=lambda item: (-item[1], item[0].code))
    out: list[DepartmentScore] = []
    for i, (record, score, reasons) in enumerate(scored):
        place = out[-1].rank if out and out[-1].score == score else i + 1
        light = light_of(score, policy)
        why = reasons or ("无扣分",)
        out.append(DepartmentScore(record.code, record.name, score, place, light, why))
    return out
