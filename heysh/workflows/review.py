"""The review of one document: store, score, decide, act on the decision, notify.

``DocumentReviewWorkflow`` is deterministic: no I/O, no clock, no randomness
and no heavy imports. It knows activities only by name (constants in
``heysh.activities.contracts``) and runs them on the task queues of
``heysh.constants``. The document body never enters workflow history; the
workflow carries ids and blob keys.

Gray-zone documents wait for a human through the ``decide`` update, whose
validator refuses anyone but the assigned controller or a domain admin (the
refusal carries the reason and nothing is recorded). Members vote through the
``vote`` update meanwhile. The ``status`` query exposes the state; the history
is the audit trail.

Automatic decisions (thresholds and AI controller) are sampled for a blind
audit with probability ``DomainConfig.audit_fraction``, drawn with
``workflow.random()`` (deterministic on replay). A sampled review records an
audit request (``request_audit``) alongside its finishing steps and does not
wait for the label; the automatic outcome stands. Reviews started before this
step existed replay without it (``workflow.patched``).
"""

# No ``from __future__ import annotations``: see heysh.activities.contracts.

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from heysh.activities import contracts as c
    from heysh.constants import AI_PROCESSING_QUEUE, GENERAL_QUEUE, STORAGE_QUEUE
    from heysh.domain import (
        DomainConfig,
        Outcome,
        Role,
        can_decide,
        can_vote,
        decide_as_ai_controller,
        decide_by_thresholds,
    )

WORKFLOW_NAME = "DocumentReviewWorkflow"

# Keyword search attribute naming the controller a document waits for; the
# client lists a controller's pending reviews with it. The Temporal namespace
# must have it registered (``temporal server start-dev --search-attribute
# HeyshAssignedController=Keyword``, or ``heysh.client.ensure_search_attributes``).
ASSIGNED_CONTROLLER = SearchAttributeKey.for_keyword("HeyshAssignedController")

# Update error types, so callers can tell a refusal from a wrong moment.
PERMISSION_DENIED_ERROR = "PermissionDenied"
NOT_AWAITING_DECISION_ERROR = "NotAwaitingDecision"

# decided_by values that are not user ids.
BY_THRESHOLDS = "thresholds"
BY_AI_CONTROLLER = "ai-controller"
BY_INPUT_CHECK = "input-check"

# Version marker of the audit-sampling step (see the module docstring).
AUDIT_SAMPLING_PATCH = "feedback-audit-sampling"

# Outcomes recorded for a document.
APPROVED = "approved"
REJECTED = "rejected"
REFUSED_INPUT = "refused_input"

# Storage and general activities retry with backoff until they succeed: a
# store that is down delays a document, it never drops it.
_STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
)
# Model calls retry the same way, except for errors marked non-retryable.
_AI_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    non_retryable_error_types=[c.INVALID_INPUT_ERROR, c.NO_LLM_ERROR],
)


def review_workflow_id(domain_id: str, doc_id: str) -> str:
    """Return the workflow id of a document's review in a domain.

    >>> review_workflow_id("news", "ab12")
    'review-news-ab12'
    """
    return f"review-{domain_id}-{doc_id}"


@dataclass(frozen=True)
class ReviewOptions:
    """Per-review knobs with production defaults.

    Attributes:
        task_queue_suffix: Appended to every activity task queue, to run an
            isolated set of workers on a shared server (tests, benchmarks).
        storage_timeout_s: Start-to-close timeout of each storage activity; a
            worker that dies mid-activity is retried after this long.
        ai_timeout_s: Start-to-close timeout of each model call.
        general_timeout_s: Start-to-close timeout of general activities.
    """

    task_queue_suffix: str = ""
    storage_timeout_s: float = 120.0
    ai_timeout_s: float = 600.0
    general_timeout_s: float = 60.0


@dataclass(frozen=True)
class ReviewInput:
    """What a review starts from: ids and the blob key, never the body."""

    doc_id: str
    domain_id: str
    blob_key: str
    filename: str
    uploader: str
    options: ReviewOptions = field(default_factory=ReviewOptions)


@dataclass(frozen=True)
class ReviewResult:
    """The final decision with its provenance."""

    doc_id: str
    domain_id: str
    outcome: str
    decided_by: str
    score: float | None
    model_name: str
    model_version: str
    reason: str


@dataclass(frozen=True)
class DecideRequest:
    """A human decision on a gray-zone document."""

    actor: str
    approve: bool
    comment: str = ""


@dataclass(frozen=True)
class DecideResponse:
    outcome: str
    decided_by: str


