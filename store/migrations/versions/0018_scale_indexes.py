"""indexes for the tick's and the boards' filters (issue 15).

The tick's assignment filters (phase, status, due date; campaign) were indexed in 0001. What was
left to a full scan at national scale (33,000 departments, ~1M assignments):
- the rollup's per-department problem / project / lead counts (services.rollup_extras: correlated
  counts by department_id) — a scan of each table per rollup row;
- a department's trend and board rows (services.views.boards): rollup_snapshot's key leads with
  (campaign, day), so one department's rows over the days meant reading every department's.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_problem_department", "problem", ["department_id"]),
    ("ix_project_department", "project", ["department_id"]),
    ("ix_lead_department", "lead", ["department_id"]),
    ("ix_rollup_snapshot_department", "rollup_snapshot", ["department_id", "phase_key", "as_of"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
