"""The risk-weighted verification draw: ratio per department, risk picks always, replay, top-up, weighting."""

from __future__ import annotations

import random

from domain.risk.draw import DRAW_REASON, Candidate, DrawReason, draw_department, draw_register
from domain.sampling import sample_size

ALWAYS, BASE = 60.0, 10.0


def _candidates(n: int, high: int = 0, prefix: str = "P") -> list[Candidate]:
    return [Candidate(f"{prefix}{i:03d}", 90.0 if i < high else float(i % 7)) for i in range(n)]


def _draw(candidates: list[Candidate], seed: int = 7, ratio: float = 0.2, **kw: object) -> list:
    return draw_department(candidates, ratio, seed, "zjj", always_score=ALWAYS, base_weight=BASE, **kw)  # type: ignore[arg-type]


def test_reaches_the_ratio_and_always_takes_the_risky_projects() -> None:
    picks = _draw(_candidates(47, high=3))
    assert len(picks) == sample_size(47, 0.2) == 10
    assert [p.project_code for p in picks if p.reason == DrawReason.risk] == ["P000", "P001", "P002"]
    assert all(p.reason == DrawReason.random for p in picks[3:])
    assert len({p.project_code for p in picks}) == 10


def test_risky_projects_are_all_taken_even_beyond_the_ratio() -> None:
    picks = _draw(_candidates(10, high=5))
    assert len(picks) == 5 and {p.reason for p in picks} == {DrawReason.risk}


def test_replay_gives_the_same_projects_whatever_the_input_order() -> None:
    candidates = _candidates(200, high=4)
    shuffled = candidates[:]
    random.Random(3).shuffle(shuffled)
    assert _draw(candidates) == _draw(shuffled)
    assert [p.project_code for p in _draw(candidates)] != [p.project_code for p in _draw(candidates, seed=8)]


def test_top_up_keeps_earlier_picks_and_restores_the_ratio() -> None:
    first = _draw(_candidates(50))
    grown = _candidates(80)
    more = _draw(grown, already_sampled=[p.project_code for p in first])
    assert len(first) + len(more) == sample_size(80, 0.2)
    assert not {p.project_code for p in first} & {p.project_code for p in more}


def test_higher_scores_are_drawn_more_often() -> None:
    candidates = [Candidate(f"L{i:02d}", 0.0) for i in range(20)] + [Candidate(f"H{i:02d}", 50.0) for i in range(20)]
    high = low = 0
    for seed in range(300):
        for pick in _draw(candidates, seed=seed, ratio=0.1):
            high += pick.project_code.startswith("H")
            low += pick.project_code.startswith("L")
    assert high > 3 * low > 0  # weight 60 against 10, without replacement


def test_each_department_meets_its_own_ratio_and_every_pick_says_why() -> None:
    by_department = {"zjj": _candidates(33, high=1, prefix="Z"), "jtj": _candidates(12, prefix="J")}
    result = draw_register(by_department, 0.2, 42, always_score=ALWAYS, base_weight=BASE)
    assert {d: len(p) for d, p in result.items()} == {"jtj": 3, "zjj": 7}
    risky = result["zjj"][0]
    assert DRAW_REASON.label(risky.reason) == "风险必抽"
    assert risky.explanation(ALWAYS, BASE) == "风险分 90.0 达到必抽线 60，必抽"
    assert "按风险加权随机抽中" in result["jtj"][0].explanation(ALWAYS, BASE)
