"""bid-level register, red flags, credit and blacklist (issue 14).

project gains what a 公共资源交易平台 export carries per project (procedure, notice date, bid deadline, award
date, estimated and award price, award criterion, tenderer, agent, winner's credit code), all nullable so the old
register still loads; new tables: bid, evaluation_expert, risk_flag, risk_alert (the natural key that makes a
flagged project one lead), market_entity and credit_event; sample_draw gains risk_json (a risk-weighted round's
scores and reasons, for replay).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain import limits
from store.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PROJECT_COLUMNS = (
    ("procedure", sa.String(20)),
    ("notice_on", sa.Date()),
    ("bid_deadline_at", UTCDateTime(timezone=True)),
    ("award_on", sa.Date()),
    ("estimated_price", sa.Numeric(16, 2)),
    ("award_price", sa.Numeric(16, 2)),
    ("award_criterion", sa.String(20)),
    ("tenderer", sa.String(limits.TITLE_MAX)),
    ("agent", sa.String(limits.TITLE_MAX)),
    ("winner_code", sa.String(limits.ENTITY_CODE_MAX)),
)



def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        for name, type_ in PROJECT_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("sample_draw") as batch:
        batch.add_column(sa.Column("risk_json", sa.Text(), nullable=True))
    identifier = sa.String(limits.BID_IDENTIFIER_MAX)
    op.create_table(
        "bid",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
        sa.Column("bidder_code", sa.String(limits.ENTITY_CODE_MAX), nullable=False),
        sa.Column("bidder_name", sa.String(limits.TITLE_MAX), nullable=False),
        sa.Column("price", sa.Numeric(16, 2), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("disqualify_reason", sa.String(limits.REASON_MAX), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ip", identifier, nullable=True),
        sa.Column("mac", identifier, nullable=True),
        sa.Column("document_hash", identifier, nullable=True),
        sa.Column("document_author", identifier, nullable=True),
        sa.Column("deposit_account", identifier, nullable=True),
        sa.Column("project_manager", identifier, nullable=True),
        sa.Column("document_signature", sa.Text(), nullable=True),
        sa.UniqueConstraint("project_id", "bidder_code", name="uq_bid_project_id_bidder_code"),
    )
    op.create_index("ix_bid_campaign", "bid", ["campaign_id"])
    op.create_table(
        "evaluation_expert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
        sa.Column("expert", sa.String(limits.ENTITY_CODE_MAX), nullable=False),
        sa.UniqueConstraint("project_id", "expert", name="uq_evaluation_expert_project_id_expert"),
    )
    op.create_table(
        "risk_flag",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rule_id", sa.String(limits.RULE_ID_MAX), nullable=False),
        sa.Column("entities", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("weight", sa.Numeric(5, 3), nullable=False),
        sa.Column("link_value", identifier, nullable=False),
    )
    op.create_index("ix_risk_flag_campaign_rule", "risk_flag", ["campaign_id", "rule_id"])
    op.create_table(
        "risk_alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
        sa.Column("score", sa.Numeric(5, 1), nullable=False),
        sa.Column("rules", sa.String(300), nullable=False),
        sa.Column("entities", sa.Text(), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("lead.id"), nullable=True),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("campaign_id", "project_id", name="uq_risk_alert_campaign_id_project_id"),
    )
    op.create_table(
        "market_entity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("code", sa.String(limits.ENTITY_CODE_MAX), nullable=False),
        sa.Column("name", sa.String(limits.TITLE_MAX), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("standing", sa.String(10), nullable=False),
        sa.Column("rating", sa.String(1), nullable=True),
        sa.Column("updated_on", sa.Date(), nullable=True),
        sa.UniqueConstraint("campaign_id", "kind", "code", name="uq_market_entity_campaign_id_kind_code"),
    )
    op.create_table(
        "credit_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "entity_id", sa.Integer(), sa.ForeignKey("market_entity.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("natural_key", sa.String(200), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(limits.LEDGER_CODE_MAX), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("campaign_id", "natural_key", name="uq_credit_event_campaign_id_natural_key"),
    )


def downgrade() -> None:
    for table in ("credit_event", "market_entity", "risk_alert", "risk_flag", "evaluation_expert", "bid"):
        op.drop_table(table)
    with op.batch_alter_table("sample_draw") as batch:
        batch.drop_column("risk_json")
    with op.batch_alter_table("project") as batch:
        for name, _type in reversed(PROJECT_COLUMNS):
            batch.drop_column(name)
