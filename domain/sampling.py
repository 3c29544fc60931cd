"""Verification sampling: at least a ratio of each department's supervised projects, reproducibly.

The draw is a pure function of (seed, department, project codes), so anyone holding the recorded
seed can re-run it and get the same projects (the office must be able to show the draw was fair).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable


def sample_size(population: int, min_ratio: float) -> int:
    """Smallest count reaching the ratio; at least one project when a department has any."""
    if population <= 0:
        return 0
    # Round away float noise (0.2 * 10 = 2.0000000000000004) before taking the ceiling.
    return max(1, min(population, math.ceil(round(population * min_ratio, 9))))


def _rank(seed: int, department_code: str, code: str) -> str:
    return hashlib.sha256(f"{seed}|{department_code}|{code}".encode()).hexdigest()


def draw(project_codes: Iterable[str], min_ratio: float, seed: int, department_code: str) -> list[str]:
    """The sampled project codes, ordered by draw rank (independent of input order)."""
    return top_up(project_codes, (), min_ratio, seed, department_code)


def top_up(
    project_codes: Iterable[str], already_sampled: Iterable[str], min_ratio: float, seed: int, department_code: str
) -> list[str]:
    """The further projects to draw so that the sampled share of the register reaches the ratio again
    (the register grew after an earlier draw). Same ranking as the first draw, so earlier draws are
    never redrawn and each round can be replayed from its seed and recorded population."""
    codes = sorted(set(project_codes))
    done = set(already_sampled) & set(codes)
    need = sample_size(len(codes), min_ratio) - len(done)
    if need <= 0:
        return []
    return sorted((c for c in codes if c not in done), key=lambda c: _rank(seed, department_code, c))[:need]


def ratio(sampled: int, population: int) -> float:
    return sampled / population if population else 0.0
