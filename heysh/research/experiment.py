"""Experiment definitions: what data, which models, which targets, as YAML.

An experiment file names everything one evaluation needs, so a run can be
repeated exactly; the file itself is logged with the MLflow run that used it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from heysh.errors import ConfigError

DEFAULT_MODELS = ("lexical", "embedding-similarity", "embedding-classifier")


class ModelSpec(BaseModel):
    """One candidate model: a registered scorer kind and its parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    params: dict[str, Any] = Field(default_factory=dict)


class TargetSpec(BaseModel):
    """Error-rate targets each certified side must hold, and at what confidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    false_approve: float = Field(0.05, gt=0, lt=1)
    false_reject: float = Field(0.05, gt=0, lt=1)
    confidence: float = Field(0.95, gt=0, lt=1)


class SplitSpec(BaseModel):
    """Shares of documents in the fit / calibration / test splits, and the seed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fit: float = Field(0.4, gt=0, lt=1)
    calibration: float = Field(0.3, gt=0, lt=1)
    test: float = Field(0.3, gt=0, lt=1)
    seed: int = 0

    @field_validator("test")
    @classmethod
    def _sums_to_one(cls, test: float, info: Any) -> float:
        total = info.data.get("fit", 0) + info.data.get("calibration", 0) + test
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"split shares fit + calibration + test must sum to 1, got {total:.3f}"
            )
        return test


class ExperimentSpec(BaseModel):
    """Everything one evaluation needs.

    Attributes:
        name: MLflow experiment name.
        data: ``demo``, a collection folder, a labelled file or ``hf:NAME``.
        max_documents: Evaluate on a deterministic slice of at most this many
            documents (``None`` = all).
        max_domains: Keep at most this many domains (most relevant documents
            first; ``None`` = all).
        min_relevant_grade: For graded collections, the lowest relevant grade.
        drop_domains_without_relevant: Leave out (and count) domains with no
            relevant document instead of stopping with an error.
        models: Candidate models.
        grid_step: Threshold grid spacing on the 0-10 scale.
        targets: False-approve and false-reject targets and confidence.
        split: Split shares and seed.
        register_winner: Register the winner and point the ``challenger`` alias at it.
        adversarial_set: JSON Lines file of prompt-injection cases each model's
            attack success rate is measured on; ``None`` uses the set that
            ships with heysh (``heysh.models.judge_attacks``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "heysh-relevance"
    data: str = "demo"
    max_documents: int | None = Field(None, gt=0)
    max_domains: int | None = Field(None, gt=0)
    min_relevant_grade: int = Field(1, ge=1)
    drop_domains_without_relevant: bool = False
    models: tuple[ModelSpec, ...] = tuple(ModelSpec(kind=k) for k in DEFAULT_MODELS)
    grid_step: float = Field(0.1, gt=0, le=1)
    targets: TargetSpec = TargetSpec()
    split: SplitSpec = SplitSpec()
    register_winner: bool = True
    adversarial_set: str | None = None
    seed: int = 0

    @field_validator("models")
    @classmethod
    def _distinct_models(cls, models: tuple[ModelSpec, ...]) -> tuple[ModelSpec, ...]:
        if not models:
            raise ValueError("list at least one model")
        kinds = [m.kind for m in models]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"models lists a kind twice: {kinds}")
        return models


def parse_model_list(text: str) -> tuple[ModelSpec, ...]:
    """Parse ``lexical,embedding-similarity`` into model specs.

    >>> [m.kind for m in parse_model_list("lexical, embedding-similarity")]
    ['lexical', 'embedding-similarity']
    """
    return tuple(ModelSpec(kind=k.strip()) for k in text.split(",") if k.strip())


def load_experiment(path: Path, **overrides: Any) -> ExperimentSpec:
    """Read an experiment YAML file; CLI options in ``overrides`` win.

    Raises:
        ConfigError: when the file is missing, not YAML, or a field is invalid;
            the message names the file and each field.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(
            f"cannot read experiment file {path}: {err.strerror}"
        ) from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"experiment file {path} is not UTF-8 text (byte {err.start}); save it "
            "as UTF-8 YAML"
        ) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"experiment file {path} is not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"experiment file {path} must hold a mapping of settings")
    # A relative data path is relative to the experiment file, so experiment
    # files work from any working directory.
    data = raw.get("data")
    if isinstance(data, str) and _looks_like_relative_path(data):
        raw["data"] = str((path.parent / data).resolve())
    attacks = raw.get("adversarial_set")
    if isinstance(attacks, str) and not Path(attacks).is_absolute():
        raw["adversarial_set"] = str((path.parent / attacks).resolve())
    raw.update({k: v for k, v in overrides.items() if v is not None})
    return build_experiment(raw, origin=str(path))


def build_experiment(raw: dict[str, Any], origin: str = "options") -> ExperimentSpec:
    """Validate a settings mapping into an ExperimentSpec.

    Raises:
        ConfigError: naming every invalid field.
    """
    if isinstance(raw.get("models"), str):
        raw = {**raw, "models": parse_model_list(raw["models"])}
    elif isinstance(raw.get("models"), list):
        raw = {
            **raw,
            "models": [
                m if isinstance(m, dict | ModelSpec) else {"kind": m}
                for m in raw["models"]
            ],
        }
    try:
        return ExperimentSpec.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'experiment'}: {e['msg']}"
            for e in err.errors()
        )
        raise ConfigError(f"invalid experiment ({origin}): {problems}") from None


def _looks_like_relative_path(data: str) -> bool:
    return (
        data != "demo" and not data.startswith("hf:") and not Path(data).is_absolute()
    )
