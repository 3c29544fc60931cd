"""The light (红黄绿灯) of each assignment on a day, from its effective deadline and the YAML's
`yellow_light_within_working_days` (default domain.assignment.DEFAULT_YELLOW_WITHIN_WORKING_DAYS)."""

from __future__ import annotations

import datetime as dt

from domain.assignment import Light, light
from domain.calendar import WorkingCalendar
from domain.errors import UserError
from domain.rules import standing
from domain.spec import CampaignSpec
from services.holidays import campaign_calendar


class Lights:
    """Lights for one campaign's assignments as of one day (the calendar is built once)."""

    def __init__(self, spec: CampaignSpec, as_of: dt.date) -> None:
        self.as_of = as_of
        self.yellow_within = spec.yellow_light_within_working_days
        self.cal: WorkingCalendar = campaign_calendar(spec)

    def of(self, status: str, due_on: dt.date) -> Light | None:
        try:
            s = standing(due_on, self.as_of, self.cal)
        except UserError:  # a year the holiday tables do not know: no light rather than a guess
            return None
        return light(status, s.working_days_left, s.overdue_working_days, self.yellow_within)
