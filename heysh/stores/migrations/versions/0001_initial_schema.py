"""Initial schema: domains, memberships, documents, decisions, votes, round-robin.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create every table of the first schema."""
    op.create_table(
        "domains",
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("domain_id", name="pk_domains"),
    )
    op.create_table(
        "memberships",
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("domain_id", "user_id", name="pk_memberships"),
    )
    op.create_table(
        "documents",
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("doc_id", sa.String(), nullable=False),
        sa.Column("uploader", sa.String(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("flags", _JSON, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("domain_id", "doc_id", name="pk_documents"),
    )
    op.create_table(
        "decisions",
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("doc_id", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("model_version", sa.String(), nullable=False),
        sa.Column("thresholds", _JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("domain_id", "doc_id", name="pk_decisions"),
    )
    op.create_table(
        "votes",
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("doc_id", sa.String(), nullable=False),
        sa.Column("voter", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("approve", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("voted_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("domain_id", "doc_id", "voter", name="pk_votes"),
    )
    op.create_table(
        "round_robin",
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("next_position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("domain_id", name="pk_round_robin"),
    )
    op.create_table(
        "round_robin_claims",
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("claim_key", sa.String(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("pool_size", sa.Integer(), nullable=False),
        sa.Column("pool_index", sa.Integer(), nullable=False),
        sa.Column("claimed_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("domain_id", "claim_key", name="pk_round_robin_claims"),
    )


def downgrade() -> None:
    """Drop every table of the first schema."""
    for table in (
        "round_robin_claims",
        "round_robin",
        "votes",
        "decisions",
        "documents",
        "memberships",
        "domains",
    ):
        op.drop_table(table)
