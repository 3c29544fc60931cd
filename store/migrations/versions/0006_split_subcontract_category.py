"""转包 and 违法分包 are two problem categories: the retired combined category becomes 违法分包.

Rows of problem and lead whose category is "转包/违法分包" (the service once offered it next to 转包 and
违法分包) now say 违法分包, the one of the two every such example describes; the word is still read
as an alias of 违法分包 by domain.problem.PROBLEM_CATEGORY. Data only. Downgrade is a no-op: which
rows once said the combined word is not kept, and 违法分包 is valid at every revision.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RETIRED = "转包/违法分包"
# The value domain.problem.ProblemCategory.illegal_subcontracting stores (a migration keeps its own copy:
# it must mean the same thing whatever the domain module later says).
REPLACEMENT = "违法分包"


def upgrade() -> None:
    for table in ("problem", "lead"):
        op.execute(sa.text(f"UPDATE {table} SET category = :new WHERE category = :old")
                   .bindparams(new=REPLACEMENT, old=RETIRED))


def downgrade() -> None:
    pass
