"""Server-side web sessions and single-use download tickets (issues 11 and 12).

`web_session`: one row per browser login; the cookie carries a random token whose SHA-256 is
`token_hash` (set when the browser exchanges the one-minute `handoff_hash` code for its cookie);
`ended_at` ends it in every tab. `download_ticket`: a single-use, minutes-long URL for one file,
bound to a session and its user; `used_at` is set once, by a conditional UPDATE.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain import limits
from store.models import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("app_user.id", name="fk_web_session_user_id_app_user"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("handoff_hash", sa.String(64), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_web_session_token_hash"),
        sa.UniqueConstraint("handoff_hash", name="uq_web_session_handoff_hash"),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id"])
    op.create_table(
        "download_ticket",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("web_session.id", name="fk_download_ticket_session_id_web_session"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(limits.FILENAME_MAX), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_download_ticket_token_hash"),
    )
    op.create_index("ix_download_ticket_session_id", "download_ticket", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_download_ticket_session_id", table_name="download_ticket")
    op.drop_table("download_ticket")
    op.drop_index("ix_web_session_user_id", table_name="web_session")
    op.drop_table("web_session")
