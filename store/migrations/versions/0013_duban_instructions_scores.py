"""督办单, 批示, 考核评分 (issue 13, part 2).

Reserved in the chain so parallel work lands in a fixed order; empty until its tables arrive.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
