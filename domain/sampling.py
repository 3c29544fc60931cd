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


def draw(project_codes: Iterable[str], min_ratio: float, seed: int, department_code: str) -> list[str]:
    """The sampled project codes, ordered by draw rank (independent of input order)."""
    codes = sorted(set(project_codes))
    n = sample_size(len(codes), min_ratio)

    def rank(code: str) -> str:
        return hashlib.sha256(f"{seed}|{department_code}|{code}".encode()).hexdigest()

    return sorted(codes, key=rank)[:n]


def ratio(sampled: int, population: int) -> float:
    return sampled / population if population else 0.0
