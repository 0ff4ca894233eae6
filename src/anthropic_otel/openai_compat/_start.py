"""The start of a chat completions call to the Claude API through the `openai` SDK, and its attempts.

`begin` decides whether the call is ours (the client's base URL is a Claude API host) and starts
its CLIENT span: the `openai` SDK has no tracing of its own, so this span is always the only one,
and it is current while the call runs (HTTP client spans nest under it). The call is a `Call` like
any other, with the `anthropic.chat.completions.create` operation, and ends through the same
`end`; only its request and its answer are read differently (`_read.chat_completions`).

Each HTTP attempt is reported (`note_attempt`): retries, the URL, and, for the first, the request
body as sent, where the features the compatibility layer silently drops are looked for.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any, Optional

from opentelemetry.trace import SpanKind

from anthropic_otel._call.call import CURRENT, Call
from anthropic_otel._call.start import scope_attributes
from anthropic_otel._diagnostics import CODES, Finding
from anthropic_otel._read.attributes import server_attributes
from anthropic_otel._read.chat_completions import FEATURES, dropped_features, request_attributes
from anthropic_otel._read.operations import CHAT_COMPLETIONS_CREATE
from anthropic_otel._telemetry import Telemetry

__all__ = ["begin", "note_attempt"]

log = logging.getLogger("anthropic_otel.openai_compat")

CODE = "compat_feature_dropped"


def begin(telemetry: Telemetry, hosts: Collection[str], resource: Any, kwargs: Mapping[str, Any]) -> Optional[Call]:
    """Start recording a `chat.completions.create` call, or return None to stay out of it.

    Out of it: a client whose base URL is not a Claude API host, or a call made inside one we
    already record (so helpers that call `create` themselves still make one span).
    """
    if CURRENT.get() is not None:
        return None
    client = resource._client
    url = client.base_url
    host = str(url.host).lower()
    if host not in hosts:
        return None
    attributes = request_attributes(kwargs, stream=kwargs.get("stream") is True)
    attributes.update(server_attributes(host, url.port, url.scheme))
    attributes.update(scope_attributes(telemetry, client))
    call = Call(telemetry, CHAT_COMPLETIONS_CREATE, attributes, None)
    call.diagnosis = telemetry.diagnostics.begin(attributes, detect=False)
    call.span = telemetry.tracer.start_span(CHAT_COMPLETIONS_CREATE.name, kind=SpanKind.CLIENT, attributes=attributes)
    call.current = True
    return call


def note_attempt(call: Call, request: Any, options: Any) -> None:
    """One HTTP attempt: counts retries, keeps the first URL, and looks at the first body for dropped features.

    Attempts are counted rather than read from `retries_taken`, which openai < 1.4x does not pass.
    """
    first = call.attempt_url is None
    if first:
        call.attempt_url = str(getattr(request, "url", "")) or ""
    else:
        call.retries += 1
    diagnosis = call.diagnosis
    if not first or diagnosis is None or not call.telemetry.diagnostics.reporter.wants(CODE):
        return
    body = getattr(options, "json_data", None)
    extra = getattr(options, "extra_json", None)
    if isinstance(body, Mapping):
        merged = {**body, **extra} if isinstance(extra, Mapping) else body
        features = dropped_features(merged)
        if features:
            details = "; ".join(f"{name}: {FEATURES[name]}" for name in features)
            message = f"{details} ({CODES[CODE].fix})"
            diagnosis.findings.append(Finding(CODE, message, {"anthropic.diagnostic.dropped_features": features}))
