"""an index for the tick's phase check: is anything of this phase due to open (issue 15).

services.ticking.sync_phases asks, per phase, for the earliest opening day among its scheduled
assignments. On (phase_id, status, opens_on) that is one index lookup; with only (phase_id, status,
due_on) PostgreSQL planned the old EXISTS probe as a scan of the whole assignment table, which at
national scale reads ~1M rows for a phase whose work all opens later.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_assignment_phase_status_opens", "assignment", ["phase_id", "status", "opens_on"])


def downgrade() -> None:
    op.drop_index("ix_assignment_phase_status_opens", table_name="assignment")
