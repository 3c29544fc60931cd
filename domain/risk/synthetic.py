"""A generated bid register with planted collusion rings: for the tests, the bench and the demo.

Honest projects are noisy the way real ones are: single bids, short periods, late or disqualified bids, price
outliers, the trading centre's public terminal IP (`PUBLIC_TERMINAL_IP`, which the settings should ignore) and
office software's default author. A ring is 3–5 companies that take turns winning 4–8 projects; in each ring
project at least one 条例第四十条 trace is left (shared MAC, IP, author, deposit account, project manager, the
same file, near-duplicate text or a regular price sequence), and every ring leaves identifier traces in at least
two projects. Deterministic from the seed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace

from domain.localtime import LOCAL_TZ
from domain.project import TenderMethod
from domain.risk.register import AwardCriterion, Bid, Project, Register
from domain.risk.scan import RiskScan
from domain.risk.similarity import NUM_PERM

PUBLIC_TERMINAL_IP = "218.76.10.5"
DEPARTMENTS = ("zjj", "jtj", "slj", "zrj", "nyj", "ggzy")
TRACES = ("mac", "ip", "author", "deposit", "manager", "document", "similar", "price_sequence")
IDENTIFIER_TRACES = TRACES[:7]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"
_TRADES = ("建设", "建筑", "路桥", "水利", "市政", "园林", "机电", "装饰", "工程", "安装")


@dataclass(frozen=True, slots=True)
class PlantedRing:
    ring_id: str
    members: tuple[str, ...]  # bidder credit codes
    projects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recovery:
    """How a scan did against the planted rings. A ring is found when every one of its projects is at or above
    the alert score and one collusion group holds all its members. precision = alerted projects inside rings /
    alerted projects; recall = rings found / rings; project_recall = alerted ring projects / ring projects."""

    rings: int
    rings_found: int
    ring_projects: int
    alerted: int
    alerted_in_rings: int

    @property
    def precision(self) -> float:
        return self.alerted_in_rings / self.alerted if self.alerted else 1.0

    @property
    def recall(self) -> float:
        return self.rings_found / self.rings if self.rings else 1.0

    @property
    def project_recall(self) -> float:
        return self.alerted_in_rings / self.ring_projects if self.ring_projects else 1.0


@dataclass(frozen=True)
class Synthetic:
    register: Register
    rings: tuple[PlantedRing, ...]

    @property
    def ring_projects(self) -> frozenset[str]:
        return frozenset(p for ring in self.rings for p in ring.projects)

    def recovery(self, result: RiskScan) -> Recovery:
        alerted = {r.project_code for r in result.alerts()}
        group_of = {m: g.group_id for g in result.groups for m in g.members}
        found = sum(
            1
            for ring in self.rings
            if set(ring.projects) <= alerted
            and len({group_of.get(m) for m in ring.members}) == 1
            and group_of.get(ring.members[0]) is not None
        )
        inside = self.ring_projects
        return Recovery(len(self.rings), found, len(inside), len(alerted), len(alerted & inside))


@dataclass
class _Company:
    code: str
    name: str
    macs: tuple[str, ...]
    author: str
    account: str
    managers: tuple[str, ...]


@dataclass(frozen=True)
class _Controller:
    mac: str
    ip: str
    author: str
    account: str
    manager: str
    document: str
    signature: tuple[int, ...]


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    def next(self) -> int:
        self.serial += 1
        return self.serial

    def credit_code(self) -> str:
        return f"91{self.rng.randrange(110000, 659999)}{self.next():09d}X"[:18]

    def person(self) -> str:
        rng = self.rng
        return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))

    def full_name(self) -> str:
        return self.rng.choice(_SURNAMES) + self.rng.choice(_GIVEN) + self.rng.choice(_GIVEN)

    def mac(self) -> str:
        return "-".join(f"{self.rng.randrange(256):02X}" for _ in range(6))

    def ip(self) -> str:
        rng = self.rng
        first = rng.choice((58, 61, 113, 117, 121, 183, 222))
        return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    def account(self) -> str:
        return f"6222{self.rng.randrange(10**14, 10**15)}"

    def digest(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def signature(self) -> tuple[int, ...]:
        return tuple(self.rng.getrandbits(61) for _ in range(NUM_PERM))

    def company(self, index: int) -> _Company:
        rng = self.rng
        author = rng.choice(("Administrator", "微软用户", "User")) if rng.random() < 0.3 else self.full_name()
        return _Company(
            code=self.credit_code(),
            name=f"{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}{rng.choice(_TRADES)}有限公司{index}",
            macs=tuple(self.mac() for _ in range(rng.choice((1, 1, 2)))),
            author=author,
            account=self.account(),
            managers=tuple(
                f"{self.person()}（{rng.choice('苏浙川鄂冀')}{self.next():010d}）" for _ in range(rng.randint(1, 3))
            ),
        )


def _honest_bid(maker: _Maker, project: Project, company: _Company, price: float, received: dt.datetime) -> Bid:
    rng = maker.rng
    return Bid(
        project_code=project.code,
        bidder_code=company.code,
        bidder_name=company.name,
        price=price,
        received_at=received,
        ip=PUBLIC_TERMINAL_IP if rng.random() < 0.03 else maker.ip(),
        mac=rng.choice(company.macs),
        document_hash=maker.digest(),
        document_author=company.author,
        deposit_account=company.account,
        project_manager=rng.choice(company.managers),
        document_signature=maker.signature() if rng.random() < 0.5 else None,
    )


def _project(maker: _Maker, code: str) -> Project:
    rng = maker.rng
    notice = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(700))
    days = rng.randint(10, 19) if rng.random() < 0.03 else rng.randint(20, 35)
    roll = rng.random()
    procedure = (
        TenderMethod.open
        if roll < 0.75
        else TenderMethod.invited
        if roll < 0.85
        else TenderMethod.negotiation
        if roll < 0.95
        else TenderMethod.consultation
    )
    return Project(
        code=code,
        name=f"第{code[-6:]}号工程",
        department_code=rng.choice(DEPARTMENTS),
        procedure=procedure,
        notice_date=notice,
        bid_deadline=dt.datetime.combine(notice + dt.timedelta(days=days), dt.time(9, 30), tzinfo=LOCAL_TZ),
        award_date=notice + dt.timedelta(days=days + rng.randint(3, 15)),
        estimated_price=float(round(rng.lognormvariate(14.5, 1.0), -2)),
        award_criterion=AwardCriterion.lowest_price if rng.random() < 0.4 else AwardCriterion.comprehensive,
        tenderer=f"{rng.choice(DEPARTMENTS)}建设单位",
        agent=f"招标代理{rng.randrange(40)}",
    )


def _award(project: Project, bids: list[Bid], rng: random.Random, winner_code: str | None = None) -> Project:
    valid = sorted((b for b in bids if b.valid and b.price is not None), key=lambda b: b.price or 0.0)
    if not valid:
        return project
    if winner_code is None:
        pool = valid[:1] if project.award_criterion == AwardCriterion.lowest_price else valid[:3]
        winner_code = rng.choice(pool).bidder_code
    winner = next(b for b in valid if b.bidder_code == winner_code)
    return replace(project, winner_code=winner_code, award_price=winner.price)


def _honest_project(
    maker: _Maker, code: str, companies: list[_Company], extra: list[_Company]
) -> tuple[Project, list[Bid]]:
    rng = maker.rng
    project = _project(maker, code)
    assert project.estimated_price is not None and project.bid_deadline is not None
    count = 1 if rng.random() < 0.02 else rng.randint(3, 15)
    chosen = rng.sample(companies, count - len(extra)) + extra if count > len(extra) else extra[:count]
    bids = []
    for company in chosen:
        price = float(round(project.estimated_price * rng.uniform(0.8, 0.99)))
        received = project.bid_deadline - dt.timedelta(minutes=rng.randint(10, 60 * 24 * 5))
        bids.append(_honest_bid(maker, project, company, price, received))
    if rng.random() < 0.04:  # a disqualified bid, sometimes the lowest
        victim = min(bids, key=lambda b: b.price or 0.0) if rng.random() < 0.4 else rng.choice(bids)
        bids[bids.index(victim)] = replace(victim, valid=False, disqualify_reason="资格审查不合格")
    project = _award(project, bids, rng)
    if project.winner_code and project.bid_deadline and rng.random() < 0.005:  # a winner's bid logged late
        i = next(i for i, b in enumerate(bids) if b.bidder_code == project.winner_code)
        bids[i] = replace(bids[i], received_at=project.bid_deadline + dt.timedelta(minutes=rng.randint(1, 90)))
    return project, bids


def _ring_project(
    maker: _Maker,
    code: str,
    members: list[_Company],
    winner: _Company,
    innocents: list[_Company],
    traces: set[str],
    controller: _Controller,
) -> tuple[Project, list[Bid]]:
    rng = maker.rng
    project = _project(maker, code)
    assert project.estimated_price is not None and project.bid_deadline is not None
    base = float(round(project.estimated_price * rng.uniform(0.93, 0.99)))
    ratio = 1 + rng.choice((0.01, 0.015, 0.02, 0.03))
    step = round(base * rng.choice((0.01, 0.02, 0.025)))
    geometric = rng.random() < 0.5
    ordered = [winner] + [m for m in members if m is not winner]
    bids = []
    for rank, company in enumerate(ordered):
        if "price_sequence" in traces:
            price = float(round(base * ratio**rank)) if geometric else base + rank * step
        else:
            price = float(round(base * (1 + rank * rng.uniform(0.01, 0.05))))
        received = project.bid_deadline - dt.timedelta(minutes=rng.randint(10, 60 * 24 * 3))
        bid = _honest_bid(maker, project, company, price, received)
        signature = bid.document_signature
        if "similar" in traces:  # the controller's text, lightly edited per company
            signature = tuple(v if rng.random() > 0.02 else rng.getrandbits(61) for v in controller.signature)
        bids.append(
            replace(
                bid,
                mac=controller.mac if "mac" in traces else bid.mac,
                ip=controller.ip if "ip" in traces else bid.ip,
                document_author=controller.author if "author" in traces else bid.document_author,
                deposit_account=controller.account if "deposit" in traces else bid.deposit_account,
                project_manager=controller.manager if "manager" in traces else bid.project_manager,
                document_hash=controller.document if "document" in traces else bid.document_hash,
                document_signature=signature,
            )
        )
    ceiling = max(b.price or 0.0 for b in bids)
    for company in innocents:  # honest bidders, priced above the ring: the ring wins
        price = float(round(ceiling * rng.uniform(1.01, 1.10)))
        received = project.bid_deadline - dt.timedelta(minutes=rng.randint(10, 60 * 24 * 5))
        bids.append(_honest_bid(maker, project, company, price, received))
    return _award(project, bids, rng, winner.code), bids


def generate(projects: int = 5000, seed: int = 1, rings: int | None = None) -> Synthetic:
    """About 9 bids per project; `rings` defaults to one per hundred projects."""
    maker = _Maker(seed)
    rng = maker.rng
    ring_count = max(1, projects // 100) if rings is None else rings
    companies = [maker.company(i) for i in range(max(50, projects // 2))]
    planted: list[PlantedRing] = []
    all_projects: list[Project] = []
    all_bids: list[Bid] = []
    ring_slots: list[tuple[int, int]] = []  # (ring index, project index in ring)
    ring_members: list[list[_Company]] = []
    controllers: list[_Controller] = []
    for r in range(ring_count):
        members = [maker.company(100000 + r * 10 + i) for i in range(rng.randint(3, 5))]
        ring_members.append(members)
        controllers.append(  # one controller behind the ring: its computer, account, manager, files
            _Controller(
                mac=maker.mac(),
                ip=maker.ip(),
                author=maker.full_name(),
                account=maker.account(),
                manager=f"{maker.person()}（鄂{maker.next():010d}）",
                document=maker.digest(),
                signature=maker.signature(),
            )
        )
        ring_slots.extend((r, j) for j in range(rng.randint(4, 8)))
    honest = max(0, projects - len(ring_slots))
    ring_codes: list[list[str]] = [[] for _ in range(ring_count)]
    # ring members also bid honestly, one at a time, in a few honest projects
    loose = (
        {rng.randrange(honest): [m] for members in ring_members for m in members for _ in range(3)} if honest else {}
    )
    slots = ["honest"] * honest + ["ring"] * len(ring_slots)
    rng.shuffle(slots)
    ring_iter = iter(ring_slots)
    honest_index = 0
    for number, kind in enumerate(slots):
        code = f"P{seed:02d}{number:08d}"
        if kind == "honest":
            project, bids = _honest_project(maker, code, companies, loose.get(honest_index, []))
            honest_index += 1
        else:
            r, j = next(ring_iter)
            members = ring_members[r]
            # the first two projects of a ring involve every member and leave identifier traces, so each ring is
            # one connected group with evidence in at least two projects
            full = j < 2 or rng.random() < 0.4
            taking_part = members if full else rng.sample(members, rng.randint(2, len(members)))
            winner = taking_part[j % len(taking_part)]
            traces = set(rng.sample(TRACES, rng.choice((1, 1, 2))))
            if len(taking_part) < 3:
                traces.discard("price_sequence")  # two prices are no sequence
            if (j < 2 or not traces) and not traces & set(IDENTIFIER_TRACES):
                traces.add(rng.choice(IDENTIFIER_TRACES))
            innocents = rng.sample(companies, rng.randint(0, 4))
            project, bids = _ring_project(maker, code, taking_part, winner, innocents, traces, controllers[r])
            ring_codes[r].append(code)
        all_projects.append(project)
        all_bids.extend(bids)
    for r, members in enumerate(ring_members):
        planted.append(PlantedRing(f"ring-{r:04d}", tuple(sorted(m.code for m in members)), tuple(ring_codes[r])))
    return Synthetic(Register.build(all_projects, all_bids), tuple(planted))
