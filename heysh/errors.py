"""The exception hierarchy every heysh error is raised from."""


class HeyshError(Exception):
    """Base class of every error heysh raises on purpose."""


class ConfigError(HeyshError):
    """A setting, domain config or experiment file is invalid."""


class DataError(HeyshError):
    """Labelled data is missing, unreadable or inconsistent."""


class DocumentError(HeyshError):
    """A document cannot be accepted as text (binary, oversized, ...)."""


class ModelError(HeyshError):
    """A relevance model cannot be built, fitted, loaded or run."""


class TargetsUnreachableError(HeyshError):
    """The requested error-rate targets cannot be met at all."""


class RegistryError(HeyshError):
    """The MLflow model registry is missing a model, version or alias."""


class PermissionDeniedError(HeyshError):
    """An actor tried something their role does not allow."""


class StoreUnavailableError(HeyshError):
    """A store (vector index, graph, metadata, archive) cannot be reached."""


class PipelineError(HeyshError):
    """A papermill pipeline step failed."""


class PipelineCancelledError(PipelineError):
    """A pipeline was stopped on request while it ran."""
