"""The end of a call: its span (ours, if we made one), its metrics, its records. Never raises.

Every way a call ends arrives here exactly once: `calls.finish` for a call that returned or
raised, the stream proxies and the raw-response wrapper for results the application reads later
(they are handed `complete` so that they need not import `calls`).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Optional

from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from anthropic_otel.attributes import Attributes, field, url_attributes
from anthropic_otel.cardinality import bound_models
from anthropic_otel.content_capture import CONTENT_EVENT
from anthropic_otel.metrics import METRIC_KEYS, CallMetrics
from anthropic_otel.outcomes import outcome_attributes
from anthropic_otel.pricing import Cost
from anthropic_otel.records import call_record

if TYPE_CHECKING:
    from anthropic_otel.calls import CallRecord
    from anthropic_otel.telemetry import Telemetry

__all__ = ["complete", "metric_attributes", "set_end_status"]

log = logging.getLogger("anthropic_otel.lifecycle")


def complete(
    record: CallRecord,
    response: Any,
    body: Any,
    error: Optional[BaseException],
    *,
    error_kind: Optional[str] = None,
    extra: Optional[Attributes] = None,
    time_to_first_chunk: Optional[float] = None,
) -> None:
    """End the call: our span (if we made one) and its metrics. Never raises.

    `error_kind` marks a call that failed without an exception (a stream the server cut short).
    """
    try:
        outcome = outcome_attributes(record, response, body, error, error_kind)
        if extra:
            outcome.update(extra)
        cost = record.cost(body)
        if cost is not None:
            outcome["anthropic.cost.usd"] = cost.total
        span = record.span
        if span is None and not record.sdk_seen and record.telemetry.active:
            # We expected the SDK to make a span and it did not: make ours late rather than none.
            # Not after uninstrument(): then our hook on the SDK's span was removed mid-call, and
            # the SDK's span is there, unseen.
            span = record.span = record.telemetry.tracer.start_span(
                record.operation.name, kind=SpanKind.CLIENT, attributes=record.attributes, start_time=record.start_ns
            )
        record.telemetry.diagnostics.on_outcome(record, body, error, response, span)
        if span is not None:
            _end_own_span(record, span, outcome, body, failed=error is not None or error_kind is not None, error=error)
        duration = time.perf_counter() - record.start_s
        _record_metrics(
            record, body, outcome=outcome, duration=duration, time_to_first_chunk=time_to_first_chunk, cost=cost
        )
        call_log = record.telemetry.call_log
        if call_log.wanted:
            call_log.emit(call_record({**record.attributes, **outcome}, duration), record.context)
        if record.content is not None:
            _emit_content(record, outcome, body)
    except Exception:
        log.debug("anthropic-otel: could not finish recording a call", exc_info=True)


def _emit_content(record: CallRecord, outcome: Attributes, body: Any) -> None:
    """The call's `gen_ai.client.inference.operation.details` event, when content goes to events."""
    content = record.content
    if content is not None and content.capture.on_event and record.telemetry.call_log.wanted:
        event = content.event_attributes({**record.attributes, **outcome}, body)
        if event is not None:
            record.telemetry.call_log.emit_event(CONTENT_EVENT, event, record.context, failed=False, json_line=False)


def _end_own_span(
    record: CallRecord, span: Span, outcome: Attributes, body: Any, *, failed: bool, error: Optional[BaseException]
) -> None:
    if span.is_recording():
        content = record.content
        if content is not None and content.capture.on_span:
            content.set_on_span(span, body)
        url = record.attempt_url
        if url is not None:
            outcome = {
                **url_attributes(
                    url.scheme,
                    url.netloc.decode("ascii"),
                    url.raw_path.partition(b"?")[0].decode("ascii"),
                    url.query.decode("ascii"),
                    record.operation.query_params,
                ),
                **outcome,
            }
        span.set_attributes(outcome)
        set_end_status(span, outcome, failed=failed, error=error, has_end=not record.operation.is_event_stream)
    span.end()


def set_end_status(
    span: Span, outcome: Attributes, *, failed: bool, error: Optional[BaseException], has_end: bool = True
) -> None:
    """The status of a span we made, as the SDK sets its own: OK, ERROR, or left unset.

    A stream closed or dropped before its end is no error, and no success either: status stays
    unset; so does an event stream (`has_end=False`), which has no end. Anything but an Exception
    (e.g. CancelledError) is the application stopping the call: status unset too.
    """
    if not failed:
        if outcome.get("anthropic.stream.completed") is not False and has_end:
            span.set_status(_OK)
    elif error is None or isinstance(error, Exception):
        span.set_status(_ERROR)


_OK, _ERROR = Status(StatusCode.OK), Status(StatusCode.ERROR)  # immutable, so shared by every call


def _record_metrics(
    record: CallRecord,
    body: Any,
    *,
    outcome: Attributes,
    duration: float,
    time_to_first_chunk: Optional[float],
    cost: Optional[Cost],
) -> None:
    telemetry = record.telemetry
    attributes = metric_attributes(telemetry, record.attributes, outcome)
    attributes.setdefault("gen_ai.operation.name", record.operation.metric_operation)
    usage = field(body, "usage") if record.operation.is_generation else None
    call = CallMetrics(attributes, duration, usage, record.retries, time_to_first_chunk, outcome, cost)
    telemetry.instruments.record(call, record.context)


def metric_attributes(telemetry: Telemetry, attributes: Attributes, outcome: Attributes) -> Attributes:
    """A finished call's metric attributes: the span's low-cardinality keys, the response model and
    error type from its outcome, with models and error types capped (`cardinality`)."""
    chosen = {key: attributes[key] for key in METRIC_KEYS if key in attributes}
    model = outcome.get("gen_ai.response.model")
    if model is not None:
        chosen["gen_ai.response.model"] = model
    bound_models(chosen, telemetry.models)
    failure = outcome.get("error.type")
    if isinstance(failure, str):
        chosen["error.type"] = telemetry.error_types.admit(failure)
    return chosen
