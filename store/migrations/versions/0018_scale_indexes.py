"""indexes for the tick's and the boards' filters (issue 15).

Reserved in the chain so parallel work lands in a fixed order; empty until its tables arrive.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
