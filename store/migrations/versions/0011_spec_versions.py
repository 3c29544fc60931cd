"""Campaign specs stored by digest, so a launch flow takes (campaign code, digest) as parameters
instead of the whole spec (Prefect's 512 KB parameter limit capped campaigns near 3,000
departments). Existing campaigns' current specs are copied in.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain import limits
from store.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_spec_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_code", sa.String(limits.CODE_MAX), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("stored_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_code", "sha256", name="uq_campaign_spec_version_campaign_code_sha256"),
    )
    op.execute(
        "INSERT INTO campaign_spec_version (campaign_code, sha256, spec_json, stored_at)"
        " SELECT code, spec_sha256, spec_json, updated_at FROM campaign"
    )


def downgrade() -> None:
    op.drop_table("campaign_spec_version")
