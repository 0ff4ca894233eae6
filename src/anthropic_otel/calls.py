"""The life of one API call: begin, observe, finish, on every SDK version.

`begin` runs when the SDK's `request()` is entered. If the SDK will not make a span for the call
(SDK < 1.14, its tracing off, or no real tracer provider) we start ours, named and attributed as
the SDK's own would be, and make it current. Otherwise we make none: the SDK's span is enriched
from inside the SDK (`sdk_spans.enrich_sdk_span`) and stays the only one.

While the call runs, hooks deeper in the SDK report into the current `CallRecord` (a
contextvar, so threads and asyncio tasks never see each other's calls): each attempt's request
(`note_attempt`) and the final response (`note_response`). `finish` then ends our span and
records metrics from the outcome, sampled or not.

Every function here swallows its own errors (logged at debug): telemetry must never change what
the application sees.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar, Token
from typing import Any, Optional

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from anthropic_otel import streaming
from anthropic_otel.attributes import (
    Attributes,
    field,
    request_attributes,
    url_attributes,
)
from anthropic_otel.batch_results import wrap_batch_results
from anthropic_otel.cardinality import bound_models
from anthropic_otel.metrics import METRIC_KEYS, CallMetrics
from anthropic_otel.operations import Operation, operation_for
from anthropic_otel.outcomes import ResponseHead, final_response, outcome_attributes, response_body
from anthropic_otel.pricing import Cost
from anthropic_otel.raw_responses import wrap_unread_response
from anthropic_otel.records import call_record
from anthropic_otel.routes import current_conversation, current_route
from anthropic_otel.sdk import client_conversation, client_makes_span, provider_name, server_of
from anthropic_otel.telemetry import Telemetry

__all__ = ["SCOPE_KEYS", "CallRecord", "begin", "current_call", "finish", "finish_result"]

# Not `__name__`: `anthropic_otel.calls` is the logger of the per-call JSON lines (`records`).
log = logging.getLogger("anthropic_otel.lifecycle")

# What the running code says about a call (route, conversation): the SDK's span gets them from us.
SCOPE_KEYS = ("anthropic.route", "gen_ai.conversation.id")

_current: ContextVar[Optional[CallRecord]] = ContextVar("anthropic_otel_call", default=None)


class CallRecord:
    """Everything known about one call while it runs. One per `request()`."""

    __slots__ = (
        "attempt_url",
        "attributes",
        "operation",
        "response",
        "retries",
        "sdk_seen",
        "sdk_span",
        "span",
        "start_ns",
        "start_s",
        "telemetry",
    )

    def __init__(self, telemetry: Telemetry, operation: Operation, attributes: Attributes) -> None:
        self.telemetry = telemetry
        self.operation = operation
        self.attributes = attributes
        self.start_s = time.perf_counter()
        self.start_ns = time.time_ns()
        self.span: Optional[Span] = None
        self.sdk_span: Optional[Span] = None
        self.sdk_seen = False
        self.response: Any = None
        self.retries = 0
        self.attempt_url: Any = None

    @property
    def context(self) -> Optional[Context]:
        """A context holding the call's span (ours or the SDK's), for exemplars and children."""
        span = self.span or self.sdk_span
        return trace.set_span_in_context(span) if span is not None else None


def current_call() -> Optional[CallRecord]:
    """The call that the running code is part of, if it is one we record."""
    return _current.get()


def begin(telemetry: Telemetry, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[CallRecord]:
    """Start recording a `request(cast_to, options, ...)` call, or return None to stay out of it."""
    try:
        options = args[1] if len(args) > 1 else kwargs["options"]
        operation = operation_for(options.method, options.url)
        if operation is None:
            return None
        stream = bool(kwargs.get("stream", False))
        attributes = request_attributes(
            operation,
            options.method,
            options.json_data,
            _beta_header(client, options),
            stream=stream,
            provider=provider_name(client),
        )
        attributes.update(server_of(client))
        attributes.update(scope_attributes(telemetry, client))
        record = CallRecord(telemetry, operation, attributes)
        if not client_makes_span(client):
            record.span = telemetry.tracer.start_span(operation.name, kind=SpanKind.CLIENT, attributes=attributes)
        return record
    except Exception:
        log.debug("anthropic-otel: could not begin recording a call", exc_info=True)
        return None


def scope_attributes(telemetry: Telemetry, client: Any) -> Attributes:
    """`anthropic.route` and `gen_ai.conversation.id` of the running code.

    The conversation set with `conversation()` wins over the client's own `conversation_id`
    option (SDK 1.14+), which is used otherwise, so both span paths carry the same value.
    """
    attributes: Attributes = {}
    route = current_route(telemetry.routes)
    if route is not None:
        attributes["anthropic.route"] = route
    conversation = current_conversation() or client_conversation(client)
    if conversation is not None:
        attributes["gen_ai.conversation.id"] = conversation
    return attributes


_Token = tuple["Token[Optional[CallRecord]]", Optional[object]]


def enter(record: CallRecord) -> _Token:
    """Make `record` the current call (and our span the current span); returns a token for `leave`."""
    call_token = _current.set(record)
    context_token: Optional[object] = None
    if record.span is not None:
        context_token = context.attach(trace.set_span_in_context(record.span))
    return (call_token, context_token)


def leave(token: _Token) -> None:
    """Undo `enter`."""
    call_token, context_token = token
    if context_token is not None:
        context.detach(context_token)  # type: ignore[arg-type]
    _current.reset(call_token)


def note_attempt(retries_taken: int, request: Any) -> None:
    """Called for every HTTP attempt of the current call: counts retries, keeps the first URL."""
    record = _current.get()
    if record is None:
        return
    record.retries = max(record.retries, retries_taken)
    if record.attempt_url is None:
        record.attempt_url = getattr(request, "url", None)


def note_response(response: Any) -> None:
    """Called with the final successful HTTP response of the current call (for its headers)."""
    record = _current.get()
    if record is not None:
        record.response = response


def _beta_header(client: Any, options: Any) -> Optional[str]:
    """The `anthropic-beta` header the call sends: its own, else the client's default."""
    for headers in (options.headers, getattr(client, "default_headers", None)):
        if isinstance(headers, dict):
            for name, value in headers.items():
                if name.lower() == "anthropic-beta" and isinstance(value, str):
                    return value
    return None


