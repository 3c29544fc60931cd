"""Render helpers shared by pages: filters, flash messages, badges, submission history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import queries, session
from domain.access import ROLE_LABELS, Actor, Role
from domain.spec import DEPARTMENT_KIND_LABELS, CampaignSpec


def page(*roles: Role) -> Actor:
    """Every page starts here: the role check, the sidebar (user, logout, campaign), flash messages."""
    actor = session.require_actor(*roles)
    with st.sidebar:
        st.markdown(f"**{actor.display_name or actor.username}**")
        dept = f" · {actor.department_code}" if actor.department_code else ""
        st.caption(f"{ROLE_LABELS[actor.role]}{dept}")
        if st.button("退出登录", key="logout"):
            session.logout()
            st.session_state["login_message"] = "已退出登录"
            st.rerun()
        session.pick_campaign()
        st.caption(f"今天：{session.today():%Y-%m-%d}")
    show_flash()
    return actor


def flash(message: str, kind: str = "success") -> None:
    st.session_state.setdefault("_flash", []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop("_flash", []):
        getattr(st, kind)(message)


def campaign_or_stop() -> str:
    code = st.session_state.get("campaign_code")
    if not code:
        st.info("尚无专项行动。牵头办公室可在「专项行动配置」中启动。")
        st.stop()
    return code


def board_filters(code: str) -> tuple[str, tuple[str, ...] | None, str]:
    """Phase and department-kind filters (sidebar); returns (phase_key, kinds, phase title)."""
    phases = queries.phases(code)
    options = [""] + list(phases["key"])
    titles = dict(zip(phases["key"], phases["title"]))
    titles[""] = "全部阶段"
    phase = st.sidebar.selectbox("阶段", options, format_func=lambda k: titles.get(k, k), key="filter_phase")
    depts = queries.departments(code)
    kinds_present = [k for k in DEPARTMENT_KIND_LABELS if k.value in set(depts["kind"])]
    chosen = st.sidebar.multiselect("部门类别", [k.value for k in kinds_present],
                                    format_func=lambda k: DEPARTMENT_KIND_LABELS.get(k, k), key="filter_kinds",
                                    placeholder="全部类别")
    return phase, (tuple(sorted(chosen)) or None), titles[phase]


def refresh_rollup(code: str) -> None:
    """Re-run the rollup step of the campaign's last tick so the boards show a review at once.

    The rollup step is idempotent for its day: this is what re-ticking that day writes.
    """
    from services import ticking
    from services.campaigns import get_campaign

    try:
        with session.unit_of_work() as uow:
            day = get_campaign(uow.session, code).last_tick_on
            if day is not None:
                ticking.write_rollup(uow.session, code, day)
                uow.commit()
    except session.user_errors() as exc:
        st.warning(f"进度统计未能刷新：{exc}")


def countdown(spec: CampaignSpec | None, today: dt.date, due_on: dt.date, status: str, overdue_days: int) -> str:
    if status == "accepted":
        return "已通过"
    if status == "submitted":
        return "待审核"
    if status == "scheduled":
        return "未开始"
    if status == "cancelled":
        return "已撤销"
    prefix = "已退回 · " if status == "returned" else ""
    days = None
    if spec is not None:
        from services.holidays import campaign_calendar

        try:
            days = campaign_calendar(spec).workdays_between(today, due_on)
        except Exception:  # noqa: BLE001 - a year the holiday tables do not know
            days = None
    if days is None:
        days = (due_on - today).days
    if today > due_on or days < 0:
        late = max(overdue_days, abs(days), 1)
        return f"{prefix}逾期 {late} 个工作日"
    if days == 0:
        return f"{prefix}今天到期"
    if days <= 3:
        return f"{prefix}临期：剩 {days} 个工作日"
    return f"{prefix}剩 {days} 个工作日"


def submission_history(subs: list) -> None:  # noqa: ANN001
    if not subs:
        st.caption("尚无报送记录")
        return
    for s in reversed(subs):
        state = {"pending": "待审核", "accepted": "已通过", "returned": "已退回"}.get(s.state, s.state)
        local = s.submitted_at.astimezone(session.LOCAL_TZ)
        with st.container(border=True):
            st.markdown(f"**第 {s.seq} 次报送** · {s.submitted_by} · {local:%Y-%m-%d %H:%M} · {state}")
            if s.text:
                st.text(s.text)
            if s.rows:
                st.dataframe(pd.DataFrame(s.rows), hide_index=True, width="stretch")
            if s.attachments:
                st.caption("附件：" + "、".join(f"{a.filename}（{a.size:,} 字节）" for a in s.attachments))
            if s.review_note:
                st.warning(f"退回原因：{s.review_note}")


def percent(x: float) -> str:
    return f"{x * 100:.1f}%"
