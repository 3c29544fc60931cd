"""messages checked against the records, threads (issue 12, messages).

Reserved in the chain so parallel work lands in a fixed order; empty until its tables arrive.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
