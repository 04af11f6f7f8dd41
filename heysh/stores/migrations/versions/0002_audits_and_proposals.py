"""Feedback loop: blind audits of automatic decisions, threshold proposals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIMESTAMP = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the audits and threshold_proposals tables."""
    op.create_table(
        "audits",
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("doc_id", sa.String(), nullable=False),
        sa.Column("automatic_outcome", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("model_version", sa.String(), nullable=False),
        sa.Column("thresholds", _JSON, nullable=False),
        sa.Column("controller", sa.String(), nullable=False),
        sa.Column("requested_at", _TIMESTAMP, nullable=False),
        sa.Column("label_outcome", sa.String(), nullable=True),
        sa.Column("labelled_by", sa.String(), nullable=True),
        sa.Column("labelled_at", _TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("domain_id", "doc_id", name="pk_audits"),
    )
    op.create_table(
        "threshold_proposals",
        sa.Column("proposal_id", sa.String(), nullable=False),
        sa.Column("domain_id", sa.String(), nullable=False),
        sa.Column("current", _JSON, nullable=False),
        sa.Column("proposed", _JSON, nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("evidence_run_id", sa.String(), nullable=False),
        sa.Column("proposed_by", sa.String(), nullable=False),
        sa.Column("proposed_at", _TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", _TIMESTAMP, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("proposal_id", name="pk_threshold_proposals"),
    )
    op.create_index(
        "ix_threshold_proposals_domain_id", "threshold_proposals", ["domain_id"]
    )


def downgrade() -> None:
    """Drop the feedback-loop tables."""
    op.drop_index("ix_threshold_proposals_domain_id", "threshold_proposals")
    op.drop_table("threshold_proposals")
    op.drop_table("audits")
