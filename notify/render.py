"""Chinese reminder / overdue / escalation / digest texts.

Pure functions of plain parameters, each returning ``(subject, body_markdown)``.
Working-day arithmetic (weekends, 法定节假日, 调休) is done by the caller; the
due date passed in is already the effective deadline. Bodies use only the
markdown subset that renders in e-mail clients (as plain text), DingTalk and
WeCom: bold, lists, links, level-4 headings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

# The sentence for the rungs of the usual ladder (预警 → 通报批评 → 约谈). Kept free of concrete
# sanctions or deadlines, which differ per campaign and belong in the campaign's own notice.
_ESCALATION_TEXT: dict[str, str] = {
    "预警": "现予以**预警**，请立即组织提交。",
    "通报批评": "经多次提醒仍未提交，现予以**通报批评**，请立即提交并书面说明逾期原因。",
    "约谈": "经预警、通报批评后仍未提交，将按程序对单位主要负责人进行**约谈**，请立即整改。",
}
# A rung the campaign names otherwise (e.g. 问责) is announced by its own name.
_OTHER_ESCALATION_TEXT = "现予以**{name}**，请立即提交并书面说明逾期原因。"


def format_cn_date(day: date, *, weekday: bool = True) -> str:
    """2020年6月22日（星期一）"""
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（{_WEEKDAYS[day.weekday()]}）" if weekday else text


def render_reminder(
    task_title: str,
    campaign_title: str,
    department_name: str,
    due_date: date,
    working_days_left: int,
    link: str | None = None,
) -> tuple[str, str]:
    """Reminder before (or on) the deadline. ``working_days_left`` >= 0."""
    if working_days_left < 0:
        raise ValueError("working_days_left 不能为负数；已逾期请使用 render_overdue")
    if working_days_left == 0:
        tag, action = "今日截止", "今天是截止日，请于今日下班前完成提交。"
    else:
        tag = f"剩余{working_days_left}个工作日"
        action = f"请于截止日期前提交，剩余 **{working_days_left}** 个工作日。"
    subject = f"【提醒】{campaign_title}：{task_title}（{tag}）"
    body = _compose(_facts(department_name, campaign_title, task_title, due_date), action, link)
    return subject, body


def render_overdue(
    task_title: str,
    campaign_title: str,
    department_name: str,
    due_date: date,
    working_days_overdue: int,
    link: str | None = None,
) -> tuple[str, str]:
    """Notice that the deadline has passed. ``working_days_overdue`` >= 1."""
    _require_overdue(working_days_overdue)
    subject = f"【逾期】{campaign_title}：{task_title}（已逾期{working_days_overdue}个工作日）"
    action = f"该任务已逾期 **{working_days_overdue}** 个工作日，请尽快提交并说明逾期原因。"
    body = _compose(_facts(department_name, campaign_title, task_title, due_date), action, link)
    return subject, body


def render_escalation(
    level_name: str,
    overdue_working_days: int,
    also_notified: Sequence[str],
    *,
    task_title: str,
    campaign_title: str,
    department_name: str,
    due_date: date,
    link: str | None = None,
) -> tuple[str, str]:
    """Escalation notice for the rung the campaign's spec names (预警 / 通报批评 / 约谈 / …);
    ``also_notified`` lists 抄送 parties."""
    if not level_name.strip():
        raise ValueError("督办级别名称不能为空")
    _require_overdue(overdue_working_days)
    subject = f"【{level_name}】{campaign_title}：{department_name}「{task_title}」逾期{overdue_working_days}个工作日"
    action = (
        f"该任务已逾期 **{overdue_working_days}** 个工作日，"
        f"{_ESCALATION_TEXT.get(level_name) or _OTHER_ESCALATION_TEXT.format(name=level_name)}"
    )
    facts = _facts(department_name, campaign_title, task_title, due_date)
    if also_notified:
        facts.append(f"- **抄送**：{'、'.join(also_notified)}")
    return subject, _compose(facts, action, link)


def render_event(
    tag: str,
    *,
    campaign_title: str,
    department_name: str,
    subject_line: str,
    facts: Sequence[tuple[str, str]],
    action: str,
    event_on: date,
    link: str | None = None,
) -> tuple[str, str]:
    """A message about something that happened (退回, 审核通过, 线索交办, 销号审核, …), dated the day
    it happened; ``facts`` are (label, value) lines after the department and the campaign."""
    if not tag.strip() or not subject_line.strip():
        raise ValueError("消息标签和标题不能为空")
    subject = f"【{tag}】{campaign_title}：{subject_line}"
    lines = [f"- **责任单位**：{department_name}", f"- **专项工作**：{campaign_title}"]
    lines += [f"- **{label}**：{value}" for label, value in facts if value]
    lines.append(f"- **日期**：{format_cn_date(event_on)}")
    return subject, _compose(lines, action, link)


def render_digest(recipient_name: str, items: Sequence[tuple[str, str]], day: date) -> tuple[str, str]:
    """Combine several (subject, body) pairs into one daily digest for one person."""
    if not items:
        raise ValueError("每日汇总至少需要一条消息")
    subject = f"【每日汇总】{format_cn_date(day)}待办提醒{len(items)}条"
    header = f"{recipient_name}，您好：\n\n以下是{format_cn_date(day)}需要您关注的 {len(items)} 条事项："
    sections = [
        f"#### {index}. {item_subject}\n\n{item_body.strip()}"
        for index, (item_subject, item_body) in enumerate(items, start=1)
    ]
    return subject, header + "\n\n" + "\n\n---\n\n".join(sections)


def _facts(department_name: str, campaign_title: str, task_title: str, due_date: date) -> list[str]:
    return [
        f"- **责任单位**：{department_name}",
        f"- **专项工作**：{campaign_title}",
        f"- **任务**：{task_title}",
        f"- **截止日期**：{format_cn_date(due_date)}",
    ]


def _compose(facts: list[str], action: str, link: str | None) -> str:
    blocks = ["\n".join(facts), action]
    if link:
        blocks.append(f"[进入工作台查看]({link})")
    return "\n\n".join(blocks)


def _require_overdue(days: int) -> None:
    if days < 1:
        raise ValueError("逾期工作日数必须至少为 1")
