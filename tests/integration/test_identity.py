"""Campaign-scoped identities resolved at call time (issue 11): the service layer trusts no actor object.

- a department account belongs to one department of one campaign: with both example campaigns in one
  database, the yanjiang-2020 account of department jyj cannot list or submit huitoukan-2018's jyj tasks;
- a disabled account's actor, a forged actor (office role, a department user's name) and an unknown
  name are refused and audited; SYSTEM is SYSTEM only while no user is named system;
- a department's project import cannot take over another department's project; an office import that
  moves one says so and is audited as a transfer.
"""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest
from sqlalchemy import insert, select, update

from domain.access import SYSTEM, Actor, Role
from domain.errors import Forbidden, Invalid
from services import imports, leads, problems, projects, submissions, users
from services.campaigns import launch
from services.spec_files import load_spec
from store.models import AuditEntry, Project, User
from tests.conftest import LAUNCH_AT, PASSWORD, ROOT

UTC = dt.UTC
AT = dt.datetime(2020, 6, 10, 2, tzinfo=UTC)
OTHER_SPEC = ROOT / "config" / "campaigns" / "hebei-huitoukan-2018.yaml"
HEADER = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"


def _refused(uow, action: str | None = None) -> list[AuditEntry]:
    q = select(AuditEntry).where(AuditEntry.outcome == "refused")
    if action:
        q = q.where(AuditEntry.action == action)
    return list(uow.session.scalars(q))


@pytest.fixture
def two_campaigns(uow_factory, launched_campaign, actors) -> str:
    """huitoukan-2018 launched beside yanjiang-2020 (after the yanjiang users exist); returns its code."""
    spec = load_spec(OTHER_SPEC)
    with uow_factory() as uow:
        launch(uow.session, spec, actor=SYSTEM, at=LAUNCH_AT, source_path=str(OTHER_SPEC))
        uow.commit()
    assert "jyj" in {d.code for d in spec.departments} and "jyj" in {d.code for d in launched_campaign.spec.departments}
    return spec.id


def test_a_department_account_stays_in_its_campaign(uow_factory, launched_campaign, actors, two_campaigns):
    mine, other, jyj = launched_campaign.code, two_campaigns, actors["dept_jyj"]
    assert jyj.campaign_code == mine  # the one campaign that had jyj when the account was made
    with uow_factory() as uow:
        own = submissions.list_assignments(uow.session, actor=jyj, campaign_code=mine)
        assert own and {a.department_code for a in own} == {"jyj"}
        theirs = submissions.list_assignments(
            uow.session, actor=actors["office"], campaign_code=other, department_code="jyj"
        )
        assert theirs, "huitoukan-2018 plans work for its jyj"
    for call in (
        lambda s: submissions.list_assignments(s, actor=jyj, campaign_code=other),
        lambda s: submissions.list_assignments(s, actor=jyj, campaign_code=other, department_code="jyj"),
        lambda s: submissions.get_assignment(s, actor=jyj, assignment_id=theirs[0].id),
        lambda s: submissions.submit(s, actor=jyj, at=AT, assignment_id=theirs[0].id, text="冒名报送"),
        lambda s: problems.list_problems(s, actor=jyj, campaign_code=other),
        lambda s: leads.list_leads(s, actor=jyj, campaign_code=other),
        lambda s: leads.lead_figures(s, actor=jyj, campaign_code=other),
        lambda s: projects.list_projects(s, actor=jyj, campaign_code=other),
        lambda s: projects.list_draws(s, actor=jyj, campaign_code=other),
        lambda s: problems.record_problem(
            s,
            actor=jyj,
            at=AT,
            campaign_code=other,
            department_code="jyj",
            phase_key=theirs[0].phase_key,
            category="规避招标",
            description="x",
            handling_class="限时整改",
            deadline_on=dt.date(2020, 6, 30),
        ),
        lambda s: imports.import_file(
            s,
            actor=jyj,
            at=AT,
            campaign_code=other,
            kind="projects",
            data=(HEADER + "H-1,某工程,jyj,2018-03-01,10,,\n").encode(),
            filename="r.csv",
        ),
    ):
        with pytest.raises(Forbidden), uow_factory() as uow:
            call(uow.session)
    with uow_factory() as uow:
        assert len(_refused(uow)) == 11
        dto, history = submissions.get_assignment(uow.session, actor=actors["office"], assignment_id=theirs[0].id)
        assert history == [] and dto.status == theirs[0].status  # nothing was submitted for the other campaign


