"""The dashboard through streamlit.testing.v1.AppTest: every page for every role, on SQLite.

The database is prepared with the shared fixtures (yanjiang-2020 launched and ticked to 2020-06-01,
users office / leader / dept_<code>), then ticked to 2020-06-29 so some work is overdue and escalated.
`rich_db` adds what the newer pages show: inbox messages, a project register, a lead and a problem.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import pages_of
from domain.access import Role
from tests.conftest import PASSWORD, run_tick, sqlite_engine, step_or_snapshot

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
AS_OF = dt.date(2020, 6, 29)
TIMEOUT = 60

ROLE_USERS = {Role.leader: "leader", Role.office: "office", Role.department: "dept_zjj"}
LEADER_PAGES = pages_of(Role.leader)
OFFICE_PAGES = pages_of(Role.office)
DEPARTMENT_PAGES = pages_of(Role.department)
EVERY_PAGE = [(user, page) for role, user in ROLE_USERS.items() for page in pages_of(role)]


@pytest.fixture
def engine(tmp_path, _snapshots):
    """SQLite only (overrides the sqlite/postgres pair): the dashboard is tested once, on a file."""
    eng = sqlite_engine(tmp_path, _snapshots)
    yield eng
    eng.dispose()


@pytest.fixture
def dashboard_db(engine, launched_campaign, users, monkeypatch, tmp_path, _snapshots):
    code = launched_campaign.code
    step_or_snapshot(engine, _snapshots, "launched-users", "dashboard", lambda eng: run_tick(eng, code, AS_OF))
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", url)
    monkeypatch.setenv("CAMPAIGN_AS_OF", AS_OF.isoformat())
    monkeypatch.setenv("CAMPAIGN_ATTACHMENT_DIR", str(tmp_path / "attachments"))
    monkeypatch.setenv("CAMPAIGN_LOG_DIR", str(tmp_path / "logs"))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()  # the dashboard's Settings are built once per process: this test's
    return url


SEED_AT = dt.datetime(2020, 6, 29, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
REGISTER_HEADER = "项目编号,项目名称,监管部门代码,招标日期,合同估算价（万元）,中标人,投标人\n"


def register_csv(*departments: str, per_department: int = 5) -> bytes:
    lines = [
        f"{d.upper()}-2020-{i:03d},{d}某道路工程{i}标段,{d},2020-03-{i + 1:02d},{100 + i},某建设有限公司,"
        f"某建设有限公司；某路桥有限公司"
        for d in departments
        for i in range(1, per_department + 1)
    ]
    return (REGISTER_HEADER + "\n".join(lines) + "\n").encode("utf-8")


def _uow(url: str):
    from store.uow import UnitOfWork

    return UnitOfWork(url)


def _actor(url: str, username: str):
    from services.users import actor_for

    with _uow(url) as uow:
        return actor_for(uow.session, username)


@pytest.fixture
def rich_db(dashboard_db, engine, launched_campaign, _snapshots):
    """What the newer pages show: inbox messages, a register, a lead assigned to zjj, a problem of zjj."""
    code = launched_campaign.code
    step_or_snapshot(
        engine,
        _snapshots,
        "dashboard",
        "dashboard-rich",
        lambda eng: _enrich(eng.url.render_as_string(hide_password=False), code),
    )
    return dashboard_db


def _enrich(url: str, code: str) -> None:
    from services import delivery, leads, problems, projects
    from settings import Settings

    office = _actor(url, "office")
    with _uow(url) as uow:
        s = uow.session
        projects.import_projects(
            s, actor=office, at=SEED_AT, campaign_code=code, data=register_csv("zjj", "jyj"), filename="项目台账.csv"
        )
        lead = leads.intake_lead(
            s,
            actor=office,
            at=SEED_AT,
            campaign_code=code,
            source="举报",
            received_on=AS_OF,
            category="围标串标",
            summary="反映某道路工程投标人串通投标",
            reporter_name="张某某",
            reporter_phone="13800000000",
        )
        leads.assign_lead(
            s,
            actor=office,
            at=SEED_AT,
            lead_id=lead.id,
            expected_version=lead.version,
            department_code="zjj",
            working_days=10,
        )
        problems.record_problem(
            s,
            actor=office,
            at=SEED_AT,
            campaign_code=code,
            department_code="zjj",
            phase_key="self_check",
            category="规避招标",
            description="某项目化整为零规避招标",
            handling_class="限时整改",
            deadline_on=AS_OF + dt.timedelta(days=30),
        )
        delivery.plan_deliveries(s, code, AS_OF, Settings(smtp_host=None, webhooks=[]), at=SEED_AT)
        uow.commit()


def _downloads(at: AppTest) -> list:
    """The page's download buttons (dashboard.downloads: a button that issues a single-use ticket)."""
    return [b for b in at.button if b.proto.icon == ":material/download:"]


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


INCIDENT = "系统内部错误"


def _no_exceptions(at: AppTest) -> None:
    """No traceback, and no bug caught by the dashboard's incident line either."""
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in _errors(at) if INCIDENT in e], _errors(at)


def login(username: str, password: str = PASSWORD) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    at.run()
    _no_exceptions(at)
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    _no_exceptions(at)
    return at


# --- login ------------------------------------------------------------------------------------


def test_login_gate_shows_only_the_login_form(dashboard_db):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    _no_exceptions(at)
    assert at.title[0].value.startswith("招投标")
    assert at.text_input(key="login_username") is not None
    assert "actor" not in at.session_state


