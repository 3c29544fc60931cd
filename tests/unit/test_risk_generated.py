"""A generated register of 5,000 projects and over 40,000 bids with planted collusion rings: the scan finds every
ring, and no more than 5 % of the alerted projects lie outside the rings. The draw on it keeps its promises."""

from __future__ import annotations

from collections import defaultdict

import pytest

from domain.risk.draw import Candidate, DrawReason, draw_register
from domain.risk.register import Register
from domain.risk.scan import RiskScan, scan
from domain.risk.synthetic import PUBLIC_TERMINAL_IP, Synthetic, generate
from domain.risk.thresholds import RiskSettings
from domain.sampling import sample_size

SETTINGS = RiskSettings(ignored_ips=(PUBLIC_TERMINAL_IP,))


@pytest.fixture(scope="module")
def generated() -> tuple[Synthetic, RiskScan]:
    synthetic = generate(projects=5000, seed=11)
    return synthetic, scan(synthetic.register, SETTINGS)


def test_the_register_is_as_large_as_promised(generated) -> None:
    synthetic, _ = generated
    assert len(synthetic.register.projects) == 5000 and synthetic.register.bid_count >= 40_000
    assert len(synthetic.rings) == 50 and all(len(r.members) >= 3 and len(r.projects) >= 4 for r in synthetic.rings)


def test_every_planted_ring_is_found_with_at_most_five_percent_alerts_outside(generated) -> None:
    synthetic, result = generated
    recovery = synthetic.recovery(result)
    assert recovery.rings_found == recovery.rings == 50
    assert recovery.alerted_in_rings == recovery.ring_projects
    assert recovery.alerted - recovery.alerted_in_rings <= 0.05 * recovery.alerted


def test_honest_noise_is_flagged_but_stays_below_the_alert(generated) -> None:
    synthetic, result = generated
    honest = [r for code, r in result.risks.items() if code not in synthetic.ring_projects]
    assert len(honest) > 1000  # single bids, short periods, price outliers, frequent losers ...
    assert sum(r.score >= SETTINGS.alert_score for r in honest) <= 0.05 * len(result.alerts())
    shared_terminal = [f for f in result.flags if f.rule_id == "C40-IP" and f.link_value == PUBLIC_TERMINAL_IP]
    assert shared_terminal == []


def test_every_ring_is_one_group_and_its_evidence_reads_as_chinese(generated) -> None:
    synthetic, result = generated
    group_of = {m: g for g in result.groups for m in g.members}
    for ring in synthetic.rings:
        group = group_of[ring.members[0]]
        assert set(ring.members) <= set(group.members)
        assert len(group.evidence_projects) >= 2
    names = synthetic.register.bidder_names()
    for risk in result.alerts()[:20]:
        for flag in risk.flags:
            assert all(names[code] in flag.evidence for code in flag.entities), flag


def test_the_risk_weighted_draw_meets_the_ratio_per_department_and_takes_every_alert(generated) -> None:
    synthetic, result = generated
    by_department: dict[str, list[Candidate]] = defaultdict(list)
    for project in synthetic.register.projects:
        by_department[project.department_code].append(Candidate(project.code, result.score(project.code)))
    picks = draw_register(
        by_department, 0.2, 2020, always_score=SETTINGS.draw_always_score, base_weight=SETTINGS.draw_base_weight
    )
    for department, drawn in picks.items():
        assert len(drawn) >= sample_size(len(by_department[department]), 0.2)
    risk_picks = {p.project_code for drawn in picks.values() for p in drawn if p.reason == DrawReason.risk}
    assert {r.project_code for r in result.alerts() if r.score >= SETTINGS.draw_always_score} <= risk_picks
    assert picks == draw_register(
        by_department, 0.2, 2020, always_score=SETTINGS.draw_always_score, base_weight=SETTINGS.draw_base_weight
    )


def test_the_scan_does_not_depend_on_the_order_of_the_register(generated) -> None:
    synthetic, result = generated
    register = synthetic.register
    reordered = Register.build(
        reversed(register.projects), [b for p in reversed(register.projects) for b in reversed(register.bids(p.code))]
    )
    again = scan(reordered, SETTINGS)
    assert {r.project_code: r.score for r in again.alerts()} == {r.project_code: r.score for r in result.alerts()}
    assert {g.members for g in again.groups} == {g.members for g in result.groups}
