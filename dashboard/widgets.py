"""Render helpers shared by pages: filters, flash messages, badges, submission history, Excel downloads."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import downloads, queries, session, style
from domain.access import ROLE_LABELS, SYSTEM, Actor, Role
from domain.assignment import ASSIGNMENT, SUBMISSION, AssignmentStatus, SubmissionState
from domain.calendar import WorkingCalendar
from domain.department import DEPARTMENT_KIND
from domain.errors import RowsRejected, UserError
from domain.lead import LEAD, LEAD_MEASURE, LEAD_OUTCOME
from domain.localtime import local_text
from domain.problem import HANDLING_CLASS, PROBLEM, PROBLEM_CATEGORY, PROBLEM_EVENT
from domain.rules import standing
from domain.spec import CampaignSpec
from exchange.errors import ImportProblem, ImportRejected
from exchange.xlsx_export import to_xlsx
from flows.entries import run_launch
from services import leads as lead_service
from services import problems as problem_service
from services import ticking
from services import users as user_service
from services.campaigns import LaunchReport
from services.exports import ledger_xlsx
from services.holidays import campaign_calendar
from services.imports import IMPORT_KIND_TITLES, template, template_filename
from services.ticking import TickSummary
from store.db import shared_engine
from store.uow import unit_per_step

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
INBOX_PAGE = "pages/inbox.py"


def page(*roles: Role) -> Actor:
    """Every page starts here: the role check, the sidebar (user, logout, campaign), flash messages."""
    actor = session.require_actor(*roles)
    with st.sidebar:
        st.markdown(f"**{actor.display_name or actor.username}**")
        dept = f" · {department_name(actor)}" if actor.department_code else ""
        st.caption(f"{ROLE_LABELS[actor.role]}{dept}")
        unread = session.unread_messages(actor)
        if unread:
            st.page_link(INBOX_PAGE, label=f"未读消息 {unread} 条", icon=":material/mark_email_unread:")
        if st.button("退出登录", key="logout"):
            session.logout()
            st.session_state["login_message"] = "已退出登录"
            st.rerun()
        pick_campaign(actor)
        st.caption(f"今天：{session.today():%Y-%m-%d}")
    show_flash()
    return actor


def pick_campaign(actor: Actor) -> str | None:
    """Campaign selector (sidebar); remembered in the session."""
    codes = queries.campaign_codes(actor)
    if not codes:
        st.sidebar.info("尚无专项行动")
        return None
    current = st.session_state.get("campaign_code")
    index = codes.index(current) if current in codes else 0
    titles = {c: queries.campaign_title(actor, c) for c in codes}
    repeated = {t for t in titles.values() if list(titles.values()).count(t) > 1}
    labels = {c: f"{t}（{c}）" if t in repeated else t for c, t in titles.items()}  # the code only to tell twins apart
    code = st.sidebar.selectbox("专项行动", codes, index=index, key="campaign_pick", format_func=labels.__getitem__)
    st.session_state["campaign_code"] = code
    return code


# --- Excel downloads (every table the dashboard shows) -------------------------------------------


def _excel_cell(value: Any) -> Any:
    """pandas / numpy scalars as the plain Python values exchange.xlsx_export understands."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set, dict)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def xlsx_bytes(df: pd.DataFrame, sheet: str = "数据") -> bytes:
    """The frame as an .xlsx workbook; its column names (Chinese) are the headers."""
    rows = [[_excel_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return to_xlsx({sheet: ([str(c) for c in df.columns], rows)})


def download(
    data: bytes | Callable[[], bytes], *, filename: str, key: str, label: str = "下载 Excel", mime: str = XLSX_MIME
) -> None:
    """A download for the logged-in user only (dashboard.downloads: a single-use ticket, never a media URL)."""
    downloads.offer(data, filename=filename, key=key, label=label, mime=mime)


def xlsx_download(df: pd.DataFrame, *, filename: str, key: str, sheet: str = "数据", label: str = "下载 Excel") -> None:
    """One download button; the workbook is built only when it is clicked."""
    name = filename if filename.endswith(".xlsx") else f"{filename}.xlsx"
    download(lambda: xlsx_bytes(df, sheet), filename=name, key=key, label=label)


def table(
    df: pd.DataFrame,
    *,
    key: str,
    filename: str,
    sheet: str | None = None,
    export: pd.DataFrame | None = None,
    **kwargs: Any,
) -> Any:
    """st.dataframe plus its .xlsx download (``export``: a different frame to download, e.g. raw ratios)."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    event = st.dataframe(df, key=key, **kwargs)
    xlsx_download(
        df if export is None else export,
        filename=filename,
        key=f"{key}_xlsx",
        sheet=sheet or filename.removesuffix(".xlsx"),
    )
    return event


def ledger_download(actor: Actor, code: str, *, key: str, department_code: str | None = None) -> None:
    """The 整改台账 with every problem's full close-out history, read through the service on click."""

    def build() -> bytes:
        with session.unit_of_work() as uow:
            data = ledger_xlsx(
                uow.session, actor=actor, campaign_code=code, department_code=department_code, at=session.now()
            )
            uow.commit()
            return data

    suffix = f"-{department_code}" if department_code else ""
    download(build, filename=f"整改台账-{code}{suffix}.xlsx", key=key, label="下载整改台账（含销号过程）")


# --- imports ------------------------------------------------------------------------------------


def row_error_table(problems: Sequence[Any], *, key: str) -> None:
    """Row-numbered import errors (exchange.RowError or services.projects.RowProblem) as a table."""
    df = pd.DataFrame([{"行号": p.row_number, "列": p.column or "（整行）", "问题": p.message} for p in problems])
    table(df, key=key, filename="导入错误清单.xlsx", sheet="导入错误")


def run_import(fn: Callable[..., Any], *args: Any, key: str, **kwargs: Any) -> Any:
    """Call an import service and commit; bad rows are listed by row number, nothing is imported."""
    try:
        with session.unit_of_work() as uow:
            result = fn(uow.session, *args, **kwargs)
            uow.commit()
            return result
    except RowsRejected as exc:
        st.error(f"文件有 {len({p.row_number for p in exc.rows})} 行不符合要求，整个文件未导入，请修改后重新上传：")
        row_error_table(exc.rows, key=key)
    except ImportRejected as exc:
        st.error(
            f"「{exc.filename}」有 {len({e.row_number for e in exc.errors})} 行不符合要求，"
            "整个文件未导入，请修改后重新上传："
        )
        row_error_table(exc.errors, key=key)
    except ImportProblem as exc:
        st.error(f"文件无法导入：{exc}")
    except Exception as exc:  # noqa: BLE001 - a refusal in words, a bug as an incident
        session.show_error(exc)
    return None


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


def board_filters(actor: Actor, code: str) -> tuple[str, tuple[str, ...] | None, str]:
    """Phase and department-kind filters (sidebar); returns (phase_key, kinds, phase title)."""
    phases = queries.phases(actor, campaign_code=code)
    options = ["", *list(phases["key"])]
    titles = dict(zip(phases["key"], phases["title"], strict=False))
    titles[""] = "全部阶段"
    phase = st.sidebar.selectbox("阶段", options, format_func=lambda k: titles.get(k, k), key="filter_phase")
    depts = queries.departments(actor, campaign_code=code)
    kinds_present = [k.value for k in DEPARTMENT_KIND.choices() if k.value in set(depts["kind"])]
    chosen = st.sidebar.multiselect(
        "部门类别", kinds_present, format_func=DEPARTMENT_KIND.label, key="filter_kinds", placeholder="全部类别"
    )
    return phase, (tuple(sorted(chosen)) or None), titles[phase]


def tick_campaign(actor: Actor, code: str, as_of: dt.date) -> TickSummary | None:
    """巡检 as `actor`: the one tick composition (services.ticking.tick, which `campaign tick` runs as
    a flow), each step in its own committed unit of work, checked and audited by the tick itself. A
    refused day is shown as its message; returns the tick's summary, or None."""
    try:
        run = unit_per_step(shared_engine(session.settings().db_url))
        return ticking.tick(run, code, as_of, actor=actor, at=session.now())
    except Exception as exc:  # noqa: BLE001 - a refusal in words, a bug as an incident
        session.show_error(exc)
        return None


def launch_campaign(actor: Actor, spec: CampaignSpec, *, source_path: str) -> LaunchReport | None:
    """启动专项行动 / 应用变更 as `actor`: the one launch entry point (flows.entries.run_launch, as
    `campaign launch`), checked and audited by services.campaigns.launch. Errors are shown; None then."""
    try:
        return run_launch(
            spec, settings_or_db_url=session.settings(), actor=actor, at=session.now(), source_path=source_path
        )
    except Exception as exc:  # noqa: BLE001 - a refusal in words, a bug as an incident
        session.show_error(exc)
        return None


def refresh_rollup(actor: Actor, code: str) -> None:
    """After a submission or a review, tick the campaign's last tick day again (idempotent for its
    day) so the boards show the change at once. The system ticks, on behalf of the change the
    actor made (a department may not tick, but its submission must show)."""
    day = queries.campaign_row(actor, code).get("last_tick_on")
    if day is not None:
        tick_campaign(SYSTEM, code, day)


def calendar_of(spec: CampaignSpec | None) -> WorkingCalendar | None:
    """The campaign's working calendar (holidays, 调休 and the YAML's overrides) for countdowns."""
    return campaign_calendar(spec) if spec is not None else None


def countdown(calendar: WorkingCalendar | None, today: dt.date, due_on: dt.date, status: str, overdue_days: int) -> str:
    """What a person reads beside a task: its state, or the working days left / overdue
    (domain.rules.standing; the stored overdue days of the last tick when they are more)."""
    if status not in (AssignmentStatus.open, AssignmentStatus.returned):
        return ASSIGNMENT.label(status)
    prefix = f"{ASSIGNMENT.label(AssignmentStatus.returned)} · " if status == AssignmentStatus.returned else ""
    try:
        where = standing(due_on, today, calendar) if calendar is not None else None
    except UserError:  # a year the holiday tables do not know: the date, not a guessed count
        where = None
    if where is None:
        return f"{prefix}截止 {due_on:%Y-%m-%d}"
    if where.overdue:
        return f"{prefix}逾期 {max(overdue_days, where.overdue_working_days)} 个工作日"
    days = where.working_days_left
    if days == 0:
        return f"{prefix}今天到期"
    if days <= 3:
        return f"{prefix}临期：剩 {days} 个工作日"
    return f"{prefix}剩 {days} 个工作日"


def submission_history(subs: list, actor: Actor) -> None:
    if not subs:
        st.caption("尚无报送记录")
        return
    names = person_names(actor, [s.submitted_by for s in subs])
    for s in reversed(subs):
        with st.container(border=True):
            st.markdown(
                f"**第 {s.seq} 次报送** · {names.get(s.submitted_by, s.submitted_by)} · {local_text(s.submitted_at)}"
                f" · {SUBMISSION.label(s.state)}"
            )
            if s.text:
                st.text(s.text)
            if s.rows:
                table(
                    pd.DataFrame(s.rows),
                    key=f"submission_rows_{s.id}",
                    filename=f"报送明细-{s.assignment_id}-{s.seq}.xlsx",
                    sheet="报送明细",
                )
            for a in s.attachments:  # read through the service (permission-checked) when the browser fetches it
                downloads.offer(
                    None,
                    attachment_id=a.id,
                    filename=a.filename,
                    key=f"attachment_{s.id}_{a.id}",
                    label=f"附件：{a.filename}（{a.size:,} 字节）",
                    mime=a.content_type or "application/octet-stream",
                )
            if s.late_reason:  # 逾期原因, issue 13
                st.info(f"逾期原因：{s.late_reason}")
            if s.review_note:
                st.warning(f"{'退回原因' if s.state == SubmissionState.returned else '审核意见'}：{s.review_note}")


def percent(x: float) -> str:
    return f"{x * 100:.1f}%"


# --- problems and leads -------------------------------------------------------------------------


def problem_frame(problems: Sequence[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "编号": p.code,
                "责任单位": p.department_name,
                "项目编号": p.project_code or "",
                "类别": p.category,
                "问题描述": p.description,
                "责任人": p.responsible_person or "",
                "整改措施": p.measure or "",
                "处置方式": p.handling_class,
                "发现日期": p.found_on,
                "整改时限": p.deadline_on,
                "状态": PROBLEM.label(p.status),
                "反弹": "是" if p.rebound else "",
                "销号日期": p.closed_on,
            }
            for p in problems
        ]
    )


def lead_frame(
    leads: Sequence[Any], *, show_reporter: bool = False, names: dict[str, str] | None = None
) -> pd.DataFrame:
    """Reporter identities only where the page asks for them (the office's own page); the service has
    already blanked them for everyone else."""
    rows = []
    for x in leads:
        row = {
            "序号": x.id,
            "编号": x.code,
            "来源": x.source,
            "收到日期": x.received_on,
            "类别": x.category,
            "摘要": x.summary,
            "涉及项目": x.project_code or "",
            "承办部门": (names or {}).get(x.department_code, x.department_code) if x.department_code else "（未交办）",
            "办理期限": x.due_on,
            "状态": LEAD.label(x.status),
            "结果": x.outcome or "",
            "处理措施": "、".join(x.measures),
            "罚款（万元）": float(x.fine_wan),
            "涉及企业": x.enterprises_involved,
            "处理人数": x.people_dealt_with,
            "办结日期": x.closed_on,
        }
        if show_reporter:
            row["举报人"] = x.reporter_name or ""
            row["举报人电话"] = x.reporter_phone or ""
        rows.append(row)
    return pd.DataFrame(rows)


def lead_outcome_inputs(key: str, outcome_label: str) -> dict[str, Any]:
    """The outcome fields of a lead (inside the caller's form), as keyword arguments for
    services.leads.report_outcome / close_lead."""
    outcome = st.radio(outcome_label, [o.value for o in LEAD_OUTCOME.choices()], horizontal=True, key=f"{key}_outcome")
    measures = st.multiselect(
        "处理措施",
        [m.value for m in LEAD_MEASURE.choices()],
        key=f"{key}_measures",
        placeholder="查实或部分属实时选择；不实则不选",
    )
    c = st.columns(3)
    fine = c[0].number_input("罚款（万元）", min_value=0.0, step=0.1, key=f"{key}_fine")
    ent = c[1].number_input("涉及企业数", min_value=0, step=1, key=f"{key}_enterprises")
    ppl = c[2].number_input("处理人数", min_value=0, step=1, key=f"{key}_people")
    return {
        "outcome": outcome,
        "measures": measures,
        "fine_wan": round(fine, 2),
        "enterprises_involved": int(ent),
        "people_dealt_with": int(ppl),
    }


def problem_form(actor: Actor, code: str, *, key: str) -> None:
    """登记问题: the office for any department, a department for itself (the service decides)."""
    phases = queries.phases(actor, campaign_code=code)
    if phases.empty:
        st.info("专项行动尚无阶段")
        return
    titles = dict(zip(phases["key"], phases["title"], strict=False))
    today = session.today()
    with st.form(key, clear_on_submit=True):
        if actor.role == Role.department:
            dept = actor.department_code
            st.caption(f"责任单位：{department_name(actor)}")
        else:
            names = queries.department_names(actor, code)
            dept = st.selectbox("责任单位", list(names), format_func=lambda c: names[c], key=f"{key}_dept")
        c1, c2, c3 = st.columns(3)
        phase = c1.selectbox("发现阶段", list(titles), format_func=lambda k: titles[k], key=f"{key}_phase")
        category = c2.selectbox("问题类别", [c.value for c in PROBLEM_CATEGORY.choices()], key=f"{key}_category")
        handling = c3.selectbox("整改方式", [h.value for h in HANDLING_CLASS.choices()], key=f"{key}_handling")
        description = st.text_area("问题描述", key=f"{key}_description")
        c4, c5, c6 = st.columns(3)
        project = c4.text_input("项目编号（可不填）", key=f"{key}_project")
        person = c5.text_input("责任人（可不填）", key=f"{key}_person")
        deadline = c6.date_input("整改时限", value=today + dt.timedelta(days=30), key=f"{key}_deadline")
        measure = st.text_input("整改措施", key=f"{key}_measure")
        go = st.form_submit_button("登记问题", type="primary")
    if go:
        done = session.run_service(
            problem_service.record_problem,
            actor=actor,
            at=session.now(),
            campaign_code=code,
            department_code=dept,
            phase_key=phase,
            category=category,
            description=description,
            handling_class=handling,
            deadline_on=deadline,
            found_on=today,
            project_code=project.strip() or None,
            responsible_person=person.strip() or None,
            measure=measure.strip() or None,
        )
        if done is not None:
            flash(f"已登记问题 {done.code}")
            st.rerun()


def import_kinds() -> dict[str, str]:
    return dict(IMPORT_KIND_TITLES)


def import_template_download(kind: str, *, key: str) -> None:
    download(
        lambda: template(kind),
        filename=template_filename(kind),
        key=key,
        label=f"下载{IMPORT_KIND_TITLES.get(kind, kind)}导入模板",
    )


def report_text(report: Any) -> str:
    """An import report in words (its own lines() when it has them)."""
    lines = getattr(report, "lines", None)
    return "；".join(lines()) if callable(lines) else str(report)


# --- charts (Plotly in Chinese) ----------------------------------------------------------------------

MONTHS = [f"{m}月" for m in range(1, 13)]
# Plotly's locale for zh-CN, given with each chart (Streamlit's Plotly bundle registers no locales):
# the mode bar's words, and the automatic date ticks as 2020年6月 / 6月8日 instead of "Jun 2020".
PLOTLY_ZH_CN = {
    "moduleType": "locale",
    "name": "zh-CN",
    "dictionary": {
        "Download plot as a PNG": "下载图片",
        "Download plot as a png": "下载图片",
        "Download plot": "下载图片",
        "Reset axes": "还原",
        "Autoscale": "自动缩放",
        "Zoom": "缩放",
        "Pan": "平移",
        "Double-click to zoom back out": "双击还原",
        "Double-click on legend to isolate one trace": "双击图例只看这一项",
        "Taking snapshot - this may take a few seconds": "正在生成图片……",
        "Snapshot succeeded": "图片已生成",
        "Sorry, there was a problem downloading your snapshot!": "图片下载失败",
        "trace": "系列",
    },
    "format": {
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        "months": MONTHS,
        "shortMonths": MONTHS,
        "periods": ["上午", "下午"],
        "date": "%Y-%m-%d",
        "time": "%H:%M:%S",
        "dateTime": "%Y年%-m月%-d日 %H:%M:%S",
        "year": "%Y年",
        "month": "%Y年%-m月",
        "dayMonth": "%-m月%-d日",
        "dayMonthYear": "%Y年%-m月%-d日",
        "decimal": ".",
        "thousands": ",",
        "grouping": [3],
        "currency": ["¥", ""],
    },
}
PLOTLY_CONFIG: dict[str, Any] = {
    "locale": "zh-CN",
    "locales": {"zh-CN": PLOTLY_ZH_CN},
    "displaylogo": False,
    "modeBarButtons": [["toImage"]],  # the one button a person needs; the others are English-only gestures
    "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "图表"},
}
DATE_TICKS = [  # explicit too, so the figure reads the same where no locale is applied
    {"dtickrange": [None, 86_400_000], "value": "%-m月%-d日 %H:%M"},
    {"dtickrange": [86_400_000, 2_000_000_000], "value": "%-m月%-d日"},  # up to ~3 weeks
    {"dtickrange": ["M1", "M11"], "value": "%Y年%-m月"},
    {"dtickrange": ["M12", None], "value": "%Y年"},
]


def _date_axes(fig: Any) -> list[str]:
    """Layout names of the x axes that carry dates (set explicitly, or by a trace's x / base values)."""
    names = {name for name in fig.layout if name.startswith("xaxis") and fig.layout[name].type == "date"}
    for trace in fig.data:
        values = [v for v in (getattr(trace, "x", None), getattr(trace, "base", None)) if v is not None]
        if any(len(v) and isinstance(v[0], (dt.date, np.datetime64, pd.Timestamp)) for v in values):
            ref = getattr(trace, "xaxis", None) or "x"
            names.add("xaxis" + ref[1:])
    return sorted(names)


def localised(fig: Any) -> Any:
    """A copy of the figure with dates as 2020年6月 / 6月8日 on its axes and in its hover labels."""
    fig = type(fig)(fig)
    for name in _date_axes(fig):
        fig.layout[name].update(tickformatstops=DATE_TICKS, hoverformat="%Y年%-m月%-d日")
    fig.update_layout(separators=".,")
    return fig


def chart(fig: Any, *, key: str, phone: Callable[[], None] | None = None, **kwargs: Any) -> Any:
    """st.plotly_chart in Chinese (locale, dates, one mode-bar button). ``phone``: what a phone shows
    instead (e.g. a ranked list for a heat map), drawn in a container only phones display."""
    kwargs.setdefault("width", "stretch")
    kwargs.setdefault("config", PLOTLY_CONFIG)
    if phone is None:
        return st.plotly_chart(localised(fig), key=key, **kwargs)
    with st.container(key=f"{style.WIDE_PREFIX}{key}"):
        event = st.plotly_chart(localised(fig), key=key, **kwargs)
    with st.container(key=f"{style.PHONE_PREFIX}{key}"):
        phone()
    return event


# --- phone cards ------------------------------------------------------------------------------------

TONES = ("danger", "warning", "success", "info", "")


@dataclass(frozen=True)
class Card:
    """One row as a phone reads it: a title, a badge (state, countdown), lines of 标签：值, a tone
    (danger / warning / success / info / neutral "") and optionally a progress bar (0..1)."""

    title: str
    badge: str = ""
    lines: Sequence[tuple[str, Any]] = ()
    tone: str = ""
    progress: float | None = None


def _card_html(card: Card) -> str:
    esc = html.escape
    tone = f" cm-{card.tone}" if card.tone in TONES and card.tone else ""
    parts = [f'<div class="cm-card{tone}">']
    if card.badge:
        parts.append(f'<span class="cm-badge">{esc(card.badge)}</span>')
    parts.append(f'<div class="cm-title">{esc(card.title)}</div>')
    for label, value in card.lines:
        if value is None or value == "":
            continue
        parts.append(f'<div class="cm-line">{esc(str(label))}：{esc(_card_value(value))}</div>')
    if card.progress is not None:
        width = max(0.0, min(1.0, float(card.progress))) * 100
        parts.append(f'<div class="cm-bar"><div style="width:{width:.0f}%"></div></div>')
    parts.append("</div>")
    return "".join(parts)


def _card_value(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return local_text(value)
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def cards(items: Sequence[Card], *, empty: str = "暂无记录", limit: int = 200) -> None:
    """Cards, one per row (a phone's table). At most ``limit``; the rest are counted."""
    if not items:
        st.caption(empty)
        return
    body = "".join(_card_html(c) for c in items[:limit])
    st.html(f'<div class="cm-cards">{body}</div>')
    if len(items) > limit:
        st.caption(f"另有 {len(items) - limit} 条，请在电脑上查看或下载 Excel")


def desk_and_phone(key: str) -> tuple[Any, Any]:
    """Two containers: the first shows on a desk (wide tables, charts), the second on a phone (cards)."""
    return st.container(key=f"{style.WIDE_PREFIX}{key}"), st.container(key=f"{style.PHONE_PREFIX}{key}")


# --- rows that stand out, rows that open --------------------------------------------------------------

ROW_TONE_COLOURS = {
    "danger": "background-color: rgba(211, 47, 47, 0.12)",
    "warning": "background-color: rgba(245, 124, 0, 0.14)",
    "success": "",
    "info": "",
    "": "",
}


def toned(df: pd.DataFrame, tones: Sequence[str]) -> Any:
    """The frame as a Styler whose rows are tinted by tone (逾期 red, 已退回 orange), for st.dataframe."""
    colours = [ROW_TONE_COLOURS.get(t, "") for t in tones]
    return df.style.apply(lambda row: [colours[row.name]] * len(row), axis=1)


def picked(event: Any, df: pd.DataFrame, column: str) -> Any:
    """The ``column`` value of the row clicked in a st.dataframe(on_select="rerun") table, or None."""
    try:
        rows = event.selection.rows
    except AttributeError:
        return None
    if not rows or rows[0] >= len(df):
        return None
    value = df.iloc[rows[0]][column]
    return value.item() if isinstance(value, np.generic) else value


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week ``day`` is in (本周到期)."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def due_this_week(due_on: dt.date, today: dt.date) -> bool:
    monday, sunday = week_of(today)
    return monday <= due_on <= sunday


def people_name(username: str | None, names: dict[str, str]) -> str:
    """A person as people read them: the display name, the account only when no name is known."""
    if not username:
        return ""
    return names.get(username) or username


def person_names(actor: Actor, usernames: Sequence[str]) -> dict[str, str]:
    """Accounts as people read them (display names); an account without one keeps its username."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    found = session.run_service(user_service.display_names, actor=actor, usernames=wanted, at=session.now())
    return {u: (found or {}).get(u, u) for u in wanted}


def department_name(actor: Actor, code: str | None = None) -> str:
    """A department's name (the actor's own by default) in the campaign being shown; the code only
    when the campaign does not know it."""
    code = code or actor.department_code
    if not code:
        return ""
    campaign = st.session_state.get("campaign_code") or actor.campaign_code
    return queries.department_names(actor, campaign).get(code, code) if campaign else code


def problem_detail(actor: Actor, problems: Sequence[Any], code: str | None) -> None:
    """The problem a row click opened: its fields and its history (who did what, with notes and files)."""
    chosen = next((p for p in problems if p.code == code), None) if code else None
    if chosen is None:
        return
    found = session.run_service(problem_service.get_problem, actor=actor, problem_id=chosen.id, at=session.now())
    if found is None:
        return
    p, events = found
    names = person_names(actor, [e.actor for e in events])
    with st.container(border=True):
        st.markdown(f"**{p.code} · {p.department_name} · {p.category}** · {PROBLEM.label(p.status)}")
        st.write(p.description)
        st.caption(
            f"整改措施：{p.measure or '—'}；责任人：{p.responsible_person or '—'}；"
            f"发现 {p.found_on}，整改时限 {p.deadline_on}" + (f"，销号 {p.closed_on}" if p.closed_on else "")
        )
        for e in events:
            files = "；附件：" + "、".join(a.filename for a in e.attachments) if e.attachments else ""
            note = f"：{e.note}" if e.note else ""
            st.markdown(
                f"- {local_text(e.at)} {names.get(e.actor, e.actor)} {PROBLEM_EVENT.label(e.action)}{note}{files}"
            )


def lead_detail(actor: Actor, leads: Sequence[Any], lead_id: int | None, names: dict[str, str] | None = None) -> None:
    """The lead a row click opened, read again through the service (checked like every read)."""
    if not lead_id or not any(x.id == lead_id for x in leads):
        return
    x = session.run_service(lead_service.get_lead, actor=actor, lead_id=int(lead_id), at=session.now())
    if x is None:
        return
    where = (names or {}).get(x.department_code, x.department_code) if x.department_code else "未交办"
    with st.container(border=True):
        st.markdown(f"**{x.code}** · {x.source} · {x.category} · {LEAD.label(x.status)} · 承办：{where}")
        st.write(x.summary)
        st.caption(
            f"收到 {x.received_on}；办理期限 {x.due_on or '—'}"
            + (f"；结果：{x.outcome}" if x.outcome else "")
            + (f"；处理措施：{'、'.join(x.measures)}" if x.measures else "")
            + (f"；办结 {x.closed_on}" if x.closed_on else "")
        )
        if x.reporter_name or x.reporter_phone:
            st.caption(f"举报人（保密）：{x.reporter_name or '匿名'} {x.reporter_phone or ''}")
