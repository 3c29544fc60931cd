"""The collusion network: who is linked by what, which groups recur, and the NET flag."""

from __future__ import annotations

from domain.risk.network import UnionFind, collusion_groups, network_flags
from domain.risk.register import Register
from domain.risk.rules import PROJECT_RULES
from domain.risk.scan import scan
from domain.risk.thresholds import RiskSettings
from tests.unit.test_risk_rules import bid, project

SETTINGS = RiskSettings()


def _register(rows: dict[str, list]) -> Register:
    return Register.build(
        [project(code, winner_code=bids[0].bidder_code) for code, bids in rows.items()],
        [b for bids in rows.values() for b in bids],
    )


def _groups(register: Register, settings: RiskSettings = SETTINGS):
    flags = [f for p in register.projects for rule in PROJECT_RULES for f in rule(p, register.bids(p.code), settings)]
    return flags, collusion_groups(register, flags, settings)


def test_union_find_joins_transitively_and_keeps_strangers_apart() -> None:
    forest = UnionFind()
    forest.union("A", "B")
    forest.union("C", "B")
    forest.union("X", "Y")
    assert forest.find("A") == forest.find("C") != forest.find("X")


def test_links_within_projects_chain_into_one_group_across_projects() -> None:
    register = _register(
        {
            "P1": [
                bid("A", 900_000, "P1", ip="58.0.0.1"),
                bid("B", 910_000, "P1", ip="58.0.0.1"),
                bid("Z", 990_000, "P1"),
            ],
            "P2": [bid("B", 900_000, "P2", deposit_account="acct"), bid("C", 930_000, "P2", deposit_account="acct")],
        }
    )
    _, groups = _groups(register)
    [group] = groups
    assert group.members == ("A", "B", "C") and group.evidence_projects == ("P1", "P2")
    assert group.kinds == ("deposit_account", "ip") and group.group_id == "G-A"
    assert "3 家企业" in group.describe() and "IP 地址" in group.describe()
    assert group.edges() == [("A", "B", ("ip",)), ("B", "C", ("deposit_account",))]


def test_a_mac_links_different_bidders_across_projects_but_an_ip_or_author_does_not() -> None:
    register = _register(
        {
            "P1": [bid("A", 900_000, "P1", mac="m1", ip="58.0.0.9", document_author="王五"), bid("Z", 950_000, "P1")],
            "P2": [bid("B", 900_000, "P2", mac="m1", ip="58.0.0.9", document_author="王五"), bid("Y", 950_000, "P2")],
        }
    )
    _, groups = _groups(register)
    [group] = groups
    assert group.members == ("A", "B") and group.kinds == ("mac",)
    _, none = _groups(register, RiskSettings(network_cross_project_kinds=()))
    assert none == []


def test_the_same_author_in_two_unrelated_projects_does_not_join_their_bidders() -> None:
    register = _register(
        {
            "P1": [bid("A", 900_000, "P1", document_author="李超"), bid("B", 950_000, "P1", document_author="李超")],
            "P2": [bid("C", 900_000, "P2", document_author="李超"), bid("D", 950_000, "P2", document_author="李超")],
        }
    )
    _, groups = _groups(register)
    assert sorted(g.members for g in groups) == [("A", "B"), ("C", "D")]


def test_net_flags_a_recurring_group_bidding_together_even_without_a_trace_of_its_own() -> None:
    register = _register(
        {
            "P1": [bid("A", 900_000, "P1", mac="m1"), bid("B", 920_000, "P1", mac="m1")],
            "P2": [bid("A", 900_000, "P2", deposit_account="x"), bid("B", 920_000, "P2", deposit_account="x")],
            "P3": [bid("B", 900_000, "P3"), bid("A", 930_000, "P3"), bid("Z", 990_000, "P3")],  # no shared trace
            "P4": [bid("A", 900_000, "P4"), bid("Z", 990_000, "P4")],  # one member only
        }
    )
    _, groups = _groups(register)
    net = network_flags(register, groups, SETTINGS)
    assert sorted(f.project_code for f in net) == ["P1", "P2", "P3"]
    p3 = next(f for f in net if f.project_code == "P3")
    assert p3.entities == ("A", "B") and "本项目同场投标" in p3.evidence


def test_net_needs_the_group_to_recur() -> None:
    register = _register(
        {
            "P1": [bid("A", 900_000, "P1", ip="58.0.0.1"), bid("B", 920_000, "P1", ip="58.0.0.1")],
            "P2": [bid("A", 900_000, "P2"), bid("B", 930_000, "P2")],
        }
    )
    _, groups = _groups(register)
    assert [g.evidence_projects for g in groups] == [("P1",)]
    assert network_flags(register, groups, SETTINGS) == []
    assert len(network_flags(register, groups, RiskSettings(network_min_projects=1))) == 2


def test_scan_alerts_on_one_computer_but_not_on_a_lone_shared_ip() -> None:
    register = _register(
        {
            "P1": [bid("A", 900_000, "P1", ip="58.0.0.1"), bid("B", 920_000, "P1", ip="58.0.0.1")],
            "P2": [bid("C", 900_000, "P2", mac="m9"), bid("D", 920_000, "P2", mac="m9")],
        }
    )
    result = scan(register, SETTINGS)
    assert result.score("P1") == 50.0 and result.score("P2") == 70.0 and result.score("P9") == 0.0
    assert [r.project_code for r in result.alerts()] == ["P2"]
    summary = {s.rule_id: s.projects for s in result.summary()}
    assert summary["C40-IP"] == 1 and summary["C40-MAC"] == 1
