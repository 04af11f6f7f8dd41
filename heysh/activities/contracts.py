"""Inputs and results of every activity, as plain frozen dataclasses.

This module imports nothing heavy: the review workflow and the client import it
inside the Temporal sandbox. Each activity takes one ``...Input`` and returns
one ``...Result``, so fields can be added later (with defaults) without
breaking running workflows. Activity names are stored in workflow history and
are therefore constants here, never derived from function names.
"""

# No ``from __future__ import annotations``: the payload converter resolves
# these dataclasses' field types inside the workflow sandbox, where string
# annotations cannot be evaluated against this module.

from dataclasses import dataclass, field
from typing import Any

# ai-processing-queue
ASSESS_DOCUMENT_RELEVANCE = "assess_document_relevance"
EXTRACT_DOCUMENT_TOPICS = "extract_document_topics"
GENERATE_SUMMARY_FOR_NOTIFICATION = "generate_summary_for_notification"
EXECUTE_AI_AGENT_ACTIVITY = "execute_ai_agent_activity"

# storage-queue
STORE_DOCUMENT_METADATA = "store_document_metadata"
INDEX_TO_WEAVIATE = "index_to_weaviate"
UPDATE_NEO4J_GRAPH = "update_neo4j_graph"
ARCHIVE_REJECTED_DOCUMENT = "archive_rejected_document"
RECORD_REVIEW_DECISION = "record_review_decision"
RECORD_REVIEW_VOTE = "record_review_vote"
REQUEST_AUDIT = "request_audit"

# general-queue
NOTIFY_STAKEHOLDERS = "notify_stakeholders"
GET_NEXT_CONTROLLER = "get_next_controller"

# Error types of non-retryable ApplicationErrors raised by activities.
INVALID_INPUT_ERROR = "InvalidActivityInput"
NO_LLM_ERROR = "NoLlmConfigured"


def body_blob_key(doc_id: str) -> str:
    """Return the blob key of a document body (content-addressed by its id)."""
    return f"documents/{doc_id}"


def text_blob_key(doc_id: str) -> str:
    """Return the blob key of a document's decoded, normalised text."""
    return f"texts/{doc_id}"


# --- storage ------------------------------------------------------------------


@dataclass(frozen=True)
class StoreDocumentMetadataInput:
    """Decode the uploaded body and write the document's metadata row."""

    doc_id: str
    domain_id: str
    blob_key: str
    filename: str
    uploader: str


@dataclass(frozen=True)
class StoreDocumentMetadataResult:
    """The stored document, its domain's settings, or why it was refused.

    Attributes:
        refusal_reason: Empty when the text is usable; otherwise why the
            document cannot be reviewed (empty, binary, too large). The
            workflow records a ``refused_input`` outcome with this reason.
        text_key: Blob key of the normalised text (empty when refused).
        domain_config: The domain's ``DomainConfig`` fields as stored now; the
            review uses this snapshot throughout.
    """

    doc_id: str
    size_bytes: int
    encoding: str
    flags: list[str]
    refusal_reason: str
    text_key: str
    text_chars: int
    domain_name: str
    domain_description: str
    domain_config: dict[str, Any]


@dataclass(frozen=True)
class RecordDecisionInput:
    """A decision and its provenance, written once per document.

    ``outcome`` is ``approved``, ``rejected`` or ``refused_input``;
    ``decided_by`` is a user id, ``thresholds``, ``ai-controller`` or
    ``input-check``.
    """

    doc_id: str
    domain_id: str
    outcome: str
    decided_by: str
    score: float | None
    model_name: str
    model_version: str
    thresholds: dict[str, float | None]
    reason: str = ""
    # What an LLM judge billed for scoring (AssessRelevanceResult); 0 otherwise.
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class RecordDecisionResult:
    """Whether this call wrote the decision (false: an earlier call had)."""

    doc_id: str
    outcome: str
    newly_recorded: bool


@dataclass(frozen=True)
class RecordVoteInput:
    doc_id: str
    domain_id: str
    voter: str
    role: str
    approve: bool
    comment: str = ""


@dataclass(frozen=True)
class RecordVoteResult:
    doc_id: str
    voter: str
    votes_for: int
    votes_against: int


