"""What the installed SDK and a given client can do, read defensively.

The instrumentation supports every SDK from 0.40 on. These helpers hide the differences that
matter to it: whether the SDK makes its own span for a call (1.14+, tracing on, a real tracer
provider), which GenAI provider a client talks to, and where its server is.
"""

from __future__ import annotations

import functools
import importlib
import logging
from typing import Any, Optional

from opentelemetry import trace

from anthropic_otel._read.attributes import Attributes, server_attributes

__all__ = [
    "client_conversation",
    "platform_of",
    "provider_name",
    "sdk_has_tracing",
    "sdk_span_provider",
    "sdk_tracing_opted_out",
    "server_of",
]

log = logging.getLogger(__name__)

_PROVIDERS = (("Bedrock", "aws.bedrock"), ("Vertex", "gcp.vertex_ai"))
# Where a client buys its tokens, by a marker in its class names (`AnthropicBedrockMantle` is Bedrock too).
_PLATFORMS = (*_PROVIDERS, ("Foundry", "azure.foundry"))


def sdk_has_tracing() -> bool:
    """Whether the installed SDK makes its own spans (1.14+): it has the hook we enrich them through."""
    try:
        base_client = importlib.import_module("anthropic._base_client")
    except ImportError:
        return False
    return hasattr(base_client, "finish_api_call_span")


def sdk_tracing_opted_out(client: Any) -> bool:
    """Whether this client's own tracing (1.14+) was switched off: `open_telemetry=False`,
    `ANTHROPIC_OPEN_TELEMETRY=false`, or a no-op tracer provider given to it. Calls nothing of
    OpenTelemetry (the SDK promises that a client without spans calls none)."""
    options = getattr(client, "_open_telemetry", None)
    if not isinstance(options, dict):
        return False
    traces = options.get("traces")
    if isinstance(traces, dict) and traces.get("enabled") is False:
        return True
    return isinstance(options.get("tracer_provider"), trace.NoOpTracerProvider)


def sdk_span_provider(client: Any) -> Optional[trace.TracerProvider]:
    """The tracer provider the SDK will record this client's next call into, or None if it makes no span.

    None unless the client has a tracer (1.14+ with its tracing not switched off) and that tracer's
    provider is a real one: with OpenTelemetry's default proxy or no-op provider the SDK's span
    would be a no-op, and ours (from the provider given to `instrument`) is the one users see.
    """
    try:
        tracer = client._tracer
    except AttributeError:
        return None
    if tracer is None:
        return None
    options = getattr(client, "_open_telemetry", None)
    provider = options.get("tracer_provider") if isinstance(options, dict) else None
    if provider is None:
        provider = trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    return provider


def provider_name(client: Any) -> str:
    """`gen_ai.provider.name`: the client's own (1.14+), else guessed from its class name."""
    declared: Optional[str] = getattr(client, "_gen_ai_provider_name", None)
    if isinstance(declared, str):
        return declared
    name = type(client).__name__
    for marker, provider in _PROVIDERS:
        if marker in name:
            return provider
    return "anthropic"


def platform_of(client: Any) -> tuple[str, Optional[str]]:
    """Whose price list prices this client's calls (`anthropic`, `aws.bedrock`, `gcp.vertex_ai`,
    `azure.foundry`), and the Vertex client's region (its endpoint: global or regional)."""
    platform = _platform_of_class(type(client))  # type: ignore[arg-type]
    region = getattr(client, "region", None) if platform == "gcp.vertex_ai" else None
    return platform, region if isinstance(region, str) else None


@functools.lru_cache(maxsize=64)
def _platform_of_class(cls: Any) -> str:
    names = [base.__name__ for base in cls.__mro__]
    return next((platform for marker, platform in _PLATFORMS if any(marker in name for name in names)), "anthropic")


def server_of(client: Any) -> Attributes:
    """`server.address` and `server.port` of the client's base URL."""
    try:
        url = client.base_url
        return server_attributes(url.host, url.port, url.scheme)
    except Exception:
        log.debug("could not read the client's base URL", exc_info=True)
        return {}


def client_conversation(client: Any) -> Optional[str]:
    """The `conversation_id` a client's own tracing options set (SDK 1.14+), if any."""
    options = getattr(client, "_open_telemetry", None)
    value = options.get("conversation_id") if isinstance(options, dict) else None
    return value if isinstance(value, str) and value else None
