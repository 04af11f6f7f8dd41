"""The Python API over document reviews: submit, decide, vote, status, history.

The CLI and notebooks use these functions; they talk to Temporal and to the
blob and metadata stores, never to workers directly. A document's id is the
SHA-256 of its body and its review's workflow id is derived from domain and
document id, so submitting the same body to the same domain twice starts one
review (the second call reports ``already_existed``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from heysh.activities.contracts import body_blob_key
from heysh.config import Settings
from heysh.constants import GENERAL_QUEUE
from heysh.errors import ConfigError, DocumentError, PermissionDeniedError
from heysh.stores.base import BlobStore, MetadataStore
from heysh.workflows.review import (
    ASSIGNED_CONTROLLER,
    NOT_AWAITING_DECISION_ERROR,
    PERMISSION_DENIED_ERROR,
    WORKFLOW_NAME,
    DecideRequest,
    DecideResponse,
    DocumentReviewWorkflow,
    ReviewInput,
    ReviewOptions,
    ReviewResult,
    ReviewStatus,
    VoteRequest,
    VoteResponse,
    review_workflow_id,
)

_logger = logging.getLogger(__name__)

# Search attributes the review workflow sets; the namespace must know them.
SEARCH_ATTRIBUTES = {ASSIGNED_CONTROLLER.name: "Keyword"}

# User ids go into visibility queries; keep them to a safe alphabet.
_USER_ID = re.compile(r"^[\w.@+-]{1,200}$")


class _ReviewStores(Protocol):
    """What submission needs of ``heysh.stores.factory.Stores``."""

    @property
    def blobs(self) -> BlobStore: ...

    @property
    def metadata(self) -> MetadataStore: ...


@dataclass(frozen=True)
class SubmitResult:
    """A submitted document's ids, and whether its review already existed."""

    doc_id: str
    workflow_id: str
    already_existed: bool


@dataclass(frozen=True)
class ReviewEvent:
    """One step of a review's audit trail, read from the workflow history.

    Attributes:
        time: When the server recorded the step (UTC).
        kind: ``started``, ``activity``, ``activity_failed``,
            ``activity_timed_out``, ``update`` (a decision or vote that was
            accepted), ``escalation_timer``, ``completed``, ``failed``,
            ``terminated`` or ``timed_out``.
        name: Activity or update name, where there is one.
        detail: Attempt number, failure message, or who decided or voted.
    """

    time: datetime
    kind: str
    name: str = ""
    detail: str = ""


@dataclass(frozen=True)
class PendingReview:
    """A review waiting for a controller's decision."""

    workflow_id: str
    domain_id: str
    doc_id: str
    filename: str
    controller: str


async def connect_client(settings: Settings, *, runtime: Any = None) -> Client:
    """Connect to Temporal as configured (address, namespace, TLS, API key).

    Args:
        settings: Connection settings (``HEYSH_TEMPORAL_*``).
        runtime: A ``temporalio.runtime.Runtime`` (for metrics); None uses the
            default runtime.

    Raises:
        ConfigError: if the server cannot be reached, naming the address.
    """
    from temporalio.service import TLSConfig

    tls: TLSConfig | bool = settings.temporal_tls
    if settings.temporal_tls_cert_path and settings.temporal_tls_key_path:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert_path.read_bytes(),
            client_private_key=settings.temporal_tls_key_path.read_bytes(),
        )
    api_key = (
        settings.temporal_api_key.get_secret_value()
        if settings.temporal_api_key
        else None
    )
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            tls=tls,
            api_key=api_key,
            runtime=runtime,
        )
    except RuntimeError as err:
        raise ConfigError(
            f"cannot reach Temporal at {settings.temporal_address} (namespace "
            f"{settings.temporal_namespace}): {err}; start it (heysh stack up) or set "
            "HEYSH_TEMPORAL_ADDRESS"
        ) from err


