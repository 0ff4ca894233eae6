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
from opentelemetry.trace import Span, SpanKind

from anthropic_otel import streaming
from anthropic_otel.attributes import (
    Attributes,
    request_attributes,
)
from anthropic_otel.batch_results import wrap_batch_results
from anthropic_otel.content_capture import CallContent
from anthropic_otel.diagnostics import FailedAttempt, Finding
from anthropic_otel.endings import complete
from anthropic_otel.event_streams import wrap_event_stream
from anthropic_otel.operations import Operation, operation_for
from anthropic_otel.outcomes import ResponseHead, final_response, response_body
from anthropic_otel.pricing import Cost
from anthropic_otel.raw_responses import wrap_unread_response
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
            # Started when the record was (its clock is the call's): TTFT and duration count from there.
            record.span = telemetry.tracer.start_span(
                operation.name, kind=SpanKind.CLIENT, attributes=attributes, start_time=record.start_ns
            )
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
        proxy = _proxy_for(record, result)
        if proxy is not None:
            # Keep the status and headers, not the response: the proxy's finalizer holds this record,
            # and on SDK 1.14+ the response leads back to the proxy (through the SDK's span observer
            # on its body and a `messages.stream()` helper), which would then never be collected.
            record.response = ResponseHead.of(record.response)
            record.memo.clear()  # it may hold the response too (as the key of its header attributes)
            return proxy
    except Exception:
        log.debug("anthropic-otel: could not wrap a stream", exc_info=True)
    finish(record, result, None)
    return result


def _proxy_for(record: CallRecord, result: Any) -> Any:
    """The proxy a result that is read later goes back in, or None. A parsed body (a pydantic
    `Message`, page, ...) never needs one: the class check spares it four lookups that miss."""
    if hasattr(type(result), "__pydantic_fields__"):
        return None
    return (
        wrap_batch_results(record, result, complete)
        or wrap_event_stream(record, result, complete)
        or streaming.wrap_stream(record, result, complete)
        or wrap_unread_response(record, result, complete)
    )


def finish(record: CallRecord, result: Any, error: Optional[BaseException]) -> None:
    """End a call that returned (not a stream) or raised."""
    body = response_body(result) if error is None else None
    complete(record, final_response(record, result, error), body, error)
