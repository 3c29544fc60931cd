"""China's statutory holiday tables from chinese-calendar, as a pure WorkingCalendar."""

from __future__ import annotations

from functools import lru_cache

import chinese_calendar.constants as cc

from domain.calendar import WorkingCalendar
from domain.plan import build_calendar
from domain.spec import CalendarOverrides, CampaignSpec


@lru_cache(maxsize=1)
def base_calendar() -> WorkingCalendar:
    years = {d.year for d in cc.holidays} | {d.year for d in cc.workdays}
    # chinese-calendar marks every day of a holiday block, weekends included; keep names in Chinese.
    names = {h.value: getattr(h, "chinese", h.value) for h in cc.Holiday}
    holidays = {day: names.get(name, name) for day, name in cc.holidays.items()}
    return WorkingCalendar(
        holidays=holidays,
        workdays=frozenset(cc.workdays),
        known_years=range(min(years), max(years) + 1),
    )


def campaign_calendar(spec: CampaignSpec) -> WorkingCalendar:
    return _with_overrides(spec.calendar)


@lru_cache(maxsize=64)
def _with_overrides(overrides: CalendarOverrides) -> WorkingCalendar:
    # Every step and service asks for it (thousands of times in a simulated campaign); building it copies
    # the whole holiday table. The overrides are a frozen model: equal overrides, the same calendar.
    return build_calendar(overrides, base_calendar())