def test_a_department_account_names_its_campaign_when_the_code_is_in_several(uow_factory, actors, two_campaigns):
    office = actors["office"]
    with pytest.raises(Invalid, match="多个专项行动"), uow_factory() as uow:
        users.add_user(
            uow.session,
            actor=office,
            at=AT,
            username="jyj2",
            display_name="教育局联络员",
            role="department",
            department_code="jyj",
            email=None,
            password=PASSWORD,
        )
    with pytest.raises(Invalid, match="没有部门代码"), uow_factory() as uow:
        users.add_user(
            uow.session,
            actor=office,
            at=AT,
            username="jyj2",
            display_name="教育局联络员",
            role="department",
            department_code="nope",
            email=None,
            password=PASSWORD,
            campaign_code=two_campaigns,
        )
    with uow_factory() as uow:
        made = users.add_user(
            uow.session,
            actor=office,
            at=AT,
            username="jyj2",
            display_name="教育局联络员",
            role="department",
            department_code="jyj",
            email=None,
            password=PASSWORD,
            campaign_code=two_campaigns,
        )
        uow.commit()
        assert made.campaign_code == two_campaigns
        actor = users.actor_for(uow.session, "jyj2")
        assert submissions.list_assignments(uow.session, actor=actor, campaign_code=two_campaigns)
    with pytest.raises(Invalid, match="不要指定专项行动"), uow_factory() as uow:
        users.add_user(
            uow.session,
            actor=office,
            at=AT,
            username="leader2",
            display_name="领导",
            role="leader",
            department_code=None,
            email=None,
            password=PASSWORD,
            campaign_code=two_campaigns,
        )


def test_a_disabled_accounts_actor_is_refused(uow_factory, launched_campaign, actors):
    zjj = actors["dept_zjj"]  # built from a login before the account was disabled
    with uow_factory() as uow:
        [task] = [
            a
            for a in submissions.list_assignments(uow.session, actor=zjj, campaign_code=launched_campaign.code)
            if a.status == "open"
        ][:1]
        users.disable_user(uow.session, actor=actors["office"], at=AT, username="dept_zjj")
        uow.commit()
    for call in (
        lambda s: submissions.submit(s, actor=zjj, at=AT, assignment_id=task.id, text="停用后报送"),
        lambda s: submissions.list_assignments(s, actor=zjj, campaign_code=launched_campaign.code),
    ):
        with pytest.raises(Forbidden, match="停用"), uow_factory() as uow:
            call(uow.session)
    with uow_factory() as uow:
        refused = _refused(uow, "actor.resolve")
        assert [e.actor for e in refused] == ["dept_zjj", "dept_zjj"]
        _, history = submissions.get_assignment(uow.session, actor=actors["office"], assignment_id=task.id)
        assert history == []


def test_a_forged_actor_gets_only_what_its_record_allows(uow_factory, launched_campaign, actors):
    code, office = launched_campaign.code, actors["office"]
    forged_office = Actor("dept_zjj", Role.office, None, "伪造的办公室")
    with uow_factory() as uow:
        lead = leads.intake_lead(
            uow.session,
            actor=office,
            at=AT,
            campaign_code=code,
            source="举报",
            received_on=dt.date(2020, 6, 9),
            category="围标串标",
            summary="投标文件雷同",
            reporter_name="李四",
            reporter_phone="13800000000",
        )
        lead = leads.assign_lead(
            uow.session,
            actor=office,
            at=AT,
            lead_id=lead.id,
            expected_version=lead.version,
            department_code="zjj",
            working_days=10,
        )
        uow.commit()
    with pytest.raises(Forbidden), uow_factory() as uow:  # acts as the department user it names
        users.add_user(
            uow.session,
            actor=forged_office,
            at=AT,
            username="intruder",
            display_name="入侵者",
            role="office",
            department_code=None,
            email=None,
            password=PASSWORD,
        )
    with uow_factory() as uow:
        seen = leads.get_lead(uow.session, actor=forged_office, lead_id=lead.id)
        assert seen.reporter_name is None and seen.reporter_phone is None  # the whistle-blower stays hidden
        assert users.actor_for(uow.session, "dept_zjj").role == Role.department
    claims_jyj = Actor("dept_zjj", Role.department, "jyj", "冒充交运局", code)
    with uow_factory() as uow:
        jyj_task = submissions.list_assignments(uow.session, actor=office, campaign_code=code, department_code="jyj")[0]
        assert {
            a.department_code for a in submissions.list_assignments(uow.session, actor=claims_jyj, campaign_code=code)
        } == {"zjj"}
    with pytest.raises(Forbidden), uow_factory() as uow:
        submissions.submit(uow.session, actor=claims_jyj, at=AT, assignment_id=jyj_task.id, text="冒名报送")
    for nobody in (Actor("nobody", Role.office), Actor("system", Role.office), Actor("system", Role.department, "zjj")):
        with pytest.raises(Forbidden), uow_factory() as uow:
            users.list_users(uow.session, actor=nobody)
    with uow_factory() as uow:
        refused = {(e.actor, e.action) for e in _refused(uow)}
        assert ("dept_zjj", "user.add") in refused and ("dept_zjj", "submission.submit") in refused
        assert {("nobody", "actor.resolve"), ("system", "actor.resolve")} <= refused
        assert "intruder" not in {u.username for u in users.list_users(uow.session, actor=office)}


