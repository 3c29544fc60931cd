"""One scan of a register: every rule, the collusion groups, the NET flags, the scores and a summary per rule."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from domain.risk.network import CollusionGroup, collusion_groups, network_flags
from domain.risk.register import Register
from domain.risk.rules import POPULATION_RULES, PROJECT_RULES, RULES, Flag
from domain.risk.scoring import ProjectRisk, score_projects
from domain.risk.thresholds import RiskSettings


@dataclass(frozen=True, slots=True)
class RuleSummary:
    rule_id: str
    title: str
    basis: str
    flags: int
    projects: int


@dataclass(frozen=True)
class RiskScan:
    flags: tuple[Flag, ...]
    risks: dict[str, ProjectRisk]  # flagged projects only
    groups: tuple[CollusionGroup, ...]
    alert_score: float

    def alerts(self) -> list[ProjectRisk]:
        """Projects at or above the alert score, highest first: the 预警 that become leads."""
        found = [r for r in self.risks.values() if r.score >= self.alert_score]
        return sorted(found, key=lambda r: (-r.score, r.project_code))

    def score(self, project_code: str) -> float:
        risk = self.risks.get(project_code)
        return risk.score if risk is not None else 0.0

    def summary(self) -> list[RuleSummary]:
        flags: dict[str, int] = defaultdict(int)
        projects: dict[str, set[str]] = defaultdict(set)
        for flag in self.flags:
            flags[flag.rule_id] += 1
            projects[flag.rule_id].add(flag.project_code)
        return [
            RuleSummary(rule_id, info.title, info.basis, flags[rule_id], len(projects[rule_id]))
            for rule_id, info in RULES.items()
        ]


def scan(register: Register, settings: RiskSettings) -> RiskScan:
    flags: list[Flag] = []
    for project in register.projects:
        bids = register.bids(project.code)
        for rule in PROJECT_RULES:
            flags.extend(rule(project, bids, settings))
    for population_rule in POPULATION_RULES:
        flags.extend(population_rule(register, settings))
    groups = collusion_groups(register, flags, settings)
    flags.extend(network_flags(register, groups, settings))
    departments = {p.code: p.department_code for p in register.projects}
    return RiskScan(tuple(flags), score_projects(flags, departments), tuple(groups), settings.alert_score)
