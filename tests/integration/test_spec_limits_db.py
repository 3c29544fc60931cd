"""A spec with every text field at its domain.limits maximum launches on SQLite and on PostgreSQL, and
its values come back whole: what validation accepts fits the columns (PostgreSQL refuses what does
not fit, SQLite would silently keep it). The seed at 2**31 - 1 goes through a real verification draw."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from domain import limits
from domain.access import SYSTEM
from services import campaigns
from services.projects import draw_verification_samples
from services.spec_files import parse_spec
from store.models import Assignment, Campaign, Department, Escalation, Phase, Project, SampleDraw, TaskTemplate
from store.uow import UnitOfWork
from tests.unit.test_spec_limits import MEMBER, OFFICE, PHASE, TASK, WIDE, max_spec_yaml

AT = dt.datetime(2020, 5, 8, 1, 0, tzinfo=dt.UTC)


def test_a_spec_at_every_limit_launches_and_reads_back_whole(engine):
    spec = parse_spec(max_spec_yaml(), "max.yaml")
    with UnitOfWork(engine) as uow:
        report = campaigns.launch(uow.session, spec, actor=SYSTEM, at=AT, source_path="max.yaml")
        uow.commit()
    assert report.created and report.assignments_added > 0

    with UnitOfWork(engine) as uow:
        s = uow.session
        campaign = s.scalar(select(Campaign).where(Campaign.code == spec.id))
        assert campaign is not None
        assert (campaign.code, campaign.title, campaign.issuer) == (spec.id, spec.title, spec.issuer)
        departments = {d.code: d for d in s.scalars(select(Department).where(Department.campaign_id == campaign.id))}
        assert departments[OFFICE].name == WIDE * limits.NAME_MAX
        member, wanted = departments[MEMBER], spec.department(MEMBER)
        assert member.name == wanted.name and member.tags == "、".join(wanted.tags)
        assert (member.contact_name, member.contact_phone, member.contact_email) == (
            wanted.contact.name,
            wanted.contact.phone,
            wanted.contact.email,
        )
        phase = s.scalar(select(Phase).where(Phase.campaign_id == campaign.id, Phase.key == PHASE))
        assert phase is not None and phase.title == spec.phase(PHASE).title
        titles = dict(
            s.execute(select(TaskTemplate.key, TaskTemplate.title).where(TaskTemplate.campaign_id == campaign.id)).all()
        )
        assert titles[TASK] == spec.phase(PHASE).tasks[0].title
        assert titles[spec.recurring_reports[0].key] == spec.recurring_reports[0].title
        assert len(spec.title) == limits.TITLE_MAX and len(titles[TASK]) == limits.TITLE_MAX


def test_the_largest_seed_and_project_code_survive_a_verification_draw(engine):
    spec = parse_spec(max_spec_yaml(), "max.yaml")
    assert spec.sampling is not None and spec.sampling.seed == limits.SEED_LIMIT - 1
    with UnitOfWork(engine) as uow:
        campaigns.launch(uow.session, spec, actor=SYSTEM, at=AT)
        campaign_id = uow.session.scalar(select(Campaign.id).where(Campaign.code == spec.id))
        member_id = uow.session.scalar(
            select(Department.id).where(Department.campaign_id == campaign_id, Department.code == MEMBER)
        )
        codes = [f"{i}" + "P" * (limits.PROJECT_CODE_MAX - 1) for i in range(5)]
        uow.session.add_all(
            Project(
                campaign_id=campaign_id,
                code=code,
                name="项" * limits.TITLE_MAX,
                department_id=member_id,
                winner="企" * limits.TITLE_MAX,
            )
            for code in codes
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        created = draw_verification_samples(uow.session, spec.id, spec.phase(PHASE).start)
        uow.commit()
    assert created >= 1
    with UnitOfWork(engine) as uow:
        seeds = set(uow.session.scalars(select(SampleDraw.seed)))
        periods = set(uow.session.scalars(select(Assignment.period).where(Assignment.period.in_(codes))))
    assert seeds == {limits.SEED_LIMIT - 1}
    assert periods and all(len(p) == limits.PROJECT_CODE_MAX for p in periods)


def test_escalation_names_at_their_limit_are_stored(engine):
    # The escalation ladder's names are written by the tick: store one at its limit the way the tick does.
    spec = parse_spec(max_spec_yaml(), "max.yaml")
    name = spec.escalation[0].name
    assert len(name) == limits.ESCALATION_NAME_MAX
    with UnitOfWork(engine) as uow:
        campaigns.launch(uow.session, spec, actor=SYSTEM, at=AT)
        assignment = uow.session.scalars(select(Assignment)).first()
        assert assignment is not None
        uow.session.add(
            Escalation(
                campaign_id=assignment.campaign_id,
                assignment_id=assignment.id,
                level=1,
                name=name,
                overdue_days=3,
                reached_on=dt.date(2020, 6, 20),
            )
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.session.scalar(select(Escalation.name)) == name
