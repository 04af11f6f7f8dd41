"""MiniLM exported for fast CPU inference: building, checking and running exports.

Private to ``heysh.models.fast_encoder``. Four exports, all built from one
ONNX graph of encoder + mean pooling + L2 normalisation (exported with eager
attention, so both runtimes recognise the attention pattern and fuse it):

* ``onnx-fp32``: ONNX Runtime's BERT fusions (attention, layer norm, GELU).
* ``onnx-int8``: the fused graph with dynamic int8 weights, per channel.
* ``openvino-bf16``: the graph in OpenVINO, run in bfloat16 where the CPU has
  bf16 units (AVX-512 BF16 or AMX), else float32.
* ``openvino-int8``: static int8 by NNCF post-training quantisation on
  calibration texts; what is not quantised runs in bfloat16.

In both int8 variants the feed-forward down-projections (``layer.N/output/
dense``) are left unquantised: their input comes straight from GELU and
carries the outliers that make BERT's activations hard to quantise
(Bondarenko et al., "Understanding and Overcoming the Challenges of Efficient
Transformer Quantization", EMNLP 2021). Measured 2026-12-04 on this project's
CPU: per-tensor int8 of everything kept 0.92-0.95 cosine to fp32; quantising
all but those six products kept 0.993 (ONNX Runtime, dynamic, per channel)
and 0.998 (OpenVINO, static) on short and long real texts.

Each export is checked once, when built: probe texts (and calibration texts)
are embedded by sentence-transformers and by the export, and the lowest cosine
is stored next to the export; the caller refuses an export under its floor.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heysh.documents import split_into_windows
from heysh.errors import ModelError

_logger = logging.getLogger(__name__)

VARIANTS = ("onnx-int8", "onnx-fp32", "openvino-int8", "openvino-bf16")
_EXPORT_FORMAT = 3
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_CALIBRATION_WINDOWS = 300

# Probe texts for the export check: short and long, English and Swedish.
PROBES = (
    "Oil prices rose after producers agreed to cut output.",
    "The striker scored twice as the home side won the cup final.",
    "Regeringen presenterade i dag en ny budget med satsningar på vården.",
    "Swifts arrive in early May and spend almost their whole lives flying. " * 12,
    "Quarterly profits jumped 76% to $1.13bn, helped by one-off gains.",
    "Forskare har hittat ett nytt sätt att lagra energi i salt.",
)


class ExportedSentenceModel:
    """The slice of ``SentenceTransformer``'s API heysh uses, over an export.

    Texts are sorted by length so each batch pads little, as
    sentence-transformers does; output rows are in input order.
    """

    def __init__(self, tokenizer_path: Path, *, max_seq_length: int) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(
            tokenizer_path, local_files_only=True
        )
        self.max_seq_length = max_seq_length
        self.dimension = 0

    def get_embedding_dimension(self) -> int:
        """Length of an embedding (384 for MiniLM)."""
        return self.dimension

    def encode(
        self,
        sentences: Sequence[str],
        *,
        batch_size: int = 64,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = True,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """Unit-norm embeddings, shape ``(len(sentences), dim)``, float32.

        The keyword arguments mirror ``SentenceTransformer.encode``; the graph
        always normalises.
        """
        out = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            encoded = self.tokenizer(
                [sentences[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=self.max_seq_length,
                return_tensors="np",
            )
            out[batch] = self._run(
                {name: encoded[name].astype(np.int64) for name in _INPUTS}
            )
        return out

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError


class OnnxSentenceModel(ExportedSentenceModel):
    """An ONNX export run by ONNX Runtime on the CPU.

    Args:
        path: The ``.onnx`` file.
        tokenizer_path: Folder of the Hugging Face tokenizer.
        max_seq_length: Word pieces per text.
        threads: Intra-op threads; ``None`` lets ONNX Runtime decide.
        allow_spinning: Let idle threads spin: faster on a dedicated machine,
            much slower on an oversubscribed one.
    """

    def __init__(
        self,
        path: Path,
        tokenizer_path: Path,
        *,
        max_seq_length: int = 256,
        threads: int | None = None,
        allow_spinning: bool = True,
    ) -> None:
        import onnxruntime as ort

        super().__init__(tokenizer_path, max_seq_length=max_seq_length)
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if allow_spinning else "0"
        )
        self.session = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self.session.run(None, feeds)[0])


class OpenVinoSentenceModel(ExportedSentenceModel):
    """An export run by OpenVINO on the CPU, in bf16 where the CPU has bf16 units.

    Args:
        path: An ``.xml`` IR or ``.onnx`` file.
        tokenizer_path: Folder of the Hugging Face tokenizer.
        max_seq_length: Word pieces per text.
        threads: Inference threads; ``None`` lets OpenVINO decide.
        allow_spinning: Unused by OpenVINO (its threads do not spin long);
            accepted so backends share one signature.
    """

    def __init__(
        self,
        path: Path,
        tokenizer_path: Path,
        *,
        max_seq_length: int = 256,
        threads: int | None = None,
        allow_spinning: bool = True,
    ) -> None:
        import openvino as ov

        super().__init__(tokenizer_path, max_seq_length=max_seq_length)
        core = ov.Core()
        self.precision = "bf16" if cpu_has_bf16(core) else "f32"
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": self.precision,
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads is not None:
            config["INFERENCE_NUM_THREADS"] = threads
        compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        # One request: SentenceEncoder serialises encode() calls with a lock.
        self._request = compiled.create_infer_request()
        self.dimension = int(compiled.outputs[0].get_partial_shape()[-1].get_length())

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        result = self._request.infer(feeds)
        return np.asarray(next(iter(result.values())))


def cpu_has_bf16(core: Any = None) -> bool:  # Any: an openvino.Core.
    """Whether OpenVINO reports bf16 execution units on this CPU."""
    import openvino as ov

    core = core or ov.Core()
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def runtime_for(variant: str) -> type[OnnxSentenceModel] | type[OpenVinoSentenceModel]:
    """The runtime class that runs ``variant``."""
    return (
        OpenVinoSentenceModel if variant.startswith("openvino") else OnnxSentenceModel
    )


def export_model(
    model_path: Path,
    folder: Path,
    *,
    variant: str,
    calibration_texts: Sequence[str] = (),
    min_cosine: float = 0.99,
) -> tuple[Path, dict[str, Any]]:
    """Build (once) and check an export; return its path and check result.

    Files are named by a hash of the model's weights and config, the library
    versions and, for ``openvino-int8``, the calibration texts; they are
    written atomically, so concurrent processes can share the folder.

    Args:
        model_path: sentence-transformers model folder.
        folder: Cache folder (created).
        variant: One of ``VARIANTS``.
        calibration_texts: Texts whose windows calibrate ``openvino-int8``
            (at least 50 windows); ignored by the other variants.
        min_cosine: The floor recorded with the check (the caller enforces it).

    Returns:
        The export's path and ``{"variant", "min_cosine", "median_cosine",
        "texts", "floor"}``.

    Raises:
        ModelError: on an unknown variant, too few calibration windows, or a
            failed export.
    """
    if variant not in VARIANTS:
        raise ModelError(
            f"unknown export {variant!r}; use one of {', '.join(VARIANTS)}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"minilm-{_fingerprint(model_path)}"
    windows: list[str] = []
    if variant == "openvino-int8":
        windows = calibration_windows(calibration_texts)
        stem += "-" + hashlib.sha256("\n\x00".join(windows).encode()).hexdigest()[:8]
    suffix = ".xml" if variant.startswith("openvino") else ".onnx"
    target = folder / f"{stem}-{variant}{suffix}"
    check_file = folder / f"{stem}-{variant}.check.json"
    if target.exists() and check_file.exists():
        return target, json.loads(check_file.read_text())

    started = time.perf_counter()
    raw = folder / f"minilm-{_fingerprint(model_path)}-raw.onnx"
    if not raw.exists():
        _export_raw(model_path, raw)
    if variant == "onnx-fp32":
        _fuse(model_path, raw, target)
    elif variant == "onnx-int8":
        fused = folder / f"minilm-{_fingerprint(model_path)}-onnx-fp32.onnx"
        if not fused.exists():
            _fuse(model_path, raw, fused)
        _quantise_dynamic(fused, target)
    else:
        _openvino_export(raw, target, model_path, windows)
    check = _check(
        target, model_path, variant=variant, floor=min_cosine, extra_texts=windows[:64]
    )
    _atomic_write(check_file, json.dumps(check).encode())
    _logger.info(
        "encoder_export_built",
        extra={
            "path": str(target),
            **check,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    return target, check


def calibration_windows(texts: Sequence[str]) -> list[str]:
    """Up to 300 windows of the texts, in order, for int8 calibration.

    Raises:
        ModelError: if the texts give fewer than 50 non-empty windows.
    """
    windows: list[str] = []
    for text in texts:
        windows += [w for w in split_into_windows(text) if w]
        if len(windows) >= _CALIBRATION_WINDOWS:
            break
    if len(windows) < 50:
        raise ModelError(
            f"openvino-int8 needs calibration texts giving at least 50 windows, got "
            f"{len(windows)}; pass calibration_texts (e.g. documents of the fit "
            "split) or use openvino-bf16"
        )
    return windows[:_CALIBRATION_WINDOWS]


def max_seq_length(model_path: Path) -> int:
    """The model's input limit in word pieces (256 for MiniLM)."""
    config = Path(model_path) / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def _fingerprint(model_path: Path) -> str:
    import onnxruntime
    import torch

    digest = hashlib.sha256(
        f"{_EXPORT_FORMAT}|{torch.__version__}|{onnxruntime.__version__}".encode()
    )
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        file = Path(model_path) / name
        if file.exists():
            with file.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()[:16]


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = _temporary(path)
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _export_raw(model_path: Path, target: Path) -> None:
    """torch.onnx.export of MiniLM with mean pooling and normalisation."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    encoder = AutoModel.from_pretrained(
        model_path, local_files_only=True, attn_implementation="eager"
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)

    class Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            hidden = self.inner(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    sample = tokenizer(list(PROBES[:2]), padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "sequence"} for name in _INPUTS}
    temporary = _temporary(target)
    try:
        # The tracer warns about branches (causal masks, negative indices) that
        # an encoder-only BERT never takes; _check verifies the result instead.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(encoder).eval(),
                tuple(sample[n] for n in _INPUTS),
                str(temporary),
                dynamo=False,
                input_names=list(_INPUTS),
                output_names=["embedding"],
                dynamic_axes={**axes, "embedding": {0: "batch"}},
                opset_version=17,
            )
    except Exception as err:  # the exporter's errors have no common base class
        temporary.unlink(missing_ok=True)
        raise ModelError(f"exporting MiniLM to ONNX failed: {err}") from err
    os.replace(temporary, target)


def _fuse(model_path: Path, source: Path, target: Path) -> None:
    """ONNX Runtime's BERT fusions (attention, layer norm, GELU)."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((Path(model_path) / "config.json").read_text())
    optimised = optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
    )
    temporary = _temporary(target)
    optimised.save_model_to_file(str(temporary))
    os.replace(temporary, target)


