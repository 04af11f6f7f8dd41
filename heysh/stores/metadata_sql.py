"""The metadata store on SQLAlchemy: SQLite embedded, PostgreSQL in production.

One class serves both databases. Upserts use each dialect's
``INSERT ... ON CONFLICT``; the schema comes from the Alembic migrations in
``heysh/stores/migrations``, applied when the store opens. SQLite runs in WAL
mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url

from heysh.domain.roles import Role
from heysh.errors import ConfigError, DataError, StoreUnavailableError
from heysh.sqlite_wal import switch_to_wal
from heysh.stores import _sql_tables as t
from heysh.stores.base import (
    AuditRow,
    DecisionRow,
    DocumentRow,
    ThresholdProposalRow,
    VoteRow,
)

_logger = logging.getLogger(__name__)

_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant works; it only has to be the same in every heysh process so that
# two workers opening a fresh PostgreSQL database migrate it one at a time.
_MIGRATION_LOCK_ID = 0x68657973  # "heys"

_SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class _ClaimRaceError(Exception):
    """Another transaction inserted the same round-robin claim first."""


def _now() -> datetime:
    return datetime.now(UTC)


def normalise_database_url(url: str) -> sa.URL:
    """Parse a metadata URL, choosing psycopg 3 for a bare ``postgresql://``.

    Args:
        url: ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user@host/db``
            (``postgresql://`` and ``postgres://`` mean the same).

    Returns:
        The parsed URL.

    Raises:
        ConfigError: The URL cannot be parsed, names another database, or asks
            for an in-memory SQLite database (each connection would see its own
            empty database).

    >>> normalise_database_url("postgres://u@db/heysh").drivername
    'postgresql+psycopg'
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as err:
        raise ConfigError(
            f"metadata URL is not a database URL ({err}); use sqlite:///path/to/"
            "heysh.db or postgresql+psycopg://user@host:5432/heysh"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in _SUPPORTED_BACKENDS:
        raise ConfigError(
            f"metadata URL scheme {parsed.drivername!r} is not supported; use "
            "sqlite:///path or postgresql+psycopg://..."
        )
    if parsed.get_backend_name() == "sqlite" and _sqlite_in_memory(parsed):
        raise ConfigError(
            "an in-memory SQLite metadata database is not supported (every "
            "connection would see its own); give a file: sqlite:///path/heysh.db"
        )
    if parsed.get_backend_name() == "sqlite" and (parsed.database or "").startswith(
        "file:"
    ):
        raise ConfigError(
            f"SQLite URI filenames ({parsed.database!r}) are not supported for the "
            "metadata database; give a path: sqlite:///path/heysh.db"
        )
    return parsed


def _sqlite_in_memory(url: sa.URL) -> bool:
    """``sqlite://``, ``:memory:``, and URI forms ``file::memory:``/``mode=memory``."""
    database = url.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or url.query.get("mode") == "memory"
        or "mode=memory" in database
    )


class SqlMetadataStore:
    """Domains, memberships, documents, decisions, votes and round-robin claims.

    Thread-safe: each call takes a pooled connection. Timestamps are stored
    and returned in UTC; a row passed without one gets the current time.

    Args:
        url: Database URL; see :func:`normalise_database_url`.
        connect_timeout_s: How long to wait for PostgreSQL to accept a
            connection before giving up.
        busy_timeout_s: How long a SQLite writer waits for another to finish.

    Raises:
        ConfigError: The URL is not a supported database URL.
        StoreUnavailableError: The database cannot be reached or migrated.
    """

    def __init__(
        self, url: str, *, connect_timeout_s: float = 10.0, busy_timeout_s: float = 30.0
    ) -> None:
        self._url = normalise_database_url(url)
        self._backend = self._url.get_backend_name()
        self._display_url = self._url.render_as_string(hide_password=True)
        self._engine = self._create_engine(connect_timeout_s, busy_timeout_s)
        try:
            self._migrate()
        except BaseException:
            self._engine.dispose()
            raise
        _logger.info("metadata_store_opened", extra={"backend": self._backend})

    # Opening.

    def _create_engine(self, connect_timeout_s: float, busy_timeout_s: float) -> Engine:
        if self._backend == "sqlite":
            database = Path(self._url.database or "").expanduser()
            try:
                database.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreUnavailableError(
                    f"metadata database {self._display_url} is unavailable: cannot "
                    f"create its folder {database.parent}: {err.strerror or err}"
                ) from err
            engine = sa.create_engine(
                self._url,
                hide_parameters=True,
                connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
                pool_size=8,
                max_overflow=16,
                pool_timeout=busy_timeout_s,
            )
            _install_sqlite_hooks(engine, busy_timeout_s)
            return engine
        return sa.create_engine(
            self._url,
            # Parameters may hold user text; keep them out of error messages.
            hide_parameters=True,
            pool_pre_ping=True,  # Survive a database restart between calls.
            connect_args={"connect_timeout": max(1, math.ceil(connect_timeout_s))},
        )

    def _migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS_DIR))
        with self._write() as conn:
            if self._backend == "postgresql":
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:k)"),
                    {"k": _MIGRATION_LOCK_ID},
                )
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # Transactions.

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._translate_errors(), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._translate_errors(), self._engine.connect() as conn:
            yield conn.execution_options(heysh_read_only=True)

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as err:
            reason = (
                str(err.orig).strip().splitlines()[0]
                if err.orig
                else type(err).__name__
            )
            raise StoreUnavailableError(
                f"metadata database {self._display_url} is unavailable: {reason}"
            ) from err

    def _insert(self, table: sa.Table) -> Any:
        dialect_module = sqlite if self._backend == "sqlite" else postgresql
        return dialect_module.insert(table)

    # Domains and memberships.

    def upsert_domain(
        self,
        domain_id: str,
        name: str,
        description: str,
        config_json: str,
        language: str = "en",
    ) -> None:
        """Create a domain or replace its name, description, config and language."""
        _require_id("domain_id", domain_id)
        now = _now()
        stmt = self._insert(t.domains).values(
            domain_id=domain_id,
            name=name,
            description=description,
            config_json=config_json,
            language=language,
            created_at=now,
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["domain_id"],
            set_={
                c: stmt.excluded[c]
                for c in (
                    "name",
                    "description",
                    "config_json",
                    "language",
                    "updated_at",
                )
            },
        )
        with self._write() as conn:
            conn.execute(stmt)
        _logger.info("domain_upserted", extra={"domain_id": domain_id})

    def get_domain(self, domain_id: str) -> dict[str, Any] | None:
        """Return a domain's columns as a dict, or ``None`` if it does not exist."""
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(t.domains).where(t.domains.c.domain_id == domain_id)
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def list_domains(self) -> list[dict[str, Any]]:
        """Return every domain, ordered by id."""
        with self._read() as conn:
            rows = (
                conn.execute(sa.select(t.domains).order_by(t.domains.c.domain_id))
                .mappings()
                .all()
            )
        return [dict(row) for row in rows]

    def set_membership(self, domain_id: str, user_id: str, role: str) -> None:
        """Give ``user_id`` a role in a domain, replacing any earlier role.

        Raises:
            DataError: ``role`` is not admin, controller or contributor.
        """
        _require_id("domain_id", domain_id)
        _require_id("user_id", user_id)
        try:
            role = Role(role).value
        except ValueError:
            raise DataError(
                f"role {role!r} is not one of {[r.value for r in Role]}"
            ) from None
        stmt = self._insert(t.memberships).values(
            domain_id=domain_id, user_id=user_id, role=role, updated_at=_now()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["domain_id", "user_id"],
            set_={"role": stmt.excluded.role, "updated_at": stmt.excluded.updated_at},
        )
        with self._write() as conn:
            conn.execute(stmt)

    def remove_membership(self, domain_id: str, user_id: str) -> None:
        """Remove a user from a domain; removing a non-member does nothing."""
        m = t.memberships
        with self._write() as conn:
            conn.execute(
                sa.delete(m).where(m.c.domain_id == domain_id, m.c.user_id == user_id)
            )

    def get_role(self, domain_id: str, user_id: str) -> str | None:
        """Return the user's role in the domain, or ``None`` if not a member."""
        m = t.memberships
        with self._read() as conn:
            return conn.execute(
                sa.select(m.c.role).where(
                    m.c.domain_id == domain_id, m.c.user_id == user_id
                )
            ).scalar_one_or_none()

    def list_members(self, domain_id: str) -> list[tuple[str, str]]:
        """Return ``(user_id, role)`` for every member, ordered by user id."""
        m = t.memberships
        with self._read() as conn:
            rows = conn.execute(
                sa.select(m.c.user_id, m.c.role)
                .where(m.c.domain_id == domain_id)
                .order_by(m.c.user_id)
            ).all()
        return [(row.user_id, row.role) for row in rows]

    # Documents.

    def upsert_document(self, row: DocumentRow) -> None:
        """Store a document's metadata; a repeat replaces all but ``created_at``."""
        _require_id("domain_id", row.domain_id)
        _require_id("doc_id", row.doc_id)
        if row.size_bytes < 0:
            raise DataError(f"size_bytes ({row.size_bytes}) must not be negative")
        now = _now()
        stmt = self._insert(t.documents).values(
            domain_id=row.domain_id,
            doc_id=row.doc_id,
            uploader=row.uploader,
            filename=row.filename,
            content_sha256=row.content_sha256,
            size_bytes=row.size_bytes,
            status=row.status,
            language=row.language,
            flags=list(row.flags),
            created_at=_aware("created_at", row.created_at) or now,
            updated_at=now,
        )
        replaced = (
            "uploader",
            "filename",
            "content_sha256",
            "size_bytes",
            "status",
            "language",
            "flags",
            "updated_at",
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["domain_id", "doc_id"],
            set_={c: stmt.excluded[c] for c in replaced},
        )
        with self._write() as conn:
            conn.execute(stmt)
        _logger.debug(
            "document_upserted",
            extra={"domain_id": row.domain_id, "doc_id": row.doc_id},
        )

    def get_document(self, domain_id: str, doc_id: str) -> DocumentRow | None:
        """Return a document's metadata, or ``None`` if it was never stored."""
        d = t.documents
        with self._read() as conn:
            r = conn.execute(
                sa.select(d).where(d.c.domain_id == domain_id, d.c.doc_id == doc_id)
            ).first()
        if r is None:
            return None
        return DocumentRow(
            doc_id=r.doc_id,
            domain_id=r.domain_id,
            uploader=r.uploader,
            filename=r.filename,
            content_sha256=r.content_sha256,
            size_bytes=r.size_bytes,
            status=r.status,
            language=r.language,
            flags=tuple(r.flags),
            created_at=r.created_at,
        )

    def set_document_status(self, domain_id: str, doc_id: str, status: str) -> None:
        """Change a stored document's status.

        Raises:
            DataError: No such document was stored.
        """
        d = t.documents
        with self._write() as conn:
            result = conn.execute(
                sa.update(d)
                .where(d.c.domain_id == domain_id, d.c.doc_id == doc_id)
                .values(status=status, updated_at=_now())
            )
        if result.rowcount == 0:
            raise DataError(
                f"cannot set status of document {doc_id!r} in domain {domain_id!r}: "
                "it was never stored; call upsert_document first"
            )

    # Decisions and votes.

    def record_decision(self, row: DecisionRow) -> None:
        """Record a document's decision once; a later call for it changes nothing.

        Raises:
            DataError: The score is not a finite number.
        """
        _require_id("domain_id", row.domain_id)
        _require_id("doc_id", row.doc_id)
        if row.score is not None and not math.isfinite(row.score):
            raise DataError(f"decision score must be finite, got {row.score}")
        _check_usage(row)
        stmt = (
            self._insert(t.decisions)
            .values(
                domain_id=row.domain_id,
                doc_id=row.doc_id,
                outcome=row.outcome,
                decided_by=row.decided_by,
                score=row.score,
                model_name=row.model_name,
                model_version=row.model_version,
                thresholds=dict(row.thresholds),
                reason=row.reason,
                decided_at=_aware("decided_at", row.decided_at) or _now(),
                tokens_in=row.tokens_in,
                tokens_out=row.tokens_out,
                cost_usd=row.cost_usd,
            )
            .on_conflict_do_nothing(index_elements=["domain_id", "doc_id"])
            .returning(t.decisions.c.doc_id)
        )
        with self._write() as conn:
            inserted = conn.execute(stmt).scalar_one_or_none() is not None
        fields = {"domain_id": row.domain_id, "doc_id": row.doc_id}
        if inserted:
            _logger.info(
                "decision_recorded",
                extra={**fields, "outcome": row.outcome, "decided_by": row.decided_by},
            )
        else:
            _logger.info("decision_already_recorded", extra=fields)

    def get_decision(self, domain_id: str, doc_id: str) -> DecisionRow | None:
        """Return the document's decision, or ``None`` while it is undecided."""
        d = t.decisions
        with self._read() as conn:
            r = conn.execute(
                sa.select(d).where(d.c.domain_id == domain_id, d.c.doc_id == doc_id)
            ).first()
        if r is None:
            return None
        return _decision_row(r)

    def record_vote(self, row: VoteRow) -> None:
        """Record a vote; the voter's earlier vote on the document is replaced."""
        _require_id("domain_id", row.domain_id)
        _require_id("doc_id", row.doc_id)
        _require_id("voter", row.voter)
        stmt = self._insert(t.votes).values(
            domain_id=row.domain_id,
            doc_id=row.doc_id,
            voter=row.voter,
            role=row.role,
            approve=row.approve,
            comment=row.comment,
            voted_at=_aware("voted_at", row.voted_at) or _now(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["domain_id", "doc_id", "voter"],
            set_={
                c: stmt.excluded[c] for c in ("role", "approve", "comment", "voted_at")
            },
        )
        with self._write() as conn:
            conn.execute(stmt)

    def list_votes(self, domain_id: str, doc_id: str) -> list[VoteRow]:
        """Return the document's votes, oldest first (ties by voter)."""
        v = t.votes
        with self._read() as conn:
            rows = conn.execute(
                sa.select(v)
                .where(v.c.domain_id == domain_id, v.c.doc_id == doc_id)
                .order_by(v.c.voted_at, v.c.voter)
            ).all()
        return [_vote_row(r) for r in rows]

    # Decision history and blind audits.

    def list_decisions(
        self,
        domain_id: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[DecisionRow]:
        """Return decisions decided in ``[since, until)``, oldest first.

        Args:
            domain_id: Only this domain (every domain when ``None``).
            since: Inclusive lower bound on ``decided_at`` (aware).
            until: Exclusive upper bound on ``decided_at`` (aware).
        """
        d = t.decisions
        query = sa.select(d).order_by(d.c.decided_at, d.c.domain_id, d.c.doc_id)
        query = _in_window(query, d, d.c.decided_at, domain_id, since, until)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_decision_row(r) for r in rows]

    def list_domain_votes(
        self,
        domain_id: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[VoteRow]:
        """Return every vote cast in ``[since, until)``, oldest first."""
        v = t.votes
        query = sa.select(v).order_by(v.c.voted_at, v.c.doc_id, v.c.voter)
        query = _in_window(query, v, v.c.voted_at, domain_id, since, until)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_vote_row(r) for r in rows]

    def record_audit_request(self, row: AuditRow) -> bool:
        """Record a blind audit request once; returns whether this call made it.

        Raises:
            DataError: An id or the controller is empty, or the score is not
                finite.
        """
        _require_id("domain_id", row.domain_id)
        _require_id("doc_id", row.doc_id)
        _require_id("controller", row.controller)
        if row.score is not None and not math.isfinite(row.score):
            raise DataError(f"audit score must be finite, got {row.score}")
        stmt = (
            self._insert(t.audits)
            .values(
                domain_id=row.domain_id,
                doc_id=row.doc_id,
                automatic_outcome=row.automatic_outcome,
                score=row.score,
                model_name=row.model_name,
                model_version=row.model_version,
                thresholds=dict(row.thresholds),
                controller=row.controller,
                requested_at=_aware("requested_at", row.requested_at) or _now(),
            )
            .on_conflict_do_nothing(index_elements=["domain_id", "doc_id"])
            .returning(t.audits.c.doc_id)
        )
        with self._write() as conn:
            inserted = conn.execute(stmt).scalar_one_or_none() is not None
        _logger.info(
            "audit_requested" if inserted else "audit_already_requested",
            extra={"domain_id": row.domain_id, "doc_id": row.doc_id},
        )
        return inserted

    def get_audit(self, domain_id: str, doc_id: str) -> AuditRow | None:
        """Return the document's audit, or ``None`` if it was not sampled."""
        a = t.audits
        with self._read() as conn:
            r = conn.execute(
                sa.select(a).where(a.c.domain_id == domain_id, a.c.doc_id == doc_id)
            ).first()
        return None if r is None else _audit_row(r)

    def list_audits(
        self,
        domain_id: str | None = None,
        *,
        controller: str | None = None,
        labelled: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditRow]:
        """Return audits requested in ``[since, until)``, oldest first.

        Args:
            domain_id: Only this domain (every domain when ``None``).
            controller: Only audits assigned to this user.
            labelled: ``True`` only labelled audits, ``False`` only pending.
            since: Inclusive lower bound on ``requested_at``.
            until: Exclusive upper bound on ``requested_at``.
        """
        a = t.audits
        query = sa.select(a).order_by(a.c.requested_at, a.c.domain_id, a.c.doc_id)
        query = _in_window(query, a, a.c.requested_at, domain_id, since, until)
        if controller is not None:
            query = query.where(a.c.controller == controller)
        if labelled is True:
            query = query.where(a.c.label_outcome.is_not(None))
        elif labelled is False:
            query = query.where(a.c.label_outcome.is_(None))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_audit_row(r) for r in rows]

    def record_audit_label(
        self,
        domain_id: str,
        doc_id: str,
        outcome: str,
        labelled_by: str,
        labelled_at: datetime | None = None,
    ) -> None:
        """Record the audit's label once.

        Raises:
            DataError: ``outcome`` is not approved or rejected, ``labelled_by``
                is empty, the document was not sampled for audit, or its
                audit already has a label.
        """
        if outcome not in ("approved", "rejected"):
            raise DataError(f"audit label {outcome!r} is not 'approved' or 'rejected'")
        _require_id("labelled_by", labelled_by)
        a = t.audits
        with self._write() as conn:
            result = conn.execute(
                sa.update(a)
                .where(
                    a.c.domain_id == domain_id,
                    a.c.doc_id == doc_id,
                    a.c.label_outcome.is_(None),
                )
                .values(
                    label_outcome=outcome,
                    labelled_by=labelled_by,
                    labelled_at=_aware("labelled_at", labelled_at) or _now(),
                )
            )
        if result.rowcount == 1:
            _logger.info(
                "audit_labelled",
                extra={"domain_id": domain_id, "doc_id": doc_id, "by": labelled_by},
            )
            return
        existing = self.get_audit(domain_id, doc_id)
        if existing is None:
            raise DataError(
                f"document {doc_id!r} in domain {domain_id!r} has no audit request; "
                "only documents sampled for audit can be labelled"
            )
        raise DataError(
            f"the audit of document {doc_id!r} in domain {domain_id!r} was already "
            f"labelled {existing.label_outcome} by {existing.labelled_by}"
        )

    # Threshold proposals.

    def add_threshold_proposal(self, row: ThresholdProposalRow) -> bool:
        """Store a pending proposal and supersede the domain's older pending ones.

        Both happen in one transaction: a domain never has two pending
        proposals. The superseded rows get ``decided_by`` = the new proposal's
        ``proposed_by``, its ``proposed_at`` and a note naming it. Adding a
        ``proposal_id`` that exists changes nothing.

        Returns:
            Whether this call stored the proposal.

        Raises:
            DataError: empty ids, or a status other than ``proposed``.
        """
        _require_id("proposal_id", row.proposal_id)
        _require_id("domain_id", row.domain_id)
        _require_id("evidence_run_id", row.evidence_run_id)
        _require_id("proposed_by", row.proposed_by)
        if row.status != "proposed":
            raise DataError(
                f"a new threshold proposal must have status 'proposed', got "
                f"{row.status!r}; decide it afterwards with decide_threshold_proposal"
            )
        p = t.threshold_proposals
        proposed_at = _aware("proposed_at", row.proposed_at) or _now()
        stmt = (
            self._insert(p)
            .values(
                proposal_id=row.proposal_id,
                domain_id=row.domain_id,
                current=dict(row.current),
                proposed=dict(row.proposed),
                evidence=dict(row.evidence),
                evidence_run_id=row.evidence_run_id,
                proposed_by=row.proposed_by,
                proposed_at=proposed_at,
                status="proposed",
                decided_by=None,
                decided_at=None,
                note=row.note,
            )
            .on_conflict_do_nothing(index_elements=["proposal_id"])
            .returning(p.c.proposal_id)
        )
        with self._write() as conn:
            inserted = conn.execute(stmt).scalar_one_or_none() is not None
            superseded: list[str] = []
            if inserted:
                superseded = list(
                    conn.execute(
                        sa.update(p)
                        .where(
                            p.c.domain_id == row.domain_id,
                            p.c.status == "proposed",
                            p.c.proposal_id != row.proposal_id,
                        )
                        .values(
                            status="superseded",
                            decided_by=row.proposed_by,
                            decided_at=proposed_at,
                            note=f"superseded by {row.proposal_id}",
                        )
                        .returning(p.c.proposal_id)
                    ).scalars()
                )
        _logger.info(
            "threshold_proposal_added" if inserted else "threshold_proposal_exists",
            extra={
                "proposal_id": row.proposal_id,
                "domain_id": row.domain_id,
                "superseded": ",".join(sorted(superseded)),
            },
        )
        return inserted

    def get_threshold_proposal(self, proposal_id: str) -> ThresholdProposalRow | None:
        """Return a proposal, or ``None`` if there is none with that id."""
        p = t.threshold_proposals
        with self._read() as conn:
            r = conn.execute(sa.select(p).where(p.c.proposal_id == proposal_id)).first()
        return _proposal_row(r) if r is not None else None

    def list_threshold_proposals(
        self, domain_id: str | None = None, *, status: str | None = None
    ) -> list[ThresholdProposalRow]:
        """Return proposals, oldest first (ties by id).

        Args:
            domain_id: Only this domain's (every domain when ``None``).
            status: Only those with this status (all when ``None``).
        """
        p = t.threshold_proposals
        query = sa.select(p).order_by(p.c.proposed_at, p.c.proposal_id)
        if domain_id is not None:
            query = query.where(p.c.domain_id == domain_id)
        if status is not None:
            query = query.where(p.c.status == status)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_proposal_row(r) for r in rows]

    def decide_threshold_proposal(
        self,
        proposal_id: str,
        status: str,
        decided_by: str,
        *,
        note: str = "",
        config_json: str | None = None,
        decided_at: datetime | None = None,
    ) -> ThresholdProposalRow:
        """Apply or reject a pending proposal, once.

        Args:
            proposal_id: The pending proposal.
            status: ``applied`` or ``rejected``.
            decided_by: Who decided (permission checks are the caller's).
            note: Why, for the record.
            config_json: With ``applied``: the domain's new config, written in
                the same transaction as the status.
            decided_at: When; default now.

        Returns:
            The proposal as now stored.

        Raises:
            DataError: an unknown status, no such proposal, a proposal that is
                no longer pending (naming its status, who and when), or a
                ``config_json`` for a domain that no longer exists.
        """
        _require_id("decided_by", decided_by)
        if status not in ("applied", "rejected"):
            raise DataError(
                f"a threshold proposal is decided as 'applied' or 'rejected', "
                f"got {status!r}"
            )
        if config_json is not None and status != "applied":
            raise DataError("only an applied proposal changes the domain's config")
        p, d = t.threshold_proposals, t.domains
        when = _aware("decided_at", decided_at) or _now()
        with self._write() as conn:
            current = conn.execute(
                sa.select(p).where(p.c.proposal_id == proposal_id)
            ).first()
            if current is None:
                raise DataError(f"there is no threshold proposal {proposal_id!r}")
            changed = conn.execute(
                sa.update(p)
                .where(p.c.proposal_id == proposal_id, p.c.status == "proposed")
                .values(
                    status=status, decided_by=decided_by, decided_at=when, note=note
                )
                .returning(p.c.proposal_id)
            ).scalar_one_or_none()
            if changed is None:
                raise DataError(
                    f"threshold proposal {proposal_id} is {current.status} (by "
                    f"{current.decided_by} at {current.decided_at}), not pending; "
                    "only a pending proposal can be applied or rejected"
                )
            if config_json is not None:
                updated = conn.execute(
                    sa.update(d)
                    .where(d.c.domain_id == current.domain_id)
                    .values(config_json=config_json, updated_at=when)
                    .returning(d.c.domain_id)
                ).scalar_one_or_none()
                if updated is None:
                    raise DataError(
                        f"domain {current.domain_id!r} of threshold proposal "
                        f"{proposal_id} no longer exists"
                    )
            stored = conn.execute(
                sa.select(p).where(p.c.proposal_id == proposal_id)
            ).one()
        _logger.info(
            "threshold_proposal_decided",
            extra={
                "proposal_id": proposal_id,
                "domain_id": stored.domain_id,
                "status": status,
                "decided_by": decided_by,
            },
        )
        return _proposal_row(stored)

    # Round-robin.

    def next_round_robin_index(
        self, domain_id: str, pool_size: int, claim_key: str
    ) -> int:
        """Return the pool index for ``claim_key``, taking the next one if new.

        Distinct keys of a domain get consecutive positions (0, 1, 2, ...) modulo
        ``pool_size``, across threads and processes; the same key always gets
        the index it got first (if the pool has since shrunk, that index modulo
        the new size).

        Raises:
            DataError: ``pool_size`` is below 1 or ``claim_key`` is empty.
        """
        _require_id("domain_id", domain_id)
        _require_id("claim_key", claim_key)
        if pool_size < 1:
            raise DataError(f"pool_size ({pool_size}) must be at least 1")
        # A concurrent transaction may insert the same key between our read and
        # our insert (PostgreSQL only; SQLite writers are serialised). Rolling
        # back returns the position we took, and the next pass reads its claim.
        for _ in range(5):
            try:
                return self._claim(domain_id, pool_size, claim_key)
            except _ClaimRaceError:
                continue
        raise StoreUnavailableError(
            f"round-robin claim {claim_key!r} in domain {domain_id!r} kept racing "
            "with another transaction; retry"
        )

    def _claim(self, domain_id: str, pool_size: int, claim_key: str) -> int:
        c, rr = t.round_robin_claims, t.round_robin
        with self._write() as conn:
            existing = conn.execute(
                sa.select(c.c.pool_index).where(
                    c.c.domain_id == domain_id, c.c.claim_key == claim_key
                )
            ).scalar_one_or_none()
            if existing is not None:
                return int(existing) % pool_size

            bump = self._insert(rr).values(domain_id=domain_id, next_position=1)
            bump = bump.on_conflict_do_update(
                index_elements=["domain_id"],
                set_={"next_position": rr.c.next_position + 1},
            ).returning(rr.c.next_position)
            position = int(conn.execute(bump).scalar_one()) - 1
            index = position % pool_size

            claim = (
                self._insert(c)
                .values(
                    domain_id=domain_id,
                    claim_key=claim_key,
                    position=position,
                    pool_size=pool_size,
                    pool_index=index,
                    claimed_at=_now(),
                )
                .on_conflict_do_nothing(index_elements=["domain_id", "claim_key"])
                # RETURNING, not rowcount: psycopg reports -1 for an INSERT ...
                # ON CONFLICT DO NOTHING, so rowcount cannot tell a lost race.
                .returning(c.c.pool_index)
            )
            if conn.execute(claim).scalar_one_or_none() is None:
                raise _ClaimRaceError
        _logger.debug(
            "round_robin_claimed",
            extra={"domain_id": domain_id, "position": position, "pool_index": index},
        )
        return index

    def close(self) -> None:
        """Close every pooled connection; the store cannot be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> SqlMetadataStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _in_window(
    query: Any,
    table: sa.Table,
    column: Any,
    domain_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Any:
    """Restrict ``query`` to one domain and to ``since <= column < until``."""
    if domain_id is not None:
        query = query.where(table.c.domain_id == domain_id)
    if since is not None:
        query = query.where(column >= _aware("since", since))
    if until is not None:
        query = query.where(column < _aware("until", until))
    return query


def _decision_row(r: Any) -> DecisionRow:
    return DecisionRow(
        doc_id=r.doc_id,
        domain_id=r.domain_id,
        outcome=r.outcome,
        decided_by=r.decided_by,
        score=r.score,
        model_name=r.model_name,
        model_version=r.model_version,
        thresholds=dict(r.thresholds),
        reason=r.reason,
        decided_at=r.decided_at,
        tokens_in=r.tokens_in,
        tokens_out=r.tokens_out,
        cost_usd=r.cost_usd,
    )


# Bounds for one document's scoring: the token columns are 32-bit integers
# (PostgreSQL ``integer``), and a cost above this is a unit error, not a bill.
_MAX_TOKENS = 2**31 - 1
_MAX_COST_USD = 1_000_000.0


def _check_usage(row: DecisionRow) -> None:
    """Refuse token counts and costs no model can have billed for one document."""
    for name in ("tokens_in", "tokens_out"):
        value = getattr(row, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= value <= _MAX_TOKENS
        ):
            raise DataError(
                f"decision {name} must be a whole number from 0 to {_MAX_TOKENS}, "
                f"got {value!r}"
            )
    cost = row.cost_usd
    if (
        isinstance(cost, bool)
        or not isinstance(cost, int | float)
        or not math.isfinite(cost)
        or not 0 <= cost <= _MAX_COST_USD
    ):
        raise DataError(
            f"decision cost_usd must be a finite number of dollars from 0 to "
            f"{_MAX_COST_USD:,.0f}, got {cost!r}"
        )


def _vote_row(r: Any) -> VoteRow:
    return VoteRow(
        doc_id=r.doc_id,
        domain_id=r.domain_id,
        voter=r.voter,
        role=r.role,
        approve=r.approve,
        comment=r.comment,
        voted_at=r.voted_at,
    )


def _audit_row(r: Any) -> AuditRow:
    return AuditRow(
        doc_id=r.doc_id,
        domain_id=r.domain_id,
        automatic_outcome=r.automatic_outcome,
        score=r.score,
        model_name=r.model_name,
        model_version=r.model_version,
        thresholds=dict(r.thresholds),
        controller=r.controller,
        requested_at=r.requested_at,
        label_outcome=r.label_outcome,
        labelled_by=r.labelled_by,
        labelled_at=r.labelled_at,
    )


def _proposal_row(r: Any) -> ThresholdProposalRow:
    """A ``threshold_proposals`` row as the store's dataclass."""
    return ThresholdProposalRow(
        proposal_id=r.proposal_id,
        domain_id=r.domain_id,
        current=dict(r.current),
        proposed=dict(r.proposed),
        evidence=dict(r.evidence),
        evidence_run_id=r.evidence_run_id,
        proposed_by=r.proposed_by,
        proposed_at=r.proposed_at,
        status=r.status,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        note=r.note,
    )


def _aware(name: str, value: datetime | None) -> datetime | None:
    """Return ``value``, refusing a naive datetime (its zone would be a guess)."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise DataError(
            f"{name} {value.isoformat()} has no time zone; pass an aware datetime, "
            "e.g. datetime.now(UTC)"
        )
    return value


def _require_id(name: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise DataError(f"{name} must be a non-empty string, got {value!r}")


def _install_sqlite_hooks(engine: Engine, busy_timeout_s: float) -> None:
    """WAL, busy timeout and ``BEGIN IMMEDIATE`` for SQLite connections.

    WAL is switched on with retries (see :mod:`heysh.sqlite_wal`): the pragma
    ignores the busy timeout, and two processes opening a fresh file together
    would otherwise fail at random.

    pysqlite opens transactions lazily and in DEFERRED mode; a deferred reader
    that later writes fails at once with "database is locked" when another
    connection wrote meanwhile. Taking the write lock at BEGIN makes writers
    wait (up to the busy timeout) instead; reads begin deferred and run in
    parallel under WAL.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # We issue BEGIN ourselves.
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        switch_to_wal(dbapi_connection, busy_timeout_s)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("heysh_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
