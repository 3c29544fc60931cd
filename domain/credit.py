"""Credit (量化记分) and blacklist (联合惩戒) of market entities (issue 14 item 6), pure.

Entities — bidders, agents, evaluation experts — receive points for records behind them: a 大数据预警 lead found
查实 (each bidder its flags named, the project's agent, its evaluation experts), and a problem found on a project
(its winner and agent). Points count for `validity_days` from the record's day (the seed's 量化记分 has a validity
period); an entity's standing follows from the points still valid. Experts are rated A–D from theirs; C and D are
listed for suspension (seed 001 二(三)).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.vocabulary import Vocabulary


class EntityKind(StrEnum):
    bidder = "bidder"
    agent = "agent"
    expert = "expert"


ENTITY_KIND = Vocabulary(
    EntityKind, {EntityKind.bidder: "投标人", EntityKind.agent: "招标代理机构", EntityKind.expert: "评标专家"}
)


class Standing(StrEnum):
    normal = "normal"
    watch = "watch"  # 重点关注: more post-award checks, raises its projects' risk
    blacklist = "blacklist"  # 联合惩戒


STANDING = Vocabulary(
    Standing, {Standing.normal: "正常", Standing.watch: "重点关注", Standing.blacklist: "黑名单（联合惩戒）"}
)

SUSPENDED_RATINGS = ("C", "D")


class CreditRules(BaseModel):
    """The `risk.credit` section of the campaign YAML: points per record, validity and thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    confirmed_lead_points: int = Field(
        10, ge=0, le=100, description="大数据预警线索查实（含部分属实，同样记分）：预警所涉每个投标人各记的分"
    )
    agent_points: int = Field(5, ge=0, le=100, description="线索查实或发现问题的项目：其招标代理机构记的分")
    expert_points: int = Field(5, ge=0, le=100, description="线索查实的项目：每位评标专家记的分")
    problem_points: int = Field(5, ge=0, le=100, description="项目上发现问题（问题台账）：其中标人记的分")
    validity_days: int = Field(730, ge=1, le=3650, description="记分有效期（日历日），自记录之日起算；默认两年")
    watch_points: int = Field(10, ge=1, description="有效分达到此值列入重点关注名单（增加其项目的风险分）")
    blacklist_points: int = Field(30, ge=1, description="有效分达到此值列入黑名单（联合惩戒）")
    watch_weight: float = Field(
        0.3, ge=0, le=1, description="重点关注或黑名单主体参与的项目加的风险权重（与预警规则一样按 noisy-OR 合成）"
    )
    expert_rating_b: int = Field(1, ge=1, description="评标专家有效分达到此值评为 B")
    expert_rating_c: int = Field(10, ge=1, description="评标专家有效分达到此值评为 C（暂停评标资格）")
    expert_rating_d: int = Field(20, ge=1, description="评标专家有效分达到此值评为 D（暂停评标资格）")

    @model_validator(mode="after")
    def _ordered(self) -> CreditRules:
        if self.blacklist_points < self.watch_points:
            raise ValueError("blacklist_points 不能小于 watch_points")
        if not self.expert_rating_b <= self.expert_rating_c <= self.expert_rating_d:
            raise ValueError("专家评级分数线应满足 B ≤ C ≤ D")
        return self

    def standing(self, points: int) -> Standing:
        if points >= self.blacklist_points:
            return Standing.blacklist
        return Standing.watch if points >= self.watch_points else Standing.normal

    def expert_rating(self, points: int) -> str:
        if points >= self.expert_rating_d:
            return "D"
        if points >= self.expert_rating_c:
            return "C"
        return "B" if points >= self.expert_rating_b else "A"
