"""A project's risk score from its flags.

Formula (documented for the office and the report): for each rule r that hit the project, take its weight w_r
(the largest weight among that rule's flags on the project; repeated hits of one rule do not add up), then

    score = 100 × (1 − ∏_r (1 − w_r))

a noisy-OR: the chance that at least one independent signal is real. It is 0 without flags, never exceeds 100,
grows with every further rule, and a single rule scores exactly 100·w_r. With the default weights and alert score
60, the strongest 条例第四十条 traces (one computer, one file, one deposit account, one project manager, near-duplicate
documents) alert alone; a shared IP or author or a price sequence needs a second signal (e.g. NET: the same group
again); cardinal-style indicators need three together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from domain.risk.rules import Flag


@dataclass(frozen=True, slots=True)
class ProjectRisk:
    project_code: str
    department_code: str
    score: float
    flags: tuple[Flag, ...]

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(sorted({f.rule_id for f in self.flags}))


def combine(weights: Iterable[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return round(100.0 * (1.0 - remaining), 1)


def project_score(flags: Iterable[Flag]) -> float:
    strongest: dict[str, float] = {}
    for flag in flags:
        strongest[flag.rule_id] = max(strongest.get(flag.rule_id, 0.0), flag.weight)
    return combine(strongest.values())


def score_projects(flags: Iterable[Flag], departments: dict[str, str]) -> dict[str, ProjectRisk]:
    """Every flagged project's risk, keyed by project code (`departments`: project code → department code)."""
    by_project: dict[str, list[Flag]] = defaultdict(list)
    for flag in flags:
        by_project[flag.project_code].append(flag)
    return {
        code: ProjectRisk(
            code,
            departments.get(code, ""),
            project_score(found),
            tuple(sorted(found, key=lambda f: (-f.weight, f.rule_id))),
        )
        for code, found in by_project.items()
    }
