"""Which pages each role sees (st.navigation in dashboard/app.py); plain data, so tests can walk it."""

from __future__ import annotations

from domain.access import Role

# role -> {section: [(script, title, icon)]}; the first page of a role is where its users land.
PAGES: dict[Role, dict[str, list[tuple[str, str, str]]]] = {
    Role.leader: {
        "领导看板": [
            ("pages/leader_overview.py", "专项总览", ":material/dashboard:"),
            ("pages/leader_departments.py", "部门进度", ":material/apartment:"),
            ("pages/leader_ranking.py", "考核排名", ":material/leaderboard:"),  # issue 13
            ("pages/duban.py", "督办单", ":material/assignment_late:"),
            ("pages/instructions.py", "领导批示", ":material/rate_review:"),
            ("pages/leader_ledger.py", "台账与线索", ":material/menu_book:"),
            ("pages/projects.py", "项目与抽查", ":material/domain:"),
            ("pages/risk.py", "大数据预警", ":material/hub:"),
            ("pages/office_meetings.py", "会商与例会", ":material/groups:"),
        ],
        "报告与消息": [
            ("pages/reports.py", "工作报告", ":material/description:"),
            ("pages/inbox.py", "消息", ":material/mail:"),
        ],
    },
    Role.office: {
        "日常工作": [
            ("pages/office_todo.py", "待办", ":material/inbox:"),  # the office lands on its one 待办 (issue 13)
            ("pages/office_review.py", "审核队列", ":material/fact_check:"),
            ("pages/office_leads.py", "线索办理", ":material/policy:"),
            ("pages/duban.py", "督办单", ":material/assignment_late:"),  # issue 13
            ("pages/instructions.py", "领导批示", ":material/rate_review:"),
            ("pages/office_meetings.py", "会商与例会", ":material/groups:"),
            ("pages/projects.py", "项目与抽查", ":material/domain:"),
            ("pages/risk.py", "大数据预警", ":material/hub:"),
            ("pages/reports.py", "工作报告", ":material/description:"),
            ("pages/inbox.py", "消息", ":material/mail:"),
        ],
        "领导看板": [
            ("pages/leader_overview.py", "专项总览", ":material/dashboard:"),
            ("pages/leader_departments.py", "部门进度", ":material/apartment:"),
            ("pages/leader_ranking.py", "考核排名", ":material/leaderboard:"),
            ("pages/leader_ledger.py", "台账与线索", ":material/menu_book:"),
        ],
        "管理": [
            ("pages/office_campaign.py", "专项行动配置", ":material/settings:"),
            ("pages/office_operations.py", "巡检与通报", ":material/campaign:"),
            ("pages/office_imports.py", "数据导入", ":material/upload_file:"),
            ("pages/office_users.py", "用户管理", ":material/group:"),
        ],
    },
    Role.department: {
        "": [
            ("pages/dept_assignments.py", "我的任务", ":material/assignment:"),
            ("pages/duban.py", "督办单", ":material/assignment_late:"),  # issue 13
            ("pages/instructions.py", "领导批示", ":material/rate_review:"),
            ("pages/dept_optional_items.py", "自选事项", ":material/playlist_add:"),
            ("pages/dept_ledger.py", "问题台账与线索", ":material/menu_book:"),
            ("pages/projects.py", "项目台账", ":material/domain:"),
            ("pages/risk.py", "大数据预警", ":material/hub:"),
            ("pages/reports.py", "月度报告", ":material/description:"),
            ("pages/inbox.py", "消息", ":material/mail:"),
        ],
    },
}


def pages_of(role: Role) -> list[str]:
    """Every page script a role sees, in navigation order (the tests walk this)."""
    return [path for section in PAGES.get(role, {}).values() for path, _t, _i in section]
