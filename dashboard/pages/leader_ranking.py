"""考核排名: each department's score, rank and light (红黄绿灯) with the reasons, and the trend over the days."""

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import session, widgets
from domain.access import Role
from services import scoring

actor = widgets.page(Role.leader, Role.office)
code = widgets.campaign_or_stop()
st.title("考核排名")

result = session.run_service(scoring.ranking, actor=actor, campaign_code=code, at=session.now())
if result is None:
    st.stop()
day, rows = result
st.caption(f"按方案 YAML 的考核规则（scoring）从记录计算，截至 {day}；同分同名次。")
LIGHT_MARK = {"green": "🟢", "yellow": "🟡", "red": "🔴"}
frame = pd.DataFrame(
    [
        {
            "名次": r.rank,
            "单位": r.department_name,
            "得分": r.score,
            "灯": f"{LIGHT_MARK.get(r.light, '')} {r.light_label}",
            "说明": "；".join(r.reasons),
        }
        for r in rows
    ]
)
widgets.table(frame, key="ranking", filename=f"考核排名-{code}-{day}.xlsx", sheet="考核排名")

trend = session.run_service(scoring.score_trend, actor=actor, campaign_code=code, at=session.now())
if trend:
    st.subheader("得分走势")
    df = pd.DataFrame(trend, columns=["日期", "单位", "得分", "名次", "灯"])
    df["日期"] = pd.to_datetime(df["日期"])
    fig = px.line(df, x="日期", y="得分", color="单位", markers=False)
    fig.update_layout(legend_title_text="", height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    widgets.chart(fig, key="score_trend")
elif trend is not None:
    st.info("尚无逐日得分记录（每次推进后记录当天的得分）。")
