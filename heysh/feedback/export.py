"""Export the human decision history as a labelled dataset the evaluation reads.

Public signatures (final; the nightly pipeline calls them)::

    decision_history_dataset(
        metadata: MetadataStore,
        blobs: BlobStore,
        *,
        domain_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        include_automatic: bool = False,
    ) -> datasets.Dataset

    export_decision_history(
        metadata: MetadataStore,
        blobs: BlobStore,
        out: Path,
        *,
        domain_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        include_automatic: bool = False,
    ) -> ExportSummary

``export_decision_history`` writes a ``.jsonl`` or ``.parquet`` pairs file
that ``heysh.data.loading.load_labelled_corpus`` (and so ``heysh evaluate
--data PATH``) loads as it is. With ``stores = open_stores(settings)``, pass
``stores.metadata`` and ``stores.blobs``.

Which decisions are labels: only human judgements. A row's ``source`` is

- ``audit``: a controller's blind label of a sampled automatic decision;
- ``controller``: the decision of a controller (or admin) on a gray-zone
  document;
- ``vote``: the majority of members' votes on a document that no controller
  has decided yet (ties give no row).

Automatic decisions (``thresholds``, ``ai-controller``) are *not* labels: they
repeat the model's own score, so training or tuning on them would confirm the
model whatever it does. ``include_automatic=True`` adds them with ``source``
``ai`` for analysis only; never tune thresholds on such a file. Refused inputs
are never exported. One row per (document, domain), in the order
audit > controller > vote; the time window ``[since, until)`` applies to when
the label was given (``labelled_at``, ``decided_at`` or the last vote).
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heysh.activities.contracts import text_blob_key
from heysh.errors import DataError
from heysh.stores.base import BlobStore, DecisionRow, MetadataStore, VoteRow

if TYPE_CHECKING:
    import datasets

_logger = logging.getLogger(__name__)

__all__ = [
    "AUTOMATIC_DECIDERS",
    "EXPORT_COLUMNS",
    "ExportSummary",
    "decision_history_dataset",
    "export_decision_history",
    "human_label_records",
]

# decided_by values of automatic decisions and refusals (see workflows.review).
AUTOMATIC_DECIDERS = frozenset({"thresholds", "ai-controller"})
_NOT_DECISIONS = frozenset({"input-check"})

# Columns of the exported file: the pairs schema the evaluation reads, then
# provenance.
EXPORT_COLUMNS = (
    "id",
    "domain",
    "text",
    "label",
    "domain_name",
    "domain_description",
    "source",
    "score",
    "model_name",
    "model_version",
    "decided_by",
    "decided_at",
)
EXPORT_SUFFIXES = (".jsonl", ".parquet")


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote.

    Attributes:
        path: The written file.
        rows: Labelled (document, domain) rows written.
        by_source: Rows per ``source``.
        by_domain: Rows per domain id.
        skipped_without_text: Labelled documents left out because their text
            is no longer in the blob store.
    """

    path: Path
    rows: int
    by_source: dict[str, int] = field(default_factory=dict)
    by_domain: dict[str, int] = field(default_factory=dict)
    skipped_without_text: int = 0


def decision_history_dataset(
    metadata: MetadataStore,
    blobs: BlobStore,
    *,
    domain_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_automatic: bool = False,
) -> datasets.Dataset:
    """Return the labelled decision history as a ``datasets.Dataset``.

    Args:
        metadata: The metadata store (decisions, votes, audits, domains).
        blobs: The blob store holding each document's normalised text.
        domain_id: Only this domain (every domain when ``None``).
        since: Labels given at or after this aware time.
        until: Labels given before this aware time.
        include_automatic: Also export automatic decisions as ``source``
            ``ai`` (not labels; see the module docstring).

    Returns:
        One row per labelled (document, domain) with :data:`EXPORT_COLUMNS`;
        ``label`` is 1 for approved (relevant), 0 for rejected.
    """
    records, _ = _records_with_text(
        metadata, blobs, domain_id, since, until, include_automatic
    )
    return _to_dataset(records)


