"""Delivery state and the embedded scheduler's record of completed days.

outbox_delivery gains campaign_id, next_attempt_at (retry backoff), claimed_at (when a row was
marked 'sending': a stale claim after a crash becomes 'uncertain', never a second message) and
outbox_keys (the outbox rows a daily digest covers). scheduled_run records each (job, day) the
`campaign serve` scheduler completed, so a restart neither misses nor doubles a day.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", store.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", store.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outbox_keys", sa.Text(), nullable=False, server_default="[]"))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_delivery_campaign_id_campaign"), "campaign", ["campaign_id"], ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index("ix_outbox_delivery_campaign_state", ["campaign_id", "state"], unique=False)

    op.create_table(
        "scheduled_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_run")),
        sa.UniqueConstraint("job", "day", name=op.f("uq_scheduled_run_job_day")),
    )


def downgrade() -> None:
    op.drop_table("scheduled_run")
    with op.batch_alter_table("outbox_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_delivery_campaign_state")
        batch_op.drop_constraint(batch_op.f("fk_outbox_delivery_campaign_id_campaign"), type_="foreignkey")
        batch_op.drop_column("outbox_keys")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("campaign_id")
