"""indexes for the rows that go with a deleted assignment (issue 15: no size ceiling).

A changed spec that drops departments or tasks deletes their assignments not yet opened
(services.campaigns, reconcile). Each deleted assignment makes the database act on its children —
delete its outbox rows (and their deliveries) and its extension requests (and their files), clear it
from instructions — and with no index led by
the child's column that is a scan of the whole child table per deleted row. Measured before this
migration, PostgreSQL, 2,000 departments after a busy tick (234,000 outbox rows): dropping 200
departments (2,000 assignments) took 24 s; at national scale (~4M outbox rows) it would be hours.

Departments and campaigns are never deleted (a department is retired: `active`), so the foreign keys
to them need no index of their own. tests/integration/test_migrations.py finds the tables the code
deletes from (and what cascades from them) and checks every foreign key to them leads an index.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_outbox_assignment", "outbox", ["assignment_id"]),
    ("ix_outbox_delivery_outbox", "outbox_delivery", ["outbox_id"]),
    ("ix_instruction_assignment", "instruction", ["assignment_id"]),
    ("ix_instruction_task_assignment", "instruction", ["task_assignment_id"]),
    ("ix_attachment_extension_request", "attachment", ["extension_request_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