def test_wrong_password_is_refused(dashboard_db):
    at = login("office", "not-the-password")
    assert "用户名或密码错误" in _errors(at)
    assert "actor" not in at.session_state


def test_unknown_user_is_refused_with_the_same_message(dashboard_db):
    at = login("nobody", PASSWORD)
    assert "用户名或密码错误" in _errors(at)


def test_disabled_user_cannot_log_in(dashboard_db):
    from domain.access import SYSTEM
    from services.users import disable_user
    from store.uow import UnitOfWork

    with UnitOfWork(dashboard_db) as uow:
        disable_user(uow.session, actor=SYSTEM, at=dt.datetime.now(dt.UTC), username="dept_zjj")
        uow.commit()
    at = login("dept_zjj")
    assert any("停用" in e for e in _errors(at))
    assert "actor" not in at.session_state


def test_logout_returns_to_the_login_form(dashboard_db):
    at = login("leader")
    assert at.session_state["actor"].username == "leader"
    at.button(key="logout").click()
    at.run()
    _no_exceptions(at)
    assert "actor" not in at.session_state
    assert at.text_input(key="login_username") is not None


# --- every page for every role --------------------------------------------------------------


@pytest.mark.parametrize(("user", "page"), EVERY_PAGE)
def test_every_page_for_every_role(rich_db, user, page):
    at = open_page(login(user), page)
    assert not _errors(at), _errors(at)
    assert at.title and at.title[0].value
    # Every table the page shows comes with its .xlsx download.
    assert len(_downloads(at)) >= len(at.dataframe), page


def test_leader_overview_figures(dashboard_db):
    at = login("leader")  # the first page is the overview
    labels = {m.label: m.value for m in at.metric}
    assert labels["当前阶段"] == "自查自纠"
    assert labels["本阶段剩余天数"] == "1 天"
    assert int(labels["已布置任务"]) > 0


def test_leader_cannot_open_office_pages(dashboard_db):
    at = login("leader")
    with pytest.raises(ValueError):
        at.switch_page("pages/office_review.py")
        at.run()


def test_leader_drills_down_to_a_department(dashboard_db):
    at = open_page(login("leader"), "pages/leader_departments.py")
    at.selectbox(key="drill_department").select("zjj")
    at.run()
    _no_exceptions(at)
    drill = at.dataframe[-1].value  # the drill-down table comes last
    assert len(drill) > 0 and "自查" in " ".join(drill["任务"])
    assert "原定期限" in drill.columns  # an approved extension's first deadline stays on record (issue 13)


def test_leader_filters_by_phase_and_kind(dashboard_db):
    at = open_page(login("leader"), "pages/leader_departments.py")
    at.sidebar.selectbox(key="filter_phase").select("self_check")
    at.sidebar.multiselect(key="filter_kinds").select("trading_center")
    at.run()
    _no_exceptions(at)
    board = at.dataframe(key="board_table").value
    assert list(board["部门代码"]) == ["jyzx"]


def test_department_cannot_open_leader_pages(dashboard_db):
    at = login("dept_zjj")
    with pytest.raises(ValueError):
        at.switch_page("pages/leader_overview.py")
        at.run()


def _assignment_id(url: str, dept: str, template: str) -> int:
    from sqlalchemy import select

    from store.models import Assignment, Department, TaskTemplate
    from store.uow import UnitOfWork

    with UnitOfWork(url) as uow:
        return uow.session.scalar(
            select(Assignment.id)
            .join(Department, Department.id == Assignment.department_id)
            .join(TaskTemplate, TaskTemplate.id == Assignment.template_id)
            .where(Department.code == dept, TaskTemplate.key == template)
        )


def test_department_cannot_open_another_departments_assignment(dashboard_db):
    other = _assignment_id(dashboard_db, "jyj", "self_check_report")
    at = login("dept_zjj")
    at.number_input(key="open_assignment_id").set_value(other)
    at.run()
    _no_exceptions(at)
    errors = _errors(at)
    assert any("无权限" in e for e in errors), errors
    # The page's own 签收 form (this department's unsigned tasks) stays; nothing opens for the other's task.
    forms = {f.proto.form.form_id for f in at.get("form")}
    assert forms <= {"bulk_sign"}, f"no form for another department's work: {forms}"


def test_department_submits_office_accepts_board_changes(dashboard_db):
    target = _assignment_id(dashboard_db, "zjj", "self_check_report")

    at = login("dept_zjj")
    at.selectbox(key="pick_assignment").select(target)
    at.run()
    at.text_area(key=f"text_{target}").input("住建局自查报告：共自查项目 12 个，发现问题 3 个。")
    at.text_area(key=f"late_{target}").input("核查项目多，未能按期完成")  # due 22 June: 逾期原因 asked
    next(b for b in at.button if b.label == "提交报送").click()
    at.run()
    _no_exceptions(at)
    assert not _errors(at), _errors(at)
    assert any("已提交" in s.value for s in at.success)

    office = login("office")  # the office lands on its 待办, which lists submissions to review
    assert any("住建局" in e.label for e in office.expander)
    office.button(key=f"accept_{target}").click()
    office.run()
    _no_exceptions(office)
    assert any("已通过" in s.value for s in office.success), [s.value for s in office.success]

    leader = open_page(login("leader"), "pages/leader_departments.py")
    board = leader.dataframe(key="board_table").value
    zjj = board[board["部门代码"] == "zjj"].iloc[0]
    assert zjj["已通过"] == 1  # nothing was accepted before; due 2020-06-22, so this one was late
    assert zjj["按时"] == 0


