"""我的任务 shows a department's ongoing duties (持续推进, issue 16) as ongoing work with the day its report
was last handed in, never with a countdown or a red/yellow light, and a counted task with its progress (0/2).
yanjiang-2020's `standing` phase (2020-05-11 to 10-31) holds the ongoing duties; the dashboard tests tick
it to 2020-06-29."""

from __future__ import annotations

from domain.assignment import ASSIGNMENT, AssignmentStatus
from domain.progress import ONGOING_LABEL
from tests.integration.test_dashboard_apptest import (  # noqa: F401 - fixtures
    _no_exceptions,
    dashboard_db,
    engine,
    login,
    open_page,
)

ONGOING_TITLE = "严格贯彻落实招投标监管制度（二(一)）"
COUNTED_TITLE = "典型案例重点曝光（三(四)：对违法违规行为进行重点曝光）"


def test_ongoing_duty_reads_as_ongoing_and_counted_task_as_progress(dashboard_db):  # noqa: F811
    at = open_page(login("dept_zjj"), "pages/dept_assignments.py")
    at.segmented_control(key="task_filter").set_value("全部")
    at.run()
    _no_exceptions(at)
    table = at.dataframe[0].value
    rows = {r["任务"]: r for r in table.to_dict("records")}
    duty = rows[ONGOING_TITLE]
    assert duty["进度"].startswith(ONGOING_LABEL) and "尚未报送" in duty["进度"]
    assert duty["提醒"] == "" and duty["灯"] == "—"  # no countdown, no light
    assert rows[COUNTED_TITLE]["进度"] == "0/2"
    # a one-off task still counts down and has a light
    one_off = next(
        r for r in rows.values() if r["进度"] == "—" and r["状态"] == ASSIGNMENT.label(AssignmentStatus.open)
    )
    assert one_off["提醒"] and one_off["灯"] != "—"
    # the phone cards carry the same: the duty's badge is 持续推进, not a countdown
    cards = "".join(h.proto.body for h in at.get("html"))
    assert f"{ONGOING_LABEL}（尚未报送）" in cards and "0/2" in cards
    # 逾期 never counts an ongoing duty
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics["逾期"] == int(table["提醒"].str.contains("逾期").sum())
