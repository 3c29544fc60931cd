"""bid-level register, red flags, credit and blacklist (issue 14).

Reserved in the chain so parallel work lands in a fixed order; empty until its tables arrive.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
