"""Agreement per domain: each model versus the controllers, and controllers pairwise.

- **Model versus humans**: for every human label (audit, controller
  decision, vote majority; see :mod:`heysh.feedback.export`) with a score,
  the model's decision is ``score >= relevance_threshold`` (the threshold in
  force when it scored). One comparison per model name and version, so each
  judge that scored documents of the domain gets its own.
- **Controllers versus each other**: on documents where several people gave
  an opinion (votes of controllers and admins, plus the deciding
  controller's decision), every pair of raters is compared on the documents
  both judged.

Each comparison reports Cohen's kappa (``None`` when undefined: a single
class on both sides), the 2x2 confusion matrix (rows: first rater rejected,
approved; columns: second rater) and the list of disagreements.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from heysh.domain import Role
from heysh.feedback.export import AUTOMATIC_DECIDERS, human_label_records
from heysh.stores.base import MetadataStore

_logger = logging.getLogger(__name__)

__all__ = [
    "Agreement",
    "AgreementReport",
    "Disagreement",
    "agreement_report",
    "compare_raters",
]


@dataclass(frozen=True)
class Disagreement:
    """A document two raters labelled differently (1 approve, 0 reject)."""

    doc_id: str
    first_label: int
    second_label: int
    score: float | None = None


@dataclass(frozen=True)
class Agreement:
    """How two raters agree on the documents both labelled."""

    first: str
    second: str
    n: int
    kappa: float | None
    observed_agreement: float | None
    confusion: list[list[int]]
    disagreements: list[Disagreement] = field(default_factory=list)


@dataclass(frozen=True)
class AgreementReport:
    """A domain's agreement: models versus humans, controllers pairwise."""

    domain_id: str
    model_vs_humans: list[Agreement]
    between_controllers: list[Agreement]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


def compare_raters(
    first: Mapping[str, int],
    second: Mapping[str, int],
    *,
    names: tuple[str, str],
    scores: Mapping[str, float | None] | None = None,
) -> Agreement:
    """Compare two raters' 0/1 labels on the documents both labelled.

    Args:
        first: Document id to label of the first rater.
        second: Document id to label of the second rater.
        names: The raters' names.
        scores: Optional document scores, copied into the disagreements.

    Returns:
        The agreement; kappa is ``None`` when undefined.

    >>> a = compare_raters({"x": 1, "y": 0}, {"x": 1, "y": 1}, names=("m", "c"))
    >>> a.confusion, a.kappa
    ([[0, 1], [0, 1]], 0.0)
    """
    from sklearn.metrics import cohen_kappa_score

    common = sorted(set(first) & set(second))
    confusion = [[0, 0], [0, 0]]
    disagreements = []
    for doc_id in common:
        a, b = int(first[doc_id]), int(second[doc_id])
        confusion[a][b] += 1
        if a != b:
            disagreements.append(Disagreement(doc_id, a, b, (scores or {}).get(doc_id)))
    kappa: float | None = None
    values = {first[d] for d in common} | {second[d] for d in common}
    # Both raters using one and the same class: chance agreement is 1 and
    # kappa is 0/0.
    if len(values) > 1:
        value = float(
            cohen_kappa_score(
                [first[d] for d in common], [second[d] for d in common], labels=[0, 1]
            )
        )
        kappa = value if math.isfinite(value) else None
    return Agreement(
        first=names[0],
        second=names[1],
        n=len(common),
        kappa=kappa,
        observed_agreement=(len(common) - len(disagreements)) / len(common)
        if common
        else None,
        confusion=confusion,
        disagreements=disagreements,
    )


def agreement_report(
    metadata: MetadataStore,
    domain_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AgreementReport:
    """Compute a domain's agreement report over labels given in ``[since, until)``."""
    records = human_label_records(
        metadata, domain_id=domain_id, since=since, until=until
    )
    humans = {r["id"]: int(r["label"]) for r in records}
    by_model: dict[str, dict[str, int]] = defaultdict(dict)
    scores: dict[str, float | None] = {}
    for record in records:
        threshold = record["thresholds"].get("relevance_threshold")
        if record["score"] is None or threshold is None:
            continue
        name = f"{record['model_name']} {record['model_version']}".strip()
        by_model[name][record["id"]] = int(record["score"] >= float(threshold))
        scores[record["id"]] = record["score"]
    model_vs_humans = [
        compare_raters(decisions, humans, names=(name, "controllers"), scores=scores)
        for name, decisions in sorted(by_model.items())
    ]
    report = AgreementReport(
        domain_id=domain_id,
        model_vs_humans=model_vs_humans,
        between_controllers=_between_controllers(metadata, domain_id, since, until),
    )
    _logger.info(
        "agreement_report",
        extra={
            "domain_id": domain_id,
            "labels": len(humans),
            "models": len(model_vs_humans),
            "controller_pairs": len(report.between_controllers),
        },
    )
    return report


def _between_controllers(
    metadata: MetadataStore,
    domain_id: str,
    since: datetime | None,
    until: datetime | None,
) -> list[Agreement]:
    """Pairwise agreement of controllers and admins on the documents both judged."""
    raters: dict[str, dict[str, int]] = defaultdict(dict)
    strong = {Role.CONTROLLER.value, Role.ADMIN.value}
    for vote in metadata.list_domain_votes(domain_id, since=since, until=until):
        if vote.role in strong:
            raters[vote.voter][vote.doc_id] = int(vote.approve)
    for decision in metadata.list_decisions(domain_id, since=since, until=until):
        if decision.decided_by in AUTOMATIC_DECIDERS or decision.outcome not in (
            "approved",
            "rejected",
        ):
            continue
        if decision.decided_by == "input-check":
            continue
        raters[decision.decided_by].setdefault(
            decision.doc_id, int(decision.outcome == "approved")
        )
    pairs = []
    for first, second in itertools.combinations(sorted(raters), 2):
        if set(raters[first]) & set(raters[second]):
            pairs.append(
                compare_raters(raters[first], raters[second], names=(first, second))
            )
    return pairs
