"""Risk-weighted verification draw (issue 14 item 4).

Per department, from its register of supervised projects with their risk scores:
1. every project whose score reaches `always_score` is drawn (reason: risk) — even beyond the ratio;
2. the rest of the quota, ceil(ratio × register) as in `domain.sampling.sample_size`, is drawn among the
   remaining projects by weighted random sampling without replacement (Efraimidis & Spirakis, 2006): each project
   gets the key ln(u) / w with w = base_weight + score and u ∈ (0, 1) taken from SHA-256 of
   (seed, department, project code); the largest keys are drawn (reason: random). A higher score makes a project
   more likely to be drawn; a zero score keeps a chance of base_weight / (base_weight + score) relative weight.

The draw is a pure function of (seed, department, codes, scores, ratio, settings) and does not depend on the
input order, so replaying a recorded draw (seed and the scores recorded with it) returns the same projects.
`already_sampled` makes a top-up after the register grew: earlier picks count toward the quota and are not redrawn.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.sampling import sample_size
from domain.vocabulary import Vocabulary


class DrawReason(StrEnum):
    risk = "risk"
    random = "random"


DRAW_REASON = Vocabulary(DrawReason, {DrawReason.risk: "风险必抽", DrawReason.random: "加权随机"})


@dataclass(frozen=True, slots=True)
class Candidate:
    project_code: str
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Pick:
    project_code: str
    department_code: str
    reason: DrawReason
    score: float
    key: float  # the weighted-sampling key (0 for risk picks)

    def explanation(self, always_score: float, base_weight: float) -> str:
        if self.reason == DrawReason.risk:
            return f"风险分 {self.score:.1f} 达到必抽线 {always_score:.0f}，必抽"
        return f"按风险加权随机抽中（风险分 {self.score:.1f}，权重 {base_weight + self.score:.1f}）"


def uniform(seed: int, department_code: str, project_code: str) -> float:
    """A number in (0, 1) fixed by the seed, the department and the project."""
    digest = hashlib.sha256(f"{seed}|{department_code}|{project_code}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / 2.0**64


def weighted_key(seed: int, department_code: str, project_code: str, weight: float) -> float:
    return math.log(uniform(seed, department_code, project_code)) / weight


def draw_department(
    candidates: Iterable[Candidate],
    min_ratio: float,
    seed: int,
    department_code: str,
    *,
    always_score: float,
    base_weight: float,
    already_sampled: Iterable[str] = (),
) -> list[Pick]:
    """The projects to draw now: risk picks (score order), then random picks (key order)."""
    scores: dict[str, float] = {}
    for candidate in candidates:
        scores[candidate.project_code] = max(scores.get(candidate.project_code, 0.0), candidate.score)
    done = set(already_sampled) & scores.keys()
    must = sorted((c for c, s in scores.items() if s >= always_score and c not in done), key=lambda c: (-scores[c], c))
    picks = [Pick(c, department_code, DrawReason.risk, scores[c], 0.0) for c in must]
    slots = sample_size(len(scores), min_ratio) - len(done) - len(must)
    if slots > 0:
        rest = [c for c in sorted(scores) if c not in done and scores[c] < always_score]
        keyed = sorted(
            ((weighted_key(seed, department_code, c, base_weight + scores[c]), c) for c in rest), reverse=True
        )
        picks.extend(Pick(c, department_code, DrawReason.random, scores[c], key) for key, c in keyed[:slots])
    return picks


def draw_register(
    candidates_by_department: Mapping[str, Iterable[Candidate]],
    min_ratio: float,
    seed: int,
    *,
    always_score: float,
    base_weight: float,
    already_sampled: Iterable[str] = (),
) -> dict[str, list[Pick]]:
    """`draw_department` for every department (each with its own quota)."""
    earlier = set(already_sampled)
    return {
        department: draw_department(
            found,
            min_ratio,
            seed,
            department,
            always_score=always_score,
            base_weight=base_weight,
            already_sampled=earlier,
        )
        for department, found in sorted(candidates_by_department.items())
    }
