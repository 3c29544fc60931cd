import datetime as dt

import pytest

from domain.rules import escalation_level, reminder_due, rungs_reached, standing
from domain.sampling import draw, ratio, sample_size
from domain.spec import DEFAULT_ESCALATION, ReminderPolicy
from services.holidays import base_calendar

D = dt.date
CAL = base_calendar()
POLICY = ReminderPolicy(before_due_working_days=(3, 1), on_due_day=True, overdue_every_working_days=2)


def test_not_overdue_on_the_due_day():
    assert standing(D(2020, 6, 22), D(2020, 6, 22), CAL).overdue_working_days == 0


def test_overdue_counts_working_days_only():
    # due Wed 6-24; 6-25..27 holiday; Sun 6-28 调休 -> 1; Mon 6-29 -> 2
    assert standing(D(2020, 6, 24), D(2020, 6, 27), CAL).overdue_working_days == 1
    assert standing(D(2020, 6, 24), D(2020, 6, 28), CAL).overdue_working_days == 1
    assert standing(D(2020, 6, 24), D(2020, 6, 29), CAL).overdue_working_days == 2


def test_working_days_left_before_deadline():
    assert standing(D(2020, 6, 22), D(2020, 6, 17), CAL).working_days_left == 3


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (D(2020, 6, 17), "before3@2020-06-22"),
        (D(2020, 6, 19), "before1@2020-06-22"),
        (D(2020, 6, 18), None),
        (D(2020, 6, 22), "due@2020-06-22"),
        (D(2020, 6, 23), None),  # 1 working day overdue: reminders every 2
        (D(2020, 6, 24), "overdue2@2020-06-22"),
        (D(2020, 6, 20), None),  # Saturday: nothing is sent
    ],
)
def test_reminder_schedule(as_of, expected):
    r = reminder_due(D(2020, 6, 22), as_of, POLICY, CAL)
    assert (r.key if r else None) == expected


def test_no_reminder_on_a_holiday_even_when_overdue():
    assert reminder_due(D(2020, 6, 22), D(2020, 6, 25), POLICY, CAL) is None


@pytest.mark.parametrize(
    ("days", "name"), [(0, None), (2, None), (3, "预警"), (5, "通报批评"), (9, "通报批评"), (10, "约谈"), (40, "约谈")]
)
def test_escalation_ladder(days, name):
    level = escalation_level(days, DEFAULT_ESCALATION)
    assert (level.name if level else None) == name


def test_rungs_are_cumulative():
    assert [r.name for r in rungs_reached(10, DEFAULT_ESCALATION)] == ["预警", "通报批评", "约谈"]


@pytest.mark.parametrize(("population", "n"), [(0, 0), (1, 1), (4, 1), (5, 1), (6, 2), (10, 2), (11, 3), (100, 20)])
def test_sample_size_reaches_at_least_the_ratio(population, n):
    assert sample_size(population, 0.2) == n
    if population:
        assert ratio(n, population) >= 0.2


def test_draw_is_reproducible_and_independent_of_input_order():
    codes = [f"P{i:03d}" for i in range(37)]
    first = draw(codes, 0.2, 2020, "zjj")
    assert draw(list(reversed(codes)), 0.2, 2020, "zjj") == first
    assert len(first) == 8
    assert draw(codes, 0.2, 2021, "zjj") != first  # another seed, another draw


def test_bulletin_praises_all_on_time_and_criticises_from_the_criticism_level():
    from domain.rollup import Counts, Grade, criticised, grade, praised

    assert praised(Counts(assigned=4, submitted=4, accepted=4, on_time=4))
    assert not praised(Counts(assigned=4, submitted=4, accepted=4, on_time=3))  # one was late
    assert not praised(Counts())  # nothing assigned yet is not a merit
    assert not criticised(Counts(assigned=3, overdue=1, escalation_level=1))  # 预警 only
    assert criticised(Counts(assigned=3, overdue=1, escalation_level=2))  # 通报批评
    assert grade(Counts(assigned=9, overdue=1, escalation_level=2)) is Grade.red
