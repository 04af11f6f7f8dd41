"""The one typed settings object, read from ``HEYSH_*`` variables and ``.env``.

Loaded in entry points (CLI, worker, notebook setup cell) and passed down;
library functions take explicit arguments instead of reading settings.
Defaults suit the embedded local setup.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from heysh.constants import (
    PRODUCTION_ALIAS,
    QUEUE_BY_WORKER_TYPE,
    REGISTERED_MODEL_NAME,
)
from heysh.errors import ConfigError


class Settings(BaseSettings):
    """Every setting heysh reads from the environment.

    Paths default to a project-local ``.heysh/`` folder in the working
    directory, so a fresh clone needs no configuration.
    """

    model_config = SettingsConfigDict(
        env_prefix="HEYSH_", env_file=".env", extra="ignore", frozen=True
    )

    home: Path = Path(".heysh")
    # Caches (embeddings, exported models); default <home>/cache. Sharing one
    # across projects or test runs saves recomputing embeddings.
    cache_root: Path | None = None

    # Tracking and registry.
    mlflow_tracking_uri: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "MLFLOW_TRACKING_URI", "HEYSH_MLFLOW_TRACKING_URI"
        ),
    )
    registered_model_name: str = REGISTERED_MODEL_NAME
    model_alias: str = PRODUCTION_ALIAS

    # Temporal.
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_cert_path: Path | None = None
    temporal_tls_key_path: Path | None = None
    temporal_api_key: SecretStr | None = None

    # Workers.
    worker_types: str = Field(
        "ai-processing,storage,general",
        validation_alias=AliasChoices("WORKER_TYPES", "HEYSH_WORKER_TYPES"),
    )
    health_host: str = "0.0.0.0"
    health_port: int = 8080
    # Concurrent activity slots per worker type (HEYSH_AI_MAX_CONCURRENT_ACTIVITIES
    # and so on); the AI worker's slots feed the micro-batcher, so more slots
    # mean fuller model batches.
    ai_max_concurrent_activities: int = Field(64, gt=0)
    storage_max_concurrent_activities: int = Field(32, gt=0)
    general_max_concurrent_activities: int = Field(32, gt=0)
    max_concurrent_workflow_tasks: int = Field(100, gt=1)
    # Seconds in-flight activities get to finish after SIGTERM.
    worker_shutdown_grace_s: float = Field(30.0, ge=0)
    # Port of the Temporal SDK's internal Prometheus exporter on 127.0.0.1,
    # merged into /metrics; 0 picks a free port.
    temporal_metrics_port: int = Field(0, ge=0)
    # Appended to every task queue name, to run isolated stacks on one server.
    task_queue_suffix: str = ""
    # Seconds between checks of whether the registry alias moved.
    model_refresh_s: float = Field(60.0, gt=0)
    # Model calls: requests arriving within this many milliseconds are scored
    # in one batch of at most this many documents.
    model_batch_wait_ms: float = Field(5.0, ge=0)
    model_batch_max_size: int = Field(64, gt=0)

    # Stores, chosen by URL scheme; empty means the embedded default under home.
    metadata_url: str | None = None
    vector_url: str | None = None
    graph_url: str | None = None
    archive_url: str | None = None
    blob_url: str | None = None

    # Documents.
    max_document_bytes: int = Field(50 * 1024 * 1024, gt=0)

    # LLM providers; keys only ever come from the environment.
    anthropic_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("ANTHROPIC_API_KEY", "HEYSH_ANTHROPIC_API_KEY"),
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "HEYSH_OPENAI_API_KEY")
    )

    @field_validator("worker_types")
    @classmethod
    def _known_worker_types(cls, value: str) -> str:
        types = [t.strip() for t in value.split(",") if t.strip()]
        unknown = [t for t in types if t not in QUEUE_BY_WORKER_TYPE]
        if not types or unknown:
            raise ValueError(
                f"WORKER_TYPES={value!r} names unknown types {unknown}; use a "
                f"comma-separated subset of {sorted(QUEUE_BY_WORKER_TYPE)}"
            )
        return ",".join(types)

    @property
    def worker_type_list(self) -> list[str]:
        return self.worker_types.split(",")

    @property
    def tracking_uri(self) -> str:
        """MLFLOW_TRACKING_URI if set, else a SQLite store under ``home``."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / 'mlflow' / 'mlflow.db').resolve()}"

    @property
    def artifact_root(self) -> Path:
        """Where a local tracking store keeps run artifacts."""
        return (self.home / "mlflow" / "artifacts").resolve()

    @property
    def cache_dir(self) -> Path:
        return (self.cache_root or self.home / "cache").resolve()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with one readable error.

    Raises:
        ConfigError: naming each invalid variable and what it should be.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic-settings kwargs
    except ValidationError as err:
        problems = "; ".join(
            f"HEYSH_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in err.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