@dataclass(frozen=True)
class VoteRequest:
    """A member's opinion on a document awaiting its controller."""

    actor: str
    approve: bool
    comment: str = ""


@dataclass(frozen=True)
class VoteResponse:
    votes_for: int
    votes_against: int


@dataclass(frozen=True)
class VoteView:
    voter: str
    role: str
    approve: bool


@dataclass(frozen=True)
class ReviewStatus:
    """What the ``status`` query returns.

    ``stage`` is where the review is (``storing``, ``assessing``,
    ``assigning``, ``awaiting_decision``, ``finishing``, ``done``);
    ``outcome`` is empty until a decision exists.
    """

    workflow_id: str
    doc_id: str
    domain_id: str
    filename: str
    uploader: str
    stage: str
    outcome: str
    decided_by: str
    reason: str
    score: float | None
    model_name: str
    model_version: str
    assigned_controller: str
    escalation_round: int
    votes: list[VoteView]
    flags: list[str]


@dataclass
class _HumanDecision:
    actor: str
    approve: bool
    comment: str


@dataclass(frozen=True)
class _ScoringUsage:
    """What the scoring model billed, recorded with the decision."""

    tokens_in: int
    tokens_out: int
    cost_usd: float


_NO_USAGE = _ScoringUsage(0, 0, 0.0)


