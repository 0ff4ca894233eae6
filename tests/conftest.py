"""Shared fixtures: in-memory exporters, the instrumented SDK, and the local fake Claude API.

Every test drives the real `anthropic` SDK over real HTTP against `anthropic_otel.testing`.
The SDK's own tracing (1.14+) is used only where a test asks for it (`sdk_tracing=True`), by
giving the client its own tracer provider; otherwise no global provider exists and our span is
the one made, so the same assertions run on every SDK version.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import anthropic
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.sdk import sdk_has_tracing
from anthropic_otel.testing import FakeClaudeAPI

API_KEY = "sk-ant-api03-test-SECRET-do-not-leak-0123456789"
SDK_TRACES = sdk_has_tracing()
SDK_VERSION = tuple(int(part) for part in anthropic.__version__.split(".")[:2])


@pytest.fixture(scope="session")
def fake_api() -> Iterator[FakeClaudeAPI]:
    with FakeClaudeAPI() as api:
        yield api


@pytest.fixture
def api(fake_api: FakeClaudeAPI) -> FakeClaudeAPI:
    """The fake API, with an empty queue and no recorded requests."""
    fake_api.reset()
    return fake_api


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(metric_reader: InMemoryMetricReader) -> MeterProvider:
    return MeterProvider(metric_readers=[metric_reader])


@pytest.fixture
def instrument(tracer_provider: TracerProvider, meter_provider: MeterProvider) -> Iterator[AnthropicInstrumentor]:
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


ClientFactory = Callable[..., Any]


@pytest.fixture
def make_client(api: FakeClaudeAPI, tracer_provider: TracerProvider) -> ClientFactory:
    """`make_client(async_=False, sdk_tracing=False, **options)`: a client of the fake API.

    `sdk_tracing=True` (SDK 1.14+ only) has the SDK make its own spans, into the same exporter.
    """

    def make(async_: bool = False, sdk_tracing: bool = False, **options: Any) -> Any:
        options.setdefault("max_retries", 0)
        if sdk_tracing:
            options["open_telemetry"] = {"tracer_provider": tracer_provider}
        cls = anthropic.AsyncAnthropic if async_ else anthropic.Anthropic
        return cls(api_key=API_KEY, base_url=api.base_url, **options)

    return make


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def metric_points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    """All data points of metric `name` (histogram or sum) from one collection."""
    data = reader.get_metrics_data()
    points: list[Any] = []
    if data is None:
        return points
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == name:
                    points.extend(metric.data.data_points)
    return points


def user_message(text: str = "Hello, Claude") -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]
