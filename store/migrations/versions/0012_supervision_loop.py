"""签收, 延期申请, 撤回/逾期原因, 催办 (issue 13, part 1).

Reserved in the chain so parallel work lands in a fixed order; empty until its tables arrive.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
