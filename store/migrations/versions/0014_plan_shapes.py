"""count milestones, ongoing duties, 自选事项, meetings (issue 16).

Reserved in the chain so parallel work lands in a fixed order; empty until its tables arrive.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
