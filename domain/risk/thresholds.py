"""Thresholds and weights of the red-flag screening: the campaign YAML's `risk:` section (issue 14).

Every default is documented where it is declared, with its source. A campaign that writes no `risk:` section
gets exactly these values; `RiskSettings.model_validate(yaml_mapping)` reads one (unknown keys are refused).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.risk.register import normalise_mac

# Default rule weights, each in (0, 1]: how strongly one hit of the rule alone suggests collusion or
# manipulation. Combined per project by a noisy-OR (scoring.py). Rules of 条例第四十条 (视为串通) weigh most:
# the regulation itself deems them collusion; cardinal-style indicators are screening signals whose base
# rate among honest projects is a few percent, so no single one reaches the alert threshold alone.
DEFAULT_WEIGHTS: dict[str, float] = {
    "C40-MAC": 0.7,
    "C40-IP": 0.5,
    "C40-DOC": 0.8,
    "C40-AUTHOR": 0.5,
    "C40-DEPOSIT": 0.8,
    "C40-MANAGER": 0.6,
    "C40-SIMILAR": 0.6,
    "C40-PRICE-SEQ": 0.4,
    "NET": 0.4,
    "R003": 0.15,
    "R018": 0.2,
    "R024": 0.25,
    "R025": 0.15,
    "R028": 0.3,
    "R030": 0.4,
    "R035": 0.3,
    "R036": 0.25,
    "R058": 0.15,
    "P-LOW": 0.2,
    "P-HIGH": 0.2,
}

# Values that identify a network or a template rather than a person: the trading centre's public terminals
# share one outgoing IP, and office software writes the same default author into every file.
DEFAULT_IGNORED_IPS: tuple[str, ...] = ()
DEFAULT_IGNORED_AUTHORS: tuple[str, ...] = (
    "administrator",
    "admin",
    "user",
    "微软用户",
    "作者",
    "lenovo",
    "dell",
    "hp",
    "微软中国",
    "china",
)


IDENTIFIER_KINDS = ("ip", "mac", "document_hash", "document_author", "deposit_account", "project_manager")


class RiskSettings(BaseModel):
    """The `risk:` section. All fields optional; see each description for the default's source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description="规则权重（0–1），未写的规则用默认值；写 0 即停用该规则",
    )
    alert_score: float = Field(
        60.0,
        ge=0,
        le=100,
        description="项目风险分达到此值即为预警项目（转为线索）。默认 60：同一 MAC、同一文件、同一保证金账户、"
        "同一项目经理、标书异常一致单独即达到；同一 IP、同一作者、报价规律性差异须另有佐证",
    )
    ignored_ips: tuple[str, ...] = Field(DEFAULT_IGNORED_IPS, description="不参与比对的 IP（如交易中心公共终端出口）")
    ignored_macs: tuple[str, ...] = Field((), description="不参与比对的 MAC（如交易中心公共终端）")
    ignored_authors: tuple[str, ...] = Field(
        DEFAULT_IGNORED_AUTHORS, description="不参与比对的文档作者（办公软件默认作者名），不区分大小写"
    )
    similarity_threshold: float = Field(
        0.8, gt=0, le=1, description="投标文件异常一致：MinHash 估计的 Jaccard 相似度达到此值"
    )
    price_sequence_min_bids: int = Field(3, ge=3, description="报价呈规律性差异：至少这么多份报价连成等差或等比数列")
    price_sequence_tolerance: float = Field(
        0.001,
        ge=0,
        lt=0.1,
        description="等差/等比的容差：相邻差（或比）的相对偏差不超过此值；随机报价偶然满足的概率约为此值的两倍",
    )
    competitive_procedures: tuple[str, ...] = Field(
        ("open", "invited"), description="R018/R003 适用的竞争性方式（cardinal R018 默认 open|selective）"
    )
    min_bid_days: int = Field(
        20,
        ge=1,
        description="R003 投标期下限（天）。招标投标法第二十四条：依法必须招标的项目自招标文件发出至投标截止"
        "不少于二十日（cardinal R003 默认 15 天）",
    )
    iqr_min_population: int = Field(
        30, ge=4, description="用四分位距（IQR）判定离群值所需的最少样本数；不足时用下列固定阈值"
    )
    iqr_factor: float = Field(1.5, gt=0, description="离群栅栏 Q1 − k·IQR / Q3 + k·IQR 的 k（cardinal 用 1.5）")
    r024_threshold: float | None = Field(
        None, description="R024 固定阈值：(次低有效价 − 中标价)/中标价 不超过此值。不写时用 IQR 下栅栏（cardinal 默认）"
    )
    r024_fallback: float = Field(0.005, ge=0, description="样本不足时 R024 的阈值（0.5%）")
    r058_threshold: float | None = Field(None, description="R058 固定阈值；不写时用 IQR 上栅栏（cardinal 默认）")
    r058_fallback: float = Field(0.25, ge=0, description="样本不足时 R058 的阈值（25%）")
    r025_min_bids: int = Field(10, ge=1, description="R025 “频繁投标”至少的有效投标数（并且不少于投标数的上四分位数）")
    r025_max_win_ratio: float = Field(
        0.05,
        ge=0,
        le=1,
        description="R025 中标率上限；样本足够且 IQR 下栅栏为正时取两者较小者（cardinal 只用下栅栏，"
        "但中标率多为 0 时下栅栏为负、无人可判）",
    )
    r035_min_disqualified: int = Field(1, ge=1, description="R035 至少有这么多其他投标人被否决（cardinal 默认 1）")
    low_price_ratio: float = Field(
        0.8,
        gt=0,
        le=1,
        description="低价抢标：中标价/招标控制价 低于此值（样本不少于 iqr_min_population 时改用 IQR 下栅栏）",
    )
    high_price_ratio: float = Field(
        0.995,
        gt=0,
        description="高价中标：中标价/招标控制价 高于此值（样本足够时改用 IQR 上栅栏，但不超过 1：超过控制价一律预警）",
    )
    network_cross_project_kinds: tuple[str, ...] = Field(
        ("mac", "deposit_account", "project_manager", "document_hash"),
        description="跨项目也连成关联的标识（IP 是动态分配的、作者常为默认值，只在同一项目内比对）",
    )
    network_min_projects: int = Field(
        2, ge=1, description="关联群在至少这么多个项目中留下共同标识，才对其成员同场投标的项目加 NET 预警"
    )
    draw_always_score: float = Field(60.0, ge=0, le=100, description="风险加权抽查：风险分达到此值的项目必抽")
    draw_base_weight: float = Field(
        10.0,
        gt=0,
        description="风险加权抽查：其余项目按 (基础权重 + 风险分) 加权抽取；基础权重保证零分项目也可能被抽中",
    )

    @field_validator("ignored_ips")
    @classmethod
    def _ips_stripped(cls, ips: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(ip.strip() for ip in ips)

    @field_validator("ignored_macs")
    @classmethod
    def _macs_normalised(cls, macs: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalise_mac(m) for m in macs)

    @field_validator("network_cross_project_kinds")
    @classmethod
    def _known_kinds(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [k for k in kinds if k not in IDENTIFIER_KINDS]
        if unknown:
            raise ValueError(f"未知的标识种类 {unknown}，可选：{'、'.join(IDENTIFIER_KINDS)}")
        return kinds

    @field_validator("ignored_authors")
    @classmethod
    def _authors_casefolded(cls, authors: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(a.strip().casefold() for a in authors)

    @field_validator("weights")
    @classmethod
    def _weights_completed(cls, weights: dict[str, float]) -> dict[str, float]:
        """Every rule's weight: the ones written, the defaults for the rest."""
        unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ValueError(f"未知的规则 {unknown}")
        bad = {k: v for k, v in weights.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"规则权重必须在 0 到 1 之间：{bad}")
        return {**DEFAULT_WEIGHTS, **weights}

    def weight(self, rule_id: str) -> float:
        return self.weights.get(rule_id, 0.0)
