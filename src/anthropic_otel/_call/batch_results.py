"""Message Batch results: per-result usage, cost and a findable record, with one span for them all.

A batch is processed at half price, its answers come back later as JSONL, and each result is
tied to the application's work only by its `custom_id`. `batches.results()` returns a decoder the
application iterates; its watcher (`watch`) hands each result to `BatchResultsRecorder`, which

- feeds every `succeeded` result's usage into the token metrics (with `anthropic.batch=true`)
  and its cost, at the batch price, into the cost metrics;
- counts every result by type in `anthropic.client.batch.results`;
- emits one `anthropic.batch.result` log record, in the context of the results call's span, with
  `custom_id`, result type, the message id, usage and, for errors, the error type: how one finds
  "what happened to ticket 47928" inside a batch;
- gives the results call, when it ends, counts and token totals as span attributes (on the SDK's
  own span too, before the SDK ends it at the end of the body).

Nothing per result is kept: 100,000 results make one span and a handful of integers.
"""

from __future__ import annotations

from typing import Any, Optional

from anthropic_otel._call.call import Call
from anthropic_otel._call.outcome import Outcome
from anthropic_otel._call.watch import Recorder, watch
from anthropic_otel._cardinality import bound_models
from anthropic_otel._metrics import METRIC_KEYS
from anthropic_otel._read.attributes import Attributes, field, int_field
from anthropic_otel._read.bodies import usage_counts

__all__ = ["BATCH_RESULT_EVENT", "RESULT_TYPES", "BatchResultsRecorder", "watch_batch_results"]

BATCH_RESULT_EVENT = "anthropic.batch.result"
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")


class BatchResultsRecorder(Recorder):
    """Counts and token totals of one results iteration; reports each result as it passes."""

    __slots__ = ("context", "counts", "input_tokens", "output_tokens", "scope")

    # The SDK reads the body ahead of the results the application has seen: its span waits for the totals.
    holds_sdk_span = True

    def __init__(self, call: Call) -> None:
        super().__init__(call)
        # Worked out once, not per result: the metric attributes every result shares, and the
        # results span's context that its metric points and records link to.
        self.scope = {key: call.attributes[key] for key in METRIC_KEYS if key in call.attributes}
        self.scope.pop("gen_ai.operation.name", None)
        bound_models(self.scope, call.telemetry.models)
        self.context = call.context
        self.counts = dict.fromkeys(RESULT_TYPES, 0)
        self.input_tokens = 0
        self.output_tokens = 0

    def on_item(self, item: Any) -> None:
        """One result: metrics and a record."""
        telemetry = self.call.telemetry
        result = field(item, "result")
        kind = field(result, "type")
        kind = kind if kind in RESULT_TYPES else "unknown"  # a fixed vocabulary: bounded metrics and counts
        self.counts[kind] = self.counts.get(kind, 0) + 1
        scope, context = self.scope, self.context
        message = field(result, "message") if kind == "succeeded" else None
        model = field(message, "model")
        counted = {**scope, "anthropic.batch.result.type": kind}
        if isinstance(model, str):  # the model that answered (bounded); other results have none
            counted["gen_ai.request.model"] = telemetry.models.admit(model)
        telemetry.instruments.batch_results.add(1, counted, context=context)
        attributes: Attributes = {"anthropic.batch.result.type": kind}
        custom_id = field(item, "custom_id")
        if isinstance(custom_id, str):
            attributes["anthropic.batch.custom_id"] = custom_id
        if kind == "succeeded":
            attributes.update(self._on_message(message, scope, context))
        elif kind == "errored":
            error_type = field(result, "error", "error", "type")
            if isinstance(error_type, str):
                attributes["error.type"] = error_type
        if telemetry.call_log.wanted:
            telemetry.call_log.emit_event(BATCH_RESULT_EVENT, attributes, context, failed=kind != "succeeded")

    def _on_message(self, message: Any, scope: dict[str, Any], context: Any) -> Attributes:
        telemetry = self.call.telemetry
        model = field(message, "model")
        usage = field(message, "usage")
        attributes: Attributes = {}
        message_id = field(message, "id")
        if isinstance(message_id, str):
            attributes["gen_ai.response.id"] = message_id
        cost = None
        if isinstance(model, str):
            attributes["gen_ai.response.model"] = model
            bounded = telemetry.models.admit(model)
            scope = {**scope, "gen_ai.request.model": bounded, "gen_ai.response.model": bounded}
            cost = telemetry.cost(model, usage, batch=True) if usage is not None else None
        counts = usage_counts(usage)
        telemetry.instruments.record_tokens(
            counts, {**scope, "gen_ai.operation.name": "chat", "anthropic.batch": True}, cost
        )
        tokens = counts.tokens
        self.input_tokens += tokens.get("input", 0)
        self.output_tokens += tokens.get("output", 0)
        for token_type, count in tokens.items():
            attributes[f"gen_ai.usage.{token_type}_tokens"] = count
        cache_read = int_field(usage, "cache_read_input_tokens")
        if cache_read is not None:
            attributes["gen_ai.usage.cache_read.input_tokens"] = cache_read
        if cost is not None:
            attributes["anthropic.cost.usd"] = cost.total
        return attributes

    def outcome(self, error: Optional[BaseException], *, exhausted: bool) -> Outcome:
        """However it ended, the results call says how many results of each type were read, and their tokens."""
        extra: Attributes = {f"anthropic.batch.results.{kind}": count for kind, count in self.counts.items()}
        extra["anthropic.batch.results.input_tokens"] = self.input_tokens
        extra["anthropic.batch.results.output_tokens"] = self.output_tokens
        return Outcome(self.call.response, None, error, extra=extra)


def watch_batch_results(call: Call, result: Any) -> bool:
    """Watch a batch results decoder in place; False if `result` is not one."""
    if call.operation.name != "anthropic.messages.batches.results":
        return False
    if type(result).__name__ not in ("JSONLDecoder", "AsyncJSONLDecoder"):
        return False
    return watch(result, BatchResultsRecorder(call))