@workflow.defn(name=WORKFLOW_NAME)
class DocumentReviewWorkflow:
    """Review one document in one domain, durably, from upload to notification."""

    def __init__(self) -> None:
        self._input: ReviewInput | None = None
        self._stage = "storing"
        self._outcome = ""
        self._decided_by = ""
        self._reason = ""
        self._score: float | None = None
        self._model_name = ""
        self._model_version = ""
        self._usage = _NO_USAGE
        self._assigned = ""
        self._round = 0
        self._members: dict[str, str] = {}
        self._votes: dict[str, VoteView] = {}
        self._flags: list[str] = []
        self._human: _HumanDecision | None = None
        self._decision_recorded = False
        self._summary = ""

    @workflow.run
    async def run(self, review: ReviewInput) -> ReviewResult:
        """Run the review; returns once every side effect is done."""
        self._input = review
        stored = await self._activity(
            STORAGE_QUEUE,
            c.STORE_DOCUMENT_METADATA,
            c.StoreDocumentMetadataInput(
                doc_id=review.doc_id,
                domain_id=review.domain_id,
                blob_key=review.blob_key,
                filename=review.filename,
                uploader=review.uploader,
            ),
            c.StoreDocumentMetadataResult,
        )
        self._flags = list(stored.flags)
        if stored.refusal_reason:
            return await self._finish_refused(stored.refusal_reason)

        config = DomainConfig.model_validate(stored.domain_config)
        self._stage = "assessing"
        assessed = await self._activity(
            AI_PROCESSING_QUEUE,
            c.ASSESS_DOCUMENT_RELEVANCE,
            c.AssessRelevanceInput(
                doc_id=review.doc_id,
                domain_id=review.domain_id,
                domain_description=stored.domain_description,
                text_key=stored.text_key,
                model_override=config.ai_model_override or "",
            ),
            c.AssessRelevanceResult,
        )
        self._score = assessed.score
        self._model_name, self._model_version = (
            assessed.model_name,
            assessed.model_version,
        )
        self._usage = _ScoringUsage(
            assessed.tokens_in, assessed.tokens_out, assessed.cost_usd
        )

        approve = await self._decide(assessed.score, config)
        self._stage = "finishing"
        audit = self._start_audit_if_sampled(config)
        if approve:
            await self._finish_approved(stored, config)
        else:
            await self._finish_rejected(config)
        await self._notify_decided(summary=self._summary)
        if audit is not None:
            await audit
        self._stage = "done"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    # --- queries and updates ----------------------------------------------------

    @workflow.query(name="status")
    def status(self) -> ReviewStatus:
        """Return where the review is and what has been decided."""
        review = self._input
        return ReviewStatus(
            workflow_id=workflow.info().workflow_id,
            doc_id=review.doc_id if review else "",
            domain_id=review.domain_id if review else "",
            filename=review.filename if review else "",
            uploader=review.uploader if review else "",
            stage=self._stage,
            outcome=self._outcome,
            decided_by=self._decided_by,
            reason=self._reason,
            score=self._score,
            model_name=self._model_name,
            model_version=self._model_version,
            assigned_controller=self._assigned,
            escalation_round=self._round,
            votes=list(self._votes.values()),
            flags=list(self._flags),
        )

    @workflow.update(name="decide")
    async def decide(self, request: DecideRequest) -> DecideResponse:
        """Accept the assigned controller's (or an admin's) decision.

        Returns once the decision is recorded.
        """
        if self._human is not None:
            # Two decisions validated in the same workflow task: the first wins.
            raise ApplicationError(
                f"a decision by {self._human.actor} was already accepted",
                type=NOT_AWAITING_DECISION_ERROR,
            )
        self._human = _HumanDecision(request.actor, request.approve, request.comment)
        await workflow.wait_condition(lambda: self._decision_recorded)
        return DecideResponse(outcome=self._outcome, decided_by=self._decided_by)

    @decide.validator
    def _validate_decide(self, request: DecideRequest) -> None:
        self._require_awaiting_decision("decide")
        allowed, reason = can_decide(
            request.actor, self._role_of(request.actor), self._assigned
        )
        if not allowed:
            raise ApplicationError(reason, type=PERMISSION_DENIED_ERROR)

    @workflow.update(name="vote")
    async def vote(self, request: VoteRequest) -> VoteResponse:
        """Record a member's vote; a repeated vote replaces the earlier one."""
        review = self._require_input()
        role = self._role_of(request.actor)
        role_value = role.value if role else ""
        result = await self._activity(
            STORAGE_QUEUE,
            c.RECORD_REVIEW_VOTE,
            c.RecordVoteInput(
                doc_id=review.doc_id,
                domain_id=review.domain_id,
                voter=request.actor,
                role=role_value,
                approve=request.approve,
                comment=request.comment,
            ),
            c.RecordVoteResult,
        )
        self._votes[request.actor] = VoteView(
            request.actor, role_value, request.approve
        )
        return VoteResponse(result.votes_for, result.votes_against)

    @vote.validator
    def _validate_vote(self, request: VoteRequest) -> None:
        self._require_awaiting_decision("vote")
        allowed, reason = can_vote(request.actor, self._role_of(request.actor))
        if not allowed:
            raise ApplicationError(reason, type=PERMISSION_DENIED_ERROR)

    # --- steps ------------------------------------------------------------------

    async def _decide(self, score: float, config: DomainConfig) -> bool:
        """Return whether the document is approved, and by whom (in state)."""
        verdict = decide_by_thresholds(score, config)
        if verdict == Outcome.AUTO_APPROVE:
            self._set_decision(
                APPROVED, BY_THRESHOLDS, "score at or above auto-approve"
            )
            return True
        if verdict == Outcome.AUTO_REJECT:
            self._set_decision(REJECTED, BY_THRESHOLDS, "score at or below auto-reject")
            return False
        if config.use_ai_controller:
            approve = decide_as_ai_controller(score, config)
            side = "at or above" if approve else "below"
            self._set_decision(
                APPROVED if approve else REJECTED,
                BY_AI_CONTROLLER,
                f"gray zone; score {side} relevance threshold "
                f"{config.relevance_threshold}",
            )
            return approve
        human = await self._wait_for_controller(config)
        self._set_decision(
            APPROVED if human.approve else REJECTED,
            human.actor,
            human.comment or "decided by a controller",
        )
        return human.approve

    def _start_audit_if_sampled(
        self, config: DomainConfig
    ) -> asyncio.Task[None] | None:
        """Sample an automatic decision for a blind audit; start its request."""
        if self._decided_by not in (BY_THRESHOLDS, BY_AI_CONTROLLER):
            return None
        if not workflow.patched(AUDIT_SAMPLING_PATCH):
            return None
        if workflow.random().random() >= config.audit_fraction:
            return None
        return asyncio.create_task(self._request_audit(config))

    async def _request_audit(self, config: DomainConfig) -> None:
        review = self._require_input()
        thresholds: dict[str, Any] = {
            "relevance_threshold": config.relevance_threshold,
            "auto_approve_threshold": config.auto_approve_threshold,
            "auto_reject_threshold": config.auto_reject_threshold,
            "false_approve_target": config.false_approve_target,
            "false_reject_target": config.false_reject_target,
            "audit_fraction": config.audit_fraction,
            "decided_by": self._decided_by,
        }
        try:
            result = await self._activity(
                STORAGE_QUEUE,
                c.REQUEST_AUDIT,
                c.RequestAuditInput(
                    doc_id=review.doc_id,
                    domain_id=review.domain_id,
                    claim_key=f"{workflow.info().workflow_id}#audit",
                    automatic_outcome=self._outcome,
                    score=self._score,
                    model_name=self._model_name,
                    model_version=self._model_version,
                    thresholds=thresholds,
                    fallback_pool=list(config.controller_pool),
                ),
                c.RequestAuditResult,
            )
        except ActivityError as err:
            # An audit lost for good never undoes the review.
            workflow.logger.warning(
                "audit_request_failed",
                extra={"doc_id": review.doc_id, "error": str(err.cause or err)},
            )
            return
        workflow.logger.info(
            "audit_sampled",
            extra={"doc_id": review.doc_id, "controller": result.controller},
        )

    async def _wait_for_controller(self, config: DomainConfig) -> _HumanDecision:
        """Assign controllers round-robin until one decides, escalating on timeout."""
        review = self._require_input()
        wait = timedelta(seconds=config.escalation_timeout_s)
        workflow_id = workflow.info().workflow_id
        while True:
            self._stage = "assigning"
            assignment = await self._activity(
                GENERAL_QUEUE,
                c.GET_NEXT_CONTROLLER,
                c.GetNextControllerInput(
                    domain_id=review.domain_id,
                    claim_key=f"{workflow_id}#{self._round}",
                    fallback_pool=list(config.controller_pool),
                    exclude=self._assigned,
                ),
                c.GetNextControllerResult,
            )
            self._members = dict(assignment.members)
            self._assigned = assignment.controller
            workflow.upsert_search_attributes(
                [ASSIGNED_CONTROLLER.value_set(assignment.controller)]
            )
            self._stage = "awaiting_decision"
            workflow.logger.info(
                "controller_assigned",
                extra={
                    "doc_id": review.doc_id,
                    "controller": assignment.controller,
                    "round": self._round,
                },
            )
            await self._notify(
                c.NotifyStakeholdersInput(
                    doc_id=review.doc_id,
                    domain_id=review.domain_id,
                    event="assigned",
                    filename=review.filename,
                    uploader=review.uploader,
                    score=self._score,
                    assigned_controller=assignment.controller,
                )
            )
            try:
                await workflow.wait_condition(
                    lambda: self._human is not None, timeout=wait
                )
            except TimeoutError:
                self._round += 1
                workflow.logger.info(
                    "review_escalated",
                    extra={
                        "doc_id": review.doc_id,
                        "from": assignment.controller,
                        "round": self._round,
                    },
                )
                continue
            human = self._human
            if human is not None:
                self._stage = "finishing"
                workflow.upsert_search_attributes([ASSIGNED_CONTROLLER.value_unset()])
                return human

    async def _finish_approved(
        self, stored: c.StoreDocumentMetadataResult, config: DomainConfig
    ) -> None:
        review = self._require_input()
        topics, summary, _ = await asyncio.gather(
            self._activity(
                AI_PROCESSING_QUEUE,
                c.EXTRACT_DOCUMENT_TOPICS,
                c.ExtractTopicsInput(review.doc_id, review.domain_id, stored.text_key),
                c.ExtractTopicsResult,
            ),
            self._activity(
                AI_PROCESSING_QUEUE,
                c.GENERATE_SUMMARY_FOR_NOTIFICATION,
                c.GenerateSummaryInput(
                    review.doc_id, review.domain_id, stored.text_key
                ),
                c.GenerateSummaryResult,
            ),
            self._record_decision(config),
        )
        self._summary = summary.summary
        await asyncio.gather(
            self._activity(
                STORAGE_QUEUE,
                c.INDEX_TO_WEAVIATE,
                c.IndexDocumentInput(
                    doc_id=review.doc_id,
                    domain_id=review.domain_id,
                    text_key=stored.text_key,
                    embedding=list(topics.embedding),
                    title=topics.title,
                    topics=list(topics.topics),
                    score=self._score,
                    uploader=review.uploader,
                    decided_by=self._decided_by,
                ),
                c.IndexDocumentResult,
            ),
            self._activity(
                STORAGE_QUEUE,
                c.UPDATE_NEO4J_GRAPH,
                c.UpdateGraphInput(
                    doc_id=review.doc_id,
                    domain_id=review.domain_id,
                    title=topics.title,
                    topics=list(topics.topics),
                    uploader=review.uploader,
                    reviewer=self._decided_by,
                ),
                c.UpdateGraphResult,
            ),
        )

    async def _finish_rejected(self, config: DomainConfig) -> None:
        review = self._require_input()
        await asyncio.gather(
            self._record_decision(config),
            self._activity(
                STORAGE_QUEUE,
                c.ARCHIVE_REJECTED_DOCUMENT,
                c.ArchiveDocumentInput(
                    doc_id=review.doc_id,
                    domain_id=review.domain_id,
                    blob_key=review.blob_key,
                    filename=review.filename,
                    uploader=review.uploader,
                    decided_by=self._decided_by,
                    score=self._score,
                    reason=self._reason,
                ),
                c.ArchiveDocumentResult,
            ),
        )

    async def _finish_refused(self, reason: str) -> ReviewResult:
        self._stage = "finishing"
        self._set_decision(REFUSED_INPUT, BY_INPUT_CHECK, reason)
        await self._record_decision(None)
        await self._notify_decided(summary="")
        self._stage = "done"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    async def _record_decision(self, config: DomainConfig | None) -> None:
        review = self._require_input()
        thresholds: dict[str, float | None] = {}
        if config is not None:
            thresholds = {
                "relevance_threshold": config.relevance_threshold,
                "auto_approve_threshold": config.auto_approve_threshold,
                "auto_reject_threshold": config.auto_reject_threshold,
            }
        await self._activity(
            STORAGE_QUEUE,
            c.RECORD_REVIEW_DECISION,
            c.RecordDecisionInput(
                doc_id=review.doc_id,
                domain_id=review.domain_id,
                outcome=self._outcome,
                decided_by=self._decided_by,
                score=self._score,
                model_name=self._model_name,
                model_version=self._model_version,
                thresholds=thresholds,
                reason=self._reason,
                tokens_in=self._usage.tokens_in,
                tokens_out=self._usage.tokens_out,
                cost_usd=self._usage.cost_usd,
            ),
            c.RecordDecisionResult,
        )
        self._decision_recorded = True
        workflow.logger.info(
            "document_decided",
            extra={
                "doc_id": review.doc_id,
                "domain_id": review.domain_id,
                "outcome": self._outcome,
                "decided_by": self._decided_by,
                "score": self._score,
            },
        )

    async def _notify_decided(self, summary: str) -> None:
        review = self._require_input()
        await self._notify(
            c.NotifyStakeholdersInput(
                doc_id=review.doc_id,
                domain_id=review.domain_id,
                event="decided",
                filename=review.filename,
                uploader=review.uploader,
                outcome=self._outcome,
                decided_by=self._decided_by,
                score=self._score,
                summary=summary,
                assigned_controller=self._assigned,
                reason=self._reason,
            )
        )

    async def _notify(self, request: c.NotifyStakeholdersInput) -> None:
        """Notify; a notification refused for good does not undo the review."""
        try:
            await self._activity(
                GENERAL_QUEUE,
                c.NOTIFY_STAKEHOLDERS,
                request,
                c.NotifyStakeholdersResult,
            )
        except ActivityError as err:
            workflow.logger.warning(
                "notification_failed",
                extra={
                    "doc_id": request.doc_id,
                    "event": request.event,
                    "error": str(err.cause or err),
                },
            )

    # --- helpers ----------------------------------------------------------------

    async def _activity(
        self, queue: str, name: str, argument: Any, result_type: type[Any]
    ) -> Any:
        """Run an activity by name on ``queue`` with the queue's timeout and retry."""
        options = self._require_input().options
        if queue == AI_PROCESSING_QUEUE:
            timeout_s, retry = options.ai_timeout_s, _AI_RETRY
        elif queue == STORAGE_QUEUE:
            timeout_s, retry = options.storage_timeout_s, _STORE_RETRY
        else:
            timeout_s, retry = options.general_timeout_s, _STORE_RETRY
        return await workflow.execute_activity(
            name,
            argument,
            task_queue=queue + options.task_queue_suffix,
            start_to_close_timeout=timedelta(seconds=timeout_s),
            retry_policy=retry,
            result_type=result_type,
        )

    def _set_decision(self, outcome: str, decided_by: str, reason: str) -> None:
        self._outcome, self._decided_by, self._reason = outcome, decided_by, reason

    def _role_of(self, actor: str) -> Role | None:
        value = self._members.get(actor)
        try:
            return Role(value) if value else None
        except ValueError:
            return None

    def _require_awaiting_decision(self, action: str) -> None:
        if self._stage != "awaiting_decision" or self._human is not None:
            review = self._input
            doc = review.doc_id if review else "?"
            raise ApplicationError(
                f"cannot {action} on document {doc}: it is not waiting for a "
                f"controller (stage {self._stage}, outcome {self._outcome or 'none'})",
                type=NOT_AWAITING_DECISION_ERROR,
            )

    def _require_input(self) -> ReviewInput:
        if self._input is None:
            raise ApplicationError("review has not started", non_retryable=True)
        return self._input

    def _result(self) -> ReviewResult:
        review = self._require_input()
        return ReviewResult(
            doc_id=review.doc_id,
            domain_id=review.domain_id,
            outcome=self._outcome,
            decided_by=self._decided_by,
            score=self._score,
            model_name=self._model_name,
            model_version=self._model_version,
            reason=self._reason,
        )
