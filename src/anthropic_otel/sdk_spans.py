"""SDK 1.14+: the SDK's own span is the call's only span; we add what it leaves out.

The SDK hands its span to `finish_api_call_span(client, span, result)` just before it records its
attributes and ends it; our hook there calls `enrich_sdk_span`, which adds the attributes the SDK
does not record (finish reasons, rate limits, server tools, semconv cache-write name, route,
conversation, cost), so that the same call carries the same keys on both span paths. With content
capture on, the call's content goes on here too (a stream's at its `message_delta`, in `streaming`):
the SDK's own content capture stays off unless its user turns it on, so one copy exists, ours.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.trace import Span

from anthropic_otel.attributes import field
from anthropic_otel.calls import SCOPE_KEYS, current_call
from anthropic_otel.outcomes import body_attributes, response_body, response_header_attributes

__all__ = ["enrich_sdk_span"]

log = logging.getLogger(__name__)


def enrich_sdk_span(span: Span, result: Any) -> None:
    """Called by the SDK (1.14+) with its span and the call's result, just before it records and ends it.

    Adds what the SDK leaves out (finish reasons, rate limits, server tools, semconv cache-write
    name) so that both paths carry the same attributes. The SDK's own values win where both
    record a key: it sets them after this.
    """
    record = current_call()
    if record is None or record.span is not None or record.sdk_seen:
        return
    try:
        record.sdk_seen = True
        if not span.is_recording():
            return
        record.sdk_span = span
        error = getattr(result, "error", None)
        response = getattr(result, "final_attempt", None)
        span.set_attributes({key: record.attributes[key] for key in SCOPE_KEYS if key in record.attributes})
        if response is not None:
            span.set_attributes(response_header_attributes(record, response))
        body = None
        if error is None:
            body = response_body(getattr(result, "data", None))
            span.set_attributes(body_attributes(record, body))
            cost = record.cost(body)
            if cost is not None:
                span.set_attribute("anthropic.cost.usd", cost.total)
        content = record.content
        if content is not None and content.on_sdk_span and record.attributes.get("gen_ai.request.stream") is not True:
            content.set_on_span(span, body)
        if error is not None or field(body, "usage") is not None:
            # A finished call (not a stream, nor a raw body still unread): its diagnostics go on this span.
            record.telemetry.diagnostics.on_outcome(record, body, error, response, span)
    except Exception:
        log.debug("anthropic-otel: could not enrich the SDK's span", exc_info=True)
