"""Decisions record what an LLM judge billed for scoring the document.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Rows written before this revision were scored by local models or not
# counted; zero is what a local model reports.
_COLUMNS = (
    ("tokens_in", sa.Integer()),
    ("tokens_out", sa.Integer()),
    ("cost_usd", sa.Float()),
)


def upgrade() -> None:
    """Add tokens in, tokens out and list-price cost to ``decisions``."""
    with op.batch_alter_table("decisions") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(
                sa.Column(name, kind, nullable=False, server_default=sa.text("0"))
            )


def downgrade() -> None:
    """Drop the usage columns."""
    with op.batch_alter_table("decisions") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
