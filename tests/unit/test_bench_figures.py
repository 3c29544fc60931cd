"""bench/tick.py's table of sizes is read back from each size's printed lines: every figure reaches the
table under its own name (the CLI's and the resident engine's apart), and the growth exponent is the slope."""

from __future__ import annotations

import math

from bench.tick import figures_of, growth_exponent

CHILD_OUTPUT = """\
database=sqlite departments=2000 assignments=60000
tick_s each: 2.43 2.39 2.38  (median 2.39)
RESULT launch_s=2.28 tick_s=2.44 baseline_s=1.41 tick_ratio=1.68 retick_s=0.00 peak_rss_mb=205
ROLLUP rollup_s=0.18
CLI launch_s=5.61 tick_s=6.32 retick_s=0.98 upgrade_s=0.84 peak_rss_mb=482
CLI_RESIDENT launch_s=4.39 tick_s=4.66 retick_s=0.95
LATE handed_in=20000 score_s=0.61 tick_s=3.10
RECONCILE departments_retired=200 assignments_removed=2000 reconcile_s=1.05
PEOPLE accounts=2002 inbox_items=250000 tick_s=12.50 peak_rss_mb=240
"""


def test_each_line_keeps_its_own_names() -> None:
    figures = figures_of(CHILD_OUTPUT)
    assert figures["tick_s"] == 2.44 and figures["tick_ratio"] == 1.68 and figures["rollup_s"] == 0.18
    assert figures["cli_tick_s"] == 6.32 and figures["cli_peak_rss_mb"] == 482
    assert figures["resident_tick_s"] == 4.66 and figures["resident_launch_s"] == 4.39
    assert figures["late_score_s"] == 0.61 and figures["late_tick_s"] == 3.10 and figures["late_handed_in"] == 20000
    assert figures["reconcile_s"] == 1.05 and figures["assignments_removed"] == 2000
    assert figures["people_tick_s"] == 12.50 and figures["people_inbox_items"] == 250000
    assert "departments" not in figures  # only the RESULT / ROLLUP / VIEWS / CLI / LATE lines are figures


def test_growth_exponent_is_the_log_log_slope() -> None:
    assert growth_exponent([(2000, 1.0)]) is None
    linear = growth_exponent([(2000, 2.0), (10000, 10.0), (33000, 33.0)])
    assert linear is not None and math.isclose(linear, 1.0)
    quadratic = growth_exponent([(1000, 1.0), (2000, 4.0)])
    assert quadratic is not None and math.isclose(quadratic, 2.0)
