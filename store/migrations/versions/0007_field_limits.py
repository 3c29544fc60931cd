"""Field limits have one source: every text column's width is a domain.limits constant.

The constants were chosen to equal the widths already in the schema (codes 40, names 100, titles 200,
person names 50, project codes 60, …), so no column changes: the spec (domain.spec) and the import rows
(exchange.rows) were narrowed to fit the columns instead of the columns widened to fit them. This
revision marks the point from which store.models takes its widths from domain.limits; a later width
change is a new revision that alters the column on PostgreSQL (SQLite does not enforce lengths).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # widths unchanged: see the docstring


def downgrade() -> None:
    pass
