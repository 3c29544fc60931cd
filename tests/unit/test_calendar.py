import datetime as dt

import pytest

from domain.calendar import CalendarUnknown, WorkingCalendar
from services.holidays import base_calendar

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return base_calendar()


def test_weekend_is_not_a_working_day(cal):
    assert not cal.is_workday(D(2020, 6, 20))  # Saturday


def test_dragon_boat_festival_is_a_holiday(cal):
    assert not cal.is_workday(D(2020, 6, 25))
    assert cal.holiday_name(D(2020, 6, 25)) == "端午"


def test_tiaoxiu_sunday_is_a_working_day(cal):
    assert cal.is_workday(D(2020, 6, 28))  # Sunday worked in exchange for 6-26


def test_deadline_on_saturday_rolls_to_monday(cal):
    assert cal.next_workday(D(2020, 6, 20)) == D(2020, 6, 22)


def test_deadline_in_national_day_week_rolls_past_the_holiday(cal):
    assert cal.next_workday(D(2020, 10, 3)) == D(2020, 10, 9)


def test_adding_working_days_skips_holidays_and_counts_tiaoxiu(cal):
    # Wed 6-24 + 1 -> Sun 6-28 (调休 working day), skipping the 6-25..6-27 holiday
    assert cal.add_workdays(D(2020, 6, 24), 1) == D(2020, 6, 28)


def test_working_days_between_counts_only_working_days(cal):
    assert cal.workdays_between(D(2020, 6, 22), D(2020, 6, 29)) == 4  # 23, 24, 28, 29
    assert cal.workdays_between(D(2020, 6, 29), D(2020, 6, 22)) == -4


def test_year_beyond_chinese_calendar_is_a_clear_error(cal):
    with pytest.raises(CalendarUnknown, match="2031"):
        cal.is_workday(D(2031, 5, 6))


def test_overrides_declare_an_unknown_year(cal):
    c = cal.with_overrides({D(2031, 1, 1): "元旦"}, [D(2031, 1, 4)], [2031])
    assert not c.is_workday(D(2031, 1, 1))
    assert c.is_workday(D(2031, 1, 4))  # Saturday made a working day
    assert c.is_workday(D(2031, 1, 2))


def test_override_can_turn_a_known_holiday_into_a_working_day(cal):
    c = cal.with_overrides({}, [D(2020, 6, 26)])
    assert c.is_workday(D(2020, 6, 26))
