"""Message Batch results: per-result usage, cost and a findable record, with one span for them all.

A batch is processed at half price, its answers come back later as JSONL, and each result is
tied to the application's work only by its `custom_id`. `batches.results()` returns a decoder the
application iterates; this proxy watches each result go by and

- feeds every `succeeded` result's usage into the token metrics (with `anthropic.batch=true`)
  and its cost, at the batch price, into the cost metrics;
- counts every result by type in `anthropic.client.batch.results`;
- emits one `anthropic.batch.result` log record, in the context of the results call's span, with
  `custom_id`, result type, the message id, usage and, for errors, the error type: how one finds
  "what happened to ticket 47928" inside a batch;
- ends the results call (span and metrics) once, when iteration ends, the decoder is closed, or
  it is dropped, with counts and token totals as span attributes.

Nothing per result is kept: 100,000 results make one span and a handful of integers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Optional

from anthropic_otel.attributes import Attributes, field, int_field
from anthropic_otel.cardinality import bound_models
from anthropic_otel.metrics import METRIC_KEYS
from anthropic_otel.streaming import AsyncStreamProxy, StreamProxy

if TYPE_CHECKING:
    from anthropic_otel.calls import CallRecord

__all__ = ["BATCH_RESULT_EVENT", "BatchResultsRecorder", "wrap_batch_results"]

# The decoder is iterated like a stream, so the stream proxies (`StreamProxy`, `AsyncStreamProxy`)
# watch it; this recorder is what they report each result and the end to.

log = logging.getLogger(__name__)

BATCH_RESULT_EVENT = "anthropic.batch.result"
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")
Complete = Callable[..., None]


class BatchResultsRecorder:
    """Counts and token totals of one results iteration; reports each result as it passes."""

    __slots__ = (
        "__weakref__",
        "complete",
        "context",
        "counts",
        "finished",
        "input_tokens",
        "output_tokens",
        "record",
        "scope",
    )

    def __init__(self, record: CallRecord, complete: Complete) -> None:
        self.record = record
        self.complete = complete
        # Worked out once, not per result: the metric attributes every result shares, and the
        # results span's context that its metric points and records link to.
        self.scope = {key: record.attributes[key] for key in METRIC_KEYS if key in record.attributes}
        self.scope.pop("gen_ai.operation.name", None)
        bound_models(self.scope, record.telemetry.models)
        self.context = record.context
        self.counts = dict.fromkeys(RESULT_TYPES, 0)
        self.input_tokens = 0
        self.output_tokens = 0
        self.finished = False

    def on_item(self, item: Any) -> None:
        """One result: metrics and a record. Never raises."""
        try:
            self._on_result(item)
        except Exception:
            log.debug("anthropic-otel: could not record a batch result", exc_info=True)

    def _on_result(self, item: Any) -> None:
        record = self.record
        telemetry = record.telemetry
        result = field(item, "result")
        kind = field(result, "type")
        kind = kind if kind in RESULT_TYPES else "unknown"  # a fixed vocabulary: bounded metrics and counts
        self.counts[kind] = self.counts.get(kind, 0) + 1
        scope, context = self.scope, self.context
        telemetry.instruments.batch_results.add(1, {**scope, "anthropic.batch.result.type": kind}, context=context)
        attributes: Attributes = {"anthropic.batch.result.type": kind}
        custom_id = field(item, "custom_id")
        if isinstance(custom_id, str):
            attributes["anthropic.batch.custom_id"] = custom_id
        if kind == "succeeded":
            message = field(result, "message")
            attributes.update(self._on_message(message, scope, context))
        elif kind == "errored":
            error_type = field(result, "error", "error", "type")
            if isinstance(error_type, str):
                attributes["error.type"] = error_type
        if telemetry.call_log.wanted:
            telemetry.call_log.emit_event(BATCH_RESULT_EVENT, attributes, context, failed=kind != "succeeded")

    def _on_message(self, message: Any, scope: dict[str, Any], context: Any) -> Attributes:
        telemetry = self.record.telemetry
        model = field(message, "model")
        usage = field(message, "usage")
        attributes: Attributes = {}
        message_id = field(message, "id")
        if isinstance(message_id, str):
            attributes["gen_ai.response.id"] = message_id
        if isinstance(model, str):
            attributes["gen_ai.response.model"] = model
            bounded = telemetry.models.admit(model)
            scope = {**scope, "gen_ai.request.model": bounded, "gen_ai.response.model": bounded}
        cost = telemetry.cost(message, batch=True)
        counts = telemetry.instruments.record_tokens(
            usage, {**scope, "gen_ai.operation.name": "chat", "anthropic.batch": True}, cost, context
        )
        self.input_tokens += counts.get("input", 0)
        self.output_tokens += counts.get("output", 0)
        for token_type, count in counts.items():
            attributes[f"gen_ai.usage.{token_type}_tokens"] = count
        cache_read = int_field(usage, "cache_read_input_tokens")
        if cache_read is not None:
            attributes["gen_ai.usage.cache_read.input_tokens"] = cache_read
        if cost is not None:
            attributes["anthropic.cost.usd"] = cost.total
        return attributes

    def summary(self) -> Attributes:
        """What the results span says when iteration ends: counts by type and token totals."""
        attributes: Attributes = {f"anthropic.batch.results.{kind}": count for kind, count in self.counts.items()}
        attributes["anthropic.batch.results.input_tokens"] = self.input_tokens
        attributes["anthropic.batch.results.output_tokens"] = self.output_tokens
        return attributes

    def finish(self, error: Optional[BaseException] = None, *, exhausted: bool = False) -> None:
        """End the results call once, with the summary (however it ended). Never raises."""
        if self.finished:
            return
        self.finished = True
        try:
            sdk_span = self.record.sdk_span
            if sdk_span is not None and sdk_span.is_recording():
                sdk_span.set_attributes(self.summary())
            self.complete(self.record, self.record.response, None, error, extra=self.summary())
        except Exception:
            log.debug("anthropic-otel: could not finish a batch results call", exc_info=True)


def wrap_batch_results(record: CallRecord, result: Any, complete: Complete) -> Optional[Any]:
    """The proxy for a batch results decoder, or None if `result` is not one."""
    if record.operation.name != "anthropic.messages.batches.results":
        return None
    name = type(result).__name__
    if name == "JSONLDecoder":
        return StreamProxy(result, BatchResultsRecorder(record, complete))
    if name == "AsyncJSONLDecoder":
        return AsyncStreamProxy(result, BatchResultsRecorder(record, complete))
    return None
