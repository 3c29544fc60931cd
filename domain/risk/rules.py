"""Red-flag rules (issue 14 item 2): each a pure function of a project and its bids (or of the whole register,
for the rules that compare a project with its population), returning `Flag`s with the rule id, the entities
involved, the evidence in Chinese and the rule's weight. `RULES` lists every rule with its legal basis or source.

Sources:
- 《招标投标法实施条例》第四十条：有下列情形之一的，视为投标人相互串通投标：（一）不同投标人的投标文件由同一单位或者
  个人编制；（二）不同投标人委托同一单位或者个人办理投标事宜；（三）不同投标人的投标文件载明的项目管理成员为同一人；
  （四）不同投标人的投标文件异常一致或者投标报价呈规律性差异；（五）不同投标人的投标文件相互混装；（六）不同投标人的
  投标保证金从同一单位或者个人的账户转出。
- cardinal (Open Contracting Partnership, github.com/open-contracting/cardinal-rs, docs/cli/indicators/R/*.md):
  R003 short submission period (default 15 days, open procedures only), R018 single bid in a competitive procedure
  (open|selective), R024 (second-lowest valid − winner)/winner ≤ lower fence Q1 − 1.5·IQR, R058 the same difference
  ≥ upper fence Q3 + 1.5·IQR (both only where the winner is the lowest valid bid), R025 a top tenderer (valid bids ≥
  Q3 of counts) whose win ratio ≤ Q1 − 1.5·IQR of ratios, R028 different tenderers with the same price, R030 a
  winning bid received after the deadline, R035 all bidders but the winner disqualified (threshold 1), R036 the
  lowest submitted bid disqualified under a price-only criterion.
- 价格异常预警 (seed 004 三(三)): award price against the 招标控制价, IQR fences where the population is large
  enough, fixed ratios otherwise.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from domain.project import TENDER_METHOD
from domain.risk.register import AwardCriterion, Bid, Project, Register
from domain.risk.similarity import similar_pairs
from domain.risk.thresholds import RiskSettings


@dataclass(frozen=True, slots=True)
class RuleInfo:
    rule_id: str
    title: str
    basis: str  # legal basis or source
    link_kind: str = ""  # the shared identifier a hit links bidders by (collusion network), "" if none


C40 = "《招标投标法实施条例》第四十条"
CARDINAL = "cardinal-rs 指标"
RULES: dict[str, RuleInfo] = {
    r.rule_id: r
    for r in (
        RuleInfo("C40-MAC", "同一 MAC 地址编制投标文件", f"{C40}第（一）项：投标文件由同一单位或者个人编制", "mac"),
        RuleInfo(
            "C40-IP", "同一 IP 地址上传投标文件", f"{C40}第（一）、（二）项：同一单位或者个人编制、办理投标事宜", "ip"
        ),
        RuleInfo(
            "C40-DOC", "投标文件完全相同", f"{C40}第（一）、（四）项：同一编制、投标文件异常一致", "document_hash"
        ),
        RuleInfo(
            "C40-AUTHOR", "投标文件作者相同", f"{C40}第（一）项：投标文件由同一单位或者个人编制", "document_author"
        ),
        RuleInfo(
            "C40-DEPOSIT",
            "保证金从同一账户转出",
            f"{C40}第（六）项：投标保证金从同一单位或者个人的账户转出",
            "deposit_account",
        ),
        RuleInfo(
            "C40-MANAGER", "项目经理为同一人", f"{C40}第（三）项：投标文件载明的项目管理成员为同一人", "project_manager"
        ),
        RuleInfo(
            "C40-SIMILAR", "投标文件异常一致", f"{C40}第（四）项：投标文件异常一致（MinHash 相似度）", "document_text"
        ),
        RuleInfo("C40-PRICE-SEQ", "投标报价呈规律性差异", f"{C40}第（四）项：投标报价呈规律性差异（等差或等比）"),
        RuleInfo("NET", "关联群同场投标", "关联企业分析（000 号文件 二(三)一：对关联企业进行智能分析预警）"),
        RuleInfo("R003", "投标期过短", f"{CARDINAL} R003；《招标投标法》第二十四条（不少于二十日）"),
        RuleInfo(
            "R018", "竞争性程序仅一家有效投标", f"{CARDINAL} R018；《招标投标法》第二十八条（投标人少于三个应重新招标）"
        ),
        RuleInfo("R024", "中标价与次低价过于接近", f"{CARDINAL} R024（IQR 下栅栏）"),
        RuleInfo("R025", "频繁投标却极少中标", f"{CARDINAL} R025（陪标迹象）"),
        RuleInfo("R028", "不同投标人报价相同", f"{CARDINAL} R028"),
        RuleInfo("R030", "中标投标文件逾期送达", f"{CARDINAL} R030；《招标投标法》第二十八条（逾期送达的应当拒收）"),
        RuleInfo("R035", "除中标人外其余投标均被否决", f"{CARDINAL} R035"),
        RuleInfo("R036", "最低报价被否决", f"{CARDINAL} R036（最低价评标法）"),
        RuleInfo("R058", "中标价远低于次低价", f"{CARDINAL} R058（IQR 上栅栏）"),
        RuleInfo("P-LOW", "低价抢标", "价格异常预警（004 号文件 三(三)）：中标价远低于招标控制价"),
        RuleInfo("P-HIGH", "高价中标", "价格异常预警（004 号文件 三(三)）：中标价贴近或超过招标控制价"),
    )
}


@dataclass(frozen=True, slots=True)
class Flag:
    """One hit of one rule on one project. `entities` are bidder credit codes (sorted); `link_value` is the
    shared identifier for the rules that link bidders (the collusion network reads it)."""

    rule_id: str
    project_code: str
    entities: tuple[str, ...]
    evidence: str
    weight: float
    value: float | None = None
    link_value: str = ""


ProjectRule = Callable[[Project, Sequence[Bid], RiskSettings], list[Flag]]


def _names(bids: Iterable[Bid]) -> str:
    return "、".join(sorted({b.bidder_name for b in bids}))


def _flag(
    rule_id: str,
    project: Project,
    bids: Iterable[Bid],
    evidence: str,
    settings: RiskSettings,
    value: float | None = None,
    link_value: str = "",
) -> Flag:
    return Flag(
        rule_id,
        project.code,
        tuple(sorted({b.bidder_code for b in bids})),
        evidence,
        settings.weight(rule_id),
        value,
        link_value,
    )


def _money(amount: float) -> str:
    return f"{amount:,.2f} 元"


# --- 条例第四十条: shared identifiers ---------------------------------------------------------------------------


def kept(kind: str, value: str, settings: RiskSettings) -> bool:
    """Whether an identifier value survives the ignore lists (public terminals, default authors)."""
    if kind == "ip":
        return value not in settings.ignored_ips
    if kind == "mac":
        return value not in settings.ignored_macs
    if kind == "document_author":
        return value.casefold() not in settings.ignored_authors
    return True


def _ip(bid: Bid, settings: RiskSettings) -> str | None:
    return bid.ip if bid.ip not in settings.ignored_ips else None


def _mac(bid: Bid, settings: RiskSettings) -> str | None:
    return bid.mac if bid.mac not in settings.ignored_macs else None


def _document_hash(bid: Bid, settings: RiskSettings) -> str | None:
    return bid.document_hash


def _author(bid: Bid, settings: RiskSettings) -> str | None:
    author = bid.document_author
    return author if author and author.casefold() not in settings.ignored_authors else None


def _account(bid: Bid, settings: RiskSettings) -> str | None:
    return bid.deposit_account


def _manager(bid: Bid, settings: RiskSettings) -> str | None:
    return bid.project_manager


_RAW = {
    "ip": attrgetter("ip"),
    "mac": attrgetter("mac"),
    "document_hash": attrgetter("document_hash"),
    "document_author": attrgetter("document_author"),
    "deposit_account": attrgetter("deposit_account"),
    "project_manager": attrgetter("project_manager"),
}


IDENTIFIERS: dict[str, Callable[[Bid, RiskSettings], str | None]] = {
    "ip": _ip,
    "mac": _mac,
    "document_hash": _document_hash,
    "document_author": _author,
    "deposit_account": _account,
    "project_manager": _manager,
}


def identifier(bid: Bid, kind: str, settings: RiskSettings) -> str | None:
    """The normalised value of one identifier of a bid, or None when missing or on the ignore list."""
    return IDENTIFIERS[kind](bid, settings)


_SHARED_EVIDENCE = {
    "ip": "投标人 {names} 的投标文件从同一 IP 地址 {value} 上传",
    "mac": "投标人 {names} 的投标文件由同一 MAC 地址 {value} 的计算机编制",
    "document_hash": "投标人 {names} 的投标文件完全相同（文件哈希 {value}）",
    "document_author": "投标人 {names} 的投标文件作者同为“{value}”",
    "deposit_account": "投标人 {names} 的投标保证金从同一账户 {value} 转出",
    "project_manager": "投标人 {names} 的投标文件载明的项目经理同为 {value}",
}


def _shared(rule_id: str, kind: str, project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    if settings.weight(rule_id) <= 0:
        return []
    present = [v for v in map(_RAW[kind], bids) if v]
    if len(set(present)) == len(present):
        return []  # every value distinct: the usual honest case, decided without looking further
    extract = IDENTIFIERS[kind]
    by_value: dict[str, list[Bid]] = {}
    for bid in bids:
        value = extract(bid, settings)
        if value is not None:
            by_value.setdefault(value, []).append(bid)
    flags: list[Flag] = []
    for value, sharing in by_value.items():
        if len(sharing) >= 2 and len({b.bidder_code for b in sharing}) >= 2:
            shown = value[:16] + "…" if kind == "document_hash" and len(value) > 16 else value
            evidence = _SHARED_EVIDENCE[kind].format(names=_names(sharing), value=shown)
            flags.append(_flag(rule_id, project, sharing, evidence, settings, link_value=value))
    return flags


def same_mac(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """C40-MAC, 第四十条（一）: bids of different bidders made on one computer (same MAC address)."""
    return _shared("C40-MAC", "mac", project, bids, settings)


def same_ip(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """C40-IP, 第四十条（一）（二）: bids of different bidders uploaded from one IP address (public terminals
    ignored)."""
    return _shared("C40-IP", "ip", project, bids, settings)


def same_document(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """C40-DOC, 第四十条（一）（四）: different bidders submitted the very same file (same hash)."""
    return _shared("C40-DOC", "document_hash", project, bids, settings)


def same_author(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """C40-AUTHOR, 第四十条（一）: the same document author (office software's default authors ignored)."""
    return _shared("C40-AUTHOR", "document_author", project, bids, settings)


def same_deposit_account(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """C40-DEPOSIT, 第四十条（六）: deposits paid from one account."""
    return _shared("C40-DEPOSIT", "deposit_account", project, bids, settings)


def same_project_manager(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """C40-MANAGER, 第四十条（三）: one person named as project manager by different bidders."""
    return _shared("C40-MANAGER", "project_manager", project, bids, settings)


def similar_documents(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """异常一致: bid documents whose MinHash signatures estimate a Jaccard similarity ≥ the threshold.
    Identical files are C40-DOC already; a pair is reported here only when the files differ."""
    if settings.weight("C40-SIMILAR") <= 0:
        return []
    signed = [b for b in bids if b.document_signature]
    if len(signed) < 2:
        return []
    by_code = {b.bidder_code: b for b in signed}
    pairs = similar_pairs(
        ((b.bidder_code, b.document_signature) for b in signed if b.document_signature), settings.similarity_threshold
    )
    flags: list[Flag] = []
    for a, b, similarity in pairs:
        first, second = by_code[a], by_code[b]
        if first.document_hash and first.document_hash == second.document_hash:
            continue
        evidence = (
            f"投标人 {_names((first, second))} 的投标文件异常一致"
            f"（文本相似度约 {similarity:.0%}，阈值 {settings.similarity_threshold:.0%}）"
        )
        flags.append(_flag("C40-SIMILAR", project, (first, second), evidence, settings, similarity, f"{a}|{b}"))
    return flags


def _regular_runs(prices: list[float], tolerance: float, geometric: bool) -> list[tuple[int, int]]:
    """Maximal runs [start, end] of sorted distinct prices whose steps (differences, or ratios − 1) agree."""
    steps = [(b / a - 1.0) if geometric else (b - a) for a, b in itertools.pairwise(prices)]
    runs, start = [], 0
    for i in range(1, len(steps) + 1):
        same = (
            i < len(steps)
            and steps[i] > 0
            and steps[i - 1] > 0
            and (abs(steps[i] - steps[i - 1]) <= tolerance * max(steps[i], steps[i - 1]))
        )
        if not same:
            if i - start >= 2:  # two equal steps: three prices
                runs.append((start, i))
            start = i
    return runs


def _any_regular_step(prices: list[float], tolerance: float) -> bool:
    """Cheap screen: do any two neighbouring steps agree (as differences or as ratios)?"""
    differences = [b - a for a, b in itertools.pairwise(prices)]
    for d1, d2 in itertools.pairwise(differences):
        if abs(d2 - d1) <= tolerance * max(d1, d2):
            return True
    ratios = [b / a - 1.0 for a, b in itertools.pairwise(prices)]
    return any(abs(r2 - r1) <= tolerance * max(r1, r2) for r1, r2 in itertools.pairwise(ratios))


def price_sequence(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """投标报价呈规律性差异: at least `price_sequence_min_bids` prices of different bidders forming an arithmetic
    or a geometric sequence (consecutive in price order, steps equal within the tolerance)."""
    if settings.weight("C40-PRICE-SEQ") <= 0:
        return []
    priced: dict[float, Bid] = {}
    for bid in bids:
        if bid.price is not None and bid.price > 0:
            priced.setdefault(bid.price, bid)
    prices = sorted(priced)
    if len(prices) < settings.price_sequence_min_bids or not _any_regular_step(
        prices, settings.price_sequence_tolerance
    ):
        return []
    for geometric in (False, True):
        for start, end in _regular_runs(prices, settings.price_sequence_tolerance, geometric):
            run = prices[start : end + 1]
            members = [priced[p] for p in run]
            if len(run) < settings.price_sequence_min_bids or len({b.bidder_code for b in members}) < len(run):
                continue
            ratio, difference = run[1] / run[0], _money(run[1] - run[0])
            step = f"相邻报价比约为 {ratio:.4f}" if geometric else f"相邻报价差约为 {difference}"
            evidence = (
                f"投标人 {_names(members)} 的报价 {'、'.join(_money(p) for p in run)} "
                f"呈{'等比' if geometric else '等差'}数列（{step}）"
            )
            return [_flag("C40-PRICE-SEQ", project, members, evidence, settings, float(len(run)))]
    return []


# --- cardinal-style indicators on one project ------------------------------------------------------------------


def _valid(bids: Sequence[Bid]) -> list[Bid]:
    return [b for b in bids if b.valid]


def _winning_bid(project: Project, bids: Sequence[Bid]) -> Bid | None:
    if project.winner_code is None:
        return None
    return next((b for b in bids if b.bidder_code == project.winner_code and b.valid), None)


def short_bid_period(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """R003: days from the notice to the bid deadline below `min_bid_days`, competitive procedures only."""
    if project.procedure.value not in settings.competitive_procedures or settings.weight("R003") <= 0:
        return []
    if project.notice_date is None or project.bid_deadline is None:
        return []
    days = (project.bid_deadline.date() - project.notice_date).days
    if days >= settings.min_bid_days:
        return []
    evidence = (
        f"{project.notice_date:%Y-%m-%d} 发布公告，{project.bid_deadline:%Y-%m-%d} 截止投标，"
        f"投标期仅 {days} 天（不少于 {settings.min_bid_days} 天）"
    )
    return [_flag("R003", project, (), evidence, settings, float(days))]


def single_valid_bid(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """R018: only one bidder with a valid bid in a competitive procedure."""
    if project.procedure.value not in settings.competitive_procedures or settings.weight("R018") <= 0:
        return []
    valid = _valid(bids)
    if len({b.bidder_code for b in valid}) != 1:
        return []
    evidence = (
        f"{TENDER_METHOD.label(project.procedure)}项目仅投标人 {_names(valid)} 一家有效投标（共 {len(bids)} 份投标）"
    )
    return [_flag("R018", project, valid, evidence, settings, 1.0)]


def identical_prices(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """R028: different bidders submitted the same price."""
    if settings.weight("R028") <= 0:
        return []
    rounded = [round(b.price, 2) for b in bids if b.price is not None]
    if len(set(rounded)) == len(rounded):
        return []
    by_price: dict[float, list[Bid]] = {}
    for bid in bids:
        if bid.price is not None:
            by_price.setdefault(round(bid.price, 2), []).append(bid)
    flags: list[Flag] = []
    for price, same in by_price.items():
        if len({b.bidder_code for b in same}) >= 2:
            evidence = f"投标人 {_names(same)} 的投标报价同为 {_money(price)}"
            flags.append(_flag("R028", project, same, evidence, settings, price))
    return flags


def late_winning_bid(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """R030: the winner's valid bid was received after the bid deadline."""
    winner = _winning_bid(project, bids)
    if winner is None or winner.received_at is None or project.bid_deadline is None or settings.weight("R030") <= 0:
        return []
    if winner.received_at <= project.bid_deadline:
        return []
    late = winner.received_at - project.bid_deadline
    evidence = (
        f"中标人 {winner.bidder_name} 的投标文件于 {winner.received_at:%Y-%m-%d %H:%M} 送达，"
        f"晚于投标截止时间 {project.bid_deadline:%Y-%m-%d %H:%M}（逾期 {late.total_seconds() / 60:.0f} 分钟）"
    )
    return [_flag("R030", project, (winner,), evidence, settings, late.total_seconds())]


def others_disqualified(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """R035: exactly one bidder has valid bids, it is the winner, and at least `r035_min_disqualified` other
    bidders were disqualified."""
    if project.winner_code is None or settings.weight("R035") <= 0:
        return []
    valid_bidders = {b.bidder_code for b in bids if b.valid}
    if valid_bidders != {project.winner_code}:
        return []
    rejected = [b for b in bids if not b.valid and b.bidder_code != project.winner_code]
    rejected_bidders = {b.bidder_code for b in rejected}
    if len(rejected_bidders) < settings.r035_min_disqualified:
        return []
    reasons = "；".join(sorted({b.disqualify_reason for b in rejected if b.disqualify_reason})) or "未载明理由"
    winner_name = next(b.bidder_name for b in bids if b.bidder_code == project.winner_code)
    evidence = (
        f"除中标人 {winner_name} 外，其余 {len(rejected_bidders)} 家投标人（{_names(rejected)}）均被否决（{reasons}）"
    )
    return [_flag("R035", project, rejected, evidence, settings, float(len(rejected_bidders)))]


def lowest_bid_disqualified(project: Project, bids: Sequence[Bid], settings: RiskSettings) -> list[Flag]:
    """R036: under 经评审的最低投标价法, the lowest submitted bid was disqualified and the project awarded."""
    if project.award_criterion != AwardCriterion.lowest_price or project.winner_code is None:
        return []
    priced = [b for b in bids if b.price is not None]
    if len(priced) < 2 or settings.weight("R036") <= 0:
        return []
    lowest = min(priced, key=lambda b: b.price or 0.0)
    if lowest.valid or any(b.valid and b.price == lowest.price for b in priced):
        return []
    reason = f"（{lowest.disqualify_reason}）" if lowest.disqualify_reason else ""
    evidence = f"最低价评标，最低报价 {_money(lowest.price or 0.0)} 的投标人 {lowest.bidder_name} 被否决{reason}"
    return [_flag("R036", project, (lowest,), evidence, settings, lowest.price)]


PROJECT_RULES: tuple[ProjectRule, ...] = (
    same_mac,
    same_ip,
    same_document,
    same_author,
    same_deposit_account,
    same_project_manager,
    similar_documents,
    price_sequence,
    short_bid_period,
    single_valid_bid,
    identical_prices,
    late_winning_bid,
    others_disqualified,
    lowest_bid_disqualified,
)


# --- rules against the population -----------------------------------------------------------------------------


def iqr_fences(values: Sequence[float], factor: float) -> tuple[float, float]:
    """(Q1 − k·IQR, Q3 + k·IQR), quartiles by linear interpolation between order statistics."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    spread = q3 - q1
    return q1 - factor * spread, q3 + factor * spread


def second_lowest_gap(project: Project, bids: Sequence[Bid]) -> float | None:
    """(second-lowest valid price − winning price) / winning price, where the winner's bid is the lowest valid
    bid (cardinal's exclusion for R024/R058); None when it does not apply."""
    winner = _winning_bid(project, bids)
    if winner is None or winner.price is None or winner.price <= 0:
        return None
    others = sorted(b.price for b in bids if b.valid and b.price is not None and b.bidder_code != winner.bidder_code)
    if not others or others[0] < winner.price:
        return None
    return (others[0] - winner.price) / winner.price


def gap_thresholds(gaps: Sequence[float], settings: RiskSettings) -> tuple[float, float]:
    """(R024 threshold, R058 threshold): the configured values, else the IQR fences when the population is large
    enough, else the fallbacks."""
    if len(gaps) >= settings.iqr_min_population:
        low, high = iqr_fences(gaps, settings.iqr_factor)
    else:
        low, high = settings.r024_fallback, settings.r058_fallback
    return (
        settings.r024_threshold if settings.r024_threshold is not None else low,
        settings.r058_threshold if settings.r058_threshold is not None else high,
    )


def second_lowest_outliers(register: Register, settings: RiskSettings) -> list[Flag]:
    """R024 (winner very close to the second-lowest valid bid) and R058 (very far below it)."""
    gaps: dict[str, float] = {}
    for project in register.projects:
        gap = second_lowest_gap(project, register.bids(project.code))
        if gap is not None:
            gaps[project.code] = gap
    if not gaps:
        return []
    close, far = gap_thresholds(list(gaps.values()), settings)
    by_code = {p.code: p for p in register.projects}
    flags: list[Flag] = []
    for code, gap in gaps.items():
        project = by_code[code]
        winner = _winning_bid(project, register.bids(code))
        assert winner is not None
        if gap <= close and settings.weight("R024") > 0:
            evidence = f"中标人 {winner.bidder_name} 的报价仅比次低有效报价低 {gap:.2%}（阈值 {max(close, 0.0):.2%}）"
            flags.append(_flag("R024", project, (winner,), evidence, settings, gap))
        elif gap >= far and settings.weight("R058") > 0:
            evidence = f"中标人 {winner.bidder_name} 的报价比次低有效报价低 {gap:.2%}（阈值 {far:.2%}）"
            flags.append(_flag("R058", project, (winner,), evidence, settings, gap))
    return flags


def frequent_losers(register: Register, settings: RiskSettings) -> list[Flag]:
    """R025: a top tenderer (valid bids ≥ Q3 of all bidders' counts and ≥ `r025_min_bids`) that wins at most
    `r025_max_win_ratio` of its valid bids (or the IQR lower fence of win ratios when that is lower and
    positive). Flagged on every project where it lost."""
    if settings.weight("R025") <= 0:
        return []
    valid_bids: dict[str, int] = defaultdict(int)
    wins: dict[str, int] = defaultdict(int)
    lost_in: dict[str, list[Project]] = defaultdict(list)
    names: dict[str, str] = {}
    for project in register.projects:
        for bid in register.bids(project.code):
            if not bid.valid:
                continue
            valid_bids[bid.bidder_code] += 1
            names.setdefault(bid.bidder_code, bid.bidder_name)
            if bid.bidder_code == project.winner_code:
                wins[bid.bidder_code] += 1
            elif project.winner_code is not None:
                lost_in[bid.bidder_code].append(project)
    if len(valid_bids) < 4:
        return []
    counts = list(valid_bids.values())
    top = max(settings.r025_min_bids, statistics.quantiles(counts, n=4, method="inclusive")[2])
    ratio_limit = settings.r025_max_win_ratio
    if len(counts) >= settings.iqr_min_population:
        fence = iqr_fences([wins[c] / n for c, n in valid_bids.items()], settings.iqr_factor)[0]
        if fence > 0:
            ratio_limit = min(ratio_limit, fence)
    flags: list[Flag] = []
    for code, count in valid_bids.items():
        ratio = wins[code] / count
        if count < top or ratio > ratio_limit:
            continue
        evidence = (
            f"投标人 {names[code]} 共有效投标 {count} 次、中标 {wins[code]} 次（中标率 {ratio:.1%}，"
            f"上限 {ratio_limit:.1%}），本项目亦未中标"
        )
        flags.extend(Flag("R025", p.code, (code,), evidence, settings.weight("R025"), ratio) for p in lost_in[code])
    return flags


def award_price(project: Project, bids: Sequence[Bid]) -> float | None:
    if project.award_price is not None:
        return project.award_price
    winner = _winning_bid(project, bids)
    return winner.price if winner is not None else None


def price_thresholds(ratios: Sequence[float], settings: RiskSettings) -> tuple[float, float]:
    """(low, high) bounds of award/estimate: IQR fences (the high one capped at 1: above the 招标控制价 is always
    abnormal) when the population is large enough, else the fixed `low_price_ratio` / `high_price_ratio`."""
    if len(ratios) >= settings.iqr_min_population:
        low, high = iqr_fences(ratios, settings.iqr_factor)
        return low, min(high, 1.0)
    return settings.low_price_ratio, settings.high_price_ratio


def price_anomalies(register: Register, settings: RiskSettings) -> list[Flag]:
    """P-LOW 低价抢标 / P-HIGH 高价中标: the award price against the estimated price."""
    ratios: dict[str, tuple[Project, float, float]] = {}
    for project in register.projects:
        if not project.estimated_price or project.estimated_price <= 0:
            continue
        price = award_price(project, register.bids(project.code))
        if price is not None:
            ratios[project.code] = (project, price, price / project.estimated_price)
    if not ratios:
        return []
    low, high = price_thresholds([r for _, _, r in ratios.values()], settings)
    flags: list[Flag] = []
    for project, price, ratio in ratios.values():
        rule_id = "P-LOW" if ratio < low else "P-HIGH" if ratio > high else ""
        if not rule_id or settings.weight(rule_id) <= 0:
            continue
        winner = _winning_bid(project, register.bids(project.code))
        who = f"中标人 {winner.bidder_name} 的" if winner is not None else ""
        head = f"{who}中标价 {_money(price)}"
        estimate = _money(project.estimated_price or 0.0)
        if rule_id == "P-LOW":
            evidence = f"{head} 仅为招标控制价 {estimate} 的 {ratio:.1%}（下限 {low:.1%}），疑低价抢标"
        else:
            evidence = f"{head} 达招标控制价 {estimate} 的 {ratio:.1%}（上限 {high:.1%}），疑高价中标"
        entities = (winner.bidder_code,) if winner is not None else ()
        flags.append(Flag(rule_id, project.code, entities, evidence, settings.weight(rule_id), ratio))
    return flags


POPULATION_RULES: tuple[Callable[[Register, RiskSettings], list[Flag]], ...] = (
    second_lowest_outliers,
    frequent_losers,
    price_anomalies,
)
