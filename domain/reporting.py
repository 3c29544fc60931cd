"""The monthly report's periods and windows (seed 001, 四(三)): pure date arithmetic.

Reporting window of period 'YYYY-MM'
  A report due on day D of each month (the spec's recurring_reports: departments by the 20th, the
  office by the 25th) covers the day after the previous month's D up to this month's D
  (e.g. 2020-05-21 … 2020-06-20), so consecutive reports neither overlap nor leave a gap. The
  first reported month starts on the campaign's first day; the month holding the campaign's last
  day runs to that day; a campaign without recurring reports uses calendar months. The data
  cut-off is the window's last day, or the day of `at` when the report is made before then.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from domain.errors import Invalid
from domain.localtime import local_day, local_midnight
from domain.spec import CampaignSpec, Period

PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class ReportWindow:
    period: str  # YYYY-MM
    start: dt.date  # first day counted
    end: dt.date  # last day counted: the window's end, or the day the report was made if earlier
    window_end: dt.date  # where the window ends when complete
    due_day: int | None  # the recurring report's day of month; None: calendar months

    @property
    def start_instant(self) -> dt.datetime:
        return local_midnight(self.start)

    @property
    def end_instant(self) -> dt.datetime:
        """Exclusive: the start of the day after the cut-off, Beijing time."""
        return local_midnight(self.end + dt.timedelta(days=1))

    @property
    def label(self) -> str:
        year, month = parse_period(self.period)
        return f"{year}年{month}月"


def is_period(text: str | None) -> bool:
    return bool(PERIOD_PATTERN.match(text or ""))


def parse_period(period: str) -> tuple[int, int]:
    match = PERIOD_PATTERN.match(period or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise Invalid(f"报告期 {period!r} 格式不对，应为 YYYY-MM（例如 2020-06）")
    return int(match.group(1)), int(match.group(2))


def report_moment(as_of: dt.date) -> dt.datetime:
    """The `at` the scheduled filing makes a report with: the last second of the as-of day, Beijing time."""
    return local_midnight(as_of + dt.timedelta(days=1)) - dt.timedelta(seconds=1)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def due_rule(spec: CampaignSpec, department_code: str | None) -> tuple[int | None, dt.date | None]:
    """(day of month, first month) of the recurring report this report answers; None for the office rollup's
    department_code. Without a rule naming the unit: the latest day for the rollup, the first rule otherwise."""
    wanted = spec.office if department_code is None else department_code
    # Only monthly reports set a month's window: a quarterly report's day_of_month is a day of the month after
    # its quarter, and weekly or yearly reports are handed in through their assignments (issue 16).
    monthly = [r for r in spec.recurring_reports if r.every is Period.month]
    for report in monthly:
        if wanted in spec.resolve(report.assignees):
            return report.day_of_month, report.first_month
    if monthly:
        report = max(monthly, key=lambda r: r.day_of_month or 0) if department_code is None else monthly[0]
        return report.day_of_month, report.first_month
    return None, None


def report_window(spec: CampaignSpec, period: str, department_code: str | None, at: dt.datetime) -> ReportWindow:
    """The window of a department's report (or of the rollup, department_code None) made at `at`."""
    year, month = parse_period(period)
    day, first_month = due_rule(spec, department_code)
    if day is None:
        start, end = dt.date(year, month, 1), _month_end(year, month)
    else:
        start = dt.date(*_previous_month(year, month), day) + dt.timedelta(days=1)
        end = dt.date(year, month, day)
    first = (first_month or spec.start).replace(day=1)
    if (year, month) < (first.year, first.month) or (year, month) > (spec.end.year, spec.end.month):
        raise Invalid(f"报告期 {period} 不在报送期间内（{first:%Y-%m} 至 {spec.end:%Y-%m}，每月一期）")
    if (year, month) == (first.year, first.month) or start < spec.start:
        start = spec.start
    if (year, month) == (spec.end.year, spec.end.month) or end > spec.end:
        end = spec.end
    if end < spec.start or start > spec.end or start > end:
        raise Invalid(f"报告期 {period} 不在专项行动期间（{spec.start} ～ {spec.end}）内")
    made_on = local_day(at)
    if made_on < start:
        raise Invalid(f"报告期 {period} 尚未开始（自 {start} 起统计），现在还不能生成")
    return ReportWindow(period, start, min(end, made_on), end, day)


def report_periods(spec: CampaignSpec, department_code: str | None, as_of: dt.date) -> list[str]:
    """The periods (YYYY-MM, newest first) whose report can be made on `as_of`: every reported month
    whose window has begun."""
    _day, first_month = due_rule(spec, department_code)
    year, month = (first_month or spec.start).year, (first_month or spec.start).month
    out: list[str] = []
    last = min(as_of.replace(day=1) + dt.timedelta(days=62), spec.end)  # a window can open the month before
    while (year, month) <= (last.year, last.month):
        period = f"{year:04d}-{month:02d}"
        try:
            report_window(spec, period, department_code, report_moment(as_of))
            out.append(period)
        except Invalid:
            pass
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out[::-1]
