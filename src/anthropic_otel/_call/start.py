"""The start of a call: from the SDK's `request(cast_to, options, ...)` to a `Call`, or None to stay out.

The call is known here by its HTTP method and path (`operations`), its request body as it goes
on the wire, and its client. Which span records it is decided once, now:

- none, for a client whose own tracing (1.14+) was switched off (`open_telemetry=False`,
  `ANTHROPIC_OPEN_TELEMETRY=false`, a no-op tracer provider): that client is not to be traced, and
  the SDK promises that it then calls nothing of OpenTelemetry's tracing. Its calls still count
  in the metrics and records;
- the SDK's own (1.14+), enriched, when the SDK will make a span for this client into the tracer
  provider we were given (or into any real one, when `instrument()` was given none);
- else ours, named and attributed as the SDK's would be. On an SDK with tracing code of its own
  (1.14+) ours is never made current: the SDK would send its trace context (`traceparent`) with
  the request, which it never does bare, so what goes on the wire would change because of us.
  On older SDKs, which send no trace context, ours is current while `request()` runs, so that
  spans made inside it (an HTTP client's) are its children.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from opentelemetry.trace import SpanKind

from anthropic_otel._call.agent_run import RUN
from anthropic_otel._call.call import Call
from anthropic_otel._read.attributes import Attributes, request_attributes
from anthropic_otel._read.operations import operation_for
from anthropic_otel._read.request_extras import request_extras
from anthropic_otel._read.resource_attributes import resource_request_attributes
from anthropic_otel._routes import current_conversation, current_route
from anthropic_otel._sdk import (
    client_conversation,
    platform_of,
    provider_name,
    sdk_has_tracing,
    sdk_span_provider,
    sdk_tracing_opted_out,
    server_of,
)
from anthropic_otel._telemetry import Telemetry

__all__ = ["begin", "scope_attributes", "sent_json"]

log = logging.getLogger("anthropic_otel.lifecycle")

_PLACEHOLDERS = frozenset({"Omit", "NotGiven"})


def begin(telemetry: Telemetry, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[Call]:
    """Start recording a `request(cast_to, options, ...)` call, or return None to stay out of it. Never raises."""
    try:
        options = args[1] if len(args) > 1 else kwargs["options"]
        operation = operation_for(options.method, options.url)
        if operation is None:
            return None
        request = sent_json(options.json_data, getattr(options, "extra_json", None))
        attributes = request_attributes(
            operation,
            options.method,
            request,
            _beta_header(client, options),
            stream=bool(kwargs.get("stream", False)),
            provider=provider_name(client),
        )
        attributes.update(resource_request_attributes(operation, options.url, request))
        if operation.kind in ("message", "completion"):
            content = telemetry.content
            stops = content is not None and content.plain_on_span
            attributes.update(request_extras(request, user_id=telemetry.settings.record_user_id, stop_sequences=stops))
        attributes.update(server_of(client))
        attributes.update(scope_attributes(telemetry, client))
        call = Call(telemetry, operation, attributes, request)
        call.platform = platform_of(client)
        call.run = RUN.get()
        call.diagnosis = telemetry.diagnostics.begin(attributes, detect=operation.kind == "message")
        if telemetry.content is not None and operation.kind == "message":
            call.content = telemetry.content.begin(request, client)
        if sdk_tracing_opted_out(client):
            call.traced = False
        elif not _sdk_records(telemetry, client):
            call.current = not sdk_has_tracing()
            # Last: once our span exists, nothing here may fail and leave it open.
            call.span = telemetry.tracer.start_span(
                operation.name, kind=SpanKind.CLIENT, attributes=attributes, start_time=call.start_ns
            )
        return call
    except Exception:
        log.debug("anthropic-otel: could not begin recording a call", exc_info=True)
        return None


def _sdk_records(telemetry: Telemetry, client: Any) -> bool:
    """Whether the SDK's own span (1.14+) records this call where `instrument()` asked spans to go."""
    provider = sdk_span_provider(client)
    if provider is None:
        return False
    wanted = telemetry.tracer_provider
    return wanted is None or wanted is provider


def sent_json(body: Any, extra: Any = None) -> Any:
    """The request body as it goes on the wire: without the `Omit`/`NotGiven` placeholders that
    SDK 2.x leaves in `json_data` for every parameter not passed (`cache_control`, `system`, ...),
    and with the `extra_body` fields the SDK merges in when it builds the request (they win)."""
    if not isinstance(body, dict):
        return body
    sent = {key: value for key, value in body.items() if type(value).__name__ not in _PLACEHOLDERS}
    if isinstance(extra, dict) and extra:
        sent.update(extra)
    return sent


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
