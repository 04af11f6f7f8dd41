"""Faster MiniLM embeddings for the AI worker: a drop-in ``SentenceEncoder``.

``FastSentenceEncoder`` keeps ``SentenceEncoder``'s whole ``encode``
contract (windows, pooling, in-memory and disk cache, counters) and swaps the
model underneath for an export built once and cached under
``<heysh home>/cache/encoders`` (see ``heysh.models._exported_encoders``):

==================  =====================================================
backend             what runs
==================  =====================================================
``openvino-int8``   OpenVINO, static int8 calibrated on given texts, rest bf16
``openvino-bf16``   OpenVINO in bfloat16 (float32 on CPUs without bf16)
``onnx-int8``       ONNX Runtime, fused graph, dynamic int8 per channel
``onnx-fp32``       ONNX Runtime, fused graph
``torch``           plain sentence-transformers
``torch-fp16``      sentence-transformers in half precision (CUDA only)
==================  =====================================================

Measured on this project's 2-core AMD EPYC (AVX-512 with VNNI and BF16, no
AMX), 2026-12-04, against plain sentence-transformers on the same BBC
articles (``benchmarks/bench_encoder.py``, results in
``benchmarks/results/encoder.jsonl``): openvino-int8 3.0x the documents per
second (3.2x through the windowed encoder), lowest cosine to fp32 0.9976.
Single-thread CPU time of the alternatives: openvino-bf16 2.3x (cosine
0.99998), onnx-int8 1.6x (0.993), onnx-fp32 1.0x, torch bf16 autocast 1.7x.

Every export is checked against sentence-transformers when built, and one
under ``min_cosine`` (0.99) is refused for the next safer backend with a
WARNING, never used silently.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from heysh.errors import ModelError
from heysh.models._exported_encoders import (
    OnnxSentenceModel,
    OpenVinoSentenceModel,
    cpu_has_bf16,
    export_model,
    max_seq_length,
    runtime_for,
)
from heysh.models.embeddings import SentenceEncoder

_logger = logging.getLogger(__name__)

Backend = Literal[
    "auto",
    "openvino-int8",
    "openvino-bf16",
    "onnx-int8",
    "onnx-fp32",
    "torch",
    "torch-fp16",
]
BACKENDS = (
    "auto",
    "openvino-int8",
    "openvino-bf16",
    "onnx-int8",
    "onnx-fp32",
    "torch",
    "torch-fp16",
)
# Where an export that fails its cosine check falls back to.
_SAFER = {
    "openvino-int8": "openvino-bf16",
    "openvino-bf16": "onnx-fp32",
    "onnx-int8": "onnx-fp32",
}


def default_export_dir() -> Path:
    """``$HEYSH_HOME/cache/encoders`` (``.heysh/cache/encoders`` when unset)."""
    home = Path(os.environ.get("HEYSH_HOME", ".heysh"))
    return home.resolve() / "cache" / "encoders"


def choose_backend(*, has_calibration: bool) -> str:
    """The fastest backend this machine can run.

    CUDA: ``torch-fp16``. Else, with OpenVINO installed: ``openvino-int8``
    when calibration texts are given, ``openvino-bf16`` when the CPU has bf16
    units. Else ``onnx-int8``.
    """
    import torch

    if torch.cuda.is_available():
        return "torch-fp16"
    if importlib.util.find_spec("openvino") is None:
        return "onnx-int8"
    if has_calibration:
        return "openvino-int8"
    return "openvino-bf16" if cpu_has_bf16() else "onnx-int8"


class FastSentenceEncoder(SentenceEncoder):
    """A ``SentenceEncoder`` on a faster backend (see the module docstring).

    Args:
        model_path: sentence-transformers model folder; ``None`` is the
            bundled MiniLM.
        backend: One of ``BACKENDS``; ``auto`` uses ``choose_backend``.
        export_dir: Where exports are cached; ``None`` is
            ``default_export_dir()``.
        calibration_texts: Texts (e.g. documents of the fit split) whose first
            300 windows calibrate ``openvino-int8``.
        threads: Inference threads; ``None`` lets the runtime decide.
        allow_spinning: Let ONNX Runtime's idle threads spin (see
            ``OnnxSentenceModel``).
        min_cosine: Lowest cosine to sentence-transformers an export may have
            on the check texts.
        **kwargs: ``SentenceEncoder`` arguments (``batch_size``, ``cache``,
            ``max_words``, ``overlap_words``, ``memory_items``, ``device``).

    The model id (part of every cache key) names the backend, e.g.
    ``sentence-transformers/all-MiniLM-L6-v2+openvino-int8``, so vectors of
    different backends never mix in one cache.

    Raises:
        ModelError: for an unknown backend.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        backend: Backend = "auto",
        export_dir: Path | None = None,
        calibration_texts: Sequence[str] = (),
        threads: int | None = None,
        allow_spinning: bool = True,
        min_cosine: float = 0.99,
        **kwargs: Any,  # Any: SentenceEncoder's keyword arguments.
    ) -> None:
        if backend not in BACKENDS:
            raise ModelError(
                f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}"
            )
        chosen: str = backend
        if chosen == "auto":
            chosen = choose_backend(has_calibration=bool(calibration_texts))
        if chosen == "torch-fp16":
            kwargs.setdefault("device", "cuda")
        elif chosen != "torch":
            kwargs["device"] = "cpu"
        super().__init__(model_path, **kwargs)
        self.backend = chosen
        self.export_dir = export_dir
        self.calibration_texts = list(calibration_texts)
        self.threads = threads
        self.allow_spinning = allow_spinning
        self.min_cosine = min_cosine
        self._fast_model: Any = None  # Any: an exported model or SentenceTransformer.
        self._fast_lock = threading.Lock()
        self.export_check_: dict[str, Any] = {}

    @property
    def model_id(self) -> str:
        base = super().model_id
        return base if self.backend == "torch" else f"{base}+{self.backend}"

    @property
    def model(self) -> Any:  # Any: duck-types SentenceTransformer.encode.
        """The backend's model, built (and for exports checked) on first use."""
        if self.backend == "torch":
            return super().model
        with self._fast_lock:
            if self._fast_model is None:
                if self.backend == "torch-fp16":
                    self._fast_model = _half_precision_model(
                        self.model_path, self.device
                    )
                else:
                    self._fast_model = self._exported_model()
                self._dimension = int(self._fast_model.get_embedding_dimension())
            return self._fast_model

    def _exported_model(self) -> OnnxSentenceModel | OpenVinoSentenceModel:
        folder = (
            self.export_dir if self.export_dir is not None else default_export_dir()
        )
        while True:
            path, check = export_model(
                self.model_path,
                folder,
                variant=self.backend,
                calibration_texts=self.calibration_texts,
                min_cosine=self.min_cosine,
            )
            if check["min_cosine"] >= self.min_cosine or self.backend not in _SAFER:
                break
            _logger.warning(
                "encoder_export_below_cosine_floor",
                extra={
                    "backend": self.backend,
                    "min_cosine": check["min_cosine"],
                    "floor": self.min_cosine,
                    "fallback": _SAFER[self.backend],
                },
            )
            self.backend = _SAFER[self.backend]
        self.export_check_ = check
        return runtime_for(self.backend)(
            path,
            self.model_path,
            max_seq_length=max_seq_length(self.model_path),
            threads=self.threads,
            allow_spinning=self.allow_spinning,
        )


def _half_precision_model(model_path: Path, device: str) -> Any:
    """A private sentence-transformers model in float16 (not the shared one)."""
    from sentence_transformers import SentenceTransformer

    if not device.startswith("cuda"):
        raise ModelError(
            f"torch-fp16 needs a CUDA device, got {device!r}; use an openvino or "
            "onnx backend on CPUs"
        )
    model = SentenceTransformer(str(model_path), device=device, local_files_only=True)
    return model.half().eval()
