"""Turn raw relevance scores into calibrated 0-10 scores.

A calibrated score of 8 means that about 80% of documents scored 8 are
relevant, whatever the model; that is what lets one set of domain thresholds
work across models. :class:`IsotonicCalibrator` learns the map from raw scores
to that scale; :class:`CalibratedScorer` fits a scorer and its calibrator so
the calibrator never learns from in-sample (overconfident) raw scores.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from heysh.constants import SCORE_MAX
from heysh.errors import ModelError
from heysh.models.base import RelevanceScorer, ScoringPairs

_logger = logging.getLogger(__name__)


class IsotonicCalibrator:
    """A non-decreasing, piecewise-linear map from raw scores to 0-10.

    Fitted with isotonic regression (pool adjacent violators, scikit-learn's
    ``IsotonicRegression(increasing=True, out_of_bounds="clip")``) of the 0/1
    labels on the raw scores, then scaled by 10. Between the fitted knots the
    map is linear; outside them it is clipped to the end values. Applying it
    needs only the knots (``np.interp``), not scikit-learn.

    Degenerate fit data is handled, not refused:

    * constant raw scores give one knot: every score maps to 10 times the share
      of relevant labels;
    * a single class (all relevant or none) maps every score to 10 or 0 and
      logs a WARNING ``calibration_single_class``, since such a map cannot
      separate anything and thresholds tuned on it are meaningless.

    Attributes:
        knots_x_: Raw-score knots, shape ``(k,)``, non-decreasing.
        knots_y_: Calibrated scores at the knots, shape ``(k,)``, in [0, 10].
    """

    def __init__(self) -> None:
        self.knots_x_: np.ndarray | None = None
        self.knots_y_: np.ndarray | None = None

    @property
    def is_fitted(self) -> bool:
        """Whether ``fit`` or ``from_state`` has set the knots."""
        return self.knots_x_ is not None

    def fit(self, raw_scores: np.ndarray, labels: np.ndarray) -> IsotonicCalibrator:
        """Learn the map from raw scores and 0/1 labels.

        Args:
            raw_scores: Shape ``(n,)``, finite, higher more relevant.
            labels: Shape ``(n,)``, 1 relevant and 0 not.

        Returns:
            This calibrator, fitted.

        Raises:
            ModelError: on empty, mismatched, non-finite or non-binary input.
        """
        from sklearn.isotonic import IsotonicRegression

        x = _finite_scores(raw_scores, "raw_scores")
        y = check_binary_labels(labels, len(x))
        if len(x) == 0:
            raise ModelError("cannot calibrate on no scores; pass labelled pairs")
        if y.min() == y.max():
            _logger.warning(
                "calibration_single_class",
                extra={"n": len(y), "label": int(y[0])},
            )
        regression = IsotonicRegression(
            y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip"
        )
        regression.fit(x, y.astype(np.float64))
        self.knots_x_ = np.asarray(regression.X_thresholds_, dtype=np.float64)
        self.knots_y_ = np.clip(
            np.asarray(regression.y_thresholds_, dtype=np.float64) * SCORE_MAX,
            0.0,
            SCORE_MAX,
        )
        _logger.debug(
            "calibrator_fitted", extra={"n": len(x), "knots": len(self.knots_x_)}
        )
        return self

    def predict(self, raw_scores: np.ndarray) -> np.ndarray:
        """Map raw scores to calibrated scores.

        Args:
            raw_scores: Shape ``(n,)``, finite.

        Returns:
            Shape ``(n,)``, float64 in [0, 10], non-decreasing in the raw score.

        Raises:
            ModelError: if not fitted or a score is not finite.
        """
        if self.knots_x_ is None or self.knots_y_ is None:
            raise ModelError("IsotonicCalibrator is not fitted; call fit() first")
        x = _finite_scores(raw_scores, "raw_scores")
        calibrated: np.ndarray = np.interp(x, self.knots_x_, self.knots_y_)
        return calibrated

    def to_state(self) -> dict[str, np.ndarray]:
        """Return the knots as plain arrays, for saving."""
        if self.knots_x_ is None or self.knots_y_ is None:
            raise ModelError("IsotonicCalibrator is not fitted; nothing to save")
        return {"knots_x": self.knots_x_.copy(), "knots_y": self.knots_y_.copy()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> IsotonicCalibrator:
        """Rebuild a calibrator from :meth:`to_state` output.

        Raises:
            ModelError: if the knots are missing, of unequal length, or decreasing.
        """
        try:
            knots_x = np.asarray(state["knots_x"], dtype=np.float64)
            knots_y = np.asarray(state["knots_y"], dtype=np.float64)
        except KeyError as err:
            raise ModelError(
                f"calibrator state lacks {err}; expected keys knots_x and knots_y"
            ) from None
        if (
            knots_x.ndim != 1
            or knots_x.shape != knots_y.shape
            or len(knots_x) == 0
            or np.any(np.diff(knots_x) < 0)
            or np.any(np.diff(knots_y) < 0)
        ):
            raise ModelError(
                "calibrator state is invalid: knots must be equally long, "
                f"non-empty and non-decreasing (got {knots_x.shape} x-knots and "
                f"{knots_y.shape} y-knots)"
            )
        calibrator = cls()
        calibrator.knots_x_, calibrator.knots_y_ = knots_x, knots_y
        return calibrator


class CalibratedScorer:
    """A relevance scorer plus the calibrator that puts its scores on 0-10.

    ``fit`` depends on whether the scorer learns from labels
    (``scorer.is_supervised``; a scorer that does not say is treated as
    supervised, the safe choice):

    * supervised: the fit split is cut into ``cv_folds`` folds grouped by
      document text (all pairs of a document stay in one fold) and stratified
      by label; the scorer is fitted on all folds but one and scores the one
      left out. These out-of-fold raw scores train the calibrator. The scorer
      is then refitted on the whole fit split. This needs the scorer's ``fit``
      to replace any earlier fit.
    * zero-shot: the scorer is fitted once (``fit`` may still learn unlabelled
      things such as a vocabulary) and the calibrator learns from its raw scores
      on the fit split directly.

    Args:
        scorer: Any :class:`~heysh.models.base.RelevanceScorer`.
        calibrator: The map to fit; None means a new :class:`IsotonicCalibrator`.
        cv_folds: Folds for cross-fitting supervised scorers (at least 2; fewer
            are used when there are fewer documents or labels of a class).
        seed: Seed of the fold assignment.

    Attributes:
        fit_report_: After ``fit``: pairs, positives, documents, folds used and
            whether the calibrator saw out-of-fold scores.
    """

    def __init__(
        self,
        scorer: RelevanceScorer,
        calibrator: IsotonicCalibrator | None = None,
        *,
        cv_folds: int = 5,
        seed: int = 0,
    ) -> None:
        if cv_folds < 2:
            raise ModelError(f"cv_folds must be at least 2, got {cv_folds}")
        self.scorer = scorer
        self.calibrator = calibrator if calibrator is not None else IsotonicCalibrator()
        self.cv_folds = cv_folds
        self.seed = seed
        self.fit_report_: dict[str, Any] = {}

    @property
    def name(self) -> str:
        """The wrapped scorer's name."""
        return self.scorer.name

    @property
    def is_supervised(self) -> bool:
        """Whether the wrapped scorer learns from labels (cross-fitted if so)."""
        return bool(getattr(self.scorer, "is_supervised", True))

    @property
    def is_fitted(self) -> bool:
        """Whether the calibrator has been fitted (or restored)."""
        return self.calibrator.is_fitted

    def fit(self, pairs: ScoringPairs, labels: np.ndarray) -> CalibratedScorer:
        """Fit the scorer and calibrate it on the fit split.

        Args:
            pairs: The fit split's pairs.
            labels: Shape ``(len(pairs),)``, 1 relevant and 0 not.

        Returns:
            This scorer, fitted.

        Raises:
            ModelError: if labels are not binary or too few to cross-fit.
        """
        y = check_binary_labels(labels, len(pairs))
        if self.is_supervised:
            raw, folds = self._out_of_fold_scores(pairs, y)
            self.scorer.fit(pairs, y)
        else:
            self.scorer.fit(pairs, y)
            raw, folds = _as_raw(self.scorer.raw_scores(pairs), len(pairs)), 0
        self.calibrator.fit(raw, y)
        self.fit_report_ = {
            "n_pairs": len(pairs),
            "n_positive": int(y.sum()),
            "n_documents": len(set(pairs.texts)),
            "cv_folds": folds,
            "out_of_fold": self.is_supervised,
        }
        _logger.info(
            "scorer_calibrated", extra={"scorer": self.name, **self.fit_report_}
        )
        return self

    def raw_scores(self, pairs: ScoringPairs) -> np.ndarray:
        """The wrapped scorer's raw scores, shape ``(len(pairs),)``."""
        return _as_raw(self.scorer.raw_scores(pairs), len(pairs))

    def score(self, pairs: ScoringPairs) -> np.ndarray:
        """Calibrated scores: shape ``(len(pairs),)``, float64 in [0, 10].

        Raises:
            ModelError: if the scorer has not been fitted or restored.
        """
        if not self.is_fitted:
            raise ModelError(
                f"scorer {self.name!r} is not calibrated; call fit() on labelled "
                "pairs or load a saved scorer"
            )
        return self.calibrator.predict(self.raw_scores(pairs))

    def _out_of_fold_scores(
        self, pairs: ScoringPairs, labels: np.ndarray
    ) -> tuple[np.ndarray, int]:
        """Raw score of every pair from a scorer fitted without its document."""
        from sklearn.model_selection import StratifiedGroupKFold

        groups = _document_groups(pairs.texts)
        n_groups = int(groups.max()) + 1 if len(groups) else 0
        n_positive = int(labels.sum())
        n_negative = len(labels) - n_positive
        folds = min(self.cv_folds, n_groups, n_positive, n_negative)
        if folds < 2:
            raise ModelError(
                f"cannot cross-fit {self.name!r}: need at least 2 documents and 2 "
                f"pairs of each label, got {n_groups} documents, {n_positive} "
                f"relevant and {n_negative} not relevant pairs"
            )
        splitter = StratifiedGroupKFold(
            n_splits=folds, shuffle=True, random_state=self.seed
        )
        raw = np.full(len(pairs), np.nan)
        for fold, (train, held_out) in enumerate(
            splitter.split(np.zeros(len(labels)), labels, groups)
        ):
            try:
                self.scorer.fit(_subset(pairs, train), labels[train])
            except ModelError as err:
                raise ModelError(
                    f"fitting {self.name!r} on cross-fitting fold {fold + 1} of "
                    f"{folds} failed: {err}"
                ) from err
            raw[held_out] = _as_raw(
                self.scorer.raw_scores(_subset(pairs, held_out)), len(held_out)
            )
        return raw, folds


