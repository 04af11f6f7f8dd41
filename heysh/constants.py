"""Names that must be identical everywhere: task queues, registry names, aliases.

Each is defined once here; changing one is a deployment change, since running
workflows and registered models refer to them by value.
"""

from typing import Final

AI_PROCESSING_QUEUE: Final = "ai-processing-queue"
STORAGE_QUEUE: Final = "storage-queue"
GENERAL_QUEUE: Final = "general-queue"

# Worker type (as written in WORKER_TYPES) -> the task queue it polls.
QUEUE_BY_WORKER_TYPE: Final = {
    "ai-processing": AI_PROCESSING_QUEUE,
    "storage": STORAGE_QUEUE,
    "general": GENERAL_QUEUE,
}

REGISTERED_MODEL_NAME: Final = "heysh-relevance"
CHALLENGER_ALIAS: Final = "challenger"
PRODUCTION_ALIAS: Final = "production"

# Scores live on 0-10 everywhere; a calibrated 8 means about 80% relevant.
SCORE_MIN: Final = 0.0
SCORE_MAX: Final = 10.0