def export_decision_history(
    metadata: MetadataStore,
    blobs: BlobStore,
    out: Path,
    *,
    domain_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_automatic: bool = False,
) -> ExportSummary:
    """Write the labelled decision history to a JSONL or Parquet pairs file.

    Args:
        metadata: The metadata store.
        blobs: The blob store.
        out: Target file; its suffix (``.jsonl`` or ``.parquet``) picks the
            format. Parent folders are created.
        domain_id: Only this domain.
        since: Labels given at or after this aware time.
        until: Labels given before this aware time.
        include_automatic: See :func:`decision_history_dataset`.

    Returns:
        What was written. A file with no rows is still written (the
        evaluation refuses it with a clear message).

    Raises:
        DataError: ``out`` has another suffix.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise DataError(
            f"cannot export to {out}: use a {' or '.join(EXPORT_SUFFIXES)} file"
        )
    records, skipped = _records_with_text(
        metadata, blobs, domain_id, since, until, include_automatic
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".jsonl":
        with open(out, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        _to_dataset(records).to_parquet(str(out))
    summary = ExportSummary(
        path=out,
        rows=len(records),
        by_source=dict(Counter(str(r["source"]) for r in records)),
        by_domain=dict(Counter(str(r["domain"]) for r in records)),
        skipped_without_text=skipped,
    )
    _logger.info(
        "decision_history_exported",
        extra={
            "path": str(out),
            "rows": summary.rows,
            "skipped_without_text": skipped,
            "domain_id": domain_id or "",
        },
    )
    return summary


def human_label_records(
    metadata: MetadataStore,
    *,
    domain_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_automatic: bool = False,
) -> list[dict[str, Any]]:
    """Return the labelled rows without their text (for reports).

    Same rows and columns as :func:`decision_history_dataset` except ``text``,
    ``domain_name`` and ``domain_description``, plus ``thresholds`` (the
    thresholds in force when the scored decision was made).
    """
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for record in _audit_records(metadata, domain_id, since, until):
        chosen[(record["domain"], record["id"])] = record
    decisions = metadata.list_decisions(domain_id, since=since, until=until)
    for record in _decision_records(decisions, include_automatic):
        chosen.setdefault((record["domain"], record["id"]), record)
    for record in _vote_records(metadata, domain_id, since, until):
        key = (record["domain"], record["id"])
        if key not in chosen and metadata.get_decision(*key) is None:
            chosen[key] = record
    return sorted(
        chosen.values(), key=lambda r: (r["decided_at"], r["domain"], r["id"])
    )


def _records_with_text(
    metadata: MetadataStore,
    blobs: BlobStore,
    domain_id: str | None,
    since: datetime | None,
    until: datetime | None,
    include_automatic: bool,
) -> tuple[list[dict[str, Any]], int]:
    labelled = human_label_records(
        metadata,
        domain_id=domain_id,
        since=since,
        until=until,
        include_automatic=include_automatic,
    )
    domains: dict[str, dict[str, Any]] = {}
    records, skipped = [], 0
    for row in labelled:
        key = text_blob_key(row["id"])
        if not blobs.exists(key):
            skipped += 1
            _logger.warning(
                "export_text_missing", extra={"doc_id": row["id"], "key": key}
            )
            continue
        domain = row["domain"]
        if domain not in domains:
            domains[domain] = metadata.get_domain(domain) or {}
        records.append(
            {
                "id": row["id"],
                "domain": domain,
                "text": blobs.get(key).decode("utf-8"),
                "label": row["label"],
                "domain_name": str(domains[domain].get("name") or domain),
                "domain_description": str(domains[domain].get("description") or ""),
                **{c: row[c] for c in EXPORT_COLUMNS[6:]},
            }
        )
    return records, skipped


def _audit_records(
    metadata: MetadataStore,
    domain_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Iterable[dict[str, Any]]:
    for audit in metadata.list_audits(domain_id, labelled=True):
        at = audit.labelled_at
        if at is None or not _within(at, since, until):
            continue
        yield _record(
            audit.domain_id,
            audit.doc_id,
            label=audit.label_outcome == "approved",
            source="audit",
            score=audit.score,
            model_name=audit.model_name,
            model_version=audit.model_version,
            decided_by=audit.labelled_by or "",
            decided_at=at,
            thresholds=audit.thresholds,
        )


def _decision_records(
    decisions: Iterable[DecisionRow], include_automatic: bool
) -> Iterable[dict[str, Any]]:
    for decision in decisions:
        if decision.decided_by in _NOT_DECISIONS or decision.outcome not in (
            "approved",
            "rejected",
        ):
            continue
        automatic = decision.decided_by in AUTOMATIC_DECIDERS
        if automatic and not include_automatic:
            continue
        yield _record(
            decision.domain_id,
            decision.doc_id,
            label=decision.outcome == "approved",
            source="ai" if automatic else "controller",
            score=decision.score,
            model_name=decision.model_name,
            model_version=decision.model_version,
            decided_by=decision.decided_by,
            decided_at=decision.decided_at,
            thresholds=decision.thresholds,
        )


def _vote_records(
    metadata: MetadataStore,
    domain_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Iterable[dict[str, Any]]:
    by_doc: dict[tuple[str, str], list[VoteRow]] = defaultdict(list)
    for vote in metadata.list_domain_votes(domain_id, since=since, until=until):
        by_doc[(vote.domain_id, vote.doc_id)].append(vote)
    for (domain, doc_id), votes in by_doc.items():
        approve = sum(1 for v in votes if v.approve)
        if 2 * approve == len(votes):
            continue
        decided_at = max((v.voted_at for v in votes if v.voted_at), default=None)
        yield _record(
            domain,
            doc_id,
            label=2 * approve > len(votes),
            source="vote",
            score=None,
            model_name="",
            model_version="",
            decided_by=",".join(sorted(v.voter for v in votes)),
            decided_at=decided_at,
            thresholds={},
        )


def _record(
    domain: str,
    doc_id: str,
    *,
    label: bool,
    source: str,
    score: float | None,
    model_name: str,
    model_version: str,
    decided_by: str,
    decided_at: datetime | None,
    thresholds: Any,
) -> dict[str, Any]:
    return {
        "id": doc_id,
        "domain": domain,
        "label": int(label),
        "source": source,
        "score": None if score is None else float(score),
        "model_name": model_name,
        "model_version": model_version,
        "decided_by": decided_by,
        "decided_at": decided_at.isoformat() if decided_at else "",
        "thresholds": dict(thresholds),
    }


def _within(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def _to_dataset(records: list[dict[str, Any]]) -> datasets.Dataset:
    # Imported here: datasets takes seconds to import.
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "domain": datasets.Value("string"),
            "text": datasets.Value("string"),
            "label": datasets.Value("int64"),
            "domain_name": datasets.Value("string"),
            "domain_description": datasets.Value("string"),
            "source": datasets.Value("string"),
            "score": datasets.Value("float64"),
            "model_name": datasets.Value("string"),
            "model_version": datasets.Value("string"),
            "decided_by": datasets.Value("string"),
            "decided_at": datasets.Value("string"),
        }
    )
    columns = {name: [r[name] for r in records] for name in EXPORT_COLUMNS}
    return datasets.Dataset.from_dict(columns, features=features)
