"""Every plotly figure of the product, for the dashboard (dashboard.charts shows them) and for paper
(the monthly report's chart is `department_progress`, exported by `to_png`): one chart looks the
same on screen and in the .docx. Builders take DataFrames; no streamlit here.

Static export: kaleido 1.x drives a Chromium that is already installed (`StaticExport.browser`, else
the first of chromium / chromium-browser / google-chrome on PATH) through its pipe protocol. It never
downloads a browser: plotly.js comes from the plotly package and MathJax is off, so no page loads
anything from the network. One browser per process is started on first use (about 2 s on an idle
machine) and reused (about 0.2 s a chart); it ends with the process.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as dt
import shutil
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from domain.assignment import ASSIGNMENT, PHASE_STATE, AssignmentStatus, PhaseState
from domain.lead import LEAD, SUBSTANTIATED, LeadStatus

FONT = "WenQuanYi Zen Hei, Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
ACCEPTED = ASSIGNMENT.label(AssignmentStatus.accepted)  # 已通过
COLORS = {"已布置": "#9aa5b1", ACCEPTED: "#2e7d32", "按时": "#66bb6a", "逾期": "#c62828", "已提交": "#1565c0"}
GRADE_COLORS = {"正常": "#2e7d32", "滞后": "#f9a825", "严重滞后": "#c62828"}
METRICS = {"assigned": "已布置", "accepted": ACCEPTED, "on_time": "按时", "overdue": "逾期"}
PHASE_COLORS = {PhaseState.closed: "#9aa5b1", PhaseState.open: "#1565c0", PhaseState.pending: "#90caf9"}
PROGRESS_TITLE = "各部门任务进度"


def _style(fig: go.Figure, height: int | None = None) -> go.Figure:
    fig.update_layout(
        font_family=FONT, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_title_text="", hoverlabel_font_family=FONT
    )
    if height:
        fig.update_layout(height=height)
    return fig


def _empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text="暂无数据", showarrow=False, font_size=16)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title)
    return _style(fig, 240)


def phase_gantt(phases: pd.DataFrame, today: dt.date) -> go.Figure:
    if phases.empty:
        return _empty("阶段时间表")
    df = phases.copy()
    df["开始"] = pd.to_datetime(df["start_on"])
    df["结束"] = pd.to_datetime(df["end_on"]) + pd.Timedelta(days=1)
    df["阶段"] = df["title"]
    df["状态"] = df["state_label"]
    fig = px.timeline(
        df,
        x_start="开始",
        x_end="结束",
        y="阶段",
        color="状态",
        title="阶段时间表",
        color_discrete_map={PHASE_STATE.label(state): color for state, color in PHASE_COLORS.items()},
        hover_data={"开始": "|%Y-%m-%d", "结束": False, "状态": True},
    )
    fig.update_yaxes(autorange="reversed", title="")
    fig.update_xaxes(title="")
    x = pd.Timestamp(today)
    fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line={"color": "#c62828", "dash": "dash"})
    fig.add_annotation(
        x=x, y=1, yref="paper", text=f"今天 {today:%m-%d}", showarrow=False, yshift=10, font_color="#c62828"
    )
    return _style(fig, 80 + 45 * len(df))


def department_progress(
    board: pd.DataFrame, sort_by: str = "completion", ascending: bool = True, top: int = 30, title: str = PROGRESS_TITLE
) -> go.Figure:
    """Grouped horizontal bars: assigned / accepted / on time / overdue per department (columns code,
    name, assigned, accepted, on_time, overdue and the sort column); the first `top` after sorting."""
    if board.empty:
        return _empty(title)
    df = board.sort_values([sort_by, "code"], ascending=[ascending, True]).head(top)
    long = df.melt(id_vars=["code", "name"], value_vars=list(METRICS), var_name="metric", value_name="count")
    long["指标"] = long["metric"].map(METRICS)
    fig = px.bar(
        long,
        x="count",
        y="name",
        color="指标",
        orientation="h",
        barmode="group",
        color_discrete_map=COLORS,
        custom_data=["code"],
        title=title,
        labels={"count": "任务数", "name": ""},
        category_orders={"name": list(df["name"]), "指标": list(METRICS.values())},
    )
    # Reversed so that each department's bars read top-down in the legend's order; the departments then
    # listed in sort order from the top (px had already reversed them for a horizontal axis).
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=list(df["name"]))
    if long["count"].max() <= 10:  # counts: no 0.2-task gridlines
        fig.update_xaxes(dtick=1)
    return _style(fig, 120 + 70 * len(df) if len(df) < 12 else 100 + 40 * len(df))


def phase_heatmap(heat: pd.DataFrame, department_order: list[str] | None = None) -> go.Figure:
    title = "部门 × 阶段 完成率"
    if heat.empty:
        return _empty(title)
    order = heat.drop_duplicates("phase").sort_values("ordinal")["phase"].tolist()
    grid = heat.pivot_table(index="name", columns="phase", values="completion", aggfunc="first")
    grid = grid.reindex(columns=order)
    if department_order:
        grid = grid.reindex([d for d in department_order if d in grid.index])
    fig = px.imshow(
        grid * 100,
        color_continuous_scale="RdYlGn",
        zmin=0,
        zmax=100,
        aspect="auto",
        labels={"color": "完成率 %", "x": "", "y": ""},
        title=title,
        text_auto=".0f",
    )
    return _style(fig, 140 + 28 * len(grid))


def trend(df: pd.DataFrame) -> go.Figure:
    title = "进度趋势（按巡检日快照）"
    if df.empty:
        return _empty(title)
    long = df.melt(
        id_vars=["as_of"],
        value_vars=["assigned", "submitted", "accepted", "overdue"],
        var_name="metric",
        value_name="count",
    )
    long["指标"] = long["metric"].map(
        {"assigned": "已布置", "submitted": "已提交", "accepted": ACCEPTED, "overdue": "逾期"}
    )
    fig = px.line(
        long,
        x="as_of",
        y="count",
        color="指标",
        markers=len(df) < 40,
        title=title,
        color_discrete_map=COLORS,
        labels={"as_of": "日期", "count": "任务数"},
    )
    return _style(fig, 360)


def grade_pie(board: pd.DataFrame) -> go.Figure:
    if board.empty:
        return _empty("部门状态分布")
    counts = board["grade"].value_counts().reset_index()
    counts.columns = ["状态", "部门数"]
    fig = px.pie(
        counts,
        names="状态",
        values="部门数",
        color="状态",
        color_discrete_map=GRADE_COLORS,
        title="部门状态分布",
        hole=0.45,
    )
    return _style(fig, 300)


def problems(df: pd.DataFrame) -> go.Figure:
    title = "问题台账销号率与反弹"
    if df.empty:
        return _empty(title)
    d = df.sort_values("close_rate")
    fig = go.Figure()
    fig.add_bar(x=d["name"], y=d["close_rate"] * 100, name="销号率 %", marker_color="#2e7d32")
    fig.add_scatter(
        x=d["name"],
        y=d["rebound"],
        name="反弹数",
        mode="markers",
        yaxis="y2",
        marker={"color": "#c62828", "size": 12, "symbol": "diamond"},
    )
    fig.update_layout(
        title=title,
        yaxis={"title": "销号率 %", "range": [0, 100]},
        yaxis2={"title": "反弹数", "overlaying": "y", "side": "right", "rangemode": "tozero"},
    )
    return _style(fig, 360)


def leads_funnel(df: pd.DataFrame) -> go.Figure:
    title = "线索办理漏斗"
    if df.empty:
        return _empty(title)
    total = int(df["n"].sum())
    handed_out = [LeadStatus.assigned.value, LeadStatus.reported.value, LeadStatus.closed.value]
    assigned = int(df[df["status"].isin(handed_out)]["n"].sum())
    closed = int(df[df["status"] == LeadStatus.closed.value]["n"].sum())
    confirmed = int(
        df[(df["status"] == LeadStatus.closed.value) & df["outcome"].isin(sorted(SUBSTANTIATED))]["n"].sum()
    )
    fig = go.Figure(
        go.Funnel(
            y=["受理线索", "已交办", LEAD.label(LeadStatus.closed), "查实"],
            x=[total, assigned, closed, confirmed],
            textinfo="value+percent initial",
        )
    )
    fig.update_layout(title=title)
    return _style(fig, 320)


def penalties(df: pd.DataFrame) -> go.Figure:
    title = "罚款金额（万元）按部门"
    if df.empty:
        return _empty(title)
    d = df.groupby("name", as_index=False)["fine_wan"].sum().sort_values("fine_wan", ascending=False)
    fig = px.bar(
        d,
        x="name",
        y="fine_wan",
        title=title,
        labels={"name": "", "fine_wan": "万元"},
        color_discrete_sequence=["#6a1b9a"],
    )
    return _style(fig, 320)


# --- static export (paper) -----------------------------------------------------------------------------

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
EXPORT_TIMEOUT_S = 90
BROWSER_START_TIMEOUT_S = 60
T = TypeVar("T")


class ChartUnavailable(RuntimeError):
    """No browser to draw a chart with: the installation is incomplete (not the user's input)."""


@dataclass(frozen=True)
class StaticExport:
    """How charts are drawn for paper: which installed browser, and a CJK font family tried first."""

    browser: Path | None = None  # None: found on PATH (BROWSER_NAMES)
    font_family: str | None = None  # an installed font's family name, e.g. "Noto Sans CJK SC"

    def browser_path(self) -> str:
        if self.browser is not None:
            if not Path(self.browser).is_file():
                raise ChartUnavailable(f"报告图表需要 Chromium：配置的浏览器 {self.browser} 不存在")
            return str(self.browser)
        for name in BROWSER_NAMES:
            found = shutil.which(name)
            if found:
                return found
        raise ChartUnavailable(
            "报告图表需要 Chromium（或 Chrome）：未在 PATH 中找到，请安装 chromium，"
            "或用 CAMPAIGN_CHROMIUM_PATH 指定浏览器路径"
        )


DEFAULT_EXPORT = StaticExport()


class _Browser:
    """The process's one Kaleido (a Chromium behind a pipe), on an event loop in a thread of its own,
    started on first use. Ours rather than kaleido's sync server: that one waits forever when the
    browser fails to start; here every call has a timeout and a start-up failure is raised."""

    lock = threading.Lock()  # one caller at a time, and one start
    loop: asyncio.AbstractEventLoop | None = None
    kaleido: Any = None
    path: str | None = None

    @classmethod
    def call(cls, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        assert cls.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, cls.loop).result(timeout)

    @classmethod
    def open(cls, path: str) -> Any:
        import kaleido  # heavy, and only needed when a chart goes to paper

        if cls.kaleido is not None and cls.path == path:
            return cls.kaleido
        cls.close()
        if cls.loop is None:
            cls.loop = asyncio.new_event_loop()
            threading.Thread(target=cls.loop.run_forever, name="chart-browser", daemon=True).start()
            atexit.register(cls.close)

        async def start() -> Any:
            # mathjax=False: the page would fetch MathJax from a CDN; the charts have no formulas
            browser = kaleido.Kaleido(path=path, mathjax=False, timeout=EXPORT_TIMEOUT_S)
            await browser.open()
            return browser

        cls.kaleido, cls.path = cls.call(start(), BROWSER_START_TIMEOUT_S), path
        return cls.kaleido

    @classmethod
    def close(cls) -> None:
        browser, cls.kaleido, cls.path = cls.kaleido, None, None
        if browser is not None:
            with contextlib.suppress(Exception):  # closing a browser that already died
                cls.call(browser.close(), BROWSER_START_TIMEOUT_S)


def to_png(fig: go.Figure, *, width: int, export: StaticExport = DEFAULT_EXPORT, scale: float = 2.0) -> bytes:
    """The figure as a PNG, drawn by the installed Chromium exactly as the dashboard draws it on screen
    (the figure's own height; `width` in CSS pixels, `scale` for print sharpness)."""
    path = export.browser_path()
    paper = go.Figure(fig)
    if export.font_family:
        paper.update_layout(font_family=f"{export.font_family}, {FONT}")
    opts = {"format": "png", "width": width, "height": paper.layout.height or 500, "scale": scale}
    with _Browser.lock:
        try:
            browser = _Browser.open(path)
            png: bytes = _Browser.call(browser.calc_fig(paper, opts=opts), EXPORT_TIMEOUT_S + 5)
        except Exception as exc:
            _Browser.close()  # a broken browser is not reused
            raise ChartUnavailable(f"报告图表未能生成（浏览器 {path}）：{exc}") from exc
    return png