def test_system_is_the_scheduler_only_while_no_user_takes_its_name(engine, uow_factory, launched_campaign, actors):
    with uow_factory() as uow:
        assert users.list_users(uow.session, actor=SYSTEM)
    with pytest.raises(Invalid, match="保留"), uow_factory() as uow:
        users.add_user(
            uow.session,
            actor=actors["office"],
            at=AT,
            username="System",
            display_name="假系统",
            role="office",
            department_code=None,
            email=None,
            password=PASSWORD,
        )
    with engine.begin() as conn:  # a row written past the services
        conn.execute(
            insert(User).values(
                username="system", display_name="x", role="office", password_hash="x", disabled=False, created_at=AT
            )
        )
    with pytest.raises(Forbidden), uow_factory() as uow:
        users.list_users(uow.session, actor=SYSTEM)


def _register(rows: list[tuple[str, str, str]]) -> bytes:
    return (HEADER + "".join(f"{c},{n},{d},2020-03-01,100,,\n" for c, n, d in rows)).encode()


def test_an_import_never_takes_over_another_departments_project(uow_factory, launched_campaign, actors):
    code, office = launched_campaign.code, actors["office"]
    with uow_factory() as uow:
        projects.import_projects(
            uow.session,
            actor=office,
            at=AT,
            campaign_code=code,
            filename="office.csv",
            data=_register([("P-1", "住建项目", "zjj"), ("P-2", "交运项目", "jyj")]),
        )
        uow.commit()
    takeover = _register([("P-2", "交运项目", "jyj"), ("P-1", "改名了", "jyj")])  # row 3 names jyj, P-1 is zjj's
    with pytest.raises(Forbidden, match="第 3 行的项目 P-1 属于部门 zjj"), uow_factory() as uow:
        projects.import_projects(
            uow.session, actor=actors["dept_jyj"], at=AT, campaign_code=code, data=takeover, filename="takeover.csv"
        )
    with uow_factory() as uow:
        p1 = uow.session.scalar(select(Project).where(Project.code == "P-1"))
        assert p1.name == "住建项目"
        assert [p.code for p in projects.list_projects(uow.session, actor=actors["dept_zjj"], campaign_code=code)] == [
            "P-1"
        ]
        assert [e.action for e in _refused(uow)] == ["project.import"]
    with uow_factory() as uow:
        report = projects.import_projects(
            uow.session, actor=office, at=AT, campaign_code=code, data=takeover, filename="transfer.csv"
        )
        uow.commit()
    assert report.transfers == (("P-1", "zjj", "jyj"),)
    assert any("P-1（zjj → jyj）" in line for line in report.lines())
    with uow_factory() as uow:
        [moved] = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "project.transfer")).all()
        assert moved.entity_key == f"{code}/P-1" and moved.actor == "office"
        assert '"zjj"' in moved.before_json and '"jyj"' in moved.after_json
        assert [p.code for p in projects.list_projects(uow.session, actor=actors["dept_jyj"], campaign_code=code)] == [
            "P-1",
            "P-2",
        ]


