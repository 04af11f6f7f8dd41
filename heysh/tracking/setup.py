"""Point MLflow at the configured store and find or create an experiment.

By default the store is a SQLite file under the project-local ``.heysh/``
folder; ``MLFLOW_TRACKING_URI`` overrides it (an MLflow server, say).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

_logger = logging.getLogger(__name__)


def configure_tracking(tracking_uri: str, artifact_root: Path | None = None) -> str:
    """Make ``tracking_uri`` the tracking and registry store of this process.

    Args:
        tracking_uri: Any MLflow tracking URI; for ``sqlite:///`` URIs the
            folder is created.
        artifact_root: Where new experiments of a local store keep artifacts.

    Returns:
        The tracking URI in force.
    """
    # Artifact progress bars interleave with heysh's own output; turn them off
    # unless the user asked for them.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow re-reads this whenever it reconfigures its loggers.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    import mlflow

    # MLflow sets its loggers to INFO when imported; keep them at WARNING (and
    # the cloudpickle notice for python_model objects, which we use knowingly,
    # at ERROR) so a run's output is heysh's summary.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)

    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    if artifact_root is not None:
        artifact_root.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    return tracking_uri


def ensure_experiment(name: str, artifact_root: Path | None = None) -> str:
    """Return the id of experiment ``name``, creating it if needed.

    For a local store, a new experiment keeps its artifacts under
    ``artifact_root`` rather than MLflow's default ``./mlruns`` of whatever
    directory the process happens to run in.
    """
    import mlflow

    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    location = (artifact_root / name).as_uri() if artifact_root is not None else None
    experiment_id = mlflow.create_experiment(name, artifact_location=location)
    _logger.info(
        "experiment_created", extra={"experiment": name, "experiment_id": experiment_id}
    )
    return str(experiment_id)
