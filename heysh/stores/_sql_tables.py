"""The metadata database's tables as SQLAlchemy Core objects.

The schema itself is created and changed only by the Alembic migrations in
``heysh/stores/migrations``; these objects describe it for queries and must
match the latest migration (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from heysh.errors import DataError

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The Alembic version table; not ``alembic_version`` so that heysh can share a
# PostgreSQL database with MLflow, which uses that name for its own migrations.
VERSION_TABLE = "heysh_alembic_version"


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC and read back as UTC.

    SQLite keeps no offset, so values are converted to UTC before they are
    written and marked as UTC when read. Naive datetimes are refused: their
    zone is a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise DataError(
                f"timestamp {value.isoformat()} has no time zone; pass an aware "
                "datetime, e.g. datetime.now(UTC)"
            )
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON on SQLite, JSONB on PostgreSQL (queryable, compact).
JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

domains = sa.Table(
    "domains",
    metadata,
    sa.Column("domain_id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("config_json", sa.Text(), nullable=False),
    sa.Column("language", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("domain_id", sa.String(), primary_key=True),
    sa.Column("user_id", sa.String(), primary_key=True),
    sa.Column("role", sa.String(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("domain_id", sa.String(), primary_key=True),
    sa.Column("doc_id", sa.String(), primary_key=True),
    sa.Column("uploader", sa.String(), nullable=False),
    sa.Column("filename", sa.Text(), nullable=False),
    sa.Column("content_sha256", sa.String(), nullable=False),
    sa.Column("size_bytes", sa.BigInteger(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("language", sa.String(), nullable=False),
    sa.Column("flags", JsonType, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("domain_id", sa.String(), primary_key=True),
    sa.Column("doc_id", sa.String(), primary_key=True),
    sa.Column("outcome", sa.String(), nullable=False),
    sa.Column("decided_by", sa.String(), nullable=False),
    sa.Column("score", sa.Float(), nullable=True),
    sa.Column("model_name", sa.String(), nullable=False),
    sa.Column("model_version", sa.String(), nullable=False),
    sa.Column("thresholds", JsonType, nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=False),
    # What an LLM judge billed for scoring the document; 0 for local models.
    sa.Column("tokens_in", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("tokens_out", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("cost_usd", sa.Float(), nullable=False, server_default=sa.text("0")),
)

votes = sa.Table(
    "votes",
    metadata,
    sa.Column("domain_id", sa.String(), primary_key=True),
    sa.Column("doc_id", sa.String(), primary_key=True),
    sa.Column("voter", sa.String(), primary_key=True),
    sa.Column("role", sa.String(), nullable=False),
    sa.Column("approve", sa.Boolean(), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("voted_at", UtcDateTime(), nullable=False),
)

round_robin = sa.Table(
    "round_robin",
    metadata,
    sa.Column("domain_id", sa.String(), primary_key=True),
    # Claims handed out so far in this domain; the next claim takes this value.
    sa.Column("next_position", sa.BigInteger(), nullable=False),
)

round_robin_claims = sa.Table(
    "round_robin_claims",
    metadata,
    sa.Column("domain_id", sa.String(), primary_key=True),
    sa.Column("claim_key", sa.String(), primary_key=True),
    sa.Column("position", sa.BigInteger(), nullable=False),
    sa.Column("pool_size", sa.Integer(), nullable=False),
    sa.Column("pool_index", sa.Integer(), nullable=False),
    sa.Column("claimed_at", UtcDateTime(), nullable=False),
)

# A blind audit of one automatic decision: the controller labels the document
# without seeing its score or the automatic outcome (issue: feedback loop).
audits = sa.Table(
    "audits",
    metadata,
    sa.Column("domain_id", sa.String(), primary_key=True),
    sa.Column("doc_id", sa.String(), primary_key=True),
    sa.Column("automatic_outcome", sa.String(), nullable=False),
    sa.Column("score", sa.Float(), nullable=True),
    sa.Column("model_name", sa.String(), nullable=False),
    sa.Column("model_version", sa.String(), nullable=False),
    sa.Column("thresholds", JsonType, nullable=False),
    sa.Column("controller", sa.String(), nullable=False),
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("label_outcome", sa.String(), nullable=True),
    sa.Column("labelled_by", sa.String(), nullable=True),
    sa.Column("labelled_at", UtcDateTime(), nullable=True),
)

# Thresholds an evaluation proposes for a domain, and what an admin did with
# them: status proposed | applied | rejected | superseded.
threshold_proposals = sa.Table(
    "threshold_proposals",
    metadata,
    sa.Column("proposal_id", sa.String(), primary_key=True),
    sa.Column("domain_id", sa.String(), nullable=False, index=True),
    sa.Column("current", JsonType, nullable=False),
    sa.Column("proposed", JsonType, nullable=False),
    sa.Column("evidence", JsonType, nullable=False),
    sa.Column("evidence_run_id", sa.String(), nullable=False),
    sa.Column("proposed_by", sa.String(), nullable=False),
    sa.Column("proposed_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("decided_by", sa.String(), nullable=True),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.Column("note", sa.Text(), nullable=False),
)