def check_binary_labels(labels: np.ndarray, n: int) -> np.ndarray:
    """Return ``labels`` as an int8 array of 0/1, or raise naming the problem.

    Raises:
        ModelError: if the length is not ``n`` or a value is not 0 or 1.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n:
        raise ModelError(f"expected {n} labels in a 1-D array, got shape {y.shape}")
    if y.size and not np.isin(y, (0, 1)).all():
        bad = sorted({str(v) for v in y[~np.isin(y, (0, 1))][:5]})
        raise ModelError(f"labels must be 0 or 1, found {', '.join(bad)}")
    return y.astype(np.int8)


def _finite_scores(scores: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1:
        raise ModelError(f"{what} must be 1-D, got shape {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ModelError(
            f"{what} holds {int(bad.sum())} non-finite values (first at index "
            f"{int(np.argmax(bad))}); the scorer must return finite scores"
        )
    return x


def _as_raw(scores: np.ndarray, n: int) -> np.ndarray:
    raw = _finite_scores(scores, "raw scores")
    if len(raw) != n:
        raise ModelError(f"scorer returned {len(raw)} raw scores for {n} pairs")
    return raw


def _document_groups(texts: Any) -> np.ndarray:
    """Group id per pair: pairs with the same document text share an id."""
    ids: dict[str, int] = {}
    return np.fromiter(
        (ids.setdefault(text, len(ids)) for text in texts), dtype=np.int64
    )


def _subset(pairs: ScoringPairs, index: np.ndarray) -> ScoringPairs:
    return ScoringPairs(
        domain_ids=[pairs.domain_ids[i] for i in index],
        descriptions=[pairs.descriptions[i] for i in index],
        texts=[pairs.texts[i] for i in index],
    )