def _migration(name: str):
    path = ROOT / "store" / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0009_gives_existing_department_accounts_their_newest_campaign(
    engine, uow_factory, launched_campaign, actors, two_campaigns
):
    """Accounts made before 0009 have no campaign: the newest campaign with their department code is theirs;
    one whose code no campaign has stays without and is refused until the office assigns it."""
    migration = _migration("0009_campaign_identities.py")
    assert (migration.revision, migration.down_revision) == ("0009", "0008")
    with engine.begin() as conn:
        conn.execute(update(User).where(User.role == "department").values(campaign_code=None))
        conn.execute(
            insert(User).values(
                username="orphan",
                display_name="无部门",
                role="department",
                department_code="gone",
                password_hash="x",
                disabled=False,
                created_at=AT,
            )
        )
    with pytest.raises(Forbidden, match="尚未指定所属专项行动"), uow_factory() as uow:
        submissions.list_assignments(uow.session, actor=actors["dept_zjj"], campaign_code=launched_campaign.code)
    with engine.begin() as conn:
        conn.execute(migration.ASSIGN_CAMPAIGNS)
    with uow_factory() as uow:
        found = dict(
            uow.session.execute(select(User.username, User.campaign_code).where(User.role == "department"))
            .tuples()
            .all()
        )
    newest = two_campaigns  # launched second (same launch time, later id), and it also has zjj and jyj
    assert found["dept_zjj"] == found["dept_jyj"] == newest
    assert found["dept_swj"] == launched_campaign.code  # only yanjiang-2020 has swj
    assert found["orphan"] is None
    with uow_factory() as uow:
        users.update_user(
            uow.session,
            actor=actors["office"],
            at=AT,
            username="dept_zjj",
            display_name="区住建局联络员",
            role="department",
            department_code="zjj",
            email=None,
            campaign_code=launched_campaign.code,
        )
        uow.commit()
        assert submissions.list_assignments(uow.session, actor=actors["dept_zjj"], campaign_code=launched_campaign.code)


def test_the_dashboards_read_models_keep_a_department_account_in_its_campaign(
    uow_factory, launched_campaign, actors, two_campaigns
):
    """services.views (every dashboard read) resolve the reader from the user record: a department
    account sees only its own campaign in the list and is refused, and audited, in any other."""
    from services.views import boards, campaigns, ledger

    mine, other = launched_campaign.code, two_campaigns
    # as the dashboard's cache rebuilds it: no campaign on the object, and a role it might claim
    claimed = Actor("dept_jyj", Role.office, "jyj")
    with uow_factory() as uow:
        listed = campaigns.campaigns(uow.session, actor=claimed, at=AT)
        assert list(listed["code"]) == [mine]
        own = boards.department_assignments(
            uow.session, actor=claimed, campaign_code=mine, department_code="jyj", at=AT
        )
        assert len(own) > 0
        assert set(campaigns.campaigns(uow.session, actor=actors["office"], at=AT)["code"]) == {mine, other}
    reads = (
        lambda s: campaigns.phases(s, actor=claimed, campaign_code=other, at=AT),
        lambda s: campaigns.departments(s, actor=claimed, campaign_code=other, at=AT),
        lambda s: boards.department_assignments(s, actor=claimed, campaign_code=other, department_code="jyj", at=AT),
        lambda s: boards.overdue(s, actor=claimed, campaign_code=other, at=AT),
        lambda s: ledger.problems_by_department(s, actor=claimed, campaign_code=other, at=AT),
    )
    for read in reads:
        with pytest.raises(Forbidden), uow_factory() as uow:
            read(uow.session)
    with uow_factory() as uow:
        refused = [e.actor for e in _refused(uow, "view.read")]
    assert refused == ["dept_jyj"] * len(reads)


def test_an_account_made_without_a_password_cannot_log_in_until_the_office_sets_one(uow_factory, actors):
    """The simulation's model accounts (services.simulation) are made with password=None: stored as
    users.NO_PASSWORD, unhashed, and no password — not even that marker — logs in with it."""
    with uow_factory() as uow:
        users.add_user(
            uow.session,
            actor=actors["office"],
            at=AT,
            username="model-office",
            display_name="办公室（模拟）",
            role="office",
            department_code=None,
            email=None,
            password=None,
        )
        uow.commit()
    with uow_factory() as uow:
        stored = uow.session.scalar(select(User.password_hash).where(User.username == "model-office"))
    assert stored == users.NO_PASSWORD
    for attempt in ("", users.NO_PASSWORD, PASSWORD, "随便什么密码都不行"):
        with pytest.raises(users.AuthFailed, match=users.AuthFailed.WRONG), uow_factory() as uow:
            users.authenticate(uow.session, "model-office", attempt, at=AT)
    with uow_factory() as uow:
        users.set_password(uow.session, actor=actors["office"], at=AT, username="model-office", password=PASSWORD)
        uow.commit()
    with uow_factory() as uow:
        assert users.authenticate(uow.session, "model-office", PASSWORD, at=AT).username == "model-office"