@dataclass(frozen=True)
class RequestAuditInput:
    """Send an automatic decision to a controller for a blind audit label.

    ``claim_key`` makes a retried call assign the same controller.
    ``thresholds`` holds the thresholds, error targets, audit fraction and
    deciding rule in force, for the audit report; the controller never sees
    them, the score or the automatic outcome. ``fallback_pool`` is the
    config snapshot's controller pool, used when the domain has no controller
    now.
    """

    doc_id: str
    domain_id: str
    claim_key: str
    automatic_outcome: str
    score: float | None
    model_name: str
    model_version: str
    thresholds: dict[str, Any]
    fallback_pool: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RequestAuditResult:
    """The assigned controller (empty: the domain has none, nothing recorded)."""

    doc_id: str
    controller: str
    newly_requested: bool


@dataclass(frozen=True)
class IndexDocumentInput:
    """Write an approved document's vector and metadata to the vector index."""

    doc_id: str
    domain_id: str
    text_key: str
    embedding: list[float]
    title: str
    topics: list[str]
    score: float | None
    uploader: str
    decided_by: str


@dataclass(frozen=True)
class IndexDocumentResult:
    doc_id: str
    dimensions: int


@dataclass(frozen=True)
class UpdateGraphInput:
    """Link an approved document to its domain, topics, uploader and reviewer."""

    doc_id: str
    domain_id: str
    title: str
    topics: list[str]
    uploader: str
    reviewer: str


@dataclass(frozen=True)
class UpdateGraphResult:
    doc_id: str
    topics: int


@dataclass(frozen=True)
class ArchiveDocumentInput:
    """Move a rejected document's body and decision into the archive."""

    doc_id: str
    domain_id: str
    blob_key: str
    filename: str
    uploader: str
    decided_by: str
    score: float | None
    reason: str = ""


@dataclass(frozen=True)
class ArchiveDocumentResult:
    doc_id: str
    size_bytes: int


# --- ai-processing --------------------------------------------------------------


@dataclass(frozen=True)
class AssessRelevanceInput:
    """Score a stored document against its domain's description.

    ``model_override`` is the domain's ``ai_model_override`` (a model URI such
    as ``models:/heysh-relevance/3``); empty means the production alias.
    """

    doc_id: str
    domain_id: str
    domain_description: str
    text_key: str
    model_override: str = ""


@dataclass(frozen=True)
class AssessRelevanceResult:
    """A calibrated score (0-10) and which model produced it."""

    doc_id: str
    score: float
    model_name: str
    model_version: str
    rationale: str
    latency_s: float
    # What an LLM judge billed for this document (0 for a local model).
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class ExtractTopicsInput:
    doc_id: str
    domain_id: str
    text_key: str
    max_topics: int = 8


@dataclass(frozen=True)
class ExtractTopicsResult:
    """Topics, a title, and the document's vector for the vector index.

    The vector is computed here, on the AI worker that holds the encoder, so
    storage workers need no model.
    """

    doc_id: str
    title: str
    topics: list[str]
    embedding: list[float]
    method: str


@dataclass(frozen=True)
class GenerateSummaryInput:
    doc_id: str
    domain_id: str
    text_key: str
    max_chars: int = 400


@dataclass(frozen=True)
class GenerateSummaryResult:
    doc_id: str
    summary: str
    method: str


@dataclass(frozen=True)
class AgentTaskInput:
    """A generic AI task: instructions, input and the expected output schema."""

    prompt: str
    input: dict[str, Any]
    output_schema: dict[str, Any]
    model: str = ""


@dataclass(frozen=True)
class AgentTaskResult:
    output: dict[str, Any]
    model_name: str
    model_version: str


# --- ai-processing: large scoring jobs ------------------------------------------

PLAN_SCORING_JOB = "plan_scoring_job"
SCORE_DOCUMENT_BATCH = "score_document_batch"
MERGE_SCORING_JOB = "merge_scoring_job"


