"""Verification draws in rounds: a register that grows after the draw is topped up to the ratio.

sample_draw gains `round` (1 = the first draw) and `population_codes` (the register the round drew
from, so each round can be replayed from its seed); the natural key becomes
(campaign, department, round).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sample_draw") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("population_codes", sa.Text(), nullable=True))
        batch.drop_constraint("uq_sample_draw_campaign_id_department_id", type_="unique")
        batch.create_unique_constraint("uq_sample_draw_campaign_id_department_id_round",
                                       ["campaign_id", "department_id", "round"])


def downgrade() -> None:
    with op.batch_alter_table("sample_draw") as batch:
        batch.drop_constraint("uq_sample_draw_campaign_id_department_id_round", type_="unique")
        batch.create_unique_constraint("uq_sample_draw_campaign_id_department_id", ["campaign_id", "department_id"])
        batch.drop_column("population_codes")
        batch.drop_column("round")
