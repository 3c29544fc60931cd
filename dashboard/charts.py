"""The dashboard's charts: the figures of exchange.figures, which the monthly report prints too, so a
chart looks the same on screen and on paper. Pages call these names and show them with st.plotly_chart.

The grade charts are drawn here from domain.grading's one rule: 未到期 is grey and 未布置 is a blank
cell with its reason on hover, so work not yet due never shows as red or 0 %."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from domain.grading import GRADE_REASONS, JUDGED, Grade
from exchange.figures import (
    FONT,
    GRADE_COLORS,
    department_progress,
    leads_funnel,
    penalties,
    phase_gantt,
    problems,
    trend,
)

__all__ = [
    "GRADE_COLOR",
    "department_progress",
    "grade_pie",
    "leads_funnel",
    "penalties",
    "phase_gantt",
    "phase_heatmap",
    "problems",
    "trend",
]

# Every grade's colour: the report's three, grey for 未到期, white (blank) for 未布置.
GRADE_COLOR: dict[str, str] = {**GRADE_COLORS, Grade.not_due.value: "#c9ced6", Grade.unassigned.value: "#ffffff"}
_ORDER = [Grade.unassigned, Grade.not_due, Grade.green, Grade.yellow, Grade.red]


def _style(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        font_family=FONT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend_title_text="",
        hoverlabel_font_family=FONT,
        height=height,
    )
    return fig


def _empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text="暂无数据", showarrow=False, font_size=16)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title)
    return _style(fig, 240)


def grade_pie(board: pd.DataFrame) -> go.Figure:
    """Departments per grade; departments with nothing due yet are counted as 未到期 (grey), those
    with nothing assigned are left out (there is nothing to judge)."""
    title = "部门状态分布"
    counted = board[board["grade"] != Grade.unassigned.value] if not board.empty else board
    if counted.empty:
        return _empty(title)
    counts = counted["grade"].value_counts()
    labels = [g.value for g in _ORDER if g.value in counts]
    fig = go.Figure(
        go.Pie(
            labels=labels,
            values=[int(counts[g]) for g in labels],
            hole=0.45,
            sort=False,
            marker={"colors": [GRADE_COLOR[g] for g in labels], "line": {"color": "#ffffff", "width": 1}},
            hovertemplate="%{label}：%{value} 个部门<extra></extra>",
        )
    )
    fig.update_layout(title=title)
    return _style(fig, 300)


def phase_heatmap(heat: pd.DataFrame, department_order: list[str] | None = None) -> go.Figure:
    """Department × phase coloured by grade; the text is the completion of a judged cell, 未到期 for
    a cell with nothing due yet, blank for a cell with nothing assigned (the reason on hover)."""
    title = "部门 × 阶段 进度状态"
    if heat.empty:
        return _empty(title)
    phases = heat.drop_duplicates("phase").sort_values("ordinal")["phase"].tolist()
    names = department_order or heat.drop_duplicates("name")["name"].tolist()
    names = [n for n in names if n in set(heat["name"])]
    cell = {(r.name, r.phase): r for r in heat.itertuples()}
    z, text, hover = [], [], []
    for name in names:
        zr, tr, hr = [], [], []
        for phase in phases:
            r = cell.get((name, phase))
            if r is None:  # no rollup row: nothing assigned in this phase
                zr.append(_ORDER.index(Grade.unassigned))
                tr.append("")
                hr.append(f"{name} · {phase}<br>{GRADE_REASONS[Grade.unassigned]}")
                continue
            g = Grade(r.grade)
            zr.append(_ORDER.index(g))
            if g in JUDGED:
                tr.append(f"{r.completion * 100:.0f}%")
                hr.append(
                    f"{name} · {phase}<br>{g.value}：{GRADE_REASONS[g]}<br>"
                    f"已布置 {r.assigned}，已到期 {r.due}，已通过 {r.accepted}，逾期 {r.overdue}"
                )
            elif g is Grade.not_due:
                tr.append(g.value)
                hr.append(f"{name} · {phase}<br>{g.value}：已布置 {r.assigned} 项，均未到截止日期")
            else:
                tr.append("")
                hr.append(f"{name} · {phase}<br>{GRADE_REASONS[g]}")
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    n = len(_ORDER) - 1
    scale = []
    for i, g in enumerate(_ORDER):  # one flat band of colour per grade
        scale += [[i / (n + 1), GRADE_COLOR[g.value]], [(i + 1) / (n + 1), GRADE_COLOR[g.value]]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=phases,
            y=names,
            zmin=-0.5,
            zmax=n + 0.5,
            colorscale=scale,
            showscale=False,
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, plot_bgcolor="#eef0f3")
    return _style(fig, 140 + 28 * len(names))