def test_office_returns_with_a_reason(dashboard_db):
    target = _assignment_id(dashboard_db, "jyj", "self_check_report")
    at = login("dept_jyj")
    at.selectbox(key="pick_assignment").select(target)
    at.run()
    at.text_area(key=f"text_{target}").input("交运局自查报告")
    at.text_area(key=f"late_{target}").input("人员调整")
    next(b for b in at.button if b.label == "提交报送").click()
    at.run()
    office = login("office")
    office.button(key=f"return_{target}").click()  # no reason: refused with a message
    office.run()
    assert any("退回原因" in e for e in _errors(office))
    office.text_input(key=f"reason_{target}").input("缺少问题清单")
    office.button(key=f"return_{target}").click()
    office.run()
    assert any("已退回" in w.value for w in office.warning)


def _pick_example(at: AppTest, name: str) -> None:
    at.radio(key="yaml_source").set_value("示例目录")
    at.run()
    pick = at.selectbox(key="yaml_pick")
    pick.select_index(next(i for i, o in enumerate(pick.options) if name in o))
    at.run()
    _no_exceptions(at)


def test_office_yaml_validation_shows_line_numbers(dashboard_db):
    at = open_page(login("office"), "pages/office_campaign.py")
    _pick_example(at, "yanjiang")
    box = next(t for t in at.text_area if t.key.startswith("yaml_text_"))
    assert "office: fgj\n" in box.value
    box.input(box.value.replace("office: fgj\n", "office: fgj\nbogus: 1\n"))
    at.run()
    _no_exceptions(at)
    assert any("校验未通过" in e for e in _errors(at))
    problems = at.dataframe[0].value
    assert (problems["行"] > 1).all() and "bogus" in " ".join(problems["字段"])


def test_office_previews_an_unchanged_campaign(dashboard_db):
    at = open_page(login("office"), "pages/office_campaign.py")
    _pick_example(at, "yanjiang")
    _no_exceptions(at)
    assert any("校验通过" in s.value for s in at.success)
    assert any("无需变更" in c.value for c in at.code)


def test_office_bulletin_draft(dashboard_db):
    at = open_page(login("office"), "pages/office_operations.py")
    text = next(t for t in at.text_area if t.key.startswith("bulletin_")).value
    assert "通报" in text and "一、表扬" in text and "二、批评" in text