@dataclass(frozen=True)
class PlanScoringJobInput:
    """Check a scoring job's input file and write its plan into the output folder.

    Attributes:
        input_path: A ``.jsonl`` or ``.parquet`` file with ``id``, ``domain``
            and ``text`` per row, as the AI workers see it.
        output_dir: The job's folder, shared by every AI worker.
        domains: Domain id -> description, for every domain the rows name.
        batch_size: Rows per batch.
    """

    input_path: str
    output_dir: str
    domains: dict[str, str]
    batch_size: int


@dataclass(frozen=True)
class PlanScoringJobResult:
    """The job's size; ``reused`` when an identical plan was already there."""

    rows: int
    batches: int
    reused: bool


@dataclass(frozen=True)
class ScoreBatchInput:
    """Score rows ``[batch_index * batch_size, ...)`` of a planned job."""

    output_dir: str
    batch_index: int


@dataclass(frozen=True)
class ScoreBatchResult:
    """A batch's scores are in its file; ``reused`` when an earlier attempt wrote it.

    Attributes:
        model_name: The model that scored the batch (from the batch file when
            reused).
        scoring_s: Seconds spent in the model (0 when reused).
    """

    batch_index: int
    rows: int
    reused: bool
    model_name: str
    model_version: str
    scoring_s: float


@dataclass(frozen=True)
class MergeScoringJobInput:
    output_dir: str


@dataclass(frozen=True)
class MergeScoringJobResult:
    """The merged scores file and what it holds.

    Attributes:
        models: ``name@version`` -> rows scored by that model.
    """

    scores_path: str
    rows: int
    batches: int
    models: dict[str, int]
    mean_score: float


# --- general --------------------------------------------------------------------


@dataclass(frozen=True)
class GetNextControllerInput:
    """Claim the next controller of a domain's pool for one assignment round.

    ``claim_key`` (workflow id and escalation round) makes a retried claim
    return the same controller. ``exclude`` (the controller who let the
    document time out) is skipped when the pool has anyone else.
    ``fallback_pool`` is the pool of the config snapshot, used only when the
    stored domain no longer lists a pool.
    """

    domain_id: str
    claim_key: str
    fallback_pool: list[str]
    exclude: str = ""


@dataclass(frozen=True)
class GetNextControllerResult:
    """The assigned controller, plus every member's role in the domain.

    ``members`` maps user ids to role values at assignment time, so the
    workflow's update validators (which cannot run activities) can check an
    actor's role. Pool members without a stronger stored role count as
    controllers.
    """

    controller: str
    pool_index: int
    pool_size: int
    members: dict[str, str]


@dataclass(frozen=True)
class NotifyStakeholdersInput:
    """Tell the people involved about a review event.

    ``event`` is ``assigned`` (a controller has a document to review) or
    ``decided`` (the review is over).
    """

    doc_id: str
    domain_id: str
    event: str
    filename: str
    uploader: str
    outcome: str = ""
    decided_by: str = ""
    score: float | None = None
    summary: str = ""
    assigned_controller: str = ""
    reason: str = ""


@dataclass(frozen=True)
class NotifyStakeholdersResult:
    recipients: list[str] = field(default_factory=list)
    channel: str = ""
    delivered: bool = True


# --- general: scheduled pipelines -------------------------------------------------

RUN_PIPELINE = "run_pipeline"
# A notebook cell raised: rerunning the same notebooks would fail the same way.
PIPELINE_FAILED_ERROR = "PipelineFailed"


@dataclass(frozen=True)
class RunPipelineInput:
    """Execute a papermill pipeline file with parameter overrides.

    Attributes:
        pipeline_file: Path of the pipeline YAML as the worker sees it
            (relative paths are relative to the worker's working directory).
        parameters: Overrides given to every notebook that declares them
            (JSON values).
        output_dir: Folder for the executed notebooks; empty: a folder per
            workflow under ``<HEYSH_HOME>/pipelines``.
    """

    pipeline_file: str
    parameters: dict[str, Any] = field(default_factory=dict)
    output_dir: str = ""


@dataclass(frozen=True)
class RunPipelineResult:
    """Where the executed notebooks are and the MLflow run that holds them.

    Attributes:
        steps: ``[step name, status]`` per executed step, in order.
    """

    pipeline: str
    output_dir: str
    mlflow_run_id: str
    steps: list[list[str]] = field(default_factory=list)
