"""Register models and move aliases in the MLflow model registry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from heysh.errors import RegistryError

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegisteredVersion:
    """A model version in the registry, and where it came from."""

    name: str
    version: str
    run_id: str | None
    source: str
    tags: dict[str, str]

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def register_model(
    model_uri: str, name: str, *, alias: str | None, tags: dict[str, Any]
) -> RegisteredVersion:
    """Register ``model_uri`` as a new version of ``name`` and tag it.

    Args:
        model_uri: The logged model (``models:/m-...`` or ``runs:/...``).
        name: Registered model name, e.g. ``heysh-relevance``.
        alias: Alias to point at the new version (``challenger``), or None.
        tags: Version tags: dataset hash, data source, split, model kind...

    Returns:
        The new version.
    """
    import mlflow
    from mlflow import MlflowClient

    version = mlflow.register_model(
        model_uri, name, tags={k: str(v) for k, v in tags.items()}
    )
    if alias:
        MlflowClient().set_registered_model_alias(name, alias, version.version)
    _logger.info(
        "model_registered",
        extra={"model": name, "version": version.version, "alias": alias or ""},
    )
    return _as_registered(version)


def get_version_by_alias(name: str, alias: str) -> RegisteredVersion | None:
    """Return the version ``alias`` points to, or None if the alias is unset.

    Raises:
        RegistryError: if the registry cannot be read for another reason.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException as err:
        code = getattr(err, "error_code", "")
        if code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return None
        raise RegistryError(
            f"cannot read alias {alias!r} of model {name!r}: {err.message}"
        ) from err
    return _as_registered(version)


def set_alias(name: str, alias: str, version: str) -> None:
    """Point ``alias`` of registered model ``name`` at ``version``."""
    from mlflow import MlflowClient

    MlflowClient().set_registered_model_alias(name, alias, version)
    _logger.info(
        "alias_moved", extra={"model": name, "alias": alias, "version": version}
    )


def _as_registered(version: Any) -> RegisteredVersion:
    # ``version`` is an mlflow ModelVersion; typed loosely to keep mlflow out of
    # this module's import time.
    return RegisteredVersion(
        name=version.name,
        version=str(version.version),
        run_id=version.run_id,
        source=version.source,
        tags=dict(version.tags or {}),
    )