def _ffn_down_projections(names: Sequence[str]) -> list[str]:
    """The feed-forward down-projection products, kept unquantised (module doc)."""
    return [n for n in names if "/output/dense/" in n and "attention" not in n]


def _quantise_dynamic(source: Path, target: Path) -> None:
    """ONNX Runtime dynamic int8 quantisation of weights, per output channel."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    keep = _ffn_down_projections([n.name for n in graph.node if n.op_type == "MatMul"])
    temporary = _temporary(target)
    try:
        quantize_dynamic(
            str(source),
            str(temporary),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=keep,
            # The fused graph has ops shape inference cannot type; they are float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    except Exception as err:  # the quantiser raises bare exceptions
        temporary.unlink(missing_ok=True)
        raise ModelError(f"int8 quantisation of {source} failed: {err}") from err
    os.replace(temporary, target)


def _openvino_export(
    raw: Path, target: Path, model_path: Path, windows: list[str]
) -> None:
    """OpenVINO IR of the raw graph; static int8 by NNCF when given windows."""
    import openvino as ov

    model = ov.Core().read_model(str(raw))
    if windows:
        model = _nncf_int8(model, model_path, windows)
    temporary = _temporary(target)
    ov.save_model(model, str(temporary), compress_to_fp16=False)
    os.replace(temporary.with_suffix(".bin"), target.with_suffix(".bin"))
    os.replace(temporary, target)


def _nncf_int8(model: Any, model_path: Path, windows: list[str]) -> Any:
    """Post-training static int8 (Any: OpenVINO models in and out)."""
    try:
        import nncf
    except ImportError as err:
        raise ModelError(
            "openvino-int8 needs the nncf package (the models extra); install it "
            "or use openvino-bf16"
        ) from err
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
    samples = []
    for window in windows:
        encoded = tokenizer(
            [window],
            truncation=True,
            max_length=max_seq_length(model_path),
            return_tensors="np",
        )
        samples.append({name: encoded[name].astype(np.int64) for name in _INPUTS})
    names = [
        op.get_friendly_name()
        for op in model.get_ops()
        if op.get_type_name() == "MatMul"
    ]
    return nncf.quantize(
        model,
        nncf.Dataset(samples),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(samples),
        ignored_scope=nncf.IgnoredScope(names=_ffn_down_projections(names)),
    )


def _check(
    path: Path,
    model_path: Path,
    *,
    variant: str,
    floor: float,
    extra_texts: Sequence[str] = (),
) -> dict[str, Any]:
    """Cosine of the export's embeddings to sentence-transformers' on probe texts."""
    from sentence_transformers import SentenceTransformer

    texts = list(PROBES) + list(extra_texts)
    reference = SentenceTransformer(
        str(model_path), device="cpu", local_files_only=True
    )
    expected = reference.encode(
        texts, normalize_embeddings=True, show_progress_bar=False
    )
    model = runtime_for(variant)(
        path, model_path, max_seq_length=int(reference.max_seq_length or 256)
    )
    cosines = (expected * model.encode(texts)).sum(axis=1)
    return {
        "variant": variant,
        "min_cosine": round(float(cosines.min()), 5),
        "median_cosine": round(float(np.median(cosines)), 5),
        "texts": len(texts),
        "floor": floor,
    }
