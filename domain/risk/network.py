"""The collusion network (issue 14 item 3), pure: bidders linked by shared identifiers, grouped by union-find.

Links come from two places:
- every 条例第四十条 flag that names a shared identifier (same IP, MAC, file, author, deposit account, project
  manager, or near-duplicate documents) links the bidders it names, within that project;
- identifiers in `settings.network_cross_project_kinds` (MAC, deposit account, project manager, file hash by
  default) link different bidders that used the same value in different projects too (one computer, one account,
  one person behind several companies — 关联企业). IP and author are left out across projects: addresses are
  reassigned and default authors are shared by strangers.

A group is a connected component of two or more bidders. Union-find with path halving and union by size is
near-linear in the number of links; no pairwise comparison over all bids. The dashboard draws the `links`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from domain.risk.register import Register
from domain.risk.rules import RULES, Flag, kept
from domain.risk.thresholds import RiskSettings

KIND_NAMES = {
    "ip": "IP 地址",
    "mac": "MAC 地址",
    "document_hash": "投标文件哈希",
    "document_author": "文档作者",
    "deposit_account": "保证金账户",
    "project_manager": "项目经理",
    "document_text": "相似标书",
}


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        if parent == item:
            self.size.setdefault(item, 1)
            return item
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a == b:
            return
        if self.size[a] < self.size[b]:
            a, b = b, a
        self.parent[b] = a
        self.size[a] += self.size[b]


@dataclass(frozen=True, slots=True)
class Link:
    """Bidders that share one identifier value (`projects`: where it was seen shared)."""

    kind: str
    value: str
    members: tuple[str, ...]
    projects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CollusionGroup:
    group_id: str  # stable: "G-" + the smallest member code
    members: tuple[str, ...]
    names: tuple[str, ...]
    links: tuple[Link, ...]
    evidence_projects: tuple[str, ...]  # projects where a link between members was seen
    kinds: tuple[str, ...]

    def edges(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(member, member, kinds that link them) for drawing the group: each link joins all its members."""
        kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
        for link in self.links:
            for i, first in enumerate(link.members):
                for second in link.members[i + 1 :]:
                    kinds[(first, second)].add(link.kind)
        return [(a, b, tuple(sorted(k))) for (a, b), k in sorted(kinds.items())]

    def describe(self) -> str:
        kinds = "、".join(KIND_NAMES.get(k, k) for k in self.kinds)
        return (
            f"关联群 {self.group_id}：{len(self.members)} 家企业（{'、'.join(self.names)}），"
            f"在 {len(self.evidence_projects)} 个项目中共用{kinds}"
        )


def _links(register: Register, flags: Iterable[Flag], settings: RiskSettings) -> list[Link]:
    # keyed by project too: an author or IP shared in one project says nothing about another project's bidders
    within: dict[tuple[str, str, str], tuple[set[str], set[str]]] = {}
    for flag in flags:
        kind = RULES[flag.rule_id].link_kind if flag.rule_id in RULES else ""
        if not kind or len(flag.entities) < 2:
            continue
        members, projects = within.setdefault((kind, flag.link_value, flag.project_code), (set(), set()))
        members.update(flag.entities)
        projects.add(flag.project_code)
    for kind in settings.network_cross_project_kinds:
        raw = attrgetter(kind)
        # first pass: which values more than one bidder used (most values are one company's own)
        first_owner: dict[str, str] = {}
        shared: set[str] = set()
        for bids in register.bids_by_project.values():
            for bid in bids:
                value = raw(bid)
                if value is not None and first_owner.setdefault(value, bid.bidder_code) != bid.bidder_code:
                    shared.add(value)
        shared = {v for v in shared if kept(kind, v, settings)}
        if not shared:
            continue
        for project_code, bids in register.bids_by_project.items():
            for bid in bids:
                value = raw(bid)
                if value in shared:
                    members, projects = within.setdefault((kind, value, ""), (set(), set()))
                    members.add(bid.bidder_code)
                    projects.add(project_code)
    return [Link(kind, value, tuple(sorted(m)), tuple(sorted(p))) for (kind, value, _), (m, p) in within.items()]


def collusion_groups(register: Register, flags: Iterable[Flag], settings: RiskSettings) -> list[CollusionGroup]:
    """Connected groups of bidders, largest first (then by id)."""
    links = _links(register, flags, settings)
    forest = UnionFind()
    for link in links:
        first = link.members[0]
        for other in link.members[1:]:
            forest.union(first, other)
    by_root: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        by_root[forest.find(link.members[0])].append(link)
    names = register.bidder_names()
    groups = []
    for root_links in by_root.values():
        members = tuple(sorted({m for link in root_links for m in link.members}))
        groups.append(
            CollusionGroup(
                group_id=f"G-{members[0]}",
                members=members,
                names=tuple(names.get(m, m) for m in members),
                links=tuple(sorted(root_links, key=lambda k: (k.kind, k.value))),
                evidence_projects=tuple(sorted({p for link in root_links for p in link.projects})),
                kinds=tuple(sorted({link.kind for link in root_links})),
            )
        )
    return sorted(groups, key=lambda g: (-len(g.members), g.group_id))


def network_flags(register: Register, groups: Sequence[CollusionGroup], settings: RiskSettings) -> list[Flag]:
    """NET: two or more bidders of one recurring group (evidence in ≥ `network_min_projects` projects) bid in
    the same project — the pattern repeats, so even a project without a shared identifier of its own is suspect."""
    weight = settings.weight("NET")
    if weight <= 0:
        return []
    group_of: dict[str, CollusionGroup] = {}
    for group in groups:
        if len(group.evidence_projects) >= settings.network_min_projects:
            for member in group.members:
                group_of[member] = group
    if not group_of:
        return []
    flags: list[Flag] = []
    for project in register.projects:
        present: dict[str, dict[str, str]] = {}
        for bid in register.bids(project.code):
            member_of = group_of.get(bid.bidder_code)
            if member_of is not None:
                present.setdefault(member_of.group_id, {})[bid.bidder_code] = bid.bidder_name
        for group_id, bidders in present.items():
            if len(bidders) < 2:
                continue
            group = next(g for g in (group_of[c] for c in bidders) if g.group_id == group_id)
            evidence = f"投标人 {'、'.join(sorted(bidders.values()))} 同属{group.describe()}，本项目同场投标"
            flags.append(
                Flag("NET", project.code, tuple(sorted(bidders)), evidence, weight, float(len(bidders)), group_id)
            )
    return flags
