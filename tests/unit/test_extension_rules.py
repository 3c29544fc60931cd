"""The pure rules of the supervision loop: when a 延期申请 may be made and a date granted, the
extension vocabulary, and each assignment's light (红黄绿灯)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.assignment import ASSIGNMENT, LIGHT, SUBMISSION, AssignmentStatus, Light, SubmissionState, light
from domain.calendar import WorkingCalendar
from domain.extension import EXTENSION, ExtensionState, date_refusal, request_refusal
from domain.spec import CampaignSpec, ExtensionPolicy
from services.spec_files import load_spec
from tests.conftest import SPEC_PATH

# Weekends only, plus one holiday (Thursday 2 July 2020) and one 调休 Saturday (4 July 2020).
CAL = WorkingCalendar({dt.date(2020, 7, 2): "假日"}, frozenset({dt.date(2020, 7, 4)}), range(2019, 2022))
DUE = dt.date(2020, 6, 30)  # a Tuesday


def refusal(until: dt.date, **kw: object) -> str | None:
    args = {
        "asked_until": until,
        "current_due": DUE,
        "original_due": DUE,
        "counted_requests": 0,
        "has_pending": False,
        "max_per_assignment": 2,
        "max_working_days": 3,
        "cal": CAL,
    }
    args.update(kw)
    return request_refusal(**args)  # type: ignore[arg-type]


def test_a_date_within_the_working_days_is_allowed():
    # 1 July (1), 3 July (2; the 2nd is a holiday), 4 July (3, a 调休 Saturday)
    assert refusal(dt.date(2020, 7, 4)) is None
    assert refusal(dt.date(2020, 7, 1)) is None


def test_beyond_the_limit_counted_from_the_original_deadline():
    assert "最多 3 个工作日" in (refusal(dt.date(2020, 7, 6)) or "")
    # a second extension: the limit still counts from the first deadline
    assert "最晚 2020-07-04" in (refusal(dt.date(2020, 7, 6), current_due=dt.date(2020, 7, 1)) or "")


def test_not_earlier_than_the_current_deadline_nor_on_a_holiday():
    assert "应晚于" in (refusal(DUE) or "")
    assert "不是工作日" in (refusal(dt.date(2020, 7, 2)) or "")


def test_one_pending_request_and_a_count_per_assignment():
    assert "待审批" in (refusal(dt.date(2020, 7, 1), has_pending=True) or "")
    assert "最多申请延期 2 次" in (refusal(dt.date(2020, 7, 1), counted_requests=2) or "")
    assert date_refusal(dt.date(2020, 7, 1), DUE, DUE, 3, CAL) is None


def test_extension_vocabulary_moves_only_from_pending():
    assert EXTENSION.label(ExtensionState.pending) == "待审批"
    assert EXTENSION.allows("pending", "approved") and EXTENSION.allows("pending", "rejected")
    assert not EXTENSION.allows("approved", "rejected") and not EXTENSION.allows("rejected", "approved")


def test_withdrawal_is_a_legal_move():
    assert ASSIGNMENT.allows(AssignmentStatus.submitted, AssignmentStatus.open)
    assert SUBMISSION.allows(SubmissionState.pending, SubmissionState.withdrawn)
    assert not SUBMISSION.allows(SubmissionState.accepted, SubmissionState.withdrawn)


@pytest.mark.parametrize(
    ("status", "left", "overdue", "expected"),
    [
        ("open", 10, 0, Light.green),
        ("open", 3, 0, Light.yellow),  # within the default 3 working days
        ("open", 0, 0, Light.yellow),  # due today
        ("open", 0, 1, Light.red),
        ("returned", 10, 0, Light.yellow),  # returned for rework
        ("returned", 0, 4, Light.red),
        ("submitted", 0, 0, Light.green),
        ("accepted", 0, 0, Light.green),
        ("scheduled", 30, 0, Light.green),
        ("cancelled", 0, 0, None),
    ],
)
def test_light(status, left, overdue, expected):
    assert light(status, left, overdue) == expected


def test_light_window_comes_from_the_yaml():
    assert light("open", 5, 0, yellow_within=5) == Light.yellow
    assert light("open", 5, 0, yellow_within=0) == Light.green
    assert [LIGHT.label(x) for x in Light] == ["绿", "黄", "红"]


def test_yaml_keys_default_and_stay_out_of_an_unchanged_spec():
    spec = load_spec(SPEC_PATH)
    assert spec.acknowledge_within_working_days is None and spec.yellow_light_within_working_days == 3
    assert spec.extensions == ExtensionPolicy(max_per_assignment=2, max_working_days=20, approver="office")
    dumped = spec.model_dump(mode="json")
    assert not {"acknowledge_within_working_days", "extensions", "yellow_light_within_working_days"} & set(dumped)
    changed = CampaignSpec.model_validate(
        {**dumped, "acknowledge_within_working_days": 2, "extensions": {"approver": "leaders", "max_working_days": 5}}
    )
    assert (
        changed.extensions.approver == "leaders"
        and changed.model_dump(mode="json")["extensions"]["max_working_days"] == 5
    )
    schema = CampaignSpec.model_json_schema()
    assert {"acknowledge_within_working_days", "extensions", "yellow_light_within_working_days"} <= set(
        schema["properties"]
    )
    with pytest.raises(ValueError, match="approver"):
        CampaignSpec.model_validate({**dumped, "extensions": {"approver": "mayor"}})
