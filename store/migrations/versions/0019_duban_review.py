"""督办单 反馈 reviewed by the office (issue 13, the 审核 step of the 督办 loop).

An answered 督办单 stayed in the office's 待办 forever: the office now marks the department's answer as
read (已阅), and who did and when is kept on the notice, so it leaves the queue and stays on record.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain import limits
from store.models import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("duban") as batch:
        batch.add_column(sa.Column("reviewed_by", sa.String(limits.USERNAME_MAX), nullable=True))
        batch.add_column(sa.Column("reviewed_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("duban") as batch:
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
