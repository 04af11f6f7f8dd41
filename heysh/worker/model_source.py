"""The AI worker's relevance model: what the registry alias points to, kept current.

:class:`ModelSource` loads the model behind ``models:/<name>@<alias>``
(``heysh-relevance@production`` by default) as an MLflow pyfunc, checks every
``HEYSH_MODEL_REFRESH_S`` seconds whether the alias moved, and swaps the new
version in atomically: activities that already hold the old model finish with
it, later ones get the new one. No restart is needed.

With nothing registered (a fresh install), it uses the default local model
and logs a WARNING: zero-shot embedding similarity on the bundled MiniLM
(``sentence-transformers/all-MiniLM-L6-v2``), mapped to 0-10 by the fixed
curve :data:`DEFAULT_CALIBRATION`.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from heysh.activities.ai import LoadedModel, TextEncoder
from heysh.activities.metrics import set_model_info
from heysh.errors import ModelError, RegistryError
from heysh.models.base import ScoringPairs

_logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "heysh-default-minilm-zero-shot"
DEFAULT_MODEL_VERSION = "builtin-1"

# Cosine similarity of MiniLM embeddings (description, document) -> score 0-10.
# Measured once: isotonic regression of relevance on the cosine over 6,250
# (domain, document) pairs from ../shared/datasets (250 random non-empty
# documents each of bbc-news, ag-news and reuters21578, paired with every
# domain of their collection; 12% relevant; seed 0), read off at the centres of
# 0.05-wide cosine bins. Scores are linear between knots and clipped outside.
# Above a cosine of 0.45 the bins hold few pairs (25, 8, 5), so the top of the
# curve is rough. It suits English newswire with one-sentence descriptions;
# register a model calibrated on your own data to do better.
DEFAULT_CALIBRATION: dict[str, list[float]] = {
    "knots_x": [
        0.0,
        0.075,
        0.125,
        0.225,
        0.275,
        0.325,
        0.375,
        0.425,
        0.475,
        0.525,
        0.575,
    ],
    "knots_y": [0.2, 0.5, 1.1, 2.0, 3.0, 4.2, 5.0, 6.6, 7.5, 9.2, 10.0],
}

# What a registered pyfunc model is given and returns.
_INPUT_COLUMNS = ("domain_id", "domain_description", "text")
_OUTPUT_COLUMN = "score"

# Registry errors that mean "nothing registered under that name or alias".
_NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


def build_default_model(encoder: TextEncoder) -> LoadedModel:
    """Return the default local model: MiniLM cosine on the fixed curve.

    Args:
        encoder: The worker's shared encoder (normally the bundled MiniLM).
    """
    from heysh.models.calibration import CalibratedScorer, IsotonicCalibrator
    from heysh.models.similarity import EmbeddingSimilarityScorer

    scorer = CalibratedScorer(
        EmbeddingSimilarityScorer(encoder),  # type: ignore[arg-type]  # encode() suffices
        IsotonicCalibrator.from_state(DEFAULT_CALIBRATION),
    )
    return LoadedModel(DEFAULT_MODEL_NAME, DEFAULT_MODEL_VERSION, scorer.score)


class RegistryModelLoader:
    """Resolves aliases and loads registered pyfunc models from MLflow.

    Args:
        tracking_uri: MLflow tracking and registry URI.
    """

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri

    def resolve_alias(self, model_name: str, alias: str) -> str | None:
        """Return the version the alias points to, or ``None`` if none is registered.

        Raises:
            RegistryError: if the registry cannot be reached or read.
        """
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        client = MlflowClient(
            tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri
        )
        try:
            return str(client.get_model_version_by_alias(model_name, alias).version)
        except MlflowException as err:
            if err.error_code in _NOT_FOUND_CODES:
                return None
            raise RegistryError(
                f"cannot read alias {model_name}@{alias} from the registry at "
                f"{_redact(self.tracking_uri)}: {err.message}"
            ) from err

    def load(self, model_uri: str) -> Callable[[ScoringPairs], np.ndarray]:
        """Download and load a registered pyfunc; return its scoring function.

        Args:
            model_uri: ``models:/<name>/<version>`` or ``models:/<name>@<alias>``.

        Raises:
            RegistryError: if the model cannot be downloaded or loaded.
        """
        import mlflow.pyfunc
        from mlflow.artifacts import download_artifacts
        from mlflow.exceptions import MlflowException

        try:
            local = download_artifacts(
                artifact_uri=model_uri,
                dst_path=tempfile.mkdtemp(prefix="heysh-model-"),
                tracking_uri=self.tracking_uri,
                registry_uri=self.tracking_uri,
            )
            model = mlflow.pyfunc.load_model(local)
        except (MlflowException, OSError) as err:
            raise RegistryError(f"cannot load model {model_uri}: {err}") from err
        return _pyfunc_scorer(model)


class ModelSource:
    """The current relevance model of an AI worker, following a registry alias.

    Args:
        encoder: Shared encoder, used by the default model (and for warming up).
        loader: Registry access; ``None`` means no registry (default model only).
        model_name: Registered model name.
        alias: Registry alias to follow.
        default_factory: Builds the fallback model; defaults to
            :func:`build_default_model` on ``encoder``.
    """

    def __init__(
        self,
        *,
        encoder: TextEncoder,
        loader: RegistryModelLoader | None,
        model_name: str,
        alias: str,
        default_factory: Callable[[TextEncoder], LoadedModel] = build_default_model,
    ) -> None:
        self._encoder = encoder
        self._loader = loader
        self._model_name = model_name
        self._alias = alias
        self._default_factory = default_factory
        self._current: LoadedModel | None = None
        self._overrides: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self.swaps = 0

    @classmethod
    def fixed(cls, model: LoadedModel, *, encoder: TextEncoder) -> ModelSource:
        """A source that always serves ``model`` (tests, benchmarks, notebooks)."""
        source = cls(
            encoder=encoder,
            loader=None,
            model_name=model.name,
            alias="",
            default_factory=lambda _encoder: model,
        )
        source._install(model)
        return source

    @property
    def is_loaded(self) -> bool:
        """Whether a model is ready to score."""
        return self._current is not None

    def current(self) -> LoadedModel:
        """Return the model in use.

        Raises:
            ModelError: if :meth:`load` has not completed yet.
        """
        model = self._current
        if model is None:
            raise ModelError("no relevance model loaded yet; the worker is starting")
        return model

    def load(self) -> LoadedModel:
        """Load the aliased model, or the default one, and warm it up.

        Blocking (downloads and loads weights); call it from a thread.
        """
        if self._current is None:
            self.refresh()
        model = self.current()
        started = time.perf_counter()
        model.score(ScoringPairs(["warm-up"], ["warm-up"], ["warm-up"]))
        _logger.info(
            "model_warmed_up",
            extra={
                "model": model.name,
                "version": model.version,
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
        return model

    def refresh(self) -> bool:
        """Swap in the aliased version if the alias moved; return whether it did.

        A registry that cannot be reached keeps the current model (WARNING);
        before any model is loaded it falls back to the default model.
        """
        version: str | None
        if self._loader is None:
            version = None
        else:
            try:
                version = self._loader.resolve_alias(self._model_name, self._alias)
            except RegistryError as err:
                _logger.warning("model_registry_unreachable", extra={"error": str(err)})
                if self._current is not None:
                    return False
                version = None
        if version is None:
            # Nothing registered: the default model, but only when nothing is
            # loaded; a registered model stays in use if its alias disappears.
            if self._current is not None:
                return False
            if self._loader is not None:
                _logger.warning(
                    "no_registered_model_using_default",
                    extra={
                        "model": self._model_name,
                        "alias": self._alias,
                        "default": DEFAULT_MODEL_NAME,
                    },
                )
            self._install(self._default_factory(self._encoder))
            return True
        current = self._current
        if current is not None and (current.name, current.version) == (
            self._model_name,
            version,
        ):
            return False
        loader = self._loader
        if loader is None:  # unreachable: a version comes from the loader
            return False
        scorer = loader.load(f"models:/{self._model_name}/{version}")
        self._install(
            LoadedModel(self._model_name, version, scorer, usage=_usage_reader(scorer))
        )
        return True

    def for_override(self, model_uri: str) -> LoadedModel:
        """Return a domain's override model (``models:/...``), loading it once.

        Raises:
            RegistryError: if no registry is configured or the model cannot load.
        """
        with self._lock:
            cached = self._overrides.get(model_uri)
        if cached is not None:
            return cached
        if self._loader is None:
            raise RegistryError(
                f"domain asks for model {model_uri} but this worker has no registry"
            )
        name, version = _name_and_version(model_uri)
        scorer = self._loader.load(model_uri)
        model = LoadedModel(name, version, scorer, usage=_usage_reader(scorer))
        with self._lock:
            self._overrides[model_uri] = model
        return model

    async def watch(self, interval_s: float, stop: asyncio.Event) -> None:
        """Check the alias every ``interval_s`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.to_thread(self.refresh)
            except (RegistryError, ModelError) as err:
                _logger.warning("model_refresh_failed", extra={"error": str(err)})

    def _install(self, model: LoadedModel) -> None:
        previous = self._current
        self._current = model  # one reference assignment: atomic for readers
        self.swaps += previous is not None
        set_model_info(model.name, model.version)
        _logger.info(
            "model_in_use",
            extra={
                "model": model.name,
                "version": model.version,
                "previous": f"{previous.name}/{previous.version}" if previous else "",
            },
        )


def _pyfunc_scorer(model: Any) -> Callable[[ScoringPairs], np.ndarray]:
    """Wrap a pyfunc predicting DataFrame(domain_id, domain_description, text)."""
    return _PyfuncScorer(model)


class _PyfuncScorer:
    """A loaded pyfunc as a scoring function, with the latest call's LLM usage."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __call__(self, pairs: ScoringPairs) -> np.ndarray:
        import pandas as pd

        frame = pd.DataFrame(
            {
                _INPUT_COLUMNS[0]: list(pairs.domain_ids),
                _INPUT_COLUMNS[1]: list(pairs.descriptions),
                _INPUT_COLUMNS[2]: list(pairs.texts),
            }
        )
        out = self._model.predict(frame)
        if isinstance(out, pd.DataFrame):
            out = out[_OUTPUT_COLUMN]
        return np.asarray(out, dtype=np.float64).reshape(-1)

    def last_usage(self) -> list[Any] | None:
        """Per-pair tokens and cost of the latest call, for an LLM judge."""
        try:
            python_model = self._model.unwrap_python_model()
        except Exception:  # not a Python-function model: nothing to read
            return None
        last_usage = getattr(python_model, "last_usage", None)
        return last_usage() if callable(last_usage) else None


def _usage_reader(scorer: Any) -> Callable[[], list[Any] | None] | None:
    """The scorer's ``last_usage`` method, if it records LLM usage."""
    reader = getattr(scorer, "last_usage", None)
    return reader if callable(reader) else None


def _name_and_version(model_uri: str) -> tuple[str, str]:
    """``models:/name/3`` -> (name, "3"); ``models:/name@alias`` -> (name, "@alias")."""
    path = model_uri.removeprefix("models:/")
    if "@" in path:
        name, alias = path.split("@", 1)
        return name, f"@{alias}"
    name, _, version = path.partition("/")
    return name, version or "latest"


def _redact(uri: str) -> str:
    """Drop credentials from a URI before it reaches a log or message."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
