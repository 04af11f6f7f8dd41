"""Turn an evaluation into ``summary.json``, a printed table, plots and saved scores."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heysh import __version__
from heysh.evaluation.certify import SideCertificate
from heysh.evaluation.thresholds import Targets
from heysh.research.experiment import ExperimentSpec
from heysh.research.scoring import ModelScores
from heysh.research.tuning import DomainTuning, ModelTuning

# Domains listed in the printed table; summary.json always has every domain.
TABLE_DOMAIN_LIMIT = 25
# Landscape plots drawn for the winner (one per domain, most relevant first).
LANDSCAPE_PLOT_LIMIT = 8


def build_summary(
    spec: ExperimentSpec,
    data: Any,
    scores: list[ModelScores],
    tunings: list[ModelTuning],
    winner_index: int,
    targets: Targets,
) -> dict[str, Any]:
    """Build the machine-readable summary of one evaluation.

    The top level has ``dataset``, ``targets``, ``models``, ``winner``,
    ``domains`` (the winner's tuned thresholds per domain) and, once
    registration ran, ``registered``.
    """
    corpus = data.corpus
    winner = tunings[winner_index]
    return {
        "heysh_version": __version__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dataset": _dataset_section(spec, data),
        "targets": {
            "false_approve": targets.false_approve,
            "false_reject": targets.false_reject,
            "confidence": targets.confidence,
            "per_side_confidence": targets.per_side_confidence(len(tunings)),
            "models_compared": len(tunings),
            "method": (
                "Learn-then-Test fixed-sequence testing with exact binomial "
                "(Clopper-Pearson) p-values on the calibration split, one test per "
                "side; the error budget 1 - confidence is divided by the number "
                "of models compared (Bonferroni) because the winner is chosen on "
                "the same split"
            ),
        },
        "models": {
            t.name: _model_section(s, t, corpus)
            for s, t in zip(scores, tunings, strict=True)
        },
        "winner": winner.name,
        "domains": {
            domain_id: _domain_section(
                tuning, winner.name, corpus.domains[corpus.domain_index(domain_id)].name
            )
            for domain_id, tuning in winner.domains.items()
        },
        "grid_step": spec.grid_step,
        "registered": None,
    }


def _dataset_section(spec: ExperimentSpec, data: Any) -> dict[str, Any]:
    corpus = data.corpus
    split_counts = {}
    for name in ("fit", "calibration", "test"):
        pairs = data.splits.of(name)
        split_counts[name] = {
            "documents": int((data.doc_split == name).sum()),
            "pairs": int(pairs.size),
            "relevant_pairs": int(corpus.pair_label[pairs].sum()),
        }
    return {
        "name": corpus.name,
        "source": spec.data,
        "content_hash": data.content_hash,
        "documents": corpus.n_docs,
        "domains": len(corpus.domains),
        "pairs": corpus.n_pairs,
        "relevant_pairs": int(corpus.pair_label.sum()),
        "splits": split_counts,
        "input_report": dict(corpus.input_report),
    }


def _model_section(
    scores: ModelScores, tuning: ModelTuning, corpus: Any
) -> dict[str, Any]:
    automated = sum(1 for d in tuning.domains.values() if d.choice.automation > 0)
    return {
        "name": tuning.name,
        **{k: _number(v) for k, v in tuning.metrics.items()},
        # One "document" here is one (document, domain) pair scored, with the
        # embedding cache warm (benchmarks/bench_scoring.py measures cold).
        "documents_per_second": _number(scores.pairs_per_second),
        "fit_seconds": _number(scores.fit_seconds),
        # Wall time of scoring the test split, per pair; LLM cost from the
        # tokens each judge call reported, at list price (0 for local models).
        "latency_ms_per_document": _number(scores.latency_ms_per_document),
        "cost_per_1000_documents_usd": _number(scores.cost_per_1000_usd),
        "tokens_per_document": _number(scores.tokens_per_document),
        # Share of the adversarial set's injections that raised the score.
        "attack_success_rate": _number(scores.attack_success_rate),
        "attack_cases": scores.attack_cases,
        "certified_automation_calibration": _number(
            tuning.certified_automation_calibration
        ),
        "test_automation_rate": _number(tuning.test_total["automation_rate"]),
        "test_false_approve_rate": _number(tuning.test_total["false_approve_rate"]),
        "test_false_reject_rate": _number(tuning.test_total["false_reject_rate"]),
        "domains_automated": automated,
    }


def _side(cert: SideCertificate) -> dict[str, Any]:
    return {
        "certified": cert.certified,
        "threshold": cert.threshold,
        "upper_bound": _number(cert.upper_bound) if cert.certified else None,
        "empirical_rate": _number(cert.empirical_rate),
        "n": cert.n,
        "errors": cert.k,
        "confidence": cert.confidence,
        "scope": cert.scope,
        "labels_needed": cert.labels_needed,
        "candidate_threshold": cert.candidate_threshold,
        "note": cert.note,
    }


def _domain_section(tuning: DomainTuning, model: str, name: str) -> dict[str, Any]:
    choice, test = tuning.choice, tuning.test
    approve, reject = _side(choice.approve), _side(choice.reject)
    return {
        "name": name,
        "model": model,
        "auto_reject_threshold": choice.reject_threshold,
        "auto_approve_threshold": choice.approve_threshold,
        "relevance_threshold": choice.relevance_threshold,
        # Measured on the test split, which tuning never saw.
        "automation_rate": _number(test.automation),
        "false_approve_rate": _number(test.far),
        "false_reject_rate": _number(test.frr),
        "rejected_relevant_share": _number(test.rejected_relevant_share),
        "human_workload": test.human_workload,
        "test_documents": test.n,
        "false_approve_bound": approve["upper_bound"],
        "false_reject_bound": reject["upper_bound"],
        "confidence": choice.approve.confidence,
        "n_approve_side": choice.approve.n,
        "n_reject_side": choice.reject.n,
        "scope": choice.scope,
        "labels_needed": {
            "approve": choice.approve.labels_needed,
            "reject": choice.reject.labels_needed,
        },
        "calibration_automation_rate": _number(choice.automation),
        "roc_auc": _number(tuning.roc_auc_test),
        "sides": {"approve": approve, "reject": reject},
        "empirical_tuning": {
            "auto_reject_threshold": tuning.empirical.reject_threshold,
            "auto_approve_threshold": tuning.empirical.approve_threshold,
            "claimed": _rates(tuning.empirical.calibration),
            "test": _rates(tuning.empirical_test),
        },
    }


def _rates(point: Any) -> dict[str, float | None]:
    return {
        "automation_rate": _number(point.automation),
        "false_approve_rate": _number(point.far),
        "false_reject_rate": _number(point.frr),
    }


def _number(value: float) -> float | None:
    """JSON-safe float: NaN (undefined metric) becomes null."""
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def render_table(summary: dict[str, Any]) -> str:
    """Render the comparison and the winner's thresholds as plain text."""
    dataset = summary["dataset"]
    targets = summary["targets"]
    lines = [
        f"dataset {dataset['name']}: {dataset['documents']} documents, "
        f"{dataset['domains']} domains, {dataset['pairs']} pairs "
        f"(hash {dataset['content_hash'][:12]})",
        "input: "
        + ", ".join(f"{k} {v}" for k, v in dataset["input_report"].items() if v),
        "",
        f"{'model':24} {'ROC-AUC':>8} {'PR-AUC':>7} {'ECE':>6} {'Brier':>6} "
        f"{'docs/s':>8} {'ms/doc':>7} {'$/1k':>7} {'ASR':>6} "
        f"{'cert.auto':>9} {'test auto':>9} {'FAR':>6} {'FRR':>6}",
    ]
    for name, model in summary["models"].items():
        marker = " *" if name == summary["winner"] else ""
        lines.append(
            f"{(name + marker):24} {_fmt(model['roc_auc'], '.3f'):>8} "
            f"{_fmt(model['pr_auc'], '.3f'):>7} "
            f"{_fmt(model['calibration_error'], '.3f'):>6} "
            f"{_fmt(model['brier'], '.3f'):>6} "
            f"{_fmt(model['documents_per_second'], '.0f'):>8} "
            f"{_fmt(model.get('latency_ms_per_document'), '.1f'):>7} "
            f"{_fmt(model.get('cost_per_1000_documents_usd'), '.3f'):>7} "
            f"{_fmt(model.get('attack_success_rate'), '.0%'):>6} "
            f"{_fmt(model['certified_automation_calibration'], '.1%'):>9} "
            f"{_fmt(model['test_automation_rate'], '.1%'):>9} "
            f"{_fmt(model['test_false_approve_rate'], '.1%'):>6} "
            f"{_fmt(model['test_false_reject_rate'], '.1%'):>6}"
        )
    lines += [
        "* winner (most certified automation on calibration data); ms/doc and "
        "$/1k: test-split scoring per document-domain pair; ASR: share of "
        "prompt injections that raised the score",
        "",
        f"thresholds for {summary['winner']} at targets FAR <= "
        f"{targets['false_approve']:.0%}, FRR <= {targets['false_reject']:.0%}, "
        f"confidence {targets['confidence']:.0%} per side "
        f"({targets['per_side_confidence']:.4f} after splitting over "
        f"{targets['models_compared']} models); rates measured on the test split:",
        f"{'domain':32} {'reject<=':>8} {'approve>=':>9} {'auto':>6} {'FAR':>6} "
        f"{'(bound)':>7} {'FRR':>6} {'(bound)':>7} {'scope':>10} {'labels needed':>14}",
    ]
    domains = list(summary["domains"].items())
    for domain_id, domain in domains[:TABLE_DOMAIN_LIMIT]:
        needed = domain["labels_needed"]
        lines.append(
            f"{domain_id[:32]:32} "
            f"{_fmt(domain['auto_reject_threshold'], '.1f', 'off'):>8} "
            f"{_fmt(domain['auto_approve_threshold'], '.1f', 'off'):>9} "
            f"{_fmt(domain['automation_rate'], '.0%'):>6} "
            f"{_fmt(domain['false_approve_rate'], '.1%'):>6} "
            f"{_fmt(domain['false_approve_bound'], '.1%', '-'):>7} "
            f"{_fmt(domain['false_reject_rate'], '.1%'):>6} "
            f"{_fmt(domain['false_reject_bound'], '.1%', '-'):>7} "
            f"{_short_scope(domain['scope']):>10} "
            f"{_needed(needed):>14}"
        )
    if len(domains) > TABLE_DOMAIN_LIMIT:
        lines.append(
            f"... {len(domains) - TABLE_DOMAIN_LIMIT} more domains in summary.json"
        )
    registered = summary.get("registered")
    if registered:
        lines += [
            "",
            f"registered {registered['model']} version {registered['version']} "
            f"as {registered['alias']!r}; promote with `heysh promote`",
        ]
    return "\n".join(lines)


def _fmt(value: float | None, spec: str, missing: str = "n/a") -> str:
    return missing if value is None else format(value, spec)


def _short_scope(scope: str) -> str:
    return {"per-domain": "domain", "pooled": "pooled"}.get(scope, "mixed")


def _needed(needed: dict[str, int | None]) -> str:
    parts = [
        f"{side[0]}:{'-' if n is None else n}" for side, n in needed.items() if n != 0
    ]
    return " ".join(parts) or "0"


@dataclass
class SavedScores:
    """Scores of every model on the calibration and test splits, reloaded."""

    models: list[str]
    domain_ids: list[str]
    calibration_labels: np.ndarray
    calibration_domains: np.ndarray
    test_labels: np.ndarray
    test_domains: np.ndarray
    calibration: dict[str, np.ndarray]
    test: dict[str, np.ndarray]

    def domain_arrays(
        self, model: str, domain_id: str, split: str = "calibration"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and labels of one domain's pairs in ``split``."""
        index = self.domain_ids.index(domain_id)
        domains = (
            self.calibration_domains if split == "calibration" else self.test_domains
        )
        labels = self.calibration_labels if split == "calibration" else self.test_labels
        scores = (self.calibration if split == "calibration" else self.test)[model]
        mask = domains == index
        return scores[mask], labels[mask]


def write_outputs(
    summary: dict[str, Any],
    table: str,
    output_dir: Path,
    data: Any,
    scores: list[ModelScores],
    tunings: list[ModelTuning],
    winner_index: int,
) -> None:
    """Write summary.json, table.txt, domain_configs.json, scores.npz and plots/."""
    from heysh.evaluation.plots import (
        plot_automation_landscape,
        plot_precision_recall,
        plot_reliability_diagram,
    )
    from heysh.evaluation.sweep import sweep_threshold_pairs, threshold_grid

    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (output_dir / "table.txt").write_text(table + "\n")
    (output_dir / "domain_configs.json").write_text(
        json.dumps(tunings[winner_index].domain_configs(), indent=2) + "\n"
    )
    (output_dir / "thresholds_by_model.json").write_text(
        json.dumps({t.name: t.domain_configs() for t in tunings}, indent=2) + "\n"
    )

    corpus, splits = data.corpus, data.splits
    arrays: dict[str, Any] = {
        "models": np.array([s.name for s in scores]),
        "domain_ids": np.array([d.domain_id for d in corpus.domains]),
        "calibration_labels": corpus.pair_label[splits.calibration],
        "calibration_domains": corpus.pair_domain[splits.calibration],
        "test_labels": corpus.pair_label[splits.test],
        "test_domains": corpus.pair_domain[splits.test],
    }
    for model_scores in scores:
        arrays[f"calibration__{model_scores.name}"] = model_scores.calibration
        arrays[f"test__{model_scores.name}"] = model_scores.test
    np.savez_compressed(output_dir / "scores.npz", **arrays)

    plots = output_dir / "plots"
    plots.mkdir(exist_ok=True)
    test_labels = corpus.pair_label[splits.test]
    by_model = {s.name: s.test for s in scores}
    plot_precision_recall(test_labels, by_model).savefig(plots / "precision_recall.png")
    plot_reliability_diagram(test_labels, by_model).savefig(plots / "reliability.png")

    winner = tunings[winner_index]
    grid = threshold_grid(summary_grid_step(summary))
    saved = load_saved_scores(output_dir)
    ranked = sorted(
        winner.domains, key=lambda d: -summary["domains"][d]["n_reject_side"]
    )
    for domain_id in ranked[:LANDSCAPE_PLOT_LIMIT]:
        domain_scores, domain_labels = saved.domain_arrays(winner.name, domain_id)
        sweep = sweep_threshold_pairs(domain_scores, domain_labels, grid)
        figure = plot_automation_landscape(sweep, winner.domains[domain_id].choice)
        figure.suptitle(f"{domain_id} ({winner.name}, calibration split)")
        figure.savefig(plots / f"landscape-{_file_safe(domain_id)}.png")


def summary_grid_step(summary: dict[str, Any]) -> float:
    return float(summary.get("grid_step", 0.1))


def load_saved_scores(output_dir: Path) -> SavedScores:
    """Reload the scores an evaluation wrote to ``output_dir/scores.npz``."""
    with np.load(output_dir / "scores.npz", allow_pickle=False) as stored:
        models = [str(m) for m in stored["models"]]
        return SavedScores(
            models=models,
            domain_ids=[str(d) for d in stored["domain_ids"]],
            calibration_labels=stored["calibration_labels"],
            calibration_domains=stored["calibration_domains"],
            test_labels=stored["test_labels"],
            test_domains=stored["test_domains"],
            calibration={m: stored[f"calibration__{m}"] for m in models},
            test={m: stored[f"test__{m}"] for m in models},
        )


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
