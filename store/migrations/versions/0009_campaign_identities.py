"""Campaign-scoped identities and race-safe codes.

- app_user gains `campaign_code`: a department account belongs to one department of one campaign
  (office and leader accounts: NULL, every campaign). Existing department accounts get the newest
  campaign (by launch time) that has their department code; an account whose code no campaign has
  keeps NULL and is refused at its next call until the office assigns it (services.users.update_user).
- New table `campaign_counter` (campaign, name, value): problem (WT-nnnn) and lead (XS-nnnn) numbers
  are taken from it with UPDATE … RETURNING, so concurrent recorders queue instead of colliding on a
  count; a sampling draw locks its row. Rows are created on first use from the existing counts.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Each department account without a campaign gets the newest campaign that has its department code.
ASSIGN_CAMPAIGNS = sa.text(
    "UPDATE app_user SET campaign_code = ("
    " SELECT c.code FROM campaign c JOIN department d ON d.campaign_id = c.id"
    " WHERE d.code = app_user.department_code ORDER BY c.launched_at DESC, c.id DESC LIMIT 1)"
    " WHERE role = 'department' AND campaign_code IS NULL"
)


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("campaign_code", sa.String(40), nullable=True))
    op.execute(ASSIGN_CAMPAIGNS)
    op.create_table(
        "campaign_counter",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name="fk_campaign_counter_campaign_id_campaign",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "name", name="pk_campaign_counter"),
    )


def downgrade() -> None:
    op.drop_table("campaign_counter")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("campaign_code")
