"""server-side sessions and download tickets (issues 11 and 12).

Reserved in the chain so parallel work lands in a fixed order; empty until its tables arrive.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
