"""The life of one API call: begin, observe, finish, on every SDK version.

`begin` runs when the SDK's `request()` is entered. If the SDK will not make a span for the call
(SDK < 1.14, its tracing off, or no real tracer provider) we start ours, named and attributed as
the SDK's own would be, and make it current. Otherwise we make none: the SDK's span is enriched
from inside the SDK (`enrich_sdk_span`) and stays the only one.

While the call runs, hooks deeper in the SDK report into the current `CallRecord` (a
contextvar, so threads and asyncio tasks never see each other's calls): each attempt's request
(`note_attempt`) and the final response (`note_response`). `finish` then ends our span and
records metrics from the outcome, sampled or not.

Every function here swallows its own errors (logged at debug): telemetry must never change what
the application sees.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar, Token
from typing import Any, Optional

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from anthropic_otel import streaming
from anthropic_otel.attributes import (
    Attributes,
    error_type,
    field,
    header_attributes,
    request_attributes,
    response_attributes,
    url_attributes,
)
from anthropic_otel.metrics import METRIC_KEYS, CallMetrics, Instruments
from anthropic_otel.operations import Operation, operation_for
from anthropic_otel.raw_responses import wrap_unread_response
from anthropic_otel.sdk import client_makes_span, provider_name, server_of

__all__ = ["CallRecord", "Telemetry", "begin", "current_call", "enrich_sdk_span", "finish", "finish_result"]

log = logging.getLogger(__name__)

_current: ContextVar[Optional[CallRecord]] = ContextVar("anthropic_otel_call", default=None)


class Telemetry:
    """What `instrument()` set up: the tracer and the instruments calls report to."""

    __slots__ = ("instruments", "tracer")

    def __init__(self, tracer: Tracer, instruments: Instruments) -> None:
        self.tracer = tracer
        self.instruments = instruments


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
        record = CallRecord(telemetry, operation, attributes)
        if not client_makes_span(client):
            record.span = telemetry.tracer.start_span(operation.name, kind=SpanKind.CLIENT, attributes=attributes)
        return record
    except Exception:
        log.debug("anthropic-otel: could not begin recording a call", exc_info=True)
        return None


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


def outcome_attributes(
    record: CallRecord, response: Any, body: Any, error: Optional[BaseException], error_kind: Optional[str]
) -> Attributes:
    """What the end of the call adds to its span: response body, headers, status, retries."""
    attributes: Attributes = {}
    if response is not None:
        attributes["http.response.status_code"] = response.status_code
        attributes.update(header_attributes(response.headers.items()))
    if record.retries:
        attributes["http.request.resend_count"] = record.retries
    if body is not None:
        attributes.update(response_attributes(record.operation, body))
    if error is not None:
        attributes["error.type"] = error_type(error)
    elif error_kind is not None:
        attributes["error.type"] = error_kind
    return attributes


def response_body(result: Any) -> Any:
    """The parsed body of a result: the model itself, or a raw response's JSON once it was read."""
    raw = getattr(result, "http_response", None)
    if raw is None:
        return result
    try:
        return json.loads(raw.content) if raw.is_closed else None
    except Exception:
        return None


def final_response(record: CallRecord, result: Any, error: Optional[BaseException]) -> Any:
    """The HTTP response of the call's final attempt, wherever this SDK version keeps it."""
    if record.response is not None:
        return record.response
    if error is not None:
        return getattr(error, "response", None)
    return getattr(result, "http_response", None) or getattr(result, "response", None)


def finish_result(record: CallRecord, result: Any) -> Any:
    """Finish a call that returned `result`, and return what the application should get.

    A stream, or a raw response whose body is unread, is not finished here: it is handed back
    wrapped, and finishes when the application is done with it.
    """
    try:
        record.response = final_response(record, result, None)
        proxy = streaming.wrap_stream(record, result, complete) or wrap_unread_response(record, result, complete)
        if proxy is not None:
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
        span = record.span
        if span is None and not record.sdk_seen:
            # We expected the SDK to make a span and it did not: make ours late rather than none.
            span = record.span = record.telemetry.tracer.start_span(
                record.operation.name, kind=SpanKind.CLIENT, attributes=record.attributes, start_time=record.start_ns
            )
        if span is not None:
            _end_own_span(record, span, outcome, error is not None or error_kind is not None, error)
        _record_metrics(record, body, outcome, time_to_first_chunk)
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
            span.set_status(Status(StatusCode.OK))
        elif error is None or isinstance(error, Exception):
            # Anything but an Exception (e.g. CancelledError) is the application stopping the call: status unset.
            span.set_status(Status(StatusCode.ERROR))
    span.end()


def _record_metrics(record: CallRecord, body: Any, outcome: Attributes, time_to_first_chunk: Optional[float]) -> None:
    attributes = {key: record.attributes[key] for key in METRIC_KEYS if key in record.attributes}
    attributes.setdefault("gen_ai.operation.name", record.operation.metric_operation)
    model = outcome.get("gen_ai.response.model")
    if model is not None:
        attributes["gen_ai.response.model"] = model
    failure = outcome.get("error.type")
    if failure is not None:
        attributes["error.type"] = failure
    usage = field(body, "usage") if record.operation.is_generation else None
    call = CallMetrics(attributes, time.perf_counter() - record.start_s, usage, record.retries, time_to_first_chunk)
    record.telemetry.instruments.record(call, record.context)


def enrich_sdk_span(span: Span, result: Any) -> None:
    """Called by the SDK (1.14+) with its span and the call's result, just before it records and ends it.

    Adds what the SDK leaves out (finish reasons, rate limits, server tools, semconv cache-write
    name) so that both paths carry the same attributes. The SDK's own values win where both
    record a key: it sets them after this.
    """
    record = _current.get()
    if record is None or record.span is not None or record.sdk_seen:
        return
    try:
        record.sdk_seen = True
        if not span.is_recording():
            return
        record.sdk_span = span
        error = getattr(result, "error", None)
        response = getattr(result, "final_attempt", None)
        if response is not None:
            span.set_attributes(header_attributes(response.headers.items()))
        if error is None:
            span.set_attributes(response_attributes(record.operation, response_body(getattr(result, "data", None))))
    except Exception:
        log.debug("anthropic-otel: could not enrich the SDK's span", exc_info=True)
