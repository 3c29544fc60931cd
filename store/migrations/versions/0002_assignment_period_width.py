"""assignment.period wide enough for a project code (verification sample assignments)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite does not enforce VARCHAR lengths, so only real servers need the change.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("assignment", "period", existing_type=sa.String(length=10), type_=sa.String(length=60),
                        existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("assignment", "period", existing_type=sa.String(length=60), type_=sa.String(length=10),
                        existing_nullable=False)
