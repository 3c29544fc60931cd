"""The one time zone: instants are stored in UTC and shown, and turned into days, in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_day(moment: dt.datetime) -> dt.date:
    """The calendar day in Beijing of an aware instant."""
    return moment.astimezone(LOCAL_TZ).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """The aware UTC instant at which a Beijing day begins."""
    return dt.datetime.combine(day, dt.time(0, 0), LOCAL_TZ).astimezone(dt.UTC)


def local_text(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant as a person in Beijing reads it ('' for none)."""
    return moment.astimezone(LOCAL_TZ).strftime(fmt) if moment is not None else ""
