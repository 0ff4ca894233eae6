"""Telemetry for the `openai` SDK's chat completions sent to the Claude API's OpenAI compatibility layer.

Usage (``pip install "anthropic-otel[openai]"``)::

    from anthropic_otel.openai_compat import OpenAICompatInstrumentor

    OpenAICompatInstrumentor().instrument(tracer_provider=..., meter_provider=...)
    client = openai.OpenAI(base_url="https://api.anthropic.com/v1/", api_key=...)

or, with no code, ``opentelemetry-instrument`` (entry point ``anthropic_otel_openai``). Every
``client.chat.completions.create`` (sync and async, plain and ``stream=True``, and ``parse``)
whose client's base URL is a Claude API host gets one CLIENT span ``anthropic.chat.completions.create``
with the attributes, metrics and ``anthropic.call`` record of a Messages API call, and the
diagnostic ``compat_feature_dropped`` when the request uses a feature the layer silently ignores.
Calls to any other host are left alone. ``instrument(hosts=[...])`` or
``ANTHROPIC_OTEL_OPENAI_COMPAT_HOSTS`` adds hosts (a proxy) to ``api.anthropic.com``.
"""

from anthropic_otel.openai_compat._instrumentor import DEFAULT_HOSTS, HOSTS_ENV, OpenAICompatInstrumentor

__all__ = ["DEFAULT_HOSTS", "HOSTS_ENV", "OpenAICompatInstrumentor"]
