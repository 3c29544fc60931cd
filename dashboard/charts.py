"""The dashboard's charts: the figures of exchange.figures, which the monthly report prints too, so a
chart looks the same on screen and on paper. Pages call these names and show them with st.plotly_chart."""

from exchange.figures import (
    department_progress,
    grade_pie,
    leads_funnel,
    penalties,
    phase_gantt,
    phase_heatmap,
    problems,
    trend,
)

__all__ = [
    "department_progress",
    "grade_pie",
    "leads_funnel",
    "penalties",
    "phase_gantt",
    "phase_heatmap",
    "problems",
    "trend",
]
