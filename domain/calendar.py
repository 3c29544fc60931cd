"""Working days in China: weekends, statutory holidays and 调休 working days.

The holiday tables come in as data (services.holidays reads them from chinese-calendar) so this
module stays pure; campaign YAML overrides are layered on top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.errors import Invalid

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class CalendarUnknown(Invalid):
    """A date falls in a year whose holiday schedule nobody told us."""

    def __init__(self, day: dt.date, known_years: range):
        self.day = day
        super().__init__(
            f"{day.isoformat()} 所在的 {day.year} 年节假日安排未知（内置日历覆盖 "
            f"{known_years.start}–{known_years.stop - 1} 年）。请在专项行动 YAML 的 calendar 中"
            f"列出 {day.year} 年的 extra_holidays / extra_workdays 并在 declared_years 中声明 {day.year}。"
        )


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: Mapping[dt.date, str]
    workdays: frozenset[dt.date]  # weekend days that are 调休 working days
    known_years: range
    declared_years: frozenset[int] = field(default_factory=frozenset)

    def with_overrides(
        self,
        extra_holidays: Mapping[dt.date, str],
        extra_workdays: Iterable[dt.date],
        declared_years: Iterable[int] = (),
    ) -> WorkingCalendar:
        extra_workdays = frozenset(extra_workdays)
        holidays = {d: n for d, n in self.holidays.items() if d not in extra_workdays}
        holidays.update(extra_holidays)
        workdays = (self.workdays - frozenset(extra_holidays)) | extra_workdays
        return WorkingCalendar(
            holidays=holidays,
            workdays=frozenset(workdays),
            known_years=self.known_years,
            declared_years=self.declared_years | frozenset(declared_years),
        )

    def _check(self, day: dt.date) -> None:
        if day.year not in self.known_years and day.year not in self.declared_years:
            raise CalendarUnknown(day, self.known_years)

    def is_workday(self, day: dt.date) -> bool:
        self._check(day)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def holiday_name(self, day: dt.date) -> str | None:
        return self.holidays.get(day)

    def next_workday(self, day: dt.date) -> dt.date:
        """The day itself if it is a working day, else the first working day after it."""
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (n=0: `day` rolled forward to a working day)."""
        if n == 0:
            return self.next_workday(day)
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start.

        workdays_between(due, today) is how many working days a task is overdue.
        """
        if end == start:
            return 0
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return sign * count
