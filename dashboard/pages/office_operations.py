"""巡检与通报: run a tick now, and draft a 通报 (praise and criticism) from the rollups."""

import pandas as pd
import streamlit as st

from dashboard import queries, session, widgets
from domain.access import Role
from domain.delivery import DELIVERY, DeliveryState
from domain.localtime import local_text
from domain.rollup import rate
from services import delivery, scoring

actor = widgets.page(Role.office)
code = widgets.campaign_or_stop()
today = session.today()
info = queries.campaign_row(actor, code)
st.title("巡检与通报")

st.subheader("立即巡检")
as_of_day = queries.board_day(actor, campaign_code=code)
st.caption(f"{as_of_day.text}。巡检会开启到期阶段的任务、标记逾期、升级、生成提醒、投递站内消息并更新进度统计。")
# Ticking ahead cannot be undone (escalations and reminders are recorded for that day): a day after
# today only for a simulated campaign or the demo's simulated clock, and only once confirmed.
may_tick_ahead = session.settings().as_of is not None or queries.simulated(actor, campaign_code=code)
as_of = st.date_input("巡检日期", value=max(today, as_of_day.ticked_on or today), key="tick_day")
ready = True
if as_of > today and not may_tick_ahead:
    st.error(f"不能巡检到今天（{today}）之后的日期：巡检记录的逾期、升级和提醒无法撤销。模拟或演示中的专项行动除外。")
    ready = False
elif as_of > today:
    st.warning(f"{as_of} 在今天（{today}）之后：这是模拟推进，推进后不能退回到更早的日期。")
    ready = st.checkbox(f"确认推进到 {as_of}", key="tick_confirm")
if st.button("立即巡检", key="tick_now", disabled=not ready):
    with st.spinner("巡检中……"):
        summary = widgets.tick_campaign(actor, code, as_of)
        if summary is not None:
            c = summary.counts
            widgets.flash(
                f"巡检完成（{as_of}）：自上次巡检到这一天以来没有新的记录，进度统计不变（{summary.rollup_rows} 行）"
                if summary.unchanged
                else f"巡检完成（{as_of}）：开启任务 {c.opened} 项，逾期更新 {c.overdue_updated} 项，"
                f"升级 {c.escalations} 项，提醒 {c.reminders} 条，统计 {summary.rollup_rows} 行"
            )
            st.rerun()

st.subheader("通知发送情况")
stuck = session.run_service(delivery.problems, actor=actor, campaign_code=code, at=session.now())
if not stuck:
    st.caption("所有通知均已送达或正在按计划发送。")
else:
    st.warning(f"{len(stuck)} 条通知需要处理：失败的渠道不影响其他渠道；“待确认”的通知不会自动重发，以免重复打扰。")
    widgets.table(
        pd.DataFrame(
            [
                {
                    "编号": d.id,
                    "渠道": d.channel,
                    "接收方": d.target,
                    "主题": d.subject,
                    "状态": DELIVERY.label(d.state),
                    "尝试次数": d.attempts,
                    "最近错误": d.last_error or "",
                    "下次重试": local_text(d.next_attempt_at),
                }
                for d in stuck
            ]
        ),
        key="delivery_problems",
        filename=f"通知发送问题-{code}.xlsx",
        sheet="通知发送问题",
    )
    confirmable = [d for d in stuck if d.state in (DeliveryState.uncertain, DeliveryState.gave_up)]
    if confirmable:
        pick = st.selectbox(
            "处理一条待确认 / 已放弃的通知",
            confirmable,
            key="delivery_pick",
            format_func=lambda d: f"#{d.id} {d.channel} → {d.target}：{d.subject}",
        )
        left, right = st.columns(2)
        if left.button("已核实送达", key="delivery_delivered") and session.run_action(
            delivery.confirm_uncertain, actor=actor, at=session.now(), delivery_id=pick.id, delivered=True
        ):
            widgets.flash(f"通知 #{pick.id} 已确认送达")
            st.rerun()
        if right.button("重新发送", key="delivery_resend") and session.run_action(
            delivery.confirm_uncertain, actor=actor, at=session.now(), delivery_id=pick.id, delivered=False
        ):
            widgets.flash(f"通知 #{pick.id} 将在下次发送时重发")
            st.rerun()

st.subheader("通报草稿")
day = as_of_day.rollup_on
if day is None:
    st.info("尚无进度快照，请先巡检")
    st.stop()
st.caption(as_of_day.text)
board = queries.department_board(actor, campaign_code=code, day=day)
praise, criticise = queries.bulletin_lists(actor, campaign_code=code, day=day)
names = queries.escalation_names(actor, campaign_code=code)
assigned, accepted = int(board["assigned"].sum()), int(board["accepted"].sum())
lines = [
    f"关于{info.get('title', code)}工作推进情况的通报",
    "",
    "各成员单位：",
    f"　　截至{day:%Y年%m月%d日}，本次专项行动共布置任务{assigned}项，已审核通过{accepted}项，"
    f"完成率{rate(accepted, assigned) * 100:.1f}%，逾期未完成{int(board['overdue'].sum())}项。现将有关情况通报如下：",
    "　　一、表扬",
]
if praise.empty:
    lines.append("　　暂无全部按时完成任务的单位。")
else:
    lines.append(f"　　{'、'.join(praise['name'])}等{len(praise)}个单位按时保质完成全部任务，予以通报表扬。")
lines.append("　　二、批评")
if criticise.empty:
    lines.append("　　暂无达到通报批评等级的单位。")
else:
    lines.append("　　以下单位任务逾期严重，已达到“通报批评”及以上等级，予以通报批评：")
    for i, r in enumerate(criticise.itertuples(), 1):
        rung = names.get(int(r.escalation_level), r.escalation_level)
        lines.append(f"　　{i}. {r.name}：逾期{r.overdue}项，最高升级等级“{rung}”。")
lines += [
    "　　三、下一步工作要求",
    "　　各单位要对照实施方案和任务清单，压实责任、倒排工期，逾期事项须在3个工作日内报送并说明原因。",
    "",
    f"{info.get('issuer', '')}",
    f"{today:%Y年%m月%d日}",
]
st.text_area("通报内容（草稿，可编辑后复制）", value="\n".join(lines), height=420, key=f"bulletin_{day}")
# The numbered 通报 (issue 13): 表扬 and 批评 from the 考核评分, a Word document; each issue takes the next number.
if st.button("签发通报（Word，编号）", key="bulletin_issue", type="primary"):
    issued = session.run_service(scoring.issue_bulletin, actor=actor, at=session.now(), campaign_code=code)
    if issued is not None:
        st.session_state["bulletin_docx"] = issued
if "bulletin_docx" in st.session_state:
    number, filename, data = st.session_state["bulletin_docx"]
    st.success(f"已签发通报 {number}")
    widgets.download(data, filename=filename, key="bulletin_download", label="下载通报（Word）", mime=widgets.DOCX_MIME)
