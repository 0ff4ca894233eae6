"""The life of one chat completions call to the Claude API through the `openai` SDK.

`begin` decides whether the call is ours (the client's base URL is a Claude API host) and starts
its CLIENT span; the `openai` SDK has no tracing of its own, so this span is always the only one.
While the call runs, hooks deeper in the SDK report its HTTP attempts (`note_attempt`: retries,
URL, and the request body as sent, where the dropped features are looked for) and its final
response (`note_response`: headers) into the current call, a contextvar. `complete` ends the
span and records the same metrics and call record as a Messages API call, from the same
`Telemetry`, after translating the OpenAI usage into the Messages API's shape.

Every function here swallows its own errors (logged at debug): telemetry must never change what
the application sees.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from contextvars import ContextVar, Token
from typing import Any, Optional
from urllib.parse import urlsplit

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind

from anthropic_otel.attributes import (
    Attributes,
    error_type,
    field,
    header_attributes,
    header_pairs,
    server_attributes,
    url_attributes,
)
from anthropic_otel.calls import scope_attributes
from anthropic_otel.diagnostics import CODES, Finding
from anthropic_otel.endings import metric_attributes, set_end_status
from anthropic_otel.metrics import CallMetrics
from anthropic_otel.openai_compat.extraction import (
    FEATURES,
    SPAN_NAME,
    dropped_features,
    request_attributes,
    response_attributes,
    usage_of,
)
from anthropic_otel.outcomes import response_body
from anthropic_otel.records import call_record
from anthropic_otel.telemetry import Telemetry

__all__ = ["CompatCall", "begin", "complete", "current_call", "enter", "finish", "leave"]

log = logging.getLogger("anthropic_otel.openai_compat")

CODE = "compat_feature_dropped"
_current: ContextVar[Optional[CompatCall]] = ContextVar("anthropic_otel_openai_call", default=None)


class CompatCall:
    """Everything known about one call while it runs."""

    __slots__ = (
        "attempt_url",
        "attempts",
        "attributes",
        "findings",
        "inspected",
        "response",
        "retries",
        "span",
        "start_s",
        "telemetry",
    )

    def __init__(self, telemetry: Telemetry, attributes: Attributes, span: Span) -> None:
        self.telemetry = telemetry
        self.attributes = attributes
        self.span = span
        self.start_s = time.perf_counter()
        self.findings: list[Finding] = []
        self.inspected = False
        self.response: Any = None
        self.attempts = 0
        self.retries = 0
        self.attempt_url: Optional[str] = None

    @property
    def context(self) -> Context:
        return trace.set_span_in_context(self.span)


def current_call() -> Optional[CompatCall]:
    return _current.get()


def begin(
    telemetry: Telemetry, hosts: Collection[str], resource: Any, kwargs: Mapping[str, Any]
) -> Optional[CompatCall]:
    """Start recording a `chat.completions.create` call, or return None to stay out of it.

    Out of it: a client whose base URL is not a Claude API host, or a call made inside one we
    already record (so helpers that call `create` themselves still make one span).
    """
    try:
        if _current.get() is not None:
            return None
        client = resource._client
        url = client.base_url
        host = str(url.host).lower()
        if host not in hosts:
            return None
        attributes = request_attributes(kwargs, stream=kwargs.get("stream") is True)
        attributes.update(server_attributes(host, url.port, url.scheme))
        attributes.update(scope_attributes(telemetry, client))
        span = telemetry.tracer.start_span(SPAN_NAME, kind=SpanKind.CLIENT, attributes=attributes)
        return CompatCall(telemetry, attributes, span)
    except Exception:
        log.debug("anthropic-otel: could not begin recording a chat completion", exc_info=True)
        return None


_Token = tuple["Token[Optional[CompatCall]]", object]


def enter(call: CompatCall) -> _Token:
    """Make `call` current, and its span the current span (HTTP client spans nest under it)."""
    return (_current.set(call), context.attach(call.context))


def leave(token: _Token) -> None:
    call_token, context_token = token
    context.detach(context_token)  # type: ignore[arg-type]
    _current.reset(call_token)


def note_attempt(call: CompatCall, request: Any, options: Any) -> None:
    """One HTTP attempt: counts retries, keeps the first URL, and looks at the first body for dropped features.

    Attempts are counted rather than read from `retries_taken`, which openai < 1.4x does not pass.
    """
    call.attempts += 1
    call.retries = call.attempts - 1
    if call.attempt_url is None:
        call.attempt_url = str(getattr(request, "url", "")) or None
    if call.inspected:
        return
    call.inspected = True
    if not call.telemetry.diagnostics.reporter.wants(CODE):
        return
    body = getattr(options, "json_data", None)
    extra = getattr(options, "extra_json", None)
    if isinstance(body, Mapping):
        merged = {**body, **extra} if isinstance(extra, Mapping) else body
        features = dropped_features(merged)
        if features:
            details = "; ".join(f"{name}: {FEATURES[name]}" for name in features)
            message = f"{details} ({CODES[CODE].fix})"
            call.findings.append(Finding(CODE, message, {"anthropic.diagnostic.dropped_features": features}))


def note_response(call: CompatCall, response: Any) -> None:
    call.response = response


def finish(call: CompatCall, result: Any, error: Optional[BaseException]) -> None:
    """End a call that returned (not a stream) or raised."""
    if error is not None:
        if call.response is None:
            call.response = getattr(error, "response", None)
        complete(call, None, error)
    else:
        if call.response is None:
            call.response = getattr(result, "http_response", None)
        complete(call, response_body(result))


def complete(
    call: CompatCall,
    body: Any,
    error: Optional[BaseException] = None,
    *,
    cut: bool = False,
    extra: Optional[Attributes] = None,
    time_to_first_chunk: Optional[float] = None,
) -> None:
    """End the call: span, diagnostics, metrics, call record. Never raises.

    `cut` marks a stream the server ended without a finish reason: an error the application did
    not see, recorded as `error.type=api_error` as for Messages API streams.
    """
    try:
        telemetry = call.telemetry
        outcome = _outcome(call, body, error, cut)
        if extra:
            outcome.update(extra)
        model = outcome.get("gen_ai.response.model", call.attributes.get("gen_ai.request.model"))
        usage = usage_of(field(body, "usage"))
        cost = telemetry.cost({"model": model, "usage": usage}) if usage is not None else None
        if cost is not None:
            outcome["anthropic.cost.usd"] = cost.total
        if call.findings:
            telemetry.diagnostics.reporter.report(call.findings, call.span, call.attributes, call.context)
        _end_span(call, outcome, failed=error is not None or cut, error=error)
        duration = time.perf_counter() - call.start_s
        attributes = metric_attributes(telemetry, call.attributes, outcome)
        metrics = CallMetrics(attributes, duration, usage, call.retries, time_to_first_chunk, outcome, cost)
        telemetry.instruments.record(metrics, call.context)
        if telemetry.call_log.wanted:
            telemetry.call_log.emit(call_record({**call.attributes, **outcome}, duration), call.context)
    except Exception:
        log.debug("anthropic-otel: could not finish recording a chat completion", exc_info=True)
        if call.span.is_recording():  # a span left open would never be exported
            call.span.end()


def _outcome(call: CompatCall, body: Any, error: Optional[BaseException], cut: bool) -> Attributes:
    attributes: Attributes = {}
    response = call.response
    if response is not None:
        attributes["http.response.status_code"] = response.status_code
        attributes.update(header_attributes(header_pairs(response.headers)))
    if call.retries:
        attributes["http.request.resend_count"] = call.retries
    if body is not None:
        attributes.update(response_attributes(body))
    if error is not None:
        attributes["error.type"] = error_type(error)
    elif cut:
        attributes["error.type"] = "api_error"
    return attributes


def _end_span(call: CompatCall, outcome: Attributes, *, failed: bool, error: Optional[BaseException]) -> None:
    span = call.span
    if span.is_recording():
        if call.attempt_url:
            parts = urlsplit(call.attempt_url)
            span.set_attributes(url_attributes(parts.scheme, parts.netloc, parts.path, parts.query, frozenset()))
        span.set_attributes(outcome)
        set_end_status(span, outcome, failed=failed, error=error)
    span.end()