# --- helpers for the newer pages ------------------------------------------------------------------


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _frame_with(at: AppTest, column: str):
    """The first table showing this column (plain st.dataframe elements carry no key)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def _successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


def _lead(url: str, code: str = "XS-0001"):
    from sqlalchemy import select

    from store.models import Lead

    with _uow(url) as uow:
        lead = uow.session.scalar(select(Lead).where(Lead.code == code))
        uow.session.expunge_all()
        return lead


def _refusals(url: str, action: str) -> int:
    from sqlalchemy import func, select

    from store.models import AuditEntry

    with _uow(url) as uow:
        return uow.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == action, AuditEntry.outcome == "refused")
        )


# --- in-app inbox ---------------------------------------------------------------------------------


def _inbox(url: str, username: str):
    from services import delivery

    actor = _actor(url, username)
    with _uow(url) as uow:
        return delivery.inbox_for(uow.session, actor=actor), delivery.unread_count(uow.session, actor=actor)


def _threads(url: str, username: str):
    from services import delivery

    with _uow(url) as uow:
        return delivery.threads_for(uow.session, actor=_actor(url, username))


def test_inbox_badge_mark_read_and_mark_all(rich_db):
    items, unread = _inbox(rich_db, "dept_zjj")
    assert unread > 0 and len([i for i in items if i.unread]) == unread  # obsolete ones are not unread
    items = [next(t.latest for t in _threads(rich_db, "dept_zjj") if t.latest.unread)]  # a thread's newest
    at = login("dept_zjj")
    assert f"未读消息 {unread} 条" in [link.proto.label for link in at.get("page_link")]

    at = open_page(at, "pages/inbox.py")
    assert {m.label: m.value for m in at.metric}["未读消息"] == str(unread)
    assert any(items[0].subject in m.value for m in at.markdown)
    at.button(key=f"read_{items[0].id}").click()
    at.run()
    _no_exceptions(at)
    after, left = _inbox(rich_db, "dept_zjj")
    assert left == unread - 1 and next(i for i in after if i.id == items[0].id).read_at is not None

    at.button(key="inbox_read_all").click()
    at.run()
    _no_exceptions(at)
    assert _inbox(rich_db, "dept_zjj")[1] == 0
    assert any("标为已读" in s for s in _successes(at))
    assert not [link for link in at.get("page_link") if "未读消息" in link.proto.label]
    # Only the owner's items: another user's inbox is untouched.
    assert _inbox(rich_db, "office")[1] > 0


def test_inbox_takes_a_department_to_the_assignment(rich_db):
    item = next(t.latest for t in _threads(rich_db, "dept_zjj") if t.latest.assignment_id)
    at = open_page(login("dept_zjj"), "pages/inbox.py")
    at.button(key=f"goto_{item.id}").click()
    at.run()
    _no_exceptions(at)
    assert at.title[0].value == "我的任务"
    assert at.number_input(key="open_assignment_id").value == item.assignment_id
    assert any("截止" in m.value for m in at.markdown)


def test_office_and_leader_have_an_inbox(rich_db):
    office = open_page(login("office"), "pages/inbox.py")
    assert int({m.label: m.value for m in office.metric}["未读消息"]) == _inbox(rich_db, "office")[1]
    leader = open_page(login("leader"), "pages/inbox.py")
    assert not _errors(leader)


# --- leads and cases --------------------------------------------------------------------------------


def test_lead_intake_assign_report_close(dashboard_db):
    from services.holidays import campaign_calendar
    from services.spec_files import load_spec
    from tests.conftest import SPEC_PATH

    office = open_page(login("office"), "pages/office_leads.py")
    office.selectbox(key="intake_source").select("举报")
    office.selectbox(key="intake_category").select("围标串标")
    office.text_input(key="intake_reporter").input("王某某")
    _button(office, "受理").click()  # no summary: refused in words, nothing stored
    office.run()
    _no_exceptions(office)
    assert any("摘要不能为空" in e for e in _errors(office))
    assert _lead(dashboard_db) is None

    office.text_area(key="intake_summary").input("反映某道路工程投标人之间串通投标")
    office.text_input(key="intake_reporter").input("王某某")
    office.text_input(key="intake_phone").input("13900000000")
    _button(office, "受理").click()
    office.run()
    _no_exceptions(office)
    assert any("已受理线索 XS-0001" in s for s in _successes(office))
    lead = _lead(dashboard_db)
    assert (lead.status, lead.source, lead.reporter_name) == ("received", "举报", "王某某")
    assert "王某某" in list(_frame_with(office, "举报人")["举报人"])  # the office sees the reporter

    office.selectbox(key="assign_dept").select("zjj")
    office.number_input(key="assign_days").set_value(10)
    office.button(key="assign_go").click()
    office.run()
    _no_exceptions(office)
    lead = _lead(dashboard_db)
    cal = campaign_calendar(load_spec(SPEC_PATH))
    assert lead.status == "assigned" and lead.due_on == cal.add_workdays(AS_OF, 10)
    assert any("已交办" in s for s in _successes(office))

    # The department sees it, without the reporter, and reports its outcome.
    dept = open_page(login("dept_zjj"), "pages/dept_ledger.py")
    mine = _frame_with(dept, "摘要")
    assert list(mine["编号"]) == ["XS-0001"] and "举报人" not in mine.columns
    assert "王某某" not in " ".join(m.value for m in dept.markdown)
    dept.radio(key="lead_report_outcome").set_value("查实")
    dept.multiselect(key="lead_report_measures").select("罚款").select("列入黑名单")
    dept.number_input(key="lead_report_fine").set_value(5.5)
    dept.number_input(key="lead_report_enterprises").set_value(2)
    dept.number_input(key="lead_report_people").set_value(3)
    _button(dept, "报送结果").click()
    dept.run()
    _no_exceptions(dept)
    assert not _errors(dept), _errors(dept)
    lead = _lead(dashboard_db)
    assert (lead.status, lead.outcome, float(lead.fine_wan), lead.measures) == (
        "reported",
        "查实",
        5.5,
        "罚款、列入黑名单",
    )

    # Another department neither lists it nor has a way to open it: leads open by a click on the
    # department's own rows (the service's refusal of another's lead is in the permission matrix).
    other = open_page(login("dept_jyj"), "pages/dept_ledger.py")
    assert any("暂无交办本部门的线索" in i.value for i in other.info)
    assert "XS-0001" not in " ".join(m.value for m in other.markdown)
    assert not [w for w in other.selectbox if w.key == "lead_pick"]

    # The office closes it as reported; the leader sees it closed, never the reporter.
    office = open_page(login("office"), "pages/office_leads.py")
    office.button(key="close_as_reported").click()
    office.run()
    _no_exceptions(office)
    assert _lead(dashboard_db).status == "closed"
    assert any("已办结" in s for s in _successes(office))
    assert {m.label: m.value for m in office.metric}["罚款（万元）"] == "5.50"
    leader = open_page(login("leader"), "pages/leader_ledger.py")
    listed = _frame_with(leader, "摘要")
    assert list(listed["状态"]) == ["已办结"] and "举报人" not in listed.columns


def test_office_closes_an_assigned_lead_with_measures_and_bad_input_is_refused(rich_db):
    office = open_page(login("office"), "pages/office_leads.py")
    office.radio(key="close_outcome").set_value("查实")
    office.number_input(key="close_fine").set_value(3.0)  # a fine without the 罚款 measure
    _button(office, "填写结果并办结").click()
    office.run()
    _no_exceptions(office)
    assert any("罚款" in e for e in _errors(office))
    assert _lead(rich_db).status == "assigned"
    office.multiselect(key="close_measures").select("罚款").select("移送公安机关")
    _button(office, "填写结果并办结").click()
    office.run()
    _no_exceptions(office)
    lead = _lead(rich_db)
    assert (lead.status, lead.measures) == ("closed", "罚款、移送公安机关")


def test_leader_cannot_open_office_work_pages(dashboard_db):
    at = login("leader")
    for page in ("pages/office_leads.py", "pages/office_users.py", "pages/office_imports.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)
            at.run()


# --- problems ---------------------------------------------------------------------------------------


def test_department_records_a_problem_requests_close_office_approves(dashboard_db):
    from sqlalchemy import select

    from store.models import Problem

    dept = open_page(login("dept_zjj"), "pages/dept_ledger.py")
    dept.selectbox(key="dept_problem_category").select("弄虚作假")
    dept.text_area(key="dept_problem_description").input("某项目投标人提供虚假业绩")
    _button(dept, "登记问题").click()
    dept.run()
    _no_exceptions(dept)
    assert any("已登记问题" in s for s in _successes(dept)), _errors(dept)
    with _uow(dashboard_db) as uow:
        p = uow.session.scalar(select(Problem))
        assert (p.category, p.status) == ("弄虚作假", "open")
        pid = p.id
    dept.text_area(key="close_evidence").input("已核实并取消其中标资格，附处理决定")
    _button(dept, "提交销号申请").click()
    dept.run()
    _no_exceptions(dept)
    assert any("销号申请" in s for s in _successes(dept))

    office = open_page(login("office"), "pages/leader_ledger.py")
    office.button(key=f"papprove_{pid}").click()
    office.run()
    _no_exceptions(office)
    with _uow(dashboard_db) as uow:
        assert uow.session.get(Problem, pid).status == "closed"
    office.text_area(key="rebound_reason").input("回头看发现该企业再次提供虚假材料")
    office.button(key="rebound_go").click()
    office.run()
    _no_exceptions(office)
    with _uow(dashboard_db) as uow:
        again = uow.session.get(Problem, pid)
        assert (again.status, again.rebound) == ("open", True)


# --- project register and verification draws ------------------------------------------------------


def _project_count(url: str) -> int:
    from sqlalchemy import func, select

    from store.models import Project

    with _uow(url) as uow:
        return uow.session.scalar(select(func.count(Project.id)))


def _upload_register(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="projects_upload").upload(name, data, "text/csv")
    at.run()
    at.button(key="projects_import").click()
    at.run()
    _no_exceptions(at)
    return at


def test_register_with_bad_rows_lists_them_and_imports_nothing(dashboard_db):
    bad = (
        REGISTER_HEADER
        + "ZJJ-1,道路工程一标段,zjj,2020-03-01,100,某建设有限公司,甲公司；乙公司\n"
        + "ZJJ-2,道路工程二标段,zjj,不是日期,100,,\n"
        + "ZJJ-3,道路工程三标段,nosuch,2020-03-03,abc,,\n"
    ).encode("utf-8")
    at = _upload_register(open_page(login("office"), "pages/projects.py"), "台账.csv", bad)
    assert any("整个文件未导入" in e for e in _errors(at)), _errors(at)
    problems = _frame_with(at, "行号")
    assert sorted(set(problems["行号"])) == [3, 4]
    assert _project_count(dashboard_db) == 0

    at = _upload_register(at, "台账.csv", register_csv("zjj", "jyj", per_department=4))
    assert not _errors(at), _errors(at)
    assert any("新增 8 个" in s for s in _successes(at))
    assert _project_count(dashboard_db) == 8
    assert len(_frame_with(at, "项目编号")) == 8


def test_department_imports_only_its_own_projects(dashboard_db):
    at = _upload_register(open_page(login("dept_zjj"), "pages/projects.py"), "台账.csv", register_csv("zjj", "jyj"))
    assert any("无权限" in e for e in _errors(at)), _errors(at)
    assert _project_count(dashboard_db) == 0
    at = _upload_register(at, "台账.csv", register_csv("zjj"))
    assert _project_count(dashboard_db) == 5
    assert set(_frame_with(at, "项目编号")["监管部门"]) == {"区住建局"}  # names, not codes


def test_leader_reads_the_register_without_an_upload(rich_db):
    at = open_page(login("leader"), "pages/projects.py")
    assert not at.file_uploader
    assert len(_frame_with(at, "项目编号")) == 10


def test_verification_draws_show_seed_and_ratio_and_verify(rich_db, engine, launched_campaign):
    run_tick(engine, launched_campaign.code, dt.date(2020, 7, 1))  # the verification phase opens: the draw
    at = open_page(login("leader"), "pages/projects.py")
    draws = _frame_with(at, "随机种子")
    assert set(draws["部门"]) == {"区住建局", "区交运局"} and set(draws["随机种子"]) == {2020}
    assert (draws["累计抽查比例"] >= draws["规定最低比例"]).all()
    at.button(key="verify_draws").click()
    at.run()
    _no_exceptions(at)
    assert any("复核通过：2 轮抽查" in s for s in _successes(at)), _successes(at)

    dept = open_page(login("dept_zjj"), "pages/projects.py")
    assert list(_frame_with(dept, "随机种子")["部门"]) == ["区住建局"]
    assert not [b for b in dept.button if b.key == "verify_draws"]


# --- user administration --------------------------------------------------------------------------


def _user(url: str, username: str):
    from sqlalchemy import select

    from store.models import User

    with _uow(url) as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        uow.session.expunge_all()
        return user


def test_office_adds_disables_enables_and_resets_a_user(dashboard_db):
    at = open_page(login("office"), "pages/office_users.py")
    assert "dept_zjj" in list(_frame_with(at, "用户名")["用户名"])
    at.radio(key="new_role").set_value(Role.department)
    at.run()
    at.text_input(key="new_username").input("zjj_wang")
    at.text_input(key="new_display").input("王五")
    at.selectbox(key="new_dept").select("zjj")
    at.text_input(key="new_password").input("short")
    _button(at, "添加").click()
    at.run()
    _no_exceptions(at)
    assert any("密码至少" in e for e in _errors(at))
    assert _user(dashboard_db, "zjj_wang") is None

    at.text_input(key="new_username").input("zjj_wang")
    at.text_input(key="new_display").input("王五")
    at.selectbox(key="new_dept").select("zjj")
    at.text_input(key="new_password").input("Chushi#2020")
    _button(at, "添加").click()
    at.run()
    _no_exceptions(at)
    assert any("已添加" in s for s in _successes(at)), _errors(at)
    user = _user(dashboard_db, "zjj_wang")
    assert (user.role, user.department_code, user.disabled) == ("department", "zjj", False)
    assert login("zjj_wang", "Chushi#2020").session_state["actor"].department_code == "zjj"

    at.selectbox(key="state_pick").select("zjj_wang")
    at.run()
    at.button(key="disable_user").click()
    at.run()
    _no_exceptions(at)
    assert _user(dashboard_db, "zjj_wang").disabled
    assert any("停用" in e for e in _errors(login("zjj_wang", "Chushi#2020")))
    at.button(key="enable_user").click()
    at.run()
    _no_exceptions(at)
    assert not _user(dashboard_db, "zjj_wang").disabled

    at.selectbox(key="reset_pick").select("zjj_wang")
    at.text_input(key="reset_password").input("Xinmima#2020")
    at.text_input(key="reset_again").input("Different#2020")
    _button(at, "重置密码").click()
    at.run()
    assert any("不一致" in e for e in _errors(at))
    at.selectbox(key="reset_pick").select("zjj_wang")
    at.text_input(key="reset_password").input("Xinmima#2020")
    at.text_input(key="reset_again").input("Xinmima#2020")
    _button(at, "重置密码").click()
    at.run()
    _no_exceptions(at)
    assert any("已重置" in s for s in _successes(at))
    assert login("zjj_wang", "Xinmima#2020").session_state["actor"].username == "zjj_wang"


def test_office_cannot_disable_itself(dashboard_db):
    at = open_page(login("office"), "pages/office_users.py")
    at.selectbox(key="state_pick").select("office")
    at.run()
    at.button(key="disable_user").click()
    at.run()
    _no_exceptions(at)
    assert any("不能停用自己" in e for e in _errors(at))
    assert not _user(dashboard_db, "office").disabled


# --- monthly reports ------------------------------------------------------------------------------


def _docx_text(data: bytes) -> str:
    import io

    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def _rendered(at: AppTest, scope: str, period: str = "2020-06"):
    key = f"rendered|{at.session_state['campaign_code']}|{period}|{scope}"
    assert key in at.session_state, "no report was generated"
    return at.session_state[key]


def _reports_page(username: str, period: str = "2020-06") -> AppTest:
    at = open_page(login(username), "pages/reports.py")
    # On 2020-06-29 the July window (6-21 … 7-20) has begun: it is offered first, then June and May.
    assert at.selectbox(key="report_period").options[:2] == ["2020年7月", "2020年6月"]
    at.selectbox(key="report_period").select(period)
    at.run()
    _no_exceptions(at)
    return at


def _write_narrative(at: AppTest, texts: dict[str, str]) -> None:
    for area in at.text_area:
        for name, text in texts.items():
            if area.key and area.key.endswith(f"_{name}"):
                area.input(text)
    _button(at, "保存正文").click()
    at.run()
    _no_exceptions(at)


def test_department_writes_its_monthly_report_and_downloads_it(rich_db, launched_campaign):
    from services import reports

    at = _reports_page("dept_zjj")
    assert "区住建局" in at.subheader[0].value
    _write_narrative(at, {"practices": "住建局对12个在建项目开展自查。", "next_steps": "七月完成重点核查。"})
    assert any("已保存" in s for s in _successes(at)), _errors(at)
    with _uow(rich_db) as uow:
        saved = reports.get_narrative(
            uow.session,
            actor=_actor(rich_db, "dept_zjj"),
            campaign_code=launched_campaign.code,
            period="2020-06",
            department_code="zjj",
        )
    assert saved.narrative.practices == "住建局对12个在建项目开展自查。" and saved.version == 1

    at.button(key="render_report").click()
    at.run()
    _no_exceptions(at)
    rendered = _rendered(at, "zjj")
    text = _docx_text(rendered.docx)
    assert "住建局对12个在建项目开展自查。" in text and "开展情况和主要做法" in text
    assert rendered.xlsx[:2] == b"PK" and rendered.filename_stem.endswith("_zjj")
    assert {b.key for b in _downloads(at)} >= {"report_docx", "report_xlsx"}


def test_office_writes_the_rollup_and_reads_department_reports(rich_db):
    at = _reports_page("office")
    assert at.selectbox(key="report_scope").value == ""
    _write_narrative(at, {"practices": "全区各成员单位共自查项目若干。"})
    assert any("已保存" in s for s in _successes(at)), _errors(at)
    at.button(key="render_report").click()
    at.run()
    text = _docx_text(_rendered(at, "").docx)
    assert "全区各成员单位共自查项目若干。" in text and "各单位工作推进情况表" in text

    at.selectbox(key="report_scope").select("zjj")
    at.run()
    _no_exceptions(at)
    assert not [b for b in at.button if b.label == "保存正文"], "the office does not write a department's text"


def test_leader_reads_and_downloads_the_rollup_but_cannot_write(rich_db):
    at = _reports_page("leader")
    assert not [b for b in at.button if b.label == "保存正文"]
    at.button(key="render_report").click()
    at.run()
    _no_exceptions(at)
    assert _rendered(at, "").filename_stem.endswith("office-rollup")


# --- imports ----------------------------------------------------------------------------------------


def _import(at: AppTest, kind: str, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.radio(key="import_kind").set_value(kind)
    at.run()
    at.file_uploader(key=f"import_upload_{kind}").upload(name, data, mime)
    at.run()
    at.button(key="import_go").click()
    at.run()
    _no_exceptions(at)
    return at


def test_office_import_page_offers_every_template(dashboard_db):
    at = open_page(login("office"), "pages/office_imports.py")
    keys = {b.key for b in _downloads(at)}
    assert {"template_departments", "template_users", "template_projects", "template_leads"} <= keys


def test_office_imports_users_bad_rows_listed_then_clean_file_with_generated_password(dashboard_db):
    header = "用户名,姓名,角色,部门代码,邮箱,初始密码\n"
    bad = (
        header
        + "zjj_zhao,赵六,部门,zjj,,Chushi#2020\n"
        + "jyj_qian,钱七,部门,,,Chushi#2020\n"  # a department user without a department
        + "sun_ba,孙八,管理员,,,\n"
    ).encode("utf-8")  # no such role
    at = _import(open_page(login("office"), "pages/office_imports.py"), "users", "用户.csv", bad)
    assert any("整个文件未导入" in e for e in _errors(at)), _errors(at)
    assert sorted(set(_frame_with(at, "行号")["行号"])) == [3, 4]
    assert _user(dashboard_db, "zjj_zhao") is None

    clean = (header + "zjj_zhao,赵六,部门,zjj,,Chushi#2020\n" + "leader_sun,孙八,领导,,,\n").encode("gbk")
    at = _import(at, "users", "用户.csv", clean)
    assert not _errors(at), _errors(at)
    assert any("新增 2 个" in s for s in _successes(at))
    passwords = _frame_with(at, "初始密码")
    assert list(passwords["用户名"]) == ["leader_sun"]  # only the generated one is shown
    generated = passwords["初始密码"].iloc[0]
    assert login("leader_sun", generated).session_state["actor"].username == "leader_sun"
    assert _user(dashboard_db, "zjj_zhao").department_code == "zjj"


def test_office_imports_leads_which_are_assigned(dashboard_db):
    header = "线索编号,来源,收到日期,涉及项目编号,承办部门代码,问题类别,内容摘要,举报人姓名,举报人电话\n"
    data = (
        header
        + "XS-2020-101,举报,2020-06-10,,zjj,围标串标,反映某项目投标人串通投标,李某,13700000000\n"
        + "XS-2020-102,大数据预警,2020-06-12,,jyj,弄虚作假,投标人业绩疑似造假,,\n"
    ).encode("utf-8")
    at = _import(open_page(login("office"), "pages/office_imports.py"), "leads", "线索.csv", data)
    assert not _errors(at), _errors(at)
    lead = _lead(dashboard_db, "XS-2020-101")
    assert (lead.status, lead.reporter_name) == ("assigned", "李某")
    dept = open_page(login("dept_zjj"), "pages/dept_ledger.py")
    assert list(_frame_with(dept, "摘要")["编号"]) == ["XS-2020-101"]


# --- attachments in the review queue, deliveries that need the office ---------------------------


def test_office_sees_the_submitted_attachment_as_a_download(dashboard_db, launched_campaign, tmp_path):
    from services import submissions
    from services.attachments import Upload

    target = _assignment_id(dashboard_db, "zjj", "self_check_report")
    dept = _actor(dashboard_db, "dept_zjj")
    with _uow(dashboard_db) as uow:
        submissions.submit(
            uow.session,
            actor=dept,
            at=SEED_AT,
            assignment_id=target,
            text="自查报告见附件",
            late_reason="等待外单位盖章",
            attachments=[Upload("自查报告.pdf", "application/pdf", b"%PDF-1.4 test")],
            attachment_dir=tmp_path / "attachments",
        )
        uow.commit()

    office = login("office")
    _no_exceptions(office)
    buttons = [b for b in _downloads(office) if b.key and b.key.startswith("attachment_")]
    assert len(buttons) == 1 and "自查报告.pdf" in buttons[0].proto.label


def test_office_confirms_an_uncertain_delivery(dashboard_db, launched_campaign):
    from sqlalchemy import select

    from services import delivery
    from settings import Settings
    from store.models import AuditEntry, OutboxDelivery

    with _uow(dashboard_db) as uow:
        delivery.plan_deliveries(
            uow.session, launched_campaign.code, AS_OF, Settings(smtp_host="127.0.0.1", webhooks=[]), at=SEED_AT
        )
        row = uow.session.scalars(select(OutboxDelivery).where(OutboxDelivery.channel == "email")).first()
        row.state, row.attempts, row.last_error = "uncertain", 1, "发送过程中断，不会自动重发"
        uow.commit()
        stuck_id = row.id

    at = open_page(login("office"), "pages/office_operations.py")
    assert not _errors(at), _errors(at)
    assert any("1 条通知需要处理" in w.value for w in at.warning)
    [table] = [d.value for d in at.dataframe]  # the page's only table
    assert list(table["编号"]) == [stuck_id] and table["状态"].iloc[0].startswith("待确认")
    at.button(key="delivery_delivered").click()
    at.run()
    _no_exceptions(at)
    assert any(f"#{stuck_id}" in s.value for s in at.success)
    with _uow(dashboard_db) as uow:
        assert uow.session.get(OutboxDelivery, stuck_id).state == "sent"
        assert uow.session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "delivery.confirm")) == "office"


# --- the dashboard's edge: ticking, errors, the schema check ----------------------------------------


def test_office_ticks_now_as_itself_and_an_earlier_day_is_refused(dashboard_db, launched_campaign):
    from sqlalchemy import select

    from store.models import AuditEntry, Campaign

    at = open_page(login("office"), "pages/office_operations.py")
    at.date_input(key="tick_day").set_value(AS_OF - dt.timedelta(days=3))
    at.button(key="tick_now").click()
    at.run()
    _no_exceptions(at)
    assert any("更早的日期" in e for e in _errors(at)), _errors(at)
    at.date_input(key="tick_day").set_value(AS_OF + dt.timedelta(days=1))
    at.run()
    # a day after the (simulated) today is ticked only once confirmed
    at.checkbox(key="tick_confirm").check()
    at.run()
    at.button(key="tick_now").click()
    at.run()
    _no_exceptions(at)
    done = [s.value for s in at.success if "巡检完成" in s.value]
    assert done and "没有新的记录" not in done[0], [s.value for s in at.success]
    with _uow(dashboard_db) as uow:
        s = uow.session
        assert s.scalar(select(Campaign.last_tick_on)) == AS_OF + dt.timedelta(days=1)
        ticks = s.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "campaign.tick", AuditEntry.outcome == "ok")
        ).all()
        assert ticks[-1] == "office"
    # The same day again, nothing recorded since: said as such, and recorded once more (as unchanged).
    at.button(key="tick_now").click()
    at.run()
    _no_exceptions(at)
    again = [s.value for s in at.success if "巡检完成" in s.value]
    assert again and "没有新的记录，进度统计不变" in again[0], [s.value for s in at.success]
    with _uow(dashboard_db) as uow:
        last = uow.session.scalars(
            select(AuditEntry.after_json)
            .where(AuditEntry.action == "campaign.tick", AuditEntry.outcome == "ok")
            .order_by(AuditEntry.id)
        ).all()
        assert len(last) == len(ticks) + 1 and '"unchanged": true' in last[-1]


def test_a_user_error_is_its_message_and_a_bug_is_an_incident_in_the_log(dashboard_db, tmp_path):
    import re

    def script() -> None:
        from dashboard import session
        from domain.errors import Invalid

        def refused(_session: object) -> None:
            raise Invalid("截止日期不能早于开始日期")

        def broken(_session: object) -> None:
            raise RuntimeError("a bug in a page")

        session.run_service(refused)
        session.run_service(broken)

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert not at.exception
    user_error, incident_line = _errors(at)
    assert user_error == "截止日期不能早于开始日期"
    found = re.fullmatch(r"系统内部错误（事件编号 (\w+)），已记录，请联系管理员", incident_line)
    assert found, incident_line
    log = (tmp_path / "logs" / "dashboard.log").read_text(encoding="utf-8")
    assert f"incident {found.group(1)}" in log and "RuntimeError: a bug in a page" in log
    assert "截止日期不能早于开始日期" not in log  # a user's error is not an incident


def test_a_database_that_is_not_migrated_says_what_to_run(dashboard_db, monkeypatch, tmp_path):
    import streamlit as st

    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", f"sqlite:///{(tmp_path / 'empty.db').as_posix()}")
    st.cache_resource.clear()  # the Settings of this process are built again, on the empty database
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    _no_exceptions(at)
    assert any("campaign db upgrade" in e for e in _errors(at)), _errors(at)
    assert not at.text_input  # no login form on a database the program cannot use


def test_countdown_reads_the_deadline_rule_of_the_campaign_calendar(launched_campaign):
    """widgets.countdown words what domain.rules.standing computes on the campaign's working calendar."""
    from dashboard.widgets import calendar_of, countdown
    from domain.assignment import ASSIGNMENT

    cal = calendar_of(launched_campaign.spec)
    today = AS_OF
    assert countdown(cal, today, cal.add_workdays(today, 5), "open", 0) == "剩 5 个工作日"
    assert countdown(cal, today, cal.add_workdays(today, 2), "open", 0) == "临期：剩 2 个工作日"
    assert countdown(cal, today, today, "open", 0) == "今天到期"
    due = dt.date(2020, 6, 22)
    late = cal.workdays_between(due, today)
    assert countdown(cal, today, due, "returned", 0) == f"已退回 · 逾期 {late} 个工作日"
    assert countdown(cal, today, due, "open", late + 4) == f"逾期 {late + 4} 个工作日"  # the tick's count when more
    for status in ("accepted", "submitted", "scheduled", "cancelled"):
        assert countdown(cal, today, due, status, 0) == ASSIGNMENT.label(status)
    far = dt.date(2099, 3, 2)  # a year the holiday tables do not know: the date, not a guess
    assert countdown(cal, far, far + dt.timedelta(days=10), "open", 0) == "截止 2099-03-12"
