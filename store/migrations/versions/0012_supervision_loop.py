"""签收, 延期申请, 撤回/逾期原因, 催办 (issue 13, part 1).

- assignment gains `acknowledged_at` / `acknowledged_by` (签收) and `original_due_on` (the deadline
  before the first approved extension; `due_on` stays the effective deadline every tick step reads).
- submission gains `late_reason` (逾期原因).
- New table `extension_request` (one row per 延期申请, numbered per assignment by `seq`) and a column
  `attachment.extension_request_id` for its supporting file.
- New table `urge` (one row per 催办 of an assignment, natural key against double clicks).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain import limits
from store.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(limits.USERNAME_MAX), nullable=True))
        batch.add_column(sa.Column("original_due_on", sa.Date(), nullable=True))
    with op.batch_alter_table("submission") as batch:
        batch.add_column(sa.Column("late_reason", sa.Text(), nullable=True))
    op.create_table(
        "extension_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(limits.USERNAME_MAX), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_before", sa.Date(), nullable=False),
        sa.Column("asked_until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("decided_by", sa.String(limits.USERNAME_MAX), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_until", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_extension_request_campaign_id_campaign", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name="fk_extension_request_assignment_id_assignment",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_extension_request"),
        sa.UniqueConstraint("assignment_id", "seq", name="uq_extension_request_assignment_id_seq"),
    )
    op.create_index("ix_extension_request_campaign_state", "extension_request", ["campaign_id", "state"])
    with op.batch_alter_table("attachment") as batch:
        batch.add_column(sa.Column("extension_request_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_attachment_extension_request_id_extension_request",
            "extension_request",
            ["extension_request_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_table(
        "urge",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("natural_key", sa.String(120), nullable=False),
        sa.Column("urged_by", sa.String(limits.USERNAME_MAX), nullable=False),
        sa.Column("urged_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_urge_campaign_id_campaign", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignment.id"], name="fk_urge_assignment_id_assignment", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_urge"),
        sa.UniqueConstraint("natural_key", name="uq_urge_natural_key"),
    )
    op.create_index("ix_urge_assignment", "urge", ["assignment_id"])


def downgrade() -> None:
    op.drop_index("ix_urge_assignment", table_name="urge")
    op.drop_table("urge")
    with op.batch_alter_table("attachment") as batch:
        batch.drop_constraint("fk_attachment_extension_request_id_extension_request", type_="foreignkey")
        batch.drop_column("extension_request_id")
    op.drop_index("ix_extension_request_campaign_state", table_name="extension_request")
    op.drop_table("extension_request")
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("late_reason")
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("original_due_on")
        batch.drop_column("acknowledged_by")
        batch.drop_column("acknowledged_at")
