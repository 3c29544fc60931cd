"""Monthly reports: editable narratives and the record of report files the flow has filed.

report_narrative holds the four text sections of a report per campaign × period × department
('' = the office rollup), optimistic-locked by `version`. generated_report records each report
the scheduled flow wrote (natural key campaign × period × department), so a re-run writes nothing.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_narrative",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("practices", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("experience", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=50), nullable=False),
        sa.Column("updated_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_report_narrative_campaign_id_campaign"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_narrative")),
        sa.UniqueConstraint("campaign_id", "period", "department_code",
                            name=op.f("uq_report_narrative_campaign_id_period_department_code")),
    )
    op.create_table(
        "generated_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("docx_path", sa.String(length=500), nullable=False),
        sa.Column("xlsx_path", sa.String(length=500), nullable=False),
        sa.Column("docx_sha256", sa.String(length=64), nullable=False),
        sa.Column("xlsx_sha256", sa.String(length=64), nullable=False),
        sa.Column("generated_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_generated_report_campaign_id_campaign"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generated_report")),
        sa.UniqueConstraint("campaign_id", "period", "department_code",
                            name=op.f("uq_generated_report_campaign_id_period_department_code")),
    )


def downgrade() -> None:
    op.drop_table("generated_report")
    op.drop_table("report_narrative")
