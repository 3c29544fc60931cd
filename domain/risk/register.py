"""The bid-level register (issue 14 item 1) as plain frozen values: projects, bids, evaluations.

This is what a 公共资源交易平台 export carries per project and per bid. The importer and the database models map
onto these types; the rules read only these. Money is in yuan (float: the rules compare ratios, not ledgers).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from domain.project import TenderMethod
from domain.vocabulary import Vocabulary


@lru_cache(maxsize=65536)  # a company's few computers recur in every bid it makes
def normalise_mac(mac: str) -> str:
    """AA-BB-CC-DD-EE-FF whatever the separators and case the platform wrote."""
    digits = "".join(ch for ch in mac.upper() if ch.isalnum())
    return "-".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _clean(value: str | None) -> str | None:
    stripped = value.strip() if value else None
    return stripped or None


class AwardCriterion(StrEnum):
    lowest_price = "lowest_price"
    comprehensive = "comprehensive"
    other = "other"


AWARD_CRITERION = Vocabulary(
    AwardCriterion,
    {
        AwardCriterion.lowest_price: "经评审的最低投标价法",
        AwardCriterion.comprehensive: "综合评估法",
        AwardCriterion.other: "其他评标办法",
    },
    aliases={
        "最低价": AwardCriterion.lowest_price,
        "最低投标价法": AwardCriterion.lowest_price,
        "综合评分法": AwardCriterion.comprehensive,
    },
)


@dataclass(frozen=True, slots=True)
class Bidder:
    """A market entity; `code` is its 统一社会信用代码 (the identity every rule and the network use)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Project:
    code: str
    name: str
    department_code: str
    procedure: TenderMethod
    notice_date: dt.date | None = None
    bid_deadline: dt.datetime | None = None  # 投标截止时间, aware (compared with the bids' receipt times)
    award_date: dt.date | None = None
    estimated_price: float | None = None  # 招标控制价 / 预算
    award_criterion: AwardCriterion = AwardCriterion.comprehensive
    tenderer: str = ""  # 招标人
    agent: str = ""  # 招标代理机构
    winner_code: str | None = None  # the winning bidder's credit code (None: not awarded yet)
    award_price: float | None = None  # 中标价 (defaults to the winner's bid price)


@dataclass(frozen=True, slots=True)
class Bid:
    """One bid. Identifiers the platform records with the upload (IP, MAC, file hash and author, the account
    the deposit came from, the named 项目经理 — name with certificate number when the export has it) may be
    missing (None): a missing value never matches anything.

    `document_signature` is a MinHash signature of the bid's own text (`similarity.document_signature`),
    computed at import when the text is available; it lets the rules find 异常一致 documents without the text.

    Identifiers are normalised on construction (surrounding blanks dropped, MAC as AA-BB-CC-DD-EE-FF, file hash
    in lower case), so the rules compare plain values."""

    project_code: str
    bidder_code: str
    bidder_name: str
    price: float | None
    valid: bool = True
    disqualify_reason: str = ""
    received_at: dt.datetime | None = None  # aware
    ip: str | None = None
    mac: str | None = None
    document_hash: str | None = None
    document_author: str | None = None
    deposit_account: str | None = None
    project_manager: str | None = None
    document_signature: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        normalised = {
            "ip": _clean(self.ip),
            "mac": normalise_mac(self.mac) or None if self.mac else None,
            "document_hash": self.document_hash.strip().lower() or None if self.document_hash else None,
            "document_author": _clean(self.document_author),
            "deposit_account": _clean(self.deposit_account),
            "project_manager": _clean(self.project_manager),
        }
        for name, value in normalised.items():
            if value != getattr(self, name):
                object.__setattr__(self, name, value)  # frozen: normalise once, here


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The evaluation committee of one project (评标委员会): expert identifiers (name or 专家证号)."""

    project_code: str
    experts: tuple[str, ...]


@dataclass(frozen=True)
class Register:
    """Projects with their bids, grouped once so every rule reads a project's bids without searching."""

    projects: tuple[Project, ...]
    bids_by_project: dict[str, tuple[Bid, ...]] = field(repr=False)
    evaluations: dict[str, Evaluation] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, projects: Iterable[Project], bids: Iterable[Bid], evaluations: Iterable[Evaluation] = ()
    ) -> Register:
        grouped: dict[str, list[Bid]] = defaultdict(list)
        for bid in bids:
            grouped[bid.project_code].append(bid)
        project_list = tuple(projects)
        return cls(
            projects=project_list,
            bids_by_project={p.code: tuple(grouped.get(p.code, ())) for p in project_list},
            evaluations={e.project_code: e for e in evaluations},
        )

    def bids(self, project_code: str) -> tuple[Bid, ...]:
        return self.bids_by_project.get(project_code, ())

    @property
    def bid_count(self) -> int:
        return sum(len(b) for b in self.bids_by_project.values())

    def bidder_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for bids in self.bids_by_project.values():
            for bid in bids:
                names.setdefault(bid.bidder_code, bid.bidder_name)
        return names
