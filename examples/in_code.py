"""Manual set-up in code: providers, exporters and the instrumentor, then an ordinary Claude call.

    python -m anthropic_otel.testing --port 8080 &          # the local fake Claude API (or use the real one)
    ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=sk-ant-fake python examples/in_code.py

Spans and metrics print to the console; with OTEL_EXPORTER_OTLP_ENDPOINT set (e.g.
http://localhost:4318) they go to that OTLP/HTTP endpoint instead. The other examples reuse
`setup_telemetry()` from here.
"""

from __future__ import annotations

import os
from typing import Callable

import anthropic
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from anthropic_otel import AnthropicInstrumentor

MODEL = "claude-sonnet-4-6"


def exporters() -> tuple[SpanExporter, MetricExporter]:
    """OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporters read it), else the console."""
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter  # noqa: PLC0415
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

        return OTLPSpanExporter(), OTLPMetricExporter()
    return ConsoleSpanExporter(), ConsoleMetricExporter()


def setup_telemetry(service_name: str) -> Callable[[], None]:
    """Global tracer and meter providers, and the instrumentor; returns the function that flushes them."""
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    span_exporter, metric_exporter = exporters()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    meter_provider = MeterProvider(resource=resource, metric_readers=[PeriodicExportingMetricReader(metric_exporter)])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    # With global providers set, `instrument()` needs no arguments; on SDK 1.14+ the SDK's own span
    # is then the call's span and anthropic-otel enriches it, on older SDKs anthropic-otel makes it.
    AnthropicInstrumentor().instrument()

    def shutdown() -> None:
        tracer_provider.shutdown()
        meter_provider.shutdown()

    return shutdown


def main() -> None:
    shutdown = setup_telemetry("in-code-example")
    client = anthropic.Anthropic()  # ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment
    message = client.messages.create(
        model=MODEL,
        max_tokens=128,
        messages=[{"role": "user", "content": "Which team handles a double charge on order A-1042?"}],
    )
    print(f"reply: {message.content[0].text}")
    print(f"request id: {message._request_id}")
    print(f"tokens: {message.usage.input_tokens} in, {message.usage.output_tokens} out")
    shutdown()


if __name__ == "__main__":
    main()
