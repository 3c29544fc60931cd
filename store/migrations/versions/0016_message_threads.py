"""messages checked against the records, threads (issue 12, messages).

- outbox: an event message (returned, accepted, lead assigned, 销号 decided, and the kinds other
  work adds) carries its own text (`subject`, `body`), may concern no assignment (a lead, a
  problem: `assignment_id` nullable, `thread_key` names what it is about), and says whether it
  chases unfinished work (`chases`: stale once the work is handed in). `in_app_on`: the day the
  tick put it in the in-app inboxes (external channels keep their own schedule and state). `kind`
  is wider for the event kinds. `created_on` stays the day of the event.
- outbox_delivery.obsolete_at: an unread in-app message found untrue (the work it chases was
  handed in) is marked, not deleted.
- rollup_snapshot.due: assignments whose deadline has come by the snapshot's day, so a board tells
  work not yet due (未到期) from work late.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.models import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("kind", existing_type=sa.String(12), type_=sa.String(40), existing_nullable=False)
        batch.alter_column("assignment_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("subject", sa.String(300), nullable=True))
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("thread_key", sa.String(120), nullable=True))
        batch.add_column(sa.Column("chases", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("in_app_on", sa.Date(), nullable=True))
    with op.batch_alter_table("outbox_delivery") as batch:
        batch.add_column(sa.Column("obsolete_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("rollup_snapshot") as batch:
        batch.add_column(sa.Column("due", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("rollup_snapshot") as batch:
        batch.drop_column("due")
    with op.batch_alter_table("outbox_delivery") as batch:
        batch.drop_column("obsolete_at")
    op.execute("DELETE FROM outbox WHERE assignment_id IS NULL OR subject IS NOT NULL")  # event messages
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("in_app_on")
        batch.drop_column("chases")
        batch.drop_column("thread_key")
        batch.drop_column("body")
        batch.drop_column("subject")
        batch.alter_column("assignment_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("kind", existing_type=sa.String(40), type_=sa.String(12), existing_nullable=False)