async def ensure_search_attributes(client: Client) -> None:
    """Register the review workflow's search attributes if they are missing.

    Raises:
        ConfigError: if they are missing and cannot be registered (for
            example on a cluster where only operators may add them).
    """
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )

    namespace = client.namespace
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        name: kind
        for name, kind in SEARCH_ATTRIBUTES.items()
        if name not in listed.custom_attributes
    }
    if not missing:
        return
    request = AddSearchAttributesRequest(
        namespace=namespace,
        search_attributes={
            name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
            for name, kind in missing.items()
        },
    )
    try:
        await client.operator_service.add_search_attributes(request)
    except RPCError as err:
        raise ConfigError(
            f"search attributes {sorted(missing)} are missing in namespace "
            f"{namespace} and cannot be added ({err.message}); add them as "
            "Keyword attributes with `temporal operator search-attribute create`"
        ) from err
    _logger.info("search_attributes_added", extra={"names": ",".join(missing)})


def document_id_for(body: bytes) -> str:
    """Return a document's id: the SHA-256 of its body, in hex.

    >>> document_id_for(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(body).hexdigest()


async def submit_document(
    client: Client,
    stores: _ReviewStores,
    domain_id: str,
    body: bytes,
    filename: str,
    uploader: str,
    *,
    options: ReviewOptions | None = None,
) -> SubmitResult:
    """Store a document's body and start its review (once per domain and body).

    The body goes to the blob store; the workflow receives only its key. Bad
    bodies (empty, binary, too large) are accepted here and get a recorded
    ``refused_input`` outcome from the review.

    Args:
        client: Connected Temporal client.
        stores: Object with ``blobs`` and ``metadata`` stores.
        domain_id: The domain to submit to; it must exist.
        body: The document exactly as uploaded.
        filename: Original file name (shown to reviewers).
        uploader: User id of the uploader; must be a member of the domain.
        options: Task queue suffix and timeouts; defaults suit production.

    Returns:
        The document id, the workflow id and whether that review existed.

    Raises:
        ConfigError: if the domain does not exist.
        PermissionDeniedError: if the uploader is not a member of the domain.
    """
    _check_user_id(uploader)
    domain = await asyncio.to_thread(stores.metadata.get_domain, domain_id)
    if domain is None:
        raise ConfigError(
            f"domain {domain_id!r} does not exist; create it before submitting"
        )
    role = await asyncio.to_thread(stores.metadata.get_role, domain_id, uploader)
    if role is None and uploader not in _pool_of(domain):
        raise PermissionDeniedError(
            f"{uploader} is not a member of domain {domain_id}; an admin must add "
            "them (as contributor, controller or admin) before they can upload"
        )

    doc_id = document_id_for(body)
    blob_key = body_blob_key(doc_id)
    exists = await asyncio.to_thread(stores.blobs.exists, blob_key)
    if not exists:
        await asyncio.to_thread(stores.blobs.put, blob_key, body)

    options = options or ReviewOptions()
    workflow_id = review_workflow_id(domain_id, doc_id)
    review = ReviewInput(
        doc_id=doc_id,
        domain_id=domain_id,
        blob_key=blob_key,
        filename=filename,
        uploader=uploader,
        options=options,
    )
    try:
        await client.start_workflow(
            DocumentReviewWorkflow.run,
            review,
            id=workflow_id,
            task_queue=GENERAL_QUEUE + options.task_queue_suffix,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            memo={"domain_id": domain_id, "doc_id": doc_id, "filename": filename},
        )
    except WorkflowAlreadyStartedError:
        _logger.info("review_already_exists", extra={"workflow_id": workflow_id})
        return SubmitResult(
            doc_id=doc_id, workflow_id=workflow_id, already_existed=True
        )
    _logger.info(
        "review_started", extra={"workflow_id": workflow_id, "size_bytes": len(body)}
    )
    return SubmitResult(doc_id=doc_id, workflow_id=workflow_id, already_existed=False)


async def decide(
    client: Client,
    domain_id: str,
    doc_id: str,
    actor: str,
    approve: bool,
    comment: str = "",
) -> DecideResponse:
    """Approve or reject a gray-zone document as ``actor``.

    Returns once the decision is recorded.

    Raises:
        PermissionDeniedError: if ``actor`` is not the assigned controller or an
            admin of the domain (nothing is recorded), or the document is not
            waiting for a decision.
        DocumentError: if there is no review of that document in that domain.
    """
    handle = _handle(client, domain_id, doc_id)
    request = DecideRequest(actor=actor, approve=approve, comment=comment)
    result: DecideResponse = await _update(handle, "decide", request, DecideResponse)
    return result


async def vote(
    client: Client,
    domain_id: str,
    doc_id: str,
    actor: str,
    approve: bool,
    comment: str = "",
) -> VoteResponse:
    """Record ``actor``'s vote on a document awaiting its controller.

    Raises:
        PermissionDeniedError: if ``actor`` is not a member of the domain or the
            document is not waiting for a controller.
        DocumentError: if there is no review of that document in that domain.
    """
    handle = _handle(client, domain_id, doc_id)
    request = VoteRequest(actor=actor, approve=approve, comment=comment)
    result: VoteResponse = await _update(handle, "vote", request, VoteResponse)
    return result


async def get_status(client: Client, domain_id: str, doc_id: str) -> ReviewStatus:
    """Return the review's current state (works on finished reviews too).

    Raises:
        DocumentError: if there is no review of that document in that domain.
    """
    handle = _handle(client, domain_id, doc_id)
    try:
        status: ReviewStatus = await handle.query(
            DocumentReviewWorkflow.status, rpc_timeout=timedelta(seconds=30)
        )
    except RPCError as err:
        raise _not_found_or(err, domain_id, doc_id) from err
    return status


async def wait_for_result(client: Client, domain_id: str, doc_id: str) -> ReviewResult:
    """Wait until the review finishes and return its decision."""
    handle = client.get_workflow_handle_for(
        DocumentReviewWorkflow.run, review_workflow_id(domain_id, doc_id)
    )
    return await handle.result()


async def list_pending(
    client: Client, controller: str, *, domain_id: str | None = None
) -> list[PendingReview]:
    """Return the running reviews assigned to ``controller``, oldest first.

    Reads Temporal's visibility store (search attribute
    ``HeyshAssignedController``), which may lag a second behind assignments.
    """
    _check_user_id(controller)
    query = (
        f'WorkflowType = "{WORKFLOW_NAME}" AND ExecutionStatus = "Running" '
        f'AND {ASSIGNED_CONTROLLER.name} = "{controller}"'
    )
    pending = []
    async for execution in client.list_workflows(query):
        if execution.status != WorkflowExecutionStatus.RUNNING:
            continue
        memo = await execution.memo()
        if domain_id is not None and memo.get("domain_id") != domain_id:
            continue
        pending.append(
            (
                execution.start_time,
                PendingReview(
                    workflow_id=execution.id,
                    domain_id=str(memo.get("domain_id", "")),
                    doc_id=str(memo.get("doc_id", "")),
                    filename=str(memo.get("filename", "")),
                    controller=controller,
                ),
            )
        )
    pending.sort(key=lambda item: item[0])
    return [review for _, review in pending]


async def review_history(
    client: Client, domain_id: str, doc_id: str
) -> list[ReviewEvent]:
    """Return the review's audit trail: steps, decisions and votes, oldest first.

    Refused decisions and votes are not in it: the workflow's validators
    reject them before anything is recorded.

    Raises:
        DocumentError: if there is no review of that document in that domain.
    """
    handle = _handle(client, domain_id, doc_id)
    try:
        history = await handle.fetch_history()
    except RPCError as err:
        raise _not_found_or(err, domain_id, doc_id) from err
    converter = client.data_converter.payload_converter
    scheduled: dict[int, str] = {}
    attempts: dict[int, int] = {}
    events: list[ReviewEvent] = []
    for event in history.events:
        when = event.event_time.ToDatetime().replace(tzinfo=UTC)
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = (
                event.activity_task_scheduled_event_attributes.activity_type.name
            )
        elif event.HasField("activity_task_started_event_attributes"):
            attempts[event.event_id] = (
                event.activity_task_started_event_attributes.attempt
            )
        step = _history_step(event, scheduled, attempts, converter)
        if step is not None:
            events.append(ReviewEvent(when, *step))
    return events


def _history_step(
    event: Any, scheduled: dict[int, str], attempts: dict[int, int], converter: Any
) -> tuple[str, str, str] | None:
    """(kind, name, detail) of an event worth showing, or None."""
    if event.HasField("workflow_execution_started_event_attributes"):
        return "started", "", ""
    if event.HasField("activity_task_completed_event_attributes"):
        attrs = event.activity_task_completed_event_attributes
        attempt = attempts.get(attrs.started_event_id, 1)
        return (
            "activity",
            scheduled.get(attrs.scheduled_event_id, ""),
            (f"attempt {attempt}"),
        )
    if event.HasField("activity_task_failed_event_attributes"):
        attrs = event.activity_task_failed_event_attributes
        name = scheduled.get(attrs.scheduled_event_id, "")
        return "activity_failed", name, attrs.failure.message
    if event.HasField("activity_task_timed_out_event_attributes"):
        attrs = event.activity_task_timed_out_event_attributes
        return "activity_timed_out", scheduled.get(attrs.scheduled_event_id, ""), ""
    if event.HasField("workflow_execution_update_accepted_event_attributes"):
        request = event.workflow_execution_update_accepted_event_attributes
        update = request.accepted_request.input
        args = converter.from_payloads(update.args.payloads) if update.args else []
        arg = args[0] if args and isinstance(args[0], dict) else {}
        verdict = "approve" if arg.get("approve") else "reject"
        return "update", update.name, f"{arg.get('actor', '?')}: {verdict}"
    if event.HasField("timer_fired_event_attributes"):
        return "escalation_timer", "", ""
    for kind in ("completed", "failed", "terminated", "timed_out"):
        if event.HasField(f"workflow_execution_{kind}_event_attributes"):
            return kind, "", ""
    return None


def _handle(client: Client, domain_id: str, doc_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(review_workflow_id(domain_id, doc_id))


async def _update(
    handle: WorkflowHandle[Any, Any], name: str, request: Any, result_type: type[Any]
) -> Any:
    try:
        return await handle.execute_update(
            name, request, result_type=result_type, rpc_timeout=timedelta(seconds=60)
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in (
            PERMISSION_DENIED_ERROR,
            NOT_AWAITING_DECISION_ERROR,
        ):
            raise PermissionDeniedError(cause.message) from None
        raise
    except RPCError as err:
        domain_id, doc_id = _ids_of(handle)
        if err.status == RPCStatusCode.NOT_FOUND:
            closed = await _closed_status(handle)
            if closed:
                raise PermissionDeniedError(
                    f"cannot {name} on document {doc_id}: it is not waiting for a "
                    f"controller (its review is {closed})"
                ) from None
        raise _not_found_or(err, domain_id, doc_id) from err


async def _closed_status(handle: WorkflowHandle[Any, Any]) -> str:
    """Return how a closed review ended ("completed", ...), or "" if none exists."""
    try:
        description = await handle.describe()
    except RPCError:
        return ""
    status = description.status
    if status is None or status == WorkflowExecutionStatus.RUNNING:
        return ""
    return status.name.lower()


def _not_found_or(err: RPCError, domain_id: str, doc_id: str) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND:
        return DocumentError(
            f"no review of document {doc_id} in domain {domain_id}; submit it first"
        )
    return err


def _ids_of(handle: WorkflowHandle[Any, Any]) -> tuple[str, str]:
    # "review-<domain>-<sha256>": the document id is the last 64 characters.
    body = handle.id.removeprefix("review-")
    return body[:-65], body[-64:]


def _pool_of(domain: dict[str, Any]) -> list[str]:
    import json

    try:
        return list(
            json.loads(domain.get("config_json") or "{}").get("controller_pool") or []
        )
    except ValueError:
        return []


def _check_user_id(user: str) -> None:
    if not _USER_ID.match(user):
        raise ConfigError(
            f"user id {user!r} must be 1-200 letters, digits or . @ + - _"
        )
