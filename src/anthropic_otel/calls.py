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
from typing import Any, Callable, Optional, TypeVar, cast

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
from anthropic_otel.content_capture import CONTENT_EVENT, CallContent
from anthropic_otel.diagnostics import FailedAttempt, Finding
from anthropic_otel.event_streams import wrap_event_stream
from anthropic_otel.metrics import METRIC_KEYS, CallMetrics
from anthropic_otel.operations import Operation, operation_for
from anthropic_otel.outcomes import final_response, outcome_attributes, response_body
from anthropic_otel.pricing import Cost
from anthropic_otel.raw_responses import wrap_unread_response
from anthropic_otel.records import call_record
from anthropic_otel.resource_attributes import resource_request_attributes
from anthropic_otel.routes import current_conversation, current_route
from anthropic_otel.sdk import client_conversation, client_makes_span, provider_name, server_of
from anthropic_otel.telemetry import Telemetry

__all__ = ["SCOPE_KEYS", "CallRecord", "begin", "current_call", "finish", "finish_result", "note_retry"]

# Not `__name__`: `anthropic_otel.calls` is the logger of the per-call JSON lines (`records`).
log = logging.getLogger("anthropic_otel.lifecycle")

# What the running code says about a call (route, conversation): the SDK's span gets them from us.
SCOPE_KEYS = ("anthropic.route", "gen_ai.conversation.id")

_T = TypeVar("_T")
_current: ContextVar[Optional[CallRecord]] = ContextVar("anthropic_otel_call", default=None)


class CallRecord:
    """Everything known about one call while it runs. One per `request()`."""

    __slots__ = (
        "_context",
        "attempt_url",
        "attributes",
        "content",
        "diagnosed",
        "failed_attempts",
        "findings",
        "memo",
        "operation",
        "request",
        "response",
        "retries",
        "sdk_seen",
        "sdk_span",
        "sent_early",
        "span",
        "start_ns",
        "start_s",
        "telemetry",
    )

    def __init__(self, telemetry: Telemetry, operation: Operation, attributes: Attributes) -> None:
        self.telemetry = telemetry
        self.operation = operation
        self.attributes = attributes
        self.request: Any = None
        self.findings: list[Finding] = []
        self.diagnosed = False
        self.failed_attempts: list[FailedAttempt] = []
        self.sent_early = False
        self.start_s = time.perf_counter()
        self.start_ns = time.time_ns()
        self.span: Optional[Span] = None
        self.sdk_span: Optional[Span] = None
        self.sdk_seen = False
        self.response: Any = None
        self.retries = 0
        self.attempt_url: Any = None
        self._context: Optional[Context] = None
        self.memo: dict[str, tuple[Any, Any]] = {}
        self.content: Optional[CallContent] = None

    @property
    def context(self) -> Optional[Context]:
        """A context holding the call's span (ours or the SDK's), for exemplars and children."""
        span = self.span or self.sdk_span
        if span is None:
            return None
        context = self._context
        if context is None or trace.get_current_span(context) is not span:
            context = self._context = trace.set_span_in_context(span)
        return context

    def once(self, name: str, source: Any, work: Callable[[], _T]) -> _T:
        """`work()`, done once per `source` object: the SDK's span and ours ask for the same facts
        (headers, body attributes, cost) at two points of one call, and need not work them out twice."""
        hit = self.memo.get(name)
        if hit is not None and hit[0] is source:
            return cast(_T, hit[1])
        value = work()
        self.memo[name] = (source, value)
        return value

    def cost(self, body: Any) -> Optional[Cost]:
        """What the call cost, from its final `body`."""
        if not self.operation.is_generation or body is None:
            return None
        return self.once("cost", body, lambda: self.telemetry.cost(body))


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
        request = sent_json(options.json_data)
        attributes = request_attributes(
            operation,
            options.method,
            request,
            _beta_header(client, options),
            stream=stream,
            provider=provider_name(client),
        )
        attributes.update(resource_request_attributes(operation, options.url, request))
        attributes.update(server_of(client))
        attributes.update(scope_attributes(telemetry, client))
        record = CallRecord(telemetry, operation, attributes)
        record.request = request
        telemetry.diagnostics.on_request(record)
        if telemetry.content is not None and operation.kind == "message":
            record.content = telemetry.content.begin(request, client)
        if not client_makes_span(client):
            record.span = telemetry.tracer.start_span(operation.name, kind=SpanKind.CLIENT, attributes=attributes)
        return record
    except Exception:
        log.debug("anthropic-otel: could not begin recording a call", exc_info=True)
        return None


def sent_json(body: Any) -> Any:
    """The request body as it goes on the wire: without the `Omit`/`NotGiven` placeholders that
    SDK 2.x leaves in `json_data` for every parameter not passed (`cache_control`, `system`, ...)."""
    if not isinstance(body, dict):
        return body
    return {key: value for key, value in body.items() if type(value).__name__ not in _PLACEHOLDERS}


_PLACEHOLDERS = frozenset({"Omit", "NotGiven"})


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
    if retries_taken:
        record.telemetry.diagnostics.on_attempt(record)


def note_retry(response: Any) -> None:
    """Called when the SDK decides to retry an attempt that got `response` (a 429, 529, 5xx, ...)."""
    record = _current.get()
    if record is not None:
        record.telemetry.diagnostics.on_retry(record, response)


def note_response(response: Any) -> None:
    """Called with the final successful HTTP response of the current call (for its headers)."""
    record = _current.get()
    if record is not None:
        record.response = response


def _beta_header(client: Any, options: Any) -> Optional[str]:
    """The `anthropic-beta` header the call sends: its own, else the one the client was made with.

    The client's are read from `_custom_headers` (what `default_headers=` gave), not from
    `default_headers`, a property that rebuilds every header, credentials included, on each read.
    """
    for headers in (options.headers, getattr(client, "_custom_headers", None)):
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
            or wrap_event_stream(record, result, complete)
            or streaming.wrap_stream(record, result, complete)
            or wrap_unread_response(record, result, complete)
        )
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
        cost = record.cost(body)
        if cost is not None:
            outcome["anthropic.cost.usd"] = cost.total
        span = record.span
        if span is None and not record.sdk_seen:
            # We expected the SDK to make a span and it did not: make ours late rather than none.
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
        telemetry = record.telemetry
        telemetry.call_log.emit(call_record({**record.attributes, **outcome}, duration), record.context)
        if record.content is not None:
            _emit_content(record, outcome, body)
    except Exception:
        log.debug("anthropic-otel: could not finish recording a call", exc_info=True)


def _emit_content(record: CallRecord, outcome: Attributes, body: Any) -> None:
    """The call's `gen_ai.client.inference.operation.details` event, when content goes to events."""
    content = record.content
    if content is not None and content.capture.on_event:
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
        if not failed:
            # A stream closed or dropped before its end is no error, and no success either: status
            # stays unset, as the SDK leaves its own span; so does an event stream, which has no end.
            if outcome.get("anthropic.stream.completed") is not False and not record.operation.is_event_stream:
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
    attributes = {key: record.attributes[key] for key in METRIC_KEYS if key in record.attributes}
    attributes.setdefault("gen_ai.operation.name", record.operation.metric_operation)
    model = outcome.get("gen_ai.response.model")
    if model is not None:
        attributes["gen_ai.response.model"] = model
    failure = outcome.get("error.type")
    if failure is not None:
        attributes["error.type"] = failure
    usage = field(body, "usage") if record.operation.is_generation else None
    call = CallMetrics(attributes, duration, usage, record.retries, time_to_first_chunk, outcome, cost)
    record.telemetry.instruments.record(call, record.context)
