"""Count milestones, ongoing duties, periods beyond months, 自选事项 and meetings (issue 16).

- task_template: `every` (a recurring report's period: week / month / quarter / year; NULL for a phase task),
  `required_count` (deliveries each department owes), `ongoing` (持续推进, no single deadline) with
  `reported_in` (the recurring reports it is reported through, 、-joined keys), and `proposed_by_id` (the
  department that added a 自选事项). Existing recurring reports are monthly: their `every` becomes 'month'.
- assignment: `batch` (1..count for one delivery of a counted task) and `ongoing` (the tick never marks it
  overdue, escalates or reminds it).
- meeting / meeting_decision: the 会商 and 例会 the office records; a decision turned into work names the
  template of its assignments.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain import limits
from store.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_template") as batch:
        batch.add_column(sa.Column("every", sa.String(10), nullable=True))
        batch.add_column(sa.Column("required_count", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("ongoing", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("reported_in", sa.String(limits.TAGS_JOINED_MAX), nullable=False, server_default=""))
        batch.add_column(sa.Column("proposed_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_task_template_proposed_by_id_department", "department", ["proposed_by_id"], ["id"])
    op.execute("UPDATE task_template SET every = 'month' WHERE recurring_day IS NOT NULL")
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(sa.Column("batch", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ongoing", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(limits.LEDGER_CODE_MAX), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(limits.TITLE_MAX), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(limits.USERNAME_MAX), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_meeting_campaign_id_campaign", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("campaign_id", "code", name="uq_meeting_campaign_id_code"),
    )
    op.create_table(
        "meeting_decision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="fk_meeting_decision_meeting_id_meeting", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["template_id"], ["task_template.id"], name="fk_meeting_decision_template_id_task_template"
        ),
        sa.UniqueConstraint("meeting_id", "seq", name="uq_meeting_decision_meeting_id_seq"),
    )


def downgrade() -> None:
    op.drop_table("meeting_decision")
    op.drop_table("meeting")
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("ongoing")
        batch.drop_column("batch")
    with op.batch_alter_table("task_template") as batch:
        batch.drop_constraint("fk_task_template_proposed_by_id_department", type_="foreignkey")
        for column in ("proposed_by_id", "reported_in", "ongoing", "required_count", "every"):
            batch.drop_column(column)