def finish_result(record: CallRecord, result: Any) -> Any:
    """Finish a call that returned `result`, and return what the application should get.

    A stream, or a raw response whose body is unread, is not finished here: it is handed back
    wrapped, and finishes when the application is done with it.
    """
    try:
        record.response = final_response(record, result, None)
        proxy = (
            wrap_batch_results(record, result, complete)
            or streaming.wrap_stream(record, result, complete)
            or wrap_unread_response(record, result, complete)
        )
        if proxy is not None:
            # Keep the status and headers, not the response: the proxy's finalizer holds this record,
            # and on SDK 1.14+ the response leads back to the proxy (through the SDK's span observer
            # on its body and a `messages.stream()` helper), which would then never be collected.
            record.response = ResponseHead.of(record.response)
            return proxy
    except Exception:
        log.debug("anthropic-otel: could not wrap a stream", exc_info=True)
    finish(record, result, None)
    return result


def finish(record: CallRecord, result: Any, error: Optional[BaseException]) -> None:
    """End a call that returned (not a stream) or raised."""
    body = response_body(result) if error is None else None
    complete(record, final_response(record, result, error), body, error)


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
        cost = record.telemetry.cost(body) if record.operation.is_generation else None
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
        if span is not None:
            _end_own_span(record, span, outcome, error is not None or error_kind is not None, error)
        duration = time.perf_counter() - record.start_s
        _record_metrics(
            record, body, outcome=outcome, duration=duration, time_to_first_chunk=time_to_first_chunk, cost=cost
        )
        telemetry = record.telemetry
        telemetry.call_log.emit(call_record({**record.attributes, **outcome}, duration), record.context)
    except Exception:
        log.debug("anthropic-otel: could not finish recording a call", exc_info=True)


def _end_own_span(
    record: CallRecord, span: Span, outcome: Attributes, failed: bool, error: Optional[BaseException]
) -> None:
    if span.is_recording():
        url = record.attempt_url
        if url is not None:
            span.set_attributes(
                url_attributes(
                    url.scheme,
                    url.netloc.decode("ascii"),
                    url.raw_path.partition(b"?")[0].decode("ascii"),
                    url.query.decode("ascii"),
                    record.operation.query_params,
                )
            )
        span.set_attributes(outcome)
        if not failed:
            # A stream closed or dropped before its end is no error, and no success either: status
            # stays unset, as the SDK leaves its own span.
            if outcome.get("anthropic.stream.completed") is not False:
                span.set_status(Status(StatusCode.OK))
        elif error is None or isinstance(error, Exception):
            # Anything but an Exception (e.g. CancelledError) is the application stopping the call: status unset.
            span.set_status(Status(StatusCode.ERROR))
    span.end()


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
    attributes = {key: record.attributes[key] for key in METRIC_KEYS if key in record.attributes}
    attributes.setdefault("gen_ai.operation.name", record.operation.metric_operation)
    model = outcome.get("gen_ai.response.model")
    if model is not None:
        attributes["gen_ai.response.model"] = model
    bound_models(attributes, telemetry.models)
    failure = outcome.get("error.type")
    if isinstance(failure, str):
        attributes["error.type"] = telemetry.error_types.admit(failure)
    usage = field(body, "usage") if record.operation.is_generation else None
    call = CallMetrics(attributes, duration, usage, record.retries, time_to_first_chunk, outcome, cost)
    telemetry.instruments.record(call, record.context)
