"""Every red-flag rule on small hand-made cases: a hit, and a near miss that must not fire."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from domain.localtime import LOCAL_TZ
from domain.project import TenderMethod
from domain.risk import rules
from domain.risk.register import AwardCriterion, Bid, Project, Register
from domain.risk.scoring import combine, project_score
from domain.risk.similarity import document_signature, estimated_jaccard
from domain.risk.thresholds import DEFAULT_WEIGHTS, RiskSettings

SETTINGS = RiskSettings(ignored_ips=("218.76.10.5",))
DEADLINE = dt.datetime(2020, 6, 30, 9, 30, tzinfo=LOCAL_TZ)


def project(code: str = "P1", **changes: object) -> Project:
    values: dict[str, object] = {
        "code": code,
        "name": "某道路工程",
        "department_code": "jtj",
        "procedure": TenderMethod.open,
        "notice_date": dt.date(2020, 6, 1),
        "bid_deadline": DEADLINE,
        "estimated_price": 1_000_000.0,
        "award_criterion": AwardCriterion.lowest_price,
        "winner_code": "A",
    }
    values.update(changes)
    return Project(**values)  # type: ignore[arg-type]


def bid(bidder: str, price: float | None = 900_000.0, project_code: str = "P1", **changes: object) -> Bid:
    values: dict[str, object] = {
        "project_code": project_code,
        "bidder_code": bidder,
        "bidder_name": f"{bidder}公司",
        "price": price,
        "received_at": DEADLINE - dt.timedelta(hours=1),
        "ip": f"10.0.0.{ord(bidder[0])}",
        "mac": f"00-11-22-33-44-{ord(bidder[0]):02X}",
        "document_hash": f"hash-{bidder}",
        "document_author": f"作者{bidder}",
        "deposit_account": f"6222{ord(bidder[0])}",
        "project_manager": f"经理{bidder}",
    }
    values.update(changes)
    return Bid(**values)  # type: ignore[arg-type]


def ids(flags: list[rules.Flag]) -> list[str]:
    return [f.rule_id for f in flags]


# --- 条例第四十条 ----------------------------------------------------------------------------------------------


def test_same_mac_whatever_the_spelling_names_the_bidders_and_the_address() -> None:
    bids = [bid("A", mac="aa:bb:cc:dd:ee:01"), bid("B", mac="AA-BB-CC-DD-EE-01"), bid("C")]
    [flag] = rules.same_mac(project(), bids, SETTINGS)
    assert flag.rule_id == "C40-MAC" and flag.entities == ("A", "B") and flag.project_code == "P1"
    assert flag.evidence == "投标人 A公司、B公司 的投标文件由同一 MAC 地址 AA-BB-CC-DD-EE-01 的计算机编制"
    assert flag.weight == SETTINGS.weight("C40-MAC") and flag.link_value == "AA-BB-CC-DD-EE-01"


def test_same_mac_near_misses_one_bidder_twice_different_addresses_and_ignored_terminals() -> None:
    assert rules.same_mac(project(), [bid("A", mac="m1"), bid("A", mac="m1"), bid("B", mac="m2")], SETTINGS) == []
    ignoring = RiskSettings(ignored_macs=("aa:bb:cc:dd:ee:01",))
    assert rules.same_mac(project(), [bid("A", mac="AA-BB-CC-DD-EE-01"), bid("B", mac="aabbccddee01")], ignoring) == []


def test_same_ip_hit_and_the_trading_centre_terminal_ignored() -> None:
    [flag] = rules.same_ip(project(), [bid("A", ip="58.1.2.3"), bid("B", ip="58.1.2.3"), bid("C")], SETTINGS)
    assert "同一 IP 地址 58.1.2.3 上传" in flag.evidence and flag.entities == ("A", "B")
    public = [bid("A", ip="218.76.10.5"), bid("B", ip="218.76.10.5")]
    assert rules.same_ip(project(), public, SETTINGS) == []


def test_same_document_hash_ignores_case_and_differs_otherwise() -> None:
    [flag] = rules.same_document(
        project(), [bid("A", document_hash="ABCDEF"), bid("B", document_hash="abcdef")], SETTINGS
    )
    assert flag.rule_id == "C40-DOC" and "投标文件完全相同" in flag.evidence
    assert (
        rules.same_document(project(), [bid("A", document_hash="abcdef"), bid("B", document_hash="abcdeg")], SETTINGS)
        == []
    )


def test_same_author_hit_and_office_default_author_ignored() -> None:
    [flag] = rules.same_author(
        project(), [bid("A", document_author="张三"), bid("B", document_author=" 张三 ")], SETTINGS
    )
    assert flag.evidence == "投标人 A公司、B公司 的投标文件作者同为“张三”"
    defaults = [bid("A", document_author="Administrator"), bid("B", document_author="administrator")]
    assert rules.same_author(project(), defaults, SETTINGS) == []


def test_same_deposit_account_hit_and_miss() -> None:
    three = [
        bid("A", deposit_account="62220001"),
        bid("B", deposit_account="62220001"),
        bid("C", deposit_account="62220001"),
    ]
    [flag] = rules.same_deposit_account(project(), three, SETTINGS)
    assert flag.entities == ("A", "B", "C") and "保证金从同一账户 62220001 转出" in flag.evidence
    near = [bid("A", deposit_account="62220001"), bid("B", deposit_account="62220002")]
    assert rules.same_deposit_account(project(), near, SETTINGS) == []


def test_same_project_manager_hit_and_miss() -> None:
    same = [bid("A", project_manager="李四（鄂123）"), bid("B", project_manager="李四（鄂123）")]
    [flag] = rules.same_project_manager(project(), same, SETTINGS)
    assert "项目经理同为 李四（鄂123）" in flag.evidence
    namesakes = [bid("A", project_manager="李四（鄂123）"), bid("B", project_manager="李四（鄂456）")]
    assert rules.same_project_manager(project(), namesakes, SETTINGS) == []


TEXT = (
    "本工程施工组织设计：一、工程概况。本项目位于雁江区，道路全长三点二公里，设计车速每小时四十公里。"
    "二、施工部署。项目部设项目经理一名、技术负责人一名，下设工程、质量、安全、物资四个部门。"
    "三、主要施工方法。路基采用分层填筑、分层碾压，每层厚度不超过三十厘米，压实度不低于百分之九十六。"
    "四、质量保证措施。建立三检制度，每道工序经自检、互检、交接检合格后方可进入下一道工序。"
)
OTHER = (
    "我公司承诺严格按照招标文件要求组织施工。桥梁工程下部结构采用钻孔灌注桩基础，上部结构为预应力混凝土简支梁，"
    "预制梁场设在线路中部，配备龙门吊两台。冬雨季施工制定专项方案，确保混凝土养护温度和湿度满足规范要求。"
)


def test_similar_documents_finds_near_duplicates_and_not_different_texts() -> None:
    edited = TEXT.replace("三点二公里", "三点三公里").replace("两台", "三台")
    assert estimated_jaccard(document_signature(TEXT) or (), document_signature(edited) or ()) >= 0.8
    bids = [
        bid("A", document_signature=document_signature(TEXT)),
        bid("B", document_signature=document_signature(edited)),
        bid("C", document_signature=document_signature(OTHER)),
    ]
    [flag] = rules.similar_documents(project(), bids, SETTINGS)
    assert flag.rule_id == "C40-SIMILAR" and flag.entities == ("A", "B") and "异常一致" in flag.evidence
    assert rules.similar_documents(project(), [bids[0], bids[2]], SETTINGS) == []


def test_identical_files_are_not_reported_twice_as_similar() -> None:
    signature = document_signature(TEXT)
    same = [
        bid("A", document_hash="h", document_signature=signature),
        bid("B", document_hash="h", document_signature=signature),
    ]
    assert rules.similar_documents(project(), same, SETTINGS) == []
    assert ids(rules.same_document(project(), same, SETTINGS)) == ["C40-DOC"]


def test_arithmetic_and_geometric_price_sequences() -> None:
    arithmetic = [bid("A", 1_000_000), bid("B", 1_020_000), bid("C", 1_040_000), bid("D", 1_234_567)]
    [flag] = rules.price_sequence(project(), arithmetic, SETTINGS)
    assert flag.entities == ("A", "B", "C") and "等差数列" in flag.evidence and "20,000.00 元" in flag.evidence
    geometric = [bid("A", 1_000_000), bid("B", 1_030_000), bid("C", 1_060_900)]
    [flag] = rules.price_sequence(project(), geometric, SETTINGS)
    assert "等比数列" in flag.evidence and "1.0300" in flag.evidence


def test_price_sequence_near_misses() -> None:
    off_by_more_than_tolerance = [bid("A", 1_000_000), bid("B", 1_020_000), bid("C", 1_040_100)]
    assert rules.price_sequence(project(), off_by_more_than_tolerance, SETTINGS) == []
    two_prices = [bid("A", 1_000_000), bid("B", 1_020_000)]
    assert rules.price_sequence(project(), two_prices, SETTINGS) == []
    broken_by_another_bid = [bid("A", 1_000_000), bid("B", 1_020_000), bid("X", 1_031_000), bid("C", 1_040_000)]
    assert rules.price_sequence(project(), broken_by_another_bid, SETTINGS) == []


# --- cardinal-style -------------------------------------------------------------------------------------------


def test_r003_short_bid_period_only_for_competitive_procedures() -> None:
    short = project(notice_date=dt.date(2020, 6, 15))
    [flag] = rules.short_bid_period(short, [bid("A")], SETTINGS)
    assert flag.value == 15 and "投标期仅 15 天" in flag.evidence
    assert rules.short_bid_period(project(notice_date=dt.date(2020, 6, 10)), [bid("A")], SETTINGS) == []  # 20 days
    negotiated = project(notice_date=dt.date(2020, 6, 15), procedure=TenderMethod.negotiation)
    assert rules.short_bid_period(negotiated, [bid("A")], SETTINGS) == []


def test_r018_single_valid_bid_in_an_open_tender() -> None:
    bids = [bid("A"), bid("B", valid=False, disqualify_reason="未提交保证金")]
    [flag] = rules.single_valid_bid(project(), bids, SETTINGS)
    assert flag.entities == ("A",) and "公开招标项目仅投标人 A公司 一家有效投标" in flag.evidence
    assert rules.single_valid_bid(project(), [bid("A"), bid("B")], SETTINGS) == []
    assert rules.single_valid_bid(project(procedure=TenderMethod.single_source), [bid("A")], SETTINGS) == []


def test_r028_identical_prices_to_the_cent() -> None:
    [flag] = rules.identical_prices(project(), [bid("A", 950_000.0), bid("B", 950_000.0)], SETTINGS)
    assert flag.entities == ("A", "B") and "同为 950,000.00 元" in flag.evidence
    assert rules.identical_prices(project(), [bid("A", 950_000.0), bid("B", 950_000.01)], SETTINGS) == []


def test_r030_late_winning_bid_but_not_a_late_loser() -> None:
    late = DEADLINE + dt.timedelta(minutes=30)
    [flag] = rules.late_winning_bid(project(), [bid("A", received_at=late), bid("B")], SETTINGS)
    assert flag.entities == ("A",) and "逾期 30 分钟" in flag.evidence
    assert rules.late_winning_bid(project(), [bid("A"), bid("B", received_at=late)], SETTINGS) == []
    assert rules.late_winning_bid(project(), [bid("A", received_at=DEADLINE)], SETTINGS) == []


def test_r035_all_other_bidders_disqualified() -> None:
    bids = [bid("A"), bid("B", valid=False, disqualify_reason="资质不符"), bid("C", valid=False)]
    [flag] = rules.others_disqualified(project(), bids, SETTINGS)
    assert flag.entities == ("B", "C") and flag.value == 2 and "资质不符" in flag.evidence
    assert rules.others_disqualified(project(), [bid("A"), bid("B"), bid("C", valid=False)], SETTINGS) == []
    strict = RiskSettings(r035_min_disqualified=3)
    assert rules.others_disqualified(project(), bids, strict) == []


def test_r036_lowest_bid_disqualified_under_lowest_price_only() -> None:
    bids = [bid("A", 950_000), bid("B", 900_000, valid=False, disqualify_reason="报价低于成本")]
    [flag] = rules.lowest_bid_disqualified(project(), bids, SETTINGS)
    assert flag.entities == ("B",) and "报价低于成本" in flag.evidence
    comprehensive = project(award_criterion=AwardCriterion.comprehensive)
    assert rules.lowest_bid_disqualified(comprehensive, bids, SETTINGS) == []
    assert rules.lowest_bid_disqualified(project(), [bid("A", 900_000), bid("B", 950_000, valid=False)], SETTINGS) == []


def _register(*projects_and_bids: tuple[Project, list[Bid]]) -> Register:
    return Register.build([p for p, _ in projects_and_bids], [b for _, bids in projects_and_bids for b in bids])


def test_r024_and_r058_with_the_fallback_thresholds_of_a_small_population() -> None:
    close = (project("P1"), [bid("A", 1_000_000, "P1"), bid("B", 1_003_000, "P1")])  # 0.3 %
    not_close = (project("P2"), [bid("A", 1_000_000, "P2"), bid("B", 1_006_000, "P2")])  # 0.6 %
    far = (project("P3"), [bid("A", 1_000_000, "P3"), bid("B", 1_300_000, "P3")])  # 30 %
    not_lowest = (project("P4"), [bid("A", 1_000_000, "P4"), bid("B", 999_000, "P4")])
    flags = rules.second_lowest_outliers(_register(close, not_close, far, not_lowest), SETTINGS)
    assert sorted((f.rule_id, f.project_code) for f in flags) == [("R024", "P1"), ("R058", "P3")]
    r024 = next(f for f in flags if f.rule_id == "R024")
    assert "仅比次低有效报价低 0.30%" in r024.evidence and r024.entities == ("A",)


def test_gap_thresholds_use_iqr_fences_when_the_population_is_large_enough() -> None:
    gaps = [0.02 + 0.001 * i for i in range(40)]  # quartiles 0.02975 and 0.04925
    low, high = rules.gap_thresholds(gaps, SETTINGS)
    assert low == pytest.approx(0.02975 - 1.5 * 0.0195) and high == pytest.approx(0.04925 + 1.5 * 0.0195)
    assert rules.gap_thresholds(gaps[:10], SETTINGS) == (SETTINGS.r024_fallback, SETTINGS.r058_fallback)
    assert rules.gap_thresholds(gaps, RiskSettings(r024_threshold=0.01))[0] == 0.01


def test_r025_frequent_bidder_that_never_wins() -> None:
    def rounds(loser_bids: int) -> Register:
        pairs = []
        for i in range(loser_bids):
            code = f"P{i}"
            winner = "ABC"[i % 3]
            pairs.append((project(code, winner_code=winner), [bid(winner, 900_000, code), bid("L", 950_000, code)]))
        return _register(*pairs)

    flags = rules.frequent_losers(rounds(12), SETTINGS)
    assert {f.entities for f in flags} == {("L",)} and len(flags) == 12
    assert "共有效投标 12 次、中标 0 次" in flags[0].evidence
    assert rules.frequent_losers(rounds(9), SETTINGS) == []  # fewer valid bids than r025_min_bids


def test_price_anomalies_low_and_high_against_the_estimate() -> None:
    low = (project("P1", award_price=700_000.0), [bid("A", 700_000, "P1")])
    normal = (project("P2", award_price=850_000.0), [bid("A", 850_000, "P2")])
    high = (project("P3", award_price=1_020_000.0), [bid("A", 1_020_000, "P3")])
    flags = rules.price_anomalies(_register(low, normal, high), SETTINGS)
    assert sorted((f.rule_id, f.project_code) for f in flags) == [("P-HIGH", "P3"), ("P-LOW", "P1")]
    assert "仅为招标控制价 1,000,000.00 元 的 70.0%" in next(f.evidence for f in flags if f.rule_id == "P-LOW")


def test_price_thresholds_iqr_when_large_enough_and_capped_at_the_estimate() -> None:
    ratios = [0.85 + 0.002 * i for i in range(40)]
    low, high = rules.price_thresholds(ratios, SETTINGS)
    assert low < 0.85 and high <= 1.0
    assert rules.price_thresholds(ratios[:5], SETTINGS) == (SETTINGS.low_price_ratio, SETTINGS.high_price_ratio)


# --- scores and settings --------------------------------------------------------------------------------------


def test_score_is_a_noisy_or_of_distinct_rules() -> None:
    assert combine([]) == 0.0 and combine([0.5]) == 50.0 and combine([0.5, 0.4]) == 70.0
    twice = [rules.Flag("C40-IP", "P1", ("A", "B"), "", 0.5), rules.Flag("C40-IP", "P1", ("C", "D"), "", 0.5)]
    assert project_score(twice) == 50.0  # one rule counts once
    assert project_score([*twice, rules.Flag("NET", "P1", ("A", "B"), "", 0.4)]) == 70.0


def test_settings_refuse_bad_weights_and_unknown_keys_and_a_zero_weight_disables_a_rule() -> None:
    with pytest.raises(ValidationError):
        RiskSettings(weights={"C40-MAC": 1.5})
    with pytest.raises(ValidationError):
        RiskSettings.model_validate({"alert_scor": 50})
    with pytest.raises(ValidationError, match="未知的规则"):
        RiskSettings(weights={"C41-MAC": 0.5})
    with pytest.raises(ValidationError, match="未知的标识种类"):
        RiskSettings(network_cross_project_kinds=("phone",))
    off = RiskSettings(weights={"C40-MAC": 0})
    assert rules.same_mac(project(), [bid("A", mac="m"), bid("B", mac="m")], off) == []
    assert off.weight("C40-IP") == SETTINGS.weight("C40-IP")  # unlisted rules keep their default


def test_every_rule_has_a_basis_and_a_default_weight() -> None:
    assert set(rules.RULES) == set(DEFAULT_WEIGHTS)
    assert all(info.basis and info.title for info in rules.RULES.values())
