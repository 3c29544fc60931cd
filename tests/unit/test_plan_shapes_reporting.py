"""The monthly report's window (domain.reporting) is set by monthly reports only: a quarterly report's
day_of_month (the day of the month after its quarter) or a weekly report never bends a month's window."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from domain.reporting import due_rule, report_window
from services.spec_files import load_spec

CAMPAIGNS = Path(__file__).resolve().parents[2] / "config" / "campaigns"
AT = dt.datetime(2025, 12, 31, 4, tzinfo=dt.UTC)


def test_a_campaign_reporting_only_quarterly_and_yearly_uses_calendar_months():
    spec = load_spec(CAMPAIGNS / "wucheng-2025.yaml")
    assert due_rule(spec, "zjj") == (None, None) and due_rule(spec, None) == (None, None)
    window = report_window(spec, "2025-10", "zjj", AT)
    assert (window.start, window.end) == (dt.date(2025, 10, 1), dt.date(2025, 10, 31))


def test_a_monthly_report_beside_weekly_and_quarterly_ones_keeps_its_day():
    spec = load_spec(CAMPAIGNS / "suizhou-2024.yaml")
    monthly = [r for r in spec.recurring_reports if r.every.value == "month"]
    assert monthly, "suizhou reports monthly too"
    member = spec.resolve(monthly[0].assignees)[0]
    assert due_rule(spec, member) == (monthly[0].day_of_month, monthly[0].first_month)
