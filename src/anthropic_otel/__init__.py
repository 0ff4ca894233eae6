"""OpenTelemetry instrumentation for the Anthropic Python SDK: no Claude API call is a black box.

Usage::

    from anthropic_otel import AnthropicInstrumentor

    AnthropicInstrumentor().instrument(tracer_provider=..., meter_provider=...)

or, with no code, ``opentelemetry-instrument python app.py``. Every Messages API call then has
exactly one CLIENT span (the SDK's own on SDK 1.14+, enriched; ours, identical in name and
attributes, on older SDKs) carrying its ``anthropic.request.id``, model and token usage, and
feeds the ``gen_ai.client.*`` and ``anthropic.client.*`` metrics, and emits one ``anthropic.call``
log record. ``with anthropic_otel.route("ticket-triage"):`` tags the calls inside (spans, metrics,
records); ``anthropic_otel.conversation("conv-123")`` sets ``gen_ai.conversation.id`` on their
spans. Prompt and completion content is recorded only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` asks for it, truncated and passed through
``instrument(content_hook=...)`` first. See the README for the tables and every setting.
"""

from anthropic_otel._instrumentor import AnthropicInstrumentor
from anthropic_otel._routes import conversation, route
from anthropic_otel._version import __version__

__all__ = ["AnthropicInstrumentor", "__version__", "conversation", "route"]
