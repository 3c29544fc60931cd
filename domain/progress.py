"""How the plan's shapes read on boards (issue 16): a counted task's progress (1/2, 2/2) and an ongoing
duty (持续推进) with the day its progress was last reported."""

from __future__ import annotations

import datetime as dt

ONGOING_LABEL = "持续推进"


def count_progress(handed_in: int, count: int) -> str:
    """Deliveries handed in out of those owed: 1/2."""
    return f"{min(handed_in, count)}/{count}"


def ongoing_progress(last_reported_on: dt.date | None) -> str:
    """持续推进, with the day its named recurring report was last handed in."""
    when = f"最近报送 {last_reported_on}" if last_reported_on else "尚未报送"
    return f"{ONGOING_LABEL}（{when}）"
