"""督办单, 批示, 考核评分 (issue 13, part 2).

- duban: one 督办单 per assignment and escalation level (unique), numbered per campaign (unique seq),
  with its 反馈期限 and the department's answer.
- instruction: a leader's 批示 on a department, assignment, problem or report; one asking for action
  names the assignment it created.
- score_snapshot: each department's score, rank and light per campaign and day (the natural key).
- assignment.source: 'plan' for every existing row, 'instruction' for a 批示's task.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain import limits
from store.models import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, **kw: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", **kw)


def upgrade() -> None:
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(sa.Column("source", sa.String(12), nullable=False, server_default="plan"))
    op.create_table(
        "duban",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(limits.DOCUMENT_NUMBER_MAX), nullable=False),
        sa.Column("colour", sa.String(10), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("nominal_due_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("overdue_days", sa.Integer(), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("respond_due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(limits.USERNAME_MAX), nullable=True),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        _fk("duban", "campaign_id", "campaign", ondelete="CASCADE"),
        _fk("duban", "assignment_id", "assignment", ondelete="CASCADE"),
        _fk("duban", "department_id", "department"),
        sa.UniqueConstraint("assignment_id", "level", name="uq_duban_assignment_id_level"),
        sa.UniqueConstraint("campaign_id", "seq", name="uq_duban_campaign_id_seq"),
    )
    op.create_index("ix_duban_campaign_state", "duban", ["campaign_id", "state"])
    op.create_table(
        "instruction",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(12), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("problem_id", sa.Integer(), nullable=True),
        sa.Column("report_period", sa.String(7), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("task_assignment_id", sa.Integer(), nullable=True),
        sa.Column("written_by", sa.String(limits.USERNAME_MAX), nullable=False),
        sa.Column("written_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by", sa.String(limits.USERNAME_MAX), nullable=True),
        sa.Column("replied_at", UTCDateTime(timezone=True), nullable=True),
        _fk("instruction", "campaign_id", "campaign", ondelete="CASCADE"),
        _fk("instruction", "department_id", "department"),
        _fk("instruction", "assignment_id", "assignment", ondelete="SET NULL"),
        _fk("instruction", "problem_id", "problem", ondelete="SET NULL"),
        _fk("instruction", "task_assignment_id", "assignment", ondelete="SET NULL"),
        sa.UniqueConstraint("campaign_id", "seq", name="uq_instruction_campaign_id_seq"),
    )
    op.create_index("ix_instruction_department", "instruction", ["department_id", "state"])
    op.create_table(
        "score_snapshot",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(6, 2), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("light", sa.String(10), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("overdue_days", "escalation_levels", "returned", "unsigned", "duban_unanswered", "early")
        ),
        _fk("score_snapshot", "campaign_id", "campaign", ondelete="CASCADE"),
        _fk("score_snapshot", "department_id", "department"),
        sa.PrimaryKeyConstraint("campaign_id", "as_of", "department_id", name="pk_score_snapshot"),
    )


def downgrade() -> None:
    op.drop_table("score_snapshot")
    op.drop_index("ix_instruction_department", table_name="instruction")
    op.drop_table("instruction")
    op.drop_index("ix_duban_campaign_state", table_name="duban")
    op.drop_table("duban")
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("source")
