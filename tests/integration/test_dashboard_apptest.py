"""The dashboard through streamlit.testing.v1.AppTest: every page for every role, on SQLite.

The database is prepared with the shared fixtures (yanjiang-2020 launched and ticked to 2020-06-01,
users office / leader / dept_<code>), then ticked to 2020-06-29 so some work is overdue and escalated.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from store.db import make_engine
from store.migrate import upgrade
from tests.conftest import PASSWORD, run_tick

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
AS_OF = dt.date(2020, 6, 29)
TIMEOUT = 60

LEADER_PAGES = ["pages/leader_overview.py", "pages/leader_departments.py", "pages/leader_ledger.py"]
OFFICE_PAGES = ["pages/office_review.py", *LEADER_PAGES, "pages/office_campaign.py", "pages/office_operations.py"]
DEPARTMENT_PAGES = ["pages/dept_assignments.py", "pages/dept_ledger.py"]


@pytest.fixture
def engine(tmp_path):
    """SQLite only (overrides the sqlite/postgres pair): the dashboard is tested once, on a file."""
    eng = make_engine(f"sqlite:///{(tmp_path / 'campaign.db').as_posix()}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def dashboard_db(engine, launched_campaign, users, monkeypatch, tmp_path):
    run_tick(engine, launched_campaign.code, AS_OF)
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", url)
    monkeypatch.setenv("CAMPAIGN_AS_OF", AS_OF.isoformat())
    monkeypatch.setenv("CAMPAIGN_ATTACHMENT_DIR", str(tmp_path / "attachments"))
    import streamlit as st

    st.cache_data.clear()
    return url


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


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
        disable_user(uow.session, actor=SYSTEM, at=dt.datetime.now(dt.timezone.utc), username="dept_zjj")
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


@pytest.mark.parametrize("page", LEADER_PAGES)
def test_leader_pages(dashboard_db, page):
    at = open_page(login("leader"), page)
    assert not _errors(at)
    assert at.title


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


def test_leader_filters_by_phase_and_kind(dashboard_db):
    at = open_page(login("leader"), "pages/leader_departments.py")
    at.sidebar.selectbox(key="filter_phase").select("self_check")
    at.sidebar.multiselect(key="filter_kinds").select("trading_center")
    at.run()
    _no_exceptions(at)
    board = at.dataframe(key="board_table").value
    assert list(board["部门代码"]) == ["jyzx"]


@pytest.mark.parametrize("page", OFFICE_PAGES)
def test_office_pages(dashboard_db, page):
    at = open_page(login("office"), page)
    assert not _errors(at)
    assert at.title


@pytest.mark.parametrize("page", DEPARTMENT_PAGES)
def test_department_pages(dashboard_db, page):
    at = open_page(login("dept_zjj"), page)
    assert not _errors(at)
    assert at.title


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
            select(Assignment.id).join(Department, Department.id == Assignment.department_id)
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
    assert not [f for f in at.get("form")], "no submit form for another department's work"


def test_department_submits_office_accepts_board_changes(dashboard_db):
    target = _assignment_id(dashboard_db, "zjj", "self_check_report")

    at = login("dept_zjj")
    at.selectbox(key="pick_assignment").select(target)
    at.run()
    at.text_area(key=f"text_{target}").input("住建局自查报告：共自查项目 12 个，发现问题 3 个。")
    next(b for b in at.button if b.label == "提交报送").click()
    at.run()
    _no_exceptions(at)
    assert not _errors(at), _errors(at)
    assert any("已提交" in s.value for s in at.success)

    office = login("office")  # the review queue is the office's first page
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
